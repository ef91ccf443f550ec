//! A sync enqueues a large conference's messages in batches (issue 5, point 5: the worker
//! sends the first while the next are built), each batch in its own transaction with its
//! recipients' ledger rows. Whatever happens between two batches — a change to the
//! conference, another send, the process dying — every recipient ends up with exactly
//! the messages one transaction would have given them, none twice.
use std::future::Future;
use std::sync::Arc;

use hoinghi::documents::templates::Templates;
use hoinghi::services::invitations::{self, Enqueueing, Syncing, Trigger};
use hoinghi::store::{invitation, invitation_sync};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::helpers::{TestApp, id_of};
use crate::mail::published_with_delegates;
use crate::store_test;
use crate::updates::{URL, checklist, put_back, rows_after, send, sync_now};

/// Messages per batch here: the seeded conference needs a dozen batches.
const BATCH: usize = 5;

/// What a test does with a sync at one of its reports.
enum Step {
    Go,
    /// The process dies here: the sync is dropped between two transactions.
    Crash,
}

/// Runs `invitations::sync` of `conference` in batches of [`BATCH`], calling `step` at each
/// of its reports (once it holds the mark, then after each batch) and waiting for it.
/// `None` when a step crashed it.
async fn stepping<F, Fut>(
    app: &TestApp,
    conference: i64,
    trigger: Trigger,
    mut step: F,
) -> Option<invitations::Sent>
where
    F: FnMut(Enqueueing) -> Fut,
    Fut: Future<Output = Step>,
{
    let (tx, mut reports) = mpsc::unbounded_channel::<(Enqueueing, oneshot::Sender<()>)>();
    let progress: invitations::Progress = Arc::new(move |at| {
        let (go, wait) = oneshot::channel();
        tx.send((at, go)).expect("the test listens");
        Box::pin(async move {
            wait.await.ok();
        })
    });
    let how = Syncing {
        batch: BATCH,
        progress: Some(progress),
        ..Syncing::default()
    };
    let templates = Templates::load(None).expect("templates");
    let db = app.db.clone();
    let sync =
        async move { invitations::sync(&db, &templates, conference, URL, trigger, &how).await };
    tokio::pin!(sync);
    loop {
        tokio::select! {
            done = &mut sync => return Some(done.expect("sync").expect("something to sync")),
            Some((at, go)) = reports.recv() => match step(at).await {
                Step::Go => {
                    go.send(()).ok();
                }
                Step::Crash => return None,
            },
        }
    }
}

/// The Message-IDs a send of `conference` would enqueue now, in order.
async fn planned(app: &TestApp, conference: i64) -> Vec<String> {
    let templates = Templates::load(None).expect("templates");
    invitations::fan_out(&app.db, &templates, conference, URL)
        .await
        .expect("fan-out")
        .messages
        .into_iter()
        .map(|m| m.message_id)
        .collect()
}

async fn enqueued(app: &TestApp) -> Vec<String> {
    rows_after(app, 0)
        .await
        .into_iter()
        .map(|r| r.row.message_id)
        .collect()
}

async fn mark_of(app: &TestApp, conference: i64) -> Option<invitation_sync::Model> {
    invitation_sync::Entity::find_by_id(conference)
        .one(&app.db)
        .await
        .expect("mark")
}

/// Every recipient's calendar holds what it should: a send now would add nothing, and the
/// ledger has a row for every UID the outbox carries.
async fn all_in_step(app: &TestApp, conference: i64) {
    assert_eq!(planned(app, conference).await, Vec::<String>::new());
    let mut uids: Vec<String> = rows_after(app, 0)
        .await
        .into_iter()
        .filter_map(|r| r.row.uid)
        .collect();
    uids.sort();
    uids.dedup();
    let mut ledger: Vec<String> = invitation::Entity::find()
        .filter(invitation::Column::ConferenceId.eq(conference))
        .all(&app.db)
        .await
        .expect("ledger")
        .into_iter()
        .map(|r| r.uid)
        .collect();
    ledger.sort();
    assert_eq!(ledger, uids);
}

/// Pretends the sync holding `conference`'s mark stopped beating long ago.
async fn age_mark(app: &TestApp, conference: i64) {
    invitation_sync::Entity::update_many()
        .col_expr(
            invitation_sync::Column::MarkedMs,
            sea_orm::sea_query::Expr::value(0i64),
        )
        .filter(invitation_sync::Column::ConferenceId.eq(conference))
        .exec(&app.db)
        .await
        .expect("age the mark");
}

store_test!(batches_enqueue_what_one_transaction_would, |app| {
    let (conference, _) = published_with_delegates(app).await;
    let plan = planned(app, conference).await;
    assert!(plan.len() > 4 * BATCH, "{} messages", plan.len());

    let mut reports = Vec::new();
    let sent = stepping(app, conference, Trigger::Send, |at| {
        // Between batches the mark is the sync's, its heartbeat fresh: a sync of due
        // changes leaves it alone.
        reports.push(at);
        async { Step::Go }
    })
    .await
    .expect("not crashed");
    assert!(!sent.deferred);
    assert_eq!(sent.enqueued as usize, plan.len());
    assert_eq!(
        enqueued(app).await,
        plan,
        "the same messages, in the same order"
    );
    assert_eq!(reports[0].batches, 0);
    assert_eq!(reports[0].enqueued, 0);
    assert!(reports.len() > 4, "{reports:?}");
    for (k, pair) in reports.windows(2).enumerate() {
        assert_eq!(pair[1].batches, k + 1);
        assert!(pair[1].enqueued > pair[0].enqueued, "{reports:?}");
    }
    assert_eq!(reports.last().map(|r| r.enqueued), Some(sent.enqueued));
    assert_eq!(
        mark_of(app, conference).await,
        None,
        "the last batch drops the mark"
    );
    all_in_step(app, conference).await;
    let again = send(app, conference).await;
    assert_eq!(again["enqueued"], 0, "{again}");
});

store_test!(a_change_between_batches_is_sent_with_the_rest, |app| {
    let (conference, delegates) = published_with_delegates(app).await;
    let lan = delegates[0];
    let hall = id_of(app, "hall-sogddt-t3").await;
    let plan = planned(app, conference).await;

    let sent = stepping(app, conference, Trigger::Send, |at| async move {
        if at.batches == 1 {
            // Lan moves to the hall while the sync is between its first and second batch.
            put_back(app, &format!("/api/v1/delegates/{lan}"), |b| {
                b["venue"] = json!("hall");
                b["bridge_point_id"] = Value::Null;
                b["hall_id"] = json!(hall);
            })
            .await;
        }
        Step::Go
    })
    .await
    .expect("not crashed");
    assert!(
        sent.deferred,
        "the sync stops at the batch after the change"
    );
    let first = enqueued(app).await;
    assert_eq!(sent.enqueued as usize, first.len());
    assert!(
        first.len() >= BATCH && first.len() < plan.len(),
        "{}",
        first.len()
    );
    assert_eq!(first[..], plan[..first.len()]);
    let mark = mark_of(app, conference).await.expect("the change's mark");
    assert_eq!(mark.claimed_by, None, "the change took the mark back");
    assert!(
        mark.send_asked,
        "what the send did not enqueue is still asked"
    );

    // After the window, the rest goes out, with Lan at the hall.
    let done = sync_now(app).await;
    assert_eq!(done.len(), 1);
    assert!(!done[0].deferred);
    assert_eq!(mark_of(app, conference).await, None);
    let rows = rows_after(app, 0).await;
    let lans: Vec<_> = rows.iter().filter(|r| r.delegate_id == Some(lan)).collect();
    let last = lans.last().expect("Lan's invitation");
    let imip = checklist(&last.raw, "REQUEST");
    assert!(imip.ics.contains("LOCATION:Hội trường"), "{}", imip.ics);
    all_in_step(app, conference).await;
});

store_test!(a_send_that_died_is_carried_on, |app| {
    let (conference, _) = published_with_delegates(app).await;
    let plan = planned(app, conference).await;

    // The process dies right after taking the mark: nothing enqueued yet.
    let died = stepping(app, conference, Trigger::Send, |at| async move {
        if at.batches == 0 {
            Step::Crash
        } else {
            Step::Go
        }
    })
    .await;
    assert!(died.is_none());
    assert!(enqueued(app).await.is_empty());
    let mark = mark_of(app, conference)
        .await
        .expect("the dead sync's mark");
    assert!(mark.claimed_by.is_some() && mark.send_asked, "{mark:?}");
    // Its heartbeat is fresh: the sync could be alive, nobody takes over yet — neither
    // `sync_due`, nor a sync of due changes that listed the mark before it was claimed.
    assert!(sync_now(app).await.is_empty());
    let templates = Templates::load(None).expect("templates");
    let listed_before = invitations::sync(
        &app.db,
        &templates,
        conference,
        URL,
        Trigger::Changes,
        &Syncing::default(),
    )
    .await
    .expect("sync");
    assert!(listed_before.is_none());
    assert_eq!(
        mark_of(app, conference).await,
        Some(mark),
        "the claim is left alone"
    );
    assert!(enqueued(app).await.is_empty());

    // Stale: the next sync carries the send on (a first send: nothing in the ledger), and
    // dies in turn after two batches.
    age_mark(app, conference).await;
    let died = stepping(app, conference, Trigger::Changes, |at| async move {
        if at.batches == 2 {
            Step::Crash
        } else {
            Step::Go
        }
    })
    .await;
    assert!(died.is_none());
    let two = enqueued(app).await;
    assert!(
        two.len() >= 2 * BATCH && two.len() < plan.len(),
        "{}",
        two.len()
    );
    assert!(sync_now(app).await.is_empty(), "a fresh heartbeat again");

    age_mark(app, conference).await;
    let done = sync_now(app).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].enqueued as usize, plan.len() - two.len());
    assert_eq!(enqueued(app).await, plan, "every message once, in order");
    assert_eq!(mark_of(app, conference).await, None);
    all_in_step(app, conference).await;
});

store_test!(a_second_send_takes_over_from_the_first, |app| {
    let (conference, _) = published_with_delegates(app).await;
    let plan = planned(app, conference).await;
    let second = std::cell::RefCell::new(None);
    let first = stepping(app, conference, Trigger::Send, |at| {
        let second = &second;
        async move {
            if at.batches == 1 {
                // Someone presses "send" again meanwhile.
                *second.borrow_mut() = Some(send(app, conference).await);
            }
            Step::Go
        }
    })
    .await
    .expect("not crashed");
    let second = second.into_inner().expect("the second send ran");
    assert!(
        first.deferred,
        "the first send stops: the second took the mark"
    );
    assert_eq!(second["deferred"], false, "{second}");
    assert_eq!(
        first.enqueued + second["enqueued"].as_u64().expect("count"),
        plan.len() as u64
    );
    assert_eq!(enqueued(app).await, plan, "every message once, in order");
    assert_eq!(mark_of(app, conference).await, None);
    all_in_step(app, conference).await;
});

store_test!(a_conference_back_in_draft_stops_its_send, |app| {
    let (conference, _) = published_with_delegates(app).await;
    let plan = planned(app, conference).await;
    let sent = stepping(app, conference, Trigger::Send, |at| async move {
        if at.batches == 1 {
            put_back(app, &format!("/api/v1/conferences/{conference}"), |b| {
                b["status"] = json!("draft");
            })
            .await;
        }
        Step::Go
    })
    .await
    .expect("not crashed");
    assert!(sent.deferred);
    let first = enqueued(app).await;
    assert_eq!(sent.enqueued as usize, first.len());
    assert!(first.len() < plan.len(), "nothing more once in draft");
    // Nobody carries a draft's send on: once the claim is stale, its mark is dropped.
    age_mark(app, conference).await;
    assert!(sync_now(app).await.is_empty());
    assert_eq!(mark_of(app, conference).await, None);
    assert_eq!(enqueued(app).await, first);
});

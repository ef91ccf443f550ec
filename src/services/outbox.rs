//! The outbox: messages are rows first (written in the transaction of the change that
//! causes them), sent afterwards by a [`Worker`].
//!
//! - **Once**: `message_id` is unique and [`enqueue`] skips a message already there, so a
//!   repeated request or two instances add nothing twice.
//! - **Claim**: a worker takes due `pending` rows by setting them `sending` with a lease
//!   (`lease_until_ms`), in one statement; on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
//!   that several instances take different rows. SQLite runs one writer at a time, which
//!   gives the same.
//! - **Crash**: a row still `sending` when its lease ran out (its worker died) is pending
//!   again and sent again, with the same Message-ID: only messages in flight at a crash
//!   can arrive twice. A worker starts a send only in the first half of its lease, and
//!   records an outcome only while it still holds the row (same lease), so a live worker
//!   never races another for a row.
//! - **Failures**: connection errors and 4xx replies are retried after `retry`, doubling
//!   each attempt up to an hour, until `max_attempts`; a 5xx reply fails the row at once,
//!   keeping the server's words in `last_error`.
//!
//! A worker runs three kinds of tasks: one claims rows into a bounded channel, `concurrency`
//! senders take from it (paced to `rate_per_second`), one records the outcomes in batches.
//! A sender takes its next message only once the outcome of its last one is recorded, so
//! that a crash can repeat at most `concurrency` messages.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait, Value,
};
use serde::Serialize;
use tokio::sync::{Mutex, Notify, mpsc, oneshot, watch};
use tokio::time::Instant;
use utoipa::ToSchema;

use crate::calendar::invite::Method;
use crate::domain::kinds::{MessageKind, OutboxState};
use crate::error::Result;
use crate::mail::transport::{SendError, Transport};
use crate::store::{outbox, outbox_body};

/// How a worker sends.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    pub concurrency: usize,
    /// 0: no limit.
    pub rate_per_second: u32,
    pub max_attempts: u32,
    pub retry: Duration,
    pub lease: Duration,
    pub poll: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        crate::config::Settings::default().outbox()
    }
}

/// A message to enqueue.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub message_id: String,
    pub conference_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub delegate_id: Option<i64>,
    pub kind: MessageKind,
    pub method: Option<Method>,
    pub sequence: u32,
    /// The UID of the calendar it carries.
    pub uid: Option<String>,
    pub sender: String,
    pub recipient: String,
    pub subject: String,
    /// The message as `outbox_body` keeps it (`store::outbox_body::pack`).
    pub packed: Vec<u8>,
}

/// Rows per INSERT: well under SQLite's 32,766 bound parameters.
const INSERT_CHUNK: usize = 500;

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Adds `messages` to the outbox, skipping those whose Message-ID is there already;
/// returns how many were added. Call it inside the transaction of the change.
pub async fn enqueue(db: &impl ConnectionTrait, messages: Vec<NewMessage>) -> Result<u64> {
    let now = crate::store::now();
    let due = now_ms();
    let mut added = 0;
    let mut rows = messages.into_iter().peekable();
    while rows.peek().is_some() {
        let mut bodies: HashMap<String, Vec<u8>> = HashMap::new();
        let chunk: Vec<outbox::ActiveModel> = rows
            .by_ref()
            .take(INSERT_CHUNK)
            .map(|m| {
                bodies.insert(m.message_id.clone(), m.packed);
                use sea_orm::ActiveValue::{NotSet, Set};
                outbox::ActiveModel {
                    id: NotSet,
                    message_id: Set(m.message_id),
                    conference_id: Set(m.conference_id),
                    unit_id: Set(m.unit_id),
                    delegate_id: Set(m.delegate_id),
                    kind: Set(m.kind),
                    method: Set(m.method.map(|x| x.as_str().to_owned())),
                    sequence: Set(i32::try_from(m.sequence).unwrap_or(i32::MAX)),
                    uid: Set(m.uid),
                    sender: Set(m.sender),
                    recipient: Set(m.recipient),
                    subject: Set(m.subject),
                    state: Set(OutboxState::Pending),
                    attempts: Set(0),
                    due_ms: Set(due),
                    lease_until_ms: Set(None),
                    last_error: Set(None),
                    sent_at: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
            })
            .collect();
        // The rows added (a message there already is skipped, and keeps its own bytes).
        let ids: Vec<(i64, String)> = match outbox::Entity::insert_many(chunk)
            .on_conflict_do_nothing_on([outbox::Column::MessageId])
            .exec_with_returning_many(db)
            .await?
        {
            sea_orm::TryInsertResult::Inserted(rows) => {
                rows.into_iter().map(|r| (r.id, r.message_id)).collect()
            }
            sea_orm::TryInsertResult::Empty | sea_orm::TryInsertResult::Conflicted => Vec::new(),
        };
        added += ids.len() as u64;
        let body_rows: Vec<outbox_body::ActiveModel> = ids
            .into_iter()
            .filter_map(|(id, message_id)| {
                Some(outbox_body::ActiveModel {
                    outbox_id: sea_orm::ActiveValue::Set(id),
                    raw: sea_orm::ActiveValue::Set(bodies.remove(&message_id)?),
                })
            })
            .collect();
        if !body_rows.is_empty() {
            outbox_body::Entity::insert_many(body_rows)
                .on_conflict_do_nothing_on([outbox_body::Column::OutboxId])
                .exec_without_returning(db)
                .await?;
        }
    }
    Ok(added)
}

/// Drops the invitations (REQUEST) not sent yet (pending, or failed) that carry one of
/// `uids`: newer ones replace them. A cancellation is never dropped: it may be for
/// another address than the new message. Returns how many. Call it inside the
/// transaction of the enqueue.
pub async fn supersede(db: &impl ConnectionTrait, uids: &[String]) -> Result<u64> {
    let mut dropped = 0;
    for chunk in uids.chunks(INSERT_CHUNK) {
        dropped += outbox::Entity::delete_many()
            .filter(outbox::Column::Uid.is_in(chunk.iter().cloned()))
            .filter(outbox::Column::Method.eq(Method::Request.as_str()))
            .filter(outbox::Column::State.is_in([OutboxState::Pending, OutboxState::Failed]))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(dropped)
}

/// Messages of the outbox by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    pub pending: u64,
    pub sending: u64,
    pub sent: u64,
    pub failed: u64,
}

impl Counts {
    /// Messages not yet sent nor given up.
    pub fn open(&self) -> u64 {
        self.pending + self.sending
    }

    pub fn total(&self) -> u64 {
        self.pending + self.sending + self.sent + self.failed
    }
}

/// The counts by state, of one conference or of everything.
pub async fn counts(db: &impl ConnectionTrait, conference_id: Option<i64>) -> Result<Counts> {
    let mut q = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::State)
        .column_as(outbox::Column::Id.count(), "n")
        .group_by(outbox::Column::State);
    if let Some(c) = conference_id {
        q = q.filter(outbox::Column::ConferenceId.eq(c));
    }
    let mut counts = Counts::default();
    for (state, n) in q.into_tuple::<(OutboxState, i64)>().all(db).await? {
        let n = u64::try_from(n).unwrap_or(0);
        match state {
            OutboxState::Pending => counts.pending = n,
            OutboxState::Sending => counts.sending = n,
            OutboxState::Sent => counts.sent = n,
            OutboxState::Failed => counts.failed = n,
        }
    }
    Ok(counts)
}

/// A message given up, with why.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Failure {
    pub id: i64,
    pub message_id: String,
    pub recipient: String,
    pub subject: String,
    pub attempts: i32,
    /// The SMTP server's reply, or the connection error.
    pub reason: String,
}

/// The failed messages of a conference, oldest first.
pub async fn failures(db: &impl ConnectionTrait, conference_id: i64) -> Result<Vec<Failure>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::ConferenceId.eq(conference_id))
        .filter(outbox::Column::State.eq(OutboxState::Failed))
        .order_by_asc(outbox::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| Failure {
            id: m.id,
            message_id: m.message_id,
            recipient: m.recipient,
            subject: m.subject,
            attempts: m.attempts,
            reason: m.last_error.unwrap_or_default(),
        })
        .collect())
}

/// Makes the failed messages of a conference pending again, with fresh attempts; returns
/// how many.
pub async fn retry_failed(db: &impl ConnectionTrait, conference_id: i64) -> Result<u64> {
    let r = outbox::Entity::update_many()
        .col_expr(
            outbox::Column::State,
            Expr::value(OutboxState::Pending.as_str()),
        )
        .col_expr(outbox::Column::Attempts, Expr::value(0))
        .col_expr(outbox::Column::DueMs, Expr::value(now_ms()))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(crate::store::now()))
        .filter(outbox::Column::ConferenceId.eq(conference_id))
        .filter(outbox::Column::State.eq(OutboxState::Failed))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// A row a worker took, until `lease_until_ms`.
#[derive(Debug)]
struct Claimed {
    id: i64,
    message_id: String,
    sender: String,
    recipient: String,
    /// As kept: unpacked by the sender.
    packed: Vec<u8>,
    attempts: i32,
    lease_until_ms: i64,
}

/// Makes rows whose worker's lease ran out pending again.
async fn reclaim_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64> {
    let r = outbox::Entity::update_many()
        .col_expr(
            outbox::Column::State,
            Expr::value(OutboxState::Pending.as_str()),
        )
        .col_expr(
            outbox::Column::LeaseUntilMs,
            Expr::value(Value::BigInt(None)),
        )
        .col_expr(outbox::Column::DueMs, Expr::value(now))
        .filter(outbox::Column::State.eq(OutboxState::Sending))
        .filter(outbox::Column::LeaseUntilMs.lt(now))
        .exec(db)
        .await?;
    if r.rows_affected > 0 {
        tracing::warn!(
            messages = r.rows_affected,
            "outbox: took back messages whose worker stopped mid-send"
        );
    }
    Ok(r.rows_affected)
}

/// Takes up to `n` due pending rows for `lease` (call [`reclaim_expired`] now and then).
async fn claim(db: &impl ConnectionTrait, n: usize, lease: Duration) -> Result<Vec<Claimed>> {
    let now = now_ms();
    let lease_until = now + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            r#"UPDATE "outbox" SET "state" = 'sending', "attempts" = "attempts" + 1,
                 "lease_until_ms" = $1, "updated_at" = $2
               WHERE "id" IN (SELECT "id" FROM "outbox"
                              WHERE "state" = 'pending' AND "due_ms" <= $3
                              ORDER BY "due_ms" LIMIT $4 FOR UPDATE SKIP LOCKED)
               RETURNING "id", "message_id", "sender", "recipient", "attempts""#
        }
        _ => {
            r#"UPDATE "outbox" SET "state" = 'sending', "attempts" = "attempts" + 1,
                 "lease_until_ms" = ?, "updated_at" = ?
               WHERE "id" IN (SELECT "id" FROM "outbox"
                              WHERE "state" = 'pending' AND "due_ms" <= ?
                              ORDER BY "due_ms" LIMIT ?)
               RETURNING "id", "message_id", "sender", "recipient", "attempts""#
        }
    };
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [
            Value::from(lease_until),
            Value::from(crate::store::now()),
            Value::from(now),
            Value::from(i64::try_from(n).unwrap_or(i64::MAX)),
        ],
    );
    let rows = db.query_all_raw(stmt).await?;
    // The bytes, read apart: the claim's UPDATE does not rewrite them.
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<std::result::Result<_, _>>()?;
    let mut bodies: HashMap<i64, Vec<u8>> = outbox_body::Entity::find()
        .filter(outbox_body::Column::OutboxId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.outbox_id, b.raw))
        .collect();
    let mut claimed = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("", "id")?;
        // A row deleted since (its conference's): nothing to send.
        let Some(packed) = bodies.remove(&id) else {
            continue;
        };
        claimed.push(Claimed {
            id,
            message_id: r.try_get("", "message_id")?,
            sender: r.try_get("", "sender")?,
            recipient: r.try_get("", "recipient")?,
            packed,
            attempts: r.try_get("", "attempts")?,
            lease_until_ms: lease_until,
        });
    }
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// What became of one claimed row, held until `lease`.
#[derive(Debug)]
struct Outcome {
    id: i64,
    lease: i64,
    what: What,
}

#[derive(Debug)]
enum What {
    Sent,
    Failed {
        attempts: i32,
        error: SendError,
    },
    /// Taken but not tried (the worker is stopping, or the lease is nearly over): pending
    /// again, the attempt not counted.
    Released,
}

/// The wait before attempt `attempts + 1`: `retry`, doubled per attempt, at most an hour.
pub fn backoff(retry: Duration, attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    retry
        .saturating_mul(1 << doublings)
        .min(Duration::from_secs(3600))
}

/// Writes `outcomes`, takes back expired rows if `reclaim` (after the outcomes: a row of
/// this worker whose lease ran out while its outcome waited is recorded, not sent
/// again), and takes up to `room` more rows; in one transaction, so one commit (one
/// `fsync` on SQLite), which the senders waiting for their outcomes wait for.
async fn record_and_claim(
    db: &DatabaseConnection,
    s: &WorkerSettings,
    outcomes: &[Outcome],
    reclaim: bool,
    room: usize,
) -> Result<Vec<Claimed>> {
    let txn = db.begin().await?;
    record(&txn, s, outcomes).await?;
    if reclaim {
        reclaim_expired(&txn, now_ms()).await?;
    }
    let claimed = if room > 0 {
        claim(&txn, room, s.lease).await?
    } else {
        Vec::new()
    };
    txn.commit().await?;
    Ok(claimed)
}

/// Writes outcomes, in the caller's transaction. Each update touches its row only while
/// this worker still holds it (`sending` with the lease it took): a row whose lease ran
/// out and that another worker took meanwhile is that worker's to record.
async fn record(
    txn: &impl ConnectionTrait,
    s: &WorkerSettings,
    outcomes: &[Outcome],
) -> Result<()> {
    // Here only: its blanket `min`/`max` would shadow `Ord`'s elsewhere.
    use sea_orm::sea_query::ExprTrait as _;
    let held = |id: i64, lease: i64| {
        sea_orm::Condition::all()
            .add(outbox::Column::Id.eq(id))
            .add(outbox::Column::State.eq(OutboxState::Sending))
            .add(outbox::Column::LeaseUntilMs.eq(lease))
    };
    let now = crate::store::now();
    // Sent rows in one statement per lease (a batch holds one or a few).
    let mut sent: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    for o in outcomes {
        if matches!(o.what, What::Sent) {
            sent.entry(o.lease).or_default().push(o.id);
        }
    }
    for (lease, ids) in sent {
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::State,
                Expr::value(OutboxState::Sent.as_str()),
            )
            .col_expr(outbox::Column::SentAt, Expr::value(Utc::now()))
            .col_expr(
                outbox::Column::LeaseUntilMs,
                Expr::value(Value::BigInt(None)),
            )
            .col_expr(outbox::Column::LastError, Expr::value(Value::String(None)))
            .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
            .filter(outbox::Column::Id.is_in(ids))
            .filter(outbox::Column::State.eq(OutboxState::Sending))
            .filter(outbox::Column::LeaseUntilMs.eq(lease))
            .exec(txn)
            .await?;
    }
    for o in outcomes {
        match &o.what {
            What::Sent => {}
            What::Released => {
                outbox::Entity::update_many()
                    .col_expr(
                        outbox::Column::State,
                        Expr::value(OutboxState::Pending.as_str()),
                    )
                    .col_expr(
                        outbox::Column::Attempts,
                        Expr::col(outbox::Column::Attempts).sub(1),
                    )
                    .col_expr(
                        outbox::Column::LeaseUntilMs,
                        Expr::value(Value::BigInt(None)),
                    )
                    .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
                    .filter(held(o.id, o.lease))
                    .exec(txn)
                    .await?;
            }
            What::Failed { attempts, error } => {
                let give_up = matches!(error, SendError::Permanent(_))
                    || u32::try_from(*attempts).unwrap_or(u32::MAX) >= s.max_attempts;
                let (state, due) = if give_up {
                    (OutboxState::Failed, now_ms())
                } else {
                    let wait = backoff(s.retry, *attempts);
                    (
                        OutboxState::Pending,
                        now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2),
                    )
                };
                outbox::Entity::update_many()
                    .col_expr(outbox::Column::State, Expr::value(state.as_str()))
                    .col_expr(outbox::Column::DueMs, Expr::value(due))
                    .col_expr(
                        outbox::Column::LeaseUntilMs,
                        Expr::value(Value::BigInt(None)),
                    )
                    .col_expr(outbox::Column::LastError, Expr::value(error.to_string()))
                    .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
                    .filter(held(o.id, o.lease))
                    .exec(txn)
                    .await?;
                if give_up {
                    tracing::warn!(outbox_id = o.id, attempts, reason = %error, "outbox: message failed");
                } else {
                    tracing::info!(outbox_id = o.id, attempts, reason = %error, "outbox: will retry");
                }
            }
        }
    }
    Ok(())
}

/// Spaces the starts of sends to at most `rate` per second. A few lines of our own: a
/// rate-limiting crate would bring a clock abstraction we do not need.
struct Pace {
    gap: Option<Duration>,
    next: Mutex<Instant>,
}

impl Pace {
    fn new(rate: u32) -> Self {
        Self {
            gap: (rate > 0).then(|| Duration::from_secs(1) / rate),
            next: Mutex::new(Instant::now()),
        }
    }

    async fn wait(&self) {
        let Some(gap) = self.gap else { return };
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// Sends the outbox.
#[derive(Clone)]
pub struct Worker {
    db: DatabaseConnection,
    transport: Transport,
    settings: WorkerSettings,
    wake: Arc<Notify>,
}

/// Tells a running worker to stop: it finishes the sends in flight, gives back what it
/// took but did not try, records everything, and returns. Dropping it stops the worker
/// too.
#[derive(Clone)]
pub struct StopHandle(pub(crate) Arc<watch::Sender<bool>>);

impl StopHandle {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Worker {
    pub fn new(db: DatabaseConnection, transport: Transport, settings: WorkerSettings) -> Self {
        Self {
            db,
            transport,
            settings,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Wakes the worker now (after a commit that enqueued), rather than at its next poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Starts the worker on the current runtime.
    pub fn spawn(self) -> (StopHandle, tokio::task::JoinHandle<()>) {
        let (tx, rx) = watch::channel(false);
        let handle = tokio::spawn(async move { self.run(rx).await });
        (StopHandle(Arc::new(tx)), handle)
    }

    /// Runs until `stop` turns true.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let s = self.settings.clone();
        // With a rate, hold no more than can start within half the lease.
        let most = match s.rate_per_second {
            0 => usize::MAX,
            r => ((u64::from(r) * s.lease.as_secs() / 2) as usize).max(1),
        };
        let (work_tx, work_rx) = mpsc::channel::<Claimed>((s.concurrency * 2).min(most));
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, mut done_rx) =
            mpsc::channel::<(Outcome, Option<oneshot::Sender<()>>)>(s.concurrency * 4);
        let pace = Arc::new(Pace::new(s.rate_per_second));
        // A send must start this long before its lease ends (half the lease).
        let margin = i64::try_from(s.lease.as_millis() / 2).unwrap_or(i64::MAX / 4);

        let mut senders = Vec::with_capacity(s.concurrency);
        for _ in 0..s.concurrency {
            let (rx, done, transport, pace, stop) = (
                work_rx.clone(),
                done_tx.clone(),
                self.transport.clone(),
                pace.clone(),
                stop.clone(),
            );
            senders.push(tokio::spawn(async move {
                loop {
                    let Some(m) = rx.lock().await.recv().await else {
                        break;
                    };
                    let release = |m: &Claimed| Outcome {
                        id: m.id,
                        lease: m.lease_until_ms,
                        what: What::Released,
                    };
                    if *stop.borrow() {
                        done.send((release(&m), None)).await.ok();
                        continue;
                    }
                    pace.wait().await;
                    // Too late to start: the lease could run out mid-send and another
                    // worker take the row; give it back instead.
                    if now_ms() > m.lease_until_ms - margin {
                        done.send((release(&m), None)).await.ok();
                        continue;
                    }
                    let sent = match outbox_body::unpack(&m.packed) {
                        Ok(raw) => {
                            transport
                                .send(&m.message_id, &m.sender, &m.recipient, &raw)
                                .await
                        }
                        Err(e) => Err(SendError::Permanent(format!(
                            "the stored message cannot be read: {e}"
                        ))),
                    };
                    let what = match sent {
                        Ok(_) => What::Sent,
                        Err(error) => What::Failed {
                            attempts: m.attempts,
                            error,
                        },
                    };
                    let outcome = Outcome {
                        id: m.id,
                        lease: m.lease_until_ms,
                        what,
                    };
                    // Wait until the outcome is recorded before taking the next message:
                    // so at most `concurrency` messages are ever sent and not yet marked,
                    // and only those can go out again after a crash.
                    let (ack, recorded) = oneshot::channel();
                    if done.send((outcome, Some(ack))).await.is_err() {
                        break;
                    }
                    recorded.await.ok();
                }
            }));
        }
        drop(done_tx);

        // One task writes, the others only send: claims and outcomes never wait for each
        // other's locks (SQLite has one writer at a time).
        let mut stop_rx = stop.clone();
        let mut stopping = false;
        // The stop handle was dropped: nobody can stop us any more, so stop now.
        let mut orphaned = false;
        let mut work_tx = Some(work_tx);
        let mut batch: Vec<Outcome> = Vec::with_capacity(256);
        let mut acks: Vec<oneshot::Sender<()>> = Vec::with_capacity(256);
        let mut last_reclaim = Instant::now() - s.lease;
        loop {
            // 1. Record every outcome that has arrived, in one transaction.
            let mut closed = false;
            while batch.len() < 256 {
                match done_rx.try_recv() {
                    Ok((o, ack)) => {
                        batch.push(o);
                        acks.extend(ack);
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            if (*stop_rx.borrow() || orphaned) && !stopping {
                // The senders give back what is left in the channel, then end.
                stopping = true;
                work_tx = None;
            }
            // 2. Record what arrived and take more rows while there is room, in one
            // transaction; then let the senders go on.
            let recorded = !batch.is_empty();
            let room = work_tx.as_ref().map_or(0, |tx| tx.capacity());
            let reclaim = room > 0 && last_reclaim.elapsed() >= s.lease / 4;
            if reclaim {
                last_reclaim = Instant::now();
            }
            let rows = if recorded {
                let rows = record_or_give_up(&self.db, &s, &batch, reclaim, room).await;
                batch.clear();
                for ack in acks.drain(..) {
                    ack.send(()).ok();
                }
                rows
            } else if room > 0 {
                if reclaim {
                    if let Err(e) = reclaim_expired(&self.db, now_ms()).await {
                        tracing::error!(error = %e, "outbox: cannot take back expired messages");
                    }
                }
                match claim(&self.db, room, s.lease).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::error!(error = %e, "outbox: cannot take messages");
                        Vec::new()
                    }
                }
            } else {
                Vec::new()
            };
            let claimed = rows.len();
            if let Some(tx) = work_tx.as_ref() {
                for r in rows {
                    // Never blocks: no more than the room there was.
                    tx.send(r).await.ok();
                }
            }
            if closed {
                break;
            }
            // 3. Nothing done: wait for an outcome, a wake-up, the poll or the stop.
            if !recorded && claimed == 0 {
                let idle = work_tx.as_ref().is_some_and(|tx| tx.capacity() > 0);
                tokio::select! {
                    got = done_rx.recv() => match got {
                        Some((o, ack)) => {
                            batch.push(o);
                            acks.extend(ack);
                        }
                        None => break,
                    },
                    () = self.wake.notified(), if idle => {}
                    () = tokio::time::sleep(s.poll), if idle => {}
                    changed = stop_rx.changed(), if !stopping => orphaned = changed.is_err(),
                }
            }
        }
        for t in senders {
            t.await.ok();
        }
    }
}

/// Records `batch` and takes up to `room` more rows ([`record_and_claim`]), trying again
/// (the outcomes alone) for about half a minute; then gives up, leaving the rows
/// `sending`: they come back when their lease runs out (the sent ones among them would
/// then go out twice).
async fn record_or_give_up(
    db: &DatabaseConnection,
    s: &WorkerSettings,
    batch: &[Outcome],
    reclaim: bool,
    room: usize,
) -> Vec<Claimed> {
    let mut wait = Duration::from_millis(100);
    for attempt in 1.. {
        // After a failure, the outcomes alone: taking rows must not keep them unrecorded.
        let (reclaim, room) = if attempt == 1 {
            (reclaim, room)
        } else {
            (false, 0)
        };
        match record_and_claim(db, s, batch, reclaim, room).await {
            Ok(claimed) => return claimed,
            Err(e) if attempt < 9 => {
                tracing::error!(error = %e, "outbox: cannot record outcomes; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
            Err(e) => {
                tracing::error!(error = %e, messages = batch.len(), "outbox: outcomes not recorded; their lease will give them back");
                return Vec::new();
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let r = Duration::from_secs(30);
        assert_eq!(backoff(r, 1), Duration::from_secs(30));
        assert_eq!(backoff(r, 2), Duration::from_secs(60));
        assert_eq!(backoff(r, 4), Duration::from_secs(240));
        assert_eq!(backoff(r, 30), Duration::from_secs(3600));
    }

    #[tokio::test]
    async fn pace_spaces_the_starts() {
        let p = Pace::new(100);
        let t = Instant::now();
        for _ in 0..11 {
            p.wait().await;
        }
        assert!(
            t.elapsed() >= Duration::from_millis(100),
            "{:?}",
            t.elapsed()
        );
    }
}

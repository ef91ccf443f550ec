//! What each recipient's calendar holds (`invitation` rows), so that a change reaches
//! exactly the recipients it affects.
//!
//! - A write that may change invitations [`mark`]s the conferences it touches, in its own
//!   transaction: a durable note that their invitations may be out of date. Drafts are
//!   not marked; a sync of a conference that has sent nothing yet sends nothing.
//! - `services::invitations::sync` later builds what every recipient should hold now and
//!   compares it with the ledger ([`Ledger::decide`]): an unchanged invitation is not
//!   sent again; a changed one goes out as REQUEST with the same UID and a higher
//!   SEQUENCE; a recipient no longer invited (a delegate removed, a unit no longer asked,
//!   a bridge point gone) gets a CANCEL, built from what the ledger remembers.
//! - Edits within `invitation_update_window_ms` of the first unsynced one are sent as
//!   one update (`sync_due`).
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use sha2::{Digest, Sha256};

use crate::calendar::invite::{Invite, Method};
use crate::domain::kinds::{ConferenceStatus, MessageKind, Reply};
use crate::error::Result;
use crate::store::{conference, invitation, invitation_sync};

/// The conferences whose invitations a write may change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Touched {
    /// None (plans, their tasks).
    Nothing,
    /// These conferences.
    Conferences(Vec<i64>),
    /// Any conference published or cancelled and not over (a unit, a person, a hall, a
    /// speaker may appear in any of them).
    Any,
}

impl Touched {
    /// What either write touches.
    pub fn and(self, other: Touched) -> Touched {
        match (self, other) {
            (Touched::Any, _) | (_, Touched::Any) => Touched::Any,
            (Touched::Nothing, t) | (t, Touched::Nothing) => t,
            (Touched::Conferences(mut a), Touched::Conferences(b)) => {
                a.extend(b);
                a.sort_unstable();
                a.dedup();
                Touched::Conferences(a)
            }
        }
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Notes, in the caller's transaction, that the invitations of the conferences `touched`
/// may be out of date: those published or cancelled (for [`Touched::Any`], only those
/// not over yet). A conference marked already keeps the time of its first unsynced
/// change, so that a stream of edits is still sent within the window.
///
/// Not only conferences with invitations out: an edit that runs beside the first send
/// cannot see the ledger rows that send has not committed, and would be lost. A sync of
/// a conference without ledger rows sends nothing (sending is deliberate) and drops the
/// mark. Call it as a write's last statement: a sync locks the conference row and then
/// the mark, and a write must not take them the other way round.
pub async fn mark(db: &impl ConnectionTrait, touched: Touched) -> Result<()> {
    let q = conference::Entity::find()
        .select_only()
        .column(conference::Column::Id)
        .filter(conference::Column::Status.ne(ConferenceStatus::Draft));
    let q = match touched {
        Touched::Nothing => return Ok(()),
        Touched::Conferences(ids) if ids.is_empty() => return Ok(()),
        Touched::Conferences(ids) => q.filter(conference::Column::Id.is_in(ids)),
        Touched::Any => q.filter(conference::Column::EndsAt.gt(Utc::now())),
    };
    let mut live: Vec<i64> = q.into_tuple().all(db).await?;
    if live.is_empty() {
        return Ok(());
    }
    // In id order: two writes marking the same conferences lock their marks in the same
    // order, so they cannot deadlock; once each (PostgreSQL refuses a statement that
    // updates a row twice).
    live.sort_unstable();
    live.dedup();
    let at = now_ms();
    invitation_sync::Entity::insert_many(live.into_iter().map(|id| invitation_sync::ActiveModel {
        conference_id: sea_orm::ActiveValue::Set(id),
        marked_ms: sea_orm::ActiveValue::Set(at),
        ..Default::default()
    }))
    // Not DO NOTHING: a mark already there takes DO UPDATE … WHERE, which writes nothing
    // to a plain mark (it keeps the time of the first unsynced edit) but on PostgreSQL
    // locks the row until this transaction ends. A sync deletes the mark first, so it
    // waits for this edit and then reads what it wrote; with DO NOTHING it could read the
    // state before this edit, delete the mark and lose the edit. A mark held by a sync
    // enqueueing in batches (`claimed_by`) becomes a plain mark of this edit: that sync
    // built its messages before the edit, so it stops, and the next one does the rest.
    .on_conflict(
        OnConflict::column(invitation_sync::Column::ConferenceId)
            .update_column(invitation_sync::Column::MarkedMs)
            .value(
                invitation_sync::Column::ClaimedBy,
                Expr::value(sea_orm::Value::String(None)),
            )
            .action_and_where(sea_orm::sea_query::ExprTrait::is_not_null(Expr::col((
                invitation_sync::Entity,
                invitation_sync::Column::ClaimedBy,
            ))))
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// How many invitations of `conference` stand in calendars (their last message was a
/// REQUEST).
pub async fn standing(db: &impl ConnectionTrait, conference: i64) -> Result<u64> {
    Ok(invitation::Entity::find()
        .filter(invitation::Column::ConferenceId.eq(conference))
        .filter(invitation::Column::Method.eq(Method::Request.as_str()))
        .count(db)
        .await?)
}

/// The conferences to sync, oldest mark first: marked at or before `before_ms`, or held
/// by a sync whose last heartbeat is at or before `stale_before_ms` (it died mid-way).
pub async fn marked(
    db: &impl ConnectionTrait,
    before_ms: i64,
    stale_before_ms: i64,
) -> Result<Vec<i64>> {
    use sea_orm::{Condition, QueryOrder};
    Ok(invitation_sync::Entity::find()
        .select_only()
        .column(invitation_sync::Column::ConferenceId)
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(invitation_sync::Column::ClaimedBy.is_null())
                        .add(invitation_sync::Column::MarkedMs.lte(before_ms)),
                )
                .add(
                    Condition::all()
                        .add(invitation_sync::Column::ClaimedBy.is_not_null())
                        .add(invitation_sync::Column::MarkedMs.lte(stale_before_ms)),
                ),
        )
        .order_by_asc(invitation_sync::Column::MarkedMs)
        .into_tuple()
        .all(db)
        .await?)
}

/// SHA-256 (hex) of what an invitation says, but for DTSTAMP, SEQUENCE and the
/// attendee's reply, with `request` (what its e-mail asks, a quota): two invitations with
/// the same fingerprint show the same event and ask the same.
pub fn fingerprint(i: &Invite, request: Option<&str>) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update(s.as_bytes());
        h.update([0]);
    };
    put(request.unwrap_or(""));
    put(i.method.as_str());
    put(&i.uid);
    put(i.time_zone.name());
    for d in &i.days {
        put(&d.starts_at.timestamp().to_string());
        put(&d.ends_at.timestamp().to_string());
    }
    put(&i.summary);
    put(&i.location);
    put(&i.description);
    put(i.url.as_deref().unwrap_or(""));
    put(&i.organizer.name);
    put(&i.organizer.email);
    for a in &i.attendees {
        put(&a.party.name);
        put(&a.party.email);
        put(a.role.as_str());
    }
    for a in &i.alarms {
        put(&a.num_seconds().to_string());
    }
    hex::encode(h.finalize())
}

/// What to do for one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Their calendar holds this already.
    Unchanged,
    /// Send it with this SEQUENCE and these reply links; `cancel_old`: the UID went to
    /// another address before (a changed e-mail), which gets a CANCEL with it.
    Send {
        sequence: u32,
        rsvp_token: String,
        cancel_old: Option<Box<invitation::Model>>,
        /// A recipient new to this UID: their reply starts over.
        fresh: bool,
    },
}

/// The ledger of one conference, read once, and what a sync decides against it.
#[derive(Default)]
pub struct Ledger {
    rows: HashMap<String, invitation::Model>,
    seen: HashSet<String>,
    /// Rows to write once the messages are enqueued.
    pub writes: Vec<Write>,
}

/// A ledger row to write: what a recipient's calendar holds once the message is sent.
#[derive(Clone, Debug)]
pub struct Write {
    pub uid: String,
    pub kind: MessageKind,
    pub unit_id: Option<i64>,
    pub delegate_id: Option<i64>,
    pub bridge_point_id: Option<i64>,
    pub name: String,
    pub email: String,
    pub location: String,
    pub sequence: u32,
    pub method: Method,
    pub fingerprint: String,
    pub rsvp_token: String,
    /// A new recipient under the UID: their reply starts over.
    pub reset_reply: bool,
}

fn same_address(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl Ledger {
    /// The rows of conference `conference_id`.
    pub async fn load(db: &impl ConnectionTrait, conference_id: i64) -> Result<Self> {
        let rows = invitation::Entity::find()
            .filter(invitation::Column::ConferenceId.eq(conference_id))
            .all(db)
            .await?;
        Ok(Self {
            rows: rows.into_iter().map(|r| (r.uid.clone(), r)).collect(),
            ..Self::default()
        })
    }

    /// Whether the calendar of `uid` holds a standing invitation.
    pub fn live(&self, uid: &str) -> bool {
        self.rows
            .get(uid)
            .is_some_and(|r| r.method == Method::Request.as_str())
    }

    /// The reply links' secret of `uid`, if it was sent.
    pub fn rsvp_token(&self, uid: &str) -> Option<&str> {
        self.rows.get(uid).map(|r| r.rsvp_token.as_str())
    }

    /// Keeps `uid` from being cancelled although nothing is sent to it now (a delegate
    /// whose address is missing is still a delegate).
    pub fn keep(&mut self, uid: &str) {
        self.seen.insert(uid.to_owned());
    }

    /// What to send for `invite` (a REQUEST), with the conference's sequence `at_least`:
    /// nothing when the recipient's calendar holds the same already; else the next
    /// sequence of its UID.
    pub fn decide(&mut self, invite: &Invite, fingerprint: &str, at_least: u32) -> Decision {
        self.seen.insert(invite.uid.clone());
        let email = invite
            .attendees
            .first()
            .map_or("", |a| a.party.email.as_str());
        match self.rows.get(&invite.uid) {
            None => Decision::Send {
                sequence: at_least,
                rsvp_token: crate::services::auth::random_hex(16),
                cancel_old: None,
                fresh: true,
            },
            Some(r) => {
                let standing = r.method == Method::Request.as_str();
                let moved = !same_address(&r.recipient_email, email);
                if standing && !moved && r.fingerprint == fingerprint {
                    return Decision::Unchanged;
                }
                let next = u32::try_from(r.sequence).unwrap_or(0).saturating_add(1);
                Decision::Send {
                    sequence: next.max(at_least),
                    rsvp_token: if moved {
                        crate::services::auth::random_hex(16)
                    } else {
                        r.rsvp_token.clone()
                    },
                    cancel_old: (standing && moved).then(|| Box::new(r.clone())),
                    fresh: moved,
                }
            }
        }
    }

    /// The standing invitations nobody decided on: their recipients are no longer
    /// invited, and get a CANCEL with the next sequence.
    pub fn orphans(&self, at_least: u32) -> Vec<(invitation::Model, u32)> {
        let mut out: Vec<_> = self
            .rows
            .values()
            .filter(|r| r.method == Method::Request.as_str() && !self.seen.contains(&r.uid))
            .map(|r| {
                let next = u32::try_from(r.sequence).unwrap_or(0).saturating_add(1);
                (r.clone(), next.max(at_least))
            })
            .collect();
        out.sort_by_key(|(r, _)| r.id);
        out
    }
}

/// The statements that write what the recipients' calendars hold now, to run in the
/// transaction of the enqueue; built before it, so that it holds the database no longer
/// than it takes to run them.
pub fn statements(
    backend: sea_orm::DbBackend,
    conference_id: i64,
    writes: Vec<Write>,
) -> Vec<sea_orm::Statement> {
    use sea_orm::ActiveValue::{NotSet, Set};
    use sea_orm::QueryTrait;
    let mut out = Vec::new();
    let now = crate::store::now();
    let (reset, keep): (Vec<Write>, Vec<Write>) = writes.into_iter().partition(|w| w.reset_reply);
    for (rows, reset_reply) in [(reset, true), (keep, false)] {
        let mut columns = vec![
            invitation::Column::Kind,
            invitation::Column::UnitId,
            invitation::Column::DelegateId,
            invitation::Column::BridgePointId,
            invitation::Column::RecipientName,
            invitation::Column::RecipientEmail,
            invitation::Column::Location,
            invitation::Column::Sequence,
            invitation::Column::Method,
            invitation::Column::Fingerprint,
            invitation::Column::RsvpToken,
            invitation::Column::UpdatedAt,
        ];
        if reset_reply {
            columns.extend([invitation::Column::Reply, invitation::Column::RepliedAt]);
        }
        for chunk in rows.chunks(400) {
            let models = chunk.iter().map(|w| invitation::ActiveModel {
                id: NotSet,
                conference_id: Set(conference_id),
                uid: Set(w.uid.clone()),
                kind: Set(w.kind),
                unit_id: Set(w.unit_id),
                delegate_id: Set(w.delegate_id),
                bridge_point_id: Set(w.bridge_point_id),
                recipient_name: Set(w.name.clone()),
                recipient_email: Set(w.email.clone()),
                location: Set(w.location.clone()),
                sequence: Set(i32::try_from(w.sequence).unwrap_or(i32::MAX)),
                method: Set(w.method.as_str().to_owned()),
                fingerprint: Set(w.fingerprint.clone()),
                reply: Set(Reply::NeedsAction),
                replied_at: Set(None),
                rsvp_token: Set(w.rsvp_token.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            });
            let insert = invitation::Entity::insert_many(models)
                .on_conflict(
                    OnConflict::column(invitation::Column::Uid)
                        .update_columns(columns.clone())
                        .to_owned(),
                )
                .into_query();
            out.push(backend.build(&insert));
        }
    }
    out
}

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
//! At most `max_unrecorded` messages are sent and not yet recorded: a sender starts a
//! message only under that bound, so that a crash can repeat at most that many. Below it
//! the senders go on while outcomes wait for their commit (on SQLite, behind a sync's
//! batch that holds the one write lock for tens of milliseconds), and the claimer holds
//! up to as many rows, no more than the senders get through in about two seconds.
//!
//! Whoever enqueues in the worker's own process reaches it through a [`WorkerLink`]: it
//! wakes the worker after a commit, and hands it the messages just committed with their
//! bytes as sent ([`Handoff`]), so that the worker does not read back and decompress what
//! was just written. The rows stay the truth: a message is sent only once claimed there,
//! and one not handed over (another process's, or one the handoff let go) is read from
//! `outbox_body`.
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Statement, TransactionTrait, Value,
};
use serde::Serialize;
use tokio::sync::{Mutex, Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};
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
    /// Messages sent whose outcome is not recorded yet, at most (what a crash can send
    /// again).
    pub max_unrecorded: usize,
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
    /// The message as sent, to hand to this process's worker once committed
    /// ([`Enqueued::hand_to`]); `None` when it is not handed over.
    pub raw: Option<Vec<u8>>,
}

/// What [`ToEnqueue::run`] added: how many, and the messages that carried their bytes as
/// sent, to hand over once the transaction is committed.
#[derive(Debug, Default)]
pub struct Enqueued {
    pub added: u64,
    handed: Vec<(i64, String, Vec<u8>)>,
}

impl Enqueued {
    /// Hands the messages to the worker behind `link`, if it has a handoff. Call it only
    /// after the commit: a handoff never holds a row that may not exist.
    pub fn hand_to(self, link: Option<&WorkerLink>) {
        if let Some(h) = link.and_then(|l| l.handoff.as_ref()) {
            h.offer(self.handed);
        }
    }
}

/// The bytes a [`Handoff`] holds at most: beyond, the oldest go (their worker reads them
/// from `outbox_body`), so that a worker far behind, or stopped, costs no more memory.
const HANDOFF_BYTES: usize = 64 << 20;

/// Messages committed in this process, by outbox id, with their bytes as sent: the worker
/// takes a message's bytes from here when it claims its row (and the Message-ID matches),
/// else reads them from the database.
#[derive(Clone, Debug)]
pub struct Handoff(Arc<std::sync::Mutex<Handed>>);

impl Default for Handoff {
    fn default() -> Self {
        Self::holding(HANDOFF_BYTES)
    }
}

#[derive(Debug, Default)]
struct Handed {
    /// The bytes held at most.
    limit: usize,
    by_id: HashMap<i64, (String, Vec<u8>)>,
    /// Ids in the order they came, to let the oldest go first (some taken already).
    order: VecDeque<i64>,
    bytes: usize,
}

impl Handed {
    /// Lets the oldest messages go while over the limit, and forgets the ids of those
    /// taken: at the front as they go, and all at once should one never taken (another
    /// process claimed it) keep the ones behind it.
    fn trim(&mut self) {
        while let Some(&id) = self.order.front() {
            if self.by_id.contains_key(&id) && self.bytes <= self.limit {
                break;
            }
            self.order.pop_front();
            if let Some((_, raw)) = self.by_id.remove(&id) {
                self.bytes -= raw.len();
            }
        }
        if self.order.len() > 2 * self.by_id.len() + 1024 {
            let Self { order, by_id, .. } = self;
            order.retain(|id| by_id.contains_key(id));
        }
    }
}

impl Handoff {
    fn lock(&self) -> std::sync::MutexGuard<'_, Handed> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A handoff holding at most `limit` bytes.
    fn holding(limit: usize) -> Self {
        Self(Arc::new(std::sync::Mutex::new(Handed {
            limit,
            ..Handed::default()
        })))
    }

    /// Adds committed messages: (outbox id, Message-ID, bytes as sent).
    pub fn offer(&self, messages: Vec<(i64, String, Vec<u8>)>) {
        let mut h = self.lock();
        for (id, message_id, raw) in messages {
            h.bytes += raw.len();
            h.order.push_back(id);
            if let Some((_, old)) = h.by_id.insert(id, (message_id, raw)) {
                h.bytes -= old.len();
            }
        }
        h.trim();
    }

    /// The bytes of row `id`, if handed over as the message `message_id`.
    fn take(&self, id: i64, message_id: &str) -> Option<Vec<u8>> {
        let mut h = self.lock();
        let (handed_as, raw) = h.by_id.remove(&id)?;
        h.bytes -= raw.len();
        h.trim();
        (handed_as == message_id).then_some(raw)
    }

    /// How many messages it holds.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How whoever enqueues reaches this process's worker: wakes it after a commit and, when
/// the worker runs here, hands it the messages committed.
#[derive(Clone, Debug, Default)]
pub struct WorkerLink {
    pub wake: Arc<Notify>,
    /// `None` without a worker in this process (nobody would take what it held).
    pub handoff: Option<Handoff>,
    /// The connection the worker writes on ([`crate::store::writer`]), for whoever
    /// enqueues a lot to write on too, taking turns with the worker rather than meeting
    /// it at SQLite's lock; `None` without a worker in this process.
    pub writer: Option<DatabaseConnection>,
}

impl WorkerLink {
    /// Wakes the worker (after a commit that enqueued or made messages due).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Rows per INSERT: well under SQLite's 32,766 bound parameters.
const INSERT_CHUNK: usize = 500;

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Adds `messages` to the outbox, skipping those whose Message-ID is there already;
/// returns how many were added. Call it inside the transaction of the change. Nothing is
/// handed over: a worker reads each message from `outbox_body` (the fan-out, which hands
/// its messages to this process's worker, builds a [`ToEnqueue`] before its transaction).
pub async fn enqueue(db: &impl ConnectionTrait, messages: Vec<NewMessage>) -> Result<u64> {
    let to_enqueue = ToEnqueue::new(db.get_database_backend(), messages);
    Ok(to_enqueue.run(db).await?.added)
}

/// Messages to add to the outbox, their statements built: [`ToEnqueue::new`] before the
/// transaction, so that it holds SQLite's one writer no longer than it takes to run them;
/// [`ToEnqueue::run`] keeps the bytes as sent of the messages that carry them, to hand to
/// the worker after the commit ([`Enqueued::hand_to`]).
pub struct ToEnqueue {
    chunks: Vec<ToInsert>,
}

struct ToInsert {
    /// `INSERT … ON CONFLICT (message_id) DO NOTHING RETURNING id, message_id`.
    rows: Statement,
    /// By Message-ID: the bytes as kept, and as sent when the message carries them.
    bodies: HashMap<String, (Vec<u8>, Option<Vec<u8>>)>,
}

impl ToEnqueue {
    pub fn new(backend: DbBackend, messages: Vec<NewMessage>) -> Self {
        let now = crate::store::now();
        let due = now_ms();
        let mut chunks = Vec::new();
        let mut rows = messages.into_iter().peekable();
        while rows.peek().is_some() {
            let mut bodies = HashMap::new();
            let chunk: Vec<outbox::ActiveModel> = rows
                .by_ref()
                .take(INSERT_CHUNK)
                .map(|m| {
                    bodies.insert(m.message_id.clone(), (m.packed, m.raw));
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
            // The id and the Message-ID of the rows added only: `exec_with_returning_many`
            // would return every column, each decoded into a model.
            let mut insert = outbox::Entity::insert_many(chunk)
                .on_conflict_do_nothing_on([outbox::Column::MessageId])
                .into_query();
            insert.returning(
                sea_orm::sea_query::Query::returning()
                    .columns([outbox::Column::Id, outbox::Column::MessageId]),
            );
            chunks.push(ToInsert {
                rows: backend.build(&insert),
                bodies,
            });
        }
        Self { chunks }
    }

    /// Runs the statements, inside the caller's transaction.
    pub async fn run(self, db: &impl ConnectionTrait) -> Result<Enqueued> {
        let mut done = Enqueued::default();
        for ToInsert { rows, mut bodies } in self.chunks {
            // The rows added (a message there already is skipped, and keeps its own bytes).
            let mut body_rows: Vec<outbox_body::ActiveModel> = Vec::new();
            for row in db.query_all_raw(rows).await? {
                let id: i64 = row.try_get("", "id")?;
                let message_id: String = row.try_get("", "message_id")?;
                done.added += 1;
                let Some((packed, raw)) = bodies.remove(&message_id) else {
                    continue;
                };
                body_rows.push(outbox_body::ActiveModel {
                    outbox_id: sea_orm::ActiveValue::Set(id),
                    raw: sea_orm::ActiveValue::Set(packed),
                });
                if let Some(raw) = raw {
                    done.handed.push((id, message_id, raw));
                }
            }
            if !body_rows.is_empty() {
                outbox_body::Entity::insert_many(body_rows)
                    .on_conflict_do_nothing_on([outbox_body::Column::OutboxId])
                    .exec_without_returning(db)
                    .await?;
            }
        }
        Ok(done)
    }
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
    body: Body,
    attempts: i32,
    lease_until_ms: i64,
}

/// A claimed message's bytes.
#[derive(Debug)]
enum Body {
    /// As `outbox_body` keeps them: unpacked by the sender.
    Packed(Vec<u8>),
    /// As sent, from the [`Handoff`].
    Raw(Vec<u8>),
}

/// `ids` made as long as the next power of two by repeating the last (which `IN` does
/// not mind): a statement with a list of ids then has one of a few shapes, which the
/// connections keep prepared, instead of one per length, each parsed anew.
fn padded(mut ids: Vec<i64>) -> Vec<i64> {
    if let Some(&last) = ids.last() {
        ids.resize(ids.len().next_power_of_two(), last);
    }
    ids
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

/// Takes up to `n` due pending rows for `lease` (call [`reclaim_expired`] now and then),
/// with their bytes from `handoff` where it has them, else from `outbox_body`.
async fn claim(
    db: &impl ConnectionTrait,
    n: usize,
    lease: Duration,
    handoff: &Handoff,
) -> Result<Vec<Claimed>> {
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
    let mut claimed = Vec::with_capacity(rows.len());
    let mut unread = Vec::new();
    for r in rows {
        let id: i64 = r.try_get("", "id")?;
        let message_id: String = r.try_get("", "message_id")?;
        let body = handoff.take(id, &message_id).map(Body::Raw);
        if body.is_none() {
            unread.push(claimed.len());
        }
        claimed.push((
            Claimed {
                id,
                message_id,
                sender: r.try_get("", "sender")?,
                recipient: r.try_get("", "recipient")?,
                body: Body::Packed(Vec::new()),
                attempts: r.try_get("", "attempts")?,
                lease_until_ms: lease_until,
            },
            body,
        ));
    }
    // The bytes not handed over, read apart: the claim's UPDATE does not rewrite them.
    if !unread.is_empty() {
        let ids: Vec<i64> = unread.iter().map(|&at| claimed[at].0.id).collect();
        let mut bodies: HashMap<i64, Vec<u8>> = outbox_body::Entity::find()
            .filter(outbox_body::Column::OutboxId.is_in(padded(ids)))
            .all(db)
            .await?
            .into_iter()
            .map(|b| (b.outbox_id, b.raw))
            .collect();
        for at in unread {
            let id = claimed[at].0.id;
            claimed[at].1 = bodies.remove(&id).map(Body::Packed);
        }
    }
    // A row without bytes was deleted since (its conference's): nothing to send.
    let mut claimed: Vec<Claimed> = claimed
        .into_iter()
        .filter_map(|(c, body)| Some(Claimed { body: body?, ..c }))
        .collect();
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
/// `fsync` on SQLite), which gives the senders back their room for unrecorded messages.
async fn record_and_claim(
    db: &DatabaseConnection,
    s: &WorkerSettings,
    outcomes: &[Outcome],
    reclaim: bool,
    room: usize,
    handoff: &Handoff,
) -> Result<Vec<Claimed>> {
    let txn = db.begin().await?;
    record(&txn, s, outcomes).await?;
    if reclaim {
        reclaim_expired(&txn, now_ms()).await?;
    }
    let claimed = if room > 0 {
        claim(&txn, room, s.lease, handoff).await?
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
            .filter(outbox::Column::Id.is_in(padded(ids)))
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

/// How many rows the worker may hold claimed and not yet started: twice what the senders
/// got through in the last second (enough for about two seconds, and a claim that grows
/// quickly from the start), between twice `concurrency` and the channel's capacity. A
/// claimed row is out of reach of [`supersede`] (it is `sending`), so an invitation
/// updated meanwhile still goes out before its update; with a slow server, a claim as large
/// as with a fast one would hold such rows for minutes.
struct Claims {
    least: usize,
    most: usize,
    /// Outcomes recorded, by when, over the last second.
    recent: VecDeque<(Instant, usize)>,
    in_last_second: usize,
}

impl Claims {
    const WINDOW: Duration = Duration::from_secs(1);

    fn new(least: usize, most: usize) -> Self {
        Self {
            least: least.min(most),
            most,
            recent: VecDeque::new(),
            in_last_second: 0,
        }
    }

    /// `n` outcomes were recorded `now`.
    fn sent(&mut self, now: Instant, n: usize) {
        if n > 0 {
            self.recent.push_back((now, n));
            self.in_last_second += n;
        }
        while let Some(&(at, k)) = self.recent.front() {
            if now.duration_since(at) <= Self::WINDOW {
                break;
            }
            self.recent.pop_front();
            self.in_last_second -= k;
        }
    }

    /// How many more rows to claim, with `queued` claimed and not yet taken by a sender.
    fn room(&self, queued: usize) -> usize {
        (2 * self.in_last_second)
            .clamp(self.least, self.most)
            .saturating_sub(queued)
    }
}

/// Sends the outbox.
#[derive(Clone)]
pub struct Worker {
    db: DatabaseConnection,
    transport: Transport,
    settings: WorkerSettings,
    link: WorkerLink,
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
    /// A worker on `db`'s database. It claims and records on a connection of its own
    /// ([`crate::store::writer`]), which its [`WorkerLink`] offers to enqueuers.
    pub fn new(db: DatabaseConnection, transport: Transport, settings: WorkerSettings) -> Self {
        let db = crate::store::writer(&db);
        Self {
            db: db.clone(),
            transport,
            settings,
            link: WorkerLink {
                wake: Arc::new(Notify::new()),
                handoff: Some(Handoff::default()),
                writer: Some(db),
            },
        }
    }

    /// How an enqueuer in this process reaches the worker: wakes it after a commit, rather
    /// than at its next poll, and hands it what was committed.
    pub fn link(&self) -> WorkerLink {
        self.link.clone()
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
        let handoff = self.link.handoff.clone().unwrap_or_default();
        // With a rate, hold no more than can start within half the lease.
        let most = match s.rate_per_second {
            0 => usize::MAX,
            r => ((u64::from(r) * s.lease.as_secs() / 2) as usize).max(1),
        };
        // Room for as many messages as the senders may have unrecorded: while a sync
        // enqueues, the worker gets the SQLite writer once per batch (tens of
        // milliseconds), and what it claims then must keep the senders busy until the
        // next time (with twice `concurrency` only, 10,000 invitations went out at a
        // tenth of the pace until the enqueueing ended). How much of it is used follows
        // the pace ([`Claims`]).
        let capacity = (s.concurrency * 2).max(s.max_unrecorded).min(most);
        let mut claims = Claims::new(s.concurrency * 2, capacity);
        let (work_tx, work_rx) = mpsc::channel::<Claimed>(capacity);
        let work_rx = Arc::new(Mutex::new(work_rx));
        // A sender holds a permit from before it takes a message until its outcome is
        // recorded (the recorder drops it then).
        let unrecorded = Arc::new(Semaphore::new(s.max_unrecorded.max(1)));
        let (done_tx, mut done_rx) = mpsc::channel::<(Outcome, Option<OwnedSemaphorePermit>)>(
            s.max_unrecorded.max(s.concurrency) + s.concurrency,
        );
        let pace = Arc::new(Pace::new(s.rate_per_second));
        // A send must start this long before its lease ends (half the lease).
        let margin = i64::try_from(s.lease.as_millis() / 2).unwrap_or(i64::MAX / 4);

        let mut senders = Vec::with_capacity(s.concurrency);
        for _ in 0..s.concurrency {
            let (rx, done, transport, pace, stop, unrecorded) = (
                work_rx.clone(),
                done_tx.clone(),
                self.transport.clone(),
                pace.clone(),
                stop.clone(),
                unrecorded.clone(),
            );
            senders.push(tokio::spawn(async move {
                loop {
                    let Ok(permit) = unrecorded.clone().acquire_owned().await else {
                        break;
                    };
                    let Some(mut m) = rx.lock().await.recv().await else {
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
                    let raw = match std::mem::replace(&mut m.body, Body::Raw(Vec::new())) {
                        Body::Raw(raw) => Ok(raw),
                        Body::Packed(packed) => outbox_body::unpack(&packed),
                    };
                    let sent = match raw {
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
                    // The permit goes with the outcome, and comes back once it is
                    // recorded: at most `max_unrecorded` messages are ever sent and not
                    // yet marked, and only those can go out again after a crash.
                    if done.send((outcome, Some(permit))).await.is_err() {
                        break;
                    }
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
        let mut acks: Vec<OwnedSemaphorePermit> = Vec::with_capacity(256);
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
            // A few outcomes only: wait a moment for more, so that one commit records
            // many (each commit is an fsync on SQLite, and rewrites the same row and
            // index pages in the WAL), rather than one commit per message or two.
            let enough = (s.concurrency / 2).max(1);
            if !closed && !batch.is_empty() && batch.len() < enough {
                let until = Instant::now() + GATHER;
                while batch.len() < enough {
                    match tokio::time::timeout_at(until, done_rx.recv()).await {
                        Ok(Some((o, ack))) => {
                            batch.push(o);
                            acks.extend(ack);
                        }
                        Ok(None) => {
                            closed = true;
                            break;
                        }
                        Err(_) => break,
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
            claims.sent(Instant::now(), batch.len());
            let room = work_tx
                .as_ref()
                .map_or(0, |tx| claims.room(tx.max_capacity() - tx.capacity()));
            let reclaim = room > 0 && last_reclaim.elapsed() >= s.lease / 4;
            if reclaim {
                last_reclaim = Instant::now();
            }
            let rows = if recorded {
                let rows = record_or_give_up(&self.db, &s, &batch, reclaim, room, &handoff).await;
                batch.clear();
                // Their senders may start as many messages again.
                acks.clear();
                rows
            } else if room > 0 {
                if reclaim {
                    if let Err(e) = reclaim_expired(&self.db, now_ms()).await {
                        tracing::error!(error = %e, "outbox: cannot take back expired messages");
                    }
                }
                match claim(&self.db, room, s.lease, &handoff).await {
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
                let idle = work_tx
                    .as_ref()
                    .is_some_and(|tx| claims.room(tx.max_capacity() - tx.capacity()) > 0);
                tokio::select! {
                    got = done_rx.recv() => match got {
                        Some((o, ack)) => {
                            batch.push(o);
                            acks.extend(ack);
                        }
                        None => break,
                    },
                    () = self.link.wake.notified(), if idle => {}
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

/// How long the recorder waits for more outcomes when only a few have arrived.
const GATHER: Duration = Duration::from_millis(1);

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
    handoff: &Handoff,
) -> Vec<Claimed> {
    let mut wait = Duration::from_millis(100);
    for attempt in 1.. {
        // After a failure, the outcomes alone: taking rows must not keep them unrecorded.
        let (reclaim, room) = if attempt == 1 {
            (reclaim, room)
        } else {
            (false, 0)
        };
        match record_and_claim(db, s, batch, reclaim, room, handoff).await {
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
    fn claims_follow_the_pace_of_the_last_second() {
        let t = Instant::now();
        let ms = |n| t + Duration::from_millis(n);
        let mut claims = Claims::new(16, 256);
        // Nothing sent yet: twice the concurrency, less what is queued.
        assert_eq!(claims.room(0), 16);
        assert_eq!(claims.room(10), 6);
        assert_eq!(claims.room(20), 0);
        // A fast server: twice as many as went out in the last second, up to the
        // capacity.
        claims.sent(ms(0), 50);
        claims.sent(ms(400), 50);
        assert_eq!(claims.room(0), 200);
        assert_eq!(claims.room(50), 150);
        claims.sent(ms(400), 500);
        assert_eq!(claims.room(0), 256);
        // A second on, the first outcomes no longer count; then a slow server.
        claims.sent(ms(1100), 0);
        assert_eq!(claims.room(0), 256, "the two at 400 ms still count");
        claims.sent(ms(1600), 3);
        assert_eq!(claims.room(0), 16);
        claims.sent(ms(1700), 10);
        assert_eq!(claims.room(0), 26);
    }

    #[test]
    fn a_handoff_gives_each_message_once_to_its_message_id_and_lets_the_oldest_go() {
        let h = Handoff::holding(10);
        h.offer(vec![
            (1, "a".into(), b"1111".to_vec()),
            (2, "b".into(), b"2222".to_vec()),
        ]);
        assert_eq!(h.take(1, "a").as_deref(), Some(&b"1111"[..]));
        assert_eq!(h.take(1, "a"), None, "taken once");
        // Another message under the same id (never, with ids that are not reused): read
        // from the database instead, and gone from here.
        assert_eq!(h.take(2, "other"), None);
        assert_eq!(h.take(2, "b"), None);
        assert!(h.is_empty());
        // Over the limit, the oldest go first.
        h.offer(vec![
            (3, "c".into(), b"3333".to_vec()),
            (4, "d".into(), b"4444".to_vec()),
        ]);
        h.offer(vec![(5, "e".into(), b"5555".to_vec())]);
        assert_eq!(h.len(), 2);
        assert_eq!(h.take(3, "c"), None);
        assert_eq!(h.take(5, "e").as_deref(), Some(&b"5555"[..]));
        assert_eq!(h.take(4, "d").as_deref(), Some(&b"4444"[..]));
        assert_eq!(h.lock().bytes, 0);
        assert!(h.lock().order.is_empty(), "ids taken are let go");
        // One never taken keeps no list of those taken behind it.
        h.offer(vec![(6, "f".into(), Vec::new())]);
        for id in 7..5000 {
            h.offer(vec![(id, format!("m{id}"), Vec::new())]);
            assert!(h.take(id, &format!("m{id}")).is_some());
        }
        assert_eq!(h.len(), 1);
        assert!(h.lock().order.len() <= 2 + 1024, "{}", h.lock().order.len());
    }

    #[test]
    fn id_lists_come_in_powers_of_two() {
        assert_eq!(padded(Vec::new()), Vec::<i64>::new());
        assert_eq!(padded(vec![7]), [7]);
        assert_eq!(padded(vec![1, 2, 3]), [1, 2, 3, 3]);
        assert_eq!(padded((1..=5).collect()).len(), 8);
        assert_eq!(padded((1..=256).collect()).len(), 256);
    }

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

//! Replies to invitations through their links (`/rsvp/{token}`), without logging in, and
//! the replies of a conference per unit.
//!
//! A reply link's token is the random secret of one ledger row (`invitation.rsvp_token`,
//! 128 bits, never derived from an id). `GET` only shows the choice and `POST` records
//! it, so a mail scanner that opens every link records nothing. A reply sets the PARTSTAT
//! of the ledger row and, for a delegate, of the delegate; it sends nothing (the
//! fingerprint of an invitation leaves the reply out).
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use crate::calendar::invite::Method;
use crate::domain::kinds::{ConferenceStatus, MessageKind, Reply, Role};
use crate::domain::validate::FieldError;
use crate::error::{Error, Result};
use crate::services::auth::Principal;
use crate::services::crud;
use crate::services::resources::conference::Conferences;
use crate::store::{conference, delegate, invitation, unit};

/// What the reply page shows.
#[derive(Clone, Debug, Serialize)]
pub struct RsvpPage {
    pub recipient: String,
    pub title: String,
    pub when: String,
    pub location: String,
    /// The reply recorded, in Vietnamese (`Tham dự`).
    pub reply: String,
    pub reply_code: String,
    /// The choice the link asked for, to confirm (`accepted`), if any.
    pub proposed: Option<String>,
    pub proposed_label: Option<String>,
    /// Set after a reply was just recorded.
    pub recorded: bool,
    /// The invitation was cancelled: nothing to answer.
    pub cancelled: bool,
    pub choices: Vec<Choice>,
}

/// One button of the page.
#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

impl RsvpPage {
    /// A page with every field filled, for the start-up check of its template.
    pub fn sample() -> Self {
        Self {
            recipient: "Ông Nguyễn Văn An".into(),
            title: "Hội nghị tập huấn".into(),
            when: "08h00' ngày 18/12/2024 (thứ Tư)".into(),
            location: "Hội trường tầng 3".into(),
            reply: "Chưa trả lời".into(),
            reply_code: "needs_action".into(),
            proposed: Some("accepted".into()),
            proposed_label: Some("Tham dự".into()),
            recorded: false,
            cancelled: false,
            choices: choices(),
        }
    }
}

fn choices() -> Vec<Choice> {
    [Reply::Accepted, Reply::Declined, Reply::Tentative]
        .into_iter()
        .map(|r| Choice {
            code: r.as_str().into(),
            label: r.label_vi().into(),
        })
        .collect()
}

/// A reply token is 32 hex digits; anything else is no token (404, no query).
fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn not_found() -> Error {
    Error::NotFound {
        entity: "invitation",
        label: "giấy mời (đường dẫn trả lời không đúng hoặc đã hết hiệu lực)",
        id: 0,
    }
}

async fn by_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<(invitation::Model, conference::Model)> {
    if !well_formed(token) {
        return Err(not_found());
    }
    let row = invitation::Entity::find()
        .filter(invitation::Column::RsvpToken.eq(token.to_ascii_lowercase()))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let c = conference::Entity::find_by_id(row.conference_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    Ok((row, c))
}

/// `reply` as a choice of the page: `accepted`, `declined` or `tentative`.
pub fn parse_reply(reply: &str) -> Result<Reply> {
    [Reply::Accepted, Reply::Declined, Reply::Tentative]
        .into_iter()
        .find(|r| r.as_str() == reply.trim())
        .ok_or_else(|| {
            Error::Validation(vec![FieldError::new(
                "reply",
                "invalid_reply",
                "Câu trả lời phải là: accepted (tham dự), declined (không tham dự) hoặc tentative (chưa chắc chắn).",
            )])
        })
}

/// The page of the reply link `token`, proposing `proposed` when the link carried one.
pub async fn page(
    db: &impl ConnectionTrait,
    token: &str,
    proposed: Option<Reply>,
    recorded: bool,
) -> Result<RsvpPage> {
    let (row, c) = by_token(db, token).await?;
    let tz = crate::documents::agenda::time_zone(&c);
    let cancelled =
        row.method == Method::Cancel.as_str() || c.status == ConferenceStatus::Cancelled;
    Ok(RsvpPage {
        recipient: row.recipient_name,
        title: c.title.clone(),
        when: crate::domain::format::plan_start_at(c.starts_at, tz),
        location: row.location,
        reply: row.reply.label_vi().into(),
        reply_code: row.reply.as_str().into(),
        proposed: proposed.map(|r| r.as_str().into()),
        proposed_label: proposed.map(|r| r.label_vi().into()),
        recorded,
        cancelled,
        choices: choices(),
    })
}

/// Records `reply` for the invitation of `token`. 409 once it is cancelled.
///
/// The first statement is the write, matched by the token itself: on SQLite the
/// transaction never reads before it writes (a sync committing in between cannot make it
/// fail), and a token replaced by a newer one (the address changed) matches nothing.
pub async fn record(db: &sea_orm::DatabaseConnection, token: &str, reply: Reply) -> Result<()> {
    use sea_orm::TransactionTrait;
    use sea_orm::sea_query::{Expr, Query};
    if !well_formed(token) {
        return Err(not_found());
    }
    let token = token.to_ascii_lowercase();
    let txn = db.begin().await?;
    if crate::store::is_postgres(&txn) {
        // Its conference first, as every write of a conference's rows holds it: a sync of
        // the conference, or its deletion, runs wholly before or after the reply.
        let conference: Option<i64> = invitation::Entity::find()
            .select_only()
            .column(invitation::Column::ConferenceId)
            .filter(invitation::Column::RsvpToken.eq(token.as_str()))
            .into_tuple()
            .one(&txn)
            .await?;
        crate::services::resources::conference::hold(&txn, conference.as_slice()).await?;
    }
    let standing = Query::select()
        .column(conference::Column::Id)
        .from(conference::Entity)
        .and_where(conference::Column::Status.ne(ConferenceStatus::Cancelled))
        .to_owned();
    let updated = invitation::Entity::update_many()
        .col_expr(invitation::Column::Reply, Expr::value(reply.as_str()))
        .col_expr(invitation::Column::RepliedAt, Expr::value(Utc::now()))
        .col_expr(
            invitation::Column::UpdatedAt,
            Expr::value(crate::store::now()),
        )
        .filter(invitation::Column::RsvpToken.eq(token.as_str()))
        .filter(invitation::Column::Method.eq(Method::Request.as_str()))
        .filter(invitation::Column::ConferenceId.in_subquery(standing))
        .exec(&txn)
        .await?;
    let (row, _) = by_token(&txn, &token).await?;
    if updated.rows_affected == 0 {
        return Err(Error::Conflict {
            field: Some("reply".into()),
            message: "Giấy mời này đã bị hủy: không cần trả lời.".into(),
        });
    }
    if let Some(d) = row.delegate_id {
        delegate::Entity::update_many()
            .col_expr(delegate::Column::Reply, Expr::value(reply.as_str()))
            .filter(delegate::Column::Id.eq(d))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(
        invitation_id = row.id,
        reply = reply.as_str(),
        "rsvp: reply recorded"
    );
    Ok(())
}

/// Replies by PARTSTAT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReplyCounts {
    pub needs_action: u64,
    pub accepted: u64,
    pub declined: u64,
    pub tentative: u64,
}

impl ReplyCounts {
    pub(crate) fn add(&mut self, r: Reply) {
        match r {
            Reply::NeedsAction => self.needs_action += 1,
            Reply::Accepted => self.accepted += 1,
            Reply::Declined => self.declined += 1,
            Reply::Tentative => self.tentative += 1,
        }
    }
}

/// One recipient's reply.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RecipientReply {
    /// `invitation` (a delegate), `nomination` (the unit's mailbox), `bridge_contact`.
    pub kind: MessageKind,
    pub delegate_id: Option<i64>,
    pub bridge_point_id: Option<i64>,
    pub name: String,
    pub email: String,
    pub reply: Reply,
    pub replied_at: Option<DateTime<Utc>>,
}

/// The replies of one unit's recipients.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UnitReplies {
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub counts: ReplyCounts,
    pub recipients: Vec<RecipientReply>,
}

/// The replies to a conference's standing invitations.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Replies {
    pub conference_id: i64,
    pub counts: ReplyCounts,
    pub units: Vec<UnitReplies>,
}

/// The replies to conference `id`'s standing invitations, per unit; a district office
/// sees only the units in its scope.
pub async fn of_conference(db: &impl ConnectionTrait, p: &Principal, id: i64) -> Result<Replies> {
    let c = crud::find::<Conferences>(db, id).await?;
    crud::authorize_read::<Conferences>(db, p, &c).await?;
    let mut q = invitation::Entity::find()
        .filter(invitation::Column::ConferenceId.eq(id))
        .filter(invitation::Column::Method.eq(Method::Request.as_str()))
        .order_by_asc(invitation::Column::UnitId)
        .order_by_asc(invitation::Column::Id);
    if p.role == Role::DistrictOffice {
        q = q.filter(invitation::Column::UnitId.in_subquery(p.scope.unit_ids_query()));
    }
    let rows = q.all(db).await?;
    let unit_ids: Vec<i64> = rows.iter().filter_map(|r| r.unit_id).collect();
    let names: BTreeMap<i64, String> = unit::Entity::find()
        .filter(unit::Column::Id.is_in(unit_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut counts = ReplyCounts::default();
    let mut units: Vec<UnitReplies> = Vec::new();
    for r in rows {
        counts.add(r.reply);
        if units.last().is_none_or(|u| u.unit_id != r.unit_id) {
            units.push(UnitReplies {
                unit_id: r.unit_id,
                unit_name: r.unit_id.and_then(|u| names.get(&u).cloned()),
                counts: ReplyCounts::default(),
                recipients: Vec::new(),
            });
        }
        if let Some(u) = units.last_mut() {
            u.counts.add(r.reply);
            u.recipients.push(RecipientReply {
                kind: r.kind,
                delegate_id: r.delegate_id,
                bridge_point_id: r.bridge_point_id,
                name: r.recipient_name,
                email: r.recipient_email,
                reply: r.reply,
                replied_at: r.replied_at,
            });
        }
    }
    Ok(Replies {
        conference_id: id,
        counts,
        units,
    })
}

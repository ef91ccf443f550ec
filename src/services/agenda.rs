//! Agenda editing as planners do it: move an item and everything after it, insert an item
//! and push the rest back, move the whole conference; and publishing after the checks.
//! Each is one transaction, raises the conference's iTIP sequence (the agenda is part of
//! every invitation) and answers with the new agenda and its checks.
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::kinds::ConferenceStatus;
use crate::domain::time::{InputTime, parse_tz};
use crate::domain::validate::Validator;
use crate::error::{Error, Result};
use crate::services::auth::Principal;
use crate::services::checks::{self, Report};
use crate::services::crud::{self, Resource};
use crate::services::resources::agenda_item::{AgendaItemInput, AgendaItemOutput, AgendaItems};
use crate::services::resources::conference::Conferences;
use crate::store::{self, agenda_item, conference};

/// Move one agenda item to a new start (its length kept).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveItem {
    /// An instant, or a wall-clock time in the conference's zone.
    pub starts_at: InputTime,
    /// Shift every later item by the same amount (default true).
    #[serde(default = "yes")]
    pub shift_following: bool,
}

/// Move a conference, and its whole agenda with it, to a new start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reschedule {
    /// An instant, or a wall-clock time in the conference's zone (current zone).
    pub starts_at: InputTime,
}

/// Insert an item; with `reflow` (default) every item starting at or after it moves back
/// by its length.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InsertItem {
    #[serde(flatten)]
    pub item: AgendaItemInput,
    #[serde(default = "yes")]
    pub reflow: bool,
}

fn yes() -> bool {
    true
}

/// The conference, its agenda and its checks after an edit.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaChange {
    pub conference: conference::Model,
    pub agenda: Vec<AgendaItemOutput>,
    pub checks: Report,
}

/// Moves `item_id` to `starts_at`; with `shift_following`, every item after it (by start,
/// then id) moves by the same amount.
pub async fn move_item(
    db: &DatabaseConnection,
    p: &Principal,
    conference_id: i64,
    item_id: i64,
    body: MoveItem,
) -> Result<AgendaChange> {
    let conf = editable(db, p, conference_id).await?;
    item_of(db, conference_id, item_id).await?;
    resolve(&conf, body.starts_at, "starts_at")?;
    let txn = db.begin().await?;
    // Locked first, then read again: what the move is computed from is what it writes
    // (the item may have moved to another conference meanwhile).
    let conf = locked(&txn, conference_id).await?;
    let item = item_of(&txn, conference_id, item_id).await?;
    let new_start = resolve(&conf, body.starts_at, "starts_at")?;
    let delta = new_start - item.starts_at;
    let items = agenda_of(&txn, conference_id).await?;
    for i in items {
        let later = (i.starts_at, i.id) > (item.starts_at, item.id);
        if i.id == item.id || (body.shift_following && later) {
            shift(&txn, i, delta).await?;
        }
    }
    bump_sequence(&txn, conf).await?;
    txn.commit().await?;
    tracing::info!(conference_id, item_id, delta = %delta, user = %p.login, "agenda item moved");
    change(db, conference_id).await
}

/// Agenda item `item_id`, if it belongs to conference `conference_id` (else 404).
async fn item_of(
    db: &impl ConnectionTrait,
    conference_id: i64,
    item_id: i64,
) -> Result<agenda_item::Model> {
    let item = crud::find::<AgendaItems>(db, item_id).await?;
    if item.conference_id != conference_id {
        return Err(Error::NotFound {
            entity: "agenda_item",
            label: "mục chương trình",
            id: item_id,
        });
    }
    Ok(item)
}

/// Inserts an item; with `reflow`, items starting at or after it move back by its length.
pub async fn insert_item(
    db: &DatabaseConnection,
    p: &Principal,
    conference_id: i64,
    mut body: InsertItem,
) -> Result<AgendaChange> {
    let conf = editable(db, p, conference_id).await?;
    body.item.conference_id = conference_id;
    let mut v = Validator::new();
    AgendaItems::check(db, &mut body.item, &mut v, None).await?;
    if !v.is_empty() {
        return Err(Error::Validation(v.into_errors()));
    }
    let (start, end) = (body.item.starts_at.instant(), body.item.ends_at.instant());
    let txn = db.begin().await?;
    let conf = locked(&txn, conf.id).await?;
    if body.reflow {
        for i in agenda_of(&txn, conference_id).await? {
            if i.starts_at >= start {
                shift(&txn, i, end - start).await?;
            }
        }
    }
    let created = crud::create_unchecked_auth::<AgendaItems>(&txn, body.item).await?;
    bump_sequence(&txn, conf).await?;
    txn.commit().await?;
    tracing::info!(conference_id, item_id = created.id, user = %p.login, "agenda item inserted");
    change(db, conference_id).await
}

/// Moves the conference to start at `starts_at`, its end and every agenda item with it.
pub async fn reschedule(
    db: &DatabaseConnection,
    p: &Principal,
    conference_id: i64,
    body: Reschedule,
) -> Result<AgendaChange> {
    let conf = editable(db, p, conference_id).await?;
    resolve(&conf, body.starts_at, "starts_at")?;
    let txn = db.begin().await?;
    let conf = locked(&txn, conference_id).await?;
    let new_start = resolve(&conf, body.starts_at, "starts_at")?;
    let delta = new_start - conf.starts_at;
    for i in agenda_of(&txn, conference_id).await? {
        shift(&txn, i, delta).await?;
    }
    let mut am: conference::ActiveModel = conf.clone().into();
    am.starts_at = Set(conf.starts_at + delta);
    am.ends_at = Set(conf.ends_at + delta);
    let moved = am.update(&txn).await?;
    if delta != TimeDelta::zero() {
        bump_sequence(&txn, moved).await?;
    }
    txn.commit().await?;
    tracing::info!(conference_id, delta = %delta, user = %p.login, "conference rescheduled");
    change(db, conference_id).await
}

/// Conference `id` locked for the transaction and read afresh (404 when it is gone).
async fn locked(db: &impl ConnectionTrait, id: i64) -> Result<conference::Model> {
    crate::services::resources::conference::lock(db, id)
        .await?
        .ok_or(Error::NotFound {
            entity: "conference",
            label: "hội nghị",
            id,
        })
}

/// The conference, if `p` may change it (as for a write of the conference itself).
pub(crate) async fn editable(
    db: &DatabaseConnection,
    p: &Principal,
    conference_id: i64,
) -> Result<conference::Model> {
    let conf = crud::find::<Conferences>(db, conference_id).await?;
    let owners = Conferences::owners_of_model(db, p.role, &conf).await?;
    crud::authorize_write::<Conferences>(db, p, &owners).await?;
    Ok(conf)
}

fn resolve(conf: &conference::Model, t: InputTime, field: &str) -> Result<DateTime<Utc>> {
    parse_tz(&conf.time_zone)
        .and_then(|tz| t.resolve(tz))
        .ok_or_else(|| {
            Error::Validation(vec![crate::domain::validate::FieldError::new(
                field,
                "nonexistent_local_time",
                "Giờ không tồn tại ở múi giờ của hội nghị.",
            )])
        })
}

async fn agenda_of(
    db: &impl ConnectionTrait,
    conference_id: i64,
) -> Result<Vec<agenda_item::Model>> {
    Ok(crud::order::<AgendaItems>(
        agenda_item::Entity::find().filter(agenda_item::Column::ConferenceId.eq(conference_id)),
    )
    .all(db)
    .await?)
}

async fn shift(db: &impl ConnectionTrait, i: agenda_item::Model, delta: TimeDelta) -> Result<()> {
    if delta == TimeDelta::zero() {
        return Ok(());
    }
    let mut am: agenda_item::ActiveModel = i.clone().into();
    am.starts_at = Set(i.starts_at + delta);
    am.ends_at = Set(i.ends_at + delta);
    am.updated_at = Set(store::now());
    am.update(db).await?;
    Ok(())
}

/// Delegates must hear of a changed agenda: the next invitation carries a higher sequence,
/// and a conference with invitations out is marked for an update. The mark comes last,
/// after the conference row, the order a sync takes their locks in (see `ledger::mark`).
async fn bump_sequence(db: &impl ConnectionTrait, conf: conference::Model) -> Result<()> {
    use crate::services::ledger::{Touched, mark};
    let id = conf.id;
    let sequence = conf.sequence + 1;
    let mut am: conference::ActiveModel = conf.into();
    am.sequence = Set(sequence);
    am.updated_at = Set(store::now());
    am.update(db).await?;
    mark(db, Touched::Conferences(vec![id])).await?;
    Ok(())
}

async fn change(db: &DatabaseConnection, conference_id: i64) -> Result<AgendaChange> {
    let conference = crud::find::<Conferences>(db, conference_id).await?;
    let items = agenda_of(db, conference_id).await?;
    Ok(AgendaChange {
        conference,
        agenda: AgendaItems::outputs(db, items).await?,
        checks: checks::for_conference(db, conference_id).await?,
    })
}

/// Publish a conference.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// Publish despite the warnings of the checks (they are listed in the refusal).
    #[serde(default)]
    pub acknowledge_warnings: bool,
}

/// Publishes a conference: refused (409, nothing changed) while the checks find an error,
/// or a warning that `acknowledge_warnings` does not accept. The checks run on the state
/// inside the transaction, so they judge exactly what is published.
pub async fn publish(
    db: &DatabaseConnection,
    p: &Principal,
    conference_id: i64,
    body: Publish,
) -> Result<AgendaChange> {
    editable(db, p, conference_id).await?;
    let txn = db.begin().await?;
    let conf = locked(&txn, conference_id).await?;
    if conf.status == ConferenceStatus::Cancelled {
        return Err(Error::Conflict {
            field: Some("status".into()),
            message: "Hội nghị đã hủy không thể công bố lại; hãy tạo hội nghị mới.".into(),
        });
    }
    if conf.status != ConferenceStatus::Published {
        let mut am: conference::ActiveModel = conf.clone().into();
        am.status = Set(ConferenceStatus::Published);
        let published = am.update(&txn).await?;
        bump_sequence(&txn, published).await?;
    }
    let report = checks::refuse_if_errors(checks::for_conference(&txn, conference_id).await?)?;
    if report.warnings > 0 && !body.acknowledge_warnings {
        return Err(Error::ChecksFailed {
            message: format!(
                "Hội nghị có {} cảnh báo: xem lại rồi công bố với \"acknowledge_warnings\": true.",
                report.warnings
            ),
            diagnostics: report.diagnostics,
        });
    }
    txn.commit().await?;
    tracing::info!(conference_id, warnings = report.warnings, user = %p.login, "conference published");
    change(db, conference_id).await
}

//! Conferences: when (instants and zone), how (mode), where (halls), and their status.
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, NotSet, QueryFilter, Select, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id_key;
use crate::domain::kinds::{ConferenceMode, ConferenceStatus, Role};
use crate::domain::time::{DEFAULT_TIME_ZONE, InputTime, parse_tz};
use crate::domain::validate::{FieldError, Validator};
use crate::error::Result;
use crate::services::checks;
use crate::services::crud::{Filter, Resource, filter_enum, filter_id, unknown_filter};
use crate::services::links::{self, check_ref, check_refs, dedup};
use crate::store::{conference, conference_hall, hall, plan, unit};

fn default_tz() -> String {
    DEFAULT_TIME_ZONE.to_owned()
}

fn default_status() -> ConferenceStatus {
    ConferenceStatus::Draft
}

/// Create or replace a conference.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConferenceInput {
    /// The plan that organises it, if any.
    #[serde(default)]
    pub plan_id: Option<i64>,
    /// The organising unit: its mailbox is the invitations' ORGANIZER.
    pub organiser_unit_id: i64,
    pub title: String,
    #[serde(default)]
    pub summary: Option<String>,
    /// An instant with offset, or a wall-clock time in `time_zone`.
    pub starts_at: InputTime,
    pub ends_at: InputTime,
    /// IANA zone; `Asia/Ho_Chi_Minh` by default.
    #[serde(default = "default_tz")]
    pub time_zone: String,
    pub mode: ConferenceMode,
    #[serde(default = "default_status")]
    pub status: ConferenceStatus,
    #[serde(default)]
    pub hall_ids: Vec<i64>,
    /// Video-conference link; sent only to those who need it.
    #[serde(default)]
    pub join_url: Option<String>,
    #[serde(default)]
    pub join_passcode: Option<String>,
}

/// A conference with its halls.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConferenceOutput {
    #[serde(flatten)]
    pub conference: conference::Model,
    pub hall_ids: Vec<i64>,
}

/// Conferences.
pub struct Conferences;

impl Resource for Conferences {
    type Entity = conference::Entity;
    type Input = ConferenceInput;
    type Output = ConferenceOutput;
    const NAME: &'static str = "conference";
    const ORDER: &'static [&'static str] = &["starts_at", "id"];
    const PATH: &'static str = "conferences";
    const LABEL: &'static str = "hội nghị";
    const FILTERS: &'static [Filter] = &[
        Filter {
            name: "plan",
            description: "conferences of this plan id",
        },
        Filter {
            name: "organiser",
            description: "conferences organised by this unit id",
        },
        Filter {
            name: "status",
            description: "draft, published or cancelled",
        },
        Filter {
            name: "from",
            description: "conferences ending after this instant (RFC 3339)",
        },
        Filter {
            name: "to",
            description: "conferences starting before this instant (RFC 3339)",
        },
    ];

    id_key!(conference);

    async fn touched(
        _db: &impl ConnectionTrait,
        m: &crate::store::conference::Model,
    ) -> Result<crate::services::ledger::Touched> {
        Ok(crate::services::ledger::Touched::Conferences(vec![m.id]))
    }

    /// Locked and read afresh: the sequence grows from the row as it is now, not from a
    /// copy read before another change (an agenda move) committed.
    async fn before_update(
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<Option<conference::Model>> {
        lock(db, id).await
    }

    /// Deleting a conference would drop its ledger, and with it every way to take its
    /// invitations out of the delegates' calendars: refused while any still stands and
    /// the conference is not over. Cancel it first; once the cancellations are sent it
    /// can go. A conference that is over can always go (nobody is told of it).
    async fn before_delete(db: &impl ConnectionTrait, m: &conference::Model) -> Result<()> {
        // Locked first: a sync of it waits or has finished, and what is read is what the
        // delete's cascade would remove.
        let Some(now) = lock(db, m.id).await? else {
            return Ok(());
        };
        if now.ends_at <= chrono::Utc::now() {
            // Over: what it has not sent yet (invitations, updates, cancellations of an
            // event in the past) is dropped with it; what was sent stays as a record. A
            // row `sending` goes too: its lease may have run out with a worker that died,
            // and another would take it up later. One a live worker is sending right now
            // may still go out; its outcome then updates no row.
            use crate::domain::kinds::OutboxState;
            use crate::store::outbox;
            use sea_orm::EntityTrait;
            let dropped = outbox::Entity::delete_many()
                .filter(outbox::Column::ConferenceId.eq(m.id))
                .filter(outbox::Column::State.is_in([
                    OutboxState::Pending,
                    OutboxState::Sending,
                    OutboxState::Failed,
                ]))
                .exec(db)
                .await?
                .rows_affected;
            if dropped > 0 {
                tracing::info!(
                    conference_id = m.id,
                    dropped,
                    "unsent messages of a past conference dropped"
                );
            }
            return Ok(());
        }
        let standing = crate::services::ledger::standing(db, m.id).await?;
        if standing == 0 {
            return Ok(());
        }
        tracing::info!(
            conference_id = m.id,
            standing,
            status = now.status.as_str(),
            "delete refused: invitations still stand in calendars"
        );
        let what = format!(
            "Không thể xóa hội nghị mã {}: còn {standing} giấy mời đang có trong lịch của \
             người nhận.",
            m.id
        );
        let message = if now.status == ConferenceStatus::Cancelled {
            format!(
                "{what} Thư hủy sẽ được gửi trong ít phút (hoặc ngay khi gửi lại giấy mời); \
                 sau đó mới xóa được."
            )
        } else {
            format!(
                "{what} Hãy hủy hội nghị trước (trạng thái «đã hủy»): thư hủy sẽ được gửi \
                 tới mọi người nhận, sau đó mới xóa được."
            )
        };
        Err(crate::error::Error::Conflict {
            field: Some("status".into()),
            message,
        })
    }

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut ConferenceInput,
        v: &mut Validator,
        _: Option<&conference::Model>,
    ) -> Result<()> {
        v.text("title", &mut i.title);
        v.opt_text("summary", &mut i.summary);
        v.time_zone("time_zone", &mut i.time_zone);
        v.opt_url("join_url", &mut i.join_url);
        v.opt_name("join_passcode", &mut i.join_passcode);
        if let Some(tz) = parse_tz(&i.time_zone) {
            let start_ok = i.starts_at.resolve_in_place(tz);
            let end_ok = i.ends_at.resolve_in_place(tz);
            if !start_ok {
                v.error(
                    "starts_at",
                    "nonexistent_local_time",
                    "Giờ bắt đầu không tồn tại ở múi giờ này.",
                );
            }
            if !end_ok {
                v.error(
                    "ends_at",
                    "nonexistent_local_time",
                    "Giờ kết thúc không tồn tại ở múi giờ này.",
                );
            }
            if start_ok && end_ok {
                v.ordered("ends_at", i.starts_at.instant(), i.ends_at.instant());
            }
        }
        dedup(&mut i.hall_ids);
        check_ref::<plan::Entity>(db, v, "plan_id", plan::Column::Id, i.plan_id, "kế hoạch")
            .await?;
        check_ref::<unit::Entity>(
            db,
            v,
            "organiser_unit_id",
            unit::Column::Id,
            Some(i.organiser_unit_id),
            "đơn vị",
        )
        .await?;
        check_refs::<hall::Entity>(
            db,
            v,
            "hall_ids",
            hall::Column::Id,
            &i.hall_ids,
            "hội trường",
            true,
        )
        .await
    }

    fn active(i: &ConferenceInput, now: chrono::NaiveDateTime) -> conference::ActiveModel {
        conference::ActiveModel {
            id: NotSet,
            plan_id: Set(i.plan_id),
            organiser_unit_id: Set(i.organiser_unit_id),
            title: Set(i.title.clone()),
            summary: Set(i.summary.clone()),
            starts_at: Set(i.starts_at.instant()),
            ends_at: Set(i.ends_at.instant()),
            time_zone: Set(i.time_zone.clone()),
            mode: Set(i.mode),
            status: Set(i.status),
            sequence: Set(0),
            join_url: Set(i.join_url.clone()),
            join_passcode: Set(i.join_passcode.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }

    /// Writes the halls, and keeps the iTIP sequence: it never goes back, and grows when
    /// what a delegate's calendar shows (time, zone, title, halls, status) changes.
    async fn after_write(
        db: &impl ConnectionTrait,
        m: conference::Model,
        i: &ConferenceInput,
        previous: Option<&conference::Model>,
    ) -> Result<conference::Model> {
        let old_halls = match previous {
            Some(p) => links::load::<conference_hall::Entity>(
                db,
                conference_hall::Column::ConferenceId,
                conference_hall::Column::HallId,
                &[p.id],
            )
            .await?
            .remove(&p.id)
            .unwrap_or_default(),
            None => Vec::new(),
        };
        links::replace::<conference_hall::Entity, _>(
            db,
            conference_hall::Column::ConferenceId,
            m.id,
            &i.hall_ids,
            |h| conference_hall::ActiveModel {
                conference_id: Set(m.id),
                hall_id: Set(h),
            },
        )
        .await?;
        let publishing = m.status == ConferenceStatus::Published
            && previous.is_none_or(|p| p.status != ConferenceStatus::Published);
        if publishing {
            // Publishing sends invitations: refused while the checks, reading what this
            // transaction has just written, find an error.
            checks::refuse_if_errors(checks::for_conference(db, m.id).await?)?;
        }
        let Some(p) = previous else { return Ok(m) };
        let mut new_halls = i.hall_ids.clone();
        new_halls.sort_unstable();
        let changed = p.starts_at != m.starts_at
            || p.ends_at != m.ends_at
            || p.time_zone != m.time_zone
            || p.title != m.title
            || p.status != m.status
            || old_halls != new_halls;
        let sequence = p.sequence + i32::from(changed);
        if sequence == m.sequence {
            return Ok(m);
        }
        let mut am: conference::ActiveModel = m.into();
        am.sequence = Set(sequence);
        Ok(am.update(db).await?)
    }

    async fn outputs(
        db: &impl ConnectionTrait,
        models: Vec<conference::Model>,
    ) -> Result<Vec<ConferenceOutput>> {
        let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
        let mut halls = links::load::<conference_hall::Entity>(
            db,
            conference_hall::Column::ConferenceId,
            conference_hall::Column::HallId,
            &ids,
        )
        .await?;
        Ok(models
            .into_iter()
            .map(|c| ConferenceOutput {
                hall_ids: halls.remove(&c.id).unwrap_or_default(),
                conference: c,
            })
            .collect())
    }

    fn filter(
        sel: Select<conference::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<conference::Entity>, FieldError> {
        let instant = |v: &str| {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| {
                    FieldError::new(
                        name,
                        "invalid_instant",
                        format!("Tham số «{name}» phải là thời điểm RFC 3339."),
                    )
                })
        };
        match name {
            "plan" => filter_id(sel, conference::Column::PlanId, name, value),
            "organiser" => filter_id(sel, conference::Column::OrganiserUnitId, name, value),
            "status" => {
                filter_enum::<_, ConferenceStatus>(sel, conference::Column::Status, name, value)
            }
            "from" => Ok(sel.filter(conference::Column::EndsAt.gt(instant(value)?))),
            "to" => Ok(sel.filter(conference::Column::StartsAt.lt(instant(value)?))),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    async fn owners_of_input(
        _db: &impl ConnectionTrait,
        _role: Role,
        i: &ConferenceInput,
    ) -> Result<Vec<i64>> {
        Ok(vec![i.organiser_unit_id])
    }

    async fn owners_of_model(
        _db: &impl ConnectionTrait,
        _role: Role,
        m: &conference::Model,
    ) -> Result<Vec<i64>> {
        Ok(vec![m.organiser_unit_id])
    }
}

/// Holds conferences `ids` for the rest of the caller's transaction (PostgreSQL: `FOR
/// SHARE`, in id order; nothing on SQLite, whose one writer at a time serialises writes).
///
/// A write of a conference's child rows (its agenda, rules, bridge points, delegates, a
/// reply) holds the conference first: a sync of it (`FOR UPDATE`), a change of it or its
/// deletion ([`lock`]) then runs wholly before or wholly after the write. Without it, the
/// write's child rows and the conference's row were locked in either order by one or the
/// other (a delegate edited while its conference is deleted and the delete's cascade
/// reaches the delegate; an edit, a reply and a sync each holding what the next needs),
/// and PostgreSQL ended such deadlocks by failing one of them.
pub(crate) async fn hold(db: &impl ConnectionTrait, ids: &[i64]) -> Result<()> {
    use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
    if ids.is_empty() || !crate::store::is_postgres(db) {
        return Ok(());
    }
    let _: Vec<i64> = conference::Entity::find()
        .select_only()
        .column(conference::Column::Id)
        .filter(conference::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(conference::Column::Id)
        .lock_shared()
        .into_tuple()
        .all(db)
        .await?;
    Ok(())
}

/// Locks conference `id` for the rest of the caller's transaction and reads it afresh
/// (`None` when it is gone). The row is updated to itself: on PostgreSQL that takes its
/// row lock (a sync of it, or another change of it, waits or has finished); on SQLite it
/// is the transaction's first write, so the transaction holds the write lock before it
/// reads (a transaction that reads first and writes later fails when another writer
/// commits in between).
pub(crate) async fn lock(db: &impl ConnectionTrait, id: i64) -> Result<Option<conference::Model>> {
    use sea_orm::EntityTrait;
    conference::Entity::update_many()
        .col_expr(
            conference::Column::UpdatedAt,
            sea_orm::sea_query::Expr::col(conference::Column::UpdatedAt),
        )
        .filter(conference::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(conference::Entity::find_by_id(id).one(db).await?)
}

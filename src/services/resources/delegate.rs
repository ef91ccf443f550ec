//! Delegates: a person invited to a conference for a unit, at a hall, a bridge point or
//! online, with their reply.
use sea_orm::{ConnectionTrait, EntityTrait, NotSet, Select, Set};
use serde::Deserialize;
use utoipa::ToSchema;

use super::bridge_point::coordinator_of;
use super::{id_key, organiser_of};
use crate::domain::kinds::{DelegateRole, Reply, Role, Venue};
use crate::domain::validate::{FieldError, Validator};
use crate::error::Result;
use crate::services::crud::{
    DistrictAccess, Filter, Resource, filter_enum, filter_id, unknown_filter,
};
use crate::services::links::check_ref;
use crate::store::{attendance_rule, bridge_point, conference, delegate, hall, person, unit};

fn default_role() -> DelegateRole {
    DelegateRole::ReqParticipant
}

fn default_reply() -> Reply {
    Reply::NeedsAction
}

/// Create or replace a delegate.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegateInput {
    pub conference_id: i64,
    pub person_id: i64,
    /// The unit the delegate represents.
    pub unit_id: i64,
    /// The rule under which the unit was invited.
    #[serde(default)]
    pub attendance_rule_id: Option<i64>,
    pub venue: Venue,
    /// Required for `venue = hall`.
    #[serde(default)]
    pub hall_id: Option<i64>,
    /// Required for `venue = bridge_point`; a bridge point of the same conference.
    #[serde(default)]
    pub bridge_point_id: Option<i64>,
    #[serde(default = "default_role")]
    pub role: DelegateRole,
    #[serde(default = "default_reply")]
    pub reply: Reply,
}

/// Delegates.
pub struct Delegates;

impl Resource for Delegates {
    type Entity = delegate::Entity;
    type Input = DelegateInput;
    type Output = delegate::Model;
    const NAME: &'static str = "delegate";
    const PATH: &'static str = "delegates";
    const LABEL: &'static str = "đại biểu";
    const DISTRICT: DistrictAccess = DistrictAccess::Scoped;
    const FILTERS: &'static [Filter] = &[
        Filter {
            name: "conference",
            description: "delegates of this conference id",
        },
        Filter {
            name: "unit",
            description: "delegates of this unit id",
        },
        Filter {
            name: "bridge_point",
            description: "delegates at this bridge point id",
        },
        Filter {
            name: "person",
            description: "delegations of this person id",
        },
        Filter {
            name: "reply",
            description: "needs_action, accepted, declined or tentative",
        },
    ];

    id_key!(delegate);

    /// Nominations are counted against quotas: one at a time per conference.
    const SERIAL: bool = true;

    async fn check_in_transaction(
        db: &impl ConnectionTrait,
        input: &DelegateInput,
        existing: Option<&delegate::Model>,
    ) -> Result<()> {
        crate::services::nominations::check_quota(db, input, existing).await
    }

    fn conference_of(m: &crate::store::delegate::Model) -> Option<i64> {
        Some(m.conference_id)
    }

    fn conference_of_input(i: &DelegateInput) -> Option<i64> {
        Some(i.conference_id)
    }

    async fn touched(
        _db: &impl ConnectionTrait,
        m: &crate::store::delegate::Model,
    ) -> Result<crate::services::ledger::Touched> {
        Ok(crate::services::ledger::Touched::Conferences(vec![
            m.conference_id,
        ]))
    }

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut DelegateInput,
        v: &mut Validator,
        _: Option<&delegate::Model>,
    ) -> Result<()> {
        check_ref::<conference::Entity>(
            db,
            v,
            "conference_id",
            conference::Column::Id,
            Some(i.conference_id),
            "hội nghị",
        )
        .await?;
        check_ref::<person::Entity>(
            db,
            v,
            "person_id",
            person::Column::Id,
            Some(i.person_id),
            "người",
        )
        .await?;
        check_ref::<unit::Entity>(
            db,
            v,
            "unit_id",
            unit::Column::Id,
            Some(i.unit_id),
            "đơn vị",
        )
        .await?;
        match (i.venue, i.hall_id, i.bridge_point_id) {
            (Venue::Hall, Some(_), None)
            | (Venue::BridgePoint, None, Some(_))
            | (Venue::Online, None, None) => {}
            (Venue::Hall, _, _) => v.error(
                "hall_id",
                "venue_mismatch",
                "Đại biểu dự tại hội trường cần hall_id và không có bridge_point_id.",
            ),
            (Venue::BridgePoint, _, _) => v.error(
                "bridge_point_id",
                "venue_mismatch",
                "Đại biểu dự tại điểm cầu cần bridge_point_id và không có hall_id.",
            ),
            (Venue::Online, _, _) => v.error(
                "venue",
                "venue_mismatch",
                "Đại biểu dự trực tuyến cá nhân không có hội trường hay điểm cầu.",
            ),
        }
        check_ref::<hall::Entity>(db, v, "hall_id", hall::Column::Id, i.hall_id, "hội trường")
            .await?;
        if let Some(b) = i.bridge_point_id {
            match bridge_point::Entity::find_by_id(b).one(db).await? {
                None => v.error(
                    "bridge_point_id",
                    "not_found",
                    format!("Không có điểm cầu mã {b}."),
                ),
                Some(p) if p.conference_id != i.conference_id => v.error(
                    "bridge_point_id",
                    "other_conference",
                    "Điểm cầu này thuộc một hội nghị khác.",
                ),
                Some(_) => {}
            }
        }
        if let Some(r) = i.attendance_rule_id {
            match attendance_rule::Entity::find_by_id(r).one(db).await? {
                None => v.error(
                    "attendance_rule_id",
                    "not_found",
                    format!("Không có thành phần tham dự mã {r}."),
                ),
                Some(rule) if rule.conference_id != i.conference_id => v.error(
                    "attendance_rule_id",
                    "other_conference",
                    "Thành phần tham dự này thuộc một hội nghị khác.",
                ),
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn active(i: &DelegateInput, now: chrono::NaiveDateTime) -> delegate::ActiveModel {
        delegate::ActiveModel {
            id: NotSet,
            conference_id: Set(i.conference_id),
            person_id: Set(i.person_id),
            unit_id: Set(i.unit_id),
            attendance_rule_id: Set(i.attendance_rule_id),
            venue: Set(i.venue),
            hall_id: Set(i.hall_id),
            bridge_point_id: Set(i.bridge_point_id),
            role: Set(i.role),
            reply: Set(i.reply),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }

    async fn outputs(
        _db: &impl ConnectionTrait,
        models: Vec<delegate::Model>,
    ) -> Result<Vec<delegate::Model>> {
        Ok(models)
    }

    fn filter(
        sel: Select<delegate::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<delegate::Entity>, FieldError> {
        match name {
            "conference" => filter_id(sel, delegate::Column::ConferenceId, name, value),
            "unit" => filter_id(sel, delegate::Column::UnitId, name, value),
            "bridge_point" => filter_id(sel, delegate::Column::BridgePointId, name, value),
            "person" => filter_id(sel, delegate::Column::PersonId, name, value),
            "reply" => filter_enum::<_, Reply>(sel, delegate::Column::Reply, name, value),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    async fn owners_of_input(
        db: &impl ConnectionTrait,
        role: Role,
        i: &DelegateInput,
    ) -> Result<Vec<i64>> {
        owners(db, role, i.conference_id, i.unit_id, i.bridge_point_id).await
    }

    async fn owners_of_model(
        db: &impl ConnectionTrait,
        role: Role,
        m: &delegate::Model,
    ) -> Result<Vec<i64>> {
        owners(db, role, m.conference_id, m.unit_id, m.bridge_point_id).await
    }

    fn scope_column() -> Option<delegate::Column> {
        Some(delegate::Column::UnitId)
    }

    fn scope_value(m: &delegate::Model) -> Option<i64> {
        Some(m.unit_id)
    }
}

/// Staff act through the organiser; a district office needs the delegate's unit and
/// bridge point's coordinator in its area.
async fn owners(
    db: &impl ConnectionTrait,
    role: Role,
    conference_id: i64,
    unit_id: i64,
    bridge_point_id: Option<i64>,
) -> Result<Vec<i64>> {
    Ok(match role {
        Role::DistrictOffice => {
            let mut owners = vec![unit_id];
            if let Some(b) = bridge_point_id {
                owners.extend(coordinator_of(db, b).await?);
            }
            owners
        }
        _ => organiser_of(db, conference_id).await?,
    })
}

//! Bridge points (điểm cầu): a unit hosts an online site of a conference, a coordinating
//! unit (the district office) manages it, several units attend there.
use sea_orm::{ConnectionTrait, EntityTrait, NotSet, Select, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{id_key, organiser_of};
use crate::domain::kinds::Role;
use crate::domain::validate::{FieldError, Validator};
use crate::error::Result;
use crate::services::crud::{DistrictAccess, Filter, Resource, filter_id, unknown_filter};
use crate::services::links::{self, check_ref, check_refs, dedup};
use crate::store::{bridge_point, bridge_point_unit, conference, plan, unit};

/// Create or replace a bridge point with its attending units.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BridgePointInput {
    pub conference_id: i64,
    /// The plan that set it up (a district plan), if any.
    #[serde(default)]
    pub plan_id: Option<i64>,
    /// Order in the bridge-point table.
    #[serde(default)]
    pub position: i32,
    pub name: String,
    pub host_unit_id: i64,
    /// The office that manages it (Phòng GDĐT, or a commune since 07/2025).
    pub coordinating_unit_id: i64,
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub capacity: Option<i32>,
    /// Technical contact: gets the join link and passcode.
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
    #[serde(default)]
    pub join_url: Option<String>,
    #[serde(default)]
    pub join_passcode: Option<String>,
    /// The units attending here.
    #[serde(default)]
    pub unit_ids: Vec<i64>,
}

/// A bridge point with its attending units.
#[derive(Debug, Serialize, ToSchema)]
pub struct BridgePointOutput {
    #[serde(flatten)]
    pub bridge_point: bridge_point::Model,
    pub unit_ids: Vec<i64>,
}

/// Bridge points.
pub struct BridgePoints;

impl Resource for BridgePoints {
    type Entity = bridge_point::Entity;
    type Input = BridgePointInput;
    type Output = BridgePointOutput;
    const NAME: &'static str = "bridge_point";
    const ORDER: &'static [&'static str] = &["conference_id", "position", "id"];
    const PATH: &'static str = "bridge-points";
    const LABEL: &'static str = "điểm cầu";
    const DISTRICT: DistrictAccess = DistrictAccess::Scoped;
    const FILTERS: &'static [Filter] = &[
        Filter {
            name: "conference",
            description: "bridge points of this conference id",
        },
        Filter {
            name: "plan",
            description: "bridge points set up by this plan id",
        },
        Filter {
            name: "coordinator",
            description: "bridge points managed by this unit id",
        },
        Filter {
            name: "host",
            description: "bridge points hosted by this unit id",
        },
    ];

    id_key!(bridge_point);

    fn conference_of(m: &crate::store::bridge_point::Model) -> Option<i64> {
        Some(m.conference_id)
    }

    fn conference_of_input(i: &BridgePointInput) -> Option<i64> {
        Some(i.conference_id)
    }

    async fn touched(
        _db: &impl ConnectionTrait,
        m: &crate::store::bridge_point::Model,
    ) -> Result<crate::services::ledger::Touched> {
        Ok(crate::services::ledger::Touched::Conferences(vec![
            m.conference_id,
        ]))
    }

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut BridgePointInput,
        v: &mut Validator,
        _: Option<&bridge_point::Model>,
    ) -> Result<()> {
        v.name("name", &mut i.name);
        v.opt_name("room", &mut i.room);
        v.opt_name("address", &mut i.address);
        v.opt_at_least("capacity", i.capacity, 1);
        v.opt_name("contact_name", &mut i.contact_name);
        v.opt_name("contact_phone", &mut i.contact_phone);
        v.opt_email("contact_email", &mut i.contact_email);
        v.opt_url("join_url", &mut i.join_url);
        v.opt_name("join_passcode", &mut i.join_passcode);
        dedup(&mut i.unit_ids);
        check_ref::<conference::Entity>(
            db,
            v,
            "conference_id",
            conference::Column::Id,
            Some(i.conference_id),
            "hội nghị",
        )
        .await?;
        check_ref::<plan::Entity>(db, v, "plan_id", plan::Column::Id, i.plan_id, "kế hoạch")
            .await?;
        check_ref::<unit::Entity>(
            db,
            v,
            "host_unit_id",
            unit::Column::Id,
            Some(i.host_unit_id),
            "đơn vị",
        )
        .await?;
        check_ref::<unit::Entity>(
            db,
            v,
            "coordinating_unit_id",
            unit::Column::Id,
            Some(i.coordinating_unit_id),
            "đơn vị",
        )
        .await?;
        check_refs::<unit::Entity>(
            db,
            v,
            "unit_ids",
            unit::Column::Id,
            &i.unit_ids,
            "đơn vị",
            true,
        )
        .await
    }

    fn active(i: &BridgePointInput, now: chrono::NaiveDateTime) -> bridge_point::ActiveModel {
        bridge_point::ActiveModel {
            id: NotSet,
            conference_id: Set(i.conference_id),
            plan_id: Set(i.plan_id),
            position: Set(i.position),
            name: Set(i.name.clone()),
            host_unit_id: Set(i.host_unit_id),
            coordinating_unit_id: Set(i.coordinating_unit_id),
            room: Set(i.room.clone()),
            address: Set(i.address.clone()),
            capacity: Set(i.capacity),
            contact_name: Set(i.contact_name.clone()),
            contact_phone: Set(i.contact_phone.clone()),
            contact_email: Set(i.contact_email.clone()),
            join_url: Set(i.join_url.clone()),
            join_passcode: Set(i.join_passcode.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }

    async fn after_write(
        db: &impl ConnectionTrait,
        m: bridge_point::Model,
        i: &BridgePointInput,
        _previous: Option<&bridge_point::Model>,
    ) -> Result<bridge_point::Model> {
        links::replace::<bridge_point_unit::Entity, _>(
            db,
            bridge_point_unit::Column::BridgePointId,
            m.id,
            &i.unit_ids,
            |u| bridge_point_unit::ActiveModel {
                bridge_point_id: Set(m.id),
                unit_id: Set(u),
            },
        )
        .await?;
        Ok(m)
    }

    async fn outputs(
        db: &impl ConnectionTrait,
        models: Vec<bridge_point::Model>,
    ) -> Result<Vec<BridgePointOutput>> {
        let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
        let mut units = links::load::<bridge_point_unit::Entity>(
            db,
            bridge_point_unit::Column::BridgePointId,
            bridge_point_unit::Column::UnitId,
            &ids,
        )
        .await?;
        Ok(models
            .into_iter()
            .map(|bridge_point| BridgePointOutput {
                unit_ids: units.remove(&bridge_point.id).unwrap_or_default(),
                bridge_point,
            })
            .collect())
    }

    fn filter(
        sel: Select<bridge_point::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<bridge_point::Entity>, FieldError> {
        match name {
            "conference" => filter_id(sel, bridge_point::Column::ConferenceId, name, value),
            "plan" => filter_id(sel, bridge_point::Column::PlanId, name, value),
            "coordinator" => filter_id(sel, bridge_point::Column::CoordinatingUnitId, name, value),
            "host" => filter_id(sel, bridge_point::Column::HostUnitId, name, value),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    /// Department staff act through the conference's organiser; a district office must
    /// have the coordinating unit, the host and every attending unit in its area.
    async fn owners_of_input(
        db: &impl ConnectionTrait,
        role: Role,
        i: &BridgePointInput,
    ) -> Result<Vec<i64>> {
        Ok(match role {
            Role::DistrictOffice => [i.coordinating_unit_id, i.host_unit_id]
                .into_iter()
                .chain(i.unit_ids.iter().copied())
                .collect(),
            _ => organiser_of(db, i.conference_id).await?,
        })
    }

    async fn owners_of_model(
        db: &impl ConnectionTrait,
        role: Role,
        m: &bridge_point::Model,
    ) -> Result<Vec<i64>> {
        Ok(match role {
            Role::DistrictOffice => {
                let units = links::load::<bridge_point_unit::Entity>(
                    db,
                    bridge_point_unit::Column::BridgePointId,
                    bridge_point_unit::Column::UnitId,
                    &[m.id],
                )
                .await?;
                [m.coordinating_unit_id, m.host_unit_id]
                    .into_iter()
                    .chain(units.into_values().flatten())
                    .collect()
            }
            _ => organiser_of(db, m.conference_id).await?,
        })
    }

    fn scope_column() -> Option<bridge_point::Column> {
        Some(bridge_point::Column::CoordinatingUnitId)
    }

    fn scope_value(m: &bridge_point::Model) -> Option<i64> {
        Some(m.coordinating_unit_id)
    }
}

/// The coordinating unit of a bridge point.
pub(crate) async fn coordinator_of(db: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    Ok(bridge_point::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|b| b.coordinating_unit_id))
}

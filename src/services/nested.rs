//! Reads a client needs in one call: a conference with its agenda, speakers, halls,
//! bridge points and rules.
use std::collections::BTreeSet;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::Result;
use crate::services::auth::Principal;
use crate::services::crud::{self, Resource};
use crate::services::resources::agenda_item::{AgendaItemOutput, AgendaItems};
use crate::services::resources::attendance_rule::{AttendanceRuleOutput, AttendanceRules};
use crate::services::resources::bridge_point::{BridgePointOutput, BridgePoints};
use crate::services::resources::conference::{ConferenceOutput, Conferences};
use crate::store::{agenda_item, attendance_rule, bridge_point, hall, speaker};

/// A conference and everything inside it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConferenceDetail {
    #[serde(flatten)]
    pub conference: ConferenceOutput,
    pub halls: Vec<hall::Model>,
    pub agenda: Vec<AgendaItemOutput>,
    /// The speakers of the agenda, each once.
    pub speakers: Vec<speaker::Model>,
    pub bridge_points: Vec<BridgePointOutput>,
    pub attendance_rules: Vec<AttendanceRuleOutput>,
}

/// Loads a conference with its agenda, speakers, halls, bridge points and rules. A
/// district office sees only the bridge points of its area.
pub async fn conference_detail(
    db: &sea_orm::DatabaseConnection,
    p: &Principal,
    id: i64,
) -> Result<ConferenceDetail> {
    let conference = crud::get::<Conferences>(db, p, id).await?;
    let halls = hall::Entity::find()
        .filter(hall::Column::Id.is_in(conference.hall_ids.clone()))
        .order_by_asc(hall::Column::Id)
        .all(db)
        .await?;
    let items = crate::services::crud::order::<AgendaItems>(
        agenda_item::Entity::find().filter(agenda_item::Column::ConferenceId.eq(id)),
    )
    .all(db)
    .await?;
    let agenda = AgendaItems::outputs(db, items).await?;
    let speaker_ids: BTreeSet<i64> = agenda
        .iter()
        .flat_map(|a| a.speaker_ids.iter().copied())
        .collect();
    let speakers = speaker::Entity::find()
        .filter(speaker::Column::Id.is_in(speaker_ids))
        .order_by_asc(speaker::Column::Id)
        .all(db)
        .await?;
    let mut points = crate::services::crud::order::<BridgePoints>(
        bridge_point::Entity::find().filter(bridge_point::Column::ConferenceId.eq(id)),
    );
    if p.role == crate::domain::kinds::Role::DistrictOffice {
        points = points
            .filter(bridge_point::Column::CoordinatingUnitId.in_subquery(p.scope.unit_ids_query()));
    }
    let bridge_points = BridgePoints::outputs(db, points.all(db).await?).await?;
    let rules = crate::services::crud::order::<AttendanceRules>(
        attendance_rule::Entity::find().filter(attendance_rule::Column::ConferenceId.eq(id)),
    )
    .all(db)
    .await?;
    let attendance_rules = AttendanceRules::outputs(db, rules).await?;
    Ok(ConferenceDetail {
        conference,
        halls,
        agenda,
        speakers,
        bridge_points,
        attendance_rules,
    })
}

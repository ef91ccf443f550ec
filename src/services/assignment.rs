//! Auto-assignment: every unit a conference's bridge-point rules invite, placed at a
//! bridge point (điểm cầu) — the point in its own commune first, then the point that
//! serves its commune, then the nearest by the administrative tree — within capacities,
//! keeping every assignment already made, the same for the same input.
//!
//! The administrative tree is the tree of people's committees (UBND tỉnh → huyện → xã,
//! or tỉnh → xã since 07/2025). A unit's *area* is itself when it is a people's committee,
//! otherwise its `area_unit_id`; a bridge point's area is its host's. For each unit, in
//! a fixed order (people's committees first, so that their communes' schools follow
//! them; then by area and id), the candidates are the points in the same *region* (the
//! district of its area, or the province where there are no districts), ranked by:
//!
//! 1. the point is hosted in the unit's own area (a school of its commune hosts it);
//! 2. units of the unit's commune attend the point already (a point serving two
//!    communes: the second commune's people's committee and schools go where the
//!    first of them was placed, by hand or by this run);
//! 3. the tree distance between the two areas (up to the common ancestor and down),
//!    then the point's position and id.
//!
//! The first candidate with room takes it (seats: the sum of the unit's quotas under the
//! rules, at least one; a unit already placed takes one seat or its quotas; no capacity
//! is no limit). A unit with no candidate is reported `no_point_in_area`; one whose every
//! candidate is full, `capacity_full`. [`run`] computes it inside a transaction that
//! locks the conference first, and applies it there when asked: a preview and the apply
//! that follows compute the same result on the same data.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::kinds::{AreaLevel, UnitKind, Venue};
use crate::error::Result;
use crate::services::auth::Principal;
use crate::services::checks::required_units;
use crate::services::ledger::{self, Touched};
use crate::services::resources::conference as conferences;
use crate::store::{attendance_rule, bridge_point, bridge_point_unit, unit};

/// `POST /api/v1/conferences/{id}/auto-assign`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoAssign {
    /// Write the assignments (one transaction); otherwise only say what would be done.
    #[serde(default)]
    pub apply: bool,
}

/// Why a unit went to its point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// The point is hosted in the unit's own commune (or district).
    OwnArea,
    /// Units of the unit's commune attend the point.
    CommuneServed,
    /// The nearest point by the administrative tree with room.
    Nearest,
}

/// Why a unit was left unassigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No bridge point of the conference in the unit's district (or province).
    NoPointInArea,
    /// Every point in its area is full.
    CapacityFull,
}

/// A unit placed by this run.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Placed {
    pub unit_id: i64,
    pub unit_name: String,
    pub bridge_point_id: i64,
    pub bridge_point_name: String,
    pub why: Why,
    /// Tree distance between the unit's area and the point's (0: the same).
    pub distance: u32,
}

/// A unit the run could not place.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Unplaced {
    pub unit_id: i64,
    pub unit_name: String,
    pub reason: Reason,
    /// In Vietnamese, for the user.
    pub message: String,
}

/// What an auto-assignment did, or would do.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Assignment {
    pub conference_id: i64,
    /// Whether the assignments were written.
    pub applied: bool,
    /// Units the rules invite to a bridge point (in the caller's area).
    pub required: usize,
    /// Of those, already at a point (kept as they are).
    pub kept: usize,
    pub assigned: Vec<Placed>,
    pub unassigned: Vec<Unplaced>,
}

/// Checks who may run it, then computes (and with `apply`, writes) the assignment in
/// one transaction that locks the conference first. A district office places only the
/// units of its area, at the points it coordinates.
pub async fn run(
    db: &DatabaseConnection,
    p: &Principal,
    conference_id: i64,
    input: &AutoAssign,
) -> Result<Assignment> {
    crate::services::nominations::authorize_area_write(db, p, conference_id).await?;
    let txn = db.begin().await?;
    conferences::lock(&txn, conference_id).await?;
    let scope = crate::services::nominations::placeable(&txn, p).await?;
    let plan = compute(&txn, conference_id, scope.as_ref()).await?;
    if input.apply && !plan.assigned.is_empty() {
        // Two values a row: well under SQLite's 32,766 parameters a statement.
        for chunk in plan.assigned.chunks(10_000) {
            bridge_point_unit::Entity::insert_many(chunk.iter().map(|a| {
                bridge_point_unit::ActiveModel {
                    bridge_point_id: Set(a.bridge_point_id),
                    unit_id: Set(a.unit_id),
                }
            }))
            .exec(&txn)
            .await?;
        }
        ledger::mark(&txn, Touched::Conferences(vec![conference_id])).await?;
        txn.commit().await?;
        tracing::info!(
            conference_id,
            assigned = plan.assigned.len(),
            unassigned = plan.unassigned.len(),
            user = %p.login,
            "bridge points auto-assigned"
        );
    } else {
        txn.rollback().await?;
    }
    Ok(Assignment {
        applied: input.apply && !plan.assigned.is_empty(),
        ..plan
    })
}

/// A committee of the administrative tree: its ancestors (root first, itself last).
pub(crate) struct Area {
    pub chain: Vec<i64>,
    /// The district of the chain, or its root where there are no districts.
    pub region: i64,
}

/// The committees of `units`' areas and their ancestors, and each area's chain and
/// region.
pub(crate) async fn areas_of(
    db: &impl ConnectionTrait,
    units: &HashMap<i64, UnitRow>,
) -> Result<(HashMap<i64, UnitRow>, HashMap<i64, Area>)> {
    let area_ids: BTreeSet<i64> = units.values().filter_map(area_of).collect();
    let mut committees = load_units(db, &area_ids).await?;
    let ancestors: BTreeSet<i64> = committees
        .values()
        .flat_map(|c| path_ids(&c.path))
        .filter(|id| !committees.contains_key(id))
        .collect();
    committees.extend(load_units(db, &ancestors).await?);
    let areas: HashMap<i64, Area> = area_ids
        .iter()
        .filter_map(|&a| {
            let c = committees.get(&a)?;
            // The chain of committees above and including it (other units on the path,
            // if any, are not areas).
            let chain: Vec<i64> = path_ids(&c.path)
                .into_iter()
                .filter(|id| {
                    committees
                        .get(id)
                        .is_some_and(|u| u.kind == UnitKind::PeopleCommittee)
                })
                .collect();
            let region = chain
                .iter()
                .copied()
                .find(|id| {
                    committees
                        .get(id)
                        .is_some_and(|u| u.area_level == Some(AreaLevel::District))
                })
                .or_else(|| chain.first().copied())?;
            Some((a, Area { chain, region }))
        })
        .collect();
    Ok((committees, areas))
}

/// A unit's area: itself for a people's committee, else the committee of its territory.
pub(crate) fn area_of(u: &UnitRow) -> Option<i64> {
    if u.kind == UnitKind::PeopleCommittee {
        Some(u.id)
    } else {
        u.area_unit_id
    }
}

/// Ids along a materialised path (`/1/9/37/` → 1, 9, 37).
fn path_ids(path: &str) -> Vec<i64> {
    path.split('/').filter_map(|s| s.parse().ok()).collect()
}

/// Tree distance between two areas: up from one to their deepest common ancestor and
/// down to the other.
fn distance(a: &[i64], b: &[i64]) -> u32 {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    (a.len() - common + b.len() - common) as u32
}

/// The assignment of conference `id` as the data stands (`scope`: a district office's
/// units; it places them at the points it coordinates).
pub async fn compute(
    db: &impl ConnectionTrait,
    conference_id: i64,
    scope: Option<&BTreeSet<i64>>,
) -> Result<Assignment> {
    // Units the bridge-point rules invite, with their seats.
    let rules = attendance_rule::Entity::find()
        .filter(attendance_rule::Column::ConferenceId.eq(conference_id))
        .filter(attendance_rule::Column::Venue.eq(Venue::BridgePoint))
        .order_by_asc(attendance_rule::Column::Position)
        .order_by_asc(attendance_rule::Column::Id)
        .all(db)
        .await?;
    let mut seats: BTreeMap<i64, i64> = BTreeMap::new();
    for r in &rules {
        for u in required_units(db, r).await? {
            if scope.is_none_or(|s| s.contains(&u)) {
                *seats.entry(u).or_insert(0) += i64::from(r.quota.unwrap_or(0).max(0));
            }
        }
    }
    for s in seats.values_mut() {
        *s = (*s).max(1);
    }
    let points = bridge_point::Entity::find()
        .filter(bridge_point::Column::ConferenceId.eq(conference_id))
        .order_by_asc(bridge_point::Column::Position)
        .order_by_asc(bridge_point::Column::Id)
        .all(db)
        .await?;
    let point_ids: Vec<i64> = points.iter().map(|b| b.id).collect();
    let attending: Vec<(i64, i64)> = crate::services::links::load::<bridge_point_unit::Entity>(
        db,
        bridge_point_unit::Column::BridgePointId,
        bridge_point_unit::Column::UnitId,
        &point_ids,
    )
    .await?
    .into_iter()
    .flat_map(|(b, units)| units.into_iter().map(move |u| (b, u)))
    .collect();
    let placed_units: BTreeSet<i64> = attending.iter().map(|(_, u)| *u).collect();

    // The units involved (invited, hosts, attending) and the committees of their areas.
    let mut ids: BTreeSet<i64> = seats.keys().copied().collect();
    ids.extend(points.iter().map(|b| b.host_unit_id));
    ids.extend(placed_units.iter().copied());
    let units = load_units(db, &ids).await?;
    let (committees, areas) = areas_of(db, &units).await?;

    // The points a caller may fill, with their areas, room and the communes attending.
    let coordinated =
        |b: &bridge_point::Model| scope.is_none_or(|s| s.contains(&b.coordinating_unit_id));
    struct Point<'a> {
        model: &'a bridge_point::Model,
        area: Option<i64>,
        used: i64,
    }
    let mut pts: Vec<Point> = points
        .iter()
        .map(|b| Point {
            model: b,
            area: units.get(&b.host_unit_id).and_then(area_of),
            used: 0,
        })
        .collect();
    let index: HashMap<i64, usize> = pts
        .iter()
        .enumerate()
        .map(|(i, p)| (p.model.id, i))
        .collect();
    // area → the points its units attend: where its commune is served.
    let mut served: HashMap<i64, BTreeSet<usize>> = HashMap::new();
    for (b, u) in &attending {
        if let Some(&i) = index.get(b) {
            pts[i].used += seats.get(u).copied().unwrap_or(1);
            if let Some(area) = units.get(u).and_then(area_of) {
                served.entry(area).or_default().insert(i);
            }
        }
    }
    let mut by_region: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, p) in pts.iter().enumerate() {
        if let Some(area) = p.area.and_then(|a| areas.get(&a)) {
            if coordinated(p.model) {
                by_region.entry(area.region).or_default().push(i);
            }
        }
    }

    // People's committees first (their communes' schools follow them), then by area.
    let mut todo: Vec<&UnitRow> = seats
        .keys()
        .filter(|u| !placed_units.contains(u))
        .filter_map(|u| units.get(u))
        .collect();
    todo.sort_by_cached_key(|u| {
        (
            u.kind != UnitKind::PeopleCommittee,
            area_of(u)
                .and_then(|a| committees.get(&a))
                .map(|c| c.path.clone()),
            u.id,
        )
    });
    let mut assigned = Vec::new();
    let mut unassigned = Vec::new();
    for u in todo {
        let need = seats.get(&u.id).copied().unwrap_or(1);
        let area_id = area_of(u);
        let area = area_id.and_then(|a| areas.get(&a));
        let candidates = area.and_then(|a| by_region.get(&a.region));
        let (Some(area_id), Some(area), Some(candidates)) = (area_id, area, candidates) else {
            unassigned.push(Unplaced {
                unit_id: u.id,
                unit_name: u.name.clone(),
                reason: Reason::NoPointInArea,
                message: format!(
                    "Đơn vị «{}» chưa được xếp điểm cầu: không có điểm cầu nào của hội nghị \
                     trên địa bàn của đơn vị.",
                    u.name
                ),
            });
            continue;
        };
        let commune_points = served.get(&area_id);
        let best = candidates
            .iter()
            .filter(|&&i| {
                pts[i]
                    .model
                    .capacity
                    .is_none_or(|cap| pts[i].used + need <= i64::from(cap))
            })
            .map(|&i| {
                let p = &pts[i];
                let theirs = p.area.and_then(|a| areas.get(&a));
                let d = theirs.map_or(u32::MAX, |t| distance(&area.chain, &t.chain));
                let why = if p.area == Some(area_id) {
                    Why::OwnArea
                } else if commune_points.is_some_and(|s| s.contains(&i)) {
                    Why::CommuneServed
                } else {
                    Why::Nearest
                };
                ((why, d, p.model.position, p.model.id), i)
            })
            .min();
        match best {
            Some(((why, d, _, _), i)) => {
                pts[i].used += need;
                served.entry(area_id).or_default().insert(i);
                assigned.push(Placed {
                    unit_id: u.id,
                    unit_name: u.name.clone(),
                    bridge_point_id: pts[i].model.id,
                    bridge_point_name: pts[i].model.name.clone(),
                    why,
                    distance: d,
                });
            }
            None => unassigned.push(Unplaced {
                unit_id: u.id,
                unit_name: u.name.clone(),
                reason: Reason::CapacityFull,
                message: format!(
                    "Đơn vị «{}» chưa được xếp điểm cầu: các điểm cầu trên địa bàn đã đủ chỗ \
                     (cần {need} chỗ).",
                    u.name
                ),
            }),
        }
    }
    Ok(Assignment {
        conference_id,
        applied: false,
        required: seats.len(),
        kept: seats.keys().filter(|u| placed_units.contains(u)).count(),
        assigned,
        unassigned,
    })
}

/// What the assignment reads of a unit.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub(crate) struct UnitRow {
    pub id: i64,
    pub name: String,
    pub kind: UnitKind,
    pub area_unit_id: Option<i64>,
    pub area_level: Option<AreaLevel>,
    pub path: String,
}

/// Units by id: in chunks of ids, or for a large share of the tree (a national
/// conference's schools) in one pass over every unit.
pub(crate) async fn load_units(
    db: &impl ConnectionTrait,
    ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, UnitRow>> {
    const ALL_AT_ONCE: usize = 5_000;
    let query = || {
        unit::Entity::find().select_only().columns([
            unit::Column::Id,
            unit::Column::Name,
            unit::Column::Kind,
            unit::Column::AreaUnitId,
            unit::Column::AreaLevel,
            unit::Column::Path,
        ])
    };
    let mut map = HashMap::with_capacity(ids.len());
    if ids.len() > ALL_AT_ONCE {
        map.extend(
            query()
                .into_model::<UnitRow>()
                .all(db)
                .await?
                .into_iter()
                .filter(|u| ids.contains(&u.id))
                .map(|u| (u.id, u)),
        );
        return Ok(map);
    }
    let ids: Vec<i64> = ids.iter().copied().collect();
    for chunk in ids.chunks(1000) {
        map.extend(
            query()
                .filter(unit::Column::Id.is_in(chunk.iter().copied()))
                .into_model::<UnitRow>()
                .all(db)
                .await?
                .into_iter()
                .map(|u| (u.id, u)),
        );
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::{distance, path_ids};

    #[test]
    fn the_tree_distance_goes_up_to_the_common_ancestor_and_down() {
        assert_eq!(path_ids("/2/40/77/"), [2, 40, 77]);
        assert_eq!(distance(&[2, 40, 77], &[2, 40, 77]), 0);
        assert_eq!(distance(&[2, 40, 77], &[2, 40]), 1);
        assert_eq!(distance(&[2, 40, 77], &[2, 40, 78]), 2);
        assert_eq!(distance(&[2, 40, 77], &[2, 41, 90]), 4);
        assert_eq!(distance(&[2, 40], &[3, 50]), 4);
    }
}

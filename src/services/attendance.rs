//! Attendance figures of a conference: per bridge point and per district, the units
//! expected (invited by the rules), the delegates nominated and their replies — as JSON
//! and as an XLSX workbook for the staff's reports.
//!
//! A unit's district is the district of its area in the administrative tree (the
//! province where there are no districts since 07/2025; [`assignment::areas_of`]); a
//! delegate counts in its unit's district, and at the bridge point where it sits.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::kinds::Role;
use crate::error::Result;
use crate::services::assignment::{self, area_of, load_units};
use crate::services::auth::Principal;
use crate::services::checks::required_units;
use crate::services::crud;
use crate::services::exports::{Cell, Table, workbook};
use crate::services::replies::ReplyCounts;
use crate::services::resources::conference::Conferences;
use crate::store::{attendance_rule, bridge_point, bridge_point_unit, delegate};

/// The figures of one bridge point.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PointFigures {
    pub bridge_point_id: i64,
    pub position: i32,
    pub name: String,
    pub district_id: Option<i64>,
    pub district_name: Option<String>,
    pub capacity: Option<i32>,
    /// Units attending it.
    pub units_attending: u64,
    /// Of those, units the rules invite.
    pub units_expected: u64,
    /// Delegates seated there.
    pub delegates: u64,
    pub replies: ReplyCounts,
}

/// The figures of one district (or province, or of units with no area).
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct DistrictFigures {
    /// None: units whose area is not known.
    pub district_id: Option<i64>,
    pub district_name: String,
    pub bridge_points: u64,
    /// Units the rules invite.
    pub units_expected: u64,
    /// Of those, units at a bridge point.
    pub units_placed: u64,
    /// Of those, units that named at least one delegate.
    pub units_nominated: u64,
    /// Delegates of the district's units.
    pub delegates: u64,
    pub replies: ReplyCounts,
}

impl DistrictFigures {
    fn add(&mut self, other: &DistrictFigures) {
        self.bridge_points += other.bridge_points;
        self.units_expected += other.units_expected;
        self.units_placed += other.units_placed;
        self.units_nominated += other.units_nominated;
        self.delegates += other.delegates;
        self.replies.accepted += other.replies.accepted;
        self.replies.declined += other.replies.declined;
        self.replies.tentative += other.replies.tentative;
        self.replies.needs_action += other.replies.needs_action;
    }
}

/// `GET /api/v1/conferences/{id}/attendance`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Figures {
    pub conference_id: i64,
    pub title: String,
    pub totals: DistrictFigures,
    pub bridge_points: Vec<PointFigures>,
    pub districts: Vec<DistrictFigures>,
}

/// The attendance figures of conference `id`; a district office sees its own area
/// (its units, the points it coordinates).
pub async fn of_conference(db: &impl ConnectionTrait, p: &Principal, id: i64) -> Result<Figures> {
    let c = crud::find::<Conferences>(db, id).await?;
    crud::authorize_read::<Conferences>(db, p, &c).await?;
    let scope: Option<BTreeSet<i64>> = if p.role == Role::DistrictOffice {
        Some(crate::services::nominations::in_scope(db, &p.scope).await?)
    } else {
        None
    };
    let inside = |u: i64| scope.as_ref().is_none_or(|s| s.contains(&u));

    let rules = attendance_rule::Entity::find()
        .filter(attendance_rule::Column::ConferenceId.eq(id))
        .all(db)
        .await?;
    let mut expected: BTreeSet<i64> = BTreeSet::new();
    for r in &rules {
        expected.extend(
            required_units(db, r)
                .await?
                .into_iter()
                .filter(|u| inside(*u)),
        );
    }
    let points: Vec<bridge_point::Model> = bridge_point::Entity::find()
        .filter(bridge_point::Column::ConferenceId.eq(id))
        .order_by_asc(bridge_point::Column::Position)
        .order_by_asc(bridge_point::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|b| inside(b.coordinating_unit_id))
        .collect();
    let point_ids: Vec<i64> = points.iter().map(|b| b.id).collect();
    let attending = crate::services::links::load::<bridge_point_unit::Entity>(
        db,
        bridge_point_unit::Column::BridgePointId,
        bridge_point_unit::Column::UnitId,
        &point_ids,
    )
    .await?;
    let placed: BTreeSet<i64> = attending.values().flatten().copied().collect();
    let delegates: Vec<delegate::Model> = delegate::Entity::find()
        .filter(delegate::Column::ConferenceId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .filter(|d| inside(d.unit_id))
        .collect();

    let mut ids: BTreeSet<i64> = expected.clone();
    ids.extend(points.iter().map(|b| b.host_unit_id));
    ids.extend(delegates.iter().map(|d| d.unit_id));
    let units = load_units(db, &ids).await?;
    let (committees, areas) = assignment::areas_of(db, &units).await?;
    let district_of = |unit: i64| -> Option<i64> {
        let area = units.get(&unit).and_then(area_of)?;
        areas.get(&area).map(|a| a.region)
    };

    let mut districts: BTreeMap<Option<i64>, DistrictFigures> = BTreeMap::new();
    let name_of = |d: Option<i64>| {
        d.and_then(|d| committees.get(&d))
            .map_or_else(|| "Chưa xác định địa bàn".to_owned(), |c| c.name.clone())
    };
    fn district(
        map: &mut BTreeMap<Option<i64>, DistrictFigures>,
        d: Option<i64>,
        name: impl FnOnce() -> String,
    ) -> &mut DistrictFigures {
        map.entry(d).or_insert_with(|| DistrictFigures {
            district_id: d,
            district_name: name(),
            ..Default::default()
        })
    }
    let nominating: BTreeSet<i64> = delegates.iter().map(|d| d.unit_id).collect();
    for &u in &expected {
        let d = district_of(u);
        let f = district(&mut districts, d, || name_of(d));
        f.units_expected += 1;
        f.units_placed += u64::from(placed.contains(&u));
        f.units_nominated += u64::from(nominating.contains(&u));
    }
    let mut seated: HashMap<i64, (u64, ReplyCounts)> = HashMap::new();
    for d in &delegates {
        let dd = district_of(d.unit_id);
        let f = district(&mut districts, dd, || name_of(dd));
        f.delegates += 1;
        f.replies.add(d.reply);
        if let Some(b) = d.bridge_point_id {
            let s = seated.entry(b).or_default();
            s.0 += 1;
            s.1.add(d.reply);
        }
    }
    let mut bridge_points = Vec::with_capacity(points.len());
    for b in &points {
        let d = district_of(b.host_unit_id);
        district(&mut districts, d, || name_of(d)).bridge_points += 1;
        let units = attending.get(&b.id).map(Vec::as_slice).unwrap_or_default();
        let (delegates, replies) = seated.remove(&b.id).unwrap_or_default();
        bridge_points.push(PointFigures {
            bridge_point_id: b.id,
            position: b.position,
            name: b.name.clone(),
            district_id: d,
            district_name: d.and_then(|d| committees.get(&d)).map(|c| c.name.clone()),
            capacity: b.capacity,
            units_attending: units.len() as u64,
            units_expected: units.iter().filter(|u| expected.contains(u)).count() as u64,
            delegates,
            replies,
        });
    }
    let mut districts: Vec<DistrictFigures> = districts.into_values().collect();
    // Districts by name (folded), the units of no known area last.
    districts.sort_by_cached_key(|d| {
        (
            d.district_id.is_none(),
            crate::domain::text::fold(&d.district_name),
        )
    });
    let mut totals = DistrictFigures {
        district_name: "Tổng cộng".to_owned(),
        ..Default::default()
    };
    for d in &districts {
        totals.add(d);
    }
    Ok(Figures {
        conference_id: id,
        title: c.title,
        totals,
        bridge_points,
        districts,
    })
}

/// The figures as an XLSX workbook: a sheet per bridge point, a sheet per district, each
/// with a totals row.
pub fn xlsx(f: &Figures) -> Result<Vec<u8>> {
    let n = |v: u64| Cell::Number(v as f64);
    let replies = |r: &ReplyCounts| [r.accepted, r.declined, r.tentative, r.needs_action].map(n);
    let reply_columns = [
        ("Tham dự", 10.0),
        ("Không tham dự", 10.0),
        ("Chưa chắc chắn", 10.0),
        ("Chưa trả lời", 10.0),
    ];
    let mut sum = DistrictFigures::default();
    let mut attending = 0;
    for p in &f.bridge_points {
        attending += p.units_attending;
        sum.units_expected += p.units_expected;
        sum.delegates += p.delegates;
        sum.replies.accepted += p.replies.accepted;
        sum.replies.declined += p.replies.declined;
        sum.replies.tentative += p.replies.tentative;
        sum.replies.needs_action += p.replies.needs_action;
    }
    let points = Table {
        sheet: "Theo điểm cầu",
        columns: [
            ("STT", 6.0),
            ("Điểm cầu", 48.0),
            ("Quận/huyện", 24.0),
            ("Sức chứa", 10.0),
            ("Đơn vị dự", 10.0),
            ("Đơn vị được mời", 12.0),
            ("Đại biểu", 10.0),
        ]
        .into_iter()
        .chain(reply_columns)
        .collect(),
        rows: f
            .bridge_points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                [
                    n(i as u64 + 1),
                    p.name.clone().into(),
                    p.district_name.clone().unwrap_or_default().into(),
                    p.capacity
                        .map_or(Cell::Text(String::new()), |c| Cell::Number(c.into())),
                    n(p.units_attending),
                    n(p.units_expected),
                    n(p.delegates),
                ]
                .into_iter()
                .chain(replies(&p.replies))
                .collect()
            })
            .collect(),
        totals: Some(
            [
                Cell::Text(String::new()),
                "Tổng cộng".into(),
                Cell::Text(String::new()),
                Cell::Text(String::new()),
                n(attending),
                n(sum.units_expected),
                n(sum.delegates),
            ]
            .into_iter()
            .chain(replies(&sum.replies))
            .collect(),
        ),
    };
    let district_row = |first: Cell, d: &DistrictFigures| -> Vec<Cell> {
        [
            first,
            d.district_name.clone().into(),
            n(d.bridge_points),
            n(d.units_expected),
            n(d.units_placed),
            n(d.units_nominated),
            n(d.delegates),
        ]
        .into_iter()
        .chain(replies(&d.replies))
        .collect()
    };
    let districts = Table {
        sheet: "Theo quận, huyện",
        columns: [
            ("STT", 6.0),
            ("Quận/huyện", 32.0),
            ("Điểm cầu", 10.0),
            ("Đơn vị được mời", 12.0),
            ("Đã xếp điểm cầu", 12.0),
            ("Đã cử đại biểu", 12.0),
            ("Đại biểu", 10.0),
        ]
        .into_iter()
        .chain(reply_columns)
        .collect(),
        rows: f
            .districts
            .iter()
            .enumerate()
            .map(|(i, d)| district_row(n(i as u64 + 1), d))
            .collect(),
        totals: Some(district_row(Cell::Text(String::new()), &f.totals)),
    };
    workbook(&[&points, &districts])
}

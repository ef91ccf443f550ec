//! `national assign`: auto-assignment at national scale (bench/README.md, "Auto-assignment").
//! Every one of the dataset's 3,321 bridge points is moved into conference 1 with no
//! attending units, and two rules invite every school and every commune's people's
//! committee (01 người/đơn vị) to a bridge point: about 40,000 units to place. Then the
//! assignment is computed (the preview) `iterations` times and applied once. The database
//! is changed: use a copy made for it.
use std::time::Instant;

use hoinghi::domain::kinds::{AreaLevel, UnitKind, Venue};
use hoinghi::services::assignment::{self, AutoAssign, Reason};
use hoinghi::services::auth::Principal;
use hoinghi::store::{self, attendance_rule, bridge_point, bridge_point_unit};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, EntityTrait, QueryFilter};

const CONFERENCE: i64 = 1;

pub async fn run(url: &str, iterations: usize) -> Result<(), String> {
    let e = |e: sea_orm::DbErr| e.to_string();
    let db = store::connect(url, 2).await.map_err(e)?;
    let t = Instant::now();
    bridge_point_unit::Entity::delete_many()
        .exec(&db)
        .await
        .map_err(e)?;
    bridge_point::Entity::update_many()
        .col_expr(bridge_point::Column::ConferenceId, Expr::value(CONFERENCE))
        .filter(sea_orm::ColumnTrait::ne(
            &bridge_point::Column::ConferenceId,
            CONFERENCE,
        ))
        .exec(&db)
        .await
        .map_err(e)?;
    let now = store::now();
    for (position, description, kind, level) in [
        (
            90,
            "Lãnh đạo UBND cấp xã (01 người/đơn vị)",
            UnitKind::PeopleCommittee,
            Some(AreaLevel::Commune),
        ),
        (
            91,
            "Đại diện các nhà trường (01 người/trường)",
            UnitKind::School,
            None,
        ),
    ] {
        attendance_rule::Entity::insert(attendance_rule::ActiveModel {
            conference_id: Set(CONFERENCE),
            position: Set(position),
            description: Set(description.to_owned()),
            venue: Set(Venue::BridgePoint),
            hall_id: Set(None),
            quota: Set(Some(1)),
            unit_kind: Set(Some(kind)),
            school_level: Set(None),
            area_level: Set(level),
            within_unit_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(&db)
        .await
        .map_err(e)?;
    }
    println!(
        "prepare (points, rules)        {:>8.3} s",
        t.elapsed().as_secs_f64()
    );

    let mut times = Vec::with_capacity(iterations);
    let mut last = None;
    for _ in 0..iterations {
        let t = Instant::now();
        let plan = assignment::compute(&db, CONFERENCE, None)
            .await
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(plan);
    }
    times.sort_by(f64::total_cmp);
    let plan = last.ok_or("no iteration")?;
    let full = plan
        .unassigned
        .iter()
        .filter(|u| u.reason == Reason::CapacityFull)
        .count();
    println!(
        "units required {}, assigned {}, unassigned {} (capacity full {full}, no point in area {})",
        plan.required,
        plan.assigned.len(),
        plan.unassigned.len(),
        plan.unassigned.len() - full
    );
    println!(
        "preview   n={iterations:<3} min {:>8.1} ms  median {:>8.1} ms  max {:>8.1} ms",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
    let t = Instant::now();
    let applied = assignment::run(
        &db,
        &Principal::operator(),
        CONFERENCE,
        &AutoAssign { apply: true },
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "apply (compute + {} rows, one transaction) {:>8.1} ms",
        applied.assigned.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    println!(
        "peak RSS: {:.1} MB",
        super::documents::peak_rss_kb() as f64 / 1024.0
    );
    Ok(())
}

//! Auto-assignment of units to bridge points, against the Thủy Nguyên plan (seed 001).
use std::collections::{BTreeMap, BTreeSet};

use crate::helpers::{TestApp, id_of};
use crate::store_test;
use hoinghi::domain::kinds::Role;
use hoinghi::store::{bridge_point, bridge_point_unit};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use crate::nominations::seeded;

/// The ids of `conference`'s bridge points.
async fn point_ids(app: &TestApp, conference: i64) -> Vec<i64> {
    bridge_point::Entity::find()
        .select_only()
        .column(bridge_point::Column::Id)
        .filter(bridge_point::Column::ConferenceId.eq(conference))
        .into_tuple()
        .all(&app.db)
        .await
        .expect("points")
}

/// unit → the points it attends in `conference`.
async fn attending(app: &TestApp, conference: i64) -> BTreeMap<i64, BTreeSet<i64>> {
    let points = point_ids(app, conference).await;
    let rows: Vec<(i64, i64)> = bridge_point_unit::Entity::find()
        .select_only()
        .columns([
            bridge_point_unit::Column::UnitId,
            bridge_point_unit::Column::BridgePointId,
        ])
        .filter(bridge_point_unit::Column::BridgePointId.is_in(points))
        .into_tuple()
        .all(&app.db)
        .await
        .expect("rows");
    let mut map: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for (u, b) in rows {
        map.entry(u).or_default().insert(b);
    }
    map
}

/// Takes `units` (all when `None`) off every point of `conference`.
async fn unassign(app: &TestApp, conference: i64, units: Option<&BTreeSet<i64>>) {
    let points = point_ids(app, conference).await;
    let mut q = bridge_point_unit::Entity::delete_many()
        .filter(bridge_point_unit::Column::BridgePointId.is_in(points));
    if let Some(u) = units {
        q = q.filter(bridge_point_unit::Column::UnitId.is_in(u.iter().copied()));
    }
    q.exec(&app.db).await.expect("unassign");
}

async fn auto_assign(app: &TestApp, conference: i64, apply: bool) -> Value {
    let (status, body) = app
        .post(
            &format!("/api/v1/conferences/{conference}/auto-assign"),
            json!({"apply": apply}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn placed(report: &Value) -> BTreeMap<i64, i64> {
    report["assigned"]
        .as_array()
        .expect("assigned")
        .iter()
        .map(|a| {
            (
                a["unit_id"].as_i64().expect("unit"),
                a["bridge_point_id"].as_i64().expect("point"),
            )
        })
        .collect()
}

store_test!(auto_assignment_reproduces_the_thuy_nguyen_plan, |app| {
    let conference = seeded(app).await;
    let seeded = attending(app, conference).await;
    unassign(app, conference, None).await;

    let preview = auto_assign(app, conference, false).await;
    assert_eq!(preview["applied"], false);
    assert!(
        attending(app, conference).await.is_empty(),
        "a preview writes nothing"
    );
    assert_eq!(preview["kept"], 0);
    let got = placed(&preview);
    // Every unit the rules send to a bridge point (district people's committees, Phòng
    // GDĐT, district associations, THPT schools) that the plans place somewhere.
    let required = preview["required"].as_u64().expect("required") as usize;
    assert!(required > 40, "{required} units required");
    let mut compared = 0;
    let mut differ = Vec::new();
    for (unit, point) in &got {
        if let Some(points) = seeded.get(unit) {
            compared += 1;
            if !points.contains(point) {
                differ.push((unit, point, points));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "placed elsewhere than in the plans: {differ:?}"
    );
    assert!(compared > 40, "{compared} compared");
    // The Thủy Nguyên plan by name: the district's units in the district hall, each
    // THPT school at the point of its commune.
    for (unit, point) in [
        ("ubnd-thuy-nguyen", "bp-dvht-tn-00"),
        ("pgddt-thuy-nguyen", "bp-dvht-tn-00"),
        ("hkh-thuy-nguyen", "bp-dvht-tn-00"),
        ("thpt-tn-thuy-son", "bp-dvht-tn-19"),
        ("thpt-tn-ly-thuong-kiet", "bp-dvht-tn-19"),
        ("thpt-tn-25-10", "bp-dvht-tn-19"),
        ("thpt-tn-le-ich-moc", "bp-dvht-tn-22"),
    ] {
        assert_eq!(
            got.get(&id_of(app, unit).await),
            Some(&id_of(app, point).await),
            "{unit}"
        );
    }
    let why: BTreeSet<&str> = preview["assigned"]
        .as_array()
        .expect("assigned")
        .iter()
        .filter_map(|a| a["why"].as_str())
        .collect();
    assert_eq!(
        why,
        BTreeSet::from(["own_area"]),
        "every point in its own area"
    );

    // Deterministic: the same input gives the same answer.
    assert_eq!(auto_assign(app, conference, false).await, preview);

    // Applied in one go; afterwards nothing is left to do and everything is kept.
    let applied = auto_assign(app, conference, true).await;
    assert_eq!(applied["applied"], true);
    assert_eq!(placed(&applied), got);
    let now = attending(app, conference).await;
    for (unit, point) in &got {
        assert_eq!(
            now.get(unit),
            Some(&BTreeSet::from([*point])),
            "unit {unit}"
        );
    }
    let again = auto_assign(app, conference, false).await;
    assert!(
        again["assigned"].as_array().expect("assigned").is_empty(),
        "{again}"
    );
    assert_eq!(again["kept"].as_u64(), Some(got.len() as u64));
});

store_test!(full_points_and_missing_points_are_reported, |app| {
    let conference = seeded(app).await;
    let seeded = attending(app, conference).await;
    // The invited units come off their points; the schools and communes the district
    // placed stay (manual assignments are kept) and fill the points of Thủy Nguyên,
    // each now with one seat.
    let preview = {
        unassign(app, conference, None).await;
        auto_assign(app, conference, false).await
    };
    let required: BTreeSet<i64> = placed(&preview).keys().copied().collect();
    unassign(app, conference, None).await;
    for (unit, points) in &seeded {
        if !required.contains(unit) {
            for p in points {
                bridge_point_unit::Entity::insert(bridge_point_unit::ActiveModel {
                    bridge_point_id: sea_orm::Set(*p),
                    unit_id: sea_orm::Set(*unit),
                })
                .exec(&app.db)
                .await
                .expect("keep");
            }
        }
    }
    let tn_points: Vec<bridge_point::Model> = bridge_point::Entity::find()
        .filter(bridge_point::Column::ConferenceId.eq(conference))
        .filter(bridge_point::Column::CoordinatingUnitId.eq(id_of(app, "pgddt-thuy-nguyen").await))
        .all(&app.db)
        .await
        .expect("points");
    assert_eq!(tn_points.len(), 32);
    for p in &tn_points {
        let mut m: bridge_point::ActiveModel = p.clone().into();
        m.capacity = sea_orm::Set(Some(1));
        sea_orm::ActiveModelTrait::update(m, &app.db)
            .await
            .expect("capacity");
    }
    // And An Lão loses its only point.
    let an_lao_point = id_of(app, "bp-dvht-an-lao").await;
    let (status, body) = app
        .delete(&format!("/api/v1/bridge-points/{an_lao_point}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let report = auto_assign(app, conference, false).await;
    let reasons: BTreeMap<i64, (String, String)> = report["unassigned"]
        .as_array()
        .expect("unassigned")
        .iter()
        .map(|u| {
            (
                u["unit_id"].as_i64().expect("unit"),
                (
                    u["reason"].as_str().expect("reason").to_owned(),
                    u["message"].as_str().expect("message").to_owned(),
                ),
            )
        })
        .collect();
    let tn = id_of(app, "ubnd-thuy-nguyen").await;
    let (reason, message) = &reasons[&tn];
    assert_eq!(reason, "capacity_full");
    assert!(
        message.contains("UBND huyện Thủy Nguyên") && message.contains("đủ chỗ"),
        "{message}"
    );
    assert_eq!(
        reasons[&id_of(app, "thpt-tn-le-ich-moc").await].0,
        "capacity_full"
    );
    let an_lao = id_of(app, "ubnd-an-lao").await;
    let (reason, message) = &reasons[&an_lao];
    assert_eq!(reason, "no_point_in_area");
    assert!(message.contains("không có điểm cầu"), "{message}");
    // The other districts are placed as before.
    let got = placed(&report);
    assert_eq!(
        got.get(&id_of(app, "ubnd-an-duong").await),
        Some(&id_of(app, "bp-dvht-an-duong").await)
    );
    assert!(!got.contains_key(&tn) && !got.contains_key(&an_lao));
    // Nothing placed in Thủy Nguyên, whose points stay as the district left them.
    let tn_ids: BTreeSet<i64> = tn_points.iter().map(|p| p.id).collect();
    assert!(got.values().all(|p| !tn_ids.contains(p)), "{got:?}");
});

store_test!(a_district_office_assigns_only_its_own_area, |app| {
    let conference = seeded(app).await;
    unassign(app, conference, None).await;
    let office = id_of(app, "pgddt-thuy-nguyen").await;
    let token = app
        .token_for("pgddt-tn", Role::DistrictOffice, Some(office))
        .await;
    let path = format!("/api/v1/conferences/{conference}/auto-assign");
    let (status, report) = app
        .request(
            Method::POST,
            &path,
            Some(&token),
            Some(&json!({"apply": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let got = placed(&report);
    assert!(
        got.contains_key(&id_of(app, "thpt-tn-le-ich-moc").await),
        "{report}"
    );
    assert!(
        !got.contains_key(&id_of(app, "ubnd-an-duong").await),
        "{report}"
    );
    let now = attending(app, conference).await;
    assert!(!now.contains_key(&id_of(app, "ubnd-an-duong").await));
    assert!(
        report["unassigned"]
            .as_array()
            .expect("unassigned")
            .is_empty(),
        "{report}"
    );

    // A department's staff of another organiser may not run it; bad bodies name the field.
    let other = app
        .unit("Sở GDĐT Quảng Ninh", "department", None, None)
        .await;
    let staff = app
        .token_for("qn", Role::DepartmentStaff, Some(other))
        .await;
    let (status, _) = app
        .request(Method::POST, &path, Some(&staff), Some(&json!({})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, err) = app.post(&path, json!({"apply": "yes"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, err) = app.post(&path, json!({"apply": true, "force": true})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, _) = app
        .post("/api/v1/conferences/999999/auto-assign", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

store_test!(communes_follow_their_schools_or_the_nearest_point, |app| {
    let conference = seeded(app).await;
    let seeded = attending(app, conference).await;
    let tn = id_of(app, "ubnd-thuy-nguyen").await;
    // Seed 001's composition: the people's committee of every commune, at a point.
    let (status, body) = app
        .post(
            "/api/v1/attendance-rules",
            json!({"conference_id": conference, "position": 9, "venue": "bridge_point",
                   "description": "Lãnh đạo UBND các xã, thị trấn (01 người/UBND cấp xã).",
                   "quota": 1, "unit_kind": "people_committee", "area_level": "commune",
                   "within_unit_id": tn}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut communes = BTreeSet::new();
    for key in [
        "ubnd-tn-an-lu",
        "ubnd-tn-cao-nhan",
        "ubnd-tn-chinh-my",
        "ubnd-tn-duong-quan",
        "ubnd-tn-hoang-dong",
        "ubnd-tn-kien-bai",
        "ubnd-tn-lien-khe",
        "ubnd-tn-luu-kiem",
        "ubnd-tn-luu-ky",
        "ubnd-tn-minh-duc",
        "ubnd-tn-lap-le",
        "ubnd-tn-my-dong",
        "ubnd-tn-ngu-lao",
        "ubnd-tn-pha-le",
        "ubnd-tn-tam-hung",
        "ubnd-tn-dong-son",
        "ubnd-tn-kenh-giang",
        "ubnd-tn-gia-minh",
        "ubnd-tn-gia-duc",
        "ubnd-tn-hoa-binh",
        "ubnd-tn-hoa-dong",
        "ubnd-tn-thuy-son",
        "ubnd-tn-nui-deo",
        "ubnd-tn-hop-thanh",
        "ubnd-tn-minh-tan",
        "ubnd-tn-ky-son",
        "ubnd-tn-lai-xuan",
        "ubnd-tn-lam-dong",
        "ubnd-tn-trung-ha",
        "ubnd-tn-thuy-trieu",
        "ubnd-tn-an-son",
        "ubnd-tn-phu-ninh",
        "ubnd-tn-phuc-le",
        "ubnd-tn-quang-thanh",
        "ubnd-tn-tan-duong",
        "ubnd-tn-thien-huong",
        "ubnd-tn-thuy-duong",
    ] {
        communes.insert(id_of(app, key).await);
    }
    assert_eq!(communes.len(), 37);
    // The communes come off their points; their schools stay where the district put them.
    unassign(app, conference, Some(&communes)).await;
    let report = auto_assign(app, conference, false).await;
    let got = placed(&report);
    for c in &communes {
        assert!(
            seeded[c].contains(&got[c]),
            "commune {c} at {} instead of {:?}",
            got[c],
            seeded[c]
        );
    }
    let why = |unit: i64| {
        report["assigned"]
            .as_array()
            .expect("assigned")
            .iter()
            .find(|a| a["unit_id"] == unit)
            .and_then(|a| a["why"].as_str())
            .map(str::to_owned)
    };
    // Lưu Kỳ has no point of its own: it goes where its schools are, with Lưu Kiếm.
    let luu_ky = id_of(app, "ubnd-tn-luu-ky").await;
    assert_eq!(why(luu_ky).as_deref(), Some("commune_served"));
    assert_eq!(
        why(id_of(app, "ubnd-tn-luu-kiem").await).as_deref(),
        Some("own_area")
    );
    assert_eq!(
        why(id_of(app, "ubnd-tn-kenh-giang").await).as_deref(),
        Some("commune_served")
    );
    // Applied, a second run finds nothing left to do.
    auto_assign(app, conference, true).await;
    let again = auto_assign(app, conference, false).await;
    assert!(
        again["assigned"].as_array().expect("assigned").is_empty(),
        "{again}"
    );

    // With nothing placed at all, a commune without a point of its own goes to the
    // nearest by the tree: the district's own point, one step up.
    unassign(app, conference, None).await;
    let report = auto_assign(app, conference, false).await;
    let got = placed(&report);
    assert_eq!(got[&luu_ky], id_of(app, "bp-dvht-tn-00").await);
    let entry = report["assigned"]
        .as_array()
        .expect("assigned")
        .iter()
        .find(|a| a["unit_id"] == luu_ky)
        .expect("Lưu Kỳ");
    assert_eq!(entry["why"], "nearest");
    assert_eq!(entry["distance"], 1);
    assert_eq!(
        got[&id_of(app, "ubnd-tn-an-lu").await],
        id_of(app, "bp-dvht-tn-01").await
    );
});

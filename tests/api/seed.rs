//! The Hải Phòng seed loads with the expected counts, and twice without change.
use crate::helpers::*;
use crate::store_test;
use hoinghi::services::seed;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

fn seed_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed")
}

async fn counts(app: &TestApp) -> Vec<u64> {
    use hoinghi::store::*;
    let db = &app.db;
    vec![
        unit::Entity::find().count(db).await.unwrap(),
        plan::Entity::find().count(db).await.unwrap(),
        conference::Entity::find().count(db).await.unwrap(),
        agenda_item::Entity::find().count(db).await.unwrap(),
        speaker::Entity::find().count(db).await.unwrap(),
        attendance_rule::Entity::find().count(db).await.unwrap(),
        bridge_point::Entity::find().count(db).await.unwrap(),
        bridge_point_unit::Entity::find().count(db).await.unwrap(),
        plan_task::Entity::find().count(db).await.unwrap(),
    ]
}

store_test!(the_hai_phong_seed_loads_once, |app| {
    let report = seed::load_dir(&app.db, &seed_dir())
        .await
        .expect("seed loads");
    assert!(report.total_inserted() > 300, "{report:?}");
    let first = counts(app).await;
    let again = seed::load_dir(&app.db, &seed_dir())
        .await
        .expect("seed loads again");
    assert_eq!(again.total_inserted(), 0);
    assert_eq!(again.skipped, report.total_inserted());
    assert_eq!(counts(app).await, first, "a second run changes nothing");

    let (_, plans) = app.get("/api/v1/plans?per_page=10").await;
    assert_eq!(plans["total"], 3);
    let hp = plans["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["number"] == 1609)
        .expect("plan 1609");
    assert_eq!(hp["symbol"], "KH-SGDĐT");
    assert_eq!(hp["recipients"].as_array().unwrap().len(), 9);
    assert_eq!(hp["signatory_name"], "Bùi Văn Kiệt");
    let (_, confs) = app
        .get(&format!("/api/v1/conferences?plan={}", hp["id"]))
        .await;
    let confs = confs["items"].as_array().unwrap().clone();
    assert_eq!(confs.len(), 2);
    // 08:00–11:30 and 14:00–17:00 in Hà Nội time are 01:00–04:30 and 07:00–10:00 UTC.
    assert_eq!(
        (confs[0]["starts_at"].as_str(), confs[0]["ends_at"].as_str()),
        (Some("2024-12-18T01:00:00Z"), Some("2024-12-18T04:30:00Z"))
    );
    assert_eq!(
        (confs[1]["starts_at"].as_str(), confs[1]["ends_at"].as_str()),
        (Some("2024-12-18T07:00:00Z"), Some("2024-12-18T10:00:00Z"))
    );
    let (status, morning) = app
        .get(&format!("/api/v1/conferences/{}/detail", confs[0]["id"]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(morning["agenda"].as_array().unwrap().len(), 9);
    assert_eq!(morning["agenda"][0]["content"], "Đón tiếp đại biểu");
    assert_eq!(
        morning["agenda"][0]["starts_at"], "2024-12-18T00:30:00Z",
        "7h30 local"
    );
    assert_eq!(morning["speakers"].as_array().unwrap().len(), 3);
    assert_eq!(morning["attendance_rules"].as_array().unwrap().len(), 8);
    // The 32 points of Thủy Nguyên's plan 250 and one Phòng GDĐT point for each of the
    // other 14 districts (seed/015).
    let points = morning["bridge_points"].as_array().unwrap();
    assert_eq!(points.len(), 46);
    let tn_plan = plans["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["number"] == 250)
        .expect("plan 250")["id"]
        .clone();
    assert_eq!(
        points.iter().filter(|p| p["plan_id"] == tn_plan).count(),
        32
    );
    assert_eq!(
        morning["halls"][0]["name"],
        "Hội trường tầng 3, cơ quan Sở GDĐT"
    );
    let (_, afternoon) = app
        .get(&format!("/api/v1/conferences/{}/detail", confs[1]["id"]))
        .await;
    assert_eq!(afternoon["agenda"].as_array().unwrap().len(), 8);
    assert_eq!(afternoon["agenda"][7]["content"], "Kết luận Hội nghị");
    assert_eq!(afternoon["attendance_rules"].as_array().unwrap().len(), 6);
    // Every commune of Thủy Nguyên attends at one of the morning's bridge points.
    let (_, communes) = app
        .get("/api/v1/units?kind=people_committee&area_level=commune&per_page=100")
        .await;
    assert_eq!(communes["total"], 37);
    let attending: std::collections::HashSet<i64> = morning["bridge_points"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| {
            b["unit_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_i64().unwrap())
        })
        .collect();
    for c in communes["items"].as_array().unwrap() {
        assert!(
            attending.contains(&c["id"].as_i64().unwrap()),
            "{} attends",
            c["name"]
        );
    }
    let (_, tasks) = app.get("/api/v1/plan-tasks?per_page=100").await;
    assert_eq!(tasks["total"], 26);
    let units = app.get("/api/v1/units?per_page=500").await.1;
    for u in units["items"].as_array().unwrap() {
        if let Some(m) = u["mailbox"].as_str() {
            assert!(m.ends_with(".example"), "demo mailbox {m}");
        }
    }
});

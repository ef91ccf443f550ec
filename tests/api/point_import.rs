//! Bridge-point tables in: the Thủy Nguyên plan's table
//! (`../shared/data/thuy-nguyen-bridge-points.csv`) gives seed 001's 32 points and the units
//! of all 37 communes, and changes nothing the second time; an exported workbook imports
//! back to the same data; a district office imports only its own area.
use std::collections::{BTreeMap, BTreeSet};

use crate::helpers::{TestApp, id_of};
use crate::nominations::seeded;
use crate::store_test;
use hoinghi::domain::kinds::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The plan's table (`../shared/data/thuy-nguyen-bridge-points.csv`).
fn thuy_nguyen_table() -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/thuy-nguyen-bridge-points.csv");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

async fn import(
    app: &TestApp,
    conference: i64,
    query: &str,
    body: Vec<u8>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    app.upload(
        &format!("/api/v1/conferences/{conference}/bridge-points/import{query}"),
        body,
        token,
    )
    .await
}

/// The conference's bridge points (whole rows, as the API gives them).
async fn points(app: &TestApp, conference: i64) -> Vec<Value> {
    let (status, page) = app
        .get(&format!(
            "/api/v1/bridge-points?conference={conference}&per_page=500"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().expect("items").clone()
}

/// Unit names by id.
async fn unit_names(app: &TestApp) -> BTreeMap<i64, String> {
    let mut names = BTreeMap::new();
    let mut after = String::new();
    loop {
        let (_, page) = app.get(&format!("/api/v1/units?per_page=500{after}")).await;
        let items = page["items"].as_array().expect("items");
        for u in items {
            names.insert(
                u["id"].as_i64().expect("id"),
                u["name"].as_str().expect("name").to_owned(),
            );
        }
        match page["next_after"].as_i64() {
            Some(next) if !items.is_empty() => after = format!("&after={next}"),
            _ => return names,
        }
    }
}

/// Each point as (name, host, coordinator, room, sorted attending unit names).
fn shape(
    points: &[Value],
    names: &BTreeMap<i64, String>,
) -> BTreeMap<String, (String, String, Value, BTreeSet<String>)> {
    points
        .iter()
        .map(|b| {
            let name = |v: &Value| names[&v.as_i64().expect("unit id")].clone();
            (
                b["name"].as_str().expect("name").to_owned(),
                (
                    name(&b["host_unit_id"]),
                    name(&b["coordinating_unit_id"]),
                    b["room"].clone(),
                    b["unit_ids"]
                        .as_array()
                        .expect("unit_ids")
                        .iter()
                        .map(name)
                        .collect(),
                ),
            )
        })
        .collect()
}

store_test!(
    the_thuy_nguyen_table_gives_seed_001_and_importing_it_again_changes_nothing,
    |app| {
        let seeded_conference = seeded(app).await;
        let office = id_of(app, "pgddt-thuy-nguyen").await;
        let district = id_of(app, "ubnd-thuy-nguyen").await;
        let conference = app.conference(id_of(app, "sogddt-hp").await).await;
        let names = unit_names(app).await;

        let (status, report) = import(app, conference, "", thuy_nguyen_table(), None).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["rows"], 32, "{report}");
        assert_eq!(report["created"], 32, "{report}");
        assert_eq!(report["errors"], json!([]), "{report}");
        assert_eq!(report["ignored_columns"], json!([]), "{report}");
        // Said, not guessed silently: the one group phrase ("các phòng, ban, đơn vị …" on
        // row 2), and the one unit found by the start of its name (row 21).
        let warnings = report["warnings"].as_array().expect("warnings");
        let at: Vec<(u64, &str)> = warnings
            .iter()
            .map(|w| {
                (
                    w["row"].as_u64().expect("row"),
                    w["column"].as_str().expect("column"),
                )
            })
            .collect();
        assert_eq!(at, [(2, "extra_units"), (21, "extra_units")], "{report}");
        let said = |i: usize| warnings[i]["message"].as_str().expect("message");
        assert!(
            said(0).contains("các phòng, ban, đơn vị và tổ chức chính trị - xã hội huyện"),
            "{report}"
        );
        assert!(
            said(1).contains(
                "«Trung tâm GDNN-GDTX» được hiểu là «Trung tâm GDNN-GDTX huyện Thủy Nguyên»"
            ),
            "{report}"
        );

        // The same 32 points as the seeded plan 250 (seed 001): names, hosts, the
        // district office coordinating, rooms, and every attending unit.
        let imported = points(app, conference).await;
        assert_eq!(imported.len(), 32);
        let seeded_points: Vec<Value> = points(app, seeded_conference)
            .await
            .into_iter()
            .filter(|b| b["coordinating_unit_id"] == office)
            .collect();
        let expected = shape(&seeded_points, &names);
        let got = shape(&imported, &names);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>()
        );
        for (name, (host, coordinator, room, units)) in &got {
            let (e_host, e_coordinator, e_room, e_units) = &expected[name];
            assert_eq!((host, coordinator), (e_host, e_coordinator), "{name}");
            assert_eq!(units, e_units, "{name}");
            assert_eq!(room, e_room, "{name}");
        }
        assert_eq!(
            got["Phòng Giáo dục và Đào tạo huyện Thủy Nguyên, Hội trường tầng 2"].2,
            "Hội trường tầng 2"
        );

        // The units of all 37 communes: each commune's people's committee attends exactly
        // one point, with its schools.
        let (_, communes) = app
            .get(&format!(
                "/api/v1/units?parent={district}&kind=people_committee&per_page=500"
            ))
            .await;
        let communes: Vec<i64> = communes["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|u| u["id"].as_i64().expect("id"))
            .collect();
        assert_eq!(communes.len(), 37);
        let attending: Vec<i64> = imported
            .iter()
            .flat_map(|b| b["unit_ids"].as_array().expect("unit_ids").clone())
            .map(|u| u.as_i64().expect("id"))
            .collect();
        for c in &communes {
            assert_eq!(
                attending.iter().filter(|u| *u == c).count(),
                1,
                "{}",
                names[c]
            );
        }
        let distinct: BTreeSet<i64> = attending.iter().copied().collect();
        assert_eq!(distinct.len(), attending.len(), "a unit at two points");

        // Again: nothing changes, not even a timestamp.
        let (status, again) = import(app, conference, "", thuy_nguyen_table(), None).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(
            (&again["created"], &again["updated"], &again["unchanged"]),
            (&json!(0), &json!(0), &json!(32)),
            "{again}"
        );
        assert_eq!(points(app, conference).await, imported);

        // The district office imports its own table into the seeded conference: the
        // seed is the file, so nothing changes there either; not even at An Lư, where a
        // unit outside the district (which the office can neither name nor remove) has
        // been placed.
        let token = app
            .token_for("pgddt-tn", Role::DistrictOffice, Some(office))
            .await;
        let an_lu = id_of(app, "bp-dvht-tn-01").await;
        let (_, mut point) = app.get(&format!("/api/v1/bridge-points/{an_lu}")).await;
        let outsider = id_of(app, "sogddt-hp").await;
        let mut input = point.as_object_mut().expect("object").clone();
        for field in ["id", "created_at", "updated_at"] {
            input.remove(field);
        }
        input["unit_ids"]
            .as_array_mut()
            .expect("unit_ids")
            .push(json!(outsider));
        let (status, body) = app
            .put(
                &format!("/api/v1/bridge-points/{an_lu}"),
                Value::Object(input),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let before = points(app, seeded_conference).await;
        let (status, report) = import(
            app,
            seeded_conference,
            "",
            thuy_nguyen_table(),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["unchanged"], 32, "{report}");
        assert_eq!(points(app, seeded_conference).await, before);

        // Another district's office finds none of these units in its area: every row is
        // refused, and nothing is written.
        let other = app
            .token_for(
                "pgddt-ad",
                Role::DistrictOffice,
                Some(id_of(app, "pgddt-an-duong").await),
            )
            .await;
        let (status, refused) = import(
            app,
            seeded_conference,
            "",
            thuy_nguyen_table(),
            Some(&other),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        let fields: BTreeSet<String> = refused["error"]["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().expect("field").to_owned())
            .collect();
        assert!(fields.contains("rows[2].bridge_point"), "{fields:?}");
        assert!(fields.contains("rows[33].bridge_point"), "{fields:?}");
        assert!(
            refused["error"]["errors"][0]["message"]
                .as_str()
                .expect("message")
                .contains("trong địa bàn được phép"),
            "{refused}"
        );
        assert_eq!(points(app, seeded_conference).await, before);
        // Nor may it hang points on the provincial plan.
        let plan = id_of(app, "plan-1609").await;
        let (status, body) = import(
            app,
            seeded_conference,
            &format!("?plan_id={plan}"),
            thuy_nguyen_table(),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        // Nor name a coordinator outside its area.
        let (status, body) = import(
            app,
            seeded_conference,
            &format!("?coordinating_unit_id={outsider}"),
            thuy_nguyen_table(),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["errors"][0]["field"], "coordinating_unit_id");

        // A unit of its district held at a point the province coordinates cannot be
        // moved by it: even with `valid_rows_only`, that row is refused and nothing
        // moves.
        let sogddt_point = app
            .create(
                "/api/v1/bridge-points",
                json!({"conference_id": seeded_conference, "name": "Sở GDĐT, phòng họp 2",
                       "host_unit_id": outsider, "coordinating_unit_id": outsider,
                       "unit_ids": [id_of(app, "mn-tn-cao-nhan").await]}),
            )
            .await;
        let before = points(app, seeded_conference).await;
        let csv = "no,bridge_point,host_kind,communes,extra_units,as_written\n\
                   1,Trường THCS An Lư,school,An Lư; Cao Nhân,,\n";
        let (status, report) = import(
            app,
            seeded_conference,
            "?valid_rows_only=true",
            csv.into(),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["points"], json!([]), "{report}");
        assert_eq!(report["warnings"], json!([]), "{report}");
        let refusal = report["errors"][0]["message"].as_str().expect("message");
        assert!(
            refusal.contains("Trường Mầm non Cao Nhân") && refusal.contains("ngoài địa bàn"),
            "{report}"
        );
        assert_eq!(points(app, seeded_conference).await, before);
        assert!(sogddt_point > 0);
    }
);

store_test!(
    a_bad_row_is_named_and_a_unit_placed_elsewhere_moves,
    |app| {
        let conference = seeded(app).await;
        let an_lu = id_of(app, "bp-dvht-tn-01").await;
        let cao_nhan = id_of(app, "bp-dvht-tn-02").await;
        let ubnd_cao_nhan = id_of(app, "ubnd-tn-cao-nhan").await;
        // A blank line counts as a row, as a spreadsheet shows it.
        let csv = "no,bridge_point,host_kind,communes,extra_units,as_written\n\
                   1,Trường THCS An Lư,school,An Lư; Cao Nhân,,\n\
                   \n\
                   40,Trường THCS Không Có,school,Không Có,,\n\
                   3,Trường THCS Chính Mỹ,school,Chính Mỹ; Xã Lạ,THPT Không Tên,\n";
        let before = points(app, conference).await;
        let (status, refused) = import(app, conference, "", csv.into(), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        let errors: Vec<(String, String)> = refused["error"]["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().expect("field").to_owned(),
                    e["message"].as_str().expect("message").to_owned(),
                )
            })
            .collect();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "rows[4].bridge_point",
                "rows[4].communes",
                "rows[5].communes",
                "rows[5].extra_units"
            ],
            "{refused}"
        );
        assert!(
            errors[2].1.starts_with("Dòng 5, cột «communes»"),
            "{errors:?}"
        );
        assert!(errors[2].1.contains("«Xã Lạ»"), "{errors:?}");
        assert!(errors[3].1.contains("«THPT Không Tên»"), "{errors:?}");
        assert_eq!(points(app, conference).await, before, "nothing written");

        // The valid row alone: Cao Nhân's units leave their point for An Lư's.
        let (status, report) =
            import(app, conference, "?valid_rows_only=true", csv.into(), None).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["updated"], 1, "{report}");
        assert_eq!(report["errors"].as_array().expect("errors").len(), 4);
        let moved = report["warnings"].as_array().expect("warnings");
        assert_eq!(
            moved.len(),
            4,
            "MN, TH, THCS and UBND of Cao Nhân: {report}"
        );
        let after = points(app, conference).await;
        let units_of = |b: i64| -> BTreeSet<i64> {
            after.iter().find(|p| p["id"] == b).expect("point")["unit_ids"]
                .as_array()
                .expect("unit_ids")
                .iter()
                .map(|u| u.as_i64().expect("id"))
                .collect()
        };
        assert!(units_of(an_lu).contains(&ubnd_cao_nhan));
        assert_eq!(units_of(an_lu).len(), 8);
        // THPT Quang Trung was no commune's: it stays.
        assert_eq!(units_of(cao_nhan).len(), 1);
        assert!(!units_of(cao_nhan).contains(&ubnd_cao_nhan));
    }
);

store_test!(
    an_exported_bridge_point_table_imports_back_the_same,
    |app| {
        let conference = seeded(app).await;
        let export = |conference: i64, format: &'static str| async move {
            let resp = app
                .client
                .get(format!(
                    "{}/api/v1/conferences/{conference}/bridge-points.{format}",
                    app.address
                ))
                .bearer_auth(&app.admin_token)
                .send()
                .await
                .expect("export");
            assert_eq!(resp.status(), StatusCode::OK);
            resp.bytes().await.expect("body").to_vec()
        };
        let xlsx = export(conference, "xlsx").await;
        let csv = export(conference, "csv").await;
        let before = points(app, conference).await;
        assert!(before.len() > 32, "every district's points");

        // Into the same conference: every point found by its id, nothing changed.
        let (status, report) = import(app, conference, "", xlsx.clone(), None).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["unchanged"], before.len(), "{report}");
        assert_eq!(report["warnings"], json!([]), "{report}");
        assert_eq!(report["ignored_columns"], json!([]), "{report}");
        assert_eq!(points(app, conference).await, before);

        // Into a new conference: the same table, but for the points' own ids.
        let copy = app.conference(id_of(app, "sogddt-hp").await).await;
        let (status, report) = import(app, copy, "", xlsx, None).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["created"], before.len(), "{report}");
        let rows = |bytes: Vec<u8>| -> Vec<Vec<String>> {
            csv::Reader::from_reader(&bytes[3..])
                .records()
                .map(|r| {
                    let mut r: Vec<String> = r.expect("row").iter().map(str::to_owned).collect();
                    r.remove(12); // Mã điểm cầu
                    r
                })
                .collect()
        };
        assert_eq!(rows(export(copy, "csv").await), rows(csv));
    }
);

//! Nominations within quotas: a unit invited "01 người/đơn vị" names one delegate, not
//! two; `GET …/nominations` shows per invited unit who has named whom, and who has not.
use std::collections::BTreeSet;

use crate::helpers::{TestApp, error_field, id_of};
use crate::store_test;
use hoinghi::domain::kinds::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The seed loaded; the morning conference's id.
pub(crate) async fn seeded(app: &TestApp) -> i64 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed");
    hoinghi::services::seed::load_dir(&app.db, &dir)
        .await
        .expect("seed loads");
    id_of(app, "conf-dvht").await
}

async fn person(app: &TestApp, unit: i64, name: &str, email: &str) -> i64 {
    app.create(
        "/api/v1/people",
        json!({"full_name": name, "unit_id": unit, "email": email}),
    )
    .await
}

fn nomination(conference: i64, person: i64, unit: i64) -> Value {
    json!({"conference_id": conference, "person_id": person, "unit_id": unit, "venue": "online"})
}

async fn delegates_of(app: &TestApp, conference: i64, unit: i64) -> Vec<Value> {
    let (status, page) = app
        .get(&format!(
            "/api/v1/delegates?conference={conference}&unit={unit}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().expect("items").clone()
}

store_test!(a_unit_cannot_nominate_beyond_its_quota, |app| {
    let conference = seeded(app).await;
    // "Kính mời 01 đại biểu là Lãnh đạo UBND quận/huyện …" (rule 5 of the morning).
    let tn = id_of(app, "ubnd-thuy-nguyen").await;
    let rule = id_of(app, "rule-dvht-5").await;
    let first = person(app, tn, "Nguyễn Văn An", "an@thuynguyen.example").await;
    let second = person(app, tn, "Trần Văn Bình", "binh@thuynguyen.example").await;
    let an = app
        .create("/api/v1/delegates", nomination(conference, first, tn))
        .await;

    // The second is refused, naming the rule, whether or not it names it itself.
    for body in [nomination(conference, second, tn), {
        let mut b = nomination(conference, second, tn);
        b["attendance_rule_id"] = json!(rule);
        b
    }] {
        let (status, err) = app.post("/api/v1/delegates", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(error_field(&err), "attendance_rule_id", "{err}");
        assert_eq!(err["error"]["errors"][0]["code"], "over_quota", "{err}");
        let message = err["error"]["message"].as_str().expect("message");
        assert!(message.contains("UBND huyện Thủy Nguyên"), "{message}");
        assert!(message.contains("01 người/đơn vị"), "{message}");
        assert!(
            message.contains("Kính mời 01 đại biểu là Lãnh đạo UBND quận/huyện"),
            "{message}"
        );
        assert!(message.contains(&format!("mã {rule}")), "{message}");
    }
    assert_eq!(delegates_of(app, conference, tn).await.len(), 1);

    // A rule that does not invite the unit cannot be named for it.
    let office_rule = id_of(app, "rule-dvht-6").await;
    let mut body = nomination(conference, second, tn);
    body["attendance_rule_id"] = json!(office_rule);
    let (status, err) = app.post("/api/v1/delegates", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(
        err["error"]["errors"][0]["code"], "unit_not_invited",
        "{err}"
    );

    // The delegate named may be edited: it does not count against itself.
    let mut edit = nomination(conference, first, tn);
    edit["venue"] = json!("bridge_point");
    edit["bridge_point_id"] = json!(id_of(app, "bp-dvht-tn-00").await);
    let (status, body) = app.put(&format!("/api/v1/delegates/{an}"), edit).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Moving another unit's delegate into the full unit is refused, and changes nothing.
    let ad = id_of(app, "ubnd-an-duong").await;
    let third = person(app, ad, "Lê Thị Cúc", "cuc@anduong.example").await;
    let cuc = app
        .create("/api/v1/delegates", nomination(conference, third, ad))
        .await;
    let (status, err) = app
        .put(
            &format!("/api/v1/delegates/{cuc}"),
            nomination(conference, third, tn),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(error_field(&err), "attendance_rule_id", "{err}");
    let (_, still) = app.get(&format!("/api/v1/delegates/{cuc}")).await;
    assert_eq!(still["unit_id"].as_i64(), Some(ad), "{still}");

    // Once the first is withdrawn, the seat is free again.
    let (status, body) = app.delete(&format!("/api/v1/delegates/{an}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    app.create("/api/v1/delegates", nomination(conference, second, tn))
        .await;
    let named = delegates_of(app, conference, tn).await;
    assert_eq!(named.len(), 1);
    assert_eq!(named[0]["person_id"].as_i64(), Some(second));

    // A rule without a number ("Đại diện Lãnh đạo … Phòng GDĐT") limits nobody.
    let office = id_of(app, "pgddt-thuy-nguyen").await;
    for (i, name) in ["Vũ Thị Dung", "Đặng Văn Giang", "Hoàng Thị Hoa"]
        .iter()
        .enumerate()
    {
        let p = person(app, office, name, &format!("p{i}@pgddt-tn.example")).await;
        app.create("/api/v1/delegates", nomination(conference, p, office))
            .await;
    }
});

store_test!(two_nominations_at_once_take_one_seat, |app| {
    let conference = seeded(app).await;
    let tn = id_of(app, "ubnd-thuy-nguyen").await;
    let ad = id_of(app, "ubnd-an-duong").await;
    let mut bodies = Vec::new();
    for (unit, tag) in [(tn, "tn"), (tn, "tn"), (ad, "ad"), (ad, "ad")] {
        let n = bodies.len();
        let p = person(
            app,
            unit,
            &format!("Đại biểu số {n}"),
            &format!("d{n}@{tag}.example"),
        )
        .await;
        bodies.push(nomination(conference, p, unit));
    }
    let (a, b, c, d) = tokio::join!(
        app.post("/api/v1/delegates", bodies[0].clone()),
        app.post("/api/v1/delegates", bodies[1].clone()),
        app.post("/api/v1/delegates", bodies[2].clone()),
        app.post("/api/v1/delegates", bodies[3].clone()),
    );
    for pair in [[&a, &b], [&c, &d]] {
        let mut statuses: Vec<StatusCode> = pair.iter().map(|r| r.0).collect();
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY],
            "{} / {}",
            pair[0].1,
            pair[1].1
        );
    }
    assert_eq!(delegates_of(app, conference, tn).await.len(), 1);
    assert_eq!(delegates_of(app, conference, ad).await.len(), 1);
});

fn row(report: &Value, unit: i64) -> &Value {
    report["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["unit_id"] == unit)
        .unwrap_or_else(|| panic!("unit {unit} listed: {report}"))
}

fn unit_ids(report: &Value) -> BTreeSet<i64> {
    report["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| u["unit_id"].as_i64().expect("unit_id"))
        .collect()
}

store_test!(
    nominations_show_each_invited_unit_and_who_is_missing,
    |app| {
        let conference = seeded(app).await;
        let path = format!("/api/v1/conferences/{conference}/nominations");
        let tn = id_of(app, "ubnd-thuy-nguyen").await;
        let office = id_of(app, "pgddt-thuy-nguyen").await;
        let ad = id_of(app, "ubnd-an-duong").await;
        let point = id_of(app, "bp-dvht-tn-00").await;
        let rule = id_of(app, "rule-dvht-5").await;

        let (status, before) = app.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{before}");
        let units = before["units"].as_array().expect("units");
        assert!(units.len() > 30, "{} units invited", units.len());
        assert_eq!(before["totals"]["units"], units.len());
        assert_eq!(before["totals"]["units_not_nominated"], units.len());
        assert_eq!(before["totals"]["nominated"], 0);
        assert!(units.iter().all(|u| u["status"] == "not_nominated"));
        let r = row(&before, tn);
        assert_eq!(r["unit_name"], "UBND huyện Thủy Nguyên");
        assert_eq!(r["quota"], 1);
        assert_eq!(r["nominated"], 0);
        assert_eq!(r["missing"], 1);
        assert_eq!(r["status_label"], "Chưa cử đại biểu");
        assert_eq!(r["rules"][0]["id"].as_i64(), Some(rule), "{r}");
        assert_eq!(r["rules"][0]["quota"], 1);
        assert_eq!(r["bridge_points"][0]["id"].as_i64(), Some(point), "{r}");
        // A rule without a number: no quota, one missing until someone is named.
        let o = row(&before, office);
        assert_eq!(o["quota"], Value::Null, "{o}");
        assert_eq!(o["missing"], 1);

        let p = person(app, tn, "Nguyễn Văn An", "an@thuynguyen.example").await;
        let an = app
            .create("/api/v1/delegates", nomination(conference, p, tn))
            .await;
        let (_, after) = app.get(&path).await;
        let r = row(&after, tn);
        assert_eq!(r["nominated"], 1);
        assert_eq!(r["missing"], 0);
        assert_eq!(r["status"], "complete");
        assert_eq!(r["status_label"], "Đã cử đủ");
        assert_eq!(r["delegates"][0]["delegate_id"].as_i64(), Some(an));
        assert_eq!(r["delegates"][0]["full_name"], "Nguyễn Văn An");
        assert_eq!(after["totals"]["nominated"], 1);
        assert_eq!(
            after["totals"]["units_not_nominated"].as_i64(),
            before["totals"]["units_not_nominated"]
                .as_i64()
                .map(|n| n - 1)
        );
        assert_eq!(
            after["totals"]["missing"].as_i64(),
            before["totals"]["missing"].as_i64().map(|n| n - 1)
        );

        // Who has not named anyone yet ("chưa cử đại biểu").
        let (_, missing) = app.get(&format!("{path}?status=not_nominated")).await;
        assert!(!unit_ids(&missing).contains(&tn));
        assert!(unit_ids(&missing).contains(&office));
        assert_eq!(
            missing["units"].as_array().map(Vec::len),
            Some(units.len() - 1)
        );

        // One district: its units only.
        let (status, district) = app.get(&format!("{path}?district={tn}")).await;
        assert_eq!(status, StatusCode::OK, "{district}");
        let ids = unit_ids(&district);
        assert!(ids.contains(&tn) && ids.contains(&office), "{ids:?}");
        assert!(!ids.contains(&ad), "{ids:?}");
        assert!(ids.len() < units.len());

        // A district office sees its own area, whatever it asks.
        let token = app
            .token_for("pgddt-tn", Role::DistrictOffice, Some(office))
            .await;
        let (status, own) = app.request(Method::GET, &path, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{own}");
        assert_eq!(unit_ids(&own), ids);
        let (status, other) = app
            .request(
                Method::GET,
                &format!("{path}?district={ad}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{other}");
        assert!(unit_ids(&other).is_empty(), "{other}");

        // Bad parameters name themselves.
        for (query, field) in [
            ("district=abc", "district"),
            ("district=999999", "district"),
            ("status=some", "status"),
            ("page=2", "page"),
        ] {
            let (status, err) = app.get(&format!("{path}?{query}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {err}");
            assert_eq!(error_field(&err), field, "{query}: {err}");
        }
        let (status, _) = app.get("/api/v1/conferences/999999/nominations").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

store_test!(
    attendance_figures_per_point_and_district_as_json_and_xlsx,
    |app| {
        use calamine::{Data, Reader, Xlsx};
        let conference = seeded(app).await;
        let tn = id_of(app, "ubnd-thuy-nguyen").await;
        let office = id_of(app, "pgddt-thuy-nguyen").await;
        let school = id_of(app, "thpt-tn-ly-thuong-kiet").await;
        let hall_point = id_of(app, "bp-dvht-tn-00").await;
        let school_point = id_of(app, "bp-dvht-tn-19").await;
        for (unit, name, email, place, reply) in [
            (
                tn,
                "Nguyễn Văn An",
                "an@tn.example",
                Some(hall_point),
                "accepted",
            ),
            (
                school,
                "Trần Thị Bích",
                "bich@ltk.example",
                Some(school_point),
                "declined",
            ),
            (
                office,
                "Lê Văn Cường",
                "cuong@pgddt.example",
                None,
                "needs_action",
            ),
        ] {
            let p = person(app, unit, name, email).await;
            let mut body = nomination(conference, p, unit);
            if let Some(b) = place {
                body["venue"] = json!("bridge_point");
                body["bridge_point_id"] = json!(b);
            }
            body["reply"] = json!(reply);
            app.create("/api/v1/delegates", body).await;
        }
        let path = format!("/api/v1/conferences/{conference}/attendance");
        let (status, f) = app.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{f}");
        let point = |id: i64| {
            f["bridge_points"]
                .as_array()
                .expect("points")
                .iter()
                .find(|p| p["bridge_point_id"] == id)
                .cloned()
                .unwrap_or_else(|| panic!("point {id}: {f}"))
        };
        let hall = point(hall_point);
        assert_eq!(hall["district_name"], "UBND huyện Thủy Nguyên");
        assert_eq!(hall["units_attending"], 4, "{hall}");
        // UBND, Phòng GDĐT and Hội Khuyến học huyện are invited; the Mặt trận only attends.
        assert_eq!(hall["units_expected"], 3, "{hall}");
        assert_eq!(hall["delegates"], 1);
        assert_eq!(hall["replies"]["accepted"], 1);
        let at_school = point(school_point);
        assert_eq!(at_school["delegates"], 1);
        assert_eq!(at_school["replies"]["declined"], 1);
        let district = f["districts"]
            .as_array()
            .expect("districts")
            .iter()
            .find(|d| d["district_id"] == tn)
            .cloned()
            .expect("Thủy Nguyên");
        assert_eq!(district["bridge_points"], 32);
        assert_eq!(district["delegates"], 3);
        assert_eq!(district["units_nominated"], 3);
        assert_eq!(district["replies"]["accepted"], 1);
        assert_eq!(district["replies"]["declined"], 1);
        assert_eq!(district["replies"]["needs_action"], 1);
        // The units expected are those the nominations list for the district.
        let (_, n) = app
            .get(&format!(
                "/api/v1/conferences/{conference}/nominations?district={tn}"
            ))
            .await;
        assert_eq!(district["units_expected"], n["totals"]["units"], "{n}");
        assert_eq!(f["totals"]["delegates"], 3);
        assert_eq!(
            f["totals"]["bridge_points"].as_u64(),
            f["bridge_points"].as_array().map(|p| p.len() as u64)
        );

        // A district office sees its district only.
        let token = app
            .token_for("pgddt-tn", Role::DistrictOffice, Some(office))
            .await;
        let (status, own) = app.request(Method::GET, &path, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{own}");
        let ids: Vec<&Value> = own["districts"]
            .as_array()
            .expect("districts")
            .iter()
            .map(|d| &d["district_id"])
            .collect();
        assert_eq!(ids, [&json!(tn)], "{own}");
        assert_eq!(own["bridge_points"].as_array().map(Vec::len), Some(32));

        // The workbook says the same.
        let resp = app
            .client
            .get(format!("{}{path}.xlsx", app.address))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .expect("xlsx");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let bytes = resp.bytes().await.expect("body").to_vec();
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an XLSX");
        assert_eq!(book.sheet_names(), ["Theo điểm cầu", "Theo quận, huyện"]);
        let points = book.worksheet_range("Theo điểm cầu").expect("sheet");
        let rows: Vec<&[Data]> = points.rows().collect();
        assert_eq!(rows[0][1], Data::String("Điểm cầu".into()));
        assert_eq!(
            rows.len(),
            f["bridge_points"].as_array().expect("points").len() + 2
        );
        let hall_row = rows
            .iter()
            .find(|r| r[1] == Data::String(hall["name"].as_str().expect("name").into()))
            .expect("the hall's row");
        assert_eq!(hall_row[4], Data::Float(4.0));
        assert_eq!(hall_row[6], Data::Float(1.0));
        assert_eq!(hall_row[7], Data::Float(1.0));
        let last = rows.last().expect("totals");
        assert_eq!(last[1], Data::String("Tổng cộng".into()));
        assert_eq!(last[6], Data::Float(2.0), "delegates seated at points");
        let districts = book.worksheet_range("Theo quận, huyện").expect("sheet");
        let rows: Vec<&[Data]> = districts.rows().collect();
        let tn_row = rows
            .iter()
            .find(|r| r[1] == Data::String("UBND huyện Thủy Nguyên".into()))
            .expect("Thủy Nguyên's row");
        assert_eq!(tn_row[2], Data::Float(32.0));
        assert_eq!(tn_row[6], Data::Float(3.0));
        let last = rows.last().expect("totals");
        assert_eq!(last[1], Data::String("Tổng cộng".into()));
        assert_eq!(last[6], Data::Float(3.0));
    }
);

store_test!(bridge_points_and_delegates_export_as_csv_and_xlsx, |app| {
    use calamine::{Data, Reader, Xlsx};
    let conference = seeded(app).await;
    let school = id_of(app, "thpt-tn-ly-thuong-kiet").await;
    let school_point = id_of(app, "bp-dvht-tn-19").await;
    let office = id_of(app, "pgddt-thuy-nguyen").await;
    let ad = id_of(app, "ubnd-an-duong").await;
    for (unit, name, email, place) in [
        (
            school,
            "Trần Thị Bích",
            "bich@ltk.example",
            Some(school_point),
        ),
        (ad, "Lê Văn Cường", "cuong@anduong.example", None),
    ] {
        let p = person(app, unit, name, email).await;
        let mut body = nomination(conference, p, unit);
        if let Some(b) = place {
            body["venue"] = json!("bridge_point");
            body["bridge_point_id"] = json!(b);
        }
        app.create("/api/v1/delegates", body).await;
    }
    let fetch = |path: String, token: Option<String>| async move {
        let resp = app
            .client
            .get(format!("{}{path}", app.address))
            .bearer_auth(token.as_deref().unwrap_or(&app.admin_token))
            .send()
            .await
            .expect("export");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let kind = resp.headers()["content-type"]
            .to_str()
            .expect("type")
            .to_owned();
        (kind, resp.bytes().await.expect("body").to_vec())
    };
    let csv_rows = |bytes: &[u8]| -> Vec<Vec<String>> {
        assert!(
            bytes.starts_with(b"\xEF\xBB\xBF"),
            "a byte-order mark for Excel"
        );
        csv::Reader::from_reader(&bytes[3..])
            .records()
            .map(|r| r.expect("row").iter().map(str::to_owned).collect())
            .collect()
    };
    let xlsx_rows = |bytes: Vec<u8>, sheet: &str| -> Vec<Vec<String>> {
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an XLSX");
        let range = book.worksheet_range(sheet).expect("sheet");
        range
            .rows()
            .skip(1)
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::String(s) => s.clone(),
                        Data::Float(f) => format!("{f}"),
                        Data::Empty => String::new(),
                        other => panic!("unexpected cell {other:?}"),
                    })
                    .collect()
            })
            .collect()
    };

    // The bridge-point table, the same in CSV and XLSX.
    let base = format!("/api/v1/conferences/{conference}");
    let (kind, csv) = fetch(format!("{base}/bridge-points.csv"), None).await;
    assert_eq!(kind, "text/csv; charset=utf-8");
    let rows = csv_rows(&csv);
    let (_, xlsx) = fetch(format!("{base}/bridge-points.xlsx"), None).await;
    assert_eq!(xlsx_rows(xlsx, "Danh sách điểm cầu"), rows);
    let (_, all) = app
        .get(&format!(
            "/api/v1/bridge-points?conference={conference}&per_page=500"
        ))
        .await;
    assert_eq!(rows.len() as u64, all["total"].as_u64().expect("total"));
    let le_ich_moc = rows
        .iter()
        .find(|r| r[1] == "Trường THCS Lê Ích Mộc")
        .expect("point 19");
    assert_eq!(le_ich_moc[2], "Trường THCS Lê Ích Mộc");
    assert_eq!(le_ich_moc[6], "30");
    assert_eq!(le_ich_moc[7], "12");
    assert!(
        le_ich_moc[8].contains("Trường THPT Lý Thường Kiệt"),
        "{}",
        le_ich_moc[8]
    );
    assert!(
        le_ich_moc[8].contains("UBND thị trấn Núi Đèo"),
        "{}",
        le_ich_moc[8]
    );

    // The delegates, point by point; online ones last.
    let (_, csv) = fetch(format!("{base}/delegates.csv"), None).await;
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][1], "Trần Thị Bích");
    assert_eq!(rows[0][3], "Trường THPT Lý Thường Kiệt");
    assert_eq!(rows[0][4], "bich@ltk.example");
    assert_eq!(rows[0][6], "Trường THCS Lê Ích Mộc");
    assert_eq!(rows[0][7], "Chưa trả lời");
    assert_eq!(rows[1][6], "Trực tuyến");
    let (_, xlsx) = fetch(format!("{base}/delegates.xlsx"), None).await;
    assert_eq!(xlsx_rows(xlsx, "Danh sách đại biểu"), rows);

    // A district office exports its own district.
    let token = app
        .token_for("pgddt-tn", Role::DistrictOffice, Some(office))
        .await;
    let (_, csv) = fetch(format!("{base}/delegates.csv"), Some(token.clone())).await;
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (_, csv) = fetch(format!("{base}/bridge-points.csv"), Some(token)).await;
    assert_eq!(csv_rows(&csv).len(), 32);

    let (status, _) = app.get(&format!("{base}/delegates.pdf")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

async fn import(
    app: &TestApp,
    conference: i64,
    query: &str,
    body: Vec<u8>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    app.upload(
        &format!("/api/v1/conferences/{conference}/delegates/import{query}"),
        body,
        token,
    )
    .await
}

store_test!(
    a_delegate_list_imports_whole_or_reports_every_bad_row,
    |app| {
        let conference = seeded(app).await;
        let office = "Phòng Giáo dục và Đào tạo huyện Thủy Nguyên";
        let mut csv =
            String::from("\u{feff}STT;Họ và tên;Chức vụ;Đơn vị;Email;Điện thoại;Điểm cầu\r\n");
        for i in 1..=12 {
            let email = if i == 6 {
                "khong-phai-email".to_owned()
            } else {
                format!("gv{i}@pgddt-tn.example")
            };
            let unit = if i == 11 {
                "Phòng Giáo dục huyện Không Có"
            } else {
                office
            };
            let point = if i % 2 == 0 { "Trực tuyến" } else { "" };
            csv.push_str(&format!(
                "{i};Nguyễn Văn Số {i};Chuyên viên;{unit};{email};09120000{i:02};{point}\r\n"
            ));
        }
        // Row 7 (the sixth delegate) has a bad e-mail, row 12 an unknown unit.
        let (status, err) = import(app, conference, "", csv.clone().into_bytes(), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        let errors = err["error"]["errors"].as_array().expect("errors");
        let fields: Vec<&str> = errors
            .iter()
            .map(|e| e["field"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(fields, ["rows[7].email", "rows[12].unit"], "{err}");
        assert!(
            errors[0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Dòng 7, cột «email»")),
            "{err}"
        );
        assert!(
            errors[1]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Phòng Giáo dục huyện Không Có")),
            "{err}"
        );
        let office_id = id_of(app, "pgddt-thuy-nguyen").await;
        assert!(
            delegates_of(app, conference, office_id).await.is_empty(),
            "nothing imported"
        );

        // A person already known, her e-mail spelt in capitals: she is found, not made again.
        let known = person(app, office_id, "Nguyễn Văn Số 1", "GV1@pgddt-tn.example").await;
        let people = || async {
            use sea_orm::{EntityTrait, PaginatorTrait};
            hoinghi::store::person::Entity::find()
                .count(&app.db)
                .await
                .expect("people")
        };
        let people_before = people().await;

        // The valid rows only: ten delegates, the two rows reported.
        let (status, report) = import(
            app,
            conference,
            "?valid_rows_only=true",
            csv.clone().into_bytes(),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["rows"], 12);
        assert_eq!(report["created"], 10);
        let rows: Vec<u64> = report["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["row"].as_u64().unwrap_or(0))
            .collect();
        assert_eq!(rows, [7, 12]);
        let named = delegates_of(app, conference, office_id).await;
        assert_eq!(named.len(), 10);
        assert!(
            named.iter().any(|d| d["person_id"] == known),
            "the known person reused"
        );
        assert_eq!(people().await, people_before + 9);
        // Left empty, the place is the unit's bridge point; "Trực tuyến" is online.
        let point = id_of(app, "bp-dvht-tn-00").await;
        assert_eq!(
            named
                .iter()
                .filter(|d| d["bridge_point_id"] == point)
                .count(),
            5
        );
        assert_eq!(named.iter().filter(|d| d["venue"] == "online").count(), 5);

        // The same file again changes nothing.
        let (status, again) = import(
            app,
            conference,
            "?valid_rows_only=true",
            csv.into_bytes(),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(
            (
                again["created"].as_u64(),
                again["updated"].as_u64(),
                again["unchanged"].as_u64()
            ),
            (Some(0), Some(0), Some(10))
        );
        assert_eq!(delegates_of(app, conference, office_id).await.len(), 10);
        assert_eq!(people().await, people_before + 9, "nobody made twice");

        // A quota holds across the file: UBND huyện sends one.
        let quota = "Họ và tên,Đơn vị,Email\r\nA,UBND huyện Thủy Nguyên,a@tn.example\r\nB,UBND huyện Thủy Nguyên,b@tn.example\r\n";
        let (status, err) = import(app, conference, "", quota.as_bytes().to_vec(), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["error"]["errors"][0]["field"], "rows[3].unit", "{err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("đã cử đủ 01 người")),
            "{err}"
        );

        // Headings that are missing, and a district office outside its area.
        let (status, err) = import(
            app,
            conference,
            "",
            b"Ten,Email\r\nA,a@x.example\r\n".to_vec(),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(error_field(&err), "file");
        let token = app
            .token_for("pgddt-tn", Role::DistrictOffice, Some(office_id))
            .await;
        // Nor at another district's bridge point.
        let other_point = "Họ và tên,Đơn vị,Email,Điểm cầu\r\nD,Phòng Giáo dục và Đào tạo huyện Thủy Nguyên,d@tn.example,Điểm cầu Phòng Giáo dục và Đào tạo huyện An Dương\r\n";
        let (status, err) = import(
            app,
            conference,
            "",
            other_point.as_bytes().to_vec(),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(
            err["error"]["errors"][0]["field"], "rows[2].bridge_point",
            "{err}"
        );
        let (status, body) =
            import(app, conference, "", other_point.as_bytes().to_vec(), None).await;
        assert_eq!(status, StatusCode::OK, "staff may: {body}");
        let outside = "Họ và tên,Đơn vị,Email\r\nC,UBND huyện An Dương,c@ad.example\r\n";
        let (status, err) = import(
            app,
            conference,
            "",
            outside.as_bytes().to_vec(),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["error"]["errors"][0]["field"], "rows[2].unit", "{err}");
    }
);

store_test!(an_exported_delegate_list_imports_back_the_same, |app| {
    let conference = seeded(app).await;
    let path = format!("/api/v1/conferences/{conference}");
    let school = id_of(app, "thpt-tn-ly-thuong-kiet").await;
    let office = id_of(app, "pgddt-thuy-nguyen").await;
    for (unit, name, email, place) in [
        (
            school,
            "Trần Thị Bích",
            "bich@ltk.example",
            Some(id_of(app, "bp-dvht-tn-19").await),
        ),
        (office, "Lê Văn Cường", "cuong@pgddt.example", None),
        (
            office,
            "Phạm Thu Hà",
            "ha@pgddt.example",
            Some(id_of(app, "bp-dvht-tn-00").await),
        ),
    ] {
        let p = person(app, unit, name, email).await;
        let mut body = nomination(conference, p, unit);
        if let Some(b) = place {
            body["venue"] = json!("bridge_point");
            body["bridge_point_id"] = json!(b);
        }
        app.create("/api/v1/delegates", body).await;
    }
    let get = |suffix: &'static str| {
        let url = format!("{}{path}/{suffix}", app.address);
        async move {
            app.client
                .get(url)
                .bearer_auth(&app.admin_token)
                .send()
                .await
                .expect("export")
                .bytes()
                .await
                .expect("body")
                .to_vec()
        }
    };
    let before = get("delegates.csv").await;
    let xlsx = get("delegates.xlsx").await;
    // Every delegate goes; the workbook brings them back.
    let (_, all) = app
        .get(&format!("/api/v1/delegates?conference={conference}"))
        .await;
    for d in all["items"].as_array().expect("items") {
        let (status, _) = app.delete(&format!("/api/v1/delegates/{}", d["id"])).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let (status, report) = import(app, conference, "", xlsx, None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 3, "{report}");
    assert_eq!(report["ignored_columns"], json!(["Trả lời"]));
    assert_eq!(get("delegates.csv").await, before);
});

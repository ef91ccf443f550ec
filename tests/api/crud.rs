//! Create → read → update → delete for every resource; paging and filters.
use crate::helpers::*;
use crate::store_test;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Creates, reads, replaces, finds by `filter`, deletes, and checks it is gone.
async fn round_trip(
    app: &TestApp,
    path: &str,
    create: Value,
    update: Value,
    changed: &str,
    filter: &str,
) {
    let (status, created) = app.post(path, create.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "POST {path}: {created}");
    let id = created["id"].as_i64().unwrap();
    for (k, v) in create.as_object().unwrap() {
        if !k.ends_with("_at") {
            assert_eq!(&created[k], v, "{path}: field {k} as created");
        }
    }
    let (status, read) = app.get(&format!("{path}/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, created, "{path}: read equals created");
    let (status, updated) = app.put(&format!("{path}/{id}"), update.clone()).await;
    assert_eq!(status, StatusCode::OK, "PUT {path}: {updated}");
    assert_eq!(
        updated[changed], update[changed],
        "{path}: {changed} replaced"
    );
    assert_eq!(
        updated["created_at"], created["created_at"],
        "{path}: created_at kept"
    );
    let (status, list) = app.get(&format!("{path}?{filter}")).await;
    assert_eq!(status, StatusCode::OK, "{path}?{filter}: {list}");
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id),
        "{path}?{filter} lists it"
    );
    let (status, _) = app.delete(&format!("{path}/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get(&format!("{path}/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

store_test!(every_resource_round_trips, |app| {
    let city = app
        .unit("UBND thành phố Hải Phòng", "people_committee", None, None)
        .await;
    let so = app
        .unit(
            "Sở Giáo dục và Đào tạo",
            "department",
            Some(city),
            Some(city),
        )
        .await;
    round_trip(
        app,
        "/api/v1/units",
        json!({"name": "Trường THPT Thủy Sơn", "kind": "school", "school_level": "thpt", "parent_id": so,
               "mailbox": "thpt-thuyson@haiphong.example"}),
        json!({"name": "Trường THPT Thủy Sơn", "kind": "school", "school_level": "thpt", "parent_id": so,
               "mailbox": "vanthu@thpt-thuyson.example"}),
        "mailbox",
        &format!("parent={so}&kind=school"),
    )
    .await;
    round_trip(
        app,
        "/api/v1/people",
        json!({"full_name": "Nguyễn Văn An", "unit_id": so, "email": "an@sogddt.example", "honorific": "Ông"}),
        json!({"full_name": "Nguyễn Văn An", "unit_id": so, "email": "an@sogddt.example", "position": "Chuyên viên"}),
        "position",
        &format!("unit={so}"),
    )
    .await;
    round_trip(
        app,
        "/api/v1/halls",
        json!({"name": "Hội trường tầng 3", "unit_id": so, "capacity": 150, "address": "Số 36 phố Minh Khai"}),
        json!({"name": "Hội trường tầng 3", "unit_id": so, "capacity": 120, "address": "Số 36 phố Minh Khai"}),
        "capacity",
        &format!("unit={so}"),
    )
    .await;
    round_trip(
        app,
        "/api/v1/speakers",
        json!({"full_name": "Đỗ Hồng Hải", "honorific": "Ông", "unit_id": so}),
        json!({"full_name": "Đỗ Hồng Hải", "honorific": "Ông", "unit_id": so, "position": "Phó Trưởng phòng"}),
        "position",
        &format!("unit={so}"),
    )
    .await;
    let plan = json!({"issuing_unit_id": so, "number": 1609, "symbol": "KH-SGDĐT", "place": "Hải Phòng",
                      "issued_on": "2024-12-05", "title": "Tổ chức Hội nghị tập huấn",
                      "legal_bases": ["Căn cứ Thông tư số 24/2023/TT-BGDĐT;"],
                      "sections": [{"heading": "I. MỤC ĐÍCH, YÊU CẦU", "body": "- Hướng dẫn…"}],
                      "recipients": [{"name": "UBND TP", "purpose": "để b/c"}],
                      "signatory_position": "GIÁM ĐỐC", "signatory_name": "Bùi Văn Kiệt"});
    let mut plan2 = plan.clone();
    plan2["title"] = json!("Tổ chức Hội nghị tập huấn (sửa đổi)");
    round_trip(
        app,
        "/api/v1/plans",
        plan.clone(),
        plan2,
        "title",
        "year=2024",
    )
    .await;
    let plan_id = app.create("/api/v1/plans", plan).await;
    round_trip(
        app,
        "/api/v1/plan-tasks",
        json!({"plan_id": plan_id, "position": 1, "content": "Tổ chức Hội nghị triển khai", "lead_unit_id": so,
               "supporting_unit_ids": [city], "period": "Quý I năm 2022"}),
        json!({"plan_id": plan_id, "position": 1, "content": "Tổ chức Hội nghị triển khai", "lead_unit_id": so,
               "supporting_unit_ids": [city], "period": "Tháng 01/2023"}),
        "period",
        &format!("plan={plan_id}"),
    )
    .await;
    let hall = app
        .create(
            "/api/v1/halls",
            json!({"name": "Hội trường A", "unit_id": so}),
        )
        .await;
    let conf = json!({"plan_id": plan_id, "organiser_unit_id": so, "title": "Hội nghị tập huấn", "mode": "hybrid",
                      "starts_at": "2024-12-18T01:00:00Z", "ends_at": "2024-12-18T04:30:00Z", "hall_ids": [hall],
                      "time_zone": "Asia/Ho_Chi_Minh", "status": "draft"});
    let mut conf2 = conf.clone();
    conf2["title"] = json!("Hội nghị tập huấn về xây dựng “Đơn vị học tập”");
    // Instants come back in UTC with the same meaning.
    let (_, c) = app.post("/api/v1/conferences", conf.clone()).await;
    assert_eq!(c["starts_at"], "2024-12-18T01:00:00Z");
    assert_eq!(c["hall_ids"], json!([hall]));
    app.delete(&format!("/api/v1/conferences/{}", c["id"]))
        .await;
    round_trip(
        app,
        "/api/v1/conferences",
        conf.clone(),
        conf2,
        "title",
        &format!("plan={plan_id}&status=draft"),
    )
    .await;
    let conf_id = app.create("/api/v1/conferences", conf).await;
    let speaker = app
        .create(
            "/api/v1/speakers",
            json!({"full_name": "Nguyễn Anh Thuận", "honorific": "Ông"}),
        )
        .await;
    round_trip(
        app,
        "/api/v1/agenda-items",
        json!({"conference_id": conf_id, "starts_at": "2024-12-18T01:15:00Z", "ends_at": "2024-12-18T01:30:00Z",
               "content": "Giới thiệu khái quát Thông tư số 24", "performer": "Báo cáo viên Nguyễn Anh Thuận",
               "speaker_ids": [speaker]}),
        json!({"conference_id": conf_id, "starts_at": "2024-12-18T01:15:00Z", "ends_at": "2024-12-18T01:30:00Z",
               "content": "Giới thiệu khái quát Thông tư số 24/2023", "speaker_ids": [speaker]}),
        "content",
        &format!("conference={conf_id}"),
    )
    .await;
    let commune = app
        .unit("UBND xã An Lư", "people_committee", Some(city), None)
        .await;
    round_trip(
        app,
        "/api/v1/attendance-rules",
        json!({"conference_id": conf_id, "position": 1, "description": "01 người/UBND cấp xã", "venue": "bridge_point",
               "quota": 1, "unit_kind": "people_committee", "area_level": "commune", "unit_ids": [commune]}),
        json!({"conference_id": conf_id, "position": 1, "description": "01 người/UBND cấp xã", "venue": "bridge_point",
               "quota": 2, "unit_kind": "people_committee", "area_level": "commune", "unit_ids": [commune]}),
        "quota",
        &format!("conference={conf_id}"),
    )
    .await;
    let school = app
        .unit("Trường THCS An Lư", "school", Some(city), Some(commune))
        .await;
    round_trip(
        app,
        "/api/v1/bridge-points",
        json!({"conference_id": conf_id, "position": 1, "name": "Trường THCS An Lư", "host_unit_id": school,
               "coordinating_unit_id": city, "capacity": 30, "unit_ids": [commune, school]}),
        json!({"conference_id": conf_id, "position": 1, "name": "Trường THCS An Lư", "host_unit_id": school,
               "coordinating_unit_id": city, "capacity": 40, "unit_ids": [commune, school]}),
        "capacity",
        &format!("conference={conf_id}&host={school}"),
    )
    .await;
    let point = app
        .create("/api/v1/bridge-points", json!({"conference_id": conf_id, "name": "Điểm cầu", "host_unit_id": school,
                                                "coordinating_unit_id": city, "unit_ids": [commune]}))
        .await;
    let person = app
        .create(
            "/api/v1/people",
            json!({"full_name": "Trần Thị Bình", "unit_id": commune}),
        )
        .await;
    round_trip(
        app,
        "/api/v1/delegates",
        json!({"conference_id": conf_id, "person_id": person, "unit_id": commune, "venue": "bridge_point",
               "bridge_point_id": point}),
        json!({"conference_id": conf_id, "person_id": person, "unit_id": commune, "venue": "bridge_point",
               "bridge_point_id": point, "reply": "accepted"}),
        "reply",
        &format!("conference={conf_id}&bridge_point={point}"),
    )
    .await;
    // The nested read gathers everything of the conference in one call.
    let item = app
        .create("/api/v1/agenda-items", json!({"conference_id": conf_id, "starts_at": "2024-12-18T08:15",
                                               "ends_at": "2024-12-18T08:30", "content": "Khai mạc", "speaker_ids": [speaker]}))
        .await;
    let (status, detail) = app
        .get(&format!("/api/v1/conferences/{conf_id}/detail"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["halls"][0]["id"], hall);
    assert_eq!(detail["agenda"][0]["id"], item);
    assert_eq!(
        detail["agenda"][0]["starts_at"], "2024-12-18T01:15:00Z",
        "a local time is read in the conference's zone"
    );
    assert_eq!(detail["speakers"][0]["id"], speaker);
    assert_eq!(detail["bridge_points"][0]["id"], point);
    assert_eq!(detail["bridge_points"][0]["unit_ids"], json!([commune]));
});

store_test!(lists_are_paged_and_filtered, |app| {
    let root = app.unit("UBND tỉnh", "people_committee", None, None).await;
    for i in 0..7 {
        app.unit(
            &format!("Trường Tiểu học số {i}"),
            "school",
            Some(root),
            None,
        )
        .await;
    }
    let (status, page) = app
        .get(&format!("/api/v1/units?parent={root}&per_page=3&page=3"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 7);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["per_page"], 3);
    let (_, all) = app.get(&format!("/api/v1/units?within={root}")).await;
    assert_eq!(all["total"], 8, "within includes the unit itself");
    let (_, found) = app.get("/api/v1/units?q=s%E1%BB%91%205").await;
    assert_eq!(found["total"], 1, "{found}");
    let (status, bad) = app.get("/api/v1/units?per_page=501").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&bad), "per_page");
    let (status, bad) = app.get("/api/v1/units?colour=red").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&bad), "colour");
    let (status, bad) = app.get("/api/v1/units?kind=castle").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&bad), "kind");
});

store_test!(
    keyset_pages_read_every_row_once_and_totals_follow_writes,
    |app| {
        // Unit 1 and unit 10: a subtree filter on 1 must not take 10's subtree (`/10/…`).
        let one = app
            .unit("UBND tỉnh A", "people_committee", None, None)
            .await;
        assert_eq!(one, 1, "fresh database");
        for i in 0..8 {
            app.unit(&format!("Trường số {i}"), "school", Some(one), None)
                .await;
        }
        let ten = app
            .unit("UBND tỉnh B", "people_committee", None, None)
            .await;
        assert_eq!(ten, 10);
        for i in 0..2 {
            app.unit(&format!("Trường số {i}"), "school", Some(ten), None)
                .await;
        }
        let (_, within_one) = app.get("/api/v1/units?within=1&per_page=500").await;
        assert_eq!(within_one["total"], 9, "{within_one}");
        let (_, within_ten) = app.get("/api/v1/units?within=10").await;
        assert_eq!(within_ten["total"], 3);
        let (_, within_none) = app.get("/api/v1/units?within=999").await;
        assert_eq!(within_none["total"], 0);

        // Following `next_after` gives the rows of one big page, in the same order.
        let (_, all) = app.get("/api/v1/units?per_page=500").await;
        let expected: Vec<i64> = ids(&all);
        assert_eq!(expected.len(), 12);
        let mut seen = Vec::new();
        let mut url = "/api/v1/units?per_page=5".to_owned();
        loop {
            let (status, page) = app.get(&url).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert_eq!(page["total"], 12);
            seen.extend(ids(&page));
            match page["next_after"].as_i64() {
                Some(after) => url = format!("/api/v1/units?per_page=5&after={after}"),
                None => break,
            }
        }
        assert_eq!(seen, expected);
        // So do offset pages (read as a deferred join: ids first, then their rows), with a
        // filter too.
        let mut by_offset = Vec::new();
        for page in 1..=3 {
            let (status, p) = app
                .get(&format!("/api/v1/units?per_page=5&page={page}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{p}");
            by_offset.extend(ids(&p));
        }
        assert_eq!(by_offset, expected);
        let (_, schools) = app.get("/api/v1/units?kind=school&per_page=500").await;
        let mut by_offset = Vec::new();
        for page in 1..=4 {
            let (_, p) = app
                .get(&format!("/api/v1/units?kind=school&per_page=3&page={page}"))
                .await;
            by_offset.extend(ids(&p));
        }
        assert_eq!(by_offset, ids(&schools));
        assert_eq!(by_offset.len(), 10);

        // Ties in the order (three conferences at the same time) are broken by id.
        let c: Vec<i64> = [
            app.conference(one).await,
            app.conference(one).await,
            app.conference(one).await,
        ]
        .into();
        let (_, first) = app.get("/api/v1/conferences?per_page=1").await;
        let mut seen = ids(&first);
        let mut after = first["next_after"].as_i64();
        while let Some(a) = after {
            let (_, page) = app
                .get(&format!("/api/v1/conferences?per_page=1&after={a}"))
                .await;
            seen.extend(ids(&page));
            after = page["next_after"].as_i64();
        }
        assert_eq!(seen, c);

        let (status, bad) = app.get("/api/v1/units?page=2&after=3").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_field(&bad), "after");
        let (status, bad) = app.get("/api/v1/units?after=999").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            bad["error"]["errors"][0]["code"], "cursor_not_found",
            "{bad}"
        );

        // A total read just before a write is not served after it.
        let (_, before) = app.get("/api/v1/units?kind=school").await;
        assert_eq!(before["total"], 10);
        app.unit("Trường mới", "school", Some(ten), None).await;
        let (_, after_write) = app.get("/api/v1/units?kind=school").await;
        assert_eq!(after_write["total"], 11);
    }
);

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}

store_test!(moving_a_unit_moves_its_subtree, |app| {
    let a = app
        .unit("UBND huyện A", "people_committee", None, None)
        .await;
    let b = app
        .unit("UBND huyện B", "people_committee", None, None)
        .await;
    let office = app
        .unit("Phòng GDĐT", "education_office", Some(a), None)
        .await;
    let school = app.unit("Trường THCS", "school", Some(office), None).await;
    let (status, _) = app
        .put(
            &format!("/api/v1/units/{office}"),
            json!({"name": "Phòng GDĐT", "kind": "education_office", "parent_id": b}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, s) = app.get(&format!("/api/v1/units/{school}")).await;
    assert_eq!(s["path"], format!("/{b}/{office}/{school}/"));
    let (status, body) = app
        .put(
            &format!("/api/v1/units/{b}"),
            json!({"name": "UBND huyện B", "kind": "people_committee", "parent_id": school}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a unit cannot move under its own subtree"
    );
    assert_eq!(error_field(&body), "parent_id");
});

store_test!(deep_offset_pages_from_anchors_match_a_full_read, |app| {
    use hoinghi::domain::kinds::UnitKind;
    use hoinghi::store::unit;
    use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

    // 1,234 units under one root, written straight to the store. Their order (by `path`,
    // `/1/10/` before `/1/2/`) is not the order of their ids, and a kind filter keeps
    // every other one: pages far down both lists start from anchors (every 500th row).
    let root = app
        .unit("UBND tỉnh A", "people_committee", None, None)
        .await;
    let now = chrono::Utc::now().naive_utc();
    let rows: Vec<unit::ActiveModel> = (root + 1..=root + 1234)
        .map(|id| unit::ActiveModel {
            id: Set(id),
            parent_id: Set(Some(root)),
            path: Set(format!("/{root}/{id}/")),
            kind: Set(if id % 2 == 0 {
                UnitKind::School
            } else {
                UnitKind::Other
            }),
            name: Set(format!("Đơn vị số {id}")),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(200) {
        unit::Entity::insert_many(chunk.to_vec())
            .exec(&app.db)
            .await
            .expect("insert units");
    }
    if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        app.db
            .execute_unprepared(
                "SELECT setval(pg_get_serial_sequence('unit', 'id'), MAX(id)) FROM unit",
            )
            .await
            .expect("move the id sequence past the rows written");
    }

    // Every row, in order, by keyset pages.
    async fn all(app: &TestApp, filter: &str) -> Vec<i64> {
        let mut seen = Vec::new();
        let mut url = format!("/api/v1/units?per_page=500{filter}");
        loop {
            let (status, page) = app.get(&url).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            seen.extend(ids(&page));
            match page["next_after"].as_i64() {
                Some(a) => url = format!("/api/v1/units?per_page=500&after={a}{filter}"),
                None => return seen,
            }
        }
    }
    async fn page(app: &TestApp, filter: &str, per_page: usize, page: usize) -> Vec<i64> {
        let (status, p) = app
            .get(&format!(
                "/api/v1/units?per_page={per_page}&page={page}{filter}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{p}");
        ids(&p)
    }
    fn slice(all: &[i64], per_page: usize, page: usize) -> Vec<i64> {
        all.iter()
            .skip(per_page * (page - 1))
            .take(per_page)
            .copied()
            .collect()
    }

    for filter in ["", "&kind=school"] {
        let expected = all(app, filter).await;
        let total = if filter.is_empty() { 1235 } else { 617 };
        assert_eq!(expected.len(), total, "{filter}");
        assert_ne!(
            expected,
            {
                let mut sorted = expected.clone();
                sorted.sort_unstable();
                sorted
            },
            "path order differs from id order"
        );
        // Offsets before the first anchor, on one, just after, between and past the end.
        for (per_page, n) in [
            (100, 1),
            (100, 5),
            (100, 6),
            (100, 11),
            (100, 13),
            (7, 72),
            (500, 2),
            (500, 3),
            (499, 2),
            (250, 5),
            (100, 14),
        ] {
            assert_eq!(
                page(app, filter, per_page, n).await,
                slice(&expected, per_page, n),
                "{filter} per_page={per_page} page={n}"
            );
        }
    }

    // The row at position 500 (an anchor of the full list) deleted behind the server's
    // back, just after the anchors were read: the page is read without it.
    let expected = all(app, "").await;
    assert_eq!(page(app, "", 100, 6).await, slice(&expected, 100, 6));
    let anchor = expected[500];
    unit::Entity::delete_by_id(anchor)
        .exec(&app.db)
        .await
        .expect("delete the anchor row");
    let mut without = expected.clone();
    without.remove(500);
    assert_eq!(page(app, "", 100, 6).await, slice(&without, 100, 6));

    // A write through the server forgets the anchors: the pages follow the unit added.
    let first = app.unit("Đơn vị đầu", "other", Some(root), None).await;
    let now_all = all(app, "").await;
    assert_eq!(now_all.len(), 1235);
    assert!(now_all.contains(&first));
    for (per_page, n) in [(100, 6), (100, 12), (500, 2)] {
        assert_eq!(
            page(app, "", per_page, n).await,
            slice(&now_all, per_page, n),
            "after a write: per_page={per_page} page={n}"
        );
    }
});

//! Each validation rule names its field; bad input never writes half a record.
use crate::helpers::*;
use crate::store_test;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use sea_orm::PaginatorTrait;
use serde_json::json;

async fn refused(app: &TestApp, path: &str, body: serde_json::Value, field: &str, code: &str) {
    let (status, v) = app.post(path, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {v}");
    assert_eq!(v["error"]["code"], "validation_failed");
    let errors = v["error"]["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["field"] == field && e["code"] == code),
        "{path}: expected {field}/{code} in {v}"
    );
    assert!(!v["error"]["message"].as_str().unwrap().is_empty());
}

store_test!(each_rule_names_its_field, |app| {
    let so = app.unit("Sở GDĐT", "department", None, None).await;
    let conf = |starts: &str, ends: &str, tz: &str| json!({"organiser_unit_id": so, "title": "Hội nghị", "mode": "online", "starts_at": starts, "ends_at": ends, "time_zone": tz});
    refused(
        app,
        "/api/v1/conferences",
        conf("2024-12-18T08:00", "2024-12-18T07:00", "Asia/Ho_Chi_Minh"),
        "ends_at",
        "end_before_start",
    )
    .await;
    refused(
        app,
        "/api/v1/conferences",
        conf("2024-12-18T08:00", "2024-12-18T08:00", "Asia/Ho_Chi_Minh"),
        "ends_at",
        "end_before_start",
    )
    .await;
    refused(
        app,
        "/api/v1/conferences",
        conf("2024-12-18T08:00", "2024-12-18T09:00", "Asia/Hanoi_City"),
        "time_zone",
        "invalid_time_zone",
    )
    .await;
    refused(
        app,
        "/api/v1/units",
        json!({"name": "X", "kind": "school", "mailbox": "vanthu@"}),
        "mailbox",
        "invalid_email",
    )
    .await;
    refused(
        app,
        "/api/v1/people",
        json!({"full_name": "A", "email": "khong co a-cong"}),
        "email",
        "invalid_email",
    )
    .await;
    refused(
        app,
        "/api/v1/units",
        json!({"name": "   ", "kind": "school"}),
        "name",
        "required",
    )
    .await;
    refused(
        app,
        "/api/v1/units",
        json!({"name": "đ".repeat(301), "kind": "school"}),
        "name",
        "too_long",
    )
    .await;
    refused(
        app,
        "/api/v1/halls",
        json!({"name": "H", "capacity": 0}),
        "capacity",
        "too_small",
    )
    .await;
    let c = app.conference(so).await;
    refused(
        app,
        "/api/v1/attendance-rules",
        json!({"conference_id": c, "description": "01 người/đơn vị", "venue": "hall", "quota": 0}),
        "quota",
        "too_small",
    )
    .await;
    refused(
        app,
        "/api/v1/units",
        json!({"name": "X", "kind": "school", "parent_id": 987654}),
        "parent_id",
        "not_found",
    )
    .await;
    refused(
        app,
        "/api/v1/units",
        json!({"name": "X", "kind": "school", "colour": "red"}),
        "colour",
        "unknown_field",
    )
    .await;
    refused(
        app,
        "/api/v1/units",
        json!({"name": "X"}),
        "kind",
        "required",
    )
    .await;
    refused(
        app,
        "/api/v1/units",
        json!({"name": "X", "kind": "castle"}),
        "kind",
        "invalid_value",
    )
    .await;
    refused(
        app,
        "/api/v1/halls",
        json!({"name": "X", "capacity": "many"}),
        "capacity",
        "invalid_value",
    )
    .await;
    refused(
        app,
        "/api/v1/conferences",
        conf("18/12/2024", "2024-12-18T09:00", "Asia/Ho_Chi_Minh"),
        "starts_at",
        "invalid_value",
    )
    .await;
    let (status, v) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/units",
            Some(&app.admin_token),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an empty body: {v}"
    );
});

store_test!(text_is_stored_nfc, |app| {
    use unicode_normalization::UnicodeNormalization;
    let expected = "Trường Mầm non Hoà Bình";
    let decomposed: String = expected.nfd().collect();
    assert_ne!(decomposed, expected, "the input really is decomposed");
    let id = app
        .create(
            "/api/v1/units",
            json!({"name": decomposed, "kind": "school"}),
        )
        .await;
    let (_, u) = app.get(&format!("/api/v1/units/{id}")).await;
    let name = u["name"].as_str().unwrap();
    assert_eq!(name, expected);
    assert!(unicode_normalization::is_nfc(name));
});

store_test!(duplicates_are_conflicts, |app| {
    let so = app.unit("Sở GDĐT", "department", None, None).await;
    app.unit("Phòng GDTX&ĐH", "division", Some(so), None).await;
    let (status, v) = app
        .post(
            "/api/v1/units",
            json!({"name": "Phòng GDTX&ĐH", "kind": "division", "parent_id": so}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "conflict");
    app.create(
        "/api/v1/people",
        json!({"full_name": "A", "email": "a@x.example"}),
    )
    .await;
    let (status, _) = app
        .post(
            "/api/v1/people",
            json!({"full_name": "B", "email": "a@x.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let c = app.conference(so).await;
    let p = app
        .create("/api/v1/people", json!({"full_name": "C"}))
        .await;
    let d = json!({"conference_id": c, "person_id": p, "unit_id": so, "venue": "online"});
    app.create("/api/v1/delegates", d.clone()).await;
    let (status, _) = app.post("/api/v1/delegates", d).await;
    assert_eq!(status, StatusCode::CONFLICT);
});

store_test!(bad_input_writes_nothing, |app| {
    let so = app.unit("Sở GDĐT", "department", None, None).await;
    let before = hoinghi::store::conference::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    let (status, v) = app
        .post(
            "/api/v1/conferences",
            json!({"organiser_unit_id": so, "title": "Hội nghị", "mode": "in_person",
            "starts_at": "2024-12-18T08:00", "ends_at": "2024-12-18T11:00", "hall_ids": [424242]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&v), "hall_ids[0]");
    assert_eq!(
        hoinghi::store::conference::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        before
    );
    // A unit still referenced cannot be deleted, and stays.
    let school = app.unit("Trường", "school", Some(so), None).await;
    let (status, v) = app.delete(&format!("/api/v1/units/{so}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let (status, _) = app.get(&format!("/api/v1/units/{school}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get("/api/v1/units/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

store_test!(oversized_bodies_are_refused, |app| {
    let big = "x".repeat(100 * 1024);
    let (status, v) = app
        .post("/api/v1/units", json!({"name": big, "kind": "school"}))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(v["error"]["code"], "payload_too_large");
});

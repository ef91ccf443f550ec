//! Scheduling checks through the API: the seeded plan is clean, moving the afternoon
//! conference onto the morning one gives the hall and speaker clashes, publishing with
//! errors is refused and changes nothing, and the agenda edits move what they should.
use crate::helpers::*;
use crate::store_test;
use hoinghi::services::seed;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn seeded(app: &TestApp) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed");
    seed::load_dir(&app.db, &dir).await.expect("seed loads");
}

/// The id of the seed row with `key`.
fn codes(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn with_code<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == code)
        .collect()
}

fn named(d: &Value, kind: &str) -> Vec<i64> {
    d["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| o["kind"] == kind)
        .map(|o| o["id"].as_i64().expect("id"))
        .collect()
}

/// The body of a PUT that keeps everything of `conf` but `status`.
fn conference_input(conf: &Value, status: &str) -> Value {
    let mut input = json!({});
    for k in [
        "plan_id",
        "organiser_unit_id",
        "title",
        "summary",
        "starts_at",
        "ends_at",
        "time_zone",
        "mode",
        "join_url",
        "join_passcode",
        "hall_ids",
    ] {
        input[k] = conf[k].clone();
    }
    input["status"] = json!(status);
    input
}

store_test!(
    the_seeded_plan_has_no_errors_until_the_afternoon_moves_to_11h,
    |app| {
        seeded(app).await;
        let plan = id_of(app, "plan-1609").await;
        let (morning, afternoon) = (id_of(app, "conf-dvht").await, id_of(app, "conf-cdht").await);
        let (status, report) = app.get(&format!("/api/v1/plans/{plan}/checks")).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["errors"], 0, "{report}");
        let (_, period) = app
            .get("/api/v1/checks?from=2024-12-18&to=2024-12-18")
            .await;
        assert_eq!(period["errors"], 0, "{period}");

        let (status, moved) = app
            .post(
                &format!("/api/v1/conferences/{afternoon}/reschedule"),
                json!({"starts_at": "2024-12-18T11:00"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["conference"]["starts_at"], "2024-12-18T04:00:00Z");
        assert_eq!(moved["conference"]["ends_at"], "2024-12-18T07:00:00Z");
        // The agenda moved with it: its first item (13h30 reception) is now at 10h30.
        assert_eq!(moved["agenda"][0]["starts_at"], "2024-12-18T03:30:00Z");
        let checks = &moved["checks"];
        let hall = with_code(checks, "hall_double_booked");
        assert_eq!(hall.len(), 1, "{checks}");
        assert_eq!(hall[0]["severity"], "error");
        assert_eq!(
            named(hall[0], "hall"),
            vec![id_of(app, "hall-sogddt-t3").await]
        );
        let mut confs = named(hall[0], "conference");
        confs.sort_unstable();
        assert_eq!(confs, vec![morning, afternoon]);
        // The same three speakers present in both conferences, now at the same time. Their
        // own items do not overlap (the afternoon's moved 3 hours earlier: 11h15, 11h30,
        // 13h30 against 8h15, 8h30, 11h00), so each is a warning, not an error.
        let (_, detail) = app
            .get(&format!("/api/v1/conferences/{afternoon}/detail"))
            .await;
        let speakers_of_both: Vec<i64> = detail["speakers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .collect();
        assert_eq!(speakers_of_both.len(), 3);
        let speakers = with_code(checks, "speaker_in_overlapping_conferences");
        let mut warned: Vec<i64> = speakers.iter().flat_map(|d| named(d, "speaker")).collect();
        warned.sort_unstable();
        let mut expected = speakers_of_both.clone();
        expected.sort_unstable();
        assert_eq!(warned, expected, "{checks}");
        assert!(speakers.iter().all(|d| d["severity"] == "warning"));
        assert!(with_code(checks, "speaker_double_booked").is_empty());

        // At 08h00 the two agendas coincide: the speakers' items overlap, which is an error.
        let (_, at_eight) = app
            .post(
                &format!("/api/v1/conferences/{afternoon}/reschedule"),
                json!({"starts_at": "2024-12-18T08:00"}),
            )
            .await;
        let clashes = with_code(&at_eight["checks"], "speaker_double_booked");
        assert_eq!(clashes.len(), 2, "{}", at_eight["checks"]);
        for d in &clashes {
            assert_eq!(d["severity"], "error");
            assert_eq!(named(d, "agenda_item").len(), 2);
            let mut confs = named(d, "conference");
            confs.sort_unstable();
            assert_eq!(confs, vec![morning, afternoon]);
        }
        let (_, eleven) = app
            .post(
                &format!("/api/v1/conferences/{afternoon}/reschedule"),
                json!({"starts_at": "2024-12-18T11:00"}),
            )
            .await;
        assert_eq!(eleven["conference"]["starts_at"], "2024-12-18T04:00:00Z");

        // Both sides see the clash.
        let (_, morning_report) = app
            .get(&format!("/api/v1/conferences/{morning}/checks"))
            .await;
        assert!(codes(&morning_report).contains(&"hall_double_booked".to_owned()));
    }
);

store_test!(
    publishing_with_errors_is_refused_and_changes_nothing,
    |app| {
        seeded(app).await;
        let (morning, afternoon) = (id_of(app, "conf-dvht").await, id_of(app, "conf-cdht").await);
        app.post(
            &format!("/api/v1/conferences/{afternoon}/reschedule"),
            json!({"starts_at": "2024-12-18T11:00"}),
        )
        .await;
        let (_, before) = app.get(&format!("/api/v1/conferences/{afternoon}")).await;
        let (status, refused) = app
            .put(
                &format!("/api/v1/conferences/{afternoon}"),
                conference_input(&before, "published"),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert_eq!(refused["error"]["code"], "checks_failed");
        let diagnostics = refused["error"]["diagnostics"].as_array().expect("listed");
        assert!(
            diagnostics
                .iter()
                .any(|d| d["code"] == "hall_double_booked" && d["severity"] == "error")
        );
        let (_, after) = app.get(&format!("/api/v1/conferences/{afternoon}")).await;
        assert_eq!(after, before, "nothing changed, not even the sequence");

        // Moved back, it publishes; its warnings (the reception before the opening) remain
        // listed by the checks, and the sequence grows.
        let (status, back) = app
            .post(
                &format!("/api/v1/conferences/{afternoon}/reschedule"),
                json!({"starts_at": "2024-12-18T14:00"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(back["checks"]["errors"], 0, "{}", back["checks"]);
        assert!(codes(&back["checks"]).contains(&"agenda_before_opening".to_owned()));
        let (_, current) = app.get(&format!("/api/v1/conferences/{afternoon}")).await;

        // The publish action lists the warnings and wants them acknowledged.
        let publish = format!("/api/v1/conferences/{afternoon}/publish");
        let (status, unacknowledged) = app.post(&publish, json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{unacknowledged}");
        let listed = unacknowledged["error"]["diagnostics"].as_array().unwrap();
        assert!(!listed.is_empty());
        assert!(listed.iter().all(|d| d["severity"] == "warning"));
        let (_, still) = app.get(&format!("/api/v1/conferences/{afternoon}")).await;
        assert_eq!(still, current, "a refused publication changes nothing");
        let (status, published) = app
            .post(&publish, json!({"acknowledge_warnings": true}))
            .await;
        assert_eq!(status, StatusCode::OK, "{published}");
        assert_eq!(published["conference"]["status"], "published");
        assert!(published["conference"]["sequence"].as_i64() > current["sequence"].as_i64());
        assert_eq!(published["checks"]["errors"], 0);

        // A plain PUT publishes too, refused only by errors.
        let (_, other) = app.get(&format!("/api/v1/conferences/{morning}")).await;
        assert_eq!(other["status"], "draft");
        let (status, put) = app
            .put(
                &format!("/api/v1/conferences/{morning}"),
                conference_input(&other, "published"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{put}");
        assert_eq!(put["status"], "published");
    }
);

store_test!(agenda_moves_and_inserts_shift_the_later_items, |app| {
    seeded(app).await;
    let morning = id_of(app, "conf-dvht").await;
    let (_, detail) = app
        .get(&format!("/api/v1/conferences/{morning}/detail"))
        .await;
    let agenda = detail["agenda"].as_array().unwrap().clone();
    let starts = |a: &[Value]| -> Vec<String> {
        a.iter()
            .map(|i| i["starts_at"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = starts(&agenda);
    let third = agenda[2]["id"].as_i64().unwrap();
    let sequence = detail["sequence"].as_i64().expect("sequence");

    // Move the third item 15 minutes later: it and everything after it move, not before.
    let new_start =
        chrono::DateTime::parse_from_rfc3339(&before[2]).unwrap() + chrono::TimeDelta::minutes(15);
    let (status, moved) = app
        .post(
            &format!("/api/v1/conferences/{morning}/agenda/{third}/move"),
            json!({"starts_at": new_start.to_rfc3339()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let after = starts(moved["agenda"].as_array().unwrap());
    assert_eq!(after.len(), before.len());
    for (i, (a, b)) in after.iter().zip(&before).enumerate() {
        let shift = chrono::DateTime::parse_from_rfc3339(a).unwrap()
            - chrono::DateTime::parse_from_rfc3339(b).unwrap();
        let expected = if i >= 2 { 15 } else { 0 };
        assert_eq!(shift.num_minutes(), expected, "item {i}");
    }
    assert!(moved["conference"]["sequence"].as_i64().unwrap() > sequence);
    // The last item now ends after 11h30 and a gap opened before the third item.
    let codes = codes(&moved["checks"]);
    assert!(
        codes.contains(&"agenda_outside_conference".to_owned()),
        "{codes:?}"
    );
    assert!(codes.contains(&"agenda_gap".to_owned()), "{codes:?}");

    // Insert a 10-minute item at 09h00 local: the items from 09h00 on move 10 minutes.
    let (status, inserted) = app
        .post(
            &format!("/api/v1/conferences/{morning}/agenda"),
            json!({"conference_id": morning, "starts_at": "2024-12-18T09:00",
                   "ends_at": "2024-12-18T09:10", "content": "Giải lao"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inserted}");
    let items = inserted["agenda"].as_array().unwrap();
    assert_eq!(items.len(), before.len() + 1);
    let nine = "2024-12-18T02:00:00Z";
    let at_nine: Vec<&Value> = items.iter().filter(|i| i["starts_at"] == nine).collect();
    assert_eq!(at_nine.len(), 1, "only the new item starts at 09h00");
    assert_eq!(at_nine[0]["content"], "Giải lao");
    for (old, new) in after
        .iter()
        .zip(starts(items).iter().filter(|s| *s != nine))
    {
        let shift = chrono::DateTime::parse_from_rfc3339(new).unwrap()
            - chrono::DateTime::parse_from_rfc3339(old).unwrap();
        let expected = if old.as_str() >= nine { 10 } else { 0 };
        assert_eq!(shift.num_minutes(), expected, "{old} → {new}");
    }

    // Bad input is named and changes nothing.
    let (status, bad) = app
        .post(
            &format!("/api/v1/conferences/{morning}/agenda"),
            json!({"conference_id": morning, "starts_at": "2024-12-18T10:00",
                   "ends_at": "2024-12-18T09:00", "content": "Sai giờ"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&bad), "ends_at");
    let (_, unchanged) = app
        .get(&format!("/api/v1/conferences/{morning}/detail"))
        .await;
    assert_eq!(unchanged["agenda"].as_array().unwrap().len(), items.len());
    let (status, _) = app
        .post(
            &format!("/api/v1/conferences/{morning}/agenda/999999/move"),
            json!({"starts_at": "2024-12-18T09:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

store_test!(period_checks_name_their_bad_parameters, |app| {
    for (query, field) in [
        ("from=2024-12-01", "to"),
        ("to=2024-12-01", "from"),
        ("from=18/12/2024&to=2024-12-31", "from"),
        ("from=2024-12-31&to=2024-12-01", "to"),
        ("from=2024-12-01&to=2024-12-31&plan=1", "plan"),
    ] {
        let (status, body) = app.get(&format!("/api/v1/checks?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(error_field(&body), field, "{query}: {body}");
    }
    let (status, empty) = app
        .get("/api/v1/checks?from=2024-12-01&to=2024-12-31")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        empty,
        json!({"errors": 0, "warnings": 0, "diagnostics": []})
    );
    let (status, _) = app.get("/api/v1/plans/424242/checks").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

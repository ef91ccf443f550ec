//! Invitations read back by independent parsers: Python `icalendar` (missing time zones,
//! times in UTC, attendees), Radicale's `--verify-item`, and Mozilla's ical.js
//! (Thunderbird's parser: occurrences of a series with its overrides). Each checker that is
//! not installed is skipped with a notice, or fails where `HOINGHI_TEST_REQUIRE_CHECKERS` is
//! set; `.ci/run` installs them all and sets it.
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use hoinghi::calendar::invite::{Attendee, Day, Invite, Method, Party, to_ics};
use hoinghi::domain::kinds::{DelegateRole, Reply};
use serde_json::Value;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

fn invite(method: Method, days: Vec<Day>) -> Invite {
    Invite {
        method,
        uid: "conference-1-delegate-7@hoinghi.example".into(),
        sequence: if method == Method::Cancel { 3 } else { 2 },
        stamp: utc("2024-12-10T03:00:00Z"),
        time_zone: chrono_tz::Asia::Ho_Chi_Minh,
        days,
        summary: "Hội nghị tập huấn về xây dựng “Đơn vị học tập” cấp huyện, tỉnh — buổi sáng \
                  tại Hội trường tầng 3 và 32 điểm cầu trực tuyến của huyện Thủy Nguyên"
            .into(),
        location: "Hội trường tầng 3, cơ quan Sở GDĐT; số 36 phố Minh Khai, Hồng Bàng".into(),
        description: "7h30-8h00: Đón tiếp đại biểu\n8h00-8h10: Tuyên bố lí do, giới thiệu".into(),
        url: None,
        organizer: Party {
            name: "Sở GDĐT Hải Phòng".into(),
            email: "vanthu@sogddt-haiphong.example".into(),
        },
        attendees: vec![Attendee {
            party: Party {
                name: "Nguyễn Văn \"An\", Hiệu trưởng".into(),
                email: "an@thpt.example".into(),
            },
            role: DelegateRole::ReqParticipant,
            reply: Reply::NeedsAction,
        }],
        alarms: vec![Duration::days(1), Duration::hours(1)],
    }
}

fn morning() -> Vec<Day> {
    vec![Day {
        starts_at: utc("2024-12-18T01:00:00Z"),
        ends_at: utc("2024-12-18T04:30:00Z"),
    }]
}

/// Monday 8h00–17h00, Tuesday 8h00–11h30, Thursday 8h00–17h00 (Hải Phòng time).
fn three_days() -> Vec<Day> {
    let day = |s: &str, e: &str| Day {
        starts_at: utc(s),
        ends_at: utc(e),
    };
    vec![
        day("2024-12-16T01:00:00Z", "2024-12-16T10:00:00Z"),
        day("2024-12-17T01:00:00Z", "2024-12-17T04:30:00Z"),
        day("2024-12-19T01:00:00Z", "2024-12-19T10:00:00Z"),
    ]
}

pub(crate) fn write(name: &str, ics: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hoinghi-ics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join(name);
    std::fs::write(&path, ics).expect("write");
    path
}

pub(crate) fn has_python_module(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

pub(crate) fn run_json(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("checker runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

pub(crate) fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ical")
        .join(name)
}

#[test]
fn python_icalendar_reads_times_people_and_zones() {
    if !has_python_module("icalendar") {
        crate::helpers::missing_checker("Python icalendar");
        return;
    }
    let file = write("request.ics", &to_ics(&invite(Method::Request, morning())));
    let r = run_json(Command::new("python3").arg(script("check.py")).arg(&file));
    assert_eq!(r["method"], "REQUEST");
    assert_eq!(r["missing_tzids"], serde_json::json!([]));
    let e = &r["events"][0];
    assert_eq!(r["events"].as_array().unwrap().len(), 1);
    assert_eq!(e["uid"], "conference-1-delegate-7@hoinghi.example");
    assert_eq!(e["sequence"], 2);
    assert_eq!(e["start"], "2024-12-18T01:00:00Z", "8h00 in Hải Phòng");
    assert_eq!(e["end"], "2024-12-18T04:30:00Z");
    assert_eq!(e["summary"], invite(Method::Request, morning()).summary);
    assert_eq!(e["organizer_cn"], "Sở GDĐT Hải Phòng");
    assert_eq!(e["attendees"][0]["cn"], "Nguyễn Văn An, Hiệu trưởng");
    assert_eq!(e["attendees"][0]["partstat"], "NEEDS-ACTION");
    assert_eq!(e["attendees"][0]["rsvp"], "TRUE");
    assert_eq!(e["attendees"][0]["address"], "mailto:an@thpt.example");
    assert_eq!(e["alarms"], 2);

    let file = write("cancel.ics", &to_ics(&invite(Method::Cancel, morning())));
    let r = run_json(Command::new("python3").arg(script("check.py")).arg(&file));
    assert_eq!(r["method"], "CANCEL");
    assert_eq!(r["events"][0]["status"], "CANCELLED");
    assert_eq!(r["events"][0]["sequence"], 3);
    assert_eq!(r["events"][0]["alarms"], 0);

    let file = write(
        "series.ics",
        &to_ics(&invite(Method::Request, three_days())),
    );
    let r = run_json(Command::new("python3").arg(script("check.py")).arg(&file));
    assert_eq!(r["missing_tzids"], serde_json::json!([]));
    let events = r["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["rrule"], "FREQ=DAILY;UNTIL=20241219T010000Z");
    assert_eq!(events[1]["recurrence_id"], "2024-12-17T01:00:00Z");
    assert_eq!(events[1]["end"], "2024-12-17T04:30:00Z");
}

#[test]
fn radicale_accepts_every_kind_of_invitation() {
    if !has_python_module("radicale") {
        crate::helpers::missing_checker("Radicale");
        return;
    }
    for (name, i) in [
        ("r-request.ics", invite(Method::Request, morning())),
        ("r-cancel.ics", invite(Method::Cancel, morning())),
        ("r-series.ics", invite(Method::Request, three_days())),
    ] {
        let file = write(name, &to_ics(&i));
        let out = Command::new("python3")
            .args(["-m", "radicale", "--verify-item"])
            .arg(&file)
            .output()
            .expect("radicale runs");
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn ical_js_sees_three_days_with_their_own_hours() {
    let dir = std::env::var_os("HOINGHI_TEST_NODE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/hoinghi-node")));
    let Some(dir) = dir.filter(|d| d.join("node_modules/ical.js").exists()) else {
        crate::helpers::missing_checker(
            "ical.js (in $HOINGHI_TEST_NODE_DIR or ~/.cache/hoinghi-node)",
        );
        return;
    };
    // ES modules resolve `ical.js` from the script's own directory.
    let runner = dir.join("hoinghi-check.mjs");
    std::fs::copy(script("check.mjs"), &runner).expect("copy the checker");
    let file = write(
        "js-series.ics",
        &to_ics(&invite(Method::Request, three_days())),
    );
    let r = run_json(Command::new("node").arg(&runner).arg(&file));
    assert_eq!(r["method"], "REQUEST");
    assert_eq!(r["uid"], "conference-1-delegate-7@hoinghi.example");
    assert_eq!(r["sequence"], 2);
    assert_eq!(r["zone"], "Asia/Ho_Chi_Minh");
    assert_eq!(
        r["occurrences"],
        serde_json::json!([
            {"start": "2024-12-16T01:00:00Z", "end": "2024-12-16T10:00:00Z"},
            {"start": "2024-12-17T01:00:00Z", "end": "2024-12-17T04:30:00Z"},
            {"start": "2024-12-19T01:00:00Z", "end": "2024-12-19T10:00:00Z"}
        ]),
        "Wednesday is excluded, Tuesday ends at 11h30"
    );
    let file = write(
        "js-request.ics",
        &to_ics(&invite(Method::Request, morning())),
    );
    let r = run_json(Command::new("node").arg(&runner).arg(&file));
    assert_eq!(
        r["occurrences"],
        serde_json::json!([{"start": "2024-12-18T01:00:00Z", "end": "2024-12-18T04:30:00Z"}])
    );
}

mod store {
    use crate::helpers::*;
    use crate::store_test;
    use hoinghi::services::seed;
    use reqwest::StatusCode;
    use serde_json::json;

    /// GET with the admin token: status, Content-Type and body.
    async fn ics(app: &TestApp, path: &str) -> (StatusCode, String, String) {
        let r = app
            .client
            .get(format!("{}{path}", app.address))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .expect("request");
        let status = r.status();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        (status, ct, r.text().await.expect("body"))
    }

    async fn delegate(app: &TestApp, conference: i64, unit: i64, venue: serde_json::Value) -> i64 {
        let n = rand_suffix();
        let person = app
            .create(
                "/api/v1/people",
                json!({"full_name": "Trần Thị Lan", "honorific": "Bà", "unit_id": unit,
                       "email": format!("lan{n}@truong.example")}),
            )
            .await;
        let mut body = json!({"conference_id": conference, "person_id": person, "unit_id": unit});
        for (k, v) in venue.as_object().expect("object") {
            body[k] = v.clone();
        }
        app.create("/api/v1/delegates", body).await
    }

    /// The seed, and two delegates of Phòng GDĐT huyện Thủy Nguyên (its rule sets no
    /// quota) to the morning conference: one at its bridge point, one online. Returns (conference, at_point, online).
    async fn seeded_delegates(app: &TestApp) -> (i64, i64, i64) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed");
        seed::load_dir(&app.db, &dir).await.expect("seed loads");
        let conference = id_of(app, "conf-dvht").await;
        let district = id_of(app, "pgddt-thuy-nguyen").await;
        let point = id_of(app, "bp-dvht-tn-00").await;
        let at_point = delegate(
            app,
            conference,
            district,
            json!({"venue": "bridge_point", "bridge_point_id": point}),
        )
        .await;
        let online = delegate(app, conference, district, json!({"venue": "online"})).await;
        (conference, at_point, online)
    }

    fn rand_suffix() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        N.fetch_add(1, Ordering::Relaxed)
    }

    store_test!(
        a_delegates_invitation_is_a_calendar_for_their_place,
        |app| {
            let (conference, at_point, online) = seeded_delegates(app).await;

            let path = format!("/api/v1/conferences/{conference}/delegates/{at_point}/invite.ics");
            let (status, ct, body) = ics(app, &path).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(ct, "text/calendar; charset=utf-8; method=REQUEST");
            let text = hoinghi::calendar::fold::unfold(&body);
            assert!(text.contains("METHOD:REQUEST\r\n"));
            assert!(
                text.contains("DTSTART;TZID=Asia/Ho_Chi_Minh:20241218T080000\r\n"),
                "{text}"
            );
            assert!(text.contains("DTEND;TZID=Asia/Ho_Chi_Minh:20241218T113000\r\n"));
            assert!(text.contains(&format!(
                "UID:hoinghi-conference-{conference}-delegate-{at_point}@hoinghi.invalid\r\n"
            )));
            assert!(
            text.contains("LOCATION:Điểm cầu Phòng Giáo dục và Đào tạo huyện Thủy Nguyên\\, Hội trường tầng 2"),
            "{text}"
        );
            assert!(text.contains("ORGANIZER;CN=Sở Giáo dục và Đào tạo Hải Phòng:mailto:vanthu@sogddt-haiphong.example"));
            assert!(
                text.contains("7h30-8h00: Đón tiếp đại biểu (Ban tổ chức)"),
                "{text}"
            );
            assert!(!text.contains("181208"), "no passcode at a bridge point");
            assert!(
                !text.contains("meet.sogddt-haiphong.example"),
                "no link at a bridge point"
            );

            let path = format!("/api/v1/conferences/{conference}/delegates/{online}/invite.ics");
            let (_, _, body) = ics(app, &path).await;
            let text = hoinghi::calendar::fold::unfold(&body);
            assert!(text.contains("LOCATION:Trực tuyến\r\n"));
            assert!(
                text.contains("Đường dẫn: https://meet.sogddt-haiphong.example/dvht"),
                "{text}"
            );
            assert!(text.contains("Mật khẩu phòng họp: 181208"));

            // Cancelled: the same UID, METHOD:CANCEL, a higher sequence, no reminders.
            let (_, before) = app.get(&format!("/api/v1/conferences/{conference}")).await;
            let mut c = before.clone();
            for k in ["id", "sequence", "created_at", "updated_at", "plan_id"] {
                c.as_object_mut().expect("object").remove(k);
            }
            c["status"] = json!("cancelled");
            c["plan_id"] = before["plan_id"].clone();
            let (status, after) = app
                .put(&format!("/api/v1/conferences/{conference}"), c)
                .await;
            assert_eq!(status, StatusCode::OK, "{after}");
            assert!(after["sequence"].as_i64() > before["sequence"].as_i64());
            let path = format!("/api/v1/conferences/{conference}/delegates/{at_point}/invite.ics");
            let (status, ct, body) = ics(app, &path).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(ct, "text/calendar; charset=utf-8; method=CANCEL");
            let text = hoinghi::calendar::fold::unfold(&body);
            assert!(text.contains("METHOD:CANCEL\r\n") && text.contains("STATUS:CANCELLED\r\n"));
            assert!(text.contains(&format!("SEQUENCE:{}\r\n", after["sequence"])));
            assert!(!text.contains("BEGIN:VALARM"));

            // A district office reads the invitations of its own area only.
            let other_district = id_of(app, "pgddt-hong-bang").await;
            let own_district = id_of(app, "pgddt-thuy-nguyen").await;
            let path = format!("/api/v1/conferences/{conference}/delegates/{at_point}/invite.ics");
            for (login, unit, expected) in [
                ("hong-bang", other_district, StatusCode::FORBIDDEN),
                ("thuy-nguyen", own_district, StatusCode::OK),
            ] {
                let token = app
                    .token_for(
                        login,
                        hoinghi::domain::kinds::Role::DistrictOffice,
                        Some(unit),
                    )
                    .await;
                let r = app
                    .client
                    .get(format!("{}{path}", app.address))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(r.status(), expected, "{login}");
            }

            // A delegate of another conference is not found here.
            let other = id_of(app, "conf-cdht").await;
            let path = format!("/api/v1/conferences/{other}/delegates/{at_point}/invite.ics");
            let (status, _, _) = ics(app, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }
    );

    store_test!(an_organiser_without_mailbox_cannot_invite, |app| {
        // `app.unit` gives units no mailbox.
        let organiser = app
            .unit("Trường THCS Không Hộp Thư", "school", None, None)
            .await;
        let conference = app.conference(organiser).await;
        let d = delegate(app, conference, organiser, json!({"venue": "online"})).await;
        let path = format!("/api/v1/conferences/{conference}/delegates/{d}/invite.ics");
        let (status, _, body) = ics(app, &path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let body: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["error"]["field"], "mailbox");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("chưa có hộp thư công vụ"),
            "{body}"
        );
    });

    store_test!(
        a_delegates_invitation_email_has_the_imip_layout_and_their_place,
        |app| {
            use mail_parser::{MessageParser, MimeHeaders};
            let (conference, at_point, online) = seeded_delegates(app).await;

            let fetch = |d: i64| {
                let url = format!(
                    "{}/api/v1/conferences/{conference}/delegates/{d}/invite.eml",
                    app.address
                );
                let token = app.admin_token.clone();
                let client = app.client.clone();
                async move {
                    let r = client
                        .get(url)
                        .bearer_auth(token)
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(r.status(), StatusCode::OK);
                    assert_eq!(r.headers()["content-type"], "message/rfc822");
                    r.bytes().await.expect("body").to_vec()
                }
            };
            let raw = fetch(at_point).await;
            let m = MessageParser::default().parse(&raw).expect("a message");
            assert_eq!(
                m.subject(),
                Some(
                    "Giấy mời: Hội nghị tập huấn về xây dựng “Đơn vị học tập” cấp huyện, tỉnh — 08h00' ngày 18/12/2024 (thứ Tư)"
                )
            );
            assert_eq!(
                m.message_id(),
                Some(
                    format!("hoinghi.c{conference}.d{at_point}.s0.request@sogddt-haiphong.example")
                        .as_str()
                )
            );
            let from = m.from().and_then(|a| a.first()).expect("from");
            assert_eq!(from.address(), Some("vanthu@sogddt-haiphong.example"));
            assert_eq!(from.name(), Some("Sở Giáo dục và Đào tạo Hải Phòng"));
            let types: Vec<String> = m
                .parts
                .iter()
                .filter_map(|p| p.content_type())
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
                .collect();
            assert_eq!(
                types,
                [
                    "multipart/mixed",
                    "multipart/alternative",
                    "text/plain",
                    "text/html",
                    "text/calendar",
                    "application/ics"
                ]
            );
            assert_eq!(
                m.parts[4]
                    .content_type()
                    .and_then(|c| c.attribute("method")),
                Some("REQUEST")
            );
            // The body carries time and place in words (Outlook shows the body, not the
            // calendar's description); a delegate at a bridge point gets no passcode.
            let text = m.body_text(0).expect("text body").into_owned();
            assert!(
                text.contains("Thời gian: 08h00' ngày 18/12/2024 (thứ Tư)"),
                "{text}"
            );
            assert!(
            text.contains("Tham dự trực tuyến tại: Điểm cầu Phòng Giáo dục và Đào tạo huyện Thủy Nguyên, Hội trường tầng 2"),
            "{text}"
        );
            assert!(
                !text.contains("181208") && !text.contains("meet."),
                "{text}"
            );
            let html = m.body_html(0).expect("html body").into_owned();
            assert!(
                html.contains("<b>Thời gian:</b> 08h00&#x27; ngày 18/12/2024 (thứ Tư)"),
                "escaped like all data: {html}"
            );
            let ics = m.parts[5]
                .text_contents()
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(m.parts[5].contents()).into_owned());
            assert!(ics.contains("METHOD:REQUEST\r\n"), "{ics}");

            let raw = fetch(online).await;
            let m = MessageParser::default().parse(&raw).expect("a message");
            let text = m.body_text(0).expect("text body").into_owned();
            assert!(
                text.contains("Đường dẫn: https://meet.sogddt-haiphong.example/dvht"),
                "{text}"
            );
            assert!(text.contains("Mật khẩu phòng họp: 181208"), "{text}");
        }
    );
}

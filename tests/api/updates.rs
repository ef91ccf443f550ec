//! Changes reach calendars (issue 5, points 7–9): after the first send, a change to a
//! published conference goes out as an update (same UID, higher SEQUENCE) to exactly the
//! recipients it affects, edits within the window as one update, a removed delegate gets
//! a CANCEL; replies through the signed links; calendar feeds. Each message is checked
//! against `../shared/itip-checklist.md` and read by Python icalendar and Radicale.
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use hoinghi::calendar::fold::unfold;
use hoinghi::documents::templates::Templates;
use hoinghi::domain::kinds::OutboxState;
use hoinghi::services::invitations;
use hoinghi::store::{app_user, invitation_sync, outbox};
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::calendar::{has_python_module, run_json, script, write};
use crate::helpers::{TestApp, id_of};
use crate::mail::published_with_delegates;
use crate::store_test;

pub(crate) const URL: &str = "https://hoinghi.example";

/// An outbox row with its message's bytes (kept apart and compressed, in `outbox_body`).
#[derive(Clone)]
pub(crate) struct Row {
    pub row: outbox::Model,
    pub raw: Vec<u8>,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({} bytes)", self.row, self.raw.len())
    }
}

impl std::ops::Deref for Row {
    type Target = outbox::Model;

    fn deref(&self) -> &outbox::Model {
        &self.row
    }
}

/// Outbox rows after `after` (an id), in order, each with its bytes.
pub(crate) async fn rows_after(app: &TestApp, after: i64) -> Vec<Row> {
    let rows = outbox::Entity::find()
        .filter(outbox::Column::Id.gt(after))
        .order_by_asc(outbox::Column::Id)
        .all(&app.db)
        .await
        .expect("outbox");
    let mut bodies: std::collections::HashMap<i64, Vec<u8>> =
        hoinghi::store::outbox_body::Entity::find()
            .filter(hoinghi::store::outbox_body::Column::OutboxId.gt(after))
            .all(&app.db)
            .await
            .expect("bodies")
            .into_iter()
            .map(|b| {
                let raw = hoinghi::store::outbox_body::unpack(&b.raw).expect("a message");
                (b.outbox_id, raw)
            })
            .collect();
    rows.into_iter()
        .map(|row| Row {
            raw: bodies.remove(&row.id).expect("every row has its bytes"),
            row,
        })
        .collect()
}

async fn last_id(app: &TestApp) -> i64 {
    rows_after(app, 0).await.last().map_or(0, |r| r.id)
}

/// Syncs what is due now (a window of zero: every mark is due).
pub(crate) async fn sync_now(app: &TestApp) -> Vec<invitations::Sent> {
    let templates = Templates::load(None).expect("templates");
    invitations::sync_due(
        &app.db,
        &templates,
        URL,
        Duration::ZERO,
        &invitations::Syncing::default(),
    )
    .await
    .expect("sync")
}

/// The calendar part of a message, unfolded, and the whole parsed message's facts.
pub(crate) struct Imip {
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) ics: String,
    /// Folded, as on the wire.
    pub(crate) wire_ics: String,
}

/// Asserts the checklist's e-mail and calendar points on one raw message with a calendar
/// of `method`, and returns its parts.
pub(crate) fn checklist(raw: &[u8], method: &str) -> Imip {
    let m = MessageParser::default().parse(raw).expect("parses");
    // 1. mixed → alternative (plain, html, calendar last) + invite.ics attachment.
    let root = m.parts[0].content_type().expect("content type");
    assert_eq!((root.ctype(), root.subtype()), ("multipart", Some("mixed")));
    let types: Vec<String> = m
        .parts
        .iter()
        .filter_map(|p| p.content_type())
        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
        .collect();
    let alt = types
        .iter()
        .position(|t| t == "multipart/alternative")
        .expect("alternative");
    assert_eq!(
        &types[alt + 1..alt + 4],
        ["text/plain", "text/html", "text/calendar"],
        "{types:?}"
    );
    let calendars: Vec<_> = m
        .parts
        .iter()
        .filter(|p| {
            p.content_type()
                .is_some_and(|c| c.subtype() == Some("calendar") || c.subtype() == Some("ics"))
                || p.attachment_name() == Some("invite.ics")
        })
        .collect();
    assert_eq!(calendars.len(), 2, "inline calendar and invite.ics");
    let inline = calendars[0];
    // 2. method= equals METHOD.
    assert_eq!(
        inline.content_type().and_then(|c| c.attribute("method")),
        Some(method)
    );
    // 3. no Content-Disposition: inline, no Content-ID on the inline calendar.
    assert!(inline.content_disposition().is_none());
    assert!(inline.content_id().is_none());
    assert_eq!(calendars[1].attachment_name(), Some("invite.ics"));
    let wire_ics = inline.text_contents().expect("text").to_owned();
    let ics = unfold(&wire_ics);
    // 6. a Message-ID; 7. no CR/LF from user data in headers.
    assert!(m.message_id().is_some_and(|id| id.starts_with("hoinghi.c")));
    // 16. CRLF, ≤ 75 octets, continuation lines begin with a space.
    for line in wire_ics.split_terminator("\r\n") {
        assert!(line.len() <= 75, "a line of {} octets: {line}", line.len());
        assert!(!line.contains('\n') && !line.contains('\r'));
    }
    // 8. one VERSION, one PRODID, METHOD on the VCALENDAR; 5. one VCALENDAR, one UID.
    let count = |p: &str| ics.lines().filter(|l| l.starts_with(p)).count();
    assert_eq!(count("BEGIN:VCALENDAR"), 1);
    assert_eq!(count("VERSION:2.0"), 1);
    assert_eq!(count("PRODID:"), 1);
    assert_eq!(count(&format!("METHOD:{method}")), 1);
    let mut uids = std::collections::BTreeSet::new();
    let mut in_alarm = false;
    for l in ics.lines() {
        match l {
            "BEGIN:VALARM" => in_alarm = true,
            "END:VALARM" => in_alarm = false,
            l if l.starts_with("UID:") && !in_alarm => {
                uids.insert(l);
            }
            _ => {}
        }
    }
    assert_eq!(uids.len(), 1, "every VEVENT shares one UID");
    // 9. DTSTAMP in UTC, DTSTART, DTEND and no DURATION, ORGANIZER, SUMMARY, ATTENDEE.
    assert!(
        ics.lines()
            .any(|l| l.starts_with("DTSTAMP:") && l.ends_with('Z'))
    );
    assert!(ics.contains("DTSTART;TZID=Asia/Ho_Chi_Minh:"));
    assert!(ics.contains("DTEND;TZID=Asia/Ho_Chi_Minh:"));
    assert!(!ics.contains("\r\nDURATION:"));
    assert!(ics.contains("\r\nSUMMARY:"));
    // 10. ORGANIZER mailto with CN.
    let organizer = ics
        .lines()
        .find(|l| l.starts_with("ORGANIZER;CN="))
        .expect("ORGANIZER with CN");
    assert!(organizer.contains(":mailto:") && organizer.contains('@'));
    // 11. the ATTENDEE with CN, ROLE, PARTSTAT, RSVP.
    let attendee = ics
        .lines()
        .find(|l| l.starts_with("ATTENDEE;CN="))
        .expect("ATTENDEE with CN");
    assert!(attendee.contains(";ROLE=") && attendee.contains(";PARTSTAT="));
    // 15. the VTIMEZONE of every TZID.
    assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Asia/Ho_Chi_Minh\r\n"));
    assert!(ics.contains("TZOFFSETTO:+0700"));
    match method {
        "REQUEST" => {
            assert!(attendee.contains("RSVP=TRUE"), "{attendee}");
            assert!(ics.contains("STATUS:CONFIRMED"));
        }
        _ => {
            // 14. STATUS:CANCELLED, no VALARM.
            assert!(ics.contains("STATUS:CANCELLED\r\n"));
            assert!(!ics.contains("BEGIN:VALARM"));
        }
    }
    // Independent readers.
    let file = write(
        &format!("update-{}.ics", m.message_id().unwrap_or("x")),
        &wire_ics,
    );
    if let Some(r) = read_independently(&file) {
        assert_eq!(r["method"], method);
    }
    Imip {
        subject: m.subject().unwrap_or_default().to_owned(),
        text: m.body_text(0).unwrap_or_default().into_owned(),
        ics,
        wire_ics,
    }
}

/// Radicale accepts the calendar file `file`, and Python icalendar reads it with every
/// TZID defined: what it read, or none when it is not installed (and not required).
fn read_independently(file: &std::path::Path) -> Option<Value> {
    if has_python_module("radicale") {
        let out = Command::new("python3")
            .args(["-m", "radicale", "--verify-item"])
            .arg(file)
            .output()
            .expect("radicale runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        crate::helpers::missing_checker("Radicale");
    }
    if !has_python_module("icalendar") {
        crate::helpers::missing_checker("Python icalendar");
        return None;
    }
    let r = run_json(Command::new("python3").arg(script("check.py")).arg(file));
    assert_eq!(r["missing_tzids"], json!([]));
    Some(r)
}

fn line<'a>(ics: &'a str, prefix: &str) -> &'a str {
    ics.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {ics}"))
}

/// The secret of the first reply link (`/rsvp/{token}`) in a message's text.
pub(crate) fn reply_token(raw: &[u8]) -> String {
    let text = MessageParser::default()
        .parse(raw)
        .expect("parses")
        .body_text(0)
        .expect("text")
        .into_owned();
    let start = text.find("/rsvp/").expect("a reply link in the body") + "/rsvp/".len();
    text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// `POST …/invitations/send` (202): what it did.
pub(crate) async fn send(app: &TestApp, conference: i64) -> Value {
    let (status, sent) = app
        .post(
            &format!("/api/v1/conferences/{conference}/invitations/send"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    sent
}

/// Sends the first round; returns (conference, delegates, the outbox's last id, the
/// first round's rows by delegate).
pub(crate) async fn first_round(app: &TestApp) -> (i64, Vec<i64>, i64, BTreeMap<i64, Row>) {
    let (conference, delegates) = published_with_delegates(app).await;
    send(app, conference).await;
    let rows = rows_after(app, 0).await;
    let by_delegate = rows
        .iter()
        .filter_map(|r| r.delegate_id.map(|d| (d, r.clone())))
        .collect();
    (conference, delegates, last_id(app).await, by_delegate)
}

pub(crate) async fn put_back(app: &TestApp, path: &str, change: impl FnOnce(&mut Value)) {
    let (status, mut body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for k in ["id", "sequence", "created_at", "updated_at", "path"] {
        body.as_object_mut().expect("object").remove(k);
    }
    change(&mut body);
    let (status, after) = app.put(path, body).await;
    assert_eq!(status, StatusCode::OK, "PUT {path}: {after}");
}

store_test!(a_changed_place_reaches_only_its_delegate, |app| {
    let (conference, delegates, mark, first) = first_round(app).await;
    let lan = delegates[0];
    let hall = id_of(app, "hall-sogddt-t3").await;

    // Lan moves from the bridge point to the hall.
    put_back(app, &format!("/api/v1/delegates/{lan}"), |b| {
        b["venue"] = json!("hall");
        b["bridge_point_id"] = Value::Null;
        b["hall_id"] = json!(hall);
    })
    .await;
    let marked = invitation_sync::Entity::find_by_id(conference)
        .one(&app.db)
        .await
        .expect("query");
    assert!(
        marked.is_some(),
        "the change marks the conference in its transaction"
    );

    // Not due yet within a window of an hour.
    let templates = Templates::load(None).expect("templates");
    let early = invitations::sync_due(
        &app.db,
        &templates,
        URL,
        Duration::from_secs(3600),
        &invitations::Syncing::default(),
    )
    .await
    .expect("sync");
    assert!(early.is_empty());
    assert!(rows_after(app, mark).await.is_empty());

    let done = sync_now(app).await;
    assert_eq!(done.len(), 1);
    let new = rows_after(app, mark).await;
    let kinds: Vec<(String, Option<i64>)> = new
        .iter()
        .map(|r| (r.kind.as_str().to_owned(), r.delegate_id))
        .collect();
    assert_eq!(
        kinds,
        [
            ("invitation".to_owned(), Some(lan)),
            ("unit_summary".to_owned(), None)
        ],
        "Lan's update and her unit's new list, nothing to the others"
    );
    let update = &new[0];
    assert_eq!(update.method.as_deref(), Some("REQUEST"));
    assert!(update.sequence > first[&lan].sequence);
    let before = checklist(&first[&lan].raw, "REQUEST");
    let after = checklist(&update.raw, "REQUEST");
    // 13. same UID, strictly larger SEQUENCE.
    assert_eq!(line(&before.ics, "UID:"), line(&after.ics, "UID:"));
    let seq = |i: &Imip| -> i64 {
        line(&i.ics, "SEQUENCE:")["SEQUENCE:".len()..]
            .parse()
            .expect("number")
    };
    assert!(seq(&after) > seq(&before));
    assert_ne!(
        line(&before.ics, "LOCATION:"),
        line(&after.ics, "LOCATION:")
    );
    assert!(after.ics.contains("LOCATION:Hội trường"), "{}", after.ics);
    assert!(
        after.subject.starts_with("Thay đổi giấy mời: "),
        "{}",
        after.subject
    );
    assert!(after.text.contains("thông báo thay đổi"), "{}", after.text);
    assert!(!after.wire_ics.is_empty());

    // Syncing again sends nothing: every calendar holds what it should.
    let again = send(app, conference).await;
    assert_eq!(again["enqueued"], 0, "{again}");

    // The conference is over (18/12/2024): it may be deleted although its invitations
    // stand, and nobody is told. What it has not sent yet (nothing is sent here: no
    // worker runs) goes with it, lest it be sent about a conference that is gone; what
    // was sent stays.
    let path = format!("/api/v1/conferences/{conference}");
    let before = last_id(app).await;
    let unsent = || outbox::Entity::find().filter(outbox::Column::State.eq(OutboxState::Pending));
    let pending = unsent().all(&app.db).await.expect("outbox");
    assert!(pending.len() > 1, "{} pending", pending.len());
    let mut sent: outbox::ActiveModel = pending[0].clone().into();
    sent.state = sea_orm::ActiveValue::Set(OutboxState::Sent);
    let sent = sea_orm::ActiveModelTrait::update(sent, &app.db)
        .await
        .expect("mark one sent");
    // One failed for good, one taken by a worker that died (its lease over): both
    // unsent, both dropped.
    assert!(pending.len() > 2, "{} pending", pending.len());
    let mut taken = Vec::new();
    for (row, state) in [
        (&pending[1], OutboxState::Failed),
        (&pending[2], OutboxState::Sending),
    ] {
        let mut m: outbox::ActiveModel = row.clone().into();
        m.state = sea_orm::ActiveValue::Set(state);
        if state == OutboxState::Sending {
            m.lease_until_ms = sea_orm::ActiveValue::Set(Some(1));
        }
        sea_orm::ActiveModelTrait::update(m, &app.db)
            .await
            .expect("mark unsent");
        taken.push(row.id);
    }
    let (status, body) = app.delete(&path).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(sync_now(app).await.is_empty());
    assert!(rows_after(app, before).await.is_empty());
    assert!(unsent().all(&app.db).await.expect("outbox").is_empty());
    for id in taken {
        let gone = outbox::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .expect("outbox");
        assert!(gone.is_none(), "unsent message {id} kept: {gone:?}");
    }
    let kept = outbox::Entity::find_by_id(sent.id)
        .one(&app.db)
        .await
        .expect("outbox")
        .expect("the sent message is kept");
    assert_eq!(kept.conference_id, None);
});

store_test!(edits_within_the_window_are_one_update_to_each, |app| {
    let (conference, delegates, mark, first) = first_round(app).await;
    let before = rows_after(app, 0).await;
    let path = format!("/api/v1/conferences/{conference}/reschedule");
    // Two moves of the whole conference, before any sync: to 8h30, then to 9h00.
    for at in ["2024-12-18T08:30:00", "2024-12-18T09:00:00"] {
        let (status, body) = app.post(&path, json!({"starts_at": at})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let done = sync_now(app).await;
    assert_eq!(done.len(), 1, "one sync");
    // Nothing was sent yet (no worker here): the outdated invitations never leave.
    assert_eq!(
        done[0].superseded as usize,
        before.iter().filter(|r| r.method.is_some()).count()
    );
    let new = rows_after(app, mark).await;
    for d in &delegates {
        let theirs: Vec<_> = new.iter().filter(|r| r.delegate_id == Some(*d)).collect();
        assert_eq!(theirs.len(), 1, "one update for delegate {d}");
        let imip = checklist(&theirs[0].raw, "REQUEST");
        assert!(
            imip.ics
                .contains("DTSTART;TZID=Asia/Ho_Chi_Minh:20241218T090000\r\n"),
            "moved by an hour in all: {}",
            imip.ics
        );
        assert!(theirs[0].sequence > first[d].sequence);
    }
    // Everyone holding an invitation hears of the new time, once: units asked to
    // nominate too; nothing is a cancellation.
    let calendars = |rows: &[Row]| -> BTreeMap<String, usize> {
        let mut by_uid = BTreeMap::new();
        for r in rows.iter().filter(|r| r.method.is_some()) {
            *by_uid.entry(r.uid.clone().expect("uid")).or_default() += 1;
        }
        by_uid
    };
    let (once, now) = (calendars(&before), calendars(&new));
    assert_eq!(
        once.keys().collect::<Vec<_>>(),
        now.keys().collect::<Vec<_>>()
    );
    assert!(now.values().all(|n| *n == 1));
    assert!(new.iter().any(|r| r.kind.as_str() == "nomination"));
    assert!(new.iter().all(|r| r.method.as_deref() != Some("CANCEL")));
});

store_test!(
    a_removed_delegate_gets_a_cancel_and_a_new_one_an_invitation,
    |app| {
        let (conference, delegates, mark, first) = first_round(app).await;
        let minh = delegates[1];
        let district = id_of(app, "pgddt-thuy-nguyen").await;
        let (status, body) = app.delete(&format!("/api/v1/delegates/{minh}")).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let person = app
        .create(
            "/api/v1/people",
            json!({"full_name": "Đỗ Thu Hà", "unit_id": district, "email": "ha@thuynguyen.example"}),
        )
        .await;
        let ha = app
        .create(
            "/api/v1/delegates",
            json!({"conference_id": conference, "person_id": person, "unit_id": district, "venue": "online"}),
        )
        .await;
        sync_now(app).await;
        let new = rows_after(app, mark).await;
        let to_minh: Vec<_> = new.iter().filter(|r| r.delegate_id == Some(minh)).collect();
        assert_eq!(to_minh.len(), 1);
        assert_eq!(to_minh[0].method.as_deref(), Some("CANCEL"));
        assert_eq!(to_minh[0].recipient, "minh@thuynguyen.example");
        let cancel = checklist(&to_minh[0].raw, "CANCEL");
        let before = checklist(&first[&minh].raw, "REQUEST");
        assert_eq!(line(&before.ics, "UID:"), line(&cancel.ics, "UID:"));
        assert!(to_minh[0].sequence > first[&minh].sequence);
        assert!(cancel.subject.starts_with("Hủy: "));
        let to_ha: Vec<_> = new.iter().filter(|r| r.delegate_id == Some(ha)).collect();
        assert_eq!(to_ha.len(), 1);
        assert_eq!(to_ha[0].method.as_deref(), Some("REQUEST"));
        assert!(
            checklist(&to_ha[0].raw, "REQUEST")
                .subject
                .starts_with("Giấy mời: ")
        );
        // Lan and Bình are not written to; the unit gets its new list.
        let others: Vec<_> = new
            .iter()
            .filter(|r| r.delegate_id.is_some_and(|d| d != minh && d != ha))
            .collect();
        assert!(others.is_empty(), "{others:?}");
        assert_eq!(
            new.iter()
                .filter(|r| r.kind.as_str() == "unit_summary")
                .count(),
            1
        );

        // A changed address: the old mailbox loses the event, the new one gets it.
        let lan = delegates[0];
        let lan_person: i64 = {
            let (_, d) = app.get(&format!("/api/v1/delegates/{lan}")).await;
            d["person_id"].as_i64().expect("person")
        };
        let mark = last_id(app).await;
        put_back(app, &format!("/api/v1/people/{lan_person}"), |b| {
            b["email"] = json!("lan.tran@thuynguyen.example");
        })
        .await;
        sync_now(app).await;
        let new = rows_after(app, mark).await;
        let to_lan: Vec<(&str, &str)> = new
            .iter()
            .filter(|r| r.delegate_id == Some(lan))
            .map(|r| (r.recipient.as_str(), r.method.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            to_lan,
            [
                ("lan.tran@thuynguyen.example", "REQUEST"),
                ("lan@thuynguyen.example", "CANCEL")
            ]
        );
        // The old address's reply link no longer answers for the new recipient.
        let old_token = reply_token(&first[&lan].raw);
        let r = app
            .client
            .post(format!("{}/rsvp/{old_token}", app.address))
            .form(&[("reply", "accepted")])
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        // The conference is cancelled: every standing invitation gets its CANCEL, without a
        // send, through the sync; Minh, cancelled already, gets nothing more. First it is
        // moved to next year (the seed's date is past, and a conference that is over may
        // be deleted at any time), and that update goes out.
        let (status, body) = app
            .post(
                &format!("/api/v1/conferences/{conference}/reschedule"),
                json!({"starts_at": "2027-12-15T08:00:00"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        sync_now(app).await;
        let mark = last_id(app).await;
        put_back(app, &format!("/api/v1/conferences/{conference}"), |b| {
            b["status"] = json!("cancelled");
        })
        .await;
        // Deleting it now would lose the ledger before the cancellations go: refused,
        // and nothing deleted.
        let path = format!("/api/v1/conferences/{conference}");
        let (status, body) = app.delete(&path).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["field"], "status", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("giấy mời")),
            "{body}"
        );
        assert_eq!(app.get(&path).await.0, StatusCode::OK);
        sync_now(app).await;
        let new = rows_after(app, mark).await;
        assert!(new.iter().all(|r| r.delegate_id != Some(minh)));
        let calendars: Vec<_> = new.iter().filter(|r| r.method.is_some()).collect();
        assert!(
            calendars
                .iter()
                .all(|r| r.method.as_deref() == Some("CANCEL"))
        );
        for d in [delegates[0], delegates[2], ha] {
            assert_eq!(
                calendars
                    .iter()
                    .filter(|r| r.delegate_id == Some(d))
                    .count(),
                1,
                "delegate {d}"
            );
        }
        for r in calendars.iter().take(3) {
            checklist(&r.raw, "CANCEL");
        }
        // Every cancellation is out: the conference may go, and its messages stay queued.
        let (status, body) = app.delete(&path).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(app.get(&path).await.0, StatusCode::NOT_FOUND);
        assert_eq!(rows_after(app, mark).await.len(), new.len());
    }
);

store_test!(
    a_reply_link_records_the_delegates_answer_without_login,
    |app| {
        let (conference, delegates, _, first) = first_round(app).await;
        let lan = delegates[0];
        // The first round was sent through the API: its links use the server's own address.
        let m = MessageParser::default()
            .parse(&first[&lan].raw)
            .expect("parses");
        let text = m.body_text(0).expect("text").into_owned();
        let token = reply_token(&first[&lan].raw);
        assert_eq!(token.len(), 32);
        assert!(text.contains(&format!("/rsvp/{token}?reply=declined")));

        let client = &app.client;
        let page = format!("{}/rsvp/{token}", app.address);
        // Opening the link records nothing (mail scanners open links).
        let r = client
            .get(format!("{page}?reply=accepted"))
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.expect("html");
        assert!(html.contains("data-reply=\"needs_action\""), "{html}");
        assert!(html.contains("class=\"proposed\""));
        assert!(html.contains("Trần Thị Lan"));
        // The form records it.
        let r = client
            .post(&page)
            .form(&[("reply", "accepted")])
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.expect("html");
        assert!(html.contains("data-reply=\"accepted\""), "{html}");
        assert!(html.contains("Đã ghi nhận"));

        let (status, replies) = app
            .get(&format!("/api/v1/conferences/{conference}/replies"))
            .await;
        assert_eq!(status, StatusCode::OK, "{replies}");
        assert_eq!(replies["counts"]["accepted"], 1);
        let district = id_of(app, "pgddt-thuy-nguyen").await;
        let unit = replies["units"]
            .as_array()
            .expect("units")
            .iter()
            .find(|u| u["unit_id"] == district)
            .expect("Thủy Nguyên");
        assert_eq!(unit["counts"]["accepted"], 1);
        assert_eq!(unit["counts"]["needs_action"], 2);
        let lan_reply = unit["recipients"]
            .as_array()
            .expect("recipients")
            .iter()
            .find(|r| r["delegate_id"] == lan)
            .expect("Lan");
        assert_eq!(lan_reply["reply"], "accepted");
        assert!(lan_reply["replied_at"].is_string());
        let (_, d) = app.get(&format!("/api/v1/delegates/{lan}")).await;
        assert_eq!(d["reply"], "accepted", "the delegate's PARTSTAT too");
        // A reply changes no invitation: nothing to send.
        sync_now(app).await;
        let again = send(app, conference).await;
        assert_eq!(again["enqueued"], 0, "{again}");

        // Bad input: a wrong token, a wrong answer.
        let wrong = client
            .post(format!("{}/rsvp/{}", app.address, "0".repeat(32)))
            .form(&[("reply", "accepted")])
            .send()
            .await
            .expect("POST");
        assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
        let r = client
            .post(&page)
            .form(&[("reply", "maybe")])
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"]["field"], "reply", "{body}");

        // Once the delegate is removed and told so, the link answers that it was cancelled.
        let (status, _) = app.delete(&format!("/api/v1/delegates/{lan}")).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        sync_now(app).await;
        let r = client
            .post(&page)
            .form(&[("reply", "declined")])
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::CONFLICT);
    }
);

store_test!(calendar_feeds_are_secret_readable_and_revocable, |app| {
    let (conference, delegates, _, _) = first_round(app).await;
    let (_, lan) = app
        .get(&format!("/api/v1/delegates/{}", delegates[0]))
        .await;
    let person = lan["person_id"].as_i64().expect("person");
    let district = id_of(app, "pgddt-thuy-nguyen").await;
    let client = &app.client;
    let mut urls = Vec::new();
    for (scope, subject) in [
        ("person", person),
        ("unit", district),
        ("conference", conference),
    ] {
        let (status, feed) = app
            .post(
                "/api/v1/feeds",
                json!({"scope": scope, "subject_id": subject}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{feed}");
        let url = feed["url"].as_str().expect("url").to_owned();
        let token = url
            .rsplit('/')
            .next()
            .and_then(|t| t.strip_suffix(".ics"))
            .expect("token");
        assert_eq!(token.len(), 64);
        let r = client.get(&url).send().await.expect("GET feed");
        assert_eq!(r.status(), StatusCode::OK, "{scope}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap_or_default(),
            "text/calendar; charset=utf-8"
        );
        let wire = r.text().await.expect("body");
        for l in wire.split_terminator("\r\n") {
            assert!(l.len() <= 75);
        }
        let ics = unfold(&wire);
        assert!(ics.contains("METHOD:PUBLISH\r\n"), "{ics}");
        assert!(ics.contains("X-WR-CALNAME:"));
        assert!(!ics.contains("ATTENDEE"), "a feed lists nobody");
        assert!(ics.contains("DTSTART;TZID=Asia/Ho_Chi_Minh:20241218T080000\r\n"));
        let file = write(&format!("feed-{scope}.ics"), &wire);
        if let Some(r) = read_independently(&file) {
            assert_eq!(r["events"][0]["start"], "2024-12-18T01:00:00Z");
        }
        if scope == "person" {
            assert!(ics.contains("LOCATION:Điểm cầu"), "Lan's own place: {ics}");
        }
        urls.push((feed["id"].as_i64().expect("id"), url));
    }
    // The list shows feeds without their URL.
    let (_, list) = app.get("/api/v1/feeds").await;
    assert_eq!(list.as_array().map(Vec::len), Some(3));
    assert!(list[0].get("url").is_none());
    // Revoked: 404 from then on; a made-up token: 404.
    let (id, url) = &urls[0];
    let (status, _) = app.delete(&format!("/api/v1/feeds/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let r = client.get(url).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client
        .get(format!("{}/ical/{}.ics", app.address, "a".repeat(64)))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A scope that is none: 422 naming the field.
    let (status, body) = app
        .post("/api/v1/feeds", json!({"scope": "planet", "subject_id": 1}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A cancelled conference stays in its feed, cancelled.
    put_back(app, &format!("/api/v1/conferences/{conference}"), |b| {
        b["status"] = json!("cancelled");
    })
    .await;
    let ics = unfold(
        &client
            .get(&urls[2].1)
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("body"),
    );
    assert!(ics.contains("STATUS:CANCELLED\r\n"), "{ics}");

    // A feed shows only what its creator may still read: a member of the organiser's
    // staff creates one; once their account is disabled, its URL answers 404.
    let (_, c) = app.get(&format!("/api/v1/conferences/{conference}")).await;
    let organiser = c["organiser_unit_id"].as_i64().expect("organiser");
    let staff = app
        .token_for(
            "can-bo-so",
            hoinghi::domain::kinds::Role::DepartmentStaff,
            Some(organiser),
        )
        .await;
    let (status, feed) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/feeds",
            Some(&staff),
            Some(&json!({"scope": "conference", "subject_id": conference})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{feed}");
    let url = feed["url"].as_str().expect("url").to_owned();
    let r = client.get(&url).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    app_user::Entity::update_many()
        .col_expr(
            app_user::Column::Disabled,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(app_user::Column::Login.eq("can-bo-so"))
        .exec(&app.db)
        .await
        .expect("disable");
    let r = client.get(&url).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
});

/// PostgreSQL: an edit's mark holds the mark's row until the edit commits, so a sync,
/// which deletes the mark first, waits for the edit and then reads what it wrote; it
/// cannot read the state before the edit and drop its mark. (SQLite allows one writer at
/// a time, so there a sync cannot start while an edit is open.)
#[tokio::test]
async fn an_open_edit_holds_its_conferences_mark_on_postgres() {
    use hoinghi::services::ledger::{self, Touched};
    use sea_orm::{ConnectionTrait, TransactionTrait};
    if crate::helpers::postgres_base().is_none() {
        eprintln!(
            "skipped {}: HOINGHI_TEST_POSTGRES_URL is not set",
            module_path!()
        );
        return;
    }
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await;
    let (conference, _, _, _) = first_round(&app).await;
    // An edit not yet synced: the conference's mark stands.
    put_back(&app, &format!("/api/v1/conferences/{conference}"), |_| {}).await;
    let marks = invitation_sync::Entity::find()
        .all(&app.db)
        .await
        .expect("marks");
    assert_eq!(marks.len(), 1);

    let edit = app.db.begin().await.expect("begin");
    ledger::mark(&edit, Touched::Conferences(vec![conference]))
        .await
        .expect("mark");
    let other = sea_orm::Database::connect(&app.url)
        .await
        .expect("second pool");
    let delete = format!("DELETE FROM invitation_sync WHERE conference_id = {conference}");
    let sync = other.begin().await.expect("begin");
    sync.execute_unprepared("SET LOCAL lock_timeout = '300ms'")
        .await
        .expect("set");
    let err = sync
        .execute_unprepared(&delete)
        .await
        .expect_err("the mark is locked by the open edit");
    assert!(err.to_string().contains("lock timeout"), "{err}");
    sync.rollback().await.expect("rollback");
    edit.commit().await.expect("commit");
    // The edit committed: the mark kept the time of the first unsynced edit, and the
    // sync takes it.
    let kept = invitation_sync::Entity::find()
        .all(&other)
        .await
        .expect("marks");
    assert_eq!(kept, marks);
    let done = other.execute_unprepared(&delete).await.expect("delete");
    assert_eq!(done.rows_affected(), 1);
    other.close().await.expect("close");
    app.finish().await;
}

store_test!(nothing_goes_out_before_the_first_send, |app| {
    // Delegates added to a published conference mark it (an edit beside the first send
    // must not be lost), but a sync sends nothing before someone sends: it drops the mark.
    let (conference, _) = published_with_delegates(app).await;
    let mark = invitation_sync::Entity::find_by_id(conference)
        .one(&app.db)
        .await
        .expect("query");
    assert!(mark.is_some(), "edits of a published conference are marked");
    assert!(sync_now(app).await.is_empty());
    assert!(rows_after(app, 0).await.is_empty(), "nothing is sent");
    let mark = invitation_sync::Entity::find_by_id(conference)
        .one(&app.db)
        .await
        .expect("query");
    assert!(mark.is_none(), "the mark is dropped");
});

store_test!(concurrent_reschedules_each_raise_the_sequence, |app| {
    // Eight reschedules at once, each to a time of its own: each is computed from the
    // conference as it is once locked, so none is lost (each raises the sequence by one)
    // and none fails because another wrote first.
    let (conference, _) = published_with_delegates(app).await;
    let path = format!("/api/v1/conferences/{conference}");
    let (_, before) = app.get(&path).await;
    let sequence = before["sequence"].as_i64().expect("sequence");
    let before_offsets = offsets(app, conference).await;
    assert!(!before_offsets.is_empty(), "the seeded agenda");
    let target = format!("{path}/reschedule");
    let moves = (0..8).map(|i| {
        app.post(
            &target,
            json!({"starts_at": format!("2027-12-15T08:{:02}:00", i * 5)}),
        )
    });
    for (status, body) in futures_util::future::join_all(moves).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, after) = app.get(&path).await;
    assert_eq!(after["sequence"].as_i64(), Some(sequence + 8), "{after}");
    // Every agenda item kept its place in the day: a move computed from a stale start
    // would shift the agenda by another amount than the conference.
    assert_eq!(offsets(app, conference).await, before_offsets);
});

/// Each agenda item's start, in seconds after the conference's start.
async fn offsets(app: &TestApp, conference: i64) -> Vec<i64> {
    let at = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("instant")).expect("rfc3339")
    };
    let (_, c) = app.get(&format!("/api/v1/conferences/{conference}")).await;
    let (status, items) = app
        .get(&format!(
            "/api/v1/agenda-items?conference={conference}&per_page=500"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{items}");
    items["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (at(&i["starts_at"]) - at(&c["starts_at"])).num_seconds())
        .collect()
}

store_test!(
    a_conference_edit_beside_reschedules_never_lowers_the_sequence,
    |app| {
        // Four edits of the whole conference (each a new title) and four reschedules (each to
        // a time of its own), all at once: every one changes what calendars show, so the
        // sequence grows by eight, whatever order they commit in.
        let (conference, _) = published_with_delegates(app).await;
        let path = format!("/api/v1/conferences/{conference}");
        let (_, mut body) = app.get(&path).await;
        let sequence = body["sequence"].as_i64().expect("sequence");
        for k in ["id", "sequence", "created_at", "updated_at"] {
            body.as_object_mut().expect("object").remove(k);
        }
        let target = format!("{path}/reschedule");
        let edits: Vec<Value> = (0..4)
            .map(|i| {
                let mut b = body.clone();
                b["title"] = json!(format!("Hội nghị tập huấn, lần sửa {i}"));
                b
            })
            .collect();
        let puts = edits.into_iter().map(|b| app.put(&path, b));
        let moves = (0..4).map(|i| {
            app.post(
                &target,
                json!({"starts_at": format!("2027-12-15T09:{:02}:00", i * 5)}),
            )
        });
        let (puts, moves) = futures_util::future::join(
            futures_util::future::join_all(puts),
            futures_util::future::join_all(moves),
        )
        .await;
        for (status, body) in puts.into_iter().chain(moves) {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (_, after) = app.get(&path).await;
        assert_eq!(after["sequence"].as_i64(), Some(sequence + 8), "{after}");
    }
);

store_test!(a_write_of_a_conference_s_rows_waits_for_its_sync, |app| {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    use std::sync::atomic::{AtomicBool, Ordering};
    let unit = app
        .unit("UBND xã An Lư", "people_committee", None, None)
        .await;
    let conference = app.conference(unit).await;
    let person = app
        .create(
            "/api/v1/people",
            json!({"full_name": "Trần Thị Lan", "unit_id": unit, "email": "lan@an-lu.example"}),
        )
        .await;
    let body = json!({"conference_id": conference, "person_id": person, "unit_id": unit,
                      "venue": "online"});
    let delegate = app.create("/api/v1/delegates", body.clone()).await;

    // A sync of the conference under way: its transaction took what a sync takes first
    // (PostgreSQL: the conference's row, FOR UPDATE; SQLite: the write lock).
    let sync = app.db.begin().await.expect("begin");
    let first = if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        format!("SELECT id FROM conference WHERE id = {conference} FOR UPDATE")
    } else {
        format!("DELETE FROM invitation_sync WHERE conference_id = {conference}")
    };
    sync.execute_unprepared(&first).await.expect("lock");
    // An edit of the delegate that leaves its conference as it is (on PostgreSQL no
    // foreign key is checked, so only holding the conference makes it wait).
    let done = AtomicBool::new(false);
    let mut edit = body.clone();
    edit["reply"] = json!("accepted");
    let (answer, waited) = tokio::join!(
        async {
            let answer = app
                .put(&format!("/api/v1/delegates/{delegate}"), edit)
                .await;
            done.store(true, Ordering::SeqCst);
            answer
        },
        async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            let waited = !done.load(Ordering::SeqCst);
            sync.commit().await.expect("commit");
            waited
        }
    );
    assert!(waited, "the edit ran beside the sync of its conference");
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    assert_eq!(answer.1["reply"], "accepted");
});

store_test!(a_row_moved_while_its_write_waited_is_a_conflict, |app| {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    if app.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        // SQLite serialises writers: no write reads its row before another's commit.
        return;
    }
    let unit = app
        .unit("UBND xã Lưu Kiếm", "people_committee", None, None)
        .await;
    let first = app.conference(unit).await;
    let second = app.conference(unit).await;
    let person = app
        .create(
            "/api/v1/people",
            json!({"full_name": "Phạm Văn Hùng", "unit_id": unit, "email": "hung@luu-kiem.example"}),
        )
        .await;
    let body = json!({"conference_id": first, "person_id": person, "unit_id": unit,
                      "venue": "online"});
    let delegate = app.create("/api/v1/delegates", body.clone()).await;

    // The first conference held by a sync; meanwhile an edit of the delegate, read while
    // it belonged to the first, waits for that conference, and the delegate moves to the
    // second before the sync ends.
    let sync = app.db.begin().await.expect("begin");
    sync.execute_unprepared(&format!(
        "SELECT id FROM conference WHERE id = {first} FOR UPDATE"
    ))
    .await
    .expect("lock");
    let mut edit = body.clone();
    edit["reply"] = json!("accepted");
    let path = format!("/api/v1/delegates/{delegate}");
    let (answer, ()) = tokio::join!(app.put(&path, edit), async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        sync.execute_unprepared(&format!(
            "UPDATE delegate SET conference_id = {second} WHERE id = {delegate}"
        ))
        .await
        .expect("move");
        sync.commit().await.expect("commit");
    });
    assert_eq!(answer.0, StatusCode::CONFLICT, "{}", answer.1);
    assert_eq!(answer.1["error"]["code"], "conflict", "{}", answer.1);
    let (_, now) = app.get(&path).await;
    assert_eq!(now["conference_id"].as_i64(), Some(second), "{now}");
    assert_ne!(now["reply"], "accepted", "{now}");
});

store_test!(
    a_unit_moved_between_points_is_told_alone_and_auto_assignment_moves_it_back,
    |app| {
        use hoinghi::domain::kinds::{MessageKind, Role};
        use reqwest::Method;
        let (conference, _, mark, _) = first_round(app).await;
        let school = id_of(app, "thpt-tn-ly-thuong-kiet").await;
        let (from, to) = (
            id_of(app, "bp-dvht-tn-19").await,
            id_of(app, "bp-dvht-tn-22").await,
        );
        let office = id_of(app, "pgddt-thuy-nguyen").await;
        let token = app
            .token_for("pgddt-tn", Role::DistrictOffice, Some(office))
            .await;
        // The district office moves the school (which named nobody: it holds the request to
        // nominate, at its point) from Lê Ích Mộc's point to Kỳ Sơn's.
        let edit = |point: i64, add: bool| {
            let token = token.clone();
            async move {
                let path = format!("/api/v1/bridge-points/{point}");
                let (_, mut body) = app.get(&path).await;
                for k in ["id", "created_at", "updated_at"] {
                    body.as_object_mut().expect("object").remove(k);
                }
                let mut units = body["unit_ids"].as_array().expect("units").clone();
                if add {
                    units.push(json!(school));
                } else {
                    units.retain(|v| *v != json!(school));
                }
                body["unit_ids"] = Value::Array(units);
                let (status, after) = app
                    .request(Method::PUT, &path, Some(&token), Some(&body))
                    .await;
                assert_eq!(status, StatusCode::OK, "{after}");
            }
        };
        edit(from, false).await;
        edit(to, true).await;
        sync_now(app).await;
        let new = rows_after(app, mark).await;
        let to_school: Vec<_> = new.iter().filter(|r| r.unit_id == Some(school)).collect();
        assert_eq!(to_school.len(), 1, "{new:?}");
        assert_eq!(to_school[0].kind, MessageKind::Nomination);
        assert!(to_school[0].sequence > 0, "a higher SEQUENCE");
        let imip = checklist(&to_school[0].raw, "REQUEST");
        assert!(imip.ics.contains("Trường THCS Kỳ Sơn"), "{}", imip.ics);
        // Nobody else's invitation changed (the two points' technical contacts may be told
        // who now attends them).
        for r in &new {
            assert!(
                r.unit_id == Some(school) || r.kind == MessageKind::BridgeContact,
                "an update to someone not affected: {r:?}"
            );
        }
        let contacts = new
            .iter()
            .filter(|r| r.kind == MessageKind::BridgeContact)
            .count();
        assert!(contacts <= 2, "{contacts} technical contacts told");

        // Taken off every point, auto-assignment (applied by the district office) puts it
        // back at its own commune's point, and it is told again.
        edit(to, false).await;
        sync_now(app).await;
        let before = last_id(app).await;
        let (status, report) = app
            .request(
                Method::POST,
                &format!("/api/v1/conferences/{conference}/auto-assign"),
                Some(&token),
                Some(&json!({"apply": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let placed: Vec<&Value> = report["assigned"]
            .as_array()
            .expect("assigned")
            .iter()
            .collect();
        assert_eq!(placed.len(), 1, "{report}");
        assert_eq!(placed[0]["unit_id"], school);
        assert_eq!(placed[0]["bridge_point_id"], from);
        sync_now(app).await;
        let new = rows_after(app, before).await;
        let to_school: Vec<_> = new.iter().filter(|r| r.unit_id == Some(school)).collect();
        assert_eq!(to_school.len(), 1, "{new:?}");
        let imip = checklist(&to_school[0].raw, "REQUEST");
        assert!(imip.ics.contains("Trường THCS Lê Ích Mộc"), "{}", imip.ics);
    }
);

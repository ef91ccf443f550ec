//! Sending: invitations through the outbox to a real SMTP server on loopback (aiosmtpd,
//! `tests/smtp/server.py`), read back with mail-parser; the server's faults (4xx, 5xx,
//! down), a worker killed mid-send, two workers on one database.
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hoinghi::calendar::fold::unfold;
use hoinghi::calendar::invite::Party;
use hoinghi::domain::kinds::MessageKind;
use hoinghi::mail::transport::Transport;
use hoinghi::services::outbox::{self, NewMessage, Worker, WorkerSettings};
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{TestApp, id_of};
use crate::store_test;

/// A running `tests/smtp/server.py`, killed on drop.
pub struct SmtpServer {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

/// One message the server accepted.
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
    /// RCPT and DATA came with MAIL, in one write (PIPELINING).
    pub pipelined: bool,
}

impl Received {
    pub fn message_id(&self) -> String {
        MessageParser::default()
            .parse(&self.raw)
            .and_then(|m| m.message_id().map(str::to_owned))
            .unwrap_or_default()
    }
}

fn unique_dir(what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "hoinghi-{what}-{}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

impl SmtpServer {
    /// Starts the server (on `port`, or a free one) with `args` (faults); `None` when
    /// aiosmtpd is missing (the test is then skipped, or fails under
    /// `HOINGHI_TEST_REQUIRE_CHECKERS`).
    pub fn start(port: u16, dir: Option<PathBuf>, args: &[&str]) -> Option<Self> {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            crate::helpers::missing_checker("Python aiosmtpd (SMTP server for the mail tests)");
            return None;
        }
        let dir = dir.unwrap_or_else(|| unique_dir("smtp"));
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&dir)
            .args(["--port", &port.to_string()])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the server's port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the SMTP server: {line:?}"));
        Some(Self { port, dir, child })
    }

    pub fn url(&self) -> SecretString {
        SecretString::from(format!("smtp://127.0.0.1:{}", self.port))
    }

    /// What the server accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let envelope: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(p.with_extension("json")).expect("envelope"),
                )
                .expect("json");
                Received {
                    from: envelope["from"].as_str().unwrap_or_default().to_owned(),
                    to: envelope["to"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    raw: std::fs::read(&p).expect("message"),
                    pipelined: envelope["pipelined"].as_bool().expect("pipelined"),
                }
            })
            .collect()
    }

    pub fn stop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// A message whose lines start with dots (which SMTP must stuff, RFC 5321 §4.5.2), sent
/// to a server that offers PIPELINING and to one that does not: both get it byte for
/// byte, the first with MAIL, RCPT and DATA in one write, the second one at a time.
#[tokio::test]
async fn messages_go_pipelined_where_the_server_offers_it_and_arrive_whole() {
    let raw = "From: <vanthu@so.example>\r\nTo: <an@truong.example>\r\nSubject: x\r\n\r\n.\r\n..hai\r\n.ba\r\nkhong.\r\n.";
    for (args, pipelined) in [(&[][..], true), (&["--no-pipelining"][..], false)] {
        let Some(server) = SmtpServer::start(0, None, args) else {
            return;
        };
        let transport =
            Transport::smtp(&server.url(), 1, Duration::from_secs(10)).expect("transport");
        for n in 0..3 {
            transport
                .send(
                    &format!("m{n}@so.example"),
                    "vanthu@so.example",
                    "an@truong.example",
                    raw.as_bytes(),
                )
                .await
                .expect("sent");
        }
        let received = server.received();
        assert_eq!(received.len(), 3, "{args:?}");
        for r in received {
            assert_eq!(r.from, "vanthu@so.example");
            assert_eq!(r.to, ["an@truong.example"]);
            assert_eq!(
                String::from_utf8_lossy(&r.raw),
                format!("{raw}\r\n"),
                "{args:?}"
            );
            assert_eq!(r.pipelined, pipelined, "{args:?}");
        }
    }
}

/// A worker for tests: quick retries, a short lease.
pub fn fast_settings() -> WorkerSettings {
    WorkerSettings {
        concurrency: 4,
        rate_per_second: 0,
        max_attempts: 6,
        retry: Duration::from_millis(50),
        lease: Duration::from_secs(2),
        poll: Duration::from_millis(50),
        max_unrecorded: 8,
    }
}

fn smtp(server: &SmtpServer) -> Transport {
    Transport::smtp(&server.url(), 4, Duration::from_secs(10)).expect("transport")
}

/// Waits until `done` holds for the outbox counts, or fails after `limit`.
pub async fn wait_for(
    db: &sea_orm::DatabaseConnection,
    limit: Duration,
    done: impl Fn(&outbox::Counts) -> bool,
) -> outbox::Counts {
    let start = Instant::now();
    loop {
        let c = outbox::counts(db, None).await.expect("counts");
        if done(&c) {
            return c;
        }
        assert!(
            start.elapsed() < limit,
            "outbox still {c:?} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `n` plain messages to enqueue directly (the outbox does not care what they say).
pub fn messages(n: usize, tag: &str) -> Vec<NewMessage> {
    (0..n)
        .map(|i| {
            let message_id = format!("hoinghi.test.{tag}.{i}@hoinghi.example");
            let mail = hoinghi::mail::Invitation {
                from: Party {
                    name: "Sở Giáo dục và Đào tạo".into(),
                    email: "vanthu@so.example".into(),
                },
                to: Party {
                    name: format!("Đại biểu {i}"),
                    email: format!("daibieu{i}@truong.example"),
                },
                subject: format!("Thư {i}"),
                text: format!("Thư số {i}."),
                html: format!("<p>Thư số {i}.</p>"),
                calendar: None,
                message_id: message_id.clone(),
            };
            NewMessage {
                message_id,
                conference_id: None,
                unit_id: None,
                delegate_id: None,
                kind: MessageKind::Test,
                method: None,
                sequence: 0,
                uid: None,
                sender: mail.from.email.clone(),
                recipient: mail.to.email.clone(),
                subject: mail.subject.clone(),
                packed: hoinghi::store::outbox_body::pack(
                    &hoinghi::mail::build(&mail).expect("builds"),
                )
                .expect("packs"),
                raw: None,
            }
        })
        .collect()
}

fn count_by_id(received: &[Received]) -> BTreeMap<String, usize> {
    let mut by_id = BTreeMap::new();
    for r in received {
        *by_id.entry(r.message_id()).or_insert(0) += 1;
    }
    by_id
}

/// The seed, published, with three delegates of Phòng GDĐT huyện Thủy Nguyên (its rule
/// sets no quota; UBND huyện's allows one) to the morning conference: at its bridge point, online, and one whose name tries to add a header.
pub(crate) async fn published_with_delegates(app: &TestApp) -> (i64, Vec<i64>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed");
    hoinghi::services::seed::load_dir(&app.db, &dir)
        .await
        .expect("seed loads");
    let conference = id_of(app, "conf-dvht").await;
    let district = id_of(app, "pgddt-thuy-nguyen").await;
    let point = id_of(app, "bp-dvht-tn-00").await;
    let (status, body) = app
        .post(
            &format!("/api/v1/conferences/{conference}/publish"),
            json!({"acknowledge_warnings": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut delegates = Vec::new();
    for (name, email, venue) in [
        (
            "Trần Thị Lan",
            "lan@thuynguyen.example",
            json!({"venue": "bridge_point", "bridge_point_id": point}),
        ),
        (
            "Phạm Văn Minh",
            "minh@thuynguyen.example",
            json!({"venue": "online"}),
        ),
        (
            "Lê \"Bình\", Tổ trưởng; Bcc: attacker@evil.example",
            "binh@thuynguyen.example",
            json!({"venue": "bridge_point", "bridge_point_id": point}),
        ),
    ] {
        let person = app
            .create(
                "/api/v1/people",
                json!({"full_name": name, "unit_id": district, "email": email}),
            )
            .await;
        let mut body =
            json!({"conference_id": conference, "person_id": person, "unit_id": district});
        for (k, v) in venue.as_object().expect("object") {
            body[k] = v.clone();
        }
        delegates.push(app.create("/api/v1/delegates", body).await);
    }
    (conference, delegates)
}

store_test!(the_seeded_invitations_reach_a_real_smtp_server, |app| {
    let Some(server) = SmtpServer::start(0, None, &[]) else {
        return;
    };
    let (conference, delegates) = published_with_delegates(app).await;

    let (status, preview) = app
        .post(
            &format!("/api/v1/conferences/{conference}/invitations/preview"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["method"], "REQUEST");
    let recipients = preview["recipients"].as_u64().expect("count") as usize;
    let units = preview["units"].as_array().expect("units");
    let district = id_of(app, "pgddt-thuy-nguyen").await;
    let tn = units
        .iter()
        .find(|u| u["unit_id"] == district)
        .expect("Thủy Nguyên is invited");
    assert_eq!(tn["delegates"], 3);
    assert_eq!(tn["messages"], 4, "three invitations and the unit's list");
    assert_eq!(tn["nomination"], false);
    let nominations = units.iter().filter(|u| u["nomination"] == true).count();
    assert!(
        nominations > 10,
        "units without delegates are asked to nominate"
    );
    let per_unit: u64 = units
        .iter()
        .map(|u| u["messages"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        per_unit + preview["bridge_contacts"].as_u64().unwrap_or(0),
        recipients as u64
    );
    assert!(
        preview["sample"]["subject"]
            .as_str()
            .unwrap_or("")
            .starts_with("Giấy mời: ")
    );

    let path = format!("/api/v1/conferences/{conference}/invitations/send");
    let (status, sent) = app.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    assert_eq!(sent["enqueued"].as_u64(), Some(recipients as u64));
    // Sending again adds nothing: every recipient's calendar holds the invitation as it
    // is (the ledger), and their lists are in the outbox already.
    let (_, again) = app.post(&path, json!({})).await;
    assert_eq!(again["enqueued"], 0, "{again}");
    assert_eq!(
        again["unchanged"].as_u64(),
        Some(recipients as u64),
        "{again}"
    );

    let (stop, worker) = Worker::new(app.db.clone(), smtp(&server), fast_settings()).spawn();
    wait_for(&app.db, Duration::from_secs(60), |c| {
        c.sent == recipients as u64
    })
    .await;
    stop.stop();
    worker.await.expect("worker");

    let (status, report) = app
        .get(&format!("/api/v1/conferences/{conference}/outbox"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["counts"]["sent"].as_u64(), Some(recipients as u64));
    assert_eq!(report["counts"]["failed"], 0);

    let received = server.received();
    assert_eq!(received.len(), recipients, "each message once");
    let by_id = count_by_id(&received);
    assert_eq!(by_id.len(), recipients);

    // Lan and Bình sit at one bridge point: their bodies are rendered once and filled
    // with each name and reply link (in tests, each also compared with a full render).
    let mut reply_links = BTreeSet::new();
    for ((delegate, email), name) in delegates
        .iter()
        .zip([
            "lan@thuynguyen.example",
            "minh@thuynguyen.example",
            "binh@thuynguyen.example",
        ])
        .zip([
            "Trần Thị Lan",
            "Phạm Văn Minh",
            "Lê \"Bình\", Tổ trưởng; Bcc: attacker@evil.example",
        ])
    {
        let r = received
            .iter()
            .find(|r| r.to == [email])
            .unwrap_or_else(|| panic!("nothing reached {email}"));
        assert_eq!(r.from, "vanthu@sogddt-haiphong.example");
        let m = MessageParser::default().parse(&r.raw).expect("parses");
        assert_eq!(
            m.message_id(),
            Some(
                format!("hoinghi.c{conference}.d{delegate}.s1.request@sogddt-haiphong.example")
                    .as_str()
            )
        );
        assert!(m.bcc().is_none() && m.cc().is_none());
        let text = String::from_utf8_lossy(&r.raw);
        assert!(!text.contains("\r\nBcc:"), "no header injected");
        let calendar = m
            .parts
            .iter()
            .find(|p| {
                p.content_type()
                    .is_some_and(|c| c.ctype() == "text" && c.subtype() == Some("calendar"))
            })
            .expect("a text/calendar part");
        assert_eq!(
            calendar.content_type().and_then(|c| c.attribute("method")),
            Some("REQUEST")
        );
        let ics = unfold(calendar.text_contents().expect("text"));
        assert!(ics.contains(&format!(
            "UID:hoinghi-conference-{conference}-delegate-{delegate}@hoinghi.invalid\r\n"
        )));
        let attendee = ics
            .lines()
            .find(|l| l.starts_with("ATTENDEE"))
            .expect("ATTENDEE");
        assert!(
            attendee.ends_with(&format!(":mailto:{email}")),
            "one ATTENDEE line, ending with the address: {attendee}"
        );
        if email.starts_with("binh") {
            // The name's own quotes are dropped; its comma and semicolon stay inside
            // the quoted CN.
            assert!(
                attendee
                    .starts_with("ATTENDEE;CN=\"Lê Bình, Tổ trưởng; Bcc: attacker@evil.example\";"),
                "{attendee}"
            );
        }
        let passcode = ics.contains("Mật khẩu phòng họp");
        assert_eq!(
            passcode,
            email.starts_with("minh"),
            "only online delegates get the passcode"
        );
        let text = m.body_text(0).expect("text");
        assert!(text.contains(&format!("Kính gửi {name},")), "{text}");
        let html = m.body_html(0).expect("html");
        let escaped = name.replace('"', "&quot;");
        assert!(html.contains(&format!("Kính gửi {escaped},")), "{html}");
        let link = text
            .split_whitespace()
            .find(|w| w.contains("/rsvp/") && w.ends_with("?reply=accepted"))
            .unwrap_or_else(|| panic!("a reply link: {text}"));
        let (_, token) = link
            .trim_end_matches("?reply=accepted")
            .rsplit_once('/')
            .expect("token");
        assert!(
            html.contains(&format!("/rsvp/{token}?reply&#x3D;accepted")),
            "{html}"
        );
        reply_links.insert(link.to_owned());
    }
    assert_eq!(reply_links.len(), 3, "each delegate's own reply links");

    // Every name as mail-parser reads it, and as Python's `email` does with its
    // `policy.default`: word for word. That parser puts a space between two encoded-words
    // (CPython issue 128110), so a name cut inside a word, as lettre cuts it («Hải Ph» /
    // «òng»), would read as two words there; cut before a space, as `mail` cuts it, it
    // reads with two spaces at the cut, which is all this leaves aside.
    let names = crate::calendar::run_json(
        Command::new("python3")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/names.py"))
            .arg(&server.dir),
    );
    let mut cut_names = 0;
    for r in &received {
        let m = MessageParser::default().parse(&r.raw).expect("parses");
        let id = m.message_id().expect("Message-ID");
        let head = String::from_utf8_lossy(
            &r.raw[..r
                .raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .expect("headers")],
        )
        .into_owned();
        for (header, addresses) in [("From", m.from()), ("To", m.to())] {
            let name = addresses
                .and_then(|a| a.first())
                .and_then(|a| a.name())
                .unwrap_or_default();
            let python = names[id][header.to_lowercase()].as_str().expect("a name");
            assert_eq!(
                python.split_whitespace().collect::<Vec<_>>(),
                name.split_whitespace().collect::<Vec<_>>(),
                "{header} of {id}"
            );
            let value = head.replace("\r\n ", " ");
            let value = value
                .split("\r\n")
                .find_map(|l| l.strip_prefix(&format!("{header}: ")))
                .expect("the header");
            cut_names += usize::from(value.matches("=?utf-8?b?").count() > 1);
        }
    }
    assert!(
        cut_names > 0,
        "names long enough to take several encoded-words"
    );

    // The unit's own mailbox gets the list of its delegates, without a calendar.
    let summary = received
        .iter()
        .find(|r| {
            let id = r.message_id();
            id.starts_with(&format!("hoinghi.c{conference}.u{district}.s1.summary-"))
                && id.ends_with("@sogddt-haiphong.example")
        })
        .expect("the unit's list");
    let m = MessageParser::default()
        .parse(&summary.raw)
        .expect("parses");
    let body = m.body_text(0).expect("text").into_owned();
    assert!(
        body.contains("Trần Thị Lan") && body.contains("Phạm Văn Minh"),
        "{body}"
    );
    assert!(
        m.parts.iter().all(|p| p
            .content_type()
            .is_none_or(|c| c.subtype() != Some("calendar"))),
        "no calendar in the unit's list"
    );

    // A unit that nominated nobody gets the invitation at its mailbox, with the request.
    let nomination = received
        .iter()
        .find(|r| {
            let id = r.message_id();
            id.contains(".u") && id.ends_with(".request@sogddt-haiphong.example")
        })
        .expect("a nomination");
    let m = MessageParser::default()
        .parse(&nomination.raw)
        .expect("parses");
    let body = m.body_text(0).expect("text").into_owned();
    assert!(body.contains("Đề nghị") && body.contains("cử"), "{body}");
    assert!(m.subject().unwrap_or("").starts_with("Giấy mời: "));

    // Cancelled: every recipient gets a CANCEL (same UID, higher SEQUENCE), and each
    // unit its cancellation; nothing of the first round is sent again.
    let (_, before) = app.get(&format!("/api/v1/conferences/{conference}")).await;
    let mut body = before.clone();
    for k in ["id", "sequence", "created_at", "updated_at"] {
        body.as_object_mut().expect("object").remove(k);
    }
    body["status"] = json!("cancelled");
    let (status, after) = app
        .put(&format!("/api/v1/conferences/{conference}"), body)
        .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let sequence = after["sequence"].as_i64().expect("sequence");
    let (status, cancel) = app.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{cancel}");
    assert_eq!(cancel["method"], "CANCEL");
    assert_eq!(cancel["enqueued"].as_u64(), Some(recipients as u64));
    let (stop, worker) = Worker::new(app.db.clone(), smtp(&server), fast_settings()).spawn();
    wait_for(&app.db, Duration::from_secs(60), |c| {
        c.sent == 2 * recipients as u64
    })
    .await;
    stop.stop();
    worker.await.expect("worker");
    let all = server.received();
    assert_eq!(all.len(), 2 * recipients);
    let lan = all
        .iter()
        .filter(|r| r.to == ["lan@thuynguyen.example"])
        .nth(1)
        .expect("Lan's cancellation");
    let m = MessageParser::default().parse(&lan.raw).expect("parses");
    assert!(m.subject().unwrap_or("").starts_with("Hủy: "));
    let calendar = m
        .parts
        .iter()
        .find(|p| {
            p.content_type()
                .is_some_and(|c| c.subtype() == Some("calendar"))
        })
        .expect("a calendar");
    assert_eq!(
        calendar.content_type().and_then(|c| c.attribute("method")),
        Some("CANCEL")
    );
    let ics = unfold(calendar.text_contents().expect("text"));
    assert!(ics.contains("STATUS:CANCELLED\r\n"));
    assert!(ics.contains(&format!("SEQUENCE:{sequence}\r\n")));
    assert!(ics.contains(&format!(
        "UID:hoinghi-conference-{conference}-delegate-{}@hoinghi.invalid\r\n",
        delegates[0]
    )));
    assert!(!ics.contains("BEGIN:VALARM"));
});

store_test!(
    a_server_refusing_4xx_then_accepting_gets_each_message_once,
    |app| {
        let Some(server) = SmtpServer::start(0, None, &["--transient", "5"]) else {
            return;
        };
        let n = outbox::enqueue(&app.db, messages(20, "t4xx"))
            .await
            .expect("enqueue");
        assert_eq!(n, 20);
        let (stop, worker) = Worker::new(app.db.clone(), smtp(&server), fast_settings()).spawn();
        wait_for(&app.db, Duration::from_secs(30), |c| c.sent == 20).await;
        stop.stop();
        worker.await.expect("worker");
        let by_id = count_by_id(&server.received());
        assert_eq!(by_id.len(), 20);
        assert!(by_id.values().all(|n| *n == 1), "{by_id:?}");
        use sea_orm::EntityTrait;
        let retries: i32 = hoinghi::store::outbox::Entity::find()
            .all(&app.db)
            .await
            .expect("rows")
            .iter()
            .map(|m| m.attempts - 1)
            .sum();
        assert_eq!(retries, 5, "five refusals, five attempts more");
    }
);

store_test!(
    a_5xx_fails_the_message_with_the_servers_reply_and_is_not_retried,
    |app| {
        let Some(server) = SmtpServer::start(0, None, &["--permanent-rcpt", "daibieu3@"]) else {
            return;
        };
        let (conference, _) = published_with_delegates(app).await;
        // Attach the messages to the conference, so that its outbox endpoints see them.
        let mut batch = messages(6, "t5xx");
        for m in &mut batch {
            m.conference_id = Some(conference);
        }
        outbox::enqueue(&app.db, batch).await.expect("enqueue");
        let (stop, worker) = Worker::new(app.db.clone(), smtp(&server), fast_settings()).spawn();
        let c = wait_for(&app.db, Duration::from_secs(30), |c| c.open() == 0).await;
        assert_eq!((c.sent, c.failed), (5, 1));
        let (_, report) = app
            .get(&format!("/api/v1/conferences/{conference}/outbox"))
            .await;
        let failure = &report["failures"][0];
        assert_eq!(failure["recipient"], "daibieu3@truong.example");
        assert_eq!(failure["attempts"], 1, "a permanent failure is not retried");
        let reason = failure["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains("550") && reason.contains("User unknown"),
            "{reason}"
        );

        // Retrying on request tries once more, and fails again for the same reason.
        let (status, r) = app
            .post(
                &format!("/api/v1/conferences/{conference}/outbox/retry"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["retried"], 1);
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let start = Instant::now();
        loop {
            let row = hoinghi::store::outbox::Entity::find()
                .filter(hoinghi::store::outbox::Column::Recipient.eq("daibieu3@truong.example"))
                .one(&app.db)
                .await
                .expect("row")
                .expect("the failed message");
            // Retried: attempts start again from 0, and one more attempt fails it.
            if row.state == hoinghi::domain::kinds::OutboxState::Failed && row.attempts == 1 {
                assert!(row.last_error.unwrap_or_default().contains("550"));
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "not retried: {:?}",
                row.state
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let c = outbox::counts(&app.db, None).await.expect("counts");
        assert_eq!((c.sent, c.failed), (5, 1));
        stop.stop();
        worker.await.expect("worker");
        assert_eq!(server.received().len(), 5);
    }
);

store_test!(
    a_server_down_at_start_gets_the_messages_when_it_comes_back,
    |app| {
        // A port nobody listens on yet.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let transport = Transport::smtp(
            &SecretString::from(format!("smtp://127.0.0.1:{port}")),
            4,
            Duration::from_secs(5),
        )
        .expect("transport");
        outbox::enqueue(&app.db, messages(10, "down"))
            .await
            .expect("enqueue");
        let mut s = fast_settings();
        s.max_attempts = 50;
        let (stop, worker) = Worker::new(app.db.clone(), transport, s).spawn();
        // Every message fails to connect and waits for its retry.
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let start = Instant::now();
        loop {
            let tried = hoinghi::store::outbox::Entity::find()
                .filter(hoinghi::store::outbox::Column::LastError.is_not_null())
                .all(&app.db)
                .await
                .expect("rows");
            if tried.len() == 10 {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "not every message was tried"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(outbox::counts(&app.db, None).await.expect("counts").sent, 0);
        let Some(server) = SmtpServer::start(port, None, &[]) else {
            return;
        };
        wait_for(&app.db, Duration::from_secs(30), |c| c.sent == 10).await;
        stop.stop();
        worker.await.expect("worker");
        let by_id = count_by_id(&server.received());
        assert_eq!(by_id.len(), 10);
        assert!(by_id.values().all(|n| *n == 1));
    }
);

store_test!(
    a_send_hands_its_messages_to_the_worker_of_its_process,
    |app| {
        use hoinghi::documents::templates::Templates;
        use hoinghi::services::invitations::{self, Syncing, Trigger};
        use sea_orm::EntityTrait;
        let Some(server) = SmtpServer::start(0, None, &[]) else {
            return;
        };
        let (conference, _) = published_with_delegates(app).await;
        let worker = Worker::new(app.db.clone(), smtp(&server), fast_settings());
        let link = worker.link();
        let handoff = link
            .handoff
            .clone()
            .expect("a worker here takes handed messages");
        let how = Syncing {
            batch: 8,
            worker: Some(link),
            ..Syncing::default()
        };
        let templates = Templates::load(None).expect("templates");
        let sent = invitations::sync(
            &app.db,
            &templates,
            conference,
            crate::updates::URL,
            Trigger::Send,
            &how,
        )
        .await
        .expect("sync")
        .expect("a send");
        assert!(sent.enqueued > 8, "several batches: {sent:?}");
        assert_eq!(
            handoff.len() as u64,
            sent.enqueued,
            "every committed message handed over"
        );

        let (stop, running) = worker.spawn();
        wait_for(&app.db, Duration::from_secs(60), |c| {
            c.sent == sent.enqueued
        })
        .await;
        stop.stop();
        running.await.expect("worker");
        assert!(handoff.is_empty(), "the worker took them all");
        // What went out is what the outbox keeps, byte for byte.
        let mut bodies: BTreeMap<i64, Vec<u8>> = hoinghi::store::outbox_body::Entity::find()
            .all(&app.db)
            .await
            .expect("bodies")
            .into_iter()
            .map(|b| (b.outbox_id, b.raw))
            .collect();
        let kept: BTreeMap<String, Vec<u8>> = hoinghi::store::outbox::Entity::find()
            .all(&app.db)
            .await
            .expect("rows")
            .into_iter()
            .map(|row| {
                let body = bodies.remove(&row.id).expect("a body");
                let raw = hoinghi::store::outbox_body::unpack(&body).expect("unpacks");
                (format!("<{}>", row.message_id), raw)
            })
            .collect();
        let received = server.received();
        assert_eq!(received.len() as u64, sent.enqueued);
        for r in received {
            let id = r.message_id();
            let kept = kept
                .get(&format!("<{id}>"))
                .unwrap_or_else(|| panic!("{id} kept"));
            assert_eq!(
                String::from_utf8_lossy(r.raw.trim_ascii_end()),
                String::from_utf8_lossy(kept.trim_ascii_end()),
                "{id}"
            );
        }
    }
);

store_test!(two_workers_on_one_database_send_each_message_once, |app| {
    let Some(server) = SmtpServer::start(0, None, &[]) else {
        return;
    };
    outbox::enqueue(&app.db, messages(1000, "two"))
        .await
        .expect("enqueue");
    // A second pool, as a second app instance would have.
    let other = hoinghi::store::connect(&app.url, 4)
        .await
        .expect("second pool");
    let (stop_a, a) = Worker::new(app.db.clone(), smtp(&server), fast_settings()).spawn();
    let (stop_b, b) = Worker::new(other.clone(), smtp(&server), fast_settings()).spawn();
    wait_for(&app.db, Duration::from_secs(120), |c| c.sent == 1000).await;
    stop_a.stop();
    stop_b.stop();
    a.await.expect("worker a");
    b.await.expect("worker b");
    let received = server.received();
    let by_id = count_by_id(&received);
    assert_eq!(by_id.len(), 1000);
    let twice: Vec<_> = by_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    assert_eq!(received.len(), 1000);
    other.close().await.ok();
});

store_test!(
    a_worker_killed_mid_send_loses_nothing_after_a_restart,
    |app| {
        let Some(server) = SmtpServer::start(0, None, &["--delay-ms", "20"]) else {
            return;
        };
        const N: usize = 150;
        const CONCURRENCY: usize = 4;
        const MAX_UNRECORDED: usize = 8;
        outbox::enqueue(&app.db, messages(N, "kill"))
            .await
            .expect("enqueue");
        let data = unique_dir("kill-data");
        let worker = |until_empty: bool| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_hoinghi"));
            c.args(["outbox", "run"]);
            if until_empty {
                c.arg("--until-empty");
            }
            c.env("HOINGHI_DATABASE_URL", &app.url)
                .env("HOINGHI_DATA_DIR", &data)
                .env("HOINGHI_MAIL_TRANSPORT", "smtp")
                .env(
                    "HOINGHI_SMTP_URL",
                    format!("smtp://127.0.0.1:{}", server.port),
                )
                .env("HOINGHI_OUTBOX_CONCURRENCY", CONCURRENCY.to_string())
                .env("HOINGHI_OUTBOX_MAX_UNRECORDED", MAX_UNRECORDED.to_string())
                .env("HOINGHI_OUTBOX_RATE_PER_SECOND", "0")
                .env("HOINGHI_OUTBOX_LEASE_MS", "1500")
                .env("HOINGHI_OUTBOX_RETRY_MS", "50")
                .env("HOINGHI_OUTBOX_POLL_MS", "50")
                .env("HOINGHI_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            c
        };
        let mut first = worker(false).spawn().expect("start the worker");
        let start = Instant::now();
        while server.received().len() < N / 3 {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the worker sends nothing"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // SIGKILL: no chance to finish or give anything back.
        first.kill().expect("kill");
        first.wait().ok();
        let before_restart = server.received().len();
        assert!(before_restart < N, "killed before the end");

        let status = worker(true).status().expect("restart");
        assert!(status.success(), "the restarted worker sent everything");
        let received = server.received();
        let by_id = count_by_id(&received);
        assert_eq!(by_id.len(), N, "every message arrived");
        let repeated: usize = by_id.values().map(|n| n - 1).sum();
        assert!(
            repeated <= MAX_UNRECORDED,
            "only messages in flight at the kill may arrive twice: {repeated}"
        );
        let c = outbox::counts(&app.db, None).await.expect("counts");
        assert_eq!((c.sent, c.open()), (N as u64, 0));
        let ids: BTreeSet<String> = by_id.into_keys().collect();
        assert!(ids.iter().all(|id| id.starts_with("hoinghi.test.kill.")));
        std::fs::remove_dir_all(data).ok();
    }
);

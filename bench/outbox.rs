//! Invitations delivered end to end to postfix's `smtp-sink` on loopback, against
//! postfix's `smtp-source` sending as many messages of the same size with the same number
//! of sessions to the same sink, in the same run.
//!
//! usage: cargo bench --bench outbox -- [DELEGATES] [SESSIONS]   (default 10000 16)
//!
//! 1. A fresh SQLite database in a temporary directory: the seed (Hải Phòng), the morning
//!    conference published, and DELEGATES delegates (persons with e-mail addresses) spread
//!    over the units it invites, at their bridge point or online.
//! 2. Timed end to end, as `POST …/invitations/send` runs in the server: the sync
//!    (`invitations::sync`) builds every message (calendar, templates, MIME) and enqueues
//!    them batch after batch, waking the outbox worker after each commit; the worker, with
//!    SESSIONS connections, sends them all to `smtp-sink` and marks each sent.
//! 3. `smtp-source -s SESSIONS -m N -l SIZE` to a fresh `smtp-sink`, timed, SIZE being the
//!    average size of the messages hoinghi sent.
//!
//! Needs postfix's `smtp-sink` and `smtp-source` (Debian: `apt-get install postfix`).
//! Figures are printed, never asserted.
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hoinghi::documents::templates::Templates;
use hoinghi::domain::kinds::{ConferenceStatus, DelegateRole, OutboxState, Reply, Venue};
use hoinghi::mail::transport::Transport;
use hoinghi::services::outbox::{self, Worker, WorkerSettings};
use hoinghi::services::{checks, invitations, seed};
use hoinghi::store::{self, attendance_rule, bridge_point_unit, conference, delegate, person};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    Set, TransactionTrait,
};
use secrecy::SecretString;
use std::sync::{Arc, Mutex};

/// The allocator of the `hoinghi` binary (`src/main.rs`), so that the bench runs as the
/// server does: jemalloc, also behind SQLite's `malloc`.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// CPU seconds (user and system) process `pid` has used so far, from `/proc/PID/stat`
/// (`self` for this process); `None` where there is no such file.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // The clock ticks per second of every Linux ABI Rust builds for.
    Some(ticks / 100.0)
}

/// Starts `smtp-sink` on a free port; returns it and the port once it listens.
fn sink(sessions: usize) -> (Child, u16) {
    let port = free_port();
    let child = Command::new("smtp-sink")
        .args(["-u", "root", "-c"])
        .arg(format!("127.0.0.1:{port}"))
        .arg((sessions * 4).to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("smtp-sink (apt-get install postfix)");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "smtp-sink does not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, port)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let sessions: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(16);

    let dir = std::env::temp_dir().join(format!("hoinghi-bench-outbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = store::connect(&store::sqlite_url(&dir.join("bench.db")), 8)
        .await
        .expect("database");
    store::migrate(&db).await.expect("migrate");
    seed::load_dir(&db, &Path::new(env!("CARGO_MANIFEST_DIR")).join("seed"))
        .await
        .expect("seed");
    let c = conference::Entity::find()
        .filter(conference::Column::Title.contains("Đơn vị học tập"))
        .one(&db)
        .await
        .expect("read")
        .expect("the seeded morning conference");

    // Delegates over the invited units, a fifth online, the rest at their bridge point.
    let t = Instant::now();
    let mut units = Vec::new();
    for r in attendance_rule::Entity::find()
        .filter(attendance_rule::Column::ConferenceId.eq(c.id))
        .all(&db)
        .await
        .expect("rules")
    {
        units.extend(checks::required_units(&db, &r).await.expect("units"));
    }
    units.sort_unstable();
    units.dedup();
    let point_of: std::collections::HashMap<i64, i64> = bridge_point_unit::Entity::find()
        .all(&db)
        .await
        .expect("links")
        .into_iter()
        .map(|l| (l.unit_id, l.bridge_point_id))
        .collect();
    let now = store::now();
    let txn = db.begin().await.expect("txn");
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let people: Vec<person::ActiveModel> = chunk
            .iter()
            .map(|i| person::ActiveModel {
                id: NotSet,
                unit_id: Set(Some(units[i % units.len()])),
                honorific: Set(Some(if i % 2 == 0 { "Ông" } else { "Bà" }.into())),
                full_name: Set(format!("Nguyễn Thị Đại Biểu {i}")),
                position: Set(Some("Giáo viên".into())),
                email: Set(Some(format!("daibieu{i}@truong.example"))),
                phone: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect();
        person::Entity::insert_many(people)
            .exec_without_returning(&txn)
            .await
            .expect("people");
    }
    let people: Vec<(i64, String)> = person::Entity::find()
        .filter(person::Column::Email.like("daibieu%@truong.example"))
        .all(&txn)
        .await
        .expect("people")
        .into_iter()
        .map(|p| (p.id, p.email.unwrap_or_default()))
        .collect();
    for chunk in people.chunks(1000) {
        let rows: Vec<delegate::ActiveModel> = chunk
            .iter()
            .enumerate()
            .map(|(k, (person_id, _))| {
                let unit = units[(*person_id as usize + k) % units.len()];
                let point = point_of.get(&unit).copied();
                let online = point.is_none() || person_id % 5 == 0;
                delegate::ActiveModel {
                    id: NotSet,
                    conference_id: Set(c.id),
                    person_id: Set(*person_id),
                    unit_id: Set(unit),
                    attendance_rule_id: Set(None),
                    venue: Set(if online {
                        Venue::Online
                    } else {
                        Venue::BridgePoint
                    }),
                    hall_id: Set(None),
                    bridge_point_id: Set(if online { None } else { point }),
                    role: Set(DelegateRole::ReqParticipant),
                    reply: Set(Reply::NeedsAction),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
            })
            .collect();
        delegate::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await
            .expect("delegates");
    }
    let mut am = c.clone().into_active_model();
    am.status = Set(ConferenceStatus::Published);
    am.sequence = Set(1);
    am.update(&txn).await.expect("publish");
    txn.commit().await.expect("commit");
    println!(
        "data:     {n} delegates of {} units loaded in {:.1} s",
        units.len(),
        t.elapsed().as_secs_f64()
    );

    let templates = Templates::load(None).expect("templates");
    let (mut sink_a, port_a) = sink(sessions);
    let transport = Transport::smtp(
        &SecretString::from(format!("smtp://127.0.0.1:{port_a}")),
        sessions as u32,
        Duration::from_secs(30),
    )
    .expect("transport");
    let settings = WorkerSettings {
        concurrency: sessions,
        rate_per_second: 0,
        ..WorkerSettings::default()
    };

    // End to end, as a send runs in the server: the worker waits; the sync enqueues batch
    // after batch, waking it after each commit; the worker sends and marks each sent.
    let worker = Worker::new(db.clone(), transport, settings);
    let link = worker.link();
    let (stop, worker) = worker.spawn();
    let t = Instant::now();
    let cpu_before = cpu_seconds("self");
    let first_batch = Arc::new(Mutex::new(None::<Duration>));
    let progress: invitations::Progress = {
        let first_batch = first_batch.clone();
        Arc::new(move |at: invitations::Enqueueing| {
            if at.batches == 1 {
                first_batch.lock().expect("lock").get_or_insert(t.elapsed());
            }
            Box::pin(async {})
        })
    };
    let how = invitations::Syncing {
        worker: Some(link),
        progress: Some(progress),
        ..invitations::Syncing::default()
    };
    let sent = invitations::sync(
        &db,
        &templates,
        c.id,
        "https://hoinghi.example",
        invitations::Trigger::Send,
        &how,
    )
    .await
    .expect("sync")
    .expect("a send");
    let enqueued = t.elapsed();
    let messages = usize::try_from(sent.enqueued).expect("count");
    let sent_by_then = outbox::counts(&db, None).await.expect("counts").sent;
    // Done when no message is pending or sending: a lookup in the worker's own index
    // (state, due_ms), so that watching costs the database next to nothing (counting
    // 10,000 rows by state every few milliseconds would not).
    loop {
        let open = hoinghi::store::outbox::Entity::find()
            .filter(
                hoinghi::store::outbox::Column::State
                    .is_in([OutboxState::Pending, OutboxState::Sending]),
            )
            .one(&db)
            .await
            .expect("open messages");
        if open.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let e2e = t.elapsed().as_secs_f64();
    let cpu_hoinghi = cpu_seconds("self").zip(cpu_before).map(|(a, b)| a - b);
    let cpu_sink_a = cpu_seconds(&sink_a.id().to_string());
    // The end of the part measured, for a profiler watching the output (what follows
    // reads every body back, which the send itself does not).
    println!("sent:     at {e2e:.2} s");
    let counts = outbox::counts(&db, None).await.expect("counts");
    assert_eq!(
        (counts.sent as usize, counts.failed),
        (messages, 0),
        "{counts:?}"
    );
    stop.stop();
    worker.await.expect("worker");
    sink_a.kill().ok();
    sink_a.wait().ok();
    // The size as sent (the bodies are kept compressed), for smtp-source.
    let bodies = hoinghi::store::outbox_body::Entity::find()
        .all(&db)
        .await
        .expect("bodies");
    let kept: usize = bodies.iter().map(|b| b.raw.len()).sum();
    let bytes: usize = bodies
        .iter()
        .map(|b| {
            hoinghi::store::outbox_body::unpack(&b.raw)
                .expect("a message")
                .len()
        })
        .sum();
    let size = bytes / messages.max(1);
    println!(
        "kept:     {:.1} MB compressed of {:.1} MB sent",
        kept as f64 / 1e6,
        bytes as f64 / 1e6
    );
    let first = first_batch.lock().expect("lock").unwrap_or_default();
    println!(
        "hoinghi:  {messages} messages (avg {size} bytes): first batch enqueued at {:.2} s, all enqueued at {:.2} s ({sent_by_then} sent by then), all sent and marked at {e2e:.2} s = {:.0} msg/s end to end",
        first.as_secs_f64(),
        enqueued.as_secs_f64(),
        messages as f64 / e2e
    );

    // The same count and size with smtp-source, to a fresh sink.
    let (mut sink_b, port_b) = sink(sessions);
    let t = Instant::now();
    let status = Command::new("smtp-source")
        .args([
            "-c",
            "-s",
            &sessions.to_string(),
            "-m",
            &messages.to_string(),
        ])
        .args(["-l", &size.to_string()])
        .args([
            "-f",
            "vanthu@sogddt-haiphong.example",
            "-t",
            "daibieu@truong.example",
        ])
        .arg(format!("127.0.0.1:{port_b}"))
        .stdout(Stdio::null())
        .status()
        .expect("smtp-source (apt-get install postfix)");
    let source = t.elapsed().as_secs_f64();
    let cpu_sink_b = cpu_seconds(&sink_b.id().to_string());
    sink_b.kill().ok();
    sink_b.wait().ok();
    assert!(status.success(), "smtp-source failed");
    println!(
        "source:   {messages} messages of {size} bytes with {sessions} sessions in {source:.2} s = {:.0} msg/s",
        messages as f64 / source
    );
    let secs = |c: Option<f64>| c.map_or_else(|| "?".to_owned(), |c| format!("{c:.2} s"));
    println!(
        "cpu:      hoinghi {} (its sink {}); smtp-source's sink {}",
        secs(cpu_hoinghi),
        secs(cpu_sink_a),
        secs(cpu_sink_b)
    );
    println!(
        "ratio:    hoinghi end to end / smtp-source = {:.0}%",
        100.0 * source / e2e
    );
    db.close().await.ok();
    std::fs::remove_dir_all(dir).ok();
}

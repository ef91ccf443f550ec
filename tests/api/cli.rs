//! The `hoinghi` binary itself, on the embedded default (a SQLite file in a data
//! directory): `seed`, `check` and its exit status, `user add` and `token create`.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chrono::TimeDelta;
use hoinghi::store::{self, conference, seed_ref};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

/// A fresh data directory under the target directory, removed when dropped.
struct DataDir(PathBuf);

impl DataDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "hoinghi-cli-{name}-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        ));
        std::fs::create_dir_all(&dir).expect("data dir");
        Self(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `hoinghi ARGS` on `data` with `stdin`, in a clean environment of settings.
fn hoinghi(data: &Path, args: &[&str], stdin: &str) -> Output {
    hoinghi_with(data, args, stdin, &[])
}

/// `hoinghi` with extra environment variables.
fn hoinghi_with(data: &Path, args: &[&str], stdin: &str, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hoinghi"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    for (k, _) in std::env::vars() {
        if k.starts_with("HOINGHI_") && !env.iter().any(|(e, _)| *e == k) {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .args(args)
        .env("HOINGHI_DATA_DIR", data)
        .env(
            "HOINGHI_SEED_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("seed"),
        )
        .env("HOINGHI_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hoinghi runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    // A command that should exit but does not (a server that starts when it must not) is
    // killed after two minutes and fails the test instead of hanging it.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let done = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicBool::new(false));
    let pid = child.id().to_string();
    let watchdog = {
        let (done, killed) = (done.clone(), killed.clone());
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while !done.load(Ordering::SeqCst) {
                if std::time::Instant::now() > deadline {
                    killed.store(true, Ordering::SeqCst);
                    let _ = Command::new("kill").args(["-9", &pid]).status();
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        })
    };
    let out = child.wait_with_output().expect("hoinghi exits");
    done.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    assert!(
        !killed.load(Ordering::SeqCst),
        "hoinghi {args:?} did not exit within two minutes: {}",
        text(&out.stderr)
    );
    out
}

/// The demo database of `data` and its seeded conference `key`.
async fn seeded_conference(
    data: &Path,
    key: &str,
) -> (sea_orm::DatabaseConnection, conference::Model) {
    let db = store::connect(&store::sqlite_url(&data.join("hoinghi.db")), 1)
        .await
        .expect("open the demo database");
    let id = seed_ref::Entity::find_by_id(key.to_owned())
        .one(&db)
        .await
        .unwrap()
        .expect("seeded")
        .row_id;
    let c = conference::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .expect("conference");
    (db, c)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn check_prints_a_table_and_fails_on_errors() {
    let data = DataDir::new("check");
    let seeded = hoinghi(&data.0, &["seed"], "");
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));

    let clean = hoinghi(&data.0, &["check", "--plan", "plan-1609"], "");
    let out = text(&clean.stdout);
    assert!(clean.status.success(), "{out}{}", text(&clean.stderr));
    assert!(out.starts_with("Mức"), "a table with a header: {out}");
    assert!(out.contains("agenda_before_opening"), "{out}");
    assert!(out.contains("0 lỗi, 2 cảnh báo."), "{out}");

    // Move the afternoon conference onto the morning one, as another client would.
    let (db, c) = seeded_conference(&data.0, "conf-cdht").await;
    let mut am: conference::ActiveModel = c.clone().into();
    am.starts_at = Set(c.starts_at - TimeDelta::hours(3));
    am.ends_at = Set(c.ends_at - TimeDelta::hours(3));
    am.update(&db).await.expect("moved");
    db.close().await.expect("closed");

    let clash = hoinghi(
        &data.0,
        &["check", "--from", "2024-12-18", "--to", "2024-12-18"],
        "",
    );
    let out = text(&clash.stdout);
    assert_eq!(clash.status.code(), Some(1), "{out}");
    assert!(out.contains("hall_double_booked"), "{out}");
    assert!(out.contains("LỖI"), "{out}");
    assert!(text(&clash.stderr).contains("cần xử lý các lỗi"));

    let unknown = hoinghi(&data.0, &["check", "--plan", "plan-0000"], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("--plan"),
        "{}",
        text(&unknown.stderr)
    );
    let half = hoinghi(&data.0, &["check", "--from", "2024-12-18"], "");
    assert!(!half.status.success(), "--from needs --to");
}

/// `invitations send` refuses a draft; for a published conference it enqueues and sends
/// every message (to the `.eml` files of the default transport), reporting both; a
/// second send has nothing new to send.
#[tokio::test]
async fn invitations_send_enqueues_and_sends_every_message() {
    let data = DataDir::new("send");
    let seeded = hoinghi(&data.0, &["seed"], "");
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let send = || {
        hoinghi(
            &data.0,
            &["invitations", "send", "--conference", "conf-dvht"],
            "",
        )
    };

    let draft = send();
    assert!(!draft.status.success(), "a draft is not sent");
    assert!(
        text(&draft.stderr).contains("công bố"),
        "{}",
        text(&draft.stderr)
    );

    let (db, c) = seeded_conference(&data.0, "conf-dvht").await;
    let id = c.id;
    let mut am: conference::ActiveModel = c.into();
    am.status = Set(hoinghi::domain::kinds::ConferenceStatus::Published);
    am.update(&db).await.expect("published");

    let sent = send();
    let out = text(&sent.stdout);
    assert!(sent.status.success(), "{out}{}", text(&sent.stderr));
    let number = |out: &str, prefix: &str| -> usize {
        let line = out
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("a line «{prefix} …»: {out}"));
        line[prefix.len()..]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a count: {line}"))
    };
    let enqueued = number(&out, "Đã đưa");
    assert!(enqueued > 50, "{out}");
    assert_eq!(number(&out, "Đã gửi"), enqueued, "{out}");
    assert!(out.contains("0 thư lỗi; 0 thư chờ gửi lại."), "{out}");
    let files = std::fs::read_dir(data.0.join("mail"))
        .expect("the mail directory")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
        })
        .count();
    assert_eq!(files, enqueued, "one .eml per message");
    let counts = hoinghi::services::outbox::counts(&db, Some(id))
        .await
        .expect("counts");
    assert_eq!((counts.sent, counts.open()), (enqueued as u64, 0));

    let again = send();
    let out = text(&again.stdout);
    assert!(again.status.success(), "{out}{}", text(&again.stderr));
    assert_eq!(number(&out, "Đã đưa"), 0, "{out}");
    assert_eq!(number(&out, "Đã gửi"), 0, "{out}");
    db.close().await.ok();
}

#[tokio::test]
async fn a_user_added_on_the_command_line_gets_a_working_token() {
    let data = DataDir::new("user");
    let added = hoinghi(
        &data.0,
        &["user", "add", "--login", "thanh.tra", "--role", "admin"],
        "mật-khẩu-đủ-dài-2024\n",
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert!(text(&added.stdout).contains("thanh.tra"));
    assert!(
        !text(&added.stdout).contains("Mật khẩu:"),
        "a password given on stdin is not printed"
    );
    let created = hoinghi(&data.0, &["token", "create", "--user", "thanh.tra"], "");
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    assert!(token.starts_with("hn_"), "last line is the token: {token}");

    let db = store::connect(&store::sqlite_url(&data.0.join("hoinghi.db")), 1)
        .await
        .expect("open");
    let p = hoinghi::services::auth::authenticate(&db, &token)
        .await
        .expect("the printed token authenticates");
    assert_eq!(p.login, "thanh.tra");

    let missing = hoinghi(&data.0, &["token", "create", "--user", "nobody"], "");
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("nobody"));
}

#[tokio::test]
async fn render_writes_a_seeded_agenda_and_plan() {
    let data = DataDir::new("render");
    let seeded = hoinghi(&data.0, &["seed"], "");
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let file = data.0.join("chuong-trinh.html");
    let rendered = hoinghi(
        &data.0,
        &[
            "render",
            "--conference",
            "conf-dvht",
            "--format",
            "html",
            "-o",
            file.to_str().expect("utf-8 path"),
        ],
        "",
    );
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    let html = std::fs::read_to_string(&file).expect("written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<td class=\"time\">").count(), 9);

    let plain = hoinghi(
        &data.0,
        &["render", "--conference", "conf-cdht", "--format", "txt"],
        "",
    );
    assert!(plain.status.success());
    assert!(text(&plain.stdout).contains("13h30-14h00\tĐón tiếp đại biểu, ổn định vị trí"));

    let unknown = hoinghi(&data.0, &["render", "--conference", "conf-x"], "");
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("--conference"));
    let bad = hoinghi(
        &data.0,
        &["render", "--conference", "conf-dvht", "--format", "pdf"],
        "",
    );
    assert!(!bad.status.success(), "an unknown format is refused");

    let plan = hoinghi(
        &data.0,
        &["render", "--plan", "plan-1609", "--format", "txt"],
        "",
    );
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    let plan = text(&plan.stdout);
    assert!(
        plan.starts_with("UBND THÀNH PHỐ HẢI PHÒNG\nSỞ GIÁO DỤC VÀ ĐÀO TẠO\nSố: 1609/KH-SGDĐT\n")
    );
    assert!(plan.contains("(Danh sách này gồm 03 người)"));
    let docx = data.0.join("ke-hoach.docx");
    let written = hoinghi(
        &data.0,
        &[
            "render",
            "--plan",
            "plan-1609",
            "--format",
            "docx",
            "-o",
            docx.to_str().expect("utf-8 path"),
        ],
        "",
    );
    assert!(written.status.success(), "{}", text(&written.stderr));
    let bytes = std::fs::read(&docx).expect("written");
    assert!(bytes.starts_with(b"PK\x03\x04"), "a zip file");
    let letter = hoinghi(
        &data.0,
        &[
            "render",
            "--conference",
            "conf-dvht",
            "--unit",
            "ubnd-thuy-nguyen",
            "--format",
            "txt",
        ],
        "",
    );
    assert!(letter.status.success(), "{}", text(&letter.stderr));
    assert!(text(&letter.stdout).contains("Sở GDĐT trân trọng kính mời: UBND huyện Thủy Nguyên"));
    let neither = hoinghi(&data.0, &["render", "--format", "txt"], "");
    assert!(
        !neither.status.success(),
        "--plan or --conference is required"
    );
    assert!(
        text(&neither.stderr).contains("--plan"),
        "{}",
        text(&neither.stderr)
    );
}

#[tokio::test]
async fn a_broken_template_stops_start_up_naming_file_line_and_reason() {
    let data = DataDir::new("templates");
    let templates = data.0.join("templates");
    std::fs::create_dir_all(templates.join("documents")).expect("dir");
    // An unknown variable on line 2 of the plan's text template.
    std::fs::write(
        templates.join("documents/plan.txt.hbs"),
        "{{title}}\n{{venue_of_the_year}}\n",
    )
    .expect("write");
    let serve = hoinghi_with(
        &data.0,
        &["serve"],
        "",
        &[
            ("HOINGHI_TEMPLATES_DIR", &templates),
            ("HOINGHI_BIND", Path::new("127.0.0.1:0")),
        ],
    );
    assert!(!serve.status.success(), "the server must not start");
    let err = text(&serve.stderr);
    assert!(err.contains("documents/plan.txt.hbs"), "{err}");
    assert!(err.contains("venue_of_the_year"), "{err}");
    assert!(err.contains("line 2"), "{err}");

    // A syntax error (an unclosed block) in the letter's HTML template.
    std::fs::remove_file(templates.join("documents/plan.txt.hbs")).expect("rm");
    std::fs::write(
        templates.join("documents/letter.html.hbs"),
        "<p>\n{{#each composition}}\n{{this}}\n",
    )
    .expect("write");
    let render = hoinghi_with(
        &data.0,
        &["render", "--plan", "plan-1609"],
        "",
        &[("HOINGHI_TEMPLATES_DIR", &templates)],
    );
    assert!(!render.status.success());
    let err = text(&render.stderr);
    assert!(err.contains("documents/letter.html.hbs"), "{err}");
    assert!(
        err.contains(":4:1"),
        "the end of the file, where the block is unclosed: {err}"
    );
}

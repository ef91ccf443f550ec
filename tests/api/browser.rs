//! Web pages in a real browser: headless Chromium (Debian's `chromium`) driven by
//! `playwright-core` from the node cache (`$HOINGHI_TEST_NODE_DIR`, as for ical.js).
use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;

use crate::calendar::run_json;
use crate::store_test;
use crate::updates::{first_round, reply_token};

/// The node directory holding `playwright-core`, and the browser; `None` (with a notice,
/// or a failure where checkers are required) when either is missing.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let dir = std::env::var_os("HOINGHI_TEST_NODE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/hoinghi-node")))
        .filter(|d| d.join("node_modules/playwright-core").exists());
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    match dir {
        Some(dir) if chromium.exists() => Some((dir, chromium)),
        _ => {
            crate::helpers::missing_checker(
                "headless Chromium (/usr/bin/chromium or $CHROMIUM) and playwright-core \
                 (in $HOINGHI_TEST_NODE_DIR or ~/.cache/hoinghi-node)",
            );
            None
        }
    }
}

store_test!(a_delegate_answers_from_the_reply_page_in_chromium, |app| {
    let Some((dir, chromium)) = browser() else {
        return;
    };
    let (conference, delegates, _, first) = first_round(app).await;
    let lan = delegates[0];
    let token = reply_token(&first[&lan].raw);
    // ES modules resolve `playwright-core` from the script's own directory.
    // One file per test: the SQLite and PostgreSQL runs copy it at the same time.
    let runner = dir.join(format!(
        "hoinghi-rsvp-{}-{}.mjs",
        std::process::id(),
        app.address.rsplit(':').next().unwrap_or("0")
    ));
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/rsvp.mjs");
    std::fs::copy(source, &runner).expect("copy the browser script");
    let cleanup = runner.clone();
    let url = format!("{}/rsvp/{token}?reply=accepted", app.address);
    // On a blocking thread: the browser talks to the app, whose pool (PostgreSQL) opens
    // connections on this test's runtime, which must keep running meanwhile.
    let seen = tokio::task::spawn_blocking(move || {
        run_json(
            Command::new("node")
                .arg(&runner)
                .arg(&url)
                .arg("accepted")
                .env("CHROMIUM", &chromium),
        )
    })
    .await
    .expect("the browser run");
    let _ = std::fs::remove_file(cleanup);
    let (_, c) = app.get(&format!("/api/v1/conferences/{conference}")).await;
    let before = &seen["before"];
    assert_eq!(before["http"], 200, "{seen}");
    assert_eq!(before["heading"], c["title"], "the title, NFC, as stored");
    assert_eq!(before["recipient"], "Trần Thị Lan");
    assert_eq!(
        before["reply"], "needs_action",
        "opening the link records nothing"
    );
    assert_eq!(before["proposed"], "accepted");
    assert_eq!(
        before["buttons"],
        serde_json::json!(["Tham dự", "Không tham dự", "Chưa chắc chắn"]),
        "{seen}"
    );
    assert_eq!(before["fits"], true, "the page fits a 360 px wide phone");
    let after = &seen["after"];
    assert_eq!(after["http"], 200, "{seen}");
    assert_eq!(after["reply"], "accepted");
    assert!(
        after["status"]
            .as_str()
            .is_some_and(|s| s.starts_with("Đã ghi nhận: Tham dự")),
        "{seen}"
    );
    assert_eq!(seen["errors"], serde_json::json!([]));
    // The browser's answer is the delegate's reply.
    let (status, d) = app.get(&format!("/api/v1/delegates/{lan}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["reply"], "accepted");
});

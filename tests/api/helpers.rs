//! `spawn_app`, request helpers and the `store_test!` macro that runs a test body on both
//! backends.
use std::sync::atomic::{AtomicU64, Ordering};

use hoinghi::Application;
use hoinghi::config::Settings;
use hoinghi::domain::kinds::Role;
use hoinghi::services::auth;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running app and a client signed in as an administrator.
pub struct TestApp {
    pub address: String,
    pub db: DatabaseConnection,
    pub client: reqwest::Client,
    pub admin_token: String,
    /// The database URL, for a second pool or process on the same database.
    pub url: String,
    cleanup: Option<(String, String)>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}_{}_{}_{n}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    )
}

/// The PostgreSQL base URL, or `None` (the test is then skipped with a notice).
pub fn postgres_base() -> Option<String> {
    std::env::var("HOINGHI_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

fn with_database(base: &str, name: &str) -> String {
    let (head, query) = base
        .split_once('?')
        .map_or((base, None), |(h, q)| (h, Some(q)));
    let root = head.rsplit_once('/').map_or(head, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// Starts the app on port 0 with a fresh, migrated database of `backend`.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let (url, cleanup) = match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique_name("hoinghi_test")));
            (hoinghi::store::sqlite_url(&path), None)
        }
        Backend::Postgres => {
            let base = postgres_base().expect("postgres tests need HOINGHI_TEST_POSTGRES_URL");
            let name = unique_name("hoinghi_t");
            let admin = hoinghi::store::connect(&base, 1)
                .await
                .expect("connect to HOINGHI_TEST_POSTGRES_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.ok();
            (with_database(&base, &name), Some((base, name)))
        }
    };
    let db = hoinghi::store::connect(&url, 4).await.expect("connect");
    hoinghi::store::migrate(&db).await.expect("migrate");
    let settings = Settings {
        bind: "127.0.0.1:0".into(),
        workers: 1,
        max_body_bytes: 64 * 1024,
        // Tests that send run their own worker, against a real SMTP server.
        outbox_worker: false,
        mail_dir: Some(std::env::temp_dir().join("hoinghi-test-mail")),
        ..Settings::default()
    };
    let app = Application::build_with_db(&settings, db.clone()).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let admin = auth::create_user(&db, "admin", "mật-khẩu-quản-trị", Role::Admin, None)
        .await
        .expect("admin");
    let (_, admin_token) = auth::create_token(&db, admin.id, "api", None, None)
        .await
        .expect("token");
    TestApp {
        address,
        db,
        // An idle connection is not reused after 2 s, well before the server's keep-alive
        // (5 s) closes it: a test that blocked its thread longer (running a checker) would
        // otherwise write its next request on a connection the server has closed.
        client: reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("client"),
        admin_token,
        url,
        cleanup,
    }
}

impl TestApp {
    /// Drops a PostgreSQL test database.
    pub async fn finish(self) {
        self.db.close().await.ok();
        if let Some((base, name)) = self.cleanup {
            if let Ok(admin) = hoinghi::store::connect(&base, 1).await {
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok();
                admin.close().await.ok();
            }
        }
    }

    /// Sends a request with `token` (none when `None`) and returns status and JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, Some(&self.admin_token), None)
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(&self.admin_token), Some(&body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PUT, path, Some(&self.admin_token), Some(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::DELETE, path, Some(&self.admin_token), None)
            .await
    }

    /// POSTs `body` (a file) to `path` with `token` (else as admin); status and JSON body.
    pub async fn upload(
        &self,
        path: &str,
        body: Vec<u8>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}{path}", self.address))
            .bearer_auth(token.unwrap_or(&self.admin_token))
            .body(body)
            .send()
            .await
            .expect("upload");
        let status = resp.status();
        (status, resp.json().await.expect("json"))
    }

    /// Creates a record as admin and returns its id; panics with the body on failure.
    pub async fn create(&self, path: &str, body: Value) -> i64 {
        let (status, v) = self.post(path, body).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {v}");
        v["id"].as_i64().expect("id")
    }

    /// A token for a new user of `role` in `unit`.
    pub async fn token_for(&self, login: &str, role: Role, unit: Option<i64>) -> String {
        let u = auth::create_user(&self.db, login, "một mật khẩu dài", role, unit)
            .await
            .expect("user");
        auth::create_token(&self.db, u.id, "api", None, None)
            .await
            .expect("token")
            .1
    }

    /// Creates a unit and returns its id.
    pub async fn unit(
        &self,
        name: &str,
        kind: &str,
        parent: Option<i64>,
        area: Option<i64>,
    ) -> i64 {
        self.create(
            "/api/v1/units",
            json!({"name": name, "kind": kind, "parent_id": parent, "area_unit_id": area}),
        )
        .await
    }

    /// Creates a conference organised by `organiser` on 18/12/2024 08:00–11:30.
    pub async fn conference(&self, organiser: i64) -> i64 {
        self.create(
            "/api/v1/conferences",
            json!({"organiser_unit_id": organiser, "title": "Hội nghị tập huấn", "mode": "hybrid",
                   "starts_at": "2024-12-18T08:00", "ends_at": "2024-12-18T11:30"}),
        )
        .await
    }
}

/// The `field` of an error body.
/// The id of the row seeded under `key` (`conf-dvht`, `ubnd-thuy-nguyen`).
pub async fn id_of(app: &TestApp, key: &str) -> i64 {
    use sea_orm::EntityTrait;
    hoinghi::store::seed_ref::Entity::find_by_id(key.to_owned())
        .one(&app.db)
        .await
        .expect("seed_ref")
        .unwrap_or_else(|| panic!("no seed key {key}"))
        .row_id
}

pub fn error_field(v: &Value) -> &str {
    v["error"]["field"].as_str().unwrap_or("")
}

/// Runs `$body` (with `app: &TestApp`) on SQLite and PostgreSQL.
#[macro_export]
macro_rules! store_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: &$crate::helpers::TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await;
                run(&app).await;
                app.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                if $crate::helpers::postgres_base().is_none() {
                    eprintln!("skipped {}::postgres: HOINGHI_TEST_POSTGRES_URL is not set", module_path!());
                    return;
                }
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await;
                run(&app).await;
                app.finish().await;
            }
        }
    };
}

/// A checker this test needs (LibreOffice, Python icalendar, Radicale, ical.js) is missing:
/// a notice, or a failure where `HOINGHI_TEST_REQUIRE_CHECKERS` is set (as `.ci/run` does).
pub fn missing_checker(what: &str) {
    if std::env::var_os("HOINGHI_TEST_REQUIRE_CHECKERS").is_some() {
        panic!("{what} is required (HOINGHI_TEST_REQUIRE_CHECKERS is set) but not installed");
    }
    eprintln!("skipped: {what} is not installed (.ci/run installs it)");
}

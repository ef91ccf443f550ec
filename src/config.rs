//! Settings: compiled defaults → optional `hoinghi.toml` → `HOINGHI_*` environment
//! (`__` nests). The database URL is a secret: it is never logged unredacted.
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Environment variables that are not settings but are ours all the same: the
/// configuration file, and everything of the tests and benchmarks (`HOINGHI_TEST_*`,
/// `HOINGHI_BENCH_*`).
const OTHER_VARIABLES: &[&str] = &["HOINGHI_CONFIG"];
const OTHER_PREFIXES: &[&str] = &["HOINGHI_TEST_", "HOINGHI_BENCH_"];

fn is_other(variable: &str) -> bool {
    let v = variable.to_uppercase();
    OTHER_VARIABLES.contains(&v.as_str()) || OTHER_PREFIXES.iter().any(|p| v.starts_with(p))
}

/// Every setting of hoinghi.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on; port 0 picks a free one.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// Where the embedded database and generated files live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; by default a SQLite file in `data_dir`.
    #[serde(default)]
    pub database_url: Option<SecretString>,
    #[serde(default = "default_max_connections")]
    pub database_max_connections: u32,
    /// The seed directory `demo` and `seed` load.
    #[serde(default = "default_seed_dir")]
    pub seed_dir: PathBuf,
    /// tracing filter (`info`, `hoinghi=debug,info`); `RUST_LOG` wins when set.
    #[serde(default = "default_log")]
    pub log: String,
    /// Largest request body accepted, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// HTTP worker threads; 0 means one per CPU.
    #[serde(default)]
    pub workers: usize,
    /// How long a list's `total` and page anchors may be reused, in milliseconds, unless
    /// a write request came first; 0 reads them for every page.
    #[serde(default = "default_list_total_ttl_ms")]
    pub list_total_ttl_ms: u64,
    /// How long the user behind a token or session is reused, in milliseconds, unless a
    /// write request came first; a token revoked by another process (the CLI) works that
    /// long. 0 looks it up on every request.
    #[serde(default = "default_auth_cache_ttl_ms")]
    pub auth_cache_ttl_ms: u64,
    /// A directory of templates that replace the built-in ones of the same name
    /// (`documents/agenda.html.hbs`); checked at start-up.
    #[serde(default)]
    pub templates_dir: Option<PathBuf>,
    /// Where e-mail goes: `file` (one `.eml` per message in `mail_dir`; no set-up) or
    /// `smtp` (to `smtp_url`).
    #[serde(default)]
    pub mail_transport: MailTransport,
    /// The directory of the `file` transport; `data_dir/mail` by default.
    #[serde(default)]
    pub mail_dir: Option<PathBuf>,
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:465` (TLS). A secret: never logged.
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    /// How long one SMTP command may take, in milliseconds.
    #[serde(default = "default_smtp_timeout_ms")]
    pub smtp_timeout_ms: u64,
    /// The sender of messages that no organiser signs (`send-test-email`).
    #[serde(default = "default_mail_from")]
    pub mail_from: String,
    /// Whether `serve` sends the outbox (several instances may: they share it safely).
    #[serde(default = "default_true")]
    pub outbox_worker: bool,
    /// Messages sent at once (and SMTP connections kept open).
    #[serde(default = "default_outbox_concurrency")]
    pub outbox_concurrency: u32,
    /// Messages started per second at most; 0 sends as fast as the server takes them.
    #[serde(default = "default_outbox_rate")]
    pub outbox_rate_per_second: u32,
    /// Attempts of a message before it is given up as failed.
    #[serde(default = "default_outbox_max_attempts")]
    pub outbox_max_attempts: u32,
    /// The wait before the first retry, in milliseconds; it doubles with each attempt, up
    /// to an hour.
    #[serde(default = "default_outbox_retry_ms")]
    pub outbox_retry_ms: u64,
    /// How long a worker holds the messages it took, in milliseconds: a message still
    /// `sending` after that (its worker died) is taken again.
    #[serde(default = "default_outbox_lease_ms")]
    pub outbox_lease_ms: u64,
    /// How often an idle worker looks for messages another process enqueued, in ms.
    #[serde(default = "default_outbox_poll_ms")]
    pub outbox_poll_ms: u64,
    /// Messages sent whose sending is not recorded yet, at most: the senders go on while
    /// the outcomes wait for their commit, and the worker claims up to as many rows.
    /// A crash can send these again (with the same Message-ID, which a calendar takes as
    /// the same invitation), no others. 256 by default: with 64, a send of 10,000 went
    /// a quarter slower on SQLite (bench/README.md).
    #[serde(default = "default_outbox_max_unrecorded")]
    pub outbox_max_unrecorded: u32,
    /// The address delegates reach hoinghi at (`https://hoinghi.sogd.example`), for the
    /// reply links in invitations and the calendar feed URLs; `http://{bind}` by default.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Changes to a conference with invitations out are sent as one update this long
    /// after the first of them, in milliseconds (edits in between are coalesced).
    #[serde(default = "default_invitation_update_window_ms")]
    pub invitation_update_window_ms: u64,
}

/// Where e-mail goes.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    #[default]
    File,
    Smtp,
}

fn default_bind() -> String {
    "127.0.0.1:8080".into()
}
fn default_data_dir() -> PathBuf {
    "data".into()
}
fn default_max_connections() -> u32 {
    8
}
fn default_seed_dir() -> PathBuf {
    "seed".into()
}
fn default_log() -> String {
    "info".into()
}
fn default_list_total_ttl_ms() -> u64 {
    2000
}
fn default_auth_cache_ttl_ms() -> u64 {
    2000
}
fn default_smtp_timeout_ms() -> u64 {
    30_000
}
fn default_mail_from() -> String {
    "hoinghi@localhost".into()
}
fn default_true() -> bool {
    true
}
fn default_outbox_concurrency() -> u32 {
    8
}
fn default_outbox_rate() -> u32 {
    50
}
fn default_outbox_max_attempts() -> u32 {
    8
}
fn default_outbox_retry_ms() -> u64 {
    30_000
}
fn default_outbox_lease_ms() -> u64 {
    120_000
}
fn default_outbox_poll_ms() -> u64 {
    1_000
}
fn default_outbox_max_unrecorded() -> u32 {
    256
}
fn default_invitation_update_window_ms() -> u64 {
    60_000
}
fn default_max_body() -> usize {
    1024 * 1024
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: default_bind(),
            data_dir: default_data_dir(),
            database_url: None,
            database_max_connections: default_max_connections(),
            seed_dir: default_seed_dir(),
            log: default_log(),
            max_body_bytes: default_max_body(),
            workers: 0,
            list_total_ttl_ms: default_list_total_ttl_ms(),
            auth_cache_ttl_ms: default_auth_cache_ttl_ms(),
            templates_dir: None,
            mail_transport: MailTransport::File,
            mail_dir: None,
            smtp_url: None,
            smtp_timeout_ms: default_smtp_timeout_ms(),
            mail_from: default_mail_from(),
            outbox_worker: true,
            outbox_concurrency: default_outbox_concurrency(),
            outbox_rate_per_second: default_outbox_rate(),
            outbox_max_attempts: default_outbox_max_attempts(),
            outbox_retry_ms: default_outbox_retry_ms(),
            outbox_lease_ms: default_outbox_lease_ms(),
            outbox_poll_ms: default_outbox_poll_ms(),
            outbox_max_unrecorded: default_outbox_max_unrecorded(),
            public_url: None,
            invitation_update_window_ms: default_invitation_update_window_ms(),
        }
    }
}

/// A configuration that cannot be used; the message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Loads settings from `file` (or `HOINGHI_CONFIG`, or `./hoinghi.toml` when present)
    /// and the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("HOINGHI_CONFIG").map(PathBuf::from));
        if let Some(f) = &file {
            if !f.exists() {
                return Err(ConfigError(format!("file {} does not exist", f.display())));
            }
        }
        let file = file.unwrap_or_else(|| PathBuf::from("hoinghi.toml"));
        Figment::new()
            .merge(Toml::file(&file))
            .merge(
                Env::prefixed("HOINGHI_")
                    .split("__")
                    .filter(|k| !is_other(&format!("HOINGHI_{k}"))),
            )
            .extract()
            .map_err(|e| ConfigError(e.to_string()))
    }

    /// Names of `HOINGHI_*` variables that are no setting (probably a typo).
    pub fn unknown_env_vars() -> Vec<String> {
        const KNOWN: &[&str] = &[
            "bind",
            "data_dir",
            "database_url",
            "database_max_connections",
            "seed_dir",
            "log",
            "max_body_bytes",
            "workers",
            "list_total_ttl_ms",
            "auth_cache_ttl_ms",
            "templates_dir",
            "mail_transport",
            "mail_dir",
            "smtp_url",
            "smtp_timeout_ms",
            "mail_from",
            "outbox_worker",
            "outbox_concurrency",
            "outbox_rate_per_second",
            "outbox_max_attempts",
            "outbox_retry_ms",
            "outbox_lease_ms",
            "outbox_poll_ms",
            "outbox_max_unrecorded",
            "public_url",
            "invitation_update_window_ms",
        ];
        std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("HOINGHI_") && !is_other(k))
            .filter(|k| !KNOWN.contains(&k["HOINGHI_".len()..].to_lowercase().as_str()))
            .collect()
    }

    /// The database URL to use (the SQLite file in `data_dir` by default).
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(u) => u.clone(),
            None => SecretString::from(crate::store::sqlite_url(&self.data_dir.join("hoinghi.db"))),
        }
    }

    /// The address of hoinghi for links sent out, without a trailing `/`.
    pub fn public_url(&self) -> String {
        match self.public_url.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => u.trim_end_matches('/').to_owned(),
            _ => {
                let local = format!("http://{}", self.bind);
                self.warn_local_links(&local);
                local
            }
        }
    }

    /// Warns that links sent out name `local`, this server's own address, when mail goes
    /// over SMTP to real recipients (the file transport keeps mail on this machine).
    pub fn warn_local_links(&self, local: &str) {
        if self.mail_transport == MailTransport::Smtp {
            tracing::warn!(
                public_url = %local,
                "public_url is not set: reply links and feed URLs in mail sent over SMTP name \
                 this server's own address, which delegates may not reach; set \
                 HOINGHI_PUBLIC_URL to the public HTTPS address"
            );
        }
    }

    /// The database URL with any password hidden, for logs and messages.
    pub fn database_url_redacted(&self) -> String {
        redact(self.database_url().expose_secret())
    }

    /// The configured mail transport.
    pub fn transport(&self) -> Result<crate::mail::transport::Transport, ConfigError> {
        use crate::mail::transport::Transport;
        let t = match self.mail_transport {
            MailTransport::File => Transport::file(
                self.mail_dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("mail")),
            ),
            MailTransport::Smtp => match &self.smtp_url {
                Some(url) => Transport::smtp(
                    url,
                    self.outbox_concurrency,
                    std::time::Duration::from_millis(self.smtp_timeout_ms),
                ),
                None => {
                    return Err(ConfigError(
                        "smtp_url: required when mail_transport is smtp".into(),
                    ));
                }
            },
        };
        t.map_err(|e| ConfigError(e.to_string()))
    }

    /// The outbox worker's settings.
    pub fn outbox(&self) -> crate::services::outbox::WorkerSettings {
        use std::time::Duration;
        crate::services::outbox::WorkerSettings {
            concurrency: self.outbox_concurrency.max(1) as usize,
            rate_per_second: self.outbox_rate_per_second,
            max_attempts: self.outbox_max_attempts.max(1),
            retry: Duration::from_millis(self.outbox_retry_ms.max(100)),
            lease: Duration::from_millis(self.outbox_lease_ms.max(1000)),
            poll: Duration::from_millis(self.outbox_poll_ms.max(10)),
            max_unrecorded: self.outbox_max_unrecorded.max(1) as usize,
        }
    }

    /// Creates the data directory when the database is a SQLite file in it.
    pub fn prepare_data_dir(&self) -> Result<(), ConfigError> {
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| ConfigError(format!("data_dir {}: {e}", self.data_dir.display())))
    }
}

/// Hides the password of a URL (`postgres://u:secret@h/db` → `postgres://u:***@h/db`).
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
// figment::Jail fixes the closures' error type (figment::Error); nothing of ours to box.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("postgres://u:s3cret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(
            redact("sqlite://data/hoinghi.db?mode=rwc"),
            "sqlite://data/hoinghi.db?mode=rwc"
        );
    }

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("hoinghi.toml", "bind = \"0.0.0.0:9000\"\nlog = \"debug\"\n")?;
            jail.set_env("HOINGHI_LOG", "warn");
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.bind, "0.0.0.0:9000");
            assert_eq!(s.log, "warn");
            assert_eq!(s.database_max_connections, 8);
            assert!(
                s.database_url_redacted()
                    .ends_with("data/hoinghi.db?mode=rwc")
            );
            Ok(())
        });
    }

    #[test]
    fn test_and_bench_variables_are_not_settings() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "HOINGHI_BENCH_POSTGRES_URL",
                "postgres://postgres@127.0.0.1/test",
            );
            jail.set_env(
                "HOINGHI_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1/test",
            );
            jail.set_env("HOINGHI_TEST_NODE_DIR", "/root/.cache/hoinghi-node");
            jail.set_env("HOINGHI_TEST_REQUIRE_CHECKERS", "1");
            assert!(Settings::load(None).is_ok());
            assert!(Settings::unknown_env_vars().is_empty());
            Ok(())
        });
    }

    #[test]
    fn unknown_key_in_file_is_an_error_naming_it() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("hoinghi.toml", "bnd = \"x\"\n")?;
            let e = Settings::load(None).unwrap_err().to_string();
            assert!(e.contains("bnd"), "{e}");
            Ok(())
        });
    }
}

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
    /// How long a list's `total` may be reused, in milliseconds, unless a write request
    /// came first; 0 counts on every page.
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

    /// The database URL with any password hidden, for logs and messages.
    pub fn database_url_redacted(&self) -> String {
        redact(self.database_url().expose_secret())
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

//! Where built messages go:
//!
//! - **SMTP** (`mail::smtp`: lettre's connections in a pool of our own, on sockets with
//!   `TCP_NODELAY`): `smtp://host:25` in clear (a relay on the same host),
//!   `smtp://user:pass@host:587?tls=required` with STARTTLS, or
//!   `smtps://user:pass@host:465` with TLS from the start (rustls, Mozilla's roots);
//! - **file**, the zero-set-up default: one `NAME.eml` per message in a directory, named
//!   after its Message-ID, so that a message written twice is one file;
//! - **memory**, for tests of our own code.
//!
//! A failure says whether to try again: connection errors and 4xx replies are transient,
//! 5xx replies permanent; either keeps the server's words.
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::Address;
use lettre::address::Envelope;
use secrecy::{ExposeSecret, SecretString};

/// Why a message was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: the server is unreachable or answered 4xx.
    #[error("{0}")]
    Transient(String),
    /// Will fail again: the server answered 5xx, or the message cannot be sent as it is.
    #[error("{0}")]
    Permanent(String),
}

/// A message the memory transport kept.
#[derive(Clone, Debug)]
pub struct Kept {
    pub from: String,
    pub to: String,
    pub raw: Vec<u8>,
}

/// A configured transport; cheap to clone (the SMTP pool is shared).
#[derive(Clone)]
pub enum Transport {
    Smtp(Arc<super::smtp::SmtpPool>),
    File(PathBuf),
    Memory(Arc<Mutex<Vec<Kept>>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp(p) => write!(f, "Transport::Smtp({p:?})"),
            Self::File(d) => write!(f, "Transport::File({})", d.display()),
            Self::Memory(_) => f.write_str("Transport::Memory"),
        }
    }
}

/// A transport that cannot be set up; the message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {reason}")]
pub struct TransportError {
    pub setting: &'static str,
    pub reason: String,
}

impl Transport {
    /// An SMTP transport for `url` (see `mail::smtp`), with at most `connections` open at
    /// once and `timeout` for connecting and for each message.
    pub fn smtp(
        url: &SecretString,
        connections: u32,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        let pool = super::smtp::SmtpPool::from_url(url.expose_secret(), connections, timeout)
            .map_err(|reason| TransportError {
                setting: "smtp_url",
                reason,
            })?;
        Ok(Self::Smtp(Arc::new(pool)))
    }

    /// A transport writing `.eml` files into `dir` (created when missing).
    pub fn file(dir: PathBuf) -> Result<Self, TransportError> {
        std::fs::create_dir_all(&dir).map_err(|e| TransportError {
            setting: "mail_dir",
            reason: format!("{}: {e}", dir.display()),
        })?;
        Ok(Self::File(dir))
    }

    /// A transport keeping messages in memory.
    pub fn memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// What the memory transport kept (empty for the others).
    pub fn kept(&self) -> Vec<Kept> {
        match self {
            Self::Memory(m) => m.lock().map(|v| v.clone()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Sends `raw` from `from` to `to` (the envelope), returning the server's reply.
    pub async fn send(
        &self,
        message_id: &str,
        from: &str,
        to: &str,
        raw: &[u8],
    ) -> Result<String, SendError> {
        match self {
            Self::Smtp(pool) => pool.send(&envelope(from, to)?, raw).await,
            Self::File(dir) => {
                let name: String = message_id
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || "._-@".contains(c) {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let path = dir.join(format!("{name}.eml"));
                let tmp = dir.join(format!(".{name}.eml.tmp"));
                let write = async {
                    tokio::fs::write(&tmp, raw).await?;
                    tokio::fs::rename(&tmp, &path).await
                };
                write
                    .await
                    .map(|()| format!("written to {}", path.display()))
                    .map_err(|e| SendError::Transient(format!("{}: {e}", path.display())))
            }
            Self::Memory(m) => {
                envelope(from, to)?;
                m.lock()
                    .map_err(|_| SendError::Transient("memory transport poisoned".into()))?
                    .push(Kept {
                        from: from.to_owned(),
                        to: to.to_owned(),
                        raw: raw.to_vec(),
                    });
                Ok("kept in memory".into())
            }
        }
    }
}

fn envelope(from: &str, to: &str) -> Result<Envelope, SendError> {
    let parse = |what: &str, a: &str| {
        a.parse::<Address>()
            .map_err(|e| SendError::Permanent(format!("{what} address «{a}»: {e}")))
    };
    Envelope::new(Some(parse("sender", from)?), vec![parse("recipient", to)?])
        .map_err(|e| SendError::Permanent(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_transport_writes_one_file_per_message_id() {
        let dir = std::env::temp_dir().join(format!("hoinghi-mail-{}", std::process::id()));
        let t = Transport::file(dir.clone()).expect("dir");
        for _ in 0..2 {
            t.send(
                "hoinghi.c1.d2.s0.request@x.example",
                "a@x.example",
                "b@y.example",
                b"M",
            )
            .await
            .expect("written");
        }
        let files: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
        assert_eq!(files.len(), 1, "the same message twice is one file");
        let path = dir.join("hoinghi.c1.d2.s0.request@x.example.eml");
        assert_eq!(std::fs::read(&path).expect("file"), b"M");
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn a_bad_envelope_address_is_a_permanent_failure() {
        let t = Transport::memory();
        let e = t.send("id@x", "a@x.example", "not an address", b"M").await;
        assert!(matches!(e, Err(SendError::Permanent(m)) if m.contains("not an address")));
        assert!(t.kept().is_empty());
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_transient_failure() {
        // A port nobody listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let url = SecretString::from(format!("smtp://127.0.0.1:{port}"));
        let t = Transport::smtp(&url, 1, Duration::from_secs(5)).expect("url");
        let e = t.send("id@x", "a@x.example", "b@y.example", b"M").await;
        assert!(matches!(e, Err(SendError::Transient(_))), "{e:?}");
    }

    #[test]
    fn a_bad_url_names_the_setting() {
        let e = Transport::smtp(
            &SecretString::from("ftp://x".to_owned()),
            1,
            Duration::from_secs(1),
        )
        .expect_err("refused");
        assert_eq!(e.setting, "smtp_url");
    }
}

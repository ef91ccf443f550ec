//! A pool of SMTP connections whose sockets have `TCP_NODELAY`, sending with PIPELINING.
//!
//! Written here rather than using lettre's `AsyncSmtpTransport` pool because lettre opens
//! its sockets itself and offers no way to set `TCP_NODELAY`; it writes a message and the
//! closing `.` in two writes, so with Nagle's algorithm on, the five bytes of the end of
//! data wait for the server's delayed ACK, about 40 ms per message on Linux. Connecting
//! (EHLO, STARTTLS, AUTH, TLS) is lettre's `AsyncSmtpConnection`; the socket and the
//! pooling are ours, and so is the mail transaction where the server offers PIPELINING
//! (RFC 2920), which lettre 0.11 does not use: MAIL, RCPT and DATA go in one write, the
//! dot-stuffed message and its end of data in another, two round trips where lettre's
//! `send` takes four (and its byte-at-a-time dot-stuffing was a tenth of the sender's
//! time). Without PIPELINING, or for a message or address that is not ASCII, lettre's
//! `send` does it all.
//!
//! `smtp://host[:25]` in clear, `?tls=required` for STARTTLS (refused when the server does
//! not offer it), `?tls=opportunistic` for STARTTLS when offered; `smtps://host[:465]`
//! with TLS from the start (that socket is lettre's, without `TCP_NODELAY`). Credentials
//! come from the URL's user and password; `?ehlo_name=` names us in EHLO (default
//! `localhost`).
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use tokio::sync::{Mutex, Semaphore};

use super::transport::SendError;

/// How a connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Security {
    None,
    StartTlsRequired,
    StartTlsOpportunistic,
    Wrapper,
}

/// A pool of connections to one SMTP server.
pub struct SmtpPool {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
    idle: Mutex<Vec<(Connection, Instant)>>,
    open: Semaphore,
}

/// An open connection, and whether its server pipelines.
struct Connection {
    smtp: AsyncSmtpConnection,
    /// The server offered PIPELINING in its answer to EHLO.
    pipelining: bool,
}

impl std::fmt::Debug for SmtpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials.
        write!(
            f,
            "SmtpPool({}:{}, {:?})",
            self.host, self.port, self.security
        )
    }
}

/// A connection idle longer than this is closed rather than reused (servers drop idle
/// clients after a minute or more).
const IDLE: Duration = Duration::from_secs(30);

impl SmtpPool {
    /// Reads `url`; the error says what is wrong with it, never the password.
    pub fn from_url(url: &str, connections: u32, timeout: Duration) -> Result<Self, String> {
        let u = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        let mut security = match u.scheme() {
            "smtp" => Security::None,
            "smtps" => Security::Wrapper,
            other => return Err(format!("scheme `{other}`: smtp or smtps")),
        };
        let host = u
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let mut hello = ClientId::Domain("localhost".into());
        for (k, v) in u.query_pairs() {
            match (k.as_ref(), v.as_ref()) {
                ("tls", "required") if security == Security::None => {
                    security = Security::StartTlsRequired;
                }
                ("tls", "opportunistic") if security == Security::None => {
                    security = Security::StartTlsOpportunistic;
                }
                ("tls", "none" | "wrapper" | "required" | "opportunistic") => {}
                ("tls", other) => {
                    return Err(format!("tls={other}: required, opportunistic or none"));
                }
                ("ehlo_name", name) if !name.is_empty() => {
                    hello = ClientId::Domain(name.to_owned());
                }
                (other, _) => return Err(format!("unknown parameter `{other}`")),
            }
        }
        let port = u.port().unwrap_or(match security {
            Security::Wrapper => 465,
            _ => 25,
        });
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| "user or password is not UTF-8".to_owned())
        };
        let credentials = if u.username().is_empty() {
            None
        } else {
            Some(Credentials::new(
                decode(u.username())?,
                decode(u.password().unwrap_or_default())?,
            ))
        };
        Ok(Self {
            host,
            port,
            security,
            credentials,
            hello,
            timeout,
            idle: Mutex::new(Vec::new()),
            open: Semaphore::new(connections.max(1) as usize),
        })
    }

    fn tls(&self) -> Result<TlsParameters, lettre::transport::smtp::Error> {
        TlsParameters::new(self.host.clone())
    }

    /// A new connection: TCP (with `TCP_NODELAY`), EHLO, STARTTLS, EHLO again (for
    /// PIPELINING) and AUTH as configured, all within the timeout.
    async fn connect(&self) -> Result<Connection, SendError> {
        let steps = async {
            let mut conn = if self.security == Security::Wrapper {
                AsyncSmtpConnection::connect_tokio1(
                    (self.host.as_str(), self.port),
                    Some(self.timeout),
                    &self.hello,
                    Some(self.tls().map_err(|e| classify(&e))?),
                    None,
                )
                .await
                .map_err(|e| classify(&e))?
            } else {
                let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                    .await
                    .map_err(|e| {
                        SendError::Transient(format!("{}:{}: {e}", self.host, self.port))
                    })?;
                tcp.set_nodelay(true).ok();
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
                    .await
                    .map_err(|e| classify(&e))?
            };
            let starttls = match self.security {
                Security::StartTlsRequired => true,
                Security::StartTlsOpportunistic => conn.can_starttls(),
                _ => false,
            };
            if starttls {
                let tls = self.tls().map_err(|e| classify(&e))?;
                conn.starttls(tls, &self.hello)
                    .await
                    .map_err(|e| classify(&e))?;
            }
            // lettre keeps only the extensions it uses from EHLO, not PIPELINING: asked
            // again here (after STARTTLS, before AUTH, which a new EHLO could undo).
            // A server that refuses the repeated EHLO (RFC 5321 allows it) is sent to
            // without pipelining; a connection lost meanwhile is an error.
            let pipelining = match conn.command(Ehlo::new(self.hello.clone())).await {
                Ok(ehlo) => ehlo.message().any(|line| {
                    line.split_whitespace()
                        .next()
                        .is_some_and(|k| k.eq_ignore_ascii_case("PIPELINING"))
                }),
                Err(e) if e.is_response() || e.status().is_some() => false,
                Err(e) => return Err(classify(&e)),
            };
            if let Some(c) = &self.credentials {
                conn.auth(DEFAULT_MECHANISMS, c)
                    .await
                    .map_err(|e| classify(&e))?;
            }
            Ok(Connection {
                smtp: conn,
                pipelining,
            })
        };
        tokio::time::timeout(self.timeout, steps)
            .await
            .unwrap_or_else(|_| Err(self.no_answer()))
    }

    fn no_answer(&self) -> SendError {
        SendError::Transient(format!(
            "SMTP {}:{}: no answer within {} ms",
            self.host,
            self.port,
            self.timeout.as_millis()
        ))
    }

    /// Sends `raw` with `envelope` on a pooled connection (a new one when none is idle);
    /// returns the server's reply. A reused connection that turns out closed is replaced
    /// once.
    pub async fn send(&self, envelope: &Envelope, raw: &[u8]) -> Result<String, SendError> {
        let _slot = self
            .open
            .acquire()
            .await
            .map_err(|_| SendError::Transient("SMTP pool closed".into()))?;
        let reused = {
            let mut idle = self.idle.lock().await;
            idle.retain(|(_, since)| since.elapsed() < IDLE);
            idle.pop().map(|(c, _)| c)
        };
        let fresh = reused.is_none();
        let mut conn = match reused {
            Some(c) => c,
            None => self.connect().await?,
        };
        let reply = match tokio::time::timeout(self.timeout, conn.send(envelope, raw)).await {
            Ok(Ok(r)) => r,
            // The server closed a connection we kept: try once on a new one.
            Ok(Err(e)) if !fresh && !e.is_response() && e.status().is_none() => {
                conn = self.connect().await?;
                match tokio::time::timeout(self.timeout, conn.send(envelope, raw)).await {
                    Ok(Ok(r)) => r,
                    Ok(Err(e)) => return Err(classify(&e)),
                    Err(_) => return Err(self.no_answer()),
                }
            }
            Ok(Err(e)) => return Err(classify(&e)),
            Err(_) => return Err(self.no_answer()),
        };
        self.idle.lock().await.push((conn, Instant::now()));
        Ok(format!(
            "{} {}",
            reply.code(),
            reply.message().collect::<Vec<_>>().join(" ")
        ))
    }
}

impl Connection {
    /// Sends `raw` with `envelope`: pipelined where the server allows it and everything
    /// is ASCII (so no SMTPUTF8 or 8BITMIME parameter is needed), else by lettre's `send`.
    /// After an error the connection is dropped, never reused: replies to pipelined
    /// commands may still be on their way.
    async fn send(
        &mut self,
        envelope: &Envelope,
        raw: &[u8],
    ) -> Result<Response, lettre::transport::smtp::Error> {
        let ascii = envelope
            .from()
            .is_none_or(|a| AsRef::<str>::as_ref(a).is_ascii())
            && envelope
                .to()
                .iter()
                .all(|a| AsRef::<str>::as_ref(a).is_ascii());
        let text = std::str::from_utf8(raw).ok().filter(|t| t.is_ascii());
        let (true, true, Some(text)) = (self.pipelining, ascii, text) else {
            return self.smtp.send(envelope, raw).await;
        };
        let mut group = Mail::new(envelope.from().cloned(), Vec::new()).to_string();
        for to in envelope.to() {
            group.push_str(&Rcpt::new(to.clone(), Vec::new()).to_string());
        }
        group.push_str("DATA\r\n");
        // The reply to MAIL, then one per RCPT, then DATA's 354 (RFC 2920: DATA ends the
        // group, and the message waits for its 354).
        self.smtp.command(group).await?;
        for _ in envelope.to() {
            self.smtp.read_response().await?;
        }
        self.smtp.read_response().await?;
        self.smtp.command(Content(text)).await
    }
}

/// A message as DATA sends it, in one write: dot-stuffed (RFC 5321 §4.5.2: a line that
/// starts with `.` gets another), then the end of data, `CRLF . CRLF`, as lettre writes
/// them.
struct Content<'a>(&'a str);

impl std::fmt::Display for Content<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0;
        if text.starts_with('.') {
            f.write_str(".")?;
        }
        let mut from = 0;
        // memchr's vectorised search: `str::match_indices` was 4 % of the CPU of a send.
        for at in memchr::memmem::find_iter(text.as_bytes(), b"\r\n.") {
            f.write_str(&text[from..at + 2])?;
            f.write_str(".")?;
            from = at + 2;
        }
        f.write_str(&text[from..])?;
        f.write_str("\r\n.\r\n")
    }
}

/// A 5xx reply is permanent, except refused authentication or TLS (530, 534, 535, 538):
/// that is our configuration, the same for every message, so messages wait (and retry)
/// until the settings are mended. Everything else (4xx, connection, TLS, timeouts) is
/// transient.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let config = e
        .status()
        .is_some_and(|c| matches!(c.to_string().as_str(), "530" | "534" | "535" | "538"));
    if config {
        tracing::error!(error = %e, "SMTP: the server refuses our credentials or connection settings (smtp_url)");
        SendError::Transient(e.to_string())
    } else if e.is_permanent() {
        SendError::Permanent(e.to_string())
    } else {
        SendError::Transient(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(url: &str) -> Result<SmtpPool, String> {
        SmtpPool::from_url(url, 2, Duration::from_secs(5))
    }

    #[test]
    fn urls_choose_security_port_and_credentials() {
        let p = pool("smtp://relay.example").expect("url");
        assert_eq!((p.port, p.security), (25, Security::None));
        assert!(p.credentials.is_none());
        let p = pool("smtp://u%40x:p%3As@mail.example:587?tls=required").expect("url");
        assert_eq!((p.port, p.security), (587, Security::StartTlsRequired));
        assert!(p.credentials.is_some());
        let p = pool("smtps://mail.example").expect("url");
        assert_eq!((p.port, p.security), (465, Security::Wrapper));
        let p = pool("smtp://[::1]:2525?tls=opportunistic&ehlo_name=so.example").expect("url");
        assert_eq!(p.host, "::1");
        assert_eq!(p.security, Security::StartTlsOpportunistic);
        let shown = format!("{:?}", pool("smtp://u:secret@h").expect("url"));
        assert!(!shown.contains("secret"), "{shown}");
    }

    /// Dot-stuffing as lettre's codec does it, a byte at a time: the reference.
    fn stuffed_by_bytes(raw: &str) -> String {
        let mut out = String::new();
        let mut line_start = true;
        let mut after_cr = false;
        for c in raw.chars() {
            if c == '.' && line_start {
                out.push('.');
            }
            out.push(c);
            line_start = after_cr && c == '\n';
            after_cr = c == '\r';
        }
        out + "\r\n.\r\n"
    }

    #[test]
    fn content_is_dot_stuffed_and_ended() {
        for raw in [
            "",
            ".",
            "..\r\n.",
            "Subject: x\r\n\r\n.hidden\r\n..two\r\nend",
            "a\n.b\r.c\r\n.d\r\r\n.e\r\n",
            "\r\n.\r\n.\r\n",
            "no dots at all\r\nhere.\r\n",
        ] {
            assert_eq!(Content(raw).to_string(), stuffed_by_bytes(raw), "{raw:?}");
        }
        assert_eq!(Content("a\r\n.\r\nb").to_string(), "a\r\n..\r\nb\r\n.\r\n");
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert!(pool("ftp://x").unwrap_err().contains("ftp"));
        assert!(pool("smtp://x?tls=maybe").unwrap_err().contains("maybe"));
        assert!(pool("smtp://x?verbose=1").unwrap_err().contains("verbose"));
        assert!(pool("not a url").is_err());
    }
}

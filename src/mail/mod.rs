//! E-mail for invitations (iMIP, RFC 6047; `../shared/itip-checklist.md` points 1–7): the
//! headers by lettre, the MIME structure by [`build`]:
//!
//! ```text
//! multipart/mixed
//! ├── multipart/alternative
//! │   ├── text/plain            the time, place, bridge point and links in words
//! │   ├── text/html             the same
//! │   └── text/calendar; charset=utf-8; method=REQUEST   (no disposition, no Content-ID)
//! └── application/ics; name=invite.ics   (attachment: the same calendar)
//! ```
//!
//! A message without calendar (a unit's list of its delegates) is the alternative part
//! alone, with its text and HTML.
//!
//! Every part goes in base64. Names and subjects are cleaned of CR, LF and other control
//! characters before they reach a header; lettre encodes non-ASCII text per RFC 2047,
//! but for the names of From and To, cut into encoded-words between words only
//! (`set_address`).
//! `transport` sends the built messages (SMTP, `.eml` files, or memory).
pub mod smtp;
pub mod transport;

use lettre::message::Mailbox;

use crate::calendar::invite::{Method, Party};
use crate::domain::validate::FieldError;
use crate::error::{Error, Result};

/// One e-mail: an invitation (with its calendar), or a message in words only.
#[derive(Clone, Debug)]
pub struct Invitation {
    pub from: Party,
    pub to: Party,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The calendar, as `calendar::invite::to_ics` writes it, and its METHOD.
    pub calendar: Option<Calendar>,
    /// Without angle brackets: `hoinghi.c1.d7.s2.request@host`.
    pub message_id: String,
}

/// The calendar an invitation carries.
#[derive(Clone, Debug)]
pub struct Calendar {
    pub method: Method,
    pub ics: String,
}

/// Who a message of a conference is for, in its Message-ID.
#[derive(Clone, Copy, Debug)]
pub enum Addressee {
    Delegate(i64),
    Unit(i64),
    /// The technical contact of a bridge point.
    BridgePoint(i64),
}

/// The Message-ID of the message to `to` about `conference` at `sequence` (`what` is the
/// calendar's method, lower-case, or the kind of message): the same for a resend, so that
/// a message sent twice after a crash is recognisable, and never enqueued twice.
pub fn message_id(conference: i64, to: Addressee, sequence: u32, what: &str, host: &str) -> String {
    let to = match to {
        Addressee::Delegate(d) => format!("d{d}"),
        Addressee::Unit(u) => format!("u{u}"),
        Addressee::BridgePoint(b) => format!("bp{b}"),
    };
    format!(
        "hoinghi.c{conference}.{to}.s{sequence}.{}@{host}",
        what.to_lowercase()
    )
}

/// A header value with no control character (no CR or LF can start a header of its own).
fn header_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn mailbox(field: &str, p: &Party) -> Result<Mailbox> {
    let address = p.email.trim().parse().map_err(|_| {
        Error::Validation(vec![FieldError::new(
            field,
            "invalid_email",
            format!("Địa chỉ e-mail «{}» không hợp lệ.", header_text(&p.email)),
        )])
    })?;
    let name = header_text(&p.name);
    Ok(Mailbox::new((!name.is_empty()).then_some(name), address))
}

/// The longest line of a header that holds an encoded-word (RFC 2047, 2).
const ENCODED_LINE: usize = 76;

/// Sets the From or To header `H` to `mailbox`. A name that needs RFC 2047 (one that is
/// not ASCII) goes in encoded-words that each hold whole words, the space before a word
/// in the same encoded-word as the word, one encoded-word a line. Written by hand because
/// lettre (with `email-encoding`) cuts a name wherever its line is full, «Hải Ph» /
/// «òng»: readers that follow RFC 2047, 6.2 join the two, but Python's `email` with
/// `policy.default` puts a space between any two encoded-words (CPython issue 128110) and
/// shows «Hải Ph òng»; cut before a space, each word stays whole for every reader (that
/// parser shows two spaces at the cut). Other names are lettre's.
fn set_address<H>(head: &mut lettre::message::header::Headers, mailbox: Mailbox)
where
    H: lettre::message::header::Header + From<lettre::message::Mailboxes>,
{
    use lettre::message::header::HeaderValue;
    let Some(name) = mailbox.name.as_deref().filter(|n| !n.is_ascii()) else {
        head.set(H::from(lettre::message::Mailboxes::from(mailbox)));
        return;
    };
    let header = H::name();
    let address: &str = mailbox.email.as_ref();
    let mut value = String::with_capacity(2 * name.len() + address.len() + 8);
    // The first line holds `Name: `.
    let mut line = header.len() + 2;
    for chunk in whole_words(name, header.len() + 2) {
        if !value.is_empty() {
            value.push_str("\r\n ");
            line = 1;
        }
        value.push_str("=?utf-8?b?");
        base64::Engine::encode_string(
            &base64::engine::general_purpose::STANDARD,
            chunk,
            &mut value,
        );
        value.push_str("?=");
        line += ENCODED_WORD_FRAME + chunk.len().div_ceil(3) * 4;
    }
    if line + 3 + address.len() > ENCODED_LINE {
        value.push_str("\r\n");
    }
    value.push_str(" <");
    value.push_str(address);
    value.push('>');
    head.insert_raw(HeaderValue::dangerous_new_pre_encoded(
        header,
        mailbox.to_string(),
        value,
    ));
}

/// `=?utf-8?b?` and `?=`.
const ENCODED_WORD_FRAME: usize = 12;

/// `name` cut into the texts of encoded-words: each as many whole words (each but the
/// first with the space before it) as fit on a line, the first after `first` characters
/// of the line; a word too long for a line alone is cut between letters.
fn whole_words(name: &str, first: usize) -> Vec<&str> {
    // The bytes of UTF-8 an encoded-word of a line holds, after `used` characters.
    let room = |used: usize| (ENCODED_LINE.saturating_sub(used + ENCODED_WORD_FRAME)) / 4 * 3;
    let mut chunks = Vec::new();
    let (mut start, mut end) = (0, 0);
    let mut cap = room(first);
    // The ends of the words, each with the space before it.
    let word_ends = name
        .char_indices()
        .filter(|&(at, c)| c == ' ' && at > 0)
        .map(|(at, _)| at)
        .chain([name.len()]);
    for word_end in word_ends {
        if word_end - start <= cap {
            end = word_end;
            continue;
        }
        if end > start {
            chunks.push(&name[start..end]);
            start = end;
            cap = room(1);
        }
        // A word longer than a line: cut between letters.
        while word_end - start > cap {
            let mut cut = start + cap.max(4);
            while !name.is_char_boundary(cut) {
                cut -= 1;
            }
            chunks.push(&name[start..cut]);
            start = cut;
            cap = room(1);
        }
        end = word_end;
    }
    if end > start {
        chunks.push(&name[start..end]);
    }
    chunks
}

/// The base64 lines of a body: 76 characters, 57 bytes each (RFC 2045, 6.8).
const BASE64_LINE: usize = 76;
const BASE64_LINE_BYTES: usize = BASE64_LINE / 4 * 3;

/// `text` with every LF not after a CR given one, appended to `out` (a CR is ASCII:
/// never part of a longer letter). With [`base64_lines`], the bytes lettre's
/// `Body::new_with_encoding(text, Base64)` makes (a unit test compares them), in one pass
/// each way; written by hand because lettre adds each missing CR with `String::insert`
/// (moving the rest of the text every time) and encodes 57 bytes at a time through
/// `fmt::Write` with a UTF-8 check of each line.
fn push_crlf(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + bytes.len() / 32);
    let mut from = 0;
    for at in memchr::memchr_iter(b'\n', bytes) {
        if at == 0 || bytes[at - 1] != b'\r' {
            out.extend_from_slice(&bytes[from..at]);
            out.extend_from_slice(b"\r");
            from = at;
        }
    }
    out.extend_from_slice(&bytes[from..]);
}

/// Appends `bytes` to `out` in base64, in lines of 76 characters joined by CRLF, the last
/// one without, as a MIME body in base64 is written.
fn base64_lines(bytes: &[u8], out: &mut Vec<u8>) {
    use base64::Engine;
    let start = out.len();
    out.resize(start + base64_len(bytes.len()), 0);
    let mut at = start;
    for (k, chunk) in bytes.chunks(BASE64_LINE_BYTES).enumerate() {
        if k > 0 {
            out[at..at + 2].copy_from_slice(b"\r\n");
            at += 2;
        }
        // Cannot fail: `out` was sized for it.
        at += base64::engine::general_purpose::STANDARD
            .encode_slice(chunk, &mut out[at..])
            .unwrap_or_default();
    }
    debug_assert_eq!(at, out.len());
    out.truncate(at);
}

/// The length of [`base64_lines`]'s output for `n` bytes.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4 + 2 * n.div_ceil(BASE64_LINE_BYTES).saturating_sub(1)
}

/// A message as [`build`] makes it: the bytes that go on the wire as they are (headers,
/// boundaries), and the bodies that go in base64, kept as what they encode.
/// `store::outbox_body` keeps it so without decoding anything, and [`Built::wire`] gives
/// the bytes as sent.
#[derive(Clone, Debug)]
pub struct Built {
    /// Every piece's bytes, one after another (a body sent twice is here once).
    bytes: Vec<u8>,
    /// In order: whether the piece goes in base64, and where its bytes are.
    pieces: Vec<(bool, std::ops::Range<usize>)>,
}

/// A piece of a [`Built`] message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Bytes that go on the wire as they are.
    AsIs(&'a [u8]),
    /// Bytes that go on the wire in base64 lines ([`write_wire`]).
    Base64(&'a [u8]),
}

impl<'a> Piece<'a> {
    /// Its bytes, as they are or as the base64 encodes.
    pub fn bytes(self) -> &'a [u8] {
        match self {
            Piece::AsIs(bytes) | Piece::Base64(bytes) => bytes,
        }
    }
}

impl Built {
    fn new() -> Self {
        Self {
            bytes: Vec::with_capacity(16 << 10),
            pieces: Vec::with_capacity(16),
        }
    }

    /// Appends bytes that go on the wire as they are.
    fn push(&mut self, bytes: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        self.as_is_from(start);
    }

    /// Appends text that goes on the wire as it is.
    fn push_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        let start = self.bytes.len();
        // Writing into a `Vec` cannot fail.
        let _ = std::io::Write::write_fmt(&mut self.bytes, args);
        self.as_is_from(start);
    }

    /// Makes the bytes from `start` a piece as it is, or part of the one before them.
    fn as_is_from(&mut self, start: usize) {
        let end = self.bytes.len();
        match self.pieces.last_mut() {
            Some((false, r)) if r.end == start => r.end = end,
            _ => self.pieces.push((false, start..end)),
        }
    }

    /// Appends a body that goes in base64 (its line ends made CRLF); returns where its
    /// bytes are, to send it again ([`Built::push_base64_again`]).
    fn push_base64(&mut self, text: &str) -> std::ops::Range<usize> {
        let start = self.bytes.len();
        push_crlf(text, &mut self.bytes);
        let r = start..self.bytes.len();
        self.pieces.push((true, r.clone()));
        r
    }

    fn push_base64_again(&mut self, r: std::ops::Range<usize>) {
        self.pieces.push((true, r));
    }

    /// Its pieces, in order.
    pub fn pieces(&self) -> impl Iterator<Item = Piece<'_>> {
        self.pieces.iter().map(|(base64, r)| {
            let bytes = &self.bytes[r.clone()];
            if *base64 {
                Piece::Base64(bytes)
            } else {
                Piece::AsIs(bytes)
            }
        })
    }

    /// The length of the message as sent.
    pub fn wire_len(&self) -> usize {
        wire_len(self.pieces())
    }

    /// The message as sent. A body sent twice (the calendar) is encoded once.
    pub fn wire(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.wire_len());
        write_wire(self.pieces(), &mut out);
        out
    }
}

/// The length of the message made of `pieces` as sent.
pub fn wire_len<'a>(pieces: impl IntoIterator<Item = Piece<'a>>) -> usize {
    pieces
        .into_iter()
        .map(|p| match p {
            Piece::AsIs(bytes) => bytes.len(),
            Piece::Base64(bytes) => base64_len(bytes.len()),
        })
        .sum()
}

/// Appends the message made of `pieces` as sent to `out`: bytes as they are, bodies in
/// base64 lines. A body the same as the one before it (the calendar, again as the
/// attachment) is copied from what was written, not encoded again.
pub fn write_wire<'a>(pieces: impl IntoIterator<Item = Piece<'a>>, out: &mut Vec<u8>) {
    let mut last: Option<(&[u8], std::ops::Range<usize>)> = None;
    for p in pieces {
        match p {
            Piece::AsIs(bytes) => out.extend_from_slice(bytes),
            Piece::Base64(bytes) => match &last {
                Some((body, written)) if *body == bytes => out.extend_from_within(written.clone()),
                _ => {
                    let at = out.len();
                    base64_lines(bytes, out);
                    last = Some((bytes, at..out.len()));
                }
            },
        }
    }
}

/// Part headers, the same for every message.
const TEXT_PART: &[u8] =
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
const HTML_PART: &[u8] =
    b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
const ATTACHMENT_PART: &[u8] = b"Content-Type: application/ics; name=\"invite.ics\"\r\n\
Content-Disposition: attachment; filename=\"invite.ics\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n";

/// Builds the message. The calendar's METHOD must be the `method=` of its Content-Type
/// (Outlook rejects a mismatch): a mismatch is an internal error, never sent.
///
/// The headers of the message are lettre's (RFC 2047 encoding of names and subject,
/// folding); the MIME structure is written here, the same for every message of a shape.
/// lettre's builder took a third of the time of building a message, most of it to parse
/// the From and To it was just given back out of their header text (with `nom`), to make
/// an SMTP envelope we do not use; the rest to set up headers for each part, and to
/// format the message into a buffer from which `outbox_body` decoded the bodies again.
/// Every part goes in
/// base64, not the quoted-printable lettre would choose for text that is mostly ASCII
/// (the HTML, the calendar): Vietnamese puts a multi-byte letter in most words, each
/// three characters in quoted-printable, so base64 is the shorter (for an invitation,
/// 4.1 KB against 5.0 KB of HTML, 4.0 KB against 4.5 KB of calendar) and far quicker to
/// encode. The boundaries are made of the Message-ID's hash and a `-`, which no base64
/// line holds, so no body can hold a boundary line.
pub fn build(i: &Invitation) -> Result<Built> {
    use lettre::message::header::{self, Headers};
    let mut head = Headers::with_capacity(7);
    set_address::<header::From>(&mut head, mailbox("from", &i.from)?);
    set_address::<header::To>(&mut head, mailbox("email", &i.to)?);
    head.set(header::Subject::from(header_text(&i.subject)));
    head.set(header::MessageId::from(format!(
        "<{}>",
        header_text(&i.message_id)
    )));
    head.set(header::MIME_VERSION_1_0);
    head.set(header::Date::now());
    if let Some(cal) = &i.calendar {
        let method_line = format!("\r\nMETHOD:{}\r\n", cal.method.as_str());
        if !cal.ics.contains(&method_line) {
            return Err(Error::Internal(format!(
                "the calendar's METHOD is not {}",
                cal.method.as_str()
            )));
        }
    }
    let hash = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        i.message_id.hash(&mut h);
        h.finish()
    };
    let alternative = Boundary("alt", hash);
    let mixed = Boundary("mixed", hash);

    let mut m = Built::new();
    m.push_fmt(format_args!("{head}"));
    if i.calendar.is_some() {
        m.push_fmt(format_args!(
            "Content-Type: multipart/mixed; boundary=\"{mixed}\"\r\n\r\n--{mixed}\r\n"
        ));
    }
    m.push_fmt(format_args!(
        "Content-Type: multipart/alternative; boundary=\"{alternative}\"\r\n\r\n\
         --{alternative}\r\n"
    ));
    m.push(TEXT_PART);
    m.push_base64(&i.text);
    m.push_fmt(format_args!("\r\n--{alternative}\r\n"));
    m.push(HTML_PART);
    m.push_base64(&i.html);
    let Some(cal) = &i.calendar else {
        m.push_fmt(format_args!("\r\n--{alternative}--\r\n"));
        return Ok(m);
    };
    m.push_fmt(format_args!(
        "\r\n--{alternative}\r\n\
         Content-Type: text/calendar; charset=utf-8; method={}\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
        cal.method.as_str()
    ));
    let ics = m.push_base64(&cal.ics);
    m.push_fmt(format_args!("\r\n--{alternative}--\r\n--{mixed}\r\n"));
    m.push(ATTACHMENT_PART);
    m.push_base64_again(ics);
    m.push_fmt(format_args!("\r\n--{mixed}--\r\n"));
    Ok(m)
}

/// A boundary: `hoinghi-`, the kind of its multipart, `-` and the hash of the message's
/// Message-ID.
#[derive(Clone, Copy)]
struct Boundary(&'static str, u64);

impl std::fmt::Display for Boundary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hoinghi-{}-{:016x}", self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::message::Body;
    use lettre::message::header::ContentTransferEncoding;
    use mail_parser::{MessageParser, MimeHeaders};

    /// The content types of every part, in order: `multipart/mixed`, `text/plain`, ….
    fn part_types(m: &mail_parser::Message) -> Vec<String> {
        m.parts
            .iter()
            .filter_map(|p| p.content_type())
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
            .collect()
    }

    /// What a lenient parser would not notice: CRLF line ends only, `MIME-Version: 1.0`
    /// in the header section, and for each multipart of `kinds` (outermost first) one
    /// boundary, opened before its closing delimiter, which closes it once, in nesting
    /// order, the outermost ending the message.
    fn assert_framed(raw: &[u8], kinds: &[&str]) {
        let text = String::from_utf8_lossy(raw);
        assert!(
            raw.windows(2).all(|w| w[1] != b'\n' || w[0] == b'\r') && raw[0] != b'\n',
            "a bare LF: {text}"
        );
        let head = &text[..text.find("\r\n\r\n").expect("a header section")];
        assert!(head.contains("\r\nMIME-Version: 1.0\r\n"), "{head}");
        let mut closed_at = Vec::new();
        for kind in kinds {
            let line = format!("Content-Type: {kind}; boundary=\"");
            let at = text.find(&line).unwrap_or_else(|| panic!("{kind}: {text}"));
            let boundary = &text[at + line.len()..];
            let boundary = &boundary[..boundary.find('"').expect("quoted")];
            let close = format!("\r\n--{boundary}--\r\n");
            assert_eq!(text.matches(&close).count(), 1, "{kind}: {text}");
            let opened = text.find(&format!("\r\n--{boundary}\r\n")).expect("opened");
            let closed = text.find(&close).expect("closed");
            assert!(opened < closed);
            closed_at.push((closed, close.len()));
        }
        // Inner multiparts close before outer ones, and the outermost ends the message.
        assert!(closed_at.windows(2).all(|w| w[1].0 < w[0].0), "{text}");
        assert_eq!(closed_at[0].0 + closed_at[0].1, raw.len(), "{text}");
    }

    const ICS: &str = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Hội nghị\r\nEND:VCALENDAR\r\n";

    fn invitation() -> Invitation {
        Invitation {
            from: Party {
                name: "Sở Giáo dục và Đào tạo Hải Phòng".into(),
                email: "vanthu@sogddt-haiphong.example".into(),
            },
            to: Party {
                name: "Nguyễn Văn An\r\nBcc: attacker@evil.example".into(),
                email: "an@thpt.example".into(),
            },
            subject: "Giấy mời: Hội nghị tập huấn về xây dựng “Đơn vị học tập” — 08h00 ngày 18/12/2024\r\nX-Injected: 1".into(),
            text: "Thời gian: 08h00 ngày 18/12/2024 (thứ Tư)\nĐịa điểm: Hội trường tầng 3".into(),
            html: "<p>Thời gian: 08h00 ngày 18/12/2024 (thứ Tư)</p>".into(),
            calendar: Some(Calendar {
                method: Method::Request,
                ics: ICS.into(),
            }),
            message_id: message_id(1, Addressee::Delegate(7), 2, "request", "hoinghi.example"),
        }
    }

    /// A body as [`Built::wire`] writes it.
    fn ours(text: &str) -> Vec<u8> {
        let mut crlf = Vec::new();
        push_crlf(text, &mut crlf);
        let mut out = Vec::new();
        base64_lines(&crlf, &mut out);
        out
    }

    /// lettre's own base64 body of `text`, which [`ours`] must equal byte for byte.
    fn lettres(text: &str) -> Vec<u8> {
        Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::Base64)
            .expect("base64 takes any text")
            .into_vec()
    }

    #[test]
    fn base64_bodies_are_the_ones_lettre_makes() {
        let line = "Kính gửi Ông Nguyễn Văn An — Trường THCS Lê Lợi";
        for text in [
            String::new(),
            "\n".into(),
            "\r".into(),
            "\r\n".into(),
            "\n\nA\r\nB\rC\n".into(),
            "x".repeat(56),
            "x".repeat(57),
            "x".repeat(58),
            "x".repeat(57 * 3),
            format!("{line}\n").repeat(40),
            format!("{line}\r\n").repeat(40),
            ICS.to_owned(),
        ] {
            assert_eq!(
                String::from_utf8_lossy(&ours(&text)),
                String::from_utf8_lossy(&lettres(&text)),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn base64_bodies_match_lettres_for_any_text(text in "[a-z \r\nđêơ😀]{0,300}") {
            proptest::prop_assert_eq!(ours(&text), lettres(&text));
        }
    }

    #[test]
    fn the_mime_layout_is_the_one_calendar_clients_read() {
        let raw = build(&invitation()).expect("builds").wire();
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains("\r\nBcc:"), "no header injected: {text}");
        assert!(!text.contains("\r\nX-Injected:"), "{text}");
        assert_framed(&raw, &["multipart/mixed", "multipart/alternative"]);
        let m = MessageParser::default().parse(&raw).expect("parses");
        assert!(m.date().is_some(), "a Date header");
        assert_eq!(
            m.subject(),
            Some(
                "Giấy mời: Hội nghị tập huấn về xây dựng “Đơn vị học tập” — 08h00 ngày 18/12/2024 X-Injected: 1"
            )
        );
        assert_eq!(
            m.message_id(),
            Some("hoinghi.c1.d7.s2.request@hoinghi.example")
        );
        let from = m.from().and_then(|a| a.first()).expect("from");
        assert_eq!(from.name(), Some("Sở Giáo dục và Đào tạo Hải Phòng"));
        let to = m.to().and_then(|a| a.first()).expect("to");
        assert_eq!(to.address(), Some("an@thpt.example"));
        assert_eq!(to.name(), Some("Nguyễn Văn An Bcc: attacker@evil.example"));
        assert!(m.bcc().is_none());

        // mixed → (alternative → plain, html, calendar), attachment
        let root = m.root_part();
        assert_eq!(
            root.content_type().map(|c| (c.ctype(), c.subtype())),
            Some(("multipart", Some("mixed")))
        );
        let types = part_types(&m);
        assert_eq!(
            types,
            [
                "multipart/mixed",
                "multipart/alternative",
                "text/plain",
                "text/html",
                "text/calendar",
                "application/ics"
            ]
        );
        let calendar = &m.parts[4];
        let ct = calendar.content_type().expect("content type");
        assert_eq!(ct.attribute("method"), Some("REQUEST"));
        assert_eq!(ct.attribute("charset"), Some("utf-8"));
        assert!(
            calendar.content_disposition().is_none(),
            "no disposition on the inline calendar"
        );
        assert!(calendar.content_id().is_none());
        assert_eq!(calendar.text_contents(), Some(ICS));
        let attachment = &m.parts[5];
        assert_eq!(attachment.attachment_name(), Some("invite.ics"));
        assert_eq!(attachment.contents(), ICS.as_bytes());
        // Line ends travel as CRLF in a message.
        assert_eq!(
            m.body_text(0).as_deref(),
            Some(invitation().text.replace('\n', "\r\n").as_str())
        );
    }

    #[test]
    fn a_long_name_is_cut_between_words_only() {
        let mut i = invitation();
        i.from.name = "Sở Giáo dục và Đào tạo thành phố Hải Phòng".into();
        i.to.name = "Trường Trung học cơ sở Nguyễn Bỉnh Khiêm, Phòng Giáo dục và Đào tạo huyện Thủy Nguyên — Tổ trưởngchuyênmônkhốitrunghọcphổthôngkiêmthưkýhộiđồng".into();
        let raw = build(&i).expect("builds").wire();
        let text = String::from_utf8_lossy(&raw);
        let head = &text[..text.find("\r\n\r\n").expect("headers")];
        // Every line with an encoded-word within 76 characters.
        for line in head.split("\r\n") {
            assert!(!line.contains("=?") || line.len() <= 76, "{line}");
        }
        let unfolded = head.replace("\r\n ", " ");
        for (header, name) in [("From", &i.from.name), ("To", &i.to.name)] {
            let value = unfolded
                .split("\r\n")
                .find_map(|l| l.strip_prefix(&format!("{header}: ")))
                .expect("the header");
            let words: Vec<String> = value
                .split("=?utf-8?b?")
                .skip(1)
                .map(|w| {
                    let b64 = &w[..w.find("?=").expect("end")];
                    let bytes =
                        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
                            .expect("base64");
                    String::from_utf8(bytes).expect("whole letters")
                })
                .collect();
            assert!(words.len() > 1, "{header}: {value}");
            assert_eq!(words.concat(), *name, "{header}");
            // Each cut is before a space, but inside the one word longer than a line.
            for w in &words[1..] {
                assert!(
                    w.starts_with(' ') || !w.contains(' '),
                    "{header}: {words:?}"
                );
            }
        }
        let m = MessageParser::default().parse(&raw).expect("parses");
        let from = m.from().and_then(|a| a.first()).expect("from");
        assert_eq!(from.name(), Some(i.from.name.as_str()));
        assert_eq!(from.address(), Some("vanthu@sogddt-haiphong.example"));
        let to = m.to().and_then(|a| a.first()).expect("to");
        assert_eq!(to.name(), Some(i.to.name.as_str()));
        assert_eq!(to.address(), Some("an@thpt.example"));
    }

    #[test]
    fn its_pieces_are_the_message_as_sent() {
        let m = build(&invitation()).expect("builds");
        let wire = m.wire();
        assert_eq!(m.wire_len(), wire.len());
        let mut again = Vec::new();
        let mut bodies = Vec::new();
        for p in m.pieces() {
            match p {
                Piece::AsIs(bytes) => again.extend_from_slice(bytes),
                Piece::Base64(bytes) => {
                    base64_lines(bytes, &mut again);
                    bodies.push(bytes);
                }
            }
        }
        assert_eq!(again, wire);
        // Text, HTML, the calendar and the attachment: the same calendar twice.
        assert_eq!(bodies.len(), 4);
        assert_eq!(bodies[2], ICS.as_bytes());
        assert_eq!(bodies[3], ICS.as_bytes());
        assert_eq!(
            bodies[0],
            invitation().text.replace('\n', "\r\n").as_bytes()
        );
        // A body starts after a blank line and ends before a boundary line.
        let mut at = 0;
        for p in m.pieces() {
            let len = match p {
                Piece::AsIs(bytes) => bytes.len(),
                Piece::Base64(bytes) => {
                    assert!(wire[..at].ends_with(b"\r\n\r\n"));
                    let len = base64_len(bytes.len());
                    assert!(wire[at + len..].starts_with(b"\r\n--hoinghi-"));
                    len
                }
            };
            at += len;
        }
        // Without calendar: text and HTML.
        let mut i = invitation();
        i.calendar = None;
        let m = build(&i).expect("builds");
        assert_eq!(
            m.pieces().filter(|p| matches!(p, Piece::Base64(_))).count(),
            2
        );
        assert_eq!(m.wire_len(), m.wire().len());
    }

    #[test]
    fn a_message_without_calendar_is_text_and_html() {
        let mut i = invitation();
        i.calendar = None;
        let raw = build(&i).expect("builds").wire();
        assert_framed(&raw, &["multipart/alternative"]);
        let m = MessageParser::default().parse(&raw).expect("parses");
        assert!(m.date().is_some(), "a Date header");
        let types = part_types(&m);
        assert_eq!(types, ["multipart/alternative", "text/plain", "text/html"]);
    }

    #[test]
    fn every_part_goes_in_base64_and_reads_back_whole() {
        let mut i = invitation();
        i.html = "<p>Kính gửi quý đại biểu: Hội nghị tập huấn về xây dựng “Đơn vị học tập”.</p>\n"
            .repeat(40);
        i.text =
            "Kính gửi quý đại biểu: Hội nghị tập huấn về xây dựng “Đơn vị học tập”.\n".repeat(40);
        let ics = format!(
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n{}END:VCALENDAR\r\n",
            "DESCRIPTION:Hướng dẫn lập hồ sơ đề nghị đánh giá\\, công nhận\r\n".repeat(30)
        );
        if let Some(c) = i.calendar.as_mut() {
            c.ics.clone_from(&ics);
        }
        let raw = build(&i).expect("builds").wire();
        let text = String::from_utf8_lossy(&raw);
        for part in [
            "text/plain; charset=utf-8",
            "text/html; charset=utf-8",
            "text/calendar; charset=utf-8; method=REQUEST",
            "application/ics; name=\"invite.ics\"",
        ] {
            let head = format!("Content-Type: {part}\r\n");
            let at = text.find(&head).unwrap_or_else(|| panic!("{part}: {text}"));
            let headers = &text[at..at + text[at..].find("\r\n\r\n").expect("end of headers")];
            assert!(
                headers.contains("\r\nContent-Transfer-Encoding: base64"),
                "{headers}"
            );
        }
        assert!(
            text.lines().all(|l| l.len() <= 78),
            "a line over 78 characters"
        );
        let m = MessageParser::default().parse(&raw).expect("parses");
        assert_eq!(
            m.body_html(0).as_deref().map(|h| h.replace("\r\n", "\n")),
            Some(i.html.clone())
        );
        assert_eq!(
            m.body_text(0).as_deref().map(|h| h.replace("\r\n", "\n")),
            Some(i.text.clone())
        );
        assert_eq!(m.parts[4].text_contents(), Some(ics.as_str()));
        assert_eq!(m.parts[5].contents(), ics.as_bytes());
    }

    #[test]
    fn a_calendar_whose_method_differs_is_not_sent() {
        let mut i = invitation();
        if let Some(c) = i.calendar.as_mut() {
            c.method = Method::Cancel;
        }
        assert!(matches!(build(&i), Err(Error::Internal(_))));
    }

    #[test]
    fn a_bad_address_is_refused_naming_the_field() {
        let mut i = invitation();
        i.to.email = "not an address".into();
        match build(&i) {
            Err(Error::Validation(errors)) => assert_eq!(errors[0].field, "email"),
            other => panic!("{other:?}"),
        }
    }
}

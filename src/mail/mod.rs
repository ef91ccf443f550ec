//! E-mail for invitations (iMIP, RFC 6047; `../shared/itip-checklist.md` points 1–7), built
//! with lettre:
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
//! Names and subjects are cleaned of CR, LF and other control characters before they reach
//! a header; lettre encodes non-ASCII text per RFC 2047. `transport` sends the built
//! messages (SMTP, `.eml` files, or memory).
pub mod smtp;
pub mod transport;

use lettre::Message;
use lettre::message::header::{ContentDisposition, ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

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

/// The base64 lines of a body: 76 characters, 57 bytes each (RFC 2045, 6.8); also how
/// `store::outbox_body` finds them again.
pub const BASE64_LINE: usize = 76;
pub const BASE64_LINE_BYTES: usize = BASE64_LINE / 4 * 3;

/// `text` (line ends made CRLF) encoded in base64 for a part of the message: the bytes
/// `Body::new_with_encoding(text, Base64)` makes (a unit test compares them), in one
/// pass each way. Written by hand because lettre's way costs a third of building a
/// message: it adds each missing CR with `String::insert` (moving the rest of the text
/// every time), scans the text to choose an encoding it then does not use, and encodes 57
/// bytes at a time through `fmt::Write` with a UTF-8 check of each line.
fn base64(text: &str) -> Body {
    // Every LF not after a CR gets one (a CR is ASCII: never part of a longer letter).
    let bytes = text.as_bytes();
    let bare = |&at: &usize| at == 0 || bytes[at - 1] != b'\r';
    let lfs = || memchr::memchr_iter(b'\n', bytes).filter(bare);
    let crlf: std::borrow::Cow<'_, [u8]> = match lfs().count() {
        0 => bytes.into(),
        n => {
            let mut out = Vec::with_capacity(bytes.len() + n);
            let mut from = 0;
            for at in lfs() {
                out.extend_from_slice(&bytes[from..at]);
                out.extend_from_slice(b"\r");
                from = at;
            }
            out.extend_from_slice(&bytes[from..]);
            out.into()
        }
    };
    let mut out = Vec::new();
    base64_lines(&crlf, &mut out);
    Body::dangerous_pre_encoded(out, ContentTransferEncoding::Base64)
}

/// Appends `bytes` to `out` in base64, in lines of 76 characters joined by CRLF, the last
/// one without (as a MIME body in base64 is written, and `store::outbox_body` writes one
/// back).
pub fn base64_lines(bytes: &[u8], out: &mut Vec<u8>) {
    use base64::Engine;
    let lines = bytes.len().div_ceil(BASE64_LINE_BYTES);
    let start = out.len();
    out.resize(
        start + bytes.len().div_ceil(3) * 4 + 2 * lines.saturating_sub(1),
        0,
    );
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

/// Builds the message. The calendar's METHOD must be the `method=` of its Content-Type
/// (Outlook rejects a mismatch): a mismatch is an internal error, never sent.
pub fn build(i: &Invitation) -> Result<Message> {
    // Every part in base64, not the quoted-printable lettre chooses for text that is
    // mostly ASCII (the HTML, the calendar): Vietnamese puts a multi-byte letter in most
    // words, each three characters in quoted-printable, so base64 is the shorter (for an
    // invitation, 4.1 KB against 5.0 KB of HTML, 4.0 KB against 4.5 KB of calendar) and
    // far quicker to encode.
    let html = SinglePart::builder()
        .header(ContentType::TEXT_HTML)
        .body(base64(&i.html));
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(base64(&i.text));
    let words = MultiPart::alternative().singlepart(text).singlepart(html);
    let head = Message::builder()
        .from(mailbox("from", &i.from)?)
        .to(mailbox("email", &i.to)?)
        .subject(header_text(&i.subject))
        .message_id(Some(format!("<{}>", header_text(&i.message_id))));
    let Some(cal) = &i.calendar else {
        return head
            .multipart(words)
            .map_err(|e| Error::Internal(format!("cannot build the e-mail: {e}")));
    };
    let method_line = format!("\r\nMETHOD:{}\r\n", cal.method.as_str());
    if !cal.ics.contains(&method_line) {
        return Err(Error::Internal(format!(
            "the calendar's METHOD is not {}",
            cal.method.as_str()
        )));
    }
    let calendar_type = format!(
        "text/calendar; charset=utf-8; method={}",
        cal.method.as_str()
    );
    // Encoded once for both parts.
    let ics = base64(&cal.ics);
    let calendar = SinglePart::builder()
        .header(
            ContentType::parse(&calendar_type)
                .map_err(|e| Error::Internal(format!("calendar content type: {e}")))?,
        )
        .body(ics.clone());
    let attachment = SinglePart::builder()
        .header(
            ContentType::parse("application/ics; name=\"invite.ics\"")
                .map_err(|e| Error::Internal(format!("attachment content type: {e}")))?,
        )
        .header(ContentDisposition::attachment("invite.ics"))
        .body(ics);
    head.multipart(
        MultiPart::mixed()
            .multipart(words.singlepart(calendar))
            .singlepart(attachment),
    )
    .map_err(|e| Error::Internal(format!("cannot build the e-mail: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{MessageParser, MimeHeaders};

    /// The content types of every part, in order: `multipart/mixed`, `text/plain`, ….
    fn part_types(m: &mail_parser::Message) -> Vec<String> {
        m.parts
            .iter()
            .filter_map(|p| p.content_type())
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
            .collect()
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

    /// lettre's own base64 body of `text`, which [`base64`] must equal byte for byte.
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
            let ours = base64(&text);
            assert_eq!(ours.encoding(), ContentTransferEncoding::Base64);
            assert_eq!(
                String::from_utf8_lossy(ours.as_ref()),
                String::from_utf8_lossy(&lettres(&text)),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn base64_bodies_match_lettres_for_any_text(text in "[a-z \r\nđêơ😀]{0,300}") {
            proptest::prop_assert_eq!(base64(&text).into_vec(), lettres(&text));
        }
    }

    #[test]
    fn the_mime_layout_is_the_one_calendar_clients_read() {
        let raw = build(&invitation()).expect("builds").formatted();
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains("\r\nBcc:"), "no header injected: {text}");
        assert!(!text.contains("\r\nX-Injected:"), "{text}");
        let m = MessageParser::default().parse(&raw).expect("parses");
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
    fn a_message_without_calendar_is_text_and_html() {
        let mut i = invitation();
        i.calendar = None;
        let raw = build(&i).expect("builds").formatted();
        let m = MessageParser::default().parse(&raw).expect("parses");
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
        let raw = build(&i).expect("builds").formatted();
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

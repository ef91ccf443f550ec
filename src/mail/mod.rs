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
//! Names and subjects are cleaned of CR, LF and other control characters before they reach
//! a header; lettre encodes non-ASCII text per RFC 2047.
use lettre::Message;
use lettre::message::header::{ContentDisposition, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::calendar::invite::{Method, Party};
use crate::domain::validate::FieldError;
use crate::error::{Error, Result};

/// One invitation e-mail.
#[derive(Clone, Debug)]
pub struct Invitation {
    pub from: Party,
    pub to: Party,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The calendar, as `calendar::invite::to_ics` writes it.
    pub ics: String,
    pub method: Method,
    /// Without angle brackets: `hoinghi.c1.d7.s2.request@host`.
    pub message_id: String,
}

/// The Message-ID of the message to `delegate` about `conference` at `sequence`: the same
/// for a resend, so that a message sent twice after a crash is recognisable.
pub fn message_id(
    conference: i64,
    delegate: i64,
    sequence: u32,
    method: Method,
    host: &str,
) -> String {
    format!(
        "hoinghi.c{conference}.d{delegate}.s{sequence}.{}@{host}",
        method.as_str().to_lowercase()
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

/// Builds the message. The calendar's METHOD must be the `method=` of its Content-Type
/// (Outlook rejects a mismatch): a mismatch is an internal error, never sent.
pub fn build(i: &Invitation) -> Result<Message> {
    let method_line = format!("\r\nMETHOD:{}\r\n", i.method.as_str());
    if !i.ics.contains(&method_line) {
        return Err(Error::Internal(format!(
            "the calendar's METHOD is not {}",
            i.method.as_str()
        )));
    }
    let calendar_type = format!("text/calendar; charset=utf-8; method={}", i.method.as_str());
    let calendar = SinglePart::builder()
        .header(
            ContentType::parse(&calendar_type)
                .map_err(|e| Error::Internal(format!("calendar content type: {e}")))?,
        )
        .body(i.ics.clone());
    let attachment = SinglePart::builder()
        .header(
            ContentType::parse("application/ics; name=\"invite.ics\"")
                .map_err(|e| Error::Internal(format!("attachment content type: {e}")))?,
        )
        .header(ContentDisposition::attachment("invite.ics"))
        .body(i.ics.clone());
    Message::builder()
        .from(mailbox("from", &i.from)?)
        .to(mailbox("email", &i.to)?)
        .subject(header_text(&i.subject))
        .message_id(Some(format!("<{}>", header_text(&i.message_id))))
        .multipart(
            MultiPart::mixed()
                .multipart(
                    MultiPart::alternative()
                        .singlepart(SinglePart::plain(i.text.clone()))
                        .singlepart(SinglePart::html(i.html.clone()))
                        .singlepart(calendar),
                )
                .singlepart(attachment),
        )
        .map_err(|e| Error::Internal(format!("cannot build the e-mail: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{MessageParser, MimeHeaders};

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
            ics: "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Hội nghị\r\nEND:VCALENDAR\r\n".into(),
            method: Method::Request,
            message_id: message_id(1, 7, 2, Method::Request, "hoinghi.example"),
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
        let types: Vec<String> = m
            .parts
            .iter()
            .filter_map(|p| p.content_type())
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
            .collect();
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
        assert_eq!(calendar.text_contents(), Some(invitation().ics.as_str()));
        let attachment = &m.parts[5];
        assert_eq!(attachment.attachment_name(), Some("invite.ics"));
        assert_eq!(attachment.contents(), invitation().ics.as_bytes());
        // Line ends travel as CRLF in a message.
        assert_eq!(
            m.body_text(0).as_deref(),
            Some(invitation().text.replace('\n', "\r\n").as_str())
        );
    }

    #[test]
    fn a_calendar_whose_method_differs_is_not_sent() {
        let mut i = invitation();
        i.method = Method::Cancel;
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

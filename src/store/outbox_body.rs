//! The whole message of an outbox row, as it goes on the wire (a retry sends the very
//! same bytes); apart from the row, which changes state as it is sent.
//!
//! Kept as a zstd frame ([`pack`], level 1) of the message with its base64 parts decoded
//! ([`unfold`]): zstd finds little to share in base64, whose characters each carry six
//! bits at a shift of 0, 2 or 4, but much in the text, HTML and calendar it encodes,
//! which repeat one another. An invitation of 17 KB (its calendar twice, in base64, beside
//! the text and HTML) takes about 2.5 KB kept so, 5.7 KB as a frame of the message as it
//! is, 17 KB bare; zstd has two fifths of the bytes to go through. Each part is encoded
//! back into the very same lines when the message is read ([`unpack`]): [`unfold`]
//! decodes only what it has checked that it can encode back byte for byte.
//!
//! Rows written before are the bare message, or a frame of the message as it is:
//! [`unpack`] tells them apart by zstd's magic number, which no message can start with,
//! and by the format's two first bytes, a NUL and `6`, which no message can start with
//! either (a message starts with a header name, in ASCII).
use sea_orm::entity::prelude::*;

/// The whole message of an outbox row, as [`pack`] keeps it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_body")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub outbox_id: i64,
    #[sea_orm(column_type = "Blob")]
    pub raw: Vec<u8>,
}

/// The first bytes of a zstd frame (RFC 8878, 3.1.1).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

thread_local! {
    /// One context per thread each way: a context is 100s of KB to set up, more than a
    /// message takes to compress.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// The most a kept message may unpack to (a frame that says more is refused).
const MOST: usize = 64 << 20;

/// `raw` as it is kept.
pub fn pack(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let unfolded = unfold(raw);
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        let compressor = match c.as_mut() {
            Some(compressor) => compressor,
            None => c.insert(zstd::bulk::Compressor::new(1)?),
        };
        compressor.compress(unfolded.as_deref().unwrap_or(raw))
    })
}

/// The message kept as `stored`.
pub fn unpack(stored: &[u8]) -> std::io::Result<Vec<u8>> {
    if !stored.starts_with(&ZSTD_MAGIC) {
        return Ok(stored.to_vec());
    }
    // `pack` writes the size in the frame: the buffer is allocated once, to size, and a
    // frame without it (not written by `pack`) is refused rather than read unbounded.
    let size = match zstd::zstd_safe::get_frame_content_size(stored) {
        Ok(Some(size)) => usize::try_from(size).unwrap_or(usize::MAX),
        _ => return Err(invalid("a kept message without its size".into())),
    };
    if size > MOST {
        return Err(invalid(format!("a kept message says it is {size} bytes")));
    }
    let inner = DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        let decompressor = match d.as_mut() {
            Some(decompressor) => decompressor,
            None => d.insert(zstd::bulk::Decompressor::new()?),
        };
        decompressor.decompress(stored, size)
    })?;
    if inner.starts_with(&UNFOLDED) {
        fold(&inner)
    } else {
        Ok(inner)
    }
}

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

/// The first bytes of a message kept by [`unfold`]; then the message's length (`u32`, LE)
/// and its pieces in order, each a tag, a length (`u32`, LE) and that many bytes:
/// [`LITERAL`], the bytes as they are; [`BASE64`], bytes that go in base64 lines.
const UNFOLDED: [u8; 2] = [0, b'6'];
const LITERAL: u8 = b'L';
const BASE64: u8 = b'B';
// The longest line of a base64 body (as `mail::base64_lines` writes it) and the bytes it
// holds.
use crate::mail::{BASE64_LINE as LINE, BASE64_LINE_BYTES as LINE_BYTES};
/// The fewest lines worth a piece.
const FEWEST_LINES: usize = 2;

/// `raw` with its runs of base64 lines decoded, or `None` when it has none (or is too
/// large for the format's lengths) and can be kept as it is. A run is lines of 76 base64 characters but the last
/// one, which may be shorter, joined by CRLF, as MIME bodies are written. Each line is
/// decoded on its own, and only if it is base64 as the encoder writes it (padding at the
/// end of the run only, no stray bits: `STANDARD`'s canonical decoding); so a run comes
/// back, encoded again, as the very same characters. Anything else, such as a line of text
/// that happens to look like base64, stays as it is.
///
/// Written by hand: no crate keeps a MIME message compact and byte for byte.
fn unfold(raw: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let total = u32::try_from(raw.len()).ok()?;
    let mut out = Vec::with_capacity(raw.len() / 2);
    out.extend_from_slice(&UNFOLDED);
    out.extend_from_slice(&total.to_le_bytes());
    let mut decoded = Vec::new();
    let mut kept = 0; // raw[..kept] is in `out`
    let mut at = 0; // the start of a line
    let mut any = false;
    while at < raw.len() {
        // The run of base64 lines from `at`, decoded into `decoded`.
        let (start, mut lines) = (at, 0);
        let mut end = at;
        decoded.clear();
        loop {
            let line_end = line_end(raw, at);
            let line = &raw[at..line_end];
            if line.is_empty() || line.len() > LINE || line.len() % 4 != 0 {
                break;
            }
            let before = decoded.len();
            decoded.resize(before + LINE_BYTES, 0);
            let Ok(n) = base64::engine::general_purpose::STANDARD
                .decode_slice(line, &mut decoded[before..])
            else {
                decoded.truncate(before);
                break;
            };
            decoded.truncate(before + n);
            lines += 1;
            end = line_end;
            at = (line_end + 2).min(raw.len());
            // A short line (or a full one with padding) ends the run.
            if n < LINE_BYTES || line_end == raw.len() {
                break;
            }
        }
        if lines >= FEWEST_LINES {
            debug_assert!({
                let mut again = Vec::new();
                crate::mail::base64_lines(&decoded, &mut again);
                again == raw[start..end]
            });
            piece(&mut out, LITERAL, &raw[kept..start]);
            piece(&mut out, BASE64, &decoded);
            kept = end;
            any = true;
        }
        // On past the run, or the line that is not base64.
        at = (line_end(raw, end) + 2).min(raw.len()).max(at);
    }
    // Bytes that start as this format does go in it even without base64, or `unpack`
    // would read them as it (no message does: it starts with a header name).
    if !any && !raw.starts_with(&UNFOLDED) {
        return None;
    }
    piece(&mut out, LITERAL, &raw[kept..]);
    Some(out)
}

fn piece(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    // Within a message of at most u32::MAX bytes (checked by `unfold`).
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.push(tag);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Where the line from `at` ends: at its CRLF, or at the end of `raw`.
fn line_end(raw: &[u8], at: usize) -> usize {
    let mut from = at;
    while let Some(i) = memchr::memchr(b'\n', &raw[from..]) {
        if from + i > 0 && raw[from + i - 1] == b'\r' {
            return from + i - 1;
        }
        from += i + 1;
    }
    raw.len()
}

/// The message [`unfold`] kept as `inner`.
fn fold(inner: &[u8]) -> std::io::Result<Vec<u8>> {
    let damaged = || invalid("a kept message is damaged".into());
    let read_u32 = |at: usize| -> Option<usize> {
        let b = inner.get(at..at + 4)?;
        usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok()
    };
    let total = read_u32(UNFOLDED.len()).ok_or_else(damaged)?;
    if total > MOST {
        return Err(invalid(format!("a kept message says it is {total} bytes")));
    }
    let mut out = Vec::with_capacity(total);
    let mut at = UNFOLDED.len() + 4;
    while at < inner.len() {
        let tag = inner[at];
        let len = read_u32(at + 1).ok_or_else(damaged)?;
        let end = (at + 5).checked_add(len).ok_or_else(damaged)?;
        let bytes = inner.get(at + 5..end).ok_or_else(damaged)?;
        match tag {
            LITERAL => out.extend_from_slice(bytes),
            BASE64 => crate::mail::base64_lines(bytes, &mut out),
            _ => return Err(damaged()),
        }
        if out.len() > total {
            return Err(damaged());
        }
        at += 5 + len;
    }
    if out.len() != total {
        return Err(damaged());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_comes_back_byte_for_byte() {
        let raw =
            "From: Sở Giáo dục và Đào tạo <vanthu@sogddt.example>\r\n\r\nKính gửi quý đại biểu\r\n"
                .repeat(50)
                .into_bytes();
        let stored = pack(&raw).expect("packs");
        assert!(stored.starts_with(&ZSTD_MAGIC));
        assert!(stored.len() * 10 < raw.len(), "{} bytes", stored.len());
        assert_eq!(unpack(&stored).expect("unpacks"), raw);
        // A row kept bare, before bodies were compressed, reads as it is.
        assert_eq!(unpack(&raw).expect("bare"), raw);
        assert_eq!(unpack(b"").expect("empty"), b"");
        // A damaged frame is an error, not a message.
        let mut damaged = stored.clone();
        damaged.truncate(stored.len() / 2);
        assert!(unpack(&damaged).is_err());
        // Bytes that start as the unfolded format does, without any base64.
        for raw in [&b"\x006"[..], b"\x006hello\r\n", b"\x00"] {
            assert_eq!(unpack(&pack(raw).expect("packs")).expect("unpacks"), raw);
        }
    }

    /// An invitation as `mail::build` writes it: text, HTML and the calendar twice, each
    /// in base64.
    fn invitation() -> Vec<u8> {
        use crate::calendar::invite::{Method, Party};
        let line = "Hội nghị tập huấn chuyển đổi số — Trường THCS Lê Lợi, phòng họp tầng 2";
        let ics = format!(
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n{}END:VCALENDAR\r\n",
            format!("DESCRIPTION:{line}\r\n").repeat(30)
        );
        crate::mail::build(&crate::mail::Invitation {
            from: Party {
                name: "Sở Giáo dục và Đào tạo Hải Phòng".into(),
                email: "vanthu@sogddt-haiphong.example".into(),
            },
            to: Party {
                name: "Nguyễn Văn An".into(),
                email: "an@truong.example".into(),
            },
            subject: format!("Giấy mời: {line}"),
            text: format!("{line}\n").repeat(40),
            html: format!("<p>{line}</p>\n").repeat(40),
            calendar: Some(crate::mail::Calendar {
                method: Method::Request,
                ics,
            }),
            message_id: "hoinghi.c1.d7.s1.request@hoinghi.example".into(),
        })
        .expect("builds")
        .formatted()
    }

    #[test]
    fn base64_parts_are_kept_decoded_and_come_back_as_they_were() {
        let raw = invitation();
        let unfolded = unfold(&raw).expect("base64 parts");
        // Four parts decoded: text, HTML, the calendar and the attachment.
        let pieces = {
            let (mut at, mut n) = (UNFOLDED.len() + 4, 0);
            while at < unfolded.len() {
                let len = u32::from_le_bytes(unfolded[at + 1..at + 5].try_into().unwrap());
                n += usize::from(unfolded[at] == BASE64);
                at += 5 + len as usize;
            }
            n
        };
        assert_eq!(pieces, 4);
        let stored = pack(&raw).expect("packs");
        let as_is = zstd::bulk::compress(&raw, 1).expect("compresses");
        assert!(
            stored.len() * 2 < as_is.len(),
            "{} bytes kept, {} as a frame of the message as it is",
            stored.len(),
            as_is.len()
        );
        assert_eq!(unpack(&stored).expect("unpacks"), raw);
        // A frame of the message as it is, as kept before, reads as it is.
        assert_eq!(unpack(&as_is).expect("unpacks"), raw);
    }

    #[test]
    fn a_damaged_unfolded_message_is_an_error() {
        let raw = invitation();
        let unfolded = unfold(&raw).expect("base64 parts");
        let mut wrong_total = unfolded.clone();
        wrong_total[2] ^= 1;
        let mut wrong_tag = unfolded.clone();
        wrong_tag[UNFOLDED.len() + 4] = b'X';
        let mut cut = unfolded.clone();
        cut.truncate(unfolded.len() - 3);
        // A piece that says it is longer than anything.
        let mut too_long = unfolded.clone();
        too_long[UNFOLDED.len() + 5..UNFOLDED.len() + 9].copy_from_slice(&[0xFF; 4]);
        for inner in [wrong_total, wrong_tag, cut, too_long] {
            let stored = zstd::bulk::compress(&inner, 1).expect("compresses");
            assert!(unpack(&stored).is_err());
        }
    }

    proptest::proptest! {
        /// Lines that look like base64 (of any length, canonical or not) beside real runs
        /// of it: whatever `unfold` decodes, `unpack` gives back byte for byte.
        #[test]
        fn any_message_comes_back_byte_for_byte(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    "[A-Za-z0-9+/=]{0,80}",
                    "[A-Za-z :\r\n]{0,40}",
                    proptest::strategy::Strategy::prop_map(proptest::collection::vec(proptest::num::u8::ANY, 0..300), |b: Vec<u8>| {
                        let mut out = Vec::new();
                        crate::mail::base64_lines(&b, &mut out);
                        String::from_utf8(out).expect("ascii")
                    }),
                ],
                0..12,
            ),
            crlf_at_end in proptest::bool::ANY,
            format_first in proptest::bool::ANY,
        ) {
            let mut raw = pieces.join("\r\n");
            if format_first {
                raw.insert_str(0, "\u{0}6");
            }
            if crlf_at_end {
                raw.push_str("\r\n");
            }
            let stored = pack(raw.as_bytes()).expect("packs");
            proptest::prop_assert_eq!(unpack(&stored).expect("unpacks"), raw.into_bytes());
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

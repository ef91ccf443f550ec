//! The whole message of an outbox row, as it goes on the wire (a retry sends the very
//! same bytes); apart from the row, which changes state as it is sent.
//!
//! Kept as a zstd frame ([`pack`], level 1) of the message with its base64 bodies
//! as what they encode, as `mail::build` made them: zstd finds little to share in base64,
//! whose characters each carry six bits at a shift of 0, 2 or 4, but much in the text,
//! HTML and calendar it encodes, which repeat one another. An invitation of 17 KB (its
//! calendar twice, in base64, beside the text and HTML) takes about 2.5 KB kept so,
//! 5.7 KB as a frame of the message as it is, 17 KB bare; zstd has two fifths of the
//! bytes to go through. Each body is encoded into its lines when the message is read
//! ([`unpack`]), as `mail::Built::wire` encodes it to send it.
//!
//! Rows written before are the bare message, a frame of the message as it is, or a frame
//! in this format whose base64 runs were found by decoding the message as sent (up to
//! 2026-12-07; [`fold`] reads any sequence of pieces): [`unpack`] tells them apart by
//! zstd's magic number, which no message can start with, and by the format's two first
//! bytes, a NUL and `6`, which no message can start with either (a message starts with a
//! header name, in ASCII).
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

/// The message `m` as it is kept.
pub fn pack(m: &crate::mail::Built) -> std::io::Result<Vec<u8>> {
    compress(&unfolded(m)?)
}

/// The message `m` in the format [`fold`] reads: its bodies as what they encode.
fn unfolded(m: &crate::mail::Built) -> std::io::Result<Vec<u8>> {
    let total = u32::try_from(m.wire_len())
        .ok()
        .filter(|&t| t as usize <= MOST)
        .ok_or_else(|| invalid(format!("a message of {} bytes", m.wire_len())))?;
    let size = m.pieces().map(|p| 5 + p.bytes().len()).sum::<usize>();
    let mut out = Vec::with_capacity(UNFOLDED.len() + 4 + size);
    out.extend_from_slice(&UNFOLDED);
    out.extend_from_slice(&total.to_le_bytes());
    for p in m.pieces() {
        match p {
            crate::mail::Piece::AsIs(bytes) => piece(&mut out, LITERAL, bytes),
            crate::mail::Piece::Base64(bytes) => piece(&mut out, BASE64, bytes),
        }
    }
    // `unpack` refuses a frame that says it holds more.
    if out.len() > MOST {
        return Err(invalid(format!("a message kept in {} bytes", out.len())));
    }
    Ok(out)
}

fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        let compressor = match c.as_mut() {
            Some(compressor) => compressor,
            None => c.insert(zstd::bulk::Compressor::new(1)?),
        };
        compressor.compress(bytes)
    })
}

/// The message kept as `stored`.
pub fn unpack(stored: &[u8]) -> std::io::Result<Vec<u8>> {
    if !stored.starts_with(&ZSTD_MAGIC) {
        return Ok(stored.to_vec());
    }
    // zstd writes the size in the frame: the buffer is allocated once, to size, and a
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

/// The first bytes of a message kept by [`unfolded`]; then the message's length (`u32`, LE)
/// and its pieces in order, each a tag, a length (`u32`, LE) and that many bytes:
/// [`LITERAL`], the bytes as they are; [`BASE64`], bytes that go in base64 lines.
const UNFOLDED: [u8; 2] = [0, b'6'];
const LITERAL: u8 = b'L';
const BASE64: u8 = b'B';

fn piece(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    // Within a message of at most `MOST` bytes (checked by `unfolded`).
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.push(tag);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The message kept as `inner`, written by [`unfolded`] or, before, from the message as
/// sent: its pieces in any order and number, each body encoded as `mail::write_wire`
/// encodes it.
fn fold(inner: &[u8]) -> std::io::Result<Vec<u8>> {
    use crate::mail::Piece;
    let damaged = || invalid("a kept message is damaged".into());
    let read_u32 = |at: usize| -> Option<usize> {
        let b = inner.get(at..at + 4)?;
        usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok()
    };
    let total = read_u32(UNFOLDED.len()).ok_or_else(damaged)?;
    if total > MOST {
        return Err(invalid(format!("a kept message says it is {total} bytes")));
    }
    let mut pieces = Vec::new();
    let mut at = UNFOLDED.len() + 4;
    while at < inner.len() {
        let len = read_u32(at + 1).ok_or_else(damaged)?;
        let end = (at + 5).checked_add(len).ok_or_else(damaged)?;
        let bytes = inner.get(at + 5..end).ok_or_else(damaged)?;
        pieces.push(match inner[at] {
            LITERAL => Piece::AsIs(bytes),
            BASE64 => Piece::Base64(bytes),
            _ => return Err(damaged()),
        });
        at = end;
    }
    // Checked before anything is written: a damaged length allocates nothing.
    if crate::mail::wire_len(pieces.iter().copied()) != total {
        return Err(damaged());
    }
    let mut out = Vec::with_capacity(total);
    crate::mail::write_wire(pieces, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An invitation as `mail::build` makes it, with `lines` lines of text and of HTML
    /// and `ics_lines` of description: text, HTML and the calendar twice, each in base64.
    fn built(lines: usize, ics_lines: usize) -> crate::mail::Built {
        use crate::calendar::invite::{Method, Party};
        let line = "Hội nghị tập huấn chuyển đổi số — Trường THCS Lê Lợi, phòng họp tầng 2";
        let ics = format!(
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n{}END:VCALENDAR\r\n",
            format!("DESCRIPTION:{line}\r\n").repeat(ics_lines)
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
            text: format!("{line}\n").repeat(lines),
            html: format!("<p>{line}</p>\n").repeat(lines),
            calendar: Some(crate::mail::Calendar {
                method: Method::Request,
                ics,
            }),
            message_id: "hoinghi.c1.d7.s1.request@hoinghi.example".into(),
        })
        .expect("builds")
    }

    /// The tags of the pieces of `inner`, in order.
    fn tags(inner: &[u8]) -> Vec<u8> {
        let mut tags = Vec::new();
        let mut at = UNFOLDED.len() + 4;
        while at < inner.len() {
            let len = u32::from_le_bytes(inner[at + 1..at + 5].try_into().expect("4 bytes"));
            tags.push(inner[at]);
            at += 5 + len as usize;
        }
        tags
    }

    #[test]
    fn a_message_is_kept_with_its_bodies_decoded_and_comes_back_as_sent() {
        // Bodies of no line, of one and of many.
        for (lines, ics_lines) in [(0, 0), (1, 0), (40, 30)] {
            let m = built(lines, ics_lines);
            let wire = m.wire();
            let stored = pack(&m).expect("packs");
            assert!(stored.starts_with(&ZSTD_MAGIC));
            assert_eq!(unpack(&stored).expect("unpacks"), wire, "{lines} lines");
        }
        let m = built(40, 30);
        let wire = m.wire();
        let inner = unfolded(&m).expect("unfolds");
        // Text, HTML, the calendar and the attachment, each decoded.
        let tags = tags(&inner);
        assert_eq!(tags.iter().filter(|&&t| t == BASE64).count(), 4, "{tags:?}");
        assert!(
            inner.len() * 10 < wire.len() * 8,
            "{} of {}",
            inner.len(),
            wire.len()
        );
        // Much smaller than a frame of the message as it is.
        let stored = pack(&m).expect("packs");
        let as_is = zstd::bulk::compress(&wire, 1).expect("compresses");
        assert!(
            stored.len() * 2 < as_is.len(),
            "{} bytes kept, {} as a frame of the message as it is",
            stored.len(),
            as_is.len()
        );
    }

    #[test]
    fn rows_kept_before_read_as_they_were() {
        let raw = built(40, 30).wire();
        // A row kept bare, before bodies were compressed.
        assert_eq!(unpack(&raw).expect("bare"), raw);
        assert_eq!(unpack(b"").expect("empty"), b"");
        // A frame of the message as it is.
        let as_is = zstd::bulk::compress(&raw, 1).expect("compresses");
        assert_eq!(unpack(&as_is).expect("unpacks"), raw);
        // A damaged frame is an error, not a message.
        let mut damaged = as_is.clone();
        damaged.truncate(as_is.len() / 2);
        assert!(unpack(&damaged).is_err());
    }

    #[test]
    fn a_row_whose_runs_were_found_by_decoding_reads_as_it_was() {
        // Kept by `pack` as of 3230e23, which found the base64 run of the message as sent
        // and decoded it (`unfold`).
        let raw = b"From: a@b.example\r\nContent-Transfer-Encoding: base64\r\n\r\n\
S8OtbmggZ+G7rWkgcXXDvSDEkeG6oWkgYmnhu4N1OiBI4buZaSBuZ2jhu4sgdOG6rXAgaHXhuqVu\r\n\
IGNodXnhu4NuIMSR4buVaSBz4buRLg==\r\n--b--\r\n";
        let stored = hex::decode(
            "28b52ffd20a5fd040052ca262b90b53affb71c4830b161d5ad2a60373bb584a4d89be010212f9fc041\
             bb82ffa62d4c463d284d715a0146a5ee412821748f990b8d72dda7ba12dcbfb676ebbe80a54efb41f6\
             96b684655ff5c07dfa78d782fb8d66ac75bfcaae06d95f5b276816a02b76ff69ea98e660e647c23df7\
             0ccba4a26ce6f11a891c5fc0694a288f1304563e2b8f14eecd8904c580a948446c068a2606331f1a66\
             46583800",
        )
        .expect("hex");
        let inner = zstd::bulk::decompress(&stored, 1 << 20).expect("a frame");
        assert!(inner.starts_with(&UNFOLDED));
        assert_eq!(tags(&inner), [LITERAL, BASE64, LITERAL]);
        assert_eq!(unpack(&stored).expect("unpacks"), raw);
    }

    #[test]
    fn a_damaged_unfolded_message_is_an_error() {
        let inner = unfolded(&built(40, 30)).expect("unfolds");
        let mut wrong_total = inner.clone();
        wrong_total[2] ^= 1;
        let mut wrong_tag = inner.clone();
        wrong_tag[UNFOLDED.len() + 4] = b'X';
        let mut cut = inner.clone();
        cut.truncate(inner.len() - 3);
        // A piece that says it is longer than anything.
        let mut too_long = inner.clone();
        too_long[UNFOLDED.len() + 5..UNFOLDED.len() + 9].copy_from_slice(&[0xFF; 4]);
        for inner in [wrong_total, wrong_tag, cut, too_long] {
            let stored = zstd::bulk::compress(&inner, 1).expect("compresses");
            assert!(unpack(&stored).is_err());
        }
    }

    proptest::proptest! {
        /// Any invitation built: kept as built, it comes back as it is sent.
        #[test]
        fn any_built_message_comes_back_as_sent(
            text in "[a-zđ \r\n]{0,200}",
            html in "[<>a-zơ \n]{0,200}",
            description in "[a-zê ,;\\\\]{0,300}",
            calendar in proptest::bool::ANY,
        ) {
            use crate::calendar::invite::{Method, Party};
            let party = Party { name: "Nguyễn Văn An".into(), email: "an@truong.example".into() };
            let m = crate::mail::build(&crate::mail::Invitation {
                from: party.clone(),
                to: party,
                subject: "Giấy mời".into(),
                text,
                html,
                calendar: calendar.then(|| crate::mail::Calendar {
                    method: Method::Cancel,
                    ics: format!("BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nDESCRIPTION:{description}\r\nEND:VCALENDAR\r\n"),
                }),
                message_id: "hoinghi.c1.d7.s2.cancel@hoinghi.example".into(),
            }).expect("builds");
            let stored = pack(&m).expect("packs");
            proptest::prop_assert_eq!(unpack(&stored).expect("unpacks"), m.wire());
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

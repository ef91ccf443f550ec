//! The whole message of an outbox row, as it goes on the wire (a retry sends the very
//! same bytes); apart from the row, which changes state as it is sent.
//!
//! Kept as a zstd frame ([`pack`], level 1): an invitation of 19 KB (its calendar twice,
//! in base64, beside the text and HTML) takes about 5 KB, so a send of 10,000 writes,
//! checkpoints and reads back 50 MB instead of 190 MB. Rows written before are the bare
//! message: [`unpack`] tells them apart by zstd's magic number, which no message can
//! start with (a message starts with a header name, in ASCII).
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
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        let compressor = match c.as_mut() {
            Some(compressor) => compressor,
            None => c.insert(zstd::bulk::Compressor::new(1)?),
        };
        compressor.compress(raw)
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
        _ => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a kept message without its size",
            ));
        }
    };
    if size > MOST {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a kept message says it is {size} bytes"),
        ));
    }
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        let decompressor = match d.as_mut() {
            Some(decompressor) => decompressor,
            None => d.insert(zstd::bulk::Decompressor::new()?),
        };
        decompressor.decompress(stored, size)
    })
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
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

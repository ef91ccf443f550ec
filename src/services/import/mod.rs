//! Importing what staff keep in spreadsheets: a conference's delegate list
//! ([`delegates`]) and its bridge-point table ([`bridge_points`]), from CSV (comma or
//! semicolon, UTF-8 with or without a byte-order mark) or XLSX (its first sheet).
//!
//! Both name every problem by its row (as the spreadsheet numbers it: the headings are
//! row 1), its column and the reason, in Vietnamese; both import nothing from a file with
//! problems unless the caller asks for the valid rows only, and both change nothing when
//! the same file is imported again.
use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::text::{fold, nfc};
use crate::domain::validate::FieldError;
use crate::error::{Error, Result};

mod delegate_list;
mod point_table;

pub use delegate_list::{ImportReport, delegates};
pub use point_table::{ImportedPoint, PointAction, PointImport, PointImportReport, bridge_points};

/// A problem with a row, or with the file (row 1: the headings).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RowError {
    pub row: usize,
    /// The column's heading, if the problem is a cell's.
    pub column: Option<String>,
    pub message: String,
}

/// Reads the file's cells: CSV or XLSX, by its first bytes.
pub(super) fn cells(bytes: &[u8]) -> Result<Vec<Vec<String>>> {
    let bad = |what: String| {
        Error::Validation(vec![FieldError::new(
            "file",
            "unreadable",
            format!("Không đọc được tệp: {what}. Hãy gửi tệp CSV (UTF-8) hoặc XLSX."),
        )])
    };
    if bytes.starts_with(b"PK\x03\x04") {
        use calamine::{Reader, Xlsx};
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
            .map_err(|e: calamine::XlsxError| bad(e.to_string()))?;
        let Some(Ok(range)) = book.worksheet_range_at(0) else {
            return Err(bad("tệp XLSX không có trang tính nào".into()));
        };
        return Ok(range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        &calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", f as i64),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect());
    }
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|_| bad("tệp CSV không phải UTF-8".into()))?;
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| {
            r.map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|e| bad(e.to_string()))
        })
        .collect()
}

/// The columns of a heading row: each known heading's first position (matched folded: no
/// regard to case, spacing or tone-mark placement), and the headings that are not known.
pub(super) fn headings<C: Copy + Ord>(
    row: &[String],
    known: &[(&str, C)],
) -> (BTreeMap<C, usize>, Vec<String>) {
    let mut columns = BTreeMap::new();
    let mut ignored = Vec::new();
    for (i, h) in row.iter().enumerate() {
        let key = fold(h);
        match known.iter().find(|(name, _)| fold(name) == key) {
            Some((_, c)) => {
                columns.entry(*c).or_insert(i);
            }
            None if key.is_empty() => {}
            None => ignored.push(nfc(h.trim())),
        }
    }
    (columns, ignored)
}

/// The 422 of a file with problems: one field error per problem, `rows[N].field`.
pub(super) fn refused(
    errors: Vec<RowError>,
    field: impl Fn(&RowError) -> Option<&'static str>,
) -> Error {
    Error::Validation(
        errors
            .iter()
            .map(|e| {
                let name = match field(e) {
                    Some(f) => format!("rows[{}].{f}", e.row),
                    None => format!("rows[{}]", e.row),
                };
                FieldError::new(name, "invalid_row", e.message.clone())
            })
            .collect(),
    )
}

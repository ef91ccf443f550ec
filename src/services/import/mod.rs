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

/// Reads the file's rows: CSV or XLSX, by its first bytes; each with its row number as a
/// spreadsheet shows it (1 for the first line, blank lines counted; a cell over several
/// lines is one row).
pub(super) fn cells(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>> {
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
        // The range starts at its first used cell.
        let first = range.start().map_or(0, |(row, _)| row as usize);
        return Ok(range
            .rows()
            .enumerate()
            .map(|(i, r)| {
                let cells = r
                    .iter()
                    .map(|c| match c {
                        &calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", f as i64),
                        other => other.to_string(),
                    })
                    .collect();
                (first + i + 1, cells)
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
    // The reader skips blank lines and numbers file lines: a row's number is its first
    // line (after the blank ones) less the line breaks inside the cells of the rows
    // before it.
    let mut inside = 0;
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| {
            let r = r.map_err(|e| bad(e.to_string()))?;
            // The position is where the reader began: before the blank lines it skipped.
            let (line, skipped) = r.position().map_or((1, 0), |p| {
                let rest = text.as_bytes().get(p.byte() as usize..).unwrap_or_default();
                let blank = rest
                    .iter()
                    .take_while(|b| matches!(b, b'\r' | b'\n'))
                    .filter(|&&b| b == b'\n')
                    .count();
                (p.line() as usize, blank)
            });
            let row = line + skipped - inside;
            inside += r.iter().map(|c| c.matches('\n').count()).sum::<usize>();
            Ok((row, r.iter().map(str::to_owned).collect()))
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
        match column_of(h, known) {
            Some(c) => {
                columns.entry(c).or_insert(i);
            }
            None if h.trim().is_empty() => {}
            None => ignored.push(nfc(h.trim())),
        }
    }
    (columns, ignored)
}

/// The column a heading names (folded: no regard to case, spacing or tone marks).
pub(super) fn column_of<C: Copy>(heading: &str, known: &[(&str, C)]) -> Option<C> {
    let key = fold(heading);
    known
        .iter()
        .find(|(name, _)| fold(name) == key)
        .map(|(_, c)| *c)
}

/// The 422 of a file with problems (logged in English): one field error per problem,
/// `rows[N].field`, the field found from the column's heading by `field`.
pub(super) fn refused(
    what: &str,
    conference_id: i64,
    errors: Vec<RowError>,
    field: impl Fn(&str) -> Option<&'static str>,
) -> Error {
    tracing::info!(
        conference_id,
        errors = errors.len(),
        "{what} import refused"
    );
    Error::Validation(
        errors
            .iter()
            .map(|e| {
                let name = match e.column.as_deref().and_then(&field) {
                    Some(f) => format!("rows[{}].{f}", e.row),
                    None => format!("rows[{}]", e.row),
                };
                FieldError::new(name, "invalid_row", e.message.clone())
            })
            .collect(),
    )
}

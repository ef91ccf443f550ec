//! Documents rendered from the data in the layout of Nghị định 30/2020/NĐ-CP: the plan
//! (Kế hoạch) with its appendices and the agenda (Chương trình) of a conference, as HTML
//! ready to print on A4 and as plain text from the Handlebars templates in `templates/`,
//! and as DOCX from the same view models (`docx.rs`).
pub mod agenda;
pub mod docx;
pub mod header;
pub mod letter;
pub mod plan;
pub mod templates;

use sea_orm::ConnectionTrait;

use crate::error::{Error, Result};
use templates::Templates;

/// A document to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The agenda (Chương trình) of conference `id`.
    Agenda(i64),
    /// Plan `id` with its appendices.
    Plan(i64),
    /// The invitation letter (Giấy mời) of conference `conference` to unit `unit`.
    Letter { conference: i64, unit: i64 },
}

/// The formats a document comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Html,
    Txt,
    Docx,
}

impl Format {
    /// `html`, `txt`, `docx`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "html" => Some(Self::Html),
            "txt" => Some(Self::Txt),
            "docx" => Some(Self::Docx),
            _ => None,
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Html => "html",
            Self::Txt => "txt",
            Self::Docx => "docx",
        }
    }

    /// The Content-Type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Html => "text/html; charset=utf-8",
            Self::Txt => "text/plain; charset=utf-8",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    }

    /// Whether a browser should show it (HTML, text) or save it (DOCX).
    pub fn inline(self) -> bool {
        self != Self::Docx
    }
}

/// A rendered document and the file name to offer it under (Vietnamese, with
/// [`ascii_file_name`] for a fallback).
pub struct Rendered {
    pub body: Vec<u8>,
    pub file_name: String,
}

/// Renders `which` in `format` from the store.
pub async fn render(
    db: &impl ConnectionTrait,
    templates: &Templates,
    which: Which,
    format: Format,
) -> Result<Rendered> {
    let ext = format.extension();
    let (stem, body) = match which {
        Which::Agenda(id) => {
            let doc = agenda::load(db, id).await?;
            let body = match format {
                Format::Docx => docx::agenda(&doc)?,
                _ => templated(templates, "agenda", format, &doc)?,
            };
            (format!("Chương trình hội nghị {id}"), body)
        }
        Which::Plan(id) => {
            let doc = plan::load(db, id).await?;
            let stem = format!("Kế hoạch {}", doc.number.trim_start_matches("Số:").trim())
                .replace('/', "-")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let body = match format {
                Format::Docx => docx::plan(&doc)?,
                _ => templated(templates, "plan", format, &doc)?,
            };
            (stem, body)
        }
        Which::Letter { conference, unit } => {
            let doc = letter::load(db, conference, unit).await?;
            let body = match format {
                Format::Docx => docx::letter(&doc)?,
                _ => templated(templates, "letter", format, &doc)?,
            };
            (
                format!("Giấy mời hội nghị {conference} đơn vị {unit}"),
                body,
            )
        }
    };
    Ok(Rendered {
        body,
        file_name: format!("{stem}.{ext}"),
    })
}

/// `documents/{name}.{html,txt}` rendered with `doc`.
fn templated(
    templates: &Templates,
    name: &str,
    format: Format,
    doc: &impl serde::Serialize,
) -> Result<Vec<u8>> {
    let text = templates
        .render(&format!("documents/{name}.{}", format.extension()), doc)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(text.into_bytes())
}

/// A file name for `Content-Disposition`: `stem.ext` in ASCII (Vietnamese letters without
/// their marks, `đ` as `d`, anything else as `-`), for clients that cannot read the UTF-8
/// `filename*`.
pub fn ascii_file_name(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for ch in name.nfd() {
        match ch {
            'đ' => out.push('d'),
            'Đ' => out.push('D'),
            c if c.is_ascii_alphanumeric() || c == '.' || c == '_' => out.push(c),
            c if c.is_ascii() && !out.ends_with('-') => out.push('-'),
            _ => {} // combining marks (and any other non-ASCII letter) are dropped
        }
    }
    out.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_fall_back_to_ascii() {
        assert_eq!(
            super::ascii_file_name("Chương trình hội nghị Đơn vị học tập.html"),
            "Chuong-trinh-hoi-nghi-Don-vi-hoc-tap.html"
        );
    }
}

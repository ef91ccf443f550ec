//! Documents: `GET /conferences/{id}/agenda.{html,txt}`, with the right Content-Type and a
//! Content-Disposition whose file name has an ASCII fallback.
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};

use super::AppState;
use crate::documents::{agenda, ascii_file_name};
use crate::error::Error;
use crate::services::auth::Principal;

/// The formats a document comes in so far.
fn content_type(format: &str) -> Option<&'static str> {
    match format {
        "html" => Some("text/html; charset=utf-8"),
        "txt" => Some("text/plain; charset=utf-8"),
        _ => None,
    }
}

/// `GET /conferences/{id}/agenda.{format}`
pub async fn agenda(
    state: web::Data<AppState>,
    _p: Principal,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, Error> {
    let (id, format) = path.into_inner();
    let Some(mime) = content_type(&format) else {
        return Err(Error::NotFound {
            entity: "document format",
            label: "định dạng tài liệu (html, txt)",
            id,
        });
    };
    let doc = agenda::load(&state.db, id).await?;
    let body = state
        .templates
        .render(&format!("documents/agenda.{format}"), &doc)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let name = format!("Chương trình hội nghị {id}.{format}");
    let disposition = ContentDisposition {
        disposition: DispositionType::Inline,
        parameters: vec![
            DispositionParam::Filename(ascii_file_name(&name)),
            DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(disposition)
        .body(body))
}

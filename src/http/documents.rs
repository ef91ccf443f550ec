//! Documents: `GET /conferences/{id}/agenda.{html,txt,docx}` and
//! `GET /plans/{id}/document.{html,txt,docx}` and
//! `GET /conferences/{id}/letters/{unit_id}.{html,txt,docx}`, with the right Content-Type and a
//! Content-Disposition whose file name has an ASCII fallback.
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};

use super::AppState;
use crate::documents::{self, Format, Which, ascii_file_name};
use crate::error::Error;
use crate::services::auth::Principal;

/// `GET /conferences/{id}/agenda.{format}`
pub async fn agenda(
    state: web::Data<AppState>,
    _p: Principal,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, Error> {
    let (id, format) = path.into_inner();
    respond(&state, Which::Agenda(id), &format, id).await
}

/// `GET /plans/{id}/document.{format}`
pub async fn plan(
    state: web::Data<AppState>,
    _p: Principal,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, Error> {
    let (id, format) = path.into_inner();
    respond(&state, Which::Plan(id), &format, id).await
}

/// `GET /conferences/{id}/letters/{unit_id}.{format}`
pub async fn letter(
    state: web::Data<AppState>,
    _p: Principal,
    path: web::Path<(i64, i64, String)>,
) -> Result<HttpResponse, Error> {
    let (conference, unit, format) = path.into_inner();
    respond(
        &state,
        Which::Letter { conference, unit },
        &format,
        conference,
    )
    .await
}

async fn respond(
    state: &AppState,
    which: Which,
    format: &str,
    id: i64,
) -> Result<HttpResponse, Error> {
    let Some(format) = Format::parse(format) else {
        return Err(Error::NotFound {
            entity: "document format",
            label: "định dạng tài liệu (html, txt, docx)",
            id,
        });
    };
    let doc = documents::render(&state.db, &state.templates, which, format).await?;
    let disposition = ContentDisposition {
        disposition: if format.inline() {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters: vec![
            DispositionParam::Filename(ascii_file_name(&doc.file_name)),
            DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: doc.file_name.into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(disposition)
        .body(doc.body))
}

//! Errors as JSON: `{"error": {"code", "message", "field", "errors"}}`, messages in
//! Vietnamese for the user; logs in English with the whole cause chain.
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::checks::Diagnostic;
use crate::domain::validate::FieldError;
use crate::error::Error;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable English code: `validation_failed`, `not_found`, `conflict`, `unauthenticated`, …
    pub code: String,
    /// For the user, in Vietnamese.
    pub message: String,
    /// The first invalid field, when the error is about one.
    pub field: Option<String>,
    /// Every invalid field, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `checks_failed`: what the scheduling checks found (errors and warnings).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,
}

/// A JSON error response.
pub fn json(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    field: Option<String>,
    errors: Vec<FieldError>,
) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        r.insert_header(("WWW-Authenticate", "Bearer"));
    }
    r.json(ErrorBody {
        error: ErrorDetail {
            code: code.into(),
            message: message.into(),
            field,
            errors,
            diagnostics: Vec::new(),
        },
    })
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Conflict { .. } | Error::ChecksFailed { .. } => StatusCode::CONFLICT,
            Error::Unauthenticated => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Db(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %chain(self), "request failed");
        } else {
            tracing::info!(error = %self, "request refused");
        }
        match self {
            Error::Validation(errors) => {
                let first = errors.first();
                json(
                    status,
                    "validation_failed",
                    first.map_or_else(|| "Dữ liệu không hợp lệ.".to_owned(), |e| e.message.clone()),
                    first.map(|e| e.field.clone()),
                    errors.clone(),
                )
            }
            Error::NotFound { label, id, .. } => json(
                status,
                "not_found",
                format!("Không tìm thấy {label} mã {id}."),
                None,
                vec![],
            ),
            Error::Conflict { field, message } => {
                json(status, "conflict", message.clone(), field.clone(), vec![])
            }
            Error::Unauthenticated => json(
                status,
                "unauthenticated",
                "Cần đăng nhập hoặc mã truy cập (Authorization: Bearer …) hợp lệ.",
                None,
                vec![],
            ),
            Error::Forbidden(m) => json(status, "forbidden", m.clone(), None, vec![]),
            Error::ChecksFailed {
                message,
                diagnostics,
            } => HttpResponse::build(status).json(ErrorBody {
                error: ErrorDetail {
                    code: "checks_failed".into(),
                    message: message.clone(),
                    field: None,
                    errors: Vec::new(),
                    diagnostics: diagnostics.clone(),
                },
            }),
            Error::Db(_) | Error::Internal(_) => json(
                status,
                "internal",
                "Lỗi hệ thống; xin thử lại sau hoặc báo quản trị viên.",
                None,
                vec![],
            ),
        }
    }
}

/// JSON 404 for unknown routes.
pub async fn not_found() -> HttpResponse {
    json(
        StatusCode::NOT_FOUND,
        "not_found",
        "Không có địa chỉ này.",
        None,
        vec![],
    )
}

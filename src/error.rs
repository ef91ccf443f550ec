//! The one error type of hoinghi's services. The HTTP layer maps it to status codes and
//! Vietnamese messages (`http::error`); logs get the English `Display` and the cause chain.
use crate::domain::validate::FieldError;
use sea_orm::{DbErr, SqlErr};

/// What went wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is invalid; every problem names its field.
    #[error("invalid input: {}", summary(.0))]
    Validation(Vec<FieldError>),
    /// No such record (English entity name, Vietnamese label, id).
    #[error("{entity} {id} not found")]
    NotFound {
        entity: &'static str,
        label: &'static str,
        id: i64,
    },
    /// The record would duplicate another, or is still in use.
    #[error("conflict: {message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// A change refused because the scheduling checks find errors (publishing a
    /// conference with a clash); nothing was changed.
    #[error("refused by {} scheduling error(s)", .diagnostics.iter().filter(|d| d.severity == crate::domain::checks::Severity::Error).count())]
    ChecksFailed {
        message: String,
        diagnostics: Vec<crate::domain::checks::Diagnostic>,
    },
    /// No valid credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// Credentials valid, action not allowed; the message is Vietnamese.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A database failure not caused by the input.
    #[error("database error")]
    Db(#[source] DbErr),
    /// Anything else that is our fault.
    #[error("internal error: {0}")]
    Internal(String),
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} ({})", e.field, e.code))
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<DbErr> for Error {
    /// Constraint violations are the client's conflict, not our failure.
    fn from(e: DbErr) -> Self {
        // Some drivers' messages are not classified by `sql_err`; SQLite's wording is stable.
        let text = e.to_string();
        let classified = e.sql_err().or_else(|| {
            if text.contains("FOREIGN KEY constraint failed") {
                Some(SqlErr::ForeignKeyConstraintViolation(text.clone()))
            } else if text.contains("UNIQUE constraint failed") {
                Some(SqlErr::UniqueConstraintViolation(text.clone()))
            } else {
                None
            }
        });
        match classified {
            Some(SqlErr::UniqueConstraintViolation(detail)) => {
                tracing::info!(%detail, "unique constraint violated");
                Error::Conflict {
                    field: None,
                    message: "Bản ghi trùng với một bản ghi đã có.".into(),
                }
            }
            Some(SqlErr::ForeignKeyConstraintViolation(detail)) => {
                tracing::info!(%detail, "foreign key constraint violated");
                Error::Conflict {
                    field: None,
                    message: "Bản ghi đang được bản ghi khác sử dụng hoặc tham chiếu tới bản ghi không tồn tại.".into(),
                }
            }
            _ => Error::Db(e),
        }
    }
}

impl Error {
    /// A single invalid field.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, code, message)])
    }
}

/// Result of a use case.
pub type Result<T, E = Error> = std::result::Result<T, E>;

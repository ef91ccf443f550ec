//! Extractors: the signed-in [`Principal`], JSON bodies whose errors name the field, and
//! JSON errors for bad queries and paths.
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::json;
use crate::domain::validate::FieldError;
use crate::error::Error;
use crate::services::auth::{self, Principal};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "hoinghi_session";

/// The secret a request presents: a bearer token, else the session cookie.
pub fn presented_secret(req: &HttpRequest) -> Option<String> {
    if let Some(h) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let v = h.to_str().ok()?;
        let (scheme, token) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned())
}

impl FromRequest for Principal {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let secret = presented_secret(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(secret), Some(state)) = (secret, state) else {
                return Err(Error::Unauthenticated);
            };
            let key = auth::cache_key(&secret);
            let ticket = match state.principals.get(&key) {
                Ok((p, expires)) if expires.is_none_or(|e| e > chrono::Utc::now()) => {
                    return Ok(p);
                }
                Ok(_) => return Err(Error::Unauthenticated),
                Err(ticket) => ticket,
            };
            let (p, expires) = auth::authenticate_until(&state.db, &secret).await?;
            state.principals.put(key, ticket, (p.clone(), expires));
            Ok(p)
        })
    }
}

/// A JSON body; a field of the wrong type or an unknown field is a 422 naming it.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = match bytes.await {
                Ok(b) => b,
                Err(e) => {
                    let status = e.as_response_error().status_code();
                    let resp = if status == StatusCode::PAYLOAD_TOO_LARGE {
                        json(
                            status,
                            "payload_too_large",
                            "Nội dung gửi lên vượt quá giới hạn cho phép.",
                            None,
                            vec![],
                        )
                    } else {
                        json(
                            status,
                            "bad_request",
                            format!("Không đọc được nội dung gửi lên: {e}."),
                            None,
                            vec![],
                        )
                    };
                    return Err(actix_web::error::InternalError::from_response(
                        e.to_string(),
                        resp,
                    )
                    .into());
                }
            };
            let mut de = serde_json::Deserializer::from_slice(&bytes);
            let value =
                serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| body_error(&e))?;
            de.end().map_err(|e| {
                Error::field(
                    "",
                    "invalid_json",
                    format!("Nội dung gửi lên không phải JSON hợp lệ ({e})."),
                )
            })?;
            Ok(Json(value))
        })
    }
}

/// Turns a serde error into the field error a user can act on.
fn body_error(e: &serde_path_to_error::Error<serde_json::Error>) -> Error {
    let inner = e.inner();
    let path = e.path().to_string();
    let detail = inner.to_string();
    if inner.is_syntax() || inner.is_eof() {
        return Error::field(
            "",
            "invalid_json",
            format!("Nội dung gửi lên không phải JSON hợp lệ ({detail})."),
        );
    }
    // serde reports unknown and missing fields on the enclosing object: name the field itself.
    let quoted = detail.split('`').nth(1).unwrap_or_default();
    // serde_path_to_error already ends the path with an unknown field's name, not a missing one's.
    let join = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path.clone()
        } else {
            format!("{path}.{name}")
        }
    };
    if detail.starts_with("unknown field") {
        let f = join(quoted);
        return Error::field(
            &f,
            "unknown_field",
            format!("Trường «{f}» không được hỗ trợ."),
        );
    }
    if detail.starts_with("missing field") {
        let f = join(quoted);
        return Error::field(&f, "required", format!("Thiếu trường bắt buộc «{f}»."));
    }
    let f = if path == "." { String::new() } else { path };
    Error::Validation(vec![FieldError::new(
        &f,
        "invalid_value",
        format!("Giá trị của trường «{f}» không hợp lệ: {detail}."),
    )])
}

/// Body limits and errors of actix's own JSON and byte extractors.
pub fn json_config(limit: usize) -> web::PayloadConfig {
    web::PayloadConfig::new(limit)
}

/// JSON errors for malformed query strings.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e: QueryPayloadError, _| {
        let resp = json(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            format!("Tham số truy vấn không hợp lệ: {e}."),
            None,
            vec![],
        );
        actix_web::error::InternalError::from_response(e, resp).into()
    })
}

/// A non-numeric id in a path is a 404, as no such record can exist.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|e: PathError, _| {
        let resp = json(
            StatusCode::NOT_FOUND,
            "not_found",
            "Không tìm thấy bản ghi này.",
            None,
            vec![],
        );
        actix_web::error::InternalError::from_response(e, resp).into()
    })
}

//! Scheduling checks and agenda editing: `GET …/checks` for a conference, a plan or a
//! period, and the agenda moves that answer with the new agenda and its checks.
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};

use super::AppState;
use super::extract::Json;
use crate::domain::time::{DEFAULT_TIME_ZONE, InputTime, parse_tz};
use crate::domain::validate::{FieldError, Validator};
use crate::error::Error;
use crate::services::agenda::{self, InsertItem, MoveItem, Publish, Reschedule};
use crate::services::auth::Principal;
use crate::services::checks;

/// `GET /conferences/{id}/checks`
pub async fn conference(
    state: web::Data<AppState>,
    _p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok().json(checks::for_conference(&state.db, *id).await?))
}

/// `GET /plans/{id}/checks`
pub async fn plan(
    state: web::Data<AppState>,
    _p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok().json(checks::for_plan(&state.db, *id).await?))
}

/// `GET /checks?from=&to=`: every conference overlapping the period.
pub async fn period(
    state: web::Data<AppState>,
    _p: Principal,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Error> {
    let (from, to) = parse_period(&query)?;
    Ok(HttpResponse::Ok().json(checks::for_period(&state.db, from, to).await?))
}

/// `from` and `to`: a date (`2024-12-18`, read in Asia/Ho_Chi_Minh; `to` includes its
/// whole day) or an instant (`2024-12-18T08:00:00+07:00`). Both are required.
pub fn parse_period(query: &[(String, String)]) -> Result<(DateTime<Utc>, DateTime<Utc>), Error> {
    let mut v = Validator::new();
    let (mut from, mut to) = (None, None);
    let mut given = Vec::new();
    for (name, value) in query {
        match name.as_str() {
            "from" | "to" => {
                given.push(name.as_str());
                let bound = bound(&mut v, name, value, name == "to");
                *if name == "from" { &mut from } else { &mut to } = bound;
            }
            other => v.error(
                other,
                "unknown_parameter",
                format!("Tham số «{other}» không dùng được ở đây; dùng: from, to."),
            ),
        }
    }
    for field in ["from", "to"] {
        if !given.contains(&field) {
            v.error(
                field,
                "required",
                format!("Cần tham số «{field}» (ngày dạng 2024-12-18 hoặc thời điểm)."),
            );
        }
    }
    if let (Some(f), Some(t)) = (from, to) {
        v.ordered("to", f, t);
    }
    match (from, to) {
        (Some(f), Some(t)) if v.is_empty() => Ok((f, t)),
        _ => Err(Error::Validation(v.into_errors())),
    }
}

fn bound(v: &mut Validator, field: &str, value: &str, end: bool) -> Option<DateTime<Utc>> {
    let tz = parse_tz(DEFAULT_TIME_ZONE)?;
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let day = if end { d.succ_opt()? } else { d };
        return InputTime::Local(day.and_hms_opt(0, 0, 0)?).resolve(tz);
    }
    match value.parse::<InputTime>().ok().and_then(|t| t.resolve(tz)) {
        Some(t) => Some(t),
        None => {
            v.push(FieldError::new(
                field,
                "invalid_time",
                format!("Tham số «{field}» phải là ngày (2024-12-18) hoặc thời điểm."),
            ));
            None
        }
    }
}

/// `POST /conferences/{id}/agenda/{item_id}/move`
pub async fn move_item(
    state: web::Data<AppState>,
    p: Principal,
    path: web::Path<(i64, i64)>,
    body: Json<MoveItem>,
) -> Result<HttpResponse, Error> {
    let (conference, item) = path.into_inner();
    let out = agenda::move_item(&state.db, &p, conference, item, body.0).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /conferences/{id}/agenda`
pub async fn insert_item(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    body: Json<InsertItem>,
) -> Result<HttpResponse, Error> {
    let out = agenda::insert_item(&state.db, &p, *id, body.0).await?;
    Ok(HttpResponse::Created().json(out))
}

/// `POST /conferences/{id}/reschedule`
pub async fn reschedule(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    body: Json<Reschedule>,
) -> Result<HttpResponse, Error> {
    let out = agenda::reschedule(&state.db, &p, *id, body.0).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /conferences/{id}/publish`
pub async fn publish(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    body: Json<Publish>,
) -> Result<HttpResponse, Error> {
    let out = agenda::publish(&state.db, &p, *id, body.0).await?;
    Ok(HttpResponse::Ok().json(out))
}

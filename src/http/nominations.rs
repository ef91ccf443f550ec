//! `GET /api/v1/conferences/{id}/nominations`: per invited unit, its quota, the delegates
//! it named and who is still missing; `POST …/auto-assign`: units to bridge points;
//! `GET …/attendance` (`.xlsx`): the figures per bridge point and per district;
//! `GET …/bridge-points.{csv,xlsx}` and `…/delegates.{csv,xlsx}`: the exports;
//! `POST …/delegates/import` and `POST …/bridge-points/import`: a delegate list or a
//! bridge-point table in; `POST /plans/{id}/cascade`: a district's plan carrying out a
//! provincial one.
use actix_web::{HttpResponse, web};

use super::AppState;
use crate::error::Error;
use crate::services::assignment::{self, AutoAssign};
use crate::services::auth::Principal;
use crate::services::import::PointImport;
use crate::services::nominations::{self, NominationFilter};

/// `GET /conferences/{id}/nominations?district=&status=`
pub async fn of_conference(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Error> {
    let filter = NominationFilter::parse(&query)?;
    Ok(HttpResponse::Ok().json(nominations::of_conference(&state.db, &p, *id, &filter).await?))
}

/// `POST /conferences/{id}/auto-assign` `{"apply": false}`: what it would do, or does.
pub async fn auto_assign(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    body: super::extract::Json<AutoAssign>,
) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok().json(assignment::run(&state.db, &p, *id, &body.0).await?))
}

/// `GET /conferences/{id}/attendance`
pub async fn attendance(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok()
        .json(crate::services::attendance::of_conference(&state.db, &p, *id).await?))
}

/// `GET /conferences/{id}/attendance.xlsx`
pub async fn attendance_xlsx(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    let figures = crate::services::attendance::of_conference(&state.db, &p, *id).await?;
    let bytes = crate::services::attendance::xlsx(&figures)?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"so-lieu-tham-du-hoi-nghi-{id}.xlsx\""),
        ))
        .body(bytes))
}

/// `GET /conferences/{id}/bridge-points.{format}` and `…/delegates.{format}`.
pub async fn export(
    state: web::Data<AppState>,
    p: Principal,
    path: web::Path<(i64, String)>,
    what: &'static str,
) -> Result<HttpResponse, Error> {
    use crate::services::exports::{self, Format};
    let (id, format) = path.into_inner();
    let Some(format) = Format::parse(&format) else {
        return Err(Error::NotFound {
            entity: "export format",
            label: "định dạng xuất (csv, xlsx)",
            id,
        });
    };
    let table = match what {
        "bridge-points" => exports::bridge_points(&state.db, &p, id).await?,
        _ => exports::delegates(&state.db, &p, id).await?,
    };
    let body = table.render(format)?;
    let name = format!(
        "{}-hoi-nghi-{id}.{}",
        match what {
            "bridge-points" => "diem-cau",
            _ => "dai-bieu",
        },
        format.extension()
    );
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}

/// `POST /conferences/{id}/delegates/import?valid_rows_only=` with the file as the body.
pub async fn import_delegates(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    query: web::Query<Vec<(String, String)>>,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let mut valid_rows_only = false;
    for (name, value) in query.iter() {
        match name.as_str() {
            "valid_rows_only" => valid_rows_only = flag(name, value)?,
            _ => return Err(unknown(name, value, "valid_rows_only=true|false")),
        }
    }
    let report =
        crate::services::import::delegates(&state.db, &p, *id, &body, valid_rows_only).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// `POST /conferences/{id}/bridge-points/import?valid_rows_only=&plan_id=&coordinating_unit_id=`
/// with the file as the body.
pub async fn import_bridge_points(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    query: web::Query<Vec<(String, String)>>,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let mut opts = PointImport::default();
    for (name, value) in query.iter() {
        match name.as_str() {
            "valid_rows_only" => opts.valid_rows_only = flag(name, value)?,
            "plan_id" => opts.plan_id = Some(number(name, value)?),
            "coordinating_unit_id" => opts.coordinating_unit_id = Some(number(name, value)?),
            _ => {
                return Err(unknown(
                    name,
                    value,
                    "valid_rows_only=true|false, plan_id=<số>, coordinating_unit_id=<số>",
                ));
            }
        }
    }
    let report = crate::services::import::bridge_points(&state.db, &p, *id, &body, &opts).await?;
    Ok(HttpResponse::Ok().json(report))
}

fn flag(name: &str, value: &str) -> Result<bool, Error> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(unknown(name, value, &format!("{name}=true|false"))),
    }
}

fn number(name: &str, value: &str) -> Result<i64, Error> {
    value
        .parse()
        .map_err(|_| unknown(name, value, &format!("{name}=<số>")))
}

fn unknown(name: &str, value: &str, usage: &str) -> Error {
    Error::Validation(vec![crate::domain::validate::FieldError::new(
        name,
        "invalid_parameter",
        format!("Tham số «{name}={value}» không dùng được ở đây; dùng: {usage}."),
    )])
}

/// `POST /plans/{id}/cascade`: the caller's plan carrying out plan `id`.
pub async fn cascade(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    body: super::extract::Json<crate::services::cascade::CascadeInput>,
) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Created()
        .json(crate::services::cascade::cascade(&state.db, &p, *id, body.0).await?))
}

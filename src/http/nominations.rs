//! `GET /api/v1/conferences/{id}/nominations`: per invited unit, its quota, the delegates
//! it named and who is still missing; `POST …/auto-assign`: units to bridge points.
use actix_web::{HttpResponse, web};

use super::AppState;
use crate::error::Error;
use crate::services::assignment::{self, AutoAssign};
use crate::services::auth::Principal;
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

//! The five routes of every resource, generic over [`Resource`].
use actix_web::{HttpResponse, web};

use super::AppState;
use super::extract::Json;
use crate::error::Error;
use crate::services::auth::Principal;
use crate::services::crud::{self, ActiveOf, ModelOf, Resource};
use crate::services::nested;

/// Registers `GET/POST /{path}` and `GET/PUT/DELETE /{path}/{id}`.
pub fn register<R: Resource>(cfg: &mut web::ServiceConfig)
where
    ModelOf<R>: sea_orm::IntoActiveModel<ActiveOf<R>> + Send + Sync,
    ActiveOf<R>: Send,
    crud::ColumnOf<R>: std::str::FromStr,
{
    cfg.service(
        web::resource(format!("/{}", R::PATH))
            .route(web::get().to(list::<R>))
            .route(web::post().to(create::<R>)),
    )
    .service(
        web::resource(format!("/{}/{{id}}", R::PATH))
            .route(web::get().to(get::<R>))
            .route(web::put().to(update::<R>))
            .route(web::delete().to(delete::<R>)),
    );
}

async fn list<R: Resource>(
    state: web::Data<AppState>,
    p: Principal,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Error>
where
    ModelOf<R>: Send + Sync,
{
    Ok(HttpResponse::Ok().json(crud::list::<R>(&state.db, &state.lists, &p, &query).await?))
}

async fn get<R: Resource>(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok().json(crud::get::<R>(&state.db, &p, *id).await?))
}

async fn create<R: Resource>(
    state: web::Data<AppState>,
    p: Principal,
    body: Json<R::Input>,
) -> Result<HttpResponse, Error>
where
    ModelOf<R>: sea_orm::IntoActiveModel<ActiveOf<R>> + Send + Sync,
    ActiveOf<R>: Send,
{
    let out = crud::create::<R>(&state.db, &p, body.0).await?;
    Ok(HttpResponse::Created().json(out))
}

async fn update<R: Resource>(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    body: Json<R::Input>,
) -> Result<HttpResponse, Error>
where
    ModelOf<R>: sea_orm::IntoActiveModel<ActiveOf<R>> + Send + Sync,
    ActiveOf<R>: Send,
    crud::ColumnOf<R>: std::str::FromStr,
{
    Ok(HttpResponse::Ok().json(crud::update::<R>(&state.db, &p, *id, body.0).await?))
}

async fn delete<R: Resource>(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    crud::delete::<R>(&state.db, &p, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /conferences/{id}/detail`: the conference with agenda, speakers, halls, bridge
/// points and rules.
pub async fn conference_detail(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok().json(nested::conference_detail(&state.db, &p, *id).await?))
}

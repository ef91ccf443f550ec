//! Sign-in with a password (a session cookie), sign-out, who am I, and API tokens.
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::extract::{Json, SESSION_COOKIE, presented_secret};
use crate::domain::kinds::Role;
use crate::domain::validate::Validator;
use crate::error::{Error, Result};
use crate::services::auth::{self, Principal};
use crate::store::api_token;

/// Sign-in body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub login: String,
    pub password: String,
}

/// The signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user_id: i64,
    pub login: String,
    pub role: Role,
    pub unit_id: Option<i64>,
}

impl From<&Principal> for Me {
    fn from(p: &Principal) -> Self {
        Me {
            user_id: p.user_id,
            login: p.login.clone(),
            role: p.role,
            unit_id: p.unit_id,
        }
    }
}

/// `POST /api/v1/auth/login`: sets the session cookie.
pub async fn login(state: web::Data<AppState>, body: Json<LoginInput>) -> Result<HttpResponse> {
    let (p, secret) = auth::login(&state.db, &body.0.login, &body.0.password).await?;
    let cookie = Cookie::build(SESSION_COOKIE, secret)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::hours(
            auth::SESSION_HOURS,
        ))
        .finish();
    Ok(HttpResponse::Ok().cookie(cookie).json(Me::from(&p)))
}

/// `POST /api/v1/auth/logout`: ends the session (or revokes the presented token).
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    _p: Principal,
) -> Result<HttpResponse> {
    if let Some(secret) = presented_secret(&req) {
        auth::logout(&state.db, &secret).await?;
    }
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

/// `GET /api/v1/auth/me`.
pub async fn me(p: Principal) -> HttpResponse {
    HttpResponse::Ok().json(Me::from(&p))
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// What the token is for ("máy chủ báo cáo").
    #[serde(default)]
    pub name: Option<String>,
}

/// A token as listed (the secret is shown only when created).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOutput {
    pub id: i64,
    pub name: Option<String>,
    pub kind: String,
    pub created_at: chrono::NaiveDateTime,
    pub revoked: bool,
    /// Present only in the response that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl TokenOutput {
    fn of(t: api_token::Model, token: Option<String>) -> Self {
        TokenOutput {
            id: t.id,
            name: t.name,
            kind: t.kind,
            created_at: t.created_at,
            revoked: t.revoked_at.is_some(),
            token,
        }
    }
}

/// `GET /api/v1/tokens`: the caller's API tokens.
pub async fn list_tokens(state: web::Data<AppState>, p: Principal) -> Result<HttpResponse> {
    let rows = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(p.user_id))
        .filter(api_token::Column::Kind.eq("api"))
        .order_by_asc(api_token::Column::Id)
        .all(&state.db)
        .await?;
    let items: Vec<_> = rows.into_iter().map(|t| TokenOutput::of(t, None)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({"total": items.len(), "items": items})))
}

/// `POST /api/v1/tokens`: a new token for the caller; the secret is in this response only.
pub async fn create_token(
    state: web::Data<AppState>,
    p: Principal,
    body: Json<TokenInput>,
) -> Result<HttpResponse> {
    let mut name = body.0.name;
    let mut v = Validator::new();
    v.opt_name("name", &mut name);
    if !v.is_empty() {
        return Err(Error::Validation(v.into_errors()));
    }
    let (row, secret) = auth::create_token(&state.db, p.user_id, "api", name, None).await?;
    Ok(HttpResponse::Created().json(TokenOutput::of(row, Some(secret))))
}

/// `DELETE /api/v1/tokens/{id}`: revokes a token.
pub async fn revoke_token(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse> {
    auth::revoke_token(&state.db, &p, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

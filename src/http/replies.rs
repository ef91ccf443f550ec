//! Public links sent out: the reply page of an invitation (`/rsvp/{token}`) and calendar
//! feeds (`/ical/{token}.ics`); and, behind login, the replies per unit and the feeds.
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::AppState;
use crate::error::Error;
use crate::services::auth::Principal;
use crate::services::{feeds, replies};

/// `?reply=accepted` on a reply link.
#[derive(Deserialize)]
pub struct Proposed {
    reply: Option<String>,
}

/// The reply chosen in the form.
#[derive(Deserialize)]
pub struct Chosen {
    reply: String,
}

fn page(state: &AppState, p: &replies::RsvpPage) -> Result<HttpResponse, Error> {
    let html = state
        .templates
        .render("pages/rsvp.html", p)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // A page behind a secret link: not cached, not indexed, not framed.
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(html))
}

/// `GET /rsvp/{token}`: the invitation and the reply buttons. It records nothing (mail
/// scanners open links); the link's `?reply=` only highlights the proposed choice.
pub async fn show(
    state: web::Data<AppState>,
    token: web::Path<String>,
    q: web::Query<Proposed>,
) -> Result<HttpResponse, Error> {
    let proposed = match q.reply.as_deref() {
        Some(r) => Some(replies::parse_reply(r)?),
        None => None,
    };
    let p = replies::page(&state.db, &token, proposed, false).await?;
    page(&state, &p)
}

/// `POST /rsvp/{token}` (form `reply=accepted|declined|tentative`): records the reply.
pub async fn record(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<Chosen>,
) -> Result<HttpResponse, Error> {
    let reply = replies::parse_reply(&form.reply)?;
    replies::record(&state.db, &token, reply).await?;
    let p = replies::page(&state.db, &token, None, true).await?;
    page(&state, &p)
}

/// `GET /api/v1/conferences/{id}/replies`: replies per unit.
pub async fn of_conference(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok().json(replies::of_conference(&state.db, &p, *id).await?))
}

/// `GET /ical/{token}.ics`: the feed's calendar.
pub async fn feed(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let ics = feeds::calendar(&state.db, &token).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(ics))
}

/// `POST /api/v1/feeds`: a new feed; its URL is in this answer only.
pub async fn create_feed(
    state: web::Data<AppState>,
    p: Principal,
    body: super::extract::Json<feeds::NewFeed>,
) -> Result<HttpResponse, Error> {
    let feed = feeds::create(&state.db, &p, body.0, &state.public_url).await?;
    Ok(HttpResponse::Created().json(feed))
}

/// `GET /api/v1/feeds`
pub async fn list_feeds(state: web::Data<AppState>, p: Principal) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok().json(feeds::list(&state.db, &p).await?))
}

/// `DELETE /api/v1/feeds/{id}`: revokes it.
pub async fn revoke_feed(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    feeds::revoke(&state.db, &p, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

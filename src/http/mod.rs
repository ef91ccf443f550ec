//! actix-web: the JSON API under `/api/v1`, health, authentication, error mapping.
//! Routes and the OpenAPI document are built from the same resource registry, so the
//! document cannot drift from the handlers.
use std::net::TcpListener;

use std::time::Duration;

use actix_web::dev::{Server, Service};
use actix_web::http::Method;
use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::documents::templates::Templates;
use crate::services::auth::Principal;
use crate::services::recent::{Lists, Recent};

pub mod auth;
pub mod checks;
pub mod crud;
pub mod documents;
pub mod error;
pub mod extract;
pub mod invitations;
pub mod nominations;
pub mod openapi;
pub mod replies;

/// What every handler can reach.
pub struct AppState {
    pub db: DatabaseConnection,
    pub openapi: String,
    /// List totals and page anchors, forgotten after every write request.
    pub lists: Lists,
    /// The principal (and expiry) of recently seen secrets, by their hash; forgotten after
    /// every write request (revoking a token or signing out is one).
    pub principals: Recent<(Principal, Option<DateTime<Utc>>)>,
    /// The document templates, compiled and checked at start-up.
    pub templates: Templates,
    /// This process's outbox worker: woken after a commit that enqueued messages, and
    /// handed them (other instances find them at their next poll).
    pub outbox: crate::services::outbox::WorkerLink,
    /// Where delegates reach this server (`public_url`), for links sent out.
    pub public_url: String,
}

/// Calls `$m!(Type)` for every resource of the API, in order.
#[macro_export]
macro_rules! for_each_resource {
    ($m:ident) => {
        $m!($crate::services::resources::unit::Units);
        $m!($crate::services::resources::person::People);
        $m!($crate::services::resources::hall::Halls);
        $m!($crate::services::resources::speaker::Speakers);
        $m!($crate::services::resources::plan::Plans);
        $m!($crate::services::resources::plan_task::PlanTasks);
        $m!($crate::services::resources::conference::Conferences);
        $m!($crate::services::resources::agenda_item::AgendaItems);
        $m!($crate::services::resources::attendance_rule::AttendanceRules);
        $m!($crate::services::resources::bridge_point::BridgePoints);
        $m!($crate::services::resources::delegate::Delegates);
    };
}

/// Registers every route on an actix `ServiceConfig`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz));
    cfg.route("/rsvp/{token}", web::get().to(replies::show));
    cfg.route("/rsvp/{token}", web::post().to(replies::record));
    cfg.route("/ical/{token}.ics", web::get().to(replies::feed));
    cfg.service(
        web::scope("/api/v1")
            .route("/openapi.json", web::get().to(openapi::serve))
            .route("/auth/login", web::post().to(auth::login))
            .route("/auth/logout", web::post().to(auth::logout))
            .route("/auth/me", web::get().to(auth::me))
            .route("/tokens", web::get().to(auth::list_tokens))
            .route("/tokens", web::post().to(auth::create_token))
            .route("/tokens/{id}", web::delete().to(auth::revoke_token))
            .route(
                "/conferences/{id}/detail",
                web::get().to(crud::conference_detail),
            )
            .route(
                "/conferences/{id}/checks",
                web::get().to(checks::conference),
            )
            .route("/plans/{id}/checks", web::get().to(checks::plan))
            .route("/plans/{id}/cascade", web::post().to(nominations::cascade))
            .route("/checks", web::get().to(checks::period))
            .route(
                "/conferences/{id}/agenda",
                web::post().to(checks::insert_item),
            )
            .route(
                "/conferences/{id}/agenda/{item_id}/move",
                web::post().to(checks::move_item),
            )
            .route(
                "/conferences/{id}/reschedule",
                web::post().to(checks::reschedule),
            )
            .route("/conferences/{id}/publish", web::post().to(checks::publish))
            .route(
                "/conferences/{id}/agenda.{format}",
                web::get().to(documents::agenda),
            )
            .route(
                "/plans/{id}/document.{format}",
                web::get().to(documents::plan),
            )
            .route(
                "/conferences/{id}/letters/{unit_id}.{format}",
                web::get().to(documents::letter),
            )
            .route(
                "/conferences/{id}/delegates/{delegate_id}/invite.ics",
                web::get().to(invitations::invite),
            )
            .route(
                "/conferences/{id}/delegates/{delegate_id}/invite.eml",
                web::get().to(invitations::email),
            )
            .route(
                "/conferences/{id}/invitations/preview",
                web::post().to(invitations::preview),
            )
            .route(
                "/conferences/{id}/invitations/send",
                web::post().to(invitations::send),
            )
            .route(
                "/conferences/{id}/outbox",
                web::get().to(invitations::outbox_report),
            )
            .route(
                "/conferences/{id}/outbox/retry",
                web::post().to(invitations::outbox_retry),
            )
            .route(
                "/conferences/{id}/replies",
                web::get().to(replies::of_conference),
            )
            .route(
                "/conferences/{id}/nominations",
                web::get().to(nominations::of_conference),
            )
            .route(
                "/conferences/{id}/auto-assign",
                web::post().to(nominations::auto_assign),
            )
            .route(
                "/conferences/{id}/attendance",
                web::get().to(nominations::attendance),
            )
            .route(
                "/conferences/{id}/attendance.xlsx",
                web::get().to(nominations::attendance_xlsx),
            )
            .service(
                web::resource("/conferences/{id}/delegates/import")
                    // A list of 100,000 delegates as XLSX is a few megabytes.
                    .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                    .route(web::post().to(nominations::import_delegates)),
            )
            .service(
                web::resource("/conferences/{id}/bridge-points/import")
                    .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                    .route(web::post().to(nominations::import_bridge_points)),
            )
            .route(
                "/conferences/{id}/bridge-points.{format}",
                web::get().to(
                    |s: web::Data<AppState>, p: Principal, path: web::Path<(i64, String)>| {
                        nominations::export(s, p, path, "bridge-points")
                    },
                ),
            )
            .route(
                "/conferences/{id}/delegates.{format}",
                web::get().to(
                    |s: web::Data<AppState>, p: Principal, path: web::Path<(i64, String)>| {
                        nominations::export(s, p, path, "delegates")
                    },
                ),
            )
            .route("/feeds", web::get().to(replies::list_feeds))
            .route("/feeds", web::post().to(replies::create_feed))
            .route("/feeds/{id}", web::delete().to(replies::revoke_feed))
            .configure(|cfg| {
                macro_rules! register {
                    ($r:ty) => {
                        crud::register::<$r>(cfg);
                    };
                }
                for_each_resource!(register);
            })
            .default_service(web::to(error::not_found)),
    );
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"status": "database unreachable"}))
        }
    }
}

/// Builds the server on a bound listener.
pub fn server(
    listener: TcpListener,
    db: DatabaseConnection,
    templates: Templates,
    settings: &Settings,
    outbox: crate::services::outbox::WorkerLink,
    public_url: String,
) -> std::io::Result<Server> {
    let state = web::Data::new(AppState {
        outbox,
        public_url,
        db,
        openapi: openapi::document().to_json().unwrap_or_default(),
        lists: Lists::new(Duration::from_millis(settings.list_total_ttl_ms)),
        principals: Recent::new(Duration::from_millis(settings.auth_cache_ttl_ms)),
        templates,
    });
    let limit = settings.max_body_bytes;
    let mut server = HttpServer::new(move || {
        let writes = state.clone();
        App::new()
            .wrap_fn(move |req, srv| {
                // Any request that may write makes every cached total and principal stale. Reads
                // are GET and HEAD; everything else counts as a write, including one
                // that failed (it may have written part of its work elsewhere first).
                let write = !matches!(*req.method(), Method::GET | Method::HEAD);
                let state = writes.clone();
                let response = srv.call(req);
                async move {
                    let response = response.await;
                    if write {
                        state.lists.invalidate();
                        state.principals.invalidate();
                    }
                    response
                }
            })
            .wrap(tracing_actix_web::TracingLogger::default())
            .app_data(state.clone())
            .app_data(extract::json_config(limit))
            .app_data(extract::query_config())
            .app_data(extract::path_config())
            .configure(routes)
            .default_service(web::to(error::not_found))
    })
    .listen(listener)?;
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    Ok(server.run())
}

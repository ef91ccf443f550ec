//! `GET /conferences/{id}/delegates/{delegate_id}/invite.ics`: the invitation of one
//! delegate as a calendar file, REQUEST while the conference stands, CANCEL once it is
//! cancelled; what the e-mail will carry as `invite.ics`; and `…/invite.eml`, that e-mail.
//! Sending: `…/invitations/preview`, `…/invitations/send`, `…/outbox`, `…/outbox/retry`.
use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};

use super::AppState;
use crate::calendar::invite::{Method, to_ics};
use crate::domain::kinds::ConferenceStatus;
use crate::error::Error;
use crate::services::auth::Principal;
use crate::services::crud;
use crate::services::invitations;
use crate::services::outbox::{self, Counts, Failure};
use crate::services::resources::conference::Conferences;

/// What an invitation of `conference` says now: REQUEST while it stands, CANCEL once it
/// is cancelled.
async fn method_now(state: &AppState, conference: i64) -> Result<Method, Error> {
    let c = crud::find::<Conferences>(&state.db, conference).await?;
    Ok(if c.status == ConferenceStatus::Cancelled {
        Method::Cancel
    } else {
        Method::Request
    })
}

/// `GET /conferences/{id}/delegates/{delegate_id}/invite.ics`
pub async fn invite(
    state: web::Data<AppState>,
    p: Principal,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, Error> {
    let (conference, delegate) = path.into_inner();
    let method = method_now(&state, conference).await?;
    let invite = invitations::for_delegate(&state.db, &p, conference, delegate, method).await?;
    Ok(HttpResponse::Ok()
        .content_type(format!(
            "text/calendar; charset=utf-8; method={}",
            method.as_str()
        ))
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("invite.ics".into())],
        })
        .body(to_ics(&invite)))
}

/// `GET /conferences/{id}/delegates/{delegate_id}/invite.eml`: the e-mail the delegate will
/// receive (RFC 5322, `message/rfc822`), to check it before sending.
pub async fn email(
    state: web::Data<AppState>,
    p: Principal,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, Error> {
    let (conference, delegate) = path.into_inner();
    let method = method_now(&state, conference).await?;
    let mail = invitations::email_for(
        &state.db,
        &state.templates,
        &p,
        conference,
        delegate,
        method,
        &state.public_url,
    )
    .await?;
    let message = crate::mail::build(&mail)?;
    Ok(HttpResponse::Ok()
        .content_type("message/rfc822")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("invite.eml".into())],
        })
        .body(message.wire()))
}

/// `POST /conferences/{id}/invitations/preview`: who would receive what, per unit, the
/// problems to fix first, and one message as it will be read.
pub async fn preview(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    let out = invitations::preview(&state.db, &state.templates, &p, *id, &state.public_url).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /conferences/{id}/invitations/send`: puts the invitations in the outbox; the
/// worker sends them after the commit.
pub async fn send(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    // The worker is woken by each batch committed: it sends while the rest are built.
    let how = invitations::Syncing {
        worker: Some(state.outbox.clone()),
        ..invitations::Syncing::default()
    };
    let out = invitations::send(
        &state.db,
        &state.templates,
        &p,
        *id,
        &state.public_url,
        &how,
    )
    .await?;
    Ok(HttpResponse::Accepted().json(out))
}

/// The outbox of one conference.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OutboxReport {
    pub counts: Counts,
    pub failures: Vec<Failure>,
}

/// `GET /conferences/{id}/outbox`: messages by state, and each failure with its reason.
pub async fn outbox_report(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    let c = crud::find::<Conferences>(&state.db, *id).await?;
    crud::authorize_read::<Conferences>(&state.db, &p, &c).await?;
    Ok(HttpResponse::Ok().json(OutboxReport {
        counts: outbox::counts(&state.db, Some(c.id)).await?,
        failures: outbox::failures(&state.db, c.id).await?,
    }))
}

/// What a retry did.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Retried {
    pub retried: u64,
}

/// `POST /conferences/{id}/outbox/retry`: the failed messages are tried again.
pub async fn outbox_retry(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, Error> {
    crate::services::agenda::editable(&state.db, &p, *id).await?;
    let retried = outbox::retry_failed(&state.db, *id).await?;
    tracing::info!(conference_id = *id, retried, user = %p.login, "outbox: failures retried");
    state.outbox.wake();
    Ok(HttpResponse::Ok().json(Retried { retried }))
}

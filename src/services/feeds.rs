//! Calendar feeds (`GET /ical/{token}.ics`): a URL a delegate, a unit or anyone following
//! a conference subscribes to in Outlook, Google, Apple Calendar or Thunderbird.
//!
//! - A feed's token is 256 random bits, shown once when the feed is created; only its
//!   SHA-256 is kept, so the database does not hold usable URLs and no token can be
//!   derived from an id. Revoking deletes the row: the URL answers 404 from then on.
//! - Scopes: `person` (every conference the person is a delegate of, at their place),
//!   `unit` (every conference the unit has delegates in, was invited to, or hosts a
//!   bridge point of), `conference` (one conference). Drafts never appear; a cancelled
//!   conference stays, with `STATUS:CANCELLED`, so subscribed calendars drop it.
//! - A feed shows only what its creator may still read: when the creator's account is
//!   removed or disabled, or the subject leaves their scope, the URL answers 404.
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calendar::invite::{Invite, feed_ics};
use crate::domain::kinds::{ConferenceStatus, FeedScope, Role};
use crate::error::{Error, Result};
use crate::services::auth::{Principal, random_hex, token_hash};
use crate::services::crud;
use crate::services::invitations::Context;
use crate::services::resources::conference::Conferences;
use crate::services::resources::person::People;
use crate::services::resources::unit::Units;
use crate::store::{bridge_point, calendar_feed, conference, delegate, invitation};

/// What to create a feed of.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeed {
    /// `person`, `unit` or `conference`.
    pub scope: FeedScope,
    /// The person, unit or conference.
    pub subject_id: i64,
}

/// A calendar feed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Feed {
    pub id: i64,
    pub scope: FeedScope,
    pub subject_id: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The subscription URL: only in the answer that creates the feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl From<calendar_feed::Model> for Feed {
    fn from(m: calendar_feed::Model) -> Self {
        Self {
            id: m.id,
            scope: m.scope,
            subject_id: m.subject_id,
            created_by: m.created_by,
            created_at: m.created_at.and_utc(),
            url: None,
        }
    }
}

/// Checks that `p` may read what a feed of `scope`/`subject_id` shows (404, 403).
async fn authorize(db: &impl ConnectionTrait, p: &Principal, f: &NewFeed) -> Result<()> {
    match f.scope {
        FeedScope::Person => {
            let m = crud::find::<People>(db, f.subject_id).await?;
            crud::authorize_read::<People>(db, p, &m).await
        }
        FeedScope::Unit => {
            let m = crud::find::<Units>(db, f.subject_id).await?;
            crud::authorize_read::<Units>(db, p, &m).await
        }
        FeedScope::Conference => {
            let m = crud::find::<Conferences>(db, f.subject_id).await?;
            crud::authorize_read::<Conferences>(db, p, &m).await
        }
    }
}

/// Creates a feed; the answer carries its URL under `public_url`, once.
pub async fn create(
    db: &impl ConnectionTrait,
    p: &Principal,
    input: NewFeed,
    public_url: &str,
) -> Result<Feed> {
    use sea_orm::ActiveValue::{NotSet, Set};
    authorize(db, p, &input).await?;
    let token = random_hex(32);
    let now = crate::store::now();
    let m = calendar_feed::ActiveModel {
        id: NotSet,
        scope: Set(input.scope),
        subject_id: Set(input.subject_id),
        token_hash: Set(token_hash(&token)),
        created_by: Set(p.login.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    tracing::info!(feed_id = m.id, scope = m.scope.as_str(), subject_id = m.subject_id, user = %p.login, "calendar feed created");
    let mut feed = Feed::from(m);
    feed.url = Some(format!(
        "{}/ical/{token}.ics",
        public_url.trim_end_matches('/')
    ));
    Ok(feed)
}

/// The feeds `p` may see: all for admins and department staff, their own for others.
pub async fn list(db: &impl ConnectionTrait, p: &Principal) -> Result<Vec<Feed>> {
    let mut q = calendar_feed::Entity::find().order_by_asc(calendar_feed::Column::Id);
    if p.role == Role::DistrictOffice {
        q = q.filter(calendar_feed::Column::CreatedBy.eq(p.login.clone()));
    }
    Ok(q.all(db).await?.into_iter().map(Feed::from).collect())
}

/// Revokes feed `id`: its URL answers 404 from now on.
pub async fn revoke(db: &impl ConnectionTrait, p: &Principal, id: i64) -> Result<()> {
    let not_found = Error::NotFound {
        entity: "calendar_feed",
        label: "lịch đăng ký",
        id,
    };
    let m = calendar_feed::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(not_found)?;
    if p.role == Role::DistrictOffice && m.created_by != p.login {
        return Err(Error::Forbidden(
            "Chỉ người tạo lịch đăng ký này hoặc cán bộ Sở mới thu hồi được.".into(),
        ));
    }
    calendar_feed::Entity::delete_by_id(id).exec(db).await?;
    tracing::info!(feed_id = id, user = %p.login, "calendar feed revoked");
    Ok(())
}

fn not_found() -> Error {
    Error::NotFound {
        entity: "calendar_feed",
        label: "lịch đăng ký (đường dẫn không đúng hoặc đã bị thu hồi)",
        id: 0,
    }
}

/// The calendar of the feed whose token is `token` (64 hex digits).
pub async fn calendar(db: &impl ConnectionTrait, token: &str) -> Result<String> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let feed = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(token_hash(&token.to_ascii_lowercase())))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    // A feed shows no more than its creator may read today: it lapses when the creator is
    // removed or disabled, or no longer has the subject in scope.
    let creator = match crate::services::auth::find_user(db, &feed.created_by).await? {
        Some(u) if !u.disabled => crate::services::auth::principal_of(db, u).await?,
        _ => {
            tracing::debug!(feed_id = feed.id, creator = %feed.created_by, "calendar feed refused: its creator is gone or disabled");
            return Err(not_found());
        }
    };
    let subject = NewFeed {
        scope: feed.scope,
        subject_id: feed.subject_id,
    };
    match authorize(db, &creator, &subject).await {
        Ok(()) => {}
        Err(Error::Forbidden(_) | Error::NotFound { .. }) => {
            tracing::debug!(feed_id = feed.id, creator = %feed.created_by, "calendar feed refused: the subject is gone or out of its creator's scope");
            return Err(not_found());
        }
        Err(e) => return Err(e),
    }
    let shown = [ConferenceStatus::Published, ConferenceStatus::Cancelled];
    let mut events: Vec<Invite> = Vec::new();
    let name;
    match feed.scope {
        FeedScope::Conference => {
            let c = conference::Entity::find_by_id(feed.subject_id)
                .one(db)
                .await?
                .ok_or_else(not_found)?;
            name = c.title.clone();
            if shown.contains(&c.status) {
                if let Some(ctx) = context(db, c.id).await? {
                    events.push(ctx.feed_event(feed_uid(c.id, "conference", c.id), None));
                }
            }
        }
        FeedScope::Person => {
            let who = crate::store::person::Entity::find_by_id(feed.subject_id)
                .one(db)
                .await?
                .ok_or_else(not_found)?;
            name = format!("Hội nghị — {}", who.full_name);
            let rows = delegate::Entity::find()
                .filter(delegate::Column::PersonId.eq(who.id))
                .order_by_asc(delegate::Column::ConferenceId)
                .all(db)
                .await?;
            for d in rows {
                if let Some(ctx) = context(db, d.conference_id).await? {
                    if shown.contains(&ctx.conference.status) {
                        events.push(
                            ctx.feed_event(feed_uid(d.conference_id, "person", who.id), Some(&d)),
                        );
                    }
                }
            }
        }
        FeedScope::Unit => {
            let u = crate::store::unit::Entity::find_by_id(feed.subject_id)
                .one(db)
                .await?
                .ok_or_else(not_found)?;
            name = format!("Hội nghị — {}", u.name);
            let mut ids: BTreeSet<i64> = BTreeSet::new();
            for q in [
                delegate::Entity::find()
                    .select_only()
                    .column(delegate::Column::ConferenceId)
                    .filter(delegate::Column::UnitId.eq(u.id))
                    .into_tuple::<i64>()
                    .all(db)
                    .await?,
                invitation::Entity::find()
                    .select_only()
                    .column(invitation::Column::ConferenceId)
                    .filter(invitation::Column::UnitId.eq(u.id))
                    .into_tuple::<i64>()
                    .all(db)
                    .await?,
                bridge_point::Entity::find()
                    .select_only()
                    .column(bridge_point::Column::ConferenceId)
                    .filter(bridge_point::Column::HostUnitId.eq(u.id))
                    .into_tuple::<i64>()
                    .all(db)
                    .await?,
            ] {
                ids.extend(q);
            }
            for id in ids {
                if let Some(ctx) = context(db, id).await? {
                    if shown.contains(&ctx.conference.status) {
                        events.push(ctx.feed_event(feed_uid(id, "unit", u.id), None));
                    }
                }
            }
        }
    }
    Ok(feed_ics(&name, &events))
}

/// A feed's UID: not an invitation's, so a calendar holding both keeps both.
fn feed_uid(conference: i64, scope: &str, subject: i64) -> String {
    format!("hoinghi-conference-{conference}-feed-{scope}-{subject}@hoinghi.invalid")
}

/// The context of conference `id`, or none when it cannot be built (its organiser has
/// no mailbox): the feed goes on without it.
async fn context(db: &impl ConnectionTrait, id: i64) -> Result<Option<Context>> {
    match Context::load(db, id).await {
        Ok(c) => Ok(Some(c)),
        Err(Error::Validation(_) | Error::NotFound { .. }) => {
            tracing::warn!(
                conference_id = id,
                "calendar feed: conference left out (no organiser mailbox)"
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

//! Invitations from the store.
//!
//! - [`Context`] reads once what every message of a conference shares: the days and hours
//!   (from the conference, or its agenda day by day when it spans several days), the
//!   agenda as description, the organising unit as ORGANIZER, the halls and bridge points.
//! - [`for_delegate`] / [`email_for`]: the invitation of one delegate (calendar, e-mail),
//!   at their place: the hall, their bridge point, or online.
//! - [`fan_out`]: every message of a conference for the outbox, unit by unit, as the
//!   attendance rules invite them: one invitation per nominated delegate, one list of its
//!   delegates to the unit's official mailbox, or, to a unit that has nominated nobody yet,
//!   the invitation addressed to its mailbox with the quota and the request to nominate
//!   ("cử đại biểu"); and to each bridge point's technical contact, the meeting link.
//!
//! Join links go only to those who need them: a delegate attending online and the
//! technical contact of a bridge point get the meeting link and passcode; a delegate at a
//! bridge point gets the bridge point's place, never the passcode.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use crate::calendar::invite::{Attendee, Day, Invite, Method, Party, Prepared};
use crate::documents::agenda::{self, time_zone};
use crate::documents::templates::Templates;
use crate::domain::format;
use crate::domain::kinds::{ConferenceStatus, DelegateRole, MessageKind, Reply, Venue};
use crate::domain::validate::FieldError;
use crate::error::{Error, Result};
use crate::mail::{Addressee, Calendar};
use crate::services::auth::Principal;
use crate::services::checks::required_units;
use crate::services::crud;
use crate::services::ledger::{self, Ledger};
use crate::services::outbox::NewMessage;
use crate::services::resources::conference::Conferences;
use crate::services::resources::delegate::Delegates;
use crate::store::{
    agenda_item, bridge_point, bridge_point_unit, conference, delegate, hall, person, unit,
};

/// Reminders of an invitation when nothing else is configured: a day and an hour before.
pub fn default_alarms() -> Vec<Duration> {
    vec![Duration::days(1), Duration::hours(1)]
}

/// The UID of the invitation of `delegate` to `conference`: stable for the pair, never
/// derived from anything that changes (a person's address, the conference's title).
pub fn uid(conference: i64, delegate: i64) -> String {
    format!("hoinghi-conference-{conference}-delegate-{delegate}@hoinghi.invalid")
}

/// The UID of the invitation addressed to a unit's mailbox (it has nominated nobody yet).
pub fn unit_uid(conference: i64, unit: i64) -> String {
    format!("hoinghi-conference-{conference}-unit-{unit}@hoinghi.invalid")
}

/// The UID of the invitation of a bridge point's technical contact.
pub fn point_uid(conference: i64, point: i64) -> String {
    format!("hoinghi-conference-{conference}-point-{point}@hoinghi.invalid")
}

/// Rows read per `IN (…)` list.
const CHUNK: usize = 500;

/// What every message of one conference shares, read once.
pub struct Context {
    pub conference: conference::Model,
    pub organiser: Party,
    pub time_zone: Tz,
    pub days: Vec<Day>,
    /// `08h00' ngày 18/12/2024 (thứ Tư)`, or `từ … đến …` over several days.
    pub when: String,
    /// "Chương trình:" and a line per agenda item; empty without agenda.
    agenda: Vec<String>,
    halls: HashMap<i64, hall::Model>,
    /// The conference's first hall: the place of a delegate at the hall without one.
    main_hall: Option<hall::Model>,
    points: HashMap<i64, bridge_point::Model>,
    /// The organiser's mail domain, for Message-IDs.
    host: String,
    /// Where hoinghi is reached from outside (`public_url`), for reply links.
    pub public_url: String,
    /// DTSTAMP of every message of this fan-out: when it was built (whole seconds).
    stamp: DateTime<Utc>,
    /// Calendars prepared for this fan-out, by all an invitation says but its UID,
    /// LOCATION and attendee: delegates at one place share one, and each invitation
    /// only writes its own lines (`calendar::invite::Prepared`).
    prepared: std::sync::Mutex<HashMap<u64, Vec<(Invite, Prepared)>>>,
    /// E-mail bodies rendered for this fan-out, by all they say but the recipient's name
    /// and reply secret: recipients at one place share them ([`SplitBodies`]).
    bodies: std::sync::Mutex<Shapes>,
}

/// E-mail bodies by their shape (an [`EmailBody`] with the stand-ins); `None` for a shape
/// rendered in full for everyone.
type Shapes = HashMap<EmailBody, Option<std::sync::Arc<SplitBodies>>>;

/// Stand-ins rendered in place of the recipient's name and reply secret, then replaced:
/// private-use characters, which no escaping changes, and which a body holding them
/// already (never, from our forms) is rendered in full instead.
const RECIPIENT_MARK: &str = "\u{E000}recipient\u{E001}";
const TOKEN_MARK: &str = "\u{E000}token\u{E001}";

/// An e-mail's text and HTML bodies, rendered once with the stand-ins and split where
/// they are: each recipient's bodies are then the pieces with their name and secret.
struct SplitBodies {
    text: Vec<Piece>,
    html: Vec<Piece>,
}

enum Piece {
    Text(String),
    Recipient,
    Token,
}

impl SplitBodies {
    /// Splits `rendered` at the stand-ins.
    fn pieces(rendered: &str) -> Vec<Piece> {
        let mut pieces = Vec::new();
        let mut rest = rendered;
        loop {
            let next = [
                (RECIPIENT_MARK, Piece::Recipient),
                (TOKEN_MARK, Piece::Token),
            ]
            .into_iter()
            .filter_map(|(mark, piece)| rest.find(mark).map(|at| (at, mark.len(), piece)))
            .min_by_key(|(at, _, _)| *at);
            let Some((at, len, piece)) = next else {
                if !rest.is_empty() {
                    pieces.push(Piece::Text(rest.to_owned()));
                }
                return pieces;
            };
            if at > 0 {
                pieces.push(Piece::Text(rest[..at].to_owned()));
            }
            pieces.push(piece);
            rest = &rest[at + len..];
        }
    }

    /// `pieces` with `recipient` and `token` (as the template would write them).
    fn fill(pieces: &[Piece], recipient: &str, token: &str) -> String {
        let size: usize = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Recipient => recipient.len(),
                Piece::Token => token.len(),
            })
            .sum();
        let mut out = String::with_capacity(size);
        for p in pieces {
            out.push_str(match p {
                Piece::Text(t) => t,
                Piece::Recipient => recipient,
                Piece::Token => token,
            });
        }
        out
    }
}

impl Context {
    /// Reads conference `conference_id` and what its messages need. The organising unit
    /// must have a mailbox (it signs the invitations as ORGANIZER): 422 otherwise.
    pub async fn load(db: &impl ConnectionTrait, conference_id: i64) -> Result<Self> {
        let c = crud::find::<Conferences>(db, conference_id).await?;
        let organiser = unit::Entity::find_by_id(c.organiser_unit_id)
            .one(db)
            .await?
            .ok_or(Error::NotFound {
                entity: "unit",
                label: "đơn vị",
                id: c.organiser_unit_id,
            })?;
        let Some(mailbox) = organiser
            .mailbox
            .clone()
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
        else {
            return Err(Error::Validation(vec![FieldError::new(
                "mailbox",
                "missing_mailbox",
                format!(
                    "{} chưa có hộp thư công vụ để đứng tên mời (ORGANIZER).",
                    organiser.name
                ),
            )]));
        };
        let tz = time_zone(&c);
        let items = agenda::items(db, c.id).await?;
        let mut agenda_lines: Vec<String> = agenda::rows_of(&c, &items, tz)
            .into_iter()
            .map(|r| {
                let mut line = format!("{}: {}", r.time, r.content.join(" "));
                if !r.performer.is_empty() {
                    line.push_str(&format!(" ({})", r.performer.join(" ")));
                }
                if r.day.is_empty() {
                    line
                } else {
                    format!("{}\n{line}", r.day)
                }
            })
            .collect();
        if !agenda_lines.is_empty() {
            agenda_lines.insert(0, "Chương trình:".into());
            agenda_lines.insert(0, String::new());
        }
        let conference_halls = agenda::halls(db, &[c.id])
            .await?
            .remove(&c.id)
            .unwrap_or_default();
        let main_hall = conference_halls.first().cloned();
        let mut halls: HashMap<i64, hall::Model> =
            conference_halls.into_iter().map(|h| (h.id, h)).collect();
        let other_halls: Vec<i64> = delegate::Entity::find()
            .select_only()
            .column(delegate::Column::HallId)
            .distinct()
            .filter(delegate::Column::ConferenceId.eq(c.id))
            .filter(delegate::Column::HallId.is_not_null())
            .into_tuple::<Option<i64>>()
            .all(db)
            .await?
            .into_iter()
            .flatten()
            .filter(|h| !halls.contains_key(h))
            .collect();
        if !other_halls.is_empty() {
            for h in hall::Entity::find()
                .filter(hall::Column::Id.is_in(other_halls))
                .all(db)
                .await?
            {
                halls.insert(h.id, h);
            }
        }
        let points = bridge_point::Entity::find()
            .filter(bridge_point::Column::ConferenceId.eq(c.id))
            .all(db)
            .await?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        let days = days(&c, &items, tz);
        let when = match (days.first(), days.last()) {
            (Some(first), Some(last)) if days.len() > 1 => format!(
                "từ {} đến {}",
                format::plan_start_at(first.starts_at, tz),
                format::plan_start_at(last.ends_at, tz)
            ),
            _ => format::plan_start_at(c.starts_at.min(days[0].starts_at), tz),
        };
        let host = mailbox
            .rsplit_once('@')
            .map_or("hoinghi.invalid", |(_, h)| h)
            .to_owned();
        Ok(Self {
            organiser: Party {
                name: organiser.name.clone(),
                email: mailbox,
            },
            time_zone: tz,
            days,
            when,
            agenda: agenda_lines,
            halls,
            main_hall,
            points,
            host,
            public_url: String::new(),
            conference: c,
            stamp: Utc::now().with_nanosecond(0).unwrap_or_else(Utc::now),
            prepared: std::sync::Mutex::new(HashMap::new()),
            bodies: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The calendar of `invite`: written from a [`Prepared`] calendar shared with the
    /// other invitations that differ only in UID, LOCATION and attendee.
    fn ics(&self, invite: &Invite) -> String {
        let [attendee] = invite.attendees.as_slice() else {
            return crate::calendar::invite::to_ics(invite);
        };
        if !Prepared::supports(invite) {
            return crate::calendar::invite::to_ics(invite);
        }
        let key = Prepared::key(invite);
        let hash = {
            use std::hash::{BuildHasher, RandomState};
            static STATE: std::sync::LazyLock<RandomState> =
                std::sync::LazyLock::new(RandomState::new);
            STATE.hash_one(&key)
        };
        let mut out = String::with_capacity(2048);
        {
            let mut cache = self
                .prepared
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let bucket = cache.entry(hash).or_default();
            let at = match bucket.iter().position(|(t, _)| Prepared::key(t) == key) {
                Some(at) => at,
                None => {
                    bucket.push((invite.clone(), Prepared::new(invite)));
                    bucket.len() - 1
                }
            };
            bucket[at]
                .1
                .render(&invite.uid, &invite.location, attendee, &mut out);
        }
        debug_assert_eq!(out, crate::calendar::invite::to_ics(invite));
        out
    }

    /// What an invitation of this conference says now: REQUEST while it stands, CANCEL
    /// once it is cancelled.
    pub fn method(&self) -> Method {
        if self.conference.status == ConferenceStatus::Cancelled {
            Method::Cancel
        } else {
            Method::Request
        }
    }

    /// The conference's iTIP sequence: no invitation goes out with a lower one.
    pub fn sequence(&self) -> u32 {
        u32::try_from(self.conference.sequence).unwrap_or(0)
    }

    /// The invitation with this conference's times and organiser.
    fn invite(
        &self,
        method: Method,
        uid: String,
        location: String,
        mut lines: Vec<String>,
        attendee: Attendee,
    ) -> Invite {
        lines.extend(self.agenda.iter().cloned());
        Invite {
            method,
            uid,
            sequence: self.sequence(),
            stamp: self.stamp,
            time_zone: self.time_zone,
            days: self.days.clone(),
            summary: self.conference.title.clone(),
            location,
            description: lines.join("\n"),
            url: None,
            organizer: self.organiser.clone(),
            attendees: vec![attendee],
            alarms: if method == Method::Cancel {
                Vec::new()
            } else {
                default_alarms()
            },
        }
    }

    /// The conference as an event of a calendar feed: at delegate `d`'s place when given,
    /// else at the main hall; no attendee and no reminder (a feed shows, it does not
    /// invite). DTSTAMP is the conference's last change, so an unchanged feed reads alike.
    pub fn feed_event(&self, uid: String, d: Option<&delegate::Model>) -> Invite {
        let (location, mut lines) = match d {
            Some(d) => self.place(d),
            None => {
                let text = self
                    .main_hall
                    .as_ref()
                    .map_or_else(|| "Trực tuyến".to_owned(), agenda::hall_text);
                (text.clone(), vec![format!("Địa điểm: {text}")])
            }
        };
        lines.extend(self.agenda.iter().cloned());
        Invite {
            method: self.method(),
            uid,
            sequence: self.sequence(),
            stamp: self.conference.updated_at.and_utc(),
            time_zone: self.time_zone,
            days: self.days.clone(),
            summary: self.conference.title.clone(),
            location,
            description: lines.join("\n"),
            url: None,
            organizer: self.organiser.clone(),
            attendees: Vec::new(),
            alarms: Vec::new(),
        }
    }

    /// The invitation of delegate `d` (who is `who`). 422 when they have no e-mail.
    pub fn delegate_invite(
        &self,
        d: &delegate::Model,
        who: &person::Model,
        method: Method,
    ) -> Result<Invite> {
        let Some(email) = who
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        else {
            return Err(Error::Validation(vec![FieldError::new(
                "email",
                "missing_email",
                format!("{} chưa có địa chỉ e-mail để nhận giấy mời.", who.full_name),
            )]));
        };
        let (location, lines) = self.place(d);
        Ok(self.invite(
            method,
            uid(self.conference.id, d.id),
            location,
            lines,
            Attendee {
                party: Party {
                    name: person_name(who),
                    email: email.to_owned(),
                },
                role: d.role,
                reply: d.reply,
            },
        ))
    }

    /// The delegate's LOCATION and the first lines of the description: where to go, and
    /// for an online delegate how to join.
    pub fn place(&self, d: &delegate::Model) -> (String, Vec<String>) {
        match d.venue {
            Venue::Hall => {
                let h = d
                    .hall_id
                    .and_then(|h| self.halls.get(&h))
                    .or(self.main_hall.as_ref());
                let text = h.map(agenda::hall_text).unwrap_or_default();
                (text.clone(), vec![format!("Địa điểm: {text}")])
            }
            Venue::BridgePoint => match d.bridge_point_id.and_then(|b| self.points.get(&b)) {
                Some(b) => {
                    let text = point_text(b);
                    (
                        text.clone(),
                        vec![format!("Tham dự trực tuyến tại: {text}")],
                    )
                }
                None => (
                    "Điểm cầu trực tuyến (sẽ thông báo)".into(),
                    vec!["Điểm cầu của đại biểu sẽ được thông báo sau.".into()],
                ),
            },
            Venue::Online => {
                let mut lines = vec!["Tham dự trực tuyến.".to_owned()];
                lines.extend(join_lines(
                    self.conference.join_url.as_deref(),
                    self.conference.join_passcode.as_deref(),
                ));
                ("Trực tuyến".into(), lines)
            }
        }
    }

    /// The e-mail carrying `invite` to its attendee; with `rsvp`, the secret of its reply
    /// links; `updated`: it replaces an invitation sent before.
    pub fn email(
        &self,
        templates: &Templates,
        invite: &Invite,
        to: Addressee,
        request: Option<String>,
        rsvp: Option<&str>,
        updated: bool,
    ) -> Result<crate::mail::Invitation> {
        let attendee = invite
            .attendees
            .first()
            .ok_or(Error::Internal("an invitation without attendee".into()))?;
        let body = EmailBody {
            recipient: attendee.party.name.clone(),
            organiser: self.organiser.name.clone(),
            title: invite.summary.clone(),
            when: self.when.clone(),
            request,
            details: invite.description.lines().map(str::to_owned).collect(),
            cancelled: invite.method == Method::Cancel,
            updated: updated && invite.method == Method::Request,
            reply: rsvp
                .filter(|_| invite.method == Method::Request && !self.public_url.is_empty())
                .map(|token| ReplyLinks::new(&self.public_url, token)),
        };
        let subject = match invite.method {
            Method::Request if updated => {
                format!("Thay đổi giấy mời: {} — {}", invite.summary, self.when)
            }
            Method::Request => format!("Giấy mời: {} — {}", invite.summary, self.when),
            Method::Cancel => format!("Hủy: {} — {}", invite.summary, self.when),
        };
        let (text, html) = self.bodies(templates, &body, rsvp)?;
        Ok(crate::mail::Invitation {
            from: self.organiser.clone(),
            to: attendee.party.clone(),
            subject,
            text,
            html,
            calendar: Some(Calendar {
                method: invite.method,
                ics: self.ics(invite),
            }),
            message_id: crate::mail::message_id(
                self.conference.id,
                to,
                invite.sequence,
                invite.method.as_str(),
                &self.host,
            ),
        })
    }
}

impl Context {
    /// The text and HTML bodies of `body`, whose reply links carry `token`: rendered once
    /// per shape (all but the recipient's name and the secret) and filled per recipient,
    /// with the embedded templates, which only write the name and links. Templates read
    /// from `templates_dir` may do more with them (branch on an empty name, write it
    /// unescaped): those are rendered in full for every recipient. The first recipient of
    /// a shape is also rendered in full, and a shape whose filled bodies differ from that
    /// is rendered in full for everyone.
    fn bodies(
        &self,
        templates: &Templates,
        body: &EmailBody,
        token: Option<&str>,
    ) -> Result<(String, String)> {
        const TEXT: &str = "email/invitation.txt";
        const HTML: &str = "email/invitation.html";
        let full = || -> Result<(String, String)> {
            Ok((
                render(templates, TEXT, body)?,
                render(templates, HTML, body)?,
            ))
        };
        let token = token.filter(|_| body.reply.is_some()).unwrap_or_default();
        let marked = |t: &str| t.contains('\u{E000}');
        if !templates.is_embedded(TEXT)
            || !templates.is_embedded(HTML)
            || marked(&body.recipient)
            || marked(token)
            || marked(&body.title)
            || marked(&body.organiser)
            || marked(&body.when)
            || body.request.as_deref().is_some_and(marked)
            || body.details.iter().any(|d| marked(d))
        {
            return full();
        }
        let shape = EmailBody {
            recipient: RECIPIENT_MARK.to_owned(),
            reply: body
                .reply
                .as_ref()
                .map(|_| ReplyLinks::new(&self.public_url, TOKEN_MARK)),
            ..body.clone()
        };
        let known = self
            .bodies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&shape)
            .cloned();
        let fill = |split: &SplitBodies| {
            (
                SplitBodies::fill(&split.text, &body.recipient, token),
                SplitBodies::fill(
                    &split.html,
                    &templates.escape(HTML, &body.recipient),
                    &templates.escape(HTML, token),
                ),
            )
        };
        let bodies = match known {
            Some(Some(split)) => {
                let filled = fill(&split);
                debug_assert_eq!(filled, full()?, "bodies filled as rendered");
                filled
            }
            Some(None) => full()?,
            None => {
                let split = SplitBodies {
                    text: SplitBodies::pieces(&render(templates, TEXT, &shape)?),
                    html: SplitBodies::pieces(&render(templates, HTML, &shape)?),
                };
                let rendered = full()?;
                let split = (fill(&split) == rendered).then(|| std::sync::Arc::new(split));
                self.bodies
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(shape, split);
                rendered
            }
        };
        Ok(bodies)
    }
}

fn render(templates: &Templates, name: &str, body: &impl Serialize) -> Result<String> {
    templates
        .render(name, body)
        .map_err(|e| Error::Internal(e.to_string()))
}

/// `Ông Nguyễn Văn An`, or the name alone without honorific.
fn person_name(who: &person::Model) -> String {
    match who.honorific.as_deref().map(str::trim) {
        Some(h) if !h.is_empty() => format!("{h} {}", who.full_name),
        _ => who.full_name.clone(),
    }
}

/// `Điểm cầu UBND huyện Thủy Nguyên, Phòng họp tầng 2, …`.
fn point_text(b: &bridge_point::Model) -> String {
    let mut parts = vec![format!("Điểm cầu {}", b.name)];
    parts.extend(agenda::point_details(
        &b.name,
        b.room.as_deref(),
        b.address.as_deref(),
    ));
    parts.join(", ")
}

fn join_lines(url: Option<&str>, passcode: Option<&str>) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) {
        lines.push(format!("Đường dẫn: {url}"));
    }
    if let Some(code) = passcode.map(str::trim).filter(|p| !p.is_empty()) {
        lines.push(format!("Mật khẩu phòng họp: {code}"));
    }
    lines
}

/// Builds the invitation of delegate `delegate_id` of conference `conference_id`.
/// `p` must be allowed to read the delegate (a district office: only in its area).
pub async fn for_delegate(
    db: &impl ConnectionTrait,
    p: &Principal,
    conference_id: i64,
    delegate_id: i64,
    method: Method,
) -> Result<Invite> {
    let (ctx, d, who) = delegate_context(db, p, conference_id, delegate_id).await?;
    let mut invite = ctx.delegate_invite(&d, &who, method)?;
    if let Some(h) = held(db, &invite.uid).await? {
        invite.sequence = invite.sequence.max(u32::try_from(h.sequence).unwrap_or(0));
    }
    Ok(invite)
}

async fn delegate_context(
    db: &impl ConnectionTrait,
    p: &Principal,
    conference_id: i64,
    delegate_id: i64,
) -> Result<(Context, delegate::Model, person::Model)> {
    let c = crud::find::<Conferences>(db, conference_id).await?;
    let d = crud::find::<Delegates>(db, delegate_id).await?;
    crud::authorize_read::<Delegates>(db, p, &d).await?;
    if d.conference_id != c.id {
        return Err(Error::NotFound {
            entity: "delegate",
            label: "đại biểu của hội nghị này",
            id: delegate_id,
        });
    }
    let who = person::Entity::find_by_id(d.person_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "person",
            label: "người",
            id: d.person_id,
        })?;
    let ctx = Context::load(db, conference_id).await?;
    Ok((ctx, d, who))
}

/// The days of a conference: itself when it starts and ends on one local day; else, day
/// by day, from the first agenda item to the end of the last one of that day (or, without
/// an agenda, the conference's hours on each day).
pub fn days(c: &conference::Model, items: &[agenda_item::Model], tz: chrono_tz::Tz) -> Vec<Day> {
    let first = format::local_date_time(c.starts_at, tz).date();
    let last = format::local_date_time(c.ends_at, tz).date();
    if first >= last {
        return vec![Day {
            starts_at: c.starts_at,
            ends_at: c.ends_at,
        }];
    }
    let mut by_day: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    for i in items {
        let day = format::local_date_time(i.starts_at, tz).date();
        let entry = by_day.entry(day).or_insert(Day {
            starts_at: i.starts_at,
            ends_at: i.ends_at,
        });
        entry.starts_at = entry.starts_at.min(i.starts_at);
        entry.ends_at = entry.ends_at.max(i.ends_at);
    }
    if !by_day.is_empty() {
        return by_day.into_values().collect();
    }
    let (from, to) = (
        format::local_date_time(c.starts_at, tz).time(),
        format::local_date_time(c.ends_at, tz).time(),
    );
    let each: Vec<Day> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter_map(|d| {
            let s = d.and_time(from).and_local_timezone(tz).earliest()?;
            let e = d.and_time(to).and_local_timezone(tz).earliest()?;
            (e > s).then(|| Day {
                starts_at: s.with_timezone(&Utc),
                ends_at: e.with_timezone(&Utc),
            })
        })
        .collect();
    // Overnight hours (20h00 to 0h00, 13h00 to 11h00 the next day): one event throughout.
    if each.is_empty() {
        return vec![Day {
            starts_at: c.starts_at,
            ends_at: c.ends_at,
        }];
    }
    each
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kinds::{ConferenceMode, ConferenceStatus};

    fn utc(s: &str) -> chrono::DateTime<Utc> {
        s.parse().expect("instant")
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_builder_thread_lowers_its_own_priority_only() {
        use rustix::process::getpriority_process;
        let nice = || getpriority_process(Some(rustix::thread::gettid())).expect("nice");
        let ours = nice();
        let (before, after) = std::thread::spawn(move || {
            let before = nice();
            in_background();
            (before, nice())
        })
        .join()
        .expect("thread");
        assert_eq!(before, ours);
        assert_eq!(after, (ours + BUILD_NICE).min(19));
        // The thread that called it only: this one runs as before.
        assert_eq!(nice(), ours);
    }

    fn conference(starts: &str, ends: &str) -> conference::Model {
        let now = crate::store::now();
        conference::Model {
            id: 1,
            plan_id: None,
            organiser_unit_id: 1,
            title: "Hội nghị".into(),
            summary: None,
            starts_at: utc(starts),
            ends_at: utc(ends),
            time_zone: "Asia/Ho_Chi_Minh".into(),
            mode: ConferenceMode::InPerson,
            status: ConferenceStatus::Published,
            sequence: 0,
            join_url: None,
            join_passcode: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn item(id: i64, starts: &str, ends: &str) -> agenda_item::Model {
        let now = crate::store::now();
        agenda_item::Model {
            id,
            conference_id: 1,
            starts_at: utc(starts),
            ends_at: utc(ends),
            content: "Nội dung".into(),
            performer: None,
            created_at: now,
            updated_at: now,
        }
    }

    const HCM: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

    #[test]
    fn bodies_split_at_the_stand_ins_and_fill_back() {
        let rendered =
            format!("Kính gửi {RECIPIENT_MARK},\nhttps://x/rsvp/{TOKEN_MARK}?a {TOKEN_MARK}");
        let pieces = SplitBodies::pieces(&rendered);
        assert_eq!(pieces.len(), 6);
        assert_eq!(
            SplitBodies::fill(&pieces, "Ông An", "ab12"),
            "Kính gửi Ông An,\nhttps://x/rsvp/ab12?a ab12"
        );
        assert!(matches!(
            SplitBodies::pieces(RECIPIENT_MARK).as_slice(),
            [Piece::Recipient]
        ));
        assert!(SplitBodies::pieces("").is_empty());
    }

    #[test]
    fn one_day_is_the_conference_itself() {
        let c = conference("2024-12-18T01:00:00Z", "2024-12-18T04:30:00Z");
        // An agenda that starts before the conference (reception at 7h30) does not move it.
        let d = days(
            &c,
            &[item(1, "2024-12-18T00:30:00Z", "2024-12-18T01:00:00Z")],
            HCM,
        );
        assert_eq!(
            d,
            [Day {
                starts_at: c.starts_at,
                ends_at: c.ends_at
            }]
        );
    }

    #[test]
    fn several_days_follow_the_agenda_of_each_day() {
        let c = conference("2024-12-16T01:00:00Z", "2024-12-19T10:00:00Z");
        let items = [
            item(1, "2024-12-16T01:00:00Z", "2024-12-16T05:00:00Z"),
            item(2, "2024-12-16T06:30:00Z", "2024-12-16T10:00:00Z"),
            item(3, "2024-12-17T01:00:00Z", "2024-12-17T04:30:00Z"),
            item(4, "2024-12-19T01:30:00Z", "2024-12-19T10:00:00Z"),
        ];
        let d = days(&c, &items, HCM);
        assert_eq!(d.len(), 3, "no session on Wednesday");
        assert_eq!(d[0].ends_at, utc("2024-12-16T10:00:00Z"));
        assert_eq!(d[1].ends_at, utc("2024-12-17T04:30:00Z"));
        assert_eq!(d[2].starts_at, utc("2024-12-19T01:30:00Z"));
    }

    #[test]
    fn overnight_hours_without_agenda_are_one_event() {
        // 20h00 on the 16th to 0h00 on the 17th, and 13h00 to 11h00 the next day.
        for (s, e) in [
            ("2024-12-16T13:00:00Z", "2024-12-16T17:00:00Z"),
            ("2024-12-16T06:00:00Z", "2024-12-17T04:00:00Z"),
        ] {
            let c = conference(s, e);
            assert_eq!(
                days(&c, &[], HCM),
                [Day {
                    starts_at: utc(s),
                    ends_at: utc(e)
                }]
            );
        }
    }

    #[test]
    fn several_days_without_agenda_take_the_conference_hours_each_day() {
        let c = conference("2024-12-16T01:00:00Z", "2024-12-17T10:00:00Z");
        let d = days(&c, &[], HCM);
        assert_eq!(
            d,
            [
                Day {
                    starts_at: utc("2024-12-16T01:00:00Z"),
                    ends_at: utc("2024-12-16T10:00:00Z")
                },
                Day {
                    starts_at: utc("2024-12-17T01:00:00Z"),
                    ends_at: utc("2024-12-17T10:00:00Z")
                },
            ]
        );
    }
}

/// What the e-mail templates (`templates/email/invitation.{txt,html}.hbs`) read.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct EmailBody {
    pub recipient: String,
    pub organiser: String,
    pub title: String,
    /// `08h00' ngày 18/12/2024 (thứ Tư)`, or the span of a conference over several days.
    pub when: String,
    /// To a unit that has nominated nobody yet: what it is asked to do.
    pub request: Option<String>,
    /// Place, join link (online delegates only), agenda: the calendar's description lines.
    pub details: Vec<String>,
    pub cancelled: bool,
    /// It replaces an invitation sent before (the time or the place changed).
    pub updated: bool,
    /// The links that record the reply without logging in.
    pub reply: Option<ReplyLinks>,
}

/// The reply links of one invitation (`/rsvp/{token}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ReplyLinks {
    pub accept: String,
    pub decline: String,
    /// The page with every choice.
    pub page: String,
}

impl ReplyLinks {
    /// The links under `public_url` (no trailing `/`) for the secret `token`.
    pub fn new(public_url: &str, token: &str) -> Self {
        let page = format!("{public_url}/rsvp/{token}");
        Self {
            accept: format!("{page}?reply=accepted"),
            decline: format!("{page}?reply=declined"),
            page,
        }
    }
}

impl EmailBody {
    /// A body with every field filled, for the start-up check of templates.
    pub fn sample() -> Self {
        Self {
            recipient: "Ông Nguyễn Văn An".into(),
            organiser: "Sở Giáo dục và Đào tạo Hải Phòng".into(),
            title: "Hội nghị tập huấn".into(),
            when: "08h00' ngày 18/12/2024 (thứ Tư)".into(),
            request: Some("Đề nghị đơn vị cử 01 người tham dự.".into()),
            details: vec!["Địa điểm: Hội trường tầng 3".into()],
            cancelled: false,
            updated: true,
            reply: Some(ReplyLinks::new(
                "https://hoinghi.example",
                "0123456789abcdef",
            )),
        }
    }
}

/// What `templates/email/unit_summary.{txt,html}.hbs` read: the delegates of one unit.
#[derive(Clone, Debug, serde::Serialize)]
pub struct UnitSummaryBody {
    pub unit: String,
    pub organiser: String,
    pub title: String,
    pub when: String,
    pub delegates: Vec<SummaryLine>,
    pub cancelled: bool,
}

/// One delegate in a unit's list.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SummaryLine {
    /// From 1.
    pub number: usize,
    pub name: String,
    pub email: String,
    pub place: String,
}

impl UnitSummaryBody {
    /// A body with every field filled, for the start-up check of templates.
    pub fn sample() -> Self {
        Self {
            unit: "Trường THPT Thủy Sơn".into(),
            organiser: "Sở Giáo dục và Đào tạo Hải Phòng".into(),
            title: "Hội nghị tập huấn".into(),
            when: "08h00' ngày 18/12/2024 (thứ Tư)".into(),
            delegates: vec![SummaryLine {
                number: 1,
                name: "Ông Nguyễn Văn An".into(),
                email: "an@thpt.example".into(),
                place: "Điểm cầu UBND huyện Thủy Nguyên".into(),
            }],
            cancelled: false,
        }
    }
}

/// The e-mail of the invitation of delegate `delegate_id` (REQUEST, or CANCEL): subject,
/// bodies from the templates, the calendar, and a Message-ID stable for (conference,
/// delegate, sequence, method) under the organiser's mail domain.
pub async fn email_for(
    db: &impl ConnectionTrait,
    templates: &Templates,
    p: &Principal,
    conference_id: i64,
    delegate_id: i64,
    method: Method,
    public_url: &str,
) -> Result<crate::mail::Invitation> {
    let (mut ctx, d, who) = delegate_context(db, p, conference_id, delegate_id).await?;
    ctx.public_url = public_url.trim_end_matches('/').to_owned();
    let mut invite = ctx.delegate_invite(&d, &who, method)?;
    let held = held(db, &invite.uid).await?;
    if let Some(h) = &held {
        invite.sequence = invite.sequence.max(u32::try_from(h.sequence).unwrap_or(0));
    }
    ctx.email(
        templates,
        &invite,
        Addressee::Delegate(d.id),
        None,
        held.as_ref().map(|h| h.rsvp_token.as_str()),
        held.is_some(),
    )
}

/// What the ledger holds of `uid`: the last message sent under it.
async fn held(
    db: &impl ConnectionTrait,
    uid: &str,
) -> Result<Option<crate::store::invitation::Model>> {
    Ok(crate::store::invitation::Entity::find()
        .filter(crate::store::invitation::Column::Uid.eq(uid))
        .one(db)
        .await?)
}

/// What a send to one unit holds.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UnitPlan {
    pub unit_id: i64,
    pub unit_name: String,
    pub mailbox: Option<String>,
    /// Delegates asked of the unit by the rules that invite it; none when no rule says.
    pub quota: Option<i32>,
    pub delegates: usize,
    /// Messages to the unit's delegates and to its mailbox.
    pub messages: usize,
    /// Nobody nominated yet: its mailbox gets the invitation and the request to nominate.
    pub nomination: bool,
}

/// Something that keeps a message from being sent, to fix before sending.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    pub field: String,
    pub code: String,
    pub message: String,
    pub unit_id: Option<i64>,
    pub delegate_id: Option<i64>,
    pub bridge_point_id: Option<i64>,
}

impl Problem {
    /// The problems of one recipient from the field errors that kept its message back.
    fn of(
        errors: Vec<FieldError>,
        unit_id: Option<i64>,
        delegate_id: Option<i64>,
        bridge_point_id: Option<i64>,
    ) -> impl Iterator<Item = Problem> {
        errors.into_iter().map(move |e| Problem {
            field: e.field,
            code: e.code,
            message: e.message,
            unit_id,
            delegate_id,
            bridge_point_id,
        })
    }
}

/// Every message of a conference, and how it splits by unit. Built in batches
/// ([`build`]), it holds what the last batch left and the counts of them all.
pub struct FanOut {
    pub conference_id: i64,
    /// What the conference says now: REQUEST while it stands, CANCEL once cancelled.
    pub method: Method,
    pub messages: Vec<NewMessage>,
    pub units: Vec<UnitPlan>,
    /// Messages to the technical contacts of bridge points.
    pub bridge_contacts: usize,
    /// Recipients whose calendar holds the invitation as it is now: nothing to send.
    pub unchanged: usize,
    /// Cancellations among the messages: to recipients no longer invited, or to every
    /// recipient of a cancelled conference.
    pub cancellations: usize,
    pub problems: Vec<Problem>,
    /// The first message, as built, for a preview.
    pub sample: Option<crate::mail::Invitation>,
    /// What the recipients' calendars hold once the messages are sent.
    pub ledger: Vec<ledger::Write>,
    /// Messages decided but not built yet ([`FanOut::flush`]).
    pending: Vec<Pending>,
    /// Messages (and their ledger rows) handed on together; `usize::MAX`: all kept.
    batch: usize,
    /// Messages so far per unit (but to bridge points' contacts).
    per_unit: HashMap<i64, usize>,
    /// Whether the messages added now are those to bridge points' contacts.
    to_points: bool,
    /// Whoever takes the batches stopped taking them: the fan-out stopped too.
    pub stopped: bool,
    /// Messages keep their bytes as sent too, for the worker ([`NewMessage::raw`]): only
    /// when handed on in batches, never when a whole fan-out is kept (a preview).
    hand_over: bool,
}

/// Messages and the ledger rows of their recipients: enqueued in one transaction, so
/// that the ledger never says a calendar holds what is not on its way to it.
#[derive(Debug, Default)]
pub struct Batch {
    pub messages: Vec<NewMessage>,
    pub ledger: Vec<ledger::Write>,
}

/// A message waiting in [`FanOut::pending`].
enum Pending {
    /// An invitation the ledger decided to send; its e-mail is rendered in the flush.
    Offer(Box<Offer>),
    /// An e-mail rendered already (a unit's list), to be encoded.
    Mail(Box<crate::mail::Invitation>, Meta),
}

/// An invitation the ledger decided to send, to be rendered with others in parallel.
struct Offer {
    invite: Invite,
    to: Addressee,
    meta: Meta,
    rsvp_token: String,
    updated: bool,
    cancel_old: Option<Box<crate::store::invitation::Model>>,
    write: ledger::Write,
}

/// A pending message rendered and built: its e-mail and bytes (or why its address is
/// none).
enum Rendered {
    Offer(
        Box<Offer>,
        Result<(crate::mail::Invitation, Result<Packed>)>,
    ),
    Mail(Box<crate::mail::Invitation>, Meta, Result<Packed>),
}

/// Who a message is for, besides its address.
#[derive(Clone, Debug)]
struct Meta {
    kind: MessageKind,
    unit_id: Option<i64>,
    delegate_id: Option<i64>,
    bridge_point_id: Option<i64>,
    sequence: u32,
    uid: Option<String>,
    /// What the message asks of its recipient (a unit: to nominate).
    request: Option<String>,
}

impl FanOut {
    /// Adds `mail`; an address that is no address is a problem to fix, not a failed
    /// send. Whether it was added.
    fn push(&mut self, mail: crate::mail::Invitation, meta: Meta) -> Result<bool> {
        let packed = pack(&mail, self.hand_over);
        self.add(mail, packed, meta)
    }

    /// [`FanOut::push`] of a message built already.
    fn add(
        &mut self,
        mail: crate::mail::Invitation,
        raw: Result<Packed>,
        meta: Meta,
    ) -> Result<bool> {
        let raw = match raw {
            Ok(raw) => raw,
            Err(Error::Validation(errors)) => {
                self.problems.extend(Problem::of(
                    errors,
                    meta.unit_id,
                    meta.delegate_id,
                    meta.bridge_point_id,
                ));
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        let method = mail.calendar.as_ref().map(|cal| cal.method);
        if method == Some(Method::Cancel) {
            self.cancellations += 1;
        }
        if self.to_points {
            self.bridge_contacts += 1;
        }
        if meta.kind != MessageKind::BridgeContact {
            if let Some(u) = meta.unit_id {
                *self.per_unit.entry(u).or_default() += 1;
            }
        }
        self.messages.push(NewMessage {
            message_id: mail.message_id.clone(),
            conference_id: Some(self.conference_id),
            unit_id: meta.unit_id,
            delegate_id: meta.delegate_id,
            kind: meta.kind,
            method,
            sequence: meta.sequence,
            uid: meta.uid,
            sender: mail.from.email.clone(),
            recipient: mail.to.email.trim().to_owned(),
            subject: mail.subject.clone(),
            packed: raw.packed,
            raw: raw.raw,
        });
        if self.sample.is_none() {
            self.sample = Some(mail);
        }
        Ok(true)
    }

    /// Offers `invite` (a REQUEST) to its attendee: sent when their calendar does not hold
    /// it as it is, with the next sequence of its UID; recorded in the ledger.
    fn offer(
        &mut self,
        ctx: &Context,
        ledger: &mut Ledger,
        mut invite: Invite,
        to: Addressee,
        meta: Meta,
    ) -> Result<()> {
        // What the message asks (a unit's quota) is part of what it says.
        let fingerprint = ledger::fingerprint(&invite, meta.request.as_deref());
        let updated = ledger.rsvp_token(&invite.uid).is_some();
        let ledger::Decision::Send {
            sequence,
            rsvp_token,
            cancel_old,
            fresh,
        } = ledger.decide(&invite, &fingerprint, ctx.sequence())
        else {
            self.unchanged += 1;
            return Ok(());
        };
        invite.sequence = sequence;
        let attendee = invite.attendees[0].party.clone();
        let meta = Meta {
            sequence,
            uid: Some(invite.uid.clone()),
            ..meta
        };
        let write = ledger::Write {
            uid: invite.uid.clone(),
            kind: meta.kind,
            unit_id: meta.unit_id,
            delegate_id: meta.delegate_id,
            bridge_point_id: meta.bridge_point_id,
            name: attendee.name,
            email: attendee.email,
            location: invite.location.clone(),
            sequence,
            method: Method::Request,
            fingerprint,
            reset_reply: fresh,
            rsvp_token: rsvp_token.clone(),
        };
        self.pending.push(Pending::Offer(Box::new(Offer {
            invite,
            to,
            meta,
            rsvp_token,
            updated,
            cancel_old,
            write,
        })));
        Ok(())
    }

    /// Queues a message rendered already, to be added in its turn by [`FanOut::flush`].
    fn queue(&mut self, mail: crate::mail::Invitation, meta: Meta) {
        self.pending.push(Pending::Mail(Box::new(mail), meta));
    }

    /// Hands a batch to `emit` once there is one. Called only between recipients, never
    /// between a message and its ledger row or the cancellation that goes with it.
    /// Whether to go on (`emit` took it, or there was nothing to hand).
    fn ship(&mut self, ctx: &Context, templates: &Templates, emit: &mut Emit) -> Result<bool> {
        if self.pending.len() >= self.batch {
            self.flush(ctx, templates)?;
        }
        if self.messages.len() >= self.batch {
            let batch = Batch {
                messages: std::mem::take(&mut self.messages),
                ledger: std::mem::take(&mut self.ledger),
            };
            if !emit(batch) {
                self.stopped = true;
            }
        }
        Ok(!self.stopped)
    }

    /// Builds the pending messages on every core (templates, calendar and MIME encoding
    /// are most of a fan-out's time, and each message is built on its own) and adds
    /// them in the order they were queued, each offer followed by the cancellation its
    /// UID's old address gets; only an offer added is recorded in the ledger. Called
    /// before anything is added directly, so that messages keep the fan-out's order.
    fn flush(&mut self, ctx: &Context, templates: &Templates) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return Ok(());
        }
        let hand_over = self.hand_over;
        let build = |p: Pending| -> Rendered {
            match p {
                Pending::Offer(o) => {
                    let mail = ctx
                        .email(
                            templates,
                            &o.invite,
                            o.to,
                            o.meta.request.clone(),
                            Some(&o.rsvp_token),
                            o.updated,
                        )
                        .map(|mail| {
                            let raw = pack(&mail, hand_over);
                            (mail, raw)
                        });
                    Rendered::Offer(o, mail)
                }
                Pending::Mail(mail, meta) => {
                    let raw = pack(&mail, hand_over);
                    Rendered::Mail(mail, meta, raw)
                }
            }
        };
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let built: Vec<Rendered> = if threads < 2 || pending.len() < 16 {
            pending.into_iter().map(build).collect()
        } else {
            let chunk = pending.len().div_ceil(threads);
            let mut rest = pending.into_iter();
            let parts: Vec<Vec<Pending>> = std::iter::from_fn(|| {
                let part: Vec<Pending> = rest.by_ref().take(chunk).collect();
                (!part.is_empty()).then_some(part)
            })
            .collect();
            std::thread::scope(|scope| {
                let handles: Vec<_> = parts
                    .into_iter()
                    .map(|part| {
                        scope.spawn(move || {
                            in_background();
                            part.into_iter().map(build).collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        for b in built {
            match b {
                Rendered::Mail(mail, meta, raw) => {
                    self.add(*mail, raw, meta)?;
                }
                Rendered::Offer(o, mail) => {
                    let (mail, raw) = mail?;
                    let o = *o;
                    if self.add(mail, raw, o.meta)? {
                        if let Some(old) = o.cancel_old {
                            // The UID went to another address: that calendar loses it
                            // (only once the new address took the invitation).
                            self.cancel(ctx, templates, &old, o.write.sequence)?;
                        }
                        self.ledger.push(o.write);
                    }
                }
            }
        }
        Ok(())
    }

    /// The CANCEL of what the ledger row `r` holds, with `sequence`; whether it was added.
    fn cancel(
        &mut self,
        ctx: &Context,
        templates: &Templates,
        r: &crate::store::invitation::Model,
        sequence: u32,
    ) -> Result<Option<Invite>> {
        self.flush(ctx, templates)?;
        let mut invite = ctx.invite(
            Method::Cancel,
            r.uid.clone(),
            r.location.clone(),
            Vec::new(),
            Attendee {
                party: Party {
                    name: r.recipient_name.clone(),
                    email: r.recipient_email.clone(),
                },
                role: DelegateRole::ReqParticipant,
                reply: r.reply,
            },
        );
        invite.sequence = sequence;
        let to = match r.kind {
            MessageKind::BridgeContact => Addressee::BridgePoint(r.bridge_point_id.unwrap_or(0)),
            MessageKind::Invitation => Addressee::Delegate(r.delegate_id.unwrap_or(0)),
            _ => Addressee::Unit(r.unit_id.unwrap_or(0)),
        };
        let mail = ctx.email(templates, &invite, to, None, None, true)?;
        let added = self.push(
            mail,
            Meta {
                kind: r.kind,
                unit_id: r.unit_id,
                delegate_id: r.delegate_id,
                bridge_point_id: r.bridge_point_id,
                sequence,
                uid: Some(r.uid.clone()),
                request: None,
            },
        )?;
        Ok(added.then_some(invite))
    }
}

/// Whoever takes a fan-out's batches: `false` to stop it.
pub type Emit<'a> = dyn FnMut(Batch) -> bool + Send + 'a;

/// What a fan-out decides from, read at once (under the sync's lock).
pub struct Inputs {
    ctx: Context,
    ledger: Ledger,
    /// Units invited by the rules, with their quota and the place the rule gives them.
    invited: BTreeMap<i64, (Option<i32>, Venue, Option<i64>)>,
    delegates: Vec<delegate::Model>,
    people: HashMap<i64, person::Model>,
    unit_ids: BTreeSet<i64>,
    units: HashMap<i64, unit::Model>,
    /// The bridge point of each unit in this conference, for the place of its nomination.
    point_of_unit: HashMap<i64, i64>,
    /// The units sent a list of their delegates already, and those lists' Message-IDs.
    listed_units: BTreeSet<i64>,
    lists_sent: BTreeSet<String>,
}

impl Inputs {
    /// Reads conference `conference_id`, its ledger, invited units and delegates; reply
    /// links will point under `public_url`.
    pub async fn load(
        db: &impl ConnectionTrait,
        conference_id: i64,
        public_url: &str,
    ) -> Result<Self> {
        let mut ctx = Context::load(db, conference_id).await?;
        ctx.public_url = public_url.trim_end_matches('/').to_owned();
        let c = &ctx.conference;
        let ledger = Ledger::load(db, c.id).await?;
        let rules = crate::services::checks::rules_of(db, c.id).await?;
        let mut invited: BTreeMap<i64, (Option<i32>, Venue, Option<i64>)> = BTreeMap::new();
        for r in &rules {
            for u in required_units(db, r).await? {
                let e = invited.entry(u).or_insert((None, r.venue, r.hall_id));
                if let Some(q) = r.quota {
                    e.0 = Some(e.0.unwrap_or(0) + q);
                }
            }
        }
        let delegates = delegate::Entity::find()
            .filter(delegate::Column::ConferenceId.eq(c.id))
            .order_by_asc(delegate::Column::Id)
            .all(db)
            .await?;
        let person_ids: BTreeSet<i64> = delegates.iter().map(|d| d.person_id).collect();
        let people =
            by_id::<person::Entity, _>(db, &person_ids, person::Column::Id, |p| p.id).await?;
        let mut unit_ids: BTreeSet<i64> = invited.keys().copied().collect();
        unit_ids.extend(delegates.iter().map(|d| d.unit_id));
        let units = by_id::<unit::Entity, _>(db, &unit_ids, unit::Column::Id, |u| u.id).await?;
        let point_of_unit: HashMap<i64, i64> = bridge_point_unit::Entity::find()
            .filter(
                bridge_point_unit::Column::BridgePointId
                    .is_in(ctx.points.keys().copied().collect::<Vec<_>>()),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|l| (l.unit_id, l.bridge_point_id))
            .collect();
        let lists_sent: Vec<(Option<i64>, String)> = crate::store::outbox::Entity::find()
            .select_only()
            .column(crate::store::outbox::Column::UnitId)
            .column(crate::store::outbox::Column::MessageId)
            .filter(crate::store::outbox::Column::ConferenceId.eq(c.id))
            .filter(crate::store::outbox::Column::Kind.eq(MessageKind::UnitSummary))
            .into_tuple()
            .all(db)
            .await?;
        let listed_units: BTreeSet<i64> = lists_sent.iter().filter_map(|(u, _)| *u).collect();
        let lists_sent: BTreeSet<String> = lists_sent.into_iter().map(|(_, m)| m).collect();
        Ok(Self {
            ctx,
            ledger,
            invited,
            delegates,
            people,
            unit_ids,
            units,
            point_of_unit,
            listed_units,
            lists_sent,
        })
    }
}

/// Every message conference `conference_id` needs now, against what its recipients'
/// calendars hold (the ledger): invitations not sent yet, updates of those that changed
/// (same UID, higher SEQUENCE), cancellations to those no longer invited — or, once the
/// conference is cancelled, a cancellation to everyone holding an invitation. Who gets
/// what: see the module's documentation. Reply links point under `public_url`.
pub async fn fan_out(
    db: &impl ConnectionTrait,
    templates: &Templates,
    conference_id: i64,
    public_url: &str,
) -> Result<FanOut> {
    let inputs = Inputs::load(db, conference_id, public_url).await?;
    build(inputs, templates, usize::MAX, false, &mut |_| true)
}

/// [`fan_out`] from what it read: hands each `batch` messages to `emit` as they are
/// built, in the fan-out's order, with their ledger rows; the [`FanOut`] returned holds
/// the rest (all of them with `usize::MAX`) and the counts. Stops when `emit` refuses a
/// batch ([`FanOut::stopped`]). With `hand_over`, each message keeps its bytes as sent
/// too ([`NewMessage::raw`]), for this process's worker.
pub fn build(
    inputs: Inputs,
    templates: &Templates,
    batch: usize,
    hand_over: bool,
    emit: &mut Emit,
) -> Result<FanOut> {
    let Inputs {
        ctx,
        mut ledger,
        invited,
        delegates,
        people,
        unit_ids,
        units,
        point_of_unit,
        listed_units,
        lists_sent,
    } = inputs;
    let method = ctx.method();
    let c = &ctx.conference;
    let mut by_unit: BTreeMap<i64, Vec<&delegate::Model>> = BTreeMap::new();
    for d in &delegates {
        by_unit.entry(d.unit_id).or_default().push(d);
    }

    let mut out = FanOut {
        conference_id: c.id,
        method,
        messages: Vec::new(),
        units: Vec::new(),
        bridge_contacts: 0,
        unchanged: 0,
        cancellations: 0,
        problems: Vec::new(),
        sample: None,
        ledger: Vec::new(),
        pending: Vec::new(),
        batch: batch.max(1),
        per_unit: HashMap::new(),
        to_points: false,
        stopped: false,
        hand_over,
    };
    let standing = method == Method::Request;

    for unit_id in &unit_ids {
        let Some(u) = units.get(unit_id) else {
            continue;
        };
        let mailbox = u
            .mailbox
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty());
        let own = by_unit.get(unit_id).map(Vec::as_slice).unwrap_or_default();
        let mut lines = Vec::new();
        for d in own {
            let Some(who) = people.get(&d.person_id) else {
                continue;
            };
            match ctx.delegate_invite(d, who, Method::Request) {
                Ok(invite) => {
                    lines.push(SummaryLine {
                        number: lines.len() + 1,
                        name: person_name(who),
                        email: invite.attendees[0].party.email.clone(),
                        place: invite.location.clone(),
                    });
                    if standing {
                        out.offer(
                            &ctx,
                            &mut ledger,
                            invite,
                            Addressee::Delegate(d.id),
                            Meta {
                                kind: MessageKind::Invitation,
                                unit_id: Some(u.id),
                                delegate_id: Some(d.id),
                                bridge_point_id: None,
                                sequence: 0,
                                uid: None,
                                request: None,
                            },
                        )?;
                    }
                }
                Err(Error::Validation(errors)) => {
                    // Still a delegate: what their calendar holds is not cancelled
                    // (unless the conference is).
                    if standing {
                        ledger.keep(&uid(c.id, d.id));
                    }
                    out.problems
                        .extend(Problem::of(errors, Some(u.id), Some(d.id), None));
                }
                Err(e) => return Err(e),
            }
            if !out.ship(&ctx, templates, emit)? {
                return Ok(out);
            }
        }
        let (quota, venue, hall_id) =
            invited
                .get(unit_id)
                .copied()
                .unwrap_or((None, Venue::Hall, None));
        match mailbox {
            None => out.problems.push(Problem {
                field: "mailbox".into(),
                code: "missing_mailbox".into(),
                message: format!(
                    "{} chưa có hộp thư công vụ: đơn vị không nhận được {}.",
                    u.name,
                    if own.is_empty() {
                        "giấy mời cử đại biểu"
                    } else {
                        "danh sách đại biểu của mình"
                    }
                ),
                unit_id: Some(u.id),
                delegate_id: None,
                bridge_point_id: None,
            }),
            Some(mailbox) => {
                // A unit asked to nominate keeps that invitation (and hears of its
                // changes) once it has named its delegates.
                let nomination = unit_uid(c.id, u.id);
                if standing
                    && invited.contains_key(unit_id)
                    && (own.is_empty() || ledger.live(&nomination))
                {
                    let (location, place) = match venue {
                        Venue::Hall => {
                            let h = hall_id
                                .and_then(|h| ctx.halls.get(&h))
                                .or(ctx.main_hall.as_ref());
                            let text = h.map(agenda::hall_text).unwrap_or_default();
                            (text.clone(), format!("Địa điểm: {text}"))
                        }
                        Venue::BridgePoint => {
                            match point_of_unit.get(unit_id).and_then(|b| ctx.points.get(b)) {
                                Some(b) => {
                                    let text = point_text(b);
                                    (text.clone(), format!("Tham dự trực tuyến tại: {text}"))
                                }
                                None => (
                                    "Điểm cầu trực tuyến (sẽ thông báo)".into(),
                                    "Điểm cầu của đơn vị sẽ được thông báo sau.".into(),
                                ),
                            }
                        }
                        Venue::Online => ("Trực tuyến".into(), "Tham dự trực tuyến.".into()),
                    };
                    let how_many = match quota {
                        Some(q) => format!("{q:02} người"),
                        None => "đại biểu".into(),
                    };
                    let request = format!(
                        "Đề nghị {} cử {how_many} tham dự và gửi danh sách đại biểu (họ tên, chức vụ, e-mail) về {} qua hộp thư {}.",
                        u.name, ctx.organiser.name, ctx.organiser.email
                    );
                    let invite = ctx.invite(
                        Method::Request,
                        nomination,
                        location,
                        vec![place],
                        Attendee {
                            party: Party {
                                name: u.name.clone(),
                                email: mailbox.to_owned(),
                            },
                            role: DelegateRole::ReqParticipant,
                            reply: Reply::NeedsAction,
                        },
                    );
                    out.offer(
                        &ctx,
                        &mut ledger,
                        invite,
                        Addressee::Unit(u.id),
                        Meta {
                            kind: MessageKind::Nomination,
                            unit_id: Some(u.id),
                            delegate_id: None,
                            bridge_point_id: None,
                            sequence: 0,
                            uid: None,
                            request: Some(request),
                        },
                    )?;
                }
                if !own.is_empty() && (standing || listed_units.contains(unit_id)) {
                    let body = UnitSummaryBody {
                        unit: u.name.clone(),
                        organiser: ctx.organiser.name.clone(),
                        title: c.title.clone(),
                        when: ctx.when.clone(),
                        delegates: lines,
                        cancelled: !standing,
                    };
                    // The list's content is in its Message-ID: a changed list is a new
                    // message, the same list is never sent twice.
                    let what = if standing {
                        format!("summary-{}", list_digest(&body))
                    } else {
                        "summary-cancel".to_owned()
                    };
                    let message_id = crate::mail::message_id(
                        c.id,
                        Addressee::Unit(u.id),
                        ctx.sequence(),
                        &what,
                        &ctx.host,
                    );
                    if lists_sent.contains(&message_id) {
                        out.unchanged += 1;
                    } else {
                        let mail = crate::mail::Invitation {
                            from: ctx.organiser.clone(),
                            to: Party {
                                name: u.name.clone(),
                                email: mailbox.to_owned(),
                            },
                            subject: if standing {
                                format!("Danh sách đại biểu: {} — {}", c.title, ctx.when)
                            } else {
                                format!("Hủy: {} — {}", c.title, ctx.when)
                            },
                            text: render(templates, "email/unit_summary.txt", &body)?,
                            html: render(templates, "email/unit_summary.html", &body)?,
                            calendar: None,
                            message_id,
                        };
                        out.queue(
                            mail,
                            Meta {
                                kind: MessageKind::UnitSummary,
                                unit_id: Some(u.id),
                                delegate_id: None,
                                bridge_point_id: None,
                                sequence: ctx.sequence(),
                                uid: None,
                                request: None,
                            },
                        );
                    }
                }
            }
        }
        out.units.push(UnitPlan {
            unit_id: u.id,
            unit_name: u.name.clone(),
            mailbox: mailbox.map(str::to_owned),
            quota,
            delegates: own.len(),
            messages: 0,
            nomination: own.is_empty() && mailbox.is_some(),
        });
        if !out.ship(&ctx, templates, emit)? {
            return Ok(out);
        }
    }

    // The technical contact of each bridge point: the place and the meeting link.
    out.flush(&ctx, templates)?;
    out.to_points = true;
    let mut points: Vec<&bridge_point::Model> = ctx.points.values().collect();
    points.sort_by_key(|b| (b.position, b.id));
    for b in points {
        let Some(email) = b
            .contact_email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        else {
            out.problems.push(Problem {
                field: "contact_email".into(),
                code: "missing_contact_email".into(),
                message: format!(
                    "Điểm cầu {} chưa có e-mail của cán bộ kỹ thuật: không gửi được đường dẫn phòng họp.",
                    b.name
                ),
                unit_id: Some(b.host_unit_id),
                delegate_id: None,
                bridge_point_id: Some(b.id),
            });
            continue;
        };
        if !standing {
            continue;
        }
        let text = point_text(b);
        let mut lines = vec![
            format!("Cán bộ kỹ thuật điểm cầu: {text}"),
            "Đề nghị kết nối phòng họp trực tuyến trước giờ khai mạc.".into(),
        ];
        lines.extend(join_lines(
            b.join_url.as_deref().or(c.join_url.as_deref()),
            b.join_passcode.as_deref().or(c.join_passcode.as_deref()),
        ));
        let name = b
            .contact_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("Cán bộ kỹ thuật điểm cầu {}", b.name));
        let invite = ctx.invite(
            Method::Request,
            point_uid(c.id, b.id),
            text,
            lines,
            Attendee {
                party: Party {
                    name,
                    email: email.to_owned(),
                },
                role: DelegateRole::ReqParticipant,
                reply: Reply::NeedsAction,
            },
        );
        out.offer(
            &ctx,
            &mut ledger,
            invite,
            Addressee::BridgePoint(b.id),
            Meta {
                kind: MessageKind::BridgeContact,
                unit_id: Some(b.host_unit_id),
                delegate_id: None,
                bridge_point_id: Some(b.id),
                sequence: 0,
                uid: None,
                request: None,
            },
        )?;
        if !out.ship(&ctx, templates, emit)? {
            return Ok(out);
        }
    }
    out.flush(&ctx, templates)?;
    out.to_points = false;

    // Whoever holds an invitation that nothing above offered again: no longer invited
    // (or the conference is cancelled).
    for (r, sequence) in ledger.orphans(ctx.sequence()) {
        if let Some(invite) = out.cancel(&ctx, templates, &r, sequence)? {
            out.ledger.push(ledger::Write {
                uid: r.uid.clone(),
                kind: r.kind,
                unit_id: r.unit_id,
                delegate_id: r.delegate_id,
                bridge_point_id: r.bridge_point_id,
                name: r.recipient_name.clone(),
                email: r.recipient_email.clone(),
                location: r.location.clone(),
                sequence,
                method: Method::Cancel,
                fingerprint: ledger::fingerprint(&invite, None),
                rsvp_token: r.rsvp_token.clone(),
                reset_reply: false,
            });
        }
        if !out.ship(&ctx, templates, emit)? {
            return Ok(out);
        }
    }
    out.flush(&ctx, templates)?;
    for u in &mut out.units {
        u.messages = out.per_unit.get(&u.unit_id).copied().unwrap_or(0);
    }
    Ok(out)
}

/// How much lower than the rest of the process the threads that build messages run (a
/// `nice` value): they take whatever CPU the senders, the SQLite writer and the web
/// requests leave, all of it when those wait.
const BUILD_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority by [`BUILD_NICE`] (Linux keeps one per
/// thread). Only for a thread that ends with its work, never one of a runtime's, which
/// would keep it. Building the messages of a large send takes both cores of a small
/// server; at the same priority the writer and the senders, which commit and send the
/// batches already built, waited behind it: 10,061 invitations took 1.62–1.66 s end to
/// end, 1.46–1.48 s with the builders at nice 10 (bench/README.md). Where the system
/// refuses, the thread goes on as it is.
fn in_background() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        let lower = getpriority_process(me).map_or(BUILD_NICE, |n| (n + BUILD_NICE).min(19));
        if let Err(e) = setpriority_process(me, lower) {
            tracing::debug!(error = %e, "cannot lower the priority of a thread building messages");
        }
    }
}

/// The message of `mail` as the outbox keeps it (`store::outbox_body::pack`), and as it
/// is sent if it is to be handed over, on the thread that built it.
fn pack(mail: &crate::mail::Invitation, hand_over: bool) -> Result<Packed> {
    let built = crate::mail::build(mail)?;
    let packed = crate::store::outbox_body::pack(&built)
        .map_err(|e| Error::Internal(format!("cannot compress the message: {e}")))?;
    Ok(Packed {
        packed,
        raw: hand_over.then(|| built.wire()),
    })
}

/// A message built: as the outbox keeps it, and as it is sent (to hand over).
struct Packed {
    packed: Vec<u8>,
    raw: Option<Vec<u8>>,
}

/// Eight hex digits of the SHA-256 of a unit's list: the conference's title and time,
/// and who, at which address, where.
fn list_digest(body: &UnitSummaryBody) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [&body.title, &body.when] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for l in &body.delegates {
        for part in [&l.name, &l.email, &l.place] {
            h.update(part.as_bytes());
            h.update([0]);
        }
    }
    hex::encode(&h.finalize()[..4])
}

/// Rows of `E` by id, read in chunks.
async fn by_id<E, F>(
    db: &impl ConnectionTrait,
    ids: &BTreeSet<i64>,
    column: E::Column,
    key: F,
) -> Result<HashMap<i64, E::Model>>
where
    E: EntityTrait,
    F: Fn(&E::Model) -> i64,
{
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut map = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        for m in E::find()
            .filter(column.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            map.insert(key(&m), m);
        }
    }
    Ok(map)
}

/// A preview of what sending would do.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Preview {
    pub conference_id: i64,
    /// `REQUEST`, or `CANCEL` for a cancelled conference.
    pub method: String,
    /// Messages a send would add now.
    pub recipients: usize,
    pub units: Vec<UnitPlan>,
    pub bridge_contacts: usize,
    /// Recipients whose calendar holds the invitation as it is now.
    pub unchanged: usize,
    /// Cancellations among the messages.
    pub cancellations: usize,
    pub problems: Vec<Problem>,
    pub sample: Option<SampleMessage>,
}

/// One message as its recipient will read it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SampleMessage {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The calendar it carries, if any.
    pub calendar: Option<String>,
}

/// What `send` (or a sync after a change) did.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Sent {
    pub conference_id: i64,
    pub method: String,
    /// Messages added to the outbox.
    pub enqueued: u64,
    /// Messages that were in the outbox already (sent before, or on their way).
    pub already_queued: u64,
    /// Recipients whose calendar holds the invitation as it is now: nothing sent.
    pub unchanged: usize,
    /// Cancellations among the messages added.
    pub cancellations: usize,
    /// Older messages not sent yet that the new ones replace (dropped from the outbox).
    pub superseded: u64,
    pub problems: Vec<Problem>,
    /// The conference changed (or another sync took over) while this one was enqueueing:
    /// what it had not enqueued goes with the next sync, after the coalescing window.
    pub deferred: bool,
}

/// What sending the invitations of conference `id` would send now, without sending; `p`
/// must be allowed to edit it.
pub async fn preview(
    db: &sea_orm::DatabaseConnection,
    templates: &Templates,
    p: &Principal,
    id: i64,
    public_url: &str,
) -> Result<Preview> {
    crate::services::agenda::editable(db, p, id).await?;
    let f = fan_out(db, templates, id, public_url).await?;
    Ok(Preview {
        conference_id: id,
        method: f.method.as_str().into(),
        recipients: f.messages.len(),
        units: f.units,
        bridge_contacts: f.bridge_contacts,
        unchanged: f.unchanged,
        cancellations: f.cancellations,
        problems: f.problems,
        sample: f.sample.map(|m| SampleMessage {
            to: format!("{} <{}>", m.to.name, m.to.email),
            subject: m.subject,
            text: m.text,
            calendar: m.calendar.map(|c| c.ics),
        }),
    })
}

/// Sends the invitations of conference `id` as they should be now: `p` must be allowed
/// to edit it, and it must be published (or cancelled: then the messages are
/// cancellations). The first send invites everyone; later ones send only what changed
/// ([`sync`]).
pub async fn send(
    db: &sea_orm::DatabaseConnection,
    templates: &Templates,
    p: &Principal,
    id: i64,
    public_url: &str,
    how: &Syncing,
) -> Result<Sent> {
    crate::services::agenda::editable(db, p, id).await?;
    let sent = sync(db, templates, id, public_url, Trigger::Send, how)
        .await?
        .ok_or_else(|| Error::Internal("a send that sent nothing".into()))?;
    tracing::info!(
        conference_id = id,
        method = %sent.method,
        enqueued = sent.enqueued,
        unchanged = sent.unchanged,
        problems = sent.problems.len(),
        deferred = sent.deferred,
        user = %p.login,
        "invitations enqueued"
    );
    Ok(sent)
}

/// Why a sync runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Someone sends the invitations (the first time, or again).
    Send,
    /// The conference is marked ([`sync_due`]): by changes, which are synced only once
    /// its invitations are out, or by a send that did not enqueue everything, which is
    /// carried on.
    Changes,
}

/// Messages a sync enqueues per transaction by default.
pub const SYNC_BATCH: usize = 256;

/// A sync's mark whose heartbeat is older than this is taken over by the next
/// [`sync_due`]: its sync stopped (the process died) before enqueueing everything.
pub const CLAIM_STALE: std::time::Duration = std::time::Duration::from_secs(120);

/// Heartbeats at or before this, when it is `now_ms`, are stale ([`CLAIM_STALE`]).
fn stale_before(now_ms: i64) -> i64 {
    now_ms.saturating_sub(i64::try_from(CLAIM_STALE.as_millis()).unwrap_or(i64::MAX))
}

/// How a sync hands its messages to the outbox.
#[derive(Clone)]
pub struct Syncing {
    /// Messages enqueued per transaction, with their ledger rows: the outbox worker starts
    /// on the first batch while the next ones are built.
    pub batch: usize,
    /// This process's outbox worker: woken after each batch is committed, and handed
    /// its messages.
    pub worker: Option<crate::services::outbox::WorkerLink>,
    /// Awaited once the sync holds the conference's mark and after each batch it
    /// committed: to show the progress of a long send.
    pub progress: Option<Progress>,
}

/// See [`Syncing::progress`].
pub type Progress = std::sync::Arc<
    dyn Fn(Enqueueing) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync,
>;

/// How far a sync got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enqueueing {
    pub conference_id: i64,
    /// Batches committed: 0 right after the sync took the mark.
    pub batches: usize,
    /// Messages added to the outbox so far.
    pub enqueued: u64,
}

impl Default for Syncing {
    fn default() -> Self {
        Self {
            batch: SYNC_BATCH,
            worker: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for Syncing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncing")
            .field("batch", &self.batch)
            .field("worker", &self.worker.is_some())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Syncing {
    async fn report(&self, at: Enqueueing) {
        if at.batches > 0 {
            if let Some(w) = &self.worker {
                w.wake();
            }
        }
        if let Some(p) = &self.progress {
            p(at).await;
        }
    }
}

/// On PostgreSQL, locks conference `id`'s row for the transaction: the conference first,
/// then its mark, the order a write takes them in (its own row or a child's, then the
/// mark), so that the two cannot deadlock. `FOR NO KEY UPDATE`, not `FOR UPDATE`: it
/// waits for the writes that hold the conference (`FOR SHARE`, or the row updated) but
/// not for a foreign key's check (`FOR KEY SHARE`), such as that of a change's new mark
/// for this conference; with `FOR UPDATE`, that mark's insert would wait for the sync
/// while the sync's own mark waited for it. SQLite: the transaction's first statement
/// must write instead, to hold the write lock from there on.
async fn hold_conference(txn: &impl ConnectionTrait, id: i64) -> Result<()> {
    if crate::store::is_postgres(txn) {
        conference::Entity::find_by_id(id)
            .select_only()
            .column(conference::Column::Id)
            .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
            .into_tuple::<i64>()
            .one(txn)
            .await?;
    }
    Ok(())
}

/// What one batch's transaction did.
#[derive(Default)]
struct Committed {
    offered: u64,
    enqueued: u64,
    cancellations: usize,
    superseded: u64,
}

/// Enqueues `batch` and writes its recipients' ledger rows, in one transaction, if the
/// sync still holds conference `id`'s mark (`claim`): it refreshes the mark's heartbeat,
/// or, `last`, drops the mark. `None` when the mark is no longer the sync's (a change
/// marked the conference, or another sync took over): nothing is written.
async fn commit_batch(
    db: &sea_orm::DatabaseConnection,
    id: i64,
    claim: &str,
    batch: Batch,
    last: bool,
    worker: Option<&crate::services::outbox::WorkerLink>,
) -> Result<Option<Committed>> {
    use crate::store::invitation_sync;
    use sea_orm::TransactionTrait;
    // Everything the transaction writes is built first: it holds SQLite's one writer, which
    // the outbox worker waits for meanwhile, only as long as it takes to run it.
    let uids: Vec<String> = batch
        .messages
        .iter()
        .filter_map(|m| m.uid.clone())
        .collect();
    let cancellations = batch
        .messages
        .iter()
        .filter(|m| m.method == Some(Method::Cancel))
        .count();
    let offered = batch.messages.len() as u64;
    let backend = db.get_database_backend();
    let messages = crate::services::outbox::ToEnqueue::new(backend, batch.messages);
    let ledger = ledger::statements(backend, id, batch.ledger);
    let txn = db.begin().await?;
    hold_conference(&txn, id).await?;
    let mine = sea_orm::Condition::all()
        .add(invitation_sync::Column::ConferenceId.eq(id))
        .add(invitation_sync::Column::ClaimedBy.eq(claim));
    let held = if last {
        invitation_sync::Entity::delete_many()
            .filter(mine)
            .exec(&txn)
            .await?
            .rows_affected
    } else {
        invitation_sync::Entity::update_many()
            .col_expr(
                invitation_sync::Column::MarkedMs,
                sea_orm::sea_query::Expr::value(Utc::now().timestamp_millis()),
            )
            .filter(mine)
            .exec(&txn)
            .await?
            .rows_affected
    };
    if held == 0 {
        return Ok(None);
    }
    // Back in draft (which marks nothing): the send stops here. Its mark, left claimed,
    // goes stale, and the sync that takes it over finds the draft and drops it.
    let status = conference::Entity::find_by_id(id)
        .select_only()
        .column(conference::Column::Status)
        .into_tuple::<ConferenceStatus>()
        .one(&txn)
        .await?;
    if matches!(status, None | Some(ConferenceStatus::Draft)) {
        return Ok(None);
    }
    let superseded = crate::services::outbox::supersede(&txn, &uids).await?;
    let enqueued = messages.run(&txn).await?;
    for statement in ledger {
        txn.execute_raw(statement).await?;
    }
    txn.commit().await?;
    let added = enqueued.added;
    enqueued.hand_to(worker);
    Ok(Some(Committed {
        offered,
        enqueued: added,
        cancellations,
        superseded,
    }))
}

/// Brings the calendars of conference `id`'s recipients up to date: builds what each
/// should hold ([`fan_out`]), enqueues what differs from the ledger, drops older unsent
/// messages of the same UIDs (an outdated invitation must not arrive after its update or
/// cancellation), and records the ledger. `None` when `trigger` is [`Trigger::Changes`]
/// and there is nothing to sync (a draft, nothing sent yet, or the mark taken by another
/// sync). A draft cannot be sent (409).
///
/// One transaction reads everything under the conference's lock and takes its mark: it
/// deletes the mark of the changes it will sync and writes one of its own
/// (`invitation_sync.claimed_by`). The messages are then built on a blocking thread and
/// enqueued `how.batch` at a time, each batch with its recipients' ledger rows in a
/// transaction that first checks the mark is still the sync's, so that the worker sends
/// the first batches while the next ones are built and no transaction holds the
/// database for the whole of a large conference.
///
/// - A change meanwhile marks the conference again, which clears the claim: the sync stops
///   at its next batch ([`Sent::deferred`]), and the next one, after the coalescing
///   window, builds the rest from the ledger and the changed conference.
/// - Concurrent syncs of one conference: the later one takes the mark over, the earlier
///   one stops.
/// - A process that dies mid-way leaves its mark, whose heartbeat goes stale: [`sync_due`]
///   carries on after [`CLAIM_STALE`], sending even a first time (`send_asked`).
pub async fn sync(
    db: &sea_orm::DatabaseConnection,
    templates: &Templates,
    id: i64,
    public_url: &str,
    trigger: Trigger,
    how: &Syncing,
) -> Result<Option<Sent>> {
    use crate::store::invitation_sync;
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    hold_conference(&txn, id).await?;
    let mark = invitation_sync::Entity::delete_by_id(id)
        .exec_with_returning(&txn)
        .await?;
    // Read under the lock: a status changed meanwhile is seen here.
    let status = conference::Entity::find_by_id(id)
        .select_only()
        .column(conference::Column::Status)
        .into_tuple::<ConferenceStatus>()
        .one(&txn)
        .await?;
    let send_asked = trigger == Trigger::Send || mark.as_ref().is_some_and(|m| m.send_asked);
    let nothing_sent = || async {
        crate::store::invitation::Entity::find()
            .filter(crate::store::invitation::Column::ConferenceId.eq(id))
            .one(&txn)
            .await
            .map(|r| r.is_none())
    };
    match (trigger, status) {
        (_, None) => {
            return Err(Error::NotFound {
                entity: "conference",
                label: "hội nghị",
                id,
            });
        }
        (Trigger::Send, Some(ConferenceStatus::Draft)) => {
            return Err(Error::Conflict {
                field: Some("status".into()),
                message: "Hội nghị chưa công bố: hãy công bố trước khi gửi giấy mời.".into(),
            });
        }
        // Back in draft, or synced by another sync since it was listed.
        (Trigger::Changes, Some(status)) if mark.is_none() || status == ConferenceStatus::Draft => {
            txn.commit().await?;
            return Ok(None);
        }
        // Claimed since it was listed by a sync that is alive: its mark is put back, and
        // that sync goes on (taking it over would only make it stop and start again).
        (Trigger::Changes, Some(_))
            if mark.as_ref().is_some_and(|m| {
                m.claimed_by.is_some() && m.marked_ms > stale_before(Utc::now().timestamp_millis())
            }) =>
        {
            if let Some(m) = mark {
                sea_orm::ActiveModelTrait::insert(invitation_sync::ActiveModel::from(m), &txn)
                    .await?;
            }
            txn.commit().await?;
            return Ok(None);
        }
        (Trigger::Changes, Some(_)) if !send_asked && nothing_sent().await? => {
            txn.commit().await?;
            return Ok(None);
        }
        _ => {}
    }
    let inputs = Inputs::load(&txn, id, public_url).await?;
    let method = inputs.ctx.method();
    let claim = crate::services::auth::random_hex(16);
    // On PostgreSQL a change may have marked the conference since the delete above (a
    // person's or a hall's change marks without holding the conference): its mark is
    // there now, and this sync may have read the state before that change. The mark is
    // then left to a later sync — with this send's `send_asked` — and this one stops.
    let held = invitation_sync::Entity::insert(invitation_sync::ActiveModel {
        conference_id: sea_orm::ActiveValue::Set(id),
        marked_ms: sea_orm::ActiveValue::Set(Utc::now().timestamp_millis()),
        claimed_by: sea_orm::ActiveValue::Set(Some(claim.clone())),
        send_asked: sea_orm::ActiveValue::Set(send_asked),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(invitation_sync::Column::ConferenceId)
            .value(
                invitation_sync::Column::SendAsked,
                sea_orm::sea_query::Expr::cust("invitation_sync.send_asked OR excluded.send_asked"),
            )
            .to_owned(),
    )
    .exec_with_returning(&txn)
    .await?
    .claimed_by
    .as_deref()
        == Some(claim.as_str());
    txn.commit().await?;
    if !held {
        tracing::info!(
            conference_id = id,
            "invitations: the conference changed while the sync read it; the next sync sends"
        );
        return Ok(Some(Sent {
            conference_id: id,
            method: method.as_str().into(),
            enqueued: 0,
            already_queued: 0,
            unchanged: 0,
            cancellations: 0,
            superseded: 0,
            problems: Vec::new(),
            deferred: true,
        }));
    }
    let mut at = Enqueueing {
        conference_id: id,
        batches: 0,
        enqueued: 0,
    };
    how.report(at).await;

    // Built on a blocking thread, a batch ahead of the transactions that enqueue them.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(1);
    let builder = {
        let templates = templates.clone();
        let batch = how.batch;
        let hand_over = how.worker.as_ref().is_some_and(|w| w.handoff.is_some());
        tokio::task::spawn_blocking(move || {
            build(inputs, &templates, batch, hand_over, &mut |b| {
                tx.blocking_send(b).is_ok()
            })
        })
    };
    // The batches are written on the worker's connection where it runs here: the two
    // take turns, instead of waiting for each other at SQLite's write lock.
    let writer = how
        .worker
        .as_ref()
        .and_then(|w| w.writer.as_ref())
        .unwrap_or(db);
    let mut done = Committed::default();
    let mut held = true;
    let mut add = |c: Committed, at: &mut Enqueueing| {
        done.offered += c.offered;
        done.enqueued += c.enqueued;
        done.cancellations += c.cancellations;
        done.superseded += c.superseded;
        at.batches += 1;
        at.enqueued = done.enqueued;
    };
    while let Some(batch) = rx.recv().await {
        match commit_batch(writer, id, &claim, batch, false, how.worker.as_ref()).await? {
            Some(c) => add(c, &mut at),
            None => {
                held = false;
                break;
            }
        }
        how.report(at).await;
    }
    // A builder still running sees the channel closed and stops.
    drop(rx);
    let mut f = builder
        .await
        .map_err(|e| Error::Internal(format!("building the invitations stopped: {e}")))??;
    if held {
        let rest = Batch {
            messages: std::mem::take(&mut f.messages),
            ledger: std::mem::take(&mut f.ledger),
        };
        match commit_batch(writer, id, &claim, rest, true, how.worker.as_ref()).await? {
            Some(c) => {
                add(c, &mut at);
                how.report(at).await;
            }
            None => held = false,
        }
    }
    if done.superseded > 0 {
        tracing::info!(
            conference_id = id,
            superseded = done.superseded,
            "outbox: unsent messages replaced by newer ones"
        );
    }
    if !held {
        tracing::info!(
            conference_id = id,
            enqueued = done.enqueued,
            "invitations: the conference changed while its messages were enqueued; the next sync sends the rest"
        );
    }
    Ok(Some(Sent {
        conference_id: id,
        method: method.as_str().into(),
        enqueued: done.enqueued,
        already_queued: done.offered - done.enqueued,
        unchanged: f.unchanged,
        cancellations: done.cancellations,
        superseded: done.superseded,
        problems: f.problems,
        deferred: !held,
    }))
}

/// Syncs every conference marked by a change at least `window` ago (so edits within the
/// window go out as one update). A conference back in draft is left alone; one that
/// cannot be synced (its organiser lost its mailbox) is tried again a window later.
pub async fn sync_due(
    db: &sea_orm::DatabaseConnection,
    templates: &Templates,
    public_url: &str,
    window: std::time::Duration,
    how: &Syncing,
) -> Result<Vec<Sent>> {
    use crate::store::invitation_sync;
    let now = Utc::now().timestamp_millis();
    let due = now.saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
    let mut done = Vec::new();
    for id in ledger::marked(db, due, stale_before(now)).await? {
        match sync(db, templates, id, public_url, Trigger::Changes, how).await {
            Ok(None) => {}
            Ok(Some(sent)) => {
                tracing::info!(
                    conference_id = id,
                    method = %sent.method,
                    enqueued = sent.enqueued,
                    cancellations = sent.cancellations,
                    unchanged = sent.unchanged,
                    "invitations: changes sent"
                );
                done.push(sent);
            }
            Err(e) => {
                tracing::warn!(conference_id = id, error = %e, "invitations: sync failed, retried after the window");
                invitation_sync::Entity::update_many()
                    .col_expr(
                        invitation_sync::Column::MarkedMs,
                        sea_orm::sea_query::Expr::value(now),
                    )
                    .filter(invitation_sync::Column::ConferenceId.eq(id))
                    .exec(db)
                    .await?;
            }
        }
    }
    Ok(done)
}

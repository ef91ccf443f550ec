//! The invitation of one delegate to one conference, from the store: the days and hours
//! (from the conference, or its agenda day by day when it spans several days), the place
//! of that delegate (the hall, their bridge point, or online), the agenda as description,
//! the organising unit as ORGANIZER and the delegate as ATTENDEE.
//!
//! Join links go only to those who need them: a delegate attending online gets the
//! meeting link and passcode; a delegate at a bridge point gets the bridge point's place,
//! never the passcode (the bridge point's technical contact connects the room).
use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::calendar::invite::{Attendee, Day, Invite, Method, Party};
use crate::documents::agenda::{self, time_zone};
use crate::domain::format;
use crate::domain::kinds::Venue;
use crate::domain::validate::FieldError;
use crate::error::{Error, Result};
use crate::services::auth::Principal;
use crate::services::crud;
use crate::services::resources::conference::Conferences;
use crate::services::resources::delegate::Delegates;
use crate::store::{agenda_item, bridge_point, conference, hall, person, unit};

/// Reminders of an invitation when nothing else is configured: a day and an hour before.
pub fn default_alarms() -> Vec<Duration> {
    vec![Duration::days(1), Duration::hours(1)]
}

/// The UID of the invitation of `delegate` to `conference`: stable for the pair, never
/// derived from anything that changes (a person's address, the conference's title).
pub fn uid(conference: i64, delegate: i64) -> String {
    format!("hoinghi-conference-{conference}-delegate-{delegate}@hoinghi.invalid")
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
    let Some(email) = who.email.clone().filter(|e| !e.trim().is_empty()) else {
        return Err(Error::Validation(vec![FieldError::new(
            "email",
            "missing_email",
            format!("{} chưa có địa chỉ e-mail để nhận giấy mời.", who.full_name),
        )]));
    };
    let organiser = unit::Entity::find_by_id(c.organiser_unit_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "unit",
            label: "đơn vị",
            id: c.organiser_unit_id,
        })?;
    let Some(organiser_mailbox) = organiser.mailbox.clone().filter(|m| !m.trim().is_empty()) else {
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
    let items = agenda_item::Entity::find()
        .filter(agenda_item::Column::ConferenceId.eq(c.id))
        .order_by_asc(agenda_item::Column::StartsAt)
        .order_by_asc(agenda_item::Column::Id)
        .all(db)
        .await?;
    let (location, mut description) = place(db, &c, &d).await?;
    let agenda_text = agenda::rows_of(&c, &items, tz)
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
        .collect::<Vec<_>>();
    if !agenda_text.is_empty() {
        description.push(String::new());
        description.push("Chương trình:".into());
        description.extend(agenda_text);
    }
    Ok(Invite {
        method,
        uid: uid(c.id, d.id),
        sequence: u32::try_from(c.sequence).unwrap_or(0),
        stamp: Utc::now(),
        time_zone: tz,
        days: days(&c, &items, tz),
        summary: c.title.clone(),
        location,
        description: description.join("\n"),
        url: None,
        organizer: Party {
            name: organiser.name.clone(),
            email: organiser_mailbox,
        },
        attendees: vec![Attendee {
            party: Party {
                name: match who.honorific.as_deref().map(str::trim) {
                    Some(h) if !h.is_empty() => format!("{h} {}", who.full_name),
                    _ => who.full_name.clone(),
                },
                email,
            },
            role: d.role,
            reply: d.reply,
        }],
        alarms: if method == Method::Cancel {
            Vec::new()
        } else {
            default_alarms()
        },
    })
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

/// The delegate's LOCATION and the first lines of the description: where to go, and for
/// an online delegate how to join.
async fn place(
    db: &impl ConnectionTrait,
    c: &conference::Model,
    d: &crate::store::delegate::Model,
) -> Result<(String, Vec<String>)> {
    Ok(match d.venue {
        Venue::Hall => {
            let h = match d.hall_id {
                Some(h) => hall::Entity::find_by_id(h).one(db).await?,
                None => agenda::halls(db, &[c.id])
                    .await?
                    .remove(&c.id)
                    .and_then(|hs| hs.into_iter().next()),
            };
            let text = h.as_ref().map(agenda::hall_text).unwrap_or_default();
            (text.clone(), vec![format!("Địa điểm: {text}")])
        }
        Venue::BridgePoint => {
            let b = match d.bridge_point_id {
                Some(b) => {
                    bridge_point::Entity::find_by_id(b)
                        .filter(bridge_point::Column::ConferenceId.eq(c.id))
                        .one(db)
                        .await?
                }
                None => None,
            };
            match b {
                Some(b) => {
                    let mut parts = vec![format!("Điểm cầu {}", b.name)];
                    parts.extend(agenda::point_details(
                        &b.name,
                        b.room.as_deref(),
                        b.address.as_deref(),
                    ));
                    let text = parts.join(", ");
                    (
                        text.clone(),
                        vec![format!("Tham dự trực tuyến tại: {text}")],
                    )
                }
                None => (
                    "Điểm cầu trực tuyến (sẽ thông báo)".into(),
                    vec!["Điểm cầu của đại biểu sẽ được thông báo sau.".into()],
                ),
            }
        }
        Venue::Online => {
            let mut lines = vec!["Tham dự trực tuyến.".to_owned()];
            if let Some(url) = c.join_url.as_deref().filter(|u| !u.is_empty()) {
                lines.push(format!("Đường dẫn: {url}"));
            }
            if let Some(code) = c.join_passcode.as_deref().filter(|p| !p.is_empty()) {
                lines.push(format!("Mật khẩu phòng họp: {code}"));
            }
            ("Trực tuyến".into(), lines)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kinds::{ConferenceMode, ConferenceStatus};

    fn utc(s: &str) -> chrono::DateTime<Utc> {
        s.parse().expect("instant")
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
#[derive(Clone, Debug, serde::Serialize)]
pub struct EmailBody {
    pub recipient: String,
    pub organiser: String,
    pub title: String,
    /// `08h00' ngày 18/12/2024 (thứ Tư)`, or the span of a conference over several days.
    pub when: String,
    /// Place, join link (online delegates only), agenda: the calendar's description lines.
    pub details: Vec<String>,
    pub cancelled: bool,
}

impl EmailBody {
    /// A body with every field filled, for the start-up check of templates.
    pub fn sample() -> Self {
        Self {
            recipient: "Ông Nguyễn Văn An".into(),
            organiser: "Sở Giáo dục và Đào tạo Hải Phòng".into(),
            title: "Hội nghị tập huấn".into(),
            when: "08h00' ngày 18/12/2024 (thứ Tư)".into(),
            details: vec!["Địa điểm: Hội trường tầng 3".into()],
            cancelled: false,
        }
    }
}

/// The e-mail of the invitation of delegate `delegate_id` (REQUEST, or CANCEL): subject,
/// bodies from the templates, the calendar, and a Message-ID stable for (conference,
/// delegate, sequence, method) under the organiser's mail domain.
pub async fn email_for(
    db: &impl ConnectionTrait,
    templates: &crate::documents::templates::Templates,
    p: &Principal,
    conference_id: i64,
    delegate_id: i64,
    method: Method,
) -> Result<crate::mail::Invitation> {
    let invite = for_delegate(db, p, conference_id, delegate_id, method).await?;
    let first = invite
        .days
        .first()
        .copied()
        .ok_or(Error::Internal("an invitation without days".into()))?;
    let last = invite.days.last().copied().unwrap_or(first);
    let tz = invite.time_zone;
    let when = if invite.days.len() > 1 {
        format!(
            "từ {} đến {}",
            format::plan_start_at(first.starts_at, tz),
            format::plan_start_at(last.ends_at, tz)
        )
    } else {
        format::plan_start_at(first.starts_at, tz)
    };
    let attendee = invite
        .attendees
        .first()
        .cloned()
        .ok_or(Error::Internal("an invitation without attendee".into()))?;
    let body = EmailBody {
        recipient: attendee.party.name.clone(),
        organiser: invite.organizer.name.clone(),
        title: invite.summary.clone(),
        when: when.clone(),
        details: invite.description.lines().map(str::to_owned).collect(),
        cancelled: method == Method::Cancel,
    };
    let render = |name: &str| {
        templates
            .render(name, &body)
            .map_err(|e| Error::Internal(e.to_string()))
    };
    let host = invite
        .organizer
        .email
        .rsplit_once('@')
        .map_or("hoinghi.invalid", |(_, h)| h)
        .to_owned();
    let subject = match method {
        Method::Request => format!("Giấy mời: {} — {when}", invite.summary),
        Method::Cancel => format!("Hủy: {} — {when}", invite.summary),
    };
    Ok(crate::mail::Invitation {
        from: invite.organizer.clone(),
        to: attendee.party.clone(),
        subject,
        text: render("email/invitation.txt")?,
        html: render("email/invitation.html")?,
        ics: crate::calendar::invite::to_ics(&invite),
        method,
        message_id: crate::mail::message_id(
            conference_id,
            delegate_id,
            invite.sequence,
            method,
            &host,
        ),
    })
}

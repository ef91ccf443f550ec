//! The agenda (Chương trình) of one conference, as the seeded plans print it: a header
//! block, the title, the day and place, and a table of time, content and performer.
use std::collections::HashMap;

use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::header::{self, Header};

use crate::domain::format;
use crate::domain::time::{DEFAULT_TIME_ZONE, parse_tz};
use crate::error::Result;
use crate::services::crud;
use crate::services::links;
use crate::services::resources::conference::Conferences;
use crate::store::{agenda_item, conference, conference_hall, hall, plan};

/// What the agenda templates read.
#[derive(Clone, Debug, Serialize)]
pub struct AgendaDocument {
    /// The header block: parent body and issuer in capitals.
    pub header: Header,
    pub title: String,
    /// `ngày 18/12/2024 (thứ Tư)`, or a span of days for a multi-day conference.
    pub date: String,
    /// `8h00-11h30`
    pub time: String,
    /// The halls with their addresses; empty for an online-only conference.
    pub place: String,
    pub rows: Vec<AgendaRow>,
}

/// One row of the agenda table.
#[derive(Clone, Debug, Serialize)]
pub struct AgendaRow {
    /// `7h30-8h00`; on a multi-day conference each day's first row carries its date.
    pub time: String,
    /// The day, on the first row of each day of a multi-day conference; else empty.
    pub day: String,
    /// The content, one entry per line as entered.
    pub content: Vec<String>,
    /// The performer as printed, one entry per line; may be empty.
    pub performer: Vec<String>,
}

impl AgendaDocument {
    /// A document with every field filled: templates are checked against it at start-up.
    pub fn sample() -> Self {
        let row = |time: &str, day: &str, content: &str, performer: &str| AgendaRow {
            time: time.into(),
            day: day.into(),
            content: content.lines().map(str::to_owned).collect(),
            performer: performer.lines().map(str::to_owned).collect(),
        };
        Self {
            header: Header::sample(),
            title: "Hội nghị tập huấn".into(),
            date: "ngày 18/12/2024 (thứ Tư)".into(),
            time: "8h00-11h30".into(),
            place: "Hội trường tầng 3, số 36 phố Minh Khai".into(),
            rows: vec![
                row(
                    "7h30-8h00",
                    "ngày 18/12/2024 (thứ Tư)",
                    "Đón tiếp đại biểu",
                    "Ban tổ chức",
                ),
                row("8h00-8h10", "", "Khai mạc\nGiới thiệu đại biểu", ""),
            ],
        }
    }
}

/// The time zone a conference is read in (its own, else the default).
pub fn time_zone(c: &conference::Model) -> Tz {
    parse_tz(&c.time_zone)
        .or_else(|| parse_tz(DEFAULT_TIME_ZONE))
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
}

/// Builds the agenda of conference `id` from the store.
pub async fn load(db: &impl ConnectionTrait, id: i64) -> Result<AgendaDocument> {
    let c = crud::find::<Conferences>(db, id).await?;
    let tz = time_zone(&c);
    let issuer = match c.plan_id {
        Some(p) => plan::Entity::find_by_id(p).one(db).await?,
        None => None,
    };
    let header = match &issuer {
        Some(p) => header::load(db, p.issuing_unit_id, p.parent_body.as_deref()).await?,
        None => header::load(db, c.organiser_unit_id, None).await?,
    };
    let halls = halls(db, &[id]).await?.remove(&id).unwrap_or_default();
    let place = halls.iter().map(hall_text).collect::<Vec<_>>().join("; ");
    let rows = rows(db, &c, tz).await?;
    let start_day = format::local_date_time(c.starts_at, tz).date();
    let end_day = format::local_date_time(c.ends_at, tz).date();
    let date = if end_day > start_day {
        format!(
            "từ {} đến {}",
            format::text_date_with_weekday(start_day),
            format::text_date_with_weekday(end_day)
        )
    } else {
        format::text_date_with_weekday(start_day)
    };
    Ok(AgendaDocument {
        header,
        title: c.title,
        date,
        time: format::agenda_time_range_at(c.starts_at, c.ends_at, tz),
        place,
        rows,
    })
}

/// The halls of each conference, in id order.
pub async fn halls(
    db: &impl ConnectionTrait,
    conference_ids: &[i64],
) -> Result<HashMap<i64, Vec<hall::Model>>> {
    let links = links::load::<conference_hall::Entity>(
        db,
        conference_hall::Column::ConferenceId,
        conference_hall::Column::HallId,
        conference_ids,
    )
    .await?;
    let ids: Vec<i64> = links.values().flatten().copied().collect();
    let by_id: HashMap<i64, hall::Model> = hall::Entity::find()
        .filter(hall::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    Ok(links
        .into_iter()
        .map(|(c, hs)| (c, hs.iter().filter_map(|h| by_id.get(h).cloned()).collect()))
        .collect())
}

/// A hall as documents name it: `Hội trường tầng 3, số 36 phố Minh Khai`.
pub fn hall_text(h: &hall::Model) -> String {
    match &h.address {
        Some(a) if !a.trim().is_empty() => format!("{}, {}", h.name, a.trim()),
        _ => h.name.clone(),
    }
}

/// The rows of the agenda of conference `c`, read in `tz`: on a conference over several
/// days, the first row of each day carries the day.
pub async fn rows(
    db: &impl ConnectionTrait,
    c: &conference::Model,
    tz: Tz,
) -> Result<Vec<AgendaRow>> {
    Ok(rows_of(c, &items(db, c.id).await?, tz))
}

/// The agenda items of conference `id`, in order.
pub async fn items(db: &impl ConnectionTrait, id: i64) -> Result<Vec<agenda_item::Model>> {
    Ok(agenda_item::Entity::find()
        .filter(agenda_item::Column::ConferenceId.eq(id))
        .order_by_asc(agenda_item::Column::StartsAt)
        .order_by_asc(agenda_item::Column::Id)
        .all(db)
        .await?)
}

/// The rows of the agenda items `items` (in order) of conference `c`.
pub fn rows_of(c: &conference::Model, items: &[agenda_item::Model], tz: Tz) -> Vec<AgendaRow> {
    let start_day = format::local_date_time(c.starts_at, tz).date();
    let end_day = format::local_date_time(c.ends_at, tz).date();
    let multi_day = end_day > start_day;
    let mut last_day = None;
    items
        .iter()
        .map(|i| {
            let day = format::local_date_time(i.starts_at, tz).date();
            let first_of_day = multi_day && last_day != Some(day);
            last_day = Some(day);
            AgendaRow {
                time: format::agenda_time_range_at(i.starts_at, i.ends_at, tz),
                day: if first_of_day {
                    format::text_date_with_weekday(day)
                } else {
                    String::new()
                },
                content: lines(&i.content),
                performer: i.performer.as_deref().map(lines).unwrap_or_default(),
            }
        })
        .collect()
}

/// What documents add after a bridge point's name: its room and address, each when it
/// is given and the name does not already say it.
pub fn point_details(name: &str, room: Option<&str>, address: Option<&str>) -> Vec<String> {
    [room, address]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty() && !name.contains(s))
        .map(str::to_owned)
        .collect()
}

/// The non-empty lines of `s`, trimmed.
pub fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

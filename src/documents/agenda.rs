//! The agenda (Chương trình) of one conference, as the seeded plans print it: a header
//! block, the title, the day and place, and a table of time, content and performer.
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::domain::format;
use crate::domain::time::{DEFAULT_TIME_ZONE, parse_tz};
use crate::error::Result;
use crate::services::crud;
use crate::services::links;
use crate::services::resources::conference::Conferences;
use crate::store::{agenda_item, conference, conference_hall, hall, plan, unit};

/// What the agenda templates read.
#[derive(Clone, Debug, Serialize)]
pub struct AgendaDocument {
    /// The body above the issuer, in capitals (`UBND THÀNH PHỐ HẢI PHÒNG`); may be empty.
    pub parent_body: String,
    /// The issuer in capitals (`SỞ GIÁO DỤC VÀ ĐÀO TẠO`).
    pub issuing_body: String,
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
            parent_body: "UBND THÀNH PHỐ HẢI PHÒNG".into(),
            issuing_body: "SỞ GIÁO DỤC VÀ ĐÀO TẠO".into(),
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

/// Builds the agenda of conference `id` from the store.
pub async fn load(db: &impl ConnectionTrait, id: i64) -> Result<AgendaDocument> {
    let c = crud::find::<Conferences>(db, id).await?;
    let tz: Tz = parse_tz(&c.time_zone)
        .or_else(|| parse_tz(DEFAULT_TIME_ZONE))
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    let (parent_body, issuing_body) = header(db, &c).await?;
    let hall_ids = links::load::<conference_hall::Entity>(
        db,
        conference_hall::Column::ConferenceId,
        conference_hall::Column::HallId,
        &[id],
    )
    .await?
    .remove(&id)
    .unwrap_or_default();
    let halls = hall::Entity::find()
        .filter(hall::Column::Id.is_in(hall_ids))
        .order_by_asc(hall::Column::Id)
        .all(db)
        .await?;
    let place = halls
        .iter()
        .map(|h| match &h.address {
            Some(a) if !a.is_empty() => format!("{}, {a}", h.name),
            _ => h.name.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let items = agenda_item::Entity::find()
        .filter(agenda_item::Column::ConferenceId.eq(id))
        .order_by_asc(agenda_item::Column::StartsAt)
        .order_by_asc(agenda_item::Column::Id)
        .all(db)
        .await?;
    let start_day = format::local_date_time(c.starts_at, tz).date();
    let end_day = format::local_date_time(c.ends_at, tz).date();
    let multi_day = end_day > start_day;
    let mut last_day = None;
    let rows = items
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
        .collect();
    let date = if multi_day {
        format!(
            "từ {} đến {}",
            format::text_date_with_weekday(start_day),
            format::text_date_with_weekday(end_day)
        )
    } else {
        format::text_date_with_weekday(start_day)
    };
    Ok(AgendaDocument {
        parent_body,
        issuing_body,
        title: c.title,
        date,
        time: format::agenda_time_range_at(c.starts_at, c.ends_at, tz),
        place,
        rows,
    })
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The header block: the plan's parent body and issuer when the conference belongs to a
/// plan, else the organiser's parent unit and the organiser, in capitals.
async fn header(db: &impl ConnectionTrait, c: &conference::Model) -> Result<(String, String)> {
    let organiser = unit::Entity::find_by_id(c.organiser_unit_id)
        .one(db)
        .await?;
    let plan = match c.plan_id {
        Some(p) => plan::Entity::find_by_id(p).one(db).await?,
        None => None,
    };
    let issuer_id = plan
        .as_ref()
        .map_or(c.organiser_unit_id, |p| p.issuing_unit_id);
    let issuer = match &organiser {
        Some(o) if o.id == issuer_id => Some(o.clone()),
        _ => unit::Entity::find_by_id(issuer_id).one(db).await?,
    };
    let parent = match plan.as_ref().and_then(|p| p.parent_body.clone()) {
        Some(body) => body,
        None => match issuer.as_ref().and_then(|u| u.parent_id) {
            Some(pid) => unit::Entity::find_by_id(pid)
                .one(db)
                .await?
                .map(|u| u.name)
                .unwrap_or_default(),
            None => String::new(),
        },
    };
    let issuing = issuer.map(|u| u.name).unwrap_or_default();
    Ok((parent.to_uppercase(), issuing.to_uppercase()))
}

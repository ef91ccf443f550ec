//! The invitation letter (Giấy mời, Nghị định 30/2020/NĐ-CP, Phụ lục III, mẫu 1.7) of one
//! conference to one invited unit: whom it asks to send (each attendance rule that invites
//! the unit, with its quota), when, where (the hall, or the unit's bridge point), and the
//! delegates already nominated.
use chrono::{Datelike, Month, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::agenda;
use super::header::{self, Header};
use super::plan::{Signature, numbered};
use crate::domain::format::{self, DaySpan, DocumentDate};
use crate::domain::kinds::Venue;
use crate::domain::validate::FieldError;
use crate::error::{Error, Result};
use crate::services::checks::required_units;
use crate::services::crud;
use crate::services::resources::conference::Conferences;
use crate::services::resources::unit::Units;
use crate::store::{
    attendance_rule, bridge_point, bridge_point_unit, delegate, hall, person, plan, unit,
};

/// What the letter templates and the DOCX writer read.
#[derive(Clone, Debug, Serialize)]
pub struct LetterDocument {
    pub header: Header,
    /// `Số:      /GM-SGDĐT`
    pub number: String,
    pub place_date: String,
    /// `GIẤY MỜI`
    pub kind: String,
    /// `Dự Hội nghị tập huấn về …`
    pub title: String,
    /// `Sở GDĐT trân trọng kính mời:`
    pub inviter: String,
    /// The unit invited.
    pub addressee: String,
    /// What each rule that invites the unit asks of it, with its quota when it has one
    /// (`… (01 người/đơn vị)`).
    pub composition: Vec<String>,
    /// `Thời gian: 08h00' ngày 18/12/2024 (thứ Tư)` (and the end on a conference over
    /// several days).
    pub time: String,
    /// `Địa điểm: …`: the hall, or the unit's bridge point.
    pub place: String,
    /// The delegates already nominated (`Ông Nguyễn Văn A, Hiệu trưởng`); may be empty.
    pub delegates: Vec<String>,
    /// Closing paragraphs; the last ends `./.`.
    pub closing: Vec<String>,
    pub recipients: Vec<String>,
    pub signature: Signature,
}

impl LetterDocument {
    /// A letter with every field filled, for the start-up check of templates.
    pub fn sample() -> Self {
        Self {
            header: Header::sample(),
            number: "Số:      /GM-SGDĐT".into(),
            place_date: "Hải Phòng, ngày      tháng 12 năm 2024".into(),
            kind: "GIẤY MỜI".into(),
            title: "Dự Hội nghị tập huấn".into(),
            inviter: "Sở GDĐT trân trọng kính mời:".into(),
            addressee: "UBND huyện Thủy Nguyên".into(),
            composition: vec!["01 đại biểu là Lãnh đạo UBND huyện.".into()],
            time: "Thời gian: 08h00' ngày 18/12/2024 (thứ Tư).".into(),
            place: "Địa điểm: Hội trường tầng 3.".into(),
            delegates: vec!["Ông Uông Minh Long, Phó Chủ tịch".into()],
            closing: vec!["Rất mong đại biểu đến dự đúng thời gian./.".into()],
            recipients: vec!["- Như trên;".into(), "- Lưu: VT.".into()],
            signature: Signature {
                authority: vec!["KT. GIÁM ĐỐC".into()],
                position: "PHÓ GIÁM ĐỐC".into(),
                name: "Nguyễn Văn A".into(),
            },
        }
    }
}

/// Builds the letter of conference `id` to unit `unit_id`. A unit that no attendance rule
/// of the conference invites gets a 422 naming `unit_id`.
pub async fn load(db: &impl ConnectionTrait, id: i64, unit_id: i64) -> Result<LetterDocument> {
    let c = crud::find::<Conferences>(db, id).await?;
    let addressee = crud::find::<Units>(db, unit_id).await?;
    let tz = agenda::time_zone(&c);
    let rules = crate::services::checks::rules_of(db, id).await?;
    let mut inviting = Vec::new();
    for r in rules {
        if required_units(db, &r).await?.contains(&unit_id) {
            inviting.push(r);
        }
    }
    if inviting.is_empty() {
        return Err(Error::Validation(vec![FieldError::new(
            "unit_id",
            "not_invited",
            format!(
                "{} không thuộc thành phần được mời dự hội nghị này.",
                addressee.name
            ),
        )]));
    }
    let p = match c.plan_id {
        Some(p) => plan::Entity::find_by_id(p).one(db).await?,
        None => None,
    };
    let issuer_id = p
        .as_ref()
        .map_or(c.organiser_unit_id, |p| p.issuing_unit_id);
    let header = header::load(
        db,
        issuer_id,
        p.as_ref().and_then(|p| p.parent_body.as_deref()),
    )
    .await?;
    let issuer = unit::Entity::find_by_id(issuer_id).one(db).await?;
    let issuer_short = issuer
        .as_ref()
        .map(|u| u.short_name.clone().unwrap_or_else(|| u.name.clone()))
        .unwrap_or_default();
    let symbol = match &p {
        Some(p) => p.symbol.replacen("KH-", "GM-", 1),
        None => format!(
            "GM-{}",
            issuer
                .as_ref()
                .and_then(|u| u.abbreviation.clone())
                .unwrap_or_default()
        ),
    };
    let today = format::local_date_time(Utc::now(), tz).date();
    let month = u8::try_from(today.month())
        .ok()
        .and_then(|m| Month::try_from(m).ok());
    let date = month.map_or(DocumentDate::YearOnly(today.year()), |m| {
        DocumentDate::MonthAndYear(m, today.year())
    });
    let place_name = p
        .as_ref()
        .map(|p| p.place.clone())
        .or_else(|| issuer.as_ref().and_then(|u| u.address.clone()))
        .unwrap_or_default();

    let composition = inviting
        .iter()
        .map(|r| {
            let text = agenda::lines(&r.description).join(" ");
            let quota = r
                .quota
                .and_then(|q| u64::try_from(q).ok())
                .map(|q| format::quota(q, "người", "đơn vị"));
            match quota {
                Some(q) if !text.contains(&q) => format!("{text} Số lượng: {q}."),
                _ => text,
            }
        })
        .collect();

    let span = DaySpan::between(c.starts_at, c.ends_at, tz);
    let time = match span {
        DaySpan::Days(n) if n > 1 => format!(
            "Thời gian: {span}, từ {} đến {}.",
            format::plan_start_at(c.starts_at, tz),
            format::plan_start_at(c.ends_at, tz)
        ),
        _ => format!(
            "Thời gian: {}, bắt đầu từ {}.",
            span,
            format::plan_start_at(c.starts_at, tz)
        ),
    };
    let place = letter_place(db, &c, unit_id, &inviting).await?;
    let delegates = nominated(db, id, unit_id).await?;
    let closing = vec![format!(
        "{issuer_short} đề nghị {} cử đại biểu tham dự đúng thành phần, số lượng và thời gian./.",
        addressee.short_name.as_deref().unwrap_or(&addressee.name)
    )];
    let archive = p
        .as_ref()
        .and_then(|p| p.archive.clone())
        .unwrap_or_else(|| "VT".into());
    Ok(LetterDocument {
        header,
        number: numbered("Số:", None, &symbol),
        place_date: format::place_and_date(&place_name, date),
        kind: "GIẤY MỜI".into(),
        title: format!("Dự {}", c.title),
        inviter: format!("{issuer_short} trân trọng kính mời:"),
        addressee: addressee.name.clone(),
        composition,
        time,
        place,
        delegates,
        closing,
        recipients: vec![
            "- Như trên;".into(),
            format!("- Lưu: {}.", archive.trim_end_matches('.')),
        ],
        signature: Signature {
            authority: p
                .as_ref()
                .map(|p| agenda::lines(p.signatory_authority.as_deref().unwrap_or_default()))
                .unwrap_or_default(),
            position: p
                .as_ref()
                .map(|p| p.signatory_position.clone())
                .unwrap_or_default(),
            name: p
                .as_ref()
                .map(|p| p.signatory_name.clone())
                .unwrap_or_default(),
        },
    })
}

/// Where the unit sits: its bridge point when a rule seats it at one, else the hall of
/// the rule (or of the conference).
async fn letter_place(
    db: &impl ConnectionTrait,
    c: &crate::store::conference::Model,
    unit_id: i64,
    rules: &[attendance_rule::Model],
) -> Result<String> {
    if rules.iter().any(|r| r.venue == Venue::BridgePoint) {
        let points: Vec<i64> = bridge_point_unit::Entity::find()
            .filter(bridge_point_unit::Column::UnitId.eq(unit_id))
            .all(db)
            .await?
            .into_iter()
            .map(|l| l.bridge_point_id)
            .collect();
        let point = bridge_point::Entity::find()
            .filter(bridge_point::Column::Id.is_in(points))
            .filter(bridge_point::Column::ConferenceId.eq(c.id))
            .order_by_asc(bridge_point::Column::Id)
            .one(db)
            .await?;
        return Ok(match point {
            Some(b) => {
                let mut parts = vec![b.name.clone()];
                parts.extend(agenda::point_details(
                    &b.name,
                    b.room.as_deref(),
                    b.address.as_deref(),
                ));
                format!("Địa điểm: trực tuyến tại điểm cầu {}.", parts.join(", "))
            }
            None => {
                "Địa điểm: trực tuyến tại điểm cầu do đơn vị điều phối bố trí (sẽ thông báo sau)."
                    .into()
            }
        });
    }
    if rules.iter().all(|r| r.venue == Venue::Online) {
        return Ok("Địa điểm: trực tuyến (đường dẫn tham dự gửi riêng cho từng đại biểu).".into());
    }
    let hall_id = rules.iter().find_map(|r| r.hall_id);
    let halls = match hall_id {
        Some(h) => hall::Entity::find_by_id(h).all(db).await?,
        None => agenda::halls(db, &[c.id])
            .await?
            .remove(&c.id)
            .unwrap_or_default(),
    };
    Ok(match halls.first() {
        Some(h) => format!("Địa điểm: {}.", agenda::hall_text(h)),
        None => "Địa điểm: sẽ thông báo sau.".into(),
    })
}

/// The unit's delegates to the conference: `Ông Nguyễn Văn A, Hiệu trưởng`.
async fn nominated(db: &impl ConnectionTrait, id: i64, unit_id: i64) -> Result<Vec<String>> {
    let ids: Vec<i64> = delegate::Entity::find()
        .filter(delegate::Column::ConferenceId.eq(id))
        .filter(delegate::Column::UnitId.eq(unit_id))
        .order_by_asc(delegate::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.person_id)
        .collect();
    let mut people: std::collections::HashMap<i64, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let rows: Vec<person::Model> = ids.iter().filter_map(|i| people.remove(i)).collect();
    Ok(rows
        .into_iter()
        .map(|p| {
            let name = match p.honorific.as_deref().map(str::trim) {
                Some(h) if !h.is_empty() => format!("{h} {}", p.full_name),
                _ => p.full_name.clone(),
            };
            match p.position.as_deref().map(str::trim) {
                Some(pos) if !pos.is_empty() => format!("{name}, {pos}"),
                _ => name,
            }
        })
        .collect())
}

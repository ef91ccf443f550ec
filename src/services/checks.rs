//! Scheduling checks over stored conferences: loads what [`crate::domain::checks`] needs
//! (the conferences asked about, and every other conference whose time overlaps them, since
//! a clash needs two sides) and runs the checker.
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::checks::{self, Diagnostic, Severity, Snapshot};
use crate::domain::kinds::ConferenceStatus;
use crate::error::{Error, Result};
use crate::services::crud;
use crate::services::links;
use crate::services::resources::conference::Conferences;
use crate::store::scope::subtree_of;
use crate::store::{
    agenda_item, agenda_item_speaker, attendance_rule, attendance_rule_unit, bridge_point,
    bridge_point_unit, conference, conference_hall, delegate, hall, person, speaker, unit,
};

/// Rows per `IN (…)` list, well under SQLite's 32,766 parameters.
const CHUNK: usize = 5_000;

/// What the checks found.
#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    /// Number of diagnostics of severity `error`: nothing may be published while any remain.
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    fn new(diagnostics: Vec<Diagnostic>) -> Self {
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        Self {
            errors,
            warnings: diagnostics.len() - errors,
            diagnostics,
        }
    }

    /// Whether an error remains.
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }
}

/// Lets `report` through, or refuses a publication while it holds an error (409 with the
/// diagnostics; the caller's transaction is then rolled back, so nothing changes).
pub fn refuse_if_errors(report: Report) -> Result<Report> {
    if !report.has_errors() {
        return Ok(report);
    }
    Err(Error::ChecksFailed {
        message: format!(
            "Chưa thể công bố hội nghị: còn {} lỗi lịch cần xử lý trước (xem danh sách).",
            report.errors
        ),
        diagnostics: report.diagnostics,
    })
}

/// The report as a text table for a terminal: level, code, conferences, message.
pub fn table(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if report.diagnostics.is_empty() {
        out.push_str("Không phát hiện lỗi hay cảnh báo nào.\n");
        return out;
    }
    let rows: Vec<[String; 4]> = report
        .diagnostics
        .iter()
        .map(|d| {
            let level = match d.severity {
                Severity::Error => "LỖI",
                Severity::Warning => "cảnh báo",
            };
            let confs: Vec<String> = d.conference_ids.iter().map(i64::to_string).collect();
            [
                level.to_owned(),
                d.code.as_str().to_owned(),
                confs.join(","),
                d.message.clone(),
            ]
        })
        .collect();
    let header = ["Mức", "Mã", "Hội nghị", "Nội dung"].map(str::to_owned);
    let width = |i: usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    for r in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (i, w) in widths.iter().enumerate() {
            let pad = w - r[i].chars().count();
            let _ = write!(line, "{}{}  ", r[i], " ".repeat(pad));
        }
        line.push_str(&r[3]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n{} lỗi, {} cảnh báo.",
        report.errors, report.warnings
    );
    out
}

/// Checks one conference (against every other conference it overlaps).
pub async fn for_conference(db: &impl ConnectionTrait, id: i64) -> Result<Report> {
    let c = crud::find::<Conferences>(db, id).await?;
    run(db, vec![c]).await
}

/// Checks every conference of a plan.
pub async fn for_plan(db: &impl ConnectionTrait, plan_id: i64) -> Result<Report> {
    if crate::store::plan::Entity::find_by_id(plan_id)
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::NotFound {
            entity: "plan",
            label: "kế hoạch",
            id: plan_id,
        });
    }
    let focus = conference::Entity::find()
        .filter(conference::Column::PlanId.eq(plan_id))
        .all(db)
        .await?;
    run(db, focus).await
}

/// Checks every conference whose time overlaps `[from, to)`.
pub async fn for_period(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Report> {
    let focus = overlapping(db, from, to).await?;
    run(db, focus).await
}

/// Conferences, cancelled ones included (the checker ignores them), overlapping `[from, to)`.
async fn overlapping(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<conference::Model>> {
    Ok(conference::Entity::find()
        .filter(conference::Column::StartsAt.lt(to))
        .filter(conference::Column::EndsAt.gt(from))
        .order_by_asc(conference::Column::StartsAt)
        .all(db)
        .await?)
}

async fn run(db: &impl ConnectionTrait, focus: Vec<conference::Model>) -> Result<Report> {
    let focus_ids: HashSet<i64> = focus.iter().map(|c| c.id).collect();
    let Some(window) = window(db, &focus).await? else {
        return Ok(Report::new(Vec::new()));
    };
    // The other side of a clash lies in the focus's time span; agenda items outside their
    // conference's window widen it, so that their clashes are found too.
    let mut all = overlapping(db, window.0, window.1).await?;
    for c in focus {
        if !all.iter().any(|o| o.id == c.id) {
            all.push(c);
        }
    }
    all.retain(|c| c.status != ConferenceStatus::Cancelled || focus_ids.contains(&c.id));
    let snapshot = load(db, all).await?;
    Ok(Report::new(checks::check(&snapshot, Some(&focus_ids))))
}

/// The earliest start and latest end of the conferences and of their agenda items.
async fn window(
    db: &impl ConnectionTrait,
    focus: &[conference::Model],
) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
    let mut from = focus.iter().map(|c| c.starts_at).min();
    let mut to = focus.iter().map(|c| c.ends_at).max();
    let ids: Vec<i64> = focus.iter().map(|c| c.id).collect();
    for chunk in ids.chunks(CHUNK) {
        let items: Vec<(DateTime<Utc>, DateTime<Utc>)> = agenda_item::Entity::find()
            .select_only()
            .columns([agenda_item::Column::StartsAt, agenda_item::Column::EndsAt])
            .filter(agenda_item::Column::ConferenceId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (s, e) in items {
            from = from.map(|f| f.min(s).min(e));
            to = to.map(|t| t.max(e).max(s));
        }
    }
    Ok(from.zip(to))
}

/// Reads the conferences and everything they hold into a [`Snapshot`].
pub async fn load(db: &impl ConnectionTrait, confs: Vec<conference::Model>) -> Result<Snapshot> {
    let ids: Vec<i64> = confs.iter().map(|c| c.id).collect();
    let halls_of = links::load::<conference_hall::Entity>(
        db,
        conference_hall::Column::ConferenceId,
        conference_hall::Column::HallId,
        &ids,
    )
    .await?;
    let items = by_conference(db, &ids, |chunk| {
        agenda_item::Entity::find()
            .filter(agenda_item::Column::ConferenceId.is_in(chunk))
            .order_by_asc(agenda_item::Column::StartsAt)
    })
    .await?;
    let item_ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let speakers_of = links::load::<agenda_item_speaker::Entity>(
        db,
        agenda_item_speaker::Column::AgendaItemId,
        agenda_item_speaker::Column::SpeakerId,
        &item_ids,
    )
    .await?;
    let points = by_conference(db, &ids, |chunk| {
        bridge_point::Entity::find()
            .filter(bridge_point::Column::ConferenceId.is_in(chunk))
            .order_by_asc(bridge_point::Column::Position)
    })
    .await?;
    let point_ids: Vec<i64> = points.iter().map(|p| p.id).collect();
    let units_of_point = links::load::<bridge_point_unit::Entity>(
        db,
        bridge_point_unit::Column::BridgePointId,
        bridge_point_unit::Column::UnitId,
        &point_ids,
    )
    .await?;
    let rules = by_conference(db, &ids, |chunk| {
        attendance_rule::Entity::find()
            .filter(attendance_rule::Column::ConferenceId.is_in(chunk))
            .order_by_asc(attendance_rule::Column::Position)
    })
    .await?;
    let mut units_of_rule = HashMap::new();
    for r in &rules {
        units_of_rule.insert(r.id, required_units(db, r).await?);
    }
    let delegates = by_conference(db, &ids, |chunk| {
        delegate::Entity::find()
            .filter(delegate::Column::ConferenceId.is_in(chunk))
            .order_by_asc(delegate::Column::Id)
    })
    .await?;

    let mut unit_ids = BTreeSet::new();
    unit_ids.extend(points.iter().map(|p| p.host_unit_id));
    unit_ids.extend(units_of_point.values().flatten().copied());
    unit_ids.extend(units_of_rule.values().flatten().copied());
    unit_ids.extend(delegates.iter().map(|d| d.unit_id));
    let person_ids: BTreeSet<i64> = delegates.iter().map(|d| d.person_id).collect();
    let speaker_ids: BTreeSet<i64> = speakers_of.values().flatten().copied().collect();
    let hall_ids: BTreeSet<i64> = halls_of.values().flatten().copied().collect();

    let mut snapshot = Snapshot {
        unit_names: names(db, &unit_ids, |chunk| {
            unit::Entity::find()
                .select_only()
                .columns([unit::Column::Id, unit::Column::Name])
                .filter(unit::Column::Id.is_in(chunk))
        })
        .await?,
        person_names: names(db, &person_ids, |chunk| {
            person::Entity::find()
                .select_only()
                .columns([person::Column::Id, person::Column::FullName])
                .filter(person::Column::Id.is_in(chunk))
        })
        .await?,
        speaker_names: names(db, &speaker_ids, |chunk| {
            speaker::Entity::find()
                .select_only()
                .columns([speaker::Column::Id, speaker::Column::FullName])
                .filter(speaker::Column::Id.is_in(chunk))
        })
        .await?,
        ..Snapshot::default()
    };
    let halls = hall::Entity::find()
        .filter(hall::Column::Id.is_in(hall_ids))
        .all(db)
        .await?;
    snapshot.halls = halls
        .into_iter()
        .map(|h| {
            let info = checks::HallInfo {
                name: h.name,
                capacity: h.capacity,
                time_zone: h.time_zone,
            };
            (h.id, info)
        })
        .collect();

    let mut per_conf: HashMap<i64, checks::Conference> = confs
        .into_iter()
        .map(|c| {
            let conf = checks::Conference {
                id: c.id,
                title: c.title,
                starts_at: c.starts_at,
                ends_at: c.ends_at,
                time_zone: c.time_zone,
                status: c.status,
                hall_ids: halls_of.get(&c.id).cloned().unwrap_or_default(),
                agenda: Vec::new(),
                bridge_points: Vec::new(),
                rules: Vec::new(),
                delegates: Vec::new(),
            };
            (c.id, conf)
        })
        .collect();
    for i in items {
        if let Some(c) = per_conf.get_mut(&i.conference_id) {
            c.agenda.push(checks::AgendaItem {
                id: i.id,
                starts_at: i.starts_at,
                ends_at: i.ends_at,
                speaker_ids: speakers_of.get(&i.id).cloned().unwrap_or_default(),
                content: i.content,
            });
        }
    }
    for p in points {
        if let Some(c) = per_conf.get_mut(&p.conference_id) {
            c.bridge_points.push(checks::BridgePoint {
                id: p.id,
                unit_ids: units_of_point.get(&p.id).cloned().unwrap_or_default(),
                name: p.name,
                host_unit_id: p.host_unit_id,
                room: p.room,
                capacity: p.capacity,
            });
        }
    }
    for r in rules {
        if let Some(c) = per_conf.get_mut(&r.conference_id) {
            c.rules.push(checks::AttendanceRule {
                id: r.id,
                unit_ids: units_of_rule.remove(&r.id).unwrap_or_default(),
                description: r.description,
                venue: r.venue,
                hall_id: r.hall_id,
                quota: r.quota,
            });
        }
    }
    for d in delegates {
        if let Some(c) = per_conf.get_mut(&d.conference_id) {
            c.delegates.push(checks::Delegate {
                id: d.id,
                person_id: d.person_id,
                unit_id: d.unit_id,
                rule_id: d.attendance_rule_id,
                venue: d.venue,
                hall_id: d.hall_id,
                bridge_point_id: d.bridge_point_id,
            });
        }
    }
    let mut conferences: Vec<checks::Conference> = per_conf.into_values().collect();
    conferences.sort_by_key(|c| (c.starts_at, c.id));
    snapshot.conferences = conferences;
    Ok(snapshot)
}

/// Rows of one entity for the given conferences, read in chunks of ids.
async fn by_conference<E, F>(
    db: &impl ConnectionTrait,
    ids: &[i64],
    query: F,
) -> Result<Vec<E::Model>>
where
    E: EntityTrait,
    F: Fn(Vec<i64>) -> sea_orm::Select<E>,
{
    let mut rows = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        rows.extend(query(chunk.to_vec()).all(db).await?);
    }
    Ok(rows)
}

/// `id → name` for the given ids, read in chunks.
async fn names<E, F>(
    db: &impl ConnectionTrait,
    ids: &BTreeSet<i64>,
    query: F,
) -> Result<HashMap<i64, String>>
where
    E: EntityTrait,
    F: Fn(Vec<i64>) -> sea_orm::Select<E>,
{
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut map = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(i64, String)> = query(chunk.to_vec()).into_tuple().all(db).await?;
        map.extend(rows);
    }
    Ok(map)
}

/// The attendance rules of conference `id`, in the conference's order (position, id).
pub async fn rules_of(db: &impl ConnectionTrait, id: i64) -> Result<Vec<attendance_rule::Model>> {
    use sea_orm::QueryOrder;
    Ok(attendance_rule::Entity::find()
        .filter(attendance_rule::Column::ConferenceId.eq(id))
        .order_by_asc(attendance_rule::Column::Position)
        .order_by_asc(attendance_rule::Column::Id)
        .all(db)
        .await?)
}

/// The units a rule invites: its explicit units, and the units matching its criteria
/// (kind, school level, area level, subtree) when it has any.
pub async fn required_units(
    db: &impl ConnectionTrait,
    r: &attendance_rule::Model,
) -> Result<Vec<i64>> {
    let mut ids: BTreeSet<i64> = attendance_rule_unit::Entity::find()
        .select_only()
        .column(attendance_rule_unit::Column::UnitId)
        .filter(attendance_rule_unit::Column::AttendanceRuleId.eq(r.id))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let has_criteria = r.unit_kind.is_some()
        || r.school_level.is_some()
        || r.area_level.is_some()
        || r.within_unit_id.is_some();
    if has_criteria {
        let mut q = unit::Entity::find().select_only().column(unit::Column::Id);
        if let Some(k) = r.unit_kind {
            q = q.filter(unit::Column::Kind.eq(k));
        }
        if let Some(l) = r.school_level {
            q = q.filter(unit::Column::SchoolLevel.eq(l));
        }
        if let Some(a) = r.area_level {
            q = q.filter(unit::Column::AreaLevel.eq(a));
        }
        if let Some(w) = r.within_unit_id {
            let Some(root) = unit::Entity::find_by_id(w).one(db).await? else {
                return Ok(ids.into_iter().collect());
            };
            q = q.filter(subtree_of(&root.path));
        }
        ids.extend(q.into_tuple::<i64>().all(db).await?);
    }
    Ok(ids.into_iter().collect())
}

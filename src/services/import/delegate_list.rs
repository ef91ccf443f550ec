//! Importing a conference's delegates from the lists staff already keep, with the columns
//! họ và tên, chức vụ, đơn vị, email, điện thoại, điểm cầu (in any order; others are
//! ignored and named in the answer).
//!
//! Units are found by name (NFC,
//! case-insensitive), within the caller's area for a district office; the bridge point by
//! its name among the conference's, "trực tuyến" for online, a hall of the conference by
//! its name, or, left empty, the unit's bridge point when it attends exactly one (else
//! online). Delegates are the same delegate when their e-mail is (within the
//! conference): importing the same file again changes nothing. A unit's quota holds
//! across the file and those named before. Everything is written in one transaction that
//! locks the conference first.
use std::collections::{BTreeSet, HashMap};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{RowError, cells, column_of, headings, refused};
use crate::domain::kinds::{DelegateRole, Reply, Venue};
use crate::domain::text::{fold, nfc};
use crate::domain::validate::{FieldError, Validator};
use crate::error::{Error, Result};
use crate::services::auth::Principal;
use crate::services::checks::required_units;
use crate::services::ledger::{self, Touched};
use crate::services::resources::conference as conferences;
use crate::store::{
    attendance_rule, bridge_point, bridge_point_unit, conference_hall, delegate, hall, person, unit,
};

/// The columns of a delegate list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Column {
    Name,
    Position,
    Unit,
    Email,
    Phone,
    Point,
    /// The unit's id (`Mã đơn vị`, as exports write it): names repeat across a country.
    UnitId,
}

impl Column {
    /// The heading as staff write it.
    fn label(self) -> &'static str {
        match self {
            Self::Name => "họ và tên",
            Self::Position => "chức vụ",
            Self::Unit => "đơn vị",
            Self::Email => "email",
            Self::Phone => "điện thoại",
            Self::Point => "điểm cầu",
            Self::UnitId => "mã đơn vị",
        }
    }

    /// The field of an error.
    fn field(self) -> &'static str {
        match self {
            Self::Name => "full_name",
            Self::Position => "position",
            Self::Unit => "unit",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Point => "bridge_point",
            Self::UnitId => "unit_id",
        }
    }

    fn of_heading(h: &str) -> Option<Self> {
        column_of(h, &HEADINGS)
    }
}

/// The headings of each column, as staff write them.
const HEADINGS: [(&str, Column); 21] = [
    ("mã đơn vị", Column::UnitId),
    ("họ và tên", Column::Name),
    ("họ tên", Column::Name),
    ("họ và tên đại biểu", Column::Name),
    ("tên", Column::Name),
    ("chức vụ", Column::Position),
    ("chức danh", Column::Position),
    ("đơn vị", Column::Unit),
    ("đơn vị công tác", Column::Unit),
    ("cơ quan", Column::Unit),
    ("email", Column::Email),
    ("e-mail", Column::Email),
    ("thư điện tử", Column::Email),
    ("địa chỉ email", Column::Email),
    ("điện thoại", Column::Phone),
    ("số điện thoại", Column::Phone),
    ("đt", Column::Phone),
    ("sđt", Column::Phone),
    ("điểm cầu", Column::Point),
    ("địa điểm", Column::Point),
    ("nơi dự", Column::Point),
];

/// What an import did.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub conference_id: i64,
    /// Data rows read.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows left out (with `valid_rows_only`) and why.
    pub errors: Vec<RowError>,
    /// Headings that are not a column of a delegate list.
    pub ignored_columns: Vec<String>,
}

/// One row, checked and resolved.
struct Row {
    line: usize,
    full_name: String,
    position: Option<String>,
    unit_id: i64,
    /// Lower case: the key delegates are matched by.
    email: String,
    /// As the file writes it: how a new person is stored, and one more spelling to find
    /// an existing person by.
    email_as_written: String,
    phone: Option<String>,
    venue: Venue,
    hall_id: Option<i64>,
    bridge_point_id: Option<i64>,
}

/// Imports the delegates of conference `id` from `bytes`; with `valid_rows_only`, rows
/// with problems are left out and listed, otherwise any problem imports nothing (422).
pub async fn delegates(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    bytes: &[u8],
    valid_rows_only: bool,
) -> Result<ImportReport> {
    crate::services::nominations::authorize_area_write(db, p, id).await?;
    let table = cells(bytes)?;
    let mut table = table.into_iter();
    let headings_row = table.next().map(|(_, r)| r).unwrap_or_default();
    let (columns, mut ignored) = headings(&headings_row, &HEADINGS);
    ignored.retain(|h| fold(h) != "stt");
    let missing: Vec<&str> = [Column::Name, Column::Unit, Column::Email]
        .into_iter()
        .filter(|c| !columns.contains_key(c))
        .map(Column::label)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Validation(vec![FieldError::new(
            "file",
            "missing_columns",
            format!(
                "Dòng 1 (tiêu đề) thiếu cột: {}. Cần các cột: họ và tên, đơn vị, email \
                 (chức vụ, điện thoại, điểm cầu nếu có).",
                missing.join(", ")
            ),
        )]));
    }

    let txn = db.begin().await?;
    conferences::lock(&txn, id).await?;
    let scope: Option<BTreeSet<i64>> = crate::services::nominations::placeable(&txn, p).await?;
    let lookup = Lookup::load(&txn, id, scope.as_ref()).await?;

    let mut errors: Vec<RowError> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut read = 0;
    for (line, record) in table {
        let cell = |c: Column| {
            columns
                .get(&c)
                .and_then(|&k| record.get(k))
                .map(|s| nfc(s.trim()))
                .unwrap_or_default()
        };
        if record.iter().all(|s| s.trim().is_empty()) {
            continue;
        }
        read += 1;
        let before = errors.len();
        let mut fail = |col: Column, message: String| {
            errors.push(RowError {
                row: line,
                column: Some(col.label().to_owned()),
                message: format!("Dòng {line}, cột «{}»: {message}", col.label()),
            });
        };
        let mut v = Validator::new();
        let mut full_name = cell(Column::Name);
        v.name("full_name", &mut full_name);
        let mut position = Some(cell(Column::Position)).filter(|s| !s.is_empty());
        v.opt_name("position", &mut position);
        let mut email = Some(cell(Column::Email)).filter(|s| !s.is_empty());
        if email.is_none() {
            v.error("email", "required", "Cần địa chỉ e-mail của đại biểu.");
        }
        v.opt_email("email", &mut email);
        let mut phone = Some(cell(Column::Phone)).filter(|s| !s.is_empty());
        v.opt_name("phone", &mut phone);
        for e in v.into_errors() {
            let col = [Column::Name, Column::Position, Column::Email, Column::Phone]
                .into_iter()
                .find(|c| c.field() == e.field)
                .unwrap_or(Column::Name);
            fail(col, e.message);
        }
        let unit_name = cell(Column::Unit);
        let by_id = cell(Column::UnitId);
        let unit_id = match if by_id.is_empty() {
            lookup.unit(&unit_name)
        } else {
            lookup.unit_by_id(&by_id)
        } {
            Ok(u) => Some(u),
            Err(message) => {
                fail(
                    if by_id.is_empty() {
                        Column::Unit
                    } else {
                        Column::UnitId
                    },
                    message,
                );
                None
            }
        };
        let place = unit_id.map(|u| lookup.place(&cell(Column::Point), u));
        if let Some(Err(message)) = &place {
            fail(Column::Point, message.clone());
        }
        if let Some(e) = &email {
            if let Some(first) = seen.get(e) {
                fail(
                    Column::Email,
                    format!("trùng e-mail với dòng {first}: mỗi đại biểu một dòng."),
                );
            } else {
                seen.insert(e.clone(), line);
            }
        }
        if errors.len() > before {
            continue;
        }
        let (Some(unit_id), Some(Ok((venue, hall_id, bridge_point_id))), Some(email)) =
            (unit_id, place, email)
        else {
            continue;
        };
        rows.push(Row {
            line,
            full_name,
            position,
            unit_id,
            email: email.to_lowercase(),
            email_as_written: email,
            phone,
            venue,
            hall_id,
            bridge_point_id,
        });
    }

    // Quotas: what each unit named before, less those this file moves away, plus this
    // file's rows, in order.
    let existing = lookup.existing(&txn, id).await?;
    let mut count: HashMap<i64, i64> = HashMap::new();
    for (email, d) in &existing {
        if !rows.iter().any(|r| &r.email == email) {
            *count.entry(d.unit_id).or_insert(0) += 1;
        }
    }
    let mut accepted = Vec::with_capacity(rows.len());
    for r in rows {
        let n = count.entry(r.unit_id).or_insert(0);
        if let Some(q) = lookup.quota.get(&r.unit_id).copied().flatten() {
            if *n >= q {
                errors.push(RowError {
                    row: r.line,
                    column: Some(Column::Unit.label().to_owned()),
                    message: format!(
                        "Dòng {}, cột «đơn vị»: đơn vị «{}» đã cử đủ {q:02} người theo thành \
                         phần tham dự; không thể cử thêm.",
                        r.line,
                        lookup
                            .unit_names
                            .get(&r.unit_id)
                            .cloned()
                            .unwrap_or_default()
                    ),
                });
                continue;
            }
        }
        *n += 1;
        accepted.push(r);
    }
    errors.sort_by_key(|e| e.row);
    if !errors.is_empty() && !valid_rows_only {
        return Err(refused("delegate", id, errors, |h| {
            Column::of_heading(h).map(Column::field)
        }));
    }

    // People: the one with the e-mail, or a new one.
    // People: only for new delegates (an existing delegate keeps its person), found by
    // e-mail without regard to case. One pass over the people's e-mails: a lower-case
    // comparison in SQL could not use an index either, and would scan once per chunk.
    let wanted: Vec<&Row> = accepted
        .iter()
        .filter(|r| !existing.contains_key(&r.email))
        .collect();
    let mut people: HashMap<String, i64> = HashMap::new();
    if !wanted.is_empty() {
        let keys: BTreeSet<&str> = wanted.iter().map(|r| r.email.as_str()).collect();
        let all: Vec<(i64, String)> = person::Entity::find()
            .select_only()
            .columns([person::Column::Id, person::Column::Email])
            .filter(person::Column::Email.is_not_null())
            .into_tuple()
            .all(&txn)
            .await?;
        for (id, e) in all {
            let e = e.to_lowercase();
            if keys.contains(e.as_str()) {
                people.entry(e).or_insert(id);
            }
        }
    }
    let now = crate::store::now();
    let fresh: Vec<&Row> = wanted
        .iter()
        .copied()
        .filter(|r| !people.contains_key(&r.email))
        .collect();
    for chunk in fresh.chunks(2000) {
        let made = person::Entity::insert_many(chunk.iter().map(|r| person::ActiveModel {
            unit_id: Set(Some(r.unit_id)),
            honorific: Set(None),
            full_name: Set(r.full_name.clone()),
            position: Set(r.position.clone()),
            email: Set(Some(r.email_as_written.clone())),
            phone: Set(r.phone.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_with_returning(&txn)
        .await?;
        for p in made {
            if let Some(e) = p.email.clone() {
                people.insert(e.to_lowercase(), p.id);
            }
        }
    }

    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    let mut new_delegates = Vec::new();
    for r in &accepted {
        match existing.get(&r.email) {
            Some(d)
                if d.unit_id == r.unit_id
                    && d.venue == r.venue
                    && d.hall_id == r.hall_id
                    && d.bridge_point_id == r.bridge_point_id =>
            {
                unchanged += 1;
            }
            Some(d) => {
                let mut m: delegate::ActiveModel = d.clone().into();
                m.unit_id = Set(r.unit_id);
                m.venue = Set(r.venue);
                m.hall_id = Set(r.hall_id);
                m.bridge_point_id = Set(r.bridge_point_id);
                m.updated_at = Set(now);
                m.update(&txn).await?;
                updated += 1;
            }
            None => {
                let Some(person) = people.get(&r.email) else {
                    continue;
                };
                new_delegates.push(delegate::ActiveModel {
                    conference_id: Set(id),
                    person_id: Set(*person),
                    unit_id: Set(r.unit_id),
                    attendance_rule_id: Set(None),
                    venue: Set(r.venue),
                    hall_id: Set(r.hall_id),
                    bridge_point_id: Set(r.bridge_point_id),
                    role: Set(DelegateRole::ReqParticipant),
                    reply: Set(Reply::NeedsAction),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                });
                created += 1;
            }
        }
    }
    let mut new_delegates = new_delegates.into_iter().peekable();
    while new_delegates.peek().is_some() {
        let chunk: Vec<delegate::ActiveModel> = new_delegates.by_ref().take(2000).collect();
        delegate::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    if created + updated > 0 {
        ledger::mark(&txn, Touched::Conferences(vec![id])).await?;
    }
    txn.commit().await?;
    tracing::info!(
        conference_id = id,
        created,
        updated,
        unchanged,
        skipped = errors.len(),
        user = %p.login,
        "delegates imported"
    );
    Ok(ImportReport {
        conference_id: id,
        rows: read,
        created,
        updated,
        unchanged,
        errors,
        ignored_columns: ignored,
    })
}

/// Names to ids for one conference.
struct Lookup {
    /// Folded name → units of that name (in the caller's area).
    units: HashMap<String, Vec<i64>>,
    unit_names: HashMap<i64, String>,
    points: HashMap<String, i64>,
    halls: HashMap<String, i64>,
    /// unit → the conference's bridge points it attends.
    attends: HashMap<i64, Vec<i64>>,
    /// unit → how many it may name (None: no number given).
    quota: HashMap<i64, Option<i64>>,
}

impl Lookup {
    async fn load(
        db: &impl ConnectionTrait,
        conference_id: i64,
        scope: Option<&BTreeSet<i64>>,
    ) -> Result<Self> {
        let all: Vec<(i64, String)> = unit::Entity::find()
            .select_only()
            .columns([unit::Column::Id, unit::Column::Name])
            .into_tuple()
            .all(db)
            .await?;
        let mut units: HashMap<String, Vec<i64>> = HashMap::new();
        let mut unit_names = HashMap::new();
        for (id, name) in all {
            if scope.is_none_or(|s| s.contains(&id)) {
                units.entry(fold(&name)).or_default().push(id);
                unit_names.insert(id, name);
            }
        }
        // A district office places delegates only at the points it coordinates.
        let points: Vec<(i64, String)> = bridge_point::Entity::find()
            .select_only()
            .columns([
                bridge_point::Column::Id,
                bridge_point::Column::Name,
                bridge_point::Column::CoordinatingUnitId,
            ])
            .filter(bridge_point::Column::ConferenceId.eq(conference_id))
            .into_tuple::<(i64, String, i64)>()
            .all(db)
            .await?
            .into_iter()
            .filter(|(_, _, coordinator)| scope.is_none_or(|s| s.contains(coordinator)))
            .map(|(id, name, _)| (id, name))
            .collect();
        let point_ids: Vec<i64> = points.iter().map(|(id, _)| *id).collect();
        let mut attends: HashMap<i64, Vec<i64>> = HashMap::new();
        for (b, us) in crate::services::links::load::<bridge_point_unit::Entity>(
            db,
            bridge_point_unit::Column::BridgePointId,
            bridge_point_unit::Column::UnitId,
            &point_ids,
        )
        .await?
        {
            for u in us {
                attends.entry(u).or_default().push(b);
            }
        }
        let hall_ids: Vec<i64> = conference_hall::Entity::find()
            .select_only()
            .column(conference_hall::Column::HallId)
            .filter(conference_hall::Column::ConferenceId.eq(conference_id))
            .into_tuple()
            .all(db)
            .await?;
        let halls: HashMap<String, i64> = hall::Entity::find()
            .filter(hall::Column::Id.is_in(hall_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|h| (fold(&h.name), h.id))
            .collect();
        let mut quota: HashMap<i64, Option<i64>> = HashMap::new();
        for r in attendance_rule::Entity::find()
            .filter(attendance_rule::Column::ConferenceId.eq(conference_id))
            .all(db)
            .await?
        {
            for u in required_units(db, &r).await? {
                let q = quota.entry(u).or_insert(Some(0));
                *q = match (*q, r.quota) {
                    (Some(a), Some(b)) => Some(a + i64::from(b.max(0))),
                    _ => None,
                };
            }
        }
        Ok(Self {
            units,
            unit_names,
            points: points.into_iter().map(|(id, n)| (fold(&n), id)).collect(),
            halls,
            attends,
            quota,
        })
    }

    fn unit(&self, name: &str) -> std::result::Result<i64, String> {
        if name.is_empty() {
            return Err("cần tên đơn vị của đại biểu.".into());
        }
        match self.units.get(&fold(name)).map(Vec::as_slice) {
            Some([only]) => Ok(*only),
            Some([_, ..]) => Err(format!(
                "có nhiều đơn vị tên «{name}»; hãy ghi tên đầy đủ, phân biệt được."
            )),
            _ => Err(format!(
                "không có đơn vị «{name}» (trong địa bàn được phép)."
            )),
        }
    }

    fn unit_by_id(&self, cell: &str) -> std::result::Result<i64, String> {
        match cell.parse::<i64>() {
            Ok(id) if self.unit_names.contains_key(&id) => Ok(id),
            Ok(id) => Err(format!(
                "không có đơn vị mã {id} (trong địa bàn được phép)."
            )),
            Err(_) => Err(format!("«{cell}» không phải mã số đơn vị.")),
        }
    }

    /// (venue, hall, bridge point) for the cell `name` and the delegate's unit.
    #[allow(clippy::type_complexity)]
    fn place(
        &self,
        name: &str,
        unit: i64,
    ) -> std::result::Result<(Venue, Option<i64>, Option<i64>), String> {
        let key = fold(name);
        if key.is_empty() {
            return Ok(match self.attends.get(&unit).map(Vec::as_slice) {
                Some([only]) => (Venue::BridgePoint, None, Some(*only)),
                _ => (Venue::Online, None, None),
            });
        }
        if key == "trực tuyến" || key == "online" {
            return Ok((Venue::Online, None, None));
        }
        if let Some(&b) = self.points.get(&key) {
            return Ok((Venue::BridgePoint, None, Some(b)));
        }
        if let Some(&h) = self.halls.get(&key) {
            return Ok((Venue::Hall, Some(h), None));
        }
        Err(format!(
            "không có điểm cầu «{name}» trong hội nghị (ghi đúng tên điểm cầu, tên hội \
             trường, hoặc «Trực tuyến»)."
        ))
    }

    /// The conference's delegates by their person's e-mail (lower case).
    async fn existing(
        &self,
        db: &impl ConnectionTrait,
        conference_id: i64,
    ) -> Result<HashMap<String, delegate::Model>> {
        let delegates = delegate::Entity::find()
            .filter(delegate::Column::ConferenceId.eq(conference_id))
            .all(db)
            .await?;
        let ids: Vec<i64> = delegates.iter().map(|d| d.person_id).collect();
        let mut email_of: HashMap<i64, String> = HashMap::new();
        for chunk in ids.chunks(1000) {
            let rows: Vec<(i64, Option<String>)> = person::Entity::find()
                .select_only()
                .columns([person::Column::Id, person::Column::Email])
                .filter(person::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(db)
                .await?;
            email_of.extend(
                rows.into_iter()
                    .filter_map(|(id, e)| Some((id, e?.to_lowercase()))),
            );
        }
        Ok(delegates
            .into_iter()
            .filter_map(|d| Some((email_of.get(&d.person_id)?.clone(), d)))
            .collect())
    }
}

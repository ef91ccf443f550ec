//! Importing a conference's bridge-point table, in either of the two shapes staff have:
//!
//! - **as a district plan writes it** (`../shared/data/thuy-nguyen-bridge-points.csv`):
//!   `no, bridge_point, host_kind, communes, extra_units, as_written`. The point's name is
//!   its host, with the room after a comma ("Phòng Giáo dục và Đào tạo huyện Thủy Nguyên,
//!   Hội trường tầng 2"); `communes` names the communes it serves ("An Lư; Minh Đức (thị
//!   trấn)"): each commune's people's committee and its kindergartens, primary and
//!   lower-secondary schools (MN, TH, THCS) attend there; `extra_units` adds units by name
//!   as the plan writes them ("THPT Quang Trung", "Phòng Giáo dục và Đào tạo huyện"), and a
//!   phrase for a group ("các phòng, ban, đơn vị …") is skipped with a warning;
//! - **as hoinghi exports it** (`GET …/bridge-points.xlsx`): STT, Điểm cầu, Đơn vị đăng
//!   cai, Đơn vị điều phối, Phòng, Địa chỉ, Sức chứa, Đơn vị dự, the technical contact,
//!   and the ids (Mã điểm cầu, Mã đơn vị …) that make a round trip exact where names
//!   repeat.
//!
//! Names are matched NFC and without regard to case, spacing or tone-mark placement, as
//! written, with the abbreviations plans use spelt out (THPT → Trường THPT, MN → Trường
//! Mầm non, UBND ↔ Ủy ban nhân dân, PGDĐT → Phòng Giáo dục và Đào tạo), with the
//! district's name added ("… huyện" → "… huyện Thủy Nguyên"), and, failing those, as the
//! start of exactly one unit's name in the district (said in the answer's warnings). Where
//! a name is held by several units, the district of the row's host decides (or, for the
//! host itself, that of the row's coordinator, else the district most of the file's hosts
//! lie in). A district office sees only
//! the units of its area.
//!
//! A row is the point of the conference with its id (Mã điểm cầu), else with the same host
//! and name, else a new point (an id of another conference's point, from a table exported
//! there, is not this conference's: the row is matched by host and name). The file's
//! attending units replace the point's (units a district office may not place stay); a
//! unit the file places elsewhere leaves its old point, which must be one the caller
//! coordinates. Columns the file lacks leave the stored values as they are (the `no`/`STT`
//! column orders new points only), so importing the same file again changes nothing.
//! Everything is written in one transaction that locks the conference first, and a change
//! reaches the invitations through the ledger like any other edit.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{RowError, cells, column_of, headings, refused};
use crate::domain::kinds::{AreaLevel, SchoolLevel, UnitKind};
use crate::domain::text::{committee_name, fold, nfc};
use crate::domain::validate::{FieldError, Validator};
use crate::error::{Error, Result};
use crate::services::auth::Principal;
use crate::services::ledger::{self, Touched};
use crate::services::resources::conference as conferences;
use crate::store::{bridge_point, bridge_point_unit, plan, unit};

/// The columns of a bridge-point table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Col {
    No,
    Name,
    HostKind,
    Communes,
    Extras,
    AsWritten,
    Host,
    Coordinator,
    Room,
    Address,
    Capacity,
    UnitCount,
    Units,
    ContactName,
    ContactPhone,
    ContactEmail,
    PointId,
    HostId,
    CoordinatorId,
    UnitIds,
}

/// The headings of each column: the district plan's (English, as the data file has them)
/// and the export's.
const HEADINGS: [(&str, Col); 35] = [
    ("no", Col::No),
    ("stt", Col::No),
    ("bridge_point", Col::Name),
    ("điểm cầu", Col::Name),
    ("tên điểm cầu", Col::Name),
    ("host_kind", Col::HostKind),
    ("loại điểm cầu", Col::HostKind),
    ("communes", Col::Communes),
    ("xã", Col::Communes),
    ("xã, phường, thị trấn", Col::Communes),
    ("extra_units", Col::Extras),
    ("đơn vị khác", Col::Extras),
    ("đơn vị dự thêm", Col::Extras),
    ("as_written", Col::AsWritten),
    ("thành phần", Col::AsWritten),
    ("ghi chú", Col::AsWritten),
    ("đơn vị đăng cai", Col::Host),
    ("đơn vị điều phối", Col::Coordinator),
    ("phòng", Col::Room),
    ("phòng họp", Col::Room),
    ("địa chỉ", Col::Address),
    ("sức chứa", Col::Capacity),
    ("số chỗ", Col::Capacity),
    ("số đơn vị dự", Col::UnitCount),
    ("đơn vị dự", Col::Units),
    ("cán bộ kỹ thuật", Col::ContactName),
    ("người liên hệ", Col::ContactName),
    ("điện thoại", Col::ContactPhone),
    ("số điện thoại", Col::ContactPhone),
    ("email", Col::ContactEmail),
    ("e-mail", Col::ContactEmail),
    ("mã điểm cầu", Col::PointId),
    ("mã đơn vị đăng cai", Col::HostId),
    ("mã đơn vị điều phối", Col::CoordinatorId),
    ("mã đơn vị dự", Col::UnitIds),
];

impl Col {
    /// The column's first heading (errors name the file's own).
    fn label(self) -> &'static str {
        HEADINGS
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("", |(h, _)| h)
    }

    /// The field of an error (`rows[N].field`).
    fn field(self) -> &'static str {
        match self {
            Self::No => "no",
            Self::Name => "bridge_point",
            Self::HostKind => "host_kind",
            Self::Communes => "communes",
            Self::Extras => "extra_units",
            Self::AsWritten => "as_written",
            Self::Host => "host_unit",
            Self::Coordinator => "coordinating_unit",
            Self::Room => "room",
            Self::Address => "address",
            Self::Capacity => "capacity",
            Self::UnitCount => "unit_count",
            Self::Units => "units",
            Self::ContactName => "contact_name",
            Self::ContactPhone => "contact_phone",
            Self::ContactEmail => "contact_email",
            Self::PointId => "bridge_point_id",
            Self::HostId => "host_unit_id",
            Self::CoordinatorId => "coordinating_unit_id",
            Self::UnitIds => "unit_ids",
        }
    }

    fn of_heading(heading: &str) -> Option<Self> {
        column_of(heading, &HEADINGS)
    }
}

/// How to import: `POST …/bridge-points/import?valid_rows_only=&plan_id=&coordinating_unit_id=`.
#[derive(Clone, Debug, Default)]
pub struct PointImport {
    /// Import the rows without problems and list the others; otherwise any problem
    /// imports nothing.
    pub valid_rows_only: bool,
    /// The plan (a district plan) the imported points belong to.
    pub plan_id: Option<i64>,
    /// The coordinating unit of new points when the file names none (default: a district
    /// office's own unit, else the education office of the host's district).
    pub coordinating_unit_id: Option<i64>,
}

/// What became of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PointAction {
    Created,
    Updated,
    Unchanged,
}

/// A row of the file, imported.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ImportedPoint {
    pub row: usize,
    pub bridge_point_id: i64,
    pub name: String,
    pub action: PointAction,
    /// The units attending there now.
    pub unit_ids: Vec<i64>,
}

/// What a bridge-point import did.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PointImportReport {
    pub conference_id: i64,
    /// Data rows read.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub points: Vec<ImportedPoint>,
    /// What was read but not imported, and why (phrases for groups of units, units moved
    /// from another point).
    pub warnings: Vec<RowError>,
    /// Rows left out (with `valid_rows_only`) and why.
    pub errors: Vec<RowError>,
    /// Headings that are not a column of a bridge-point table.
    pub ignored_columns: Vec<String>,
}

/// A unit as name matching needs it.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
struct UnitRow {
    id: i64,
    name: String,
    kind: UnitKind,
    school_level: Option<SchoolLevel>,
    area_level: Option<AreaLevel>,
    area_unit_id: Option<i64>,
    parent_id: Option<i64>,
    path: String,
}

/// The unit tree, indexed for finding units by the names plans write.
struct Directory {
    units: HashMap<i64, UnitRow>,
    /// Units the caller may place (a district office: its area).
    allowed: Option<BTreeSet<i64>>,
    /// Folded name → units.
    by_name: HashMap<String, Vec<i64>>,
    /// A commune's bare name (folded, without "UBND xã") → its people's committees.
    communes: HashMap<String, Vec<i64>>,
    /// A people's committee → the MN, TH and THCS schools located in its commune.
    schools: HashMap<i64, Vec<i64>>,
    /// Every unit's region ([`Directory::region`]), computed once.
    regions: HashMap<i64, i64>,
    /// A district → its education office (the lowest id where there are several).
    offices: HashMap<i64, i64>,
    /// The folded names in order, for names given by their start.
    sorted: Vec<(String, i64)>,
}

/// The levels a commune's schools are counted by ("MN, TH, THCS, UBND xã …").
const COMMUNE_SCHOOLS: [SchoolLevel; 3] = [SchoolLevel::Mn, SchoolLevel::Th, SchoolLevel::Thcs];

/// Abbreviations plans write at the start of a unit's name, folded, and what they stand
/// for.
const ABBREVIATIONS: [(&str, &str); 9] = [
    ("thpt ", "trường thpt "),
    ("thcs ", "trường thcs "),
    ("th ", "trường tiểu học "),
    ("mn ", "trường mầm non "),
    ("mg ", "trường mẫu giáo "),
    ("ubnd ", "ủy ban nhân dân "),
    ("ủy ban nhân dân ", "ubnd "),
    ("pgdđt ", "phòng giáo dục và đào tạo "),
    ("phòng gd&đt ", "phòng giáo dục và đào tạo "),
];

/// A commune's kind as the communes column may add it: "Minh Đức (thị trấn)".
fn commune_kind(s: &str) -> (String, Option<&'static str>) {
    let key = fold(s);
    for kind in ["thị trấn", "phường", "xã", "đặc khu"] {
        if let Some(base) = key.strip_suffix(&format!("({kind})")) {
            return (base.trim().to_owned(), Some(kind));
        }
    }
    (key, None)
}

fn path_ids(path: &str) -> impl Iterator<Item = i64> + '_ {
    path.split('/').filter_map(|s| s.parse().ok())
}

impl Directory {
    async fn load(db: &impl ConnectionTrait, allowed: Option<BTreeSet<i64>>) -> Result<Self> {
        let rows: Vec<UnitRow> = unit::Entity::find()
            .select_only()
            .columns([
                unit::Column::Id,
                unit::Column::Name,
                unit::Column::Kind,
                unit::Column::SchoolLevel,
                unit::Column::AreaLevel,
                unit::Column::AreaUnitId,
                unit::Column::ParentId,
                unit::Column::Path,
            ])
            .into_model()
            .all(db)
            .await?;
        let mut d = Self {
            units: HashMap::with_capacity(rows.len()),
            allowed,
            by_name: HashMap::new(),
            communes: HashMap::new(),
            schools: HashMap::new(),
            regions: HashMap::new(),
            offices: HashMap::new(),
            sorted: Vec::new(),
        };
        for u in rows {
            if d.may_place(u.id) {
                let key = fold(&u.name);
                if u.kind == UnitKind::PeopleCommittee && u.area_level == Some(AreaLevel::Commune) {
                    if let Some((bare, _)) = committee_name(&u.name) {
                        d.communes.entry(fold(&bare)).or_default().push(u.id);
                    }
                }
                if u.kind == UnitKind::School
                    && u.school_level.is_some_and(|l| COMMUNE_SCHOOLS.contains(&l))
                {
                    if let Some(area) = u.area_unit_id {
                        d.schools.entry(area).or_default().push(u.id);
                    }
                }
                d.sorted.push((key.clone(), u.id));
                d.by_name.entry(key).or_default().push(u.id);
            }
            d.units.insert(u.id, u);
        }
        for ids in d.schools.values_mut() {
            ids.sort_unstable();
        }
        d.sorted.sort_unstable();
        let regions: HashMap<i64, i64> = d
            .units
            .keys()
            .filter_map(|&u| Some((u, d.compute_region(u)?)))
            .collect();
        d.regions = regions;
        for u in d.units.values() {
            if u.kind == UnitKind::EducationOffice {
                for r in [u.area_unit_id, u.parent_id].into_iter().flatten() {
                    let o = d.offices.entry(r).or_insert(u.id);
                    *o = (*o).min(u.id);
                }
            }
        }
        Ok(d)
    }

    fn may_place(&self, id: i64) -> bool {
        self.allowed.as_ref().is_none_or(|s| s.contains(&id))
    }

    fn name(&self, id: i64) -> &str {
        self.units.get(&id).map_or("", |u| u.name.as_str())
    }

    /// The district a unit lies in (its area's district committee), or the top committee
    /// of its area where there are no districts.
    fn region(&self, id: i64) -> Option<i64> {
        self.regions.get(&id).copied()
    }

    fn compute_region(&self, id: i64) -> Option<i64> {
        let u = self.units.get(&id)?;
        let area = if u.kind == UnitKind::PeopleCommittee {
            u
        } else {
            self.units.get(&u.area_unit_id?)?
        };
        let committees: Vec<&UnitRow> = path_ids(&area.path)
            .filter_map(|a| self.units.get(&a))
            .filter(|a| a.kind == UnitKind::PeopleCommittee)
            .collect();
        committees
            .iter()
            .find(|c| c.area_level == Some(AreaLevel::District))
            .or(committees.first())
            .map(|c| c.id)
    }

    /// The region's own name, folded ("ubnd huyện thủy nguyên" → "thủy nguyên").
    fn region_name(&self, region: i64) -> Option<String> {
        Some(fold(&committee_name(self.name(region))?.0))
    }

    /// The one of `ids` (narrowed to `region` when there are several), or why not.
    fn one_of(&self, ids: &[i64], region: Option<i64>) -> Option<std::result::Result<i64, usize>> {
        match ids {
            [] => None,
            [only] => Some(Ok(*only)),
            _ => {
                let near: Vec<i64> = ids
                    .iter()
                    .copied()
                    .filter(|&u| region.is_some() && self.region(u) == region)
                    .collect();
                Some(match near.as_slice() {
                    [only] => Ok(*only),
                    _ => Err(ids.len()),
                })
            }
        }
    }

    /// A unit by the name a plan writes, near `region`; `true` with it when it was found
    /// only by the start of its name (a guess the answer should say).
    fn unit(&self, name: &str, region: Option<i64>) -> std::result::Result<(i64, bool), String> {
        let key = fold(name);
        if key.is_empty() {
            return Err("cần tên đơn vị.".into());
        }
        let mut variants = vec![key.clone()];
        for (short, long) in ABBREVIATIONS {
            if let Some(rest) = key.strip_prefix(short) {
                variants.push(format!("{long}{rest}"));
            }
        }
        if let Some(r) = region.and_then(|r| self.region_name(r)) {
            let with_place: Vec<String> = variants.iter().map(|v| format!("{v} {r}")).collect();
            variants.extend(with_place);
        }
        let mut ambiguous = None;
        for v in &variants {
            match self.by_name.get(v).and_then(|ids| self.one_of(ids, region)) {
                Some(Ok(id)) => return Ok((id, false)),
                Some(Err(n)) => ambiguous = ambiguous.or(Some(n)),
                None => {}
            }
        }
        if let Some(n) = ambiguous {
            return Err(format!(
                "có {n} đơn vị tên «{name}»; hãy ghi tên đầy đủ, phân biệt được (hoặc ghi mã \
                 đơn vị)."
            ));
        }
        // The start of exactly one name in the district: "Trung tâm GDNN-GDTX" for
        // "Trung tâm GDNN-GDTX huyện Thủy Nguyên".
        if region.is_some() {
            let mut starts: BTreeSet<i64> = BTreeSet::new();
            for v in &variants {
                let prefix = format!("{v} ");
                let from = self
                    .sorted
                    .partition_point(|(n, _)| n.as_str() < prefix.as_str());
                starts.extend(
                    self.sorted[from..]
                        .iter()
                        .take_while(|(n, _)| n.starts_with(&prefix))
                        .map(|(_, u)| *u)
                        .filter(|&u| self.region(u) == region),
                );
            }
            if let (1, Some(&only)) = (starts.len(), starts.first()) {
                return Ok((only, true));
            }
        }
        Err(format!(
            "không có đơn vị «{name}»{}.",
            if self.allowed.is_some() {
                " trong địa bàn được phép"
            } else {
                ""
            }
        ))
    }

    /// A commune's people's committee by the communes column's name ("An Lư", "Minh Đức
    /// (thị trấn)", or the committee's full name).
    fn commune(&self, name: &str, region: Option<i64>) -> std::result::Result<i64, String> {
        let (bare, kind) = commune_kind(name);
        if committee_name(name).is_some() {
            return self.unit(name, region).map(|(u, _)| u);
        }
        let ids: Vec<i64> = self
            .communes
            .get(&bare)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&c| {
                kind.is_none_or(|k| committee_name(self.name(c)).is_some_and(|(_, ck)| ck == k))
            })
            .filter(|&c| region.is_none_or(|r| self.region(c) == Some(r)))
            .collect();
        match ids.as_slice() {
            [only] => Ok(*only),
            [] => Err(format!(
                "không có xã, phường, thị trấn «{name}» trong {}.",
                region.map_or("địa bàn được phép".to_owned(), |r| self
                    .name(r)
                    .to_owned())
            )),
            _ => Err(format!(
                "có {} xã, phường, thị trấn tên «{name}»; hãy ghi rõ (ví dụ «{name} (thị \
                 trấn)»).",
                ids.len()
            )),
        }
    }

    /// The education office (Phòng GDĐT) of a district.
    fn education_office(&self, region: i64) -> Option<i64> {
        self.offices.get(&region).copied()
    }
}

/// What a cell resolves to, or the column and the reason it does not.
type Found<T> = std::result::Result<T, (Col, String)>;

/// A row's host: the unit, the room its name carries after it, and (column, name) when
/// the unit was found only by the start of its name.
type Host = (i64, Option<String>, Option<(Col, String)>);

/// A row read and resolved.
struct Row {
    line: usize,
    existing: Option<i64>,
    name: String,
    position: Option<i32>,
    host: i64,
    coordinator: Option<i64>,
    /// The room the name carries after its host ("…, Hội trường tầng 2"): for new points.
    room_from_name: Option<String>,
    room: Option<Option<String>>,
    address: Option<Option<String>>,
    capacity: Option<Option<i32>>,
    contact_name: Option<Option<String>>,
    contact_phone: Option<Option<String>>,
    contact_email: Option<Option<String>>,
    /// None: the file has no column of attending units.
    units: Option<BTreeSet<i64>>,
}

/// Splits a `; ` (or `,` where there is no `;`) list.
fn list(cell: &str) -> Vec<String> {
    let sep = if cell.contains(';') { ';' } else { ',' };
    cell.split(sep)
        .map(|s| nfc(s.trim()))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Imports conference `id`'s bridge points from `bytes` (see the module's description).
pub async fn bridge_points(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    bytes: &[u8],
    opts: &PointImport,
) -> Result<PointImportReport> {
    crate::services::nominations::authorize_area_write(db, p, id).await?;
    let table = cells(bytes)?;
    let mut table = table.into_iter();
    let heading_row = table.next().map(|(_, r)| r).unwrap_or_default();
    let (columns, ignored) = headings(&heading_row, &HEADINGS);
    if !columns.contains_key(&Col::Name) {
        return Err(Error::Validation(vec![FieldError::new(
            "file",
            "missing_columns",
            "Dòng 1 (tiêu đề) thiếu cột «điểm cầu» (hoặc «bridge_point»). Bảng điểm cầu cần \
             cột tên điểm cầu; các cột khác: đơn vị đăng cai, xã, đơn vị dự, phòng, sức chứa, \
             cán bộ kỹ thuật, điện thoại, email.",
        )]));
    }
    let records: Vec<(usize, Vec<String>)> = table
        .filter(|(_, r)| r.iter().any(|s| !s.trim().is_empty()))
        .collect();

    let txn = db.begin().await?;
    conferences::lock(&txn, id).await?;
    let allowed = crate::services::nominations::placeable(&txn, p).await?;
    if let Some(plan_id) = opts.plan_id {
        let plan = plan::Entity::find_by_id(plan_id).one(&txn).await?;
        match plan {
            None => {
                return Err(Error::Validation(vec![FieldError::new(
                    "plan_id",
                    "not_found",
                    format!("Không có kế hoạch số hiệu {plan_id}."),
                )]));
            }
            Some(pl)
                if allowed
                    .as_ref()
                    .is_some_and(|s| !s.contains(&pl.issuing_unit_id)) =>
            {
                return Err(Error::Forbidden(
                    "Tài khoản này chỉ gắn điểm cầu vào kế hoạch do đơn vị trong địa bàn của \
                     mình ban hành."
                        .into(),
                ));
            }
            Some(_) => {}
        }
    }
    let dir = Directory::load(&txn, allowed).await?;
    if let Some(c) = opts.coordinating_unit_id {
        if !dir.units.contains_key(&c) || !dir.may_place(c) {
            return Err(Error::Validation(vec![FieldError::new(
                "coordinating_unit_id",
                "not_found",
                format!("Không có đơn vị mã {c} (trong địa bàn được phép) để điều phối điểm cầu."),
            )]));
        }
    }
    let points: HashMap<i64, bridge_point::Model> = bridge_point::Entity::find()
        .filter(bridge_point::Column::ConferenceId.eq(id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    let point_ids: Vec<i64> = points.keys().copied().collect();
    let attending: BTreeMap<i64, BTreeSet<i64>> =
        crate::services::links::load::<bridge_point_unit::Entity>(
            &txn,
            bridge_point_unit::Column::BridgePointId,
            bridge_point_unit::Column::UnitId,
            &point_ids,
        )
        .await?
        .into_iter()
        .map(|(b, us)| (b, us.into_iter().collect()))
        .collect();
    // Ids of other conferences' points a file names (a table exported from one of them).
    let named: Vec<i64> = columns
        .get(&Col::PointId)
        .map(|&k| {
            records
                .iter()
                .filter_map(|(_, r)| r.get(k)?.trim().parse().ok())
                .filter(|b| !points.contains_key(b))
                .collect()
        })
        .unwrap_or_default();
    let mut elsewhere: BTreeSet<i64> = BTreeSet::new();
    for chunk in named.chunks(1000) {
        elsewhere.extend(
            bridge_point::Entity::find()
                .select_only()
                .column(bridge_point::Column::Id)
                .filter(bridge_point::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple::<i64>()
                .all(&txn)
                .await?,
        );
    }
    // Points sharing a host and a name: the first made is the one matched.
    let mut by_host_name: HashMap<(i64, String), i64> = HashMap::new();
    for b in points.values() {
        let first = by_host_name
            .entry((b.host_unit_id, fold(&b.name)))
            .or_insert(b.id);
        *first = (*first).min(b.id);
    }

    let cell = |record: &[String], c: Col| -> String {
        columns
            .get(&c)
            .and_then(|&k| record.get(k))
            .map(|s| nfc(s.trim()))
            .unwrap_or_default()
    };
    let has = |c: Col| columns.contains_key(&c);
    // A column as the file heads it.
    let heading = |c: Col| -> String {
        columns
            .get(&c)
            .and_then(|&k| heading_row.get(k))
            .map_or_else(|| c.label().to_owned(), |h| nfc(h.trim()))
    };

    // Hosts first: the district most of them lie in settles names held in several.
    let host_of = |record: &[String], region: Option<i64>| -> Found<Host> {
        let by_id = cell(record, Col::HostId);
        if !by_id.is_empty() {
            return by_id
                .parse::<i64>()
                .ok()
                .filter(|&u| dir.units.contains_key(&u) && dir.may_place(u))
                .map(|u| (u, None, None))
                .ok_or((
                    Col::HostId,
                    format!("không có đơn vị mã «{by_id}» (trong địa bàn được phép)."),
                ));
        }
        let host = cell(record, Col::Host);
        if !host.is_empty() {
            return dir
                .unit(&host, region)
                .map(|(u, guessed)| (u, None, guessed.then_some((Col::Host, host.clone()))))
                .map_err(|m| (Col::Host, m));
        }
        // The name: the host, or the host and the room after a comma.
        let name = cell(record, Col::Name);
        let mut first_error = None;
        let mut cut = Some(name.len());
        while let Some(at) = cut {
            let (head, tail) = name.split_at(at);
            match dir.unit(head, region) {
                Ok((u, guessed)) => {
                    let room = tail.trim_start_matches(',').trim();
                    return Ok((
                        u,
                        Some(room.to_owned()).filter(|r| !r.is_empty()),
                        guessed.then(|| (Col::Name, head.to_owned())),
                    ));
                }
                Err(m) => {
                    first_error.get_or_insert(m);
                }
            }
            cut = head.rfind(',');
        }
        Err((
            Col::Name,
            format!(
                "không tìm được đơn vị đăng cai từ tên điểm cầu: {} (ghi tên điểm cầu bắt đầu \
                 bằng tên đơn vị đăng cai, hoặc thêm cột «đơn vị đăng cai»).",
                first_error.unwrap_or_default()
            ),
        ))
    };
    let mut regions: BTreeMap<i64, usize> = BTreeMap::new();
    for (_, record) in &records {
        if let Ok((h, _, _)) = host_of(record, None) {
            if let Some(r) = dir.region(h) {
                *regions.entry(r).or_insert(0) += 1;
            }
        }
    }
    let file_region = regions
        .iter()
        .max_by_key(|(r, n)| (**n, std::cmp::Reverse(**r)))
        .map(|(r, _)| *r);

    let mut errors: Vec<RowError> = Vec::new();
    let mut warnings: Vec<RowError> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    // Units and points of the rows taken so far.
    let mut placed: HashMap<i64, usize> = HashMap::new();
    let mut matched: HashMap<i64, usize> = HashMap::new();
    for (line, record) in &records {
        let line = *line;
        let before = errors.len();
        let mut guesses: Vec<(Col, String, i64)> = Vec::new();
        let mut fail = |col: Col, message: String| {
            let h = heading(col);
            errors.push(RowError {
                row: line,
                message: format!("Dòng {line}, cột «{h}»: {message}"),
                column: Some(h),
            });
        };
        let mut v = Validator::new();
        let mut name = cell(record, Col::Name);
        v.name("bridge_point", &mut name);
        let optional = |v: &mut Validator, c: Col| -> Option<Option<String>> {
            if !has(c) {
                return None;
            }
            let mut s = Some(cell(record, c)).filter(|s| !s.is_empty());
            match c {
                Col::ContactEmail => v.opt_email(c.field(), &mut s),
                _ => v.opt_name(c.field(), &mut s),
            }
            Some(s)
        };
        let room = optional(&mut v, Col::Room);
        let address = optional(&mut v, Col::Address);
        let contact_name = optional(&mut v, Col::ContactName);
        let contact_phone = optional(&mut v, Col::ContactPhone);
        let contact_email = optional(&mut v, Col::ContactEmail);
        for e in v.into_errors() {
            let col = HEADINGS
                .iter()
                .map(|(_, c)| *c)
                .find(|c| c.field() == e.field)
                .unwrap_or(Col::Name);
            fail(col, e.message);
        }
        let capacity = if has(Col::Capacity) {
            let s = cell(record, Col::Capacity);
            if s.is_empty() {
                Some(None)
            } else {
                match s.parse::<i32>() {
                    Ok(n) if n >= 1 => Some(Some(n)),
                    _ => {
                        fail(
                            Col::Capacity,
                            format!("«{s}» không phải số chỗ (số nguyên từ 1 trở lên)."),
                        );
                        None
                    }
                }
            }
        } else {
            None
        };
        let position = if has(Col::No) {
            let s = cell(record, Col::No);
            match s.parse::<i32>() {
                Ok(n) if n >= 0 => Some(n),
                _ if s.is_empty() => None,
                _ => {
                    fail(Col::No, format!("«{s}» không phải số thứ tự."));
                    None
                }
            }
        } else {
            None
        };
        // A host named in several districts: the district of the row's coordinator
        // (named once in the country, as a Phòng GDĐT or a Sở is), else the file's.
        let coordinator_region = || {
            let named = cell(record, Col::Coordinator);
            let by_id = cell(record, Col::CoordinatorId).parse::<i64>().ok();
            by_id
                .or_else(|| dir.unit(&named, None).ok().map(|(u, _)| u))
                .and_then(|u| dir.region(u))
        };
        let host = match host_of(record, None)
            .or_else(|e| match coordinator_region() {
                Some(r) => host_of(record, Some(r)),
                None => Err(e),
            })
            .or_else(|_| host_of(record, file_region))
        {
            Ok((h, room, guessed)) => {
                if let Some((col, name)) = guessed {
                    guesses.push((col, name, h));
                }
                Some((h, room))
            }
            Err((col, message)) => {
                fail(col, message);
                None
            }
        };
        let region = host
            .as_ref()
            .and_then(|(h, _)| dir.region(*h))
            .or(file_region);

        // The point it is.
        let point_id = cell(record, Col::PointId);
        let by_host = || {
            host.as_ref()
                .and_then(|(h, _)| by_host_name.get(&(*h, fold(&name))).copied())
        };
        let existing = match point_id.parse::<i64>() {
            _ if point_id.is_empty() => by_host(),
            Ok(b) if points.contains_key(&b) => Some(b),
            // A table exported from another conference: its points are new here.
            Ok(b) if elsewhere.contains(&b) => by_host(),
            _ => {
                fail(Col::PointId, format!("không có điểm cầu mã «{point_id}»."));
                None
            }
        };
        if let Some(b) = existing {
            if let Some(first) = matched.get(&b) {
                fail(
                    Col::Name,
                    format!("điểm cầu này đã có ở dòng {first}: mỗi điểm cầu một dòng."),
                );
            }
            if !dir.may_place(points[&b].coordinating_unit_id) {
                fail(
                    Col::Name,
                    "điểm cầu này do đơn vị ngoài địa bàn được phép điều phối.".into(),
                );
            }
        }

        // Who coordinates it.
        let by_id = cell(record, Col::CoordinatorId);
        let named = cell(record, Col::Coordinator);
        let coordinator = if !by_id.is_empty() {
            match by_id
                .parse::<i64>()
                .ok()
                .filter(|&u| dir.units.contains_key(&u) && dir.may_place(u))
            {
                Some(u) => Some(u),
                None => {
                    fail(
                        Col::CoordinatorId,
                        format!("không có đơn vị mã «{by_id}» (trong địa bàn được phép)."),
                    );
                    None
                }
            }
        } else if !named.is_empty() {
            match dir.unit(&named, region) {
                Ok((u, guessed)) => {
                    if guessed {
                        guesses.push((Col::Coordinator, named.clone(), u));
                    }
                    Some(u)
                }
                Err(m) => {
                    fail(Col::Coordinator, m);
                    None
                }
            }
        } else if existing.is_some() {
            None
        } else {
            let fallback = opts
                .coordinating_unit_id
                .or(if dir.allowed.is_some() {
                    p.unit_id
                } else {
                    None
                })
                .or_else(|| region.and_then(|r| dir.education_office(r)));
            if fallback.is_none() {
                fail(
                    Col::Coordinator,
                    "không xác định được đơn vị điều phối điểm cầu; thêm cột «đơn vị điều phối» \
                     hoặc tham số coordinating_unit_id."
                        .into(),
                );
            }
            fallback
        };

        // Who attends there.
        let unit_columns = [Col::Communes, Col::Extras, Col::Units, Col::UnitIds];
        let mut units: Option<BTreeSet<i64>> =
            unit_columns.iter().any(|&c| has(c)).then(BTreeSet::new);
        // Each unit with the column that named it first.
        let mut named_in: BTreeMap<i64, Col> = BTreeMap::new();
        if let Some(units) = units.as_mut() {
            let ids = cell(record, Col::UnitIds);
            if !ids.is_empty() {
                for s in list(&ids) {
                    match s
                        .parse::<i64>()
                        .ok()
                        .filter(|&u| dir.units.contains_key(&u) && dir.may_place(u))
                    {
                        Some(u) => {
                            named_in.entry(u).or_insert(Col::UnitIds);
                        }
                        None => fail(
                            Col::UnitIds,
                            format!("không có đơn vị mã «{s}» (trong địa bàn được phép)."),
                        ),
                    }
                }
            } else {
                for s in list(&cell(record, Col::Units)) {
                    match dir.unit(&s, region) {
                        Ok((u, guessed)) => {
                            if guessed {
                                guesses.push((Col::Units, s.clone(), u));
                            }
                            named_in.entry(u).or_insert(Col::Units);
                        }
                        Err(m) => fail(Col::Units, m),
                    }
                }
            }
            for s in list(&cell(record, Col::Communes)) {
                match dir.commune(&s, region) {
                    Ok(c) => {
                        for u in std::iter::once(c)
                            .chain(dir.schools.get(&c).into_iter().flatten().copied())
                        {
                            named_in.entry(u).or_insert(Col::Communes);
                        }
                    }
                    Err(m) => fail(Col::Communes, m),
                }
            }
            for s in list(&cell(record, Col::Extras)) {
                if fold(&s).starts_with("các ") {
                    let h = heading(Col::Extras);
                    warnings.push(RowError {
                        row: line,
                        message: format!(
                            "Dòng {line}, cột «{h}»: «{s}» chỉ một nhóm đơn vị, không phải tên \
                             một đơn vị: bỏ qua; hãy thêm từng đơn vị nếu cần mời."
                        ),
                        column: Some(h),
                    });
                    continue;
                }
                match dir.unit(&s, region) {
                    Ok((u, guessed)) => {
                        if guessed {
                            guesses.push((Col::Extras, s.clone(), u));
                        }
                        named_in.entry(u).or_insert(Col::Extras);
                    }
                    Err(m) => fail(Col::Extras, m),
                }
            }
            units.extend(named_in.keys().copied());
            for (&u, &col) in &named_in {
                if let Some(first) = placed.get(&u) {
                    fail(
                        col,
                        format!(
                            "đơn vị «{}» đã dự ở điểm cầu dòng {first}: mỗi đơn vị dự tại một \
                             điểm cầu.",
                            dir.name(u)
                        ),
                    );
                }
            }
        }
        if errors.len() > before {
            continue;
        }
        let Some((host, room_from_name)) = host else {
            continue;
        };
        if let Some(b) = existing {
            matched.insert(b, line);
        }
        placed.extend(named_in.keys().map(|&u| (u, line)));
        for (col, name, u) in guesses {
            let h = heading(col);
            warnings.push(RowError {
                row: line,
                message: format!(
                    "Dòng {line}, cột «{h}»: «{name}» được hiểu là «{}», đơn vị duy nhất có \
                     tên bắt đầu như vậy trong địa bàn; hãy kiểm tra.",
                    dir.name(u)
                ),
                column: Some(h),
            });
        }
        rows.push(Row {
            line,
            existing,
            name,
            position,
            host,
            coordinator,
            room_from_name,
            room,
            address,
            capacity,
            contact_name,
            contact_phone,
            contact_email,
            units,
        });
    }

    // A unit the file places leaves the point it attends that the file does not list;
    // that point must be one the caller coordinates, or the row is refused. A refused row
    // lists no point, so the check runs again until every row left passes it.
    let mut held: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for (&b, there) in &attending {
        for &u in there {
            held.entry(u).or_default().insert(b);
        }
    }
    let (leaving, moves) = loop {
        let listed: BTreeSet<i64> = rows.iter().filter_map(|r| r.existing).collect();
        let mut leaving: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        let mut moves: Vec<RowError> = Vec::new();
        let before = rows.len();
        rows.retain(|r| {
            let Some(units) = &r.units else {
                return true;
            };
            let mut mine: Vec<(i64, i64)> = Vec::new();
            let mut refused = Vec::new();
            for &u in units {
                for &b in held.get(&u).into_iter().flatten() {
                    if listed.contains(&b) || Some(b) == r.existing {
                        continue;
                    }
                    if dir.may_place(points[&b].coordinating_unit_id) {
                        mine.push((b, u));
                    } else {
                        refused.push((b, u));
                    }
                }
            }
            for &(b, u) in &refused {
                errors.push(RowError {
                    row: r.line,
                    column: None,
                    message: format!(
                        "Dòng {}: đơn vị «{}» đang dự ở điểm cầu «{}» ngoài địa bàn được \
                         phép; không chuyển được.",
                        r.line,
                        dir.name(u),
                        points[&b].name
                    ),
                });
            }
            if !refused.is_empty() {
                return false;
            }
            for (b, u) in mine {
                leaving.entry(b).or_default().insert(u);
                moves.push(RowError {
                    row: r.line,
                    column: None,
                    message: format!(
                        "Dòng {}: đơn vị «{}» chuyển từ điểm cầu «{}» sang điểm cầu này.",
                        r.line,
                        dir.name(u),
                        points[&b].name
                    ),
                });
            }
            true
        });
        if rows.len() == before {
            break (leaving, moves);
        }
    };
    warnings.extend(moves);
    errors.sort_by_key(|e| e.row);
    warnings.sort_by_key(|e| e.row);
    if !errors.is_empty() && !opts.valid_rows_only {
        return Err(refused("bridge-point", id, errors, |h| {
            Col::of_heading(h).map(Col::field)
        }));
    }

    // Write.
    let now = crate::store::now();
    let mut report = PointImportReport {
        conference_id: id,
        rows: records.len(),
        created: 0,
        updated: 0,
        unchanged: 0,
        points: Vec::with_capacity(rows.len()),
        warnings,
        errors,
        ignored_columns: ignored,
    };
    let next_position = points.values().map(|b| b.position + 1).max().unwrap_or(0);
    for (i, r) in rows.into_iter().enumerate() {
        // The file's units, and those already there that the caller may not place (a
        // district office cannot name them, nor take them away).
        let before = r
            .existing
            .and_then(|b| attending.get(&b).cloned())
            .unwrap_or_default();
        let after: BTreeSet<i64> = match &r.units {
            Some(file) => file
                .iter()
                .copied()
                .chain(before.iter().copied().filter(|&u| !dir.may_place(u)))
                .collect(),
            None => before.clone(),
        };
        let (point, action) = match r.existing.map(|b| &points[&b]) {
            Some(b) => {
                let mut n = b.clone();
                n.name = r.name.clone();
                n.host_unit_id = r.host;
                if let Some(c) = r.coordinator {
                    n.coordinating_unit_id = c;
                }
                if let Some(plan) = opts.plan_id {
                    n.plan_id = Some(plan);
                }
                if let Some(v) = r.room {
                    n.room = v;
                }
                if let Some(v) = r.address {
                    n.address = v;
                }
                if let Some(v) = r.capacity {
                    n.capacity = v;
                }
                if let Some(v) = r.contact_name {
                    n.contact_name = v;
                }
                if let Some(v) = r.contact_phone {
                    n.contact_phone = v;
                }
                if let Some(v) = r.contact_email {
                    n.contact_email = v;
                }
                let same_units = before == after;
                if n == *b && same_units {
                    (n, PointAction::Unchanged)
                } else if n == *b {
                    (n, PointAction::Updated)
                } else {
                    n.updated_at = now;
                    // Every column written: the row is locked with its conference.
                    let m = bridge_point::ActiveModel::from(n).reset_all();
                    (m.update(&txn).await?, PointAction::Updated)
                }
            }
            None => {
                let m = bridge_point::ActiveModel {
                    conference_id: Set(id),
                    plan_id: Set(opts.plan_id),
                    position: Set(r.position.unwrap_or(next_position + i as i32)),
                    name: Set(r.name.clone()),
                    host_unit_id: Set(r.host),
                    coordinating_unit_id: Set(r.coordinator.unwrap_or(r.host)),
                    room: Set(r.room.unwrap_or(r.room_from_name)),
                    address: Set(r.address.flatten()),
                    capacity: Set(r.capacity.flatten()),
                    contact_name: Set(r.contact_name.flatten()),
                    contact_phone: Set(r.contact_phone.flatten()),
                    contact_email: Set(r.contact_email.flatten()),
                    join_url: Set(None),
                    join_passcode: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                };
                (m.insert(&txn).await?, PointAction::Created)
            }
        };
        if before != after {
            let gone: Vec<i64> = before.difference(&after).copied().collect();
            if !gone.is_empty() {
                bridge_point_unit::Entity::delete_many()
                    .filter(bridge_point_unit::Column::BridgePointId.eq(point.id))
                    .filter(bridge_point_unit::Column::UnitId.is_in(gone))
                    .exec(&txn)
                    .await?;
            }
            let new: Vec<bridge_point_unit::ActiveModel> = after
                .difference(&before)
                .map(|&u| bridge_point_unit::ActiveModel {
                    bridge_point_id: Set(point.id),
                    unit_id: Set(u),
                })
                .collect();
            if !new.is_empty() {
                bridge_point_unit::Entity::insert_many(new)
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        match action {
            PointAction::Created => report.created += 1,
            PointAction::Updated => report.updated += 1,
            PointAction::Unchanged => report.unchanged += 1,
        }
        report.points.push(ImportedPoint {
            row: r.line,
            bridge_point_id: point.id,
            name: point.name,
            action,
            unit_ids: after.into_iter().collect(),
        });
    }
    for (b, units) in &leaving {
        bridge_point_unit::Entity::delete_many()
            .filter(bridge_point_unit::Column::BridgePointId.eq(*b))
            .filter(bridge_point_unit::Column::UnitId.is_in(units.iter().copied()))
            .exec(&txn)
            .await?;
    }
    if report.created + report.updated > 0 || !leaving.is_empty() {
        ledger::mark(&txn, Touched::Conferences(vec![id])).await?;
    }
    txn.commit().await?;
    tracing::info!(
        conference_id = id,
        created = report.created,
        updated = report.updated,
        unchanged = report.unchanged,
        skipped = report.errors.len(),
        user = %p.login,
        "bridge points imported"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::{commune_kind, list};

    #[test]
    fn a_commune_cell_may_say_its_kind() {
        assert_eq!(
            commune_kind("Minh Đức (thị trấn)"),
            ("minh đức".to_owned(), Some("thị trấn"))
        );
        assert_eq!(commune_kind("An Lư"), ("an lư".to_owned(), None));
    }

    #[test]
    fn lists_split_on_semicolons_else_commas() {
        assert_eq!(list("An Sơn; Phù Ninh"), ["An Sơn", "Phù Ninh"]);
        assert_eq!(list("MN, TH"), ["MN", "TH"]);
        assert_eq!(
            list("các phòng, ban, đơn vị; THPT 25-10"),
            ["các phòng, ban, đơn vị", "THPT 25-10"]
        );
        assert!(list(" ").is_empty());
    }
}

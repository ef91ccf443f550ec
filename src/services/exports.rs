//! Exports staff open in Excel: a conference's bridge-point table (each point with its
//! host, room, capacity, technical contact and attending units) and its delegate list per
//! bridge point, as CSV (UTF-8 with a byte-order mark, so that Excel shows Vietnamese
//! correctly) or XLSX. A district office exports its own area.
use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::kinds::{Reply, Role, Venue};
use crate::error::{Error, Result};
use crate::services::auth::Principal;
use crate::services::crud;
use crate::services::resources::conference::Conferences;
use crate::store::{bridge_point, bridge_point_unit, delegate, hall, person, unit};

/// A cell of a table.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

/// A sheet: its name, headings and rows.
#[derive(Clone, Debug)]
pub struct Table {
    pub sheet: &'static str,
    /// Heading and column width (Excel characters).
    pub columns: Vec<(&'static str, f64)>,
    pub rows: Vec<Vec<Cell>>,
    /// A last row in bold (Tổng cộng), if any.
    pub totals: Option<Vec<Cell>>,
}

/// The file formats of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

impl Table {
    /// The table in `format`.
    pub fn render(&self, format: Format) -> Result<Vec<u8>> {
        match format {
            Format::Csv => self.csv(),
            Format::Xlsx => self.xlsx(),
        }
    }

    /// CSV, UTF-8 with a byte-order mark, CRLF line ends (as Excel writes them).
    fn csv(&self) -> Result<Vec<u8>> {
        let e = |e: csv::Error| Error::Internal(format!("csv: {e}"));
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(b"\xEF\xBB\xBF".to_vec());
        w.write_record(self.columns.iter().map(|(h, _)| *h))
            .map_err(e)?;
        for row in self.rows.iter().chain(&self.totals) {
            w.write_record(row.iter().map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Number(n) => format_number(*n),
            }))
            .map_err(e)?;
        }
        w.into_inner()
            .map_err(|e| Error::Internal(format!("csv: {e}")))
    }

    /// XLSX: one sheet ([`workbook`]).
    fn xlsx(&self) -> Result<Vec<u8>> {
        workbook(&[self])
    }
}

/// An XLSX workbook with a sheet per table: bold headings, frozen, column widths, thin
/// borders, the totals row in bold.
pub fn workbook(tables: &[&Table]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, FormatBorder, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| Error::Internal(format!("xlsx: {e}"));
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_background_color("#DDEBF7");
    let cell = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
    let total = Format::new().set_bold().set_border(FormatBorder::Thin);
    let mut wb = Workbook::new();
    for t in tables {
        let ws = wb.add_worksheet();
        ws.set_name(t.sheet).map_err(e)?;
        for (col, (h, width)) in t.columns.iter().enumerate() {
            ws.write_with_format(0, col as u16, *h, &head).map_err(e)?;
            ws.set_column_width(col as u16, *width).map_err(e)?;
        }
        let rows = t
            .rows
            .iter()
            .map(|r| (r, &cell))
            .chain(t.totals.iter().map(|r| (r, &total)));
        for (r, (row, format)) in rows.enumerate() {
            for (c, value) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 1, c as u16);
                match value {
                    Cell::Text(s) => ws.write_with_format(r, c, s.as_str(), format),
                    Cell::Number(n) => ws.write_with_format(r, c, *n, format),
                }
                .map_err(e)?;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(e)?;
    }
    wb.save_to_buffer().map_err(e)
}

/// `3` rather than `3.0` for whole numbers.
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// The units a district office may export, or `None` for everyone else.
async fn scope_of(db: &impl ConnectionTrait, p: &Principal) -> Result<Option<BTreeSet<i64>>> {
    Ok(if p.role == Role::DistrictOffice {
        Some(crate::services::nominations::in_scope(db, &p.scope).await?)
    } else {
        None
    })
}

/// Names of units by id, read in chunks.
pub(crate) async fn unit_names(
    db: &impl ConnectionTrait,
    ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut map = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        map.extend(
            unit::Entity::find()
                .select_only()
                .columns([unit::Column::Id, unit::Column::Name])
                .filter(unit::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple::<(i64, String)>()
                .all(db)
                .await?,
        );
    }
    Ok(map)
}

async fn points_of(
    db: &impl ConnectionTrait,
    conference_id: i64,
    scope: Option<&BTreeSet<i64>>,
) -> Result<Vec<bridge_point::Model>> {
    Ok(bridge_point::Entity::find()
        .filter(bridge_point::Column::ConferenceId.eq(conference_id))
        .order_by_asc(bridge_point::Column::Position)
        .order_by_asc(bridge_point::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|b| scope.is_none_or(|s| s.contains(&b.coordinating_unit_id)))
        .collect())
}

/// The bridge-point table of conference `id` (Phụ lục: danh sách điểm cầu).
pub async fn bridge_points(db: &impl ConnectionTrait, p: &Principal, id: i64) -> Result<Table> {
    let c = crud::find::<Conferences>(db, id).await?;
    crud::authorize_read::<Conferences>(db, p, &c).await?;
    let scope = scope_of(db, p).await?;
    let points = points_of(db, id, scope.as_ref()).await?;
    let ids: Vec<i64> = points.iter().map(|b| b.id).collect();
    let attending = crate::services::links::load::<bridge_point_unit::Entity>(
        db,
        bridge_point_unit::Column::BridgePointId,
        bridge_point_unit::Column::UnitId,
        &ids,
    )
    .await?;
    let mut unit_ids: BTreeSet<i64> = attending.values().flatten().copied().collect();
    unit_ids.extend(
        points
            .iter()
            .flat_map(|b| [b.host_unit_id, b.coordinating_unit_id]),
    );
    let names = unit_names(db, &unit_ids).await?;
    let name = |u: i64| names.get(&u).cloned().unwrap_or_default();
    let rows = points
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let units: Vec<(String, i64)> = attending
                .get(&b.id)
                .into_iter()
                .flatten()
                .map(|&u| (name(u), u))
                .collect();
            let mut units: Vec<(String, i64)> = units;
            units.sort_by_cached_key(|(n, id)| (crate::domain::text::fold(n), *id));
            let ids: Vec<String> = units.iter().map(|(_, id)| id.to_string()).collect();
            let units: Vec<String> = units.into_iter().map(|(n, _)| n).collect();
            vec![
                Cell::Number((i + 1) as f64),
                b.name.clone().into(),
                name(b.host_unit_id).into(),
                name(b.coordinating_unit_id).into(),
                b.room.clone().unwrap_or_default().into(),
                b.address.clone().unwrap_or_default().into(),
                b.capacity
                    .map_or(Cell::Text(String::new()), |c| Cell::Number(c.into())),
                Cell::Number(units.len() as f64),
                units.join("; ").into(),
                b.contact_name.clone().unwrap_or_default().into(),
                b.contact_phone.clone().unwrap_or_default().into(),
                b.contact_email.clone().unwrap_or_default().into(),
                Cell::Number(b.id as f64),
                Cell::Number(b.host_unit_id as f64),
                Cell::Number(b.coordinating_unit_id as f64),
                ids.join("; ").into(),
            ]
        })
        .collect();
    Ok(Table {
        sheet: "Danh sách điểm cầu",
        columns: vec![
            ("STT", 6.0),
            ("Điểm cầu", 40.0),
            ("Đơn vị đăng cai", 30.0),
            ("Đơn vị điều phối", 30.0),
            ("Phòng", 20.0),
            ("Địa chỉ", 30.0),
            ("Sức chứa", 10.0),
            ("Số đơn vị dự", 10.0),
            ("Đơn vị dự", 60.0),
            ("Cán bộ kỹ thuật", 24.0),
            ("Điện thoại", 14.0),
            ("Email", 28.0),
            // Ids: an import of this file finds the same point and units where names
            // repeat.
            ("Mã điểm cầu", 10.0),
            ("Mã đơn vị đăng cai", 10.0),
            ("Mã đơn vị điều phối", 10.0),
            ("Mã đơn vị dự", 30.0),
        ],
        rows,
        totals: None,
    })
}

/// The delegates of conference `id`, bridge point by bridge point (then the hall, then
/// online), with the columns staff use: họ và tên, chức vụ, đơn vị, email, điện thoại,
/// điểm cầu.
pub async fn delegates(db: &impl ConnectionTrait, p: &Principal, id: i64) -> Result<Table> {
    let c = crud::find::<Conferences>(db, id).await?;
    crud::authorize_read::<Conferences>(db, p, &c).await?;
    let scope = scope_of(db, p).await?;
    let delegates: Vec<delegate::Model> = delegate::Entity::find()
        .filter(delegate::Column::ConferenceId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .filter(|d| scope.as_ref().is_none_or(|s| s.contains(&d.unit_id)))
        .collect();
    let points: HashMap<i64, bridge_point::Model> = bridge_point::Entity::find()
        .filter(bridge_point::Column::ConferenceId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    let halls: HashMap<i64, String> = hall::Entity::find()
        .select_only()
        .columns([hall::Column::Id, hall::Column::Name])
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let person_ids: Vec<i64> = delegates.iter().map(|d| d.person_id).collect();
    let mut people: HashMap<i64, person::Model> = HashMap::with_capacity(person_ids.len());
    for chunk in person_ids.chunks(1000) {
        people.extend(
            person::Entity::find()
                .filter(person::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|p| (p.id, p)),
        );
    }
    let unit_ids: BTreeSet<i64> = delegates.iter().map(|d| d.unit_id).collect();
    let names = unit_names(db, &unit_ids).await?;
    struct Line<'a> {
        key: (u8, i32, i64, String, String),
        d: &'a delegate::Model,
        place: String,
    }
    let mut lines: Vec<Line> = delegates
        .iter()
        .map(|d| {
            let (order, position, place_id, place) = match (d.venue, d.bridge_point_id, d.hall_id) {
                (Venue::BridgePoint, Some(b), _) => {
                    let p = points.get(&b);
                    (
                        0,
                        p.map_or(i32::MAX, |p| p.position),
                        b,
                        p.map(|p| p.name.clone()).unwrap_or_default(),
                    )
                }
                (Venue::Hall, _, Some(h)) => (1, 0, h, halls.get(&h).cloned().unwrap_or_default()),
                _ => (2, 0, 0, "Trực tuyến".to_owned()),
            };
            let unit = names.get(&d.unit_id).cloned().unwrap_or_default();
            let person = people
                .get(&d.person_id)
                .map(|p| p.full_name.clone())
                .unwrap_or_default();
            Line {
                key: (
                    order,
                    position,
                    place_id,
                    crate::domain::text::fold(&unit),
                    crate::domain::text::fold(&person),
                ),
                d,
                place,
            }
        })
        .collect();
    lines.sort_by(|a, b| a.key.cmp(&b.key).then(a.d.id.cmp(&b.d.id)));
    let reply = |r: Reply| match r {
        Reply::NeedsAction => "Chưa trả lời",
        Reply::Accepted => "Tham dự",
        Reply::Declined => "Không tham dự",
        Reply::Tentative => "Chưa chắc chắn",
    };
    let rows = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let p = people.get(&l.d.person_id);
            let text = |f: fn(&person::Model) -> Option<&String>| {
                Cell::Text(p.and_then(f).cloned().unwrap_or_default())
            };
            vec![
                Cell::Number((i + 1) as f64),
                Cell::Text(p.map(|p| p.full_name.clone()).unwrap_or_default()),
                text(|p| p.position.as_ref()),
                names.get(&l.d.unit_id).cloned().unwrap_or_default().into(),
                text(|p| p.email.as_ref()),
                text(|p| p.phone.as_ref()),
                l.place.clone().into(),
                reply(l.d.reply).into(),
                Cell::Number(l.d.unit_id as f64),
            ]
        })
        .collect();
    Ok(Table {
        sheet: "Danh sách đại biểu",
        columns: vec![
            ("STT", 6.0),
            ("Họ và tên", 28.0),
            ("Chức vụ", 24.0),
            ("Đơn vị", 36.0),
            ("Email", 30.0),
            ("Điện thoại", 14.0),
            ("Điểm cầu", 40.0),
            ("Trả lời", 14.0),
            ("Mã đơn vị", 10.0),
        ],
        rows,
        totals: None,
    })
}

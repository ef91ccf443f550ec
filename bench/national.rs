//! National-scale benchmark data for hoinghi (`cargo bench --bench national -- load …`).
//!
//! `load --database-url URL` migrates an empty database and bulk-loads, deterministically
//! (fixed seed, no external data), a two-level national tree after the 07/2025 reform:
//!
//! - unit 1: Bộ Giáo dục và Đào tạo (root);
//! - units 2..=35: the 34 provincial people's committees (under the root);
//! - units 36..=69: one Sở GDĐT per province (under its UBND tỉnh);
//! - 3,321 commune people's committees (xã, phường, đặc khu) under their UBND tỉnh;
//! - THPT schools under each Sở, and mầm non / tiểu học / THCS / liên cấp schools under
//!   each commune, up to 40,000 units in all;
//! - conference 1 (national, organised by the Bộ, hall 1) and conferences 2..=35, one per
//!   province (organised by its Sở, with a hall at the Sở);
//! - 3,321 bridge points, one per commune, in its province's conference: hosted and
//!   coordinated by the commune UBND, attended by it and up to three of its schools;
//! - 100,000 persons and 100,000 delegates: the 34 Sở directors in the national hall, the
//!   others at the bridge points of their commune;
//! - an admin user and an API token, printed on the last line as `TOKEN=…`.
//!
//! Rows go in with explicit ids (so that `path` and every reference are known without
//! reading back), in one transaction: on SQLite with `insert_many` in chunks under its
//! 32,766-parameter limit, on PostgreSQL with `COPY … FROM STDIN`; PostgreSQL sequences
//! are then moved past the loaded ids. Timings are printed, never asserted.
use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use chrono::{NaiveDateTime, TimeZone, Utc};
use hoinghi::domain::kinds::{
    AreaLevel, ConferenceMode, ConferenceStatus, DelegateRole, Reply, Role, SchoolLevel, UnitKind,
    Venue,
};
use hoinghi::domain::text::nfc;
use hoinghi::services::auth;
use hoinghi::store::{
    self, bridge_point, bridge_point_unit, conference, conference_hall, delegate, hall, person,
    unit,
};
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{AssertSqlSafe, Executor, Postgres};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbErr, EntityName, EntityTrait, IdenStatic, Iterable, PaginatorTrait, TransactionTrait, Value,
};

const USAGE: &str = "\
national: generates and bulk-loads a national-scale hoinghi dataset.

usage: cargo bench --bench national -- load --database-url URL [--analyze | --no-analyze]
       cargo bench --bench national -- documents --database-url URL [--iterations N]
       cargo bench --bench national -- assign --database-url URL [--iterations N]
       cargo bench --bench national -- import --database-url URL
       cargo bench --bench national -- points --database-url URL

  --database-url URL   sqlite://FILE?mode=rwc or postgres://…/DB (default: $HOINGHI_DATABASE_URL);
                       the database must be empty (it is migrated first)
  --analyze            after loading, run `VACUUM (ANALYZE)` on PostgreSQL (the state
                       autovacuum reaches a minute after a load; default there) or
                       `ANALYZE` on SQLite (off by default: hoinghi never runs it)
  --no-analyze         do neither

`documents` turns a loaded dataset into a national plan (4 conferences, 40 agenda items,
all bridge points) and times rendering it as HTML, text and DOCX (default 20 times each).
It changes the database: run it on a copy.

`assign` moves all bridge points into conference 1, empty, invites every school and
commune people's committee to a bridge point, and times the auto-assignment (the preview
N times, default 20, then one apply). It changes the database: run it on a copy.

`import` writes the dataset's 100,000 delegates as an XLSX list, imports it into a new
conference and exports that conference's delegates as XLSX and CSV, timing each. It
changes the database: run it on a copy.

`points` moves every bridge point into one conference, exports its table as XLSX and
imports it into a new conference, again, and by names only into another, timing each.
It changes the database: run it on a copy.
";

mod assign;
mod documents;
mod import;
mod points;

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` (3.32+); PostgreSQL allows 65,535.
const MAX_PARAMS: usize = 32_766;

const UNITS: usize = 40_000;
const COMMUNES: usize = 3_321;
const THPT_SCHOOLS: usize = 2_400;
const PERSONS: usize = 100_000;
/// Schools attending each bridge point besides the commune UBND.
const SCHOOLS_PER_BRIDGE_POINT: usize = 3;
const SEED: u64 = 0x686f_696e_6768_6921; // "hoinghi!"

/// The 34 provincial units after 12/06/2025: name, ASCII slug, city, number of communes
/// (approximately the official counts; they add up to 3,321).
const PROVINCES: [(&str, &str, bool, usize); 34] = [
    ("Hà Nội", "hanoi", true, 126),
    ("Huế", "hue", true, 40),
    ("Hải Phòng", "haiphong", true, 114),
    ("Đà Nẵng", "danang", true, 94),
    ("Hồ Chí Minh", "hcm", true, 168),
    ("Cần Thơ", "cantho", true, 103),
    ("Tuyên Quang", "tuyenquang", false, 124),
    ("Cao Bằng", "caobang", false, 56),
    ("Lai Châu", "laichau", false, 38),
    ("Lào Cai", "laocai", false, 99),
    ("Thái Nguyên", "thainguyen", false, 92),
    ("Điện Biên", "dienbien", false, 45),
    ("Lạng Sơn", "langson", false, 65),
    ("Sơn La", "sonla", false, 75),
    ("Phú Thọ", "phutho", false, 148),
    ("Bắc Ninh", "bacninh", false, 99),
    ("Quảng Ninh", "quangninh", false, 54),
    ("Hưng Yên", "hungyen", false, 104),
    ("Ninh Bình", "ninhbinh", false, 129),
    ("Thanh Hóa", "thanhhoa", false, 166),
    ("Nghệ An", "nghean", false, 130),
    ("Hà Tĩnh", "hatinh", false, 69),
    ("Quảng Trị", "quangtri", false, 78),
    ("Quảng Ngãi", "quangngai", false, 96),
    ("Gia Lai", "gialai", false, 135),
    ("Khánh Hòa", "khanhhoa", false, 65),
    ("Lâm Đồng", "lamdong", false, 124),
    ("Đắk Lắk", "daklak", false, 102),
    ("Đồng Nai", "dongnai", false, 95),
    ("Tây Ninh", "tayninh", false, 96),
    ("Vĩnh Long", "vinhlong", false, 124),
    ("Đồng Tháp", "dongthap", false, 102),
    ("Cà Mau", "camau", false, 64),
    ("An Giang", "angiang", false, 102),
];

/// The 13 special zones (đặc khu) and their province.
const SPECIAL_ZONES: [(&str, &str); 13] = [
    ("Vân Đồn", "quangninh"),
    ("Cô Tô", "quangninh"),
    ("Cát Hải", "haiphong"),
    ("Bạch Long Vĩ", "haiphong"),
    ("Hoàng Sa", "danang"),
    ("Côn Đảo", "hcm"),
    ("Cồn Cỏ", "quangtri"),
    ("Lý Sơn", "quangngai"),
    ("Trường Sa", "khanhhoa"),
    ("Phú Quý", "lamdong"),
    ("Phú Quốc", "angiang"),
    ("Kiên Hải", "angiang"),
    ("Thổ Châu", "angiang"),
];

const COMMUNE_NAMES: &[&str] = &[
    "An Bình",
    "An Hòa",
    "An Khánh",
    "An Lạc",
    "An Nhơn",
    "An Phú",
    "An Thạnh",
    "Bảo Lộc",
    "Bình An",
    "Bình Chánh",
    "Bình Định",
    "Bình Hòa",
    "Bình Minh",
    "Bình Thạnh",
    "Bình Xuyên",
    "Cẩm Giàng",
    "Cao Phong",
    "Chiêm Hóa",
    "Đại Đồng",
    "Đại Lộc",
    "Đông Hải",
    "Đông Hưng",
    "Đông Sơn",
    "Đức Hòa",
    "Đức Phổ",
    "Gia Bình",
    "Giao Thủy",
    "Hải Châu",
    "Hải Lăng",
    "Hàm Thuận",
    "Hòa An",
    "Hòa Bình",
    "Hòa Thành",
    "Hoài Nhơn",
    "Hoằng Hóa",
    "Hồng Phong",
    "Hưng Hà",
    "Hương Sơn",
    "Kim Sơn",
    "Kỳ Anh",
    "Lạc Dương",
    "Lạc Sơn",
    "Long Điền",
    "Long Hải",
    "Long Hưng",
    "Long Phú",
    "Mỹ Hào",
    "Mỹ Lộc",
    "Mỹ Thạnh",
    "Nam Đàn",
    "Nam Sách",
    "Nghĩa Hưng",
    "Ngọc Lặc",
    "Nhơn Trạch",
    "Ninh Hải",
    "Phong Điền",
    "Phú Bình",
    "Phú Lộc",
    "Phú Mỹ",
    "Phú Tân",
    "Phù Cừ",
    "Phước Hải",
    "Phước Long",
    "Phước Sơn",
    "Quảng Điền",
    "Quảng Xương",
    "Quế Sơn",
    "Quỳnh Lưu",
    "Sơn Dương",
    "Sơn Tịnh",
    "Tam Đảo",
    "Tam Kỳ",
    "Tân Châu",
    "Tân Hiệp",
    "Tân Phú",
    "Tân Thành",
    "Thạch Hà",
    "Thanh Chương",
    "Thanh Liêm",
    "Thạnh Phú",
    "Thuận An",
    "Thuận Thành",
    "Thường Xuân",
    "Tiên Du",
    "Tiền Hải",
    "Triệu Phong",
    "Trà Ôn",
    "Trực Ninh",
    "Tuy Phước",
    "Vạn Ninh",
    "Vĩnh Bảo",
    "Vĩnh Hưng",
    "Vĩnh Linh",
    "Vĩnh Thạnh",
    "Võ Nhai",
    "Xuân Lộc",
    "Xuân Trường",
    "Yên Dũng",
    "Yên Lạc",
    "Yên Thành",
];

/// Names schools are given after (people and places).
const SCHOOL_NAMES: &[&str] = &[
    "Chu Văn An",
    "Lê Quý Đôn",
    "Nguyễn Du",
    "Nguyễn Trãi",
    "Trần Phú",
    "Lê Lợi",
    "Quang Trung",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Lý Thường Kiệt",
    "Hai Bà Trưng",
    "Võ Thị Sáu",
    "Nguyễn Văn Trỗi",
    "Kim Đồng",
    "Lê Văn Tám",
    "Phan Bội Châu",
    "Phan Chu Trinh",
    "Huỳnh Thúc Kháng",
    "Nguyễn Đình Chiểu",
    "Lương Thế Vinh",
    "Ngô Quyền",
    "Đinh Tiên Hoàng",
    "Lê Hồng Phong",
    "Nguyễn Thị Minh Khai",
    "Tô Hiệu",
    "Bế Văn Đàn",
];

const KINDERGARTEN_NAMES: &[&str] = &[
    "Hoa Sen",
    "Hoa Hồng",
    "Hoa Mai",
    "Sơn Ca",
    "Họa Mi",
    "Vành Khuyên",
    "Bình Minh",
    "Ánh Dương",
    "Tuổi Thơ",
    "Sao Mai",
    "Búp Sen Hồng",
    "Măng Non",
];

const FAMILY_NAMES: &[&str] = &[
    "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan",
    "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lương", "Mai",
    "Tạ", "Đoàn",
];
const MIDDLE_MALE: &[&str] = &[
    "Văn", "Hữu", "Đức", "Minh", "Quang", "Thanh", "Công", "Xuân", "Đình", "Mạnh",
];
const MIDDLE_FEMALE: &[&str] = &[
    "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Hồng", "Kim", "Diệu",
];
const GIVEN_MALE: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khánh", "Khoa",
    "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tâm", "Thắng", "Thành",
    "Trung", "Tuấn", "Việt",
];
const GIVEN_FEMALE: &[&str] = &[
    "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Huyền", "Lan", "Liên",
    "Linh", "Loan", "Mai", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Thảo", "Thủy", "Trang",
    "Uyên", "Vân", "Yến",
];
const SCHOOL_POSITIONS: &[&str] = &[
    "Hiệu trưởng",
    "Phó Hiệu trưởng",
    "Tổ trưởng chuyên môn",
    "Giáo viên",
    "Giáo viên",
    "Giáo viên",
    "Giáo viên",
    "Nhân viên thiết bị",
    "Tổng phụ trách Đội",
];
const COMMUNE_POSITIONS: &[&str] = &[
    "Phó Chủ tịch UBND",
    "Công chức Văn hóa - Xã hội",
    "Chuyên viên Phòng Văn hóa - Xã hội",
];

/// SplitMix64: tiny, fast, and the same on every platform and every version of `rand`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Splits `total` over `weights` in proportion, largest remainders first; sums exactly.
fn apportion(total: usize, weights: &[usize]) -> Vec<usize> {
    let sum: usize = weights.iter().sum();
    let mut shares: Vec<usize> = weights.iter().map(|w| total * w / sum).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((total * weights[i]) % sum));
    let missing = total - shares.iter().sum::<usize>();
    for &i in order.iter().take(missing) {
        shares[i] += 1;
    }
    shares
}

/// Makes names unique under a parent: the second "Trường Tiểu học X" becomes "… số 2",
/// the second "UBND xã X" of a province "UBND xã X 2".
#[derive(Default)]
struct Names(HashMap<(i64, String), usize>);

impl Names {
    fn unique(&mut self, parent: i64, base: String, separator: &str) -> String {
        let n = self.0.entry((parent, base.clone())).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            format!("{base}{separator}{n}")
        }
    }
}

/// Everything the loader writes, built in memory first.
#[derive(Default)]
struct Dataset {
    units: Vec<unit::ActiveModel>,
    persons: Vec<person::ActiveModel>,
    halls: Vec<hall::ActiveModel>,
    conferences: Vec<conference::ActiveModel>,
    conference_halls: Vec<conference_hall::ActiveModel>,
    bridge_points: Vec<bridge_point::ActiveModel>,
    bridge_point_units: Vec<bridge_point_unit::ActiveModel>,
    delegates: Vec<delegate::ActiveModel>,
}

struct UnitRow<'a> {
    id: i64,
    parent: Option<(i64, &'a str)>,
    kind: UnitKind,
    school_level: Option<SchoolLevel>,
    area_level: Option<AreaLevel>,
    area_unit_id: Option<i64>,
    name: String,
    short_name: Option<String>,
    abbreviation: Option<&'a str>,
    mailbox: String,
    address: Option<String>,
}

fn unit_model(u: UnitRow<'_>, rng: &mut Rng, now: NaiveDateTime) -> unit::ActiveModel {
    let path = match u.parent {
        Some((_, parent_path)) => format!("{parent_path}{}/", u.id),
        None => format!("/{}/", u.id),
    };
    unit::ActiveModel {
        id: Set(u.id),
        parent_id: Set(u.parent.map(|(id, _)| id)),
        path: Set(path),
        kind: Set(u.kind),
        school_level: Set(u.school_level),
        area_level: Set(u.area_level),
        area_unit_id: Set(u.area_unit_id),
        name: Set(nfc(&u.name)),
        short_name: Set(u.short_name.map(|s| nfc(&s))),
        abbreviation: Set(u.abbreviation.map(nfc)),
        mailbox: Set(Some(u.mailbox)),
        address: Set(u.address.map(|s| nfc(&s))),
        phone: Set(Some(format!(
            "02{:02} {:04} {:03}",
            3 + rng.below(97),
            rng.below(10_000),
            rng.below(1_000)
        ))),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The path of a unit model just built (always `Set`).
fn path_of(m: &unit::ActiveModel) -> String {
    match &m.path {
        sea_orm::ActiveValue::Set(p) | sea_orm::ActiveValue::Unchanged(p) => p.clone(),
        sea_orm::ActiveValue::NotSet => unreachable!("path is always set"),
    }
}

/// A commune (or a special zone, or a ward) with the schools under it.
struct Commune {
    id: i64,
    province: usize,
    short_name: String,
    /// The place name schools are named after ("Phước Long").
    place: String,
    slug: String,
    schools: Vec<i64>,
}

fn generate(now: NaiveDateTime) -> (Dataset, Vec<Commune>) {
    let mut rng = Rng(SEED);
    let mut names = Names::default();
    let mut d = Dataset::default();
    let weights: Vec<usize> = PROVINCES.iter().map(|p| p.3).collect();
    let communes_per_province = apportion(COMMUNES, &weights);
    let thpt_per_province = apportion(THPT_SCHOOLS, &weights);

    // The root and the provinces.
    d.units.push(unit_model(
        UnitRow {
            id: 1,
            parent: None,
            kind: UnitKind::Ministry,
            school_level: None,
            area_level: Some(AreaLevel::Central),
            area_unit_id: None,
            name: "Bộ Giáo dục và Đào tạo".into(),
            short_name: Some("Bộ GDĐT".into()),
            abbreviation: Some("BGDĐT"),
            mailbox: "vanthu@moet.example".into(),
            address: Some("Số 35 phố Đại Cồ Việt, phường Hai Bà Trưng, thành phố Hà Nội".into()),
        },
        &mut rng,
        now,
    ));
    let root_path = path_of(&d.units[0]);
    let province_id = |p: usize| 2 + p as i64;
    let department_id = |p: usize| 2 + PROVINCES.len() as i64 + p as i64;
    let mut province_paths = Vec::new();
    for (p, (name, slug, city, _)) in PROVINCES.iter().enumerate() {
        let level = if *city { "thành phố" } else { "tỉnh" };
        let m = unit_model(
            UnitRow {
                id: province_id(p),
                parent: Some((1, &root_path)),
                kind: UnitKind::PeopleCommittee,
                school_level: None,
                area_level: Some(AreaLevel::Province),
                area_unit_id: None,
                name: format!("UBND {level} {name}"),
                short_name: Some(
                    format!("UBND {}", if *city { "TP" } else { "tỉnh" }) + " " + name,
                ),
                abbreviation: Some("UBND"),
                mailbox: format!("vanthu@ubnd-{slug}.example"),
                address: Some(format!("Trung tâm hành chính {level} {name}")),
            },
            &mut rng,
            now,
        );
        province_paths.push(path_of(&m));
        d.units.push(m);
    }
    for (p, (name, slug, city, _)) in PROVINCES.iter().enumerate() {
        let level = if *city { "thành phố" } else { "tỉnh" };
        d.units.push(unit_model(
            UnitRow {
                id: department_id(p),
                parent: Some((province_id(p), &province_paths[p])),
                kind: UnitKind::Department,
                school_level: None,
                area_level: Some(AreaLevel::Province),
                area_unit_id: Some(province_id(p)),
                name: format!("Sở Giáo dục và Đào tạo {name}"),
                short_name: Some("Sở GDĐT".into()),
                abbreviation: Some("SGDĐT"),
                mailbox: format!("vanthu@sogddt-{slug}.example"),
                address: Some(format!("Khu hành chính {level} {name}")),
            },
            &mut rng,
            now,
        ));
    }

    // The communes: xã, phường (more of them in cities) and the 13 đặc khu.
    let mut next_id = d.units.len() as i64 + 1;
    let mut communes = Vec::with_capacity(COMMUNES);
    let mut commune_paths = Vec::with_capacity(COMMUNES);
    for (p, (_, pslug, city, _)) in PROVINCES.iter().enumerate() {
        let zones: Vec<&str> = SPECIAL_ZONES
            .iter()
            .filter(|z| z.1 == *pslug)
            .map(|z| z.0)
            .collect();
        let count = communes_per_province[p];
        let wards = count * if *city { 55 } else { 15 } / 100;
        for j in 0..count {
            let (level, base) = if j >= count - zones.len() {
                ("đặc khu", zones[j - (count - zones.len())].to_owned())
            } else {
                let level = if j < wards { "phường" } else { "xã" };
                (level, rng.pick(COMMUNE_NAMES).to_owned())
            };
            let short = names.unique(province_id(p), format!("UBND {level} {base}"), " ");
            let slug = format!("c{next_id}.{pslug}");
            let m = unit_model(
                UnitRow {
                    id: next_id,
                    parent: Some((province_id(p), &province_paths[p])),
                    kind: UnitKind::PeopleCommittee,
                    school_level: None,
                    area_level: Some(AreaLevel::Commune),
                    area_unit_id: Some(province_id(p)),
                    name: short.clone(),
                    short_name: None,
                    abbreviation: Some("UBND"),
                    mailbox: format!("vanthu@ubnd-{slug}.example"),
                    address: Some(format!("Trụ sở {}", &short["UBND ".len()..])),
                },
                &mut rng,
                now,
            );
            commune_paths.push(path_of(&m));
            d.units.push(m);
            communes.push(Commune {
                id: next_id,
                province: p,
                short_name: short,
                place: base,
                slug,
                schools: Vec::new(),
            });
            next_id += 1;
        }
    }

    // THPT schools under each Sở.
    for (p, (pname, pslug, _, _)) in PROVINCES.iter().enumerate() {
        let dept_path = format!("{}{}/", province_paths[p], department_id(p));
        for _ in 0..thpt_per_province[p] {
            let name = names.unique(
                department_id(p),
                format!("Trường THPT {}", rng.pick(SCHOOL_NAMES)),
                " số ",
            );
            d.units.push(unit_model(
                UnitRow {
                    id: next_id,
                    parent: Some((department_id(p), &dept_path)),
                    kind: UnitKind::School,
                    school_level: Some(SchoolLevel::Thpt),
                    area_level: Some(AreaLevel::Province),
                    area_unit_id: Some(province_id(p)),
                    name,
                    short_name: None,
                    abbreviation: None,
                    mailbox: format!("vanthu@thpt{next_id}.{pslug}.example"),
                    address: Some(format!(
                        "{} {pname}",
                        if PROVINCES[p].2 {
                            "Thành phố"
                        } else {
                            "Tỉnh"
                        }
                    )),
                },
                &mut rng,
                now,
            ));
            next_id += 1;
        }
    }

    // Schools under each commune, to reach UNITS in all.
    let remaining = UNITS - d.units.len();
    let per_commune = apportion(remaining, &vec![1; COMMUNES]);
    const LEVELS: [(SchoolLevel, &str); 10] = [
        (SchoolLevel::Mn, "Mầm non"),
        (SchoolLevel::Th, "Tiểu học"),
        (SchoolLevel::Thcs, "THCS"),
        (SchoolLevel::Mn, "Mầm non"),
        (SchoolLevel::Th, "Tiểu học"),
        (SchoolLevel::Thcs, "THCS"),
        (SchoolLevel::Mn, "Mầm non"),
        (SchoolLevel::Th, "Tiểu học"),
        (SchoolLevel::LienCap, "Tiểu học và THCS"),
        (SchoolLevel::Th, "Tiểu học"),
    ];
    for (c, commune) in communes.iter_mut().enumerate() {
        let place = commune.place.clone();
        for k in 0..per_commune[c] {
            let (level, label) = LEVELS[(k + c) % LEVELS.len()];
            let after = match level {
                SchoolLevel::Mn if rng.below(2) == 0 => rng.pick(KINDERGARTEN_NAMES).to_owned(),
                SchoolLevel::Th | SchoolLevel::Thcs if rng.below(3) == 0 => {
                    rng.pick(SCHOOL_NAMES).to_owned()
                }
                _ => place.clone(),
            };
            let name = names.unique(commune.id, format!("Trường {label} {after}"), " số ");
            d.units.push(unit_model(
                UnitRow {
                    id: next_id,
                    parent: Some((commune.id, &commune_paths[c])),
                    kind: UnitKind::School,
                    school_level: Some(level),
                    area_level: Some(AreaLevel::Commune),
                    area_unit_id: Some(commune.id),
                    name,
                    short_name: None,
                    abbreviation: None,
                    mailbox: format!("vanthu@truong{next_id}.{}.example", commune.slug),
                    address: Some(format!(
                        "{}, {} {}",
                        place,
                        if PROVINCES[commune.province].2 {
                            "thành phố"
                        } else {
                            "tỉnh"
                        },
                        PROVINCES[commune.province].0
                    )),
                },
                &mut rng,
                now,
            ));
            commune.schools.push(next_id);
            next_id += 1;
        }
    }
    assert_eq!(d.units.len(), UNITS);

    // Halls and conferences: 1 national, then one per province.
    let tz = "Asia/Ho_Chi_Minh".to_owned();
    let add_conference = |d: &mut Dataset,
                          id: i64,
                          organiser: i64,
                          title: String,
                          hall_name: String,
                          address: String,
                          day: u32| {
        d.halls.push(hall::ActiveModel {
            id: Set(id),
            unit_id: Set(Some(organiser)),
            name: Set(nfc(&hall_name)),
            address: Set(Some(nfc(&address))),
            capacity: Set(Some(300)),
            time_zone: Set(tz.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        });
        // 08:00–11:30 in Hà Nội time.
        let starts = Utc.with_ymd_and_hms(2026, 8, day, 1, 0, 0).unwrap();
        d.conferences.push(conference::ActiveModel {
            id: Set(id),
            plan_id: Set(None),
            organiser_unit_id: Set(organiser),
            title: Set(nfc(&title)),
            summary: Set(Some(nfc("Triển khai nhiệm vụ năm học 2026-2027; tập huấn chuyên môn cho cán bộ quản lý và giáo viên."))),
            starts_at: Set(starts),
            ends_at: Set(starts + chrono::Duration::minutes(210)),
            time_zone: Set(tz.clone()),
            mode: Set(ConferenceMode::Hybrid),
            status: Set(ConferenceStatus::Published),
            sequence: Set(0),
            join_url: Set(Some(format!("https://hop.hoinghi.example/hn-{id}"))),
            join_passcode: Set(Some(format!("{:06}", id * 7919 % 1_000_000))),
            created_at: Set(now),
            updated_at: Set(now),
        });
        d.conference_halls.push(conference_hall::ActiveModel {
            conference_id: Set(id),
            hall_id: Set(id),
        });
    };
    add_conference(
        &mut d,
        1,
        1,
        "Hội nghị toàn quốc triển khai nhiệm vụ năm học 2026-2027".into(),
        "Hội trường tầng 2, Bộ Giáo dục và Đào tạo".into(),
        "Số 35 phố Đại Cồ Việt, thành phố Hà Nội".into(),
        10,
    );
    for (p, (name, _, city, _)) in PROVINCES.iter().enumerate() {
        let level = if *city { "thành phố" } else { "tỉnh" };
        add_conference(
            &mut d,
            2 + p as i64,
            department_id(p),
            format!("Hội nghị tập huấn chuyên môn năm học 2026-2027 {level} {name}"),
            "Hội trường Sở GDĐT".into(),
            format!("Khu hành chính {level} {name}"),
            11 + (p % 18) as u32,
        );
    }

    // Bridge points, one per commune, in their province's conference.
    let mut position = vec![0i32; PROVINCES.len()];
    for (b, c) in communes.iter().enumerate() {
        let id = b as i64 + 1;
        position[c.province] += 1;
        let contact = format!(
            "{} {} {}",
            rng.pick(FAMILY_NAMES),
            rng.pick(MIDDLE_MALE),
            rng.pick(GIVEN_MALE)
        );
        d.bridge_points.push(bridge_point::ActiveModel {
            id: Set(id),
            conference_id: Set(2 + c.province as i64),
            plan_id: Set(None),
            position: Set(position[c.province]),
            name: Set(nfc(&format!("Điểm cầu {}", c.short_name))),
            host_unit_id: Set(c.id),
            coordinating_unit_id: Set(c.id),
            room: Set(Some(nfc("Hội trường trực tuyến"))),
            address: Set(Some(nfc(&format!(
                "Trụ sở {}",
                &c.short_name["UBND ".len()..]
            )))),
            capacity: Set(Some(30 + 10 * rng.below(10) as i32)),
            contact_name: Set(Some(nfc(&contact))),
            contact_phone: Set(Some(format!("09{:08}", rng.below(100_000_000)))),
            contact_email: Set(Some(format!("diemcau@ubnd-{}.example", c.slug))),
            join_url: Set(Some(format!(
                "https://hop.hoinghi.example/hn-{}",
                2 + c.province
            ))),
            join_passcode: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        for u in
            std::iter::once(c.id).chain(c.schools.iter().copied().take(SCHOOLS_PER_BRIDGE_POINT))
        {
            d.bridge_point_units.push(bridge_point_unit::ActiveModel {
                bridge_point_id: Set(id),
                unit_id: Set(u),
            });
        }
    }

    // Persons and delegates: the Sở directors in the national hall, everyone else at the
    // bridge point of their commune, for the commune or one of its schools.
    let mut person_id = 0i64;
    let mut add_delegate = |d: &mut Dataset,
                            rng: &mut Rng,
                            unit_id: i64,
                            position: &str,
                            slug: &str,
                            conference_id: i64,
                            venue: Option<i64>| {
        person_id += 1;
        let female = rng.below(100) < 62;
        let full_name = if female {
            format!(
                "{} {} {}",
                rng.pick(FAMILY_NAMES),
                rng.pick(MIDDLE_FEMALE),
                rng.pick(GIVEN_FEMALE)
            )
        } else {
            format!(
                "{} {} {}",
                rng.pick(FAMILY_NAMES),
                rng.pick(MIDDLE_MALE),
                rng.pick(GIVEN_MALE)
            )
        };
        d.persons.push(person::ActiveModel {
            id: Set(person_id),
            unit_id: Set(Some(unit_id)),
            honorific: Set(Some(nfc(if female { "Bà" } else { "Ông" }))),
            full_name: Set(nfc(&full_name)),
            position: Set(Some(nfc(position))),
            email: Set(Some(format!("daibieu{person_id}@{slug}.example"))),
            phone: Set(Some(format!("09{:08}", rng.below(100_000_000)))),
            created_at: Set(now),
            updated_at: Set(now),
        });
        let reply = match rng.below(100) {
            0..55 => Reply::Accepted,
            55..85 => Reply::NeedsAction,
            85..95 => Reply::Tentative,
            _ => Reply::Declined,
        };
        d.delegates.push(delegate::ActiveModel {
            id: Set(person_id),
            conference_id: Set(conference_id),
            person_id: Set(person_id),
            unit_id: Set(unit_id),
            attendance_rule_id: Set(None),
            venue: Set(if venue.is_some() {
                Venue::BridgePoint
            } else {
                Venue::Hall
            }),
            hall_id: Set(if venue.is_some() {
                None
            } else {
                Some(conference_id)
            }),
            bridge_point_id: Set(venue),
            role: Set(if rng.below(10) == 0 {
                DelegateRole::OptParticipant
            } else {
                DelegateRole::ReqParticipant
            }),
            reply: Set(reply),
            created_at: Set(now),
            updated_at: Set(now),
        });
    };
    for (p, (_, slug, _, _)) in PROVINCES.iter().enumerate() {
        add_delegate(
            &mut d,
            &mut rng,
            department_id(p),
            "Giám đốc Sở",
            &format!("sogddt-{slug}"),
            1,
            None,
        );
    }
    let per_point = apportion(PERSONS - PROVINCES.len(), &vec![1; COMMUNES]);
    for (b, c) in communes.iter().enumerate() {
        let attending: Vec<i64> = std::iter::once(c.id)
            .chain(c.schools.iter().copied())
            .collect();
        for k in 0..per_point[b] {
            let unit_id = attending[k % attending.len()];
            let position = if unit_id == c.id {
                rng.pick(COMMUNE_POSITIONS)
            } else {
                rng.pick(SCHOOL_POSITIONS)
            };
            let slug = if unit_id == c.id {
                format!("ubnd-{}", c.slug)
            } else {
                format!("truong{unit_id}.{}", c.slug)
            };
            add_delegate(
                &mut d,
                &mut rng,
                unit_id,
                position,
                &slug,
                2 + c.province as i64,
                Some(b as i64 + 1),
            );
        }
    }
    assert_eq!(d.delegates.len(), PERSONS);
    (d, communes)
}

/// Where the rows go, all in one transaction: SQLite gets multi-row `INSERT`s of at most
/// [`MAX_PARAMS`] parameters each; PostgreSQL gets one `COPY … FROM STDIN` per table on
/// one pooled connection, because a multi-row `INSERT` costs its server 50–70 µs a row
/// to parse and plan, more than half the load (see `bench/README.md`).
enum Sink {
    Sqlite(DatabaseTransaction),
    Postgres(PoolConnection<Postgres>),
}

impl Sink {
    async fn open(db: &DatabaseConnection) -> Result<Self, String> {
        if store::is_postgres(db) {
            let mut conn = db
                .get_postgres_connection_pool()
                .acquire()
                .await
                .map_err(|e| e.to_string())?;
            conn.execute("BEGIN").await.map_err(|e| e.to_string())?;
            Ok(Self::Postgres(conn))
        } else {
            Ok(Self::Sqlite(db.begin().await.map_err(|e| e.to_string())?))
        }
    }

    async fn put<A: ActiveModelTrait>(&mut self, rows: Vec<A>) -> Result<u64, String> {
        match self {
            Self::Sqlite(txn) => insert_chunked(txn, rows).await.map_err(|e| e.to_string()),
            Self::Postgres(conn) => copy_in(conn, rows).await,
        }
    }

    async fn execute(&mut self, sql: &str) -> Result<(), String> {
        match self {
            Self::Sqlite(txn) => txn.execute_unprepared(sql).await.map(drop),
            Self::Postgres(conn) => {
                return conn
                    .execute(AssertSqlSafe(sql.to_owned()))
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string());
            }
        }
        .map_err(|e| e.to_string())
    }

    async fn commit(self) -> Result<(), String> {
        match self {
            Self::Sqlite(txn) => txn.commit().await.map_err(|e| e.to_string()),
            Self::Postgres(mut conn) => conn
                .execute("COMMIT")
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }
}

/// Inserts `rows` with multi-row INSERTs of at most [`MAX_PARAMS`] parameters each.
async fn insert_chunked<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<u64, DbErr>
where
    A: ActiveModelTrait,
{
    let columns = <A::Entity as EntityTrait>::Column::iter().count();
    let per_statement = (MAX_PARAMS / columns).max(1);
    let mut inserted = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        inserted += A::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(inserted)
}

/// Streams `rows` into their table with `COPY … FROM STDIN` (text format).
async fn copy_in<A: ActiveModelTrait>(
    conn: &mut PgConnection,
    rows: Vec<A>,
) -> Result<u64, String> {
    let table = A::Entity::default().table_name().to_owned();
    let columns: Vec<_> = <A::Entity as EntityTrait>::Column::iter().collect();
    let names: Vec<String> = columns
        .iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect();
    let mut buf = Vec::with_capacity(rows.len() * 128);
    for row in &rows {
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                buf.push(b'\t');
            }
            let value = row.get(*c).into_value();
            copy_value(&mut buf, value).map_err(|e| format!("{table}.{}: {e}", c.as_str()))?;
        }
        buf.push(b'\n');
    }
    let sql = format!("COPY \"{table}\" ({}) FROM STDIN", names.join(", "));
    let mut copy = conn.copy_in_raw(&sql).await.map_err(|e| e.to_string())?;
    copy.send(buf).await.map_err(|e| e.to_string())?;
    copy.finish().await.map_err(|e| format!("{table}: {e}"))
}

/// One value in `COPY`'s text format: `\N` for NULL, text with `\\`, tab, newline and
/// carriage return escaped.
fn copy_value(buf: &mut Vec<u8>, value: Option<Value>) -> Result<(), String> {
    let text = match value {
        None => return Err("value not set".into()),
        Some(Value::BigInt(v)) => v.map(|v| v.to_string()),
        Some(Value::Int(v)) => v.map(|v| v.to_string()),
        Some(Value::Bool(v)) => v.map(|v| if v { "t" } else { "f" }.to_owned()),
        Some(Value::String(v)) => v,
        Some(Value::ChronoDateTime(v)) => v.map(|v| v.format("%Y-%m-%d %H:%M:%S%.f").to_string()),
        Some(Value::ChronoDateTimeUtc(v)) => {
            v.map(|v| v.format("%Y-%m-%d %H:%M:%S%.f+00").to_string())
        }
        Some(other) => return Err(format!("no COPY text for {other:?}")),
    };
    match text {
        None => buf.extend_from_slice(b"\\N"),
        Some(t) => {
            for b in t.bytes() {
                match b {
                    b'\\' => buf.extend_from_slice(b"\\\\"),
                    b'\t' => buf.extend_from_slice(b"\\t"),
                    b'\n' => buf.extend_from_slice(b"\\n"),
                    b'\r' => buf.extend_from_slice(b"\\r"),
                    _ => buf.push(b),
                }
            }
        }
    }
    Ok(())
}

struct Timer {
    start: Instant,
    phase: Instant,
    report: String,
}

impl Timer {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            start: now,
            phase: now,
            report: String::new(),
        }
    }

    /// Ends a phase: prints and returns its duration in seconds.
    fn lap(&mut self, what: &str) -> f64 {
        let s = self.phase.elapsed().as_secs_f64();
        self.phase = Instant::now();
        let line = format!("phase {what:<28} {s:>8.3} s");
        println!("{line}");
        let _ = writeln!(self.report, "{line}");
        s
    }
}

struct Options {
    url: String,
    analyze: Option<bool>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut url = std::env::var("HOINGHI_DATABASE_URL").ok();
    let mut analyze = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--database-url" => {
                url = Some(it.next().ok_or("--database-url needs a value")?.clone())
            }
            s if s.starts_with("--database-url=") => {
                url = Some(s["--database-url=".len()..].to_owned())
            }
            "--analyze" => analyze = Some(true),
            "--no-analyze" => analyze = Some(false),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Options {
        url: url.ok_or("--database-url (or HOINGHI_DATABASE_URL) is required")?,
        analyze,
    })
}

async fn count<E: EntityTrait>(db: &DatabaseConnection) -> Result<u64, DbErr>
where
    E::Model: Sync,
{
    E::find().count(db).await
}

async fn load(opts: Options) -> Result<(), String> {
    let e = |e: DbErr| e.to_string();
    let mut t = Timer::new();
    let db = store::connect(&opts.url, 2).await.map_err(e)?;
    store::migrate(&db).await.map_err(e)?;
    let postgres = store::is_postgres(&db);
    let backend = if postgres { "postgresql" } else { "sqlite" };
    if count::<unit::Entity>(&db).await.map_err(e)? > 0 {
        return Err("the database already holds units: load into an empty database".into());
    }
    t.lap("connect + migrate");
    let load_start = Instant::now();

    let (data, communes) = generate(store::now());
    let sizes = [
        ("unit", data.units.len()),
        ("person", data.persons.len()),
        ("hall", data.halls.len()),
        ("conference", data.conferences.len()),
        ("conference_hall", data.conference_halls.len()),
        ("bridge_point", data.bridge_points.len()),
        ("bridge_point_unit", data.bridge_point_units.len()),
        ("delegate", data.delegates.len()),
    ];
    t.lap("generate (in memory)");

    let mut sink = Sink::open(&db).await?;
    sink.put(data.units).await?;
    t.lap("insert unit");
    sink.put(data.persons).await?;
    t.lap("insert person");
    sink.put(data.halls).await?;
    sink.put(data.conferences).await?;
    sink.put(data.conference_halls).await?;
    t.lap("insert hall + conference");
    sink.put(data.bridge_points).await?;
    sink.put(data.bridge_point_units).await?;
    t.lap("insert bridge_point (+units)");
    sink.put(data.delegates).await?;
    t.lap("insert delegate");
    if postgres {
        // Explicit ids leave the serial sequences behind; move them past the loaded rows.
        for table in [
            "unit",
            "person",
            "hall",
            "conference",
            "bridge_point",
            "delegate",
        ] {
            sink.execute(&format!(
                "SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT MAX(id) FROM \"{table}\"))"
            ))
            .await?;
        }
        t.lap("advance sequences");
    }
    sink.commit().await?;
    t.lap("commit");
    let bulk = load_start.elapsed().as_secs_f64();

    if opts.analyze.unwrap_or(postgres) {
        // On PostgreSQL, VACUUM also sets the visibility map, without which no count can
        // be an index-only scan; autovacuum would do the same shortly after a load.
        let (sql, phase) = match postgres {
            true => ("VACUUM (ANALYZE)", "vacuum (analyze)"),
            false => ("ANALYZE", "analyze"),
        };
        db.execute_unprepared(sql).await.map_err(e)?;
        t.lap(phase);
    }

    let password = auth::generate_password();
    let user = auth::create_user(&db, "bench-admin", &password, Role::Admin, None)
        .await
        .map_err(|e| e.to_string())?;
    let (_, token) =
        auth::create_token(&db, user.id, "api", Some("national benchmark".into()), None)
            .await
            .map_err(|e| e.to_string())?;
    t.lap("admin user + token");
    let total = t.start.elapsed().as_secs_f64();

    println!("backend      {backend}");
    for (table, rows) in sizes {
        println!("rows {table:<20} {rows:>8}");
    }
    let counts = [
        ("unit", count::<unit::Entity>(&db).await.map_err(e)?),
        (
            "bridge_point",
            count::<bridge_point::Entity>(&db).await.map_err(e)?,
        ),
        ("delegate", count::<delegate::Entity>(&db).await.map_err(e)?),
        ("person", count::<person::Entity>(&db).await.map_err(e)?),
    ];
    for (table, n) in counts {
        println!("count {table:<19} {n:>8}");
    }
    let largest = communes
        .iter()
        .fold(vec![0usize; PROVINCES.len()], |mut acc, c| {
            acc[c.province] += 1;
            acc
        });
    println!(
        "bridge points per conference: min {} max {}",
        largest.iter().min().unwrap(),
        largest.iter().max().unwrap()
    );
    println!("BULK_LOAD_SECONDS={bulk:.3}");
    println!("TOTAL_SECONDS={total:.3}");
    println!("TOKEN={token}");
    Ok(())
}

/// `documents --database-url URL [--iterations N]`
/// `documents` or `assign`: `--database-url URL [--iterations N]`.
fn on_copy_command(name: &str, args: &[String]) -> ExitCode {
    let mut url = std::env::var("HOINGHI_DATABASE_URL").ok();
    let mut iterations = 20;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--database-url", Some(v)) => url = Some(v.clone()),
            ("--iterations", Some(v)) if v.parse::<usize>().is_ok_and(|n| n > 0) => {
                iterations = v.parse().unwrap_or(20)
            }
            _ => {
                eprintln!("national {name}: bad argument `{a}`\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(url) = url else {
        eprintln!("national {name}: --database-url is required");
        return ExitCode::from(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = match name {
        "assign" => runtime.block_on(assign::run(&url, iterations)),
        "import" => runtime.block_on(import::run(&url)),
        "points" => runtime.block_on(points::run(&url)),
        _ => runtime.block_on(documents::run(&url, iterations)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("national {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    // `cargo bench` appends `--bench`; it means nothing here.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("load") => {}
        Some("documents") => return on_copy_command("documents", &args[1..]),
        Some("assign") => return on_copy_command("assign", &args[1..]),
        Some("import") => return on_copy_command("import", &args[1..]),
        Some("points") => return on_copy_command("points", &args[1..]),
        Some("import-file") => {
            // Internal: `import-file --database-url URL --conference ID --file PATH`.
            let get = |flag: &str| {
                args.iter()
                    .position(|a| a == flag)
                    .and_then(|i| args.get(i + 1))
                    .cloned()
                    .unwrap_or_default()
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            let c = get("--conference").parse().unwrap_or(0);
            return match runtime.block_on(import::import_file(
                &get("--database-url"),
                c,
                &get("--file"),
            )) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("national import-file: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("national: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let opts = match parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("national: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(load(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("national: {e}");
            ExitCode::FAILURE
        }
    }
}

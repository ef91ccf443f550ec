//! Vietnamese public holidays and the Vietnamese lunar calendar (âm lịch).
//!
//! The lunar calendar is Hồ Ngọc Đức's astronomical algorithm (new moons and solar terms
//! from Jean Meeus' formulas), evaluated at UTC+7. It is written by hand because the
//! Chinese-calendar crates compute at UTC+8 (Beijing), and a new moon or a solar term that
//! falls between 23h00 and 24h00 Hà Nội time puts a month boundary, or Tết itself, on a
//! different day in Vietnam: Tết 1985, 2007 and 2030 (02/02 in Vietnam, 03/02 in China).
//! The algorithm's new moons are good to a few minutes; those that begin the months of Tết
//! and Giỗ Tổ in [`HOLIDAY_YEARS`] all fall at least 50 minutes from midnight.
//!
//! Holidays follow Bộ luật Lao động 2019, Điều 112, with the compensating days off of
//! Điều 111 khoản 3 counted against the public sector's weekly rest, Saturday and Sunday
//! (Quyết định 188/1999/QĐ-TTg). What is modelled, and what is not, is said on [`holiday`].
use std::collections::BTreeMap;
use std::f64::consts::PI;
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Serialize;
use utoipa::ToSchema;

/// The years [`holiday`] answers for: those whose rules we know and whose dates are tested.
pub const HOLIDAY_YEARS: std::ops::RangeInclusive<i32> = 2020..=2035;

/// Vietnam's offset from UTC in hours, at which lunar months begin.
const VIETNAM_UTC_OFFSET_HOURS: f64 = 7.0;

/// Julian day number of 0001-01-01 minus one, to convert chrono's day count.
const JULIAN_DAY_OF_CE_EPOCH: i64 = 1_721_425;

/// Mean length of a synodic month in days.
const SYNODIC_MONTH: f64 = 29.530_588_853;

/// Julian day of the new moon numbered 0 (1900-01-01 13:52 UT).
const NEW_MOON_EPOCH: f64 = 2_415_021.076_998_695;

/// A date of the Vietnamese lunar calendar. `year` is the solar year in which the lunar
/// year begins (Tết 2024 is 1/1/2024, Giáp Thìn).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, ToSchema)]
pub struct LunarDate {
    pub day: u32,
    pub month: u32,
    pub year: i32,
    /// Whether `month` is the intercalary (nhuận) month that repeats it.
    pub leap: bool,
}

/// Why a day is (or may be) a day off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    /// A holiday of Điều 112 itself.
    Official,
    /// A working day given off because a holiday fell on a Saturday or a Sunday (nghỉ bù).
    Compensatory,
    /// A day next to Quốc khánh of which the government picks one each year: it may be off.
    Adjacent,
}

/// A day off named by the holiday it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, ToSchema)]
pub struct Holiday {
    /// The holiday's Vietnamese name; for a compensatory or adjacent day, the holiday it
    /// belongs to.
    pub name: &'static str,
    pub kind: HolidayKind,
}

const NEW_YEAR: &str = "Tết Dương lịch";
const TET: &str = "Tết Nguyên Đán";
const HUNG_KINGS: &str = "Giỗ Tổ Hùng Vương";
const REUNIFICATION: &str = "Ngày Chiến thắng 30/4";
const LABOUR_DAY: &str = "Quốc tế Lao động 1/5";
const NATIONAL_DAY: &str = "Quốc khánh 2/9";

/// Whether `date` is a Vietnamese public holiday, a compensating day off, or a day next to
/// Quốc khánh that may be off; `None` for a working day and for years outside
/// [`HOLIDAY_YEARS`].
///
/// Modelled, per Bộ luật Lao động 2019 Điều 112:
/// - Tết Dương lịch 1/1, Ngày Chiến thắng 30/4, Quốc tế Lao động 1/5, Quốc khánh 2/9 and
///   Giỗ Tổ Hùng Vương 10/3 âm lịch;
/// - Tết Nguyên Đán as five days: the last day of the lunar year and mùng 1 to mùng 4.
///   The Prime Minister fixes the exact days every year (often with weekends around them
///   and days swapped with a Saturday); this is the usual pattern, not the decision;
/// - from 2021, 1/9 and 3/9 as [`HolidayKind::Adjacent`]: the Code gives one day next to
///   2/9 and the Prime Minister chooses which (Bộ luật Lao động 2012 had 2/9 only);
/// - nghỉ bù (Điều 111 khoản 3): each official day falling on a Saturday or Sunday gives
///   the next working day that is neither a holiday nor already a compensating day.
///
/// Not modelled: the yearly decisions that move Tết or swap working days (hoán đổi ngày
/// làm việc), holidays of foreign workers (Điều 112 khoản 2), and a holiday coinciding
/// with another (no extra day is given).
pub fn holiday(date: NaiveDate) -> Option<Holiday> {
    static TABLE: OnceLock<BTreeMap<NaiveDate, Holiday>> = OnceLock::new();
    TABLE
        .get_or_init(|| HOLIDAY_YEARS.flat_map(holidays_of_year).collect())
        .get(&date)
        .copied()
}

/// Every day off of a solar year, in date order (see [`holiday`] for what is modelled).
/// Computed for any year; [`holiday`] answers only for [`HOLIDAY_YEARS`].
pub fn holidays_of_year(year: i32) -> Vec<(NaiveDate, Holiday)> {
    let official = official_days(year);
    let compensatory = compensatory_days(&official);
    let mut days: BTreeMap<NaiveDate, Holiday> = BTreeMap::new();
    if year >= 2021 {
        for day in [1, 3] {
            if let Some(d) = NaiveDate::from_ymd_opt(year, 9, day) {
                days.insert(d, adjacent(NATIONAL_DAY));
            }
        }
    }
    // Later inserts win: an official day outranks a compensating one, which outranks a
    // day that only may be off.
    for (date, name) in compensatory {
        days.insert(date, compensating(name));
    }
    for (&date, &name) in &official {
        days.insert(date, official_day(name));
    }
    days.into_iter().collect()
}

fn official_day(name: &'static str) -> Holiday {
    Holiday {
        name,
        kind: HolidayKind::Official,
    }
}

fn compensating(name: &'static str) -> Holiday {
    Holiday {
        name,
        kind: HolidayKind::Compensatory,
    }
}

fn adjacent(name: &'static str) -> Holiday {
    Holiday {
        name,
        kind: HolidayKind::Adjacent,
    }
}

/// The official days of a year with their names; on a coincidence the first listed wins.
fn official_days(year: i32) -> BTreeMap<NaiveDate, &'static str> {
    let mut days = BTreeMap::new();
    let solar = [(1, 1, NEW_YEAR), (4, 30, REUNIFICATION), (5, 1, LABOUR_DAY)];
    for (month, day, name) in solar {
        if let Some(d) = NaiveDate::from_ymd_opt(year, month, day) {
            days.entry(d).or_insert(name);
        }
    }
    if let Some(tet) = lunar_to_solar(lunar_date(1, 1, year)) {
        // The last day of the lunar year (29 or 30 tháng Chạp) and mùng 1 to mùng 4.
        let first = tet.checked_sub_days(Days::new(1)).unwrap_or(tet);
        for d in first.iter_days().take(5) {
            days.entry(d).or_insert(TET);
        }
    }
    if let Some(d) = lunar_to_solar(lunar_date(10, 3, year)) {
        days.entry(d).or_insert(HUNG_KINGS);
    }
    if let Some(d) = NaiveDate::from_ymd_opt(year, 9, 2) {
        days.entry(d).or_insert(NATIONAL_DAY);
    }
    days
}

fn lunar_date(day: u32, month: u32, year: i32) -> LunarDate {
    LunarDate {
        day,
        month,
        year,
        leap: false,
    }
}

/// For each official day on a weekend, in date order, the next working day that is not
/// official and not already given: the days a holiday block is extended by.
fn compensatory_days(
    official: &BTreeMap<NaiveDate, &'static str>,
) -> BTreeMap<NaiveDate, &'static str> {
    let mut given = BTreeMap::new();
    for (&date, &name) in official {
        if !is_weekend(date) {
            continue;
        }
        let next = date
            .iter_days()
            .skip(1)
            .find(|d| !is_weekend(*d) && !official.contains_key(d) && !given.contains_key(d));
        if let Some(d) = next {
            given.insert(d, name);
        }
    }
    given
}

/// Saturday or Sunday, the weekly rest of the public sector.
fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The Vietnamese lunar date of a solar (Gregorian) date.
pub fn solar_to_lunar(date: NaiveDate) -> LunarDate {
    let day_number = julian_day(date);
    let k = ((day_number as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH).floor() as i64;
    let mut month_start = new_moon_day(k + 1);
    if month_start > day_number {
        month_start = new_moon_day(k);
    }
    let solar_year = date.year();
    let (mut year, a11, b11) = {
        let this_11 = lunar_month_11(solar_year);
        if this_11 >= month_start {
            (solar_year, lunar_month_11(solar_year - 1), this_11)
        } else {
            (solar_year + 1, this_11, lunar_month_11(solar_year + 1))
        }
    };
    let day = (day_number - month_start + 1) as u32;
    let diff = ((month_start - a11) / 29) as i32;
    let mut month = diff + 11;
    let mut leap = false;
    if b11 - a11 > 365 {
        let leap_diff = leap_month_offset(a11);
        if diff >= leap_diff {
            month = diff + 10;
            leap = diff == leap_diff;
        }
    }
    if month > 12 {
        month -= 12;
    }
    if month >= 11 && diff < 4 {
        year -= 1;
    }
    LunarDate {
        day,
        month: month as u32,
        year,
        leap,
    }
}

/// The solar date of a lunar date; `None` if it does not exist (a leap month the year does
/// not have, or day 30 of a 29-day month).
pub fn lunar_to_solar(lunar: LunarDate) -> Option<NaiveDate> {
    if !(1..=30).contains(&lunar.day) || !(1..=12).contains(&lunar.month) {
        return None;
    }
    let month = lunar.month as i32;
    let (a11, b11) = if month < 11 {
        (lunar_month_11(lunar.year - 1), lunar_month_11(lunar.year))
    } else {
        (lunar_month_11(lunar.year), lunar_month_11(lunar.year + 1))
    };
    let k = (0.5 + (a11 as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH).floor() as i64;
    let mut offset = (month - 11).rem_euclid(12);
    if b11 - a11 > 365 {
        let leap_offset = leap_month_offset(a11);
        let leap_month = (leap_offset - 2).rem_euclid(12);
        if lunar.leap && month != leap_month {
            return None;
        }
        if lunar.leap || offset >= leap_offset {
            offset += 1;
        }
    } else if lunar.leap {
        return None;
    }
    let month_start = new_moon_day(k + i64::from(offset));
    let month_length = new_moon_day(k + i64::from(offset) + 1) - month_start;
    if i64::from(lunar.day) > month_length {
        return None;
    }
    from_julian_day(month_start + i64::from(lunar.day) - 1)
}

fn julian_day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) + JULIAN_DAY_OF_CE_EPOCH
}

fn from_julian_day(jd: i64) -> Option<NaiveDate> {
    i32::try_from(jd - JULIAN_DAY_OF_CE_EPOCH)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// The Julian day (at UTC+7) of the day holding the k-th new moon since 1900-01-01.
fn new_moon_day(k: i64) -> i64 {
    (new_moon(k as f64) + 0.5 + VIETNAM_UTC_OFFSET_HOURS / 24.0).floor() as i64
}

/// The instant (Julian day, UT) of the k-th new moon after 1900-01-01 (Meeus, ch. 49,
/// abridged as in Hồ Ngọc Đức's published algorithm).
fn new_moon(k: f64) -> f64 {
    let t = k / 1236.85;
    let t2 = t * t;
    let t3 = t2 * t;
    let dr = PI / 180.0;
    let mut jd1 = 2_415_020.759_33 + 29.530_588_68 * k + 0.000_117_8 * t2 - 0.000_000_155 * t3;
    jd1 += 0.000_33 * ((166.56 + 132.87 * t - 0.009_173 * t2) * dr).sin();
    let m = 359.2242 + 29.105_356_08 * k - 0.000_033_3 * t2 - 0.000_003_47 * t3;
    let mpr = 306.0253 + 385.816_918_06 * k + 0.010_730_6 * t2 + 0.000_012_36 * t3;
    let f = 21.2964 + 390.670_506_46 * k - 0.001_652_8 * t2 - 0.000_002_39 * t3;
    let c1 = (0.1734 - 0.000_393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin()
        - 0.4068 * (mpr * dr).sin()
        + 0.0161 * (dr * 2.0 * mpr).sin()
        - 0.0004 * (dr * 3.0 * mpr).sin()
        + 0.0104 * (dr * 2.0 * f).sin()
        - 0.0051 * (dr * (m + mpr)).sin()
        - 0.0074 * (dr * (m - mpr)).sin()
        + 0.0004 * (dr * (2.0 * f + m)).sin()
        - 0.0004 * (dr * (2.0 * f - m)).sin()
        - 0.0006 * (dr * (2.0 * f + mpr)).sin()
        + 0.0010 * (dr * (2.0 * f - mpr)).sin()
        + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    let delta_t = if t < -11.0 {
        0.001 + 0.000_839 * t + 0.000_226_1 * t2 - 0.000_008_45 * t3 - 0.000_000_081 * t * t3
    } else {
        -0.000_278 + 0.000_265 * t + 0.000_262 * t2
    };
    jd1 + c1 - delta_t
}

/// The sun's apparent longitude in radians, in [0, 2π), at a Julian day (UT).
fn sun_longitude(jdn: f64) -> f64 {
    let t = (jdn - 2_451_545.0) / 36_525.0;
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.529_10 + 35_999.050_30 * t - 0.000_155_9 * t2 - 0.000_000_48 * t * t2;
    let l0 = 280.466_45 + 36_000.769_83 * t + 0.000_303_2 * t2;
    let dl = (1.914_600 - 0.004_817 * t - 0.000_014 * t2) * (dr * m).sin()
        + (0.019_993 - 0.000_101 * t) * (dr * 2.0 * m).sin()
        + 0.000_290 * (dr * 3.0 * m).sin();
    ((l0 + dl) * dr).rem_euclid(2.0 * PI)
}

/// Which twelfth of the ecliptic (0..12, each holding one major solar term) the sun is in
/// at the start of a day at UTC+7.
fn sun_sector(day_number: i64) -> i64 {
    let jd = day_number as f64 - 0.5 - VIETNAM_UTC_OFFSET_HOURS / 24.0;
    (sun_longitude(jd) / PI * 6.0).floor() as i64
}

/// The first day of the 11th lunar month (the month holding the winter solstice) that
/// begins in or before December of `year`.
fn lunar_month_11(year: i32) -> i64 {
    let end_of_year = NaiveDate::from_ymd_opt(year, 12, 31)
        .map(julian_day)
        .unwrap_or_default();
    let k = ((end_of_year as f64 - 2_415_021.0) / SYNODIC_MONTH).floor() as i64;
    let new_moon_day_k = new_moon_day(k);
    if sun_sector(new_moon_day_k) >= 9 {
        new_moon_day(k - 1)
    } else {
        new_moon_day_k
    }
}

/// In a 13-month lunar year starting at month 11 on `a11`, the offset of the leap month:
/// the first month with no major solar term.
fn leap_month_offset(a11: i64) -> i32 {
    let k = ((a11 as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH + 0.5).floor() as i64;
    let mut i = 1;
    let mut arc = sun_sector(new_moon_day(k + 1));
    loop {
        let last = arc;
        i += 1;
        arc = sun_sector(new_moon_day(k + i64::from(i)));
        if arc == last || i >= 14 {
            return i - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn lunar(day: u32, month: u32, year: i32, leap: bool) -> LunarDate {
        LunarDate {
            day,
            month,
            year,
            leap,
        }
    }

    /// Tết (mùng 1 tháng Giêng) as Vietnamese almanacs print it. 2030 is 02/02 in Vietnam
    /// but 03/02 in China: that new moon falls at 16h07 UTC, 23h07 in Hà Nội and 00h07 in
    /// Beijing (see `tet_2030_differs_from_the_chinese_calendar`).
    const TET: [(i32, u32, u32); 16] = [
        (2020, 1, 25),
        (2021, 2, 12),
        (2022, 2, 1),
        (2023, 1, 22),
        (2024, 2, 10),
        (2025, 1, 29),
        (2026, 2, 17),
        (2027, 2, 6),
        (2028, 1, 26),
        (2029, 2, 13),
        (2030, 2, 2),
        (2031, 1, 23),
        (2032, 2, 11),
        (2033, 1, 31),
        (2034, 2, 19),
        (2035, 2, 8),
    ];

    #[test]
    fn tet_falls_on_the_known_dates() {
        for (y, m, d) in TET {
            let tet = date(y, m, d);
            assert_eq!(lunar_to_solar(lunar(1, 1, y, false)), Some(tet), "Tết {y}");
            assert_eq!(solar_to_lunar(tet), lunar(1, 1, y, false), "Tết {y}");
        }
    }

    #[test]
    fn tet_2030_differs_from_the_chinese_calendar() {
        let k =
            ((julian_day(date(2030, 2, 2)) as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH).round() as i64;
        let at =
            |hours: f64| from_julian_day((new_moon(k as f64) + 0.5 + hours / 24.0).floor() as i64);
        assert_eq!(at(7.0), Some(date(2030, 2, 2)));
        assert_eq!(at(8.0), Some(date(2030, 2, 3)));
    }

    #[test]
    fn hung_kings_day_falls_on_the_known_dates() {
        for (y, m, d) in [(2023, 4, 29), (2024, 4, 18), (2025, 4, 7), (2026, 4, 26)] {
            assert_eq!(
                lunar_to_solar(lunar(10, 3, y, false)),
                Some(date(y, m, d)),
                "Giỗ Tổ {y}"
            );
        }
    }

    #[test]
    fn leap_months_are_found() {
        // Năm 2023 nhuận tháng 2, 2025 nhuận tháng 6, 2033 nhuận tháng 11.
        assert_eq!(solar_to_lunar(date(2023, 3, 22)), lunar(1, 2, 2023, true));
        assert_eq!(solar_to_lunar(date(2023, 4, 20)), lunar(1, 3, 2023, false));
        assert_eq!(solar_to_lunar(date(2025, 7, 25)), lunar(1, 6, 2025, true));
        assert_eq!(solar_to_lunar(date(2033, 12, 22)), lunar(1, 11, 2033, true));
        assert_eq!(
            lunar_to_solar(lunar(1, 6, 2025, true)),
            Some(date(2025, 7, 25))
        );
        assert_eq!(lunar_to_solar(lunar(1, 5, 2025, true)), None);
        assert_eq!(lunar_to_solar(lunar(1, 1, 2024, true)), None);
    }

    #[test]
    fn a_short_twelfth_month_has_no_thirtieth_day() {
        // Tết Ất Tỵ 2025 had no "30 Tết": 28/01/2025 was 29 tháng Chạp.
        assert_eq!(
            solar_to_lunar(date(2025, 1, 28)),
            lunar(29, 12, 2024, false)
        );
        assert_eq!(lunar_to_solar(lunar(30, 12, 2024, false)), None);
        assert_eq!(solar_to_lunar(date(2024, 2, 9)), lunar(30, 12, 2023, false));
    }

    #[test]
    fn conversion_round_trips_every_day_of_the_supported_years() {
        let mut day = date(2020, 1, 1);
        while day <= date(2035, 12, 31) {
            let l = solar_to_lunar(day);
            assert_eq!(lunar_to_solar(l), Some(day), "{day} → {l:?}");
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn fixed_holidays_are_official() {
        let cases = [
            (date(2025, 1, 1), "Tết Dương lịch"),
            (date(2025, 4, 30), "Ngày Chiến thắng 30/4"),
            (date(2025, 5, 1), "Quốc tế Lao động 1/5"),
            (date(2025, 9, 2), "Quốc khánh 2/9"),
            (date(2025, 4, 7), "Giỗ Tổ Hùng Vương"),
        ];
        for (d, name) in cases {
            assert_eq!(
                holiday(d),
                Some(Holiday {
                    name,
                    kind: HolidayKind::Official
                }),
                "{d}"
            );
        }
        assert_eq!(holiday(date(2025, 4, 8)), None);
    }

    #[test]
    fn tet_is_the_last_day_of_the_year_and_four_days_after() {
        let official = |d| holiday(d).filter(|h| h.kind == HolidayKind::Official);
        // Tết 2026: 17/02 (Tuesday); no day of it falls on a weekend.
        assert_eq!(official(date(2026, 2, 15)), None);
        for d in 16..=20 {
            assert_eq!(
                official(date(2026, 2, d)).map(|h| h.name),
                Some("Tết Nguyên Đán")
            );
        }
        assert_eq!(holiday(date(2026, 2, 21)), None);
    }

    #[test]
    fn weekend_holidays_give_the_next_working_days_off() {
        // 2023: Giỗ Tổ on Saturday 29/4, 30/4 on Sunday, 1/5 on Monday: off until 3/5.
        let bu = |name| {
            Some(Holiday {
                name,
                kind: HolidayKind::Compensatory,
            })
        };
        assert_eq!(holiday(date(2023, 5, 2)), bu("Giỗ Tổ Hùng Vương"));
        assert_eq!(holiday(date(2023, 5, 3)), bu("Ngày Chiến thắng 30/4"));
        assert_eq!(holiday(date(2023, 5, 4)), None);
        // 1/1/2023 was a Sunday: Monday 2/1 was off.
        assert_eq!(holiday(date(2023, 1, 2)), bu("Tết Dương lịch"));
        // Giỗ Tổ 2026 on Sunday 26/4: Monday 27/4 is off.
        assert_eq!(holiday(date(2026, 4, 27)), bu("Giỗ Tổ Hùng Vương"));
    }

    #[test]
    fn days_next_to_national_day_may_be_off_from_2021() {
        let adjacent = Some(Holiday {
            name: "Quốc khánh 2/9",
            kind: HolidayKind::Adjacent,
        });
        assert_eq!(holiday(date(2025, 9, 1)), adjacent);
        assert_eq!(holiday(date(2025, 9, 3)), adjacent);
        assert_eq!(holiday(date(2020, 9, 1)), None);
        // 2/9/2029 is a Sunday: Monday 3/9 is a compensating day, not just a possible one.
        assert_eq!(
            holiday(date(2029, 9, 3)).map(|h| h.kind),
            Some(HolidayKind::Compensatory)
        );
    }

    #[test]
    fn years_outside_the_supported_range_are_not_answered() {
        assert_eq!(holiday(date(2019, 1, 1)), None);
        assert_eq!(holiday(date(2036, 1, 1)), None);
        assert!(!holidays_of_year(2036).is_empty());
    }
}

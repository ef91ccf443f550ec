//! Vietnamese formatting for documents: dates, clock times, durations, counts and the
//! numbering of sections, clauses and points, as Nghị định 30/2020/NĐ-CP and the seeded
//! Hải Phòng plans write them (`/work/shared/nd30-format.md`, seeds 000 and 003).
//!
//! Every function is pure and total: no input makes it panic, and what it returns is NFC.
use std::fmt;

use chrono::{DateTime, Month, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike};
use chrono::{Datelike, Utc, Weekday};
use chrono_tz::Tz;

use super::text::nfc;

/// The blank a draft keeps where its number, day or month will go: six spaces in all,
/// between the words around it, as in nd30-format.md's "`Số:      /KH-SGDĐT`,
/// `ngày      tháng 12 năm 2024`".
pub const BLANK: &str = "      ";

/// Longest conference, in hours, still called half a day ("1/2 ngày"): seed 000's
/// half-day conferences run 7h30–11h30 and 13h30–17h00, a full day runs about 8 hours.
pub const HALF_DAY_MAX_HOURS: i64 = 5;

/// Point letters in the order of the Vietnamese alphabet: `đ` follows `d`, and there is
/// no `f`, `j`, `w` or `z` (nd30-format.md: "`đ)`, `e)`, `g)` — Vietnamese alphabet,
/// never `f)`").
const POINT_LETTERS: [&str; 23] = [
    "a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t",
    "u", "v", "x", "y",
];

// --- Dates -----------------------------------------------------------------------------

/// What is known of a document's date: the day it is signed, or, in a draft, only the
/// month and year or only the year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentDate {
    /// The day is known: `ngày 05 tháng 01 năm 2025`.
    Full(NaiveDate),
    /// A draft that knows its month: `ngày      tháng 12 năm 2024`.
    MonthAndYear(Month, i32),
    /// A draft that knows only its year: `ngày      tháng      năm 2025`.
    YearOnly(i32),
}

impl From<NaiveDate> for DocumentDate {
    fn from(date: NaiveDate) -> Self {
        DocumentDate::Full(date)
    }
}

/// The date of a document as NĐ30 writes it, with [`BLANK`]s for what a draft does not
/// know yet.
///
/// ```
/// use chrono::{Month, NaiveDate};
/// use hoinghi::domain::format::{DocumentDate, document_date};
///
/// let signed = NaiveDate::from_ymd_opt(2025, 1, 5).unwrap();
/// assert_eq!(document_date(signed.into()), "ngày 05 tháng 01 năm 2025");
/// assert_eq!(
///     document_date(DocumentDate::MonthAndYear(Month::December, 2024)),
///     "ngày      tháng 12 năm 2024"
/// );
/// ```
pub fn document_date(date: DocumentDate) -> String {
    let (day, month, year) = match date {
        DocumentDate::Full(d) => (
            Some(nd30_day(d.day())),
            Some(nd30_month(d.month())),
            d.year(),
        ),
        DocumentDate::MonthAndYear(m, y) => (None, Some(nd30_month(m.number_from_month())), y),
        DocumentDate::YearOnly(y) => (None, None, y),
    };
    // The blank replaces the number and the spaces around it, as in the drafts.
    let gap = |part: Option<String>| part.map_or_else(|| BLANK.to_owned(), |p| format!(" {p} "));
    format!("ngày{}tháng{}năm {year}", gap(day), gap(month))
}

/// The place-and-date line under the national motto (nd30-format.md: "Place and date in
/// italics on the same row").
///
/// ```
/// use chrono::NaiveDate;
/// use hoinghi::domain::format::{DocumentDate, place_and_date};
///
/// let signed = NaiveDate::from_ymd_opt(2025, 1, 5).unwrap();
/// assert_eq!(
///     place_and_date("Hải Phòng", signed.into()),
///     "Hải Phòng, ngày 05 tháng 01 năm 2025"
/// );
/// assert_eq!(
///     place_and_date("Hải Phòng", DocumentDate::YearOnly(2025)),
///     "Hải Phòng, ngày      tháng      năm 2025"
/// );
/// ```
pub fn place_and_date(place: &str, date: DocumentDate) -> String {
    format!("{}, {}", nfc(place), document_date(date))
}

/// NĐ30 (nd30-format.md: "days 1–9 and months 1–2 take a leading zero; `tháng 12`, never
/// `tháng 03`"): the day with a leading zero below 10.
fn nd30_day(day: u32) -> String {
    if day < 10 {
        format!("{day:02}")
    } else {
        day.to_string()
    }
}

/// NĐ30, same line: only January and February take a leading zero, so that `tháng 1`
/// cannot be altered into `tháng 11` or `tháng 12`.
fn nd30_month(month: u32) -> String {
    if month <= 2 {
        format!("{month:02}")
    } else {
        month.to_string()
    }
}

/// A date inside running text or a table: `dd/mm/yyyy` with leading zeros.
///
/// ```
/// use chrono::NaiveDate;
/// use hoinghi::domain::format::numeric_date;
///
/// let d = NaiveDate::from_ymd_opt(2022, 1, 4).unwrap();
/// assert_eq!(numeric_date(d), "04/01/2022");
/// ```
pub fn numeric_date(date: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", date.day(), date.month(), date.year())
}

/// `ngày` and the [`numeric_date`], as in an agenda's "Buổi sáng, ngày 18/12/2024".
///
/// ```
/// use chrono::NaiveDate;
/// use hoinghi::domain::format::text_date;
///
/// let d = NaiveDate::from_ymd_opt(2024, 12, 18).unwrap();
/// assert_eq!(text_date(d), "ngày 18/12/2024");
/// ```
pub fn text_date(date: NaiveDate) -> String {
    format!("ngày {}", numeric_date(date))
}

/// [`text_date`] followed by the weekday in brackets (nd30-format.md: "Weekdays inside
/// text: … e.g. `ngày 18/12/2024 (thứ Tư)`").
///
/// ```
/// use chrono::NaiveDate;
/// use hoinghi::domain::format::text_date_with_weekday;
///
/// let d = NaiveDate::from_ymd_opt(2024, 12, 18).unwrap();
/// assert_eq!(text_date_with_weekday(d), "ngày 18/12/2024 (thứ Tư)");
/// ```
pub fn text_date_with_weekday(date: NaiveDate) -> String {
    format!("{} ({})", text_date(date), weekday_name(date.weekday()))
}

/// The weekday as written inside a sentence: `thứ Hai` … `thứ Bảy`, `Chủ nhật`.
///
/// ```
/// use chrono::Weekday;
/// use hoinghi::domain::format::weekday_name;
///
/// assert_eq!(weekday_name(Weekday::Wed), "thứ Tư");
/// assert_eq!(weekday_name(Weekday::Sun), "Chủ nhật");
/// ```
pub fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "thứ Hai",
        Weekday::Tue => "thứ Ba",
        Weekday::Wed => "thứ Tư",
        Weekday::Thu => "thứ Năm",
        Weekday::Fri => "thứ Sáu",
        Weekday::Sat => "thứ Bảy",
        Weekday::Sun => "Chủ nhật",
    }
}

// --- Clock times -----------------------------------------------------------------------

/// The wall-clock date and time of `instant` in `tz`.
///
/// Reading a UTC instant in a zone never meets a daylight-saving gap; only at the far ends
/// of chrono's range (year ±262 143), where the local time is not representable, is the
/// UTC wall clock returned instead of panicking as `DateTime::naive_local` would.
///
/// ```
/// use chrono::{DateTime, Utc};
/// use hoinghi::domain::format::local_date_time;
///
/// let t: DateTime<Utc> = "2024-12-18T01:00:00Z".parse().unwrap();
/// let local = local_date_time(t, chrono_tz::Asia::Ho_Chi_Minh);
/// assert_eq!(local.to_string(), "2024-12-18 08:00:00");
/// ```
pub fn local_date_time(instant: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    let utc = instant.naive_utc();
    let offset = tz.offset_from_utc_datetime(&utc).fix();
    utc.checked_add_offset(offset).unwrap_or(utc)
}

/// A clock time as the agenda tables write it: the hour without a leading zero, `h`, two
/// digits of minutes; seconds are dropped.
///
/// ```
/// use chrono::NaiveTime;
/// use hoinghi::domain::format::agenda_time;
///
/// assert_eq!(agenda_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap()), "8h00");
/// assert_eq!(agenda_time(NaiveTime::from_hms_opt(14, 30, 0).unwrap()), "14h30");
/// ```
pub fn agenda_time(time: NaiveTime) -> String {
    format!("{}h{:02}", time.hour(), time.minute())
}

/// A row's time range in an agenda table: two [`agenda_time`]s joined by a hyphen without
/// spaces (seed 000: `7h30-8h00`). An end at midnight after a later start is the end of
/// the day and is written `24h00`.
///
/// ```
/// use chrono::NaiveTime;
/// use hoinghi::domain::format::agenda_time_range;
///
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// assert_eq!(agenda_time_range(t(7, 30), t(8, 0)), "7h30-8h00");
/// assert_eq!(agenda_time_range(t(22, 0), t(0, 0)), "22h00-24h00");
/// ```
pub fn agenda_time_range(start: NaiveTime, end: NaiveTime) -> String {
    let end_text = if end == NaiveTime::MIN && start != NaiveTime::MIN {
        "24h00".to_owned()
    } else {
        agenda_time(end)
    };
    format!("{}-{end_text}", agenda_time(start))
}

/// A clock time as a plan's text writes it: two-digit hour, two-digit minutes and an
/// apostrophe (seed 000: "bắt đầu từ 08h00'").
///
/// ```
/// use chrono::NaiveTime;
/// use hoinghi::domain::format::plan_time;
///
/// assert_eq!(plan_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap()), "08h00'");
/// ```
pub fn plan_time(time: NaiveTime) -> String {
    format!("{:02}h{:02}'", time.hour(), time.minute())
}

/// [`agenda_time`] of an instant read in `tz`.
///
/// ```
/// use chrono::{DateTime, Utc};
/// use hoinghi::domain::format::agenda_time_at;
///
/// let t: DateTime<Utc> = "2024-12-18T01:00:00Z".parse().unwrap();
/// assert_eq!(agenda_time_at(t, chrono_tz::Asia::Ho_Chi_Minh), "8h00");
/// ```
pub fn agenda_time_at(instant: DateTime<Utc>, tz: Tz) -> String {
    agenda_time(local_date_time(instant, tz).time())
}

/// [`agenda_time_range`] of two instants read in `tz`. Only the clock times are shown:
/// the agenda puts the day in the heading of its group of rows.
///
/// ```
/// use chrono::{DateTime, Utc};
/// use hoinghi::domain::format::agenda_time_range_at;
///
/// let start: DateTime<Utc> = "2024-12-18T00:30:00Z".parse().unwrap();
/// let end: DateTime<Utc> = "2024-12-18T01:00:00Z".parse().unwrap();
/// assert_eq!(
///     agenda_time_range_at(start, end, chrono_tz::Asia::Ho_Chi_Minh),
///     "7h30-8h00"
/// );
/// ```
pub fn agenda_time_range_at(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    agenda_time_range(
        local_date_time(start, tz).time(),
        local_date_time(end, tz).time(),
    )
}

/// [`plan_time`] of an instant read in `tz`.
///
/// ```
/// use chrono::{DateTime, Utc};
/// use hoinghi::domain::format::plan_time_at;
///
/// let t: DateTime<Utc> = "2024-12-18T07:00:00Z".parse().unwrap();
/// assert_eq!(plan_time_at(t, chrono_tz::Asia::Ho_Chi_Minh), "14h00'");
/// ```
pub fn plan_time_at(instant: DateTime<Utc>, tz: Tz) -> String {
    plan_time(local_date_time(instant, tz).time())
}

/// When a conference starts, as a plan's "Thời gian" line writes it after "bắt đầu từ".
///
/// ```
/// use chrono::{DateTime, Utc};
/// use hoinghi::domain::format::plan_start_at;
///
/// let t: DateTime<Utc> = "2024-12-18T01:00:00Z".parse().unwrap();
/// assert_eq!(
///     plan_start_at(t, chrono_tz::Asia::Ho_Chi_Minh),
///     "08h00' ngày 18/12/2024 (thứ Tư)"
/// );
/// ```
pub fn plan_start_at(instant: DateTime<Utc>, tz: Tz) -> String {
    let local = local_date_time(instant, tz);
    format!(
        "{} {}",
        plan_time(local.time()),
        text_date_with_weekday(local.date())
    )
}

// --- Durations -------------------------------------------------------------------------

/// How long a conference lasts, as a plan's "Thời gian" line says it.
///
/// A conference is half a day (`1/2 ngày`) when it starts and ends on the same local day
/// and lasts at most [`HALF_DAY_MAX_HOURS`] hours; otherwise it lasts as many days as the
/// local calendar days it touches (`01 ngày`, `02 ngày`…). An end at local midnight does
/// not touch the next day, so 20h00–24h00 is half a day, while 22h00–2h00 touches two days
/// and is `02 ngày`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaySpan {
    /// `1/2 ngày`: one morning or one afternoon.
    HalfDay,
    /// `01 ngày`, `02 ngày`…: the number of local calendar days touched.
    Days(u64),
}

impl DaySpan {
    /// The span of a conference from `start` to `end`, both read in `tz`; the order of the
    /// two instants does not matter.
    ///
    /// ```
    /// use chrono::{DateTime, Utc};
    /// use hoinghi::domain::format::DaySpan;
    ///
    /// let tz = chrono_tz::Asia::Ho_Chi_Minh;
    /// let start: DateTime<Utc> = "2024-12-18T01:00:00Z".parse().unwrap();
    /// let end: DateTime<Utc> = "2024-12-18T04:30:00Z".parse().unwrap();
    /// assert_eq!(DaySpan::between(start, end, tz).to_string(), "1/2 ngày");
    /// let end: DateTime<Utc> = "2024-12-19T10:00:00Z".parse().unwrap();
    /// assert_eq!(DaySpan::between(start, end, tz).to_string(), "02 ngày");
    /// ```
    pub fn between(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> Self {
        let (start, end) = if start <= end {
            (start, end)
        } else {
            (end, start)
        };
        let (first, last) = (local_date_time(start, tz), local_date_time(end, tz));
        // Same rule as the weekend and holiday checks: ending at 0h00 is ending the day before.
        let mut last_day = last.date();
        if last.time() == NaiveTime::MIN && end > start {
            last_day = last_day.pred_opt().unwrap_or(last_day);
        }
        let days = u64::try_from((last_day - first.date()).num_days())
            .unwrap_or(0)
            .saturating_add(1);
        if days == 1 && end - start <= chrono::TimeDelta::hours(HALF_DAY_MAX_HOURS) {
            DaySpan::HalfDay
        } else {
            DaySpan::Days(days)
        }
    }
}

impl fmt::Display for DaySpan {
    /// `1/2 ngày`, or the number of days with at least two digits: `01 ngày`, `12 ngày`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DaySpan::HalfDay => f.write_str("1/2 ngày"),
            DaySpan::Days(n) => write!(f, "{} ngày", two_digits(*n)),
        }
    }
}

// --- Counts ----------------------------------------------------------------------------

/// A number with at least two digits, as plans write counts ("02 Thông tư", "03 người")
/// and NĐ30 writes numbers below 10 (nd30-format.md: "numbers below 10 get a leading
/// zero"). Zero is `00`.
///
/// ```
/// use hoinghi::domain::format::two_digits;
///
/// assert_eq!(two_digits(3), "03");
/// assert_eq!(two_digits(100), "100");
/// ```
pub fn two_digits(n: u64) -> String {
    format!("{n:02}")
}

/// A count and its unit word: `03 người`; an empty unit leaves the number alone.
///
/// ```
/// use hoinghi::domain::format::count;
///
/// assert_eq!(count(3, "người"), "03 người");
/// assert_eq!(count(12, "người"), "12 người");
/// ```
pub fn count(n: u64, unit: &str) -> String {
    let unit = nfc(unit);
    if unit.is_empty() {
        two_digits(n)
    } else {
        format!("{} {unit}", two_digits(n))
    }
}

/// A quota per body, as the attendance lines write it: `01 người/đơn vị`.
///
/// ```
/// use hoinghi::domain::format::quota;
///
/// assert_eq!(quota(1, "người", "đơn vị"), "01 người/đơn vị");
/// assert_eq!(quota(1, "người", "UBND cấp xã"), "01 người/UBND cấp xã");
/// ```
pub fn quota(n: u64, unit: &str, per: &str) -> String {
    format!("{}/{}", count(n, unit), nfc(per))
}

// --- Numbering -------------------------------------------------------------------------

/// `n` in Roman numerals. Roman numerals have no zero and, without overlines, stop at
/// 3999: outside 1..=3999 the arabic number is returned.
///
/// ```
/// use hoinghi::domain::format::roman;
///
/// assert_eq!(roman(4), "IV");
/// assert_eq!(roman(39), "XXXIX");
/// assert_eq!(roman(0), "0");
/// ```
pub fn roman(n: u32) -> String {
    const NUMERALS: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    if !(1..=3999).contains(&n) {
        return n.to_string();
    }
    let mut rest = n;
    let mut out = String::new();
    for (value, numeral) in NUMERALS {
        while rest >= value {
            out.push_str(numeral);
            rest -= value;
        }
    }
    out
}

/// The number of the `n`th section (phần, mục): `I.`, `II.`… (see [`roman`] outside
/// 1..=3999).
///
/// ```
/// use hoinghi::domain::format::section_number;
///
/// assert_eq!(section_number(3), "III.");
/// ```
pub fn section_number(n: u32) -> String {
    format!("{}.", roman(n))
}

/// The number of the `n`th clause (khoản) in a section: `1.`, `2.`…
///
/// ```
/// use hoinghi::domain::format::clause_number;
///
/// assert_eq!(clause_number(2), "2.");
/// ```
pub fn clause_number(n: u32) -> String {
    format!("{n}.")
}

/// The letter of the `n`th point (điểm) in a clause: `a)`, `b)`, `c)`, `d)`, `đ)`, `e)`,
/// `g)`… `y)` (23 letters). Past `y)` the letters go on as a spreadsheet's columns do,
/// `aa)`, `ab)`… `ay)`, `ba)`…, still without f, j, w or z; `n = 0` has no letter and is
/// written `0)`.
///
/// ```
/// use hoinghi::domain::format::point_letter;
///
/// assert_eq!(point_letter(5), "đ)");
/// assert_eq!(point_letter(7), "g)");
/// assert_eq!(point_letter(24), "aa)");
/// ```
pub fn point_letter(n: u32) -> String {
    if n == 0 {
        return "0)".to_owned();
    }
    let base = POINT_LETTERS.len() as u32;
    let mut rest = n;
    let mut letters = Vec::new();
    while rest > 0 {
        rest -= 1;
        letters.push(POINT_LETTERS[(rest % base) as usize]);
        rest /= base;
    }
    letters.reverse();
    format!("{})", letters.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    use chrono_tz::{Asia::Ho_Chi_Minh, Europe::Paris};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn span(start: &str, end: &str) -> String {
        DaySpan::between(utc(start), utc(end), Ho_Chi_Minh).to_string()
    }

    // --- Document date

    #[test]
    fn document_date_pads_days_below_ten_and_january_february() {
        let line = |y, m, d| place_and_date("Hải Phòng", date(y, m, d).into());
        assert_eq!(line(2025, 1, 5), "Hải Phòng, ngày 05 tháng 01 năm 2025");
        assert_eq!(line(2025, 2, 15), "Hải Phòng, ngày 15 tháng 02 năm 2025");
        assert_eq!(line(2025, 3, 5), "Hải Phòng, ngày 05 tháng 3 năm 2025");
        assert_eq!(line(2024, 12, 18), "Hải Phòng, ngày 18 tháng 12 năm 2024");
        assert_eq!(line(2024, 9, 9), "Hải Phòng, ngày 09 tháng 9 năm 2024");
        assert_eq!(line(2024, 10, 10), "Hải Phòng, ngày 10 tháng 10 năm 2024");
    }

    #[test]
    fn draft_dates_keep_six_space_blanks() {
        assert_eq!(
            place_and_date(
                "Hải Phòng",
                DocumentDate::MonthAndYear(Month::December, 2024)
            ),
            "Hải Phòng, ngày      tháng 12 năm 2024"
        );
        assert_eq!(
            document_date(DocumentDate::MonthAndYear(Month::January, 2022)),
            "ngày      tháng 01 năm 2022"
        );
        assert_eq!(
            place_and_date("Hải Phòng", DocumentDate::YearOnly(2025)),
            "Hải Phòng, ngày      tháng      năm 2025"
        );
    }

    #[test]
    fn place_is_normalised_to_nfc() {
        let decomposed = "Ha\u{309}i Pho\u{300}ng";
        assert_eq!(
            place_and_date(decomposed, date(2025, 1, 5).into()),
            "Hải Phòng, ngày 05 tháng 01 năm 2025"
        );
    }

    // --- Dates in text

    #[test]
    fn dates_in_text_have_leading_zeros_and_the_weekday() {
        assert_eq!(numeric_date(date(2022, 1, 4)), "04/01/2022");
        assert_eq!(text_date(date(2024, 12, 18)), "ngày 18/12/2024");
        assert_eq!(
            text_date_with_weekday(date(2024, 12, 18)),
            "ngày 18/12/2024 (thứ Tư)"
        );
        assert_eq!(
            text_date_with_weekday(date(2024, 12, 22)),
            "ngày 22/12/2024 (Chủ nhật)"
        );
    }

    #[test]
    fn weekdays_are_named_from_monday_to_sunday() {
        let week: Vec<_> = (16..=22)
            .map(|d| weekday_name(date(2024, 12, d).weekday()))
            .collect();
        assert_eq!(
            week,
            [
                "thứ Hai",
                "thứ Ba",
                "thứ Tư",
                "thứ Năm",
                "thứ Sáu",
                "thứ Bảy",
                "Chủ nhật"
            ]
        );
    }

    // --- Clock times

    #[test]
    fn agenda_times_drop_the_hour_zero() {
        assert_eq!(agenda_time(time(8, 0)), "8h00");
        assert_eq!(agenda_time(time(14, 30)), "14h30");
        assert_eq!(agenda_time(time(0, 0)), "0h00");
        assert_eq!(agenda_time(time(12, 0)), "12h00");
        assert_eq!(
            agenda_time(NaiveTime::from_hms_opt(9, 5, 59).unwrap()),
            "9h05"
        );
    }

    #[test]
    fn agenda_ranges_use_a_bare_hyphen() {
        assert_eq!(agenda_time_range(time(7, 30), time(8, 0)), "7h30-8h00");
        assert_eq!(agenda_time_range(time(11, 30), time(13, 30)), "11h30-13h30");
        assert_eq!(agenda_time_range(time(22, 0), time(0, 0)), "22h00-24h00");
        assert_eq!(agenda_time_range(time(0, 0), time(0, 0)), "0h00-0h00");
        assert_eq!(agenda_time_range(time(23, 0), time(1, 0)), "23h00-1h00");
    }

    #[test]
    fn plan_times_have_two_digit_hours_and_an_apostrophe() {
        assert_eq!(plan_time(time(8, 0)), "08h00'");
        assert_eq!(plan_time(time(14, 0)), "14h00'");
        assert_eq!(plan_time(time(0, 0)), "00h00'");
        assert_eq!(plan_time(time(12, 0)), "12h00'");
    }

    #[test]
    fn instants_are_read_in_ho_chi_minh() {
        assert_eq!(
            agenda_time_at(utc("2024-12-18T01:00:00Z"), Ho_Chi_Minh),
            "8h00"
        );
        assert_eq!(
            plan_time_at(utc("2024-12-18T07:00:00Z"), Ho_Chi_Minh),
            "14h00'"
        );
        assert_eq!(
            agenda_time_range_at(
                utc("2024-12-18T04:30:00Z"),
                utc("2024-12-18T06:30:00Z"),
                Ho_Chi_Minh
            ),
            "11h30-13h30"
        );
        assert_eq!(
            agenda_time_range_at(
                utc("2024-12-18T15:00:00Z"),
                utc("2024-12-18T17:00:00Z"),
                Ho_Chi_Minh
            ),
            "22h00-24h00"
        );
        assert_eq!(
            plan_start_at(utc("2024-12-18T01:00:00Z"), Ho_Chi_Minh),
            "08h00' ngày 18/12/2024 (thứ Tư)"
        );
        // 23h30 UTC on the 17th is already the 18th in Vietnam.
        assert_eq!(
            plan_start_at(utc("2024-12-17T23:30:00Z"), Ho_Chi_Minh),
            "06h30' ngày 18/12/2024 (thứ Tư)"
        );
    }

    #[test]
    fn instants_around_a_daylight_saving_gap_read_the_new_offset() {
        // Paris skips 2h00–3h00 on 31/03/2024: 00h59 UTC is 1h59, 01h00 UTC is 3h00.
        assert_eq!(agenda_time_at(utc("2024-03-31T00:59:00Z"), Paris), "1h59");
        assert_eq!(agenda_time_at(utc("2024-03-31T01:00:00Z"), Paris), "3h00");
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        // The latest instant has no local time east of UTC: its UTC wall clock is used.
        let last = DateTime::<Utc>::MAX_UTC;
        assert_eq!(local_date_time(last, Ho_Chi_Minh), last.naive_utc());
        assert_eq!(
            plan_start_at(last, Ho_Chi_Minh),
            "23h59' ngày 31/12/262142 (thứ Hai)"
        );
        // The earliest one has one: Saigon's local mean time, 7h06'30" ahead of UTC.
        assert_eq!(
            agenda_time_at(DateTime::<Utc>::MIN_UTC, Ho_Chi_Minh),
            "7h06"
        );
        assert_eq!(
            DaySpan::between(
                DateTime::<Utc>::MIN_UTC,
                DateTime::<Utc>::MAX_UTC,
                Ho_Chi_Minh
            ),
            DaySpan::Days(u64::try_from((NaiveDate::MAX - NaiveDate::MIN).num_days()).unwrap() + 1)
        );
    }

    // --- Durations

    #[test]
    fn a_morning_or_an_afternoon_is_half_a_day() {
        assert_eq!(
            span("2024-12-18T00:30:00Z", "2024-12-18T04:30:00Z"),
            "1/2 ngày"
        );
        assert_eq!(
            span("2024-12-18T06:30:00Z", "2024-12-18T10:00:00Z"),
            "1/2 ngày"
        );
        // Exactly five hours is still half a day; one minute more is not.
        assert_eq!(
            span("2024-12-18T01:00:00Z", "2024-12-18T06:00:00Z"),
            "1/2 ngày"
        );
        assert_eq!(
            span("2024-12-18T01:00:00Z", "2024-12-18T06:01:00Z"),
            "01 ngày"
        );
    }

    #[test]
    fn a_full_day_and_several_days_count_local_days() {
        assert_eq!(
            span("2024-12-18T00:30:00Z", "2024-12-18T10:00:00Z"),
            "01 ngày"
        );
        assert_eq!(
            span("2024-12-18T01:00:00Z", "2024-12-19T10:00:00Z"),
            "02 ngày"
        );
        // 30/01 to 01/02: across a month end, three days.
        assert_eq!(
            span("2025-01-30T01:00:00Z", "2025-02-01T10:00:00Z"),
            "03 ngày"
        );
        assert_eq!(
            span("2024-12-02T01:00:00Z", "2024-12-13T10:00:00Z"),
            "12 ngày"
        );
    }

    #[test]
    fn crossing_local_midnight_touches_two_days() {
        // 22h00 on the 18th to 2h00 on the 19th, Vietnam time: four hours, two days.
        assert_eq!(
            span("2024-12-18T15:00:00Z", "2024-12-18T19:00:00Z"),
            "02 ngày"
        );
        // Ending exactly at local midnight stays on the first day.
        assert_eq!(
            span("2024-12-18T13:00:00Z", "2024-12-18T17:00:00Z"),
            "1/2 ngày"
        );
        // A whole local day, midnight to midnight.
        assert_eq!(
            span("2024-12-17T17:00:00Z", "2024-12-18T17:00:00Z"),
            "01 ngày"
        );
        // Same UTC day, but 16h00–18h00 UTC is 23h00–1h00 in Vietnam.
        assert_eq!(
            span("2024-12-18T16:00:00Z", "2024-12-18T18:00:00Z"),
            "02 ngày"
        );
    }

    #[test]
    fn span_ignores_the_order_of_its_ends_and_allows_zero_length() {
        assert_eq!(
            span("2024-12-18T04:30:00Z", "2024-12-18T00:30:00Z"),
            "1/2 ngày"
        );
        assert_eq!(
            span("2024-12-19T10:00:00Z", "2024-12-18T01:00:00Z"),
            "02 ngày"
        );
        assert_eq!(
            span("2024-12-17T17:00:00Z", "2024-12-17T17:00:00Z"),
            "1/2 ngày"
        );
    }

    // --- Counts

    #[test]
    fn counts_have_at_least_two_digits() {
        assert_eq!(count(0, "người"), "00 người");
        assert_eq!(count(1, "người"), "01 người");
        assert_eq!(count(9, "người"), "09 người");
        assert_eq!(count(10, "người"), "10 người");
        assert_eq!(count(100, "người"), "100 người");
        assert_eq!(count(u64::MAX, "người"), "18446744073709551615 người");
        assert_eq!(count(2, ""), "02");
        assert_eq!(two_digits(7), "07");
    }

    #[test]
    fn quotas_join_unit_and_body_with_a_slash() {
        assert_eq!(quota(1, "người", "đơn vị"), "01 người/đơn vị");
        assert_eq!(quota(1, "đại diện", "đơn vị"), "01 đại diện/đơn vị");
        assert_eq!(quota(12, "người", "trường"), "12 người/trường");
    }

    // --- Numbering

    #[test]
    fn roman_numerals_up_to_thirty_nine_and_beyond() {
        let first: Vec<_> = (1..=12).map(roman).collect();
        assert_eq!(
            first,
            [
                "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"
            ]
        );
        assert_eq!(roman(14), "XIV");
        assert_eq!(roman(19), "XIX");
        assert_eq!(roman(20), "XX");
        assert_eq!(roman(24), "XXIV");
        assert_eq!(roman(29), "XXIX");
        assert_eq!(roman(38), "XXXVIII");
        assert_eq!(roman(39), "XXXIX");
        assert_eq!(roman(40), "XL");
        assert_eq!(roman(49), "XLIX");
        assert_eq!(roman(1994), "MCMXCIV");
        assert_eq!(roman(3999), "MMMCMXCIX");
    }

    #[test]
    fn roman_numerals_fall_back_to_arabic_outside_their_range() {
        assert_eq!(roman(0), "0");
        assert_eq!(roman(4000), "4000");
        assert_eq!(section_number(u32::MAX), "4294967295.");
    }

    #[test]
    fn sections_and_clauses_end_with_a_full_stop() {
        assert_eq!(section_number(1), "I.");
        assert_eq!(section_number(5), "V.");
        assert_eq!(section_number(20), "XX.");
        assert_eq!(clause_number(1), "1.");
        assert_eq!(clause_number(12), "12.");
    }

    #[test]
    fn points_follow_the_vietnamese_alphabet() {
        let letters: Vec<_> = (1..=23).map(point_letter).collect();
        assert_eq!(
            letters.concat(),
            "a)b)c)d)đ)e)g)h)i)k)l)m)n)o)p)q)r)s)t)u)v)x)y)"
        );
        assert_eq!(point_letter(5), "đ)");
        assert_eq!(point_letter(23), "y)");
    }

    #[test]
    fn points_past_y_continue_with_two_letters() {
        assert_eq!(point_letter(24), "aa)");
        assert_eq!(point_letter(25), "ab)");
        assert_eq!(point_letter(28), "ađ)");
        assert_eq!(point_letter(46), "ay)");
        assert_eq!(point_letter(47), "ba)");
        assert_eq!(point_letter(23 * 23 + 23), "yy)");
        assert_eq!(point_letter(23 * 23 + 24), "aaa)");
        assert_eq!(point_letter(0), "0)");
        let last = point_letter(u32::MAX);
        assert!(!last.contains(['f', 'j', 'w', 'z']), "{last}");
    }

    #[test]
    fn every_output_is_nfc() {
        let outputs = [
            place_and_date("Hải Phòng", date(2025, 1, 5).into()),
            place_and_date("Hải Phòng", DocumentDate::YearOnly(2025)),
            text_date_with_weekday(date(2024, 12, 21)),
            plan_start_at(utc("2024-12-22T01:00:00Z"), Ho_Chi_Minh),
            DaySpan::HalfDay.to_string(),
            DaySpan::Days(3).to_string(),
            quota(1, "ngu\u{31b}o\u{31b}\u{300}i", "đơn vị"),
            point_letter(5),
            point_letter(28),
        ];
        for s in outputs {
            assert!(unicode_normalization::is_nfc(&s), "{s:?}");
        }
        assert_eq!(
            quota(1, "ngu\u{31b}o\u{31b}\u{300}i", "đơn vị"),
            "01 người/đơn vị"
        );
    }
}

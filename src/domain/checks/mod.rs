//! The scheduling checker (issue 3): what makes a set of conferences impossible or doubtful.
//! A hall, a speaker, a bridge point or a person in two places at once, an agenda that does
//! not fit its conference, more people than seats, a weekend or a public holiday.
//!
//! Pure: the service layer loads a [`Snapshot`] from the database and [`check`] returns
//! [`Diagnostic`]s, so every rule is tested here without a database. Clashes are found by
//! sorting and sweeping ([`overlapping_pairs`]), never by comparing every pair, so that a
//! national plan with thousands of conferences is checked in O(n log n + clashes).
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::holidays::{self, HolidayKind};
use super::kinds::{ConferenceStatus, Venue};
use super::text;
use super::time::{DEFAULT_TIME_ZONE, parse_tz};

mod agenda;
mod attendance;
mod calendar;
mod clashes;
#[cfg(test)]
mod tests;

use agenda::check_agenda;
use attendance::check_attendance;
use calendar::check_calendar;
use clashes::{
    bridge_point_double_booked, delegate_double_booked, hall_double_booked, speaker_double_booked,
    speaker_in_overlapping_conferences,
};

/// Everything the checker reads: the conferences to compare and the names to print.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub conferences: Vec<Conference>,
    pub halls: HashMap<i64, HallInfo>,
    pub unit_names: HashMap<i64, String>,
    pub person_names: HashMap<i64, String>,
    pub speaker_names: HashMap<i64, String>,
}

/// A hall as far as seats and clocks go.
#[derive(Clone, Debug)]
pub struct HallInfo {
    pub name: String,
    pub capacity: Option<i32>,
    /// IANA zone name.
    pub time_zone: String,
}

/// A conference with everything that can clash.
#[derive(Clone, Debug)]
pub struct Conference {
    pub id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA zone name; an unknown name is read as `Asia/Ho_Chi_Minh`.
    pub time_zone: String,
    pub status: ConferenceStatus,
    pub hall_ids: Vec<i64>,
    pub agenda: Vec<AgendaItem>,
    pub bridge_points: Vec<BridgePoint>,
    pub rules: Vec<AttendanceRule>,
    pub delegates: Vec<Delegate>,
}

/// One slot of an agenda and who speaks in it.
#[derive(Clone, Debug)]
pub struct AgendaItem {
    pub id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub content: String,
    pub speaker_ids: Vec<i64>,
}

/// A bridge point: a room of a host unit, attended by units.
#[derive(Clone, Debug)]
pub struct BridgePoint {
    pub id: i64,
    pub name: String,
    pub host_unit_id: i64,
    pub room: Option<String>,
    pub capacity: Option<i32>,
    pub unit_ids: Vec<i64>,
}

/// An attendance rule with the units it requires already resolved.
#[derive(Clone, Debug)]
pub struct AttendanceRule {
    pub id: i64,
    pub description: String,
    pub venue: Venue,
    pub hall_id: Option<i64>,
    /// Delegates per unit; `None` when the plan gives no number.
    pub quota: Option<i32>,
    pub unit_ids: Vec<i64>,
}

/// A nominated delegate.
#[derive(Clone, Debug)]
pub struct Delegate {
    pub id: i64,
    pub person_id: i64,
    pub unit_id: i64,
    pub rule_id: Option<i64>,
    pub venue: Venue,
    pub hall_id: Option<i64>,
    pub bridge_point_id: Option<i64>,
}

/// Whether a diagnostic makes the schedule impossible or only doubtful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! names {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, ToSchema)]
        pub enum $name {
            $( #[serde(rename = $s)] $variant ),+
        }

        impl $name {
            /// The serialised name.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $s ),+ }
            }
        }
    };
}

names! {
    /// What a diagnostic is about; stable, for clients to match on.
    Code {
        HallDoubleBooked = "hall_double_booked",
        SpeakerDoubleBooked = "speaker_double_booked",
        BridgePointDoubleBooked = "bridge_point_double_booked",
        UnitMultipleBridgePoints = "unit_multiple_bridge_points",
        UnitUnassigned = "unit_unassigned",
        DelegateDoubleBooked = "delegate_double_booked",
        AgendaOverlap = "agenda_overlap",
        AgendaOutsideConference = "agenda_outside_conference",
        AgendaBeforeOpening = "agenda_before_opening",
        SpeakerInOverlappingConferences = "speaker_in_overlapping_conferences",
        AgendaGap = "agenda_gap",
        HallOverCapacity = "hall_over_capacity",
        BridgePointOverCapacity = "bridge_point_over_capacity",
        UnitOverQuota = "unit_over_quota",
        Weekend = "weekend",
        PublicHoliday = "public_holiday",
        TimeZoneDiffersFromHall = "time_zone_differs_from_hall",
    }
}

impl Code {
    /// Each code has one severity: what it means does not depend on the data.
    pub fn severity(self) -> Severity {
        match self {
            Code::AgendaGap
            | Code::AgendaBeforeOpening
            | Code::SpeakerInOverlappingConferences
            | Code::Weekend
            | Code::PublicHoliday
            | Code::TimeZoneDiffersFromHall => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

names! {
    /// The kind of a record a diagnostic names.
    ObjectKind {
        Conference = "conference",
        Hall = "hall",
        Speaker = "speaker",
        BridgePoint = "bridge_point",
        Unit = "unit",
        Delegate = "delegate",
        Person = "person",
        AgendaItem = "agenda_item",
        AttendanceRule = "attendance_rule",
    }
}

/// A record named by a diagnostic, for the client to link to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, ToSchema)]
pub struct ObjectRef {
    pub kind: ObjectKind,
    pub id: i64,
}

/// One problem found in the schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    /// What is wrong, in Vietnamese, naming the records and the local times.
    pub message: String,
    /// The conferences involved, ascending.
    pub conference_ids: Vec<i64>,
    /// Every record the message names: the contested resource first, then the parties.
    pub objects: Vec<ObjectRef>,
}

impl Diagnostic {
    fn new(code: Code, message: String, conference_ids: &[i64], objects: Vec<ObjectRef>) -> Self {
        let mut conference_ids = conference_ids.to_vec();
        conference_ids.sort_unstable();
        conference_ids.dedup();
        let mut unique = Vec::with_capacity(objects.len());
        for o in objects {
            if !unique.contains(&o) {
                unique.push(o);
            }
        }
        Self {
            severity: code.severity(),
            code,
            message,
            conference_ids,
            objects: unique,
        }
    }
}

fn object(kind: ObjectKind, id: i64) -> ObjectRef {
    ObjectRef { kind, id }
}

/// Checks every conference of the snapshot; cancelled conferences take part in nothing.
///
/// With `focus`, only diagnostics involving at least one focused conference are returned
/// (a clash between a focused and another conference is). The order is deterministic:
/// by conference ids, code, then the objects named.
pub fn check(snapshot: &Snapshot, focus: Option<&HashSet<i64>>) -> Vec<Diagnostic> {
    let scheduled: Vec<Scheduled> = snapshot
        .conferences
        .iter()
        .filter(|c| c.status != ConferenceStatus::Cancelled)
        .map(Scheduled::new)
        .collect();
    let names = Names(snapshot);
    let mut out = Vec::new();
    hall_double_booked(&scheduled, names, &mut out);
    speaker_double_booked(&scheduled, names, &mut out);
    speaker_in_overlapping_conferences(&scheduled, names, &mut out);
    bridge_point_double_booked(&scheduled, names, &mut out);
    delegate_double_booked(&scheduled, names, &mut out);
    let is_focused = |c: &Scheduled| focus.is_none_or(|f| f.contains(&c.conf.id));
    for s in scheduled.iter().filter(|c| is_focused(c)) {
        check_agenda(s, &mut out);
        check_attendance(s, names, &mut out);
        check_calendar(s, names, &mut out);
    }
    out.retain(|d| focus.is_none_or(|f| d.conference_ids.iter().any(|id| f.contains(id))));
    out.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    out.dedup();
    out
}

/// The stable sort keeps diagnostics with equal keys in the order they were found, which
/// is by date for weekends and holidays (they name no object but the conference).
fn sort_key(d: &Diagnostic) -> (&[i64], &str, Vec<(&str, i64)>) {
    let objects = d.objects.iter().map(|o| (o.kind.as_str(), o.id)).collect();
    (&d.conference_ids, d.code.as_str(), objects)
}

/// A time interval `[start, end)` carrying a key that says whose it is.
pub type Interval<T> = (DateTime<Utc>, DateTime<Utc>, T);

/// Every pair of intervals that overlap, in no particular order, each pair once.
///
/// Intervals are half-open, `[start, end)`: one ending when another starts does not
/// overlap it. An interval with `end <= start` holds no instant and overlaps nothing
/// (zero-length and inverted slots are reported by their own checks, not as clashes).
/// Sorts by start and sweeps with the set of intervals still running, so the cost is
/// O(n log n + pairs).
pub fn overlapping_pairs<T: Copy>(intervals: &[Interval<T>]) -> Vec<(T, T)> {
    let mut order: Vec<usize> = (0..intervals.len())
        .filter(|&i| intervals[i].0 < intervals[i].1)
        .collect();
    order.sort_by_key(|&i| (intervals[i].0, intervals[i].1));
    let mut running: Vec<usize> = Vec::new();
    let mut pairs = Vec::new();
    for i in order {
        let (start, _, key) = intervals[i];
        running.retain(|&j| intervals[j].1 > start);
        pairs.extend(running.iter().map(|&j| (intervals[j].2, key)));
        running.push(i);
    }
    pairs
}

/// [`overlapping_pairs`] within each group (a hall, a speaker…), groups in key order.
fn grouped_overlaps<K: Ord + Clone, T: Copy>(
    entries: impl Iterator<Item = (K, DateTime<Utc>, DateTime<Utc>, T)>,
) -> Vec<(K, T, T)> {
    let mut groups: BTreeMap<K, Vec<Interval<T>>> = BTreeMap::new();
    for (key, start, end, value) in entries {
        groups.entry(key).or_default().push((start, end, value));
    }
    groups
        .into_iter()
        .flat_map(|(key, intervals)| {
            overlapping_pairs(&intervals)
                .into_iter()
                .map(move |(a, b)| (key.clone(), a, b))
        })
        .collect()
}

/// A conference that takes part in the checks, with its zone resolved once.
struct Scheduled<'a> {
    conf: &'a Conference,
    tz: Tz,
}

impl<'a> Scheduled<'a> {
    fn new(conf: &'a Conference) -> Self {
        Self {
            conf,
            tz: zone_or_vietnam(&conf.time_zone),
        }
    }

    /// `hội nghị «…» (từ … đến …)`, for messages that name several conferences.
    fn label(&self) -> String {
        format!(
            "hội nghị «{}» ({})",
            self.conf.title,
            self.span(self.conf.starts_at, self.conf.ends_at)
        )
    }

    fn span(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        span(start, end, self.tz)
    }

    fn at(&self, t: DateTime<Utc>) -> String {
        let zone = zone_note(self.tz);
        format!("{}{zone}", at(t, self.tz))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    fn object_ref(&self) -> ObjectRef {
        object(ObjectKind::Conference, self.conf.id)
    }
}

/// An IANA zone; an unknown name (which validation refuses) is read as Vietnam's rather
/// than dropping the conference from the checks.
fn zone_or_vietnam(name: &str) -> Tz {
    parse_tz(name).unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
}

/// Name lookups with a fallback, so a missing name never hides a diagnostic.
#[derive(Clone, Copy)]
struct Names<'a>(&'a Snapshot);

impl Names<'_> {
    fn unit(self, id: i64) -> String {
        lookup(&self.0.unit_names, id)
    }

    fn person(self, id: i64) -> String {
        lookup(&self.0.person_names, id)
    }

    fn speaker(self, id: i64) -> String {
        lookup(&self.0.speaker_names, id)
    }

    fn hall(self, id: i64) -> String {
        self.0
            .halls
            .get(&id)
            .map_or_else(|| format!("#{id}"), |h| h.name.clone())
    }
}

/// A name, or `#id` when the snapshot lacks it; messages put either after the kind of
/// record ("Đơn vị «#12»").
fn lookup(names: &HashMap<i64, String>, id: i64) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
}

// --- Time formatting -------------------------------------------------------------------

/// `08h00 ngày 18/12/2024`, in `tz`.
fn at(t: DateTime<Utc>, tz: Tz) -> String {
    let local = t.with_timezone(&tz);
    format!(
        "{} ngày {}",
        clock(local.hour(), local.minute()),
        day(local.date_naive())
    )
}

fn clock(hour: u32, minute: u32) -> String {
    format!("{hour:02}h{minute:02}")
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// `từ 08h00 đến 11h30 ngày 18/12/2024`, or with both dates when they differ; the zone is
/// named unless it is Vietnam's.
fn span(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
    let zone = zone_note(tz);
    if s.date_naive() == e.date_naive() {
        format!(
            "từ {} đến {} ngày {}{zone}",
            clock(s.hour(), s.minute()),
            clock(e.hour(), e.minute()),
            day(s.date_naive())
        )
    } else {
        format!("từ {} đến {}{zone}", at(start, tz), at(end, tz))
    }
}

fn zone_note(tz: Tz) -> String {
    if tz.name() == DEFAULT_TIME_ZONE {
        String::new()
    } else {
        format!(" (giờ {})", tz.name())
    }
}

/// The start of a free text, for messages: its first line, at most 80 characters.
/// The first line of `s`, cut at 80 characters (a rule or agenda text in a message).
pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 80;
    let text = s.trim();
    let line = text.lines().next().unwrap_or_default().trim_end();
    let cut: String = line.chars().take(MAX).collect();
    if cut.len() < text.len() {
        format!("{}…", cut.trim_end())
    } else {
        cut
    }
}

fn unique(ids: &[i64]) -> BTreeSet<i64> {
    ids.iter().copied().collect()
}

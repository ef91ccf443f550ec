//! A VTIMEZONE for a chrono-tz zone, covering the instants an invitation uses.
//!
//! Written here because the `icalendar` crate has none and chrono-tz does not list a
//! zone's transitions: they are found by sampling the zone's offset and narrowing each
//! change down to the second. The component holds the last transition before the window
//! (so that `Asia/Ho_Chi_Minh` says UTC+7 since 1975-06-13) and every one inside it, each
//! as a STANDARD or DAYLIGHT block with its own DTSTART (RFC 5545 §3.6.5).
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Duration, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// One change of a zone's offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The first instant at the new offset.
    pub at: DateTime<Utc>,
    /// Offsets in seconds east of UTC, before and after.
    pub from: i32,
    pub to: i32,
    /// Whether the new offset is daylight saving time.
    pub daylight: bool,
    /// `CEST`…; empty where the zone has only a numeric name (`+07`), which TZNAME
    /// would merely repeat.
    pub name: String,
}

/// How far back to look for the transition in force at the window's start.
const HISTORY_YEARS: i64 = 130;
/// Sampling steps: inside the window no zone changes its offset twice within six hours;
/// before it only the offset in force matters, so a week is fine (a change undone within
/// the same week before the window could be missed, the offset at its start could not).
const STEP_HOURS: i64 = 6;
const HISTORY_STEP_DAYS: i64 = 7;

fn offset(tz: Tz, at: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The transitions of `tz` between `from` and `to`, preceded by the last one before
/// `from` when there is one.
pub fn transitions(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Transition> {
    // Whole seconds, so that each change is narrowed down to its exact second.
    let from = DateTime::from_timestamp(from.timestamp(), 0).unwrap_or(from);
    let start = from - Duration::days(365 * HISTORY_YEARS);
    let near = from - Duration::days(HISTORY_STEP_DAYS);
    let mut found = Vec::new();
    let mut t = start;
    let mut current = offset(tz, t);
    while t < to {
        let step = if t < near {
            Duration::days(HISTORY_STEP_DAYS)
        } else {
            Duration::hours(STEP_HOURS)
        };
        let next = t + step;
        let o = offset(tz, next);
        if o != current {
            // Narrow (t, next] down to the first second at the new offset.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + Duration::seconds((hi - lo).num_seconds() / 2);
                if offset(tz, mid) == current {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let zone = tz.offset_from_utc_datetime(&hi.naive_utc());
            found.push(Transition {
                at: hi,
                from: current,
                to: o,
                daylight: !zone.dst_offset().is_zero(),
                name: zone.abbreviation().unwrap_or_default().to_owned(),
            });
            current = o;
        }
        t = next;
    }
    // The last transition before the window, then those inside it.
    let first_inside = found
        .iter()
        .position(|x| x.at >= from)
        .unwrap_or(found.len());
    found.drain(..first_inside.saturating_sub(1));
    found
}

/// `+0700`, `-0330`, `+064640` (seconds only when there are some).
pub fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// VTIMEZONE texts by zone, first year and last year.
type Cache = HashMap<(Tz, i32, i32), Arc<str>>;

/// The VTIMEZONE of `tz` for events between `from` and `to`, as unfolded lines ending in
/// CRLF. The window is widened to whole calendar years, so that the text depends only on
/// the zone and the years, and is kept: finding the transitions samples a century of
/// offsets, which costs far more than writing the rest of an invitation.
pub fn vtimezone(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Arc<str> {
    use chrono::Datelike;
    static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(HashMap::new()));
    let key = (tz, from.year(), to.year());
    if let Some(hit) = CACHE.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let start = Utc
        .with_ymd_and_hms(key.1, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(from)
        .min(from);
    let end = Utc
        .with_ymd_and_hms(key.2.saturating_add(1), 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(to)
        .max(to);
    let text: Arc<str> = write_vtimezone(tz, start, end).into();
    if let Ok(mut c) = CACHE.lock() {
        if c.len() >= 1_024 {
            c.clear();
        }
        c.insert(key, text.clone());
    }
    text
}

fn write_vtimezone(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let mut out = format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", tz.name());
    let list = transitions(tz, from, to);
    if list.is_empty() {
        let o = utc_offset(offset(tz, from));
        let name = tz
            .offset_from_utc_datetime(&from.naive_utc())
            .abbreviation()
            .unwrap_or_default()
            .to_owned();
        out.push_str(&block("STANDARD", "19700101T000000", &o, &o, &name));
    }
    for t in &list {
        // DTSTART is the local time of the change, read at the offset before it.
        let local = t.at.naive_utc() + Duration::seconds(i64::from(t.from));
        out.push_str(&block(
            if t.daylight { "DAYLIGHT" } else { "STANDARD" },
            &local.format("%Y%m%dT%H%M%S").to_string(),
            &utc_offset(t.from),
            &utc_offset(t.to),
            &t.name,
        ));
    }
    out.push_str("END:VTIMEZONE\r\n");
    out
}

fn block(kind: &str, start: &str, from: &str, to: &str, name: &str) -> String {
    let name = if name.is_empty() {
        String::new()
    } else {
        format!("TZNAME:{name}\r\n")
    };
    format!(
        "BEGIN:{kind}\r\nDTSTART:{start}\r\nTZOFFSETFROM:{from}\r\nTZOFFSETTO:{to}\r\n{name}END:{kind}\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    #[test]
    fn ho_chi_minh_city_is_utc_plus_7_since_13_june_1975() {
        let v = vtimezone(
            chrono_tz::Asia::Ho_Chi_Minh,
            utc("2024-12-18T01:00:00Z"),
            utc("2024-12-18T10:00:00Z"),
        );
        assert_eq!(
            &*v,
            "BEGIN:VTIMEZONE\r\nTZID:Asia/Ho_Chi_Minh\r\nBEGIN:STANDARD\r\n\
             DTSTART:19750613T000000\r\nTZOFFSETFROM:+0800\r\nTZOFFSETTO:+0700\r\n\
             END:STANDARD\r\nEND:VTIMEZONE\r\n"
        );
    }

    #[test]
    fn a_zone_with_summer_time_lists_each_change_in_the_window() {
        let t = transitions(
            chrono_tz::Europe::Berlin,
            utc("2025-01-10T00:00:00Z"),
            utc("2025-12-31T00:00:00Z"),
        );
        // The change of October 2024, then March and October 2025.
        assert_eq!(t.len(), 3, "{t:?}");
        assert_eq!(t[1].at, utc("2025-03-30T01:00:00Z"));
        assert_eq!((t[1].from, t[1].to, t[1].daylight), (3600, 7200, true));
        assert_eq!(t[2].at, utc("2025-10-26T01:00:00Z"));
        assert!(!t[2].daylight);
        let v = vtimezone(
            chrono_tz::Europe::Berlin,
            utc("2025-01-10T00:00:00Z"),
            utc("2025-12-31T00:00:00Z"),
        );
        assert!(v.contains("BEGIN:DAYLIGHT\r\nDTSTART:20250330T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"), "{v}");
        assert!(v.contains("BEGIN:STANDARD\r\nDTSTART:20251026T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"), "{v}");
    }

    #[test]
    fn utc_has_one_standard_block() {
        let v = vtimezone(
            chrono_tz::UTC,
            utc("2025-01-10T00:00:00Z"),
            utc("2025-01-11T00:00:00Z"),
        );
        assert!(
            v.contains("DTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\n"),
            "{v}"
        );
    }

    #[test]
    fn offsets_are_written_with_seconds_only_when_needed() {
        assert_eq!(utc_offset(25_200), "+0700");
        assert_eq!(utc_offset(-12_600), "-0330");
        assert_eq!(utc_offset(25_600), "+070640");
    }
}

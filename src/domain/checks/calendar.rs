//! Weekends, public holidays and time zones.
use super::*;

/// Longest run of days looked at for weekends and holidays: a conference longer than a
/// year is a data error, and more days would only repeat the same warnings.
const MAX_CALENDAR_DAYS: usize = 366;

pub(super) fn check_calendar(s: &Scheduled, names: Names, out: &mut Vec<Diagnostic>) {
    for date in local_dates(s) {
        weekend(s, date, out);
        public_holiday(s, date, out);
    }
    time_zone_differs_from_hall(s, names, out);
}

/// The local dates the conference covers; an end at local midnight does not cover the day
/// it opens.
fn local_dates(s: &Scheduled) -> impl Iterator<Item = NaiveDate> {
    let first = s.local_date(s.conf.starts_at);
    let end = s.conf.ends_at.with_timezone(&s.tz);
    let mut last = end.date_naive();
    if end.time() == NaiveTime::MIN && s.conf.ends_at > s.conf.starts_at {
        last = last.pred_opt().unwrap_or(last);
    }
    first
        .iter_days()
        .take(MAX_CALENDAR_DAYS)
        .take_while(move |d| *d <= last)
}

fn weekend(s: &Scheduled, date: NaiveDate, out: &mut Vec<Diagnostic>) {
    let day_name = match date.weekday() {
        Weekday::Sat => "Thứ Bảy",
        Weekday::Sun => "Chủ nhật",
        _ => return,
    };
    let message = format!(
        "Hội nghị «{}» diễn ra vào {day_name}, ngày {}.",
        s.conf.title,
        day(date)
    );
    out.push(Diagnostic::new(
        Code::Weekend,
        message,
        &[s.conf.id],
        vec![s.object_ref()],
    ));
}

fn public_holiday(s: &Scheduled, date: NaiveDate, out: &mut Vec<Diagnostic>) {
    let Some(h) = holidays::holiday(date) else {
        return;
    };
    let what = match h.kind {
        HolidayKind::Official => format!("là ngày nghỉ lễ {}", h.name),
        HolidayKind::Compensatory => format!("là ngày nghỉ bù {}", h.name),
        HolidayKind::Adjacent => format!("liền kề {} nên có thể là ngày nghỉ", h.name),
    };
    let message = format!(
        "Hội nghị «{}» diễn ra vào ngày {}, {what}.",
        s.conf.title,
        day(date)
    );
    out.push(Diagnostic::new(
        Code::PublicHoliday,
        message,
        &[s.conf.id],
        vec![s.object_ref()],
    ));
}

/// Zones are compared by name after parsing (an unknown name is Vietnam's), so two names
/// of one zone (`Asia/Saigon`) differ: rare, and worth tidying anyway.
fn time_zone_differs_from_hall(s: &Scheduled, names: Names, out: &mut Vec<Diagnostic>) {
    for hall_id in unique(&s.conf.hall_ids) {
        let Some(hall) = names.0.halls.get(&hall_id) else {
            continue;
        };
        let hall_tz = zone_or_vietnam(&hall.time_zone);
        if hall_tz == s.tz {
            continue;
        }
        let message = format!(
            "Hội nghị «{}» dùng múi giờ {} nhưng hội trường «{}» ở múi giờ {}.",
            s.conf.title,
            s.tz.name(),
            hall.name,
            hall_tz.name()
        );
        let objects = vec![s.object_ref(), object(ObjectKind::Hall, hall_id)];
        out.push(Diagnostic::new(
            Code::TimeZoneDiffersFromHall,
            message,
            &[s.conf.id],
            objects,
        ));
    }
}

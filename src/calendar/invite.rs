//! The calendar object of one invitation (RFC 5545/5546, `../shared/itip-checklist.md`
//! points 8–17): a VCALENDAR with METHOD REQUEST or CANCEL, the VTIMEZONE of the
//! conference, and one VEVENT — or, for a conference over several days with different
//! hours each day, a daily series with one override per day whose hours differ.
//!
//! # Several days
//! The first day's VEVENT carries `RRULE:FREQ=DAILY;UNTIL=<last day>` and an `EXDATE` for
//! each day in between without sessions (a weekend); each day whose hours differ from the
//! first day's is a VEVENT with the same UID and `RECURRENCE-ID` (that day at the first
//! day's start time) holding its own DTSTART and DTEND. Outlook, Gmail, Apple Calendar and
//! Thunderbird all read daily rules, EXDATE and RECURRENCE-ID overrides in one iTIP
//! message, where RDATE or PERIOD values are not read everywhere.
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use icalendar::{
    Alarm, Calendar, CalendarDateTime, Component, Event, EventLike, EventStatus, Property, Trigger,
};

use super::fold::fold_line;
use super::vtimezone::vtimezone;
use crate::domain::kinds::{DelegateRole, Reply};
use crate::domain::text::nfc;

/// `PRODID` of everything hoinghi writes.
pub const PRODID: &str = "-//hoinghi//hoinghi//VI";

/// REQUEST (an invitation or its update) or CANCEL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Request,
    Cancel,
}

impl Method {
    /// `REQUEST`, `CANCEL`: the METHOD and the `method=` of the e-mail's Content-Type.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// A name and a mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Party {
    pub name: String,
    pub email: String,
}

/// Someone invited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attendee {
    pub party: Party,
    pub role: DelegateRole,
    pub reply: Reply,
}

/// The hours of one day of the conference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Day {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Everything an invitation's calendar says.
#[derive(Clone, Debug)]
pub struct Invite {
    pub method: Method,
    /// Stable for (conference, delegate).
    pub uid: String,
    /// The conference's sequence: raised by every change that moves or cancels it.
    pub sequence: u32,
    /// When this version was written (DTSTAMP).
    pub stamp: DateTime<Utc>,
    pub time_zone: Tz,
    /// The days, in order; at least one.
    pub days: Vec<Day>,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub url: Option<String>,
    pub organizer: Party,
    pub attendees: Vec<Attendee>,
    /// Reminders before the start; none are written in a CANCEL.
    pub alarms: Vec<Duration>,
}

/// The calendar as text: CRLF line ends, lines folded at 75 octets, NFC. An invite
/// without days has no event to write and gives an empty string
/// ([`crate::services::invitations::days`] always gives at least one).
pub fn to_ics(i: &Invite) -> String {
    build(i, true)
}

/// The same lines unfolded (each logical line ends in CRLF), for [`Prepared`].
fn raw_ics(i: &Invite) -> String {
    build(i, false)
}

fn build(i: &Invite, folded: bool) -> String {
    calendar(Some(i.method.as_str()), None, &[i], folded)
}

/// A calendar to subscribe to (RFC 5545, `METHOD:PUBLISH`): one event (or daily series)
/// per invite, named `name` (`X-WR-CALNAME`, which Apple Calendar, Outlook and Google
/// show). Attendees and reminders are the invites' own: give none for a feed.
pub fn feed_ics(name: &str, invites: &[Invite]) -> String {
    let refs: Vec<&Invite> = invites.iter().collect();
    calendar(Some("PUBLISH"), Some(name), &refs, true)
}

fn calendar(method: Option<&str>, name: Option<&str>, invites: &[&Invite], folded: bool) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"));
    if let Some(m) = method {
        cal.append_property(Property::new("METHOD", m));
    }
    if let Some(n) = name {
        cal.append_property(Property::new("X-WR-CALNAME", text(n)));
    }
    // One VTIMEZONE per zone, over the span of every event in it.
    let mut zones: Vec<(Tz, DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for i in invites {
        let (Some(first), Some(last)) = (i.days.first(), i.days.last()) else {
            continue;
        };
        push_events(&mut cal, i);
        match zones.iter_mut().find(|z| z.0 == i.time_zone) {
            Some(z) => {
                z.1 = z.1.min(first.starts_at);
                z.2 = z.2.max(last.ends_at);
            }
            None => zones.push((i.time_zone, first.starts_at, last.ends_at)),
        }
    }
    if zones.is_empty() && method != Some("PUBLISH") {
        return String::new();
    }
    let zone: String = zones
        .iter()
        .map(|(tz, from, to)| vtimezone(*tz, *from, *to))
        .collect::<Vec<_>>()
        .concat();
    finish(&cal.to_string(), &zone, folded)
}

/// The VEVENTs of one invite: one, or a daily series and its overrides.
fn push_events(cal: &mut Calendar, i: &Invite) {
    let Some(first) = i.days.first() else {
        return;
    };
    let local = |t: DateTime<Utc>| -> NaiveDateTime { t.with_timezone(&i.time_zone).naive_local() };
    let at = |t: DateTime<Utc>| CalendarDateTime::WithTimezone {
        date_time: local(t),
        tzid: i.time_zone.name().to_owned(),
    };
    let mut master = event(i, first.starts_at, first.ends_at, &at);
    let last = i.days.last().unwrap_or(first);
    let several = i.days.len() > 1;
    if several {
        // The series runs daily at the first day's hours until the last day.
        let start_time = local(first.starts_at).time();
        let last_local = local(last.starts_at).date().and_time(start_time);
        let until = last_local
            .and_local_timezone(i.time_zone)
            .earliest()
            .map_or(last.starts_at, |t| t.with_timezone(&Utc));
        master.append_property(Property::new(
            "RRULE",
            format!("FREQ=DAILY;UNTIL={}", until.format("%Y%m%dT%H%M%SZ")),
        ));
        let days: Vec<_> = i.days.iter().map(|d| local(d.starts_at).date()).collect();
        let mut d = local(first.starts_at).date();
        while d < last_local.date() {
            if !days.contains(&d) {
                master.append_multi_property(
                    Property::new(
                        "EXDATE",
                        d.and_time(start_time).format("%Y%m%dT%H%M%S").to_string(),
                    )
                    .add_parameter("TZID", i.time_zone.name())
                    .done(),
                );
            }
            match d.succ_opt() {
                Some(next) => d = next,
                None => break,
            }
        }
    }
    cal.push(master.done());
    if several {
        let start_time = local(first.starts_at).time();
        let length = first.ends_at - first.starts_at;
        for day in &i.days[1..] {
            let same =
                local(day.starts_at).time() == start_time && day.ends_at - day.starts_at == length;
            if same {
                continue;
            }
            let original = local(day.starts_at).date().and_time(start_time);
            let mut e = event(i, day.starts_at, day.ends_at, &at);
            e.recurrence_id(CalendarDateTime::WithTimezone {
                date_time: original,
                tzid: i.time_zone.name().to_owned(),
            });
            cal.push(e.done());
        }
    }
}

/// One pass over the crate's output: unfolds its lines (its folding can leave 76 octets),
/// puts the VTIMEZONE (the crate writes none) before the first VEVENT, drops the DTSTAMP
/// the crate adds to every VALARM (RFC 5545 allows none there, and it would be the time
/// of writing), and folds every line at 75 octets (when `folded`).
fn finish(raw: &str, zone: &str, folded: bool) -> String {
    let mut out = String::with_capacity(raw.len() + zone.len() + raw.len() / 32);
    let mut zone_written = false;
    let mut in_alarm = false;
    let mut emit = |line: &str, out: &mut String| {
        match line {
            "BEGIN:VEVENT" if !zone_written => {
                out.push_str(zone);
                zone_written = true;
            }
            "BEGIN:VALARM" => in_alarm = true,
            "END:VALARM" => in_alarm = false,
            l if in_alarm && l.starts_with("DTSTAMP") => return,
            _ => {}
        }
        if folded {
            fold_line(line, out);
        } else {
            out.push_str(line);
            out.push_str("\r\n");
        }
    };
    let mut logical = String::with_capacity(256);
    for physical in raw.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if let Some(rest) = physical.strip_prefix(' ') {
            logical.push_str(rest);
            continue;
        }
        if !logical.is_empty() {
            emit(&logical, &mut out);
            logical.clear();
        }
        logical.push_str(physical);
    }
    if !logical.is_empty() {
        emit(&logical, &mut out);
    }
    out
}

/// What is the same in every delegate's invitation to one conference, written once: a
/// fan-out to thousands of delegates then only writes each delegate's UID, ATTENDEE and
/// LOCATION into the lines that hold them (`bench/README.md`, "Invitations built per
/// second"). [`Prepared::render`] gives exactly what [`to_ics`] gives for that delegate.
#[derive(Clone, Debug)]
pub struct Prepared {
    parts: Vec<Part>,
}

#[derive(Clone, Debug)]
enum Part {
    /// Lines already folded.
    Fixed(String),
    /// One logical line holding markers, folded once they are replaced.
    Line(String),
}

/// What [`Prepared::key`] compares.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TemplateKey<'a> {
    method: Method,
    sequence: u32,
    stamp: DateTime<Utc>,
    time_zone: &'static str,
    days: &'a [Day],
    summary: &'a str,
    description: &'a str,
    url: Option<&'a str>,
    organizer: &'a Party,
    attendees: usize,
    alarms: &'a [chrono::Duration],
}

/// Markers for the per-delegate values, from the Unicode private use area; the same
/// characters in the template's own texts are replaced by U+FFFD first.
const UID: &str = "\u{E000}";
const LOCATION: &str = "\u{E001}";
const CN: &str = "\u{E002}";
const EMAIL: &str = "\u{E003}";
const ROLE: &str = "\u{E004}";
const PARTSTAT: &str = "\u{E005}";

impl Prepared {
    /// Whether [`Prepared::render`] gives what [`to_ics`] gives for `invite`: not when its
    /// texts hold the private-use characters this uses as markers (they would be
    /// replaced by U+FFFD).
    pub fn supports(invite: &Invite) -> bool {
        let marked = |s: &str| s.contains(|c: char| ('\u{E000}'..='\u{E005}').contains(&c));
        ![
            invite.summary.as_str(),
            &invite.description,
            &invite.organizer.name,
            &invite.organizer.email,
            invite.url.as_deref().unwrap_or(""),
        ]
        .into_iter()
        .any(marked)
    }

    /// All `invite` says but its UID, LOCATION and attendee: invitations with equal keys
    /// render from one `Prepared`.
    pub fn key(invite: &Invite) -> TemplateKey<'_> {
        TemplateKey {
            method: invite.method,
            sequence: invite.sequence,
            stamp: invite.stamp,
            time_zone: invite.time_zone.name(),
            days: &invite.days,
            summary: &invite.summary,
            description: &invite.description,
            url: invite.url.as_deref(),
            organizer: &invite.organizer,
            attendees: invite.attendees.len(),
            alarms: &invite.alarms,
        }
    }

    /// Prepares `template`: its UID, LOCATION and attendees are replaced by each
    /// delegate's at [`Prepared::render`].
    pub fn new(template: &Invite) -> Self {
        let mut t = template.clone();
        let unmark = |s: &mut String| {
            if s.contains(|c: char| ('\u{E000}'..='\u{E005}').contains(&c)) {
                *s = s
                    .chars()
                    .map(|c| {
                        if ('\u{E000}'..='\u{E005}').contains(&c) {
                            '\u{FFFD}'
                        } else {
                            c
                        }
                    })
                    .collect();
            }
        };
        unmark(&mut t.summary);
        unmark(&mut t.description);
        unmark(&mut t.organizer.name);
        unmark(&mut t.organizer.email);
        if let Some(u) = &mut t.url {
            unmark(u);
        }
        t.uid = UID.into();
        t.location = LOCATION.into();
        t.attendees = vec![Attendee {
            party: Party {
                name: CN.into(),
                email: EMAIL.into(),
            },
            role: DelegateRole::ReqParticipant,
            reply: Reply::NeedsAction,
        }];
        let raw = raw_ics(&t);
        let mut parts = Vec::new();
        let mut fixed = String::with_capacity(raw.len());
        for line in raw.split("\r\n").filter(|l| !l.is_empty()) {
            // Only the attendee's own parameters: the same words in a text stay as they are.
            let line = if line.starts_with("ATTENDEE") {
                line.replace("ROLE=REQ-PARTICIPANT", &format!("ROLE={ROLE}"))
                    .replace("PARTSTAT=NEEDS-ACTION", &format!("PARTSTAT={PARTSTAT}"))
            } else {
                line.to_owned()
            };
            if [UID, LOCATION, CN, EMAIL, ROLE, PARTSTAT]
                .iter()
                .any(|m| line.contains(m))
            {
                if !fixed.is_empty() {
                    parts.push(Part::Fixed(std::mem::take(&mut fixed)));
                }
                parts.push(Part::Line(line));
            } else {
                fold_line(&line, &mut fixed);
            }
        }
        if !fixed.is_empty() {
            parts.push(Part::Fixed(fixed));
        }
        Self { parts }
    }

    /// Appends the invitation of one delegate to `out`.
    pub fn render(&self, uid: &str, location: &str, attendee: &Attendee, out: &mut String) {
        let location = escape_text(&text(location));
        let cn = quoted(&param(&attendee.party.name));
        let email = attendee.party.email.trim();
        let mut line = String::with_capacity(256);
        for part in &self.parts {
            match part {
                Part::Fixed(text) => out.push_str(text),
                Part::Line(template) => {
                    line.clear();
                    let mut rest = template.as_str();
                    while let Some(at) = rest.find(|c: char| ('\u{E000}'..='\u{E005}').contains(&c))
                    {
                        line.push_str(&rest[..at]);
                        let marker = rest[at..].chars().next().unwrap_or(' ');
                        line.push_str(match marker {
                            '\u{E000}' => uid,
                            '\u{E001}' => &location,
                            '\u{E002}' => &cn,
                            '\u{E003}' => email,
                            '\u{E004}' => role(attendee.role),
                            _ => partstat(attendee.reply),
                        });
                        rest = &rest[at + marker.len_utf8()..];
                    }
                    line.push_str(rest);
                    fold_line(&line, out);
                }
            }
        }
    }
}

/// TEXT escaping as the `icalendar` crate does it (RFC 5545 §3.3.11).
fn escape_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n")
}

/// A cleaned parameter value ([`param`]) quoted as the crate would write it: [`param`]
/// quotes values with `,`; the crate quotes those with `:` or `;`.
fn quoted(p: &str) -> String {
    if !p.starts_with('"') && p.contains([':', ';']) {
        format!("\"{p}\"")
    } else {
        p.to_owned()
    }
}

/// One VEVENT: identity, times, texts, organiser, attendees, status, reminders.
fn event(
    i: &Invite,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    at: &impl Fn(DateTime<Utc>) -> CalendarDateTime,
) -> Event {
    let mut e = Event::new();
    e.uid(&i.uid)
        .timestamp(i.stamp)
        .sequence(i.sequence)
        .starts(at(starts))
        .ends(at(ends))
        .summary(&text(&i.summary))
        .location(&text(&i.location))
        .description(&text(&i.description));
    if let Some(url) = &i.url {
        e.url(url);
    }
    e.append_property(
        Property::new("ORGANIZER", format!("mailto:{}", i.organizer.email.trim()))
            .add_parameter("CN", &param(&i.organizer.name))
            .done(),
    );
    for a in &i.attendees {
        let mut p = Property::new("ATTENDEE", format!("mailto:{}", a.party.email.trim()));
        p.add_parameter("CN", &param(&a.party.name))
            .add_parameter("CUTYPE", "INDIVIDUAL")
            .add_parameter("ROLE", role(a.role))
            .add_parameter("PARTSTAT", partstat(a.reply))
            .add_parameter(
                "RSVP",
                if i.method == Method::Request {
                    "TRUE"
                } else {
                    "FALSE"
                },
            );
        e.append_multi_property(p.done());
    }
    match i.method {
        Method::Request => {
            e.status(EventStatus::Confirmed);
            for (n, before) in i.alarms.iter().enumerate() {
                let mut alarm = Alarm::display(&text(&i.summary), Trigger::before_start(*before));
                // A stable UID (RFC 9074) instead of the random one the crate would add.
                alarm.append_property(Property::new("UID", format!("{}-alarm-{}", i.uid, n + 1)));
                e.alarm(alarm);
            }
        }
        Method::Cancel => {
            e.status(EventStatus::Cancelled);
        }
    }
    e.done()
}

/// A TEXT value: NFC, line breaks as `\n` (the crate escapes `\`, `;`, `,` and newlines),
/// no other control character (RFC 5545 forbids them in TEXT).
fn text(s: &str) -> String {
    let s = nfc(s);
    // Most texts hold no control character but newlines: leave them as they are.
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return s;
    }
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// A parameter value (`CN=`): NFC, no control characters, no DQUOTE (RFC 5545 forbids it
/// inside a quoted value), and quoted when it holds `,`, `;` or `:`. The crate quotes
/// values holding `:` or `;` itself, but not `,`: those are quoted here.
fn param(s: &str) -> String {
    let clean: String = nfc(s)
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect();
    let clean = clean.trim().to_owned();
    if clean.contains(',') && !clean.contains([':', ';']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

fn role(r: DelegateRole) -> &'static str {
    match r {
        DelegateRole::Chair => "CHAIR",
        DelegateRole::ReqParticipant => "REQ-PARTICIPANT",
        DelegateRole::OptParticipant => "OPT-PARTICIPANT",
    }
}

fn partstat(r: Reply) -> &'static str {
    match r {
        Reply::NeedsAction => "NEEDS-ACTION",
        Reply::Accepted => "ACCEPTED",
        Reply::Declined => "DECLINED",
        Reply::Tentative => "TENTATIVE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::fold::unfold;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    /// The seeded morning conference of 18/12/2024, 8h00–11h30 in Hải Phòng.
    fn morning(method: Method) -> Invite {
        Invite {
            method,
            uid: "conference-1-delegate-7@hoinghi.example".into(),
            sequence: 2,
            stamp: utc("2024-12-10T03:00:00Z"),
            time_zone: chrono_tz::Asia::Ho_Chi_Minh,
            days: vec![Day {
                starts_at: utc("2024-12-18T01:00:00Z"),
                ends_at: utc("2024-12-18T04:30:00Z"),
            }],
            summary: "Hội nghị tập huấn về xây dựng “Đơn vị học tập” cấp huyện, tỉnh".into(),
            location: "Hội trường tầng 3, cơ quan Sở GDĐT; số 36 phố Minh Khai".into(),
            description: "7h30-8h00: Đón tiếp đại biểu\n8h00-8h10: Tuyên bố lí do".into(),
            url: None,
            organizer: Party {
                name: "Sở GDĐT Hải Phòng".into(),
                email: "vanthu@sogddt-haiphong.example".into(),
            },
            attendees: vec![Attendee {
                party: Party {
                    name: "Nguyễn Văn \"An\", Hiệu trưởng".into(),
                    email: "an@thpt.example".into(),
                },
                role: DelegateRole::ReqParticipant,
                reply: Reply::NeedsAction,
            }],
            alarms: vec![Duration::days(1), Duration::hours(1)],
        }
    }

    fn lines(ics: &str) -> Vec<String> {
        unfold(ics).split("\r\n").map(str::to_owned).collect()
    }

    #[test]
    fn a_request_has_what_the_checklist_asks() {
        let ics = to_ics(&morning(Method::Request));
        for l in ics.split_terminator("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert!(!ics.replace("\r\n", "").contains('\n'), "CRLF only");
        let l = lines(&ics);
        let count = |prefix: &str| l.iter().filter(|x| x.starts_with(prefix)).count();
        assert_eq!(l[0], "BEGIN:VCALENDAR");
        assert_eq!(count("VERSION:2.0"), 1);
        assert_eq!(count("PRODID:"), 1);
        assert_eq!(count("METHOD:REQUEST"), 1);
        assert_eq!(count("BEGIN:VEVENT"), 1);
        assert_eq!(
            l.iter()
                .filter(|x| *x == "UID:conference-1-delegate-7@hoinghi.example")
                .count(),
            1
        );
        assert_eq!(count("SEQUENCE:2"), 1);
        assert!(l.contains(&"DTSTAMP:20241210T030000Z".to_owned()), "{l:#?}");
        assert!(l.contains(&"DTSTART;TZID=Asia/Ho_Chi_Minh:20241218T080000".to_owned()));
        assert!(l.contains(&"DTEND;TZID=Asia/Ho_Chi_Minh:20241218T113000".to_owned()));
        assert_eq!(count("DURATION"), 0);
        assert!(l.contains(&"TZID:Asia/Ho_Chi_Minh".to_owned()), "VTIMEZONE");
        assert!(l.contains(
            &"ORGANIZER;CN=Sở GDĐT Hải Phòng:mailto:vanthu@sogddt-haiphong.example".to_owned()
        ));
        // The DQUOTE in the name is dropped and the comma makes it quoted.
        let attendee = l
            .iter()
            .find(|x| x.starts_with("ATTENDEE"))
            .expect("attendee");
        assert!(
            attendee.contains("CN=\"Nguyễn Văn An, Hiệu trưởng\""),
            "{attendee}"
        );
        assert!(attendee.contains("ROLE=REQ-PARTICIPANT"));
        assert!(attendee.contains("PARTSTAT=NEEDS-ACTION"));
        assert!(attendee.contains("RSVP=TRUE"));
        assert!(attendee.ends_with(":mailto:an@thpt.example"));
        // TEXT escaping: `;` and `,` in the location, the newline in the description.
        assert!(
            l.contains(
                &"LOCATION:Hội trường tầng 3\\, cơ quan Sở GDĐT\\; số 36 phố Minh Khai".to_owned()
            ),
            "{l:#?}"
        );
        assert!(
            l.iter().any(
                |x| x == "DESCRIPTION:7h30-8h00: Đón tiếp đại biểu\\n8h00-8h10: Tuyên bố lí do"
            )
        );
        assert_eq!(count("BEGIN:VALARM"), 2);
        assert!(
            l.contains(&"TRIGGER;RELATED=START:-PT86400S".to_owned()),
            "{l:#?}"
        );
        assert!(l.contains(&"TRIGGER;RELATED=START:-PT3600S".to_owned()));
        // VALARMs carry a stable UID and no DTSTAMP: the text is the same every time.
        assert!(l.contains(&"UID:conference-1-delegate-7@hoinghi.example-alarm-1".to_owned()));
        assert_eq!(count("DTSTAMP"), 1, "only the VEVENT's");
        assert_eq!(to_ics(&morning(Method::Request)), ics, "deterministic");
        assert_eq!(count("STATUS:CONFIRMED"), 1);
    }

    #[test]
    fn texts_with_the_marker_characters_are_not_prepared() {
        let mut marked = morning(Method::Request);
        marked.summary.push('\u{E001}');
        assert!(!Prepared::supports(&marked));
    }

    #[test]
    fn a_prepared_invitation_renders_exactly_what_to_ics_writes() {
        let names = [
            "Nguyễn Văn \"An\", Hiệu trưởng",
            "Trần Thị Bình: Phó Hiệu trưởng; THCS",
            "Lê Văn Cường",
            "Phạm Thị Dung — giáo viên dạy Ngữ văn và phụ trách công tác xã hội học tập",
        ];
        let mut series = morning(Method::Request);
        series.days = vec![
            Day {
                starts_at: utc("2024-12-16T01:00:00Z"),
                ends_at: utc("2024-12-16T10:00:00Z"),
            },
            Day {
                starts_at: utc("2024-12-17T01:00:00Z"),
                ends_at: utc("2024-12-17T04:30:00Z"),
            },
        ];
        // A text holding the attendee's parameter words keeps them.
        let mut wordy = morning(Method::Request);
        wordy.description =
            "Ghi chú: ROLE=REQ-PARTICIPANT và PARTSTAT=NEEDS-ACTION là tham số của ATTENDEE."
                .into();
        for base in [
            morning(Method::Request),
            morning(Method::Cancel),
            series,
            wordy,
        ] {
            assert!(Prepared::supports(&base));
            let prepared = Prepared::new(&base);
            for (n, name) in names.iter().enumerate() {
                let mut one = base.clone();
                one.uid = format!("hoinghi-conference-1-delegate-{n}@hoinghi.invalid");
                one.location = format!("Điểm cầu Trường THCS số {n}; phòng họp, tầng {n}");
                one.attendees = vec![Attendee {
                    party: Party {
                        name: (*name).into(),
                        email: format!("d{n}@truong.example"),
                    },
                    role: if n == 2 {
                        DelegateRole::Chair
                    } else {
                        DelegateRole::ReqParticipant
                    },
                    reply: if n == 3 {
                        Reply::Accepted
                    } else {
                        Reply::NeedsAction
                    },
                }];
                let mut out = String::new();
                prepared.render(&one.uid, &one.location, &one.attendees[0], &mut out);
                assert_eq!(out, to_ics(&one), "{name}");
            }
        }
    }

    #[test]
    fn a_cancellation_keeps_the_uid_and_drops_the_reminders() {
        let mut i = morning(Method::Cancel);
        i.sequence = 3;
        let l = lines(&to_ics(&i));
        assert!(l.contains(&"METHOD:CANCEL".to_owned()));
        assert!(l.contains(&"STATUS:CANCELLED".to_owned()));
        assert!(l.contains(&"SEQUENCE:3".to_owned()));
        assert!(l.contains(&"UID:conference-1-delegate-7@hoinghi.example".to_owned()));
        assert!(!l.iter().any(|x| x == "BEGIN:VALARM"));
        assert!(l.iter().any(|x| x.starts_with("ORGANIZER")));
        assert!(l.iter().any(|x| x.starts_with("ATTENDEE")));
    }

    #[test]
    fn several_days_with_different_hours_are_a_series_with_overrides() {
        let mut i = morning(Method::Request);
        // Monday 8h00–17h00, Tuesday 8h00–11h30, Thursday 8h00–17h00 (no session on Wednesday).
        i.days = vec![
            Day {
                starts_at: utc("2024-12-16T01:00:00Z"),
                ends_at: utc("2024-12-16T10:00:00Z"),
            },
            Day {
                starts_at: utc("2024-12-17T01:00:00Z"),
                ends_at: utc("2024-12-17T04:30:00Z"),
            },
            Day {
                starts_at: utc("2024-12-19T01:00:00Z"),
                ends_at: utc("2024-12-19T10:00:00Z"),
            },
        ];
        let l = lines(&to_ics(&i));
        assert_eq!(
            l.iter().filter(|x| *x == "BEGIN:VEVENT").count(),
            2,
            "{l:#?}"
        );
        assert_eq!(
            l.iter()
                .filter(|x| *x == "UID:conference-1-delegate-7@hoinghi.example")
                .count(),
            2
        );
        assert!(
            l.contains(&"RRULE:FREQ=DAILY;UNTIL=20241219T010000Z".to_owned()),
            "{l:#?}"
        );
        assert!(l.contains(&"EXDATE;TZID=Asia/Ho_Chi_Minh:20241218T080000".to_owned()));
        assert!(l.contains(&"RECURRENCE-ID;TZID=Asia/Ho_Chi_Minh:20241217T080000".to_owned()));
        assert!(l.contains(&"DTEND;TZID=Asia/Ho_Chi_Minh:20241217T113000".to_owned()));
    }
}

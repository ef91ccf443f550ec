"""Reads an iCalendar file with Python's `icalendar` (an independent parser) and prints
what it understood as JSON: method, missing time zones, and each VEVENT's identity and
times in UTC. Used by tests/api/calendar.rs."""
import json
import sys

from icalendar import Calendar


def utc(value):
    dt = value.dt
    if getattr(dt, "tzinfo", None) is None:
        return "floating:" + dt.isoformat()
    return dt.astimezone(__import__("datetime").timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(path):
    with open(path, "rb") as f:
        cal = Calendar.from_ical(f.read())
    events = []
    for e in cal.walk("VEVENT"):
        attendees = e.get("ATTENDEE")
        if attendees is not None and not isinstance(attendees, list):
            attendees = [attendees]
        events.append(
            {
                "uid": str(e.get("UID")),
                "sequence": int(e.get("SEQUENCE", 0)),
                "status": str(e.get("STATUS", "")),
                "start": utc(e.get("DTSTART")),
                "end": utc(e.get("DTEND")),
                "recurrence_id": utc(e.get("RECURRENCE-ID")) if e.get("RECURRENCE-ID") else None,
                "rrule": e.get("RRULE").to_ical().decode() if e.get("RRULE") else None,
                "summary": str(e.get("SUMMARY")),
                "organizer_cn": str(e.get("ORGANIZER").params.get("CN")),
                "attendees": [
                    {"cn": str(a.params.get("CN")), "partstat": str(a.params.get("PARTSTAT")),
                     "rsvp": str(a.params.get("RSVP")), "address": str(a)}
                    for a in (attendees or [])
                ],
                "alarms": len(list(e.walk("VALARM"))),
            }
        )
    print(json.dumps({
        "method": str(cal.get("METHOD")),
        "missing_tzids": sorted(cal.get_missing_tzids()),
        "events": events,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])

// Reads an iCalendar file with Mozilla's ical.js (Thunderbird's parser), registers its
// VTIMEZONEs and prints the occurrences it sees in UTC, overrides applied, as JSON.
// Used by tests/api/calendar.rs. Usage: node check.mjs FILE (with ical.js resolvable).
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const root = new ICAL.Component(ICAL.parse(text));
for (const vtz of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
}
const vevents = root.getAllSubcomponents("vevent");
const master = vevents.find((v) => !v.hasProperty("recurrence-id"));
const event = new ICAL.Event(master);
for (const v of vevents) {
  if (v !== master) event.relateException(new ICAL.Event(v));
}
const iso = (t) => t.toJSDate().toISOString().replace(".000Z", "Z");
const occurrences = [];
if (event.isRecurring()) {
  const it = event.iterator();
  for (let next = it.next(); next && occurrences.length < 50; next = it.next()) {
    const d = event.getOccurrenceDetails(next);
    occurrences.push({ start: iso(d.startDate), end: iso(d.endDate) });
  }
} else {
  occurrences.push({ start: iso(event.startDate), end: iso(event.endDate) });
}
console.log(JSON.stringify({
  method: root.getFirstPropertyValue("method"),
  uid: event.uid,
  sequence: event.sequence,
  zone: event.startDate.zone ? event.startDate.zone.tzid : null,
  occurrences,
}));

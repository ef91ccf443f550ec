//! Clashes between conferences: a hall, a speaker, a bridge point or a person in two
//! places at once.
use super::*;

/// The two parties of a clash, the one starting first (then the lower id) first, so that
/// messages read in time order.
fn in_order<'a, T>(
    a: (&'a Scheduled<'a>, T),
    b: (&'a Scheduled<'a>, T),
) -> [(&'a Scheduled<'a>, T); 2] {
    let key = |x: &(&Scheduled, T)| (x.0.conf.starts_at, x.0.conf.id);
    if key(&b) < key(&a) { [b, a] } else { [a, b] }
}

pub(super) fn hall_double_booked(all: &[Scheduled], names: Names, out: &mut Vec<Diagnostic>) {
    let uses = all.iter().enumerate().flat_map(|(i, s)| {
        unique(&s.conf.hall_ids)
            .into_iter()
            .map(move |hall| (hall, s.conf.starts_at, s.conf.ends_at, i))
    });
    for (hall, i, j) in grouped_overlaps(uses) {
        let [(a, ()), (b, ())] = in_order((&all[i], ()), (&all[j], ()));
        let message = format!(
            "Hội trường «{}» được dùng cùng lúc cho {} và {}.",
            names.hall(hall),
            a.label(),
            b.label()
        );
        let objects = vec![
            object(ObjectKind::Hall, hall),
            a.object_ref(),
            b.object_ref(),
        ];
        out.push(Diagnostic::new(
            Code::HallDoubleBooked,
            message,
            &[a.conf.id, b.conf.id],
            objects,
        ));
    }
}

pub(super) fn speaker_double_booked(all: &[Scheduled], names: Names, out: &mut Vec<Diagnostic>) {
    let slots = all.iter().enumerate().flat_map(|(ci, s)| {
        s.conf
            .agenda
            .iter()
            .enumerate()
            .flat_map(move |(ii, item)| {
                unique(&item.speaker_ids)
                    .into_iter()
                    .map(move |speaker| (speaker, item.starts_at, item.ends_at, (ci, ii)))
            })
    });
    for (speaker, (ci, ii), (cj, ij)) in grouped_overlaps(slots) {
        let [(a, ia), (b, ib)] = in_order((&all[ci], ii), (&all[cj], ij));
        let (x, y) = (&a.conf.agenda[ia], &b.conf.agenda[ib]);
        let slot = |s: &Scheduled, item: &AgendaItem| {
            format!(
                "«{}» ({}, hội nghị «{}»)",
                excerpt(&item.content),
                s.span(item.starts_at, item.ends_at),
                s.conf.title
            )
        };
        let message = format!(
            "Báo cáo viên «{}» phải có mặt cùng lúc ở {} và {}.",
            names.speaker(speaker),
            slot(a, x),
            slot(b, y)
        );
        let objects = vec![
            object(ObjectKind::Speaker, speaker),
            object(ObjectKind::AgendaItem, x.id),
            object(ObjectKind::AgendaItem, y.id),
            a.object_ref(),
            b.object_ref(),
        ];
        out.push(Diagnostic::new(
            Code::SpeakerDoubleBooked,
            message,
            &[a.conf.id, b.conf.id],
            objects,
        ));
    }
}

/// A speaker of two conferences whose times overlap, though their own items do not (a
/// speaker of a training conference is expected to be there throughout): a warning, left
/// out when the two conferences already clash on one of the speaker's items.
pub(super) fn speaker_in_overlapping_conferences(
    all: &[Scheduled],
    names: Names,
    out: &mut Vec<Diagnostic>,
) {
    let entries = all.iter().enumerate().flat_map(|(ci, s)| {
        let speakers: BTreeSet<i64> = s
            .conf
            .agenda
            .iter()
            .flat_map(|i| i.speaker_ids.iter().copied())
            .collect();
        speakers
            .into_iter()
            .map(move |speaker| (speaker, s.conf.starts_at, s.conf.ends_at, ci))
    });
    for (speaker, ci, cj) in grouped_overlaps(entries) {
        let [(a, _), (b, _)] = in_order((&all[ci], ()), (&all[cj], ()));
        let clashed = out.iter().any(|d| {
            d.code == Code::SpeakerDoubleBooked
                && d.objects.contains(&object(ObjectKind::Speaker, speaker))
                && d.objects.contains(&a.object_ref())
                && d.objects.contains(&b.object_ref())
        });
        if clashed {
            continue;
        }
        let message = format!(
            "Báo cáo viên «{}» trình bày ở hai hội nghị diễn ra cùng lúc: «{}» ({}) và «{}» ({}).",
            names.speaker(speaker),
            a.conf.title,
            a.span(a.conf.starts_at, a.conf.ends_at),
            b.conf.title,
            b.span(b.conf.starts_at, b.conf.ends_at)
        );
        let objects = vec![
            object(ObjectKind::Speaker, speaker),
            a.object_ref(),
            b.object_ref(),
        ];
        out.push(Diagnostic::new(
            Code::SpeakerInOverlappingConferences,
            message,
            &[a.conf.id, b.conf.id],
            objects,
        ));
    }
}

/// A room compared as people write it: NFC, trimmed, case-insensitive; empty is no room.
pub(super) fn room_key(room: Option<&str>) -> Option<String> {
    room.map(|r| text::nfc(r).to_lowercase())
        .filter(|r| !r.is_empty())
}

pub(super) fn bridge_point_double_booked(
    all: &[Scheduled],
    names: Names,
    out: &mut Vec<Diagnostic>,
) {
    let sites = all.iter().enumerate().flat_map(|(ci, s)| {
        s.conf
            .bridge_points
            .iter()
            .enumerate()
            .map(move |(bi, bp)| {
                let key = (bp.host_unit_id, room_key(bp.room.as_deref()));
                (key, s.conf.starts_at, s.conf.ends_at, (ci, bi))
            })
    });
    for ((host, _), (ci, bi), (cj, bj)) in grouped_overlaps(sites) {
        if ci == cj {
            continue;
        }
        let [(a, ia), (b, ib)] = in_order((&all[ci], bi), (&all[cj], bj));
        let (x, y) = (&a.conf.bridge_points[ia], &b.conf.bridge_points[ib]);
        let place = match x.room.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(room) => format!("phòng «{room}» của đơn vị «{}»", names.unit(host)),
            None => format!("đơn vị «{}» (không ghi phòng)", names.unit(host)),
        };
        let message = format!(
            "Điểm cầu «{}» của {} và điểm cầu «{}» của {} cùng đặt tại {place} \
             trong thời gian trùng nhau.",
            x.name,
            a.label(),
            y.name,
            b.label()
        );
        let objects = vec![
            object(ObjectKind::Unit, host),
            object(ObjectKind::BridgePoint, x.id),
            object(ObjectKind::BridgePoint, y.id),
            a.object_ref(),
            b.object_ref(),
        ];
        out.push(Diagnostic::new(
            Code::BridgePointDoubleBooked,
            message,
            &[a.conf.id, b.conf.id],
            objects,
        ));
    }
}

pub(super) fn delegate_double_booked(all: &[Scheduled], names: Names, out: &mut Vec<Diagnostic>) {
    // One entry per person and conference (the lowest delegate id): being listed twice in
    // one conference is not a clash in time.
    let attendances = all.iter().enumerate().flat_map(|(ci, s)| {
        let mut first: BTreeMap<i64, i64> = BTreeMap::new();
        for d in &s.conf.delegates {
            let id = first.entry(d.person_id).or_insert(d.id);
            *id = (*id).min(d.id);
        }
        first.into_iter().map(move |(person, delegate)| {
            (person, s.conf.starts_at, s.conf.ends_at, (ci, delegate))
        })
    });
    for (person, (ci, di), (cj, dj)) in grouped_overlaps(attendances) {
        let [(a, da), (b, db)] = in_order((&all[ci], di), (&all[cj], dj));
        let message = format!(
            "Đại biểu «{}» được cử dự hai hội nghị diễn ra cùng lúc: {} và {}.",
            names.person(person),
            a.label(),
            b.label()
        );
        let objects = vec![
            object(ObjectKind::Person, person),
            object(ObjectKind::Delegate, da),
            object(ObjectKind::Delegate, db),
            a.object_ref(),
            b.object_ref(),
        ];
        out.push(Diagnostic::new(
            Code::DelegateDoubleBooked,
            message,
            &[a.conf.id, b.conf.id],
            objects,
        ));
    }
}

//! The agenda of one conference: overlaps, items outside the conference, gaps.
use super::*;

pub(super) fn check_agenda(s: &Scheduled, out: &mut Vec<Diagnostic>) {
    agenda_overlap(s, out);
    agenda_outside_conference(s, out);
    agenda_gap(s, out);
}

fn item_label(s: &Scheduled, item: &AgendaItem) -> String {
    format!(
        "«{}» ({})",
        excerpt(&item.content),
        s.span(item.starts_at, item.ends_at)
    )
}

fn agenda_overlap(s: &Scheduled, out: &mut Vec<Diagnostic>) {
    let agenda = &s.conf.agenda;
    let intervals: Vec<_> = (0..agenda.len())
        .map(|i| (agenda[i].starts_at, agenda[i].ends_at, i))
        .collect();
    for (i, j) in overlapping_pairs(&intervals) {
        let (x, y) = (&agenda[i], &agenda[j]);
        let message = format!(
            "Trong chương trình hội nghị «{}», {} và {} trùng thời gian.",
            s.conf.title,
            item_label(s, x),
            item_label(s, y)
        );
        let objects = vec![
            s.object_ref(),
            object(ObjectKind::AgendaItem, x.id),
            object(ObjectKind::AgendaItem, y.id),
        ];
        out.push(Diagnostic::new(
            Code::AgendaOverlap,
            message,
            &[s.conf.id],
            objects,
        ));
    }
}

fn agenda_outside_conference(s: &Scheduled, out: &mut Vec<Diagnostic>) {
    let c = s.conf;
    for item in &c.agenda {
        // Welcoming delegates before the opening ("Đón tiếp đại biểu" 7h30–8h00 when the
        // conference opens at 8h00, as in the seeded plan) is usual: a warning only.
        let arrival = item.starts_at <= item.ends_at
            && item.ends_at <= c.starts_at
            && s.local_date(item.starts_at) == s.local_date(c.starts_at);
        if arrival {
            let message = format!(
                "Nội dung {} của hội nghị «{}» diễn ra trước giờ khai mạc {}; thư mời sẽ ghi giờ khai mạc.",
                item_label(s, item),
                c.title,
                s.at(c.starts_at)
            );
            let objects = vec![s.object_ref(), object(ObjectKind::AgendaItem, item.id)];
            out.push(Diagnostic::new(
                Code::AgendaBeforeOpening,
                message,
                &[c.id],
                objects,
            ));
            continue;
        }
        let reason = if item.ends_at < item.starts_at {
            "kết thúc trước khi bắt đầu".to_owned()
        } else if item.starts_at < c.starts_at {
            format!("bắt đầu trước giờ khai mạc {}", s.at(c.starts_at))
        } else if item.ends_at > c.ends_at {
            format!("kết thúc sau giờ bế mạc {}", s.at(c.ends_at))
        } else {
            continue;
        };
        let message = format!(
            "Nội dung {} của hội nghị «{}» {reason}.",
            item_label(s, item),
            c.title
        );
        let objects = vec![s.object_ref(), object(ObjectKind::AgendaItem, item.id)];
        out.push(Diagnostic::new(
            Code::AgendaOutsideConference,
            message,
            &[c.id],
            objects,
        ));
    }
}

/// A gap between the end of what came before and the next item, on the same local day: a
/// gap over a night of a multi-day conference is the evening, not a hole in the agenda.
fn agenda_gap(s: &Scheduled, out: &mut Vec<Diagnostic>) {
    let mut items: Vec<&AgendaItem> = s
        .conf
        .agenda
        .iter()
        .filter(|i| i.starts_at < i.ends_at)
        .collect();
    items.sort_by_key(|i| (i.starts_at, i.ends_at, i.id));
    let Some((first, rest)) = items.split_first() else {
        return;
    };
    let mut latest = *first;
    for &next in rest {
        let gap = next.starts_at - latest.ends_at;
        if gap > TimeDelta::zero() && s.local_date(latest.ends_at) == s.local_date(next.starts_at) {
            let message = format!(
                "Chương trình hội nghị «{}» có khoảng trống {} giữa «{}» và «{}».",
                s.conf.title,
                s.span(latest.ends_at, next.starts_at),
                excerpt(&latest.content),
                excerpt(&next.content)
            );
            let objects = vec![
                s.object_ref(),
                object(ObjectKind::AgendaItem, latest.id),
                object(ObjectKind::AgendaItem, next.id),
            ];
            out.push(Diagnostic::new(
                Code::AgendaGap,
                message,
                &[s.conf.id],
                objects,
            ));
        }
        if next.ends_at > latest.ends_at {
            latest = next;
        }
    }
}

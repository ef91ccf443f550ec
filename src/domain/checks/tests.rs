use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

/// A wall-clock time in Hà Nội, `2024-12-18T08:00`.
fn t(s: &str) -> DateTime<Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
    chrono_tz::Asia::Ho_Chi_Minh
        .from_local_datetime(&local)
        .unwrap()
        .with_timezone(&Utc)
}

/// A published conference in Hà Nội time with nothing in it.
fn conf(id: i64, start: &str, end: &str) -> Conference {
    Conference {
        id,
        title: format!("Tập huấn {id}"),
        starts_at: t(start),
        ends_at: t(end),
        time_zone: DEFAULT_TIME_ZONE.to_owned(),
        status: ConferenceStatus::Published,
        hall_ids: vec![],
        agenda: vec![],
        bridge_points: vec![],
        rules: vec![],
        delegates: vec![],
    }
}

fn item(id: i64, start: &str, end: &str, speaker_ids: &[i64]) -> AgendaItem {
    AgendaItem {
        id,
        starts_at: t(start),
        ends_at: t(end),
        content: format!("Nội dung {id}"),
        speaker_ids: speaker_ids.to_vec(),
    }
}

fn bridge_point(id: i64, host: i64, room: Option<&str>, units: &[i64]) -> BridgePoint {
    BridgePoint {
        id,
        name: format!("Điểm cầu {id}"),
        host_unit_id: host,
        room: room.map(str::to_owned),
        capacity: None,
        unit_ids: units.to_vec(),
    }
}

fn rule(id: i64, venue: Venue, quota: Option<i32>, units: &[i64]) -> AttendanceRule {
    AttendanceRule {
        id,
        description: format!("Thành phần {id}"),
        venue,
        hall_id: None,
        quota,
        unit_ids: units.to_vec(),
    }
}

fn delegate(id: i64, person: i64, unit: i64, venue: Venue) -> Delegate {
    Delegate {
        id,
        person_id: person,
        unit_id: unit,
        rule_id: None,
        venue,
        hall_id: None,
        bridge_point_id: None,
    }
}

fn hall(name: &str, capacity: Option<i32>) -> HallInfo {
    HallInfo {
        name: name.to_owned(),
        capacity,
        time_zone: DEFAULT_TIME_ZONE.to_owned(),
    }
}

fn snapshot(conferences: Vec<Conference>) -> Snapshot {
    Snapshot {
        conferences,
        halls: HashMap::from([(7, hall("Hội trường A", None))]),
        ..Snapshot::default()
    }
}

fn found(s: &Snapshot, code: Code) -> Vec<Diagnostic> {
    check(s, None)
        .into_iter()
        .filter(|d| d.code == code)
        .collect()
}

/// The ids of the objects of one kind a diagnostic names.
fn ids(d: &Diagnostic, kind: ObjectKind) -> Vec<i64> {
    d.objects
        .iter()
        .filter(|o| o.kind == kind)
        .map(|o| o.id)
        .collect()
}

/// Asserts exactly one diagnostic of `code`, with the code's severity, and returns it.
fn only(s: &Snapshot, code: Code, severity: Severity) -> Diagnostic {
    let mut all = found(s, code);
    assert_eq!(all.len(), 1, "{all:#?}");
    let d = all.remove(0);
    assert_eq!(d.severity, severity);
    d
}

// 2024-12-18 and 19 are a Wednesday and a Thursday, no holiday.
fn two_in_hall(second_start: &str, second_end: &str) -> Snapshot {
    let mut a = conf(1, "2024-12-18T08:00", "2024-12-18T11:30");
    let mut b = conf(2, second_start, second_end);
    a.hall_ids = vec![7];
    b.hall_ids = vec![7, 7];
    snapshot(vec![a, b])
}

#[test]
fn hall_double_booked() {
    let s = two_in_hall("2024-12-18T11:00", "2024-12-18T12:00");
    let d = only(&s, Code::HallDoubleBooked, Severity::Error);
    assert_eq!(d.conference_ids, vec![1, 2]);
    assert_eq!(ids(&d, ObjectKind::Hall), vec![7]);
    assert_eq!(ids(&d, ObjectKind::Conference), vec![1, 2]);
    assert_eq!(
        d.message,
        "Hội trường «Hội trường A» được dùng cùng lúc cho hội nghị «Tập huấn 1» \
         (từ 08h00 đến 11h30 ngày 18/12/2024) và hội nghị «Tập huấn 2» \
         (từ 11h00 đến 12h00 ngày 18/12/2024)."
    );

    let touching = two_in_hall("2024-12-18T11:30", "2024-12-18T12:00");
    assert!(found(&touching, Code::HallDoubleBooked).is_empty());
}

#[test]
fn cancelled_conferences_take_part_in_nothing() {
    let mut s = two_in_hall("2024-12-18T11:00", "2024-12-18T12:00");
    let cancelled = &mut s.conferences[1];
    cancelled.status = ConferenceStatus::Cancelled;
    // On a Saturday, and clashing in hall 7: still nothing to say.
    cancelled.starts_at = t("2024-12-21T08:00");
    cancelled.ends_at = t("2024-12-21T11:00");
    s.conferences[0].starts_at = t("2024-12-21T09:00");
    s.conferences[0].ends_at = t("2024-12-21T10:00");
    let codes: Vec<Code> = check(&s, None).into_iter().map(|d| d.code).collect();
    assert_eq!(codes, vec![Code::Weekend]);
}

#[test]
fn speaker_double_booked_across_and_within_conferences() {
    let mut a = conf(1, "2024-12-18T08:00", "2024-12-18T17:00");
    let mut b = conf(2, "2024-12-18T08:00", "2024-12-18T17:00");
    a.agenda = vec![
        item(10, "2024-12-18T08:00", "2024-12-18T09:00", &[5]),
        item(11, "2024-12-18T14:00", "2024-12-18T15:00", &[6]),
        item(12, "2024-12-18T14:30", "2024-12-18T15:30", &[6]),
    ];
    b.agenda = vec![item(20, "2024-12-18T08:30", "2024-12-18T09:30", &[5])];
    let mut s = snapshot(vec![a, b]);
    s.speaker_names.insert(5, "Ông Nguyễn Văn An".to_owned());
    let all = found(&s, Code::SpeakerDoubleBooked);
    assert_eq!(all.len(), 2, "{all:#?}");
    let within = &all[0];
    assert_eq!(within.severity, Severity::Error);
    assert_eq!(within.conference_ids, vec![1]);
    assert_eq!(ids(within, ObjectKind::Speaker), vec![6]);
    assert_eq!(ids(within, ObjectKind::AgendaItem), vec![11, 12]);
    let across = &all[1];
    assert_eq!(across.severity, Severity::Error);
    assert_eq!(across.conference_ids, vec![1, 2]);
    assert_eq!(ids(across, ObjectKind::Speaker), vec![5]);
    assert_eq!(ids(across, ObjectKind::AgendaItem), vec![10, 20]);
    assert!(across.message.starts_with(
        "Báo cáo viên «Ông Nguyễn Văn An» phải có mặt cùng lúc ở «Nội dung 10» \
         (từ 08h00 đến 09h00 ngày 18/12/2024, hội nghị «Tập huấn 1»)"
    ));

    let mut apart = s.clone();
    apart.conferences[1].agenda[0] = item(20, "2024-12-18T09:00", "2024-12-18T10:00", &[5]);
    apart.conferences[0].agenda[2].speaker_ids = vec![7];
    assert!(found(&apart, Code::SpeakerDoubleBooked).is_empty());
}

fn two_bridge_points(room_a: Option<&str>, room_b: Option<&str>) -> Snapshot {
    let mut a = conf(1, "2024-12-18T08:00", "2024-12-18T11:30");
    let mut b = conf(2, "2024-12-18T09:00", "2024-12-18T10:00");
    a.bridge_points = vec![bridge_point(100, 50, room_a, &[1])];
    b.bridge_points = vec![bridge_point(200, 50, room_b, &[2])];
    snapshot(vec![a, b])
}

#[test]
fn bridge_point_double_booked() {
    // Decomposed, differently cased and padded: the same room.
    let s = two_bridge_points(Some("Phòng họp A"), Some(" PHO\u{0300}NG HỌP a "));
    let d = only(&s, Code::BridgePointDoubleBooked, Severity::Error);
    assert_eq!(d.conference_ids, vec![1, 2]);
    assert_eq!(ids(&d, ObjectKind::Unit), vec![50]);
    assert_eq!(ids(&d, ObjectKind::BridgePoint), vec![100, 200]);
    assert!(
        d.message
            .contains("cùng đặt tại phòng «Phòng họp A» của đơn vị «#50» trong")
    );

    let no_rooms = two_bridge_points(None, None);
    only(&no_rooms, Code::BridgePointDoubleBooked, Severity::Error);

    let other_room = two_bridge_points(Some("Phòng họp A"), Some("Phòng họp B"));
    assert!(found(&other_room, Code::BridgePointDoubleBooked).is_empty());
    let one_without = two_bridge_points(Some("Phòng họp A"), None);
    assert!(found(&one_without, Code::BridgePointDoubleBooked).is_empty());
}

#[test]
fn unit_multiple_bridge_points() {
    let mut c = conf(1, "2024-12-18T08:00", "2024-12-18T11:30");
    c.bridge_points = vec![
        bridge_point(100, 50, None, &[1, 2]),
        bridge_point(101, 51, None, &[2, 3]),
    ];
    let mut s = snapshot(vec![c]);
    s.unit_names.insert(2, "Trường THCS Lê Lợi".to_owned());
    let d = only(&s, Code::UnitMultipleBridgePoints, Severity::Error);
    assert_eq!(d.conference_ids, vec![1]);
    assert_eq!(ids(&d, ObjectKind::Unit), vec![2]);
    assert_eq!(ids(&d, ObjectKind::BridgePoint), vec![100, 101]);
    assert_eq!(
        d.message,
        "Đơn vị «Trường THCS Lê Lợi» được xếp vào 2 điểm cầu của hội nghị «Tập huấn 1»: \
         «Điểm cầu 100», «Điểm cầu 101»."
    );

    s.conferences[0].bridge_points[1].unit_ids = vec![3];
    assert!(found(&s, Code::UnitMultipleBridgePoints).is_empty());
}

#[test]
fn unit_unassigned() {
    let mut c = conf(1, "2024-12-18T08:00", "2024-12-18T11:30");
    c.bridge_points = vec![bridge_point(100, 50, None, &[1, 2])];
    c.rules = vec![
        rule(30, Venue::BridgePoint, Some(1), &[1, 2, 4]),
        rule(31, Venue::Hall, Some(1), &[5]),
    ];
    let mut s = snapshot(vec![c]);
    let d = only(&s, Code::UnitUnassigned, Severity::Error);
    assert_eq!(ids(&d, ObjectKind::Unit), vec![4]);
    assert_eq!(ids(&d, ObjectKind::AttendanceRule), vec![30]);

    s.conferences[0].bridge_points[0].unit_ids.push(4);
    assert!(found(&s, Code::UnitUnassigned).is_empty());
}

#[test]
fn delegate_double_booked() {
    let mut a = conf(1, "2024-12-18T08:00", "2024-12-18T11:30");
    let mut b = conf(2, "2024-12-18T11:00", "2024-12-18T12:00");
    a.delegates = vec![
        delegate(301, 9, 1, Venue::Hall),
        delegate(300, 9, 1, Venue::Online),
    ];
    b.delegates = vec![delegate(400, 9, 1, Venue::Hall)];
    let mut s = snapshot(vec![a, b]);
    s.person_names.insert(9, "Trần Thị Bình".to_owned());
    let d = only(&s, Code::DelegateDoubleBooked, Severity::Error);
    assert_eq!(d.conference_ids, vec![1, 2]);
    assert_eq!(ids(&d, ObjectKind::Person), vec![9]);
    assert_eq!(ids(&d, ObjectKind::Delegate), vec![300, 400]);
    assert!(d.message.starts_with(
        "Đại biểu «Trần Thị Bình» được cử dự hai hội nghị diễn ra cùng lúc: \
         hội nghị «Tập huấn 1»"
    ));

    s.conferences[1].starts_at = t("2024-12-18T13:30");
    s.conferences[1].ends_at = t("2024-12-18T17:00");
    assert!(found(&s, Code::DelegateDoubleBooked).is_empty());
}

fn with_agenda(items: Vec<AgendaItem>) -> Snapshot {
    let mut c = conf(1, "2024-12-18T08:00", "2024-12-19T11:30");
    c.agenda = items;
    snapshot(vec![c])
}

#[test]
fn agenda_overlap() {
    let s = with_agenda(vec![
        item(10, "2024-12-18T08:00", "2024-12-18T09:00", &[]),
        item(11, "2024-12-18T08:30", "2024-12-18T10:00", &[]),
    ]);
    let d = only(&s, Code::AgendaOverlap, Severity::Error);
    assert_eq!(d.conference_ids, vec![1]);
    assert_eq!(ids(&d, ObjectKind::AgendaItem), vec![10, 11]);

    let touching = with_agenda(vec![
        item(10, "2024-12-18T08:00", "2024-12-18T09:00", &[]),
        item(11, "2024-12-18T09:00", "2024-12-18T10:00", &[]),
    ]);
    assert!(found(&touching, Code::AgendaOverlap).is_empty());
}

#[test]
fn agenda_outside_conference() {
    let s = with_agenda(vec![
        item(10, "2024-12-18T07:30", "2024-12-18T09:00", &[]),
        item(11, "2024-12-19T11:00", "2024-12-19T12:00", &[]),
        item(12, "2024-12-18T10:00", "2024-12-18T09:00", &[]),
        item(13, "2024-12-18T09:00", "2024-12-18T10:00", &[]),
    ]);
    let all = found(&s, Code::AgendaOutsideConference);
    let named: Vec<Vec<i64>> = all.iter().map(|d| ids(d, ObjectKind::AgendaItem)).collect();
    assert_eq!(named, vec![vec![10], vec![11], vec![12]]);
    assert!(all.iter().all(|d| d.severity == Severity::Error));
    assert!(
        all[0]
            .message
            .ends_with("bắt đầu trước giờ khai mạc 08h00 ngày 18/12/2024.")
    );
    assert!(
        all[1]
            .message
            .ends_with("kết thúc sau giờ bế mạc 11h30 ngày 19/12/2024.")
    );
    assert!(all[2].message.ends_with("kết thúc trước khi bắt đầu."));

    let inside = with_agenda(vec![item(13, "2024-12-18T08:00", "2024-12-19T11:30", &[])]);
    assert!(found(&inside, Code::AgendaOutsideConference).is_empty());
    assert!(found(&inside, Code::AgendaBeforeOpening).is_empty());
}

#[test]
fn speaker_of_two_overlapping_conferences_is_warned_once() {
    let mut a = conf(1, "2024-12-18T08:00", "2024-12-18T11:30");
    let mut b = conf(2, "2024-12-18T11:00", "2024-12-18T14:00");
    a.agenda = vec![item(10, "2024-12-18T08:15", "2024-12-18T08:30", &[5])];
    b.agenda = vec![item(20, "2024-12-18T12:15", "2024-12-18T12:30", &[5])];
    let s = snapshot(vec![a.clone(), b.clone()]);
    let warned = found(&s, Code::SpeakerInOverlappingConferences);
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert_eq!(warned[0].severity, Severity::Warning);
    assert_eq!(ids(&warned[0], ObjectKind::Speaker), vec![5]);
    assert_eq!(ids(&warned[0], ObjectKind::Conference), vec![1, 2]);
    assert!(found(&s, Code::SpeakerDoubleBooked).is_empty());

    // When the items clash too, the error says it all: no warning besides.
    b.agenda = vec![item(20, "2024-12-18T11:10", "2024-12-18T11:40", &[5])];
    a.agenda
        .push(item(11, "2024-12-18T11:00", "2024-12-18T11:20", &[5]));
    let s = snapshot(vec![a.clone(), b.clone()]);
    assert_eq!(found(&s, Code::SpeakerDoubleBooked).len(), 1);
    assert!(found(&s, Code::SpeakerInOverlappingConferences).is_empty());

    // Conferences that do not overlap: nothing.
    b.starts_at = t("2024-12-18T13:30");
    b.ends_at = t("2024-12-18T17:00");
    b.agenda = vec![item(20, "2024-12-18T14:15", "2024-12-18T14:30", &[5])];
    let s = snapshot(vec![a, b]);
    assert!(found(&s, Code::SpeakerInOverlappingConferences).is_empty());
}

#[test]
fn welcoming_before_the_opening_is_a_warning() {
    let s = with_agenda(vec![
        item(10, "2024-12-18T07:30", "2024-12-18T08:00", &[]),
        item(11, "2024-12-17T16:00", "2024-12-17T17:00", &[]),
    ]);
    let before = found(&s, Code::AgendaBeforeOpening);
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].severity, Severity::Warning);
    assert_eq!(ids(&before[0], ObjectKind::AgendaItem), vec![10]);
    assert!(
        before[0]
            .message
            .contains("diễn ra trước giờ khai mạc 08h00 ngày 18/12/2024"),
        "{}",
        before[0].message
    );
    // The day before is not a welcome: still an error.
    let outside = found(&s, Code::AgendaOutsideConference);
    assert_eq!(outside.len(), 1);
    assert_eq!(ids(&outside[0], ObjectKind::AgendaItem), vec![11]);
}

#[test]
fn agenda_gap_within_a_day_but_not_over_a_night() {
    let s = with_agenda(vec![
        item(10, "2024-12-18T08:00", "2024-12-18T09:00", &[]),
        item(11, "2024-12-18T09:15", "2024-12-18T17:00", &[]),
        item(12, "2024-12-19T08:00", "2024-12-19T11:30", &[]),
    ]);
    let d = only(&s, Code::AgendaGap, Severity::Warning);
    assert_eq!(ids(&d, ObjectKind::AgendaItem), vec![10, 11]);
    assert_eq!(
        d.message,
        "Chương trình hội nghị «Tập huấn 1» có khoảng trống từ 09h00 đến 09h15 ngày \
         18/12/2024 giữa «Nội dung 10» và «Nội dung 11»."
    );

    let contiguous = with_agenda(vec![
        item(10, "2024-12-18T08:00", "2024-12-18T09:00", &[]),
        item(11, "2024-12-18T09:00", "2024-12-18T17:00", &[]),
        item(12, "2024-12-19T08:00", "2024-12-19T11:30", &[]),
    ]);
    assert!(found(&contiguous, Code::AgendaGap).is_empty());
}

#[test]
fn agenda_gap_is_measured_from_the_latest_end() {
    // Item 11 lies inside item 10: no gap before item 12, which starts when 10 ends.
    let s = with_agenda(vec![
        item(10, "2024-12-18T08:00", "2024-12-18T10:00", &[]),
        item(11, "2024-12-18T08:30", "2024-12-18T09:00", &[]),
        item(12, "2024-12-18T10:00", "2024-12-18T11:00", &[]),
    ]);
    assert!(found(&s, Code::AgendaGap).is_empty());
}

/// One conference in hall 7 (capacity 10): 6 delegates already seated, and a hall
/// rule of 2 per unit over `units`, of which unit 1 has nominated.
fn hall_of_ten(units: &[i64]) -> Snapshot {
    let mut c = conf(1, "2024-12-18T08:00", "2024-12-18T11:30");
    c.hall_ids = vec![7];
    c.rules = vec![rule(30, Venue::Hall, Some(2), units)];
    c.delegates = (0..6)
        .map(|i| delegate(300 + i, 900 + i, 1, Venue::Hall))
        .collect();
    c.delegates.push(delegate(399, 999, 1, Venue::Online));
    let mut s = snapshot(vec![c]);
    s.halls.insert(7, hall("Hội trường A", Some(10)));
    s
}

#[test]
fn hall_over_capacity() {
    let full = hall_of_ten(&[1, 2, 3]);
    assert!(found(&full, Code::HallOverCapacity).is_empty());

    let over = hall_of_ten(&[1, 2, 3, 4]);
    let d = only(&over, Code::HallOverCapacity, Severity::Error);
    assert_eq!(d.conference_ids, vec![1]);
    assert_eq!(ids(&d, ObjectKind::Hall), vec![7]);
    assert_eq!(
        d.message,
        "Hội trường «Hội trường A» có 10 chỗ nhưng hội nghị «Tập huấn 1» cần 12 chỗ \
         (6 đại biểu đã cử và 6 chỗ dành cho các đơn vị chưa cử đại biểu)."
    );
}

#[test]
fn hall_demand_counts_only_its_own_hall_when_there_are_several() {
    let mut s = hall_of_ten(&[1, 2, 3, 4]);
    // With two halls, rule and delegates without a hall belong to neither.
    s.conferences[0].hall_ids = vec![7, 8];
    assert!(found(&s, Code::HallOverCapacity).is_empty());
    s.conferences[0].rules[0].hall_id = Some(7);
    for d in &mut s.conferences[0].delegates {
        d.hall_id = Some(7);
    }
    only(&s, Code::HallOverCapacity, Severity::Error);
}

/// Bridge point 100 (capacity `capacity`) for units 1 and 2; unit 1 sent 3 delegates,
/// unit 2 none and is required by two rules with quotas 2 and 3.
fn bridge_point_with(capacity: i32) -> Snapshot {
    let mut c = conf(1, "2024-12-18T08:00", "2024-12-18T11:30");
    let mut bp = bridge_point(100, 50, None, &[1, 2]);
    bp.capacity = Some(capacity);
    c.bridge_points = vec![bp];
    c.rules = vec![
        rule(30, Venue::BridgePoint, Some(2), &[1, 2]),
        rule(31, Venue::BridgePoint, Some(3), &[2]),
        rule(32, Venue::BridgePoint, None, &[2]),
    ];
    c.delegates = (0..3)
        .map(|i| {
            let mut d = delegate(300 + i, 900 + i, 1, Venue::BridgePoint);
            d.rule_id = Some(30);
            d.bridge_point_id = Some(100);
            d
        })
        .collect();
    snapshot(vec![c])
}

#[test]
fn bridge_point_over_capacity() {
    let over = bridge_point_with(5);
    let d = only(&over, Code::BridgePointOverCapacity, Severity::Error);
    assert_eq!(ids(&d, ObjectKind::BridgePoint), vec![100]);
    assert_eq!(ids(&d, ObjectKind::Conference), vec![1]);
    assert!(
        d.message
            .contains("có 5 chỗ nhưng cần 6 chỗ (3 đại biểu đã cử và 3 chỗ")
    );

    let enough = bridge_point_with(6);
    assert!(found(&enough, Code::BridgePointOverCapacity).is_empty());
}

#[test]
fn unit_over_quota() {
    let mut c = conf(1, "2024-12-18T08:00", "2024-12-18T11:30");
    c.rules = vec![rule(30, Venue::Hall, Some(1), &[1])];
    let mut with_rule = delegate(300, 900, 1, Venue::Hall);
    with_rule.rule_id = Some(30);
    c.delegates = vec![with_rule, delegate(301, 901, 1, Venue::Hall)];
    let mut s = snapshot(vec![c]);
    let d = only(&s, Code::UnitOverQuota, Severity::Error);
    assert_eq!(ids(&d, ObjectKind::Unit), vec![1]);
    assert_eq!(ids(&d, ObjectKind::AttendanceRule), vec![30]);
    assert_eq!(ids(&d, ObjectKind::Delegate), vec![300, 301]);
    assert_eq!(
        d.message,
        "Đơn vị «#1» cử 2 đại biểu dự hội nghị «Tập huấn 1» theo thành phần «Thành phần 30» \
         nhưng chỉ được cử 1 người."
    );

    // A second rule requiring unit 1 makes the delegate without a rule ambiguous.
    s.conferences[0]
        .rules
        .push(rule(31, Venue::Hall, Some(1), &[1]));
    assert!(found(&s, Code::UnitOverQuota).is_empty());
}

#[test]
fn weekend_in_the_conference_zone() {
    // Friday 20/12 23:30 UTC is Saturday 06:30 in Hà Nội.
    let mut c = conf(1, "2024-12-21T06:30", "2024-12-22T11:00");
    let s = snapshot(vec![c.clone()]);
    let all = found(&s, Code::Weekend);
    let messages: Vec<&str> = all.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "Hội nghị «Tập huấn 1» diễn ra vào Thứ Bảy, ngày 21/12/2024.",
            "Hội nghị «Tập huấn 1» diễn ra vào Chủ nhật, ngày 22/12/2024.",
        ]
    );
    assert!(
        all.iter()
            .all(|d| d.severity == Severity::Warning && ids(d, ObjectKind::Conference) == vec![1])
    );

    // In Paris, from Thursday 02h00 to Saturday 00h00: Saturday is not covered.
    c.time_zone = "Europe/Paris".to_owned();
    c.starts_at = t("2024-12-19T08:00");
    c.ends_at = t("2024-12-21T06:00");
    assert!(found(&snapshot(vec![c]), Code::Weekend).is_empty());
}

#[test]
fn public_holiday() {
    let official = snapshot(vec![conf(1, "2025-04-29T08:00", "2025-04-30T11:00")]);
    let d = only(&official, Code::PublicHoliday, Severity::Warning);
    assert_eq!(ids(&d, ObjectKind::Conference), vec![1]);
    assert_eq!(
        d.message,
        "Hội nghị «Tập huấn 1» diễn ra vào ngày 30/04/2025, \
         là ngày nghỉ lễ Ngày Chiến thắng 30/4."
    );

    let adjacent = snapshot(vec![conf(1, "2025-09-03T08:00", "2025-09-03T11:00")]);
    let d = only(&adjacent, Code::PublicHoliday, Severity::Warning);
    assert_eq!(
        d.message,
        "Hội nghị «Tập huấn 1» diễn ra vào ngày 03/09/2025, \
         liền kề Quốc khánh 2/9 nên có thể là ngày nghỉ."
    );

    let working = snapshot(vec![conf(1, "2025-04-28T08:00", "2025-04-29T11:00")]);
    assert!(found(&working, Code::PublicHoliday).is_empty());
}

#[test]
fn time_zone_differs_from_hall() {
    let mut c = conf(1, "2024-12-18T08:00", "2024-12-18T11:30");
    c.hall_ids = vec![7];
    c.time_zone = "Asia/Bangkok".to_owned();
    let mut s = snapshot(vec![c]);
    let d = only(&s, Code::TimeZoneDiffersFromHall, Severity::Warning);
    assert_eq!(ids(&d, ObjectKind::Hall), vec![7]);
    assert_eq!(ids(&d, ObjectKind::Conference), vec![1]);
    assert_eq!(
        d.message,
        "Hội nghị «Tập huấn 1» dùng múi giờ Asia/Bangkok nhưng hội trường «Hội trường A» \
         ở múi giờ Asia/Ho_Chi_Minh."
    );

    s.conferences[0].time_zone = "Không phải múi giờ".to_owned();
    assert!(found(&s, Code::TimeZoneDiffersFromHall).is_empty());
}

#[test]
fn focus_keeps_diagnostics_involving_a_focused_conference() {
    let mut s = two_in_hall("2024-12-18T11:00", "2024-12-18T12:00");
    let mut saturday = conf(3, "2024-12-21T08:00", "2024-12-21T11:00");
    saturday.hall_ids = vec![8];
    s.conferences.push(saturday);
    let codes = |focus: &[i64]| -> Vec<(Code, Vec<i64>)> {
        let focus: HashSet<i64> = focus.iter().copied().collect();
        check(&s, Some(&focus))
            .into_iter()
            .map(|d| (d.code, d.conference_ids))
            .collect()
    };
    assert_eq!(codes(&[2]), vec![(Code::HallDoubleBooked, vec![1, 2])]);
    assert_eq!(codes(&[3]), vec![(Code::Weekend, vec![3])]);
    assert_eq!(codes(&[]), vec![]);
    assert_eq!(check(&s, None).len(), 2);
}

#[test]
fn output_is_sorted_and_serialises_with_stable_names() {
    let mut s = two_in_hall("2024-12-18T11:00", "2024-12-18T12:00");
    s.conferences.reverse();
    s.conferences[0].agenda = vec![
        item(21, "2024-12-18T11:30", "2024-12-18T12:00", &[]),
        item(20, "2024-12-18T11:00", "2024-12-18T11:15", &[]),
    ];
    let all = check(&s, None);
    let keys: Vec<(Vec<i64>, &str)> = all
        .iter()
        .map(|d| (d.conference_ids.clone(), d.code.as_str()))
        .collect();
    assert_eq!(
        keys,
        vec![(vec![1, 2], "hall_double_booked"), (vec![2], "agenda_gap"),]
    );
    let json = serde_json::to_value(&all[0]).unwrap();
    assert_eq!(json["severity"], "error");
    assert_eq!(json["code"], "hall_double_booked");
    assert_eq!(
        json["objects"][0],
        serde_json::json!({"kind": "hall", "id": 7})
    );
    assert!(
        all.iter()
            .all(|d| unicode_normalization::is_nfc(&d.message))
    );
}

#[test]
fn times_are_shown_in_the_conference_zone() {
    let mut s = two_in_hall("2024-12-18T11:00", "2024-12-19T12:00");
    s.conferences[1].time_zone = "Europe/Paris".to_owned();
    let d = only(&s, Code::HallDoubleBooked, Severity::Error);
    assert!(
        d.message.ends_with(
            "hội nghị «Tập huấn 2» (từ 05h00 ngày 18/12/2024 đến 06h00 ngày 19/12/2024 \
             (giờ Europe/Paris))."
        ),
        "{}",
        d.message
    );
}

fn brute_force(intervals: &[(DateTime<Utc>, DateTime<Utc>, usize)]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for (i, a) in intervals.iter().enumerate() {
        for b in &intervals[i + 1..] {
            let non_empty = a.0 < a.1 && b.0 < b.1;
            if non_empty && a.0 < b.1 && b.0 < a.1 {
                pairs.push((a.2.min(b.2), a.2.max(b.2)));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

proptest! {
    /// Small ranges make equal starts, touching ends, zero-length and inverted
    /// intervals common.
    #[test]
    fn sweep_finds_the_same_pairs_as_brute_force(
        raw in prop::collection::vec((0i64..40, -2i64..8), 0..60)
    ) {
        let base = t("2024-12-18T08:00");
        let intervals: Vec<_> = raw
            .iter()
            .enumerate()
            .map(|(i, &(start, len))| {
                let start = base + TimeDelta::minutes(start);
                (start, start + TimeDelta::minutes(len), i)
            })
            .collect();
        let mut swept: Vec<(usize, usize)> = overlapping_pairs(&intervals)
            .into_iter()
            .map(|(a, b)| (a.min(b), a.max(b)))
            .collect();
        swept.sort_unstable();
        let reported = swept.len();
        swept.dedup();
        prop_assert_eq!(reported, swept.len(), "a pair was reported twice");
        prop_assert_eq!(swept, brute_force(&intervals));
    }
}

//! Seats, bridge points and quotas of one conference.
use super::*;

/// Who attends where in one conference, indexed once for the attendance checks.
struct Attendance<'a> {
    conf: &'a Conference,
    /// The bridge points each unit is placed in, in the conference's order.
    bridge_points_of_unit: BTreeMap<i64, Vec<&'a BridgePoint>>,
    /// The rules requiring each unit.
    rules_of_unit: HashMap<i64, Vec<&'a AttendanceRule>>,
    /// Delegates counted under each (rule, unit).
    nominated: BTreeMap<(i64, i64), Vec<&'a Delegate>>,
}

impl<'a> Attendance<'a> {
    fn new(conf: &'a Conference) -> Self {
        let mut bridge_points_of_unit: BTreeMap<i64, Vec<&BridgePoint>> = BTreeMap::new();
        for bp in &conf.bridge_points {
            for unit in unique(&bp.unit_ids) {
                bridge_points_of_unit.entry(unit).or_default().push(bp);
            }
        }
        let mut rules_of_unit: HashMap<i64, Vec<&AttendanceRule>> = HashMap::new();
        for rule in &conf.rules {
            for unit in unique(&rule.unit_ids) {
                rules_of_unit.entry(unit).or_default().push(rule);
            }
        }
        let mut nominated: BTreeMap<(i64, i64), Vec<&Delegate>> = BTreeMap::new();
        for d in &conf.delegates {
            // A delegate without a rule counts under the rule requiring its unit, when
            // exactly one does; otherwise we cannot tell which quota it uses.
            let rule = d
                .rule_id
                .or_else(|| match rules_of_unit.get(&d.unit_id)?.as_slice() {
                    [only] => Some(only.id),
                    _ => None,
                });
            if let Some(rule) = rule {
                nominated.entry((rule, d.unit_id)).or_default().push(d);
            }
        }
        Self {
            conf,
            bridge_points_of_unit,
            rules_of_unit,
            nominated,
        }
    }

    /// Whether `unit` is placed in exactly one bridge point, and it is `bp`.
    fn attends_only(&self, unit: i64, bp: i64) -> bool {
        match self.bridge_points_of_unit.get(&unit).map(Vec::as_slice) {
            Some([only]) => only.id == bp,
            _ => false,
        }
    }

    fn has_nominated(&self, rule: i64, unit: i64) -> bool {
        self.nominated.contains_key(&(rule, unit))
    }

    /// The hall a delegate or rule without a hall means: the conference's only hall.
    fn only_hall(&self) -> Option<i64> {
        let halls = unique(&self.conf.hall_ids);
        match halls.len() {
            1 => halls.first().copied(),
            _ => None,
        }
    }

    /// Seats needed in a hall: delegates placed there, plus `quota` seats for each unit a
    /// hall rule requires that has no delegate yet. A rule without a quota reserves none:
    /// the plan gives no number, and guessing one would raise false alarms.
    fn hall_demand(&self, hall: i64) -> Demand {
        let only = self.only_hall();
        let targets = |h: Option<i64>| h.or(only) == Some(hall);
        let seated = self
            .conf
            .delegates
            .iter()
            .filter(|d| d.venue == Venue::Hall && targets(d.hall_id))
            .count();
        let reserved = self
            .conf
            .rules
            .iter()
            .filter(|r| r.venue == Venue::Hall && targets(r.hall_id))
            .map(|r| {
                let waiting = unique(&r.unit_ids)
                    .into_iter()
                    .filter(|&u| !self.has_nominated(r.id, u))
                    .count();
                quota(r) * waiting as i64
            })
            .sum();
        Demand {
            seated: seated as i64,
            reserved,
        }
    }

    /// Seats needed at a bridge point: delegates placed there (or, without a bridge point,
    /// whose unit attends only this one), plus for each attending unit with no delegate
    /// yet the largest quota of the bridge-point rules requiring it (none without a quota,
    /// as for halls).
    fn bridge_point_demand(&self, bp: &BridgePoint) -> Demand {
        let seated = self
            .conf
            .delegates
            .iter()
            .filter(|d| d.venue == Venue::BridgePoint)
            .filter(|d| match d.bridge_point_id {
                Some(id) => id == bp.id,
                None => self.attends_only(d.unit_id, bp.id),
            })
            .count();
        let reserved = unique(&bp.unit_ids)
            .into_iter()
            .map(|unit| {
                self.rules_of_unit
                    .get(&unit)
                    .into_iter()
                    .flatten()
                    .filter(|r| r.venue == Venue::BridgePoint && !self.has_nominated(r.id, unit))
                    .map(|r| quota(r))
                    .max()
                    .unwrap_or(0)
            })
            .sum();
        Demand {
            seated: seated as i64,
            reserved,
        }
    }
}

pub(super) fn quota(rule: &AttendanceRule) -> i64 {
    rule.quota.map_or(0, |q| i64::from(q.max(0)))
}

/// Seats needed: delegates already placed and seats kept for units yet to nominate.
struct Demand {
    seated: i64,
    reserved: i64,
}

impl Demand {
    fn total(&self) -> i64 {
        self.seated + self.reserved
    }

    fn explain(&self) -> String {
        format!(
            "{} đại biểu đã cử và {} chỗ dành cho các đơn vị chưa cử đại biểu",
            self.seated, self.reserved
        )
    }
}

pub(super) fn check_attendance(s: &Scheduled, names: Names, out: &mut Vec<Diagnostic>) {
    let attendance = Attendance::new(s.conf);
    unit_multiple_bridge_points(s, &attendance, names, out);
    unit_unassigned(s, &attendance, names, out);
    hall_over_capacity(s, &attendance, names, out);
    bridge_point_over_capacity(s, &attendance, out);
    unit_over_quota(s, &attendance, names, out);
}

fn unit_multiple_bridge_points(
    s: &Scheduled,
    attendance: &Attendance,
    names: Names,
    out: &mut Vec<Diagnostic>,
) {
    for (&unit, bps) in &attendance.bridge_points_of_unit {
        if bps.len() < 2 {
            continue;
        }
        let listed: Vec<String> = bps.iter().map(|bp| format!("«{}»", bp.name)).collect();
        let message = format!(
            "Đơn vị «{}» được xếp vào {} điểm cầu của hội nghị «{}»: {}.",
            names.unit(unit),
            bps.len(),
            s.conf.title,
            listed.join(", ")
        );
        let mut objects = vec![object(ObjectKind::Unit, unit), s.object_ref()];
        objects.extend(bps.iter().map(|bp| object(ObjectKind::BridgePoint, bp.id)));
        out.push(Diagnostic::new(
            Code::UnitMultipleBridgePoints,
            message,
            &[s.conf.id],
            objects,
        ));
    }
}

fn unit_unassigned(
    s: &Scheduled,
    attendance: &Attendance,
    names: Names,
    out: &mut Vec<Diagnostic>,
) {
    let mut rules_of_unit: BTreeMap<i64, Vec<&AttendanceRule>> = BTreeMap::new();
    for rule in s
        .conf
        .rules
        .iter()
        .filter(|r| r.venue == Venue::BridgePoint)
    {
        for unit in unique(&rule.unit_ids) {
            if !attendance.bridge_points_of_unit.contains_key(&unit) {
                rules_of_unit.entry(unit).or_default().push(rule);
            }
        }
    }
    for (unit, rules) in rules_of_unit {
        let listed: Vec<String> = rules
            .iter()
            .map(|r| format!("«{}»", excerpt(&r.description)))
            .collect();
        let message = format!(
            "Đơn vị «{}» phải dự hội nghị «{}» tại điểm cầu (thành phần {}) \
             nhưng chưa được xếp vào điểm cầu nào.",
            names.unit(unit),
            s.conf.title,
            listed.join(", ")
        );
        let mut objects = vec![object(ObjectKind::Unit, unit), s.object_ref()];
        objects.extend(
            rules
                .iter()
                .map(|r| object(ObjectKind::AttendanceRule, r.id)),
        );
        out.push(Diagnostic::new(
            Code::UnitUnassigned,
            message,
            &[s.conf.id],
            objects,
        ));
    }
}

fn hall_over_capacity(
    s: &Scheduled,
    attendance: &Attendance,
    names: Names,
    out: &mut Vec<Diagnostic>,
) {
    for hall in unique(&s.conf.hall_ids) {
        let Some(capacity) = names.0.halls.get(&hall).and_then(|h| h.capacity) else {
            continue;
        };
        let demand = attendance.hall_demand(hall);
        if demand.total() <= i64::from(capacity) {
            continue;
        }
        let message = format!(
            "Hội trường «{}» có {capacity} chỗ nhưng hội nghị «{}» cần {} chỗ ({}).",
            names.hall(hall),
            s.conf.title,
            demand.total(),
            demand.explain()
        );
        let objects = vec![object(ObjectKind::Hall, hall), s.object_ref()];
        out.push(Diagnostic::new(
            Code::HallOverCapacity,
            message,
            &[s.conf.id],
            objects,
        ));
    }
}

fn bridge_point_over_capacity(s: &Scheduled, attendance: &Attendance, out: &mut Vec<Diagnostic>) {
    for bp in &s.conf.bridge_points {
        let Some(capacity) = bp.capacity else {
            continue;
        };
        let demand = attendance.bridge_point_demand(bp);
        if demand.total() <= i64::from(capacity) {
            continue;
        }
        let message = format!(
            "Điểm cầu «{}» của hội nghị «{}» có {capacity} chỗ nhưng cần {} chỗ ({}).",
            bp.name,
            s.conf.title,
            demand.total(),
            demand.explain()
        );
        let objects = vec![object(ObjectKind::BridgePoint, bp.id), s.object_ref()];
        out.push(Diagnostic::new(
            Code::BridgePointOverCapacity,
            message,
            &[s.conf.id],
            objects,
        ));
    }
}

fn unit_over_quota(
    s: &Scheduled,
    attendance: &Attendance,
    names: Names,
    out: &mut Vec<Diagnostic>,
) {
    let rules: HashMap<i64, &AttendanceRule> = s.conf.rules.iter().map(|r| (r.id, r)).collect();
    for (&(rule_id, unit), delegates) in &attendance.nominated {
        let Some(rule) = rules.get(&rule_id) else {
            continue;
        };
        let Some(quota) = rule.quota else {
            continue;
        };
        if delegates.len() as i64 <= i64::from(quota) {
            continue;
        }
        let message = format!(
            "Đơn vị «{}» cử {} đại biểu dự hội nghị «{}» theo thành phần «{}» \
             nhưng chỉ được cử {quota} người.",
            names.unit(unit),
            delegates.len(),
            s.conf.title,
            excerpt(&rule.description)
        );
        let mut objects = vec![
            object(ObjectKind::Unit, unit),
            object(ObjectKind::AttendanceRule, rule_id),
            s.object_ref(),
        ];
        objects.extend(delegates.iter().map(|d| object(ObjectKind::Delegate, d.id)));
        out.push(Diagnostic::new(
            Code::UnitOverQuota,
            message,
            &[s.conf.id],
            objects,
        ));
    }
}

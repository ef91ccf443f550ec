//! Nominations (cử đại biểu): the units a conference's attendance rules invite, each with
//! its quota ("01 người/đơn vị"), against the delegates the units have named.
//!
//! A delegate counts under its rule (`attendance_rule_id`), or, without one, under the
//! only rule inviting its unit; a unit invited by several rules and a delegate naming none
//! counts against the sum of their quotas. A nomination over its quota is refused
//! ([`check_quota`], inside the delegate's write transaction, whose conference is locked
//! first, so that two nominations side by side cannot both take a unit's last seat).
//! [`of_conference`] lists per invited unit: quota, nominated, missing, bridge points.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::format;
use crate::domain::kinds::{Role, Venue};
use crate::domain::validate::FieldError;
use crate::error::{Error, Result};
use crate::services::auth::Principal;
use crate::services::checks::required_units;
use crate::services::crud;
use crate::services::resources::conference::Conferences;
use crate::services::resources::delegate::DelegateInput;
use crate::store::scope::Scope;
use crate::store::{
    attendance_rule, attendance_rule_unit, bridge_point, bridge_point_unit, delegate, person, unit,
};

/// The rules of `conference_id` that invite unit `u` (it is listed, or it matches the
/// rule's criteria), in the conference's order.
async fn rules_inviting(
    db: &impl ConnectionTrait,
    conference_id: i64,
    u: &unit::Model,
) -> Result<Vec<attendance_rule::Model>> {
    let rules = crate::services::checks::rules_of(db, conference_id).await?;
    if rules.is_empty() {
        return Ok(rules);
    }
    let listed: BTreeSet<i64> = attendance_rule_unit::Entity::find()
        .select_only()
        .column(attendance_rule_unit::Column::AttendanceRuleId)
        .filter(attendance_rule_unit::Column::UnitId.eq(u.id))
        .filter(attendance_rule_unit::Column::AttendanceRuleId.is_in(rules.iter().map(|r| r.id)))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let roots: BTreeSet<i64> = rules.iter().filter_map(|r| r.within_unit_id).collect();
    let root_paths: HashMap<i64, String> = if roots.is_empty() {
        HashMap::new()
    } else {
        unit::Entity::find()
            .select_only()
            .columns([unit::Column::Id, unit::Column::Path])
            .filter(unit::Column::Id.is_in(roots))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(rules
        .into_iter()
        .filter(|r| listed.contains(&r.id) || matches_criteria(r, u, &root_paths))
        .collect())
}

/// Whether `u` matches every criterion of rule `r`, which has at least one (the same test
/// as [`required_units`]'s query).
fn matches_criteria(
    r: &attendance_rule::Model,
    u: &unit::Model,
    root_paths: &HashMap<i64, String>,
) -> bool {
    let has_criteria = r.unit_kind.is_some()
        || r.school_level.is_some()
        || r.area_level.is_some()
        || r.within_unit_id.is_some();
    has_criteria
        && r.unit_kind.is_none_or(|k| u.kind == k)
        && r.school_level.is_none_or(|l| u.school_level == Some(l))
        && r.area_level.is_none_or(|a| u.area_level == Some(a))
        && r.within_unit_id.is_none_or(|w| {
            root_paths
                .get(&w)
                .is_some_and(|root| u.path.starts_with(root.as_str()))
        })
}

/// Refuses a nomination over its quota (422 naming the rule), or under a rule that does
/// not invite the delegate's unit. `existing`: the delegate an update replaces, which
/// does not count against itself. Runs in the write's transaction after its conference is
/// locked; `input` is checked already (its references exist).
pub async fn check_quota(
    db: &impl ConnectionTrait,
    input: &DelegateInput,
    existing: Option<&delegate::Model>,
) -> Result<()> {
    let Some(u) = unit::Entity::find_by_id(input.unit_id).one(db).await? else {
        return Ok(());
    };
    let rules = rules_inviting(db, input.conference_id, &u).await?;
    let rule = match input.attendance_rule_id {
        Some(id) => match rules.iter().find(|r| r.id == id) {
            Some(r) => Some(r),
            None => {
                let Some(r) = attendance_rule::Entity::find_by_id(id).one(db).await? else {
                    return Ok(());
                };
                return Err(Error::Validation(vec![FieldError::new(
                    "attendance_rule_id",
                    "unit_not_invited",
                    format!(
                        "Thành phần tham dự «{}» (mã {id}) không mời đơn vị «{}».",
                        excerpt(&r.description),
                        u.name
                    ),
                )]));
            }
        },
        None => match rules.as_slice() {
            [] => return Ok(()),
            [only] => Some(only),
            _ => None,
        },
    };
    // The unit's other delegates in this conference.
    let mut q = delegate::Entity::find()
        .select_only()
        .column(delegate::Column::AttendanceRuleId)
        .filter(delegate::Column::ConferenceId.eq(input.conference_id))
        .filter(delegate::Column::UnitId.eq(u.id));
    if let Some(e) = existing {
        q = q.filter(delegate::Column::Id.ne(e.id));
    }
    let others: Vec<Option<i64>> = q.into_tuple().all(db).await?;
    let over = match rule {
        Some(r) => {
            let Some(quota) = r.quota else {
                return Ok(());
            };
            let only = rules.len() == 1;
            let counted = others
                .iter()
                .filter(|o| **o == Some(r.id) || (o.is_none() && only))
                .count();
            (counted >= quota.max(0) as usize).then(|| {
                format!(
                    "Đơn vị «{}» đã cử đủ {} theo thành phần tham dự «{}» (mã {}): \
                     không thể cử thêm đại biểu.",
                    u.name,
                    format::quota(quota.max(0) as u64, "người", "đơn vị"),
                    excerpt(&r.description),
                    r.id
                )
            })
        }
        None => {
            // Several rules invite the unit and the delegate names none: the sum of their
            // quotas, when each has one.
            let quotas: Option<Vec<i32>> = rules.iter().map(|r| r.quota).collect();
            let Some(quotas) = quotas else {
                return Ok(());
            };
            let total: i64 = quotas.iter().map(|q| i64::from((*q).max(0))).sum();
            (others.len() as i64 >= total).then(|| {
                let names: Vec<String> = rules
                    .iter()
                    .map(|r| format!("«{}» (mã {})", excerpt(&r.description), r.id))
                    .collect();
                format!(
                    "Đơn vị «{}» đã cử đủ {total:02} người theo các thành phần tham dự {}: \
                     không thể cử thêm đại biểu.",
                    u.name,
                    names.join(", ")
                )
            })
        }
    };
    match over {
        Some(message) => {
            tracing::info!(
                conference_id = input.conference_id,
                unit_id = u.id,
                rule_id = rule.map(|r| r.id),
                "nomination refused: the unit's quota is full"
            );
            Err(Error::Validation(vec![FieldError::new(
                "attendance_rule_id",
                "over_quota",
                message,
            )]))
        }
        None => Ok(()),
    }
}

/// The first line of a rule's text, cut at 80 characters.
fn excerpt(s: &str) -> String {
    crate::domain::checks::excerpt(s)
}

/// How far a unit is with its nominations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NominationStatus {
    /// Nobody named yet (chưa cử đại biểu).
    NotNominated,
    /// Fewer than the quota (chưa cử đủ).
    Partial,
    /// The quota reached, or someone named where the rules give no number (đã cử).
    Complete,
    /// More than the quota (vượt số lượng).
    Over,
}

impl NominationStatus {
    /// In Vietnamese, as the report shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotNominated => "Chưa cử đại biểu",
            Self::Partial => "Chưa cử đủ",
            Self::Complete => "Đã cử đủ",
            Self::Over => "Vượt số lượng",
        }
    }

    fn of(quota: Option<i64>, nominated: i64) -> Self {
        match quota {
            _ if nominated == 0 => Self::NotNominated,
            Some(q) if nominated < q => Self::Partial,
            Some(q) if nominated > q => Self::Over,
            _ => Self::Complete,
        }
    }
}

/// A rule inviting a unit.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct InvitingRule {
    pub id: i64,
    pub position: i32,
    /// The first line of its text.
    pub description: String,
    pub quota: Option<i32>,
    pub venue: Venue,
}

/// A bridge point a unit attends.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PointRef {
    pub id: i64,
    pub name: String,
}

/// A delegate a unit named.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Nominee {
    pub delegate_id: i64,
    pub person_id: i64,
    pub full_name: String,
    pub venue: Venue,
    pub bridge_point_id: Option<i64>,
    pub attendance_rule_id: Option<i64>,
}

/// One invited unit's nominations.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UnitNominations {
    pub unit_id: i64,
    pub unit_name: String,
    /// The rules inviting it, in the conference's order.
    pub rules: Vec<InvitingRule>,
    /// Delegates it may send: the sum of its rules' quotas; none when a rule gives no
    /// number ("đại diện lãnh đạo").
    pub quota: Option<i64>,
    pub nominated: i64,
    /// Still to name: `quota − nominated` (never below 0); with no quota, 1 until someone
    /// is named.
    pub missing: i64,
    pub status: NominationStatus,
    /// `status` in Vietnamese (`Chưa cử đại biểu`).
    pub status_label: String,
    /// The bridge points it attends in this conference.
    pub bridge_points: Vec<PointRef>,
    pub delegates: Vec<Nominee>,
}

/// Sums over the listed units.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct NominationTotals {
    pub units: i64,
    /// Units that have named nobody.
    pub units_not_nominated: i64,
    pub nominated: i64,
    pub missing: i64,
}

/// `GET /api/v1/conferences/{id}/nominations`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Nominations {
    pub conference_id: i64,
    pub totals: NominationTotals,
    pub units: Vec<UnitNominations>,
}

/// What the list is narrowed to.
#[derive(Clone, Debug, Default)]
pub struct NominationFilter {
    /// Units in this unit's area (its subtree and the units located there).
    pub district: Option<i64>,
    pub status: Option<NominationStatus>,
}

impl NominationFilter {
    /// From the query string: `district=ID`, `status=not_nominated|partial|complete|over`.
    pub fn parse(query: &[(String, String)]) -> Result<Self> {
        let mut f = Self::default();
        let mut errors = Vec::new();
        for (name, value) in query {
            match name.as_str() {
                "district" => match value.parse::<i64>() {
                    Ok(id) => f.district = Some(id),
                    Err(_) => errors.push(FieldError::new(
                        name,
                        "invalid_id",
                        "Tham số «district» phải là mã số của một đơn vị.",
                    )),
                },
                "status" => match serde_json::from_value(serde_json::json!(value)) {
                    Ok(s) => f.status = Some(s),
                    Err(_) => errors.push(FieldError::new(
                        name,
                        "invalid_value",
                        format!(
                            "Giá trị «{value}» của tham số «status» không hợp lệ; dùng: \
                             not_nominated, partial, complete, over."
                        ),
                    )),
                },
                other => errors.push(FieldError::new(
                    other,
                    "unknown_parameter",
                    format!("Tham số «{other}» không dùng được ở đây; dùng: district, status."),
                )),
            }
        }
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(Error::Validation(errors))
        }
    }
}

/// The nominations of conference `id` per invited unit, in the order of the rules that
/// first invite them, then by name; a district office sees the units in its area.
pub async fn of_conference(
    db: &impl ConnectionTrait,
    p: &Principal,
    id: i64,
    filter: &NominationFilter,
) -> Result<Nominations> {
    let c = crud::find::<Conferences>(db, id).await?;
    crud::authorize_read::<Conferences>(db, p, &c).await?;
    let rules = crate::services::checks::rules_of(db, id).await?;
    // unit → the indexes of the rules inviting it.
    let mut invited: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, r) in rules.iter().enumerate() {
        for u in required_units(db, r).await? {
            invited.entry(u).or_default().push(i);
        }
    }
    let mut allowed: Option<BTreeSet<i64>> = None;
    let mut narrow = |ids: BTreeSet<i64>| {
        allowed = Some(match allowed.take() {
            Some(a) => a.intersection(&ids).copied().collect(),
            None => ids,
        });
    };
    if p.role == Role::DistrictOffice {
        narrow(in_scope(db, &p.scope).await?);
    }
    if let Some(d) = filter.district {
        let area = Scope::of_area(db, d).await?;
        if area.is_empty() {
            return Err(Error::Validation(vec![FieldError::new(
                "district",
                "not_found",
                format!("Không có đơn vị mã {d}."),
            )]));
        }
        narrow(in_scope(db, &area).await?);
    }
    if let Some(a) = &allowed {
        invited.retain(|u, _| a.contains(u));
    }

    let unit_ids: Vec<i64> = invited.keys().copied().collect();
    let names =
        crate::services::exports::unit_names(db, &invited.keys().copied().collect()).await?;
    let mut delegates: Vec<delegate::Model> = Vec::new();
    let mut points_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for chunk in unit_ids.chunks(500) {
        delegates.extend(
            delegate::Entity::find()
                .filter(delegate::Column::ConferenceId.eq(id))
                .filter(delegate::Column::UnitId.is_in(chunk.iter().copied()))
                .order_by_asc(delegate::Column::Id)
                .all(db)
                .await?,
        );
    }
    let points: BTreeMap<i64, bridge_point::Model> = bridge_point::Entity::find()
        .filter(bridge_point::Column::ConferenceId.eq(id))
        .order_by_asc(bridge_point::Column::Position)
        .order_by_asc(bridge_point::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    let point_ids: Vec<i64> = points.keys().copied().collect();
    let attending = crate::services::links::load::<bridge_point_unit::Entity>(
        db,
        bridge_point_unit::Column::BridgePointId,
        bridge_point_unit::Column::UnitId,
        &point_ids,
    )
    .await?;
    for (b, units) in attending {
        for u in units {
            points_of.entry(u).or_default().push(b);
        }
    }
    let person_ids: BTreeSet<i64> = delegates.iter().map(|d| d.person_id).collect();
    let mut people: HashMap<i64, String> = HashMap::with_capacity(person_ids.len());
    let person_ids: Vec<i64> = person_ids.into_iter().collect();
    for chunk in person_ids.chunks(500) {
        people.extend(
            person::Entity::find()
                .select_only()
                .columns([person::Column::Id, person::Column::FullName])
                .filter(person::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple::<(i64, String)>()
                .all(db)
                .await?,
        );
    }
    let mut of_unit: HashMap<i64, Vec<Nominee>> = HashMap::new();
    for d in delegates {
        of_unit.entry(d.unit_id).or_default().push(Nominee {
            delegate_id: d.id,
            person_id: d.person_id,
            full_name: people.get(&d.person_id).cloned().unwrap_or_default(),
            venue: d.venue,
            bridge_point_id: d.bridge_point_id,
            attendance_rule_id: d.attendance_rule_id,
        });
    }

    let mut units: Vec<UnitNominations> = invited
        .into_iter()
        .map(|(unit_id, idx)| {
            let rules: Vec<InvitingRule> = idx
                .iter()
                .map(|&i| InvitingRule {
                    id: rules[i].id,
                    position: rules[i].position,
                    description: excerpt(&rules[i].description),
                    quota: rules[i].quota,
                    venue: rules[i].venue,
                })
                .collect();
            let quota: Option<i64> = rules.iter().map(|r| r.quota.map(i64::from)).sum();
            let delegates = of_unit.remove(&unit_id).unwrap_or_default();
            let nominated = delegates.len() as i64;
            let missing = match quota {
                Some(q) => (q - nominated).max(0),
                None => i64::from(nominated == 0),
            };
            let status = NominationStatus::of(quota, nominated);
            let mut bridge_points: Vec<&bridge_point::Model> = points_of
                .get(&unit_id)
                .into_iter()
                .flatten()
                .filter_map(|b| points.get(b))
                .collect();
            bridge_points.sort_by_key(|b| (b.position, b.id));
            UnitNominations {
                unit_id,
                unit_name: names.get(&unit_id).cloned().unwrap_or_default(),
                rules,
                quota,
                nominated,
                missing,
                status,
                status_label: status.label().to_owned(),
                bridge_points: bridge_points
                    .into_iter()
                    .map(|b| PointRef {
                        id: b.id,
                        name: b.name.clone(),
                    })
                    .collect(),
                delegates,
            }
        })
        .filter(|u| filter.status.is_none_or(|s| u.status == s))
        .collect();
    units.sort_by_cached_key(|u| {
        (
            u.rules.first().map(|r| (r.position, r.id)),
            crate::domain::text::fold(&u.unit_name),
            u.unit_id,
        )
    });
    let mut totals = NominationTotals::default();
    for u in &units {
        totals.units += 1;
        totals.units_not_nominated += i64::from(u.status == NominationStatus::NotNominated);
        totals.nominated += u.nominated;
        totals.missing += u.missing;
    }
    Ok(Nominations {
        conference_id: id,
        totals,
        units,
    })
}

/// Who may change which units attend a conference where, and who its delegates are: the
/// organiser's department staff, or a district office (within its area, which
/// [`placeable`] gives). Checked before the write's transaction; 403 otherwise.
pub(crate) async fn authorize_area_write(
    db: &impl ConnectionTrait,
    p: &Principal,
    conference_id: i64,
) -> Result<()> {
    let c = crud::find::<Conferences>(db, conference_id).await?;
    if p.role != Role::DistrictOffice {
        crud::authorize_write::<Conferences>(db, p, &[c.organiser_unit_id]).await?;
    }
    Ok(())
}

/// The units the caller may place: a district office's area (read in the write's
/// transaction), or `None` for any.
pub(crate) async fn placeable(
    db: &impl ConnectionTrait,
    p: &Principal,
) -> Result<Option<BTreeSet<i64>>> {
    if p.role == Role::DistrictOffice {
        Ok(Some(in_scope(db, &p.scope).await?))
    } else {
        Ok(None)
    }
}

/// The ids of every unit in `scope`.
pub(crate) async fn in_scope(db: &impl ConnectionTrait, scope: &Scope) -> Result<BTreeSet<i64>> {
    if scope.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(unit::Entity::find()
        .select_only()
        .column(unit::Column::Id)
        .filter(unit::Column::Id.in_subquery(scope.unit_ids_query()))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::NominationStatus as S;

    #[test]
    fn a_unit_s_status_follows_its_quota() {
        assert_eq!(S::of(Some(1), 0), S::NotNominated);
        assert_eq!(S::of(None, 0), S::NotNominated);
        assert_eq!(S::of(Some(2), 1), S::Partial);
        assert_eq!(S::of(Some(1), 1), S::Complete);
        assert_eq!(S::of(None, 3), S::Complete);
        assert_eq!(S::of(Some(1), 2), S::Over);
        assert_eq!(S::NotNominated.label(), "Chưa cử đại biểu");
    }
}

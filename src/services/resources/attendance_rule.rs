//! Attendance rules (thành phần tham dự): which units, how many each, where.
use sea_orm::{ConnectionTrait, NotSet, Select, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{id_key, organiser_of};
use crate::domain::kinds::{AreaLevel, Role, SchoolLevel, UnitKind, Venue};
use crate::domain::validate::{FieldError, Validator};
use crate::error::Result;
use crate::services::crud::{Filter, Resource, filter_id, unknown_filter};
use crate::services::links::{self, check_ref, check_refs, dedup};
use crate::store::{attendance_rule, attendance_rule_unit, conference, hall, unit};

/// Create or replace an attendance rule. Units are chosen by the explicit `unit_ids`
/// and/or by kind, school level, area level and subtree.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceRuleInput {
    pub conference_id: i64,
    #[serde(default)]
    pub position: i32,
    /// The composition line as the plan writes it.
    pub description: String,
    pub venue: Venue,
    /// The hall, for `venue = hall`.
    #[serde(default)]
    pub hall_id: Option<i64>,
    /// Delegates per unit (`01 người/đơn vị` is 1); absent when the plan gives no number.
    #[serde(default)]
    pub quota: Option<i32>,
    #[serde(default)]
    pub unit_kind: Option<UnitKind>,
    #[serde(default)]
    pub school_level: Option<SchoolLevel>,
    #[serde(default)]
    pub area_level: Option<AreaLevel>,
    /// Only units in the subtree of this unit.
    #[serde(default)]
    pub within_unit_id: Option<i64>,
    #[serde(default)]
    pub unit_ids: Vec<i64>,
}

/// An attendance rule with its explicit units.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceRuleOutput {
    #[serde(flatten)]
    pub rule: attendance_rule::Model,
    pub unit_ids: Vec<i64>,
}

/// Attendance rules.
pub struct AttendanceRules;

impl Resource for AttendanceRules {
    type Entity = attendance_rule::Entity;
    type Input = AttendanceRuleInput;
    type Output = AttendanceRuleOutput;
    const NAME: &'static str = "attendance_rule";
    const ORDER: &'static [&'static str] = &["conference_id", "position", "id"];
    const PATH: &'static str = "attendance-rules";
    const LABEL: &'static str = "thành phần tham dự";
    const FILTERS: &'static [Filter] = &[Filter {
        name: "conference",
        description: "rules of this conference id",
    }];

    id_key!(attendance_rule);

    fn conference_of(m: &crate::store::attendance_rule::Model) -> Option<i64> {
        Some(m.conference_id)
    }

    fn conference_of_input(i: &AttendanceRuleInput) -> Option<i64> {
        Some(i.conference_id)
    }

    async fn touched(
        _db: &impl ConnectionTrait,
        m: &crate::store::attendance_rule::Model,
    ) -> Result<crate::services::ledger::Touched> {
        Ok(crate::services::ledger::Touched::Conferences(vec![
            m.conference_id,
        ]))
    }

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut AttendanceRuleInput,
        v: &mut Validator,
        _: Option<&attendance_rule::Model>,
    ) -> Result<()> {
        v.text("description", &mut i.description);
        v.opt_at_least("quota", i.quota, 1);
        if i.venue != Venue::Hall && i.hall_id.is_some() {
            v.error(
                "hall_id",
                "hall_without_hall_venue",
                "Chỉ thành phần dự tại hội trường (venue = hall) mới có hội trường.",
            );
        }
        if i.school_level.is_some() && i.unit_kind.is_some_and(|k| k != UnitKind::School) {
            v.error(
                "school_level",
                "not_a_school",
                "Cấp học chỉ dùng cho cơ sở giáo dục (unit_kind = school).",
            );
        }
        dedup(&mut i.unit_ids);
        check_ref::<conference::Entity>(
            db,
            v,
            "conference_id",
            conference::Column::Id,
            Some(i.conference_id),
            "hội nghị",
        )
        .await?;
        check_ref::<hall::Entity>(db, v, "hall_id", hall::Column::Id, i.hall_id, "hội trường")
            .await?;
        check_ref::<unit::Entity>(
            db,
            v,
            "within_unit_id",
            unit::Column::Id,
            i.within_unit_id,
            "đơn vị",
        )
        .await?;
        check_refs::<unit::Entity>(
            db,
            v,
            "unit_ids",
            unit::Column::Id,
            &i.unit_ids,
            "đơn vị",
            true,
        )
        .await
    }

    fn active(i: &AttendanceRuleInput, now: chrono::NaiveDateTime) -> attendance_rule::ActiveModel {
        attendance_rule::ActiveModel {
            id: NotSet,
            conference_id: Set(i.conference_id),
            position: Set(i.position),
            description: Set(i.description.clone()),
            venue: Set(i.venue),
            hall_id: Set(i.hall_id),
            quota: Set(i.quota),
            unit_kind: Set(i.unit_kind),
            school_level: Set(i.school_level),
            area_level: Set(i.area_level),
            within_unit_id: Set(i.within_unit_id),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }

    async fn after_write(
        db: &impl ConnectionTrait,
        m: attendance_rule::Model,
        i: &AttendanceRuleInput,
        _previous: Option<&attendance_rule::Model>,
    ) -> Result<attendance_rule::Model> {
        links::replace::<attendance_rule_unit::Entity, _>(
            db,
            attendance_rule_unit::Column::AttendanceRuleId,
            m.id,
            &i.unit_ids,
            |u| attendance_rule_unit::ActiveModel {
                attendance_rule_id: Set(m.id),
                unit_id: Set(u),
            },
        )
        .await?;
        Ok(m)
    }

    async fn outputs(
        db: &impl ConnectionTrait,
        models: Vec<attendance_rule::Model>,
    ) -> Result<Vec<AttendanceRuleOutput>> {
        let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
        let mut units = links::load::<attendance_rule_unit::Entity>(
            db,
            attendance_rule_unit::Column::AttendanceRuleId,
            attendance_rule_unit::Column::UnitId,
            &ids,
        )
        .await?;
        Ok(models
            .into_iter()
            .map(|rule| AttendanceRuleOutput {
                unit_ids: units.remove(&rule.id).unwrap_or_default(),
                rule,
            })
            .collect())
    }

    fn filter(
        sel: Select<attendance_rule::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<attendance_rule::Entity>, FieldError> {
        match name {
            "conference" => filter_id(sel, attendance_rule::Column::ConferenceId, name, value),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    async fn owners_of_input(
        db: &impl ConnectionTrait,
        _role: Role,
        i: &AttendanceRuleInput,
    ) -> Result<Vec<i64>> {
        organiser_of(db, i.conference_id).await
    }

    async fn owners_of_model(
        db: &impl ConnectionTrait,
        _role: Role,
        m: &attendance_rule::Model,
    ) -> Result<Vec<i64>> {
        organiser_of(db, m.conference_id).await
    }
}

//! Rows of a plan's task-assignment table: content, lead unit, supporting units, period.
use sea_orm::{ConnectionTrait, NotSet, Select, Set};
use serde::Deserialize;
use utoipa::ToSchema;

use super::id_key;
use super::plan::issuer_of;
use crate::domain::kinds::Role;
use crate::domain::validate::{FieldError, Validator};
use crate::error::Result;
use crate::services::crud::{Filter, Resource, filter_id, unknown_filter};
use crate::services::links::{check_ref, check_refs, dedup};
use crate::store::{plan, plan_task, unit};

/// Create or replace a task row.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanTaskInput {
    pub plan_id: i64,
    /// Order in the table.
    #[serde(default)]
    pub position: i32,
    /// The table or group the row belongs to.
    #[serde(default)]
    pub group_title: Option<String>,
    pub content: String,
    /// The lead unit (chủ trì), when it is a unit hoinghi knows.
    #[serde(default)]
    pub lead_unit_id: Option<i64>,
    /// The lead as the plan writes it.
    #[serde(default)]
    pub lead_text: Option<String>,
    /// Supporting units (phối hợp) hoinghi knows.
    #[serde(default)]
    pub supporting_unit_ids: Vec<i64>,
    /// Supporting units as the plan writes them.
    #[serde(default)]
    pub supporting_text: Option<String>,
    /// `Cả năm 2022`, `Trong quý I năm 2022`, …
    #[serde(default)]
    pub period: Option<String>,
}

/// Task rows of plans.
pub struct PlanTasks;

impl Resource for PlanTasks {
    type Entity = plan_task::Entity;
    type Input = PlanTaskInput;
    type Output = plan_task::Model;
    const NAME: &'static str = "plan_task";
    const ORDER: &'static [&'static str] = &["plan_id", "position", "id"];
    const PATH: &'static str = "plan-tasks";
    const LABEL: &'static str = "nhiệm vụ";
    const FILTERS: &'static [Filter] = &[
        Filter {
            name: "plan",
            description: "tasks of this plan id",
        },
        Filter {
            name: "lead_unit",
            description: "tasks led by this unit id",
        },
    ];

    id_key!(plan_task);

    async fn touched(
        _db: &impl ConnectionTrait,
        _m: &crate::store::plan_task::Model,
    ) -> Result<crate::services::ledger::Touched> {
        Ok(crate::services::ledger::Touched::Nothing)
    }

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut PlanTaskInput,
        v: &mut Validator,
        _: Option<&plan_task::Model>,
    ) -> Result<()> {
        v.opt_name("group_title", &mut i.group_title);
        v.text("content", &mut i.content);
        v.opt_text("lead_text", &mut i.lead_text);
        v.opt_text("supporting_text", &mut i.supporting_text);
        v.opt_name("period", &mut i.period);
        if i.lead_unit_id.is_none() && i.lead_text.is_none() {
            v.error(
                "lead_text",
                "required",
                "Cần cho biết đơn vị chủ trì (lead_unit_id hoặc lead_text).",
            );
        }
        dedup(&mut i.supporting_unit_ids);
        check_ref::<plan::Entity>(
            db,
            v,
            "plan_id",
            plan::Column::Id,
            Some(i.plan_id),
            "kế hoạch",
        )
        .await?;
        check_ref::<unit::Entity>(
            db,
            v,
            "lead_unit_id",
            unit::Column::Id,
            i.lead_unit_id,
            "đơn vị",
        )
        .await?;
        check_refs::<unit::Entity>(
            db,
            v,
            "supporting_unit_ids",
            unit::Column::Id,
            &i.supporting_unit_ids,
            "đơn vị",
            true,
        )
        .await
    }

    fn active(i: &PlanTaskInput, now: chrono::NaiveDateTime) -> plan_task::ActiveModel {
        plan_task::ActiveModel {
            id: NotSet,
            plan_id: Set(i.plan_id),
            position: Set(i.position),
            group_title: Set(i.group_title.clone()),
            content: Set(i.content.clone()),
            lead_unit_id: Set(i.lead_unit_id),
            lead_text: Set(i.lead_text.clone()),
            supporting_unit_ids: Set(serde_json::Value::from(i.supporting_unit_ids.clone())),
            supporting_text: Set(i.supporting_text.clone()),
            period: Set(i.period.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }

    async fn outputs(
        _db: &impl ConnectionTrait,
        models: Vec<plan_task::Model>,
    ) -> Result<Vec<plan_task::Model>> {
        Ok(models)
    }

    fn filter(
        sel: Select<plan_task::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<plan_task::Entity>, FieldError> {
        match name {
            "plan" => filter_id(sel, plan_task::Column::PlanId, name, value),
            "lead_unit" => filter_id(sel, plan_task::Column::LeadUnitId, name, value),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    async fn owners_of_input(
        db: &impl ConnectionTrait,
        _role: Role,
        i: &PlanTaskInput,
    ) -> Result<Vec<i64>> {
        issuer_of(db, i.plan_id).await
    }

    async fn owners_of_model(
        db: &impl ConnectionTrait,
        _role: Role,
        m: &plan_task::Model,
    ) -> Result<Vec<i64>> {
        issuer_of(db, m.plan_id).await
    }
}

//! A row of a plan's task-assignment table (phân công thực hiện).
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// A row of a plan's task-assignment table (phân công thực hiện).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "plan_task")]
#[schema(as = PlanTask)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub position: i32,
    pub group_title: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub lead_unit_id: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub lead_text: Option<String>,
    #[schema(value_type = Object)]
    #[sea_orm(column_type = "JsonBinary")]
    pub supporting_unit_ids: Json,
    #[sea_orm(column_type = "Text", nullable)]
    pub supporting_text: Option<String>,
    pub period: Option<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! One training conference.
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// One training conference.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "conference")]
#[schema(as = Conference)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: Option<i64>,
    pub organiser_unit_id: i64,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub summary: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTimeUtc,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTimeUtc,
    pub time_zone: String,
    pub mode: ConferenceMode,
    pub status: ConferenceStatus,
    /// iTIP SEQUENCE: grows with every change delegates must hear about.
    pub sequence: i32,
    pub join_url: Option<String>,
    pub join_passcode: Option<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

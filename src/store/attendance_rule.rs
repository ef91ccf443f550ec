//! Who is invited (thành phần tham dự): which units, how many each, where.
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// Who is invited (thành phần tham dự): which units, how many each, where.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "attendance_rule")]
#[schema(as = AttendanceRule)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conference_id: i64,
    pub position: i32,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub venue: Venue,
    pub hall_id: Option<i64>,
    /// Delegates per unit ("01 người/đơn vị"); none when the plan gives no number.
    pub quota: Option<i32>,
    pub unit_kind: Option<UnitKind>,
    pub school_level: Option<SchoolLevel>,
    pub area_level: Option<AreaLevel>,
    pub within_unit_id: Option<i64>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

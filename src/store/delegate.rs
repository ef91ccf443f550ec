//! A person invited to a conference, for a unit, at a hall or a bridge point.
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// A person invited to a conference, for a unit, at a hall or a bridge point.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "delegate")]
#[schema(as = Delegate)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conference_id: i64,
    pub person_id: i64,
    pub unit_id: i64,
    pub attendance_rule_id: Option<i64>,
    pub venue: Venue,
    pub hall_id: Option<i64>,
    pub bridge_point_id: Option<i64>,
    pub role: DelegateRole,
    pub reply: Reply,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

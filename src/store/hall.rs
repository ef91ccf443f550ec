//! An in-person room with its address and capacity.
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// An in-person room with its address and capacity.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "hall")]
#[schema(as = Hall)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: Option<i64>,
    pub name: String,
    pub address: Option<String>,
    pub capacity: Option<i32>,
    pub time_zone: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

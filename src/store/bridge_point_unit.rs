//! A unit attending at a bridge point.
use sea_orm::entity::prelude::*;

/// A unit attending at a bridge point.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bridge_point_unit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bridge_point_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A unit an attendance rule names explicitly.
use sea_orm::entity::prelude::*;

/// A unit an attendance rule names explicitly.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attendance_rule_unit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub attendance_rule_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

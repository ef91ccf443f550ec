//! A hall of a conference.
use sea_orm::entity::prelude::*;

/// A hall of a conference.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conference_hall")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conference_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub hall_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

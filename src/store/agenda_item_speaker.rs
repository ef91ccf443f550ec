//! A speaker of an agenda item.
use sea_orm::entity::prelude::*;

/// A speaker of an agenda item.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agenda_item_speaker")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agenda_item_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub speaker_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

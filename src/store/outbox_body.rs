//! The whole message of an outbox row, as it goes on the wire (a retry sends the very
//! same bytes); apart from the row, which changes state as it is sent.
use sea_orm::entity::prelude::*;

/// The whole message of an outbox row, as it goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_body")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub outbox_id: i64,
    #[sea_orm(column_type = "Blob")]
    pub raw: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A conference whose sent invitations may be out of date: written in the transaction of
//! the change, consumed by `services::invitations::sync_due` after the coalescing window.
use sea_orm::entity::prelude::*;

/// A conference marked for a sync since `marked_ms`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation_sync")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conference_id: i64,
    /// The first change not yet synced, in epoch milliseconds.
    pub marked_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

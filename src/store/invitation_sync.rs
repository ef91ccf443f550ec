//! A conference whose sent invitations may be out of date: written in the transaction of
//! the change, consumed by `services::invitations::sync_due` after the coalescing window.
use sea_orm::entity::prelude::*;

/// A conference marked for a sync since `marked_ms`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation_sync")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conference_id: i64,
    /// The first change not yet synced, in epoch milliseconds; while a sync holds the
    /// mark (`claimed_by`), the last time it enqueued a batch.
    pub marked_ms: i64,
    /// The token of the sync enqueueing this conference's messages in batches, until a
    /// change marks the conference again (then the next sync does the rest).
    pub claimed_by: Option<String>,
    /// A send was asked and is not all enqueued: the next sync sends, even a first time.
    pub send_asked: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! Schema migrations of hoinghi. Never edit a migration that has landed; add a new one.
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261123_000002_list_indexes;
mod m20261123_000003_outbox;
mod m20261123_000004_invitation_ledger;
mod m20261202_000005_outbox_body;
mod m20261202_000006_sync_claim;

/// Applies hoinghi's migrations in order.
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261123_000002_list_indexes::Migration),
            Box::new(m20261123_000003_outbox::Migration),
            Box::new(m20261123_000004_invitation_ledger::Migration),
            Box::new(m20261202_000005_outbox_body::Migration),
            Box::new(m20261202_000006_sync_claim::Migration),
        ]
    }
}

//! A sync of a large conference enqueues its messages in batches, each committed with the
//! ledger rows of its recipients, so that the outbox worker starts on the first while the
//! rest are built. Its mark (`invitation_sync`) says who is doing it:
//!
//! - `claimed_by`: the running sync's random token; `marked_ms` is then its heartbeat,
//!   refreshed by each batch. A change marking the conference meanwhile clears it, and
//!   the sync stops at its next batch: the next sync does the rest from the ledger.
//! - `send_asked`: someone asked to send the invitations and not all are enqueued yet, so
//!   the sync that takes the mark over sends them although nothing may be in the ledger
//!   (a sync after mere changes leaves unsent invitations alone).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000006_sync_claim"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table("invitation_sync")
                .add_column(string_null("claimed_by"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("invitation_sync")
                .add_column(boolean("send_asked").default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["send_asked", "claimed_by"] {
            m.alter_table(
                Table::alter()
                    .table("invitation_sync")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

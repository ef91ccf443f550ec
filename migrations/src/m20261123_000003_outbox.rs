//! The outbox: every e-mail hoinghi sends is first a row here, written in the same
//! transaction as the change that causes it, then sent by a worker (`services::outbox`).
//!
//! - `message_id` is unique: enqueueing the same message twice (a retried request, two
//!   instances) adds nothing.
//! - `due_ms` and `lease_until_ms` are epoch milliseconds, so that the worker's claim
//!   compares integers alike on SQLite and PostgreSQL.
//! - `raw` is the whole RFC 5322 message, as it goes on the wire: a retry sends the very
//!   same bytes.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000003_outbox"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut outbox = table_auto("outbox")
            .col(big_pk_auto("id"))
            .col(string("message_id"))
            .col(big_integer_null("conference_id"))
            .col(big_integer_null("unit_id"))
            .col(big_integer_null("delegate_id"))
            .col(string_len("kind", 32))
            .col(string_len_null("method", 16))
            .col(integer("sequence"))
            .col(string("sender"))
            .col(string("recipient"))
            .col(text("subject"))
            .col(blob("raw"))
            .col(string_len("state", 16))
            .col(integer("attempts"))
            .col(big_integer("due_ms"))
            .col(big_integer_null("lease_until_ms"))
            .col(text_null("last_error"))
            .col(timestamp_with_time_zone_null("sent_at"))
            .take();
        outbox.foreign_key(
            ForeignKey::create()
                .name("fk_outbox_conference_id")
                .from("outbox", "conference_id")
                .to("conference", "id")
                .on_delete(ForeignKeyAction::SetNull),
        );
        m.create_table(outbox).await?;
        m.create_index(
            Index::create()
                .name("ix_outbox_message_id")
                .table("outbox")
                .col("message_id")
                .unique()
                .take(),
        )
        .await?;
        // The worker's claim: due pending rows in id order, and expired leases.
        m.create_index(
            Index::create()
                .name("ix_outbox_state_due_ms")
                .table("outbox")
                .col("state")
                .col("due_ms")
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outbox_conference_id_state")
                .table("outbox")
                .col("conference_id")
                .col("state")
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("outbox").to_owned()).await
    }
}

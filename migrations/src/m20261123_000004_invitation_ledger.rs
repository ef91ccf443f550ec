//! What each recipient's calendar holds, so that a change reaches exactly those it
//! affects (`services::invitations::sync`), their replies, and calendar feeds.
//!
//! - `invitation`: one row per iTIP UID sent (a delegate, a unit asked to nominate, a
//!   bridge point's technical contact): the last SEQUENCE and METHOD sent, a fingerprint
//!   of what it said, the recipient and place (a cancellation after the delegate's row is
//!   gone still needs them), the reply recorded through its RSVP link. `delegate_id`,
//!   `unit_id` and `bridge_point_id` carry no foreign key on purpose: the row outlives
//!   them, to send their cancellation.
//! - `invitation_sync`: a conference whose invitations may be out of date since
//!   `marked_ms` (epoch ms), written in the transaction of the change; the sync runs once
//!   the coalescing window has passed.
//! - `calendar_feed`: a subscription URL (`/ical/{token}.ics`) for a person, a unit or a
//!   conference; only the SHA-256 of its token is kept.
//! - `outbox.uid`: the UID a message carries, so an update can drop an older unsent one.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000004_invitation_ledger"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut invitation = table_auto("invitation")
            .col(big_pk_auto("id"))
            .col(big_integer("conference_id"))
            .col(string("uid"))
            .col(string_len("kind", 32))
            .col(big_integer_null("unit_id"))
            .col(big_integer_null("delegate_id"))
            .col(big_integer_null("bridge_point_id"))
            .col(text("recipient_name"))
            .col(string("recipient_email"))
            .col(text("location"))
            .col(integer("sequence"))
            .col(string_len("method", 16))
            .col(string_len("fingerprint", 64))
            .col(string_len("reply", 16))
            .col(timestamp_with_time_zone_null("replied_at"))
            .col(string_len("rsvp_token", 64))
            .take();
        invitation.foreign_key(
            ForeignKey::create()
                .name("fk_invitation_conference_id")
                .from("invitation", "conference_id")
                .to("conference", "id")
                .on_delete(ForeignKeyAction::Cascade),
        );
        m.create_table(invitation).await?;
        for (name, col, unique) in [
            ("ix_invitation_uid", "uid", true),
            ("ix_invitation_rsvp_token", "rsvp_token", true),
            ("ix_invitation_conference_id", "conference_id", false),
        ] {
            let mut ix = Index::create()
                .name(name)
                .table("invitation")
                .col(col)
                .take();
            if unique {
                ix.unique();
            }
            m.create_index(ix).await?;
        }

        let mut sync = Table::create()
            .table("invitation_sync")
            .col(big_integer("conference_id").primary_key())
            .col(big_integer("marked_ms"))
            .take();
        sync.foreign_key(
            ForeignKey::create()
                .name("fk_invitation_sync_conference_id")
                .from("invitation_sync", "conference_id")
                .to("conference", "id")
                .on_delete(ForeignKeyAction::Cascade),
        );
        m.create_table(sync).await?;

        m.create_table(
            table_auto("calendar_feed")
                .col(big_pk_auto("id"))
                .col(string_len("scope", 16))
                .col(big_integer("subject_id"))
                .col(string_len("token_hash", 64))
                .col(string("created_by"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_calendar_feed_token_hash")
                .table("calendar_feed")
                .col("token_hash")
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_calendar_feed_scope_subject_id")
                .table("calendar_feed")
                .col("scope")
                .col("subject_id")
                .take(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table("outbox")
                .add_column(string_null("uid"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outbox_uid")
                .table("outbox")
                .col("uid")
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_outbox_uid")
                .table("outbox")
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table("outbox").drop_column("uid").take())
            .await?;
        for t in ["calendar_feed", "invitation_sync", "invitation"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

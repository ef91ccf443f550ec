//! An e-mail waiting to be sent, being sent, sent, or failed (see `services::outbox`).
use sea_orm::entity::prelude::*;
use serde::Serialize;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// An e-mail waiting to be sent, being sent, sent, or failed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Without angle brackets; unique.
    pub message_id: String,
    pub conference_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub delegate_id: Option<i64>,
    pub kind: MessageKind,
    /// `REQUEST` or `CANCEL` for a message carrying a calendar.
    pub method: Option<String>,
    pub sequence: i32,
    /// The UID of the calendar it carries.
    pub uid: Option<String>,
    /// The envelope: MAIL FROM and RCPT TO.
    pub sender: String,
    pub recipient: String,
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    pub state: OutboxState,
    pub attempts: i32,
    /// When the next attempt may start, in epoch milliseconds.
    pub due_ms: i64,
    /// While `sending`: until when the worker that claimed it holds it.
    pub lease_until_ms: Option<i64>,
    /// The reason of the last failure (the SMTP server's reply, or the connection error).
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

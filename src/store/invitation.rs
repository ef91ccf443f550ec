//! What one recipient's calendar holds of a conference: the last iTIP message sent under
//! a UID (see `services::invitations::sync`), and the reply recorded for it.
use sea_orm::entity::prelude::*;
use serde::Serialize;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// The last invitation (or cancellation) sent under one UID.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "invitation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conference_id: i64,
    pub uid: String,
    /// `invitation` (a delegate), `nomination` (a unit's mailbox), `bridge_contact`.
    pub kind: MessageKind,
    pub unit_id: Option<i64>,
    pub delegate_id: Option<i64>,
    pub bridge_point_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub recipient_name: String,
    pub recipient_email: String,
    /// The LOCATION last sent.
    #[sea_orm(column_type = "Text")]
    pub location: String,
    /// The SEQUENCE last sent under this UID.
    pub sequence: i32,
    /// `REQUEST` or `CANCEL`: what the recipient's calendar holds now.
    pub method: String,
    /// SHA-256 (hex) of what the last message said, but for DTSTAMP and SEQUENCE.
    pub fingerprint: String,
    pub reply: Reply,
    pub replied_at: Option<DateTimeUtc>,
    /// The secret of the recipient's reply links (`/rsvp/{token}`): random, 128 bits.
    /// Kept as it is, not hashed, because every update must carry the same links.
    #[serde(skip)]
    pub rsvp_token: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

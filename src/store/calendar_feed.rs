//! A calendar subscription (`/ical/{token}.ics`) of a person, a unit or a conference.
use sea_orm::entity::prelude::*;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// A calendar feed; its token is shown once, only its SHA-256 is kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_feed")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub scope: FeedScope,
    /// The person, unit or conference.
    pub subject_id: i64,
    pub token_hash: String,
    /// The login of the user who created it.
    pub created_by: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! An API bearer token or a browser session; only its SHA-256 is stored.
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// An API bearer token or a browser session; only its SHA-256 is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "api_token")]
#[schema(as = ApiToken)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub name: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub token_hash: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Option<DateTimeUtc>,
    #[schema(value_type = String, format = DateTime)]
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

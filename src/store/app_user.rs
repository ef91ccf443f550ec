//! A user who signs in: staff of a department or of a district office, or an administrator.
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// A user who signs in: staff of a department or of a district office, or an administrator.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "app_user")]
#[schema(as = AppUser)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub login: String,
    pub display_name: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub password_hash: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub disabled: bool,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

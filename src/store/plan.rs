//! An administrative plan (Kế hoạch) that organises conferences and serves as their invitation.
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// An administrative plan (Kế hoạch) that organises conferences and serves as their invitation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "plan")]
#[schema(as = Plan)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub issuing_unit_id: i64,
    pub parent_body: Option<String>,
    pub number: Option<i32>,
    pub symbol: String,
    pub place: String,
    pub issued_on: Option<Date>,
    pub issued_month: Option<i16>,
    pub issued_year: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[schema(value_type = Object)]
    #[sea_orm(column_type = "JsonBinary")]
    pub legal_bases: Json,
    #[sea_orm(column_type = "Text", nullable)]
    pub preamble: Option<String>,
    #[schema(value_type = Object)]
    #[sea_orm(column_type = "JsonBinary")]
    pub sections: Json,
    #[sea_orm(column_type = "Text", nullable)]
    pub closing: Option<String>,
    pub replaces_invitation: bool,
    #[schema(value_type = Object)]
    #[sea_orm(column_type = "JsonBinary")]
    pub recipients: Json,
    pub archive: Option<String>,
    pub signatory_authority: Option<String>,
    pub signatory_position: String,
    pub signatory_name: String,
    pub parent_plan_id: Option<i64>,
    pub parent_plan_ref: Option<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

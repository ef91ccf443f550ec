//! One slot of a conference's agenda (chương trình).
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// One slot of a conference's agenda (chương trình).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "agenda_item")]
#[schema(as = AgendaItem)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conference_id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTimeUtc,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    /// Who performs it, as the agenda prints it ("Ban tổ chức", "Báo cáo viên …").
    #[sea_orm(column_type = "Text", nullable)]
    pub performer: Option<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

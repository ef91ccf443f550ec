//! An organisation in the administrative tree.
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// An organisation in the administrative tree.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "unit")]
#[schema(as = Unit)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub parent_id: Option<i64>,
    /// Materialised path of ids from the root, e.g. `/1/5/23/`: subtree queries are prefix matches.
    pub path: String,
    pub kind: UnitKind,
    pub school_level: Option<SchoolLevel>,
    pub area_level: Option<AreaLevel>,
    /// The people's committee whose territory the unit lies in (a school's commune).
    pub area_unit_id: Option<i64>,
    pub name: String,
    pub short_name: Option<String>,
    pub abbreviation: Option<String>,
    pub mailbox: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

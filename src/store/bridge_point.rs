//! An online site (điểm cầu) hosted by a unit and attended by several units.
use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[allow(unused_imports)]
use crate::domain::kinds::*;

/// An online site (điểm cầu) hosted by a unit and attended by several units.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, ToSchema)]
#[sea_orm(table_name = "bridge_point")]
#[schema(as = BridgePoint)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conference_id: i64,
    pub plan_id: Option<i64>,
    pub position: i32,
    pub name: String,
    pub host_unit_id: i64,
    pub coordinating_unit_id: i64,
    pub room: Option<String>,
    pub address: Option<String>,
    pub capacity: Option<i32>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub join_url: Option<String>,
    pub join_passcode: Option<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! Halls: in-person rooms with address, capacity and time zone.
use sea_orm::{ConnectionTrait, NotSet, Select, Set};
use serde::Deserialize;
use utoipa::ToSchema;

use super::id_key;
use crate::domain::kinds::Role;
use crate::domain::time::DEFAULT_TIME_ZONE;
use crate::domain::validate::{FieldError, Validator};
use crate::error::Result;
use crate::services::crud::{Filter, Resource, filter_id, unknown_filter};
use crate::services::links::check_ref;
use crate::store::{hall, unit};

fn default_tz() -> String {
    DEFAULT_TIME_ZONE.to_owned()
}

/// Create or replace a hall.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HallInput {
    /// The unit whose hall it is.
    #[serde(default)]
    pub unit_id: Option<i64>,
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    /// Seats; at least 1 when given.
    #[serde(default)]
    pub capacity: Option<i32>,
    /// IANA zone; `Asia/Ho_Chi_Minh` by default.
    #[serde(default = "default_tz")]
    pub time_zone: String,
}

/// Halls.
pub struct Halls;

impl Resource for Halls {
    type Entity = hall::Entity;
    type Input = HallInput;
    type Output = hall::Model;
    const NAME: &'static str = "hall";
    const PATH: &'static str = "halls";
    const LABEL: &'static str = "hội trường";
    const FILTERS: &'static [Filter] = &[Filter {
        name: "unit",
        description: "halls of this unit id",
    }];

    id_key!(hall);

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut HallInput,
        v: &mut Validator,
        _: Option<&hall::Model>,
    ) -> Result<()> {
        v.name("name", &mut i.name);
        v.opt_name("address", &mut i.address);
        v.opt_at_least("capacity", i.capacity, 1);
        v.time_zone("time_zone", &mut i.time_zone);
        check_ref::<unit::Entity>(db, v, "unit_id", unit::Column::Id, i.unit_id, "đơn vị").await
    }

    fn active(i: &HallInput, now: chrono::NaiveDateTime) -> hall::ActiveModel {
        hall::ActiveModel {
            id: NotSet,
            unit_id: Set(i.unit_id),
            name: Set(i.name.clone()),
            address: Set(i.address.clone()),
            capacity: Set(i.capacity),
            time_zone: Set(i.time_zone.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }

    async fn outputs(
        _db: &impl ConnectionTrait,
        models: Vec<hall::Model>,
    ) -> Result<Vec<hall::Model>> {
        Ok(models)
    }

    fn filter(
        sel: Select<hall::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<hall::Entity>, FieldError> {
        match name {
            "unit" => filter_id(sel, hall::Column::UnitId, name, value),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    async fn owners_of_input(
        _db: &impl ConnectionTrait,
        _role: Role,
        i: &HallInput,
    ) -> Result<Vec<i64>> {
        Ok(i.unit_id.into_iter().collect())
    }

    async fn owners_of_model(
        _db: &impl ConnectionTrait,
        _role: Role,
        m: &hall::Model,
    ) -> Result<Vec<i64>> {
        Ok(m.unit_id.into_iter().collect())
    }
}

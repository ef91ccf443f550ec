//! People: delegates and contacts, each optionally of a unit.
use sea_orm::{ColumnTrait, ConnectionTrait, NotSet, QueryFilter, Select, Set};
use serde::Deserialize;
use utoipa::ToSchema;

use super::id_key;
use crate::domain::kinds::Role;
use crate::domain::text;
use crate::domain::validate::{FieldError, Validator};
use crate::error::Result;
use crate::services::crud::{DistrictAccess, Filter, Resource, filter_id, unknown_filter};
use crate::services::links::check_ref;
use crate::store::{person, unit};

/// Create or replace a person.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    #[serde(default)]
    pub unit_id: Option<i64>,
    /// Ông / Bà / Đồng chí…
    #[serde(default)]
    pub honorific: Option<String>,
    pub full_name: String,
    /// Chức vụ.
    #[serde(default)]
    pub position: Option<String>,
    /// Unique among people when given.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// People.
pub struct People;

impl Resource for People {
    type Entity = person::Entity;
    type Input = PersonInput;
    type Output = person::Model;
    const NAME: &'static str = "person";
    const PATH: &'static str = "people";
    const LABEL: &'static str = "người";
    const DISTRICT: DistrictAccess = DistrictAccess::Scoped;
    const FILTERS: &'static [Filter] = &[
        Filter {
            name: "unit",
            description: "people of this unit id",
        },
        Filter {
            name: "email",
            description: "the person with this e-mail address",
        },
    ];

    id_key!(person);

    async fn touched(
        db: &impl ConnectionTrait,
        m: &crate::store::person::Model,
    ) -> Result<crate::services::ledger::Touched> {
        use crate::store::delegate;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
        let ids: Vec<i64> = delegate::Entity::find()
            .select_only()
            .column(delegate::Column::ConferenceId)
            .filter(delegate::Column::PersonId.eq(m.id))
            .into_tuple()
            .all(db)
            .await?;
        Ok(crate::services::ledger::Touched::Conferences(ids))
    }

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut PersonInput,
        v: &mut Validator,
        _: Option<&person::Model>,
    ) -> Result<()> {
        v.opt_name("honorific", &mut i.honorific);
        v.name("full_name", &mut i.full_name);
        v.opt_name("position", &mut i.position);
        v.opt_email("email", &mut i.email);
        v.opt_name("phone", &mut i.phone);
        check_ref::<unit::Entity>(db, v, "unit_id", unit::Column::Id, i.unit_id, "đơn vị").await
    }

    fn active(i: &PersonInput, now: chrono::NaiveDateTime) -> person::ActiveModel {
        person::ActiveModel {
            id: NotSet,
            unit_id: Set(i.unit_id),
            honorific: Set(i.honorific.clone()),
            full_name: Set(i.full_name.clone()),
            position: Set(i.position.clone()),
            email: Set(i.email.clone()),
            phone: Set(i.phone.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }

    async fn outputs(
        _db: &impl ConnectionTrait,
        models: Vec<person::Model>,
    ) -> Result<Vec<person::Model>> {
        Ok(models)
    }

    fn filter(
        sel: Select<person::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<person::Entity>, FieldError> {
        match name {
            "unit" => filter_id(sel, person::Column::UnitId, name, value),
            "email" => Ok(sel.filter(person::Column::Email.eq(text::nfc(value)))),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    async fn owners_of_input(
        _db: &impl ConnectionTrait,
        _role: Role,
        i: &PersonInput,
    ) -> Result<Vec<i64>> {
        Ok(i.unit_id.into_iter().collect())
    }

    async fn owners_of_model(
        _db: &impl ConnectionTrait,
        _role: Role,
        m: &person::Model,
    ) -> Result<Vec<i64>> {
        Ok(m.unit_id.into_iter().collect())
    }

    fn scope_column() -> Option<person::Column> {
        Some(person::Column::UnitId)
    }

    fn scope_value(m: &person::Model) -> Option<i64> {
        m.unit_id
    }
}

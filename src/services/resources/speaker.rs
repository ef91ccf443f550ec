//! Speakers (báo cáo viên), each optionally of a unit.
use sea_orm::{ColumnTrait, ConnectionTrait, NotSet, QueryFilter, Select, Set};
use serde::Deserialize;
use utoipa::ToSchema;

use super::id_key;
use crate::domain::kinds::Role;
use crate::domain::text;
use crate::domain::validate::{FieldError, Validator};
use crate::error::Result;
use crate::services::crud::{Filter, Resource, filter_id, unknown_filter};
use crate::services::links::check_ref;
use crate::store::{speaker, unit};

/// Create or replace a speaker.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeakerInput {
    #[serde(default)]
    pub unit_id: Option<i64>,
    /// Ông / Bà / Đồng chí…
    #[serde(default)]
    pub honorific: Option<String>,
    pub full_name: String,
    /// Chức vụ.
    #[serde(default)]
    pub position: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// Speakers.
pub struct Speakers;

impl Resource for Speakers {
    type Entity = speaker::Entity;
    type Input = SpeakerInput;
    type Output = speaker::Model;
    const NAME: &'static str = "speaker";
    const PATH: &'static str = "speakers";
    const LABEL: &'static str = "báo cáo viên";
    const FILTERS: &'static [Filter] = &[
        Filter {
            name: "unit",
            description: "speakers of this unit id",
        },
        Filter {
            name: "email",
            description: "the speaker with this e-mail address",
        },
    ];

    id_key!(speaker);

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut SpeakerInput,
        v: &mut Validator,
        _: Option<&speaker::Model>,
    ) -> Result<()> {
        v.opt_name("honorific", &mut i.honorific);
        v.name("full_name", &mut i.full_name);
        v.opt_name("position", &mut i.position);
        v.opt_email("email", &mut i.email);
        v.opt_name("phone", &mut i.phone);
        check_ref::<unit::Entity>(db, v, "unit_id", unit::Column::Id, i.unit_id, "đơn vị").await
    }

    fn active(i: &SpeakerInput, now: chrono::NaiveDateTime) -> speaker::ActiveModel {
        speaker::ActiveModel {
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
        models: Vec<speaker::Model>,
    ) -> Result<Vec<speaker::Model>> {
        Ok(models)
    }

    fn filter(
        sel: Select<speaker::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<speaker::Entity>, FieldError> {
        match name {
            "unit" => filter_id(sel, speaker::Column::UnitId, name, value),
            "email" => Ok(sel.filter(speaker::Column::Email.eq(text::nfc(value)))),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    async fn owners_of_input(
        _db: &impl ConnectionTrait,
        _role: Role,
        i: &SpeakerInput,
    ) -> Result<Vec<i64>> {
        Ok(i.unit_id.into_iter().collect())
    }

    async fn owners_of_model(
        _db: &impl ConnectionTrait,
        _role: Role,
        m: &speaker::Model,
    ) -> Result<Vec<i64>> {
        Ok(m.unit_id.into_iter().collect())
    }
}

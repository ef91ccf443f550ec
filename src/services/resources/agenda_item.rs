//! Agenda items: time slot, content, performer as printed, and linked speakers.
use sea_orm::{ConnectionTrait, NotSet, Select, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{conference_of, id_key, organiser_of};
use crate::domain::kinds::Role;
use crate::domain::time::{InputTime, parse_tz};
use crate::domain::validate::{FieldError, Validator};
use crate::error::Result;
use crate::services::crud::{Filter, Resource, filter_id, unknown_filter};
use crate::services::links::{self, check_refs, dedup};
use crate::store::{agenda_item, agenda_item_speaker, speaker};

/// Create or replace an agenda item.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaItemInput {
    pub conference_id: i64,
    /// An instant, or a wall-clock time in the conference's zone.
    pub starts_at: InputTime,
    pub ends_at: InputTime,
    pub content: String,
    /// As the agenda prints it: `Ban tổ chức`, `Báo cáo viên Đỗ Hồng Hải`.
    #[serde(default)]
    pub performer: Option<String>,
    #[serde(default)]
    pub speaker_ids: Vec<i64>,
}

/// An agenda item with its speakers.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaItemOutput {
    #[serde(flatten)]
    pub item: agenda_item::Model,
    pub speaker_ids: Vec<i64>,
}

/// Agenda items.
pub struct AgendaItems;

impl Resource for AgendaItems {
    type Entity = agenda_item::Entity;
    type Input = AgendaItemInput;
    type Output = AgendaItemOutput;
    const NAME: &'static str = "agenda_item";
    const ORDER: &'static [&'static str] = &["conference_id", "starts_at", "id"];
    const PATH: &'static str = "agenda-items";
    const LABEL: &'static str = "mục chương trình";
    const FILTERS: &'static [Filter] = &[Filter {
        name: "conference",
        description: "items of this conference id",
    }];

    id_key!(agenda_item);

    fn conference_of(m: &crate::store::agenda_item::Model) -> Option<i64> {
        Some(m.conference_id)
    }

    fn conference_of_input(i: &AgendaItemInput) -> Option<i64> {
        Some(i.conference_id)
    }

    async fn touched(
        _db: &impl ConnectionTrait,
        m: &crate::store::agenda_item::Model,
    ) -> Result<crate::services::ledger::Touched> {
        Ok(crate::services::ledger::Touched::Conferences(vec![
            m.conference_id,
        ]))
    }

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut AgendaItemInput,
        v: &mut Validator,
        _: Option<&agenda_item::Model>,
    ) -> Result<()> {
        v.text("content", &mut i.content);
        v.opt_text("performer", &mut i.performer);
        dedup(&mut i.speaker_ids);
        match conference_of(db, i.conference_id).await? {
            None => v.error(
                "conference_id",
                "not_found",
                format!("Không có hội nghị mã {}.", i.conference_id),
            ),
            Some(c) => {
                if let Some(tz) = parse_tz(&c.time_zone) {
                    let ok = i.starts_at.resolve_in_place(tz) & i.ends_at.resolve_in_place(tz);
                    if ok {
                        v.ordered("ends_at", i.starts_at.instant(), i.ends_at.instant());
                    } else {
                        v.error(
                            "starts_at",
                            "nonexistent_local_time",
                            "Giờ không tồn tại ở múi giờ của hội nghị.",
                        );
                    }
                }
            }
        }
        check_refs::<speaker::Entity>(
            db,
            v,
            "speaker_ids",
            speaker::Column::Id,
            &i.speaker_ids,
            "báo cáo viên",
            true,
        )
        .await
    }

    fn active(i: &AgendaItemInput, now: chrono::NaiveDateTime) -> agenda_item::ActiveModel {
        agenda_item::ActiveModel {
            id: NotSet,
            conference_id: Set(i.conference_id),
            starts_at: Set(i.starts_at.instant()),
            ends_at: Set(i.ends_at.instant()),
            content: Set(i.content.clone()),
            performer: Set(i.performer.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }

    async fn after_write(
        db: &impl ConnectionTrait,
        m: agenda_item::Model,
        i: &AgendaItemInput,
        _previous: Option<&agenda_item::Model>,
    ) -> Result<agenda_item::Model> {
        links::replace::<agenda_item_speaker::Entity, _>(
            db,
            agenda_item_speaker::Column::AgendaItemId,
            m.id,
            &i.speaker_ids,
            |s| agenda_item_speaker::ActiveModel {
                agenda_item_id: Set(m.id),
                speaker_id: Set(s),
            },
        )
        .await?;
        Ok(m)
    }

    async fn outputs(
        db: &impl ConnectionTrait,
        models: Vec<agenda_item::Model>,
    ) -> Result<Vec<AgendaItemOutput>> {
        let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
        let mut speakers = links::load::<agenda_item_speaker::Entity>(
            db,
            agenda_item_speaker::Column::AgendaItemId,
            agenda_item_speaker::Column::SpeakerId,
            &ids,
        )
        .await?;
        Ok(models
            .into_iter()
            .map(|item| AgendaItemOutput {
                speaker_ids: speakers.remove(&item.id).unwrap_or_default(),
                item,
            })
            .collect())
    }

    fn filter(
        sel: Select<agenda_item::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<agenda_item::Entity>, FieldError> {
        match name {
            "conference" => filter_id(sel, agenda_item::Column::ConferenceId, name, value),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    async fn owners_of_input(
        db: &impl ConnectionTrait,
        _role: Role,
        i: &AgendaItemInput,
    ) -> Result<Vec<i64>> {
        organiser_of(db, i.conference_id).await
    }

    async fn owners_of_model(
        db: &impl ConnectionTrait,
        _role: Role,
        m: &agenda_item::Model,
    ) -> Result<Vec<i64>> {
        organiser_of(db, m.conference_id).await
    }
}

//! One file per resource of the JSON API: its input, checks, owners and filters.
pub mod agenda_item;
pub mod attendance_rule;
pub mod bridge_point;
pub mod conference;
pub mod delegate;
pub mod hall;
pub mod person;
pub mod plan;
pub mod plan_task;
pub mod speaker;
pub mod unit;

use sea_orm::{ConnectionTrait, EntityTrait};

use crate::error::Result;
use crate::store::conference as conference_row;

/// `id_column` and `id` for an entity whose primary key is `id: i64`.
macro_rules! id_key {
    ($entity:ident) => {
        fn id_column() -> crate::store::$entity::Column {
            crate::store::$entity::Column::Id
        }
        fn id(m: &crate::store::$entity::Model) -> i64 {
            m.id
        }
    };
}
pub(crate) use id_key;

/// The organising unit of a conference: the owner of everything inside it.
pub(crate) async fn organiser_of(
    db: &impl ConnectionTrait,
    conference_id: i64,
) -> Result<Vec<i64>> {
    Ok(conference_row::Entity::find_by_id(conference_id)
        .one(db)
        .await?
        .map(|c| vec![c.organiser_unit_id])
        .unwrap_or_default())
}

/// The conference a child row points at, for its time zone; 404 becomes a field error upstream.
pub(crate) async fn conference_of(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<conference_row::Model>> {
    Ok(conference_row::Entity::find_by_id(id).one(db).await?)
}

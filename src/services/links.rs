//! Child rows of join tables (a bridge point's units, an item's speakers…) and checks that
//! referenced rows exist, each problem naming its field.
use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::domain::validate::Validator;
use crate::error::Result;

/// Loads `parent → [child]` for the given parents from a join table.
pub async fn load<E: EntityTrait>(
    db: &impl ConnectionTrait,
    parent: E::Column,
    child: E::Column,
    parent_ids: &[i64],
) -> Result<HashMap<i64, Vec<i64>>> {
    let mut map: HashMap<i64, Vec<i64>> = HashMap::new();
    if parent_ids.is_empty() {
        return Ok(map);
    }
    for chunk in parent_ids.chunks(5_000) {
        let rows: Vec<(i64, i64)> = E::find()
            .select_only()
            .column(parent)
            .column(child)
            .filter(parent.is_in(chunk.iter().copied()))
            .order_by_asc(child)
            .into_tuple()
            .all(db)
            .await?;
        for (p, c) in rows {
            map.entry(p).or_default().push(c);
        }
    }
    Ok(map)
}

/// Replaces the children of `parent_id` with `child_ids`.
pub async fn replace<E, A>(
    db: &impl ConnectionTrait,
    parent: E::Column,
    parent_id: i64,
    child_ids: &[i64],
    row: impl Fn(i64) -> A,
) -> Result<()>
where
    E: EntityTrait<ActiveModel = A>,
    A: ActiveModelTrait<Entity = E> + Send,
    E::Model: IntoActiveModel<A>,
{
    E::delete_many()
        .filter(parent.eq(parent_id))
        .exec(db)
        .await?;
    if !child_ids.is_empty() {
        E::insert_many(child_ids.iter().copied().map(row))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Sorts and de-duplicates an id list in place.
pub fn dedup(ids: &mut Vec<i64>) {
    let mut seen = HashSet::new();
    ids.retain(|i| seen.insert(*i));
}

/// Checks that an optional reference exists.
pub async fn check_ref<E: EntityTrait>(
    db: &impl ConnectionTrait,
    v: &mut Validator,
    field: &str,
    id_col: E::Column,
    id: Option<i64>,
    label: &str,
) -> Result<()> {
    if let Some(id) = id {
        check_refs::<E>(
            db,
            v,
            field,
            id_col,
            std::slice::from_ref(&id),
            label,
            false,
        )
        .await?;
    }
    Ok(())
}

/// Checks that every id of a list exists; a missing one is reported as `field[i]`
/// (or `field` itself when `single`).
pub async fn check_refs<E: EntityTrait>(
    db: &impl ConnectionTrait,
    v: &mut Validator,
    field: &str,
    id_col: E::Column,
    ids: &[i64],
    label: &str,
    list: bool,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut found = HashSet::new();
    for chunk in ids.chunks(5_000) {
        let rows: Vec<i64> = E::find()
            .select_only()
            .column(id_col)
            .filter(id_col.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    for (i, id) in ids.iter().enumerate() {
        if !found.contains(id) {
            let f = if list {
                format!("{field}[{i}]")
            } else {
                field.to_owned()
            };
            v.error(
                &f,
                "not_found",
                format!("Không có {label} mã {id} (trường «{f}»)."),
            );
        }
    }
    Ok(())
}

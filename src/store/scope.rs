//! What part of the unit tree a user acts on. A unit's scope is its subtree plus every
//! unit whose area (the people's committee of its territory) lies in the subtree of the
//! unit's own area: a district office coordinates the schools, communes and offices of its
//! district, including a province-managed upper-secondary school located there.
use std::collections::HashMap;

use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use super::unit;

/// Path prefixes of the subtrees a user may act on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    prefixes: Vec<String>,
}

impl Scope {
    /// The scope of `unit_id`: its own subtree and the subtree of its area.
    pub async fn of_unit(db: &impl ConnectionTrait, unit_id: i64) -> Result<Self, DbErr> {
        let Some(u) = unit::Entity::find_by_id(unit_id).one(db).await? else {
            return Ok(Self::default());
        };
        let mut prefixes = vec![u.path.clone()];
        if let Some(area) = u.area_unit_id {
            if let Some(a) = unit::Entity::find_by_id(area).one(db).await? {
                if !a.path.starts_with(&u.path) && !u.path.starts_with(&a.path) {
                    prefixes.push(a.path);
                } else if u.path.starts_with(&a.path) {
                    prefixes = vec![a.path];
                }
            }
        }
        Ok(Self { prefixes })
    }

    /// Whether the scope is empty (its unit no longer exists).
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    fn covers(&self, path: &str) -> bool {
        self.prefixes.iter().any(|p| path.starts_with(p.as_str()))
    }

    /// Whether every one of `ids` lies in the scope.
    pub async fn contains_all(
        &self,
        db: &impl ConnectionTrait,
        ids: &[i64],
    ) -> Result<bool, DbErr> {
        if ids.is_empty() {
            return Ok(true);
        }
        let units: Vec<(i64, String, Option<i64>)> = unit::Entity::find()
            .select_only()
            .columns([
                unit::Column::Id,
                unit::Column::Path,
                unit::Column::AreaUnitId,
            ])
            .filter(unit::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        let area_ids: Vec<i64> = units.iter().filter_map(|u| u.2).collect();
        let area_paths: HashMap<i64, String> = if area_ids.is_empty() {
            HashMap::new()
        } else {
            unit::Entity::find()
                .select_only()
                .columns([unit::Column::Id, unit::Column::Path])
                .filter(unit::Column::Id.is_in(area_ids))
                .into_tuple::<(i64, String)>()
                .all(db)
                .await?
                .into_iter()
                .collect()
        };
        let mut distinct: Vec<i64> = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        Ok(units.len() == distinct.len()
            && units.iter().all(|(_, path, area)| {
                self.covers(path)
                    || area
                        .and_then(|a| area_paths.get(&a))
                        .is_some_and(|p| self.covers(p))
            }))
    }

    /// A sub-query selecting the ids of every unit in scope, for `col IN (…)` filters.
    pub fn unit_ids_query(&self) -> SelectStatement {
        let mut subtree = Condition::any();
        for p in &self.prefixes {
            subtree = subtree.add(unit::Column::Path.starts_with(p.as_str()));
        }
        let in_subtree = Query::select()
            .column(unit::Column::Id)
            .from(unit::Entity)
            .cond_where(subtree.clone())
            .to_owned();
        Query::select()
            .column(unit::Column::Id)
            .from(unit::Entity)
            .cond_where(
                Condition::any()
                    .add(subtree)
                    .add(unit::Column::AreaUnitId.in_subquery(in_subtree)),
            )
            .to_owned()
    }
}

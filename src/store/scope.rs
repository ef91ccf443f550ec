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

    /// The area of `unit_id` itself: its subtree and the units located there (a district
    /// when it is the district's people's committee); empty when it does not exist.
    pub async fn of_area(db: &impl ConnectionTrait, unit_id: i64) -> Result<Self, DbErr> {
        let path: Option<String> = unit::Entity::find_by_id(unit_id)
            .select_only()
            .column(unit::Column::Path)
            .into_tuple()
            .one(db)
            .await?;
        Ok(Self {
            prefixes: path.into_iter().collect(),
        })
    }

    /// A short text that tells scopes apart (cache keys).
    pub fn key(&self) -> String {
        self.prefixes.join(",")
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
            subtree = subtree.add(subtree_of(p));
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

/// The units whose path starts with `prefix` (a path such as `/1/9/`), as a range that the
/// index on `path` serves: `path >= '/1/9/' AND path < '/1/90'` (`0` follows `/`). `LIKE
/// '/1/9/%'` would be the same set, but SQLite's case-insensitive `LIKE` and PostgreSQL's
/// `LIKE` outside the `C` collation do not use the index.
pub fn subtree_of(prefix: &str) -> Condition {
    Condition::all()
        .add(unit::Column::Path.gte(prefix))
        .add(unit::Column::Path.lt(path_upper_bound(prefix)))
}

/// The least string greater than every string that starts with `prefix`.
fn path_upper_bound(prefix: &str) -> String {
    match prefix.strip_suffix('/') {
        Some(head) => format!("{head}0"),
        // Paths always end with `/`; any other prefix gets the next string after it that
        // cannot start with it (the prefix with U+10FFFF appended bounds it from above).
        None => format!("{prefix}\u{10FFFF}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bound_follows_every_descendant_and_nothing_else() {
        let b = path_upper_bound("/1/9/");
        assert_eq!(b, "/1/90");
        for inside in ["/1/9/", "/1/9/12/", "/1/9/999/5/"] {
            assert!(inside >= "/1/9/" && inside < b.as_str(), "{inside}");
        }
        for outside in ["/1/90/", "/1/91/", "/1/8/", "/1/", "/2/9/"] {
            assert!(!(outside >= "/1/9/" && outside < b.as_str()), "{outside}");
        }
    }
}

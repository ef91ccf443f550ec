//! Units: the administrative tree (Sở, UBND, Phòng GDĐT, schools, associations…).
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Select, Set,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::id_key;
use crate::domain::kinds::{AreaLevel, Role, SchoolLevel, UnitKind};
use crate::domain::text;
use crate::domain::validate::{FieldError, Validator};
use crate::error::Result;
use crate::services::crud::{Filter, Resource, filter_enum, filter_id, unknown_filter};
use crate::services::links::check_ref;
use crate::store::unit;

/// Create or replace a unit.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    /// The unit above in the tree (UBND above Sở, Phòng GDĐT above a school).
    #[serde(default)]
    pub parent_id: Option<i64>,
    pub kind: UnitKind,
    /// Only for schools and education centres.
    #[serde(default)]
    pub school_level: Option<SchoolLevel>,
    #[serde(default)]
    pub area_level: Option<AreaLevel>,
    /// The people's committee of the unit's territory.
    #[serde(default)]
    pub area_unit_id: Option<i64>,
    pub name: String,
    #[serde(default)]
    pub short_name: Option<String>,
    /// Used in document symbols, e.g. `SGDĐT` in `KH-SGDĐT`.
    #[serde(default)]
    pub abbreviation: Option<String>,
    /// Official mailbox for invitations.
    #[serde(default)]
    pub mailbox: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// Units.
pub struct Units;

impl Resource for Units {
    type Entity = unit::Entity;
    type Input = UnitInput;
    type Output = unit::Model;
    const NAME: &'static str = "unit";
    const ORDER: &'static [&'static str] = &["path"];
    const PATH: &'static str = "units";
    const LABEL: &'static str = "đơn vị";
    const FILTERS: &'static [Filter] = &[
        Filter {
            name: "parent",
            description: "units directly under this unit id",
        },
        Filter {
            name: "within",
            description: "units in the subtree of this unit id (itself included)",
        },
        Filter {
            name: "area",
            description: "units whose area is this people's committee id",
        },
        Filter {
            name: "kind",
            description: "unit kind",
        },
        Filter {
            name: "school_level",
            description: "school level",
        },
        Filter {
            name: "area_level",
            description: "level of government",
        },
        Filter {
            name: "q",
            description: "name contains this text",
        },
    ];

    id_key!(unit);

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut UnitInput,
        v: &mut Validator,
        existing: Option<&unit::Model>,
    ) -> Result<()> {
        v.name("name", &mut i.name);
        v.opt_name("short_name", &mut i.short_name);
        v.opt_name("abbreviation", &mut i.abbreviation);
        v.opt_email("mailbox", &mut i.mailbox);
        v.opt_name("address", &mut i.address);
        v.opt_name("phone", &mut i.phone);
        if i.school_level.is_some() && i.kind != UnitKind::School {
            v.error(
                "school_level",
                "not_a_school",
                "Chỉ cơ sở giáo dục (kind = school) mới có cấp học.",
            );
        }
        check_ref::<unit::Entity>(db, v, "parent_id", unit::Column::Id, i.parent_id, "đơn vị")
            .await?;
        check_ref::<unit::Entity>(
            db,
            v,
            "area_unit_id",
            unit::Column::Id,
            i.area_unit_id,
            "đơn vị",
        )
        .await?;
        if let (Some(me), Some(parent)) = (existing, i.parent_id) {
            let p = unit::Entity::find_by_id(parent).one(db).await?;
            if p.is_some_and(|p| p.path.starts_with(&me.path)) {
                v.error(
                    "parent_id",
                    "cycle",
                    "Không thể đặt đơn vị dưới chính nó hoặc dưới một đơn vị trực thuộc nó.",
                );
            }
        }
        Ok(())
    }

    fn active(i: &UnitInput, now: chrono::NaiveDateTime) -> unit::ActiveModel {
        unit::ActiveModel {
            id: NotSet,
            parent_id: Set(i.parent_id),
            path: Set(String::new()),
            kind: Set(i.kind),
            school_level: Set(i.school_level),
            area_level: Set(i.area_level),
            area_unit_id: Set(i.area_unit_id),
            name: Set(i.name.clone()),
            short_name: Set(i.short_name.clone()),
            abbreviation: Set(i.abbreviation.clone()),
            mailbox: Set(i.mailbox.clone()),
            address: Set(i.address.clone()),
            phone: Set(i.phone.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }

    /// Keeps the materialised path true, for the row and (after a move) its subtree.
    async fn after_write(
        db: &impl ConnectionTrait,
        m: unit::Model,
        _i: &UnitInput,
        previous: Option<&unit::Model>,
    ) -> Result<unit::Model> {
        let parent_path = match m.parent_id {
            Some(p) => unit::Entity::find_by_id(p)
                .one(db)
                .await?
                .map(|p| p.path)
                .unwrap_or_else(|| "/".into()),
            None => "/".into(),
        };
        let path = format!("{parent_path}{}/", m.id);
        let old_path = previous.map(|p| p.path.clone());
        let mut am: unit::ActiveModel = m.into();
        am.path = Set(path.clone());
        let m = am.update(db).await?;
        if let Some(old) = old_path.filter(|o| *o != path) {
            let descendants = unit::Entity::find()
                .filter(unit::Column::Path.starts_with(old.as_str()))
                .filter(unit::Column::Id.ne(m.id))
                .all(db)
                .await?;
            for d in descendants {
                let new_path = format!("{path}{}", &d.path[old.len()..]);
                let mut am: unit::ActiveModel = d.into();
                am.path = Set(new_path);
                am.update(db).await?;
            }
        }
        Ok(m)
    }

    async fn outputs(
        _db: &impl ConnectionTrait,
        models: Vec<unit::Model>,
    ) -> Result<Vec<unit::Model>> {
        Ok(models)
    }

    fn filter(
        sel: Select<unit::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<unit::Entity>, FieldError> {
        match name {
            "parent" => filter_id(sel, unit::Column::ParentId, name, value),
            "area" => filter_id(sel, unit::Column::AreaUnitId, name, value),
            "within" => value
                .parse::<i64>()
                .map(|id| sel.filter(within(id)))
                .map_err(|_| {
                    FieldError::new(name, "invalid_id", "Tham số «within» phải là một mã số.")
                }),
            "kind" => filter_enum::<_, UnitKind>(sel, unit::Column::Kind, name, value),
            "school_level" => {
                filter_enum::<_, SchoolLevel>(sel, unit::Column::SchoolLevel, name, value)
            }
            "area_level" => filter_enum::<_, AreaLevel>(sel, unit::Column::AreaLevel, name, value),
            "q" => Ok(sel.filter(unit::Column::Name.contains(text::nfc(value)))),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    async fn owners_of_input(
        _db: &impl ConnectionTrait,
        _role: Role,
        i: &UnitInput,
    ) -> Result<Vec<i64>> {
        Ok(i.parent_id.or(i.area_unit_id).into_iter().collect())
    }

    async fn owners_of_model(
        _db: &impl ConnectionTrait,
        _role: Role,
        m: &unit::Model,
    ) -> Result<Vec<i64>> {
        Ok(vec![m.id])
    }
}

/// The unit with this exact (NFC) name under `parent`, if any.
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    parent: Option<i64>,
    name: &str,
) -> Result<Option<unit::Model>> {
    let sel = unit::Entity::find().filter(unit::Column::Name.eq(text::nfc(name)));
    let sel = match parent {
        Some(p) => sel.filter(unit::Column::ParentId.eq(p)),
        None => sel.filter(unit::Column::ParentId.is_null()),
    };
    Ok(sel.one(db).await?)
}

/// The subtree of unit `id` (itself included), as a range of paths that the index on
/// `path` serves (see [`crate::store::scope::subtree_of`]): its bounds come from the unit's
/// own path in a sub-query, so an unknown id matches nothing. The id is written into the
/// SQL as a number: placeholders in custom SQL differ between SQLite (`?`) and PostgreSQL
/// (`$1`), and an `i64` cannot carry anything else.
fn within(id: i64) -> sea_orm::sea_query::Expr {
    sea_orm::sea_query::Expr::cust(format!(
        r#""unit"."path" >= (SELECT w."path" FROM "unit" AS w WHERE w."id" = {id}) AND "unit"."path" < (SELECT substr(w."path", 1, length(w."path") - 1) || '0' FROM "unit" AS w WHERE w."id" = {id})"#
    ))
}

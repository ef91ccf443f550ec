//! Loads `seed/*.toml` (see `docs/seed-format.md`) through the same checks as the API.
//! Idempotent: each record's key is remembered in `seed_ref`, and a key already loaded
//! (whose row still exists) is skipped, so a second run changes nothing.
use std::collections::HashMap;
use std::path::Path;

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, Set,
    TransactionTrait,
};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::crud::{self, ActiveOf, ModelOf, Resource};
use crate::services::resources::{
    agenda_item::AgendaItems, attendance_rule::AttendanceRules, bridge_point::BridgePoints,
    conference::Conferences, delegate::Delegates, hall::Halls, person::People, plan::Plans,
    plan_task::PlanTasks, speaker::Speakers, unit::Units,
};
use crate::store::seed_ref;

/// The order resources load in within a file (references point backwards).
pub const ORDER: &[&str] = &[
    "unit",
    "person",
    "hall",
    "speaker",
    "plan",
    "plan_task",
    "conference",
    "agenda_item",
    "attendance_rule",
    "bridge_point",
    "delegate",
];

/// What a seed run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Records inserted, per resource.
    pub inserted: HashMap<&'static str, usize>,
    /// Records skipped because already loaded.
    pub skipped: usize,
}

impl Report {
    pub fn total_inserted(&self) -> usize {
        self.inserted.values().sum()
    }
}

/// Loads every `*.toml` in `dir`, in file-name order, in one transaction: a seed with an
/// error loads nothing.
pub async fn load_dir(db: &DatabaseConnection, dir: &Path) -> Result<Report> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::Internal(format!("cannot read seed directory {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let txn = db.begin().await?;
    let mut keys: HashMap<String, i64> = seed_ref::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| (r.key, r.row_id))
        .collect();
    let mut report = Report::default();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::Internal(format!("cannot read {}: {e}", file.display())))?;
        let doc: toml::Table =
            toml::from_str(&text).map_err(|e| seed_error(file, "", &e.to_string()))?;
        for section in doc.keys() {
            if !ORDER.contains(&section.as_str()) {
                return Err(seed_error(file, section, "unknown section"));
            }
        }
        for &section in ORDER {
            let Some(records) = doc.get(section) else {
                continue;
            };
            let records = records
                .as_array()
                .ok_or_else(|| seed_error(file, section, "must be an array of tables ([[…]])"))?;
            for (n, record) in records.iter().enumerate() {
                let at = format!("{section}[{n}]");
                let value = serde_json::to_value(record)
                    .map_err(|e| seed_error(file, &at, &e.to_string()))?;
                load_record(&txn, section, value, &mut keys, &mut report)
                    .await
                    .map_err(|e| match e {
                        Error::Validation(errors) => seed_error(
                            file,
                            &at,
                            &errors
                                .iter()
                                .map(|e| format!("{}: {}", e.field, e.message))
                                .collect::<Vec<_>>()
                                .join("; "),
                        ),
                        Error::Internal(m) => seed_error(file, &at, &m),
                        other => other,
                    })?;
            }
        }
    }
    txn.commit().await?;
    Ok(report)
}

fn seed_error(file: &Path, at: &str, message: &str) -> Error {
    Error::Internal(format!("seed {} {at}: {message}", file.display()))
}

async fn load_record(
    db: &impl ConnectionTrait,
    section: &str,
    value: Value,
    keys: &mut HashMap<String, i64>,
    report: &mut Report,
) -> Result<()> {
    match section {
        "unit" => load::<Units>(db, value, keys, report).await,
        "person" => load::<People>(db, value, keys, report).await,
        "hall" => load::<Halls>(db, value, keys, report).await,
        "speaker" => load::<Speakers>(db, value, keys, report).await,
        "plan" => load::<Plans>(db, value, keys, report).await,
        "plan_task" => load::<PlanTasks>(db, value, keys, report).await,
        "conference" => load::<Conferences>(db, value, keys, report).await,
        "agenda_item" => load::<AgendaItems>(db, value, keys, report).await,
        "attendance_rule" => load::<AttendanceRules>(db, value, keys, report).await,
        "bridge_point" => load::<BridgePoints>(db, value, keys, report).await,
        "delegate" => load::<Delegates>(db, value, keys, report).await,
        other => Err(Error::Internal(format!("unknown section {other}"))),
    }
}

/// Replaces key references (`*_id` strings, `*_ids` string arrays) with row ids.
fn resolve(mut value: Value, keys: &HashMap<String, i64>) -> Result<(String, Value)> {
    let obj = value
        .as_object_mut()
        .ok_or_else(|| Error::Internal("a record must be a table".into()))?;
    let key = match obj.remove("key") {
        Some(Value::String(k)) if !k.is_empty() => k,
        _ => {
            return Err(Error::Internal(
                "every record needs a non-empty string `key`".into(),
            ));
        }
    };
    let lookup = |field: &str, k: &str| {
        keys.get(k)
            .copied()
            .ok_or_else(|| Error::Internal(format!("{field}: unknown key `{k}`")))
    };
    for (field, v) in obj.iter_mut() {
        if field.ends_with("_id") {
            if let Value::String(k) = v {
                *v = Value::from(lookup(field, k)?);
            }
        } else if field.ends_with("_ids") {
            if let Value::Array(items) = v {
                for item in items.iter_mut() {
                    if let Value::String(k) = item {
                        *item = Value::from(lookup(field, k)?);
                    }
                }
            }
        }
    }
    Ok((key, value))
}

async fn load<R: Resource>(
    db: &impl ConnectionTrait,
    value: Value,
    keys: &mut HashMap<String, i64>,
    report: &mut Report,
) -> Result<()>
where
    ModelOf<R>: IntoActiveModel<ActiveOf<R>> + Send + Sync,
    ActiveOf<R>: Send,
{
    let (key, value) = resolve(value, keys)?;
    if let Some(&id) = keys.get(&key) {
        if crud::find::<R>(db, id).await.is_ok() {
            report.skipped += 1;
            return Ok(());
        }
    }
    let input: R::Input = serde_path_to_error::deserialize(value)
        .map_err(|e| Error::Internal(format!("{}: {}", e.path(), e.inner())))?;
    let model = crud::create_unchecked_auth::<R>(db, input).await?;
    let id = R::id(&model);
    seed_ref::Entity::delete_by_id(key.clone()).exec(db).await?;
    seed_ref::ActiveModel {
        key: Set(key.clone()),
        entity: Set(R::NAME.to_owned()),
        row_id: Set(id),
    }
    .insert(db)
    .await?;
    keys.insert(key, id);
    *report.inserted.entry(R::NAME).or_default() += 1;
    Ok(())
}

//! `national points`: the bridge-point table of a national conference out and back in
//! (bench/README.md, "Bridge-point import"). Every bridge point of the dataset is moved
//! into the conference holding most of them, whose table is exported as XLSX (as `GET …/bridge-points.xlsx`), imported into a new,
//! empty conference (the ids are another conference's: every point is matched by host and
//! name, then created, its units taken by id), imported there again (every point found by
//! its id, nothing changed), and imported once more from a copy of the table without its
//! id columns (every host and unit found by name: namesakes across provinces settled by
//! the host's province, or reported). The database is changed: use a copy made for it.
use std::time::Instant;

use hoinghi::services::auth::Principal;
use hoinghi::services::exports::{self, Format};
use hoinghi::services::import::{self, PointImport};
use hoinghi::store::{self, bridge_point};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{EntityTrait, PaginatorTrait, QuerySelect};

pub async fn run(url: &str) -> Result<(), String> {
    let e = |e: sea_orm::DbErr| e.to_string();
    let db = store::connect(url, 2).await.map_err(e)?;
    let op = Principal::operator();
    let counts: Vec<(i64, i64)> = bridge_point::Entity::find()
        .select_only()
        .column(bridge_point::Column::ConferenceId)
        .expr_as(Func::count(Expr::col(bridge_point::Column::Id)), "n")
        .group_by(bridge_point::Column::ConferenceId)
        .into_tuple()
        .all(&db)
        .await
        .map_err(e)?;
    let (source, _) = counts
        .into_iter()
        .max_by_key(|(c, n)| (*n, -*c))
        .ok_or("no bridge points: load the dataset first")?;
    // Every point in that one conference: a national table.
    bridge_point::Entity::update_many()
        .col_expr(bridge_point::Column::ConferenceId, Expr::value(source))
        .exec(&db)
        .await
        .map_err(e)?;
    let points = bridge_point::Entity::find().count(&db).await.map_err(e)?;
    let t = Instant::now();
    let table = exports::bridge_points(&db, &op, source)
        .await
        .map_err(|e| e.to_string())?;
    let xlsx = table.render(Format::Xlsx).map_err(|e| e.to_string())?;
    println!(
        "export XLSX                     {:>8.3} s  ({points} points, {:.1} MB)",
        t.elapsed().as_secs_f64(),
        xlsx.len() as f64 / 1e6
    );
    // The same table by names only: the id columns left out.
    let names_only = exports::Table {
        columns: table.columns[..12].to_vec(),
        rows: table.rows.iter().map(|r| r[..12].to_vec()).collect(),
        ..table.clone()
    }
    .render(Format::Xlsx)
    .map_err(|e| e.to_string())?;

    let title = "Hội nghị toàn quốc (nhập điểm cầu)";
    let first = super::import::empty_conference(&db, title)
        .await
        .map_err(e)?;
    let second = super::import::empty_conference(&db, title)
        .await
        .map_err(e)?;
    for (what, c, bytes, valid_rows_only) in [
        ("import into a new conference", first, &xlsx, false),
        ("the same file again", first, &xlsx, false),
        ("by names only, new conference", second, &names_only, true),
    ] {
        let t = Instant::now();
        let opts = PointImport {
            valid_rows_only,
            ..Default::default()
        };
        let r = import::bridge_points(&db, &op, c, bytes, &opts)
            .await
            .map_err(|e| {
                let e = format!("{e:?}");
                format!("{what}: {}", e.chars().take(600).collect::<String>())
            })?;
        let units: usize = r.points.iter().map(|p| p.unit_ids.len()).sum();
        let refused: std::collections::BTreeSet<usize> = r.errors.iter().map(|e| e.row).collect();
        println!(
            "{what:<31} {:>8.3} s  (created {}, updated {}, unchanged {}, rows refused {} with {} errors, units placed {units})",
            t.elapsed().as_secs_f64(),
            r.created,
            r.updated,
            r.unchanged,
            refused.len(),
            r.errors.len()
        );
        if let Some(first_error) = r.errors.first() {
            println!("  first refusal: {}", first_error.message);
        }
    }
    println!(
        "peak RSS: {:.1} MB",
        super::documents::peak_rss_kb() as f64 / 1024.0
    );
    Ok(())
}

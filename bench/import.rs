//! `national import`: the delegate list of a national conference in and out
//! (bench/README.md, "Delegate import and export"). From a loaded national dataset, an
//! XLSX of its 100,000 delegates (họ và tên, chức vụ, đơn vị, email, điện thoại, điểm
//! cầu: the unit and person of each) is written, then imported into a new, empty
//! conference (people found by e-mail, units by name), then exported again as XLSX and
//! CSV. The database is changed: use a copy made for it.
use std::time::Instant;

use hoinghi::services::auth::Principal;
use hoinghi::services::exports::{self, Format};
use hoinghi::store::{self, conference, delegate, person, unit};
use sea_orm::{EntityTrait, QuerySelect, Set};

pub async fn run(url: &str) -> Result<(), String> {
    let e = |e: sea_orm::DbErr| e.to_string();
    let db = store::connect(url, 2).await.map_err(e)?;
    let t = Instant::now();
    let units: std::collections::HashMap<i64, String> = unit::Entity::find()
        .select_only()
        .columns([unit::Column::Id, unit::Column::Name])
        .into_tuple::<(i64, String)>()
        .all(&db)
        .await
        .map_err(e)?
        .into_iter()
        .collect();
    let people: std::collections::HashMap<i64, person::Model> = person::Entity::find()
        .all(&db)
        .await
        .map_err(e)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let delegates: Vec<(i64, i64)> = delegate::Entity::find()
        .select_only()
        .columns([delegate::Column::PersonId, delegate::Column::UnitId])
        .into_tuple()
        .all(&db)
        .await
        .map_err(e)?;
    let table = exports::Table {
        sheet: "Danh sách đại biểu",
        columns: vec![
            ("Họ và tên", 28.0),
            ("Chức vụ", 24.0),
            ("Đơn vị", 36.0),
            ("Email", 30.0),
            ("Điện thoại", 14.0),
            ("Điểm cầu", 20.0),
            ("Mã đơn vị", 10.0),
        ],
        rows: delegates
            .iter()
            .filter_map(|(p, u)| {
                let p = people.get(p)?;
                Some(vec![
                    p.full_name.clone().into(),
                    p.position.clone().unwrap_or_default().into(),
                    units.get(u)?.clone().into(),
                    p.email.clone().unwrap_or_default().into(),
                    p.phone.clone().unwrap_or_default().into(),
                    "Trực tuyến".into(),
                    exports::Cell::Number(*u as f64),
                ])
            })
            .collect(),
        totals: None,
    };
    let xlsx = table.render(Format::Xlsx).map_err(|e| e.to_string())?;
    drop(table);
    drop(people);
    println!(
        "write the list as XLSX          {:>8.3} s  ({} rows, {:.1} MB)",
        t.elapsed().as_secs_f64(),
        delegates.len(),
        xlsx.len() as f64 / 1e6
    );
    let c = empty_conference(&db, "Hội nghị toàn quốc (nhập danh sách)")
        .await
        .map_err(e)?;
    // The import runs in a process of its own, so that its peak RSS is its own (this
    // one holds the whole dataset it wrote the list from).
    let file = std::env::temp_dir().join(format!("hoinghi-import-{}.xlsx", std::process::id()));
    std::fs::write(&file, &xlsx).map_err(|e| e.to_string())?;
    let out = std::process::Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["import-file", "--database-url", url, "--conference"])
        .arg(c.to_string())
        .arg("--file")
        .arg(&file)
        .output()
        .map_err(|e| e.to_string())?;
    std::fs::remove_file(&file).ok();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    drop(xlsx);
    for format in [Format::Xlsx, Format::Csv] {
        let t = Instant::now();
        let table = exports::delegates(&db, &Principal::operator(), c)
            .await
            .map_err(|e| e.to_string())?;
        let bytes = table.render(format).map_err(|e| e.to_string())?;
        println!(
            "export {:<4}                     {:>8.3} s  ({} rows, {:.1} MB)",
            format.extension(),
            t.elapsed().as_secs_f64(),
            table.rows.len(),
            bytes.len() as f64 / 1e6
        );
    }
    println!(
        "peak RSS: {:.1} MB",
        super::documents::peak_rss_kb() as f64 / 1024.0
    );
    Ok(())
}

/// `import-file`: imports one XLSX into conference `c` and prints its time and the
/// process's peak RSS.
pub async fn import_file(url: &str, c: i64, file: &str) -> Result<(), String> {
    let db = store::connect(url, 2).await.map_err(|e| e.to_string())?;
    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let report =
        hoinghi::services::import::delegates(&db, &Principal::operator(), c, &bytes, false)
            .await
            .map_err(|e| format!("{e:?}"))?;
    println!(
        "import XLSX                     {:>8.3} s  (created {}, errors {}; peak RSS of the importing process {:.1} MB)",
        t.elapsed().as_secs_f64(),
        report.created,
        report.errors.len(),
        super::documents::peak_rss_kb() as f64 / 1024.0
    );
    Ok(())
}

/// A new draft conference with nothing in it, a month ahead.
pub async fn empty_conference(
    db: &sea_orm::DatabaseConnection,
    title: &str,
) -> Result<i64, sea_orm::DbErr> {
    let now = store::now();
    let start = chrono::Utc::now() + chrono::TimeDelta::days(30);
    Ok(conference::Entity::insert(conference::ActiveModel {
        organiser_unit_id: Set(1),
        title: Set(title.into()),
        starts_at: Set(start),
        ends_at: Set(start + chrono::TimeDelta::hours(3)),
        time_zone: Set("Asia/Ho_Chi_Minh".into()),
        mode: Set(hoinghi::domain::kinds::ConferenceMode::Online),
        status: Set(hoinghi::domain::kinds::ConferenceStatus::Draft),
        sequence: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id)
}

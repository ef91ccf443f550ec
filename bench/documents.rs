//! `national documents`: render a national plan from a loaded national dataset and time
//! it (bench/README.md, "Documents"). The plan organises 4 conferences (the national one
//! and three provinces') with 10 agenda items each (40), 3 speakers, 4 attendance rules
//! each, and all 3,321 bridge points of the dataset spread over the 4 conferences with
//! their 13,284 attending units. The database is changed: use a copy made for it.
use std::time::Instant;

use chrono::{TimeDelta, TimeZone, Utc};
use hoinghi::documents::templates::Templates;
use hoinghi::documents::{self, Format, Which};
use hoinghi::domain::kinds::Venue;
use hoinghi::store::{
    self, agenda_item, agenda_item_speaker, attendance_rule, bridge_point, conference, plan,
    speaker,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait,
};

/// The conferences of the national plan (ids fixed by the loader: 1 is national).
const CONFERENCES: [i64; 4] = [1, 2, 3, 4];
const ITEMS_PER_CONFERENCE: i64 = 10;

pub async fn run(url: &str, iterations: usize) -> Result<(), String> {
    let e = |e: sea_orm::DbErr| e.to_string();
    let db = store::connect(url, 2).await.map_err(e)?;
    let before = peak_rss_kb();
    let t = Instant::now();
    let plan_id = prepare(&db).await?;
    println!(
        "prepare (plan, agenda, rules) {:>8.3} s",
        t.elapsed().as_secs_f64()
    );
    let templates = Templates::load(None).map_err(|e| e.to_string())?;

    let mut report = Vec::new();
    for format in [Format::Html, Format::Txt, Format::Docx] {
        let mut times = Vec::with_capacity(iterations);
        let mut size = 0;
        for _ in 0..iterations {
            let t = Instant::now();
            let doc = documents::render(&db, &templates, Which::Plan(plan_id), format)
                .await
                .map_err(|e| e.to_string())?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            size = doc.body.len();
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "render {:<5} n={iterations:<3} min {:>8.1} ms  median {median:>8.1} ms  max {:>8.1} ms  size {:>9} bytes",
            format.extension(),
            times[0],
            times[times.len() - 1],
            size
        );
        println!(
            "peak RSS after {}: {:.1} MB",
            format.extension(),
            peak_rss_kb() as f64 / 1024.0
        );
        report.push((
            format.extension(),
            times[0],
            median,
            times[times.len() - 1],
            size,
        ));
    }
    // The parts of one HTML render: reading the store, then the template.
    let t = Instant::now();
    let doc = hoinghi::documents::plan::load(&db, plan_id)
        .await
        .map_err(|e| e.to_string())?;
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let html = templates
        .render("documents/plan.html", &doc)
        .map_err(|e| e.to_string())?;
    let template_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let docx = hoinghi::documents::docx::plan(&doc).map_err(|e| e.to_string())?;
    let docx_ms = t.elapsed().as_secs_f64() * 1000.0;
    let _ = std::fs::write("bench/out/national-plan.docx", &docx);
    let _ = std::fs::write("bench/out/national-plan.html", &html);
    let mut loads = Vec::new();
    for _ in 0..iterations {
        let t = Instant::now();
        hoinghi::documents::plan::load(&db, plan_id)
            .await
            .map_err(|e| e.to_string())?;
        loads.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    loads.sort_by(f64::total_cmp);
    println!(
        "load alone n={iterations}: min {:.1} ms  median {:.1} ms  max {:.1} ms",
        loads[0],
        loads[loads.len() / 2],
        loads[loads.len() - 1]
    );
    let rows: usize = doc
        .appendices
        .iter()
        .filter_map(|a| a.bridge_points.as_ref())
        .flatten()
        .map(|g| g.rows.len())
        .sum();
    println!(
        "split: load {load_ms:.1} ms, html template {template_ms:.1} ms ({} bytes), docx writer {docx_ms:.1} ms ({} bytes)",
        html.len(),
        docx.len()
    );
    println!("bridge-point rows in the plan: {rows}");
    println!(
        "peak RSS before: {} kB, after: {} kB",
        before,
        peak_rss_kb()
    );
    for (ext, min, median, max, size) in report {
        println!(
            "RENDER_{}_MS min={min:.1} median={median:.1} max={max:.1} bytes={size}",
            ext.to_uppercase()
        );
    }
    println!("PEAK_RSS_MB={:.1}", peak_rss_kb() as f64 / 1024.0);
    Ok(())
}

/// The peak resident set size of this process (VmHWM), in kB; 0 where /proc is missing.
pub(crate) fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Creates the national plan once (idempotent: a second run reuses it).
async fn prepare(db: &sea_orm::DatabaseConnection) -> Result<i64, String> {
    let e = |e: sea_orm::DbErr| e.to_string();
    if let Some(p) = plan::Entity::find()
        .filter(plan::Column::Symbol.eq("KH-BGDĐT"))
        .one(db)
        .await
        .map_err(e)?
    {
        return Ok(p.id);
    }
    let now = store::now();
    let txn = db.begin().await.map_err(e)?;
    let p = plan::Entity::insert(plan::ActiveModel {
        issuing_unit_id: Set(1),
        parent_body: Set(None),
        number: Set(Some(9)),
        symbol: Set("KH-BGDĐT".into()),
        place: Set("Hà Nội".into()),
        issued_on: Set(Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"))),
        issued_month: Set(None),
        issued_year: Set(None),
        title: Set("Tổ chức Hội nghị tập huấn toàn quốc về xây dựng xã hội học tập".into()),
        legal_bases: Set(serde_json::json!([
            "Căn cứ Quyết định số 1373/QĐ-TTg ngày 30/7/2021 của Thủ tướng Chính phủ",
            "Căn cứ Kế hoạch số 1/KH-BGDĐT ngày 02/01/2026 của Bộ Giáo dục và Đào tạo"
        ])),
        preamble: Set(Some("Bộ Giáo dục và Đào tạo xây dựng Kế hoạch như sau:".into())),
        sections: Set(serde_json::json!([
            {"heading": "I. MỤC ĐÍCH, YÊU CẦU", "body": "1. Mục đích\n- Tập huấn.\n2. Yêu cầu\n- Thiết thực."},
            {"heading": "II. NỘI DUNG", "body": "- Xây dựng xã hội học tập."},
            {"heading": "IV. KINH PHÍ THỰC HIỆN", "body": "Theo quy định."},
            {"heading": "V. TỔ CHỨC THỰC HIỆN", "body": "1. Các Sở GDĐT\n- Bố trí điểm cầu."}
        ])),
        closing: Set(Some("Trên đây là Kế hoạch.\nĐề nghị các đơn vị thực hiện./.".into())),
        replaces_invitation: Set(true),
        recipients: Set(serde_json::json!([{"name": "Các Sở GDĐT", "purpose": "để thực hiện"}])),
        archive: Set(Some("VT, GDTX".into())),
        signatory_authority: Set(Some("KT. BỘ TRƯỞNG".into())),
        signatory_position: Set("THỨ TRƯỞNG".into()),
        signatory_name: Set("Nguyễn Văn A".into()),
        parent_plan_id: Set(None),
        parent_plan_ref: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await
    .map_err(e)?
    .last_insert_id;
    conference::Entity::update_many()
        .col_expr(conference::Column::PlanId, Expr::value(p))
        .filter(conference::Column::Id.is_in(CONFERENCES))
        .exec(&txn)
        .await
        .map_err(e)?;
    // Every bridge point of the dataset into one of the four conferences.
    txn.execute_unprepared(
        r#"UPDATE "bridge_point" SET "conference_id" = (("id" - 1) % 4) + 1, "plan_id" = NULL"#,
    )
    .await
    .map_err(e)?;
    let mut speakers = Vec::new();
    for (i, name) in ["Nguyễn Văn Bình", "Trần Thị Mai", "Lê Quang Huy"]
        .iter()
        .enumerate()
    {
        let id = speaker::Entity::insert(speaker::ActiveModel {
            unit_id: Set(Some(1)),
            honorific: Set(Some(if i == 1 { "Bà" } else { "Ông" }.into())),
            full_name: Set((*name).into()),
            position: Set(Some("Chuyên viên Vụ Giáo dục thường xuyên".into())),
            email: Set(None),
            phone: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(&txn)
        .await
        .map_err(e)?
        .last_insert_id;
        speakers.push(id);
    }
    for (n, c) in CONFERENCES.iter().enumerate() {
        // Each conference on its own day, 8h00 local (UTC+7) onwards.
        let day = Utc
            .with_ymd_and_hms(2026, 12, 7 + n as u32, 1, 0, 0)
            .single()
            .expect("time");
        conference::Entity::update_many()
            .col_expr(conference::Column::StartsAt, Expr::value(day))
            .col_expr(
                conference::Column::EndsAt,
                Expr::value(day + TimeDelta::minutes(20 * ITEMS_PER_CONFERENCE)),
            )
            .filter(conference::Column::Id.eq(*c))
            .exec(&txn)
            .await
            .map_err(e)?;
        for i in 0..ITEMS_PER_CONFERENCE {
            let start = day + TimeDelta::minutes(20 * i);
            let item = agenda_item::Entity::insert(agenda_item::ActiveModel {
                conference_id: Set(*c),
                starts_at: Set(start),
                ends_at: Set(start + TimeDelta::minutes(20)),
                content: Set(format!("Nội dung số {} của hội nghị {c}", i + 1)),
                performer: Set(Some("Báo cáo viên".into())),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec(&txn)
            .await
            .map_err(e)?
            .last_insert_id;
            agenda_item_speaker::Entity::insert(agenda_item_speaker::ActiveModel {
                agenda_item_id: Set(item),
                speaker_id: Set(speakers[i as usize % speakers.len()]),
            })
            .exec_without_returning(&txn)
            .await
            .map_err(e)?;
        }
        for (pos, venue) in [
            Venue::Hall,
            Venue::Hall,
            Venue::BridgePoint,
            Venue::BridgePoint,
        ]
        .into_iter()
        .enumerate()
        {
            attendance_rule::Entity::insert(attendance_rule::ActiveModel {
                conference_id: Set(*c),
                position: Set(pos as i32 + 1),
                description: Set(format!("Thành phần số {} (01 người/đơn vị).", pos + 1)),
                venue: Set(venue),
                quota: Set(Some(1)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec(&txn)
            .await
            .map_err(e)?;
        }
    }
    txn.commit().await.map_err(e)?;
    let points = bridge_point::Entity::find()
        .filter(bridge_point::Column::ConferenceId.is_in(CONFERENCES))
        .all(db)
        .await
        .map_err(e)?
        .len();
    println!("plan {p}: 4 conferences, 40 agenda items, {points} bridge points");
    Ok(p)
}

//! Documents through the API: the agenda of the seeded morning conference, as text and as
//! printable HTML, row by row as seed 000 prints it.
use crate::helpers::*;
use crate::store_test;
use hoinghi::services::seed;
use hoinghi::store::seed_ref;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;

async fn seeded_conference(app: &TestApp, key: &str) -> i64 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed");
    seed::load_dir(&app.db, &dir).await.expect("seed loads");
    seed_ref::Entity::find_by_id(key.to_owned())
        .one(&app.db)
        .await
        .expect("seed_ref")
        .expect("seeded")
        .row_id
}

/// GET with the admin token; status, headers and body text.
async fn fetch(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("request");
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.text().await.expect("body"))
}

store_test!(the_morning_agenda_as_text_follows_seed_000, |app| {
    let id = seeded_conference(app, "conf-dvht").await;
    let (status, headers, text) = fetch(app, &format!("/api/v1/conferences/{id}/agenda.txt")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains(&format!("filename=\"Chuong-trinh-hoi-nghi-{id}.txt\"")),
        "{disposition}"
    );
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "UBND THÀNH PHỐ HẢI PHÒNG");
    assert_eq!(lines[1], "SỞ GIÁO DỤC VÀ ĐÀO TẠO HẢI PHÒNG");
    assert!(text.contains("CHƯƠNG TRÌNH\n"));
    assert!(
        text.contains("Thời gian: 8h00-11h30, ngày 18/12/2024 (thứ Tư)"),
        "{text}"
    );
    assert!(
        text.contains("Địa điểm: Hội trường tầng 3, cơ quan Sở GDĐT"),
        "{text}"
    );
    // The nine rows of the morning table in seed 000: time, content, performer.
    let rows: Vec<&str> = lines.iter().copied().filter(|l| l.contains('\t')).collect();
    let times: Vec<&str> = rows.iter().map(|r| r.split('\t').next().unwrap()).collect();
    assert_eq!(
        times,
        [
            "7h30-8h00",
            "8h00-8h10",
            "8h10-8h15",
            "8h15-8h30",
            "8h30-10h00",
            "10h00-10h20",
            "10h20-11h00",
            "11h00-11h20",
            "11h20-11h30"
        ]
    );
    assert_eq!(rows[0], "7h30-8h00\tĐón tiếp đại biểu\t— Ban tổ chức");
    assert!(
        rows[4].ends_with("\t— Báo cáo viên Đỗ Hồng Hải"),
        "{}",
        rows[4]
    );
    // The whole text, as reviewed: any change to the layout shows up here.
    insta::assert_snapshot!("agenda_conf_dvht_txt", text);
    // A performer cell of two lines keeps both.
    assert!(
        rows[7].ends_with("— - Ban tổ chức, - BCV Nguyễn Thị Thanh Hương"),
        "{}",
        rows[7]
    );
});

store_test!(the_agenda_as_html_is_printable_and_escaped, |app| {
    let id = seeded_conference(app, "conf-dvht").await;
    let (status, headers, html) =
        fetch(app, &format!("/api/v1/conferences/{id}/agenda.html")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(html.contains("@page { size: A4; margin: 20mm 15mm 20mm 30mm; }"));
    assert!(html.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
    assert_eq!(html.matches("<td class=\"time\">").count(), 9);
    assert!(html.contains("<td class=\"time\">7h30-8h00</td>"));

    let organiser = app
        .unit("Sở <GDĐT> & \"Hội\"", "department", None, None)
        .await;
    let c = app
        .create(
            "/api/v1/conferences",
            json!({"organiser_unit_id": organiser, "title": "<script>alert(1)</script>",
                   "mode": "online", "starts_at": "2024-12-18T08:00",
                   "ends_at": "2024-12-18T11:30"}),
        )
        .await;
    let (_, _, html) = fetch(app, &format!("/api/v1/conferences/{c}/agenda.html")).await;
    assert!(!html.contains("<script>alert"), "escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        html.contains("SỞ &lt;GDĐT&gt; &amp; &quot;HỘI&quot;"),
        "{html}"
    );

    let (status, _, _) = fetch(app, &format!("/api/v1/conferences/{id}/agenda.pdf")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = fetch(app, "/api/v1/conferences/999999/agenda.txt").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

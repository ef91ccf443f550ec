//! Documents through the API: the agenda of the seeded morning conference and the seeded
//! plans, as text and as printable HTML, checked row by row against seeds 000 and 001 and
//! against the layout rules of NĐ30 (`../shared/nd30-format.md`).
use crate::helpers::*;
use crate::store_test;
use hoinghi::services::seed;
use reqwest::StatusCode;
use serde_json::json;

/// Loads the seed and returns the id of the row with seed key `key`.
async fn seeded(app: &TestApp, key: &str) -> i64 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed");
    seed::load_dir(&app.db, &dir).await.expect("seed loads");
    id_of(app, key).await
}

/// The id of the row with seed key `key`.
/// GET with the admin token; status, headers and body bytes.
async fn fetch_bytes(
    app: &TestApp,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let r = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("request");
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.bytes().await.expect("body").to_vec())
}

/// A part of a DOCX (zip) file as text.
fn docx_part(docx: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("a zip file");
    let mut part = zip.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut text = String::new();
    part.read_to_string(&mut text).expect("utf-8 XML");
    text
}

/// The paragraphs of a DOCX body part: the text of each `<w:p>`, with whether its runs are
/// bold and italic (`(text, bold, italic)`).
fn docx_paragraphs(xml: &str) -> Vec<(String, bool, bool)> {
    // `<w:p>` or `<w:p w14:paraId=…>`, not `<w:pPr>` or `<w:pgSz>`.
    xml.match_indices("<w:p")
        .filter(|(i, _)| xml[i + 4..].starts_with(['>', ' ']))
        .map(|(i, _)| {
            let p = xml[i..].split("</w:p>").next().unwrap_or_default();
            let text: String = p
                .split("<w:t")
                .skip(1)
                .filter_map(|t| t.split_once('>').map(|(_, rest)| rest))
                .map(|t| t.split("</w:t>").next().unwrap_or_default())
                .collect();
            let runs = p.split("<w:r>").skip(1).collect::<Vec<_>>();
            let all = |tag: &str| !runs.is_empty() && runs.iter().all(|r| r.contains(tag));
            (text, all("<w:b />"), all("<w:i />"))
        })
        .collect()
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
    let id = seeded(app, "conf-dvht").await;
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
    assert_eq!(lines[1], "SỞ GIÁO DỤC VÀ ĐÀO TẠO");
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
    let id = seeded(app, "conf-dvht").await;
    let (status, headers, html) =
        fetch(app, &format!("/api/v1/conferences/{id}/agenda.html")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(html.contains("@page { size: A4; margin: 20mm 15mm 20mm 30mm;"));
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

/// Seed 000 as published, and the seed file of the Thủy Nguyên bridge points.
fn shared(path: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// What a comparison with the seeds ignores: the dash around a time range (`10h00 – 10h20`
/// in the seed), runs of spaces, and tone-mark placement (NFC both sides).
fn normal(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc()
        .collect::<String>()
        .replace(" – ", "-")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

store_test!(the_hai_phong_plan_reproduces_seed_000, |app| {
    let id = seeded(app, "plan-1609").await;
    let (status, headers, text) = fetch(app, &format!("/api/v1/plans/{id}/document.txt")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("filename=\"Ke-hoach-1609-KH-SGDDT.txt\""),
        "{disposition}"
    );
    let ours: Vec<String> = text.lines().map(normal).collect();
    let seed = shared("seeds/000_61f3c9d03a74764c.txt");

    // Every agenda row of both tables in seed 000: time, content, performer.
    let is_time = |cell: &str| {
        cell.split('-').next().is_some_and(|t| {
            t.contains('h') && t.trim().chars().next().is_some_and(|c| c.is_ascii_digit())
        })
    };
    let agenda_rows: Vec<String> = seed
        .lines()
        .filter(|l| l.contains('\t') && is_time(l.split('\t').next().unwrap_or_default()))
        .map(normal)
        .collect();
    assert_eq!(agenda_rows.len(), 17, "9 morning rows and 8 afternoon rows");
    for row in &agenda_rows {
        assert!(
            ours.iter().any(|l| l == row),
            "agenda row missing: {row}\n{text}"
        );
    }
    // The speaker list and its count line.
    for row in [
        "1 Ông Nguyễn Anh Thuận Trưởng Phòng GDTX&ĐH, Sở GDĐT",
        "2 Ông Đỗ Hồng Hải Phó Trưởng Phòng GDTX&ĐH, Sở GDĐT",
        "3 Bà Nguyễn Thị Thanh Hương Chuyên viên Phòng GDTX&ĐH, Sở GDĐT",
        "(Danh sách này gồm 03 người)",
    ] {
        assert!(seed.lines().map(normal).any(|l| l == row), "seed has {row}");
        assert!(ours.iter().any(|l| l == row), "missing: {row}\n{text}");
    }
    // Both composition sections: every `+` line of section III in the seed.
    let section_iii =
        &seed[seed.find("III. THỜI GIAN").unwrap()..seed.find("IV. KINH PHÍ").unwrap()];
    let composition: Vec<String> = section_iii
        .lines()
        .map(|l| normal(l.trim_start_matches("- ")))
        .filter(|l| l.starts_with("+ "))
        .collect();
    assert_eq!(
        composition.len(),
        14,
        "8 morning and 6 afternoon lines: {composition:#?}"
    );
    for line in &composition {
        assert!(ours.iter().any(|l| l == line), "missing: {line}\n{text}");
    }
    assert!(
        ours.iter()
            .any(|l| l.starts_with("(Cụ thể là các cơ quan, đơn vị: các cơ quan tham mưu"))
    );
    // The two conference times, as the seed's lines say them (without its bold marks).
    for time in [
        "08h00' ngày 18/12/2024 (thứ Tư)",
        "14h00' ngày 18/12/2024 (thứ Tư)",
    ] {
        let line = format!(
            "- Thời gian: 1/2 ngày, bắt đầu từ {time}, theo 02 hình thức hội nghị: trực tiếp \
             và trực tuyến tại các điểm cầu."
        );
        assert!(
            seed.replace("**", "").lines().any(|l| l == line),
            "seed: {line}"
        );
        assert!(ours.contains(&line), "{line}\n{text}");
    }
    // Sections in order, III written from the conferences.
    let headings: Vec<&str> = text
        .lines()
        .filter(|l| {
            ["I. ", "II. ", "III. ", "IV. ", "V. "]
                .iter()
                .any(|h| l.starts_with(h))
        })
        .collect();
    assert_eq!(
        headings,
        [
            "I. MỤC ĐÍCH, YÊU CẦU",
            "II. NỘI DUNG",
            "III. THỜI GIAN, ĐỊA ĐIỂM, THÀNH PHẦN CỦA CÁC HỘI NGHỊ",
            "IV. KINH PHÍ THỰC HIỆN",
            "V. TỔ CHỨC THỰC HIỆN"
        ]
    );
    assert!(text.contains(
        "\nKế hoạch này thay cho Giấy mời, mời đại biểu tham dự 02 Hội nghị.\nSở GDĐT đề nghị"
    ));
    insta::assert_snapshot!("plan_1609_txt", text);
});

store_test!(the_thuy_nguyen_plan_lists_its_32_bridge_points, |app| {
    let id = seeded(app, "plan-250-thuy-nguyen").await;
    let (status, _, text) = fetch(app, &format!("/api/v1/plans/{id}/document.txt")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        &lines[..3],
        ["ỦY BAN NHÂN DÂN", "HUYỆN THỦY NGUYÊN", "Số: 250/KH-UBND"]
    );
    assert!(text.contains("Thủy Nguyên, ngày 16 tháng 12 năm 2024"));
    // The bridge-point appendix of the morning conference: the 32 rows of the CSV, in
    // order, each with the communes' People's Committees among its units.
    let morning = &text[text.find("DANH SÁCH ĐIỂM CẦU").expect("appendix")..];
    let table: Vec<&str> = morning
        .lines()
        .skip_while(|l| !l.starts_with("TT\tĐiểm cầu"))
        .skip(1)
        .take_while(|l| l.contains('\t'))
        .collect();
    let csv = shared("data/thuy-nguyen-bridge-points.csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut n = 0;
    for (i, record) in reader.records().enumerate() {
        let record = record.expect("csv row");
        let row = table
            .get(i)
            .unwrap_or_else(|| panic!("row {i} missing\n{morning}"));
        let cells: Vec<&str> = row.split('\t').collect();
        assert_eq!(cells[0], (i + 1).to_string());
        assert!(
            cells[1].starts_with(&record[1]),
            "{} / {}",
            cells[1],
            &record[1]
        );
        // `Minh Đức (thị trấn)`: the name without the kind in brackets.
        let communes = record[3]
            .split(';')
            .map(|c| c.split(" (").next().unwrap_or(c).trim());
        for commune in communes.filter(|c| !c.is_empty()) {
            assert!(
                cells[2].to_lowercase().contains(&commune.to_lowercase()),
                "row {i}: {commune} in {}",
                cells[2]
            );
        }
        n += 1;
    }
    assert_eq!(n, 32);
    assert_eq!(table.len(), 32);
    assert!(morning.contains("(Danh sách này gồm 32 điểm cầu)"));
    assert!(
        text.contains(
            "- Trực tuyến tại 32 điểm cầu (danh sách tại Phụ lục I). Thành phần tham dự:"
        )
    );
    // It names its parent in its own words, so no "Căn cứ" line is added.
    assert!(!text.contains("Căn cứ Kế hoạch số 1609"));
    assert!(text.contains("Kế hoạch này thay cho Giấy mời tham dự 02 Hội nghị./."));
    assert!(text.contains("TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nUông Minh Long"));
    insta::assert_snapshot!("plan_250_txt", text);
});

store_test!(a_derived_plan_cites_its_parent, |app| {
    let parent = seeded(app, "plan-1609").await;
    let issuer = id_of(app, "ubnd-thuy-nguyen").await;
    let plan = app
        .create(
            "/api/v1/plans",
            json!({"issuing_unit_id": issuer, "symbol": "KH-UBND", "number": 7,
                   "place": "Thủy Nguyên", "issued_on": "2025-01-05", "title": "Tổ chức tập huấn",
                   "signatory_position": "CHỦ TỊCH", "signatory_name": "Nguyễn Văn A",
                   "parent_plan_id": parent,
                   "legal_bases": ["Căn cứ Luật Giáo dục năm 2019."]}),
        )
        .await;
    let (status, _, text) = fetch(app, &format!("/api/v1/plans/{plan}/document.txt")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("Số: 07/KH-UBND\n"), "{text}");
    assert!(
        text.contains("Thủy Nguyên, ngày 05 tháng 01 năm 2025"),
        "{text}"
    );
    assert!(
        text.contains(
            "Căn cứ Kế hoạch số 1609/KH-SGDĐT ngày      tháng 12 năm 2024 của Sở Giáo dục và \
             Đào tạo Hải Phòng về việc tổ chức Hội nghị tập huấn về xây dựng “Đơn vị học tập” \
             cấp huyện, tỉnh và Hội nghị tập huấn về xây dựng “Cộng đồng học tập” cấp xã, huyện, \
             tỉnh trên địa bàn thành phố Hải Phòng;\nCăn cứ Luật Giáo dục năm 2019.\n"
        ),
        "{text}"
    );
    // It carries out the parent's two conferences: their times and places print in it
    // (section III), but no bridge point is its own yet and no task: no appendix.
    assert!(text.contains("THÀNH PHẦN CỦA"), "{text}");
    assert!(!text.contains("Phụ lục"), "{text}");
    assert!(text.contains("\nNơi nhận:\n- Lưu: VT.\n"), "{text}");
});

store_test!(the_plan_as_html_follows_nd30, |app| {
    let id = seeded(app, "plan-1609").await;
    let (status, headers, html) = fetch(app, &format!("/api/v1/plans/{id}/document.html")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(html.contains("@page { size: A4; margin: 20mm 15mm 20mm 30mm;"));
    assert!(html.contains("@page :first { @top-center { content: none; } }"));
    assert!(html.contains("<div class=\"parent\">UBND THÀNH PHỐ HẢI PHÒNG</div>"));
    assert!(html.contains("<div class=\"issuer\">SỞ GIÁO DỤC VÀ ĐÀO TẠO</div>"));
    assert!(html.contains("<div class=\"nation\">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</div>"));
    assert!(html.contains("<div class=\"motto\">Độc lập - Tự do - Hạnh phúc</div>"));
    assert!(html.contains("<div class=\"number\">Số: 1609/KH-SGDĐT</div>"));
    assert!(html.contains("<div class=\"date\">Hải Phòng, ngày      tháng 12 năm 2024</div>"));
    assert!(html.contains(".header .date { font-style: italic;"));
    // Legal bases in italics, each ending `;`, the last `.`.
    assert!(html.contains("p.basis { font-style: italic; }"));
    let bases: Vec<&str> = html
        .split("<p class=\"basis\">")
        .skip(1)
        .map(|p| p.split("</p>").next().unwrap())
        .collect();
    assert_eq!(bases.len(), 2);
    assert!(
        bases[0].ends_with(';') && bases[1].ends_with('.'),
        "{bases:?}"
    );
    // `Nơi nhận:` in bold italic, entries `- …;`, the last `- Lưu: VT, …`.
    assert!(html.contains(
        ".footer .recipients .to { font-weight: bold; font-style: italic; font-size: 12pt; }"
    ));
    let block = &html[html
        .find("<div class=\"to\">Nơi nhận:</div>")
        .expect("recipients")..];
    let entries: Vec<&str> = block
        .split("<div>")
        .skip(1)
        .map(|e| e.split("</div>").next().unwrap())
        .take_while(|e| e.starts_with("- "))
        .collect();
    assert_eq!(entries.len(), 10);
    assert!(entries[..9].iter().all(|e| e.ends_with(';')), "{entries:?}");
    assert_eq!(entries[9], "- Lưu: VT, GDTX&amp;ĐH.");
    // Three appendices, each on a new page with its reference line.
    assert!(html.contains(".appendix { page-break-before: always; break-before: page; }"));
    assert_eq!(html.matches("<section class=\"appendix\">").count(), 3);
    assert_eq!(
        html.matches("<p class=\"reference\">(Kèm theo Kế hoạch số 1609/KH-SGDĐT ngày      tháng 12 năm 2024 của Sở GDĐT)</p>").count(),
        3
    );
    assert_eq!(html.matches("<td class=\"time\">").count(), 17);

    // Data is escaped.
    let unit = app
        .unit("Sở <script>alert(1)</script>", "department", None, None)
        .await;
    let plan = app
        .create(
            "/api/v1/plans",
            json!({"issuing_unit_id": unit, "symbol": "KH-SGDĐT", "place": "Hải Phòng",
                   "issued_year": 2025, "title": "<b>Kế hoạch</b>",
                   "signatory_position": "GIÁM ĐỐC", "signatory_name": "A"}),
        )
        .await;
    let (status, _, html) = fetch(app, &format!("/api/v1/plans/{plan}/document.html")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script>alert"), "escaped");
    assert!(
        html.contains("SỞ &lt;SCRIPT&gt;ALERT(1)&lt;/SCRIPT&gt;"),
        "{html}"
    );
    assert!(html.contains("&lt;b&gt;Kế hoạch&lt;/b&gt;"));
    assert!(html.contains("<div class=\"number\">Số:      /KH-SGDĐT</div>"));

    let (status, _, _) = fetch(app, &format!("/api/v1/plans/{id}/document.pdf")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = fetch(app, "/api/v1/plans/999999/document.txt").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

store_test!(the_plan_as_docx_follows_nd30_and_converts_to_pdf, |app| {
    let id = seeded(app, "plan-1609").await;
    let (status, headers, docx) =
        fetch_bytes(app, &format!("/api/v1/plans/{id}/document.docx")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"Ke-hoach-1609-KH-SGDDT.docx\""),
        "{disposition}"
    );
    let xml = docx_part(&docx, "word/document.xml");
    // A4 portrait and NĐ30 margins (twips: 20 mm = 1134, 30 mm = 1701, 15 mm = 850); a
    // first page without the page number.
    assert!(
        xml.contains("<w:pgSz w:w=\"11906\" w:h=\"16838\" />"),
        "{xml}"
    );
    assert!(
        xml.contains("<w:pgMar w:top=\"1134\" w:right=\"850\" w:bottom=\"1134\" w:left=\"1701\"")
    );
    assert!(xml.contains("<w:titlePg />"));
    assert!(docx_part(&docx, "word/styles.xml").contains("w:ascii=\"Times New Roman\""));
    let paragraphs = docx_paragraphs(&xml);
    let find = |text: &str| {
        paragraphs
            .iter()
            .find(|(t, _, _)| t == text)
            .unwrap_or_else(|| panic!("no paragraph {text:?}"))
    };
    assert!(!find("UBND THÀNH PHỐ HẢI PHÒNG").1, "parent body not bold");
    assert!(find("SỞ GIÁO DỤC VÀ ĐÀO TẠO").1, "issuer in bold");
    assert!(find("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM").1);
    assert!(find("Độc lập - Tự do - Hạnh phúc").1);
    find("Số: 1609/KH-SGDĐT");
    assert!(
        find("Hải Phòng, ngày      tháng 12 năm 2024").2,
        "date line in italics"
    );
    assert!(find("KẾ HOẠCH").1);
    // Legal bases in italics, `;` then `.`.
    let bases: Vec<&(String, bool, bool)> = paragraphs
        .iter()
        .filter(|(t, _, _)| t.starts_with("Thực hiện chỉ đạo") || t.starts_with("Căn cứ"))
        .collect();
    assert_eq!(bases.len(), 2);
    assert!(bases.iter().all(|(_, _, italic)| *italic));
    assert!(bases[0].0.ends_with(';') && bases[1].0.ends_with('.'));
    let to = find("Nơi nhận:");
    assert!(to.1 && to.2, "Nơi nhận: in bold italics");
    find("- Lưu: VT, GDTX&amp;ĐH.");
    find("GIÁM ĐỐC");
    assert!(find("Bùi Văn Kiệt").1);
    // Three appendices, each on a new page with its reference line.
    assert_eq!(xml.matches("<w:pageBreakBefore />").count(), 3);
    assert_eq!(
        paragraphs
            .iter()
            .filter(|(t, _, i)| *i
                && t == "(Kèm theo Kế hoạch số 1609/KH-SGDĐT ngày      tháng 12 năm 2024 của Sở GDĐT)")
            .count(),
        3
    );
    find("(Danh sách này gồm 03 người)");

    // The agenda of one conference as DOCX: its nine rows.
    let conference = id_of(app, "conf-dvht").await;
    let (status, _, agenda) = fetch_bytes(
        app,
        &format!("/api/v1/conferences/{conference}/agenda.docx"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let agenda = docx_paragraphs(&docx_part(&agenda, "word/document.xml"));
    let times: Vec<&str> = agenda
        .iter()
        .map(|(t, _, _)| t.as_str())
        .filter(|t| t.contains('h') && t.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(times.len(), 9, "{times:?}");
    assert_eq!(times[0], "7h30-8h00");

    // LibreOffice opens it: converted to PDF, its text holds every agenda row.
    if app.db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
        return; // the conversion checks the file, not the store: once is enough
    }
    let Some(pdf_text) = pdf_text_of(&docx, "plan-1609") else {
        missing_checker("libreoffice and pdftotext (the PDF conversion)");
        return;
    };
    let flat = normal(&pdf_text);
    let seed = shared("seeds/000_61f3c9d03a74764c.txt");
    let mut rows = 0;
    for line in seed.lines().filter(|l| l.contains('\t')) {
        let cells: Vec<String> = line.split('\t').map(normal).collect();
        if !cells[0].contains('h') || !cells[0].starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        rows += 1;
        assert!(flat.contains(&cells[0]), "time {} in the PDF", cells[0]);
        // The first words of the content: a cell may wrap anywhere after them.
        let start: String = cells[1].split(' ').take(3).collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&start), "{start:?} in the PDF");
    }
    assert_eq!(rows, 17);
    assert!(flat.contains("(Danh sách này gồm 03 người)"));
    assert!(flat.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
});

/// `libreoffice --headless --convert-to pdf`, then `pdftotext`; `None` when either tool is
/// missing.
fn pdf_text_of(docx: &[u8], stem: &str) -> Option<String> {
    use std::process::Command;
    let have = |tool: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let office = ["libreoffice", "soffice"].into_iter().find(|t| have(t))?;
    if !have("pdftotext") {
        return None;
    }
    let dir = std::env::temp_dir().join(format!(
        "hoinghi-docx-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let input = dir.join(format!("{stem}.docx"));
    std::fs::write(&input, docx).expect("write docx");
    let converted = Command::new(office)
        .arg(format!(
            "-env:UserInstallation=file://{}/profile",
            dir.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&dir)
        .arg(&input)
        .output()
        .expect("run libreoffice");
    let pdf = dir.join(format!("{stem}.pdf"));
    assert!(
        converted.status.success() && pdf.exists(),
        "libreoffice could not convert the DOCX: {}{}",
        String::from_utf8_lossy(&converted.stdout),
        String::from_utf8_lossy(&converted.stderr)
    );
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("run pdftotext");
    assert!(text.status.success(), "pdftotext failed");
    let _ = std::fs::remove_dir_all(&dir);
    Some(String::from_utf8_lossy(&text.stdout).into_owned())
}

store_test!(a_letter_invites_one_unit_to_its_place, |app| {
    let conference = seeded(app, "conf-dvht").await;
    // A district People's Committee: online, at its bridge point, 01 người/đơn vị.
    let district = id_of(app, "ubnd-thuy-nguyen").await;
    let (status, headers, text) = fetch(
        app,
        &format!("/api/v1/conferences/{conference}/letters/{district}.txt"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        &lines[..3],
        [
            "UBND THÀNH PHỐ HẢI PHÒNG",
            "SỞ GIÁO DỤC VÀ ĐÀO TẠO",
            "Số:      /GM-SGDĐT"
        ]
    );
    assert!(text.contains(
        "\nGIẤY MỜI\nDự Hội nghị tập huấn về xây dựng “Đơn vị học tập” cấp huyện, tỉnh\n"
    ));
    assert!(text.contains("Sở GDĐT trân trọng kính mời: UBND huyện Thủy Nguyên\n"));
    assert!(
        text.contains("- Kính mời 01 đại biểu là Lãnh đạo UBND quận/huyện"),
        "{text}"
    );
    assert!(text.contains("Số lượng: 01 người/đơn vị."), "{text}");
    assert!(text.contains("Thời gian: 1/2 ngày, bắt đầu từ 08h00' ngày 18/12/2024 (thứ Tư).\n"));
    assert!(
        text.contains("Địa điểm: trực tuyến tại điểm cầu Phòng Giáo dục và Đào tạo huyện Thủy Nguyên, Hội trường tầng 2.\n"),
        "{text}"
    );
    assert!(text.contains("Nơi nhận:\n- Như trên;\n- Lưu: VT, GDTX&ĐH.\n"));
    assert!(text.ends_with("GIÁM ĐỐC\nBùi Văn Kiệt\n"), "{text}");

    // A school of the city: in the hall.
    let school = id_of(app, "tct-to-hieu").await;
    let (status, _, text) = fetch(
        app,
        &format!("/api/v1/conferences/{conference}/letters/{school}.txt"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("Địa điểm: Hội trường tầng 3, cơ quan Sở GDĐT"),
        "{text}"
    );

    // A nominated delegate is named in the letter.
    let person = app
        .create(
            "/api/v1/people",
            json!({"full_name": "Uông Minh Long", "honorific": "Ông",
                   "position": "Phó Chủ tịch UBND huyện", "unit_id": district,
                   "email": "long@thuynguyen.example"}),
        )
        .await;
    let (status, body) = app
        .post(
            "/api/v1/delegates",
            json!({"conference_id": conference, "person_id": person, "unit_id": district,
                   "venue": "bridge_point", "bridge_point_id": id_of(app, "bp-dvht-tn-00").await}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, _, text) = fetch(
        app,
        &format!("/api/v1/conferences/{conference}/letters/{district}.txt"),
    )
    .await;
    assert!(
        text.contains("Đại biểu đơn vị đã cử:\n+ Ông Uông Minh Long, Phó Chủ tịch UBND huyện\n"),
        "{text}"
    );

    // HTML and DOCX say the same.
    let (status, _, html) = fetch(
        app,
        &format!("/api/v1/conferences/{conference}/letters/{district}.html"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>GIẤY MỜI</h1>"));
    assert!(html.contains("<b>UBND huyện Thủy Nguyên</b>"));
    let (status, headers, docx) = fetch_bytes(
        app,
        &format!("/api/v1/conferences/{conference}/letters/{district}.docx"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let paragraphs = docx_paragraphs(&docx_part(&docx, "word/document.xml"));
    assert!(paragraphs.iter().any(|(t, b, _)| t == "GIẤY MỜI" && *b));
    assert!(
        paragraphs
            .iter()
            .any(|(t, _, _)| t == "+ Ông Uông Minh Long, Phó Chủ tịch UBND huyện")
    );

    // A unit the conference does not invite: 422 naming the unit.
    let commune = id_of(app, "ubnd-tn-an-lu").await;
    let r = app
        .client
        .get(format!(
            "{}/api/v1/conferences/{conference}/letters/{commune}.txt",
            app.address
        ))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"]["field"], "unit_id");
    assert_eq!(
        body["error"]["message"],
        "UBND xã An Lư không thuộc thành phần được mời dự hội nghị này."
    );
    let (status, _, _) = fetch(
        app,
        &format!("/api/v1/conferences/{conference}/letters/999999.txt"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

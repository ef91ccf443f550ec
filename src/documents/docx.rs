//! DOCX output of the plan, the agenda and the invitation letter (docx-rs): real paragraphs, runs and tables that
//! Word and LibreOffice open and edit, in the layout of Nghị định 30/2020/NĐ-CP: A4
//! portrait, margins 20 mm top and bottom, 30 mm left, 15 mm right, Times New Roman 14 pt
//! body, the two-column header as a table without borders, page numbers centred in the
//! top margin from page 2, each appendix on a new page.
//!
//! It reads the same view models as the HTML and text templates, so the three outputs say
//! the same; Handlebars cannot write a DOCX (a zip of XML parts), hence code.
use std::io::Cursor;

use docx_rs::{
    AlignmentType, BreakType, Docx, Header as DocxHeader, LineSpacing, PageMargin, PageNum,
    Paragraph, Run, RunFonts, SpecialIndentType, Table, TableCell, TableRow, WidthType,
};

use super::agenda::{AgendaDocument, AgendaRow};
use super::header::Header;
use super::letter::LetterDocument;
use super::plan::{Appendix, PlanDocument, Signature};
use crate::error::{Error, Result};

/// A4 in twentieths of a point (twips): 210 × 297 mm.
pub const A4_WIDTH: u32 = 11_906;
pub const A4_HEIGHT: u32 = 16_838;
/// NĐ30 margins in twips: 20 mm top and bottom, 30 mm left, 15 mm right.
pub const MARGIN_TOP: i32 = 1_134;
pub const MARGIN_BOTTOM: i32 = 1_134;
pub const MARGIN_LEFT: i32 = 1_701;
pub const MARGIN_RIGHT: i32 = 850;
/// The width between the margins.
const TEXT_WIDTH: usize = (A4_WIDTH as i32 - MARGIN_LEFT - MARGIN_RIGHT) as usize;
/// First-line indent of body paragraphs: 1.27 cm.
const FIRST_LINE: i32 = 720;
/// Sizes in half-points.
const BODY: usize = 28;
const HEADER: usize = 26;
const NATION: usize = 24;
const TABLE: usize = 26;
const RECIPIENTS: usize = 22;
const RECIPIENTS_TITLE: usize = 24;
/// 6 pt after a paragraph, in twentieths of a point.
const AFTER: u32 = 120;

const FONT: &str = "Times New Roman";

/// The plan as a DOCX file.
pub fn plan(doc: &PlanDocument) -> Result<Vec<u8>> {
    let mut d = opening(
        &doc.header,
        &doc.number,
        &doc.place_date,
        &doc.kind,
        &doc.title,
    );
    for basis in &doc.legal_bases {
        d = d.add_paragraph(body().add_run(run(basis).italic()));
    }
    for p in &doc.preamble {
        d = d.add_paragraph(body().add_run(run(p)));
    }
    for s in &doc.sections {
        d = d.add_paragraph(body().add_run(run(&s.heading).bold()).keep_next(true));
        for b in &s.blocks {
            let mut p = body();
            if !b.prefix.is_empty() {
                p = p.add_run(run(&b.prefix));
            }
            if !b.bold.is_empty() {
                p = p.add_run(run(&b.bold).bold());
            }
            let text = run(&b.text);
            p = p.add_run(if b.class == "clause" {
                text.bold()
            } else {
                text
            });
            if b.class == "clause" {
                p = p.keep_next(true);
            }
            d = d.add_paragraph(p);
        }
    }
    for p in &doc.closing {
        d = d.add_paragraph(body().add_run(run(p)));
    }
    d = d.add_table(signature_table(&doc.recipients, &doc.signature));
    for a in &doc.appendices {
        d = appendix(d, a);
    }
    pack(d)
}

/// The invitation letter as a DOCX file.
pub fn letter(doc: &LetterDocument) -> Result<Vec<u8>> {
    let mut d = opening(
        &doc.header,
        &doc.number,
        &doc.place_date,
        &doc.kind,
        &doc.title,
    );
    d = d.add_paragraph(
        body()
            .add_run(run(&format!("{} ", doc.inviter)))
            .add_run(run(&doc.addressee).bold()),
    );
    for c in &doc.composition {
        d = d.add_paragraph(body().add_run(run(&format!("- {c}"))));
    }
    if !doc.delegates.is_empty() {
        d = d.add_paragraph(body().add_run(run("Đại biểu đơn vị đã cử:")));
        for p in &doc.delegates {
            d = d.add_paragraph(body().add_run(run(&format!("+ {p}"))));
        }
    }
    for p in [&doc.time, &doc.place].into_iter().chain(&doc.closing) {
        d = d.add_paragraph(body().add_run(run(p)));
    }
    pack(d.add_table(signature_table(&doc.recipients, &doc.signature)))
}

/// The agenda of one conference as a DOCX file.
pub fn agenda(doc: &AgendaDocument) -> Result<Vec<u8>> {
    let mut d = page().add_table(header_table(&doc.header, None, None));
    d = d
        .add_paragraph(centred(run("CHƯƠNG TRÌNH").size(BODY).bold()).line_spacing(space(240, 0)))
        .add_paragraph(centred(run(&doc.title).size(BODY).bold()));
    let mut when = centred(
        run(&format!("Thời gian: {}, {}", doc.time, doc.date))
            .size(BODY)
            .italic(),
    );
    if !doc.place.is_empty() {
        when = when
            .add_run(Run::new().add_break(BreakType::TextWrapping))
            .add_run(run(&format!("Địa điểm: {}", doc.place)).italic());
    }
    d = d.add_paragraph(when.line_spacing(space(0, AFTER)));
    let mut rows = vec![heading_row(&["Thời gian", "Nội dung", "Thực hiện"])];
    agenda_rows(&mut rows, &doc.rows);
    pack(d.add_table(grid(rows, &[18, 52, 30])))
}

/// A numbered document's first lines: the header with number and date, then its kind
/// (`KẾ HOẠCH`, `GIẤY MỜI`) and title in bold, and a short rule.
fn opening(h: &Header, number: &str, place_date: &str, kind: &str, title: &str) -> Docx {
    page()
        .add_table(header_table(h, Some(number), Some(place_date)))
        .add_paragraph(centred(run(kind).size(BODY).bold()).line_spacing(space(240, 0)))
        .add_paragraph(centred(run(title).size(BODY).bold()))
        .add_paragraph(centred(run("________").size(BODY)).line_spacing(space(0, AFTER)))
}

/// A new document: A4, NĐ30 margins, Times New Roman, page numbers from page 2.
fn page() -> Docx {
    let fonts = RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .east_asia(FONT)
        .cs(FONT);
    Docx::new()
        .page_size(A4_WIDTH, A4_HEIGHT)
        .page_margin(
            PageMargin::new()
                .top(MARGIN_TOP)
                .bottom(MARGIN_BOTTOM)
                .left(MARGIN_LEFT)
                .right(MARGIN_RIGHT)
                .header(567)
                .footer(567),
        )
        .default_fonts(fonts)
        .default_size(BODY)
        .header(
            DocxHeader::new().add_paragraph(
                Paragraph::new()
                    .add_page_num(PageNum::new())
                    .align(AlignmentType::Center),
            ),
        )
        .first_header(DocxHeader::new())
}

fn pack(d: Docx) -> Result<Vec<u8>> {
    let fail =
        |e: zip::result::ZipError| Error::Internal(format!("cannot write the DOCX file: {e}"));
    let mut stored = Cursor::new(Vec::new());
    d.build().pack(&mut stored).map_err(fail)?;
    deflate(stored.into_inner()).map_err(fail)
}

/// The same zip with its parts deflated: docx-rs stores them as they are, which makes a
/// national plan 3.9 MB instead of 0.28 MB.
fn deflate(stored: Vec<u8>) -> zip::result::ZipResult<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut input = zip::ZipArchive::new(Cursor::new(stored))?;
    let mut output = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for i in 0..input.len() {
        let mut part = input.by_index(i)?;
        let name = part.name().to_owned();
        if part.is_dir() {
            output.add_directory(name, SimpleFileOptions::default())?;
        } else {
            output.start_file(name, options)?;
            std::io::copy(&mut part, &mut output)?;
        }
    }
    Ok(output.finish()?.into_inner())
}

/// A run of text; control characters other than tab (which XML 1.0 cannot carry, and
/// Word refuses) are dropped.
fn run(text: &str) -> Run {
    Run::new().add_text(xml_text(text))
}

fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
}

fn space(before: u32, after: u32) -> LineSpacing {
    LineSpacing::new().before(before).after(after)
}

/// A body paragraph: justified, first line indented, 6 pt after.
fn body() -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Both)
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(FIRST_LINE)),
            None,
            None,
        )
        .line_spacing(space(0, AFTER))
}

/// A centred paragraph of one run.
fn centred(r: Run) -> Paragraph {
    Paragraph::new().align(AlignmentType::Center).add_run(r)
}

/// The header: parent body and issuer (bold) with the number under them on the left;
/// the national name and motto (bold) with the place and date (italic) on the right.
fn header_table(h: &Header, number: Option<&str>, place_date: Option<&str>) -> Table {
    let mut left = TableCell::new().width(TEXT_WIDTH * 2 / 5, WidthType::Dxa);
    if !h.parent_body.is_empty() {
        left = left.add_paragraph(centred(run(&h.parent_body).size(HEADER)));
    }
    for line in &h.issuing_body {
        left = left.add_paragraph(centred(run(line).size(HEADER).bold()));
    }
    left = left.add_paragraph(centred(run("________").size(HEADER)));
    if let Some(n) = number {
        left = left.add_paragraph(centred(run(n).size(HEADER)));
    }
    let mut right = TableCell::new()
        .width(TEXT_WIDTH * 3 / 5, WidthType::Dxa)
        .add_paragraph(centred(
            run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
                .size(NATION)
                .bold(),
        ))
        .add_paragraph(centred(
            run("Độc lập - Tự do - Hạnh phúc").size(HEADER).bold(),
        ))
        .add_paragraph(centred(run("________________").size(HEADER)));
    if let Some(pd) = place_date {
        right = right.add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(run(pd).italic().size(BODY)),
        );
    }
    Table::without_borders(vec![TableRow::new(vec![left, right])])
        .set_grid(vec![TEXT_WIDTH * 2 / 5, TEXT_WIDTH * 3 / 5])
        .width(TEXT_WIDTH, WidthType::Dxa)
}

/// `Nơi nhận:` (bold italic 12 pt) and its entries (11 pt) on the left, level with the
/// signature block (bold) on the right.
fn signature_table(recipients: &[String], signature: &Signature) -> Table {
    let line = |text: &str, size: usize| {
        Paragraph::new()
            .align(AlignmentType::Left)
            .add_run(run(text).size(size))
    };
    let mut left = TableCell::new()
        .width(TEXT_WIDTH / 2, WidthType::Dxa)
        .add_paragraph(
            Paragraph::new().add_run(run("Nơi nhận:").bold().italic().size(RECIPIENTS_TITLE)),
        );
    for r in recipients {
        left = left.add_paragraph(line(r, RECIPIENTS));
    }
    let mut right = TableCell::new().width(TEXT_WIDTH / 2, WidthType::Dxa);
    for a in &signature.authority {
        right = right.add_paragraph(centred(run(a).size(BODY).bold()));
    }
    right = right.add_paragraph(centred(run(&signature.position).size(BODY).bold()));
    for _ in 0..4 {
        right = right.add_paragraph(Paragraph::new());
    }
    right = right.add_paragraph(centred(run(&signature.name).size(BODY).bold()));
    Table::without_borders(vec![TableRow::new(vec![left, right])])
        .set_grid(vec![TEXT_WIDTH / 2, TEXT_WIDTH / 2])
        .width(TEXT_WIDTH, WidthType::Dxa)
}

/// An appendix: on a new page, its label and title in bold, the reference in italics, its
/// table and count line.
fn appendix(mut d: Docx, a: &Appendix) -> Docx {
    d = d
        .add_paragraph(centred(run(&a.label).size(BODY).bold()).page_break_before(true))
        .add_paragraph(centred(run(&a.title).size(BODY).bold()));
    for s in &a.subtitle {
        d = d.add_paragraph(centred(run(s).size(BODY).bold()));
    }
    d = d.add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .line_spacing(space(0, AFTER))
            .add_run(run(&a.reference).italic()),
    );
    let count = |d: Docx, text: &str| {
        d.add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .line_spacing(space(AFTER, AFTER))
                .add_run(run(text).italic()),
        )
    };
    if let Some(s) = &a.speakers {
        let mut rows = vec![heading_row(&["TT", "Họ tên", "Chức vụ"])];
        for r in &s.rows {
            rows.push(TableRow::new(vec![
                cell(&[r.number.to_string()], AlignmentType::Center),
                cell(std::slice::from_ref(&r.name), AlignmentType::Left),
                cell(std::slice::from_ref(&r.position), AlignmentType::Left),
            ]));
        }
        d = count(d.add_table(grid(rows, &[8, 42, 50])), &s.count);
    }
    if let Some(groups) = &a.agenda {
        let mut rows = vec![heading_row(&["Thời gian", "Nội dung", "Thực hiện"])];
        for g in groups {
            for h in &g.heading {
                rows.push(group_row(h, 3));
            }
            agenda_rows(&mut rows, &g.rows);
        }
        d = d.add_table(grid(rows, &[18, 52, 30]));
    }
    if let Some(groups) = &a.bridge_points {
        for g in groups {
            if !g.heading.is_empty() {
                d = d.add_paragraph(centred(run(&g.heading).size(BODY).bold()).keep_next(true));
            }
            let mut rows = vec![heading_row(&["TT", "Điểm cầu", "Đơn vị tham dự"])];
            for r in &g.rows {
                let mut place = vec![r.name.clone()];
                place.extend(r.place.iter().cloned());
                rows.push(TableRow::new(vec![
                    cell(&[r.number.to_string()], AlignmentType::Center),
                    cell(&place, AlignmentType::Left),
                    cell(&r.units, AlignmentType::Left),
                ]));
            }
            d = count(d.add_table(grid(rows, &[8, 40, 52])), &g.count);
        }
    }
    if let Some(groups) = &a.tasks {
        let mut rows = vec![heading_row(&[
            "TT",
            "Nội dung",
            "Đơn vị chủ trì",
            "Đơn vị phối hợp",
            "Thời gian",
        ])];
        for g in groups {
            if !g.heading.is_empty() {
                rows.push(group_row(&g.heading, 5));
            }
            for r in &g.rows {
                rows.push(TableRow::new(vec![
                    cell(&[r.number.to_string()], AlignmentType::Center),
                    cell(&r.content, AlignmentType::Left),
                    cell(&r.lead, AlignmentType::Left),
                    cell(&r.supporting, AlignmentType::Left),
                    cell(std::slice::from_ref(&r.period), AlignmentType::Left),
                ]));
            }
        }
        d = d.add_table(grid(rows, &[6, 40, 18, 20, 16]));
    }
    d
}

fn agenda_rows(rows: &mut Vec<TableRow>, agenda: &[AgendaRow]) {
    for r in agenda {
        if !r.day.is_empty() {
            rows.push(group_row(&r.day, 3));
        }
        rows.push(TableRow::new(vec![
            cell(std::slice::from_ref(&r.time), AlignmentType::Center),
            cell(&r.content, AlignmentType::Left),
            cell(&r.performer, AlignmentType::Left),
        ]));
    }
}

/// A bordered table whose columns take `percent` of the text width.
fn grid(rows: Vec<TableRow>, percent: &[usize]) -> Table {
    let widths: Vec<usize> = percent.iter().map(|p| TEXT_WIDTH * p / 100).collect();
    Table::new(rows)
        .set_grid(widths)
        .width(TEXT_WIDTH, WidthType::Dxa)
}

/// A cell with its lines in one paragraph, separated by line breaks: a national plan has
/// some 20,000 cell lines, and a paragraph per line would triple the memory docx-rs takes.
fn cell(lines: &[String], align: AlignmentType) -> TableCell {
    let mut r = Run::new().size(TABLE);
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            r = r.add_break(BreakType::TextWrapping);
        }
        r = r.add_text(xml_text(l));
    }
    TableCell::new().add_paragraph(Paragraph::new().align(align).add_run(r))
}

fn heading_row(titles: &[&str]) -> TableRow {
    TableRow::new(
        titles
            .iter()
            .map(|t| {
                TableCell::new().add_paragraph(
                    Paragraph::new()
                        .align(AlignmentType::Center)
                        .add_run(run(t).bold().size(TABLE)),
                )
            })
            .collect(),
    )
}

fn group_row(text: &str, span: usize) -> TableRow {
    TableRow::new(vec![TableCell::new().grid_span(span).add_paragraph(
        Paragraph::new().add_run(run(text).bold().size(TABLE)),
    )])
}

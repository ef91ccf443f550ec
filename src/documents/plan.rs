//! The plan (Kế hoạch) as a document in the layout of Nghị định 30/2020/NĐ-CP: header,
//! number and date, title, legal bases, the sections as entered with section III (time,
//! place and composition of each conference) written from the conferences, the closing,
//! recipients and signature; then the appendices, each on a new page: the speaker list, the
//! agenda of the conferences, the bridge-point table and the task-assignment table.
//!
//! The view model is built here once and rendered by the HTML and text templates and by the
//! DOCX writer, so that all three say the same.
use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Month, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

use super::agenda::{self, AgendaRow};
use super::header::{self, Header};
use crate::domain::format::{self, BLANK, DaySpan, DocumentDate};
use crate::domain::kinds::{ConferenceMode, Venue};
use crate::error::Result;
use crate::services::crud;
use crate::services::links;
use crate::services::resources::plan::{Plans, Recipient, Section as StoredSection};
use crate::store::{
    agenda_item, agenda_item_speaker, attendance_rule, bridge_point, bridge_point_unit, conference,
    plan, plan_task, speaker, unit,
};

/// What the plan templates and the DOCX writer read.
#[derive(Clone, Debug, Serialize)]
pub struct PlanDocument {
    pub header: Header,
    /// `Số: 1609/KH-SGDĐT`, or `Số:      /KH-SGDĐT` in a draft.
    pub number: String,
    /// `Hải Phòng, ngày      tháng 12 năm 2024`
    pub place_date: String,
    /// `KẾ HOẠCH`
    pub kind: String,
    pub title: String,
    /// Each ends `;`, the last `.`.
    pub legal_bases: Vec<String>,
    pub preamble: Vec<String>,
    pub sections: Vec<Section>,
    /// The closing paragraphs; the last ends `./.`.
    pub closing: Vec<String>,
    /// `- UBND TP (để b/c);` … `- Lưu: VT, GDTX&ĐH.`
    pub recipients: Vec<String>,
    pub signature: Signature,
    pub appendices: Vec<Appendix>,
}

/// A section: `I. MỤC ĐÍCH, YÊU CẦU` and its paragraphs.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    pub heading: String,
    pub blocks: Vec<Block>,
}

/// One paragraph of a section, printed as `prefix` + `bold` (in bold) + `text`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Block {
    /// `clause` (`1. Mục đích`, bold), `point` (`a) …`), `dash` (`- …`), `plus` (`+ …`),
    /// `star` (`* …`) or `text`.
    pub class: &'static str,
    pub prefix: String,
    pub bold: String,
    pub text: String,
}

impl Block {
    fn plain(class: &'static str, text: impl Into<String>) -> Self {
        Self {
            class,
            prefix: String::new(),
            bold: String::new(),
            text: text.into(),
        }
    }

    fn lead(class: &'static str, prefix: &str, bold: &str, text: impl Into<String>) -> Self {
        Self {
            class,
            prefix: prefix.into(),
            bold: bold.into(),
            text: text.into(),
        }
    }

    /// The paragraph as one line of text.
    pub fn line(&self) -> String {
        format!("{}{}{}", self.prefix, self.bold, self.text)
    }
}

/// The signature block.
#[derive(Clone, Debug, Serialize)]
pub struct Signature {
    /// `TM. ỦY BAN NHÂN DÂN`, `KT. CHỦ TỊCH`: one entry per line; may be empty.
    pub authority: Vec<String>,
    pub position: String,
    pub name: String,
}

/// An appendix: exactly one of its four bodies is set.
#[derive(Clone, Debug, Serialize)]
pub struct Appendix {
    /// `Phụ lục I`
    pub label: String,
    /// `DANH SÁCH BÁO CÁO VIÊN`
    pub title: String,
    /// Lines under the title in bold (the conferences an agenda covers); may be empty.
    pub subtitle: Vec<String>,
    /// `(Kèm theo Kế hoạch số 1609/KH-SGDĐT ngày      tháng 12 năm 2024 của Sở GDĐT)`
    pub reference: String,
    pub speakers: Option<SpeakerList>,
    pub agenda: Option<Vec<AgendaGroup>>,
    pub bridge_points: Option<Vec<BridgePointGroup>>,
    pub tasks: Option<Vec<TaskGroup>>,
}

/// The speaker list and its count line.
#[derive(Clone, Debug, Serialize)]
pub struct SpeakerList {
    pub rows: Vec<SpeakerRow>,
    /// `(Danh sách này gồm 03 người)`
    pub count: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct SpeakerRow {
    pub number: u32,
    /// `Ông Nguyễn Anh Thuận`
    pub name: String,
    /// `Trưởng Phòng GDTX&ĐH, Sở GDĐT`
    pub position: String,
}

/// The agenda of one conference inside the plan's agenda appendix.
#[derive(Clone, Debug, Serialize)]
pub struct AgendaGroup {
    /// `Buổi sáng, ngày 18/12/2024` and the conference's title, when the appendix covers
    /// several conferences; else empty.
    pub heading: Vec<String>,
    pub rows: Vec<AgendaRow>,
}

/// The bridge points of one conference.
#[derive(Clone, Debug, Serialize)]
pub struct BridgePointGroup {
    /// The conference's title when the table covers several conferences; else empty.
    pub heading: String,
    pub rows: Vec<BridgePointRow>,
    /// `(Danh sách này gồm 32 điểm cầu)`
    pub count: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct BridgePointRow {
    pub number: u32,
    pub name: String,
    /// Room and address, one per line; may be empty.
    pub place: Vec<String>,
    /// The attending units, one per line.
    pub units: Vec<String>,
}

/// Tasks under one group title (`1. Các nhiệm vụ theo Kế hoạch của Sở …`).
#[derive(Clone, Debug, Serialize)]
pub struct TaskGroup {
    pub heading: String,
    pub rows: Vec<TaskRow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TaskRow {
    pub number: u32,
    pub content: Vec<String>,
    pub lead: Vec<String>,
    pub supporting: Vec<String>,
    pub period: String,
}

impl PlanDocument {
    /// A document with every field and every kind of appendix filled: templates are checked
    /// against it at start-up.
    pub fn sample() -> Self {
        let reference = "(Kèm theo Kế hoạch số 07/KH-SGDĐT ngày 05 tháng 01 năm 2025 của Sở GDĐT)";
        let appendix = |label: &str, title: &str| Appendix {
            label: label.into(),
            title: title.into(),
            subtitle: vec!["Hội nghị tập huấn".into()],
            reference: reference.into(),
            speakers: None,
            agenda: None,
            bridge_points: None,
            tasks: None,
        };
        Self {
            header: Header::sample(),
            number: "Số: 07/KH-SGDĐT".into(),
            place_date: "Hải Phòng, ngày 05 tháng 01 năm 2025".into(),
            kind: "KẾ HOẠCH".into(),
            title: "Tổ chức Hội nghị tập huấn".into(),
            legal_bases: vec!["Căn cứ …;".into(), "Căn cứ ….".into()],
            preamble: vec!["Sở GDĐT xây dựng Kế hoạch như sau:".into()],
            sections: vec![Section {
                heading: "I. MỤC ĐÍCH, YÊU CẦU".into(),
                blocks: vec![
                    Block::plain("clause", "1. Mục đích"),
                    Block::lead("dash", "- ", "Trực tiếp", " tại Hội trường."),
                ],
            }],
            closing: vec!["Trên đây là Kế hoạch./.".into()],
            recipients: vec!["- Như trên;".into(), "- Lưu: VT.".into()],
            signature: Signature {
                authority: vec!["KT. GIÁM ĐỐC".into()],
                position: "PHÓ GIÁM ĐỐC".into(),
                name: "Nguyễn Văn A".into(),
            },
            appendices: vec![
                Appendix {
                    speakers: Some(SpeakerList {
                        rows: vec![SpeakerRow {
                            number: 1,
                            name: "Ông Nguyễn Văn B".into(),
                            position: "Trưởng phòng".into(),
                        }],
                        count: "(Danh sách này gồm 01 người)".into(),
                    }),
                    ..appendix("Phụ lục I", "DANH SÁCH BÁO CÁO VIÊN")
                },
                Appendix {
                    agenda: Some(vec![AgendaGroup {
                        heading: vec!["Buổi sáng, ngày 18/12/2024".into()],
                        rows: agenda::AgendaDocument::sample().rows,
                    }]),
                    ..appendix("Phụ lục II", "CHƯƠNG TRÌNH")
                },
                Appendix {
                    bridge_points: Some(vec![BridgePointGroup {
                        heading: "Hội nghị tập huấn".into(),
                        rows: vec![BridgePointRow {
                            number: 1,
                            name: "Trường THCS An Lư".into(),
                            place: vec!["Phòng họp".into()],
                            units: vec!["UBND xã An Lư".into()],
                        }],
                        count: "(Danh sách này gồm 01 điểm cầu)".into(),
                    }]),
                    ..appendix("Phụ lục III", "DANH SÁCH ĐIỂM CẦU TRỰC TUYẾN")
                },
                Appendix {
                    tasks: Some(vec![TaskGroup {
                        heading: "1. Các nhiệm vụ".into(),
                        rows: vec![TaskRow {
                            number: 1,
                            content: vec!["Tuyên truyền".into()],
                            lead: vec!["Văn phòng Sở".into()],
                            supporting: vec!["Các phòng".into()],
                            period: "Cả năm".into(),
                        }],
                    }]),
                    ..appendix("Phụ lục IV", "PHÂN CÔNG THỰC HIỆN KẾ HOẠCH")
                },
            ],
        }
    }
}

/// A conference of the plan with what the documents print of it.
struct Conf {
    model: conference::Model,
    /// Organised by this plan (else inherited from the parent plan through its bridge
    /// points).
    own: bool,
    halls: Vec<String>,
    rules: Vec<attendance_rule::Model>,
    bridge_points: Vec<Point>,
}

/// What the documents print of a bridge point (read as a tuple: at national scale, whole
/// models cost more than the rest of the document).
#[derive(Clone, Debug)]
struct Point {
    id: i64,
    conference_id: i64,
    name: String,
    room: Option<String>,
    address: Option<String>,
}

/// Builds the document of plan `id` from the store.
pub async fn load(db: &impl ConnectionTrait, id: i64) -> Result<PlanDocument> {
    let p = crud::find::<Plans>(db, id).await?;
    let header = header::load(db, p.issuing_unit_id, p.parent_body.as_deref()).await?;
    let issuer = unit::Entity::find_by_id(p.issuing_unit_id).one(db).await?;
    let issuer_short = issuer
        .as_ref()
        .map(|u| u.short_name.clone().unwrap_or_else(|| u.name.clone()))
        .unwrap_or_default();
    let parent = match p.parent_plan_id {
        Some(pid) => plan::Entity::find_by_id(pid).one(db).await?,
        None => None,
    };

    let confs = conferences(db, &p).await?;
    let speakers = speakers(db, &confs).await?;
    let agenda = agenda_groups(db, &confs).await?;
    let bridge_groups = bridge_point_groups(db, &confs).await?;
    let tasks = task_groups(db, p.id).await?;

    // The appendices, numbered in the order they are printed.
    let reference = format!(
        "(Kèm theo {} {} của {issuer_short})",
        numbered("Kế hoạch số", p.number, &p.symbol),
        format::document_date(document_date(&p))
    );
    let mut appendices: Vec<Appendix> = Vec::new();
    let speaker_count = speakers.len();
    let speakers_label = (!speakers.is_empty()).then(|| {
        let count = format!(
            "(Danh sách này gồm {})",
            format::count(speakers.len() as u64, "người")
        );
        push_appendix(
            &mut appendices,
            "DANH SÁCH BÁO CÁO VIÊN",
            vec![],
            &reference,
            |a| {
                a.speakers = Some(SpeakerList {
                    rows: speakers,
                    count,
                })
            },
        )
    });
    if !agenda.is_empty() {
        let titles = confs
            .iter()
            .filter(|c| agenda.iter().any(|(id, _)| *id == c.model.id))
            .map(|c| c.model.title.clone())
            .collect::<Vec<_>>();
        let groups = agenda.into_iter().map(|(_, g)| g).collect();
        push_appendix(
            &mut appendices,
            "CHƯƠNG TRÌNH",
            join_titles(&titles),
            &reference,
            |a| a.agenda = Some(groups),
        );
    }
    let bridge_label = (!bridge_groups.is_empty()).then(|| {
        let ordered: Vec<BridgePointGroup> = confs
            .iter()
            .filter_map(|c| bridge_groups.get(&c.model.id).cloned())
            .collect();
        push_appendix(
            &mut appendices,
            "DANH SÁCH ĐIỂM CẦU TRỰC TUYẾN",
            vec![],
            &reference,
            |a| a.bridge_points = Some(ordered),
        )
    });
    if !tasks.is_empty() {
        push_appendix(
            &mut appendices,
            "PHÂN CÔNG THỰC HIỆN KẾ HOẠCH",
            vec![],
            &reference,
            |a| a.tasks = Some(tasks),
        );
    }

    let mut legal_bases: Vec<String> =
        serde_json::from_value(p.legal_bases.clone()).unwrap_or_default();
    if let Some(basis) = parent_basis(db, &p, parent.as_ref()).await? {
        legal_bases.insert(0, basis);
    }
    let stored: Vec<StoredSection> = serde_json::from_value(p.sections.clone()).unwrap_or_default();
    let mut sections: Vec<Section> = stored
        .iter()
        .map(|s| Section {
            heading: s.heading.trim().to_owned(),
            blocks: blocks(&s.body),
        })
        .collect();
    if !confs.is_empty() {
        let speakers = match &speakers_label {
            Some(label) => Speakers::Listed {
                count: speaker_count,
                label,
            },
            None => {
                let ids = confs
                    .iter()
                    .filter(|c| !c.own)
                    .map(|c| c.model.organiser_unit_id)
                    .collect();
                let names = unit_names(db, ids).await?;
                let mut names: Vec<String> = names.into_values().collect();
                names.sort();
                Speakers::Organisers(names)
            }
        };
        let generated =
            conference_section(&confs, speakers, bridge_label.as_deref(), &bridge_groups);
        insert_section(&mut sections, generated);
    }
    let recipients: Vec<Recipient> =
        serde_json::from_value(p.recipients.clone()).unwrap_or_default();
    Ok(PlanDocument {
        header,
        number: numbered("Số:", p.number, &p.symbol),
        place_date: format::place_and_date(&p.place, document_date(&p)),
        kind: "KẾ HOẠCH".into(),
        title: p.title.clone(),
        legal_bases: punctuate(legal_bases),
        preamble: agenda::lines(p.preamble.as_deref().unwrap_or_default()),
        sections,
        closing: closing(
            p.closing.as_deref().unwrap_or_default(),
            p.replaces_invitation,
            confs.len(),
        ),
        recipients: recipient_lines(&recipients, p.archive.as_deref()),
        signature: Signature {
            authority: agenda::lines(p.signatory_authority.as_deref().unwrap_or_default()),
            position: p.signatory_position.clone(),
            name: p.signatory_name.clone(),
        },
        appendices,
    })
}

/// Adds the next appendix (`Phụ lục II`…), with its body set by `body`; returns its label.
fn push_appendix(
    appendices: &mut Vec<Appendix>,
    title: &str,
    subtitle: Vec<String>,
    reference: &str,
    body: impl FnOnce(&mut Appendix),
) -> String {
    let label = format!("Phụ lục {}", format::roman(appendices.len() as u32 + 1));
    let mut a = Appendix {
        label: label.clone(),
        title: title.into(),
        subtitle,
        reference: reference.into(),
        speakers: None,
        agenda: None,
        bridge_points: None,
        tasks: None,
    };
    body(&mut a);
    appendices.push(a);
    label
}

/// `word` and the number: `Số: 1609/KH-SGDĐT`, `số 07/KH-SGDĐT` (numbers below 10 with a
/// leading zero); a draft keeps the blank in place of the number and the space before it
/// (`Số:      /KH-SGDĐT`).
pub fn numbered(word: &str, number: Option<i32>, symbol: &str) -> String {
    match number {
        Some(n) => format!(
            "{word} {}/{symbol}",
            format::two_digits(u64::try_from(n).unwrap_or(0))
        ),
        None => format!("{word}{BLANK}/{symbol}"),
    }
}

/// What is known of the plan's date.
fn document_date(p: &plan::Model) -> DocumentDate {
    if let Some(d) = p.issued_on {
        return DocumentDate::Full(d);
    }
    let year = p.issued_year.unwrap_or_else(|| Utc::now().year());
    match p
        .issued_month
        .and_then(|m| u8::try_from(m).ok())
        .and_then(|m| Month::try_from(m).ok())
    {
        Some(m) => DocumentDate::MonthAndYear(m, year),
        None => DocumentDate::YearOnly(year),
    }
}

/// "Căn cứ Kế hoạch số …" for a plan derived from another, unless a legal basis already
/// names the parent.
async fn parent_basis(
    db: &impl ConnectionTrait,
    p: &plan::Model,
    parent: Option<&plan::Model>,
) -> Result<Option<String>> {
    let bases: Vec<String> = serde_json::from_value(p.legal_bases.clone()).unwrap_or_default();
    if let Some(parent) = parent {
        let number = numbered("Kế hoạch số", parent.number, &parent.symbol);
        let key = number.trim_start_matches("Kế hoạch số").trim_start();
        if parent.number.is_some() && bases.iter().any(|b| b.contains(key)) {
            return Ok(None);
        }
        let issuer = unit::Entity::find_by_id(parent.issuing_unit_id)
            .one(db)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        let mut title = parent.title.trim().to_owned();
        if let Some(first) = title.chars().next() {
            title = format!("{}{}", first.to_lowercase(), &title[first.len_utf8()..]);
        }
        return Ok(Some(format!(
            "Căn cứ {number} {} của {issuer} về việc {title};",
            format::document_date(document_date(parent))
        )));
    }
    Ok(match p.parent_plan_ref.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() && !bases.iter().any(|b| b.contains(r)) => {
            Some(format!("Căn cứ {r};"))
        }
        _ => None,
    })
}

/// Each legal basis ends `;`, the last `.` (nd30-format.md).
fn punctuate(bases: Vec<String>) -> Vec<String> {
    let bases: Vec<String> = bases
        .into_iter()
        .map(|b| {
            b.trim()
                .trim_end_matches([';', '.', ','])
                .trim_end()
                .to_owned()
        })
        .filter(|b| !b.is_empty())
        .collect();
    let n = bases.len();
    bases
        .into_iter()
        .enumerate()
        .map(|(i, b)| format!("{b}{}", if i + 1 == n { "." } else { ";" }))
        .collect()
}

/// The paragraphs of a section body, each classified by how it starts.
pub fn blocks(body: &str) -> Vec<Block> {
    agenda::lines(body)
        .into_iter()
        .map(|line| {
            let class = classify(&line);
            Block::plain(class, line)
        })
        .collect()
}

fn classify(line: &str) -> &'static str {
    if line.starts_with("- ") {
        return "dash";
    }
    if line.starts_with("+ ") {
        return "plus";
    }
    if line.starts_with("* ") {
        return "star";
    }
    let head: String = line.chars().take_while(|c| !c.is_whitespace()).collect();
    let numbered = head.len() > 1
        && head.ends_with('.')
        && head[..head.len() - 1]
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    // A short numbered line not ending a sentence is a clause heading (`1. Mục đích`); a
    // numbered sentence (`1. Sở GDĐT chi kinh phí … theo quy định.`) is a paragraph.
    if numbered && line.chars().count() <= 120 && !line.ends_with('.') {
        return "clause";
    }
    let point = head.ends_with(')') && head.chars().count() <= 3;
    if point {
        return "point";
    }
    "text"
}

/// Inserts the generated section into the first gap of the numbering (`I, II, IV, V` →
/// `III`), else after the last section with the next numeral.
fn insert_section(sections: &mut Vec<Section>, mut generated: Section) {
    let numerals: Vec<Option<u32>> = sections.iter().map(|s| numeral(&s.heading)).collect();
    let taken: HashSet<u32> = numerals.iter().flatten().copied().collect();
    let max = taken.iter().copied().max().unwrap_or(0);
    let gap = (1..max).find(|n| !taken.contains(n));
    let n = gap.unwrap_or(max.max(sections.len() as u32) + 1);
    generated.heading = format!("{} {}", format::section_number(n), generated.heading);
    let at = match gap {
        Some(g) => numerals
            .iter()
            .position(|x| x.is_some_and(|x| x > g))
            .unwrap_or(sections.len()),
        None => sections.len(),
    };
    sections.insert(at, generated);
}

/// The Roman numeral a heading starts with (`IV. KINH PHÍ` → 4).
fn numeral(heading: &str) -> Option<u32> {
    let head = heading.split_whitespace().next()?.strip_suffix('.')?;
    (1..=60).find(|&n| format::roman(n) == head)
}

/// Section III: for each conference, its time, its hall and who sits there, its bridge
/// points and who attends there; then the speakers.
fn conference_section(
    confs: &[Conf],
    speakers: Speakers<'_>,
    bridge_label: Option<&str>,
    bridge_groups: &HashMap<i64, BridgePointGroup>,
) -> Section {
    let several = confs.len() > 1;
    let mut blocks = Vec::new();
    for (i, c) in confs.iter().enumerate() {
        let m = &c.model;
        let tz = agenda::time_zone(m);
        if several {
            blocks.push(Block::plain("clause", format!("{}. {}", i + 1, m.title)));
        }
        let span = DaySpan::between(m.starts_at, m.ends_at, tz);
        let when = match span {
            DaySpan::Days(n) if n > 1 => format!(
                "{span}, từ {} đến {}",
                format::plan_start_at(m.starts_at, tz),
                format::plan_start_at(m.ends_at, tz)
            ),
            _ => format!(
                "{span}, bắt đầu từ {}",
                format::plan_start_at(m.starts_at, tz)
            ),
        };
        let how = match m.mode {
            ConferenceMode::Hybrid => {
                "theo 02 hình thức hội nghị: trực tiếp và trực tuyến tại các điểm cầu"
            }
            ConferenceMode::InPerson => "theo hình thức trực tiếp",
            ConferenceMode::Online => "theo hình thức trực tuyến",
        };
        blocks.push(Block::plain("dash", format!("- Thời gian: {when}, {how}.")));
        let rules_at = |venue: Venue| {
            c.rules
                .iter()
                .filter(move |r| r.venue == venue)
                .collect::<Vec<_>>()
        };
        let hall_rules = rules_at(Venue::Hall);
        if m.mode != ConferenceMode::Online && !c.halls.is_empty() {
            let place = c.halls.join("; ");
            let tail = if hall_rules.is_empty() {
                format!(" tổ chức tại {place}.")
            } else {
                format!(" tổ chức tại {place}; thành phần gồm:")
            };
            blocks.push(Block::lead("dash", "- ", "Trực tiếp", tail));
            push_rules(&mut blocks, &hall_rules);
        }
        let mut online_rules = rules_at(Venue::BridgePoint);
        online_rules.extend(rules_at(Venue::Online));
        if m.mode != ConferenceMode::InPerson || !online_rules.is_empty() {
            let points = bridge_groups.get(&m.id).map_or(0, |g| g.rows.len());
            let place = match (points, bridge_label) {
                (0, _) | (_, None) => " tại các điểm cầu".to_owned(),
                (n, Some(label)) => format!(
                    " tại {} (danh sách tại {label})",
                    format::count(n as u64, "điểm cầu")
                ),
            };
            let tail = if online_rules.is_empty() {
                format!("{place}.")
            } else {
                format!("{place}. Thành phần tham dự:")
            };
            blocks.push(Block::lead("dash", "- ", "Trực tuyến", tail));
            push_rules(&mut blocks, &online_rules);
        }
    }
    let n = if several { confs.len() + 1 } else { 1 };
    match speakers {
        Speakers::Listed { count, label } => blocks.push(Block::plain(
            "text",
            format!(
                "{n}. Báo cáo viên: {} (danh sách tại {label}).",
                format::count(count as u64, "người")
            ),
        )),
        Speakers::Organisers(names) if !names.is_empty() => blocks.push(Block::plain(
            "text",
            format!("{n}. Báo cáo viên: {}.", names.join(", ")),
        )),
        Speakers::Organisers(_) => {}
    }
    Section {
        heading: if several {
            "THỜI GIAN, ĐỊA ĐIỂM, THÀNH PHẦN CỦA CÁC HỘI NGHỊ".into()
        } else {
            "THỜI GIAN, ĐỊA ĐIỂM, THÀNH PHẦN CỦA HỘI NGHỊ".into()
        },
        blocks,
    }
}

/// Who speaks, as section III says it.
enum Speakers<'a> {
    /// `03 người (danh sách tại Phụ lục I)`
    Listed { count: usize, label: &'a str },
    /// A derived plan names the organisers of the conferences it inherits.
    Organisers(Vec<String>),
}

/// The lines of each rule: its first line as a `+` item, any further line (`(Cụ thể là
/// …)`) as a paragraph under it.
fn push_rules(blocks: &mut Vec<Block>, rules: &[&attendance_rule::Model]) {
    for r in rules {
        for (i, line) in agenda::lines(&r.description).into_iter().enumerate() {
            if i == 0 {
                let text = line.strip_prefix("+ ").unwrap_or(&line).to_owned();
                blocks.push(Block::plain("plus", format!("+ {text}")));
            } else {
                blocks.push(Block::plain("text", line));
            }
        }
    }
}

/// The closing paragraphs, with "Kế hoạch này thay cho Giấy mời" before the last one when
/// the plan replaces the invitation and does not say so already; the last ends `./.`.
fn closing(text: &str, replaces_invitation: bool, conferences: usize) -> Vec<String> {
    let mut paragraphs = agenda::lines(text);
    let says_so = paragraphs
        .iter()
        .any(|p| p.to_lowercase().contains("giấy mời"));
    if replaces_invitation && !says_so {
        let whom = if conferences > 1 {
            format!("{} Hội nghị", format::two_digits(conferences as u64))
        } else {
            "Hội nghị".to_owned()
        };
        let sentence = format!("Kế hoạch này thay cho Giấy mời, mời đại biểu tham dự {whom}.");
        let at = paragraphs.len().saturating_sub(1);
        if paragraphs.len() >= 2 {
            paragraphs.insert(at, sentence);
        } else {
            paragraphs.push(sentence);
        }
    }
    if let Some(last) = paragraphs.last_mut() {
        if !last.ends_with("./.") {
            let trimmed = last.trim_end_matches(['.', ';', ',']).to_owned();
            *last = format!("{trimmed}./.");
        }
    }
    paragraphs
}

/// `- UBND TP (để b/c);` for each recipient, then `- Lưu: VT, GDTX&ĐH.`
fn recipient_lines(recipients: &[Recipient], archive: Option<&str>) -> Vec<String> {
    let mut lines: Vec<String> = recipients
        .iter()
        .map(|r| {
            let name = r.name.trim().trim_end_matches(';').trim_end();
            match r.purpose.as_deref().map(str::trim) {
                Some(p) if !p.is_empty() => format!("- {name} ({p});"),
                _ => format!("- {name};"),
            }
        })
        .collect();
    let archive = archive
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("VT");
    let archive = archive.trim_end_matches('.');
    lines.push(format!("- Lưu: {archive}."));
    lines
}

/// Two or more conference titles as the seeds print them under `CHƯƠNG TRÌNH`: each on
/// its own line, all but the last ending `;`.
fn join_titles(titles: &[String]) -> Vec<String> {
    let n = titles.len();
    titles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i + 1 < n {
                format!("{};", t.trim_end_matches(';'))
            } else {
                t.clone()
            }
        })
        .collect()
}

/// The conferences the plan covers: its own, and those of the parent plan where this plan
/// places bridge points; in order of start.
async fn conferences(db: &impl ConnectionTrait, p: &plan::Model) -> Result<Vec<Conf>> {
    let own = conference::Entity::find()
        .filter(conference::Column::PlanId.eq(p.id))
        .all(db)
        .await?;
    let own_ids: HashSet<i64> = own.iter().map(|c| c.id).collect();
    // Bridge points: those this plan places, and those of its own conferences placed by no
    // other plan.
    let points: Vec<Point> = bridge_point::Entity::find()
        .select_only()
        .column(bridge_point::Column::Id)
        .column(bridge_point::Column::ConferenceId)
        .column(bridge_point::Column::Name)
        .column(bridge_point::Column::Room)
        .column(bridge_point::Column::Address)
        .filter(
            Condition::any()
                .add(bridge_point::Column::PlanId.eq(p.id))
                .add(
                    Condition::all()
                        .add(bridge_point::Column::ConferenceId.is_in(own_ids.iter().copied()))
                        .add(
                            Condition::any()
                                .add(bridge_point::Column::PlanId.is_null())
                                .add(bridge_point::Column::PlanId.eq(p.id)),
                        ),
                ),
        )
        .order_by_asc(bridge_point::Column::ConferenceId)
        .order_by_asc(bridge_point::Column::Position)
        .order_by_asc(bridge_point::Column::Id)
        .into_tuple::<(i64, i64, String, Option<String>, Option<String>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, conference_id, name, room, address)| Point {
            id,
            conference_id,
            name,
            room,
            address,
        })
        .collect();
    // A plan that carries out a parent plan inherits those of its conferences that its
    // issuer's area takes part in (coordinates a bridge point of), whichever plan placed
    // the points.
    let parents: Vec<i64> = match p.parent_plan_id {
        Some(parent) => {
            let area = crate::store::scope::Scope::of_area(db, p.issuing_unit_id).await?;
            bridge_point::Entity::find()
                .select_only()
                .column(bridge_point::Column::ConferenceId)
                .distinct()
                .filter(
                    bridge_point::Column::ConferenceId.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(conference::Column::Id)
                            .from(conference::Entity)
                            .and_where(conference::Column::PlanId.eq(parent))
                            .to_owned(),
                    ),
                )
                .filter(bridge_point::Column::CoordinatingUnitId.in_subquery(area.unit_ids_query()))
                .into_tuple()
                .all(db)
                .await?
        }
        None => Vec::new(),
    };
    let inherited: Vec<i64> = points
        .iter()
        .map(|b| b.conference_id)
        .chain(parents)
        .filter(|id| !own_ids.contains(id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut models = own;
    if !inherited.is_empty() {
        models.extend(
            conference::Entity::find()
                .filter(conference::Column::Id.is_in(inherited))
                .all(db)
                .await?,
        );
    }
    models.sort_by_key(|c| (c.starts_at, c.id));
    let ids: Vec<i64> = models.iter().map(|c| c.id).collect();
    let mut halls = agenda::halls(db, &ids).await?;
    let rules = attendance_rule::Entity::find()
        .filter(attendance_rule::Column::ConferenceId.is_in(ids.iter().copied()))
        .order_by_asc(attendance_rule::Column::Position)
        .order_by_asc(attendance_rule::Column::Id)
        .all(db)
        .await?;
    Ok(models
        .into_iter()
        .map(|m| Conf {
            own: own_ids.contains(&m.id),
            halls: halls
                .remove(&m.id)
                .unwrap_or_default()
                .iter()
                .map(agenda::hall_text)
                .collect(),
            rules: rules
                .iter()
                .filter(|r| r.conference_id == m.id)
                .cloned()
                .collect(),
            bridge_points: points
                .iter()
                .filter(|b| b.conference_id == m.id)
                .cloned()
                .collect(),
            model: m,
        })
        .collect())
}

/// The speakers of the plan's own conferences, in the order they first speak.
async fn speakers(db: &impl ConnectionTrait, confs: &[Conf]) -> Result<Vec<SpeakerRow>> {
    let own: Vec<i64> = confs.iter().filter(|c| c.own).map(|c| c.model.id).collect();
    if own.is_empty() {
        return Ok(Vec::new());
    }
    let items = agenda_item::Entity::find()
        .filter(agenda_item::Column::ConferenceId.is_in(own))
        .order_by_asc(agenda_item::Column::StartsAt)
        .order_by_asc(agenda_item::Column::Id)
        .all(db)
        .await?;
    let item_ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let by_item = links::load::<agenda_item_speaker::Entity>(
        db,
        agenda_item_speaker::Column::AgendaItemId,
        agenda_item_speaker::Column::SpeakerId,
        &item_ids,
    )
    .await?;
    let mut order: Vec<i64> = Vec::new();
    for i in &items {
        for s in by_item.get(&i.id).into_iter().flatten() {
            if !order.contains(s) {
                order.push(*s);
            }
        }
    }
    let models: HashMap<i64, speaker::Model> = speaker::Entity::find()
        .filter(speaker::Column::Id.is_in(order.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let units = unit_names(
        db,
        models
            .values()
            .filter_map(|s| s.unit_id)
            .collect::<Vec<_>>(),
    )
    .await?;
    Ok(order
        .iter()
        .filter_map(|id| models.get(id))
        .enumerate()
        .map(|(n, s)| SpeakerRow {
            number: n as u32 + 1,
            name: match s.honorific.as_deref().map(str::trim) {
                Some(h) if !h.is_empty() => format!("{h} {}", s.full_name),
                _ => s.full_name.clone(),
            },
            position: match (&s.position, s.unit_id.and_then(|u| units.get(&u))) {
                (Some(p), _) if !p.trim().is_empty() => p.clone(),
                (_, Some(u)) => u.clone(),
                _ => String::new(),
            },
        })
        .collect())
}

/// The agenda of each of the plan's own conferences that has one, under a heading when
/// there are several.
async fn agenda_groups(
    db: &impl ConnectionTrait,
    confs: &[Conf],
) -> Result<Vec<(i64, AgendaGroup)>> {
    let mut groups = Vec::new();
    for c in confs.iter().filter(|c| c.own) {
        let tz = agenda::time_zone(&c.model);
        let rows = agenda::rows(db, &c.model, tz).await?;
        if !rows.is_empty() {
            groups.push((c.model.id, (c, rows)));
        }
    }
    let several = groups.len() > 1;
    Ok(groups
        .into_iter()
        .map(|(id, (c, rows))| {
            let heading = if several {
                vec![part_of_day(&c.model), c.model.title.clone()]
            } else {
                Vec::new()
            };
            (id, AgendaGroup { heading, rows })
        })
        .collect())
}

/// `Buổi sáng, ngày 18/12/2024`, or the days of a conference over several days.
fn part_of_day(c: &conference::Model) -> String {
    let tz = agenda::time_zone(c);
    let start = format::local_date_time(c.starts_at, tz);
    let end = format::local_date_time(c.ends_at, tz);
    if end.date() > start.date() {
        return format!(
            "Từ {} đến {}",
            format::text_date(start.date()),
            format::text_date(end.date())
        );
    }
    use chrono::Timelike;
    let part = match start.hour() {
        0..12 => "Buổi sáng",
        12..18 => "Buổi chiều",
        _ => "Buổi tối",
    };
    format!("{part}, {}", format::text_date(start.date()))
}

/// The bridge points of each conference with their attending units.
async fn bridge_point_groups(
    db: &impl ConnectionTrait,
    confs: &[Conf],
) -> Result<HashMap<i64, BridgePointGroup>> {
    let ids: Vec<i64> = confs
        .iter()
        .flat_map(|c| c.bridge_points.iter().map(|b| b.id))
        .collect();
    // The attending units' names in one join, in unit id order within each point.
    let mut attending: HashMap<i64, Vec<String>> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(5_000) {
        let rows: Vec<(i64, String)> = bridge_point_unit::Entity::find()
            .select_only()
            .column(bridge_point_unit::Column::BridgePointId)
            .column(unit::Column::Name)
            .join(
                JoinType::InnerJoin,
                bridge_point_unit::Entity::belongs_to(unit::Entity)
                    .from(bridge_point_unit::Column::UnitId)
                    .to(unit::Column::Id)
                    .into(),
            )
            .filter(bridge_point_unit::Column::BridgePointId.is_in(chunk.iter().copied()))
            .order_by_asc(bridge_point_unit::Column::BridgePointId)
            .order_by_asc(bridge_point_unit::Column::UnitId)
            .into_tuple()
            .all(db)
            .await?;
        for (point, name) in rows {
            attending.entry(point).or_default().push(name);
        }
    }
    let several = confs.iter().filter(|c| !c.bridge_points.is_empty()).count() > 1;
    Ok(confs
        .iter()
        .filter(|c| !c.bridge_points.is_empty())
        .map(|c| {
            let rows: Vec<BridgePointRow> = c
                .bridge_points
                .iter()
                .enumerate()
                .map(|(n, b)| BridgePointRow {
                    number: n as u32 + 1,
                    name: b.name.clone(),
                    place: agenda::point_details(&b.name, b.room.as_deref(), b.address.as_deref()),
                    units: attending.remove(&b.id).unwrap_or_default(),
                })
                .collect();
            let group = BridgePointGroup {
                heading: if several {
                    c.model.title.clone()
                } else {
                    String::new()
                },
                count: format!(
                    "(Danh sách này gồm {})",
                    format::count(rows.len() as u64, "điểm cầu")
                ),
                rows,
            };
            (c.model.id, group)
        })
        .collect())
}

/// The task-assignment table, grouped by group title in order of position.
async fn task_groups(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<TaskGroup>> {
    let tasks = plan_task::Entity::find()
        .filter(plan_task::Column::PlanId.eq(plan_id))
        .order_by_asc(plan_task::Column::Position)
        .order_by_asc(plan_task::Column::Id)
        .all(db)
        .await?;
    let supporting: HashMap<i64, Vec<i64>> = tasks
        .iter()
        .map(|t| {
            (
                t.id,
                serde_json::from_value(t.supporting_unit_ids.clone()).unwrap_or_default(),
            )
        })
        .collect();
    let mut ids: Vec<i64> = tasks.iter().filter_map(|t| t.lead_unit_id).collect();
    ids.extend(supporting.values().flatten());
    let names = unit_names(db, ids).await?;
    let mut groups: Vec<TaskGroup> = Vec::new();
    for t in &tasks {
        let heading = t.group_title.clone().unwrap_or_default();
        if groups.last().is_none_or(|g| g.heading != heading) {
            groups.push(TaskGroup {
                heading,
                rows: Vec::new(),
            });
        }
        let lead = match &t.lead_text {
            Some(text) if !text.trim().is_empty() => agenda::lines(text),
            _ => t
                .lead_unit_id
                .and_then(|u| names.get(&u).cloned())
                .into_iter()
                .collect(),
        };
        let support = match &t.supporting_text {
            Some(text) if !text.trim().is_empty() => agenda::lines(text),
            _ => supporting
                .get(&t.id)
                .into_iter()
                .flatten()
                .filter_map(|u| names.get(u).cloned())
                .collect(),
        };
        if let Some(g) = groups.last_mut() {
            g.rows.push(TaskRow {
                number: g.rows.len() as u32 + 1,
                content: agenda::lines(&t.content),
                lead,
                supporting: support,
                period: t.period.clone().unwrap_or_default(),
            });
        }
    }
    Ok(groups)
}

/// Unit names by id.
async fn unit_names(db: &impl ConnectionTrait, mut ids: Vec<i64>) -> Result<HashMap<i64, String>> {
    ids.sort_unstable();
    ids.dedup();
    let mut names = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(5_000) {
        let rows: Vec<(i64, String)> = unit::Entity::find()
            .select_only()
            .column(unit::Column::Id)
            .column(unit::Column::Name)
            .filter(unit::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        names.extend(rows);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_bases_end_with_semicolons_and_a_full_stop_blank_ones_dropped() {
        let bases = punctuate(vec![
            "Căn cứ Luật Giáo dục năm 2019.".into(),
            "Căn cứ Kế hoạch số 02/KH-UBND;".into(),
            "   ".into(),
        ]);
        assert_eq!(
            bases,
            [
                "Căn cứ Luật Giáo dục năm 2019;",
                "Căn cứ Kế hoạch số 02/KH-UBND."
            ]
        );
    }

    #[test]
    fn section_iii_fills_the_gap_in_the_numbering() {
        let section = |h: &str| Section {
            heading: h.into(),
            blocks: vec![],
        };
        let mut s = vec![section("I. A"), section("II. B"), section("IV. D")];
        insert_section(&mut s, section("C"));
        let headings: Vec<&str> = s.iter().map(|x| x.heading.as_str()).collect();
        assert_eq!(headings, ["I. A", "II. B", "III. C", "IV. D"]);
        let mut s = vec![section("I. A"), section("II. B")];
        insert_section(&mut s, section("C"));
        assert_eq!(s[2].heading, "III. C");
    }
}

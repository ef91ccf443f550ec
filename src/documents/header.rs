//! The two-column header of an administrative document (nd30-format.md, "Header"): on the
//! left the parent body in capitals and, under it, the issuing body in bold capitals.
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::Serialize;

use crate::domain::kinds::UnitKind;
use crate::error::Result;
use crate::store::unit;

/// The left column of the header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Header {
    /// `UBND THÀNH PHỐ HẢI PHÒNG`; empty when the issuer heads itself (a People's
    /// Committee).
    pub parent_body: String,
    /// `SỞ GIÁO DỤC VÀ ĐÀO TẠO`, or two lines for a People's Committee:
    /// `ỦY BAN NHÂN DÂN` / `HUYỆN THỦY NGUYÊN`.
    pub issuing_body: Vec<String>,
}

impl Header {
    /// A header with both lines filled, for the start-up check of templates.
    pub fn sample() -> Self {
        Self {
            parent_body: "UBND THÀNH PHỐ HẢI PHÒNG".into(),
            issuing_body: vec!["SỞ GIÁO DỤC VÀ ĐÀO TẠO".into()],
        }
    }
}

/// The header of a document issued by unit `issuer_id`. `parent_body`, when given (a
/// plan's own first line), wins over the issuer's parent unit.
pub async fn load(
    db: &impl ConnectionTrait,
    issuer_id: i64,
    parent_body: Option<&str>,
) -> Result<Header> {
    let Some(issuer) = unit::Entity::find_by_id(issuer_id).one(db).await? else {
        return Ok(Header::default());
    };
    let parent = match parent_body {
        Some(p) if !p.trim().is_empty() => Some(p.trim().to_owned()),
        Some(_) => None,
        None if issuer.kind == UnitKind::PeopleCommittee => None,
        None => match issuer.parent_id {
            Some(pid) => unit::Entity::find_by_id(pid).one(db).await?.map(|u| u.name),
            None => None,
        },
    };
    Ok(compose(&issuer.name, issuer.kind, parent.as_deref()))
}

/// The header from the issuer's name and kind and the parent line, if any.
///
/// A People's Committee heads its own documents: `UBND huyện Thủy Nguyên` becomes
/// `ỦY BAN NHÂN DÂN` / `HUYỆN THỦY NGUYÊN`. Any other issuer drops the place at the end of
/// its name when the parent line already names it (`Sở Giáo dục và Đào tạo Hải Phòng`
/// under `UBND THÀNH PHỐ HẢI PHÒNG` is `SỞ GIÁO DỤC VÀ ĐÀO TẠO`), as NĐ30's model does.
pub fn compose(name: &str, kind: UnitKind, parent: Option<&str>) -> Header {
    let name = name.trim();
    if kind == UnitKind::PeopleCommittee {
        let rest = [
            "UBND ",
            "Ủy ban nhân dân ",
            "Uỷ ban nhân dân ",
            "ỦY BAN NHÂN DÂN ",
        ]
        .iter()
        .find_map(|p| name.strip_prefix(p));
        let mut lines = vec!["ỦY BAN NHÂN DÂN".to_owned()];
        match rest {
            Some(r) if !r.trim().is_empty() => lines.push(r.trim().to_uppercase()),
            Some(_) => {}
            None => lines = vec![name.to_uppercase()],
        }
        return Header {
            parent_body: parent.map(str::to_uppercase).unwrap_or_default(),
            issuing_body: lines,
        };
    }
    let parent = parent.map(str::to_uppercase).unwrap_or_default();
    let words: Vec<&str> = name.split_whitespace().collect();
    // The longest tail of the name (leaving at least two words) that ends the parent line.
    let keep = (2..words.len())
        .find(|&k| {
            let tail = words[k..].join(" ").to_uppercase();
            parent.ends_with(&format!(" {tail}"))
        })
        .unwrap_or(words.len());
    Header {
        parent_body: parent,
        issuing_body: vec![words[..keep].join(" ").to_uppercase()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_department_drops_the_place_its_parent_names() {
        let h = compose(
            "Sở Giáo dục và Đào tạo Hải Phòng",
            UnitKind::Department,
            Some("UBND thành phố Hải Phòng"),
        );
        assert_eq!(h.parent_body, "UBND THÀNH PHỐ HẢI PHÒNG");
        assert_eq!(h.issuing_body, ["SỞ GIÁO DỤC VÀ ĐÀO TẠO"]);
    }

    #[test]
    fn a_name_is_kept_whole_when_the_parent_names_another_place() {
        let h = compose(
            "Phòng Giáo dục và Đào tạo huyện Thủy Nguyên",
            UnitKind::EducationOffice,
            Some("UBND thành phố Hải Phòng"),
        );
        assert_eq!(
            h.issuing_body,
            ["PHÒNG GIÁO DỤC VÀ ĐÀO TẠO HUYỆN THỦY NGUYÊN"]
        );
    }

    #[test]
    fn a_peoples_committee_heads_its_own_documents_on_two_lines() {
        let h = compose("UBND huyện Thủy Nguyên", UnitKind::PeopleCommittee, None);
        assert_eq!(h.parent_body, "");
        assert_eq!(h.issuing_body, ["ỦY BAN NHÂN DÂN", "HUYỆN THỦY NGUYÊN"]);
    }

    #[test]
    fn an_association_without_parent_keeps_its_name() {
        let h = compose(
            "Hội Khuyến học thành phố Hải Phòng",
            UnitKind::Association,
            None,
        );
        assert_eq!(h.parent_body, "");
        assert_eq!(h.issuing_body, ["HỘI KHUYẾN HỌC THÀNH PHỐ HẢI PHÒNG"]);
    }
}

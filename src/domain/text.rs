//! Text as hoinghi stores it: NFC-normalised, trimmed, bounded.
use unicode_normalization::UnicodeNormalization;

/// Longest name (of a unit, a person, a hall…) in characters.
pub const NAME_MAX: usize = 300;
/// Longest free text (a plan section, an agenda item's content) in characters.
pub const TEXT_MAX: usize = 100_000;

/// Returns `s` trimmed and in Unicode NFC, the one form we store and compare.
pub fn nfc(s: &str) -> String {
    let trimmed = s.trim();
    if unicode_normalization::is_nfc(trimmed) {
        trimmed.to_owned()
    } else {
        trimmed.nfc().collect()
    }
}

/// Normalises a string in place.
pub fn nfc_in_place(s: &mut String) {
    let n = nfc(s);
    if n != *s {
        *s = n;
    }
}

/// Normalises an optional string in place; an empty string becomes `None`.
pub fn nfc_opt(s: &mut Option<String>) {
    if let Some(v) = s {
        nfc_in_place(v);
        if v.is_empty() {
            *s = None;
        }
    }
}

/// Normalises every string inside a JSON value (used for structured text columns).
pub fn nfc_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => nfc_in_place(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(nfc_json),
        serde_json::Value::Object(o) => o.values_mut().for_each(nfc_json),
        _ => {}
    }
}

/// Folds a name for comparison: NFC, lower case, and one placement of tone marks
/// (`hoà` and `hòa` compare equal, as both spellings are seen in official documents).
pub fn fold(s: &str) -> String {
    nfc(s)
        .to_lowercase()
        .replace("oà", "òa")
        .replace("oá", "óa")
        .replace("oả", "ỏa")
        .replace("oã", "õa")
        .replace("oạ", "ọa")
        .replace("uý", "úy")
        .replace("uỳ", "ùy")
        .replace("uỷ", "ủy")
        .replace("uỹ", "ũy")
        .replace("uỵ", "ụy")
        .replace("oè", "òe")
        .replace("oé", "óe")
        .replace("oẻ", "ỏe")
        .replace("oẽ", "õe")
        .replace("oẹ", "ọe")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The kinds of area a people's committee's name may give, longest first.
const AREA_KINDS: [&str; 9] = [
    "thành phố",
    "thị trấn",
    "thị xã",
    "đặc khu",
    "phường",
    "huyện",
    "quận",
    "tỉnh",
    "xã",
];

/// A people's committee's own name and the kind of its area, as written: "UBND thị trấn
/// Minh Đức" → ("Minh Đức", "thị trấn"), "Ủy ban nhân dân huyện Thủy Nguyên" → ("Thủy
/// Nguyên", "huyện"); `None` for any other name.
pub fn committee_name(name: &str) -> Option<(String, &'static str)> {
    let words: Vec<&str> = name.split_whitespace().collect();
    let folded: Vec<String> = words.iter().map(|w| fold(w)).collect();
    let head = match folded.first()?.as_str() {
        "ubnd" => 1,
        "ủy" if folded
            .get(1..4)
            .is_some_and(|w| w == ["ban", "nhân", "dân"]) =>
        {
            4
        }
        _ => return None,
    };
    AREA_KINDS.into_iter().find_map(|kind| {
        let k: Vec<&str> = kind.split(' ').collect();
        let end = head + k.len();
        let rest = words.get(end..)?;
        (folded.get(head..end)? == k.as_slice() && !rest.is_empty()).then(|| (rest.join(" "), kind))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committee_s_own_name_follows_its_kind() {
        assert_eq!(
            committee_name("UBND thị trấn Minh Đức"),
            Some(("Minh Đức".to_owned(), "thị trấn"))
        );
        assert_eq!(
            committee_name("Uỷ ban nhân dân huyện Thủy Nguyên"),
            Some(("Thủy Nguyên".to_owned(), "huyện"))
        );
        assert_eq!(
            committee_name("UBND thành phố Hải Phòng"),
            Some(("Hải Phòng".to_owned(), "thành phố"))
        );
        assert_eq!(committee_name("UBND xã"), None);
        assert_eq!(committee_name("Trường THCS An Lư"), None);
    }

    #[test]
    fn nfc_composes_decomposed_vietnamese() {
        let decomposed = "Ho\u{0302}\u{0323}i nghi\u{0323}";
        assert_eq!(nfc(decomposed), "Hội nghị");
        assert!(unicode_normalization::is_nfc(&nfc(decomposed)));
    }

    #[test]
    fn nfc_opt_empties_to_none() {
        let mut s = Some("   ".to_owned());
        nfc_opt(&mut s);
        assert_eq!(s, None);
    }

    #[test]
    fn fold_equates_tone_mark_placements() {
        assert_eq!(fold("CỘNG HOÀ"), fold("Cộng  hòa"));
        assert_eq!(fold("Thuỷ Nguyên"), fold("Thủy Nguyên"));
        assert_ne!(fold("Hòa Bình"), fold("Hoa Bình"));
    }
}

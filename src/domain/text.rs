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

#[cfg(test)]
mod tests {
    use super::*;

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

//! Documents rendered from the data: the agenda (Chương trình) of a conference, as HTML
//! ready to print on A4 and as plain text, from the Handlebars templates in `templates/`.
pub mod agenda;
pub mod templates;

/// A file name for `Content-Disposition`: `stem.ext` in ASCII (Vietnamese letters without
/// their marks, `đ` as `d`, anything else as `-`), for clients that cannot read the UTF-8
/// `filename*`.
pub fn ascii_file_name(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for ch in name.nfd() {
        match ch {
            'đ' => out.push('d'),
            'Đ' => out.push('D'),
            c if c.is_ascii_alphanumeric() || c == '.' || c == '_' => out.push(c),
            c if c.is_ascii() && !out.ends_with('-') => out.push('-'),
            _ => {} // combining marks (and any other non-ASCII letter) are dropped
        }
    }
    out.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_fall_back_to_ascii() {
        assert_eq!(
            super::ascii_file_name("Chương trình hội nghị Đơn vị học tập.html"),
            "Chuong-trinh-hoi-nghi-Don-vi-hoc-tap.html"
        );
    }
}

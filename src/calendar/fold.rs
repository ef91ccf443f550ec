//! Content lines as RFC 5545 §3.1 wants them: CRLF endings, at most 75 octets, longer
//! lines folded with CRLF + one space, never inside a UTF-8 sequence.
//!
//! Written here because the `icalendar` crate's folding can leave a 76-octet line
//! (`../shared/itip-checklist.md`, "Known gaps"); its output is unfolded and folded again.

/// The longest line, in octets, CRLF excluded.
pub const MAX_OCTETS: usize = 75;

/// Folds every line of `text` (lines ending in `\r\n` or `\n`; a folded input is unfolded
/// first) to at most [`MAX_OCTETS`] octets; every line of the result ends in CRLF.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 64 * 3);
    for line in unfold(text).lines() {
        fold_line(line, &mut out);
    }
    out
}

/// Joins folded lines: a line break followed by one space or tab continues the line.
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "")
        .replace("\r\n\t", "")
        .replace("\n ", "")
        .replace("\n\t", "")
}

/// Appends `line` (one logical line, no line break) to `out`, folded, ending in CRLF.
/// Works on byte slices, cutting only at character boundaries.
pub fn fold_line(line: &str, out: &mut String) {
    let mut rest = line;
    let mut room = MAX_OCTETS;
    while rest.len() > room {
        let mut cut = room;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        // A continuation line spends one octet on its leading space.
        room = MAX_OCTETS - 1;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_long_vietnamese_line_is_folded_at_75_octets_between_characters() {
        let line = format!(
            "SUMMARY:{}",
            "Hội nghị tập huấn về xây dựng “Đơn vị học tập” ".repeat(4)
        );
        let folded = fold(&line);
        for l in folded.split_terminator("\r\n") {
            assert!(l.len() <= MAX_OCTETS, "{} octets: {l}", l.len());
        }
        assert!(folded.ends_with("\r\n"));
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
    }

    #[test]
    fn a_line_of_exactly_75_octets_stays_whole() {
        let line = "X".repeat(75);
        assert_eq!(fold(&line), format!("{line}\r\n"));
        let line = "X".repeat(76);
        assert_eq!(fold(&line), format!("{}\r\n X\r\n", "X".repeat(75)));
    }

    proptest! {
        #[test]
        fn folding_keeps_the_text_and_the_limit(s in "[a-zA-Z0-9 ;:,ăâđêôơưÁÀẢÃẠỳỹ“”😀]{0,400}") {
            let line = format!("DESCRIPTION:{s}");
            let folded = fold(&line);
            for l in folded.split_terminator("\r\n") {
                prop_assert!(l.len() <= MAX_OCTETS);
            }
            prop_assert_eq!(unfold(&folded), format!("{line}\r\n"));
        }
    }
}

//! Input normalisation used by every parser: Japanese keyboards often produce full-width
//! characters (１, Ａ, ＠, －) and users paste numbers with spaces or hyphens.

/// Turns full-width ASCII variants (U+FF01–U+FF5E) into their ASCII counterparts and the
/// ideographic space (U+3000) into an ASCII space. Other characters are kept as they are.
pub fn to_half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        other => other,
    }
}

/// Characters people type between groups of digits: spaces and the many hyphen look-alikes of
/// Japanese input methods (ー, −, ‐, ―, ｰ …).
pub fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '\u{2010}'
                | '\u{2011}'
                | '\u{2012}'
                | '\u{2013}'
                | '\u{2014}'
                | '\u{2015}'
                | '\u{2212}'
                | '\u{30FC}'
                | '\u{FF70}'
        )
}

/// Full-width to half-width, separators removed.
pub fn compact(input: &str) -> String {
    input
        .chars()
        .map(to_half_width)
        .filter(|c| !is_separator(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_and_letters_become_ascii() {
        assert_eq!(compact("１３Ａ１"), "13A1");
        assert_eq!(to_half_width('＠'), '@');
    }

    #[test]
    fn separators_of_japanese_input_methods_are_removed() {
        assert_eq!(compact("13 1111－1111"), "1311111111");
        assert_eq!(compact("13ー1111\u{3000}1111"), "1311111111");
    }
}

//! Vietnamese text: NFC storage form, folded search keys and a Vietnamese sort key.
//!
//! Both keys are computed here, in Rust, so that PostgreSQL and SQLite search and sort alike
//! whatever their collations (the key columns compare bytewise: `COLLATE "C"` on PostgreSQL,
//! BINARY on SQLite).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// NFC with runs of whitespace collapsed and the ends trimmed: the stored form of every name.
pub fn clean(input: &str) -> String {
    let nfc: String = input.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | 'ʼ' | '`' | '´')
}

/// Lower case, no diacritics, `đ` → `d`, apostrophes removed, whitespace collapsed:
/// "Huyện Hóc Môn", "HÓC MÔN" and the decomposed form all fold to the same key.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.nfd() {
        if is_combining_mark(c) || is_apostrophe(c) {
            continue;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A LIKE pattern matching `needle` anywhere, with `\`, `%` and `_` escaped (use with
/// `ESCAPE '\'`, as [`contains`] does), so that user input is matched literally on both
/// backends.
pub fn like_anywhere(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `column LIKE '%needle%' ESCAPE '\'`: a literal substring match on a folded key column.
pub fn contains(
    column: impl sea_orm::sea_query::IntoColumnRef,
    needle: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
    Expr::col(column).like(LikeExpr::new(like_anywhere(needle)).escape('\\'))
}

/// Longest search text accepted, in characters (after folding).
pub const MAX_SEARCH_CHARS: usize = 200;
/// Most words a search may hold.
pub const MAX_SEARCH_WORDS: usize = 12;

/// The folded words of a search, or a `BAD_USER_INPUT` naming `field` when the text is longer
/// than [`MAX_SEARCH_CHARS`] or has more than [`MAX_SEARCH_WORDS`] words. Blank or absent: no
/// words. Checked before any folding work on the whole input, so that no input size costs more
/// than a length check.
pub fn search_words(input: Option<&str>, field: &str) -> crate::error::AppResult<Vec<String>> {
    let Some(input) = input else {
        return Ok(Vec::new());
    };
    // A folded character is never longer than four bytes of input per character kept, so a
    // raw input this long cannot fold to an acceptable one.
    if input.len() > MAX_SEARCH_CHARS * 8 {
        return Err(too_long_search(field));
    }
    let folded = fold(input);
    if folded.chars().count() > MAX_SEARCH_CHARS {
        return Err(too_long_search(field));
    }
    let words: Vec<String> = folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    if words.len() > MAX_SEARCH_WORDS {
        return Err(crate::error::AppError::bad_input(
            field,
            format!("a search holds at most {MAX_SEARCH_WORDS} words"),
        ));
    }
    Ok(words)
}

fn too_long_search(field: &str) -> crate::error::AppError {
    crate::error::AppError::bad_input(
        field,
        format!("a search holds at most {MAX_SEARCH_CHARS} characters"),
    )
}

/// Every word found in the folded key `column`: one flat `AND` of [`contains`] conditions, at
/// most [`MAX_SEARCH_WORDS`] deep (see [`search_words`]).
pub fn contains_all(
    column: impl sea_orm::sea_query::IntoColumnRef + Copy,
    words: &[String],
) -> sea_orm::Condition {
    words
        .iter()
        .fold(sea_orm::Condition::all(), |c, w| c.add(contains(column, w)))
}

/// The official type words that lead unit names ("Huyện Hóc Môn" → "Hóc Môn"), longest first.
const TYPE_WORDS: &[&str] = &[
    "Thành phố Trung ương",
    "Thành phố",
    "Thị trấn",
    "Đặc khu",
    "Thị xã",
    "Phường",
    "Huyện",
    "Quận",
    "Tỉnh",
    "Xã",
];

/// A unit's name without its leading type word.
pub fn bare_name(name: &str) -> &str {
    for word in TYPE_WORDS {
        if let Some(rest) = name.strip_prefix(word)
            && let Some(rest) = rest.strip_prefix(' ')
            && !rest.is_empty()
        {
            return rest;
        }
    }
    name
}

/// Vietnamese alphabet order of base letters (a ă â b c d đ e ê … ư v x y), with the four
/// letters foreign to it placed where Latin puts them.
const ALPHABET: &[char] = &[
    'a', 'ă', 'â', 'b', 'c', 'd', 'đ', 'e', 'ê', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'ô', 'ơ', 'p', 'q', 'r', 's', 't', 'u', 'ư', 'v', 'w', 'x', 'y', 'z',
];

/// Tone marks in dictionary order: none, huyền, hỏi, ngã, sắc, nặng.
fn tone_rank(mark: char) -> Option<u8> {
    match mark {
        '\u{300}' => Some(1), // huyền
        '\u{309}' => Some(2), // hỏi
        '\u{303}' => Some(3), // ngã
        '\u{301}' => Some(4), // sắc
        '\u{323}' => Some(5), // nặng
        _ => None,
    }
}

/// Splits a lower-case letter into its Vietnamese base letter and tone.
fn base_and_tone(c: char) -> (char, u8) {
    let mut decomposed = c
        .to_lowercase()
        .collect::<String>()
        .nfd()
        .collect::<Vec<_>>();
    let mut tone = 0;
    decomposed.retain(|m| match tone_rank(*m) {
        Some(t) => {
            tone = t;
            false
        }
        None => true,
    });
    let base: String = decomposed.into_iter().collect::<String>().nfc().collect();
    let mut chars = base.chars();
    match (chars.next(), chars.next()) {
        (Some(b), None) => (b, tone),
        // A letter with other marks than Vietnamese ones: sort by its plain Latin letter.
        (Some(b), Some(_)) => (b, tone),
        _ => (c, tone),
    }
}

/// A key whose bytewise order is Vietnamese alphabetical order of the bare name: letters by the
/// Vietnamese alphabet, words before longer words ("An Phú" before "Anh"), numbers by value
/// ("Phường 2" before "Phường 10"), and tones only breaking ties, in dictionary order.
pub fn sort_key(name: &str) -> String {
    let name = clean(bare_name(&clean(name)));
    let mut primary = String::new();
    let mut tones = String::new();
    let chars: Vec<char> = name.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let trimmed = digits.trim_start_matches('0');
            // Length first, then digits: numeric order without a fixed width.
            primary.push(char::from(b'0' + (trimmed.len().min(9) as u8)));
            primary.push_str(trimmed);
            continue;
        }
        if c.is_whitespace() || c == '-' || is_apostrophe(c) {
            primary.push(' ');
        } else {
            let (base, tone) = base_and_tone(c);
            match ALPHABET.iter().position(|l| *l == base) {
                // 'A' upwards: above digits and the space.
                Some(rank) => primary.push(char::from(b'A' + rank as u8)),
                None => primary.extend(base.to_lowercase()),
            }
            tones.push(char::from(b'0' + tone));
        }
        i += 1;
    }
    format!("{primary}\u{1}{tones}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_ignores_case_marks_apostrophes_and_normal_form() {
        let decomposed: String = "Hóc Môn".nfd().collect();
        assert_eq!(fold("Huyện Hóc Môn"), "huyen hoc mon");
        assert_eq!(fold("HÓC MÔN"), "hoc mon");
        assert_eq!(fold(&decomposed), "hoc mon");
        assert_eq!(fold("Đắk Lắk"), "dak lak");
        assert_eq!(fold("Ea H’leo"), "ea hleo");
    }

    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(like_anywhere("hoc mon"), "%hoc mon%");
        assert_eq!(like_anywhere("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn clean_is_nfc_and_collapses_whitespace() {
        let decomposed: String = "  Xã   Hóc Môn ".nfd().collect();
        assert_eq!(clean(&decomposed), "Xã Hóc Môn");
    }

    #[test]
    fn bare_name_strips_type_word() {
        assert_eq!(bare_name("Huyện Hóc Môn"), "Hóc Môn");
        assert_eq!(bare_name("Thị trấn Hóc Môn"), "Hóc Môn");
        assert_eq!(bare_name("Thành phố Hồ Chí Minh"), "Hồ Chí Minh");
        assert_eq!(bare_name("Phường"), "Phường");
    }

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        v.sort_by_key(|n| sort_key(n));
        v
    }

    #[test]
    fn vietnamese_alphabet_order() {
        assert_eq!(
            sorted(&[
                "Xã Đông",
                "Xã Dương",
                "Xã Ea",
                "Xã Ân",
                "Xã Ăn",
                "Xã Bình",
                "Xã An"
            ]),
            [
                "Xã An",
                "Xã Ăn",
                "Xã Ân",
                "Xã Bình",
                "Xã Dương",
                "Xã Đông",
                "Xã Ea"
            ]
        );
        assert_eq!(
            sorted(&["Xã Ưng", "Xã Uy", "Xã Vĩnh"]),
            ["Xã Uy", "Xã Ưng", "Xã Vĩnh"]
        );
    }

    #[test]
    fn tones_break_ties_in_dictionary_order() {
        assert_eq!(
            sorted(&["Xã Mạ", "Xã Má", "Xã Mã", "Xã Mả", "Xã Mà", "Xã Ma"]),
            ["Xã Ma", "Xã Mà", "Xã Mả", "Xã Mã", "Xã Má", "Xã Mạ"]
        );
        // The base letters decide before any tone does.
        assert_eq!(sorted(&["Xã Bà B", "Xã Ba C"]), ["Xã Bà B", "Xã Ba C"]);
    }

    #[test]
    fn words_and_numbers() {
        assert_eq!(sorted(&["Xã Anh", "Xã An Phú"]), ["Xã An Phú", "Xã Anh"]);
        assert_eq!(
            sorted(&["Phường 10", "Phường 2", "Phường 1"]),
            ["Phường 1", "Phường 2", "Phường 10"]
        );
    }

    #[test]
    fn normal_form_does_not_change_the_key() {
        let decomposed: String = "Phường Tân Phú".nfd().collect();
        assert_eq!(sort_key(&decomposed), sort_key("Phường Tân Phú"));
    }
}

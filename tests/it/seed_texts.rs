//! The demo plan files (api/data/plans/) against the documents they were typed from: every field
//! that docs/plan-files.md says is taken verbatim must occur, word for word, in the seed text that
//! the file's first line names (../shared/seeds/ from the workspace root).
//!
//! Both sides are compared in Unicode NFC with runs of whitespace collapsed to one space, so a
//! line or page break of the text (a sentence broken over two lines) is a space. Two more
//! liberties are taken on the seed's side only, for its layout, never for its words: the
//! extraction's Markdown emphasis is dropped (`**95%**` reads `95%`), and a footnote paragraph
//! (one that starts with a superscript digit, printed at the foot of a page) may be skipped, for
//! the sentence it interrupts runs on after it. The footnote's own text is still found where it
//! stands.

use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

/// The workspace root (the root package is the workspace's top directory).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// NFC, runs of whitespace collapsed to one space, ends trimmed.
fn normalise(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `haystack` holds `needle` as whole words: not starting or ending inside a word of the
/// seed ("ngh" is not "nghiệp").
fn holds(haystack: &str, needle: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + needle.len()..].chars().next();
        let cut_at_start = word(before) && needle.starts_with(char::is_alphanumeric);
        let cut_at_end = word(after) && needle.ends_with(char::is_alphanumeric);
        !cut_at_start && !cut_at_end
    })
}

/// A paragraph that is a footnote: it starts with a superscript digit ("¹ (1) Chương trình …").
fn is_footnote(paragraph: &str) -> bool {
    paragraph
        .trim_start()
        .starts_with(['¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹', '⁰'])
}

/// The seed's text as it may be searched: the whole of it, and the running text without its
/// footnote paragraphs; both without the Markdown emphasis and normalised.
fn haystacks(seed: &str) -> [String; 2] {
    let plain = seed.replace('*', "");
    let running: Vec<&str> = plain.split("\n\n").filter(|p| !is_footnote(p)).collect();
    [normalise(&plain), normalise(&running.join("\n\n"))]
}

/// The seed file a plan file names on its first line (`# Seed text: ../shared/seeds/….txt …`).
fn seed_of(plan_file: &Path, text: &str) -> PathBuf {
    let first = text.lines().next().unwrap_or_default();
    let named = first
        .split_whitespace()
        .find(|w| w.ends_with(".txt"))
        .unwrap_or_else(|| {
            panic!(
                "{}: the first line names no seed file: {first}",
                plan_file.display()
            )
        });
    let name = Path::new(named).file_name().unwrap();
    root().join("../shared/seeds").join(name)
}

/// One field that must be verbatim: where it is, and its text.
struct Field {
    place: String,
    text: String,
}

fn str_of<'a>(table: &'a toml::Table, key: &str) -> Option<&'a str> {
    table.get(key).and_then(toml::Value::as_str)
}

fn tables<'a>(table: &'a toml::Table, key: &str) -> impl Iterator<Item = &'a toml::Table> {
    table
        .get(key)
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_table)
}

fn targets(list: &toml::Table, key: &str, out: &mut Vec<Field>) {
    for (i, t) in tables(list, key).enumerate() {
        let ordinal = str_of(t, "ordinal").map_or_else(|| format!("#{}", i + 1), str::to_string);
        if let Some(w) = str_of(t, "wording") {
            out.push(Field {
                place: format!("target {ordinal}: wording"),
                text: w.to_string(),
            });
        }
        targets(t, "sub", out);
    }
}

/// The fields docs/plan-files.md gives as verbatim: the plan's title and the citations of its
/// bases, every target's wording (sub-targets too), every assignment's title and group, and each
/// line (paragraph) of its content.
fn verbatim_fields(doc: &toml::Table) -> Vec<Field> {
    let mut out = Vec::new();
    if let Some(plan) = doc.get("plan").and_then(toml::Value::as_table) {
        if let Some(title) = str_of(plan, "title") {
            out.push(Field {
                place: "plan: title".into(),
                text: title.into(),
            });
        }
        for (i, b) in tables(plan, "bases").enumerate() {
            if let Some(c) = str_of(b, "citation") {
                out.push(Field {
                    place: format!("plan.bases #{}: citation", i + 1),
                    text: c.into(),
                });
            }
        }
    }
    targets(doc, "targets", &mut out);
    for (i, a) in tables(doc, "assignments").enumerate() {
        let at = format!(
            "assignment #{} ({})",
            i + 1,
            str_of(a, "ordinal").unwrap_or("no ordinal")
        );
        for key in ["title", "group"] {
            if let Some(v) = str_of(a, key) {
                out.push(Field {
                    place: format!("{at}: {key}"),
                    text: v.into(),
                });
            }
        }
        if let Some(content) = str_of(a, "content") {
            for (j, line) in content.lines().filter(|l| !l.trim().is_empty()).enumerate() {
                out.push(Field {
                    place: format!("{at}: content paragraph {}", j + 1),
                    text: line.into(),
                });
            }
        }
    }
    out
}

/// Where a text stops matching: its longest leading run of words found in the seed.
fn diverges_after(text: &str, seed: &[String; 2]) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let found = |n: usize| {
        let prefix = words[..n].join(" ");
        seed.iter().any(|s| holds(s, &prefix))
    };
    let (mut lo, mut hi) = (0, words.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if found(mid) { lo = mid } else { hi = mid - 1 }
    }
    let tail = words[lo.saturating_sub(6)..lo].join(" ");
    let next = words.get(lo).copied().unwrap_or_default();
    format!("the seed has «…{tail}» but not «…{tail} {next}»")
}

#[test]
fn every_verbatim_field_of_the_demo_plans_is_in_its_seed_text() {
    let dir = root().join("api/data/plans");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 5, "the five documents: {files:?}");
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        let seed_path = seed_of(file, &text);
        let seed = std::fs::read_to_string(&seed_path)
            .unwrap_or_else(|e| panic!("{name}: seed {}: {e}", seed_path.display()));
        let seed = haystacks(&seed);
        let doc: toml::Table = text
            .parse()
            .unwrap_or_else(|e| panic!("{name}: not TOML: {e}"));
        let fields = verbatim_fields(&doc);
        assert!(!fields.is_empty(), "{name}: no fields");
        for f in fields {
            checked += 1;
            let wanted = normalise(&f.text);
            if !seed.iter().any(|s| holds(s, &wanted)) {
                mismatches.push(format!(
                    "{name}: {}: {}\n    {wanted}",
                    f.place,
                    diverges_after(&wanted, &seed)
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {checked} verbatim fields are not in their seed text:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn the_comparison_ignores_layout_only() {
    let seed = haystacks(
        "1.1. Khẩn trương: **(1)** Rà soát các\nchỉ tiêu đến các doanh nghiệp\n\n¹ (1) Chú thích.\n\ntrên địa bàn huyện.",
    );
    let has = |t: &str| seed.iter().any(|s| holds(s, &normalise(t)));
    // A line break is a space, the emphasis goes, and a footnote may interrupt a sentence.
    assert!(has("Khẩn trương: (1) Rà soát các chỉ tiêu"));
    assert!(has("đến các doanh nghiệp trên địa bàn huyện."));
    assert!(has("¹ (1) Chú thích."));
    // NFC on both sides: a decomposed "ả" is the composed one.
    assert!(has("Ra\u{300} soát"));
    // A changed word is not.
    assert!(!has("Rà soát các chỉ số"));
    assert!(!has("đến các doanh nghiệp trên địa bàn quận."));
    // Nor is a word cut short.
    assert!(!has("Rà soát các chỉ tiê"));
    assert!(!has("hẩn trương"));
}

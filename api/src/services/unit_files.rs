//! Reading the official unit lists and the old → new mapping (../shared/data/admin-units,
//! SOURCE.md there). The format is recognised from the header row:
//!
//! - three levels: `province_code,province_name,province_type,district_code,district_name,
//!   district_type,commune_code,commune_name,commune_type,…` (the 2024 and March 2025 lists);
//! - the GSO export: `Tỉnh Thành Phố,Mã TP,Quận Huyện,Mã QH,Phường Xã,Mã PX,Cấp,Tên Tiếng Anh`;
//! - two levels: `province_code,province_name,province_type,commune_code,commune_name,
//!   commune_type,…` (from 1 July 2025);
//! - the mapping: `old_province_code,…,old_commune_code,old_commune_name,…,new_commune_code,
//!   new_commune_name,change_note,old_commune_split_count`;
//! - the derived list of the 2024–2025 merger wave: `old_commune_code,old_commune_name,
//!   new_commune_code,new_commune_name,effective_date,resolution,evidence,evidence_source`.

use super::unit_import::{LineageRow, MergerRow, Provenance, UnitRow};
use crate::error::{AppError, AppResult};
use crate::text;
use entity::enums::{AdminLevel, LineageChange, LineageEvidence};
use std::collections::HashMap;

/// The formats recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitFileFormat {
    /// Province, district and commune columns with their type words.
    ThreeLevel,
    /// The GSO export with Vietnamese headers.
    GsoExport,
    /// Province and commune columns (from 1 July 2025).
    TwoLevel,
}

fn bad(line: usize, reason: impl Into<String>) -> AppError {
    AppError::bad_input(format!("line {line}"), reason.into())
}

fn header_of(data: &str) -> Vec<String> {
    let first = data.lines().next().unwrap_or_default();
    first
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|h| text::clean(h).to_lowercase())
        .collect()
}

/// Recognises a unit list's format from its header.
pub fn detect(data: &str) -> AppResult<UnitFileFormat> {
    let h = header_of(data);
    let starts = |cols: &[&str]| h.len() >= cols.len() && cols.iter().zip(&h).all(|(a, b)| a == b);
    if starts(&[
        "province_code",
        "province_name",
        "province_type",
        "district_code",
        "district_name",
        "district_type",
        "commune_code",
        "commune_name",
        "commune_type",
    ]) {
        Ok(UnitFileFormat::ThreeLevel)
    } else if starts(&[
        "tỉnh thành phố",
        "mã tp",
        "quận huyện",
        "mã qh",
        "phường xã",
        "mã px",
        "cấp",
    ]) {
        Ok(UnitFileFormat::GsoExport)
    } else if starts(&[
        "province_code",
        "province_name",
        "province_type",
        "commune_code",
        "commune_name",
        "commune_type",
    ]) {
        Ok(UnitFileFormat::TwoLevel)
    } else {
        Err(bad(
            1,
            "unrecognised header: expected a three-level list, a two-level list or the GSO export",
        ))
    }
}

/// Collects units from rows, checking that a code repeated on several rows names the same unit.
struct Collector {
    units: Vec<UnitRow>,
    seen: HashMap<String, usize>,
}

impl Collector {
    fn add(
        &mut self,
        line: usize,
        code: &str,
        name: &str,
        kind: &str,
        level: AdminLevel,
        parent: Option<&str>,
        repeats: bool,
    ) -> AppResult<()> {
        let code = code.trim();
        let row = UnitRow {
            code: code.to_string(),
            name: text::clean(name),
            kind: text::clean(kind),
            level,
            parent_code: parent.map(|p| p.trim().to_string()),
            line,
        };
        if row.name.is_empty() {
            return Err(bad(line, format!("unit {code} has an empty name")));
        }
        match self.seen.get(code) {
            Some(&i) => {
                let first = &self.units[i];
                if !repeats {
                    return Err(bad(
                        line,
                        format!("duplicate code {code} (first at line {})", first.line),
                    ));
                }
                if first.name != row.name
                    || first.parent_code != row.parent_code
                    || first.level != level
                {
                    return Err(bad(
                        line,
                        format!("code {code} names another unit than at line {}", first.line),
                    ));
                }
            }
            None => {
                self.seen.insert(code.to_string(), self.units.len());
                self.units.push(row);
            }
        }
        Ok(())
    }
}

/// The official type word a name starts with, for a format that gives none.
fn type_word(name: &str, words: &[&'static str]) -> Option<&'static str> {
    let name = text::clean(name);
    words
        .iter()
        .find(|w| name.starts_with(&format!("{w} ")))
        .copied()
}

/// Parses a unit list in any recognised format.
pub fn parse_unit_list(data: &str) -> AppResult<(UnitFileFormat, Vec<UnitRow>)> {
    let format = detect(data)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(data.as_bytes());
    let mut c = Collector {
        units: Vec::new(),
        seen: HashMap::new(),
    };
    for (i, record) in reader.records().enumerate() {
        let r = record.map_err(|e| bad(i + 2, e.to_string()))?;
        // The record's own line (quoted cells may span lines).
        let line = r.position().map(|p| p.line() as usize).unwrap_or(i + 2);
        let f = |n: usize| r.get(n).unwrap_or_default().trim();
        match format {
            UnitFileFormat::ThreeLevel => {
                c.add(line, f(0), f(1), f(2), AdminLevel::Province, None, true)?;
                c.add(
                    line,
                    f(3),
                    f(4),
                    f(5),
                    AdminLevel::District,
                    Some(f(0)),
                    true,
                )?;
                if !f(6).is_empty() {
                    c.add(
                        line,
                        f(6),
                        f(7),
                        f(8),
                        AdminLevel::Commune,
                        Some(f(3)),
                        false,
                    )?;
                }
            }
            UnitFileFormat::GsoExport => {
                let province_kind = match type_word(f(0), &["Thành phố", "Tỉnh"]) {
                    Some("Thành phố") => "Thành phố Trung ương",
                    Some(k) => k,
                    None => return Err(bad(line, format!("`{}` has no type word", f(0)))),
                };
                let district_kind = type_word(f(2), &["Thành phố", "Thị xã", "Quận", "Huyện"])
                    .ok_or_else(|| bad(line, format!("`{}` has no type word", f(2))))?;
                c.add(
                    line,
                    f(1),
                    f(0),
                    province_kind,
                    AdminLevel::Province,
                    None,
                    true,
                )?;
                c.add(
                    line,
                    f(3),
                    f(2),
                    district_kind,
                    AdminLevel::District,
                    Some(f(1)),
                    true,
                )?;
                if !f(5).is_empty() {
                    c.add(
                        line,
                        f(5),
                        f(4),
                        f(6),
                        AdminLevel::Commune,
                        Some(f(3)),
                        false,
                    )?;
                }
            }
            UnitFileFormat::TwoLevel => {
                c.add(line, f(0), f(1), f(2), AdminLevel::Province, None, true)?;
                c.add(
                    line,
                    f(3),
                    f(4),
                    f(5),
                    AdminLevel::Commune,
                    Some(f(0)),
                    false,
                )?;
            }
        }
    }
    Ok((format, c.units))
}

/// The kind of a mapping row from its note ("Nhập toàn bộ", "Nhập một phần diện tích", …),
/// read without case or diacritics so that spelling variants ("Nhâp") match; a note that says
/// nothing known falls back on the split count.
pub fn change_of_note(note: &str, split_count: Option<i32>) -> LineageChange {
    let n = text::fold(note);
    if n.starts_with("nhap toan bo") || n.starts_with("sap xep toan bo") {
        LineageChange::MergedWhole
    } else if n.starts_with("nhap mot phan") || n.starts_with("phan con lai") {
        LineageChange::MergedPart
    } else if n.starts_with("giu nguyen") {
        LineageChange::Unchanged
    } else if n.starts_with("doi ten") {
        LineageChange::Renamed
    } else if n.starts_with("doi loai hinh") {
        LineageChange::Retyped
    } else if split_count.is_some_and(|c| c > 1) {
        LineageChange::MergedPart
    } else {
        LineageChange::MergedWhole
    }
}

/// A mapping file: its links, and the rows that name no unit (reported and skipped).
pub struct Mapping {
    /// Old → new links (an island district's row links the district itself).
    pub rows: Vec<LineageRow>,
    /// Rows skipped, with the reason.
    pub skipped: Vec<(usize, String)>,
}

/// Parses the official old → new mapping.
pub fn parse_mapping(data: &str) -> AppResult<Mapping> {
    let h = header_of(data);
    let col = |name: &str| {
        h.iter()
            .position(|c| c == name)
            .ok_or_else(|| bad(1, format!("the mapping has no column {name}")))
    };
    let (old_district, old_commune, old_commune_name, new_commune, note, split) = (
        col("old_district_code")?,
        col("old_commune_code")?,
        col("old_commune_name")?,
        col("new_commune_code")?,
        col("change_note")?,
        col("old_commune_split_count")?,
    );
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(data.as_bytes());
    let mut out = Mapping {
        rows: Vec::new(),
        skipped: Vec::new(),
    };
    for (i, record) in reader.records().enumerate() {
        let r = record.map_err(|e| bad(i + 2, e.to_string()))?;
        let line = r.position().map(|p| p.line() as usize).unwrap_or(i + 2);
        let f = |n: usize| r.get(n).unwrap_or_default().trim();
        let split_count = match f(split) {
            "" => None,
            s => Some(
                s.parse::<i32>()
                    .map_err(|_| bad(line, format!("split count `{s}` is not a number")))?,
            ),
        };
        let new_code = f(new_commune);
        if new_code.len() != 5 {
            return Err(bad(
                line,
                format!("new commune code `{new_code}` is not 5 digits"),
            ));
        }
        // An island district that became a special zone names the district, not a commune; a
        // row with a name but no code names no unit at all.
        let old_code = match (f(old_commune), f(old_commune_name)) {
            ("", "") if !f(old_district).is_empty() => f(old_district),
            ("", name) => {
                out.skipped
                    .push((line, format!("`{name}` is not a unit: skipped")));
                continue;
            }
            (code, _) => code,
        };
        out.rows.push(LineageRow {
            old_code: old_code.to_string(),
            new_code: new_code.to_string(),
            change: change_of_note(f(note), split_count),
            split_count,
            line,
        });
    }
    Ok(out)
}

/// A lineage file: the official old → new mapping, or the derived merger list.
pub enum LineageFile {
    /// The official NSO mapping (its effective day is given on the command line).
    Official(Mapping),
    /// The derived 2024–2025 merger list (each row carries its own effective day).
    Mergers(Vec<MergerRow>),
}

/// Recognises a lineage file by its header and parses it.
pub fn parse_lineage(data: &str) -> AppResult<LineageFile> {
    let h = header_of(data);
    if h.iter().any(|c| c == "evidence") && h.iter().any(|c| c == "effective_date") {
        Ok(LineageFile::Mergers(parse_mergers(data)?))
    } else {
        Ok(LineageFile::Official(parse_mapping(data)?))
    }
}

/// Parses the derived merger list; a bad row stops it with its line.
pub fn parse_mergers(data: &str) -> AppResult<Vec<MergerRow>> {
    let h = header_of(data);
    let col = |name: &str| {
        h.iter()
            .position(|c| c == name)
            .ok_or_else(|| bad(1, format!("the merger list has no column {name}")))
    };
    let (old_code, old_name, new_code, effective, resolution, evidence, source) = (
        col("old_commune_code")?,
        col("old_commune_name")?,
        col("new_commune_code")?,
        col("effective_date")?,
        col("resolution")?,
        col("evidence")?,
        col("evidence_source")?,
    );
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(data.as_bytes());
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.map_err(|e| bad(i + 2, e.to_string()))?;
        let line = r.position().map(|p| p.line() as usize).unwrap_or(i + 2);
        let f = |n: usize| r.get(n).unwrap_or_default().trim();
        for (what, code) in [("old", f(old_code)), ("new", f(new_code))] {
            if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(
                    line,
                    format!("{what} commune code `{code}` is not 5 digits"),
                ));
            }
        }
        let day = chrono::NaiveDate::parse_from_str(f(effective), "%Y-%m-%d").map_err(|_| {
            bad(
                line,
                format!("effective_date `{}` is not YYYY-MM-DD", f(effective)),
            )
        })?;
        let evidence = match f(evidence) {
            "CITED" => LineageEvidence::Cited,
            "NAME_CONTINUITY" => LineageEvidence::NameContinuity,
            "UNCITED" => LineageEvidence::Uncited,
            "INFERRED" => LineageEvidence::Inferred,
            other => {
                return Err(bad(
                    line,
                    format!(
                        "evidence `{other}` is not one of CITED, NAME_CONTINUITY, UNCITED, INFERRED"
                    ),
                ));
            }
        };
        let optional = |n: usize| Some(f(n).to_string()).filter(|v| !v.is_empty());
        out.push(MergerRow {
            old_code: f(old_code).to_string(),
            old_name: text::clean(f(old_name)),
            new_code: f(new_code).to_string(),
            effective: day,
            provenance: Provenance {
                evidence,
                resolution: optional(resolution),
                source_url: optional(source),
            },
            line,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_map_to_kinds() {
        assert_eq!(
            change_of_note("Nhập toàn bộ", Some(1)),
            LineageChange::MergedWhole
        );
        assert_eq!(
            change_of_note("Nhập một phần diện tích, toàn bộ dân số", Some(2)),
            LineageChange::MergedPart
        );
        assert_eq!(
            change_of_note("Nhâp một phần diện tích", Some(2)),
            LineageChange::MergedPart
        );
        assert_eq!(
            change_of_note("Giữ nguyên", Some(1)),
            LineageChange::Unchanged
        );
        assert_eq!(
            change_of_note("Đổi tên từ một phần Phường 15", Some(1)),
            LineageChange::Renamed
        );
        assert_eq!(
            change_of_note("Sắp xếp toàn bộ huyện Lý Sơn thành đặc khu Lý Sơn", None),
            LineageChange::MergedWhole
        );
        assert_eq!(change_of_note("", Some(3)), LineageChange::MergedPart);
    }

    #[test]
    fn formats_are_recognised_and_rows_checked() {
        let three = "province_code,province_name,province_type,district_code,district_name,district_type,commune_code,commune_name,commune_type\n01,Thành phố Hà Nội,Thành phố Trung ương,001,Quận Ba Đình,Quận,00001,Phường Phúc Xá,Phường\n01,Thành phố Hà Nội,Thành phố Trung ương,001,Quận Ba Đình,Quận,00004,Phường  Trúc Bạch,Phường\n";
        let (format, units) = parse_unit_list(three).unwrap();
        assert_eq!(format, UnitFileFormat::ThreeLevel);
        assert_eq!(units.len(), 4);
        assert_eq!(units[3].name, "Phường Trúc Bạch");
        let dup = format!(
            "{three}01,Thành phố Hà Nội,Thành phố Trung ương,001,Quận Ba Đình,Quận,00004,Phường X,Phường\n"
        );
        assert!(
            matches!(parse_unit_list(&dup), Err(AppError::BadUserInput { ref field, .. }) if field == "line 4")
        );
        let gso = "Tỉnh Thành Phố,Mã TP,Quận Huyện,Mã QH,Phường Xã,Mã PX,Cấp,Tên Tiếng Anh\nThành phố Hà Nội,01,Quận Ba Đình,001,Phường Phúc Xá,00001,Phường,\n";
        let (format, units) = parse_unit_list(gso).unwrap();
        assert_eq!(format, UnitFileFormat::GsoExport);
        assert_eq!(units[0].kind, "Thành phố Trung ương");
        assert_eq!(units[1].kind, "Quận");
        assert!(detect("a,b,c\n").is_err());
    }

    #[test]
    fn mapping_rows() {
        let m = "old_province_code,old_province_name,old_district_code,old_district_name,old_commune_code,old_commune_name,new_province_code,new_province_name,new_commune_code,new_commune_name,change_note,old_commune_split_count\n31,Thành phố Hải Phòng,318,Huyện Bạch Long Vĩ,,,31,Thành phố Hải Phòng,11948,Đặc khu Bạch Long Vĩ,Sắp xếp toàn bộ huyện Bạch Long Vĩ thành đặc khu Bạch Long Vĩ,\n37,Tỉnh Ninh Bình,376,Huyện Kim Sơn,,Khu vực bãi bồi,37,Tỉnh Ninh Bình,14698,Xã Kim Đông,Nhập toàn bộ,\n01,Thành phố Hà Nội,003,Quận Tây Hồ,00112,Phường Thụy Khuê,01,Thành phố Hà Nội,00103,Phường Tây Hồ,\"Nhập một phần diện tích, toàn bộ dân số\",2\n";
        let parsed = parse_mapping(m).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rows[0].old_code, "318");
        assert_eq!(parsed.rows[1].change, LineageChange::MergedPart);
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].0, 3);
    }
}

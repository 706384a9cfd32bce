//! "Valid on a day", the one rule for unit versions and agencies (DESIGN, "Units and time"):
//! a row is valid from `valid_from` (null: since before the first list) through `valid_to`
//! (null: still valid), both days included.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, Condition};

/// Rows valid on some day from `start` through `end`.
pub fn overlapping(
    from: impl ColumnTrait,
    to: impl ColumnTrait,
    start: NaiveDate,
    end: NaiveDate,
) -> Condition {
    Condition::all()
        .add(Condition::any().add(from.is_null()).add(from.lte(end)))
        .add(Condition::any().add(to.is_null()).add(to.gte(start)))
}

/// Rows valid on `day`.
pub fn on(from: impl ColumnTrait, to: impl ColumnTrait, day: NaiveDate) -> Condition {
    overlapping(from, to, day, day)
}

/// Whether a row with this validity is valid on some day from `start` through `end` (what
/// [`overlapping`] selects).
pub fn overlaps(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    start: NaiveDate,
    end: NaiveDate,
) -> bool {
    from.is_none_or(|f| f <= end) && to.is_none_or(|t| t >= start)
}

/// Whether a row with this validity is valid on `day`.
pub fn contains(from: Option<NaiveDate>, to: Option<NaiveDate>, day: NaiveDate) -> bool {
    overlaps(from, to, day, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ends_are_included_and_null_is_open() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(contains(None, None, d("2024-01-01")));
        assert!(contains(Some(d("2025-07-01")), None, d("2025-07-01")));
        assert!(!contains(Some(d("2025-07-01")), None, d("2025-06-30")));
        assert!(contains(None, Some(d("2025-06-30")), d("2025-06-30")));
        assert!(!contains(None, Some(d("2025-06-30")), d("2025-07-01")));
    }
}

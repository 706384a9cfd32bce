//! DHIS2 period identifiers: `2024` (year), `2024S1` (six months), `2024Q3` (quarter),
//! `202406` (month).

use chrono::NaiveDate;

/// A parsed period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// A calendar year.
    Year(i32),
    /// A half year, 1 or 2.
    SixMonths(i32, u32),
    /// A quarter, 1 to 4.
    Quarter(i32, u32),
    /// A month, 1 to 12.
    Month(i32, u32),
}

impl Period {
    /// Parses a DHIS2 period id.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let year: i32 = s.get(..4)?.parse().ok()?;
        if !(1900..=2200).contains(&year) {
            return None;
        }
        let rest = &s[4..];
        let p = match rest.as_bytes() {
            [] => Period::Year(year),
            [b'S', n @ b'1'..=b'2'] => Period::SixMonths(year, u32::from(n - b'0')),
            [b'Q', n @ b'1'..=b'4'] => Period::Quarter(year, u32::from(n - b'0')),
            [_, _] => {
                let m: u32 = rest.parse().ok()?;
                if !(1..=12).contains(&m) {
                    return None;
                }
                Period::Month(year, m)
            }
            _ => return None,
        };
        Some(p)
    }

    /// The period after this one, of the same length.
    pub fn next(self) -> Self {
        match self {
            Period::Year(y) => Period::Year(y + 1),
            Period::SixMonths(y, 2) => Period::SixMonths(y + 1, 1),
            Period::SixMonths(y, h) => Period::SixMonths(y, h + 1),
            Period::Quarter(y, 4) => Period::Quarter(y + 1, 1),
            Period::Quarter(y, q) => Period::Quarter(y, q + 1),
            Period::Month(y, 12) => Period::Month(y + 1, 1),
            Period::Month(y, m) => Period::Month(y, m + 1),
        }
    }

    /// The period before this one, of the same length.
    pub fn previous(self) -> Self {
        match self {
            Period::Year(y) => Period::Year(y - 1),
            Period::SixMonths(y, 1) => Period::SixMonths(y - 1, 2),
            Period::SixMonths(y, h) => Period::SixMonths(y, h - 1),
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            Period::Month(y, 1) => Period::Month(y - 1, 12),
            Period::Month(y, m) => Period::Month(y, m - 1),
        }
    }

    /// Its first day.
    pub fn start(self) -> NaiveDate {
        let (year, month) = match self {
            Period::Year(y) => (y, 1),
            Period::SixMonths(y, h) => (y, (h - 1) * 6 + 1),
            Period::Quarter(y, q) => (y, (q - 1) * 3 + 1),
            Period::Month(y, m) => (y, m),
        };
        NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// Its length in months.
    pub fn months(self) -> u32 {
        match self {
            Period::Year(_) => 12,
            Period::SixMonths(..) => 6,
            Period::Quarter(..) => 3,
            Period::Month(..) => 1,
        }
    }

    /// The last day of the period (data for a period belongs to the unit valid then).
    pub fn end(self) -> NaiveDate {
        let (year, last_month) = match self {
            Period::Year(y) => (y, 12),
            Period::SixMonths(y, h) => (y, h * 6),
            Period::Quarter(y, q) => (y, q * 3),
            Period::Month(y, m) => (y, m),
        };
        let next = if last_month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, last_month + 1, 1)
        };
        next.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
    }
}

impl Period {
    /// Every period of a year: the year, its halves, quarters and months (19).
    pub fn of_year(year: i32) -> Vec<Period> {
        let mut out = vec![Period::Year(year)];
        out.extend((1..=2).map(|h| Period::SixMonths(year, h)));
        out.extend((1..=4).map(|q| Period::Quarter(year, q)));
        out.extend((1..=12).map(|m| Period::Month(year, m)));
        out
    }

    /// The year the period lies in.
    pub fn year(self) -> i32 {
        match self {
            Period::Year(y)
            | Period::SixMonths(y, _)
            | Period::Quarter(y, _)
            | Period::Month(y, _) => y,
        }
    }
}

/// A period range as a condition on a column of period ids: the periods that start on or after
/// `from`'s first day and end on or before `to`'s last day, whatever their length ("2024" to
/// "2024" holds the year, its halves, quarters and months; "2024S2" onwards starts with
/// 2024Q3 and 202407). Ids sort by year first, so a bound is a comparison for the other years
/// and a list for the bound's own year (which keeps an index on the column usable).
pub fn range_condition<C>(column: C, from: Option<Period>, to: Option<Period>) -> sea_orm::Condition
where
    C: sea_orm::ColumnTrait,
{
    use sea_orm::Condition;
    let mut all = Condition::all();
    if let Some(f) = from {
        let same_year: Vec<String> = Period::of_year(f.year())
            .into_iter()
            .filter(|p| p.start() >= f.start())
            .map(|p| p.to_string())
            .collect();
        all = all.add(
            Condition::any()
                .add(column.gte(format!("{:04}", f.year() + 1)))
                .add(column.is_in(same_year)),
        );
    }
    if let Some(t) = to {
        let same_year: Vec<String> = Period::of_year(t.year())
            .into_iter()
            .filter(|p| p.end() <= t.end())
            .map(|p| p.to_string())
            .collect();
        all = all.add(
            Condition::any()
                .add(column.lt(format!("{:04}", t.year())))
                .add(column.is_in(same_year)),
        );
    }
    all
}

impl std::fmt::Display for Period {
    /// The DHIS2 id.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y}"),
            Period::SixMonths(y, h) => write!(f, "{y}S{h}"),
            Period::Quarter(y, q) => write!(f, "{y}Q{q}"),
            Period::Month(y, m) => write!(f, "{y}{m:02}"),
        }
    }
}

/// The occurrence of a recurring report due most recently before `today`: its period and due
/// date, stepping from the first (`period`, `due_on`) by the period's own length.
pub fn latest_due(
    period: Period,
    due_on: NaiveDate,
    today: NaiveDate,
) -> Option<(Period, NaiveDate)> {
    if due_on >= today {
        return None;
    }
    let (mut p, mut due) = (period, due_on);
    // Bounded: a monthly duty over fifty years.
    for k in 1..=600u32 {
        let next_due = due_on.checked_add_months(chrono::Months::new(period.months() * k))?;
        if next_due >= today {
            break;
        }
        p = p.next();
        due = next_due;
    }
    Some((p, due))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_four_forms() {
        assert_eq!(Period::parse("2024"), Some(Period::Year(2024)));
        assert_eq!(Period::parse("2024S1"), Some(Period::SixMonths(2024, 1)));
        assert_eq!(Period::parse("2024Q3"), Some(Period::Quarter(2024, 3)));
        assert_eq!(Period::parse("202406"), Some(Period::Month(2024, 6)));
        for bad in ["24", "2024S3", "2024Q5", "202413", "2024-06", "abcd"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn steps_and_occurrences() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            Period::parse("2024Q4").unwrap().next().to_string(),
            "2025Q1"
        );
        assert_eq!(
            Period::parse("202412").unwrap().next().to_string(),
            "202501"
        );
        let (p, due) = latest_due(
            Period::parse("202401").unwrap(),
            d("2024-01-31"),
            d("2024-04-15"),
        )
        .unwrap();
        assert_eq!(
            (p.to_string(), due),
            ("202403".to_string(), d("2024-03-31"))
        );
        assert_eq!(
            latest_due(
                Period::parse("2024").unwrap(),
                d("2024-12-31"),
                d("2024-06-01")
            ),
            None
        );
    }

    #[test]
    fn ends() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(Period::parse("2024").unwrap().end(), d("2024-12-31"));
        assert_eq!(Period::parse("2022S1").unwrap().end(), d("2022-06-30"));
        assert_eq!(Period::parse("2024Q1").unwrap().end(), d("2024-03-31"));
        assert_eq!(Period::parse("202402").unwrap().end(), d("2024-02-29"));
    }
}

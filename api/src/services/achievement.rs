//! Whether a plan target (chỉ tiêu) is met: a pure judgement over exact decimals, shared by the
//! GraphQL `Target.achievement` field and the SQL roll-up.
//!
//! [`judge`] weighs a target's [`Terms`] against the latest [`Actual`] figure inside its period.
//! The rules:
//!
//! - **No data.** `NO_DATA` when there is no actual figure; when the target has no comparator
//!   (a qualitative target) or lacks the value its comparator needs (`BETWEEN` needs both
//!   bounds); when a change target (`INCREASE` / `DECREASE`) has no change unit, or neither a
//!   baseline nor a previous figure, or a zero baseline in `PERCENT` terms; when `MAINTAIN` has no
//!   value and no baseline or previous figure; when the figure's period lies outside the target
//!   period.
//! - **The figure x.** `LEVEL`: the actual value. `INCREASE`: actual − baseline (`ABSOLUTE`,
//!   `PERCENTAGE_POINT`) or (actual − baseline) × 100 ÷ |baseline| (`PERCENT`). `DECREASE`: the
//!   same with baseline − actual, so that a fall is positive. The baseline is the target's own,
//!   else the figure of the period before the target period.
//! - **Comparators**, v being the value: `AT_LEAST` x ≥ v; `ABOVE` x > v; `AT_MOST` x ≤ v;
//!   `BELOW` x < v. "Better" follows the indicator's direction for `LEVEL` targets; for change
//!   targets a larger change is always better.
//!   - `EQUAL`: x ≥ v when higher is better, x ≤ v when lower is better, x = v when the
//!     indicator has no direction.
//!   - `BETWEEN` lo..hi (inclusive, bounds in either order): inside is met, and so is beyond the
//!     range on the good side (above hi when higher is better, below lo when lower is better);
//!     without a direction only inside is met.
//!   - `MAINTAIN`: x at least as good as v, else as the baseline, else as the previous figure
//!     (≥ when higher is better or the direction is unknown, ≤ when lower is better); for change
//!     targets without a value, a change of at least zero.
//! - **Whole period.** When the figure's period covers the target period: `ACHIEVED` if met,
//!   else `NOT_ACHIEVED`.
//! - **Part of the period** (e.g. `2024S1` of a `2024` target). Once the target period has
//!   ended (today is after its last day) the figure is final and judged as it stands:
//!   `ACHIEVED` / `NOT_ACHIEVED`. Until then it is projected to the whole period and judged
//!   `ON_TRACK` if met, else `AT_RISK`: for `SUM` indicators pro rata (x × target months ÷ figure
//!   months, the change itself for change targets), for averages, rates and indicators of unknown
//!   aggregation x as it stands.
//!
//! Decimals compare by value: `6.5` equals `6.50`.

use chrono::NaiveDate;
use entity::enums::{Aggregation, ChangeUnit, Comparator, Direction, TargetMeasure};
use rust_decimal::Decimal;

use crate::period::Period;

/// The verdict on a target.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Achievement {
    /// The figure for the whole period meets the target (or a partial one did, once the period
    /// ended).
    Achieved,
    /// The figure for the whole period misses the target (or a partial one did, once the period
    /// ended).
    NotAchieved,
    /// A figure for part of a period that has not ended, projected to the whole, meets the target.
    OnTrack,
    /// A figure for part of a period that has not ended, projected to the whole, misses the target.
    AtRisk,
    /// Nothing to judge: no figure, a qualitative target, or terms or a baseline missing.
    NoData,
}

/// The terms of a target, with the direction and aggregation of its indicator (none when the
/// target has no indicator).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms {
    /// The figure itself, or its change against the baseline.
    pub measure: TargetMeasure,
    /// The terms of a change target.
    pub change_unit: Option<ChangeUnit>,
    /// The comparator; none for a qualitative target.
    pub comparator: Option<Comparator>,
    /// The value (the lower bound for `BETWEEN`).
    pub value: Option<Decimal>,
    /// The upper bound for `BETWEEN`.
    pub upper_value: Option<Decimal>,
    /// The target's own baseline.
    pub baseline: Option<Decimal>,
    /// Whether a higher or lower figure of the indicator is better.
    pub direction: Option<Direction>,
    /// How the indicator's values combine.
    pub aggregation: Option<Aggregation>,
}

/// A reported figure and the period it is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actual {
    /// The figure's period: the target period or a part of it.
    pub period: Period,
    /// The figure.
    pub value: Decimal,
}

/// Judges a target by the rules of this module.
///
/// `target_period` is the target's period; `actual` the latest figure for the target's
/// indicator, unit and disaggregation inside `target_period` (the whole period or a part of it);
/// `previous` the figure of the period before `target_period` (the baseline when the terms have
/// none); `today` Vietnam's today.
pub fn judge(
    terms: &Terms,
    target_period: Period,
    actual: Option<&Actual>,
    previous: Option<Decimal>,
    today: NaiveDate,
) -> Achievement {
    let Some(actual) = actual else {
        return Achievement::NoData;
    };
    let Some(comparator) = terms.comparator else {
        return Achievement::NoData;
    };
    let Some(whole) = covers(actual.period, target_period) else {
        return Achievement::NoData;
    };
    let projected = !whole && today <= target_period.end();
    let scale = (projected && terms.aggregation == Some(Aggregation::Sum))
        .then(|| (target_period.months(), actual.period.months()));
    let verdict = figure(terms, actual.value, previous, scale)
        .and_then(|x| meets(terms, comparator, x, previous));
    match (verdict, projected) {
        (None, _) => Achievement::NoData,
        (Some(true), false) => Achievement::Achieved,
        (Some(false), false) => Achievement::NotAchieved,
        (Some(true), true) => Achievement::OnTrack,
        (Some(false), true) => Achievement::AtRisk,
    }
}

/// Year, first and last month of a period.
fn span(p: Period) -> (i32, u32, u32) {
    match p {
        Period::Year(y) => (y, 1, 12),
        Period::SixMonths(y, h) => (y, h * 6 - 5, h * 6),
        Period::Quarter(y, q) => (y, q * 3 - 2, q * 3),
        Period::Month(y, m) => (y, m, m),
    }
}

/// Whether the figure's period covers the whole target period (`Some(true)`), only part of it
/// (`Some(false)`), or lies outside it (`None`). Calendar periods nest, so overlapping ones
/// contain one another.
fn covers(actual: Period, target: Period) -> Option<bool> {
    let (ya, first_a, last_a) = span(actual);
    let (yt, first_t, last_t) = span(target);
    if ya != yt || last_a < first_t || last_t < first_a {
        return None;
    }
    Some(actual.months() >= target.months())
}

/// The figure x compared with the value, scaled by `scale` (target months, figure months) when
/// projected pro rata; `None` when it cannot be computed.
fn figure(
    terms: &Terms,
    actual: Decimal,
    previous: Option<Decimal>,
    scale: Option<(u32, u32)>,
) -> Option<Decimal> {
    let project = |v: Decimal| match scale {
        Some((whole, part)) => v
            .checked_mul(Decimal::from(whole))?
            .checked_div(Decimal::from(part)),
        None => Some(v),
    };
    let fall = match terms.measure {
        TargetMeasure::Level => return project(actual),
        TargetMeasure::Increase => false,
        TargetMeasure::Decrease => true,
    };
    let unit = terms.change_unit?;
    let base = terms.baseline.or(previous)?;
    let change = project(if fall {
        base.checked_sub(actual)?
    } else {
        actual.checked_sub(base)?
    })?;
    match unit {
        ChangeUnit::Absolute | ChangeUnit::PercentagePoint => Some(change),
        ChangeUnit::Percent if base.is_zero() => None,
        ChangeUnit::Percent => change
            .checked_mul(Decimal::ONE_HUNDRED)?
            .checked_div(base.abs()),
    }
}

/// Whether x meets the comparator; `None` when the terms lack what it needs.
fn meets(
    terms: &Terms,
    comparator: Comparator,
    x: Decimal,
    previous: Option<Decimal>,
) -> Option<bool> {
    let level = terms.measure == TargetMeasure::Level;
    let direction = if level {
        terms.direction
    } else {
        Some(Direction::HigherIsBetter)
    };
    let met = match comparator {
        Comparator::AtLeast => x >= terms.value?,
        Comparator::Above => x > terms.value?,
        Comparator::AtMost => x <= terms.value?,
        Comparator::Below => x < terms.value?,
        Comparator::Equal => {
            let v = terms.value?;
            match direction {
                Some(Direction::HigherIsBetter) => x >= v,
                Some(Direction::LowerIsBetter) => x <= v,
                None => x == v,
            }
        }
        Comparator::Between => {
            let (a, b) = (terms.value?, terms.upper_value?);
            let (lo, hi) = (a.min(b), a.max(b));
            (lo..=hi).contains(&x)
                || match direction {
                    Some(Direction::HigherIsBetter) => x > hi,
                    Some(Direction::LowerIsBetter) => x < lo,
                    None => false,
                }
        }
        Comparator::Maintain => {
            let reference = match terms.value {
                Some(v) => v,
                None if level => terms.baseline.or(previous)?,
                None => Decimal::ZERO,
            };
            match direction {
                Some(Direction::LowerIsBetter) => x <= reference,
                _ => x >= reference,
            }
        }
    };
    Some(met)
}

#[cfg(test)]
mod tests {
    use super::*;

    use Achievement::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Terms with no change unit, baseline, direction or aggregation.
    fn terms(measure: TargetMeasure, comparator: Comparator, value: &str) -> Terms {
        Terms {
            measure,
            change_unit: None,
            comparator: Some(comparator),
            value: Some(d(value)),
            upper_value: None,
            baseline: None,
            direction: None,
            aggregation: None,
        }
    }

    /// "GRDP tăng 6,5-7%": LEVEL BETWEEN 6.5 7 on a growth rate.
    fn grdp_growth() -> Terms {
        Terms {
            upper_value: Some(d("7")),
            direction: Some(Direction::HigherIsBetter),
            aggregation: Some(Aggregation::Average),
            ..terms(TargetMeasure::Level, Comparator::Between, "6.5")
        }
    }

    /// "Giảm 300-400 hộ nghèo": DECREASE ABSOLUTE BETWEEN 300 400.
    fn fewer_poor_households(baseline: Option<&str>) -> Terms {
        Terms {
            change_unit: Some(ChangeUnit::Absolute),
            upper_value: Some(d("400")),
            baseline: baseline.map(d),
            direction: Some(Direction::LowerIsBetter),
            aggregation: Some(Aggregation::Sum),
            ..terms(TargetMeasure::Decrease, Comparator::Between, "300")
        }
    }

    /// "ít nhất 10 HTX mới": LEVEL AT_LEAST 10 on a SUM indicator.
    fn new_cooperatives() -> Terms {
        Terms {
            direction: Some(Direction::HigherIsBetter),
            aggregation: Some(Aggregation::Sum),
            ..terms(TargetMeasure::Level, Comparator::AtLeast, "10")
        }
    }

    /// Judges an annual 2024 target on a 2024 figure, in March 2025.
    fn annual(terms: &Terms, actual: &str, previous: Option<&str>) -> Achievement {
        let actual = Actual {
            period: p("2024"),
            value: d(actual),
        };
        judge(
            terms,
            p("2024"),
            Some(&actual),
            previous.map(d),
            day("2025-03-01"),
        )
    }

    /// Judges an annual 2024 target on a 2024S1 figure, on `today`.
    fn first_half(terms: &Terms, actual: &str, previous: Option<&str>, today: &str) -> Achievement {
        let actual = Actual {
            period: p("2024S1"),
            value: d(actual),
        };
        judge(terms, p("2024"), Some(&actual), previous.map(d), day(today))
    }

    #[test]
    fn grdp_growth_below_the_range_is_not_achieved() {
        assert_eq!(annual(&grdp_growth(), "6.2", None), NotAchieved);
    }

    #[test]
    fn grdp_growth_inside_the_range_is_achieved() {
        assert_eq!(annual(&grdp_growth(), "6.8", None), Achieved);
        assert_eq!(annual(&grdp_growth(), "6.5", None), Achieved);
        assert_eq!(annual(&grdp_growth(), "7", None), Achieved);
    }

    #[test]
    fn grdp_growth_above_the_range_is_achieved_as_higher_is_better() {
        assert_eq!(annual(&grdp_growth(), "7.4", None), Achieved);
    }

    #[test]
    fn above_the_range_without_a_direction_is_not_achieved() {
        let t = Terms {
            direction: None,
            ..grdp_growth()
        };
        assert_eq!(annual(&t, "7.4", None), NotAchieved);
        assert_eq!(annual(&t, "6.8", None), Achieved);
    }

    #[test]
    fn poverty_rate_below_one_percent_is_strict() {
        let t = Terms {
            direction: Some(Direction::LowerIsBetter),
            aggregation: Some(Aggregation::None),
            ..terms(TargetMeasure::Level, Comparator::Below, "1")
        };
        assert_eq!(annual(&t, "0.9", None), Achieved);
        assert_eq!(annual(&t, "1.0", None), NotAchieved);
    }

    #[test]
    fn poor_households_fall_against_the_baseline() {
        let t = fewer_poor_households(Some("2000"));
        assert_eq!(annual(&t, "1650", None), Achieved, "fall of 350");
        assert_eq!(annual(&t, "1800", None), NotAchieved, "fall of 200");
        assert_eq!(
            annual(&t, "1550", None),
            Achieved,
            "fall of 450, more than asked"
        );
    }

    #[test]
    fn poor_households_fall_against_the_previous_year_without_a_baseline() {
        let t = fewer_poor_households(None);
        assert_eq!(annual(&t, "1650", Some("2000")), Achieved);
        assert_eq!(annual(&t, "1800", Some("2000")), NotAchieved);
        assert_eq!(annual(&t, "1550", Some("2000")), Achieved);
    }

    #[test]
    fn the_target_baseline_wins_over_the_previous_figure() {
        let t = fewer_poor_households(Some("2000"));
        assert_eq!(annual(&t, "1650", Some("1700")), Achieved);
    }

    #[test]
    fn a_change_without_baseline_or_previous_figure_has_no_data() {
        assert_eq!(annual(&fewer_poor_households(None), "1650", None), NoData);
    }

    #[test]
    fn crime_falls_by_at_least_five_percent() {
        let t = Terms {
            change_unit: Some(ChangeUnit::Percent),
            baseline: Some(d("200")),
            direction: Some(Direction::LowerIsBetter),
            aggregation: Some(Aggregation::Sum),
            ..terms(TargetMeasure::Decrease, Comparator::AtLeast, "5")
        };
        assert_eq!(annual(&t, "188", None), Achieved, "6 % fall");
        assert_eq!(annual(&t, "190", None), Achieved, "exactly 5 %");
        assert_eq!(annual(&t, "194", None), NotAchieved, "3 % fall");
    }

    #[test]
    fn a_percent_change_from_a_zero_baseline_has_no_data() {
        let t = Terms {
            change_unit: Some(ChangeUnit::Percent),
            baseline: Some(d("0")),
            ..terms(TargetMeasure::Increase, Comparator::AtLeast, "5")
        };
        assert_eq!(annual(&t, "3", None), NoData);
    }

    #[test]
    fn a_rate_falls_by_0_15_points_against_the_previous_year() {
        let t = Terms {
            change_unit: Some(ChangeUnit::PercentagePoint),
            direction: Some(Direction::LowerIsBetter),
            aggregation: Some(Aggregation::None),
            ..terms(TargetMeasure::Decrease, Comparator::Equal, "0.15")
        };
        assert_eq!(annual(&t, "1.95", Some("2.10")), Achieved);
        assert_eq!(annual(&t, "1.90", Some("2.10")), Achieved, "a larger fall");
        assert_eq!(annual(&t, "2.00", Some("2.10")), NotAchieved);
    }

    #[test]
    fn at_least_one_more_cooperative() {
        let t = Terms {
            change_unit: Some(ChangeUnit::Absolute),
            baseline: Some(d("5")),
            ..terms(TargetMeasure::Increase, Comparator::AtLeast, "1")
        };
        assert_eq!(annual(&t, "6", None), Achieved);
        assert_eq!(annual(&t, "5", None), NotAchieved);
    }

    #[test]
    fn a_half_year_sum_is_projected_pro_rata_during_the_year() {
        let t = new_cooperatives();
        assert_eq!(
            first_half(&t, "6", None, "2024-08-01"),
            OnTrack,
            "12 projected"
        );
        assert_eq!(
            first_half(&t, "4", None, "2024-08-01"),
            AtRisk,
            "8 projected"
        );
    }

    #[test]
    fn a_half_year_rate_is_projected_as_it_stands_during_the_year() {
        assert_eq!(
            first_half(&grdp_growth(), "6.6", None, "2024-08-01"),
            OnTrack
        );
        assert_eq!(
            first_half(&grdp_growth(), "6.0", None, "2024-08-01"),
            AtRisk
        );
        let unknown = Terms {
            aggregation: None,
            ..new_cooperatives()
        };
        assert_eq!(first_half(&unknown, "6", None, "2024-08-01"), AtRisk);
    }

    #[test]
    fn a_half_year_change_of_a_sum_is_projected_pro_rata() {
        let t = fewer_poor_households(Some("2000"));
        assert_eq!(
            first_half(&t, "1800", None, "2024-08-01"),
            OnTrack,
            "fall of 200 in six months, 400 in a year"
        );
        assert_eq!(first_half(&t, "1900", None, "2024-08-01"), AtRisk);
    }

    #[test]
    fn a_half_year_figure_is_final_once_the_year_has_ended() {
        let t = new_cooperatives();
        assert_eq!(first_half(&t, "6", None, "2025-01-01"), NotAchieved);
        assert_eq!(first_half(&t, "10", None, "2025-01-01"), Achieved);
        assert_eq!(
            first_half(&grdp_growth(), "6.6", None, "2025-01-01"),
            Achieved
        );
        assert_eq!(
            first_half(&grdp_growth(), "6.0", None, "2025-01-01"),
            NotAchieved
        );
    }

    #[test]
    fn the_last_day_of_the_period_is_still_during_it() {
        assert_eq!(
            first_half(&new_cooperatives(), "6", None, "2024-12-31"),
            OnTrack
        );
    }

    #[test]
    fn a_figure_covering_a_shorter_target_period_is_compared_directly() {
        let actual = Actual {
            period: p("2024"),
            value: d("6.8"),
        };
        let verdict = judge(
            &grdp_growth(),
            p("2024S1"),
            Some(&actual),
            None,
            day("2024-03-01"),
        );
        assert_eq!(verdict, Achieved);
    }

    #[test]
    fn a_quarter_of_a_half_year_target_is_projected() {
        let actual = Actual {
            period: p("2024Q2"),
            value: d("3"),
        };
        let t = Terms {
            value: Some(d("6")),
            ..new_cooperatives()
        };
        let verdict = judge(&t, p("2024S1"), Some(&actual), None, day("2024-05-01"));
        assert_eq!(verdict, OnTrack);
    }

    #[test]
    fn a_figure_outside_the_target_period_has_no_data() {
        let actual = Actual {
            period: p("2023S2"),
            value: d("6.8"),
        };
        let verdict = judge(
            &grdp_growth(),
            p("2024"),
            Some(&actual),
            None,
            day("2024-03-01"),
        );
        assert_eq!(verdict, NoData);
    }

    #[test]
    fn a_qualitative_target_has_no_data() {
        let t = Terms {
            comparator: None,
            value: None,
            ..grdp_growth()
        };
        assert_eq!(annual(&t, "6.8", None), NoData);
    }

    #[test]
    fn no_actual_figure_has_no_data() {
        let verdict = judge(&grdp_growth(), p("2024"), None, None, day("2025-03-01"));
        assert_eq!(verdict, NoData);
    }

    #[test]
    fn incomplete_terms_have_no_data() {
        let no_upper = Terms {
            upper_value: None,
            ..grdp_growth()
        };
        assert_eq!(annual(&no_upper, "6.8", None), NoData);
        let no_unit = Terms {
            change_unit: None,
            ..fewer_poor_households(Some("2000"))
        };
        assert_eq!(annual(&no_unit, "1650", None), NoData);
    }

    #[test]
    fn decimals_compare_by_value() {
        assert_eq!(d("6.5"), d("6.50"));
        let t = terms(TargetMeasure::Level, Comparator::Equal, "6.50");
        assert_eq!(annual(&t, "6.5", None), Achieved);
        assert_eq!(annual(&t, "6.51", None), NotAchieved);
    }

    #[test]
    fn maintain_holds_the_value_or_else_the_baseline_or_previous_figure() {
        let mut t = Terms {
            value: None,
            direction: Some(Direction::HigherIsBetter),
            ..terms(TargetMeasure::Level, Comparator::Maintain, "0")
        };
        assert_eq!(annual(&t, "95", Some("95")), Achieved);
        assert_eq!(annual(&t, "94", Some("95")), NotAchieved);
        assert_eq!(annual(&t, "95", None), NoData);
        t.baseline = Some(d("90"));
        assert_eq!(annual(&t, "94", Some("95")), Achieved);
        t.value = Some(d("100"));
        assert_eq!(annual(&t, "99", None), NotAchieved);
        t.direction = Some(Direction::LowerIsBetter);
        assert_eq!(annual(&t, "99", None), Achieved);
    }
}

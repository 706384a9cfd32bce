//! Indicator values rolled up over the units below one: by the indicator's aggregation, with
//! completeness (the units expected at a level, those that reported). Exact decimals are summed
//! in Rust: SQLite cannot sum them exactly.

use crate::error::{AppError, AppResult};
use crate::period::Period;
use crate::policy::{Values, Visible};
use entity::enums::{AdminLevel, Aggregation, ValueStatus};
use entity::{admin_unit, indicator, indicator_value};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// A roll-up.
#[derive(Clone, Debug)]
pub struct Aggregate {
    /// The units expected to report, valid at the period's end.
    pub expected: Vec<admin_unit::Model>,
    /// Of those, the ids that reported.
    pub reported: Vec<i64>,
    /// The rolled-up value: the sum or the mean of the reported ones (none when the indicator
    /// does not aggregate, or nothing was reported).
    pub value: Option<Decimal>,
}

fn rank(l: AdminLevel) -> u8 {
    match l {
        AdminLevel::Province => 0,
        AdminLevel::District => 1,
        AdminLevel::Commune => 2,
    }
}

/// The units at `level` under `root` (itself when it is at that level), valid on `day`: one
/// statement per level walked.
pub async fn units_below<C: ConnectionTrait>(
    db: &C,
    root: &admin_unit::Model,
    level: AdminLevel,
    day: chrono::NaiveDate,
) -> AppResult<Vec<admin_unit::Model>> {
    let mut frontier = vec![root.clone()];
    let mut out = Vec::new();
    for _ in 0..3 {
        let (done, go): (Vec<_>, Vec<_>) = frontier
            .into_iter()
            .partition(|u| rank(u.level) >= rank(level));
        out.extend(done.into_iter().filter(|u| u.level == level));
        if go.is_empty() {
            break;
        }
        let ids: Vec<i64> = go.iter().map(|u| u.id).collect();
        frontier = super::units::children_of(db, &ids, day)
            .await?
            .into_values()
            .flatten()
            .collect();
    }
    out.sort_by(|a, b| a.sort_key.cmp(&b.sort_key).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Rolls the visible values of an indicator up over the units at `level` under `root`.
#[allow(clippy::too_many_arguments)]
pub async fn aggregate<C: ConnectionTrait>(
    db: &C,
    visible: &Visible<Values>,
    ind: &indicator::Model,
    root: &admin_unit::Model,
    period: &str,
    level: AdminLevel,
    disaggregation: &str,
    approved_only: bool,
) -> AppResult<Aggregate> {
    let p =
        Period::parse(period).ok_or_else(|| AppError::bad_input("period", "not a DHIS2 period"))?;
    let expected = units_below(db, root, level, p.end()).await?;
    let mut by_unit: HashMap<i64, Decimal> = HashMap::new();
    for chunk in expected.chunks(500) {
        let mut q = indicator_value::Entity::find()
            .filter(visible.condition())
            .filter(indicator_value::Column::IndicatorId.eq(ind.id))
            .filter(indicator_value::Column::Period.eq(period.trim()))
            .filter(indicator_value::Column::Disaggregation.eq(disaggregation))
            .filter(indicator_value::Column::Deleted.eq(false))
            .filter(indicator_value::Column::AdminUnitId.is_in(chunk.iter().map(|u| u.id)));
        if approved_only {
            q = q.filter(
                indicator_value::Column::Status
                    .is_in([ValueStatus::Approved, ValueStatus::Published]),
            );
        }
        for v in q.all(db).await? {
            if let Some(d) = v.value.as_ref().and_then(|d| d.to_decimal().ok()) {
                by_unit.insert(v.admin_unit_id, d);
            }
        }
    }
    let reported: Vec<i64> = expected
        .iter()
        .filter(|u| by_unit.contains_key(&u.id))
        .map(|u| u.id)
        .collect();
    let sum = by_unit
        .values()
        .try_fold(Decimal::ZERO, |a, b| a.checked_add(*b));
    let value = match (ind.aggregation, by_unit.len()) {
        (_, 0) | (Aggregation::None, _) => None,
        (Aggregation::Sum, _) => sum,
        (Aggregation::Average, n) => sum
            .and_then(|s| s.checked_div(Decimal::from(n as u64)))
            .map(|d| d.round_dp(6).normalize()),
    };
    Ok(Aggregate {
        expected,
        reported,
        value: value.map(|v| v.normalize()),
    })
}

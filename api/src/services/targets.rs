//! Targets against their figures, and the roll-ups over a scope: how many targets are
//! achieved, on track, at risk, missed or without data, and how many tasks are open, overdue
//! or due soon, per issuing unit.
//!
//! The selection is SQL over the scope (a bounded number of statements, whatever the number of
//! plans and targets); the tasks are counted by `GROUP BY`. Targets are judged in Rust
//! (`achievement::judge`): exact decimals and DHIS2 period arithmetic are not portable SQL.
//!
//! A target's figures are the indicator values of its indicator, unit and disaggregation that
//! are not deleted and are `APPROVED` or `PUBLISHED`; a caller whose scope does not hold the
//! target's unit is judged on `PUBLISHED` ones only, so that a public target never reveals an
//! unpublished figure.

use super::achievement::{self, Achievement, Actual, Terms};
use crate::error::AppResult;
use crate::period::Period;
use crate::policy::{Plans, Visible};
use chrono::NaiveDate;
use entity::enums::{AssignmentStatus, ValueStatus};
use entity::{assignment, indicator, indicator_value, plan, target};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Alias, Expr, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One reported figure of an indicator at a unit.
#[derive(Clone, Debug)]
pub struct Figure {
    /// DHIS2 period.
    pub period: String,
    /// The value.
    pub value: Decimal,
    /// Whether it is published (readable by anyone).
    pub published: bool,
}

/// The key of a target's figures: indicator, unit, disaggregation.
pub type FigureKey = (i64, i64, String);

/// The approved or published figures of these keys: one statement.
pub async fn figures<C: ConnectionTrait>(
    db: &C,
    keys: &[FigureKey],
) -> AppResult<HashMap<FigureKey, Vec<Figure>>> {
    let mut out: HashMap<FigureKey, Vec<Figure>> = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    let wanted: HashSet<&FigureKey> = keys.iter().collect();
    let indicators: HashSet<i64> = keys.iter().map(|k| k.0).collect();
    let units: HashSet<i64> = keys.iter().map(|k| k.1).collect();
    let rows = indicator_value::Entity::find()
        .filter(indicator_value::Column::IndicatorId.is_in(indicators))
        .filter(indicator_value::Column::AdminUnitId.is_in(units))
        .filter(indicator_value::Column::Deleted.eq(false))
        .filter(
            indicator_value::Column::Status.is_in([ValueStatus::Approved, ValueStatus::Published]),
        )
        .all(db)
        .await?;
    for r in rows {
        let key = (r.indicator_id, r.admin_unit_id, r.disaggregation.clone());
        if !wanted.contains(&key) {
            continue;
        }
        let Some(value) = r.value.as_ref().and_then(|v| v.to_decimal().ok()) else {
            continue;
        };
        out.entry(key).or_default().push(Figure {
            period: r.period,
            value,
            published: r.status == ValueStatus::Published,
        });
    }
    Ok(out)
}

/// The key of a target's figures, if it names an indicator.
pub fn figure_key(t: &target::Model) -> Option<FigureKey> {
    Some((t.indicator_id?, t.admin_unit_id, t.disaggregation.clone()))
}

/// Judges a target on the figures of its key (`internal`: approved figures count too).
pub fn verdict(
    t: &target::Model,
    ind: Option<&indicator::Model>,
    figures: &[Figure],
    internal: bool,
    today: NaiveDate,
) -> Achievement {
    let Some(period) = t.period.as_deref().and_then(Period::parse) else {
        return Achievement::NoData;
    };
    let usable: Vec<(Period, Decimal)> = figures
        .iter()
        .filter(|f| internal || f.published)
        .filter_map(|f| Some((Period::parse(&f.period)?, f.value)))
        .collect();
    // The figure of the period itself, else the latest part of it (the longest of those ending
    // last).
    let actual = usable
        .iter()
        .filter(|(p, _)| p.start() >= period.start() && p.end() <= period.end())
        .max_by_key(|(p, _)| (*p == period, p.end(), p.months()))
        .map(|(p, v)| Actual {
            period: *p,
            value: *v,
        });
    let previous = usable
        .iter()
        .find(|(p, _)| *p == period.previous())
        .map(|(_, v)| *v);
    let dec = |d: &Option<entity::DecimalText>| d.as_ref().and_then(|v| v.to_decimal().ok());
    let terms = Terms {
        measure: t.measure,
        change_unit: t.change_unit,
        comparator: t.comparator,
        value: dec(&t.value),
        upper_value: dec(&t.upper_value),
        baseline: dec(&t.baseline),
        direction: ind.map(|i| i.direction),
        aggregation: ind.map(|i| i.aggregation),
    };
    achievement::judge(&terms, period, actual.as_ref(), previous, today)
}

/// How many targets stand where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetCounts {
    /// All targets counted.
    pub total: usize,
    /// `ACHIEVED`.
    pub achieved: usize,
    /// `NOT_ACHIEVED`.
    pub not_achieved: usize,
    /// `ON_TRACK`.
    pub on_track: usize,
    /// `AT_RISK`.
    pub at_risk: usize,
    /// `NO_DATA`.
    pub no_data: usize,
}

impl TargetCounts {
    fn add(&mut self, a: Achievement) {
        self.total += 1;
        match a {
            Achievement::Achieved => self.achieved += 1,
            Achievement::NotAchieved => self.not_achieved += 1,
            Achievement::OnTrack => self.on_track += 1,
            Achievement::AtRisk => self.at_risk += 1,
            Achievement::NoData => self.no_data += 1,
        }
    }
}

/// Which targets a summary counts.
pub enum TargetSelection {
    /// The targets of one plan.
    Plan(i64),
    /// The targets of the plans issued by these units.
    Units(Vec<i64>),
}

/// Targets of the visible plans selected (top-level and parts alike), with a `year` their
/// period must fall in, judged and counted per the target's unit. `internal` says, for a
/// unit, whether approved figures count (the caller's scope holds it).
pub async fn target_summary<C: ConnectionTrait>(
    db: &C,
    selection: &TargetSelection,
    year: Option<i32>,
    visible: &Visible<Plans>,
    internal: impl Fn(i64) -> bool,
    today: NaiveDate,
) -> AppResult<(TargetCounts, BTreeMap<i64, TargetCounts>)> {
    let plans = plan::Entity::find()
        .filter(visible.condition())
        .filter(match selection {
            TargetSelection::Plan(id) => Condition::all().add(plan::Column::Id.eq(*id)),
            TargetSelection::Units(ids) => {
                Condition::all().add(plan::Column::AdminUnitId.is_in(ids.iter().copied()))
            }
        });
    let mut q = target::Entity::find().filter(
        target::Column::PlanId
            .in_subquery(plans.select_only().column(plan::Column::Id).into_query()),
    );
    if let Some(y) = year {
        q = q.filter(target::Column::Period.like(format!("{y}%")));
    }
    let targets = q.all(db).await?;
    let indicator_ids: HashSet<i64> = targets.iter().filter_map(|t| t.indicator_id).collect();
    let indicators: HashMap<i64, indicator::Model> = indicator::Entity::find()
        .filter(indicator::Column::Id.is_in(indicator_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let keys: Vec<FigureKey> = targets.iter().filter_map(figure_key).collect();
    let found = figures(db, &keys).await?;
    let mut total = TargetCounts::default();
    let mut per_unit: BTreeMap<i64, TargetCounts> = BTreeMap::new();
    for t in &targets {
        let figs = figure_key(t)
            .and_then(|k| found.get(&k))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let ind = t.indicator_id.and_then(|i| indicators.get(&i));
        let a = verdict(t, ind, figs, internal(t.admin_unit_id), today);
        total.add(a);
        per_unit.entry(t.admin_unit_id).or_default().add(a);
    }
    Ok((total, per_unit))
}

/// Tasks of one status at one issuing unit: how many, how many overdue and due soon.
#[derive(Clone, Debug)]
pub struct TaskGroup {
    /// The issuing unit.
    pub unit_id: i64,
    /// The status.
    pub status: AssignmentStatus,
    /// How many.
    pub count: usize,
    /// Of those, past their due date and neither done nor cancelled.
    pub overdue: usize,
    /// Of those, due within 30 days and neither done nor cancelled.
    pub due_soon: usize,
}

/// The tasks of the visible plans issued by `units`, grouped by issuing unit and status, as of
/// `day`: two statements, the plans (ids and units), then the tasks of those plans grouped by
/// plan and status.
///
/// One statement joining both was misplanned: PostgreSQL estimates the plans of a long unit
/// list (a province's every version and every unit below, most with no plan) at 25 times what
/// they are, and then reads every task in a hash join (76,800 tasks: 116 ms cold, 14–16 ms warm
/// under pgbench, against 4–5 ms for the two statements). Given the plan ids, the tasks come
/// through their index.
pub async fn task_groups<C: ConnectionTrait>(
    db: &C,
    units: &[i64],
    visible: &Visible<Plans>,
    day: NaiveDate,
) -> AppResult<Vec<TaskGroup>> {
    use assignment::Column as A;
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let plans: HashMap<i64, i64> = plan::Entity::find()
        .select_only()
        .column(plan::Column::Id)
        .column(plan::Column::AdminUnitId)
        .filter(crate::services::sql::id_in(
            db.get_database_backend(),
            plan::Column::AdminUnitId,
            units.iter().copied(),
        ))
        .filter(visible.condition())
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let open = Condition::all()
        .add(A::Status.is_not_in([AssignmentStatus::Done, AssignmentStatus::Cancelled]));
    let horizon = day + chrono::Days::new(30);
    let overdue = open.clone().add(A::DueOn.lt(day));
    let soon = open.add(A::DueOn.gte(day)).add(A::DueOn.lte(horizon));
    // As BIGINT: SUM of integers is NUMERIC on PostgreSQL, and reading the counts as decimals
    // first (the integer COUNT failing that with a formatted error) was 8 % of the server's
    // CPU under assignmentSummary (BENCHMARKS.md, the profiles of Q3–Q5).
    let one =
        |c: Condition| Func::cast_as(Func::sum(Expr::case(c, 1).finally(0)), Alias::new("BIGINT"));
    let mut groups: HashMap<(i64, AssignmentStatus), TaskGroup> = HashMap::new();
    let ids: Vec<i64> = plans.keys().copied().collect();
    for chunk in ids.chunks(1_000) {
        let mut q = Query::select();
        q.from(assignment::Entity)
            .expr_as(Expr::col(A::PlanId), Alias::new("plan_id"))
            .expr_as(Expr::col(A::Status), Alias::new("status"))
            .expr_as(Func::count(Expr::col(A::Id)), Alias::new("n"))
            .expr_as(one(overdue.clone()), Alias::new("overdue"))
            .expr_as(one(soon.clone()), Alias::new("soon"))
            .cond_where(crate::services::sql::id_in(
                db.get_database_backend(),
                A::PlanId,
                chunk.iter().copied(),
            ))
            .group_by_col(A::PlanId)
            .group_by_col(A::Status);
        let stmt = db.get_database_backend().build(&q);
        // Read by position (the order of the select above): by name, every value was a
        // lookup in the row's column map.
        for row in db.query_all_raw(stmt).await? {
            let status: String = row.try_get_by_index(1)?;
            let status = <AssignmentStatus as sea_orm::ActiveEnum>::try_from_value(&status)?;
            let n = |c: usize| -> AppResult<usize> {
                // COUNT and the SUMs cast to BIGINT: integers on both backends (a SUM of no
                // rows cannot happen in a group, but would be NULL).
                let v: Option<i64> = row.try_get_by_index(c)?;
                Ok(v.and_then(|v| usize::try_from(v).ok()).unwrap_or(0))
            };
            let plan_id: i64 = row.try_get_by_index(0)?;
            let Some(&unit_id) = plans.get(&plan_id) else {
                continue;
            };
            let g = groups.entry((unit_id, status)).or_insert(TaskGroup {
                unit_id,
                status,
                count: 0,
                overdue: 0,
                due_soon: 0,
            });
            g.count += n(2)?;
            g.overdue += n(3)?;
            g.due_soon += n(4)?;
        }
    }
    let mut out: Vec<TaskGroup> = groups.into_values().collect();
    out.sort_by_key(|g| g.unit_id);
    Ok(out)
}

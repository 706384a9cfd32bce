//! Reading plans, agencies and indicators.

use crate::error::AppResult;
use crate::policy::{Plans, Visible};
use crate::text;
use chrono::{Datelike, NaiveDate};
use entity::admin_unit::{self, Entity as AdminUnit};
use entity::enums::{IndicatorCategory, PlanKind, PlanStatus};
use entity::{agency, indicator, plan};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::BTreeSet;

/// Filters of the plans list.
#[derive(Clone, Debug, Default)]
pub struct PlanQuery {
    /// A unit code: every version of it (within `year` when given).
    pub unit_code: Option<String>,
    /// Also plans of units below it.
    pub include_descendants: bool,
    /// Also plans of units above it (what it implements).
    pub include_ancestors: bool,
    /// Kind.
    pub kind: Option<PlanKind>,
    /// A year the plan's period covers (or, without a period, its issue year).
    pub year: Option<i32>,
    /// Status.
    pub status: Option<PlanStatus>,
    /// Issuing agency.
    pub issuer_id: Option<i64>,
    /// Words of the number or title, ignoring case and diacritics.
    pub search: Option<String>,
}

/// The unit rows a code names: every version, or those valid during `year`.
pub async fn units_with_code<C: ConnectionTrait>(
    db: &C,
    code: &str,
    year: Option<i32>,
) -> AppResult<Vec<admin_unit::Model>> {
    let mut q = AdminUnit::find().filter(admin_unit::Column::Code.eq(code.trim()));
    if let Some(y) = year {
        let (start, end) = (
            NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(NaiveDate::MIN),
            NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(NaiveDate::MAX),
        );
        q = q
            .filter(
                Condition::any()
                    .add(admin_unit::Column::ValidFrom.is_null())
                    .add(admin_unit::Column::ValidFrom.lte(end)),
            )
            .filter(
                Condition::any()
                    .add(admin_unit::Column::ValidTo.is_null())
                    .add(admin_unit::Column::ValidTo.gte(start)),
            );
    }
    Ok(q.all(db).await?)
}

/// Ids of the given units and, as asked, of every unit below or above them (any version):
/// one statement per level.
pub async fn unit_scope<C: ConnectionTrait>(
    db: &C,
    roots: &[admin_unit::Model],
    descendants: bool,
    ancestors: bool,
) -> AppResult<BTreeSet<i64>> {
    let mut ids: BTreeSet<i64> = roots.iter().map(|u| u.id).collect();
    if descendants {
        let mut frontier: Vec<i64> = ids.iter().copied().collect();
        for _ in 0..3 {
            if frontier.is_empty() {
                break;
            }
            let children: Vec<i64> = AdminUnit::find()
                .filter(admin_unit::Column::ParentId.is_in(frontier))
                .all(db)
                .await?
                .into_iter()
                .map(|u| u.id)
                .filter(|id| !ids.contains(id))
                .collect();
            ids.extend(children.iter().copied());
            frontier = children;
        }
    }
    if ancestors {
        let mut parents: Vec<i64> = roots.iter().filter_map(|u| u.parent_id).collect();
        for _ in 0..3 {
            if parents.is_empty() {
                break;
            }
            ids.extend(parents.iter().copied());
            parents = AdminUnit::find()
                .filter(admin_unit::Column::Id.is_in(parents))
                .all(db)
                .await?
                .into_iter()
                .filter_map(|u| u.parent_id)
                .collect();
        }
    }
    Ok(ids)
}

fn covers_year(p: &plan::Model, year: i32) -> bool {
    match (p.period_from, p.period_to) {
        (Some(from), to) => from <= year && to.unwrap_or(from) >= year,
        (None, Some(to)) => to == year,
        (None, None) => p.issued_on.is_some_and(|d| d.year() == year),
    }
}

/// Plans the caller may read matching the filter, newest issue first (undated last), then by
/// id.
pub async fn find_plans<C: ConnectionTrait>(
    db: &C,
    visible: &Visible<Plans>,
    q: &PlanQuery,
) -> AppResult<Vec<plan::Model>> {
    let mut select = plan::Entity::find().filter(visible.condition());
    if let Some(code) = &q.unit_code {
        let roots = units_with_code(db, code, q.year).await?;
        let scope = unit_scope(db, &roots, q.include_descendants, q.include_ancestors).await?;
        select = select.filter(plan::Column::AdminUnitId.is_in(scope));
    }
    if let Some(kind) = q.kind {
        select = select.filter(plan::Column::Kind.eq(kind));
    }
    if let Some(status) = q.status {
        select = select.filter(plan::Column::Status.eq(status));
    }
    if let Some(issuer) = q.issuer_id {
        select = select.filter(plan::Column::IssuerAgencyId.eq(issuer));
    }
    let words = text::search_words(q.search.as_deref(), "filter.search")?;
    select = select.filter(text::contains_all(plan::Column::SearchKey, &words));
    let mut plans = select.order_by_asc(plan::Column::Id).all(db).await?;
    if let Some(y) = q.year {
        plans.retain(|p| covers_year(p, y));
    }
    plans.sort_by_key(|p| (std::cmp::Reverse(p.issued_on), p.id));
    // Undated plans last.
    plans.sort_by_key(|p| p.issued_on.is_none());
    Ok(plans)
}

/// The plans with this number issued by a unit with this code (any version), newest first.
pub async fn plan_by_number<C: ConnectionTrait>(
    db: &C,
    number: &str,
    unit_code: &str,
) -> AppResult<Vec<plan::Model>> {
    let units: Vec<i64> = units_with_code(db, unit_code, None)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    let mut found = plan::Entity::find()
        .filter(plan::Column::Number.eq(text::clean(number)))
        .filter(plan::Column::AdminUnitId.is_in(units))
        .all(db)
        .await?;
    // Newest first, undated last, the same on both backends (their NULL orders differ).
    found.sort_by_key(|p| {
        (
            p.issued_on.is_none(),
            std::cmp::Reverse(p.issued_on),
            std::cmp::Reverse(p.id),
        )
    });
    Ok(found)
}

/// Agencies of a unit code (its versions valid on `as_of`, or all), valid on `as_of` when
/// given, matching `search`, in Vietnamese order of their names.
pub async fn find_agencies<C: ConnectionTrait>(
    db: &C,
    unit_code: Option<&str>,
    search: Option<&str>,
    as_of: Option<NaiveDate>,
) -> AppResult<Vec<agency::Model>> {
    let mut select = agency::Entity::find();
    if let Some(code) = unit_code {
        let mut units = units_with_code(db, code, None).await?;
        if let Some(day) = as_of {
            units.retain(|u| super::units::is_valid_on(u, day));
        }
        select = select.filter(agency::Column::AdminUnitId.is_in(units.into_iter().map(|u| u.id)));
    }
    if let Some(day) = as_of {
        select = select
            .filter(
                Condition::any()
                    .add(agency::Column::ValidFrom.is_null())
                    .add(agency::Column::ValidFrom.lte(day)),
            )
            .filter(
                Condition::any()
                    .add(agency::Column::ValidTo.is_null())
                    .add(agency::Column::ValidTo.gte(day)),
            );
    }
    let words = text::search_words(search, "search")?;
    select = select.filter(text::contains_all(agency::Column::SearchKey, &words));
    let mut rows = select.all(db).await?;
    rows.sort_by_cached_key(|a| (text::sort_key(&a.name), a.id));
    Ok(rows)
}

/// Indicators matching a search and category, by code.
pub async fn find_indicators<C: ConnectionTrait>(
    db: &C,
    search: Option<&str>,
    category: Option<IndicatorCategory>,
) -> AppResult<Vec<indicator::Model>> {
    let mut select = indicator::Entity::find();
    if let Some(c) = category {
        select = select.filter(indicator::Column::Category.eq(c));
    }
    let words = text::search_words(search, "filter.search")?;
    select = select.filter(text::contains_all(indicator::Column::SearchKey, &words));
    // Sorted here, bytewise like the cursors, whatever the column's collation.
    let mut rows = select.all(db).await?;
    rows.sort_by(|a, b| (&a.code, a.id).cmp(&(&b.code, b.id)));
    Ok(rows)
}

/// Whether a reporting duty is late on `day`: for a single report, its due date has passed
/// with no report for its period submitted or accepted; for a recurring duty, the same holds
/// for the occurrence due most recently.
pub fn is_late(
    duty: &entity::reporting_duty::Model,
    reports: &[entity::progress_report::Model],
    day: NaiveDate,
) -> bool {
    let Some(first) = crate::period::Period::parse(&duty.period) else {
        return false;
    };
    let occurrence = if duty.recurrence.is_some() {
        crate::period::latest_due(first, duty.due_on, day)
    } else {
        (duty.due_on < day).then_some((first, duty.due_on))
    };
    let Some((period, _)) = occurrence else {
        return false;
    };
    let period = period.to_string();
    !reports
        .iter()
        .any(|r| r.period == period && r.status != entity::enums::ReportStatus::Returned)
}

/// Reporting duties of plans issued by a unit with this code or below it (every version),
/// late on `day`, earliest due first.
pub async fn late_duties<C: ConnectionTrait>(
    db: &C,
    unit_code: &str,
    day: NaiveDate,
    visible: &Visible<Plans>,
) -> AppResult<Vec<entity::reporting_duty::Model>> {
    use entity::{progress_report, reporting_duty};
    let roots = units_with_code(db, unit_code, None).await?;
    let scope = unit_scope(db, &roots, true, false).await?;
    let plan_ids: Vec<i64> = plan::Entity::find()
        .filter(plan::Column::AdminUnitId.is_in(scope))
        .filter(visible.condition())
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let duties = reporting_duty::Entity::find()
        .filter(reporting_duty::Column::PlanId.is_in(plan_ids))
        .all(db)
        .await?;
    let mut reports: std::collections::HashMap<i64, Vec<progress_report::Model>> =
        std::collections::HashMap::new();
    for r in progress_report::Entity::find()
        .filter(progress_report::Column::ReportingDutyId.is_in(duties.iter().map(|d| d.id)))
        .all(db)
        .await?
    {
        if let Some(d) = r.reporting_duty_id {
            reports.entry(d).or_default().push(r);
        }
    }
    let mut late: Vec<_> = duties
        .into_iter()
        .filter(|d| {
            is_late(
                d,
                reports.get(&d.id).map(Vec::as_slice).unwrap_or_default(),
                day,
            )
        })
        .collect();
    late.sort_by_key(|d| (d.due_on, d.id));
    Ok(late)
}

/// Counts of assignments for a summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Assignments counted.
    pub total: usize,
    /// By status, in the order of `AssignmentStatus`.
    pub by_status: Vec<(entity::enums::AssignmentStatus, usize)>,
    /// Deadline passed, neither done nor cancelled.
    pub overdue: usize,
    /// Due within the next 30 days (inclusive), neither done nor cancelled.
    pub due_in_30_days: usize,
}

/// Counts assignments as of a day.
pub fn count_assignments(rows: &[&entity::assignment::Model], day: NaiveDate) -> Counts {
    use entity::enums::AssignmentStatus as S;
    use sea_orm::Iterable;
    let open = |a: &entity::assignment::Model| !matches!(a.status, S::Done | S::Cancelled);
    let horizon = day + chrono::Days::new(30);
    Counts {
        total: rows.len(),
        by_status: S::iter()
            .map(|s| (s, rows.iter().filter(|a| a.status == s).count()))
            .collect(),
        overdue: rows
            .iter()
            .filter(|a| open(a) && a.due_on.is_some_and(|d| d < day))
            .count(),
        due_in_30_days: rows
            .iter()
            .filter(|a| open(a) && a.due_on.is_some_and(|d| d >= day && d <= horizon))
            .count(),
    }
}

/// The assignments of the plans issued by the units with this code (every version) and, when
/// asked, every unit below them, grouped by the issuing unit.
pub async fn assignments_by_issuing_unit<C: ConnectionTrait>(
    db: &C,
    unit_code: &str,
    include_descendants: bool,
    visible: &Visible<Plans>,
) -> AppResult<Vec<(i64, Vec<entity::assignment::Model>)>> {
    let roots = units_with_code(db, unit_code, None).await?;
    let scope = unit_scope(db, &roots, include_descendants, false).await?;
    let plans: std::collections::HashMap<i64, i64> = plan::Entity::find()
        .filter(plan::Column::AdminUnitId.is_in(scope))
        .filter(visible.condition())
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.admin_unit_id))
        .collect();
    let mut by_unit: std::collections::BTreeMap<i64, Vec<entity::assignment::Model>> =
        std::collections::BTreeMap::new();
    for a in entity::assignment::Entity::find()
        .filter(entity::assignment::Column::PlanId.is_in(plans.keys().copied()))
        .all(db)
        .await?
    {
        if let Some(unit) = plans.get(&a.plan_id) {
            by_unit.entry(*unit).or_default().push(a);
        }
    }
    Ok(by_unit.into_iter().collect())
}

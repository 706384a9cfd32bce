//! Reading plans, agencies and indicators.

use crate::error::{AppError, AppResult};
use crate::policy::{Plans, Visible};
use crate::services::page::{self, Key, Keyset, PageRequest, Rows, Total};
use crate::services::unit_snapshot::{Unit, UnitSnapshot};
use crate::text;
use chrono::{Datelike, NaiveDate};
use entity::enums::{IndicatorCategory, PlanKind, PlanStatus};
use entity::{agency, indicator, plan};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use sea_orm::{DatabaseConnection, Order, QuerySelect, Select};
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

/// Ids of the given units and, as asked, of every unit below them (any version) or above
/// them (their parents, three levels), from the hierarchy in memory: no statement.
pub fn unit_scope(
    units: &UnitSnapshot,
    roots: &[Unit],
    descendants: bool,
    ancestors: bool,
) -> BTreeSet<i64> {
    let mut ids: BTreeSet<i64> = if descendants {
        units.and_below(roots.iter().map(|u| u.id))
    } else {
        roots.iter().map(|u| u.id).collect()
    };
    if ancestors {
        let mut parents: Vec<i64> = roots.iter().filter_map(|u| u.parent_id).collect();
        for _ in 0..3 {
            if parents.is_empty() {
                break;
            }
            ids.extend(parents.iter().copied());
            parents = parents
                .iter()
                .filter_map(|p| units.unit(*p).and_then(|u| u.parent_id))
                .collect();
        }
    }
    ids
}

/// Plans whose period covers `year` (or, without a period, issued that year).
fn covers_year(year: i32) -> Condition {
    let (start, end) = (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX),
    );
    Condition::any()
        .add(
            Condition::all()
                .add(plan::Column::PeriodFrom.lte(year))
                .add(
                    Condition::any().add(plan::Column::PeriodTo.gte(year)).add(
                        Condition::all()
                            .add(plan::Column::PeriodTo.is_null())
                            .add(plan::Column::PeriodFrom.gte(year)),
                    ),
                ),
        )
        .add(
            Condition::all()
                .add(plan::Column::PeriodFrom.is_null())
                .add(plan::Column::PeriodTo.eq(year)),
        )
        .add(
            Condition::all()
                .add(plan::Column::PeriodFrom.is_null())
                .add(plan::Column::PeriodTo.is_null())
                .add(plan::Column::IssuedOn.between(start, end)),
        )
}

/// Undated plans' sort key: after every dated one.
const UNDATED: i64 = 999_999_999;
/// Dated plans' sort key: descending days as an ascending number.
const DAY_BASE: i64 = 100_000_000;

/// A plan's position in lists: newest issue first, undated last, then by id.
pub fn plan_key(p: &plan::Model) -> Key {
    let day = p
        .issued_on
        .map(|d| DAY_BASE - i64::from(d.num_days_from_ce()))
        .unwrap_or(UNDATED);
    (format!("{day:09}"), p.id)
}

/// The order of plan lists, as a keyset.
struct PlanOrder;

impl Keyset<plan::Entity> for PlanOrder {
    fn beyond(&self, key: &Key, forward: bool) -> AppResult<Condition> {
        use plan::Column::{Id, IssuedOn};
        let field = if forward { "after" } else { "before" };
        let bad = || AppError::bad_input(field, "not a cursor of this list");
        let n: i64 = key.0.parse().map_err(|_| bad())?;
        let id = key.1;
        if n == UNDATED {
            return Ok(if forward {
                Condition::all().add(IssuedOn.is_null()).add(Id.gt(id))
            } else {
                Condition::any()
                    .add(IssuedOn.is_not_null())
                    .add(Condition::all().add(IssuedOn.is_null()).add(Id.lt(id)))
            });
        }
        let day = i32::try_from(DAY_BASE - n)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .ok_or_else(bad)?;
        Ok(if forward {
            Condition::any()
                .add(IssuedOn.is_null())
                .add(IssuedOn.lt(day))
                .add(Condition::all().add(IssuedOn.eq(day)).add(Id.gt(id)))
        } else {
            Condition::any()
                .add(IssuedOn.gt(day))
                .add(Condition::all().add(IssuedOn.eq(day)).add(Id.lt(id)))
        })
    }

    fn order(&self, select: Select<plan::Entity>, order: Order) -> Select<plan::Entity> {
        let (first, rest) = match order {
            Order::Asc => (Order::Asc, Order::Desc),
            _ => (Order::Desc, Order::Asc),
        };
        select
            .order_by(Expr::col(plan::Column::IssuedOn).is_null(), first)
            .order_by(plan::Column::IssuedOn, rest)
            .order_by(plan::Column::Id, order)
    }
}

/// One page of the plans the caller may read matching the filter, newest issue first
/// (undated last), then by id; the total is counted only when asked for.
pub async fn plan_page(
    db: &DatabaseConnection,
    units: &UnitSnapshot,
    visible: &Visible<Plans>,
    q: &PlanQuery,
    page: &PageRequest,
) -> AppResult<(Rows<plan::Model>, Total)> {
    let mut select = plan::Entity::find().filter(visible.condition());
    if let Some(code) = &q.unit_code {
        let roots = units.with_code(code, q.year);
        let scope = unit_scope(units, &roots, q.include_descendants, q.include_ancestors);
        select = select.filter(crate::services::sql::id_in(
            db.get_database_backend(),
            plan::Column::AdminUnitId,
            scope,
        ));
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
    if let Some(y) = q.year {
        select = select.filter(covers_year(y));
    }
    let words = text::search_words(q.search.as_deref(), "filter.search")?;
    select = select.filter(text::contains_all(plan::Column::SearchKey, &words));
    let rows = page::fetch_as::<_, _, _, super::rows::Fast<plan::Model>>(
        db,
        select.clone(),
        &PlanOrder,
        page,
    )
    .await?
    .map(|r| r.0);
    Ok((rows, Total::count_of(db, select)))
}

/// The plans with this number issued by a unit with this code (any version), newest first.
pub async fn plan_by_number<C: ConnectionTrait>(
    db: &C,
    units: &UnitSnapshot,
    number: &str,
    unit_code: &str,
) -> AppResult<Vec<plan::Model>> {
    let units: Vec<i64> = units
        .with_code(unit_code, None)
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

/// Agencies of a unit code's versions (`unit_versions`; those valid on `as_of` when given),
/// valid on `as_of` when given, matching `search`, in Vietnamese order of their names.
pub async fn find_agencies<C: ConnectionTrait>(
    db: &C,
    unit_versions: Option<Vec<Unit>>,
    search: Option<&str>,
    as_of: Option<NaiveDate>,
) -> AppResult<Vec<agency::Model>> {
    let mut select = agency::Entity::find();
    if let Some(mut versions) = unit_versions {
        if let Some(day) = as_of {
            versions.retain(|u| super::units::is_valid_on(u, day));
        }
        select =
            select.filter(agency::Column::AdminUnitId.is_in(versions.into_iter().map(|u| u.id)));
    }
    if let Some(day) = as_of {
        select = select.filter(super::validity::on(
            agency::Column::ValidFrom,
            agency::Column::ValidTo,
            day,
        ));
    }
    let words = text::search_words(search, "search")?;
    select = select.filter(text::contains_all(agency::Column::SearchKey, &words));
    let mut rows = select.all(db).await?;
    rows.sort_by_cached_key(|a| (text::sort_key(&a.name), a.id));
    Ok(rows)
}

/// One page of the indicators matching a search and category, by code (bytewise); the total
/// only when asked.
pub async fn indicator_page(
    db: &DatabaseConnection,
    search: Option<&str>,
    category: Option<IndicatorCategory>,
    page: &PageRequest,
) -> AppResult<(Rows<indicator::Model>, Total)> {
    let mut select = indicator::Entity::find();
    if let Some(c) = category {
        select = select.filter(indicator::Column::Category.eq(c));
    }
    let words = text::search_words(search, "filter.search")?;
    select = select.filter(text::contains_all(indicator::Column::SearchKey, &words));
    let order = page::ByText(indicator::Column::Code, indicator::Column::Id);
    let rows = page::fetch(db, select.clone(), &order, page).await?;
    Ok((rows, Total::count_of(db, select)))
}

/// Indicators by code: one statement.
pub async fn indicators_by_codes<C: ConnectionTrait>(
    db: &C,
    codes: std::collections::HashSet<&str>,
) -> AppResult<std::collections::HashMap<String, indicator::Model>> {
    Ok(indicator::Entity::find()
        .filter(indicator::Column::Code.is_in(codes))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.code.clone(), i))
        .collect())
}

/// The indicator with this code.
pub async fn indicator_by_code<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> AppResult<Option<indicator::Model>> {
    Ok(indicator::Entity::find()
        .filter(indicator::Column::Code.eq(code.trim()))
        .one(db)
        .await?)
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
    units: &UnitSnapshot,
    unit_code: &str,
    day: NaiveDate,
    visible: &Visible<Plans>,
) -> AppResult<Vec<entity::reporting_duty::Model>> {
    use entity::{progress_report, reporting_duty};
    let roots = units.with_code(unit_code, None);
    let scope = unit_scope(units, &roots, true, false);
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

/// The assignments of the plans issued by the units with this code (every version) and, when
/// asked, every unit below them, counted per issuing unit as of `day` by one `GROUP BY`
/// statement (after the statements that resolve the units).
pub async fn assignment_counts_by_issuing_unit<C: ConnectionTrait>(
    db: &C,
    units: &UnitSnapshot,
    unit_code: &str,
    include_descendants: bool,
    visible: &Visible<Plans>,
    day: NaiveDate,
) -> AppResult<Vec<(i64, Counts)>> {
    let roots = units.with_code(unit_code, None);
    let scope: Vec<i64> = unit_scope(units, &roots, include_descendants, false)
        .into_iter()
        .collect();
    let mut by_unit: std::collections::BTreeMap<i64, Vec<super::targets::TaskGroup>> =
        std::collections::BTreeMap::new();
    for g in super::targets::task_groups(db, &scope, visible, day).await? {
        by_unit.entry(g.unit_id).or_default().push(g);
    }
    Ok(by_unit
        .into_iter()
        .map(|(unit, groups)| (unit, counts_of(&groups)))
        .collect())
}

/// Counts from grouped rows (every status listed, zeros included).
pub fn counts_of(groups: &[super::targets::TaskGroup]) -> Counts {
    use sea_orm::Iterable;
    Counts {
        total: groups.iter().map(|g| g.count).sum(),
        by_status: entity::enums::AssignmentStatus::iter()
            .map(|s| {
                (
                    s,
                    groups
                        .iter()
                        .filter(|g| g.status == s)
                        .map(|g| g.count)
                        .sum(),
                )
            })
            .collect(),
        overdue: groups.iter().map(|g| g.overdue).sum(),
        due_in_30_days: groups.iter().map(|g| g.due_soon).sum(),
    }
}

/// The sum of several counts.
pub fn add_counts(all: &[&Counts]) -> Counts {
    use sea_orm::Iterable;
    Counts {
        total: all.iter().map(|c| c.total).sum(),
        by_status: entity::enums::AssignmentStatus::iter()
            .map(|s| {
                (
                    s,
                    all.iter()
                        .flat_map(|c| c.by_status.iter())
                        .filter(|(t, _)| *t == s)
                        .map(|(_, n)| n)
                        .sum(),
                )
            })
            .collect(),
        overdue: all.iter().map(|c| c.overdue).sum(),
        due_in_30_days: all.iter().map(|c| c.due_in_30_days).sum(),
    }
}

/// Which assignments of a plan a nested list holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AssignmentQuery {
    /// Only this status.
    pub status: Option<entity::enums::AssignmentStatus>,
    /// Only overdue (true) or not overdue (false) assignments, as of `today`.
    pub overdue: Option<bool>,
    /// Only those led by this agency.
    pub lead_agency_id: Option<i64>,
    /// The day "overdue" is judged on.
    pub today: NaiveDate,
}

impl AssignmentQuery {
    fn condition(&self) -> Condition {
        use entity::assignment::Column as A;
        use entity::enums::AssignmentStatus as S;
        let mut c = Condition::all();
        if let Some(s) = self.status {
            c = c.add(A::Status.eq(s));
        }
        if let Some(lead) = self.lead_agency_id {
            c = c.add(A::LeadAgencyId.eq(lead));
        }
        if let Some(overdue) = self.overdue {
            let late = Condition::all()
                .add(A::DueOn.lt(self.today))
                .add(A::Status.is_not_in([S::Done, S::Cancelled]));
            c = c.add(if overdue { late } else { late.not() });
        }
        c
    }
}

/// An assignment's position in its plan: document order, then id.
pub fn assignment_key(a: &entity::assignment::Model) -> Key {
    (format!("{:06}", a.position), a.id)
}

/// An assignment of a page, with its lead agency when that was asked for.
/// (Agencies lead many tasks each: one copy of each agency is shared by its rows.)
pub type AssignmentRow = (
    entity::assignment::Model,
    Option<std::sync::Arc<entity::agency::Model>>,
);

/// One page of the assignments of each of several plans, in document order: one statement
/// for all of them (`row_number()` per plan), reading at most `page.limit()` rows a plan.
pub async fn assignment_pages<C: ConnectionTrait>(
    db: &C,
    plan_ids: &[i64],
    q: &AssignmentQuery,
    page: &PageRequest,
) -> AppResult<std::collections::HashMap<i64, Rows<entity::assignment::Model>>> {
    use super::rows::Fast;
    use entity::assignment::{Column as A, Entity as Assignment};
    use sea_orm::sea_query::{Alias, Query};
    use sea_orm::{Iterable, QueryTrait, StatementBuilder};
    let position = |field: &str, key: &Key| -> AppResult<(i32, i64)> {
        Ok((
            key.0
                .parse()
                .map_err(|_| AppError::bad_input(field, "not a cursor of this list"))?,
            key.1,
        ))
    };
    let beyond = |p: i32, id: i64, forward: bool| {
        let (pos, row) = if forward {
            (A::Position.gt(p), A::Id.gt(id))
        } else {
            (A::Position.lt(p), A::Id.lt(id))
        };
        Condition::any()
            .add(pos)
            .add(Condition::all().add(A::Position.eq(p)).add(row))
    };
    let mut cond = Condition::all()
        .add(crate::services::sql::id_in(
            db.get_database_backend(),
            A::PlanId,
            plan_ids.iter().copied(),
        ))
        .add(q.condition());
    if let Some(after) = &page.after {
        let (p, id) = position("after", after)?;
        cond = cond.add(beyond(p, id, true));
    }
    if let Some(before) = &page.before {
        let (p, id) = position("before", before)?;
        cond = cond.add(beyond(p, id, false));
    }
    let direction = if page.backward() { "DESC" } else { "ASC" };
    let rank = Expr::cust(format!(
        "ROW_NUMBER() OVER (PARTITION BY plan_id ORDER BY position {direction}, id {direction})"
    ));
    let inner = Assignment::find()
        .filter(cond)
        .expr_as(rank, "page_rank")
        .into_query();
    // The assignment's columns in its entity's order (what `Fast` reads).
    let ranked = Alias::new("ranked");
    let mut outer = Query::select();
    outer
        .columns(A::iter().map(|c| (ranked.clone(), c)))
        .from_subquery(inner, ranked.clone())
        .and_where(Expr::col((ranked.clone(), Alias::new("page_rank"))).lte(page.limit() as i64))
        .order_by((ranked.clone(), A::PlanId), Order::Asc)
        .order_by((ranked.clone(), Alias::new("page_rank")), Order::Asc);
    let statement = StatementBuilder::build(&outer, &db.get_database_backend());
    let rows = Assignment::find()
        .from_raw_sql(statement)
        .into_model::<Fast<entity::assignment::Model>>()
        .all(db)
        .await?
        .into_iter()
        .map(|Fast(task)| task);
    let mut by_plan: std::collections::HashMap<i64, Vec<entity::assignment::Model>> =
        plan_ids.iter().map(|id| (*id, Vec::new())).collect();
    for row in rows {
        by_plan.entry(row.plan_id).or_default().push(row);
    }
    Ok(by_plan
        .into_iter()
        .map(|(plan, rows)| (plan, page.cut(rows)))
        .collect())
}

/// How many assignments of each plan a nested list holds: one statement for all.
pub async fn assignment_counts<C: ConnectionTrait>(
    db: &C,
    plan_ids: &[i64],
    q: &AssignmentQuery,
) -> AppResult<std::collections::HashMap<i64, usize>> {
    use entity::assignment::{Column as A, Entity as Assignment};
    let counts: Vec<(i64, i64)> = Assignment::find()
        .select_only()
        .column(A::PlanId)
        .column_as(A::Id.count(), "n")
        .filter(crate::services::sql::id_in(
            db.get_database_backend(),
            A::PlanId,
            plan_ids.iter().copied(),
        ))
        .filter(q.condition())
        .group_by(A::PlanId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts
        .into_iter()
        .map(|(plan, n)| (plan, n as usize))
        .collect())
}

//! Reading plans, their tasks and duties, agencies and indicators.

use crate::error::AppError;
use crate::graphql::context::{access, db, max_page};
use crate::graphql::pagination::{self, PageArgs};
use crate::graphql::plans::{
    Agency, AgencyConnection, AssignmentSummary, Indicator, IndicatorConnection, IndicatorFilter,
    Plan, PlanConnection, PlanFilter, ReportingDuty, ReportingDutyConnection, TargetSummary,
};
use crate::graphql::query::{check_code, date, readable_plan};
use crate::graphql::scalars::Date;
use crate::graphql::scalars::decode_node_id_of;
use crate::graphql::units::{AdminUnit, UnitNode};
use crate::services::plans;
use async_graphql::{Context, ID, Object, Result};
use std::sync::Arc;

/// Reading plans, their tasks and duties, agencies and indicators.
#[derive(Default)]
pub struct PlansQuery;

/// Reading plans, their tasks and duties, agencies and indicators.
#[Object]
impl PlansQuery {
    /// Plans you may read, newest issue first (undated last), filtered. Anonymous callers see
    /// issued public documents and referenced ones; principals also see everything issued in
    /// their scope and the issued plans of the units above them.
    async fn plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which plans.")] filter: Option<PlanFilter>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "At most this many from the end.")] last: Option<i32>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
    ) -> Result<PlanConnection> {
        let f = filter.unwrap_or_default();
        if let Some(code) = &f.unit_code {
            check_code(code)?;
        }
        let issuer_id = match &f.issuer_id {
            Some(id) => Some(
                decode_node_id_of("Agency", id)
                    .ok_or_else(|| AppError::bad_input("issuerId", "not an agency id"))?,
            ),
            None => None,
        };
        let q = plans::PlanQuery {
            unit_code: f.unit_code.clone(),
            include_descendants: f.include_descendants.unwrap_or(false),
            include_ancestors: f.include_ancestors.unwrap_or(false),
            kind: f.kind.map(Into::into),
            year: f.year,
            status: f.status.map(Into::into),
            issuer_id,
            search: f.search.clone(),
        };
        let args = PageArgs {
            after,
            before,
            first,
            last,
        };
        let request = pagination::page_request(&args, max_page(ctx))?;
        let units = crate::graphql::context::units(ctx).await?;
        let (rows, total) = plans::plan_page(
            db(ctx)?,
            &units,
            &access(ctx)?.visible_plans(),
            &q,
            &request,
        )
        .await?;
        let page =
            pagination::Page::from_rows(rows.map(|p| Plan(Arc::new(p))), Plan::position, total);
        Ok(PlanConnection { page })
    }

    /// A plan by its global id.
    async fn plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A plan's global id.")] id: ID,
    ) -> Result<Option<Plan>> {
        match decode_node_id_of("Plan", &id) {
            Some(row) => readable_plan(ctx, row).await,
            None => Ok(None),
        }
    }

    /// A plan by its number and the code of the unit that issued it (any version of the code).
    async fn plan_by_number(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Document number, e.g. \"230/KH-UBND\".")] number: String,
        #[graphql(desc = "Code of the issuing unit.")] unit_code: String,
    ) -> Result<Option<Plan>> {
        check_code(&unit_code)?;
        let units = crate::graphql::context::units(ctx).await?;
        let found = plans::plan_by_number(db(ctx)?, &units, &number, &unit_code).await?;
        if found.is_empty() {
            return Ok(None);
        }
        let a = access(ctx)?;
        for p in found {
            if a.can_read_plan(&p).await? {
                return Ok(Some(Plan(Arc::new(p))));
            }
        }
        Err(a.denied("this plan").into())
    }

    /// Agencies, in Vietnamese order of their names.
    async fn agencies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Agencies of units with this code.")] unit_code: Option<String>,
        #[graphql(desc = "Words of the name; case and diacritics are ignored.")] search: Option<
            String,
        >,
        #[graphql(desc = "Only agencies (and unit versions) valid on this day.")] as_of: Option<
            Date,
        >,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
    ) -> Result<AgencyConnection> {
        if let Some(code) = &unit_code {
            check_code(code)?;
        }
        // The code's versions from the hierarchy in memory, read only when a code is given.
        let versions = match &unit_code {
            Some(code) => Some(
                crate::graphql::context::units(ctx)
                    .await?
                    .with_code(code, None),
            ),
            None => None,
        };
        let all: Vec<Agency> =
            plans::find_agencies(db(ctx)?, versions, search.as_deref(), as_of.map(|d| d.0))
                .await?
                .into_iter()
                .map(|a| Agency(Arc::new(a)))
                .collect();
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        let page = pagination::paginate(&all, Agency::position, &args, max_page(ctx))?;
        Ok(AgencyConnection { page })
    }

    /// Indicators, by code.
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which indicators.")] filter: Option<IndicatorFilter>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
    ) -> Result<IndicatorConnection> {
        let f = filter.unwrap_or_default();
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        let request = pagination::page_request(&args, max_page(ctx))?;
        let (rows, total) = plans::indicator_page(
            db(ctx)?,
            f.search.as_deref(),
            f.category.map(Into::into),
            &request,
        )
        .await?;
        let page = pagination::Page::from_rows(
            rows.map(|i| Indicator(Arc::new(i))),
            Indicator::position,
            total,
        );
        Ok(IndicatorConnection { page })
    }

    /// An indicator by its code.
    async fn indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Indicator code, e.g. \"GRDP_GROWTH\".")] code: String,
    ) -> Result<Option<Indicator>> {
        Ok(plans::indicator_by_code(db(ctx)?, &code)
            .await?
            .map(|i| Indicator(Arc::new(i))))
    }

    /// Reporting duties of plans issued by a unit with this code or any unit below it (every
    /// version of the code), late on a day, earliest due first: only duties whose reports you
    /// may read (progress reports are internal), so nothing for an anonymous caller.
    async fn late_reporting_duties(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code of the issuing unit; plans of the units below it count too.")]
        unit_code: String,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
    ) -> Result<ReportingDutyConnection> {
        check_code(&unit_code)?;
        let day = date(as_of);
        let late: Vec<ReportingDuty> = plans::late_duties(
            db(ctx)?,
            &*crate::graphql::context::units(ctx).await?,
            &unit_code,
            day,
            &access(ctx)?.visible_plans(),
        )
        .await?
        .into_iter()
        .map(|d| ReportingDuty(Arc::new(d)))
        .collect();
        // Lateness comes from progress reports, which are internal: only duties whose reports
        // the caller may read are listed (checked together, so the loaders batch).
        let visible =
            futures_util::future::try_join_all(late.iter().map(|d| d.reports_visible(ctx))).await?;
        let all: Vec<ReportingDuty> = late
            .into_iter()
            .zip(visible)
            .filter_map(|(d, ok)| ok.then_some(d))
            .collect();
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        let page = pagination::paginate(&all, ReportingDuty::position, &args, max_page(ctx))?;
        Ok(ReportingDutyConnection { page })
    }

    /// Targets of one plan, or of the plans issued by a unit and (by default) every unit below
    /// it, counted by achievement today, in all and per target unit; `year` keeps the targets
    /// whose period falls in it. Only plans the caller may read are counted.
    async fn target_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "One plan (global id).")] plan_id: Option<ID>,
        #[graphql(desc = "Code of the issuing unit (every version of it).")] unit_code: Option<
            String,
        >,
        #[graphql(desc = "Also the plans of the units below.", default = true)]
        include_descendants: bool,
        #[graphql(desc = "Only targets whose period falls in this year.")] year: Option<i32>,
    ) -> Result<TargetSummary> {
        use crate::services::targets::{self, TargetSelection};
        let d = db(ctx)?;
        let a = access(ctx)?;
        let today = crate::clock::today();
        let (selection, root) = match (&plan_id, &unit_code) {
            (Some(id), None) => {
                let id = decode_node_id_of("Plan", id)
                    .ok_or_else(|| AppError::bad_input("planId", "not a Plan id"))?;
                (TargetSelection::Plan(id), None)
            }
            (None, Some(code)) => {
                check_code(code)?;
                let snapshot = crate::graphql::context::units(ctx).await?;
                let roots = snapshot.with_code(code, None);
                let scope = plans::unit_scope(&snapshot, &roots, include_descendants, false);
                let root = snapshot.by_code(code, today, None);
                (TargetSelection::Units(scope.into_iter().collect()), root)
            }
            _ => {
                return Err(AppError::bad_input(
                    "planId",
                    "name exactly one of planId and unitCode",
                )
                .into());
            }
        };
        if let Some(y) = year
            && !(1900..=2200).contains(&y)
        {
            return Err(AppError::bad_input("year", "a year between 1900 and 2200").into());
        }
        // Approved figures count at the units of the caller's scope, published ones anywhere.
        let in_scope = a.value_scope_test().await?;
        let (total, per) =
            targets::target_summary(d, &selection, year, &a.visible_plans(), in_scope, today)
                .await?;
        let snapshot = crate::graphql::context::units(ctx).await?;
        let per_unit = per
            .iter()
            .map(|(u, c)| {
                let unit = snapshot
                    .unit(*u)
                    .as_ref()
                    .map(|m| AdminUnit::from_node(UnitNode::new(m.clone(), today)));
                TargetSummary::new(unit, c, Vec::new())
            })
            .collect();
        let root = root.map(|u| AdminUnit::from_node(UnitNode::new(u, today)));
        Ok(TargetSummary::new(root, &total, per_unit))
    }

    /// Assignments of the plans issued by a unit and, by default, every unit below it, counted
    /// by status, overdue and due within 30 days of `asOf`, in all and per issuing unit.
    async fn assignment_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code of the unit (every version of it).")] unit_code: String,
        #[graphql(desc = "Also the plans of the units below.", default = true)]
        include_descendants: bool,
        #[graphql(desc = "The day deadlines are compared with; today in Vietnam when absent.")]
        as_of: Option<Date>,
    ) -> Result<AssignmentSummary> {
        check_code(&unit_code)?;
        let day = date(as_of);
        let snapshot = crate::graphql::context::units(ctx).await?;
        let groups = plans::assignment_counts_by_issuing_unit(
            db(ctx)?,
            &snapshot,
            &unit_code,
            include_descendants,
            &access(ctx)?.visible_plans(),
            day,
        )
        .await?;
        let mut per_unit = Vec::new();
        for (unit_id, counts) in &groups {
            let unit = snapshot
                .unit(*unit_id)
                .as_ref()
                .map(|u| AdminUnit::from_node(UnitNode::new(u.clone(), day)));
            per_unit.push(AssignmentSummary::new(unit, counts.clone(), Vec::new()));
        }
        per_unit.sort_by_key(|s| std::cmp::Reverse(s.total));
        let all: Vec<&plans::Counts> = groups.iter().map(|(_, c)| c).collect();
        let unit = snapshot
            .by_code(&unit_code, day, None)
            .map(|u| AdminUnit::from_node(UnitNode::new(u, day)));
        Ok(AssignmentSummary::new(
            unit,
            plans::add_counts(&all),
            per_unit,
        ))
    }
}

//! The query root.

use super::accounts::{ServiceAccountConnection, UserConnection, UserFilter};
use super::pagination::{self, PageArgs};
use super::plans::{
    Agency, AgencyConnection, Assignment, AssignmentSummary, Indicator, IndicatorConnection,
    IndicatorFilter, Plan, PlanConnection, PlanFilter, ProgressReport, ReportingDuty,
    ReportingDutyConnection, Target, access,
};
use super::scalars::Date;
use super::scalars::{decode_node_id, decode_node_id_of};
use super::units::max_page;
use super::units::{
    AdminLevel, AdminUnit, AdminUnitConnection, Commune, District, Node, Province, UnitNode,
    loaders,
};
use crate::clock;
use crate::error::AppError;
use crate::services::plans;
use crate::services::units;
use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use std::sync::Arc;

/// Entry points for reading.
pub struct QueryRoot;

use super::context::db;

fn date(as_of: Option<Date>) -> NaiveDate {
    as_of.map(|d| d.0).unwrap_or_else(clock::today)
}

fn check_code(code: &str) -> Result<(), AppError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_input(
            "code",
            "a unit code is 2, 3 or 5 digits",
        ));
    }
    Ok(())
}

async fn unit_by_code(
    ctx: &Context<'_>,
    code: &str,
    as_of: Option<Date>,
    level: Option<AdminLevel>,
) -> Result<Option<UnitNode>> {
    check_code(code)?;
    let day = date(as_of);
    Ok(units::by_code(db(ctx)?, code, day, level.map(Into::into))
        .await?
        .map(|u| UnitNode::new(Arc::new(u), day)))
}

/// A plan by id: none when there is no such plan, the policy's refusal when it may not be read.
async fn readable_plan(ctx: &Context<'_>, id: i64) -> Result<Option<Plan>> {
    match crate::app::lookup::plan_opt(db(ctx)?, id).await? {
        Some(p) => Ok(Some(Plan(Arc::new(access(ctx)?.read_plan(p).await?)))),
        None => Ok(None),
    }
}

/// Entry points for reading: administrative units through time, plans, agencies, indicators.
#[Object(name = "Query")]
impl QueryRoot {
    /// Any object by its global id.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id.")] id: ID,
    ) -> Result<Option<Node>> {
        let Some((kind, row)) = decode_node_id(&id) else {
            return Ok(None);
        };
        let l = loaders(ctx)?;
        Ok(match kind.as_str() {
            "AdminUnit" => l
                .unit
                .load_one(row)
                .await?
                .map(|u| AdminUnit::from_node(UnitNode::new(u, clock::today())).into()),
            "Plan" => readable_plan(ctx, row).await?.map(Node::Plan),
            "Target" => match l.target.load_one(row).await? {
                Some(t) => {
                    readable_plan(ctx, t.plan_id).await?;
                    Some(Node::Target(Target(t)))
                }
                None => None,
            },
            "Assignment" => match l.assignment.load_one(row).await? {
                Some(a) => {
                    readable_plan(ctx, a.plan_id).await?;
                    Some(Node::Assignment(Assignment(a)))
                }
                None => None,
            },
            "ReportingDuty" => match l.duty.load_one(row).await? {
                Some(d) => {
                    let duty = ReportingDuty(d);
                    match duty.0.plan_id {
                        Some(plan) => {
                            readable_plan(ctx, plan).await?;
                        }
                        // A duty set outside any plan is as internal as its reports.
                        None if !duty.reports_visible(ctx).await? => {
                            return Err(access(ctx)?.denied("this reporting duty").into());
                        }
                        None => {}
                    }
                    Some(Node::ReportingDuty(duty))
                }
                None => None,
            },
            "ProgressReport" => match crate::app::lookup::report_opt(db(ctx)?, row).await? {
                Some(r) if super::plans::report_readable(ctx, &r).await? => {
                    Some(Node::ProgressReport(ProgressReport(Arc::new(r))))
                }
                Some(_) => return Err(access(ctx)?.denied("this progress report").into()),
                None => None,
            },
            "User" => super::accounts::user_node(ctx, row).await?.map(Node::User),
            "ServiceAccount" => super::accounts::service_account_node(ctx, row)
                .await?
                .map(Node::ServiceAccount),
            "Agency" => l
                .agency
                .load_one(row)
                .await?
                .map(|a| Node::Agency(Agency(a))),
            "Indicator" => l
                .indicator
                .load_one(row)
                .await?
                .map(|i| Node::Indicator(Indicator(i))),
            _ => None,
        })
    }

    /// The authenticated principal; null without credentials.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<super::viewer::Viewer>> {
        use crate::auth::PrincipalKind;
        let Some(principal) = super::context::principal(ctx)?.cloned() else {
            return Ok(None);
        };
        let (username, display_name) = match principal.kind {
            PrincipalKind::User => {
                match crate::app::lookup::user_opt(db(ctx)?, principal.id).await? {
                    Some(u) => (u.username, u.display_name),
                    None => return Ok(None),
                }
            }
            PrincipalKind::Service => {
                match crate::app::lookup::service_account_opt(db(ctx)?, principal.id).await? {
                    Some(s) => (s.name, None),
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(super::viewer::Viewer {
            principal,
            username,
            display_name,
        }))
    }

    /// Users an admin administers: those homed in his scope (national admins: all), by
    /// username. FORBIDDEN for anyone else.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which users.")] filter: Option<UserFilter>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
    ) -> Result<UserConnection> {
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        super::accounts::list_users(ctx, filter, args).await
    }

    /// Service accounts an admin administers: those homed in his scope, by name.
    async fn service_accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
    ) -> Result<ServiceAccountConnection> {
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        super::accounts::list_service_accounts(ctx, args).await
    }

    /// Provinces valid on a day, in Vietnamese order.
    async fn provinces(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Vec<Province>> {
        let day = date(as_of);
        Ok(units::provinces(db(ctx)?, day)
            .await?
            .into_iter()
            .map(|u| Province(UnitNode::new(Arc::new(u), day)))
            .collect())
    }

    /// The province with this code on a day.
    async fn province(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Official 2-digit code.")] code: String,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Option<Province>> {
        Ok(unit_by_code(ctx, &code, as_of, Some(AdminLevel::Province))
            .await?
            .map(Province))
    }

    /// The district with this code on a day (districts ended on 30 June 2025).
    async fn district(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Official 3-digit code.")] code: String,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Option<District>> {
        Ok(unit_by_code(ctx, &code, as_of, Some(AdminLevel::District))
            .await?
            .map(District))
    }

    /// The commune with this code on a day.
    async fn commune(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Official 5-digit code.")] code: String,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Option<Commune>> {
        Ok(unit_by_code(ctx, &code, as_of, Some(AdminLevel::Commune))
            .await?
            .map(Commune))
    }

    /// The unit of any level with this code on a day.
    async fn admin_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Official code.")] code: String,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Option<AdminUnit>> {
        Ok(unit_by_code(ctx, &code, as_of, None)
            .await?
            .map(AdminUnit::from_node))
    }

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
        let (rows, total) =
            plans::plan_page(db(ctx)?, &access(ctx)?.visible_plans(), &q, &request).await?;
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
        let found = plans::plan_by_number(db(ctx)?, &number, &unit_code).await?;
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
        let all: Vec<Agency> = plans::find_agencies(
            db(ctx)?,
            unit_code.as_deref(),
            search.as_deref(),
            as_of.map(|d| d.0),
        )
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

    /// Units whose name or code matches, the way Vietnamese users type: "hoc mon", "HÓC MÔN"
    /// and decomposed Unicode all find Hóc Môn. Ranked: exact name without its type word (or
    /// code), then prefix, then contains; ties go to the higher level, then Vietnamese order.
    /// Without `asOf`, today's units come first and then historical ones (see `validTo`).
    async fn search_admin_units(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words of the name, or the start of a code.")] query: String,
        #[graphql(desc = "Only units of this level.")] level: Option<AdminLevel>,
        #[graphql(
            desc = "Only units valid on this day; today's and historical units when absent."
        )]
        as_of: Option<Date>,
        #[graphql(desc = "Only units below the unit with this code (on `asOf`, else today).")]
        within: Option<String>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
    ) -> Result<AdminUnitConnection> {
        if crate::text::search_words(Some(&query), "query")?
            .concat()
            .chars()
            .count()
            < 2
        {
            return Err(AppError::bad_input("query", "type at least two characters").into());
        }
        let root = match &within {
            Some(code) => {
                check_code(code)?;
                let day = as_of.map(|d| d.0).unwrap_or_else(clock::today);
                Some(
                    units::by_code(db(ctx)?, code, day, None)
                        .await?
                        .ok_or_else(|| {
                            AppError::bad_input("within", format!("no unit {code} on {day}"))
                        })?,
                )
            }
            None => None,
        };
        let day = as_of.map(|d| d.0);
        let max = max_page(ctx);
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        let mut page = None;
        let index = ctx.data::<Arc<crate::services::unit_search::UnitSearchIndex>>()?;
        let (found, _) = units::search(
            db(ctx)?,
            index,
            &query,
            level.map(Into::into),
            day,
            root.as_ref(),
            |ranked| {
                let p = pagination::paginate(ranked, |k| k.clone(), &args, max)?;
                let ids = p.items.iter().map(|(_, (_, id))| *id).collect();
                page = Some(p);
                Ok(ids)
            },
        )
        .await?;
        let page = page.ok_or_else(|| AppError::internal("search produced no page"))?;
        let view = day.unwrap_or_else(clock::today);
        let items = page
            .items
            .into_iter()
            .filter_map(|(cursor, (_, id))| {
                let row = found.rows.get(&id)?.clone();
                Some((
                    cursor,
                    AdminUnit::from_node(UnitNode::new(Arc::new(row), view)),
                ))
            })
            .collect();
        Ok(AdminUnitConnection {
            page: pagination::Page {
                items,
                info: page.info,
                total: page.total,
            },
        })
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
        let late: Vec<ReportingDuty> =
            plans::late_duties(db(ctx)?, &unit_code, day, &access(ctx)?.visible_plans())
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
        let groups = plans::assignments_by_issuing_unit(
            db(ctx)?,
            &unit_code,
            include_descendants,
            &access(ctx)?.visible_plans(),
        )
        .await?;
        let l = loaders(ctx)?;
        let units = l.unit.load_many(groups.iter().map(|(u, _)| *u)).await?;
        let mut per_unit = Vec::new();
        for (unit_id, rows) in &groups {
            let refs: Vec<&crate::model::assignment::Model> = rows.iter().collect();
            let unit = units
                .get(unit_id)
                .map(|u| AdminUnit::from_node(UnitNode::new(u.clone(), day)));
            per_unit.push(AssignmentSummary::new(
                unit,
                plans::count_assignments(&refs, day),
                Vec::new(),
            ));
        }
        per_unit.sort_by_key(|s| std::cmp::Reverse(s.total));
        let all: Vec<&crate::model::assignment::Model> =
            groups.iter().flat_map(|(_, r)| r).collect();
        let unit = units::by_code(db(ctx)?, &unit_code, day, None)
            .await?
            .map(|u| AdminUnit::from_node(UnitNode::new(Arc::new(u), day)));
        Ok(AssignmentSummary::new(
            unit,
            plans::count_assignments(&all, day),
            per_unit,
        ))
    }
}

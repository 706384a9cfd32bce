//! The query root: the domains' query objects merged, `node`, and the helpers they share.

use super::plans::{
    Agency, Assignment, Indicator, Plan, ProgressReport, ReportingDuty, Target, access,
};
use super::scalars::Date;
use super::scalars::decode_node_id;
use super::units::{AdminLevel, AdminUnit, Node, UnitNode, loaders};
use crate::clock;
use crate::error::AppError;
use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use std::sync::Arc;

/// Entry points for reading: administrative units through time, plans, agencies,
/// indicators, accounts; each domain's part is its own object, merged here.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    NodeQuery,
    super::units::query::UnitsQuery,
    super::plans::query::PlansQuery,
    super::accounts::query::AccountsQuery,
    super::audit::AuditQuery,
    super::values::ValuesQuery,
);

/// Any object by its global id.
#[derive(Default)]
pub struct NodeQuery;

use super::context::db;

pub(crate) fn date(as_of: Option<Date>) -> NaiveDate {
    as_of.map(|d| d.0).unwrap_or_else(clock::today)
}

pub(crate) fn check_code(code: &str) -> Result<(), AppError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_input(
            "code",
            "a unit code is 2, 3 or 5 digits",
        ));
    }
    Ok(())
}

pub(crate) async fn unit_by_code(
    ctx: &Context<'_>,
    code: &str,
    as_of: Option<Date>,
    level: Option<AdminLevel>,
) -> Result<Option<UnitNode>> {
    check_code(code)?;
    let day = date(as_of);
    Ok(super::context::units(ctx)
        .await?
        .by_code(code, day, level.map(Into::into))
        .map(|u| UnitNode::new(u, day)))
}

/// A plan by id: none when there is no such plan, the policy's refusal when it may not be read.
pub(crate) async fn readable_plan(ctx: &Context<'_>, id: i64) -> Result<Option<Plan>> {
    match crate::app::lookup::plan_opt(db(ctx)?, id).await? {
        Some(p) => Ok(Some(Plan(Arc::new(access(ctx)?.read_plan(p).await?)))),
        None => Ok(None),
    }
}

/// Entry points for reading: administrative units through time, plans, agencies, indicators.
/// Any object by its global id.
#[Object]
impl NodeQuery {
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
            "AdminUnit" => super::context::units(ctx)
                .await?
                .unit(row)
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
                    Some(Node::Assignment(Assignment(a, None)))
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
            "IndicatorValue" => super::values::value_node(ctx, row)
                .await?
                .map(Node::IndicatorValue),
            _ => None,
        })
    }
}

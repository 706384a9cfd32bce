//! Plans, their targets, assignments and reporting duties; agencies and indicators.

pub mod mutation;
pub mod query;

use super::pagination::{self, PageArgs};
use super::scalars::{Date, DateTime, Decimal, Period, node_id};
use super::units::{AdminUnit, UnitNode, loaders, max_page};
use crate::clock;
use crate::connection;
use crate::error::AppError;
use crate::model::enums::{self as E};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::NaiveDate;
use std::sync::Arc;

/// Declares a GraphQL enum mirroring a stored one, variant for variant.
macro_rules! mirror_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vm])* $v),+
        }
        impl From<E::$name> for $name {
            fn from(e: E::$name) -> Self {
                match e { $(E::$name::$v => Self::$v),+ }
            }
        }
        impl From<$name> for E::$name {
            fn from(e: $name) -> Self {
                match e { $($name::$v => Self::$v),+ }
            }
        }
    };
}

mirror_enum!(
    /// Kind of planning document.
    PlanKind {
        /// Kế hoạch.
        Plan,
        /// Nghị quyết.
        Resolution,
        /// Chỉ thị.
        Directive,
        /// Chương trình.
        Programme,
        /// Quyết định.
        Decision,
    }
);
mirror_enum!(
    /// Life-cycle status of a plan.
    PlanStatus {
        /// Known only from a citation in another document.
        Referenced,
        /// Being drafted.
        Draft,
        /// Issued and in force.
        Issued,
        /// Replaced by another document.
        Superseded,
        /// Withdrawn.
        Cancelled,
    }
);
mirror_enum!(
    /// Who may read a plan.
    Visibility {
        /// Everyone.
        Public,
        /// Officers in scope only.
        Internal,
    }
);
mirror_enum!(
    /// What a target measures.
    TargetMeasure {
        /// The figure itself.
        Level,
        /// Its increase against the baseline.
        Increase,
        /// Its decrease against the baseline.
        Decrease,
    }
);
mirror_enum!(
    /// Terms of an increase or decrease.
    ChangeUnit {
        /// In the target's unit of measure.
        Absolute,
        /// In percent of the baseline.
        Percent,
        /// In percentage points of a rate: "giảm 0,15%" of a birth rate is a fall of 0.15
        /// points, not of 0.15 % of the rate.
        PercentagePoint,
    }
);
mirror_enum!(
    /// How the figure compares with the value.
    Comparator {
        /// "từ … trở lên": at least the value.
        AtLeast,
        /// "trên": above the value.
        Above,
        /// "không quá": at most the value.
        AtMost,
        /// "dưới": below the value.
        Below,
        /// "đạt": the value.
        Equal,
        /// "6,5-7%": from the value to the upper value.
        Between,
        /// "duy trì": kept at the value.
        Maintain,
    }
);
mirror_enum!(
    /// Status of an assignment.
    AssignmentStatus {
        /// Not started.
        NotStarted,
        /// Under way.
        InProgress,
        /// Done.
        Done,
        /// Cancelled.
        Cancelled,
    }
);
mirror_enum!(
    /// Status of a progress report.
    ReportStatus {
        /// Sent, awaiting review.
        Submitted,
        /// Accepted by the recipient.
        Accepted,
        /// Returned for changes.
        Returned,
    }
);
mirror_enum!(
    /// Indicator category.
    IndicatorCategory {
        /// Economy.
        Economy,
        /// Culture and society.
        CultureSociety,
        /// Environment.
        Environment,
        /// New rural development.
        NewRural,
        /// Defence and security.
        DefenceSecurity,
        /// Governance.
        Governance,
    }
);
mirror_enum!(
    /// Whether a higher or lower figure is better.
    Direction {
        /// Higher is better.
        HigherIsBetter,
        /// Lower is better.
        LowerIsBetter,
    }
);
mirror_enum!(
    /// How values of lower units combine.
    Aggregation {
        /// Summed.
        Sum,
        /// Averaged.
        Average,
        /// Not combined.
        None,
    }
);

fn decimal(v: &Option<crate::model::DecimalText>) -> Option<Decimal> {
    v.as_ref().map(|d| Decimal(d.as_str().to_string()))
}

async fn agency_by_id(ctx: &Context<'_>, id: i64) -> Result<Agency> {
    loaders(ctx)?
        .agency
        .load_one(id)
        .await?
        .map(Agency)
        .ok_or_else(|| AppError::internal(format!("agency {id} is missing")).into())
}

async fn agencies_by_ids(ctx: &Context<'_>, ids: Vec<i64>) -> Result<Vec<Agency>> {
    let found = loaders(ctx)?.agency.load_many(ids.iter().copied()).await?;
    Ok(ids
        .iter()
        .filter_map(|id| found.get(id).cloned().map(Agency))
        .collect())
}

async fn unit_at(ctx: &Context<'_>, id: i64, day: NaiveDate) -> Result<AdminUnit> {
    let unit = super::context::units(ctx)
        .await?
        .unit(id)
        .ok_or_else(|| AppError::internal(format!("unit {id} is missing")))?;
    Ok(AdminUnit::from_node(UnitNode::new(unit, day)))
}

/// A planning document: a plan, resolution, directive, programme or decision.
#[derive(Clone)]
pub struct Plan(pub Arc<crate::model::plan::Model>);

impl Plan {
    /// The day the plan is seen at: its issue date, else the end of its period, else today.
    fn day(&self) -> NaiveDate {
        self.0
            .issued_on
            .or_else(|| {
                self.0
                    .period_to
                    .or(self.0.period_from)
                    .and_then(|y| NaiveDate::from_ymd_opt(y, 12, 31))
            })
            .unwrap_or_else(clock::today)
    }

    /// Its position in lists: newest issue first, undated last.
    pub fn position(&self) -> pagination::Key {
        crate::services::plans::plan_key(&self.0)
    }
}

/// A legal basis of a plan: a document in the system, or only its citation.
#[derive(SimpleObject, Clone)]
pub struct PlanBasis {
    /// The document cited, when it is in the system (possibly as REFERENCED only).
    pub plan: Option<Plan>,
    /// The citation as the document words it.
    pub citation: Option<String>,
}

/// Filters of a plan's assignments.
#[derive(InputObject, Default)]
pub struct AssignmentFilter {
    /// Only assignments with this status.
    pub status: Option<AssignmentStatus>,
    /// Only overdue assignments (true) or only those that are not (false).
    pub overdue: Option<bool>,
    /// Only assignments led by this agency (global id).
    pub lead_agency_id: Option<ID>,
}

/// A planning document: a plan, resolution, directive, programme or decision.
#[Object]
impl Plan {
    /// Global id.
    pub(crate) async fn id(&self) -> ID {
        node_id("Plan", self.0.id)
    }
    /// Stable key from the plan file it was imported from.
    async fn key(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    /// Document number ("230/KH-UBND"); null where the document shows none.
    async fn number(&self) -> Option<&str> {
        self.0.number.as_deref()
    }
    /// Kind of document.
    async fn kind(&self) -> PlanKind {
        self.0.kind.into()
    }
    /// Title, verbatim.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The administrative unit that issued it, as it was on the issue date.
    async fn unit(&self, ctx: &Context<'_>) -> Result<AdminUnit> {
        unit_at(ctx, self.0.admin_unit_id, self.day()).await
    }
    /// The issuing agency.
    async fn issuer(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        match self.0.issuer_agency_id {
            Some(id) => Ok(Some(agency_by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// Issue date; null where the document shows none.
    async fn issued_on(&self) -> Option<Date> {
        self.0.issued_on.map(Date)
    }
    /// Who signed it, as printed.
    async fn signer(&self) -> Option<&str> {
        self.0.signer.as_deref()
    }
    /// First year of the period it plans for.
    async fn period_from(&self) -> Option<i32> {
        self.0.period_from
    }
    /// Last year of the period it plans for.
    async fn period_to(&self) -> Option<i32> {
        self.0.period_to
    }
    /// Life-cycle status.
    async fn status(&self) -> PlanStatus {
        self.0.status.into()
    }
    /// Who may read it.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.into()
    }
    /// Where the text was published.
    async fn source_url(&self) -> Option<&str> {
        self.0.source_url.as_deref()
    }
    /// Version, raised by every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Legal bases ("Căn cứ …"), in the document's order.
    async fn bases(&self, ctx: &Context<'_>) -> Result<Vec<PlanBasis>> {
        let l = loaders(ctx)?;
        let rows = l
            .bases_of_plan
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        let plans = l
            .plan
            .load_many(rows.iter().filter_map(|b| b.basis_plan_id))
            .await?;
        Ok(rows
            .iter()
            .map(|b| PlanBasis {
                plan: b
                    .basis_plan_id
                    .and_then(|id| plans.get(&id).cloned())
                    .map(Plan),
                citation: b.citation.clone(),
            })
            .collect())
    }
    /// The document this one implements (possibly known only as REFERENCED).
    async fn parent_plan(&self, ctx: &Context<'_>) -> Result<Option<Plan>> {
        match self.0.parent_plan_id {
            Some(id) => Ok(loaders(ctx)?.plan.load_one(id).await?.map(Plan)),
            None => Ok(None),
        }
    }
    /// Documents that implement this one.
    async fn implementing_plans(&self, ctx: &Context<'_>) -> Result<Vec<Plan>> {
        let rows = loaders(ctx)?
            .implementing
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        let mut plans: Vec<Plan> = rows.iter().map(|p| Plan(Arc::new(p.clone()))).collect();
        plans.sort_by_key(|p| p.position());
        Ok(plans)
    }
    /// Agencies the document is addressed or sent to.
    async fn addressees(&self, ctx: &Context<'_>) -> Result<Vec<Agency>> {
        let rows = loaders(ctx)?
            .addressees_of_plan
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        agencies_by_ids(ctx, rows.iter().map(|a| a.agency_id).collect()).await
    }
    /// Top-level targets in document order; their parts are under `subTargets`.
    async fn targets(&self, ctx: &Context<'_>) -> Result<Vec<Target>> {
        let rows = loaders(ctx)?
            .targets_of_plan
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .iter()
            .filter(|t| t.parent_target_id.is_none())
            .map(|t| Target(Arc::new(t.clone())))
            .collect())
    }
    /// Tasks of the plan in document order (one per lead agency).
    async fn assignments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which assignments.")] filter: Option<AssignmentFilter>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(desc = "At most this many from the end.")] last: Option<i32>,
        #[graphql(desc = "Items before this cursor.")] before: Option<String>,
    ) -> Result<AssignmentConnection> {
        let filter = filter.unwrap_or_default();
        let q = crate::services::plans::AssignmentQuery {
            status: filter.status.map(Into::into),
            overdue: filter.overdue,
            lead_agency_id: match &filter.lead_agency_id {
                Some(id) => Some(
                    super::scalars::decode_node_id_of("Agency", id)
                        .ok_or_else(|| AppError::bad_input("leadAgencyId", "not an agency id"))?,
                ),
                None => None,
            },
            today: clock::today(),
        };
        let args = PageArgs {
            after,
            before,
            first,
            last,
        };
        let request = pagination::page_request(&args, max_page(ctx))?;
        // The lead agencies come in the same statement when the client selects them.
        let look = ctx.look_ahead();
        let with_lead = look.field("nodes").field("leadAgency").exists()
            || look
                .field("edges")
                .field("node")
                .field("leadAgency")
                .exists();
        let l = loaders(ctx)?;
        let rows = l
            .assignment_pages
            .load_one((self.0.id, q.clone(), request, with_lead))
            .await?
            .map(|r| (*r).clone())
            .unwrap_or(pagination::Rows {
                rows: Vec::new(),
                has_next: false,
                has_prev: false,
            });
        let counts = l.assignment_counts.clone();
        let key = (self.0.id, q);
        let total = pagination::Total::Deferred(Arc::new(move || {
            let (counts, key) = (counts.clone(), key.clone());
            Box::pin(async move { Ok(counts.load_one(key).await?.unwrap_or(0)) })
        }));
        let page = pagination::Page::from_rows(
            rows.map(|(a, lead)| Assignment(Arc::new(a), lead)),
            Assignment::position,
            total,
        );
        Ok(AssignmentConnection { page })
    }
    /// Reporting duties the plan sets.
    async fn reporting_duties(&self, ctx: &Context<'_>) -> Result<Vec<ReportingDuty>> {
        let rows = loaders(ctx)?
            .duties_of_plan
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .iter()
            .map(|d| ReportingDuty(Arc::new(d.clone())))
            .collect())
    }
}

/// A target (chỉ tiêu): a quantity a plan commits to, verbatim and typed.
#[derive(Clone)]
pub struct Target(pub Arc<crate::model::target::Model>);

/// A target (chỉ tiêu): a quantity a plan commits to, verbatim and typed.
#[Object]
impl Target {
    /// Global id.
    pub(crate) async fn id(&self) -> ID {
        node_id("Target", self.0.id)
    }
    /// Number in the document ("1", "22(iii)").
    async fn ordinal(&self) -> Option<&str> {
        self.0.ordinal.as_deref()
    }
    /// The document's words.
    async fn wording(&self) -> &str {
        &self.0.wording
    }
    /// The indicator it sets a figure for.
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Option<Indicator>> {
        match self.0.indicator_id {
            Some(id) => Ok(loaders(ctx)?.indicator.load_one(id).await?.map(Indicator)),
            None => Ok(None),
        }
    }
    /// The unit it is set for.
    async fn unit(&self, ctx: &Context<'_>) -> Result<AdminUnit> {
        let day = self
            .0
            .period
            .as_deref()
            .and_then(crate::period::Period::parse)
            .map(|p| p.end())
            .unwrap_or_else(clock::today);
        unit_at(ctx, self.0.admin_unit_id, day).await
    }
    /// The period it is set for.
    async fn period(&self) -> Option<Period> {
        self.0.period.clone().map(Period)
    }
    /// The figure itself, or its change against the baseline.
    async fn measure(&self) -> TargetMeasure {
        self.0.measure.into()
    }
    /// Terms of a change: absolute or percent.
    async fn change_unit(&self) -> Option<ChangeUnit> {
        self.0.change_unit.map(Into::into)
    }
    /// How the figure compares with `value`; null for a qualitative target.
    async fn comparator(&self) -> Option<Comparator> {
        self.0.comparator.map(Into::into)
    }
    /// The value.
    async fn value(&self) -> Option<Decimal> {
        decimal(&self.0.value)
    }
    /// The upper value of a range (`BETWEEN`).
    async fn upper_value(&self) -> Option<Decimal> {
        decimal(&self.0.upper_value)
    }
    /// The figure a change is measured against.
    async fn baseline(&self) -> Option<Decimal> {
        decimal(&self.0.baseline)
    }
    /// The period of the baseline.
    async fn baseline_period(&self) -> Option<Period> {
        self.0.baseline_period.clone().map(Period)
    }
    /// Unit of measure ("%", "tỷ đồng", "hộ").
    async fn unit_of_measure(&self) -> Option<&str> {
        self.0.unit_of_measure.as_deref()
    }
    /// Which part of the population or area: "total", "urban", "rural", …
    async fn disaggregation(&self) -> &str {
        &self.0.disaggregation
    }
    /// Its parts ("trong đó", per year, per area), in document order.
    async fn sub_targets(&self, ctx: &Context<'_>) -> Result<Vec<Target>> {
        let rows = loaders(ctx)?
            .targets_of_plan
            .load_one(self.0.plan_id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .iter()
            .filter(|t| t.parent_target_id == Some(self.0.id))
            .map(|t| Target(Arc::new(t.clone())))
            .collect())
    }
    /// The plan it belongs to.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Plan> {
        plan_by_id(ctx, self.0.plan_id).await
    }
    /// Whether it is met, judged today (in Vietnam) on the approved and published figures of
    /// its indicator, unit, period and disaggregation (published ones only for a caller whose
    /// scope does not hold its unit). The rules are in the README ("Achievement").
    async fn achievement(&self, ctx: &Context<'_>) -> Result<Achievement> {
        let t = &self.0;
        let Some(key) = crate::services::targets::figure_key(t) else {
            return Ok(Achievement::NoData);
        };
        let l = loaders(ctx)?;
        let figures = l.figures.load_one(key).await?.unwrap_or_default();
        let ind = match t.indicator_id {
            Some(i) => l.indicator.load_one(i).await?,
            None => None,
        };
        let internal = super::context::access(ctx)?.value_scope_test().await?(t.admin_unit_id);
        Ok(
            crate::services::targets::verdict(
                t,
                ind.as_deref(),
                &figures,
                internal,
                clock::today(),
            )
            .into(),
        )
    }
}

/// Whether a target is met.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Achievement {
    /// The figure for the whole period meets the target (or a partial one did, once the
    /// period ended).
    Achieved,
    /// The figure for the whole period misses it.
    NotAchieved,
    /// A figure for part of a period not yet over, projected to the whole, meets it.
    OnTrack,
    /// A figure for part of a period not yet over, projected to the whole, misses it.
    AtRisk,
    /// Nothing to judge: no figure, a qualitative target, or a baseline or terms missing.
    NoData,
}

impl From<crate::services::achievement::Achievement> for Achievement {
    fn from(a: crate::services::achievement::Achievement) -> Self {
        use crate::services::achievement::Achievement as A;
        match a {
            A::Achieved => Self::Achieved,
            A::NotAchieved => Self::NotAchieved,
            A::OnTrack => Self::OnTrack,
            A::AtRisk => Self::AtRisk,
            A::NoData => Self::NoData,
        }
    }
}

/// Targets counted by achievement, in all and per unit.
#[derive(SimpleObject, Clone)]
pub struct TargetSummary {
    /// The unit summarised (null in the total of a plan's summary).
    pub unit: Option<AdminUnit>,
    /// Targets counted (parts included).
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
    /// The same counts for each target unit (empty inside a part).
    pub per_unit: Vec<TargetSummary>,
}

impl TargetSummary {
    /// A summary from counts.
    pub fn new(
        unit: Option<AdminUnit>,
        c: &crate::services::targets::TargetCounts,
        per_unit: Vec<TargetSummary>,
    ) -> Self {
        Self {
            unit,
            total: c.total,
            achieved: c.achieved,
            not_achieved: c.not_achieved,
            on_track: c.on_track,
            at_risk: c.at_risk,
            no_data: c.no_data,
            per_unit,
        }
    }
}

/// The plans issued at a unit version that the principal may read, newest first.
pub(crate) async fn plans_of_unit(ctx: &Context<'_>, unit: i64) -> Result<Vec<Plan>> {
    let rows = loaders(ctx)?
        .plans_of_unit
        .load_one(unit)
        .await?
        .unwrap_or_default();
    let mut plans: Vec<Plan> = rows.iter().map(|p| Plan(Arc::new(p.clone()))).collect();
    plans.sort_by_key(|p| p.position());
    Ok(plans)
}

/// Whether the principal may read this progress report: the report loaders hold only what
/// the policy lets the caller read (`policy::Access::visible_reports`), so the report is
/// readable when its assignment's or duty's loaded reports include it.
pub(crate) async fn report_readable(
    ctx: &Context<'_>,
    report: &crate::model::progress_report::Model,
) -> Result<bool> {
    let l = loaders(ctx)?;
    let visible = if let Some(a) = report.assignment_id {
        l.reports_of_assignment.load_one(a).await?
    } else if let Some(d) = report.reporting_duty_id {
        l.reports_of_duty.load_one(d).await?
    } else {
        None
    };
    Ok(visible.is_some_and(|rows| rows.iter().any(|r| r.id == report.id)))
}

pub(crate) use super::context::access;

async fn plan_by_id(ctx: &Context<'_>, id: i64) -> Result<Plan> {
    loaders(ctx)?
        .plan
        .load_one(id)
        .await?
        .map(Plan)
        // The loader reads only what the policy lets this caller read: a plan it leaves out
        // is refused like `plan(id)` would refuse it, not reported as an internal error.
        .ok_or_else(|| access(ctx).map_or_else(|e| e, |a| a.denied("this plan").into()))
}

fn is_overdue(a: &crate::model::assignment::Model, today: NaiveDate) -> bool {
    a.due_on.is_some_and(|d| d < today)
        && !matches!(
            a.status,
            E::AssignmentStatus::Done | E::AssignmentStatus::Cancelled
        )
}

/// A task (nhiệm vụ) of a plan with exactly one lead agency.
#[derive(Clone)]
/// (With its lead agency when the list it came from read that too.)
pub struct Assignment(
    pub Arc<crate::model::assignment::Model>,
    pub Option<Arc<crate::model::agency::Model>>,
);

impl Assignment {
    fn position(&self) -> pagination::Key {
        crate::services::plans::assignment_key(&self.0)
    }
}

/// A task (nhiệm vụ) of a plan with exactly one lead agency.
#[Object]
impl Assignment {
    /// Global id.
    pub(crate) async fn id(&self) -> ID {
        node_id("Assignment", self.0.id)
    }
    /// Number in the document ("1.2"); not unique.
    async fn ordinal(&self) -> Option<&str> {
        self.0.ordinal.as_deref()
    }
    /// The heading it sits under in the document.
    async fn group(&self) -> Option<&str> {
        self.0.group_title.as_deref()
    }
    /// The task's first sentence or heading.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The rest of the task's text.
    async fn content(&self) -> Option<&str> {
        self.0.content.as_deref()
    }
    /// The plan it belongs to.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Plan> {
        plan_by_id(ctx, self.0.plan_id).await
    }
    /// The one agency in charge (đơn vị chủ trì).
    async fn lead_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        if let Some(lead) = &self.1 {
            return Ok(Agency(lead.clone()));
        }
        agency_by_id(ctx, self.0.lead_agency_id).await
    }
    /// Agencies that coordinate (đơn vị phối hợp).
    async fn coordinating_agencies(&self, ctx: &Context<'_>) -> Result<Vec<Agency>> {
        let rows = loaders(ctx)?
            .coordinators
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        agencies_by_ids(ctx, rows.iter().map(|c| c.agency_id).collect()).await
    }
    /// Targets it serves.
    async fn targets(&self, ctx: &Context<'_>) -> Result<Vec<Target>> {
        let l = loaders(ctx)?;
        let rows = l
            .target_links
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        let found = l.target.load_many(rows.iter().map(|r| r.target_id)).await?;
        let mut targets: Vec<Target> = rows
            .iter()
            .filter_map(|r| found.get(&r.target_id).cloned().map(Target))
            .collect();
        targets.sort_by_key(|t| (t.0.position, t.0.id));
        Ok(targets)
    }
    /// Deadline.
    async fn due_on(&self) -> Option<Date> {
        self.0.due_on.map(Date)
    }
    /// Status.
    async fn status(&self) -> AssignmentStatus {
        self.0.status.into()
    }
    /// How often it recurs (`MONTHLY`, `QUARTERLY`, `SIX_MONTHLY`, `YEARLY`); null: once.
    async fn recurrence(&self) -> Option<&str> {
        self.0.recurrence.as_deref()
    }
    /// Whether the deadline has passed (in Vietnam) and it is neither done nor cancelled.
    async fn overdue(&self) -> bool {
        is_overdue(&self.0, clock::today())
    }
    /// Version, raised by every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Progress reports, oldest first (internal: empty unless your scope holds the issuing unit
    /// or the lead agency).
    async fn progress_reports(&self, ctx: &Context<'_>) -> Result<Vec<ProgressReport>> {
        let rows = loaders(ctx)?
            .reports_of_assignment
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .iter()
            .map(|r| ProgressReport(Arc::new(r.clone())))
            .collect())
    }
}

/// A progress report on an assignment or for a reporting duty.
#[derive(Clone)]
pub struct ProgressReport(pub Arc<crate::model::progress_report::Model>);

/// A progress report on an assignment or for a reporting duty.
#[Object]
impl ProgressReport {
    /// Global id.
    pub(crate) async fn id(&self) -> ID {
        node_id("ProgressReport", self.0.id)
    }
    /// The period reported on.
    async fn period(&self) -> Period {
        Period(self.0.period.clone())
    }
    /// Percent complete, 0–100.
    async fn percent_complete(&self) -> Option<i32> {
        self.0.percent_complete
    }
    /// What was done.
    async fn narrative(&self) -> Option<&str> {
        self.0.narrative.as_deref()
    }
    /// Who reported.
    async fn reported_by(&self) -> Option<&str> {
        self.0.reported_by.as_deref()
    }
    /// When.
    async fn reported_at(&self) -> DateTime {
        DateTime(self.0.reported_at)
    }
    /// Review status.
    async fn status(&self) -> ReportStatus {
        self.0.status.into()
    }
    /// Why the reviewer returned it.
    async fn review_reason(&self) -> Option<&str> {
        self.0.review_reason.as_deref()
    }
    /// Who accepted or returned it.
    async fn reviewed_by(&self) -> Option<&str> {
        self.0.reviewed_by.as_deref()
    }
    /// When it was reviewed.
    async fn reviewed_at(&self) -> Option<DateTime> {
        self.0.reviewed_at.map(DateTime)
    }
    /// Version, raised by every change (a review names it).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A duty to report: who reports what to whom by when.
#[derive(Clone)]
pub struct ReportingDuty(pub Arc<crate::model::reporting_duty::Model>);

impl ReportingDuty {
    /// Whether the principal may read the reports made for this duty.
    pub(crate) async fn reports_visible(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(loaders(ctx)?
            .duty_reports_visible
            .load_one(self.0.id)
            .await?
            .unwrap_or(false))
    }
}

/// A duty to report: who reports what to whom by when.
#[Object]
impl ReportingDuty {
    /// Global id.
    pub(crate) async fn id(&self) -> ID {
        node_id("ReportingDuty", self.0.id)
    }
    /// What is to be reported ("Báo cáo 6 tháng").
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The agency that reports.
    async fn reporter(&self, ctx: &Context<'_>) -> Result<Agency> {
        agency_by_id(ctx, self.0.reporter_agency_id).await
    }
    /// The agency reported to.
    async fn recipient(&self, ctx: &Context<'_>) -> Result<Agency> {
        agency_by_id(ctx, self.0.recipient_agency_id).await
    }
    /// The period reported on (the first one, for a recurring duty).
    async fn period(&self) -> Period {
        Period(self.0.period.clone())
    }
    /// Recurrence: MONTHLY, QUARTERLY, SIX_MONTHLY or ANNUAL; null for a single report.
    async fn recurrence(&self) -> Option<&str> {
        self.0.recurrence.as_deref()
    }
    /// Due date (of the first report, for a recurring duty).
    async fn due_on(&self) -> Date {
        Date(self.0.due_on)
    }
    /// Whether a report is overdue (in Vietnam): for a single report, its due date has passed
    /// with no report submitted or accepted; for a recurring duty, the same holds for the
    /// occurrence due most recently. Null when you may not read its reports (they are
    /// internal: your scope must hold the recipient's or the reporter's unit).
    async fn late(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        if !self.reports_visible(ctx).await? {
            return Ok(None);
        }
        let reports = loaders(ctx)?
            .reports_of_duty
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(Some(crate::services::plans::is_late(
            &self.0,
            &reports,
            clock::today(),
        )))
    }
    /// Reports made for it, oldest first (progress reports are internal: empty unless your
    /// scope holds the issuing unit or the reporting agency).
    async fn reports(&self, ctx: &Context<'_>) -> Result<Vec<ProgressReport>> {
        if !self.reports_visible(ctx).await? {
            return Ok(Vec::new());
        }
        let rows = loaders(ctx)?
            .reports_of_duty
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .iter()
            .map(|r| ProgressReport(Arc::new(r.clone())))
            .collect())
    }
    /// The plan that sets it.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<Plan>> {
        match self.0.plan_id {
            Some(id) => Ok(Some(plan_by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }
}

/// An agency: a people's committee or council, a department, an office, …
#[derive(Clone)]
pub struct Agency(pub Arc<crate::model::agency::Model>);

impl Agency {
    /// Its position in lists: Vietnamese order of its name.
    pub fn position(&self) -> pagination::Key {
        (crate::text::sort_key(&self.0.name), self.0.id)
    }
}

/// An agency: a people's committee or council, a department, an office, …
#[Object]
impl Agency {
    /// Global id.
    pub(crate) async fn id(&self) -> ID {
        node_id("Agency", self.0.id)
    }
    /// Stable key ("79.ubnd") from the files it was imported from.
    async fn key(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    /// Full name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Short name ("Phòng TC-KH").
    async fn short_name(&self) -> Option<&str> {
        self.0.short_name.as_deref()
    }
    /// Kind: PEOPLES_COMMITTEE, PEOPLES_COUNCIL, DEPARTMENT, OFFICE, POLICE, …
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// The unit it belongs to, during its own validity.
    async fn unit(&self, ctx: &Context<'_>) -> Result<AdminUnit> {
        let day = self
            .0
            .valid_to
            .map(|to| to.min(clock::today()))
            .unwrap_or_else(clock::today);
        unit_at(ctx, self.0.admin_unit_id, day).await
    }
    /// First day; null when unknown.
    async fn valid_from(&self) -> Option<Date> {
        self.0.valid_from.map(Date)
    }
    /// Last day; null while it exists.
    async fn valid_to(&self) -> Option<Date> {
        self.0.valid_to.map(Date)
    }
    /// The agency above it (a committee above its offices).
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        match self.0.parent_agency_id {
            Some(id) => Ok(Some(agency_by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// The agency that took over its work.
    async fn successor(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        match self.0.successor_id {
            Some(id) => Ok(Some(agency_by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }
}

/// A measurable quantity that targets and reported values refer to.
#[derive(Clone)]
pub struct Indicator(pub Arc<crate::model::indicator::Model>);

impl Indicator {
    /// Its position in lists: by code.
    pub fn position(&self) -> pagination::Key {
        (self.0.code.clone(), self.0.id)
    }
}

/// A measurable quantity that targets and reported values refer to.
#[Object]
impl Indicator {
    /// Global id.
    pub(crate) async fn id(&self) -> ID {
        node_id("Indicator", self.0.id)
    }
    /// Stable code ("GRDP_GROWTH").
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it measures, in more words.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Unit of measure.
    async fn unit_of_measure(&self) -> &str {
        &self.0.unit_of_measure
    }
    /// Category.
    async fn category(&self) -> IndicatorCategory {
        self.0.category.into()
    }
    /// Whether higher or lower is better.
    async fn direction(&self) -> Direction {
        self.0.direction.into()
    }
    /// How values of lower units combine.
    async fn aggregation(&self) -> Aggregation {
        self.0.aggregation.into()
    }
    /// The disaggregations its values may carry besides `total`, in order; null when it
    /// declares none and takes any.
    async fn disaggregations(&self) -> Option<Vec<String>> {
        crate::app::indicators::allowed_disaggregations(&self.0)
    }
}

/// Filters of the plans list.
#[derive(InputObject, Default)]
pub struct PlanFilter {
    /// Plans of units with this code (every version; those valid in `year` when it is given).
    pub unit_code: Option<String>,
    /// Also plans of the units below.
    pub include_descendants: Option<bool>,
    /// Also plans of the units above (what the unit implements).
    pub include_ancestors: Option<bool>,
    /// Kind of document.
    pub kind: Option<PlanKind>,
    /// A year the plan's period covers (or, for a plan without a period, its issue year).
    pub year: Option<i32>,
    /// Status.
    pub status: Option<PlanStatus>,
    /// Issuing agency (global id).
    pub issuer_id: Option<ID>,
    /// Words of the number or title; case, diacritics and apostrophes are ignored.
    pub search: Option<String>,
}

/// Filters of the indicators list.
#[derive(InputObject, Default)]
pub struct IndicatorFilter {
    /// Words of the code or name; case and diacritics are ignored.
    pub search: Option<String>,
    /// Category.
    pub category: Option<IndicatorCategory>,
}

connection!(PlanConnection, PlanEdge, Plan, "plans");
connection!(
    AssignmentConnection,
    AssignmentEdge,
    Assignment,
    "assignments"
);
connection!(AgencyConnection, AgencyEdge, Agency, "agencies");
connection!(IndicatorConnection, IndicatorEdge, Indicator, "indicators");
connection!(
    ReportingDutyConnection,
    ReportingDutyEdge,
    ReportingDuty,
    "reporting duties"
);

impl ReportingDuty {
    /// Its position in lists: earliest due first.
    pub fn position(&self) -> pagination::Key {
        (self.0.due_on.format("%Y%m%d").to_string(), self.0.id)
    }
}

/// How many assignments have one status.
#[derive(SimpleObject, Clone)]
pub struct StatusCount {
    /// The status.
    pub status: AssignmentStatus,
    /// How many assignments have it.
    pub count: usize,
}

/// Assignments of the plans issued by a unit (and, as asked, the units below it), counted.
#[derive(SimpleObject, Clone)]
pub struct AssignmentSummary {
    /// The unit summarised; null for the parts of `perUnit` whose unit cannot be shown.
    pub unit: Option<AdminUnit>,
    /// Assignments counted.
    pub total: usize,
    /// Counts by status (every status, zeros included).
    pub by_status: Vec<StatusCount>,
    /// Deadline passed (in Vietnam), neither done nor cancelled.
    pub overdue: usize,
    /// Due within the next 30 days, neither done nor cancelled.
    pub due_in_30_days: usize,
    /// The same counts for each issuing unit (empty inside a part).
    pub per_unit: Vec<AssignmentSummary>,
}

impl AssignmentSummary {
    /// A summary from counts.
    pub fn new(
        unit: Option<AdminUnit>,
        counts: crate::services::plans::Counts,
        per_unit: Vec<AssignmentSummary>,
    ) -> Self {
        Self {
            unit,
            total: counts.total,
            by_status: counts
                .by_status
                .into_iter()
                .map(|(status, count)| StatusCount {
                    status: status.into(),
                    count,
                })
                .collect(),
            overdue: counts.overdue,
            due_in_30_days: counts.due_in_30_days,
            per_unit,
        }
    }
}

//! Writing plans, targets, tasks and duties, and reporting progress: each field one use case
//! of `app::plans`. Every write that changes a versioned object names the version it was
//! read at (`expectedVersion`); a stale one is `CONFLICT` and changes nothing.

use super::{
    Assignment, AssignmentStatus, ChangeUnit, Comparator, Plan, PlanKind, ProgressReport,
    ReportingDuty, Target, TargetMeasure, Visibility,
};
use crate::app::{self, plans as uc};
use crate::error::{AppError, AppResult};
use crate::graphql::context::{caller, db};
use crate::graphql::scalars::{Date, Decimal, decode_node_id_of, node_id};
use crate::model::enums::PlanStatus as E;
use crate::services::plans as plan_reads;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use std::sync::Arc;

fn decode(kind: &str, field: &str, id: &ID) -> AppResult<i64> {
    decode_node_id_of(kind, id)
        .ok_or_else(|| AppError::bad_input(field, format!("not a {kind} id")))
}

async fn agency(ctx: &Context<'_>, field: &str, id: &ID) -> Result<crate::model::agency::Model> {
    Ok(app::lookup::agency(db(ctx)?, field, decode("Agency", field, id)?).await?)
}

/// A new plan: a draft at the caller's unit.
#[derive(InputObject)]
pub struct CreatePlanInput {
    /// Kind of document.
    pub kind: PlanKind,
    /// Number ("12/KH-UBND"); needed before issuing; unique per issuer and year.
    pub number: Option<String>,
    /// Title.
    pub title: String,
    /// The issuing unit (global id); default: the caller's home unit. Managers issue at their
    /// own unit only.
    pub unit_id: Option<ID>,
    /// The issuing agency (global id): an agency of the issuing unit, valid today.
    pub issuer_agency_id: Option<ID>,
    /// Who signs it.
    pub signer: Option<String>,
    /// First year of the period it covers.
    pub period_from: Option<i32>,
    /// Last year.
    pub period_to: Option<i32>,
    /// Who may read it once issued (default `INTERNAL`).
    pub visibility: Option<Visibility>,
    /// Where its text is published.
    pub source_url: Option<String>,
    /// The plan it implements (global id).
    pub parent_plan_id: Option<ID>,
}

/// A change to a draft plan; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdatePlanInput {
    /// The plan (global id).
    pub id: ID,
    /// The version it was read at.
    pub expected_version: i32,
    /// New number ("" removes it).
    pub number: Option<String>,
    /// New title.
    pub title: Option<String>,
    /// New signer.
    pub signer: Option<String>,
    /// New first year.
    pub period_from: Option<i32>,
    /// New last year.
    pub period_to: Option<i32>,
    /// New visibility.
    pub visibility: Option<Visibility>,
    /// New source URL.
    pub source_url: Option<String>,
}

/// A step in a plan's life.
#[derive(InputObject)]
pub struct PlanStatusInput {
    /// The plan (global id).
    pub id: ID,
    /// The version it was read at.
    pub expected_version: i32,
}

/// Issuing a draft.
#[derive(InputObject)]
pub struct IssuePlanInput {
    /// The plan (global id).
    pub id: ID,
    /// The version it was read at.
    pub expected_version: i32,
    /// The issue date (default today; never in the future).
    pub issued_on: Option<Date>,
}

/// The plan written.
#[derive(SimpleObject)]
pub struct PlanPayload {
    /// The plan as it now stands.
    pub plan: Plan,
}

/// A target's terms.
#[derive(InputObject)]
pub struct TargetTermsInput {
    /// The verbatim wording ("GRDP tăng 6,5-7%").
    pub wording: String,
    /// Ordinal as numbered in the document ("1", "a").
    pub ordinal: Option<String>,
    /// The indicator it measures (its code); must exist.
    pub indicator_code: Option<String>,
    /// DHIS2 period: 2024, 2024S1, 2024Q3, 202406.
    pub period: Option<String>,
    /// What is measured (default `LEVEL`).
    pub measure: Option<TargetMeasure>,
    /// Terms of a change: required with `INCREASE` and `DECREASE`.
    pub change_unit: Option<ChangeUnit>,
    /// Comparator.
    pub comparator: Option<Comparator>,
    /// The value (needed by every comparator but `MAINTAIN`).
    pub value: Option<Decimal>,
    /// The upper value: with `BETWEEN` only, and not below `value`.
    pub upper_value: Option<Decimal>,
    /// The baseline a change is measured against.
    pub baseline: Option<Decimal>,
    /// The baseline's period.
    pub baseline_period: Option<String>,
    /// Unit of measure.
    pub unit_of_measure: Option<String>,
    /// Disaggregation (default `total`).
    pub disaggregation: Option<String>,
}

/// A new target of a draft or issued plan.
#[derive(InputObject)]
pub struct AddTargetInput {
    /// The plan (global id).
    pub plan_id: ID,
    /// The plan's version as read.
    pub expected_version: i32,
    /// The target this one details ("trong đó"), of the same plan.
    pub parent_target_id: Option<ID>,
    /// Its terms.
    pub terms: TargetTermsInput,
}

/// New terms for a target.
#[derive(InputObject)]
pub struct UpdateTargetInput {
    /// The target (global id).
    pub id: ID,
    /// The plan's version as read (targets change with their plan's version).
    pub expected_version: i32,
    /// Its new terms (all of them).
    pub terms: TargetTermsInput,
}

/// Removing a target.
#[derive(InputObject)]
pub struct RemoveTargetInput {
    /// The target (global id).
    pub id: ID,
    /// The plan's version as read.
    pub expected_version: i32,
}

/// The target written.
#[derive(SimpleObject)]
pub struct TargetPayload {
    /// The target as it now stands.
    pub target: Target,
}

/// The target removed.
#[derive(SimpleObject)]
pub struct RemoveTargetPayload {
    /// The id the target had.
    pub removed_target_id: ID,
}

/// A task's terms.
#[derive(InputObject)]
pub struct TaskTermsInput {
    /// Ordinal ("1.2").
    pub ordinal: Option<String>,
    /// Title.
    pub title: String,
    /// Content, verbatim.
    pub content: Option<String>,
    /// The one lead agency (global id): in the issuing unit's scope, valid today.
    pub lead_agency_id: ID,
    /// Coordinating agencies (global ids), under the same rule.
    #[graphql(default)]
    pub coordinating_agency_ids: Vec<ID>,
    /// Targets of the same plan it serves (global ids).
    #[graphql(default)]
    pub target_ids: Vec<ID>,
    /// Due date: not before the plan's issue date.
    pub due_on: Option<Date>,
    /// `MONTHLY`, `QUARTERLY`, `SIX_MONTHLY` or `YEARLY`; none: once.
    pub recurrence: Option<String>,
}

/// A new task of a draft or issued plan.
#[derive(InputObject)]
pub struct CreateAssignmentInput {
    /// The plan (global id).
    pub plan_id: ID,
    /// The plan's version as read.
    pub expected_version: i32,
    /// Its terms.
    pub terms: TaskTermsInput,
}

/// New terms for a task.
#[derive(InputObject)]
pub struct UpdateAssignmentInput {
    /// The task (global id).
    pub id: ID,
    /// The task's version as read.
    pub expected_version: i32,
    /// Its new terms (all of them).
    pub terms: TaskTermsInput,
}

/// A task's new status.
#[derive(InputObject)]
pub struct SetAssignmentStatusInput {
    /// The task (global id).
    pub id: ID,
    /// The task's version as read.
    pub expected_version: i32,
    /// The status.
    pub status: AssignmentStatus,
}

/// The task written.
#[derive(SimpleObject)]
pub struct AssignmentPayload {
    /// The task as it now stands.
    pub assignment: Assignment,
}

/// A new reporting duty under a plan.
#[derive(InputObject)]
pub struct CreateReportingDutyInput {
    /// The plan (global id).
    pub plan_id: ID,
    /// The plan's version as read.
    pub expected_version: i32,
    /// What is reported.
    pub title: String,
    /// Who reports (global id): in the issuing unit's scope, valid today.
    pub reporter_agency_id: ID,
    /// Who receives (global id), under the same rule.
    pub recipient_agency_id: ID,
    /// The period reported on (DHIS2).
    pub period: String,
    /// `MONTHLY`, `QUARTERLY`, `SIX_MONTHLY` or `YEARLY`; none: once.
    pub recurrence: Option<String>,
    /// Due date.
    pub due_on: Date,
}

/// The duty written.
#[derive(SimpleObject)]
pub struct ReportingDutyPayload {
    /// The duty.
    pub reporting_duty: ReportingDuty,
}

/// A progress report on a task or a reporting duty (exactly one of the two).
#[derive(InputObject)]
pub struct SubmitProgressReportInput {
    /// The task (global id).
    pub assignment_id: Option<ID>,
    /// The reporting duty (global id).
    pub reporting_duty_id: Option<ID>,
    /// The period reported on (DHIS2).
    pub period: String,
    /// Percent complete, 0–100.
    pub percent_complete: Option<i32>,
    /// What was done.
    pub narrative: Option<String>,
}

/// A reviewer's decision.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReviewDecision {
    /// The report is accepted.
    Accept,
    /// The report goes back to its author, with a reason.
    Return,
}

/// The review of a submitted progress report.
#[derive(InputObject)]
pub struct ReviewProgressReportInput {
    /// The report (global id).
    pub id: ID,
    /// The report's version as read.
    pub expected_version: i32,
    /// Accept or return.
    pub decision: ReviewDecision,
    /// Why it is returned (required with `RETURN`).
    pub reason: Option<String>,
}

/// The report written.
#[derive(SimpleObject)]
pub struct ProgressReportPayload {
    /// The report as it now stands.
    pub progress_report: ProgressReport,
}

/// A plan file to import.
#[derive(InputObject)]
pub struct ImportPlanInput {
    /// The file's text (the TOML format of docs/plan-files.md).
    pub content: String,
    /// Run the whole import and roll it back: the report says what would be written.
    #[graphql(default)]
    pub dry_run: bool,
}

/// What a plan import wrote (or would write, in a dry run).
#[derive(SimpleObject)]
pub struct ImportPlanPayload {
    /// `CREATED`, `UPDATED` or `UNCHANGED` (the same file was imported before).
    pub outcome: String,
    /// Whether it was only tried.
    pub dry_run: bool,
    /// The plan (null in a dry run that would create it).
    pub plan: Option<Plan>,
    /// The plan's key in the file.
    pub key: String,
    /// Targets and parts written.
    pub targets: usize,
    /// Tasks written (after expanding `leads`).
    pub assignments: usize,
    /// Reporting duties written.
    pub reporting_duties: usize,
    /// Agencies the file declares.
    pub agencies: usize,
    /// Things kept but worth a look, each with its line.
    pub warnings: Vec<String>,
}

async fn terms(ctx: &Context<'_>, t: TargetTermsInput) -> Result<uc::TargetSpec> {
    let indicator = match &t.indicator_code {
        Some(code) => Some(
            plan_reads::indicator_by_code(db(ctx)?, code)
                .await?
                .ok_or_else(|| {
                    AppError::bad_input("indicatorCode", format!("no indicator `{code}`"))
                })?,
        ),
        None => None,
    };
    Ok(uc::TargetSpec {
        wording: t.wording,
        ordinal: t.ordinal,
        indicator,
        period: t.period,
        measure: t
            .measure
            .map(Into::into)
            .unwrap_or(crate::model::enums::TargetMeasure::Level),
        change_unit: t.change_unit.map(Into::into),
        comparator: t.comparator.map(Into::into),
        value: t.value.map(|d| d.0),
        upper_value: t.upper_value.map(|d| d.0),
        baseline: t.baseline.map(|d| d.0),
        baseline_period: t.baseline_period,
        unit_of_measure: t.unit_of_measure,
        disaggregation: t.disaggregation,
    })
}

async fn task(ctx: &Context<'_>, t: TaskTermsInput) -> Result<uc::TaskSpec> {
    let lead = agency(ctx, "leadAgencyId", &t.lead_agency_id).await?;
    let mut coordinators = Vec::new();
    for id in &t.coordinating_agency_ids {
        coordinators.push(agency(ctx, "coordinatingAgencyIds", id).await?);
    }
    let targets = t
        .target_ids
        .iter()
        .map(|id| decode("Target", "targetIds", id))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(uc::TaskSpec {
        ordinal: t.ordinal,
        title: t.title,
        content: t.content,
        lead,
        coordinators,
        targets,
        due_on: t.due_on.map(|d| d.0),
        recurrence: t.recurrence,
    })
}

/// A step of a plan's life (`issuePlan`, `supersedePlan`, `cancelPlan`).
async fn plan_step(
    ctx: &Context<'_>,
    id: &ID,
    expected_version: i32,
    to: crate::model::enums::PlanStatus,
    issued_on: Option<chrono::NaiveDate>,
) -> Result<PlanPayload> {
    let who = caller(ctx)?;
    let id = decode("Plan", "id", id)?;
    Ok(plan_payload(
        uc::set_plan_status(db(ctx)?, &who, id, expected_version, to, issued_on).await?,
    ))
}

fn plan_payload(p: crate::model::plan::Model) -> PlanPayload {
    PlanPayload {
        plan: Plan(Arc::new(p)),
    }
}

/// Writing plans, targets, tasks and duties (managers of the issuing unit), and reporting
/// progress (reporters and managers of the leading agency's scope).
#[derive(Default)]
pub struct PlansMutation;

/// Writing plans, targets, tasks and duties, and reporting progress.
#[Object]
impl PlansMutation {
    /// Creates a draft plan at the caller's unit (managers; the unit valid today).
    async fn create_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The plan.")] input: CreatePlanInput,
    ) -> Result<PlanPayload> {
        let who = caller(ctx)?;
        let d = db(ctx)?;
        let unit = match &input.unit_id {
            Some(id) => {
                Some(app::lookup::unit(d, "unitId", decode("AdminUnit", "unitId", id)?).await?)
            }
            None => None,
        };
        let issuer = match &input.issuer_agency_id {
            Some(id) => Some(agency(ctx, "issuerAgencyId", id).await?),
            None => None,
        };
        let parent = match &input.parent_plan_id {
            Some(id) => Some(
                crate::services::plan_writes::plan(d, decode("Plan", "parentPlanId", id)?)
                    .await
                    .map_err(|_| AppError::bad_input("parentPlanId", "no such plan"))?,
            ),
            None => None,
        };
        let new = uc::NewPlan {
            kind: input.kind.into(),
            number: input.number,
            title: input.title,
            unit,
            issuer,
            signer: input.signer,
            period_from: input.period_from,
            period_to: input.period_to,
            visibility: input
                .visibility
                .map(Into::into)
                .unwrap_or(crate::model::enums::Visibility::Internal),
            source_url: input.source_url,
            parent,
        };
        Ok(plan_payload(uc::create_plan(d, &who, new).await?))
    }

    /// Imports a plan file (docs/plan-files.md), or tries it with `dryRun`: national managers
    /// and admins any file, a manager a file of his own unit whose agencies lie in his scope.
    /// A bad file is `BAD_USER_INPUT` on `content` with the line at fault; nothing is written.
    async fn import_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file.")] input: ImportPlanInput,
    ) -> Result<ImportPlanPayload> {
        let who = caller(ctx)?;
        let d = db(ctx)?;
        let r = app::imports::plan_file_as(d, &who, &input.content, input.dry_run).await?;
        let plan = if input.dry_run {
            crate::services::plan_writes::plan(d, r.plan_id).await.ok()
        } else {
            Some(crate::services::plan_writes::plan(d, r.plan_id).await?)
        };
        use crate::services::plan_import::ImportOutcome as O;
        Ok(ImportPlanPayload {
            outcome: match r.outcome {
                O::Created => "CREATED",
                O::Updated => "UPDATED",
                O::Unchanged => "UNCHANGED",
            }
            .into(),
            dry_run: input.dry_run,
            plan: plan.map(|p| Plan(Arc::new(p))),
            key: r.plan_key,
            targets: r.targets,
            assignments: r.assignments,
            reporting_duties: r.reporting_duties,
            agencies: r.agencies,
            warnings: r.warnings,
        })
    }

    /// Changes a draft plan's fields (managers of the issuing unit).
    async fn update_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: UpdatePlanInput,
    ) -> Result<PlanPayload> {
        let who = caller(ctx)?;
        let id = decode("Plan", "id", &input.id)?;
        let change = uc::PlanChange {
            number: input.number,
            title: input.title,
            signer: input.signer,
            period_from: input.period_from,
            period_to: input.period_to,
            visibility: input.visibility.map(Into::into),
            source_url: input.source_url,
        };
        Ok(plan_payload(
            uc::update_plan(db(ctx)?, &who, id, input.expected_version, change).await?,
        ))
    }

    /// Issues a draft (it needs a number): `DRAFT` → `ISSUED`.
    async fn issue_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The plan.")] input: IssuePlanInput,
    ) -> Result<PlanPayload> {
        let issued_on = input.issued_on.map(|d| d.0);
        plan_step(ctx, &input.id, input.expected_version, E::Issued, issued_on).await
    }

    /// Marks an issued plan superseded: `ISSUED` → `SUPERSEDED`.
    async fn supersede_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The plan.")] input: PlanStatusInput,
    ) -> Result<PlanPayload> {
        plan_step(ctx, &input.id, input.expected_version, E::Superseded, None).await
    }

    /// Cancels a draft or an issued plan.
    async fn cancel_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The plan.")] input: PlanStatusInput,
    ) -> Result<PlanPayload> {
        plan_step(ctx, &input.id, input.expected_version, E::Cancelled, None).await
    }

    /// Adds a target to a draft or issued plan; the plan's version moves on.
    async fn add_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target.")] input: AddTargetInput,
    ) -> Result<TargetPayload> {
        let who = caller(ctx)?;
        let plan_id = decode("Plan", "planId", &input.plan_id)?;
        let parent = match &input.parent_target_id {
            Some(id) => Some(decode("Target", "parentTargetId", id)?),
            None => None,
        };
        let spec = terms(ctx, input.terms).await?;
        let t = uc::add_target(
            db(ctx)?,
            &who,
            plan_id,
            input.expected_version,
            parent,
            spec,
        )
        .await?;
        Ok(TargetPayload {
            target: Target(Arc::new(t)),
        })
    }

    /// Replaces a target's terms; the plan's version moves on.
    async fn update_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: UpdateTargetInput,
    ) -> Result<TargetPayload> {
        let who = caller(ctx)?;
        let id = decode("Target", "id", &input.id)?;
        let spec = terms(ctx, input.terms).await?;
        let t = uc::update_target(db(ctx)?, &who, id, input.expected_version, spec).await?;
        Ok(TargetPayload {
            target: Target(Arc::new(t)),
        })
    }

    /// Removes a target with its sub-targets; tasks lose the link.
    async fn remove_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target.")] input: RemoveTargetInput,
    ) -> Result<RemoveTargetPayload> {
        let who = caller(ctx)?;
        let id = decode("Target", "id", &input.id)?;
        let t = uc::remove_target(db(ctx)?, &who, id, input.expected_version).await?;
        Ok(RemoveTargetPayload {
            removed_target_id: node_id("Target", t.id),
        })
    }

    /// Adds a task to a draft or issued plan, led by one agency of the issuing unit's scope.
    async fn create_assignment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The task.")] input: CreateAssignmentInput,
    ) -> Result<AssignmentPayload> {
        let who = caller(ctx)?;
        let plan_id = decode("Plan", "planId", &input.plan_id)?;
        let spec = task(ctx, input.terms).await?;
        let r =
            uc::create_assignment(db(ctx)?, &who, plan_id, input.expected_version, spec).await?;
        Ok(AssignmentPayload {
            assignment: Assignment(Arc::new(r.task), None),
        })
    }

    /// Replaces a task's terms.
    async fn update_assignment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: UpdateAssignmentInput,
    ) -> Result<AssignmentPayload> {
        let who = caller(ctx)?;
        let id = decode("Assignment", "id", &input.id)?;
        let spec = task(ctx, input.terms).await?;
        let r = uc::update_assignment(db(ctx)?, &who, id, input.expected_version, spec).await?;
        Ok(AssignmentPayload {
            assignment: Assignment(Arc::new(r.task), None),
        })
    }

    /// Sets a task's status (managers of the issuing unit).
    async fn set_assignment_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: SetAssignmentStatusInput,
    ) -> Result<AssignmentPayload> {
        let who = caller(ctx)?;
        let id = decode("Assignment", "id", &input.id)?;
        let r = uc::set_assignment_status(
            db(ctx)?,
            &who,
            id,
            input.expected_version,
            input.status.into(),
        )
        .await?;
        Ok(AssignmentPayload {
            assignment: Assignment(Arc::new(r.task), None),
        })
    }

    /// Adds a reporting duty to a plan: who reports what to whom by when.
    async fn create_reporting_duty(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The duty.")] input: CreateReportingDutyInput,
    ) -> Result<ReportingDutyPayload> {
        let who = caller(ctx)?;
        let spec = uc::DutySpec {
            plan_id: decode("Plan", "planId", &input.plan_id)?,
            title: input.title,
            reporter: agency(ctx, "reporterAgencyId", &input.reporter_agency_id).await?,
            recipient: agency(ctx, "recipientAgencyId", &input.recipient_agency_id).await?,
            period: input.period,
            recurrence: input.recurrence,
            due_on: input.due_on.0,
        };
        let d = uc::create_duty(db(ctx)?, &who, input.expected_version, spec).await?;
        Ok(ReportingDutyPayload {
            reporting_duty: ReportingDuty(Arc::new(d)),
        })
    }

    /// Reports progress on a task or a duty (reporters and managers of the leading agency,
    /// or whose scope holds it); the report arrives `SUBMITTED`.
    async fn submit_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report.")] input: SubmitProgressReportInput,
    ) -> Result<ProgressReportPayload> {
        let who = caller(ctx)?;
        let subject = match (&input.assignment_id, &input.reporting_duty_id) {
            (Some(a), None) => {
                uc::ReportSubject::Assignment(decode("Assignment", "assignmentId", a)?)
            }
            (None, Some(d)) => {
                uc::ReportSubject::Duty(decode("ReportingDuty", "reportingDutyId", d)?)
            }
            _ => {
                return Err(AppError::bad_input(
                    "assignmentId",
                    "name exactly one of assignmentId and reportingDutyId",
                )
                .into());
            }
        };
        let r = uc::submit_report(
            db(ctx)?,
            &who,
            subject,
            input.period,
            input.percent_complete,
            input.narrative,
        )
        .await?;
        Ok(ProgressReportPayload {
            progress_report: ProgressReport(Arc::new(r)),
        })
    }

    /// Accepts a submitted report, or returns it with a reason (managers of the issuing
    /// unit).
    async fn review_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The review.")] input: ReviewProgressReportInput,
    ) -> Result<ProgressReportPayload> {
        let who = caller(ctx)?;
        let id = decode("ProgressReport", "id", &input.id)?;
        let r = uc::review_report(
            db(ctx)?,
            &who,
            id,
            input.expected_version,
            input.decision == ReviewDecision::Accept,
            input.reason,
        )
        .await?;
        Ok(ProgressReportPayload {
            progress_report: ProgressReport(Arc::new(r)),
        })
    }
}

//! Writing plans, targets and tasks, and following them: progress reports and their review.
//! Managers write the plans of their own unit (valid today); tasks go to agencies in the
//! issuing unit's scope that are valid today; reporters report progress on what their agency
//! leads or what agencies of their scope lead; a manager of the issuing unit accepts or
//! returns the reports. Every write is one transaction with its audit event; plans, tasks and
//! reports carry a version that a write must name (`expectedVersion`).

use super::{Caller, Trail, audited};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::period::Period;
use crate::services::{plan_writes as rows, scope, units};
use crate::text;
use chrono::{NaiveDate, Utc};
use entity::enums::{
    AssignmentStatus, ChangeUnit, Comparator, PlanKind, PlanStatus, ReportStatus, TargetMeasure,
    Visibility,
};
use entity::{
    DecimalText, admin_unit, agency, assignment, indicator, plan, progress_report, reporting_duty,
    target,
};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveEnum, DatabaseConnection, IntoActiveModel};
use serde_json::json;

impl Trail for plan::Model {
    const KIND: &'static str = "plan";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        json!({
            "number": self.number, "kind": self.kind.to_value(), "title": self.title,
            "unitId": self.admin_unit_id, "issuerId": self.issuer_agency_id,
            "issuedOn": self.issued_on, "signer": self.signer, "periodFrom": self.period_from,
            "periodTo": self.period_to, "status": self.status.to_value(),
            "visibility": self.visibility.to_value(), "sourceUrl": self.source_url,
            "parentPlanId": self.parent_plan_id, "version": self.version,
        })
    }
}

impl Trail for target::Model {
    const KIND: &'static str = "target";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        json!({
            "planId": self.plan_id, "parentId": self.parent_target_id,
            "indicatorId": self.indicator_id, "unitId": self.admin_unit_id,
            "ordinal": self.ordinal, "period": self.period, "measure": self.measure.to_value(),
            "changeUnit": self.change_unit.map(|c| c.to_value()),
            "comparator": self.comparator.map(|c| c.to_value()),
            "value": self.value.as_ref().map(|v| v.as_str().to_string()),
            "upperValue": self.upper_value.as_ref().map(|v| v.as_str().to_string()),
            "baseline": self.baseline.as_ref().map(|v| v.as_str().to_string()),
            "baselinePeriod": self.baseline_period, "unitOfMeasure": self.unit_of_measure,
            "disaggregation": self.disaggregation, "wording": self.wording,
        })
    }
}

/// A task with the agencies and targets linked to it, for the trail.
pub struct TaskRecord {
    /// The task.
    pub task: assignment::Model,
    /// Its coordinating agencies.
    pub coordinators: Vec<i64>,
    /// Its linked targets.
    pub targets: Vec<i64>,
}

impl TaskRecord {
    /// A task as stored, with its links.
    async fn read<C: sea_orm::ConnectionTrait>(db: &C, task: assignment::Model) -> AppResult<Self> {
        let (coordinators, targets) = rows::links(db, task.id).await?;
        Ok(Self {
            task,
            coordinators,
            targets,
        })
    }
}

impl Trail for TaskRecord {
    const KIND: &'static str = "assignment";
    fn row(&self) -> i64 {
        self.task.id
    }
    fn snapshot(&self) -> serde_json::Value {
        let a = &self.task;
        json!({
            "planId": a.plan_id, "ordinal": a.ordinal, "title": a.title, "content": a.content,
            "leadAgencyId": a.lead_agency_id, "coordinatorIds": self.coordinators,
            "targetIds": self.targets, "dueOn": a.due_on, "recurrence": a.recurrence,
            "status": a.status.to_value(), "version": a.version,
        })
    }
}

impl Trail for reporting_duty::Model {
    const KIND: &'static str = "reporting_duty";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        json!({
            "planId": self.plan_id, "title": self.title,
            "reporterAgencyId": self.reporter_agency_id,
            "recipientAgencyId": self.recipient_agency_id, "period": self.period,
            "recurrence": self.recurrence, "dueOn": self.due_on,
        })
    }
}

impl Trail for progress_report::Model {
    const KIND: &'static str = "progress_report";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        json!({
            "assignmentId": self.assignment_id, "reportingDutyId": self.reporting_duty_id,
            "period": self.period, "status": self.status.to_value(),
            "percentComplete": self.percent_complete, "narrative": self.narrative,
            "reportedBy": self.reported_by, "reviewReason": self.review_reason,
            "reviewedBy": self.reviewed_by, "version": self.version,
        })
    }
}

/// The recurrences a task or duty may have.
pub const RECURRENCES: &[&str] = &["MONTHLY", "QUARTERLY", "SIX_MONTHLY", "YEARLY"];

fn recurrence(field: &str, r: Option<String>) -> AppResult<Option<String>> {
    match r.map(|r| r.trim().to_uppercase()) {
        None => Ok(None),
        Some(r) if RECURRENCES.contains(&r.as_str()) => Ok(Some(r)),
        Some(r) => Err(AppError::bad_input(
            field,
            format!("`{r}` is not a recurrence: {}", RECURRENCES.join(", ")),
        )),
    }
}

fn period(field: &str, p: Option<String>) -> AppResult<Option<String>> {
    match p.map(|p| p.trim().to_string()) {
        None => Ok(None),
        Some(p) if Period::parse(&p).is_some() => Ok(Some(p)),
        Some(p) => Err(AppError::bad_input(
            field,
            format!("`{p}` is not a DHIS2 period (2024, 2024S1, 2024Q3, 202406)"),
        )),
    }
}

fn required_text(field: &str, s: &str) -> AppResult<String> {
    let s = text::clean(s);
    if s.is_empty() {
        return Err(AppError::bad_input(field, "must not be empty"));
    }
    Ok(s)
}

fn plan_search_key(number: Option<&str>, title: &str) -> String {
    text::fold(&format!("{} {}", number.unwrap_or_default(), title))
}

/// The unit a plan is written for, with the caller allowed there.
async fn writable_plan(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> AppResult<(plan::Model, admin_unit::Model)> {
    let p = rows::plan(db, id).await?;
    let p = caller.access.read_plan(p).await?;
    let unit = super::lookup::unit(db, "id", p.admin_unit_id).await?;
    caller.access.authorize_plan_write(&unit)?;
    Ok((p, unit))
}

/// Plans whose targets and tasks may change: drafts and issued plans.
fn open_for_content(p: &plan::Model) -> AppResult<()> {
    match p.status {
        PlanStatus::Draft | PlanStatus::Issued => Ok(()),
        s => Err(AppError::bad_input(
            "planId",
            format!(
                "the plan is {}: its targets and tasks no longer change",
                s.to_value()
            ),
        )),
    }
}

/// An agency a task or duty names: in the issuing unit's scope, at a unit valid today, and
/// open today.
async fn task_agency(
    db: &DatabaseConnection,
    scope: &std::collections::HashSet<i64>,
    field: &str,
    agency: agency::Model,
) -> AppResult<agency::Model> {
    let today = clock::today();
    if !scope.contains(&agency.admin_unit_id) {
        return Err(AppError::bad_input(
            field,
            "that agency is outside the issuing unit's scope",
        ));
    }
    if !crate::services::validity::contains(agency.valid_from, agency.valid_to, today) {
        return Err(AppError::bad_input(field, "that agency is not valid today"));
    }
    let unit = super::lookup::unit(db, field, agency.admin_unit_id).await?;
    if !units::is_valid_on(&unit, today) {
        return Err(AppError::bad_input(
            field,
            "that agency belongs to a historical unit",
        ));
    }
    Ok(agency)
}

/// A plan to create.
pub struct NewPlan {
    /// Kind of document.
    pub kind: PlanKind,
    /// Number ("12/KH-UBND").
    pub number: Option<String>,
    /// Title.
    pub title: String,
    /// The issuing unit (none: the caller's home unit).
    pub unit: Option<admin_unit::Model>,
    /// The issuing agency: at the issuing unit.
    pub issuer: Option<agency::Model>,
    /// Signer.
    pub signer: Option<String>,
    /// First and last year of the period.
    pub period_from: Option<i32>,
    /// Last year.
    pub period_to: Option<i32>,
    /// Who may read it once issued.
    pub visibility: Visibility,
    /// Where the text is published.
    pub source_url: Option<String>,
    /// The plan it implements.
    pub parent: Option<plan::Model>,
}

fn check_period(from: Option<i32>, to: Option<i32>) -> AppResult<()> {
    for (field, y) in [("periodFrom", from), ("periodTo", to)] {
        if let Some(y) = y
            && !(1945..=2100).contains(&y)
        {
            return Err(AppError::bad_input(field, "a year between 1945 and 2100"));
        }
    }
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(AppError::bad_input("periodTo", "before periodFrom"));
    }
    Ok(())
}

/// `createPlan`: a draft at the caller's unit.
pub async fn create_plan(
    db: &DatabaseConnection,
    caller: &Caller,
    new: NewPlan,
) -> AppResult<plan::Model> {
    let principal = caller.access.require()?;
    let unit = match (new.unit, principal.home_unit_id) {
        (Some(u), _) => u,
        (None, Some(home)) => super::lookup::unit(db, "unitId", home).await?,
        (None, None) => {
            return Err(AppError::bad_input(
                "unitId",
                "a national caller names the issuing unit",
            ));
        }
    };
    caller.access.authorize_plan_write(&unit)?;
    let title = required_text("title", &new.title)?;
    check_period(new.period_from, new.period_to)?;
    if let Some(a) = &new.issuer
        && (a.admin_unit_id != unit.id
            || !crate::services::validity::contains(a.valid_from, a.valid_to, clock::today()))
    {
        return Err(AppError::bad_input(
            "issuerAgencyId",
            "the issuer is an agency of the issuing unit, valid today",
        ));
    }
    if let Some(parent) = &new.parent {
        caller.access.read_plan(parent.clone()).await?;
    }
    let number = new
        .number
        .as_deref()
        .map(text::clean)
        .filter(|n| !n.is_empty());
    let now = Utc::now();
    audited(db, caller, "plan.create", None, async |txn| {
        let row = plan::ActiveModel {
            search_key: Set(plan_search_key(number.as_deref(), &title)),
            number: Set(number.clone()),
            kind: Set(new.kind),
            title: Set(title.clone()),
            admin_unit_id: Set(unit.id),
            issuer_agency_id: Set(new.issuer.as_ref().map(|a| a.id)),
            issued_on: Set(None),
            signer: Set(new.signer.as_deref().map(text::clean)),
            period_from: Set(new.period_from),
            period_to: Set(new.period_to),
            status: Set(PlanStatus::Draft),
            visibility: Set(new.visibility),
            source_url: Set(new.source_url.clone()),
            parent_plan_id: Set(new.parent.as_ref().map(|p| p.id)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            code: Set(None),
            source_hash: Set(None),
            ..Default::default()
        };
        rows::lock_numbering(txn, unit.id).await?;
        let p = rows::insert_plan(txn, row).await?;
        if rows::number_taken(txn, &p).await? {
            return Err(duplicate_number());
        }
        Ok(p)
    })
    .await
}

fn duplicate_number() -> AppError {
    AppError::bad_input(
        "number",
        "another plan of this issuer bears this number in the same year",
    )
}

/// A change to a draft plan; `None` leaves a field alone.
#[derive(Default)]
pub struct PlanChange {
    /// New number (empty: none).
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

/// `updatePlan`: the fields of a draft.
pub async fn update_plan(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected: i32,
    change: PlanChange,
) -> AppResult<plan::Model> {
    let (p, _) = writable_plan(db, caller, id).await?;
    if p.status != PlanStatus::Draft {
        return Err(AppError::bad_input(
            "id",
            "only a draft changes: supersede an issued plan with a new one",
        ));
    }
    let number = match change.number {
        Some(n) => Some(text::clean(&n)).filter(|n| !n.is_empty()),
        None => p.number.clone(),
    };
    let title = match &change.title {
        Some(t) => required_text("title", t)?,
        None => p.title.clone(),
    };
    let from = change.period_from.or(p.period_from);
    let to = change.period_to.or(p.period_to);
    check_period(from, to)?;
    let before = p.snapshot();
    audited(db, caller, "plan.update", Some(before), async |txn| {
        rows::lock_numbering(txn, p.admin_unit_id).await?;
        rows::bump_plan(txn, id, expected).await?;
        let mut m = p.clone().into_active_model();
        m.number = Set(number.clone());
        m.title = Set(title.clone());
        m.search_key = Set(plan_search_key(number.as_deref(), &title));
        if let Some(s) = &change.signer {
            m.signer = Set(Some(text::clean(s)).filter(|s| !s.is_empty()));
        }
        m.period_from = Set(from);
        m.period_to = Set(to);
        if let Some(v) = change.visibility {
            m.visibility = Set(v);
        }
        if let Some(u) = &change.source_url {
            m.source_url = Set(Some(u.trim().to_string()).filter(|u| !u.is_empty()));
        }
        rows::save_plan(txn, m).await?;
        let p = rows::plan(txn, id).await?;
        if rows::number_taken(txn, &p).await? {
            return Err(duplicate_number());
        }
        Ok(p)
    })
    .await
}

/// `issuePlan`, `supersedePlan`, `cancelPlan`: a step of the plan's life.
pub async fn set_plan_status(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected: i32,
    to: PlanStatus,
    issued_on: Option<NaiveDate>,
) -> AppResult<plan::Model> {
    let (p, _) = writable_plan(db, caller, id).await?;
    let allowed = matches!(
        (p.status, to),
        (PlanStatus::Draft, PlanStatus::Issued)
            | (PlanStatus::Issued, PlanStatus::Superseded)
            | (
                PlanStatus::Draft | PlanStatus::Issued,
                PlanStatus::Cancelled
            )
    );
    if !allowed {
        return Err(AppError::bad_input(
            "id",
            format!(
                "a {} plan cannot become {}",
                p.status.to_value(),
                to.to_value()
            ),
        ));
    }
    let issued_on = match to {
        PlanStatus::Issued => {
            let day = issued_on.unwrap_or_else(clock::today);
            if day > clock::today() {
                return Err(AppError::bad_input(
                    "issuedOn",
                    "a plan is issued today or earlier",
                ));
            }
            if p.number.is_none() {
                return Err(AppError::bad_input(
                    "number",
                    "number the plan before issuing it",
                ));
            }
            Some(day)
        }
        _ => p.issued_on,
    };
    let action = match to {
        PlanStatus::Issued => "plan.issue",
        PlanStatus::Superseded => "plan.supersede",
        _ => "plan.cancel",
    };
    let before = p.snapshot();
    audited(db, caller, action, Some(before), async |txn| {
        rows::lock_numbering(txn, p.admin_unit_id).await?;
        rows::bump_plan(txn, id, expected).await?;
        let mut m = p.clone().into_active_model();
        m.status = Set(to);
        m.issued_on = Set(issued_on);
        rows::save_plan(txn, m).await?;
        let p = rows::plan(txn, id).await?;
        if to == PlanStatus::Issued && rows::number_taken(txn, &p).await? {
            return Err(duplicate_number());
        }
        Ok(p)
    })
    .await
}

/// What a target says, as given.
pub struct TargetSpec {
    /// Verbatim wording.
    pub wording: String,
    /// Ordinal ("1", "a").
    pub ordinal: Option<String>,
    /// The indicator it measures.
    pub indicator: Option<indicator::Model>,
    /// DHIS2 period.
    pub period: Option<String>,
    /// Measure.
    pub measure: TargetMeasure,
    /// Terms of a change.
    pub change_unit: Option<ChangeUnit>,
    /// Comparator.
    pub comparator: Option<Comparator>,
    /// Value.
    pub value: Option<String>,
    /// Upper value (BETWEEN).
    pub upper_value: Option<String>,
    /// Baseline.
    pub baseline: Option<String>,
    /// Baseline period.
    pub baseline_period: Option<String>,
    /// Unit of measure.
    pub unit_of_measure: Option<String>,
    /// Disaggregation (default `total`).
    pub disaggregation: Option<String>,
}

fn decimal(field: &str, v: Option<String>) -> AppResult<Option<DecimalText>> {
    match v {
        None => Ok(None),
        Some(s) => rust_decimal::Decimal::from_str_exact(s.trim())
            .map(|d| Some(DecimalText::new(d)))
            .map_err(|_| AppError::bad_input(field, format!("`{s}` is not a decimal"))),
    }
}

/// Checks a target's terms: `BETWEEN` needs both bounds in order, a change needs its terms,
/// a comparator its value; periods are DHIS2 ids.
fn check_target(spec: TargetSpec) -> AppResult<(TargetSpec, [Option<DecimalText>; 3])> {
    let value = decimal("value", spec.value.clone())?;
    let upper = decimal("upperValue", spec.upper_value.clone())?;
    let baseline = decimal("baseline", spec.baseline.clone())?;
    if spec.measure != TargetMeasure::Level && spec.change_unit.is_none() {
        return Err(AppError::bad_input(
            "changeUnit",
            "INCREASE and DECREASE need ABSOLUTE, PERCENT or PERCENTAGE_POINT",
        ));
    }
    match spec.comparator {
        Some(Comparator::Between) => match (&value, &upper) {
            (None, _) => return Err(AppError::bad_input("value", "BETWEEN needs a value")),
            (_, None) => {
                return Err(AppError::bad_input(
                    "upperValue",
                    "BETWEEN needs an upper value",
                ));
            }
            (Some(lo), Some(hi)) if lo.to_decimal().ok() > hi.to_decimal().ok() => {
                return Err(AppError::bad_input("upperValue", "below the value"));
            }
            _ => {}
        },
        Some(Comparator::Maintain) | None => {}
        Some(_) if value.is_none() => {
            return Err(AppError::bad_input("value", "the comparator needs a value"));
        }
        Some(_) if upper.is_some() => {
            return Err(AppError::bad_input(
                "upperValue",
                "only BETWEEN has an upper value",
            ));
        }
        Some(_) => {}
    }
    let spec = TargetSpec {
        wording: required_text("wording", &spec.wording)?,
        period: period("period", spec.period)?,
        baseline_period: period("baselinePeriod", spec.baseline_period)?,
        ..spec
    };
    Ok((spec, [value, upper, baseline]))
}

/// `addTarget`: a target (or a sub-target) of a draft or issued plan, at the plan's unit.
pub async fn add_target(
    db: &DatabaseConnection,
    caller: &Caller,
    plan_id: i64,
    expected: i32,
    parent: Option<i64>,
    spec: TargetSpec,
) -> AppResult<target::Model> {
    let (p, _) = writable_plan(db, caller, plan_id).await?;
    open_for_content(&p)?;
    if let Some(parent) = parent {
        let t = rows::target(db, parent).await?;
        if t.plan_id != plan_id {
            return Err(AppError::bad_input(
                "parentTargetId",
                "that target belongs to another plan",
            ));
        }
    }
    let (spec, [value, upper, baseline]) = check_target(spec)?;
    audited(db, caller, "target.add", None, async |txn| {
        rows::bump_plan(txn, plan_id, expected).await?;
        let position = rows::next_target_position(txn, plan_id).await?;
        rows::insert_target(
            txn,
            target::ActiveModel {
                plan_id: Set(plan_id),
                parent_target_id: Set(parent),
                indicator_id: Set(spec.indicator.as_ref().map(|i| i.id)),
                admin_unit_id: Set(p.admin_unit_id),
                ordinal: Set(spec.ordinal.as_deref().map(text::clean)),
                position: Set(position),
                period: Set(spec.period.clone()),
                measure: Set(spec.measure),
                change_unit: Set(spec.change_unit),
                comparator: Set(spec.comparator),
                value: Set(value.clone()),
                upper_value: Set(upper.clone()),
                baseline: Set(baseline.clone()),
                baseline_period: Set(spec.baseline_period.clone()),
                unit_of_measure: Set(spec.unit_of_measure.as_deref().map(text::clean)),
                disaggregation: Set(spec
                    .disaggregation
                    .as_deref()
                    .map(text::clean)
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| "total".into())),
                wording: Set(spec.wording.clone()),
                ..Default::default()
            },
        )
        .await
    })
    .await
}

/// `updateTarget`: replaces a target's terms (the plan's version guards it).
pub async fn update_target(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_plan_version: i32,
    spec: TargetSpec,
) -> AppResult<target::Model> {
    let t = rows::target(db, id).await?;
    let (p, _) = writable_plan(db, caller, t.plan_id).await?;
    open_for_content(&p)?;
    let (spec, [value, upper, baseline]) = check_target(spec)?;
    let before = t.snapshot();
    audited(db, caller, "target.update", Some(before), async |txn| {
        rows::bump_plan(txn, p.id, expected_plan_version).await?;
        let mut m = t.clone().into_active_model();
        m.indicator_id = Set(spec.indicator.as_ref().map(|i| i.id));
        m.ordinal = Set(spec.ordinal.as_deref().map(text::clean));
        m.period = Set(spec.period.clone());
        m.measure = Set(spec.measure);
        m.change_unit = Set(spec.change_unit);
        m.comparator = Set(spec.comparator);
        m.value = Set(value.clone());
        m.upper_value = Set(upper.clone());
        m.baseline = Set(baseline.clone());
        m.baseline_period = Set(spec.baseline_period.clone());
        m.unit_of_measure = Set(spec.unit_of_measure.as_deref().map(text::clean));
        m.disaggregation = Set(spec
            .disaggregation
            .as_deref()
            .map(text::clean)
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "total".into()));
        m.wording = Set(spec.wording.clone());
        rows::save_target(txn, m).await
    })
    .await
}

/// `removeTarget`: a target with its sub-targets and task links.
pub async fn remove_target(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_plan_version: i32,
) -> AppResult<target::Model> {
    let t = rows::target(db, id).await?;
    let (p, _) = writable_plan(db, caller, t.plan_id).await?;
    open_for_content(&p)?;
    let before = t.snapshot();
    audited(db, caller, "target.remove", Some(before), async |txn| {
        rows::bump_plan(txn, p.id, expected_plan_version).await?;
        rows::delete_target(txn, &t).await?;
        Ok(t.clone())
    })
    .await
}

/// A task as given.
pub struct TaskSpec {
    /// Ordinal ("1.2").
    pub ordinal: Option<String>,
    /// Title.
    pub title: String,
    /// Content, verbatim.
    pub content: Option<String>,
    /// The one lead agency.
    pub lead: agency::Model,
    /// Coordinating agencies.
    pub coordinators: Vec<agency::Model>,
    /// Linked targets (ids of the plan's targets).
    pub targets: Vec<i64>,
    /// Due date.
    pub due_on: Option<NaiveDate>,
    /// Recurrence.
    pub recurrence: Option<String>,
}

async fn check_task(
    db: &DatabaseConnection,
    p: &plan::Model,
    spec: TaskSpec,
) -> AppResult<TaskSpec> {
    let scope = scope::ids_in(db, p.admin_unit_id).await?;
    let lead = task_agency(db, &scope, "leadAgencyId", spec.lead).await?;
    let mut coordinators = Vec::new();
    for c in spec.coordinators {
        coordinators.push(task_agency(db, &scope, "coordinatingAgencyIds", c).await?);
    }
    for t in &spec.targets {
        let t = rows::target(db, *t)
            .await
            .map_err(|_| AppError::bad_input("targetIds", "no such target"))?;
        if t.plan_id != p.id {
            return Err(AppError::bad_input(
                "targetIds",
                "a linked target belongs to another plan",
            ));
        }
    }
    if let (Some(due), Some(issued)) = (spec.due_on, p.issued_on)
        && due < issued
    {
        return Err(AppError::bad_input(
            "dueOn",
            format!("before the plan's issue date {issued}"),
        ));
    }
    Ok(TaskSpec {
        title: required_text("title", &spec.title)?,
        recurrence: recurrence("recurrence", spec.recurrence)?,
        lead,
        coordinators,
        ..spec
    })
}

/// `createAssignment`: a task of a draft or issued plan, led by one agency of the issuing
/// unit's scope that is valid today.
pub async fn create_assignment(
    db: &DatabaseConnection,
    caller: &Caller,
    plan_id: i64,
    expected_plan_version: i32,
    spec: TaskSpec,
) -> AppResult<TaskRecord> {
    let (p, _) = writable_plan(db, caller, plan_id).await?;
    open_for_content(&p)?;
    let spec = check_task(db, &p, spec).await?;
    let coordinators: Vec<i64> = spec.coordinators.iter().map(|a| a.id).collect();
    let now = Utc::now();
    audited(db, caller, "assignment.create", None, async |txn| {
        rows::bump_plan(txn, plan_id, expected_plan_version).await?;
        let position = rows::next_assignment_position(txn, plan_id).await?;
        let task = rows::insert_assignment(
            txn,
            assignment::ActiveModel {
                plan_id: Set(plan_id),
                ordinal: Set(spec.ordinal.as_deref().map(text::clean)),
                position: Set(position),
                title: Set(spec.title.clone()),
                content: Set(spec.content.as_deref().map(text::clean)),
                group_title: Set(None),
                lead_agency_id: Set(spec.lead.id),
                due_on: Set(spec.due_on),
                recurrence: Set(spec.recurrence.clone()),
                status: Set(AssignmentStatus::NotStarted),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            },
            &coordinators,
            &spec.targets,
        )
        .await?;
        TaskRecord::read(txn, task).await
    })
    .await
}

/// `updateAssignment`: replaces a task's terms.
pub async fn update_assignment(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected: i32,
    spec: TaskSpec,
) -> AppResult<TaskRecord> {
    let a = rows::assignment(db, id).await?;
    let (p, _) = writable_plan(db, caller, a.plan_id).await?;
    open_for_content(&p)?;
    let spec = check_task(db, &p, spec).await?;
    let coordinators: Vec<i64> = spec.coordinators.iter().map(|a| a.id).collect();
    let before = TaskRecord::read(db, a.clone()).await?.snapshot();
    audited(db, caller, "assignment.update", Some(before), async |txn| {
        rows::guard_open_plan(txn, a.plan_id).await?;
        rows::bump_assignment(txn, id, expected).await?;
        let mut m = a.clone().into_active_model();
        m.ordinal = Set(spec.ordinal.as_deref().map(text::clean));
        m.title = Set(spec.title.clone());
        m.content = Set(spec.content.as_deref().map(text::clean));
        m.lead_agency_id = Set(spec.lead.id);
        m.due_on = Set(spec.due_on);
        m.recurrence = Set(spec.recurrence.clone());
        rows::save_assignment(txn, m, Some((&coordinators, &spec.targets))).await?;
        TaskRecord::read(txn, rows::assignment(txn, id).await?).await
    })
    .await
}

/// `setAssignmentStatus`: by a manager of the issuing unit.
pub async fn set_assignment_status(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected: i32,
    status: AssignmentStatus,
) -> AppResult<TaskRecord> {
    let a = rows::assignment(db, id).await?;
    let (p, _) = writable_plan(db, caller, a.plan_id).await?;
    open_for_content(&p)?;
    let before = TaskRecord::read(db, a.clone()).await?.snapshot();
    audited(db, caller, "assignment.status", Some(before), async |txn| {
        rows::guard_open_plan(txn, a.plan_id).await?;
        rows::bump_assignment(txn, id, expected).await?;
        let mut m = a.clone().into_active_model();
        m.status = Set(status);
        rows::save_assignment(txn, m, None).await?;
        TaskRecord::read(txn, rows::assignment(txn, id).await?).await
    })
    .await
}

/// A reporting duty as given.
pub struct DutySpec {
    /// The plan it belongs to.
    pub plan_id: i64,
    /// What is reported.
    pub title: String,
    /// Who reports.
    pub reporter: agency::Model,
    /// Who receives.
    pub recipient: agency::Model,
    /// The period reported on (DHIS2).
    pub period: String,
    /// Recurrence.
    pub recurrence: Option<String>,
    /// Due date.
    pub due_on: NaiveDate,
}

/// `createReportingDuty`: who reports what to whom by when, under a plan of the caller's unit.
pub async fn create_duty(
    db: &DatabaseConnection,
    caller: &Caller,
    expected_plan_version: i32,
    spec: DutySpec,
) -> AppResult<reporting_duty::Model> {
    let (p, _) = writable_plan(db, caller, spec.plan_id).await?;
    open_for_content(&p)?;
    let title = required_text("title", &spec.title)?;
    let scope = scope::ids_in(db, p.admin_unit_id).await?;
    let reporter = task_agency(db, &scope, "reporterAgencyId", spec.reporter).await?;
    let recipient = task_agency(db, &scope, "recipientAgencyId", spec.recipient).await?;
    let period = period("period", Some(spec.period))?.unwrap_or_default();
    let recurrence = recurrence("recurrence", spec.recurrence)?;
    if let Some(issued) = p.issued_on
        && spec.due_on < issued
    {
        return Err(AppError::bad_input(
            "dueOn",
            format!("before the plan's issue date {issued}"),
        ));
    }
    let now = Utc::now();
    audited(db, caller, "reporting_duty.create", None, async |txn| {
        rows::bump_plan(txn, p.id, expected_plan_version).await?;
        rows::insert_duty(
            txn,
            reporting_duty::ActiveModel {
                plan_id: Set(Some(p.id)),
                title: Set(title.clone()),
                reporter_agency_id: Set(reporter.id),
                recipient_agency_id: Set(recipient.id),
                period: Set(period.clone()),
                recurrence: Set(recurrence.clone()),
                due_on: Set(spec.due_on),
                created_at: Set(now),
                ..Default::default()
            },
        )
        .await
    })
    .await
}

/// What a progress report is about.
pub enum ReportSubject {
    /// A task.
    Assignment(i64),
    /// A reporting duty.
    Duty(i64),
}

/// `submitProgressReport`: by reporters and managers of the leading (reporting) agency or
/// whose scope holds it.
pub async fn submit_report(
    db: &DatabaseConnection,
    caller: &Caller,
    subject: ReportSubject,
    period_id: String,
    percent_complete: Option<i32>,
    narrative: Option<String>,
) -> AppResult<progress_report::Model> {
    let (agency_id, plan_id, assignment_id, duty_id) = match subject {
        ReportSubject::Assignment(id) => {
            let a = rows::assignment(db, id).await?;
            if a.status == AssignmentStatus::Cancelled {
                return Err(AppError::bad_input("assignmentId", "the task is cancelled"));
            }
            (a.lead_agency_id, Some(a.plan_id), Some(id), None)
        }
        ReportSubject::Duty(id) => {
            let d = rows::duty(db, id).await?;
            (d.reporter_agency_id, d.plan_id, None, Some(id))
        }
    };
    if let Some(plan_id) = plan_id {
        let p = rows::plan(db, plan_id).await?;
        caller.access.read_plan(p.clone()).await?;
        if matches!(p.status, PlanStatus::Cancelled | PlanStatus::Referenced) {
            return Err(AppError::bad_input(
                "assignmentId",
                "the plan takes no progress reports",
            ));
        }
    }
    let agency = super::lookup::agency(db, "assignmentId", agency_id).await?;
    caller.access.authorize_progress(&agency).await?;
    let period_id = period("period", Some(period_id))?.unwrap_or_default();
    if let Some(p) = percent_complete
        && !(0..=100).contains(&p)
    {
        return Err(AppError::bad_input("percentComplete", "from 0 to 100"));
    }
    let narrative = narrative.map(|n| text::clean(&n)).filter(|n| !n.is_empty());
    if percent_complete.is_none() && narrative.is_none() {
        return Err(AppError::bad_input(
            "narrative",
            "a report gives a percentage, a narrative or both",
        ));
    }
    let who = caller.actor.name.clone();
    let user_id = caller.actor.user_id;
    audited(db, caller, "progress_report.submit", None, async |txn| {
        rows::insert_report(
            txn,
            progress_report::ActiveModel {
                assignment_id: Set(assignment_id),
                reporting_duty_id: Set(duty_id),
                period: Set(period_id.clone()),
                status: Set(ReportStatus::Submitted),
                percent_complete: Set(percent_complete),
                narrative: Set(narrative.clone()),
                reported_by_user_id: Set(user_id),
                reported_by: Set(Some(who.clone())),
                reported_at: Set(Utc::now()),
                version: Set(1),
                review_reason: Set(None),
                reviewed_by: Set(None),
                reviewed_at: Set(None),
                ..Default::default()
            },
        )
        .await
    })
    .await
}

/// `reviewProgressReport`: accept a submitted report, or return it with a reason, by a
/// manager of the issuing unit.
pub async fn review_report(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected: i32,
    accept: bool,
    reason: Option<String>,
) -> AppResult<progress_report::Model> {
    let r = rows::report(db, id).await?;
    let plan_id = match (r.assignment_id, r.reporting_duty_id) {
        (Some(a), _) => Some(rows::assignment(db, a).await?.plan_id),
        (None, Some(d)) => rows::duty(db, d).await?.plan_id,
        (None, None) => None,
    };
    let Some(plan_id) = plan_id else {
        return Err(AppError::Forbidden(
            "this report belongs to no plan: nobody reviews it here".into(),
        ));
    };
    let p = rows::plan(db, plan_id).await?;
    let p = caller.access.read_plan(p).await?;
    caller.access.authorize_review(p.admin_unit_id)?;
    if r.reported_by_user_id.is_some() && r.reported_by_user_id == caller.actor.user_id {
        return Err(AppError::Forbidden("nobody reviews his own report".into()));
    }
    if r.status != ReportStatus::Submitted {
        return Err(AppError::bad_input(
            "id",
            format!("the report is {} already", r.status.to_value()),
        ));
    }
    let reason = reason.map(|n| text::clean(&n)).filter(|n| !n.is_empty());
    if !accept && reason.is_none() {
        return Err(AppError::bad_input(
            "reason",
            "say why the report is returned",
        ));
    }
    let who = caller.actor.name.clone();
    let action = if accept {
        "progress_report.accept"
    } else {
        "progress_report.return"
    };
    let before = r.snapshot();
    audited(db, caller, action, Some(before), async |txn| {
        rows::bump_report(txn, id, expected).await?;
        rows::save_report(txn, r.clone(), |m| {
            m.status = Set(if accept {
                ReportStatus::Accepted
            } else {
                ReportStatus::Returned
            });
            m.review_reason = Set(reason.clone());
            m.reviewed_by = Set(Some(who.clone()));
            m.reviewed_at = Set(Some(Utc::now()));
        })
        .await?;
        rows::report(txn, id).await
    })
    .await
}

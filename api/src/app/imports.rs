//! Imports of files: plan files, national unit lists and mappings, user lists, and the move of
//! a closed unit's users. Each is one write transaction with its audit event (the operator at
//! the CLI, or a principal through the API), all or nothing.

use super::Caller;
use crate::error::{AppError, AppResult};
use crate::services::audit;
use crate::services::plan_import::{self, ImportOutcome, ImportReport};
use crate::services::unit_import::{
    self, LineageReport, LineageRow, MergerReport, MergerRow, SnapshotReport, UnitRow,
};
use crate::services::users::{self, ImportReport as UserImportReport, RowError};
use chrono::NaiveDate;
use entity::app_user;
use sea_orm::DatabaseConnection;
use serde_json::json;

/// Imports one plan file; an unchanged file writes nothing, not even an audit event.
pub async fn plan_file(
    db: &DatabaseConnection,
    caller: &Caller,
    content: &str,
) -> AppResult<ImportReport> {
    let txn = super::begin(db, caller).await?;
    let report = plan_import::write_plan_file(&txn, content).await?;
    record_import(&txn, caller, &report).await?;
    super::commit(txn, caller).await?;
    Ok(report)
}

/// The audit event of a plan import that wrote something.
async fn record_import(
    txn: &sea_orm::DatabaseTransaction,
    caller: &Caller,
    report: &ImportReport,
) -> AppResult<()> {
    if report.outcome == ImportOutcome::Unchanged {
        return Ok(());
    }
    let action = match report.outcome {
        ImportOutcome::Created => "plan.import.create",
        _ => "plan.import.update",
    };
    audit::record(
        txn,
        &caller.actor,
        action,
        "plan",
        report.plan_id,
        None,
        Some(json!({
            "key": report.plan_key,
            "targets": report.targets,
            "assignments": report.assignments,
            "reportingDuties": report.reporting_duties,
            "agencies": report.agencies,
        })),
    )
    .await
}

/// `importPlan`: a plan file imported by a signed-in caller, or only tried (`dry_run`: the
/// whole import runs in its transaction, which is then rolled back). A national manager or
/// admin imports any file; a manager imports a file whose plan belongs to his own unit and
/// whose declared agencies all lie in his scope.
pub async fn plan_file_as(
    db: &DatabaseConnection,
    caller: &Caller,
    content: &str,
    dry_run: bool,
) -> AppResult<ImportReport> {
    use entity::enums::Role;
    let p = caller.access.require()?;
    let national = p.home_unit_id.is_none() && matches!(p.role, Role::Manager | Role::Admin);
    let manager = p.home_unit_id.is_some() && p.role == Role::Manager;
    if p.kind != crate::auth::PrincipalKind::User || !(national || manager) {
        return Err(AppError::Forbidden(
            "only managers import plan files".into(),
        ));
    }
    // A file's errors name their line; over the API the field is the file itself.
    let in_content = |e: AppError| match e {
        AppError::BadUserInput { message, field } if field.starts_with("line ") => {
            AppError::bad_input("content", format!("{field}: {message}"))
        }
        other => other,
    };
    let doc = plan_import::parse_plan_file(content).map_err(in_content)?;
    if !national {
        // What the file would overwrite is checked as it stands now, before the write.
        if doc.declares_shared_records() {
            return Err(AppError::Forbidden(
                "a file that declares indicators or referenced documents is imported by a \
                 national manager"
                    .into(),
            ));
        }
        if let Some(existing) = super::lookup::plan_by_key(db, doc.key()).await? {
            use entity::enums::PlanStatus;
            if p.home_unit_id != Some(existing.admin_unit_id)
                || !matches!(existing.status, PlanStatus::Draft | PlanStatus::Issued)
            {
                return Err(AppError::Forbidden(
                    "the plan of that key is not an open plan of your unit".into(),
                ));
            }
        }
        for key in doc.agency_keys() {
            if let Ok(a) = super::lookup::agency_by_key(db, "content", key).await
                && !caller.access.in_scope(Some(a.admin_unit_id)).await?
            {
                return Err(AppError::Forbidden(format!(
                    "the file declares agency `{key}`, outside your scope"
                )));
            }
        }
    }
    let txn = super::begin(db, caller).await?;
    let report = plan_import::write_plan_document(&txn, &doc)
        .await
        .map_err(in_content)?;
    if !national {
        let plan = super::lookup::plan_opt(&txn, report.plan_id)
            .await?
            .ok_or_else(|| AppError::internal("an imported plan is missing"))?;
        if p.home_unit_id != Some(plan.admin_unit_id) {
            return Err(AppError::Forbidden(
                "a manager imports the plans of his own unit only".into(),
            ));
        }
        for key in doc.agency_keys() {
            let a = super::lookup::agency_by_key(&txn, "content", key).await?;
            if !caller.access.in_scope(Some(a.admin_unit_id)).await? {
                return Err(AppError::Forbidden(format!(
                    "the file declares agency `{key}`, outside your scope"
                )));
            }
        }
    }
    if dry_run {
        txn.rollback().await?;
        return Ok(report);
    }
    record_import(&txn, caller, &report).await?;
    super::commit(txn, caller).await?;
    Ok(report)
}

/// Applies a national list of units as of `valid_from` (none: the first list), rebuilding the
/// scope closure in the same transaction.
pub async fn unit_list(
    db: &DatabaseConnection,
    caller: &Caller,
    source: &str,
    rows: &[UnitRow],
    valid_from: Option<NaiveDate>,
) -> AppResult<SnapshotReport> {
    let txn = super::begin(db, caller).await?;
    let report = unit_import::apply_snapshot(&txn, rows, valid_from).await?;
    audit::record(
        &txn,
        &caller.actor,
        "units.import",
        "unit_list",
        0,
        None,
        Some(json!({
            "source": source,
            "validFrom": valid_from,
            "rows": rows.len(),
            "continued": report.continued,
            "opened": report.opened,
            "closed": report.closed,
            "lineage": report.lineage,
        })),
    )
    .await?;
    super::commit(txn, caller).await?;
    crate::services::unit_snapshot::changed_here();
    Ok(report)
}

/// Applies an old→new mapping effective on `effective`, rebuilding the scope closure in the
/// same transaction.
pub async fn lineage(
    db: &DatabaseConnection,
    caller: &Caller,
    source: &str,
    rows: &[LineageRow],
    effective: NaiveDate,
) -> AppResult<LineageReport> {
    let txn = super::begin(db, caller).await?;
    let report = unit_import::apply_lineage(&txn, rows, effective).await?;
    audit::record(
        &txn,
        &caller.actor,
        "units.lineage",
        "unit_list",
        0,
        None,
        Some(json!({
            "source": source,
            "effective": effective,
            "rows": rows.len(),
            "written": report.written,
            "unchanged": report.unchanged,
            "skipped": report.skipped.len(),
        })),
    )
    .await?;
    super::commit(txn, caller).await?;
    crate::services::unit_snapshot::changed_here();
    Ok(report)
}

/// Applies the derived list of the 2024–2025 merger wave, rebuilding the scope closure in the
/// same transaction.
pub async fn mergers(
    db: &DatabaseConnection,
    caller: &Caller,
    source: &str,
    rows: &[MergerRow],
) -> AppResult<MergerReport> {
    let txn = super::begin(db, caller).await?;
    let report = unit_import::apply_mergers(&txn, rows).await?;
    audit::record(
        &txn,
        &caller.actor,
        "units.mergers",
        "unit_list",
        0,
        None,
        Some(json!({
            "source": source,
            "rows": rows.len(),
            "written": report.written,
            "unchanged": report.unchanged,
            "skipped": report.skipped.len(),
            "withoutSuccessor": report.without_successor.len(),
        })),
    )
    .await?;
    super::commit(txn, caller).await?;
    crate::services::unit_snapshot::changed_here();
    Ok(report)
}

/// Imports users from CSV (see `services::users::import_csv`): every bad row reported and
/// nothing written, or every new user created with its audit event.
pub async fn user_list(
    db: &DatabaseConnection,
    caller: &Caller,
    content: &str,
) -> AppResult<Result<UserImportReport, Vec<RowError>>> {
    let txn = super::begin(db, caller).await?;
    let outcome = users::import_csv(&txn, &caller.actor, content).await?;
    if outcome.is_ok() {
        super::commit(txn, caller).await?;
    }
    Ok(outcome)
}

/// Moves the users of a closed unit to the unit that took it over.
pub async fn move_users(
    db: &DatabaseConnection,
    caller: &Caller,
    from: &str,
    from_date: Option<NaiveDate>,
    to: &str,
) -> AppResult<Vec<app_user::Model>> {
    let txn = super::begin(db, caller).await?;
    let moved = users::move_closed_unit(&txn, &caller.actor, from, from_date, to).await?;
    super::commit(txn, caller).await?;
    Ok(moved)
}

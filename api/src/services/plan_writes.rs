//! The rows behind plan writes: plans, targets, tasks, duties and progress reports, with
//! optimistic concurrency. A versioned row changes only through [`bump`]-style conditional
//! updates (`… WHERE id = ? AND version = ?`), so that of two writers holding one version
//! exactly one applies and the other gets `CONFLICT`, on both backends.

use crate::error::{AppError, AppResult};
use chrono::{Datelike, Utc};
use entity::enums::PlanStatus;
use entity::{
    assignment, assignment_coordinator, assignment_target, plan, progress_report, reporting_duty,
    target,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};

fn stale(what: &str, expected: i32) -> AppError {
    AppError::Conflict(format!(
        "the {what} changed since version {expected}: read it again and retry"
    ))
}

/// Moves a plan from `expected` to the next version, or `CONFLICT`. Every write to a plan, its
/// targets or its tasks' list goes through here first.
pub async fn bump_plan<C: ConnectionTrait>(db: &C, id: i64, expected: i32) -> AppResult<()> {
    let r = plan::Entity::update_many()
        .col_expr(
            plan::Column::Version,
            Expr::col(plan::Column::Version).add(1),
        )
        .col_expr(plan::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(plan::Column::Id.eq(id))
        .filter(plan::Column::Version.eq(expected))
        .exec(db)
        .await?;
    if r.rows_affected == 1 {
        Ok(())
    } else {
        Err(stale("plan", expected))
    }
}

/// Moves a task from `expected` to the next version, or `CONFLICT`.
pub async fn bump_assignment<C: ConnectionTrait>(db: &C, id: i64, expected: i32) -> AppResult<()> {
    let r = assignment::Entity::update_many()
        .col_expr(
            assignment::Column::Version,
            Expr::col(assignment::Column::Version).add(1),
        )
        .col_expr(assignment::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(assignment::Column::Id.eq(id))
        .filter(assignment::Column::Version.eq(expected))
        .exec(db)
        .await?;
    if r.rows_affected == 1 {
        Ok(())
    } else {
        Err(stale("task", expected))
    }
}

/// Moves a progress report from `expected` to the next version, or `CONFLICT`.
pub async fn bump_report<C: ConnectionTrait>(db: &C, id: i64, expected: i32) -> AppResult<()> {
    let r = progress_report::Entity::update_many()
        .col_expr(
            progress_report::Column::Version,
            Expr::col(progress_report::Column::Version).add(1),
        )
        .filter(progress_report::Column::Id.eq(id))
        .filter(progress_report::Column::Version.eq(expected))
        .exec(db)
        .await?;
    if r.rows_affected == 1 {
        Ok(())
    } else {
        Err(stale("progress report", expected))
    }
}

/// Holds the plan open for a task write: a conditional touch of its row (`status` draft or
/// issued), so that a concurrent cancellation either waits for this write or makes it
/// `CONFLICT`.
pub async fn guard_open_plan<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<()> {
    let r = plan::Entity::update_many()
        .col_expr(plan::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(plan::Column::Id.eq(id))
        .filter(plan::Column::Status.is_in([PlanStatus::Draft, PlanStatus::Issued]))
        .exec(db)
        .await?;
    if r.rows_affected == 1 {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "the plan was cancelled or superseded meanwhile".into(),
        ))
    }
}

/// Serialises the numbering of a unit's plans on PostgreSQL (a row lock on the unit until the
/// transaction ends); SQLite runs one writer at a time already.
pub async fn lock_numbering<C: ConnectionTrait>(db: &C, unit_id: i64) -> AppResult<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        entity::admin_unit::Entity::find_by_id(unit_id)
            .lock_exclusive()
            .one(db)
            .await?;
    }
    Ok(())
}

/// The year a plan's number belongs to: its issue date's, else its first period year.
pub fn number_year(p: &plan::Model) -> Option<i32> {
    p.issued_on.map(|d| d.year()).or(p.period_from)
}

/// Whether another live plan (not cancelled) of the same issuer (or unit, without an issuer)
/// bears the same number in the same year.
pub async fn number_taken<C: ConnectionTrait>(db: &C, p: &plan::Model) -> AppResult<bool> {
    let Some(number) = &p.number else {
        return Ok(false);
    };
    let mut q = plan::Entity::find()
        .filter(plan::Column::Number.eq(number.as_str()))
        .filter(plan::Column::Id.ne(p.id))
        .filter(plan::Column::Status.ne(PlanStatus::Cancelled));
    q = match p.issuer_agency_id {
        Some(a) => q.filter(plan::Column::IssuerAgencyId.eq(a)),
        None => q.filter(plan::Column::AdminUnitId.eq(p.admin_unit_id)),
    };
    let year = number_year(p);
    Ok(q.all(db).await?.iter().any(|o| number_year(o) == year))
}

/// Inserts a plan.
pub async fn insert_plan<C: ConnectionTrait>(
    db: &C,
    row: plan::ActiveModel,
) -> AppResult<plan::Model> {
    Ok(row.insert(db).await?)
}

/// Writes the changed fields of a plan (its version already bumped).
pub async fn save_plan<C: ConnectionTrait>(
    db: &C,
    row: plan::ActiveModel,
) -> AppResult<plan::Model> {
    Ok(row.update(db).await?)
}

/// A plan by id.
pub async fn plan<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<plan::Model> {
    plan::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such plan".into()))
}

/// A target by id.
pub async fn target<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<target::Model> {
    target::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such target".into()))
}

/// A task by id.
pub async fn assignment<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<assignment::Model> {
    assignment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such task".into()))
}

/// A reporting duty by id.
pub async fn duty<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<reporting_duty::Model> {
    reporting_duty::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such reporting duty".into()))
}

/// A progress report by id.
pub async fn report<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<progress_report::Model> {
    progress_report::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such progress report".into()))
}

/// The next position in a plan's list of targets or tasks.
pub async fn next_target_position<C: ConnectionTrait>(db: &C, plan_id: i64) -> AppResult<i32> {
    let rows = target::Entity::find()
        .filter(target::Column::PlanId.eq(plan_id))
        .all(db)
        .await?;
    Ok(rows.iter().map(|t| t.position + 1).max().unwrap_or(0))
}

/// The next position in a plan's list of tasks.
pub async fn next_assignment_position<C: ConnectionTrait>(db: &C, plan_id: i64) -> AppResult<i32> {
    let rows = assignment::Entity::find()
        .filter(assignment::Column::PlanId.eq(plan_id))
        .all(db)
        .await?;
    Ok(rows.iter().map(|t| t.position + 1).max().unwrap_or(0))
}

/// Inserts a target (read back: exact decimals come back as text only from a select).
pub async fn insert_target<C: ConnectionTrait>(
    db: &C,
    row: target::ActiveModel,
) -> AppResult<target::Model> {
    let id = row.insert(db).await?.id;
    target(db, id).await
}

/// Writes a target's changed fields (read back, as above).
pub async fn save_target<C: ConnectionTrait>(
    db: &C,
    row: target::ActiveModel,
) -> AppResult<target::Model> {
    let id = row.update(db).await?.id;
    target(db, id).await
}

/// Removes a target, its sub-targets and its links to tasks.
pub async fn delete_target<C: ConnectionTrait>(db: &C, t: &target::Model) -> AppResult<()> {
    let subs = target::Entity::find()
        .filter(target::Column::ParentTargetId.eq(t.id))
        .all(db)
        .await?;
    let ids: Vec<i64> = std::iter::once(t.id)
        .chain(subs.iter().map(|s| s.id))
        .collect();
    assignment_target::Entity::delete_many()
        .filter(assignment_target::Column::TargetId.is_in(ids.clone()))
        .exec(db)
        .await?;
    target::Entity::delete_many()
        .filter(target::Column::ParentTargetId.eq(t.id))
        .exec(db)
        .await?;
    target::Entity::delete_by_id(t.id).exec(db).await?;
    Ok(())
}

/// Inserts a task with its coordinators and linked targets.
pub async fn insert_assignment<C: ConnectionTrait>(
    db: &C,
    row: assignment::ActiveModel,
    coordinators: &[i64],
    targets: &[i64],
) -> AppResult<assignment::Model> {
    let a = row.insert(db).await?;
    link(db, a.id, a.lead_agency_id, coordinators, targets).await?;
    Ok(a)
}

/// Writes a task's changed fields; `links`, when given, replaces its coordinators and targets.
pub async fn save_assignment<C: ConnectionTrait>(
    db: &C,
    row: assignment::ActiveModel,
    links: Option<(&[i64], &[i64])>,
) -> AppResult<assignment::Model> {
    let a = row.update(db).await?;
    if let Some((coordinators, targets)) = links {
        assignment_coordinator::Entity::delete_many()
            .filter(assignment_coordinator::Column::AssignmentId.eq(a.id))
            .exec(db)
            .await?;
        assignment_target::Entity::delete_many()
            .filter(assignment_target::Column::AssignmentId.eq(a.id))
            .exec(db)
            .await?;
        link(db, a.id, a.lead_agency_id, coordinators, targets).await?;
    }
    Ok(a)
}

async fn link<C: ConnectionTrait>(
    db: &C,
    id: i64,
    lead: i64,
    coordinators: &[i64],
    targets: &[i64],
) -> AppResult<()> {
    let coordinators: std::collections::BTreeSet<i64> = coordinators
        .iter()
        .copied()
        .filter(|c| *c != lead)
        .collect();
    for agency_id in coordinators {
        assignment_coordinator::ActiveModel {
            assignment_id: Set(id),
            agency_id: Set(agency_id),
        }
        .insert(db)
        .await?;
    }
    let targets: std::collections::BTreeSet<i64> = targets.iter().copied().collect();
    for target_id in targets {
        assignment_target::ActiveModel {
            assignment_id: Set(id),
            target_id: Set(target_id),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The coordinators and target links of a task.
pub async fn links<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<(Vec<i64>, Vec<i64>)> {
    let c = assignment_coordinator::Entity::find()
        .filter(assignment_coordinator::Column::AssignmentId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.agency_id)
        .collect();
    let t = assignment_target::Entity::find()
        .filter(assignment_target::Column::AssignmentId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.target_id)
        .collect();
    Ok((c, t))
}

/// Inserts a reporting duty.
pub async fn insert_duty<C: ConnectionTrait>(
    db: &C,
    row: reporting_duty::ActiveModel,
) -> AppResult<reporting_duty::Model> {
    Ok(row.insert(db).await?)
}

/// Inserts a progress report.
pub async fn insert_report<C: ConnectionTrait>(
    db: &C,
    row: progress_report::ActiveModel,
) -> AppResult<progress_report::Model> {
    Ok(row.insert(db).await?)
}

/// Writes a report's review (its version already bumped).
pub async fn save_report<C: ConnectionTrait>(
    db: &C,
    r: progress_report::Model,
    change: impl FnOnce(&mut progress_report::ActiveModel),
) -> AppResult<progress_report::Model> {
    let mut m = r.into_active_model();
    change(&mut m);
    Ok(m.update(db).await?)
}

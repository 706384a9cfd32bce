//! Reading the audit trail: managers and admins read the trail of what lies in their scope
//! (a plan and what hangs from it by the plan's unit, an account by its home unit, an agency
//! by its unit); national ones read every trail.

use crate::error::{AppError, AppResult};
use crate::policy::Access;
use crate::services::{audit, page, plan_writes as rows};
use entity::audit_event;
use entity::enums::Role;
use sea_orm::DatabaseConnection;

/// The kinds of entity with a trail, as the trail names them.
pub const KINDS: &[&str] = &[
    "plan",
    "target",
    "assignment",
    "reporting_duty",
    "progress_report",
    "user",
    "service_account",
    "agency",
];

/// The unit an entity belongs to (none: national), from the row or, for a removed row, from
/// the last snapshot its trail holds.
async fn unit_of(db: &DatabaseConnection, kind: &str, id: i64) -> AppResult<Option<i64>> {
    let from_snapshot = async |plan_key: &str| -> AppResult<Option<i64>> {
        let snap = audit::last_snapshot(db, kind, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no {kind} {id}")))?;
        let plan = snap[plan_key]
            .as_i64()
            .ok_or_else(|| AppError::NotFound(format!("no {kind} {id}")))?;
        Ok(Some(rows::plan(db, plan).await?.admin_unit_id))
    };
    match kind {
        "plan" => Ok(Some(rows::plan(db, id).await?.admin_unit_id)),
        "target" => match rows::target(db, id).await {
            Ok(t) => Ok(Some(rows::plan(db, t.plan_id).await?.admin_unit_id)),
            Err(AppError::NotFound(_)) => from_snapshot("planId").await,
            Err(e) => Err(e),
        },
        "assignment" => {
            let a = rows::assignment(db, id).await?;
            Ok(Some(rows::plan(db, a.plan_id).await?.admin_unit_id))
        }
        "reporting_duty" => {
            let d = rows::duty(db, id).await?;
            match d.plan_id {
                Some(p) => Ok(Some(rows::plan(db, p).await?.admin_unit_id)),
                None => Ok(Some(
                    super::lookup::agency(db, "entityId", d.recipient_agency_id)
                        .await?
                        .admin_unit_id,
                )),
            }
        }
        "progress_report" => {
            let r = rows::report(db, id).await?;
            let plan = match (r.assignment_id, r.reporting_duty_id) {
                (Some(a), _) => Some(rows::assignment(db, a).await?.plan_id),
                (None, Some(d)) => rows::duty(db, d).await?.plan_id,
                _ => None,
            };
            match plan {
                Some(p) => Ok(Some(rows::plan(db, p).await?.admin_unit_id)),
                None => Ok(None),
            }
        }
        "user" => Ok(super::lookup::user(db, id).await?.home_unit_id),
        "service_account" => Ok(super::lookup::service_account(db, id).await?.home_unit_id),
        "agency" => Ok(Some(
            super::lookup::agency(db, "entityId", id)
                .await?
                .admin_unit_id,
        )),
        other => Err(AppError::bad_input(
            "entityType",
            format!("no trail for `{other}`"),
        )),
    }
}

/// `auditEvents`: one page of an entity's trail, oldest first.
pub async fn events(
    db: &DatabaseConnection,
    access: &Access,
    kind: &str,
    id: i64,
    request: &page::PageRequest,
) -> AppResult<(page::Rows<audit_event::Model>, page::Total)> {
    let p = access.require()?;
    if !matches!(p.role, Role::Manager | Role::Admin) || p.kind != crate::auth::PrincipalKind::User
    {
        return Err(AppError::Forbidden(
            "only managers and admins read the audit trail".into(),
        ));
    }
    let unit = unit_of(db, kind, id).await?;
    if !access.in_scope(unit).await? {
        return Err(access.denied("this trail"));
    }
    audit::page(db, kind, id, request).await
}

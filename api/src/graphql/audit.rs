//! The audit trail: who changed what, when, from what to what.

use super::context::{access, db, max_page};
use super::pagination::{self, PageArgs};
use super::scalars::{DateTime, decode_node_id, node_id};
use crate::app;
use crate::connection;
use crate::error::AppError;
use async_graphql::{Context, Enum, ID, Json, Object, Result};
use std::sync::Arc;

/// The kinds of entity with a trail.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AuditEntityType {
    /// A plan.
    Plan,
    /// A target.
    Target,
    /// A task.
    Assignment,
    /// A reporting duty.
    ReportingDuty,
    /// A progress report.
    ProgressReport,
    /// A user.
    User,
    /// A service account.
    ServiceAccount,
    /// An agency.
    Agency,
}

impl AuditEntityType {
    fn trail(self) -> (&'static str, &'static str) {
        match self {
            Self::Plan => ("plan", "Plan"),
            Self::Target => ("target", "Target"),
            Self::Assignment => ("assignment", "Assignment"),
            Self::ReportingDuty => ("reporting_duty", "ReportingDuty"),
            Self::ProgressReport => ("progress_report", "ProgressReport"),
            Self::User => ("user", "User"),
            Self::ServiceAccount => ("service_account", "ServiceAccount"),
            Self::Agency => ("agency", "Agency"),
        }
    }
}

/// One write, as the trail keeps it.
#[derive(Clone)]
pub struct AuditEvent(pub Arc<crate::model::audit_event::Model>);

/// One write, as the trail keeps it.
#[Object]
impl AuditEvent {
    /// Global id.
    async fn id(&self) -> ID {
        node_id("AuditEvent", self.0.id)
    }
    /// When it was written.
    async fn at(&self) -> DateTime {
        DateTime(self.0.at)
    }
    /// Who wrote it: `user:<id>`, `service:<id>` or `cli`.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// What was done (`plan.issue`, `progress_report.return`, …).
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The entity before (null for a creation); secrets are never kept.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.0
            .before
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .map(Json)
    }
    /// The entity after.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.0
            .after
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .map(Json)
    }
    /// The id of the request that wrote it (none from the command line).
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}

connection!(
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "audit events"
);

/// The audit trail.
#[derive(Default)]
pub struct AuditQuery;

/// The audit trail.
#[Object]
impl AuditQuery {
    /// The trail of one entity, oldest first: for managers and admins whose scope holds it
    /// (a plan and what hangs from it by the plan's unit, an account by its home unit, an
    /// agency by its unit).
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The kind of entity.")] entity_type: AuditEntityType,
        #[graphql(desc = "Its global id.")] entity_id: ID,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
    ) -> Result<AuditEventConnection> {
        let (trail, kind) = entity_type.trail();
        let id = decode_node_id(&entity_id)
            .filter(|(k, _)| k == kind)
            .map(|(_, id)| id)
            .ok_or_else(|| AppError::bad_input("entityId", format!("not a {kind} id")))?;
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        let request = pagination::page_request(&args, max_page(ctx))?;
        let (rows, total) = app::trail::events(db(ctx)?, access(ctx)?, trail, id, &request).await?;
        let page = pagination::Page::from_rows(
            rows.map(|e| AuditEvent(Arc::new(e))),
            |e: &AuditEvent| (String::new(), e.0.id),
            total,
        );
        Ok(AuditEventConnection { page })
    }
}

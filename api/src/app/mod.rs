//! Use cases: one function per thing a caller can do, shared by GraphQL, the CLI and (later)
//! the bulk routes. Each takes the [`Caller`], asks the policy, runs in one transaction, writes
//! its audit event in that transaction and evicts what it makes stale. Callers above this layer
//! only parse, call and render; SQL lives in `services` below it.

pub mod accounts;
pub mod imports;
pub mod lookup;

use crate::auth::{Principal, PrincipalKind, SubjectStates};
use crate::db;
use crate::error::AppResult;
use crate::policy::Access;
use crate::services::audit::{self, Actor};
use entity::enums::Role;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use std::sync::Arc;

/// Who is acting, with the policy's view of him and the caches his writes may make stale.
pub struct Caller {
    /// The policy for this caller.
    pub access: Arc<Access>,
    /// Who the audit trail names.
    pub actor: Actor,
    /// Token subjects' cache of this process (none at the CLI: other processes see a change
    /// within the documented staleness).
    pub subjects: Option<Arc<SubjectStates>>,
}

impl Caller {
    /// The operator at the command line: a national administrator, audited as `cli`.
    pub fn operator(db: &DatabaseConnection) -> Self {
        let principal = Principal {
            id: 0,
            kind: PrincipalKind::User,
            role: Role::Admin,
            home_unit_id: None,
            agency_id: None,
            scopes: Vec::new(),
        };
        Self {
            access: Arc::new(Access::new(db.clone(), Some(principal))),
            actor: Actor::cli(),
            subjects: None,
        }
    }

    /// A signed-in principal acting through a request (`UNAUTHENTICATED` when anonymous).
    pub fn request(
        access: Arc<Access>,
        request_id: Option<String>,
        subjects: Option<Arc<SubjectStates>>,
    ) -> AppResult<Self> {
        let actor = Actor::of(access.require()?, request_id);
        Ok(Self {
            access,
            actor,
            subjects,
        })
    }

    /// Forgets what this process cached about a token subject after a write changed it.
    pub fn forget(&self, kind: PrincipalKind, id: i64) {
        if let Some(s) = &self.subjects {
            s.forget(kind, id);
        }
    }
}

/// What the audit trail records of a row.
pub trait Trail {
    /// The entity type's name in the trail.
    const KIND: &'static str;
    /// The row's id.
    fn row(&self) -> i64;
    /// Its snapshot, without secrets.
    fn snapshot(&self) -> serde_json::Value;
}

impl Trail for entity::app_user::Model {
    const KIND: &'static str = "user";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        crate::services::users::snapshot(self)
    }
}

impl Trail for entity::service_account::Model {
    const KIND: &'static str = "service_account";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        crate::services::service_accounts::snapshot(self)
    }
}

impl Trail for entity::agency::Model {
    const KIND: &'static str = "agency";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        crate::services::agencies::snapshot(self)
    }
}

/// Runs one write in a transaction of its own (`BEGIN IMMEDIATE` on SQLite), with its audit
/// event (who, the request id, a snapshot of the row before and after) in the same
/// transaction.
pub async fn audited<T: Trail>(
    db: &DatabaseConnection,
    caller: &Caller,
    action: &str,
    before: Option<serde_json::Value>,
    write: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<T>,
) -> AppResult<T> {
    let txn = db::begin_write(db).await?;
    let after = write(&txn).await?;
    audit::record(
        &txn,
        &caller.actor,
        action,
        T::KIND,
        after.row(),
        before,
        Some(after.snapshot()),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

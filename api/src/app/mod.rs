//! Use cases: one function per thing a caller can do, shared by GraphQL, the CLI and (later)
//! the bulk routes. Each takes the [`Caller`], asks the policy, runs in one transaction, writes
//! its audit event in that transaction and evicts what it makes stale. Callers above this layer
//! only parse, call and render; SQL lives in `services` below it.

pub mod accounts;
pub mod imports;
pub mod indicators;
pub mod lookup;
pub mod plans;
pub mod trail;
pub mod value_import;
pub mod values;

use crate::auth::{Principal, PrincipalKind, SubjectStates};
use crate::db;
use crate::error::{AppError, AppResult, Outcome};
use crate::policy::Access;
use crate::services::audit::{self, Actor};
use crate::services::idempotency::Claim;
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
    /// The request's `Idempotency-Key`, claimed by its first write transaction.
    pub claim: Option<Arc<Claim>>,
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
            claim: None,
        }
    }

    /// A signed-in principal acting through a request (`UNAUTHENTICATED` when anonymous).
    pub fn request(
        access: Arc<Access>,
        request_id: Option<String>,
        subjects: Option<Arc<SubjectStates>>,
        claim: Option<Arc<Claim>>,
    ) -> AppResult<Self> {
        let actor = Actor::of(access.require()?, request_id);
        Ok(Self {
            access,
            actor,
            subjects,
            claim,
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
    let txn = begin(db, caller).await?;
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
    commit(txn, caller).await?;
    Ok(after)
}

/// Begins a use case's write transaction (`BEGIN IMMEDIATE` on SQLite) and claims the
/// request's idempotency key as its first statement, so that the key commits or rolls back
/// with the write.
pub async fn begin(db: &DatabaseConnection, caller: &Caller) -> AppResult<DatabaseTransaction> {
    let txn = db::begin_write(db).await?;
    if let Some(claim) = &caller.claim {
        claim.take(&txn).await?;
    }
    Ok(txn)
}

/// Commits a use case's write transaction. A connection lost during the commit leaves the
/// outcome unknown (`SERVICE_UNAVAILABLE` with `outcome: UNKNOWN`): a retry with the same
/// idempotency key finds out which.
pub async fn commit(txn: DatabaseTransaction, caller: &Caller) -> AppResult<()> {
    match txn.commit().await {
        Ok(()) => {
            if let Some(claim) = &caller.claim {
                claim.committed();
            }
            Ok(())
        }
        Err(e) if e.sql_err().is_none() && !is_database_error(&e) => Err(AppError::Unavailable {
            outcome: Outcome::Unknown,
            cause: Arc::new(e.to_string()),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Whether the database itself refused (as opposed to the connection failing).
fn is_database_error(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(x)) | DbErr::Query(RuntimeErr::SqlxError(x)) => {
            matches!(x.as_ref(), sea_orm::sqlx::Error::Database(_))
        }
        _ => false,
    }
}

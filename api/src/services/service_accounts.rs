//! Service accounts for integrations: a name, scopes, an optional home unit and expiry, and a
//! secret shown once and stored as a SHA-256 hash (it is random, 256 bits: a slow hash adds
//! nothing). An integration exchanges its secret for a short-lived access token and presents
//! that as a bearer token, like a user's.

use crate::auth::sessions::{digest, locked, random_token, record_failure, throttle_keys};
use crate::auth::{Principal, PrincipalKind, TokenService};
use crate::db;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use entity::enums::Role;
use entity::service_account;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

/// The scopes a service account may hold.
pub const SCOPES: &[&str] = &[
    "units:read",
    "plans:read",
    "plans:write",
    "values:read",
    "values:write",
];

const BAD_SECRET: &str = "invalid service account or secret";

/// Inserts a service account whose home unit and agency the caller has checked; returns it
/// with its secret.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    name: &str,
    scopes: &[String],
    home_unit_id: Option<i64>,
    agency_id: Option<i64>,
    expires_at: Option<DateTime<Utc>>,
    created_by: Option<i64>,
) -> AppResult<(service_account::Model, String)> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_whitespace) {
        return Err(AppError::bad_input("name", "1 to 64 characters, no spaces"));
    }
    for s in scopes {
        if !SCOPES.contains(&s.as_str()) {
            return Err(AppError::bad_input(
                "scopes",
                format!("`{s}` is not one of {}", SCOPES.join(", ")),
            ));
        }
    }
    if service_account::Entity::find()
        .filter(service_account::Column::Name.eq(name))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!("the name {name} is taken")));
    }
    let secret = format!("sa_{}", random_token()?);
    let model = service_account::ActiveModel {
        name: Set(name.to_string()),
        secret_hash: Set(digest(&secret)),
        scopes: Set(scopes.join(" ")),
        home_unit_id: Set(home_unit_id),
        agency_id: Set(agency_id),
        created_by: Set(created_by),
        token_version: Set(0),
        expires_at: Set(expires_at),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((model, secret))
}

/// The principal of a service account.
pub fn principal_of(account: &service_account::Model) -> Principal {
    Principal {
        id: account.id,
        kind: PrincipalKind::Service,
        role: Role::Viewer,
        home_unit_id: account.home_unit_id,
        agency_id: account.agency_id,
        scopes: account
            .scopes
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    }
}

/// Whether an account may be used now.
pub fn usable(account: &service_account::Model) -> bool {
    account.revoked_at.is_none() && account.expires_at.is_none_or(|e| e > Utc::now())
}

/// Exchanges a service account's secret for an access token. Failures are counted like
/// failed logins and all get the same answer.
pub async fn exchange(
    db: &DatabaseConnection,
    tokens: &TokenService,
    name: &str,
    secret: &str,
    address: Option<&str>,
) -> AppResult<(String, u64)> {
    let keys = throttle_keys(&format!("service:{name}"), address);
    let txn = db::begin_write(db).await?;
    if locked(&txn, &keys).await? {
        txn.commit().await?;
        return Err(AppError::Unauthenticated(BAD_SECRET.into()));
    }
    let account = service_account::Entity::find()
        .filter(service_account::Column::Name.eq(name.trim()))
        .one(&txn)
        .await?
        .filter(|a| a.secret_hash == digest(secret.trim()) && usable(a));
    let Some(account) = account else {
        record_failure(&txn, &keys).await?;
        txn.commit().await?;
        return Err(AppError::Unauthenticated(BAD_SECRET.into()));
    };
    txn.commit().await?;
    issue(db, tokens, &account).await
}

/// Issues an access token for an account and records its use.
pub async fn issue(
    db: &DatabaseConnection,
    tokens: &TokenService,
    account: &service_account::Model,
) -> AppResult<(String, u64)> {
    let token = tokens
        .issue(&principal_of(account), account.token_version)
        .map_err(AppError::internal)?;
    touch(db, account.id).await?;
    Ok(token)
}

/// Records that an account was used.
pub async fn touch<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<()> {
    service_account::Entity::update_many()
        .col_expr(service_account::Column::LastUsedAt, Expr::value(Utc::now()))
        .filter(service_account::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes one account (kept as it is when already revoked).
pub async fn revoke_account<C: ConnectionTrait>(
    db: &C,
    account: service_account::Model,
) -> AppResult<service_account::Model> {
    if account.revoked_at.is_some() {
        return Ok(account);
    }
    let mut model: service_account::ActiveModel = account.into();
    model.revoked_at = Set(Some(Utc::now()));
    Ok(model.update(db).await?)
}

/// An account as the audit trail keeps it (no secret hash).
pub fn snapshot(a: &service_account::Model) -> serde_json::Value {
    serde_json::json!({
        "name": a.name,
        "scopes": a.scopes,
        "homeUnitId": a.home_unit_id,
        "agencyId": a.agency_id,
        "expiresAt": a.expires_at,
        "revokedAt": a.revoked_at,
    })
}

/// One page of the service accounts the caller administers, by name; the total only when
/// asked.
pub async fn account_page(
    db: &DatabaseConnection,
    visible: &crate::policy::Visible<crate::policy::ServiceAccounts>,
    page: &super::page::PageRequest,
) -> AppResult<(
    super::page::Rows<service_account::Model>,
    super::page::Total,
)> {
    let select = service_account::Entity::find().filter(visible.condition());
    let order = super::page::ByText(service_account::Column::Name, service_account::Column::Id);
    let rows = super::page::fetch(db, select.clone(), &order, page).await?;
    Ok((rows, super::page::Total::count_of(db, select)))
}

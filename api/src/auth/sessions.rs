//! Passwords and sessions: login with lockout, rotating refresh tokens, logout (one session or
//! everywhere), password change.
//!
//! Passwords are hashed with argon2id. An unknown user and a wrong password get the same error,
//! after the same work. Failed logins are counted per account and per client address in the
//! database (so that several instances agree); five in a row lock that key for 15 minutes.
//! Refresh tokens are random, stored as SHA-256 hashes, used once, and grouped in a family per
//! login: presenting a spent one revokes its whole family.

use super::{Principal, PrincipalKind, SubjectStates, TokenService};
use crate::db;
use crate::error::{AppError, AppResult};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use entity::{app_user, login_throttle, refresh_token};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};

/// Failures in a row that lock an account or an address.
pub const MAX_FAILURES: i32 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;
/// Lifetime of a refresh token.
pub const REFRESH_DAYS: i64 = 30;
/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

const BAD_LOGIN: &str = "invalid username or password";

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(AppError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// Whether a password matches a stored hash ("!" or anything unparsable never matches).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that both cases cost the same.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy-password-never-used").unwrap_or_default())
}

/// Tokens handed to a client.
#[derive(Clone, Debug)]
pub struct Session {
    /// Short-lived access token.
    pub access_token: String,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// Expiry of the access token.
    pub expires_at: chrono::DateTime<Utc>,
}

pub(crate) fn random_token() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn digest(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

fn principal_of(user: &app_user::Model) -> Principal {
    Principal {
        id: user.id,
        kind: PrincipalKind::User,
        role: user.role,
        home_unit_id: user.home_unit_id,
        agency_id: user.agency_id,
        scopes: Vec::new(),
    }
}

async fn open_session<C: ConnectionTrait>(
    db: &C,
    tokens: &TokenService,
    user: &app_user::Model,
    family: String,
) -> AppResult<Session> {
    let (access_token, exp) = tokens
        .issue(&principal_of(user), user.token_version)
        .map_err(AppError::internal)?;
    let refresh = random_token()?;
    let now = Utc::now();
    refresh_token::ActiveModel {
        user_id: Set(user.id),
        family: Set(family),
        token_hash: Set(digest(&refresh)),
        expires_at: Set(now + Duration::days(REFRESH_DAYS)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Session {
        access_token,
        refresh_token: refresh,
        expires_at: chrono::DateTime::from_timestamp(exp as i64, 0).unwrap_or(now),
    })
}

pub(crate) fn throttle_keys(username: &str, address: Option<&str>) -> Vec<String> {
    let mut keys = vec![format!("user:{}", username.trim().to_lowercase())];
    if let Some(a) = address {
        keys.push(format!("ip:{a}"));
    }
    keys
}

pub(crate) async fn locked<C: ConnectionTrait>(db: &C, keys: &[String]) -> AppResult<bool> {
    let now = Utc::now();
    Ok(login_throttle::Entity::find()
        .filter(login_throttle::Column::Key.is_in(keys.iter().cloned()))
        .all(db)
        .await?
        .iter()
        .any(|t| t.locked_until.is_some_and(|u| u > now)))
}

pub(crate) async fn record_failure<C: ConnectionTrait>(db: &C, keys: &[String]) -> AppResult<()> {
    let now = Utc::now();
    for key in keys {
        let row = login_throttle::Entity::find_by_id(key.clone())
            .one(db)
            .await?;
        let failures = row.as_ref().map_or(0, |r| r.failures) + 1;
        let locked_until =
            (failures >= MAX_FAILURES).then(|| now + Duration::minutes(LOCK_MINUTES));
        let model = login_throttle::ActiveModel {
            key: Set(key.clone()),
            failures: Set(if locked_until.is_some() { 0 } else { failures }),
            locked_until: Set(locked_until.or(row.as_ref().and_then(|r| r.locked_until))),
            updated_at: Set(now),
        };
        if row.is_some() {
            model.update(db).await?;
        } else {
            model.insert(db).await?;
        }
    }
    Ok(())
}

/// Logs a user in. Every failure (unknown user, wrong password, inactive user, lock) gives the
/// same error.
pub async fn login(
    db: &DatabaseConnection,
    tokens: &TokenService,
    username: &str,
    password: &str,
    address: Option<&str>,
) -> AppResult<Session> {
    // The stored form of the name, so that `ADMIN` finds (and locks out) `admin`; a name that
    // cannot be one finds nobody and fails like a wrong password.
    let username = crate::services::users::normalize_username(username)
        .unwrap_or_else(|_| username.trim().to_lowercase());
    let username = username.as_str();
    let keys = throttle_keys(username, address);
    let txn = db::begin_write(db).await?;
    if locked(&txn, &keys).await? {
        txn.commit().await?;
        return Err(AppError::Unauthenticated(BAD_LOGIN.into()));
    }
    let user = app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(&txn)
        .await?;
    let hash = user
        .as_ref()
        .map_or(decoy_hash(), |u| u.password_hash.as_str());
    let ok = verify_password(hash, password) && user.as_ref().is_some_and(|u| u.active);
    let Some(user) = user.filter(|_| ok) else {
        record_failure(&txn, &keys).await?;
        txn.commit().await?;
        return Err(AppError::Unauthenticated(BAD_LOGIN.into()));
    };
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::Key.is_in(keys))
        .exec(&txn)
        .await?;
    let session = open_session(&txn, tokens, &user, uuid::Uuid::new_v4().to_string()).await?;
    txn.commit().await?;
    Ok(session)
}

const BAD_REFRESH: &str = "invalid or expired refresh token";

/// Exchanges a refresh token for a new pair. A spent or revoked token revokes its family.
pub async fn refresh(
    db: &DatabaseConnection,
    tokens: &TokenService,
    token: &str,
) -> AppResult<Session> {
    let txn = db::begin_write(db).await?;
    let now = Utc::now();
    let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(digest(token.trim())))
        .one(&txn)
        .await?
    else {
        txn.commit().await?;
        return Err(AppError::Unauthenticated(BAD_REFRESH.into()));
    };
    if row.used_at.is_some() || row.revoked_at.is_some() {
        // Reuse: someone holds a copy. End the whole family.
        revoke(&txn, refresh_token::Column::Family.eq(row.family.clone())).await?;
        txn.commit().await?;
        tracing::warn!(
            user_id = row.user_id,
            "a spent refresh token was presented: family revoked"
        );
        return Err(AppError::Unauthenticated(BAD_REFRESH.into()));
    }
    let user = app_user::Entity::find_by_id(row.user_id).one(&txn).await?;
    let Some(user) = user.filter(|u| u.active && row.expires_at > now) else {
        txn.commit().await?;
        return Err(AppError::Unauthenticated(BAD_REFRESH.into()));
    };
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    let session = open_session(&txn, tokens, &user, row.family).await?;
    txn.commit().await?;
    Ok(session)
}

pub(crate) async fn revoke<C: ConnectionTrait>(
    db: &C,
    which: sea_orm::sea_query::SimpleExpr,
) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(which)
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends the session of a refresh token (its family).
pub async fn logout(db: &DatabaseConnection, token: &str) -> AppResult<()> {
    let txn = db::begin_write(db).await?;
    if let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(digest(token.trim())))
        .one(&txn)
        .await?
    {
        revoke(&txn, refresh_token::Column::Family.eq(row.family)).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Ends every session of a user: a new token version (access tokens die within their lifetime
/// here and at once on this instance) and every refresh token revoked.
pub async fn logout_everywhere(
    db: &DatabaseConnection,
    subjects: &SubjectStates,
    user_id: i64,
) -> AppResult<()> {
    let txn = db::begin_write(db).await?;
    app_user::Entity::update_many()
        .col_expr(
            app_user::Column::TokenVersion,
            Expr::col(app_user::Column::TokenVersion).add(1),
        )
        .col_expr(app_user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(app_user::Column::Id.eq(user_id))
        .exec(&txn)
        .await?;
    revoke(&txn, refresh_token::Column::UserId.eq(user_id)).await?;
    txn.commit().await?;
    subjects.forget(PrincipalKind::User, user_id);
    Ok(())
}

/// Changes a user's password, ends every other session and opens a new one.
pub async fn change_password(
    db: &DatabaseConnection,
    tokens: &TokenService,
    subjects: &SubjectStates,
    user_id: i64,
    current: &str,
    new: &str,
) -> AppResult<Session> {
    if new.chars().count() < MIN_PASSWORD {
        return Err(AppError::bad_input(
            "newPassword",
            format!("at least {MIN_PASSWORD} characters"),
        ));
    }
    let user = app_user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| AppError::Unauthenticated("not signed in".into()))?;
    if !verify_password(&user.password_hash, current) {
        return Err(AppError::bad_input("currentPassword", "does not match"));
    }
    let hash = hash_password(new)?;
    let txn = db::begin_write(db).await?;
    let mut m: app_user::ActiveModel = user.into();
    m.password_hash = Set(hash);
    m.token_version = Set(m.token_version.as_ref() + 1);
    m.updated_at = Set(Utc::now());
    let user = m.update(&txn).await?;
    revoke(&txn, refresh_token::Column::UserId.eq(user_id)).await?;
    let session = open_session(&txn, tokens, &user, uuid::Uuid::new_v4().to_string()).await?;
    txn.commit().await?;
    subjects.forget(PrincipalKind::User, user_id);
    Ok(session)
}

//! Idempotency keys: a mutation sent with an `Idempotency-Key` header is applied at most once
//! per principal and key.
//!
//! The record is *claimed* as the first statement of the request's first write transaction
//! and so commits or rolls back with the write itself: a retry finds it exactly when the
//! write was applied, whatever happened to the connection during the commit. Two concurrent
//! requests with one key meet at the unique index on (principal, key): on PostgreSQL the
//! second insert waits for the first transaction and then fails, on SQLite write transactions
//! run one at a time; the loser applies nothing and replays the winner's outcome. The response
//! is stored after the commit; a record whose response never arrived (the connection died
//! after the commit) tells a retry that the write was applied.

use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use entity::idempotency_record as record;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr};
use sha2::{Digest, Sha256};
use std::sync::Mutex;

/// The longest key accepted.
pub const MAX_KEY_LENGTH: usize = 255;

/// Where a request's claim stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimState {
    /// No write transaction has claimed the key yet (or the one that did rolled back).
    Open,
    /// Claimed inside a transaction that has not committed yet.
    Pending,
    /// Claimed by a committed write: the response is to be stored.
    Committed,
    /// Another request holds the key: this one applied nothing.
    Taken,
}

/// One request's key: who, which key, a hash of what was asked, and where its claim stands.
#[derive(Debug)]
pub struct Claim {
    /// `user:<id>` or `service:<id>`: keys are per principal.
    pub principal: String,
    /// The client's key.
    pub key: String,
    /// SHA-256 of the request (document, operation name, variables).
    pub request_hash: String,
    /// How long the outcome is kept.
    pub ttl: Duration,
    state: Mutex<ClaimState>,
}

impl Claim {
    /// A claim not yet taken.
    pub fn new(principal: String, key: String, request_hash: String, ttl: Duration) -> Self {
        Self {
            principal,
            key,
            request_hash,
            ttl,
            state: Mutex::new(ClaimState::Open),
        }
    }

    /// Where the claim stands.
    pub fn state(&self) -> ClaimState {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, s: ClaimState) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = s;
    }

    /// Takes the key inside the caller's write transaction, as its first statement. A second
    /// write of the same request does not claim again. `CONFLICT` (and state `Taken`) when
    /// another request holds the key.
    pub async fn take<C: ConnectionTrait>(&self, txn: &C) -> AppResult<()> {
        match self.state() {
            ClaimState::Committed => return Ok(()),
            // Another request holds the key: no later field of this document writes either.
            ClaimState::Taken => {
                return Err(AppError::Conflict(
                    "another request with this Idempotency-Key was applied or is being applied"
                        .into(),
                ));
            }
            // A claim left pending by an earlier transaction of this request rolled back
            // with it.
            ClaimState::Open | ClaimState::Pending => {}
        }
        let now = Utc::now();
        let row = record::ActiveModel {
            principal: Set(self.principal.clone()),
            key: Set(self.key.clone()),
            request_hash: Set(self.request_hash.clone()),
            status_code: Set(0),
            response: Set(String::new()),
            created_at: Set(now),
            expires_at: Set(now + self.ttl),
            ..Default::default()
        };
        match row.insert(txn).await {
            Ok(_) => {
                self.set(ClaimState::Pending);
                Ok(())
            }
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                self.set(ClaimState::Taken);
                Err(AppError::Conflict(
                    "another request with this Idempotency-Key was applied or is being applied"
                        .into(),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Marks the claim committed (after the transaction that took it committed).
    pub fn committed(&self) {
        if self.state() == ClaimState::Pending {
            self.set(ClaimState::Committed);
        }
    }
}

/// JSON with the keys of every object in order, so that a retry whose client orders its
/// variables differently is the same request.
pub fn canonical(v: &serde_json::Value) -> String {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                serde_json::Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect(),
                )
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

/// The hash that tells a retry from another request under the same key.
pub fn request_hash(query: &str, operation_name: Option<&str>, variables: &str) -> String {
    let mut h = Sha256::new();
    for part in [query, operation_name.unwrap_or(""), variables] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a key is acceptable: 1 to 255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LENGTH && key.bytes().all(|b| b.is_ascii_graphic())
}

/// What a lookup found.
#[derive(Debug)]
pub enum Found {
    /// Nothing (or an expired record, now removed): run the request.
    Nothing,
    /// The same key with another request.
    Mismatch,
    /// A write was applied and its response stored: replay it.
    Done {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
    /// A write was applied (or is being applied) and its response is not stored yet.
    Pending {
        /// When the claim was made.
        since: DateTime<Utc>,
    },
}

/// Looks a key up for a principal; an expired record is removed.
pub async fn find<C: ConnectionTrait>(db: &C, claim: &Claim) -> AppResult<Found> {
    let row = record::Entity::find()
        .filter(record::Column::Principal.eq(claim.principal.as_str()))
        .filter(record::Column::Key.eq(claim.key.as_str()))
        .one(db)
        .await?;
    let Some(row) = row else {
        return Ok(Found::Nothing);
    };
    if row.expires_at <= Utc::now() {
        record::Entity::delete_by_id(row.id).exec(db).await?;
        return Ok(Found::Nothing);
    }
    if row.request_hash != claim.request_hash {
        return Ok(Found::Mismatch);
    }
    if row.status_code == 0 {
        return Ok(Found::Pending {
            since: row.created_at,
        });
    }
    Ok(Found::Done {
        status: u16::try_from(row.status_code).unwrap_or(200),
        body: row.response,
    })
}

/// Stores the response of a committed claim.
pub async fn complete<C: ConnectionTrait>(
    db: &C,
    claim: &Claim,
    status: u16,
    body: &str,
) -> AppResult<()> {
    record::Entity::update_many()
        .col_expr(record::Column::StatusCode, Expr::value(i32::from(status)))
        .col_expr(record::Column::Response, Expr::value(body))
        .filter(record::Column::Principal.eq(claim.principal.as_str()))
        .filter(record::Column::Key.eq(claim.key.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes expired records; returns how many.
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> AppResult<u64> {
    let r = record::Entity::delete_many()
        .filter(record::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_hashes() {
        assert!(valid_key("3f2c-01"));
        assert!(!valid_key(""));
        assert!(!valid_key("a b"));
        assert!(!valid_key(&"k".repeat(256)));
        assert!(!valid_key("khóa"));
        let a = request_hash("mutation { a }", None, "{}");
        assert_eq!(a, request_hash("mutation { a }", None, "{}"));
        assert_ne!(a, request_hash("mutation { a }", Some("x"), "{}"));
        // Lengths are hashed: moving a boundary changes the hash.
        assert_ne!(
            request_hash("ab", Some("c"), ""),
            request_hash("a", Some("bc"), "")
        );
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": 1, "a": {"d": 2, "c": 3}}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a": {"c": 3, "d": 2}, "b": 1}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
    }
}

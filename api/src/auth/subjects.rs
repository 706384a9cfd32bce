//! The state of token subjects (active, revoked, token version), cached briefly.

use super::keys::Claims;
use super::{Principal, PrincipalKind, REVOCATION_STALENESS};
use crate::error::AppResult;
use chrono::Utc;
use entity::{app_user, service_account};
use sea_orm::{DatabaseConnection, EntityTrait};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// What a token's subject allows right now.
#[derive(Clone, Copy, Debug)]
struct State {
    usable: bool,
    token_version: i32,
}

/// Per-process cache of subject states.
pub struct SubjectStates {
    cache: Mutex<HashMap<(bool, i64), (Instant, State)>>,
    staleness: std::time::Duration,
}

impl Default for SubjectStates {
    fn default() -> Self {
        Self::new(REVOCATION_STALENESS)
    }
}

impl SubjectStates {
    /// A cache whose entries are trusted for `staleness`: how long a change made on another
    /// instance (a deactivation, a revocation, logout everywhere) may take to be seen here.
    pub fn new(staleness: std::time::Duration) -> Self {
        Self {
            cache: Mutex::new(HashMap::new()),
            staleness,
        }
    }

    async fn load(db: &DatabaseConnection, kind: PrincipalKind, id: i64) -> AppResult<State> {
        Ok(match kind {
            PrincipalKind::User => match app_user::Entity::find_by_id(id).one(db).await? {
                Some(u) => State {
                    usable: u.active,
                    token_version: u.token_version,
                },
                None => State {
                    usable: false,
                    token_version: -1,
                },
            },
            PrincipalKind::Service => {
                match service_account::Entity::find_by_id(id).one(db).await? {
                    Some(s) => {
                        // Its use is recorded each time its state is read again: lastUsedAt
                        // is as fresh as the cache.
                        crate::services::service_accounts::touch(db, id).await?;
                        State {
                            usable: s.revoked_at.is_none()
                                && s.expires_at.is_none_or(|e| e > Utc::now()),
                            token_version: s.token_version,
                        }
                    }
                    None => State {
                        usable: false,
                        token_version: -1,
                    },
                }
            }
        })
    }

    /// Drops a subject's cached state (after a change made by this instance).
    pub fn forget(&self, kind: PrincipalKind, id: i64) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(&(kind == PrincipalKind::User, id));
        }
    }

    /// The principal of verified claims, if its subject is still usable at the token's
    /// version. The subject's state may be up to the cache's staleness old
    /// ([`REVOCATION_STALENESS`] by default).
    pub async fn principal(
        &self,
        db: &DatabaseConnection,
        claims: &Claims,
    ) -> AppResult<Option<Principal>> {
        let Some(principal) = claims.principal() else {
            return Ok(None);
        };
        let key = (principal.kind == PrincipalKind::User, principal.id);
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(&key).copied())
            .filter(|(at, _)| at.elapsed() < self.staleness)
            .map(|(_, s)| s);
        let state = match cached {
            Some(s) => s,
            None => {
                let s = Self::load(db, principal.kind, principal.id).await?;
                if let Ok(mut c) = self.cache.lock() {
                    c.insert(key, (Instant::now(), s));
                }
                s
            }
        };
        Ok((state.usable && state.token_version == claims.ver).then_some(principal))
    }
}

//! Authentication: signed bearer tokens (JWT) and the principal they carry.
//!
//! Keys are pinned to one algorithm each and picked by `kid`, so keys rotate without logging
//! anyone out: HS256 with a secret of at least 32 bytes, or RS256 / EdDSA with PEM keys, plus
//! any number of older public keys that still verify. `exp`, `nbf`, `iss` and `aud` are always
//! checked, with 60 s of leeway. A verified token is then checked against its subject's state
//! (active, not revoked, same token version); that state is cached for [`REVOCATION_STALENESS`],
//! which is how stale a deactivation or a logout-everywhere may be.

pub mod keys;
pub mod principal;
pub mod sessions;
pub mod subjects;

pub use keys::{KeyError, TokenService};
pub use principal::{Principal, PrincipalKind};
pub use subjects::SubjectStates;

/// How long the state of a token's subject is cached before it is read again.
pub const REVOCATION_STALENESS: std::time::Duration = std::time::Duration::from_secs(30);

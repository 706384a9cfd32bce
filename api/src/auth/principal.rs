//! Who is asking: a user or a service account, with a role and a home unit.

use entity::enums::Role;
use serde::{Deserialize, Serialize};

/// Kind of principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// A person with a password.
    User,
    /// An integration with a secret.
    Service,
}

/// The verified identity of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Row id of the user or service account.
    pub id: i64,
    /// User or service account.
    pub kind: PrincipalKind,
    /// Role (service accounts act with their scopes, as VIEWER otherwise).
    pub role: Role,
    /// Home unit row id; none for national principals.
    pub home_unit_id: Option<i64>,
    /// Agency row id.
    pub agency_id: Option<i64>,
    /// Scopes of a service account (`values:read`, …); empty for users.
    pub scopes: Vec<String>,
}

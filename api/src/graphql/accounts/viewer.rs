//! The principal of the request, as the schema shows it.

use crate::auth::{Principal, PrincipalKind};
use crate::graphql::plans::Agency;
use crate::graphql::scalars::node_id;
use crate::graphql::units::AdminUnit;
use crate::model::enums as E;
use crate::policy::Capability;
use async_graphql::{Context, Enum, ID, Object, Result};

/// Role of a user (DESIGN.md, "Access control").
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Reads what is in scope.
    Viewer,
    /// Also reports progress and values.
    Reporter,
    /// Also issues plans, targets and assignments, and approves what lower units report.
    Manager,
    /// Also administers users and agencies in scope.
    Admin,
}

impl From<E::Role> for Role {
    fn from(r: E::Role) -> Self {
        match r {
            E::Role::Viewer => Self::Viewer,
            E::Role::Reporter => Self::Reporter,
            E::Role::Manager => Self::Manager,
            E::Role::Admin => Self::Admin,
        }
    }
}

/// What a principal may do in general; each write still checks the object it touches.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Reads plans, tasks and reports in its scope, beyond what is public.
    ReadScope,
    /// Reports progress and submits values in its scope.
    Report,
    /// Issues plans, targets and assignments at its unit; approves what lower units report.
    Manage,
    /// Administers users, service accounts and agencies in its scope.
    Administer,
    /// Administers the administrative units themselves (national admins).
    AdministerUnits,
}

impl From<Capability> for Permission {
    fn from(c: Capability) -> Self {
        match c {
            Capability::ReadScope => Self::ReadScope,
            Capability::Report => Self::Report,
            Capability::Manage => Self::Manage,
            Capability::Administer => Self::Administer,
            Capability::AdministerUnits => Self::AdministerUnits,
        }
    }
}

/// The authenticated principal: a user or a service account.
pub struct Viewer {
    /// Who.
    pub principal: Principal,
    /// Username, or the service account's name.
    pub username: String,
    /// Display name of a user.
    pub display_name: Option<String>,
}

/// The authenticated principal: a user or a service account.
#[Object]
impl Viewer {
    /// Global id of the user or service account.
    async fn id(&self) -> ID {
        match self.principal.kind {
            PrincipalKind::User => node_id("User", self.principal.id),
            PrincipalKind::Service => node_id("ServiceAccount", self.principal.id),
        }
    }
    /// Username, or the service account's name.
    async fn username(&self) -> &str {
        &self.username
    }
    /// Display name.
    async fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }
    /// `user` or `service`.
    async fn kind(&self) -> &str {
        match self.principal.kind {
            PrincipalKind::User => "user",
            PrincipalKind::Service => "service",
        }
    }
    /// Role.
    async fn role(&self) -> Role {
        self.principal.role.into()
    }
    /// Home unit; null for a national principal.
    async fn home_unit(&self, ctx: &Context<'_>) -> Result<Option<AdminUnit>> {
        super::home_unit(ctx, self.principal.home_unit_id).await
    }
    /// Agency.
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        super::agency_of(ctx, self.principal.agency_id).await
    }
    /// Scopes of a service account (`values:read`, …); empty for users.
    async fn scopes(&self) -> &[String] {
        &self.principal.scopes
    }
    /// What it may do in general (each write still checks its object against the scope).
    async fn permissions(&self, ctx: &Context<'_>) -> Result<Vec<Permission>> {
        Ok(crate::graphql::plans::access(ctx)?
            .capabilities()
            .into_iter()
            .map(Permission::from)
            .collect())
    }
}

//! Administration: users, service accounts and agencies, each write one use case of
//! `app::accounts`.

use async_graphql::{Context, Object, Result};

/// Administration of users, service accounts and agencies (admins, in their scope).
#[derive(Default)]
pub struct AccountsMutation;

/// Administration of users, service accounts and agencies (admins, in their scope).
#[Object]
impl AccountsMutation {
    /// Creates a user in the caller's scope (admins only), never with a role above the
    /// caller's own; the home unit must be valid today.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user.")] input: super::CreateUserInput,
    ) -> Result<super::UserPayload> {
        super::create_user(ctx, input).await
    }

    /// Changes a user's display name, role, home unit or agency (admins, in scope). A new
    /// role, home or agency ends the user's sessions: tokens carry them.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: super::UpdateUserInput,
    ) -> Result<super::UserPayload> {
        super::update_user(ctx, input).await
    }

    /// Deactivates a user (admins, in scope): no more logins, every token stops working.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user.")] input: super::DeactivateUserInput,
    ) -> Result<super::UserPayload> {
        super::deactivate_user(ctx, input).await
    }

    /// Creates a service account in the caller's scope (admins only) and returns its secret,
    /// once.
    async fn create_service_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account.")] input: super::CreateServiceAccountInput,
    ) -> Result<super::CreateServiceAccountPayload> {
        super::create_service_account(ctx, input).await
    }

    /// Revokes a service account (admins, in scope): its tokens stop working.
    async fn revoke_service_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account.")] input: super::RevokeServiceAccountInput,
    ) -> Result<super::ServiceAccountPayload> {
        super::revoke_service_account(ctx, input).await
    }

    /// Creates an agency at a unit valid today in the caller's scope (admins only).
    async fn create_agency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The agency.")] input: super::CreateAgencyInput,
    ) -> Result<super::AgencyPayload> {
        super::create_agency(ctx, input).await
    }

    /// Changes an agency in the caller's scope (admins only): names, kind, its last day, its
    /// successor.
    async fn update_agency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: super::UpdateAgencyInput,
    ) -> Result<super::AgencyPayload> {
        super::update_agency(ctx, input).await
    }
}

//! Reading the signed-in principal and, for admins, the accounts they administer.

use crate::graphql::accounts::{ServiceAccountConnection, UserConnection, UserFilter};
use crate::graphql::context::db;
use crate::graphql::pagination::PageArgs;
use async_graphql::{Context, Object, Result};

/// Reading the signed-in principal and, for admins, the accounts they administer.
#[derive(Default)]
pub struct AccountsQuery;

/// Reading the signed-in principal and, for admins, the accounts they administer.
#[Object]
impl AccountsQuery {
    /// The authenticated principal; null without credentials.
    async fn me(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::accounts::viewer::Viewer>> {
        use crate::auth::PrincipalKind;
        let Some(principal) = crate::graphql::context::principal(ctx)?.cloned() else {
            return Ok(None);
        };
        let (username, display_name) = match principal.kind {
            PrincipalKind::User => {
                match crate::app::lookup::user_opt(db(ctx)?, principal.id).await? {
                    Some(u) => (u.username, u.display_name),
                    None => return Ok(None),
                }
            }
            PrincipalKind::Service => {
                match crate::app::lookup::service_account_opt(db(ctx)?, principal.id).await? {
                    Some(s) => (s.name, None),
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(crate::graphql::accounts::viewer::Viewer {
            principal,
            username,
            display_name,
        }))
    }

    /// Users an admin administers: those homed in his scope (national admins: all), by
    /// username. FORBIDDEN for anyone else.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which users.")] filter: Option<UserFilter>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
    ) -> Result<UserConnection> {
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        crate::graphql::accounts::list_users(ctx, filter, args).await
    }

    /// Service accounts an admin administers: those homed in his scope, by name.
    async fn service_accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
    ) -> Result<ServiceAccountConnection> {
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        crate::graphql::accounts::list_service_accounts(ctx, args).await
    }
}

//! Sessions: login, service tokens, refresh, logout, logout everywhere, password change.

use crate::auth::sessions::{self, Session};
use crate::auth::{PrincipalKind, SubjectStates, TokenService};
use crate::error::AppError;
use crate::graphql::scalars::DateTime;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use std::sync::Arc;

/// Sessions of users and tokens of service accounts.
#[derive(Default)]
pub struct SessionsMutation;

/// Credentials.
#[derive(InputObject)]
pub struct LoginInput {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A refresh token to exchange.
#[derive(InputObject)]
pub struct RefreshInput {
    /// The refresh token of the last login or refresh.
    pub refresh_token: String,
}

/// A session to end.
#[derive(InputObject)]
pub struct LogoutInput {
    /// The session's refresh token.
    pub refresh_token: String,
}

/// Ending every session of the caller.
#[derive(InputObject)]
pub struct LogoutEverywhereInput {
    /// Echoed back, for clients that match requests and answers.
    pub client_mutation_id: Option<String>,
}

/// A password change.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password in use.
    pub current_password: String,
    /// The new password (at least 10 characters).
    pub new_password: String,
}

/// Tokens of a session.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Short-lived access token, sent as `Authorization: Bearer …`.
    pub access_token: String,
    /// Single-use token that obtains the next pair through `refresh`.
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: DateTime,
}

impl From<Session> for AuthPayload {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            expires_at: DateTime(s.expires_at),
        }
    }
}

/// A service account's credentials.
#[derive(InputObject)]
pub struct ServiceTokenInput {
    /// The account's name.
    pub name: String,
    /// The secret shown when the account was created.
    pub secret: String,
}

/// An access token for a service account.
#[derive(SimpleObject)]
pub struct ServiceTokenPayload {
    /// Short-lived access token, sent as `Authorization: Bearer …`.
    pub access_token: String,
    /// When it expires; ask for a new one with the secret.
    pub expires_at: DateTime,
}

/// The outcome of a logout.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// Always true: the session (or every session) is over.
    pub ok: bool,
    /// The `clientMutationId` sent, if any.
    pub client_mutation_id: Option<String>,
}

use crate::graphql::context::db;

fn tokens<'a>(ctx: &Context<'a>) -> Result<&'a Arc<TokenService>> {
    ctx.data::<Arc<TokenService>>()
}

fn subjects<'a>(ctx: &Context<'a>) -> Result<&'a Arc<SubjectStates>> {
    ctx.data::<Arc<SubjectStates>>()
}

fn signed_in_user(ctx: &Context<'_>) -> Result<i64> {
    match crate::graphql::context::principal(ctx)? {
        Some(p) if p.kind == PrincipalKind::User => Ok(p.id),
        _ => Err(AppError::Unauthenticated("sign in first".into()).into()),
    }
}

/// Counts a credential check against the client address's rate (`LOGIN_RATE_PER_MINUTE`).
fn limit_attempts(ctx: &Context<'_>, address: Option<&str>) -> Result<()> {
    if let Ok(limiter) = ctx.data::<Arc<crate::ratelimit::AttemptLimiter>>()
        && let Err(wait) = limiter.check(address.unwrap_or("unknown"))
    {
        crate::metrics::refused("LOGIN_RATE_PER_MINUTE");
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(AppError::RateLimited(seconds.max(1)).into());
    }
    Ok(())
}

/// Sessions of users and tokens of service accounts.
#[Object]
impl SessionsMutation {
    /// Signs in with a username and password. Unknown users, wrong passwords and locked
    /// accounts or addresses all get the same UNAUTHENTICATED error.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Credentials.")] input: LoginInput,
    ) -> Result<AuthPayload> {
        let address = crate::graphql::context::context(ctx)?
            .client_address
            .clone();
        limit_attempts(ctx, address.as_deref())?;
        Ok(sessions::login(
            db(ctx)?,
            tokens(ctx)?,
            &input.username,
            &input.password,
            address.as_deref(),
        )
        .await?
        .into())
    }

    /// Exchanges a service account's secret for an access token (integrations). Unknown
    /// accounts, wrong secrets and revoked or expired accounts all get the same error.
    async fn service_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's credentials.")] input: ServiceTokenInput,
    ) -> Result<ServiceTokenPayload> {
        let address = crate::graphql::context::context(ctx)?
            .client_address
            .clone();
        limit_attempts(ctx, address.as_deref())?;
        let (access_token, exp) = crate::services::service_accounts::exchange(
            db(ctx)?,
            tokens(ctx)?,
            &input.name,
            &input.secret,
            address.as_deref(),
        )
        .await?;
        Ok(ServiceTokenPayload {
            access_token,
            expires_at: DateTime(
                chrono::DateTime::from_timestamp(exp as i64, 0).unwrap_or_else(chrono::Utc::now),
            ),
        })
    }

    /// Exchanges a refresh token for a new pair; each refresh token works once.
    async fn refresh(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token.")] input: RefreshInput,
    ) -> Result<AuthPayload> {
        Ok(
            sessions::refresh(db(ctx)?, tokens(ctx)?, &input.refresh_token)
                .await?
                .into(),
        )
    }

    /// Ends the session of a refresh token.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] input: LogoutInput,
    ) -> Result<LogoutPayload> {
        sessions::logout(db(ctx)?, &input.refresh_token).await?;
        Ok(LogoutPayload {
            ok: true,
            client_mutation_id: None,
        })
    }

    /// Ends every session of the signed-in user, on every device.
    async fn logout_everywhere(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Nothing to give but an optional client id.")]
        input: LogoutEverywhereInput,
    ) -> Result<LogoutPayload> {
        let user = signed_in_user(ctx)?;
        sessions::logout_everywhere(db(ctx)?, subjects(ctx)?, user).await?;
        Ok(LogoutPayload {
            ok: true,
            client_mutation_id: input.client_mutation_id,
        })
    }

    /// Changes the signed-in user's password, ends every other session and returns a new one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The passwords.")] input: ChangePasswordInput,
    ) -> Result<AuthPayload> {
        let user = signed_in_user(ctx)?;
        Ok(sessions::change_password(
            db(ctx)?,
            tokens(ctx)?,
            subjects(ctx)?,
            user,
            &input.current_password,
            &input.new_password,
        )
        .await?
        .into())
    }
}

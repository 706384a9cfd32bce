//! The one context of a request: built from the HTTP layer's plain values by [`prepare`], read
//! by every resolver through the helpers below (the HTTP layer knows nothing of loaders or of
//! how resolvers find the policy).

use crate::app;
use crate::auth::{Principal, SubjectStates};
use crate::db::Pool;
use crate::loaders::Loaders;
use crate::policy::Access;
use async_graphql::{Context, Result};
use std::sync::Arc;

/// What the HTTP layer knows of a request.
pub struct RequestInfo {
    /// The verified principal (none: anonymous).
    pub principal: Option<Principal>,
    /// The request id (also in the log span and in every error).
    pub request_id: String,
    /// The client's address, for login throttling.
    pub client_address: Option<String>,
    /// The request's `Idempotency-Key` (mutations of signed-in callers).
    pub claim: Option<Arc<crate::services::idempotency::Claim>>,
}

/// Everything a resolver may need about the request it serves.
pub struct RequestContext {
    /// The principal, if any.
    pub principal: Option<Principal>,
    /// The policy for this principal (its scope read once, lazily).
    pub access: Arc<Access>,
    /// Batched, policy-aware reads; their caches die with the request.
    pub loaders: Loaders,
    /// The request id.
    pub request_id: String,
    /// The client's address.
    pub client_address: Option<String>,
    /// The request's `Idempotency-Key`, if any.
    pub claim: Option<Arc<crate::services::idempotency::Claim>>,
    /// The pool this request reads and writes through (the primary, or a replica for a
    /// query).
    pub db: Pool,
    /// The unit hierarchy, read once per request (`units`).
    pub units: tokio::sync::OnceCell<Arc<crate::services::unit_snapshot::UnitSnapshot>>,
}

/// Attaches the context of one request to it.
pub fn prepare(
    db: &Pool,
    request: async_graphql::Request,
    info: RequestInfo,
) -> async_graphql::Request {
    let access = Arc::new(Access::new(db.clone(), info.principal.clone()));
    request.data(RequestContext {
        loaders: Loaders::new(db, access.clone()),
        access,
        principal: info.principal,
        request_id: info.request_id,
        client_address: info.client_address,
        claim: info.claim,
        db: db.clone(),
        units: tokio::sync::OnceCell::new(),
    })
}

/// The request's context.
pub(crate) fn context<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext> {
    ctx.data::<RequestContext>()
}

/// The unit hierarchy as of the latest committed import: the generation is read once per
/// request, the snapshot rebuilt only when it moved.
pub(crate) async fn units(
    ctx: &Context<'_>,
) -> Result<Arc<crate::services::unit_snapshot::UnitSnapshot>> {
    let c = context(ctx)?;
    let cache = ctx.data::<Arc<crate::services::unit_snapshot::UnitCache>>()?;
    Ok(c.units
        .get_or_try_init(|| cache.current(&c.db))
        .await?
        .clone())
}

/// The pool of this request.
pub(crate) fn db<'a>(ctx: &Context<'a>) -> Result<&'a Pool> {
    Ok(&context(ctx)?.db)
}

/// The policy of this request.
pub(crate) fn access<'a>(ctx: &Context<'a>) -> Result<&'a Access> {
    Ok(context(ctx)?.access.as_ref())
}

/// The loaders of this request.
pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders> {
    Ok(&context(ctx)?.loaders)
}

/// The principal of this request, if any.
pub(crate) fn principal<'a>(ctx: &Context<'a>) -> Result<Option<&'a Principal>> {
    Ok(context(ctx)?.principal.as_ref())
}

/// The hard maximum of `first` / `last`.
pub(crate) fn max_page(ctx: &Context<'_>) -> usize {
    ctx.data::<super::Limits>()
        .map(|l| l.max_page_size)
        .unwrap_or(500)
}

/// The caller of a write, as the use cases take it (`UNAUTHENTICATED` when anonymous).
pub(crate) fn caller(ctx: &Context<'_>) -> Result<app::Caller> {
    let c = context(ctx)?;
    let subjects = ctx.data::<Arc<SubjectStates>>().ok().cloned();
    Ok(app::Caller::request(
        c.access.clone(),
        Some(c.request_id.clone()),
        subjects,
        c.claim.clone(),
    )?)
}

//! The GraphQL schema: its own types over the services (entities never reach it).

pub mod accounts;
pub mod audit;
pub mod context;
pub mod document;
pub mod pagination;
pub mod plans;
pub mod query;
pub mod scalars;
pub mod units;
pub mod values;

use crate::auth::{SubjectStates, TokenService};
use crate::config::Config;
use crate::db::Pool;
use async_graphql::{EmptySubscription, Schema};
use std::sync::Arc;

/// The schema type.
pub type AppSchema = Schema<query::QueryRoot, MutationRoot, EmptySubscription>;

/// Writes: each domain's mutation object, merged.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    accounts::sessions::SessionsMutation,
    accounts::mutation::AccountsMutation,
    plans::mutation::PlansMutation,
    values::ValuesMutation,
);

/// Limits of the executor, from configuration.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Hard maximum of `first` / `last`.
    pub max_page_size: usize,
}

/// Builds the schema. Per-request data (the DataLoaders, the request id) is added by the HTTP
/// layer to each request, so that no cache outlives a request.
pub fn build_schema(
    db: Pool,
    config: &Config,
    tokens: Arc<TokenService>,
    subjects: Arc<SubjectStates>,
    units: Arc<crate::services::unit_snapshot::UnitCache>,
) -> AppSchema {
    let limits = &config.limits;
    let mut builder = Schema::build(
        query::QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .data(db)
    .data(Arc::new(crate::ratelimit::AttemptLimiter::per_minute(
        limits.login_rate_per_minute,
    )))
    .data(tokens)
    .data(subjects)
    .data(Limits {
        max_page_size: config.max_page_size,
    })
    .data(std::sync::Arc::new(
        crate::services::unit_search::UnitSearchIndex::default(),
    ))
    .data(units)
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_recursive_depth(32)
    .limit_directives(8);
    if !limits.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The schema without a database, for exporting the SDL.
pub fn sdl() -> String {
    Schema::build(
        query::QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .finish()
    .sdl()
}

//! HTTP and GraphQL layer, services, configuration and CLI of the regional data platform.
//!
//! Layering: `entity` holds storage models; `services` own queries and transactions and return
//! storage models or domain errors; `graphql` wraps them in its own types (entities never reach
//! the schema); `http` is the transport, implementing GraphQL over HTTP as the specification
//! says; `cli` is the single binary's entry point.

pub mod app;
pub mod auth;
pub mod bulk;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod graphiql;
pub mod graphql;
pub mod http;
pub mod loaders;
pub mod metrics;
pub mod model;
pub mod period;
pub mod policy;
pub mod ratelimit;
pub mod seed;
pub mod server;
pub mod services;
pub mod telemetry;
pub mod text;

pub use config::{Config, Profile};
pub use server::Application;

//! Prometheus metrics (`GET /metrics`), through the `metrics` facade: requests and their
//! latency by route and status, GraphQL operations by root field and outcome, refusals by
//! limit, and the pool's connections. Every label takes its values from a fixed set (routes,
//! schema fields, error codes, limit names), so no client can grow the number of series.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use (one per process: several servers in one
/// test process share it). None when another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0, 30.0,
                    ],
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// The route a path belongs to, from the fixed set of routes (anything else is `other`).
pub fn route(path: &str) -> &'static str {
    match path {
        "/graphql" => "/graphql",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        "/.well-known/jwks.json" => "/.well-known/jwks.json",
        p if p.starts_with("/graphiql/") => "/graphiql",
        _ => "other",
    }
}

/// Records one HTTP request.
pub fn request(path: &str, status: u16, elapsed: Duration) {
    let route = route(path);
    let class = match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!("http_requests_total", "route" => route, "status" => class).increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
}

/// Records one executed GraphQL operation: its first root field (a schema field, or `-` when
/// the document did not validate) and its outcome (`ok` or the first error's code).
pub fn operation(kind: &'static str, field: String, outcome: String) {
    metrics::counter!(
        "graphql_operations_total",
        "type" => kind,
        "field" => field,
        "outcome" => outcome
    )
    .increment(1);
}

/// Records a request refused by a limit (`MAX_SELECTIONS`, `MAX_ALIASES`, …).
pub fn refused(limit: &'static str) {
    metrics::counter!("graphql_refusals_total", "limit" => limit).increment(1);
}

/// The pool's connections, read when metrics are scraped.
pub fn pool(size: u32, idle: usize) {
    metrics::gauge!("db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
}

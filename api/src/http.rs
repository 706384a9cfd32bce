//! GraphQL over HTTP, as the specification says (DESIGN.md, API conventions).
//!
//! - POST with `Content-Type: application/json` (else 415) and GET with URL parameters; a GET
//!   that selects a mutation is 405 with `Allow: POST`; other methods are 405.
//! - `Accept` is negotiated between `application/graphql-response+json` (preferred, and assumed
//!   when the header is absent) and `application/json`; neither acceptable is 406.
//! - A malformed request (body not JSON, no `query`, `variables` not an object) is 400 under
//!   both media types. A document that fails to parse or validate, or whose variables do not
//!   coerce, is 400 without `data` under `application/graphql-response+json` and 200 with
//!   `errors` (still without `data`) under `application/json`. Executed requests are 200.
//! - `x-request-id` is accepted (1–128 of `A-Z a-z 0-9 . _ : -`) or generated, echoed on every
//!   response, recorded in the log span and in `extensions.requestId` of every error.

use crate::auth::{Principal, SubjectStates, TokenService};
use crate::config::{Profile, RequestLimits};
use crate::error::{AppError, InternalCause, code};
use crate::graphql::AppSchema;
use crate::services::idempotency;
use async_graphql::parser::types::OperationType;
use async_graphql::{ServerError, Variables};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

/// The two response media types of the specification.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// The legacy media type.
pub const APPLICATION_JSON: &str = "application/json";
/// The request id header.
pub const REQUEST_ID: &str = "x-request-id";

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The schema.
    pub schema: AppSchema,
    /// The pool.
    pub db: DatabaseConnection,
    /// Deployment profile.
    pub profile: Profile,
    /// Token keys.
    pub tokens: Arc<TokenService>,
    /// Token subjects' state.
    pub subjects: Arc<SubjectStates>,
    /// Bounds on requests.
    pub limits: RequestLimits,
    /// Origins allowed to call from a browser.
    pub cors_origins: crate::config::CorsOrigins,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A read-only replica for queries, if configured.
    pub read_db: Option<DatabaseConnection>,
    /// How long after a principal's write his queries stay on the primary.
    pub replica_max_lag_seconds: u64,
    /// The unit hierarchy in memory (the one the schema reads).
    pub units: Arc<crate::services::unit_snapshot::UnitCache>,
    /// Documents parsed before, by their text.
    pub documents: Arc<crate::graphql::document::DocumentCache>,
    /// Exports PostgreSQL may stream in one `COPY` each now ([`crate::bulk::COPY_EXPORTS`]).
    pub export_streams: Arc<tokio::sync::Semaphore>,
}

/// The client's address: the peer's, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries further left
/// were written by the client and prove nothing). Login throttling and rate limits key on it.
fn client_address(
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> Option<String> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .iter()
            .rev()
            .find(|a| !trusted.contains(a))
            .unwrap_or(&peer)
            .to_string(),
    )
}

/// The id of the current request.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The router with its middleware.
pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    // A last resort behind the execution timeout, which answers with a GraphQL error first.
    let hard_timeout = Duration::from_secs(state.limits.execution_timeout_seconds + 10);
    let origins = match &state.cors_origins {
        crate::config::CorsOrigins::Any => AllowOrigin::from(Any),
        crate::config::CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        ),
    };
    let cors = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::AUTHORIZATION,
            header::HeaderName::from_static(REQUEST_ID),
        ])
        .expose_headers([header::HeaderName::from_static(REQUEST_ID)]);
    let dev = state.profile == Profile::Dev;
    let mut router = Router::new()
        .route("/graphql", any(graphql))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/.well-known/jwks.json", get(jwks));
    if dev {
        router = router.route(
            &format!("{}/{{file}}", crate::graphiql::PREFIX),
            get(crate::graphiql::asset),
        );
    }
    router
        .with_state(state.clone())
        // The body extractor enforces this limit; the handler turns a refusal into a GraphQL
        // error body with the request id.
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            hard_timeout,
        ))
        // Bulk files, with their own body and time limits (crate::bulk).
        .merge(crate::bulk::routes(state))
        // gzip when the client accepts it and the body is worth it (tower-http's defaults:
        // not below 32 bytes, not for images or event streams).
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(middleware::from_fn(request_id))
}

fn valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
        operation = tracing::field::Empty,
        principal = tracing::field::Empty,
        unit = tracing::field::Empty,
    );
    let started = Instant::now();
    let path = req.uri().path().to_string();
    let mut res = next.run(req).instrument(span.clone()).await;
    crate::metrics::request(&path, res.status().as_u16(), started.elapsed());
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "served"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    security_headers(res.headers_mut());
    res
}

/// Headers every response carries (those a handler set, such as GraphiQL's own
/// Content-Security-Policy, are kept): no sniffing, no framing, no referrer, and for
/// everything but the GraphiQL page a policy that loads nothing.
fn security_headers(h: &mut HeaderMap) {
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
}

async fn jwks(State(state): State<AppState>) -> Response {
    axum::Json(state.tokens.jwks().clone()).into_response()
}

/// The principal of a request: none without `Authorization`; an error for a credential that
/// is malformed, invalid, expired or revoked, and for more than one `Authorization` header
/// (which one a proxy or a framework would pick is not something to leave to chance).
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ()> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(());
    }
    let value = value.to_str().map_err(|_| ())?;
    let (scheme, token) = value.split_once(' ').ok_or(())?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(());
    }
    let claims = state.tokens.verify(token.trim()).map_err(|_| ())?;
    match state.subjects.principal(&state.db, &claims).await {
        Ok(Some(p)) => Ok(Some(p)),
        Ok(None) => Err(()),
        Err(e) => {
            tracing::error!(cause = %e.detail(), "checking a token's subject");
            Err(())
        }
    }
}

/// Prometheus metrics, with the pool's connections read now. Expose it to the monitoring
/// network only (it tells counts, never data).
async fn metrics_text(State(state): State<AppState>) -> Response {
    use sea_orm::DbBackend;
    match state.db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = state.db.get_postgres_connection_pool();
            crate::metrics::pool(pool.size(), pool.num_idle());
        }
        DbBackend::Sqlite => {
            let pool = state.db.get_sqlite_connection_pool();
            crate::metrics::pool(pool.size(), pool.num_idle());
        }
        _ => {}
    }
    let body = crate::metrics::handle()
        .map(|h| h.render())
        .unwrap_or_default();
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

/// Ready to serve: the database answers and its migrations are all applied. 503 otherwise, so
/// that a load balancer stops sending traffic until it is.
async fn readyz(State(state): State<AppState>) -> Response {
    let unavailable = |reason: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "unavailable", "reason": reason})),
        )
            .into_response()
    };
    if let Err(e) = state.db.ping().await {
        tracing::warn!(error = %e, "readiness: database unreachable");
        return unavailable("database unreachable");
    }
    if let Some(replica) = &state.read_db
        && let Err(e) = replica.ping().await
    {
        tracing::warn!(error = %e, "readiness: replica unreachable");
        return unavailable("replica unreachable");
    }
    match crate::db::pending_migrations(&state.db).await {
        Ok(pending) if pending.is_empty() => {
            (StatusCode::OK, axum::Json(json!({"status": "ready"}))).into_response()
        }
        Ok(_) => unavailable("migrations pending"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: reading the migrations");
            unavailable("database unreachable")
        }
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

/// The negotiated response media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`.
    GraphqlResponseJson,
    /// `application/json`.
    Json,
}

impl MediaType {
    fn as_str(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
            Self::Json => APPLICATION_JSON,
        }
    }
}

/// Picks the response media type from `Accept`, by quality then preferring
/// `application/graphql-response+json`. `None`: neither is acceptable.
pub fn negotiate(accept: Option<&str>) -> Option<MediaType> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return Some(MediaType::GraphqlResponseJson);
    };
    // Quality of each of our types: the most specific matching range decides.
    let mut best = [(0u8, 0f32), (0u8, 0f32)]; // (specificity, q) for graphql-response, json
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let Ok(m) = parts
            .next()
            .unwrap_or_default()
            .trim()
            .parse::<mime::Mime>()
        else {
            continue;
        };
        let mut q = 1.0f32;
        for p in parts {
            if let Some((k, v)) = p.split_once('=')
                && k.trim().eq_ignore_ascii_case("q")
            {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        for (i, ours) in [GRAPHQL_RESPONSE_JSON, APPLICATION_JSON].iter().enumerate() {
            let ty = ours.split('/').next().unwrap_or_default();
            let specificity = if m.type_() == "*" && m.subtype() == "*" {
                1
            } else if m.type_() == ty && m.subtype() == "*" {
                2
            } else if m.essence_str() == *ours {
                3
            } else {
                0
            };
            if specificity > best[i].0 {
                best[i] = (specificity, q);
            }
        }
    }
    let (gr, js) = (best[0].1, best[1].1);
    match (gr > 0.0, js > 0.0) {
        (false, false) => None,
        _ if gr >= js => Some(MediaType::GraphqlResponseJson),
        _ => Some(MediaType::Json),
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn error_body(message: &str, error_code: &str, request_id: &str) -> Value {
    json!({"errors": [{
        "message": message,
        "extensions": {"code": error_code, "requestId": request_id},
    }]})
}

/// A 500 with the generic message and the request id (the cause goes to the log).
fn internal_error(media: MediaType, rid: &str) -> Response {
    respond(
        StatusCode::INTERNAL_SERVER_ERROR,
        media,
        &error_body("internal server error", code::INTERNAL_SERVER_ERROR, rid),
    )
}

fn respond(status: StatusCode, media: MediaType, body: &Value) -> Response {
    respond_text(status, media, body.to_string())
}

fn respond_text(status: StatusCode, media: MediaType, body: String) -> Response {
    let mut res = (status, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}; charset=utf-8", media.as_str())) {
        res.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    res
}

/// A request refused before GraphQL sees it (400, 405, 406, 415).
fn refuse(status: StatusCode, media: MediaType, message: &str, rid: &str) -> Response {
    let error_code = match status {
        StatusCode::BAD_REQUEST => code::BAD_REQUEST,
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::NOT_ACCEPTABLE => "NOT_ACCEPTABLE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        _ => code::BAD_REQUEST,
    };
    respond(status, media, &error_body(message, error_code, rid))
}

/// The parameters of a GraphQL request, from a JSON body or a query string.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
}

fn params_from_object(obj: Map<String, Value>) -> Result<Params, &'static str> {
    let query = match obj.get("query") {
        Some(Value::String(q)) => q.clone(),
        Some(_) => return Err("`query` must be a string"),
        None => return Err("the request has no `query`"),
    };
    let operation_name = match obj.get("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`operationName` must be a string"),
    };
    let variables = match obj.get("variables") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err("`variables` must be an object"),
    };
    if !matches!(
        obj.get("extensions"),
        None | Some(Value::Null) | Some(Value::Object(_))
    ) {
        return Err("`extensions` must be an object");
    }
    Ok(Params {
        query,
        operation_name,
        variables,
    })
}

fn params_from_query_string(uri: &Uri) -> Result<Params, &'static str> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or_default())
        .map_err(|_| "the URL parameters do not parse")?;
    let mut obj = Map::new();
    for (k, v) in pairs {
        let value = match k.as_str() {
            "variables" | "extensions" => {
                serde_json::from_str(&v).map_err(|_| "`variables` and `extensions` must be JSON")?
            }
            _ => Value::String(v),
        };
        obj.insert(k, value);
    }
    params_from_object(obj)
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.essence_str() == APPLICATION_JSON)
}

/// Documents up to this size are parsed on the async worker; larger ones on the blocking pool.
const INLINE_PARSE_BYTES: usize = 4 * 1024;

async fn graphql(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    axum::Extension(RequestId(rid)): axum::Extension<RequestId>,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // A browser asking for the page gets GraphiQL (dev profile only).
    if method == Method::GET
        && state.profile == Profile::Dev
        && uri.query().is_none()
        && wants_html(&headers)
    {
        return crate::graphiql::page();
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let Some(media) = negotiate(accept) else {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "acceptable media types: application/graphql-response+json, application/json",
            &rid,
        );
    };
    let principal = match authenticate(&state, &headers).await {
        Ok(p) => p,
        Err(()) => {
            // The same answer for every failure: nothing that helps an attacker.
            let mut res = respond(
                StatusCode::UNAUTHORIZED,
                media,
                &error_body(
                    "invalid or expired credentials",
                    code::UNAUTHENTICATED,
                    &rid,
                ),
            );
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            return res;
        }
    };
    let params = match method {
        Method::GET => params_from_query_string(&uri),
        Method::POST => {
            if !is_json_content_type(&headers) {
                return refuse(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    media,
                    "send the request as Content-Type: application/json",
                    &rid,
                );
            }
            let body = match body {
                Ok(b) => b,
                Err(rejection) => {
                    let status = rejection.status();
                    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                        format!(
                            "the body is larger than {} bytes",
                            state.limits.max_body_bytes
                        )
                    } else {
                        "the body could not be read".to_string()
                    };
                    return refuse(status, media, &message, &rid);
                }
            };
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(obj)) => params_from_object(obj),
                Ok(_) => Err("the body must be a JSON object"),
                Err(_) => Err("the body is not JSON"),
            }
        }
        _ => {
            let mut res = refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                media,
                "use GET or POST",
                &rid,
            );
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
            return res;
        }
    };
    let params = match params {
        Ok(p) => p,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, media, message, &rid),
    };
    // Who asked for what, in the request's log line (never variables: they may hold secrets).
    let span = tracing::Span::current();
    if let Some(name) = &params.operation_name {
        span.record("operation", name.as_str());
    }
    if let Some(p) = &principal {
        span.record("principal", format!("{:?}:{}", p.kind, p.id).to_lowercase());
        if let Some(unit) = p.home_unit_id {
            span.record("unit", unit);
        }
    }

    // A key makes a mutation of a signed-in caller apply at most once (services::idempotency).
    let key = match idempotency_key(&headers) {
        Ok(k) => k,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, media, message, &rid),
    };
    let claim = match (key, &principal) {
        (Some(key), Some(p)) if method == Method::POST => {
            let variables = params
                .variables
                .as_ref()
                .map(|v| idempotency::canonical(&Value::Object(v.clone())))
                .unwrap_or_default();
            Some(Arc::new(idempotency::Claim::new(
                format!("{:?}:{}", p.kind, p.id).to_lowercase(),
                key,
                idempotency::request_hash(
                    &params.query,
                    params.operation_name.as_deref(),
                    &variables,
                ),
                chrono::Duration::seconds(state.limits.idempotency_ttl_seconds as i64),
            )))
        }
        (Some(_), None) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                media,
                "an Idempotency-Key needs a signed-in caller: keys are kept per principal",
                &rid,
            );
        }
        _ => None,
    };

    let mut request = async_graphql::Request::new(params.query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        request = request.variables(Variables::from_json(Value::Object(vars)));
    }
    let info = crate::graphql::context::RequestInfo {
        principal,
        request_id: rid.clone(),
        client_address: client_address(
            connect.map(|c| c.0.0.ip()),
            &headers,
            &state.trusted_proxies,
        ),
        claim: claim.clone(),
    };

    // Parse and measure first (a document that does not parse, or that expands past the
    // limits, never reaches the validator; a GET must not run a mutation): a large document
    // off the async workers, since it is CPU work; a small one here, where the hop to the
    // blocking pool would cost more than the parse.
    let checked = if request.query.len() <= INLINE_PARSE_BYTES {
        let cached = state.documents.get(&request.query);
        let parsed_before = cached.is_some();
        if let Some(doc) = cached {
            request.set_parsed_query(doc);
        }
        let checked = check_document(&mut request, &state.limits);
        if !parsed_before && checked.is_ok() {
            let text = request.query.clone();
            if let Ok(doc) = request.parsed_query() {
                state.documents.put(&text, doc);
            }
        }
        Ok((request, checked))
    } else {
        let limits = state.limits.clone();
        tokio::task::spawn_blocking(move || {
            let checked = check_document(&mut request, &limits);
            (request, checked)
        })
        .await
    };
    let (request, checked) = match checked {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(cause = %e, "parsing a document");
            return internal_error(media, &rid);
        }
    };
    let (has_mutation, arguments, operation_label) = match checked {
        Ok((has_mutation, arguments, label)) => {
            if method == Method::GET && has_mutation {
                let mut res = refuse(
                    StatusCode::METHOD_NOT_ALLOWED,
                    media,
                    "mutations are sent with POST",
                    &rid,
                );
                res.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
                return res;
            }
            (has_mutation, arguments, label)
        }
        Err(mut e) => {
            // Limit refusals carry their code already; the rest are parse errors.
            set_code(&mut e, code::GRAPHQL_PARSE_FAILED, &rid);
            let status = match media {
                MediaType::GraphqlResponseJson => StatusCode::BAD_REQUEST,
                MediaType::Json => StatusCode::OK,
            };
            return respond(status, media, &json!({"errors": [e]}));
        }
    };

    // Queries go to the replica, if there is one, unless their principal wrote within the
    // replica's allowed lag (he reads his own writes); mutations and what they read go to the
    // primary.
    let pool = match &state.read_db {
        Some(replica) if !has_mutation => match &info.principal {
            None => replica,
            Some(p) => {
                let since = chrono::Utc::now()
                    - chrono::Duration::seconds(state.replica_max_lag_seconds as i64);
                let actor = crate::services::audit::Actor::of(p, None).name;
                match crate::services::audit::wrote_since(&state.db, &actor, since).await {
                    Ok(false) => replica,
                    Ok(true) => &state.db,
                    Err(e) => return app_error_response(&e, media, &rid),
                }
            }
        },
        _ => &state.db,
    };
    let request = crate::graphql::context::prepare(pool, request, info);
    let claim = claim.filter(|_| has_mutation);
    if let Some(claim) = &claim {
        match idempotency::find(&state.db, claim).await {
            Ok(idempotency::Found::Nothing) => {}
            Ok(found) => return replay(&state, found, claim, media, &rid).await,
            Err(e) => return app_error_response(&e, media, &rid),
        }
    }
    let response = execute(&state, request, media, &rid, arguments, operation_label).await;
    let Some(claim) = claim else {
        return response;
    };
    match claim.state() {
        idempotency::ClaimState::Committed => {
            // Keep the outcome for retries; the write is applied whether or not this works.
            // An answer that misstates an applied write (stopped by the timeout, or a read
            // after the commit that failed) is not kept: a retry learns ALREADY_APPLIED.
            let status = response.status();
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            let misstates = status != StatusCode::OK || misstates_a_write(&bytes);
            if !misstates
                && let Err(e) =
                    idempotency::complete(&state.db, &claim, status.as_u16(), &text).await
            {
                tracing::warn!(cause = %e.detail(), "storing an idempotent outcome");
            }
            Response::from_parts(parts, axum::body::Body::from(bytes))
        }
        // Another request holds the key: this one applied nothing; answer with its outcome.
        idempotency::ClaimState::Taken => {
            replay(
                &state,
                idempotency::Found::Pending {
                    since: chrono::Utc::now(),
                },
                &claim,
                media,
                &rid,
            )
            .await
        }
        _ => response,
    }
}

/// Whether a response to a committed write carries an error that says otherwise or nothing
/// (the database failed after the commit, the request ran out of time, an internal error):
/// such an answer is not kept for retries.
fn misstates_a_write(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return true;
    };
    v["errors"].as_array().is_some_and(|errors| {
        errors.iter().any(|e| {
            matches!(
                e["extensions"]["code"].as_str(),
                Some(code::SERVICE_UNAVAILABLE | code::TIMEOUT | code::INTERNAL_SERVER_ERROR)
            )
        })
    })
}

/// The `Idempotency-Key` header: at most one, 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, &'static str> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("send one Idempotency-Key header");
    }
    match first.to_str() {
        Ok(k) if idempotency::valid_key(k) => Ok(Some(k.to_string())),
        _ => Err("an Idempotency-Key is 1 to 255 visible ASCII characters"),
    }
}

/// The answer to a request whose key is known: the stored outcome, a refusal for another
/// request under the same key, or, for a write applied whose response is not stored yet, the
/// stored outcome once it arrives (the first request is finishing) or, past a few seconds,
/// `ALREADY_APPLIED` (the first response was lost with its connection).
async fn replay(
    state: &AppState,
    mut found: idempotency::Found,
    claim: &idempotency::Claim,
    media: MediaType,
    rid: &str,
) -> Response {
    const LOST_AFTER: Duration = Duration::from_secs(5);
    let deadline = tokio::time::Instant::now()
        + Duration::from_secs(state.limits.execution_timeout_seconds).min(LOST_AFTER * 2);
    loop {
        match found {
            idempotency::Found::Done { status, body } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                let mut res = respond_text(status, media, body);
                res.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
                return res;
            }
            idempotency::Found::Mismatch => {
                let body = json!({"errors": [{
                    "message": "this Idempotency-Key was used for another request: use a new key for a new request",
                    "extensions": {"code": code::BAD_USER_INPUT, "field": "Idempotency-Key", "requestId": rid},
                }]});
                return respond(StatusCode::UNPROCESSABLE_ENTITY, media, &body);
            }
            idempotency::Found::Pending { since } => {
                let age = (chrono::Utc::now() - since).to_std().unwrap_or_default();
                if age >= LOST_AFTER || tokio::time::Instant::now() >= deadline {
                    let body = json!({"errors": [{
                        "message": "the write sent with this Idempotency-Key was applied, but its first response was lost: read the result",
                        "extensions": {"code": code::ALREADY_APPLIED, "outcome": "APPLIED", "requestId": rid},
                    }]});
                    return respond(StatusCode::OK, media, &body);
                }
            }
            idempotency::Found::Nothing => {
                // The holder rolled back (or the record expired): nothing applied under the
                // key; the client may send it again.
                let body = json!({"errors": [{
                    "message": "a request with this Idempotency-Key was being applied and did not complete: nothing was applied, send it again",
                    "extensions": {"code": code::CONFLICT, "requestId": rid},
                }]});
                return respond(StatusCode::CONFLICT, media, &body);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        found = match idempotency::find(&state.db, claim).await {
            Ok(f) => f,
            Err(e) => return app_error_response(&e, media, rid),
        };
    }
}

/// An error raised outside GraphQL execution, as a GraphQL error body.
fn app_error_response(e: &AppError, media: MediaType, rid: &str) -> Response {
    tracing::warn!(cause = %e.detail(), "idempotency lookup");
    let mut ext = json!({"code": e.code(), "requestId": rid});
    if let AppError::Unavailable { .. } = e {
        ext["outcome"] = json!("NOT_APPLIED");
    }
    let status = match e {
        AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    respond(
        status,
        media,
        &json!({"errors": [{"message": e.message(), "extensions": ext}]}),
    )
}

/// A GraphQL response as it goes out, written in one pass from async-graphql's values (an
/// intermediate `serde_json::Value` copied every string and object of the answer once more:
/// about a tenth of the server's CPU under the benchmark's larger queries, BENCHMARKS.md).
/// Keys keep the order of the selection, as before (serde_json's `preserve_order`).
#[derive(serde::Serialize)]
struct ResponseBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[ServerError]>::is_empty")]
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

/// Executes a checked request within the execution timeout and renders its response.
async fn execute(
    state: &AppState,
    request: async_graphql::Request,
    media: MediaType,
    rid: &str,
    arguments: HashMap<async_graphql::Pos, String>,
    operation_label: Option<(&'static str, String)>,
) -> Response {
    let rid = rid.to_string();
    let timeout = Duration::from_secs(state.limits.execution_timeout_seconds);
    let Ok(response) = tokio::time::timeout(timeout, state.schema.execute(request)).await else {
        tracing::warn!(timeout_s = timeout.as_secs(), "request timed out");
        return respond(
            StatusCode::SERVICE_UNAVAILABLE,
            media,
            &error_body(
                &format!(
                    "the request took longer than {} s and was stopped",
                    timeout.as_secs()
                ),
                code::TIMEOUT,
                &rid,
            ),
        );
    };
    // Errors raised before execution (validation, variable coercion, operation selection)
    // have no path, and no data was produced.
    let request_error = !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty());

    let mut errors = response.errors;
    for e in &mut errors {
        if request_error {
            set_code(e, code::GRAPHQL_VALIDATION_FAILED, &rid);
        } else {
            finish_execution_error(e, &rid, &arguments);
        }
    }
    if let Some((kind, field)) = operation_label {
        // A document that did not validate may name fields the schema does not have: they
        // are not labels.
        let field = if request_error {
            "-".to_string()
        } else {
            field
        };
        let outcome = match errors.first() {
            None => "ok".to_string(),
            Some(_) if request_error => code::GRAPHQL_VALIDATION_FAILED.to_string(),
            Some(e) => e
                .extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .and_then(|v| match v {
                    async_graphql::Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| code::INTERNAL_SERVER_ERROR.to_string()),
        };
        crate::metrics::operation(kind, field, outcome);
    }
    let body = ResponseBody {
        data: (!request_error).then_some(&response.data),
        errors: &errors,
        extensions: &response.extensions,
    };
    let status = match (request_error, media) {
        (true, MediaType::GraphqlResponseJson) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    // A credential check over its rate: 429 with Retry-After, as HTTP clients expect.
    let retry_after = errors.iter().find_map(|e| {
        let ext = e.extensions.as_ref()?;
        match (ext.get("code"), ext.get("retryAfter")) {
            (Some(async_graphql::Value::String(c)), Some(async_graphql::Value::Number(n)))
                if c == code::RATE_LIMITED =>
            {
                n.as_u64()
            }
            _ => None,
        }
    });
    let text = match serde_json::to_string(&body) {
        Ok(text) => text,
        Err(e) => {
            tracing::error!(cause = %e, "writing a response as JSON");
            return internal_error(media, &rid);
        }
    };
    if text.len() > state.limits.max_response_bytes {
        tracing::warn!(bytes = text.len(), "response too large");
        return respond(
            StatusCode::OK,
            media,
            &error_body(
                &format!(
                    "the response would be larger than {} bytes: ask for fewer fields or smaller pages",
                    state.limits.max_response_bytes
                ),
                code::RESPONSE_TOO_LARGE,
                &rid,
            ),
        );
    }
    match retry_after {
        Some(seconds) => {
            let mut res = respond_text(StatusCode::TOO_MANY_REQUESTS, media, text);
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        None => respond_text(status, media, text),
    }
}

/// What a checked document says: whether it holds a mutation, where its arguments stand, and
/// the kind and first root field of the operation it selects (for the metrics).
type Checked = (
    bool,
    HashMap<async_graphql::Pos, String>,
    Option<(&'static str, String)>,
);

/// Parses the document and checks its expanded shape against the limits. `Ok`: whether any
/// operation of the document is a mutation (or subscription), whichever one would be chosen,
/// and where its arguments stand.
fn check_document(
    request: &mut async_graphql::Request,
    limits: &RequestLimits,
) -> Result<Checked, ServerError> {
    let operation_name = request.operation_name.clone();
    let doc = request.parsed_query()?;
    let shape = crate::graphql::document::Shape::of(doc);
    let refuse = |message: String, limit: &'static str| {
        crate::metrics::refused(limit);
        let mut e = ServerError::new(message, None);
        let ext = e.extensions.get_or_insert_with(Default::default);
        ext.set("code", code::GRAPHQL_VALIDATION_FAILED);
        ext.set("limit", limit);
        Err(e)
    };
    if shape.too_deep() {
        return refuse(
            format!(
                "selections and fragments nest deeper than {}",
                crate::graphql::document::MAX_NESTING
            ),
            "MAX_DEPTH",
        );
    }
    if shape.selections > limits.max_selections as u64 {
        return refuse(
            format!(
                "the document selects more than {} fields once its fragments are expanded",
                limits.max_selections
            ),
            "MAX_SELECTIONS",
        );
    }
    if shape.aliases > limits.max_aliases as u64 {
        return refuse(
            format!(
                "the document uses more than {} aliases once its fragments are expanded",
                limits.max_aliases
            ),
            "MAX_ALIASES",
        );
    }
    let facts = crate::graphql::document::Facts::of(doc);
    if facts.introspection && !limits.introspection {
        return refuse(
            "introspection is disabled on this server".into(),
            "INTROSPECTION",
        );
    }
    let has_mutation = doc
        .operations
        .iter()
        .any(|(_, op)| op.node.ty != OperationType::Query);
    // What the metrics call the operation: its kind and first root field, of the operation
    // named, or of the only one.
    let selected = match &operation_name {
        Some(name) => doc
            .operations
            .iter()
            .find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        None => doc.operations.iter().next(),
    };
    let label = selected.map(|(_, op)| {
        let kind = match op.node.ty {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        };
        let field = op
            .node
            .selection_set
            .node
            .items
            .iter()
            .find_map(|item| match &item.node {
                async_graphql::parser::types::Selection::Field(f) => {
                    Some(f.node.name.node.to_string())
                }
                _ => None,
            })
            .unwrap_or_else(|| "-".into());
        (kind, field)
    });
    Ok((has_mutation, facts.arguments, label))
}

/// Sets `code` unless the error has one, and always `requestId`.
fn set_code(e: &mut ServerError, error_code: &str, rid: &str) {
    let ext = e.extensions.get_or_insert_with(Default::default);
    if ext.get("code").is_none() {
        ext.set("code", error_code);
    }
    ext.set("requestId", rid);
}

/// Whether an unclassified execution error is async-graphql's refusal of an input value (an
/// `Int` past 32 bits, a value of the wrong type in a variable): its messages begin so.
fn is_input_value_error(message: &str) -> bool {
    message.starts_with("Failed to parse \"")
        || message.starts_with("Expected input type \"")
        || message.starts_with("Invalid value for argument")
}

/// An execution error: input values the executor could not parse are `BAD_USER_INPUT` naming
/// their argument (found by the value's position); causes of internal errors go to the log
/// (with the request id, from the span); errors the schema did not classify are internal too,
/// and their text is replaced.
fn finish_execution_error(
    e: &mut ServerError,
    rid: &str,
    arguments: &HashMap<async_graphql::Pos, String>,
) {
    let classified = e
        .extensions
        .as_ref()
        .is_some_and(|x| x.get("code").is_some());
    if !classified && is_input_value_error(&e.message) {
        let field = e
            .locations
            .first()
            .and_then(|pos| arguments.get(pos))
            .cloned();
        let ext = e.extensions.get_or_insert_with(Default::default);
        ext.set("code", code::BAD_USER_INPUT);
        if let Some(field) = field {
            e.message = format!("argument `{field}`: {}", e.message);
            e.extensions
                .get_or_insert_with(Default::default)
                .set("field", field);
        }
        set_code(e, code::BAD_USER_INPUT, rid);
        return;
    }
    if let Some(cause) = e.source::<InternalCause>() {
        tracing::error!(cause = %cause, path = ?e.path, "internal error");
    } else if !classified {
        tracing::error!(cause = %e.message, path = ?e.path, "unclassified error");
        e.message = "internal server error".into();
        set_code(e, code::INTERNAL_SERVER_ERROR, rid);
    }
    set_code(e, code::INTERNAL_SERVER_ERROR, rid);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        use MediaType::*;
        assert_eq!(negotiate(None), Some(GraphqlResponseJson));
        assert_eq!(negotiate(Some("application/json")), Some(Json));
        assert_eq!(
            negotiate(Some("application/graphql-response+json")),
            Some(GraphqlResponseJson)
        );
        assert_eq!(negotiate(Some("*/*")), Some(GraphqlResponseJson));
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(Json)
        );
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }

    #[test]
    fn request_ids() {
        assert!(valid_request_id("abc-123_X.y:z"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("has space"));
        assert!(!valid_request_id("line\nbreak"));
        assert!(!valid_request_id(&"x".repeat(129)));
    }
}

//! Bulk files of indicator values over HTTP, with the bearer token of `/graphql`.
//!
//! - `GET /export/indicator-values?format=csv|ndjson|dhis2&indicator=…&unit=…&descendants=true
//!   &periodFrom=…&periodTo=…&status=…&disaggregation=…`: the values the caller may read
//!   (published ones for everyone, every one of his scope), streamed in constant memory: on
//!   PostgreSQL one `COPY` ([`value_export::copy_out`], at most [`COPY_EXPORTS`] at once),
//!   otherwise a task reading pages of [`FIRST_PAGE`], then [`PAGE`], rows by id (keyset,
//!   `services::value_export`); either feeds a channel of a few chunks, and the response body
//!   is that channel. A failure before the first
//!   chunk is an ordinary JSON error; one after it (the database, `BULK_TIMEOUT`) ends the body
//!   with an error instead of a clean end, so that no client takes a cut-off file for a whole
//!   one.
//! - `POST /import/indicator-values?dryRun=true&skipInvalid=true&decimalComma=true`: the
//!   export's CSV or a DHIS2 data value set CSV as the body (at most `MAX_IMPORT_BYTES`),
//!   imported by `app::value_import` with the rights of `submitIndicatorValues`.
//!
//! Bad parameters are 400 with a GraphQL-shaped error body (`extensions.code`
//! `BAD_USER_INPUT`, `extensions.field` naming the parameter, `extensions.requestId`).
//! These routes sit outside `/graphql`'s body limit and timeout, with their own.

use crate::app::Caller;
use crate::app::value_import::{self, Options};
use crate::error::{AppError, Outcome, code};
use crate::http::{AppState, RequestId};
use crate::period::Period;
use crate::policy::Access;
use crate::services::value_export::{self, Codes};
use crate::services::values::ValueQuery;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use entity::enums::ValueStatus;
use entity::{indicator, indicator_value};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Rows of an export's first page: small, so that the response starts at once.
pub const FIRST_PAGE: u64 = 1_000;

/// Rows of its later pages: large, so that the statements' own cost is spread over many rows
/// (bounded memory still: a page of values is a few MB).
pub const PAGE: u64 = 5_000;

/// Pages (or chunks) an export keeps ready ahead of a slow client.
const AHEAD: usize = 4;

/// Exports that PostgreSQL streams at once in one `COPY` each, holding a connection of the pool
/// (16) for as long as the client reads; the others go by pages, which hold none between them.
pub const COPY_EXPORTS: usize = 4;

/// The CSV export's header.
pub const CSV_HEADER: [&str; 9] = [
    "indicator",
    "unit",
    "period",
    "disaggregation",
    "value",
    "status",
    "comment",
    "version",
    "updated_at",
];

/// The DHIS2 data value set header.
pub const DHIS2_HEADER: [&str; 10] = [
    "dataelement",
    "period",
    "orgunit",
    "categoryoptioncombo",
    "attributeoptioncombo",
    "value",
    "storedby",
    "lastupdated",
    "comment",
    "followup",
];

/// The bulk routes, with their own body limit (`MAX_IMPORT_BYTES`); their time limit is
/// `BULK_TIMEOUT`, kept by the handlers.
pub fn routes(state: AppState) -> Router {
    let import_limit = state.limits.max_import_bytes;
    Router::new()
        .route("/export/indicator-values", get(export))
        .route(
            "/import/indicator-values",
            post(import).layer(DefaultBodyLimit::max(import_limit)),
        )
        .with_state(state)
}

/// An error body shaped as GraphQL's, as JSON.
fn error(status: StatusCode, e: &AppError, rid: &str) -> Response {
    let mut ext = json!({"code": e.code(), "requestId": rid});
    match e {
        AppError::BadUserInput { field, .. } => ext["field"] = json!(field),
        AppError::Unavailable { outcome, .. } => {
            ext["outcome"] = json!(match outcome {
                Outcome::NotApplied => "NOT_APPLIED",
                Outcome::Unknown => "UNKNOWN",
            })
        }
        AppError::Internal(_) => tracing::error!(cause = %e.detail(), "bulk route"),
        _ => {}
    }
    let body = json!({"errors": [{"message": e.message(), "extensions": ext}]});
    let mut res = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

/// An application error as a response with its status.
fn app_error(e: &AppError, rid: &str) -> Response {
    let status = match e {
        AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, e, rid)
}

fn bad(field: &str, message: impl Into<String>, rid: &str) -> Response {
    app_error(&AppError::bad_input(field, message), rid)
}

/// A refusal with a code of the HTTP layer (`PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`).
fn refuse(
    status: StatusCode,
    error_code: &str,
    field: &str,
    message: String,
    rid: &str,
) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {
        "code": error_code, "field": field, "requestId": rid,
    }}]});
    (status, axum::Json(body)).into_response()
}

/// The same answer `/graphql` gives a credential that does not verify.
fn invalid_credentials(rid: &str) -> Response {
    let mut res = app_error(
        &AppError::Unauthenticated("invalid or expired credentials".into()),
        rid,
    );
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    res
}

/// The URL's parameters, repeated ones kept.
fn pairs(uri: &Uri) -> Result<Vec<(String, String)>, AppError> {
    serde_urlencoded::from_str(uri.query().unwrap_or_default())
        .map_err(|_| AppError::bad_input("query", "the URL parameters do not parse"))
}

/// `true` or `false`.
fn boolean(name: &str, v: &str) -> Result<bool, AppError> {
    match v.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(AppError::bad_input(name, format!("`{v}`: true or false"))),
    }
}

/// A parameter given once.
fn once(slot: &mut Option<String>, name: &str, v: String) -> Result<(), AppError> {
    if slot.replace(v).is_some() {
        return Err(AppError::bad_input(name, "give it once"));
    }
    Ok(())
}

pub use crate::services::value_export::Format;

/// An export's parameters, as given.
#[derive(Debug)]
struct ExportParams {
    format: Format,
    indicators: Vec<String>,
    unit: Option<String>,
    descendants: bool,
    period_from: Option<String>,
    period_to: Option<String>,
    statuses: Vec<ValueStatus>,
    disaggregation: Option<String>,
}

const EXPORT_PARAMS: &str =
    "format, indicator, unit, descendants, periodFrom, periodTo, status, disaggregation";

fn period(name: &str, v: &str) -> Result<String, AppError> {
    let v = v.trim();
    if v.len() > 8 || Period::parse(v).is_none() {
        return Err(AppError::bad_input(
            name,
            format!("`{v}` is not a DHIS2 period (2024, 2024S1, 2024Q3, 202406)"),
        ));
    }
    Ok(v.to_string())
}

impl ExportParams {
    fn parse(pairs: Vec<(String, String)>) -> Result<Self, AppError> {
        let mut format = None;
        let mut unit = None;
        let mut descendants = None;
        let (mut from, mut to, mut disaggregation) = (None, None, None);
        let mut indicators = Vec::new();
        let mut statuses = Vec::new();
        for (k, v) in pairs {
            match k.as_str() {
                "format" => once(&mut format, "format", v)?,
                "unit" => once(&mut unit, "unit", v)?,
                "descendants" => once(&mut descendants, "descendants", v)?,
                "periodFrom" => once(&mut from, "periodFrom", v)?,
                "periodTo" => once(&mut to, "periodTo", v)?,
                "disaggregation" => once(&mut disaggregation, "disaggregation", v)?,
                "indicator" => indicators.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_string),
                ),
                "status" => {
                    for word in v.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                        let s = <ValueStatus as sea_orm::ActiveEnum>::try_from_value(
                            &word.to_ascii_uppercase(),
                        )
                        .map_err(|_| {
                            AppError::bad_input(
                                "status",
                                format!(
                                    "`{word}`: DRAFT, SUBMITTED, APPROVED, REJECTED or PUBLISHED"
                                ),
                            )
                        })?;
                        statuses.push(s);
                    }
                }
                other => {
                    return Err(AppError::bad_input(
                        other,
                        format!("unknown parameter `{other}`: the export takes {EXPORT_PARAMS}"),
                    ));
                }
            }
        }
        let format = match format.as_deref().map(str::trim) {
            None | Some("csv") => Format::Csv,
            Some("ndjson") => Format::Ndjson,
            Some("dhis2") => Format::Dhis2,
            Some(f) => {
                return Err(AppError::bad_input(
                    "format",
                    format!("`{f}`: csv, ndjson or dhis2"),
                ));
            }
        };
        let unit = unit.map(|u| u.trim().to_string());
        if let Some(u) = &unit
            && (u.is_empty() || u.len() > 5 || !u.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(AppError::bad_input(
                "unit",
                format!("`{u}`: a unit code is 2, 3 or 5 digits"),
            ));
        }
        let descendants = match descendants {
            None => false,
            Some(v) => boolean("descendants", &v)?,
        };
        if descendants && unit.is_none() {
            return Err(AppError::bad_input(
                "descendants",
                "descendants goes with unit: the units below which unit?",
            ));
        }
        let disaggregation = disaggregation
            .map(|d| crate::text::clean(&d))
            .filter(|d| !d.is_empty());
        Ok(Self {
            format,
            indicators,
            unit,
            descendants,
            period_from: from.map(|v| period("periodFrom", &v)).transpose()?,
            period_to: to.map(|v| period("periodTo", &v)).transpose()?,
            statuses,
            disaggregation,
        })
    }

    /// The filter by ids: unknown indicator and unit codes are refused (400) rather than
    /// answered with an empty file.
    async fn query(
        &self,
        db: &DatabaseConnection,
        units: &crate::services::unit_snapshot::UnitSnapshot,
    ) -> Result<ValueQuery, AppError> {
        let mut q = ValueQuery {
            period_from: self.period_from.clone(),
            period_to: self.period_to.clone(),
            statuses: (!self.statuses.is_empty()).then(|| self.statuses.clone()),
            disaggregation: self.disaggregation.clone(),
            ..Default::default()
        };
        if !self.indicators.is_empty() {
            let found = indicator::Entity::find()
                .filter(indicator::Column::Code.is_in(self.indicators.iter().map(String::as_str)))
                .all(db)
                .await?;
            if let Some(missing) = self
                .indicators
                .iter()
                .find(|c| !found.iter().any(|i| &i.code == *c))
            {
                return Err(AppError::bad_input(
                    "indicator",
                    format!("no indicator `{missing}`"),
                ));
            }
            q.indicators = Some(found.into_iter().map(|i| i.id).collect());
        }
        if let Some(code) = &self.unit {
            let roots = units.with_code(code, None);
            if roots.is_empty() {
                return Err(AppError::bad_input("unit", format!("no unit `{code}`")));
            }
            q.of_units(units, &roots, self.descendants);
        }
        Ok(q)
    }
}

/// The pool an export reads: the replica, if there is one, unless the caller wrote within its
/// allowed lag (he reads his own writes), as `/graphql` decides for queries.
async fn read_pool(
    state: &AppState,
    principal: Option<&crate::auth::Principal>,
) -> Result<DatabaseConnection, AppError> {
    let Some(replica) = &state.read_db else {
        return Ok(state.db.clone());
    };
    let Some(p) = principal else {
        return Ok(replica.clone());
    };
    let since =
        chrono::Utc::now() - chrono::Duration::seconds(state.replica_max_lag_seconds as i64);
    let actor = crate::services::audit::Actor::of(p, None).name;
    Ok(
        if crate::services::audit::wrote_since(&state.db, &actor, since).await? {
            state.db.clone()
        } else {
            replica.clone()
        },
    )
}

/// `GET /export/indicator-values`.
async fn export(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    axum::Extension(RequestId(rid)): axum::Extension<RequestId>,
) -> Response {
    let Ok(principal) = crate::http::authenticate(&state, &headers).await else {
        return invalid_credentials(&rid);
    };
    let params = match pairs(&uri).and_then(ExportParams::parse) {
        Ok(p) => p,
        Err(e) => return app_error(&e, &rid),
    };
    let db = match read_pool(&state, principal.as_ref()).await {
        Ok(db) => db,
        Err(e) => return app_error(&e, &rid),
    };
    let units = match state.units.current(&db).await {
        Ok(u) => u,
        Err(e) => return app_error(&e, &rid),
    };
    let q = match params.query(&db, &units).await {
        Ok(q) => q,
        Err(e) => return app_error(&e, &rid),
    };
    let visible = Access::new(db.clone(), principal).visible_values();
    let format = params.format;

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, AppError>>(AHEAD);
    // PostgreSQL writes the file itself, in one `COPY`, while few such exports run; past
    // that, and on SQLite, pages (which hold no connection between them).
    let copy = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => state.export_streams.clone().try_acquire_owned().ok(),
        _ => None,
    };
    if let Some(permit) = copy {
        let sql = value_export::copy_statement(&visible, &q, format);
        let pool = db.get_postgres_connection_pool().clone();
        let limit = Duration::from_secs(state.limits.bulk_timeout_seconds);
        tokio::spawn(
            async move {
                let bytes = value_export::copy_out(&pool, &sql, limit, tx).await;
                drop(permit);
                tracing::info!(bytes, "export ended");
            }
            .in_current_span(),
        );
    } else {
        spawn_pages(db, visible, q, format, units, &state.limits, tx);
    }

    // The first chunk decides the status: a failure there is still an ordinary error.
    let first = match rx.recv().await {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return app_error(&e, &rid),
        None => return app_error(&AppError::internal("the export task ended"), &rid),
    };
    // Chunks until the end mark (an empty chunk); a channel that closes before it, or a
    // failure, ends the body with an error, so that a cut-off file never looks whole.
    let stream =
        futures_util::stream::unfold((Some(first), Some(rx)), |(pending, rx)| async move {
            let mut rx = rx?;
            let item = match pending {
                Some(bytes) => Some(Ok(bytes)),
                None => rx.recv().await,
            };
            match item {
                Some(Ok(bytes)) if bytes.is_empty() => None,
                Some(Ok(bytes)) => Some((Ok(bytes), (None, Some(rx)))),
                Some(Err(e)) => Some((Err(std::io::Error::other(e.message())), (None, None))),
                None => Some((
                    Err(std::io::Error::other("the export stopped before its end")),
                    (None, None),
                )),
            }
        });
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", format.file_name()))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The paged export: a task reads pages by id and feeds `tx` (see the module documentation).
fn spawn_pages(
    db: DatabaseConnection,
    visible: crate::policy::Visible<crate::policy::Values>,
    q: ValueQuery,
    format: Format,
    units: Arc<crate::services::unit_snapshot::UnitSnapshot>,
    limits: &crate::config::RequestLimits,
    tx: tokio::sync::mpsc::Sender<Result<Bytes, AppError>>,
) {
    let page_timeout = Duration::from_secs(limits.execution_timeout_seconds);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(limits.bulk_timeout_seconds);
    // The next page is read by its own task while this one encodes and sends the current
    // one: the database and the encoding then run on both cores instead of taking turns.
    let fetch = {
        let (db, visible, q) = (db.clone(), visible.clone(), q.clone());
        move |after: i64, limit: u64| {
            let (db, visible, q) = (db.clone(), visible.clone(), q.clone());
            tokio::spawn(
                async move {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(AppError::internal("the export ran past BULK_TIMEOUT"));
                    }
                    match tokio::time::timeout(
                        page_timeout,
                        value_export::page_after(&db, &visible, &q, after, limit),
                    )
                    .await
                    {
                        Ok(page) => page,
                        Err(_) => Err(AppError::internal("a page of the export timed out")),
                    }
                }
                .in_current_span(),
            )
        }
    };
    tokio::spawn(
        async move {
            let mut codes = Codes::new(units);
            let mut first = true;
            let mut rows = 0usize;
            let mut limit = FIRST_PAGE;
            let mut next = Some(fetch(0, limit));
            while let Some(reading) = next.take() {
                let page = match reading.await {
                    Ok(Ok(page)) => codes.load(&db, &page).await.map(|()| page),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(AppError::internal("a page of the export failed")),
                };
                let page = match page {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(cause = %e.detail(), rows, "export stopped");
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                // A short page is the last; otherwise the next one is read meanwhile.
                if page.len() as u64 == limit {
                    limit = PAGE;
                    next = page.last().map(|v| fetch(v.id, limit));
                }
                let bytes = encode(format, &page, &codes, first);
                first = false;
                rows += page.len();
                // An empty chunk is the end mark (an empty last page of NDJSON is nothing).
                if !bytes.is_empty() && tx.send(Ok(bytes)).await.is_err() {
                    if let Some(reading) = next {
                        reading.abort();
                    }
                    tracing::info!(rows, "export: the client went away");
                    return;
                }
            }
            let _ = tx.send(Ok(value_export::end_mark())).await;
            tracing::info!(rows, "export done");
        }
        .instrument(tracing::Span::current()),
    );
}

/// An instant as the export writes it: RFC 3339, UTC, whole seconds (as the GraphQL
/// `DateTime`).
fn instant(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A page in the export's format (with the header first).
fn encode(format: Format, page: &[indicator_value::Model], codes: &Codes, first: bool) -> Bytes {
    let status = |v: &indicator_value::Model| sea_orm::ActiveEnum::to_value(&v.status);
    let value = |v: &indicator_value::Model| {
        v.value
            .as_ref()
            .map(|d| d.as_str().to_string())
            .unwrap_or_default()
    };
    let mut buf = Vec::with_capacity(page.len() * 120 + 128);
    match format {
        Format::Ndjson => {
            for v in page {
                let line = json!({
                    "indicator": codes.indicator(v.indicator_id),
                    "unit": codes.unit(v.admin_unit_id),
                    "period": v.period,
                    "disaggregation": v.disaggregation,
                    "value": v.value.as_ref().map(|d| d.as_str()),
                    "status": status(v),
                    "comment": v.comment,
                    "version": v.version,
                    "updated_at": instant(&v.updated_at),
                });
                // Writing JSON into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut buf, &line);
                buf.push(b'\n');
            }
        }
        Format::Csv | Format::Dhis2 => {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(&mut buf);
            // Writing CSV into a Vec cannot fail.
            if first {
                let _ = match format {
                    Format::Dhis2 => w.write_record(DHIS2_HEADER),
                    _ => w.write_record(CSV_HEADER),
                };
            }
            for v in page {
                let (ind, unit) = (codes.indicator(v.indicator_id), codes.unit(v.admin_unit_id));
                let comment = v.comment.as_deref().unwrap_or("");
                let updated = instant(&v.updated_at);
                let _ = match format {
                    Format::Dhis2 => w.write_record([
                        ind,
                        &v.period,
                        unit,
                        &v.disaggregation,
                        "",
                        &value(v),
                        v.stored_by.as_deref().unwrap_or(""),
                        &updated,
                        comment,
                        "false",
                    ]),
                    _ => w.write_record([
                        ind,
                        unit,
                        &v.period,
                        &v.disaggregation,
                        &value(v),
                        &status(v),
                        comment,
                        &v.version.to_string(),
                        &updated,
                    ]),
                };
            }
            let _ = w.flush();
        }
    }
    Bytes::from(buf)
}

/// `POST /import/indicator-values`.
async fn import(
    State(state): State<AppState>,
    axum::Extension(RequestId(rid)): axum::Extension<RequestId>,
    request: axum::extract::Request,
) -> Response {
    // The body is read last, once the caller may import: nobody else makes the server take
    // in a file.
    let (uri, headers) = (request.uri().clone(), request.headers().clone());
    let Ok(principal) = crate::http::authenticate(&state, &headers).await else {
        return invalid_credentials(&rid);
    };
    let mut opts = Options::default();
    let parsed = pairs(&uri).and_then(|pairs| {
        let mut given = std::collections::HashSet::new();
        for (k, v) in pairs {
            if !given.insert(k.clone()) {
                return Err(AppError::bad_input(&k, "give it once"));
            }
            match k.as_str() {
                "dryRun" => opts.dry_run = boolean(&k, &v)?,
                "skipInvalid" => opts.skip_invalid = boolean(&k, &v)?,
                "decimalComma" => opts.decimal_comma = boolean(&k, &v)?,
                other => {
                    return Err(AppError::bad_input(
                        other,
                        format!(
                            "unknown parameter `{other}`: the import takes dryRun, skipInvalid, decimalComma"
                        ),
                    ));
                }
            }
        }
        Ok(())
    });
    if let Err(e) = parsed {
        return app_error(&e, &rid);
    }
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("multipart/"));
    if multipart {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "file",
            "send the file itself as the body (curl --data-binary @values.csv), not a form".into(),
            &rid,
        );
    }
    let access = Arc::new(Access::new(state.db.clone(), principal));
    let caller = match Caller::request(
        access,
        Some(rid.clone()),
        Some(state.subjects.clone()),
        None,
    ) {
        Ok(c) => c,
        Err(e) => return app_error(&e, &rid),
    };
    // Who may not import learns it before the body matters.
    if let Err(e) = crate::app::values::arrival_status(&caller, false) {
        return app_error(&e, &rid);
    }
    let body = match <Bytes as axum::extract::FromRequest<AppState>>::from_request(request, &state)
        .await
    {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "file",
                format!(
                    "the file is larger than {} bytes (MAX_IMPORT_BYTES): split it",
                    state.limits.max_import_bytes
                ),
                &rid,
            );
        }
        Err(_) => return bad("file", "the body could not be read", &rid),
    };
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(state.limits.bulk_timeout_seconds);
    let outcome = value_import::import(
        &state.db,
        &caller,
        &body[..],
        opts,
        Some(deadline),
        |_, _| {},
    )
    .await;
    let report = match outcome {
        Ok(Ok(r)) => r,
        Ok(Err(stopped)) => {
            let body = json!({"errors": [{
                "message": format!(
                    "the import ran past BULK_TIMEOUT ({} s) after {} rows and was rolled back: nothing was written; split the file",
                    state.limits.bulk_timeout_seconds, stopped.rows
                ),
                "extensions": {"code": code::TIMEOUT, "outcome": "NOT_APPLIED", "requestId": rid},
            }]});
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        }
        Err(e) => return app_error(&e, &rid),
    };
    // Refused (rows rejected, nothing written): 422 with the same report.
    let status = if report.rejected > 0 && !opts.skip_invalid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, axum::Json(report_json(&report, opts))).into_response()
}

/// The import's report as JSON.
pub fn report_json(r: &value_import::Report, opts: Options) -> Value {
    json!({
        "format": r.format.name(),
        "rows": r.rows,
        "imported": r.created,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "rejected": r.rejected,
        "rejectedRows": r.rejected_rows.iter().map(|x| json!({
            "row": x.row, "field": x.field, "reason": x.reason,
        })).collect::<Vec<_>>(),
        "rejectedRowsOmitted": r.omitted,
        "dryRun": r.dry_run,
        "skipInvalid": opts.skip_invalid,
        "decimalComma": opts.decimal_comma,
        "written": r.written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_export_writes_the_headers_of_the_paged_one() {
        use crate::services::value_export::header;
        assert_eq!(header(Format::Csv), CSV_HEADER);
        assert_eq!(header(Format::Ndjson), CSV_HEADER);
        assert_eq!(header(Format::Dhis2), DHIS2_HEADER);
    }
}

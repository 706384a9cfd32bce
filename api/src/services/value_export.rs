//! The SQL of the bulk export of indicator values.
//!
//! - **PostgreSQL**: the whole export is one `COPY (SELECT …) TO STDOUT` ([`copy_statement`],
//!   streamed by [`copy_out`]): PostgreSQL writes the CSV (or the JSON lines) itself, with the
//!   codes joined in, and this server only passes its bytes on, in chunks of [`CHUNK`]. The file
//!   is one snapshot. It holds one connection while it runs, under `BULK_TIMEOUT`; the caller
//!   bounds how many run at once and falls back to pages past that.
//! - **SQLite**, and PostgreSQL past that bound: pages by id (keyset, [`page_after`]) under the
//!   policy's condition, and the codes of the indicators and units a page names ([`Codes`]).
//!   Each page is one statement on the pool: no connection and no transaction is held between
//!   pages, so a slow client holds nothing in the database. The price is that such an export is
//!   not one snapshot: each row is as its page read it, every row at most once (ids only grow),
//!   and a value created while the export runs appears if its id is past the last page read.
//!   A reader that needs a consistent cut follows the change feed instead.
//!
//! Both write the same columns in the same order (rows by id); the encodings differ only in
//! bytes a CSV or JSON reader does not see (quoting that is not needed, spaces in JSON).

use crate::error::{AppError, AppResult};
use crate::policy::{Values, Visible};
use crate::services::unit_snapshot::UnitSnapshot;
use crate::services::values::ValueQuery;
use bytes::{Bytes, BytesMut};
use entity::{admin_unit, indicator, indicator_value};
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait, PostgresQueryBuilder};
use sea_orm::sqlx::postgres::PgPool;
use sea_orm::sqlx::{self, AssertSqlSafe};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The export's formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// CSV with the header `indicator,unit,period,disaggregation,value,status,comment,version,
    /// updated_at`.
    Csv,
    /// One JSON object a line, with the CSV's names.
    Ndjson,
    /// A DHIS2 data value set as CSV: `dataelement,period,orgunit,categoryoptioncombo,
    /// attributeoptioncombo,value,storedby,lastupdated,comment,followup`.
    Dhis2,
}

impl Format {
    /// Its media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv | Self::Dhis2 => "text/csv; charset=utf-8",
            Self::Ndjson => "application/x-ndjson",
        }
    }

    /// The file name it is offered under.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Csv => "indicator-values.csv",
            Self::Ndjson => "indicator-values.ndjson",
            Self::Dhis2 => "indicator-values-dhis2.csv",
        }
    }
}

/// What an export reads: `q`, never tombstones.
fn exported(q: &ValueQuery) -> ValueQuery {
    ValueQuery {
        include_deleted: false,
        ..q.clone()
    }
}

/// Bytes passed on at a time by [`copy_out`] (PostgreSQL sends a message a row).
pub const CHUNK: usize = 64 * 1024;

/// An instant as the export writes it, in SQL: RFC 3339, UTC, whole seconds (truncated, as
/// chrono's `SecondsFormat::Secs`).
const INSTANT: &str =
    r#"to_char("indicator_value"."updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"#;

/// The columns of a format: (name in the header, SQL). Text that may be empty is NULL instead,
/// so that PostgreSQL writes it unquoted, as the CSV writer of the paged path does.
fn columns(format: Format) -> Vec<(&'static str, String)> {
    let v = |c: &str| format!(r#""indicator_value"."{c}""#);
    let text = |c: &str| format!(r#"NULLIF("indicator_value"."{c}", '')"#);
    let indicator = r#""indicator"."code""#.to_string();
    let unit = r#""admin_unit"."code""#.to_string();
    let value = format!("{}::text", v("value"));
    match format {
        Format::Csv | Format::Ndjson => vec![
            ("indicator", indicator),
            ("unit", unit),
            ("period", v("period")),
            ("disaggregation", v("disaggregation")),
            ("value", value),
            ("status", v("status")),
            ("comment", text("comment")),
            ("version", v("version")),
            ("updated_at", INSTANT.to_string()),
        ],
        Format::Dhis2 => vec![
            ("dataelement", indicator),
            ("period", v("period")),
            ("orgunit", unit),
            ("categoryoptioncombo", v("disaggregation")),
            ("attributeoptioncombo", "NULL::text".to_string()),
            ("value", value),
            ("storedby", text("stored_by")),
            ("lastupdated", INSTANT.to_string()),
            ("comment", text("comment")),
            ("followup", "'false'".to_string()),
        ],
    }
}

/// The names of a format's columns, in order: the CSV header.
pub fn header(format: Format) -> Vec<&'static str> {
    columns(format).into_iter().map(|(name, _)| name).collect()
}

/// The whole export as one `COPY … TO STDOUT` statement (PostgreSQL): the visible, not deleted
/// values matching `q`, by id, with their indicator's and unit's codes joined in.
///
/// `COPY` takes no parameters, so the query's values are written into the text by sea-query's
/// PostgreSQL builder, which quotes and escapes them (the only text among them is the
/// disaggregation and the period ids, both from the caller; ids and statuses are the rest).
pub fn copy_statement(visible: &Visible<Values>, q: &ValueQuery, format: Format) -> String {
    use indicator_value::Column as V;
    let q = exported(q);
    let cols = columns(format);
    let mut select = q.select(visible).select_only();
    match format {
        Format::Csv | Format::Dhis2 => {
            for (name, sql) in &cols {
                select = select.column_as(Expr::cust(sql.clone()), *name);
            }
        }
        Format::Ndjson => {
            // One text column: the object, keys in the CSV's order.
            let pairs: Vec<String> = cols
                .iter()
                .map(|(name, sql)| format!("'{name}', {sql}"))
                .collect();
            select = select.column_as(
                Expr::cust(format!("json_build_object({})::text", pairs.join(", "))),
                "line",
            );
        }
    }
    let mut stmt = select.order_by(V::Id, Order::Asc).into_query();
    stmt.inner_join(
        indicator::Entity,
        Expr::col((indicator::Entity, indicator::Column::Id))
            .equals((indicator_value::Entity, V::IndicatorId)),
    )
    .inner_join(
        admin_unit::Entity,
        Expr::col((admin_unit::Entity, admin_unit::Column::Id))
            .equals((indicator_value::Entity, V::AdminUnitId)),
    );
    let sql = stmt.to_string(PostgresQueryBuilder);
    match format {
        Format::Csv | Format::Dhis2 => {
            format!("COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)")
        }
        // CSV mode with a quote and a delimiter that JSON text never holds raw (it escapes
        // control characters), and no line breaks in it: each line goes out as it is.
        Format::Ndjson => {
            format!("COPY ({sql}) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')")
        }
    }
}

fn db_err(e: sqlx::Error) -> AppError {
    AppError::from(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
        Arc::new(e),
    )))
}

/// Logs why an export stopped and tells its reader, if he takes it within a few seconds (a
/// reader that stopped reading has a full channel).
async fn fail(tx: &mpsc::Sender<AppResult<Bytes>>, e: AppError, sent: usize) {
    tracing::error!(cause = %e.detail(), bytes = sent, "export stopped");
    let _ = tokio::time::timeout(Duration::from_secs(5), tx.send(Err(e))).await;
}

/// The item that ends an export's channel: an empty chunk. A channel that closes without it
/// was cut off, and the response body then ends with an error, not a clean end.
pub fn end_mark() -> Bytes {
    Bytes::new()
}

/// Bytes held back at most this long before they are passed on, however few (a sparse filter
/// still shows the client, and any proxy between, that the export is alive).
const HOLD: Duration = Duration::from_secs(1);

/// Runs a [`copy_statement`] on a connection of its own and sends its bytes to `tx`: the first
/// message (the header, or the first line) at once, then chunks of about [`CHUNK`] (or what
/// came within [`HOLD`]), then [`end_mark`]; a failure is sent as the last item instead. The
/// statement runs in a read-only transaction whose `statement_timeout` is `limit`; the same
/// limit also bounds every wait here (for the database, and for a reader that stopped
/// reading), since PostgreSQL does not time out a statement that waits on a slow reader. When
/// the stream stops early (the receiver went away, a failure, the limit), the connection is
/// closed rather than returned to the pool half way through a `COPY`, which ends the statement
/// on the server. Returns the bytes sent.
pub async fn copy_out(
    pool: &PgPool,
    sql: &str,
    limit: Duration,
    tx: mpsc::Sender<AppResult<Bytes>>,
) -> usize {
    let deadline = tokio::time::Instant::now() + limit;
    let late = || AppError::internal("the export ran past BULK_TIMEOUT");
    let mut conn = match tokio::time::timeout_at(deadline, pool.acquire()).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            fail(&tx, db_err(e), 0).await;
            return 0;
        }
        Err(_) => {
            fail(&tx, late(), 0).await;
            return 0;
        }
    };
    let begin = format!(
        "BEGIN READ ONLY; SET LOCAL statement_timeout = {}",
        limit.as_millis().max(1)
    );
    let began = tokio::time::timeout_at(
        deadline,
        sqlx::raw_sql(AssertSqlSafe(begin)).execute(&mut *conn),
    )
    .await;
    if !matches!(began, Ok(Ok(_))) {
        let e = match began {
            Ok(Err(e)) => db_err(e),
            _ => late(),
        };
        fail(&tx, e, 0).await;
        drop(conn.detach());
        return 0;
    }
    // A reader that stops reading blocks the channel: the wait is bounded by the deadline.
    let send = |bytes: Bytes| {
        let tx = tx.clone();
        async move {
            matches!(
                tokio::time::timeout_at(deadline, tx.send(Ok(bytes))).await,
                Ok(Ok(()))
            )
        }
    };
    let mut sent = 0usize;
    let clean = 'copy: {
        let mut stream = match tokio::time::timeout_at(deadline, conn.copy_out_raw(sql)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                fail(&tx, db_err(e), 0).await;
                break 'copy false;
            }
            Err(_) => {
                fail(&tx, late(), 0).await;
                break 'copy false;
            }
        };
        let mut buf = BytesMut::with_capacity(CHUNK + 1024);
        let mut held_since: Option<tokio::time::Instant> = None;
        let mut first = true;
        loop {
            let next = tokio::select! {
                // The client went away (the response body was dropped): stop now, not at the
                // next chunk, which a sparse filter may take long to fill.
                () = tx.closed() => {
                    tracing::info!(bytes = sent, "export: the client went away");
                    break 'copy false;
                }
                next = tokio::time::timeout_at(deadline, stream.next()) => next,
            };
            match next {
                Ok(Some(Ok(bytes))) => {
                    buf.extend_from_slice(&bytes);
                    if buf.is_empty() {
                        // Nothing to pass on (an empty chunk is the end mark).
                        continue;
                    }
                    let since = *held_since.get_or_insert_with(tokio::time::Instant::now);
                    if !first && buf.len() < CHUNK && since.elapsed() < HOLD {
                        continue;
                    }
                }
                Ok(Some(Err(e))) => {
                    fail(&tx, db_err(e), sent).await;
                    break 'copy false;
                }
                Ok(None) => {
                    sent += buf.len();
                    let rest = buf.is_empty() || send(buf.freeze()).await;
                    break 'copy rest && send(end_mark()).await;
                }
                Err(_) => {
                    fail(&tx, late(), sent).await;
                    break 'copy false;
                }
            }
            first = false;
            held_since = None;
            sent += buf.len();
            if !send(buf.split().freeze()).await {
                // Gone, or past the deadline with a full channel: the missing end mark tells
                // the reader, if any, that the file is cut off.
                tracing::info!(
                    bytes = sent,
                    "export: the client went away or stopped reading"
                );
                break 'copy false;
            }
        }
    };
    if clean
        && matches!(
            tokio::time::timeout_at(
                deadline,
                sqlx::raw_sql(AssertSqlSafe("COMMIT")).execute(&mut *conn)
            )
            .await,
            Ok(Ok(_))
        )
    {
        return sent;
    }
    // Closed, not returned to the pool: a `COPY` stopped half way would still be sending.
    drop(conn.detach());
    sent
}

/// The visible, not deleted values after id `after` that match `q`, by id, at most `limit`.
pub async fn page_after<C: ConnectionTrait>(
    db: &C,
    visible: &Visible<Values>,
    q: &ValueQuery,
    after: i64,
    limit: u64,
) -> AppResult<Vec<indicator_value::Model>> {
    use indicator_value::Column as V;
    // The same filters as `indicatorValues`; never tombstones.
    let s = exported(q).select(visible).filter(V::Id.gt(after));
    Ok(s.order_by(V::Id, Order::Asc).limit(limit).all(db).await?)
}

/// Codes of indicators and units by id: units from the hierarchy in memory, indicators (and
/// any unit newer than that hierarchy) read as pages need them and kept for the rest of the
/// export (bounded by the size of the catalogue and of the unit list, not by the export's).
pub struct Codes {
    snapshot: Arc<UnitSnapshot>,
    indicators: HashMap<i64, String>,
    units: HashMap<i64, String>,
}

impl Codes {
    /// Codes over this hierarchy.
    pub fn new(snapshot: Arc<UnitSnapshot>) -> Self {
        Self {
            snapshot,
            indicators: HashMap::new(),
            units: HashMap::new(),
        }
    }

    /// Reads the codes a page names that are not known yet: at most two statements.
    pub async fn load<C: ConnectionTrait>(
        &mut self,
        db: &C,
        rows: &[indicator_value::Model],
    ) -> AppResult<()> {
        let mut inds: Vec<i64> = rows
            .iter()
            .map(|v| v.indicator_id)
            .filter(|id| !self.indicators.contains_key(id))
            .collect();
        inds.sort_unstable();
        inds.dedup();
        if !inds.is_empty() {
            for i in indicator::Entity::find()
                .filter(indicator::Column::Id.is_in(inds))
                .all(db)
                .await?
            {
                self.indicators.insert(i.id, i.code);
            }
        }
        let mut units: Vec<i64> = rows
            .iter()
            .map(|v| v.admin_unit_id)
            .filter(|id| self.snapshot.code(*id).is_none() && !self.units.contains_key(id))
            .collect();
        units.sort_unstable();
        units.dedup();
        if !units.is_empty() {
            for u in admin_unit::Entity::find()
                .filter(admin_unit::Column::Id.is_in(units))
                .all(db)
                .await?
            {
                self.units.insert(u.id, u.code);
            }
        }
        Ok(())
    }

    /// An indicator's code (empty if unknown, which a foreign key rules out).
    pub fn indicator(&self, id: i64) -> &str {
        self.indicators.get(&id).map(String::as_str).unwrap_or("")
    }

    /// A unit's code (empty if unknown, which a foreign key rules out).
    pub fn unit(&self, id: i64) -> &str {
        self.snapshot
            .code(id)
            .or_else(|| self.units.get(&id).map(String::as_str))
            .unwrap_or("")
    }
}

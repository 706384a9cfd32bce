//! The bulk import's PostgreSQL path: checked rows go into a staging table through `COPY`, and
//! the values, their revisions and their feed entries are then written from it by a few
//! set-based statements inside the import's transaction, whatever the number of rows.
//!
//! The staging table is `UNLOGGED` (no WAL), one per import, named
//! `value_import_stage_<unix seconds>_<random>`. It is created and filled outside the
//! import's transaction, by one `COPY` per megabyte of rows on the pool's connections (a
//! `COPY` needs the wire protocol's copy mode, which a sea-orm transaction does not expose), so
//! its rows are committed before the transaction reads them; it is dropped when the import
//! ends. [`sweep`] drops those a crash left behind. The set-based statements run under the
//! import's own time limit ([`Stage::time_limit`]), not the pool's per-statement one.
//!
//! Rows in the table are classified against the stored values in one `UPDATE … FROM`:
//! `c` new, `s` the same as stored (nothing written), `l` locked (approved or published and
//! different: refused), `u` changed. The rules are those of `app::values::write`.
//!
//! Table names in the SQL below are made here (`value_import_stage_<digits>_<hex>`), never taken
//! from input: they are the only text formatted into statements.

use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use entity::enums::ValueStatus;
use sea_orm::sqlx::AssertSqlSafe;
use sea_orm::sqlx::postgres::{PgPool, PgPoolCopyExt};
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};

/// Bytes buffered before they are sent to `COPY`.
const SEND_AT: usize = 1 << 20;

/// A staged row: the checked key, the value in canonical text, the comment.
pub struct StagedRow<'a> {
    /// The row's number in the file.
    pub index: usize,
    /// Indicator id.
    pub indicator_id: i64,
    /// Unit id.
    pub unit_id: i64,
    /// DHIS2 period.
    pub period: &'a str,
    /// Disaggregation.
    pub disaggregation: &'a str,
    /// The value, canonical ("6.5").
    pub value: &'a str,
    /// The comment.
    pub comment: Option<&'a str>,
}

/// An import's staging table, being filled.
pub struct Stage {
    pool: PgPool,
    table: String,
    buf: Vec<u8>,
    /// Rows sent.
    sent: u64,
    /// Dropped already ([`Stage::finish`]); otherwise `Drop` drops it in the background
    /// (an import abandoned mid-way, its request cancelled).
    dropped: bool,
}

impl Drop for Stage {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (pool, table) = (self.pool.clone(), self.table.clone());
            rt.spawn(async move {
                let _ =
                    sea_orm::sqlx::query(AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
                        .execute(&pool)
                        .await;
            });
        }
    }
}

/// What the staged rows would do.
#[derive(Debug, Default)]
pub struct Classified {
    /// New values.
    pub created: usize,
    /// Changed values.
    pub updated: usize,
    /// Rows equal to the stored value.
    pub unchanged: usize,
    /// Rows refused because their value is approved or published: how many.
    pub locked: usize,
    /// The first of them by row: (row, the value's status).
    pub locked_rows: Vec<(usize, String)>,
}

fn db_err(e: sea_orm::sqlx::Error) -> AppError {
    AppError::from(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
        std::sync::Arc::new(e),
    )))
}

/// Appends `s` in `COPY`'s text format (backslash escapes).
fn escaped(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

impl Stage {
    /// Creates the staging table.
    pub async fn open(db: &DatabaseConnection) -> AppResult<Self> {
        let pool = db.get_postgres_connection_pool().clone();
        let mut random = [0u8; 6];
        getrandom::fill(&mut random).map_err(|e| AppError::internal(e.to_string()))?;
        let table = format!(
            "value_import_stage_{}_{}",
            Utc::now().timestamp(),
            random
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        sea_orm::sqlx::query(AssertSqlSafe(format!(
            "CREATE UNLOGGED TABLE {table} (idx bigint NOT NULL, indicator_id bigint NOT NULL, \
             admin_unit_id bigint NOT NULL, period text NOT NULL, disaggregation text NOT NULL, \
             value numeric NOT NULL, comment text, action text NOT NULL DEFAULT 'c', \
             value_id bigint, old_status text)"
        )))
        .execute(&pool)
        .await
        .map_err(db_err)?;
        Ok(Self {
            pool,
            table,
            buf: Vec::with_capacity(SEND_AT + 4096),
            sent: 0,
            dropped: false,
        })
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Adds rows (sent once a megabyte is buffered).
    pub async fn add<'a>(
        &mut self,
        rows: impl IntoIterator<Item = StagedRow<'a>>,
    ) -> AppResult<()> {
        use std::io::Write;
        for r in rows {
            let b = &mut self.buf;
            let _ = write!(b, "{}\t{}\t{}\t", r.index, r.indicator_id, r.unit_id);
            escaped(b, r.period);
            b.push(b'\t');
            escaped(b, r.disaggregation);
            b.push(b'\t');
            escaped(b, r.value);
            b.push(b'\t');
            match r.comment {
                Some(c) => escaped(b, c),
                None => b.extend_from_slice(b"\\N"),
            }
            b.push(b'\n');
        }
        if self.buf.len() >= SEND_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends the buffered rows: one `COPY` per megabyte, so that no statement runs for as long
    /// as the file takes to read and check (statements have a timeout).
    async fn flush(&mut self) -> AppResult<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut copy = self
            .pool
            .copy_in_raw(&format!(
                "COPY {} (idx, indicator_id, admin_unit_id, period, disaggregation, value, comment) \
                 FROM STDIN",
                self.table
            ))
            .await
            .map_err(db_err)?;
        if let Err(e) = copy.send(self.buf.as_slice()).await {
            let _ = copy.abort("the import failed").await;
            return Err(db_err(e));
        }
        self.sent += copy.finish().await.map_err(db_err)?;
        self.buf.clear();
        Ok(())
    }

    /// Sends what is left and analyses the table: the rows staged.
    pub async fn close(&mut self) -> AppResult<u64> {
        self.flush().await?;
        sea_orm::sqlx::query(AssertSqlSafe(format!("ANALYZE {}", self.table)))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(self.sent)
    }

    /// Sets the transaction's statement timeout to what is left of the import's time (none
    /// without a deadline: the command line), instead of the pool's per-statement timeout,
    /// which a set-based write of a million rows may well exceed. `SET LOCAL`: it ends with
    /// the transaction.
    pub async fn time_limit<C: ConnectionTrait>(
        txn: &C,
        deadline: Option<tokio::time::Instant>,
    ) -> AppResult<()> {
        let ms = deadline.map_or(0, |d| {
            d.saturating_duration_since(tokio::time::Instant::now())
                .as_millis()
                .max(1)
        });
        txn.execute_unprepared(&format!("SET LOCAL statement_timeout = {ms}"))
            .await?;
        Ok(())
    }

    /// Classifies the staged rows against the stored values (inside the import's transaction,
    /// after value writers' turn was taken): one `UPDATE` and two `SELECT`s.
    pub async fn classify<C: ConnectionTrait>(
        &self,
        txn: &C,
        status: ValueStatus,
        max_listed: usize,
    ) -> AppResult<Classified> {
        let t = &self.table;
        let status = status.to_value();
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE {t} s SET value_id = v.id, old_status = v.status, action = CASE \
                   WHEN NOT v.deleted AND v.value = s.value \
                        AND v.comment IS NOT DISTINCT FROM s.comment \
                        AND (v.status = $1 OR v.status IN ('APPROVED', 'PUBLISHED')) THEN 's' \
                   WHEN NOT v.deleted AND v.status IN ('APPROVED', 'PUBLISHED') THEN 'l' \
                   ELSE 'u' END \
                 FROM indicator_value v \
                 WHERE v.indicator_id = s.indicator_id AND v.admin_unit_id = s.admin_unit_id \
                   AND v.period = s.period AND v.disaggregation = s.disaggregation"
            ),
            [Value::from(status)],
        ))
        .await?;
        let mut out = Classified::default();
        for row in txn
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT action, count(*) AS n FROM {t} GROUP BY action"),
            ))
            .await?
        {
            let action: String = row.try_get("", "action")?;
            let n = usize::try_from(row.try_get::<i64>("", "n")?).unwrap_or(usize::MAX);
            match action.as_str() {
                "c" => out.created = n,
                "u" => out.updated = n,
                "s" => out.unchanged = n,
                _ => out.locked = n,
            }
        }
        if out.locked > 0 {
            for row in txn
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!(
                        "SELECT idx, old_status FROM {t} WHERE action = 'l' ORDER BY idx LIMIT {max_listed}"
                    ),
                ))
                .await?
            {
                let idx: i64 = row.try_get("", "idx")?;
                let status: Option<String> = row.try_get("", "old_status")?;
                out.locked_rows.push((
                    usize::try_from(idx).unwrap_or_default(),
                    status.unwrap_or_default(),
                ));
            }
        }
        Ok(out)
    }

    /// Writes the new and changed values with their revisions and their feed entries under
    /// commit number `seq`: two statements. The id of the first value written, if any.
    pub async fn write<C: ConnectionTrait>(
        &self,
        txn: &C,
        seq: i64,
        status: ValueStatus,
        who: &str,
        user_id: Option<i64>,
    ) -> AppResult<Option<i64>> {
        let t = &self.table;
        let now: DateTime<Utc> = Utc::now();
        let args = || -> Vec<Value> {
            vec![
                Value::from(status.to_value()),
                Value::from(who.to_string()),
                Value::from(user_id),
                Value::from(now),
                Value::from(seq),
            ]
        };
        // The revision and the feed entry of each row, from the rows as written.
        let tail = "rev AS (INSERT INTO indicator_value_revision (indicator_value_id, version, \
                      value, status, comment, deleted, changed_by, changed_at) \
                    SELECT id, version, value, status, comment, deleted, $2, $4 FROM w) \
                    INSERT INTO indicator_value_change (commit_seq, indicator_value_id, deleted, \
                      indicator_code, unit_code, period, disaggregation, value, status, changed_at) \
                    SELECT $5, w.id, w.deleted, i.code, u.code, w.period, w.disaggregation, \
                      w.value, w.status, $4 \
                    FROM w JOIN indicator i ON i.id = w.indicator_id \
                      JOIN admin_unit u ON u.id = w.admin_unit_id ORDER BY w.id";
        let returning = "RETURNING v.id, v.indicator_id, v.admin_unit_id, v.period, \
                         v.disaggregation, v.value, v.comment, v.status, v.version, v.deleted";
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "WITH w AS (UPDATE indicator_value v SET value = s.value, comment = s.comment, \
                   status = $1, deleted = false, status_reason = NULL, stored_by = $2, \
                   stored_by_user_id = $3, version = v.version + 1, updated_at = $4 \
                 FROM {t} s WHERE s.action = 'u' AND v.id = s.value_id {returning}), {tail}"
            ),
            args(),
        ))
        .await?;
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "WITH w AS (INSERT INTO indicator_value AS v (indicator_id, admin_unit_id, period, \
                   disaggregation, value, comment, status, stored_by_user_id, stored_by, version, \
                   deleted, created_at, updated_at, province_code) \
                 SELECT s.indicator_id, s.admin_unit_id, s.period, s.disaggregation, s.value, \
                   s.comment, $1, $3, $2, 1, false, $4, $4, up.province_code FROM {t} s \
                   LEFT JOIN unit_province up ON up.unit_id = s.admin_unit_id \
                 WHERE s.action = 'c' ORDER BY s.idx {returning}), \
                 {tail}"
            ),
            args(),
        ))
        .await?;
        let first = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT indicator_value_id FROM indicator_value_change WHERE commit_seq = $1 \
                 ORDER BY id LIMIT 1",
                [Value::from(seq)],
            ))
            .await?;
        Ok(match first {
            Some(row) => Some(row.try_get("", "indicator_value_id")?),
            None => None,
        })
    }

    /// Drops the staging table (a failure is logged: [`sweep`] retries later).
    pub async fn finish(mut self) {
        self.drop_table().await;
    }

    async fn drop_table(&mut self) {
        self.dropped = true;
        if let Err(e) = sea_orm::sqlx::query(AssertSqlSafe(format!(
            "DROP TABLE IF EXISTS {}",
            self.table
        )))
        .execute(&self.pool)
        .await
        {
            tracing::warn!(table = %self.table, cause = %e, "dropping an import's staging table");
        }
    }
}

/// Drops the staging tables of imports that started over a day ago (left by a crash).
pub async fn sweep(db: &DatabaseConnection) -> AppResult<usize> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(0);
    }
    let before = Utc::now().timestamp() - 86_400;
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() \
             AND tablename LIKE 'value\\_import\\_stage\\_%'",
        ))
        .await?;
    let mut dropped = 0;
    for row in rows {
        let name: String = row.try_get("", "tablename")?;
        let started = name
            .strip_prefix("value_import_stage_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|s| s.parse::<i64>().ok());
        let safe = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if safe && started.is_some_and(|s| s < before) {
            db.execute_unprepared(&format!("DROP TABLE IF EXISTS {name}"))
                .await?;
            dropped += 1;
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_text_escapes() {
        let mut out = Vec::new();
        super::escaped(&mut out, "a\\b\tc\nd\re");
        assert_eq!(out, b"a\\\\b\\tc\\nd\\re");
    }
}

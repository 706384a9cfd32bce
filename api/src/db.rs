//! Connections, migrations and write transactions on both backends.

use crate::config::DatabaseUrl;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The connection pool every layer passes down to the services.
pub type Pool = DatabaseConnection;

/// Longest a single PostgreSQL statement may run before the server cancels it.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(20);

/// Statements above this duration are logged (their SQL, never their values).
const SLOW_STATEMENT: Duration = Duration::from_millis(250);

/// Counts the statements a pool has run, and records their SQL while asked to: tests use it
/// to prove that relations are batched and that a page reads only its rows.
#[derive(Clone, Debug, Default)]
pub struct StatementCounter(Arc<AtomicU64>, Arc<std::sync::Mutex<Option<Vec<String>>>>);

impl StatementCounter {
    /// Statements run so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Starts recording the SQL (never the values) of the statements run from now on.
    pub fn record(&self) {
        if let Ok(mut log) = self.1.lock() {
            *log = Some(Vec::new());
        }
    }

    /// Stops recording and returns the SQL recorded, oldest first.
    pub fn recorded(&self) -> Vec<String> {
        self.1
            .lock()
            .ok()
            .and_then(|mut log| log.take())
            .unwrap_or_default()
    }

    fn note(&self, sql: &str) {
        self.0.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut log) = self.1.lock()
            && let Some(log) = log.as_mut()
        {
            log.push(sql.to_string());
        }
    }
}

/// Opens a pool (see [`connect`]) that counts its statements and logs slow ones.
pub async fn connect_counted(
    url: &DatabaseUrl,
) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let mut conn = connect(url).await?;
    let counter = StatementCounter::default();
    let inner = counter.clone();
    conn.set_metric_callback(move |info| {
        inner.note(&info.statement.sql);
        if info.elapsed > SLOW_STATEMENT {
            tracing::warn!(
                elapsed_ms = info.elapsed.as_millis() as u64,
                sql = %info.statement.sql,
                failed = info.failed,
                "slow statement"
            );
        }
    });
    Ok((conn, counter))
}

/// Opens a pool. SQLite files are created (with their directory) if missing and run in WAL mode
/// with a busy timeout, so that concurrent writers wait instead of failing; an in-memory SQLite
/// gets a single connection, since each connection would otherwise be its own database.
pub async fn connect(url: &DatabaseUrl) -> Result<DatabaseConnection, DbErr> {
    let raw = url.expose();
    let mut opts = ConnectOptions::new(raw.to_string());
    opts.sqlx_logging(false)
        // A request waits at most this long for a connection: during an outage it answers
        // SERVICE_UNAVAILABLE after 5 s rather than hanging.
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        // A ping on every checkout is a round trip per statement; ping only connections idle
        // long enough to have been dropped by the server, a proxy or a firewall. A connection
        // that died under load fails its statement (SERVICE_UNAVAILABLE) and leaves the pool.
        .test_before_acquire_if_idle_for(Duration::from_secs(10));
    if url.is_sqlite() {
        let in_memory = raw.contains(":memory:") || raw.contains("mode=memory");
        if !in_memory {
            create_parent_dir(raw)?;
        }
        opts.max_connections(if in_memory { 1 } else { 8 })
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
    } else {
        // No statement may hold a connection past this (the request itself stops at
        // EXECUTION_TIMEOUT, 30 s by default). Sent as a startup option: behind PgBouncer in
        // transaction mode, add `options` to its `ignore_startup_parameters` and set the
        // timeout on the role instead (README, deployment).
        opts.max_connections(16).map_sqlx_postgres_opts(|o| {
            o.options([(
                "statement_timeout",
                format!("{}ms", STATEMENT_TIMEOUT.as_millis()),
            )])
        });
    }
    Database::connect(opts).await
}

/// A connection failure as an operator can act on it: what was reached for (the URL without
/// its password, or the SQLite file's path), what went wrong, and what to do.
pub fn describe_connect_error(url: &DatabaseUrl, e: &DbErr) -> String {
    let cause = e.to_string();
    let lower = cause.to_lowercase();
    if url.is_sqlite() {
        let path = sqlite_path(url.expose());
        let path = if path.is_empty() { ":memory:" } else { path };
        return format!(
            "database: cannot open the SQLite file {path}: {}; check that its directory exists \
             and is writable, or set DATABASE_URL",
            first_line(&cause)
        );
    }
    if let Some(name) = lower
        .split("database \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .filter(|_| lower.contains("does not exist"))
    {
        return format!(
            "database: the PostgreSQL database `{name}` does not exist at {url}: create it \
             (createdb {name}) or set DATABASE_URL to one that does"
        );
    }
    if lower.contains("timed out") || lower.contains("refused") || lower.contains("connect") {
        return format!(
            "database: cannot reach {url} within 5 s ({}): is the server running and \
             accepting connections there?",
            first_line(&cause)
        );
    }
    format!("database: {url}: {}", first_line(&cause))
}

/// The first line of a driver's message, without the source location some append.
fn first_line(message: &str) -> &str {
    let line = message.lines().next().unwrap_or_default();
    line.split(" at line ").next().unwrap_or(line).trim()
}

/// The file path of an SQLite URL.
fn sqlite_path(url: &str) -> &str {
    url.trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default()
}

/// Creates the directory of an SQLite file URL (`sqlite://data/platform.db?mode=rwc`).
fn create_parent_dir(url: &str) -> Result<(), DbErr> {
    let path = sqlite_path(url);
    if let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    Ok(())
}

/// Applies every pending migration.
pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Names of migrations not yet applied.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    Ok(Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_string())
        .collect())
}

/// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite (a deferred transaction that later
/// writes fails at once with SQLITE_BUSY under concurrent writers), a plain one on PostgreSQL.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

//! The application: configuration in, a running server out.

use crate::auth::{SubjectStates, TokenService};
use crate::config::{Config, Profile};
use crate::db;
use crate::error::AppError;
use crate::graphql;
use crate::http::{self, AppState};
use crate::seed::{self, SeedOutcome};
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be reached or prepared (the message says which and what to do).
    #[error("{0}")]
    Database(String),
    /// A setting is unusable (one line naming it).
    #[error("{0}")]
    Config(String),
    /// Migrations are pending and `AUTO_MIGRATE` is off.
    #[error(
        "database: {0} migration(s) pending; run `platform migrate up` first (or set AUTO_MIGRATE=true)"
    )]
    Pending(usize),
    /// The address could not be bound.
    #[error("BIND_ADDR: cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS's reason.
        reason: String,
    },
}

impl From<AppError> for StartError {
    fn from(e: AppError) -> Self {
        Self::Database(format!("database: {}", e.detail()))
    }
}

/// A built application: a bound listener and its router, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    db: DatabaseConnection,
    statements: db::StatementCounter,
    tokens: Arc<TokenService>,
    /// The hierarchy in memory, followed through `LISTEN` on PostgreSQL while serving.
    units: Arc<crate::services::unit_snapshot::UnitCache>,
    /// How long in-flight requests may run on after the shutdown signal.
    grace: std::time::Duration,
}

impl Application {
    /// Connects, migrates (if configured to), seeds the demo area on the default embedded
    /// database, and binds the address (port 0: any free port).
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        let (conn, statements) = db::connect_counted(&config.database_url)
            .await
            .map_err(|e| {
                StartError::Database(db::describe_connect_error(&config.database_url, &e))
            })?;
        if config.auto_migrate {
            db::migrate_up(&conn)
                .await
                .map_err(|e| StartError::Database(format!("database: {e}")))?;
        } else {
            let pending = db::pending_migrations(&conn)
                .await
                .map_err(|e| StartError::Database(format!("database: {e}")))?;
            if !pending.is_empty() {
                return Err(StartError::Pending(pending.len()));
            }
        }
        if config.database_url.is_default() {
            let (outcome, documents) = seed::seed_demo_counted(&conn).await?;
            if let SeedOutcome::Loaded { units, links } = outcome {
                tracing::info!(units, links, "first start: loaded the demo area's units");
            }
            if documents > 0 {
                tracing::info!(
                    documents,
                    "first start: loaded the demo planning documents (api/data/plans, api/data/demo/plans)"
                );
            }
            let users = seed::seed_demo_users(&conn).await?;
            if users > 0 {
                tracing::info!(users, "first start: created the demo users (see README)");
            }
            // After the users, so that each report names its reporter's account.
            let reports = seed::seed_demo_progress(&conn).await?;
            if reports > 0 {
                tracing::info!(
                    reports,
                    "first start: loaded the demo progress reports (api/data/demo/progress.toml)"
                );
            }
        }
        let tokens = Arc::new(
            TokenService::from_settings(&config.jwt, config.profile == Profile::Dev)
                .map_err(|e| StartError::Config(e.to_string()))?,
        );
        if tokens.generated {
            tracing::warn!(
                "no JWT_SECRET or JWT_PRIVATE_KEY: generated a development signing key; tokens end with the process"
            );
        }
        // The process's metrics recorder, before the first request is counted.
        crate::metrics::handle();
        let subjects = Arc::new(SubjectStates::new(std::time::Duration::from_secs(
            config.revocation_staleness_seconds,
        )));
        let units = Arc::new(crate::services::unit_snapshot::UnitCache::default());
        let schema = graphql::build_schema(
            conn.clone(),
            config,
            tokens.clone(),
            subjects.clone(),
            units.clone(),
        );
        let read_db = match &config.read_database_url {
            Some(url) => Some(db::connect(url).await.map_err(|e| {
                StartError::Database(format!("replica: {}", db::describe_connect_error(url, &e)))
            })?),
            None => None,
        };
        let router = http::router(AppState {
            schema,
            db: conn.clone(),
            profile: config.profile,
            tokens: tokens.clone(),
            subjects,
            limits: config.limits.clone(),
            cors_origins: config.cors_origins.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            read_db,
            replica_max_lag_seconds: config.replica_max_lag_seconds,
            units: units.clone(),
            documents: Default::default(),
            export_streams: std::sync::Arc::new(tokio::sync::Semaphore::new(
                crate::bulk::COPY_EXPORTS,
            )),
        });
        let listener = TcpListener::bind(config.bind_addr)
            .await
            .map_err(|e| StartError::Bind {
                addr: config.bind_addr,
                reason: e.to_string(),
            })?;
        Ok(Self {
            listener,
            router,
            db: conn,
            statements,
            tokens,
            units,
            // A request stops at EXECUTION_TIMEOUT anyway; a little more lets it answer.
            grace: std::time::Duration::from_secs(config.limits.execution_timeout_seconds + 5),
        })
    }

    /// The bound address (with the real port when 0 was asked).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The pool, for tools and tests.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The token service (issues tokens for tools and tests).
    pub fn tokens(&self) -> Arc<TokenService> {
        self.tokens.clone()
    }

    /// The counter of statements run through the pool.
    pub fn statements(&self) -> db::StatementCounter {
        self.statements.clone()
    }

    /// Serves until `shutdown` completes, then stops accepting and lets in-flight requests
    /// finish, for at most the execution timeout and five seconds more.
    pub async fn serve_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            let _ = signalled.send(());
        };
        let serve = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown);
        // Expired idempotency records go every ten minutes (a lookup also drops an expired
        // record it meets), and so do the staging tables of imports a crash interrupted;
        // the task ends with the server.
        let db = self.db.clone();
        let sweeper = tokio::spawn(async move {
            // The first sweep ten minutes after start (an interval's first tick is at once).
            let period = std::time::Duration::from_secs(600);
            let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                every.tick().await;
                match crate::services::idempotency::purge_expired(&db).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(removed = n, "expired idempotency records"),
                    Err(e) => tracing::debug!(cause = %e.detail(), "sweeping idempotency records"),
                }
                match crate::services::value_stage::sweep(&db).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(dropped = n, "staging tables of interrupted imports"),
                    Err(e) => tracing::debug!(cause = %e.detail(), "sweeping staging tables"),
                }
            }
        });
        let _sweeper = AbortOnDrop(sweeper);
        // Unit imports of other instances, as they commit (PostgreSQL; SQLite requests read
        // the generation instead).
        let _watcher =
            (self.db.get_database_backend() == sea_orm::DbBackend::Postgres).then(|| {
                AbortOnDrop(tokio::spawn(crate::services::unit_snapshot::watch(
                    self.units.clone(),
                    self.db.get_postgres_connection_pool().clone(),
                )))
            });
        let grace = self.grace;
        let deadline = async move {
            if on_signal.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            served = serve => served,
            () = deadline => {
                tracing::warn!(
                    grace_s = grace.as_secs(),
                    "in-flight requests did not finish in time: stopping anyway"
                );
                Ok(())
            }
        }
    }
}

/// Aborts a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

//! The `platform` command line: `serve` (the default), `migrate`, `seed-demo`, `schema`.

use crate::app::{self, Application};
use crate::config::Config;
use crate::services::plan_import::{self, ImportOutcome};
use crate::{db, graphql, seed, telemetry};
use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use std::process::ExitCode;

/// GraphQL API of the Vietnamese regional data platform.
///
/// Configuration comes from the environment (DATABASE_URL, BIND_ADDR, APP_PROFILE, LOG_FORMAT,
/// LOG_LEVEL, MAX_PAGE_SIZE, AUTO_MIGRATE) and an optional TOML file (CONFIG_FILE, or
/// platform.toml in the working directory). See README.md.
#[derive(Parser, Debug)]
#[command(name = "platform", version, about, long_about = None)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the GraphQL API (the default).
    Serve,
    /// Apply (the default), revert or list schema migrations.
    Migrate {
        /// What to do; `up` when omitted.
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Load the demo area into an empty database (any backend).
    SeedDemo,
    /// Import data files.
    Import {
        /// What to import.
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
}

/// Kinds of import.
#[derive(Subcommand, Debug)]
pub enum ImportWhat {
    /// Plan files (docs/plan-files.md): each file all or nothing; re-importing changes nothing.
    Plan {
        /// The files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

/// Migration actions.
#[derive(Subcommand, Debug)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert migrations, newest first.
    Down {
        /// How many to revert.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

/// Runs the command line; errors are one line on stderr and a non-zero exit.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Schema) = cli.command {
        print!("{}", graphql::sdl());
        return ExitCode::SUCCESS;
    }
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// A pool on a database whose schema is current: migrated here when `AUTO_MIGRATE` is on (the
/// default for SQLite), else refused while migrations are pending.
async fn connect_migrated(config: &Config) -> Result<sea_orm::DatabaseConnection, String> {
    let conn = db::connect(&config.database_url)
        .await
        .map_err(|e| format!("database: {e}"))?;
    if config.auto_migrate {
        db::migrate_up(&conn)
            .await
            .map_err(|e| format!("migration failed: {e}"))?;
    } else {
        let pending = db::pending_migrations(&conn)
            .await
            .map_err(|e| format!("database: {e}"))?;
        if !pending.is_empty() {
            return Err(format!(
                "database: {} migration(s) pending; run `platform migrate up` first",
                pending.len()
            ));
        }
    }
    Ok(conn)
}

async fn run(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Serve => {
            let app = Application::build(&config)
                .await
                .map_err(|e| e.to_string())?;
            let addr = app.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(
                %addr,
                database = %config.database_url,
                profile = ?config.profile,
                "serving GraphQL at http://{addr}/graphql"
            );
            app.serve_until(app::shutdown_signal())
                .await
                .map_err(|e| format!("server: {e}"))
        }
        Command::Migrate { action } => {
            let conn = db::connect(&config.database_url)
                .await
                .map_err(|e| format!("database: {e}"))?;
            let result = match action.unwrap_or(MigrateAction::Up) {
                MigrateAction::Up => Migrator::up(&conn, None).await,
                MigrateAction::Down { steps } => Migrator::down(&conn, Some(steps)).await,
                MigrateAction::Status => {
                    for m in Migrator::get_migration_with_status(&conn)
                        .await
                        .map_err(|e| format!("database: {e}"))?
                    {
                        println!("{}\t{:?}", m.name(), m.status());
                    }
                    Ok(())
                }
            };
            result.map_err(|e| format!("migration failed: {e}"))
        }
        Command::SeedDemo => {
            let conn = connect_migrated(&config).await?;
            match seed::seed_demo(&conn)
                .await
                .map_err(|e| format!("seed: {}", e.detail()))?
            {
                seed::SeedOutcome::Loaded { units, links } => {
                    println!("loaded the demo area: {units} unit rows, {links} lineage links")
                }
                seed::SeedOutcome::AlreadyPresent => {
                    println!("units are already loaded; nothing written")
                }
            }
            Ok(())
        }
        Command::Import {
            what: ImportWhat::Plan { files },
        } => {
            let conn = connect_migrated(&config).await?;
            let mut failed = 0;
            for file in &files {
                let name = file.display();
                let content = match std::fs::read_to_string(file) {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("{name}: {e}");
                        failed += 1;
                        continue;
                    }
                };
                match plan_import::import_plan_file(&conn, &content).await {
                    Ok(r) => {
                        let what = match r.outcome {
                            ImportOutcome::Created => "created",
                            ImportOutcome::Updated => "updated",
                            ImportOutcome::Unchanged => "unchanged",
                        };
                        if r.outcome == ImportOutcome::Unchanged {
                            println!("{name}: unchanged {}; nothing written", r.plan_key);
                        } else {
                            println!(
                                "{name}: {what} {} ({} targets, {} assignments, {} reporting duties, {} agencies)",
                                r.plan_key,
                                r.targets,
                                r.assignments,
                                r.reporting_duties,
                                r.agencies
                            );
                        }
                        for w in r.warnings {
                            println!("{name}: warning: {w}");
                        }
                    }
                    Err(e) => {
                        eprintln!("{name}: {}; nothing written", e.detail());
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                Err(format!("{failed} of {} file(s) not imported", files.len()))
            } else {
                Ok(())
            }
        }
        Command::Schema => Ok(()),
    }
}

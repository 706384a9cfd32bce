//! The `platform` command line: `serve` (the default), `migrate`, `seed-demo`, `schema`.

use crate::app;
use crate::config::{Config, Profile};
use crate::server::{self, Application};
use crate::services::plan_import::ImportOutcome;
use crate::services::{unit_files, units};
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
#[command(
    name = "platform",
    version,
    about = "GraphQL API of the Vietnamese regional data platform",
    long_about = None
)]
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
    SeedDemo {
        /// Also create the demo users (all with the password "demo-password").
        #[arg(long)]
        with_users: bool,
    },
    /// Service accounts for integrations.
    ServiceAccount {
        /// What to do.
        #[command(subcommand)]
        action: ServiceAccountAction,
    },
    /// Tokens.
    Token {
        /// What to do.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Users.
    User {
        /// What to do.
        #[command(subcommand)]
        action: UserAction,
    },
    /// Import data files.
    Import {
        /// What to import.
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Administrative unit tools.
    Units {
        /// What to do.
        #[command(subcommand)]
        action: UnitsAction,
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
    /// A list of administrative units (three-level, two-level or the GSO export, recognised
    /// from the header), as of a date; one transaction.
    AdminUnits {
        /// The CSV file.
        file: std::path::PathBuf,
        /// The first day the list is valid; leave out only for the first list of an empty
        /// database.
        #[arg(long, value_parser = day)]
        valid_from: Option<chrono::NaiveDate>,
    },
    /// A lineage file, recognised by its header: the official old → new mapping (with
    /// --effective), or the derived list of the 2024–2025 merger wave; one transaction.
    AdminUnitLineage {
        /// The CSV file.
        file: std::path::PathBuf,
        /// The day the new units took over (the official mapping; the merger list carries
        /// its own days).
        #[arg(long, value_parser = day)]
        effective: Option<chrono::NaiveDate>,
    },
    /// Indicator values from the export's CSV or a DHIS2 data value set CSV (recognised from
    /// the header), as the national operator: one transaction, every row or none.
    IndicatorValues {
        /// The CSV file.
        file: std::path::PathBuf,
        /// Check and report, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the good rows and report the others (by default one bad row writes nothing).
        #[arg(long)]
        skip_invalid: bool,
        /// Values use a decimal comma and thousands dots: "6,5" is 6.5, "14.780" is 14780
        /// ("6.5" is then refused).
        #[arg(long)]
        decimal_comma: bool,
    },
}

/// Service-account actions.
#[derive(Subcommand, Debug)]
pub enum ServiceAccountAction {
    /// Create an account; its secret is printed once.
    Create {
        /// Name.
        #[arg(long)]
        name: String,
        /// Scopes, comma-separated: units:read, plans:read, plans:write, values:read, values:write.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Home unit code (valid today); leave out for a national account.
        #[arg(long)]
        unit: Option<String>,
        /// Agency key.
        #[arg(long)]
        agency: Option<String>,
        /// Last day of validity (YYYY-MM-DD, end of that day in Vietnam).
        #[arg(long, value_parser = day)]
        expires: Option<chrono::NaiveDate>,
    },
    /// Revoke an account.
    Revoke {
        /// Name.
        #[arg(long)]
        name: String,
    },
}

/// Token actions.
#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// Print an access token for a service account (needs JWT_SECRET or JWT_PRIVATE_KEY).
    Issue {
        /// The account's name.
        #[arg(long)]
        service_account: String,
    },
}

/// User actions.
#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// Create a user; the password is read from the first line of standard input.
    Create {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Role: viewer, reporter, manager or admin.
        #[arg(long, value_parser = ["viewer", "reporter", "manager", "admin"])]
        role: String,
        /// Home unit code (valid today); leave out for a national user.
        #[arg(long)]
        unit: Option<String>,
        /// Agency key.
        #[arg(long)]
        agency: Option<String>,
        /// Display name.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Create users in bulk from CSV (`username,display_name,role,unit,agency`). Every bad
    /// row is reported and nothing is written; users already present are left alone. Prints
    /// `username,password` for each new user: initial passwords, shown once.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
    },
    /// Move every user of a closed unit to a unit that took it over (valid today). Their
    /// sessions end, since tokens carry the home unit.
    Move {
        /// Code of the closed unit (its latest closed version, or the one valid on
        /// `--from-date`).
        #[arg(long)]
        from: String,
        /// Pick the closed unit valid on this day.
        #[arg(long, value_parser = day)]
        from_date: Option<chrono::NaiveDate>,
        /// Code of the unit valid today that took it over (through lineage).
        #[arg(long)]
        to: String,
    },
}

/// Administrative unit tools.
#[derive(Subcommand, Debug)]
pub enum UnitsAction {
    /// Count the units valid on a day, by level.
    Count {
        /// The day; today in Vietnam when absent.
        #[arg(long, value_parser = day)]
        as_of: Option<chrono::NaiveDate>,
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

/// A day on the command line, `YYYY-MM-DD`, refused with a message that says so.
fn day(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a day: expected YYYY-MM-DD, e.g. 2025-07-01"))
}

/// Why a command failed: a configuration error exits 2 (as `Config::load` does), anything else
/// 1; either is one line on stderr.
enum Failure {
    /// A setting is unusable; the line names it.
    Config(String),
    /// Anything else.
    Other(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self::Other(message)
    }
}

/// Runs the command line; errors are one line on stderr and a non-zero exit: 2 for
/// configuration and usage errors, 1 for the rest.
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
    // The signing key is configuration too: checked before anything touches the database.
    let command = cli.command.unwrap_or(Command::Serve);
    let key_check = match &command {
        Command::Serve => {
            crate::auth::TokenService::from_settings(&config.jwt, config.profile == Profile::Dev)
                .err()
                .map(|e| e.to_string())
        }
        Command::Token { .. } => crate::auth::TokenService::from_settings(&config.jwt, false)
            .err()
            .map(|e| {
                format!(
                    "configuration error: {}: `token issue` signs with the server's own key: set \
                     JWT_SECRET or JWT_PRIVATE_KEY as the server has them (a dev server without \
                     one makes a key that ends with its process, so no token made here could \
                     be checked)",
                    e.setting
                )
            }),
        _ => None,
    };
    if let Some(message) = key_check {
        eprintln!("{message}");
        return ExitCode::from(2);
    }
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
    match runtime.block_on(run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(message)) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
        Err(Failure::Other(message)) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// A spinner on a terminal (hidden when stderr is not one).
fn spinner(message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A pool on a database whose schema is current: migrated here when `AUTO_MIGRATE` is on (the
/// default for SQLite), else refused while migrations are pending.
async fn connect_migrated(config: &Config) -> Result<sea_orm::DatabaseConnection, String> {
    let conn = db::connect(&config.database_url)
        .await
        .map_err(|e| db::describe_connect_error(&config.database_url, &e))?;
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

async fn run(command: Command, config: Config) -> Result<(), Failure> {
    match command {
        Command::Serve => {
            let app = Application::build(&config).await.map_err(|e| match e {
                server::StartError::Config(m) => Failure::Config(m),
                other => Failure::Other(other.to_string()),
            })?;
            let addr = app.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(
                %addr,
                database = %config.database_url,
                profile = ?config.profile,
                "serving GraphQL at http://{addr}/graphql"
            );
            app.serve_until(server::shutdown_signal())
                .await
                .map_err(|e| Failure::Other(format!("server: {e}")))
        }
        Command::Migrate { action } => {
            let conn = db::connect(&config.database_url)
                .await
                .map_err(|e| db::describe_connect_error(&config.database_url, &e))?;
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
            Ok(result.map_err(|e| format!("migration failed: {e}"))?)
        }
        Command::ServiceAccount { action } => {
            let conn = connect_migrated(&config).await?;
            match action {
                ServiceAccountAction::Create {
                    name,
                    scopes,
                    unit,
                    agency,
                    expires,
                } => {
                    let expires_at = expires
                        .and_then(|d| d.succ_opt())
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .and_then(|t| t.and_local_timezone(crate::clock::VIETNAM).single())
                        .map(|t| t.with_timezone(&chrono::Utc));
                    let operator = crate::app::Caller::operator(&conn);
                    let created = async {
                        let (home, agency) =
                            app::lookup::home_and_agency(&conn, unit.as_deref(), agency.as_deref())
                                .await?;
                        app::accounts::create_service_account(
                            &conn,
                            &operator,
                            app::accounts::NewServiceAccount {
                                name,
                                scopes,
                                home,
                                agency,
                                expires_at,
                            },
                        )
                        .await
                    };
                    let (account, secret) = created
                        .await
                        .map_err(|e| format!("service-account create: {}", e.detail()))?;
                    println!(
                        "created service account {} (id {})",
                        account.name, account.id
                    );
                    println!("secret (shown once, store it now): {secret}");
                }
                ServiceAccountAction::Revoke { name } => {
                    let operator = crate::app::Caller::operator(&conn);
                    let revoked = async {
                        let account = app::lookup::service_account_by_name(&conn, &name).await?;
                        app::accounts::revoke_service_account(&conn, &operator, account).await
                    };
                    revoked
                        .await
                        .map_err(|e| format!("service-account revoke: {}", e.detail()))?;
                    println!("revoked service account {name}");
                }
            }
            Ok(())
        }
        Command::Token {
            action: TokenAction::Issue { service_account },
        } => {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            let tokens = crate::auth::TokenService::from_settings(&config.jwt, false)
                .map_err(|e| e.to_string())?;
            let conn = connect_migrated(&config).await?;
            let account = entity::service_account::Entity::find()
                .filter(entity::service_account::Column::Name.eq(service_account.trim()))
                .one(&conn)
                .await
                .map_err(|e| format!("database: {e}"))?
                .filter(crate::services::service_accounts::usable)
                .ok_or_else(|| format!("no usable service account {service_account}"))?;
            let (token, _) = crate::services::service_accounts::issue(&conn, &tokens, &account)
                .await
                .map_err(|e| e.detail())?;
            println!("{token}");
            Ok(())
        }
        Command::User {
            action:
                UserAction::Create {
                    username,
                    role,
                    unit,
                    agency,
                    display_name,
                },
        } => {
            use sea_orm::ActiveEnum;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| format!("reading the password: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']);
            let role = entity::enums::Role::try_from_value(&role.to_uppercase())
                .map_err(|_| format!("unknown role {role}"))?;
            let conn = connect_migrated(&config).await?;
            let operator = crate::app::Caller::operator(&conn);
            let created = async {
                let (home, agency) =
                    app::lookup::home_and_agency(&conn, unit.as_deref(), agency.as_deref()).await?;
                app::accounts::create_user(
                    &conn,
                    &operator,
                    app::accounts::NewUser {
                        username,
                        display_name,
                        password: password.to_string(),
                        role,
                        home,
                        agency,
                    },
                )
                .await
            };
            let user = created
                .await
                .map_err(|e| format!("user create: {}", e.detail()))?;
            println!("created user {} (id {})", user.username, user.id);
            Ok(())
        }
        Command::User {
            action: UserAction::Import { file },
        } => {
            let content =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let conn = connect_migrated(&config).await?;
            let operator = crate::app::Caller::operator(&conn);
            let outcome = app::imports::user_list(&conn, &operator, &content)
                .await
                .map_err(|e| format!("user import: {}", e.detail()))?;
            match outcome {
                Ok(report) => {
                    println!("username,password");
                    for (name, password) in &report.created {
                        println!("{name},{password}");
                    }
                    eprintln!(
                        "{}: {} users created, {} already present (unchanged)",
                        file.display(),
                        report.created.len(),
                        report.existing.len()
                    );
                    Ok(())
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}:{}: {}: {}", file.display(), e.line, e.field, e.message);
                    }
                    Err(Failure::Other(format!(
                        "{}: {} bad rows; nothing written",
                        file.display(),
                        errors.len()
                    )))
                }
            }
        }
        Command::User {
            action:
                UserAction::Move {
                    from,
                    from_date,
                    to,
                },
        } => {
            let conn = connect_migrated(&config).await?;
            let operator = crate::app::Caller::operator(&conn);
            let moved = app::imports::move_users(&conn, &operator, &from, from_date, &to)
                .await
                .map_err(|e| format!("user move: {}", e.detail()))?;
            println!("moved {} users from {from} to {to}", moved.len());
            for u in moved {
                println!("  {}", u.username);
            }
            Ok(())
        }
        Command::SeedDemo { with_users } => {
            let conn = connect_migrated(&config).await?;
            let (outcome, documents) = seed::seed_demo_counted(&conn)
                .await
                .map_err(|e| format!("seed: {}", e.detail()))?;
            match outcome {
                seed::SeedOutcome::Loaded { units, links } => {
                    println!("loaded the demo area: {units} unit rows, {links} lineage links")
                }
                seed::SeedOutcome::AlreadyPresent => {
                    println!("units are already loaded; units left as they are")
                }
            }
            let all = seed::demo_document_count();
            println!(
                "loaded {documents} of the {all} demo planning documents ({} typed from their texts, {} invented for the demo){}",
                seed::DEMO_PLANS.len(),
                seed::INVENTED_PLANS.len(),
                if documents < all {
                    "; the others were present already"
                } else {
                    ""
                }
            );
            if with_users {
                let n = seed::seed_demo_users(&conn)
                    .await
                    .map_err(|e| format!("seed: {}", e.detail()))?;
                println!(
                    "created {n} demo users (password \"{}\")",
                    seed::DEMO_PASSWORD
                );
            }
            // After the users when they are asked for, so that each report names its
            // reporter's account; without them, reporters are named by username.
            let reports = seed::seed_demo_progress(&conn)
                .await
                .map_err(|e| format!("seed: {}", e.detail()))?;
            println!("loaded {reports} demo progress reports");
            Ok(())
        }
        Command::Import {
            what: ImportWhat::Plan { files },
        } => {
            let conn = connect_migrated(&config).await?;
            let operator = crate::app::Caller::operator(&conn);
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
                match app::imports::plan_file(&conn, &operator, &content).await {
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
                Err(format!("{failed} of {} file(s) not imported", files.len()).into())
            } else {
                Ok(())
            }
        }
        Command::Import {
            what: ImportWhat::AdminUnits { file, valid_from },
        } => {
            let content =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let conn = connect_migrated(&config).await?;
            let progress = spinner("reading the list");
            let (format, rows) = unit_files::parse_unit_list(&content)
                .map_err(|e| format!("{}: {}; nothing written", file.display(), e.detail()))?;
            progress.set_message(format!("applying {} units ({format:?})", rows.len()));
            let started = std::time::Instant::now();
            let operator = crate::app::Caller::operator(&conn);
            let source = file.display().to_string();
            let report = app::imports::unit_list(&conn, &operator, &source, &rows, valid_from)
                .await
                .map_err(|e| format!("{source}: {}; nothing written", e.detail()))?;
            progress.finish_and_clear();
            let changed = report.opened + report.closed + report.lineage > 0;
            println!(
                "{}: {format:?}, {} units: {} continued, {} opened, {} closed, {} lineage links{} ({} ms)",
                file.display(),
                rows.len(),
                report.continued,
                report.opened,
                report.closed,
                report.lineage,
                if changed { "" } else { "; nothing changed" },
                started.elapsed().as_millis()
            );
            Ok(())
        }
        Command::Import {
            what: ImportWhat::AdminUnitLineage { file, effective },
        } => {
            let content =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let source = file.display().to_string();
            let parsed = unit_files::parse_lineage(&content)
                .map_err(|e| format!("{source}: {}; nothing written", e.detail()))?;
            let mapping = match (parsed, effective) {
                (unit_files::LineageFile::Official(m), Some(day)) => (m, day),
                (unit_files::LineageFile::Official(_), None) => {
                    return Err(Failure::Config(format!(
                        "{source}: the official mapping needs --effective YYYY-MM-DD, the day \
                         the new units began"
                    )));
                }
                (unit_files::LineageFile::Mergers(_), Some(_)) => {
                    return Err(Failure::Config(format!(
                        "{source}: the merger list carries each row's own effective date: \
                         leave out --effective"
                    )));
                }
                (unit_files::LineageFile::Mergers(rows), None) => {
                    let conn = connect_migrated(&config).await?;
                    let started = std::time::Instant::now();
                    let operator = crate::app::Caller::operator(&conn);
                    let report = app::imports::mergers(&conn, &operator, &source, &rows)
                        .await
                        .map_err(|e| format!("{source}: {}; nothing written", e.detail()))?;
                    for (line, reason) in &report.skipped {
                        println!("{source}: line {line}: {reason}");
                    }
                    for (code, name, day) in &report.without_successor {
                        println!("{source}: {code} {name} ended on {day} with no successor");
                    }
                    println!(
                        "{source}: {} rows (merger list): {} lineage links written, {} unchanged, \
                         {} skipped, {} communes that ended with them have no successor{} ({} ms)",
                        rows.len(),
                        report.written,
                        report.unchanged,
                        report.skipped.len(),
                        report.without_successor.len(),
                        if report.written == 0 {
                            "; nothing changed"
                        } else {
                            ""
                        },
                        started.elapsed().as_millis()
                    );
                    return Ok(());
                }
            };
            let (mapping, effective) = mapping;
            let conn = connect_migrated(&config).await?;
            let progress = spinner("applying the mapping");
            let started = std::time::Instant::now();
            let operator = crate::app::Caller::operator(&conn);
            let report = app::imports::lineage(&conn, &operator, &source, &mapping.rows, effective)
                .await
                .map_err(|e| format!("{source}: {}; nothing written", e.detail()))?;
            progress.finish_and_clear();
            for (line, reason) in mapping.skipped.iter().chain(report.skipped.iter()) {
                println!("{}: line {line}: {reason}", file.display());
            }
            for (code, name, day) in &report.without_successor {
                println!(
                    "{}: {code} {name} ended on {day} and the mapping gives it no successor",
                    file.display()
                );
            }
            println!(
                "{}: {} rows: {} lineage links written, {} unchanged, {} skipped{} ({} ms)",
                file.display(),
                mapping.rows.len() + mapping.skipped.len(),
                report.written,
                report.unchanged,
                mapping.skipped.len() + report.skipped.len(),
                if report.written == 0 {
                    "; nothing changed"
                } else {
                    ""
                },
                started.elapsed().as_millis()
            );
            Ok(())
        }
        Command::Import {
            what:
                ImportWhat::IndicatorValues {
                    file,
                    dry_run,
                    skip_invalid,
                    decimal_comma,
                },
        } => {
            let source = file.display().to_string();
            let input = std::fs::File::open(&file).map_err(|e| format!("{source}: {e}"))?;
            let size = input.metadata().map(|m| m.len()).unwrap_or(0);
            let conn = connect_migrated(&config).await?;
            let operator = crate::app::Caller::operator(&conn);
            let bar = indicatif::ProgressBar::new(size);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {msg} ({elapsed})",
            ) {
                bar.set_style(style);
            }
            let started = std::time::Instant::now();
            let options = app::value_import::Options {
                dry_run,
                skip_invalid,
                decimal_comma,
            };
            let outcome = app::value_import::import(
                &conn,
                &operator,
                std::io::BufReader::new(input),
                options,
                None,
                |bytes, rows| {
                    bar.set_position(bytes);
                    bar.set_message(format!("{rows} rows"));
                },
            )
            .await;
            bar.finish_and_clear();
            let report = match outcome {
                Ok(Ok(r)) => r,
                Ok(Err(stopped)) => {
                    return Err(format!(
                        "{source}: stopped after {} rows; nothing written",
                        stopped.rows
                    )
                    .into());
                }
                Err(e) => return Err(format!("{source}: {}; nothing written", e.detail()).into()),
            };
            for r in &report.rejected_rows {
                eprintln!("{source}: row {}: {}: {}", r.row, r.field, r.reason);
            }
            if report.omitted > 0 {
                eprintln!("{source}: {} more refusals not listed", report.omitted);
            }
            let note = if report.dry_run {
                "; dry run: nothing written"
            } else if !report.written {
                "; nothing written"
            } else {
                ""
            };
            println!(
                "{source}: {} file, {} rows: {} created, {} updated, {} unchanged, {} rejected{note} ({} ms)",
                report.format.name(),
                report.rows,
                report.created,
                report.updated,
                report.unchanged,
                report.rejected,
                started.elapsed().as_millis()
            );
            if report.rejected > 0 && !skip_invalid {
                return Err(format!(
                    "{source}: {} rows rejected; nothing written (--skip-invalid imports the others)",
                    report.rejected
                )
                .into());
            }
            Ok(())
        }
        Command::Units {
            action: UnitsAction::Count { as_of },
        } => {
            let conn = connect_migrated(&config).await?;
            let day = as_of.unwrap_or_else(crate::clock::today);
            let (p, d, c) = units::count_by_level(&conn, day)
                .await
                .map_err(|e| e.detail())?;
            println!("{day}: {p} provinces, {d} districts, {c} communes");
            Ok(())
        }
        Command::Schema => Ok(()),
    }
}

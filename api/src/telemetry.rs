//! Logging: `tracing` with an env-filter, pretty or JSON lines.

use crate::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (a second call, as in tests, leaves the first in place).
pub fn init(config: &Config) {
    // PostgreSQL's notices ("relation already exists, skipping") are not news at INFO; a
    // LOG_LEVEL that names their target keeps its own say.
    let directives = if config.log_level.contains("sqlx::postgres::notice") {
        config.log_level.clone()
    } else {
        format!("{},sqlx::postgres::notice=warn", config.log_level)
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.with_target(false).try_init(),
    };
}

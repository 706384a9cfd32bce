//! The one domain error, and how it reaches clients.
//!
//! Every error a client sees carries `extensions.code` (DESIGN.md, API conventions). Internal
//! errors show a generic message; their cause travels as the error's source so that the HTTP
//! layer logs it with the request id, and never reaches the response.

use async_graphql::ErrorExtensions;
use std::sync::Arc;

/// Stable error codes.
pub mod code {
    /// No or an invalid credential.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// Authenticated but not allowed.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// An argument or input field is wrong; `extensions.field` names it.
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// The object does not exist (or is not visible).
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// A stale version or a duplicate.
    pub const CONFLICT: &str = "CONFLICT";
    /// Too many attempts; `extensions.retryAfter` says in how many seconds to try again (and the
    /// response is 429 with `Retry-After`).
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// The database is unreachable; `extensions.outcome` says whether the write applied.
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    /// Anything else: a generic message, the cause in the log.
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    /// A retry with an `Idempotency-Key` whose write was applied but whose first response was
    /// lost (the connection died after the commit): read the result instead.
    pub const ALREADY_APPLIED: &str = "ALREADY_APPLIED";
    /// The request body is not a GraphQL request.
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    /// The document does not parse.
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The document does not validate against the schema, or its variables do not coerce,
    /// or it is over a limit (`extensions.limit` names the setting).
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// The request ran past `EXECUTION_TIMEOUT` and was stopped.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The response would be larger than `MAX_RESPONSE_BYTES`.
    pub const RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";
}

/// The internal cause of an error, kept for the log.
#[derive(Debug, Clone)]
pub struct InternalCause(pub Arc<String>);

/// Whether a failed write was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Certainly not applied.
    NotApplied,
    /// The connection broke during commit: unknown.
    Unknown,
}

/// The domain error of every service.
///
/// It deliberately does not implement `Display`: async-graphql converts any `Display` type into
/// an error without extensions, which would drop the code. `From<AppError>` below keeps it.
#[derive(Debug, Clone)]
pub enum AppError {
    /// Bad input, with the offending field.
    BadUserInput {
        /// What is wrong, for a person.
        message: String,
        /// The argument or input field at fault.
        field: String,
    },
    /// The object does not exist.
    NotFound(String),
    /// Not allowed.
    Forbidden(String),
    /// Not authenticated.
    Unauthenticated(String),
    /// A stale version or a duplicate.
    Conflict(String),
    /// Too many attempts: try again after this many seconds.
    RateLimited(u64),
    /// The database is unreachable.
    Unavailable {
        /// Whether the write was applied.
        outcome: Outcome,
        /// The driver's message, for the log.
        cause: Arc<String>,
    },
    /// Anything unexpected.
    Internal(Arc<String>),
}

impl AppError {
    /// A bad argument or input field.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: field.into(),
        }
    }

    /// An unexpected failure, with its cause for the log.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(Arc::new(cause.to_string()))
    }

    /// The message shown to clients (generic for internal and unavailable errors).
    pub fn message(&self) -> String {
        match self {
            Self::BadUserInput { message, .. } => message.clone(),
            Self::NotFound(m)
            | Self::Forbidden(m)
            | Self::Unauthenticated(m)
            | Self::Conflict(m) => m.clone(),
            Self::RateLimited(s) => format!("too many attempts: try again in {s} s"),
            Self::Unavailable { .. } => "the database is unavailable".into(),
            Self::Internal(_) => "internal server error".into(),
        }
    }

    /// The full text for an operator's terminal: the cause of internal errors, the field of
    /// bad input. Never sent to clients.
    pub fn detail(&self) -> String {
        match self {
            Self::BadUserInput { message, field } => format!("{field}: {message}"),
            Self::Internal(cause) | Self::Unavailable { cause, .. } => cause.to_string(),
            other => other.message(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => code::BAD_USER_INPUT,
            Self::NotFound(_) => code::NOT_FOUND,
            Self::Forbidden(_) => code::FORBIDDEN,
            Self::Unauthenticated(_) => code::UNAUTHENTICATED,
            Self::Conflict(_) => code::CONFLICT,
            Self::RateLimited(_) => code::RATE_LIMITED,
            Self::Unavailable { .. } => code::SERVICE_UNAVAILABLE,
            Self::Internal(_) => code::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        use sea_orm::DbErr;
        match &e {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Self::Unavailable {
                outcome: Outcome::NotApplied,
                cause: Arc::new(e.to_string()),
            },
            // The link died under a statement: nothing of an uncommitted transaction stays
            // (a lost commit is told apart by `app::commit`).
            DbErr::Exec(sea_orm::RuntimeErr::SqlxError(x))
            | DbErr::Query(sea_orm::RuntimeErr::SqlxError(x))
                if is_link_failure(x) =>
            {
                Self::Unavailable {
                    outcome: Outcome::NotApplied,
                    cause: Arc::new(e.to_string()),
                }
            }
            _ => Self::internal(e),
        }
    }
}

/// Whether a driver error says that the connection failed, not the database.
fn is_link_failure(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    matches!(
        e,
        Error::Io(_)
            | Error::Tls(_)
            | Error::Protocol(_)
            | Error::PoolTimedOut
            | Error::PoolClosed
            | Error::WorkerCrashed
            | Error::BeginFailed
    )
}

impl From<AppError> for async_graphql::Error {
    fn from(e: AppError) -> Self {
        e.extend()
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        let mut error = match self {
            Self::Internal(cause) | Self::Unavailable { cause, .. } => {
                async_graphql::Error::new_with_source(InternalCause(cause.clone()))
            }
            _ => async_graphql::Error::new(self.message()),
        };
        error.message = self.message();
        error.extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                Self::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                Self::RateLimited(s) => ext.set("retryAfter", *s),
                Self::Unavailable { outcome, .. } => ext.set(
                    "outcome",
                    match outcome {
                        Outcome::NotApplied => "NOT_APPLIED",
                        Outcome::Unknown => "UNKNOWN",
                    },
                ),
                _ => {}
            }
        })
    }
}

/// Result of services and resolvers.
pub type AppResult<T> = Result<T, AppError>;

impl std::fmt::Display for InternalCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

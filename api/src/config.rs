//! Configuration from the environment and an optional TOML file.
//!
//! Precedence: environment over file over defaults. The file is `CONFIG_FILE` if set (it must
//! then exist), else `platform.toml` in the working directory if present; its keys are the
//! settings' names in lower case (`database_url = "…"`). Every value is validated here, and a bad
//! one stops start-up with one line that names the setting.

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The default embedded database: an SQLite file under the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/platform.db?mode=rwc";

/// Names of the settings read from the environment (and, lower-cased, from the file).
pub const SETTINGS: &[&str] = &[
    "DATABASE_URL",
    "BIND_ADDR",
    "APP_PROFILE",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "MAX_PAGE_SIZE",
    "AUTO_MIGRATE",
    "JWT_SECRET",
    "JWT_PRIVATE_KEY",
    "JWT_PUBLIC_KEYS",
    "JWT_KID",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_TTL",
    "MAX_DEPTH",
    "MAX_COMPLEXITY",
    "MAX_ALIASES",
    "MAX_SELECTIONS",
    "MAX_BODY_BYTES",
    "MAX_RESPONSE_BYTES",
    "EXECUTION_TIMEOUT",
    "MAX_IMPORT_BYTES",
    "BULK_TIMEOUT",
    "INTROSPECTION",
    "CORS_ALLOWED_ORIGINS",
    "REVOCATION_STALENESS",
    "LOGIN_RATE_PER_MINUTE",
    "TRUSTED_PROXIES",
    "IDEMPOTENCY_TTL",
    "DATABASE_READ_URL",
    "REPLICA_MAX_LAG",
];

/// Token settings (see the auth module). `Debug` never shows the secret.
#[derive(Clone, Default)]
pub struct JwtSettings {
    /// HS256 secret (at least 32 bytes).
    pub secret: Option<String>,
    /// Path of a PEM private key (RS256 or EdDSA).
    pub private_key: Option<String>,
    /// Older public keys that still verify: `kid=path,kid=path`.
    pub public_keys: Option<String>,
    /// Key id of the signing key.
    pub kid: Option<String>,
    /// `iss` of issued tokens, required of verified ones.
    pub issuer: String,
    /// `aud` of issued tokens, required of verified ones.
    pub audience: String,
    /// Access token lifetime.
    pub ttl_seconds: u64,
}

impl fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSettings")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("private_key", &self.private_key)
            .field("public_keys", &self.public_keys)
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl_seconds", &self.ttl_seconds)
            .finish()
    }
}

/// Deployment profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Local development: GraphiQL served to browsers, demo data in the embedded default.
    Dev,
    /// Production: no GraphiQL.
    Prod,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object a line.
    Json,
}

/// A database URL; its `Display` hides any password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Validates the scheme (`sqlite:` or `postgres:` / `postgresql:`).
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let scheme = value.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" | "postgres" | "postgresql" if value.len() > scheme.len() + 1 => {
                Ok(Self(value.to_string()))
            }
            "sqlite" | "postgres" | "postgresql" => Err(format!("`{scheme}:` names no database")),
            _ => Err(format!(
                "unsupported scheme `{scheme}` (expected sqlite:… or postgres://…)"
            )),
        }
    }

    /// The URL itself, password included: pass it to the driver, never to a log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this is an SQLite URL.
    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }

    /// Whether this is the default embedded database.
    pub fn is_default(&self) -> bool {
        self.0 == DEFAULT_DATABASE_URL
    }
}

impl fmt::Display for DatabaseUrl {
    /// The URL with the password of its user part and any `password=` parameter masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (base, query) = match self.0.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (self.0.as_str(), None),
        };
        // scheme://user:password@host/db → scheme://user:***@host/db
        match (base.find("://"), base.rfind('@')) {
            (Some(start), Some(at)) if at > start => {
                let credentials = &base[start + 3..at];
                match credentials.find(':') {
                    Some(colon) => write!(
                        f,
                        "{}{}:***{}",
                        &base[..start + 3],
                        &credentials[..colon],
                        &base[at..]
                    )?,
                    None => f.write_str(base)?,
                }
            }
            _ => f.write_str(base)?,
        }
        if let Some(query) = query {
            let masked: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            write!(f, "?{}", masked.join("&"))?;
        }
        Ok(())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Which browser origins may call the API (CORS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Any origin (`*`): the `dev` default.
    Any,
    /// These origins only (`https://portal.example.gov.vn`); empty: none, the `prod` default.
    List(Vec<String>),
}

/// Bounds on what one GraphQL request may ask for; each refusal has its own error code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLimits {
    /// Deepest selection nesting (`MAX_DEPTH`, default 15).
    pub max_depth: usize,
    /// Largest query complexity, one per field (`MAX_COMPLEXITY`, default 5000).
    pub max_complexity: usize,
    /// Most aliased fields, counted with fragments expanded (`MAX_ALIASES`, default 30).
    pub max_aliases: usize,
    /// Most field selections with fragments expanded (`MAX_SELECTIONS`, default 2000): checked
    /// on the parsed document before validation, so that fragments that fan out cannot make
    /// validation itself exponential.
    pub max_selections: usize,
    /// Largest request body on `/graphql` (`MAX_BODY_BYTES`, default 4 MiB); larger is 413.
    pub max_body_bytes: usize,
    /// Largest response body (`MAX_RESPONSE_BYTES`, default 16 MiB).
    pub max_response_bytes: usize,
    /// Longest a request may take, parsing and validation included (`EXECUTION_TIMEOUT`,
    /// default 30 s).
    pub execution_timeout_seconds: u64,
    /// Largest file `POST /import/indicator-values` takes (`MAX_IMPORT_BYTES`, default 64 MiB);
    /// larger is 413.
    pub max_import_bytes: usize,
    /// Longest a bulk export or import may run (`BULK_TIMEOUT`, default 10m): an export past it
    /// is cut off (the body ends with an error, not a clean end), an import is rolled back.
    pub bulk_timeout_seconds: u64,
    /// Whether introspection (and field suggestions in errors) is served (`INTROSPECTION`;
    /// default on in `dev`, off in `prod`).
    pub introspection: bool,
    /// Credential checks (`login`, `serviceToken`) a client address may make a minute
    /// (`LOGIN_RATE_PER_MINUTE`, default 30); beyond, 429 with `Retry-After`.
    pub login_rate_per_minute: u32,
    /// How long the outcome of a mutation sent with an `Idempotency-Key` is kept
    /// (`IDEMPOTENCY_TTL`, default 24h, at most 24h); a retry within it replays the outcome.
    pub idempotency_ttl_seconds: u64,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 5_000,
            max_aliases: 30,
            max_selections: 2_000,
            max_body_bytes: 4 * 1024 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            execution_timeout_seconds: 30,
            max_import_bytes: 64 * 1024 * 1024,
            bulk_timeout_seconds: 600,
            introspection: true,
            login_rate_per_minute: 30,
            idempotency_ttl_seconds: 24 * 3600,
        }
    }
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the data lives.
    pub database_url: DatabaseUrl,
    /// Address to listen on; port 0 picks a free port.
    pub bind_addr: SocketAddr,
    /// Deployment profile.
    pub profile: Profile,
    /// Log output format.
    pub log_format: LogFormat,
    /// `tracing` filter directives, e.g. `info` or `api=debug,sqlx=warn`.
    pub log_level: String,
    /// Hard maximum of `first` / `last` on every connection.
    pub max_page_size: usize,
    /// Whether `serve` applies pending migrations itself.
    pub auto_migrate: bool,
    /// Token keys and claims.
    pub jwt: JwtSettings,
    /// Bounds on GraphQL requests.
    pub limits: RequestLimits,
    /// Browser origins allowed (`CORS_ALLOWED_ORIGINS`).
    pub cors_origins: CorsOrigins,
    /// How long an instance trusts what it last read of a token's subject
    /// (`REVOCATION_STALENESS`, default 30 s): a deactivation, revocation or logout everywhere
    /// made on another instance takes at most this long to be seen.
    pub revocation_staleness_seconds: u64,
    /// Load balancers or reverse proxies whose `X-Forwarded-For` names the client
    /// (`TRUSTED_PROXIES`, comma-separated IP addresses; none by default).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A read-only replica for queries (`DATABASE_READ_URL`; none: the primary serves all).
    pub read_database_url: Option<DatabaseUrl>,
    /// How far behind the primary the replica may be (`REPLICA_MAX_LAG`, default 10 s): for
    /// this long after a principal's write, his queries go to the primary, so that he reads
    /// his own writes.
    pub replica_max_lag_seconds: u64,
}

/// A configuration error: one line naming the setting.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {setting}: {reason}")]
pub struct ConfigError {
    /// The setting at fault.
    pub setting: &'static str,
    /// Why its value was refused.
    pub reason: String,
}

/// A setting as the file or the environment gives it: text, a number or a boolean (the file may
/// say `max_page_size = 500` or `auto_migrate = true`); validated as text below.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Integer(i64),
    Bool(bool),
}

fn scalar<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?.map(|v| match v {
        Scalar::Text(s) => s,
        Scalar::Integer(i) => i.to_string(),
        Scalar::Bool(b) => b.to_string(),
    }))
}

#[derive(Debug, Default, Deserialize)]
struct Raw {
    #[serde(default, deserialize_with = "scalar")]
    database_url: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    bind_addr: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    app_profile: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    log_format: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    log_level: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    max_page_size: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    auto_migrate: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    jwt_secret: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    jwt_private_key: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    jwt_public_keys: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    jwt_kid: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    jwt_issuer: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    jwt_audience: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    jwt_ttl: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    max_depth: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    max_complexity: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    max_aliases: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    max_selections: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    max_body_bytes: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    max_response_bytes: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    execution_timeout: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    max_import_bytes: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    bulk_timeout: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    introspection: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    cors_allowed_origins: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    revocation_staleness: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    login_rate_per_minute: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    idempotency_ttl: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    trusted_proxies: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    database_read_url: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    replica_max_lag: Option<String>,
}

/// A duration setting: whole seconds, or a number with `s`, `m` or `h`.
fn seconds(setting: &'static str, value: &str) -> Result<u64, ConfigError> {
    let v = value.trim();
    let (number, unit) = match v.char_indices().last() {
        Some((i, 's')) => (&v[..i], 1),
        Some((i, 'm')) => (&v[..i], 60),
        Some((i, 'h')) => (&v[..i], 3600),
        _ => (v, 1),
    };
    match number.trim().parse::<u64>() {
        Ok(n) if n > 0 && n * unit <= 24 * 3600 => Ok(n * unit),
        _ => Err(err(
            setting,
            "expected a duration such as 900, 15m or 1h (at most 24h)",
        )),
    }
}

/// A whole-number setting within `range`, or `default` when unset.
fn whole(
    setting: &'static str,
    value: Option<&str>,
    range: std::ops::RangeInclusive<usize>,
    default: usize,
) -> Result<usize, ConfigError> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(err(
                setting,
                format!(
                    "expected a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        },
    }
}

/// A boolean setting, or `default` when unset.
fn boolean(setting: &'static str, value: Option<&str>, default: bool) -> Result<bool, ConfigError> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(_) => Err(err(setting, "expected true or false")),
    }
}

fn err(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        reason: reason.into(),
    }
}

impl Config {
    /// Reads the process environment and the optional file.
    pub fn load() -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        match std::env::var_os("CONFIG_FILE") {
            Some(path) => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    return Err(err("CONFIG_FILE", format!("no file at {}", path.display())));
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            None if std::path::Path::new("platform.toml").is_file() => {
                figment = figment.merge(Toml::file_exact("platform.toml"));
            }
            None => {}
        }
        // Values are taken as strings and validated below, so that every message names the
        // setting and says what was expected.
        for setting in SETTINGS {
            match std::env::var(setting) {
                Ok(value) => figment = figment.merge((setting.to_lowercase(), value)),
                Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(err(setting, "the value is not valid UTF-8"));
                }
            }
        }
        let raw: Raw = figment.extract().map_err(|e| {
            let setting = e
                .path
                .first()
                .and_then(|k| SETTINGS.iter().find(|s| s.eq_ignore_ascii_case(k)))
                .copied()
                .unwrap_or("CONFIG_FILE");
            err(setting, e.kind.to_string())
        })?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: Raw) -> Result<Self, ConfigError> {
        let database_url = match raw.database_url.as_deref().map(str::trim) {
            None | Some("") => DatabaseUrl(DEFAULT_DATABASE_URL.to_string()),
            Some(v) => DatabaseUrl::parse(v).map_err(|r| err("DATABASE_URL", r))?,
        };
        let bind_addr = raw
            .bind_addr
            .as_deref()
            .unwrap_or("127.0.0.1:8000")
            .trim()
            .parse()
            .map_err(|_| {
                err(
                    "BIND_ADDR",
                    "expected HOST:PORT with an IP address, e.g. 0.0.0.0:8000",
                )
            })?;
        let profile = match raw.app_profile.as_deref().map(str::trim) {
            None | Some("") | Some("dev") => Profile::Dev,
            Some("prod") => Profile::Prod,
            Some(other) => {
                return Err(err(
                    "APP_PROFILE",
                    format!("`{other}` is not one of dev, prod"),
                ));
            }
        };
        let log_format = match raw.log_format.as_deref().map(str::trim) {
            None | Some("") | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(err(
                    "LOG_FORMAT",
                    format!("`{other}` is not one of pretty, json"),
                ));
            }
        };
        let log_level = raw.log_level.unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_level)
            .map_err(|e| err("LOG_LEVEL", e.to_string()))?;
        let max_page_size = whole(
            "MAX_PAGE_SIZE",
            raw.max_page_size.as_deref(),
            1..=10_000,
            500,
        )?;
        let auto_migrate = boolean(
            "AUTO_MIGRATE",
            raw.auto_migrate.as_deref(),
            database_url.is_sqlite(),
        )?;
        let d = RequestLimits::default();
        let limits = RequestLimits {
            max_depth: whole("MAX_DEPTH", raw.max_depth.as_deref(), 2..=64, d.max_depth)?,
            max_complexity: whole(
                "MAX_COMPLEXITY",
                raw.max_complexity.as_deref(),
                10..=1_000_000,
                d.max_complexity,
            )?,
            max_aliases: whole(
                "MAX_ALIASES",
                raw.max_aliases.as_deref(),
                0..=10_000,
                d.max_aliases,
            )?,
            max_selections: whole(
                "MAX_SELECTIONS",
                raw.max_selections.as_deref(),
                10..=1_000_000,
                d.max_selections,
            )?,
            max_body_bytes: whole(
                "MAX_BODY_BYTES",
                raw.max_body_bytes.as_deref(),
                1024..=256 * 1024 * 1024,
                d.max_body_bytes,
            )?,
            max_response_bytes: whole(
                "MAX_RESPONSE_BYTES",
                raw.max_response_bytes.as_deref(),
                1024..=1024 * 1024 * 1024,
                d.max_response_bytes,
            )?,
            execution_timeout_seconds: match raw.execution_timeout.as_deref() {
                Some(v) if !v.trim().is_empty() => seconds("EXECUTION_TIMEOUT", v)?,
                _ => d.execution_timeout_seconds,
            },
            max_import_bytes: whole(
                "MAX_IMPORT_BYTES",
                raw.max_import_bytes.as_deref(),
                1024..=1024 * 1024 * 1024,
                d.max_import_bytes,
            )?,
            bulk_timeout_seconds: match raw.bulk_timeout.as_deref() {
                Some(v) if !v.trim().is_empty() => seconds("BULK_TIMEOUT", v)?,
                _ => d.bulk_timeout_seconds,
            },
            introspection: boolean(
                "INTROSPECTION",
                raw.introspection.as_deref(),
                profile == Profile::Dev,
            )?,
            login_rate_per_minute: whole(
                "LOGIN_RATE_PER_MINUTE",
                raw.login_rate_per_minute.as_deref(),
                1..=1_000_000,
                d.login_rate_per_minute as usize,
            )? as u32,
            idempotency_ttl_seconds: match raw.idempotency_ttl.as_deref() {
                Some(v) if !v.trim().is_empty() => seconds("IDEMPOTENCY_TTL", v)?,
                _ => d.idempotency_ttl_seconds,
            },
        };
        let cors_origins = match raw.cors_allowed_origins.as_deref().map(str::trim) {
            None | Some("") if profile == Profile::Dev => CorsOrigins::Any,
            None | Some("") => CorsOrigins::List(Vec::new()),
            Some("*") => CorsOrigins::Any,
            Some(list) => {
                let mut origins = Vec::new();
                for o in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    let ok = (o.starts_with("https://") || o.starts_with("http://"))
                        && !o.trim_end_matches('/').contains(['*', ' '])
                        && o.split("://")
                            .nth(1)
                            .is_some_and(|h| !h.is_empty() && !h.contains('/'));
                    if !ok {
                        return Err(err(
                            "CORS_ALLOWED_ORIGINS",
                            format!(
                                "`{o}` is not an origin: expected * or a comma-separated list such \
                                 as https://portal.example.gov.vn"
                            ),
                        ));
                    }
                    origins.push(o.to_string());
                }
                CorsOrigins::List(origins)
            }
        };
        let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let jwt = JwtSettings {
            secret: non_empty(raw.jwt_secret),
            private_key: non_empty(raw.jwt_private_key),
            public_keys: non_empty(raw.jwt_public_keys),
            kid: non_empty(raw.jwt_kid).map(|k| k.trim().to_string()),
            issuer: non_empty(raw.jwt_issuer).unwrap_or_else(|| "regional-platform".into()),
            audience: non_empty(raw.jwt_audience).unwrap_or_else(|| "regional-platform-api".into()),
            ttl_seconds: match non_empty(raw.jwt_ttl) {
                Some(v) => seconds("JWT_TTL", &v)?,
                None => 900,
            },
        };
        Ok(Self {
            database_url,
            bind_addr,
            profile,
            log_format,
            log_level,
            max_page_size,
            auto_migrate,
            jwt,
            limits,
            cors_origins,
            trusted_proxies: raw
                .trusted_proxies
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| {
                    a.parse().map_err(|_| {
                        err(
                            "TRUSTED_PROXIES",
                            format!("`{a}` is not an IP address (expected e.g. 10.0.0.5,10.0.0.6)"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            revocation_staleness_seconds: match raw.revocation_staleness.as_deref() {
                Some(v) if !v.trim().is_empty() => seconds("REVOCATION_STALENESS", v)?,
                _ => crate::auth::REVOCATION_STALENESS.as_secs(),
            },
            read_database_url: match raw.database_read_url.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(DatabaseUrl::parse(v).map_err(|r| err("DATABASE_READ_URL", r))?),
            },
            replica_max_lag_seconds: match raw.replica_max_lag.as_deref() {
                Some(v) if !v.trim().is_empty() => seconds("REPLICA_MAX_LAG", v)?,
                _ => 10,
            },
        })
    }

    /// A configuration for tests and tools: the given database, port 0, dev profile.
    pub fn for_database(url: &str) -> Result<Self, ConfigError> {
        Self::from_raw(Raw {
            database_url: Some(url.to_string()),
            bind_addr: Some("127.0.0.1:0".into()),
            auto_migrate: Some("true".into()),
            ..Raw::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_with(f: impl FnOnce(&mut Raw)) -> Raw {
        let mut raw = Raw::default();
        f(&mut raw);
        raw
    }

    #[test]
    fn defaults() {
        let c = Config::from_raw(Raw::default()).unwrap();
        assert!(c.database_url.is_default());
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:8000");
        assert_eq!(c.profile, Profile::Dev);
        assert!(c.auto_migrate);
    }

    #[test]
    fn bad_values_name_their_setting() {
        let e = Config::from_raw(raw_with(|r| r.database_url = Some("nonsense://".into())))
            .unwrap_err();
        assert_eq!(e.setting, "DATABASE_URL");
        let e = Config::from_raw(raw_with(|r| r.bind_addr = Some("localhost".into()))).unwrap_err();
        assert_eq!(e.setting, "BIND_ADDR");
        let e = Config::from_raw(raw_with(|r| r.app_profile = Some("staging".into()))).unwrap_err();
        assert_eq!(e.setting, "APP_PROFILE");
        let e = Config::from_raw(raw_with(|r| r.log_format = Some("xml".into()))).unwrap_err();
        assert_eq!(e.setting, "LOG_FORMAT");
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn limits_default_and_prod_turns_introspection_off() {
        let c = Config::from_raw(Raw::default()).unwrap();
        assert_eq!(c.limits, RequestLimits::default());
        assert!(c.limits.introspection);
        let c = Config::from_raw(raw_with(|r| r.app_profile = Some("prod".into()))).unwrap();
        assert!(!c.limits.introspection);
        let c = Config::from_raw(raw_with(|r| {
            r.app_profile = Some("prod".into());
            r.introspection = Some("true".into());
        }))
        .unwrap();
        assert!(c.limits.introspection);
        let e = Config::from_raw(raw_with(|r| r.max_aliases = Some("many".into()))).unwrap_err();
        assert_eq!(e.setting, "MAX_ALIASES");
        let e = Config::from_raw(raw_with(|r| r.execution_timeout = Some("0".into()))).unwrap_err();
        assert_eq!(e.setting, "EXECUTION_TIMEOUT");
    }

    #[test]
    fn cors_origins_are_checked() {
        let c = Config::from_raw(Raw::default()).unwrap();
        assert_eq!(c.cors_origins, CorsOrigins::Any);
        let c = Config::from_raw(raw_with(|r| r.app_profile = Some("prod".into()))).unwrap();
        assert_eq!(c.cors_origins, CorsOrigins::List(Vec::new()));
        let c = Config::from_raw(raw_with(|r| {
            r.cors_allowed_origins = Some("https://a.gov.vn, http://localhost:5173".into())
        }))
        .unwrap();
        assert_eq!(
            c.cors_origins,
            CorsOrigins::List(vec![
                "https://a.gov.vn".into(),
                "http://localhost:5173".into()
            ])
        );
        let e = Config::from_raw(raw_with(|r| {
            r.cors_allowed_origins = Some("a.gov.vn/path".into())
        }))
        .unwrap_err();
        assert_eq!(e.setting, "CORS_ALLOWED_ORIGINS");
    }

    #[test]
    fn password_never_displayed() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/platform").unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/platform");
        assert!(!format!("{url:?}").contains("s3cret"));
        let url =
            DatabaseUrl::parse("postgres://db/platform?user=app&password=s3cret&sslmode=require")
                .unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://db/platform?user=app&password=***&sslmode=require"
        );
    }

    #[test]
    fn file_values_may_be_numbers_and_booleans() {
        let raw: Raw = figment::Figment::new()
            .merge(figment::providers::Toml::string(
                "max_page_size = 200\nauto_migrate = false\n",
            ))
            .extract()
            .unwrap();
        let c = Config::from_raw(raw).unwrap();
        assert_eq!(c.max_page_size, 200);
        assert!(!c.auto_migrate);
    }
}

//! Scalars of the schema.

use async_graphql::{ID, InputValueError, InputValueResult, Scalar, ScalarType, Value};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDate, SecondsFormat, Utc};

/// The global id of a row of a kind ("Plan", "AdminUnit", …): opaque to clients.
pub fn node_id(kind: &str, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{kind}:{id}")))
}

/// The kind and row id of a global id.
pub fn decode_node_id(id: &str) -> Option<(String, i64)> {
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, row) = text.split_once(':')?;
    Some((kind.to_string(), row.parse().ok()?))
}

/// The row id of a global id of one kind.
pub fn decode_node_id_of(kind: &str, id: &str) -> Option<i64> {
    decode_node_id(id)
        .filter(|(k, _)| k == kind)
        .map(|(_, row)| row)
}

/// An exact decimal, as a string: "6.5", "14780".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal(pub String);

/// An exact decimal, always a string so that no digit is lost: "6.5", "14780".
#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => rust_decimal::Decimal::from_str_exact(s.trim())
                .map(|d| Decimal(d.normalize().to_string()))
                .map_err(|_| InputValueError::custom(format!("`{s}` is not a decimal"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if rust_decimal::Decimal::from_str_exact(s.trim()).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// An instant, RFC 3339 in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// An instant in RFC 3339 form, UTC: "2024-06-01T08:30:00Z".
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|d| DateTime(d.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom(format!("`{s}` is not an RFC 3339 instant"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

/// A DHIS2 period id: "2024", "2024S1", "2024Q3", "202406".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period(pub String);

/// A DHIS2 period id: a year "2024", a half "2024S1", a quarter "2024Q3" or a month "202406".
#[Scalar(name = "Period")]
impl ScalarType for Period {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) if crate::period::Period::parse(s).is_some() => {
                Ok(Period(s.trim().to_string()))
            }
            Value::String(s) => Err(InputValueError::custom(format!(
                "`{s}` is not a DHIS2 period"
            ))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if crate::period::Period::parse(s).is_some())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// A calendar date, ISO 8601: "2024-06-01".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar date in ISO 8601 form, "2024-06-01".
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!("`{s}` is not a date of the form YYYY-MM-DD"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

//! Agencies: creation at a unit valid today, and changes (name, kind, closing, successor).

use crate::error::{AppError, AppResult};
use crate::text;
use chrono::{NaiveDate, Utc};
use entity::agency;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// An agency to create.
#[derive(Clone, Debug)]
pub struct NewAgency {
    /// Stable key (`79.so-tc`), optional.
    pub key: Option<String>,
    /// Official name.
    pub name: String,
    /// Short name.
    pub short_name: Option<String>,
    /// Kind word (`PEOPLES_COMMITTEE`, `DEPARTMENT`, …).
    pub kind: String,
    /// Its unit (valid today).
    pub unit_id: i64,
    /// The agency it belongs to.
    pub parent_id: Option<i64>,
    /// First day; none: today.
    pub valid_from: Option<NaiveDate>,
}

/// A change to an agency; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct AgencyChange {
    /// New name.
    pub name: Option<String>,
    /// New short name (empty: none).
    pub short_name: Option<String>,
    /// New kind.
    pub kind: Option<String>,
    /// Its last day (closing it).
    pub valid_to: Option<NaiveDate>,
    /// The agency that took it over.
    pub successor_id: Option<i64>,
}

/// An agency as the audit trail keeps it.
pub fn snapshot(a: &agency::Model) -> serde_json::Value {
    serde_json::json!({
        "key": a.code,
        "name": a.name,
        "shortName": a.short_name,
        "kind": a.kind,
        "unitId": a.admin_unit_id,
        "parentId": a.parent_agency_id,
        "validFrom": a.valid_from,
        "validTo": a.valid_to,
        "successorId": a.successor_id,
    })
}

/// The kinds of agency, as plan files, the demo data and the API name them.
pub const KINDS: &[&str] = &[
    "PEOPLES_COMMITTEE",
    "PEOPLES_COUNCIL",
    "DEPARTMENT",
    "OFFICE",
    "POLICE",
    "MILITARY",
    "PARTY",
    "MASS_ORGANISATION",
    "ENTERPRISE",
    "OTHER",
];

/// Longest agency name, in characters.
pub const MAX_NAME: usize = 300;

/// An agency's declared fields in their stored form: the one validation of every path that
/// writes agencies (the API's use cases, plan files, the demo data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Key, trimmed (1 to 64 characters, no spaces).
    pub key: Option<String>,
    /// Name in NFC, whitespace collapsed.
    pub name: String,
    /// Short name likewise; none when blank.
    pub short_name: Option<String>,
    /// One of [`KINDS`].
    pub kind: String,
    /// Folded search key of the name and short name.
    pub search_key: String,
}

/// Checks an agency's key, names and kind; errors name the field at fault.
pub fn check(
    key: Option<&str>,
    name: &str,
    short_name: Option<&str>,
    kind: &str,
) -> AppResult<Checked> {
    let key = match key {
        Some(k) => {
            let k = k.trim().to_string();
            if k.is_empty() || k.len() > 64 || k.chars().any(char::is_whitespace) {
                return Err(AppError::bad_input("key", "1 to 64 characters, no spaces"));
            }
            Some(k)
        }
        None => None,
    };
    let name = required("name", name, MAX_NAME)?;
    let short_name = short_name.map(text::clean).filter(|s| !s.is_empty());
    let kind = kind_word(kind)?;
    let search_key = text::fold(&format!(
        "{} {}",
        name,
        short_name.as_deref().unwrap_or_default()
    ));
    Ok(Checked {
        key,
        name,
        short_name,
        kind,
        search_key,
    })
}

fn required(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = text::clean(value);
    if v.is_empty() || v.chars().count() > max {
        return Err(AppError::bad_input(field, format!("1 to {max} characters")));
    }
    Ok(v)
}

fn kind_word(value: &str) -> AppResult<String> {
    let k = value.trim().to_uppercase();
    if !KINDS.contains(&k.as_str()) {
        return Err(AppError::bad_input(
            "kind",
            format!("`{}` is not one of {}", value.trim(), KINDS.join(", ")),
        ));
    }
    Ok(k)
}

/// Creates an agency. The caller has checked the unit (valid today, in scope).
pub async fn create<C: ConnectionTrait>(db: &C, a: NewAgency) -> AppResult<agency::Model> {
    let checked = check(a.key.as_deref(), &a.name, a.short_name.as_deref(), &a.kind)?;
    if let Some(k) = &checked.key
        && agency::Entity::find()
            .filter(agency::Column::Code.eq(k.as_str()))
            .one(db)
            .await?
            .is_some()
    {
        return Err(AppError::Conflict(format!("the agency key {k} is taken")));
    }
    Ok(agency::ActiveModel {
        search_key: Set(checked.search_key),
        name: Set(checked.name),
        short_name: Set(checked.short_name),
        kind: Set(checked.kind),
        admin_unit_id: Set(a.unit_id),
        parent_agency_id: Set(a.parent_id),
        valid_from: Set(Some(a.valid_from.unwrap_or_else(crate::clock::today))),
        valid_to: Set(None),
        successor_id: Set(None),
        created_at: Set(Utc::now()),
        code: Set(checked.key),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Applies a change to an agency.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    current: agency::Model,
    change: &AgencyChange,
) -> AppResult<agency::Model> {
    if let Some(to) = change.valid_to
        && current.valid_from.is_some_and(|from| to < from)
    {
        return Err(AppError::bad_input(
            "validTo",
            "before the agency's first day",
        ));
    }
    if change.successor_id == Some(current.id) {
        return Err(AppError::bad_input(
            "successorId",
            "an agency cannot succeed itself",
        ));
    }
    let mut model: agency::ActiveModel = current.into();
    if let Some(name) = &change.name {
        let name = required("name", name, 300)?;
        model.search_key = Set(text::fold(&name));
        model.name = Set(name);
    }
    if let Some(short) = &change.short_name {
        let short = text::clean(short);
        model.short_name = Set((!short.is_empty()).then_some(short));
    }
    if let Some(kind) = &change.kind {
        model.kind = Set(kind_word(kind)?);
    }
    if let Some(to) = change.valid_to {
        model.valid_to = Set(Some(to));
    }
    if let Some(s) = change.successor_id {
        model.successor_id = Set(Some(s));
    }
    Ok(model.update(db).await?)
}

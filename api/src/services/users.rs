//! Users: creation with a hashed password, in a unit valid today.

use crate::auth::sessions::{MIN_PASSWORD, hash_password};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::services::units;
use crate::text;
use chrono::Utc;
use entity::enums::Role;
use entity::{agency, app_user};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// A user to create.
pub struct NewUser<'a> {
    /// Login name.
    pub username: &'a str,
    /// Display name.
    pub display_name: Option<&'a str>,
    /// Role.
    pub role: Role,
    /// Home unit code (resolved today); none for a national user.
    pub unit_code: Option<&'a str>,
    /// Agency key.
    pub agency_key: Option<&'a str>,
    /// Password in clear (hashed here, never stored or logged).
    pub password: &'a str,
}

/// Resolves a principal's home unit (a code valid today) and agency (a key) to row ids.
pub async fn resolve_home<C: ConnectionTrait>(
    db: &C,
    unit_code: Option<&str>,
    agency_key: Option<&str>,
) -> AppResult<(Option<i64>, Option<i64>)> {
    let home_unit_id = match unit_code {
        Some(code) => Some(
            units::by_code(db, code, clock::today(), None)
                .await?
                .ok_or_else(|| AppError::bad_input("unit", format!("no unit {code} today")))?
                .id,
        ),
        None => None,
    };
    let agency_id = match agency_key {
        Some(key) => Some(
            agency::Entity::find()
                .filter(agency::Column::Code.eq(key.trim()))
                .one(db)
                .await?
                .ok_or_else(|| AppError::bad_input("agency", format!("no agency {key}")))?
                .id,
        ),
        None => None,
    };
    Ok((home_unit_id, agency_id))
}

/// Creates a user. The home unit must be valid today; the username must be free.
pub async fn create<C: ConnectionTrait>(db: &C, u: NewUser<'_>) -> AppResult<app_user::Model> {
    let username = u.username.trim();
    if username.is_empty() || username.len() > 64 || username.chars().any(char::is_whitespace) {
        return Err(AppError::bad_input(
            "username",
            "1 to 64 characters, no spaces",
        ));
    }
    if u.password.chars().count() < MIN_PASSWORD {
        return Err(AppError::bad_input(
            "password",
            format!("at least {MIN_PASSWORD} characters"),
        ));
    }
    if app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "the username {username} is taken"
        )));
    }
    let (home_unit_id, agency_id) = resolve_home(db, u.unit_code, u.agency_key).await?;
    let now = Utc::now();
    Ok(app_user::ActiveModel {
        username: Set(username.to_string()),
        display_name: Set(u.display_name.map(text::clean)),
        password_hash: Set(hash_password(u.password)?),
        role: Set(u.role),
        home_unit_id: Set(home_unit_id),
        agency_id: Set(agency_id),
        active: Set(true),
        token_version: Set(0),
        failed_logins: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

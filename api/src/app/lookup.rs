//! The rows a use case acts on, found the way each caller names them: by row id (GraphQL's
//! global ids, decoded above this layer) or by code and key (the CLI). A row that does not
//! exist is bad input on the named field, or `NOT_FOUND` for the object a write is about.

use crate::clock;
use crate::error::{AppError, AppResult};
use crate::services::units;
use entity::{admin_unit, agency, app_user, service_account};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// A unit version by id.
pub async fn unit<C: ConnectionTrait>(
    db: &C,
    field: &str,
    id: i64,
) -> AppResult<admin_unit::Model> {
    admin_unit::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "no such unit"))
}

/// A unit version by id, if any (a home unit that may be national).
pub async fn unit_opt<C: ConnectionTrait>(
    db: &C,
    id: Option<i64>,
) -> AppResult<Option<admin_unit::Model>> {
    match id {
        Some(id) => Ok(admin_unit::Entity::find_by_id(id).one(db).await?),
        None => Ok(None),
    }
}

/// The unit with this code today.
pub async fn unit_today<C: ConnectionTrait>(
    db: &C,
    field: &str,
    code: &str,
) -> AppResult<admin_unit::Model> {
    units::by_code(db, code, clock::today(), None)
        .await?
        .ok_or_else(|| AppError::bad_input(field, format!("no unit {code} today")))
}

/// An agency by id.
pub async fn agency<C: ConnectionTrait>(db: &C, field: &str, id: i64) -> AppResult<agency::Model> {
    agency::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "no such agency"))
}

/// An agency by its key.
pub async fn agency_by_key<C: ConnectionTrait>(
    db: &C,
    field: &str,
    key: &str,
) -> AppResult<agency::Model> {
    agency::Entity::find()
        .filter(agency::Column::Code.eq(key.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, format!("no agency {key}")))
}

/// An account's home unit (a code valid today; none: national) and agency (a key), as the
/// CLI names them; errors name `unit` and `agency`.
pub async fn home_and_agency<C: ConnectionTrait>(
    db: &C,
    unit_code: Option<&str>,
    agency_key: Option<&str>,
) -> AppResult<(Option<admin_unit::Model>, Option<agency::Model>)> {
    let home = match unit_code {
        Some(code) => Some(unit_today(db, "unit", code).await?),
        None => None,
    };
    let agency = match agency_key {
        Some(key) => Some(agency_by_key(db, "agency", key).await?),
        None => None,
    };
    Ok((home, agency))
}

/// A user by id.
pub async fn user<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<app_user::Model> {
    app_user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such user".into()))
}

/// A service account by id.
pub async fn service_account<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> AppResult<service_account::Model> {
    service_account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such service account".into()))
}

/// A service account by its name.
pub async fn service_account_by_name<C: ConnectionTrait>(
    db: &C,
    name: &str,
) -> AppResult<service_account::Model> {
    service_account::Entity::find()
        .filter(service_account::Column::Name.eq(name.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no service account {name}")))
}

/// A plan by id, if any (the caller then asks the policy whether it may be read).
pub async fn plan_opt<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> AppResult<Option<entity::plan::Model>> {
    Ok(entity::plan::Entity::find_by_id(id).one(db).await?)
}

/// A plan by its file key, if any.
pub async fn plan_by_key<C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> AppResult<Option<entity::plan::Model>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(entity::plan::Entity::find()
        .filter(entity::plan::Column::Code.eq(key.trim()))
        .one(db)
        .await?)
}

/// A progress report by id, if any (the caller then asks the policy).
pub async fn report_opt<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> AppResult<Option<entity::progress_report::Model>> {
    Ok(entity::progress_report::Entity::find_by_id(id)
        .one(db)
        .await?)
}

/// A user by id, if any.
pub async fn user_opt<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<app_user::Model>> {
    Ok(app_user::Entity::find_by_id(id).one(db).await?)
}

/// A service account by id, if any.
pub async fn service_account_opt<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> AppResult<Option<service_account::Model>> {
    Ok(service_account::Entity::find_by_id(id).one(db).await?)
}

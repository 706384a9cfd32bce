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

/// Longest username, in characters.
pub const MAX_USERNAME: usize = 64;

/// The stored form of a username: NFC, trimmed and lower-cased, so that `ADMIN` and `admin`
/// are one name. Only lower-case ASCII letters, digits and `.`, `_`, `-`, `@` are allowed,
/// 1 to 64 of them, starting with a letter or digit: no lookalike letters of other scripts,
/// no invisible or control characters, no bidirectional overrides. Login applies the same
/// form, so a user may type his name in any case.
pub fn normalize_username(input: &str) -> AppResult<String> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = input.trim().nfc().collect::<String>().to_lowercase();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c);
    if name.is_empty() || name.chars().count() > MAX_USERNAME {
        return Err(AppError::bad_input(
            "username",
            format!("1 to {MAX_USERNAME} characters"),
        ));
    }
    if let Some(bad) = name.chars().find(|c| !allowed(*c)) {
        return Err(AppError::bad_input(
            "username",
            format!(
                "{} is not allowed: use letters a-z, digits and . _ - @",
                bad.escape_unicode()
            ),
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(AppError::bad_input(
            "username",
            "begin with a letter or a digit",
        ));
    }
    Ok(name)
}

/// Inserts a user whose home unit and agency the caller has checked; the username (in its
/// [`normalize_username`] form) must be free and the password long enough.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    username: &str,
    display_name: Option<&str>,
    role: Role,
    home_unit_id: Option<i64>,
    agency_id: Option<i64>,
    password: &str,
) -> AppResult<app_user::Model> {
    let username = normalize_username(username)?;
    if password.chars().count() < MIN_PASSWORD {
        return Err(AppError::bad_input(
            "password",
            format!("at least {MIN_PASSWORD} characters"),
        ));
    }
    if app_user::Entity::find()
        .filter(app_user::Column::Username.eq(&username))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "the username {username} is taken"
        )));
    }
    let now = Utc::now();
    Ok(app_user::ActiveModel {
        username: Set(username),
        display_name: Set(display_name.map(text::clean)),
        password_hash: Set(hash_password(password)?),
        role: Set(role),
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

/// A change to a user; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    /// New display name (empty: none).
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New home unit id (inner none: national).
    pub home_unit_id: Option<Option<i64>>,
    /// New agency id (inner none: no agency).
    pub agency_id: Option<Option<i64>>,
}

/// A user as the audit trail keeps it (no password hash).
pub fn snapshot(u: &app_user::Model) -> serde_json::Value {
    use sea_orm::ActiveEnum;
    serde_json::json!({
        "username": u.username,
        "displayName": u.display_name,
        "role": u.role.to_value(),
        "homeUnitId": u.home_unit_id,
        "agencyId": u.agency_id,
        "active": u.active,
    })
}

/// Applies a change. A new role, home unit or agency ends the user's sessions and raises the
/// token version, since tokens carry them: the user signs in again and gets the new ones.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    user: app_user::Model,
    change: &UserChange,
) -> AppResult<app_user::Model> {
    use crate::auth::sessions;
    use entity::refresh_token;
    let claims_change = change.role.is_some_and(|r| r != user.role)
        || change.home_unit_id.is_some_and(|h| h != user.home_unit_id)
        || change.agency_id.is_some_and(|a| a != user.agency_id);
    let id = user.id;
    let version = user.token_version;
    let mut model: app_user::ActiveModel = user.into();
    if let Some(name) = &change.display_name {
        let name = text::clean(name);
        model.display_name = Set((!name.is_empty()).then_some(name));
    }
    if let Some(role) = change.role {
        model.role = Set(role);
    }
    if let Some(home) = change.home_unit_id {
        model.home_unit_id = Set(home);
    }
    if let Some(agency) = change.agency_id {
        model.agency_id = Set(agency);
    }
    if claims_change {
        model.token_version = Set(version + 1);
        sessions::revoke(db, refresh_token::Column::UserId.eq(id)).await?;
    }
    model.updated_at = Set(Utc::now());
    Ok(model.update(db).await?)
}

/// Deactivates a user: no login, every session and token ends.
pub async fn deactivate<C: ConnectionTrait>(
    db: &C,
    user: app_user::Model,
) -> AppResult<app_user::Model> {
    use crate::auth::sessions;
    use entity::refresh_token;
    let id = user.id;
    let version = user.token_version;
    let mut model: app_user::ActiveModel = user.into();
    model.active = Set(false);
    model.token_version = Set(version + 1);
    model.updated_at = Set(Utc::now());
    sessions::revoke(db, refresh_token::Column::UserId.eq(id)).await?;
    Ok(model.update(db).await?)
}

/// Moves every user homed at `from` to `to` (one statement), ending their sessions; returns
/// the users moved.
pub async fn move_all<C: ConnectionTrait>(
    db: &C,
    from: i64,
    to: i64,
) -> AppResult<Vec<app_user::Model>> {
    use crate::auth::sessions;
    use entity::refresh_token;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let users = app_user::Entity::find()
        .filter(app_user::Column::HomeUnitId.eq(from))
        .all(db)
        .await?;
    if users.is_empty() {
        return Ok(users);
    }
    app_user::Entity::update_many()
        .col_expr(app_user::Column::HomeUnitId, Expr::value(to))
        .col_expr(
            app_user::Column::TokenVersion,
            Expr::col(app_user::Column::TokenVersion).add(1),
        )
        .col_expr(app_user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(app_user::Column::HomeUnitId.eq(from))
        .exec(db)
        .await?;
    sessions::revoke(
        db,
        refresh_token::Column::UserId.is_in(users.iter().map(|u| u.id)),
    )
    .await?;
    Ok(users)
}

/// One row of a user file that failed, with its line and field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// Line in the file (the header is line 1).
    pub line: usize,
    /// The column at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// What a user import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// New users with their initial passwords (to hand over; never stored in clear).
    pub created: Vec<(String, String)>,
    /// Usernames already present, left as they are.
    pub existing: Vec<String>,
}

#[derive(serde::Deserialize)]
struct UserRow {
    username: String,
    #[serde(default)]
    display_name: Option<String>,
    role: String,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    agency: Option<String>,
}

/// Imports users from CSV (`username,display_name,role,unit,agency`; unit is a code valid
/// today, empty for national; agency a key). Every row is checked and every bad row reported;
/// anything wrong writes nothing. Users already present are left as they are. New users get a
/// random initial password, returned once.
pub async fn import_csv<C: ConnectionTrait>(
    db: &C,
    actor: &super::audit::Actor,
    content: &str,
) -> AppResult<Result<ImportReport, Vec<RowError>>> {
    use sea_orm::ActiveEnum;
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(content.as_bytes());
    let headers = reader.headers().map_err(AppError::internal)?.clone();
    for required in ["username", "role"] {
        if !headers.iter().any(|h| h == required) {
            return Ok(Err(vec![RowError {
                line: 1,
                field: required.into(),
                message: "missing column".into(),
            }]));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let err = |field: &str, message: String| RowError {
            line,
            field: field.into(),
            message,
        };
        let row: UserRow = match record.and_then(|r| r.deserialize(Some(&headers))) {
            Ok(r) => r,
            Err(e) => {
                errors.push(err("row", e.to_string()));
                continue;
            }
        };
        let blank = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let role = match Role::try_from_value(&row.role.to_uppercase()) {
            Ok(r) => r,
            Err(_) => {
                errors.push(err(
                    "role",
                    format!("`{}` is not viewer, reporter, manager or admin", row.role),
                ));
                continue;
            }
        };
        let username = match normalize_username(&row.username) {
            Ok(u) => u,
            Err(e) => {
                errors.push(err("username", e.message()));
                continue;
            }
        };
        if !seen.insert(username.clone()) {
            errors.push(err("username", format!("{} repeats", row.username)));
            continue;
        }
        match resolve_home(
            db,
            blank(&row.unit).as_deref(),
            blank(&row.agency).as_deref(),
        )
        .await
        {
            Ok((home, agency)) => rows.push((line, row, role, home, agency)),
            Err(AppError::BadUserInput { message, field }) => errors.push(err(&field, message)),
            Err(e) => return Err(e),
        }
    }
    let mut report = ImportReport::default();
    for (line, row, role, home, agency) in rows {
        if app_user::Entity::find()
            .filter(app_user::Column::Username.eq(normalize_username(&row.username)?))
            .one(db)
            .await?
            .is_some()
        {
            report.existing.push(row.username);
            continue;
        }
        let password = crate::auth::sessions::random_token()?;
        match insert(
            db,
            &row.username,
            row.display_name.as_deref().filter(|s| !s.is_empty()),
            role,
            home,
            agency,
            &password,
        )
        .await
        {
            Ok(u) => {
                super::audit::record(
                    db,
                    actor,
                    "user.import",
                    "user",
                    u.id,
                    None,
                    Some(snapshot(&u)),
                )
                .await?;
                report.created.push((u.username, password));
            }
            Err(AppError::BadUserInput { message, field }) => errors.push(RowError {
                line,
                field,
                message,
            }),
            Err(e) => return Err(e),
        }
    }
    if errors.is_empty() {
        Ok(Ok(report))
    } else {
        errors.sort_by_key(|e| e.line);
        Ok(Err(errors))
    }
}

/// Moves the users of a closed unit (code `from`: its latest closed version, or the version
/// valid on `from_date`) to the unit with code `to` valid today, which must have taken it over
/// through lineage. One transaction, with an audit event per user.
pub async fn move_closed_unit<C: ConnectionTrait>(
    db: &C,
    actor: &super::audit::Actor,
    from: &str,
    from_date: Option<chrono::NaiveDate>,
    to: &str,
) -> AppResult<Vec<app_user::Model>> {
    use entity::admin_unit;
    let today = clock::today();
    let source = match from_date {
        Some(day) => units::by_code(db, from, day, None)
            .await?
            .ok_or_else(|| AppError::bad_input("from", format!("no unit {from} on {day}")))?,
        None => admin_unit::Entity::find()
            .filter(admin_unit::Column::Code.eq(from.trim()))
            .filter(admin_unit::Column::ValidTo.lt(today))
            .all(db)
            .await?
            .into_iter()
            .max_by_key(|u| u.valid_to)
            .ok_or_else(|| AppError::bad_input("from", format!("no closed unit {from}")))?,
    };
    if units::is_valid_on(&source, today) {
        return Err(AppError::bad_input(
            "from",
            format!("{} ({from}) is valid today: users may stay", source.name),
        ));
    }
    let target = units::by_code(db, to, today, None)
        .await?
        .ok_or_else(|| AppError::bad_input("to", format!("no unit {to} today")))?;
    if !super::scope::contains(db, target.id, source.id).await? {
        return Err(AppError::bad_input(
            "to",
            format!(
                "{} ({to}) did not take over {} ({from}) through lineage",
                target.name, source.name
            ),
        ));
    }
    let moved = move_all(db, source.id, target.id).await?;
    for u in &moved {
        super::audit::record(
            db,
            actor,
            "user.move",
            "user",
            u.id,
            Some(serde_json::json!({ "homeUnitId": source.id })),
            Some(serde_json::json!({ "homeUnitId": target.id })),
        )
        .await?;
    }
    Ok(moved)
}

/// Which users a list holds (besides what the caller may see).
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Only this role.
    pub role: Option<Role>,
    /// Only active (true) or deactivated (false) users.
    pub active: Option<bool>,
    /// Only users homed at this unit version.
    pub home_unit_id: Option<i64>,
}

/// One page of the users the caller administers, by username; the total only when asked.
pub async fn user_page(
    db: &sea_orm::DatabaseConnection,
    visible: &crate::policy::Visible<crate::policy::Users>,
    q: &UserQuery,
    page: &super::page::PageRequest,
) -> AppResult<(super::page::Rows<app_user::Model>, super::page::Total)> {
    let mut select = app_user::Entity::find().filter(visible.condition());
    if let Some(role) = q.role {
        select = select.filter(app_user::Column::Role.eq(role));
    }
    if let Some(active) = q.active {
        select = select.filter(app_user::Column::Active.eq(active));
    }
    if let Some(unit) = q.home_unit_id {
        select = select.filter(app_user::Column::HomeUnitId.eq(unit));
    }
    let order = super::page::ByText(app_user::Column::Username, app_user::Column::Id);
    let rows = super::page::fetch(db, select.clone(), &order, page).await?;
    Ok((rows, super::page::Total::count_of(db, select)))
}

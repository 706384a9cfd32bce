//! Administering users, service accounts and agencies. An admin acts inside his scope, never
//! grants a role above his own, and at historical units only winds down what they hold
//! (`policy::WriteKind`); the CLI's operator is a national admin.

use super::{Caller, audited, lookup};
use crate::auth::PrincipalKind;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::policy::WriteKind;
use crate::services::{agencies, service_accounts, users};
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::Role;
use entity::{admin_unit, agency, app_user, service_account};
use sea_orm::DatabaseConnection;

/// An agency a write names (an account's agency, a parent, a successor): in the caller's
/// scope, at a unit valid today, and not closed. `field` names it in errors.
pub async fn usable_agency(
    db: &DatabaseConnection,
    caller: &Caller,
    field: &str,
    agency: agency::Model,
) -> AppResult<agency::Model> {
    let unit = lookup::unit_opt(db, Some(agency.admin_unit_id)).await?;
    caller
        .access
        .authorize_admin(unit.as_ref(), WriteKind::Create)
        .await?;
    if agency.valid_to.is_some_and(|to| to < clock::today()) {
        return Err(AppError::bad_input(field, "that agency has closed"));
    }
    Ok(agency)
}

/// The home unit of a new or moved account: in the caller's scope and valid today (none:
/// national, for national admins).
pub async fn authorize_new_home(
    caller: &Caller,
    home: Option<&admin_unit::Model>,
) -> AppResult<()> {
    caller.access.authorize_admin(home, WriteKind::Create).await
}

/// A user to create.
pub struct NewUser {
    /// Login name (stored in its normal form).
    pub username: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Initial password, hashed here and never stored or logged.
    pub password: String,
    /// Role: never above the caller's own.
    pub role: Role,
    /// Home unit; none: national.
    pub home: Option<admin_unit::Model>,
    /// Agency.
    pub agency: Option<agency::Model>,
}

/// `createUser` / `platform user create`.
pub async fn create_user(
    db: &DatabaseConnection,
    caller: &Caller,
    new: NewUser,
) -> AppResult<app_user::Model> {
    authorize_new_home(caller, new.home.as_ref()).await?;
    caller.access.authorize_grant(new.role)?;
    let agency = match new.agency {
        Some(a) => Some(usable_agency(db, caller, "agencyId", a).await?),
        None => None,
    };
    audited(db, caller, "user.create", None, async |txn| {
        users::insert(
            txn,
            &new.username,
            new.display_name.as_deref(),
            new.role,
            new.home.map(|u| u.id),
            agency.map(|a| a.id),
            &new.password,
        )
        .await
    })
    .await
}

/// A user the caller administers, for a write of `kind`.
pub async fn administered_user(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    kind: WriteKind,
) -> AppResult<app_user::Model> {
    let user = lookup::user(db, id).await?;
    let home = lookup::unit_opt(db, user.home_unit_id).await?;
    caller.access.authorize_admin(home.as_ref(), kind).await?;
    Ok(user)
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Default)]
pub struct UserUpdate {
    /// New display name (empty: none).
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New home unit (inner none: national).
    pub home: Option<Option<admin_unit::Model>>,
    /// New agency (inner none: no agency).
    pub agency: Option<Option<agency::Model>>,
}

/// `updateUser`. Moving a user out of his unit winds it down (allowed at a historical unit);
/// any other change needs the user in a unit valid today.
pub async fn update_user(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    update: UserUpdate,
) -> AppResult<app_user::Model> {
    let kind = if matches!(update.home, Some(Some(_))) {
        WriteKind::Close
    } else {
        WriteKind::Change
    };
    let user = administered_user(db, caller, id, kind).await?;
    if let Some(role) = update.role {
        caller.access.authorize_grant(role)?;
    }
    if let Some(home) = &update.home {
        authorize_new_home(caller, home.as_ref()).await?;
    }
    let agency_id = match update.agency {
        None => None,
        Some(None) => Some(None),
        Some(Some(a)) => Some(Some(usable_agency(db, caller, "agencyId", a).await?.id)),
    };
    let change = users::UserChange {
        display_name: update.display_name,
        role: update.role,
        home_unit_id: update.home.map(|h| h.map(|u| u.id)),
        agency_id,
    };
    let before = super::Trail::snapshot(&user);
    let user = audited(db, caller, "user.update", Some(before), async |txn| {
        users::update(txn, user, &change).await
    })
    .await?;
    caller.forget(PrincipalKind::User, user.id);
    Ok(user)
}

/// `deactivateUser`.
pub async fn deactivate_user(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> AppResult<app_user::Model> {
    let user = administered_user(db, caller, id, WriteKind::Close).await?;
    let before = super::Trail::snapshot(&user);
    let user = audited(db, caller, "user.deactivate", Some(before), async |txn| {
        users::deactivate(txn, user).await
    })
    .await?;
    caller.forget(PrincipalKind::User, user.id);
    Ok(user)
}

/// A service account to create.
pub struct NewServiceAccount {
    /// Name: 1 to 64 characters, no spaces.
    pub name: String,
    /// Scopes (`values:read`, …): at least one.
    pub scopes: Vec<String>,
    /// Home unit; none: national.
    pub home: Option<admin_unit::Model>,
    /// Agency.
    pub agency: Option<agency::Model>,
    /// When it stops working; none: never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// `createServiceAccount` / `platform service-account create`: the account and its secret,
/// shown once.
pub async fn create_service_account(
    db: &DatabaseConnection,
    caller: &Caller,
    new: NewServiceAccount,
) -> AppResult<(service_account::Model, String)> {
    authorize_new_home(caller, new.home.as_ref()).await?;
    let agency = match new.agency {
        Some(a) => Some(usable_agency(db, caller, "agencyId", a).await?),
        None => None,
    };
    if new.scopes.is_empty() {
        return Err(AppError::bad_input(
            "scopes",
            format!(
                "give at least one scope: {}",
                service_accounts::SCOPES.join(", ")
            ),
        ));
    }
    if new.expires_at.is_some_and(|e| e <= Utc::now()) {
        return Err(AppError::bad_input("expiresAt", "already past"));
    }
    let created_by = caller.actor.user_id;
    let mut secret = String::new();
    let account = audited(db, caller, "service_account.create", None, async |txn| {
        let (account, shown_once) = service_accounts::insert(
            txn,
            &new.name,
            &new.scopes,
            new.home.map(|u| u.id),
            agency.map(|a| a.id),
            new.expires_at,
            created_by,
        )
        .await?;
        secret = shown_once;
        Ok(account)
    })
    .await?;
    Ok((account, secret))
}

/// `revokeServiceAccount` / `platform service-account revoke`: its tokens stop working within
/// the revocation staleness (at once on this instance).
pub async fn revoke_service_account(
    db: &DatabaseConnection,
    caller: &Caller,
    account: service_account::Model,
) -> AppResult<service_account::Model> {
    let home = lookup::unit_opt(db, account.home_unit_id).await?;
    caller
        .access
        .authorize_admin(home.as_ref(), WriteKind::Close)
        .await?;
    let before = super::Trail::snapshot(&account);
    let account = audited(
        db,
        caller,
        "service_account.revoke",
        Some(before),
        async |txn| service_accounts::revoke_account(txn, account).await,
    )
    .await?;
    caller.forget(PrincipalKind::Service, account.id);
    Ok(account)
}

/// An agency to create.
pub struct NewAgency {
    /// Stable key (optional, unique).
    pub key: Option<String>,
    /// Official name.
    pub name: String,
    /// Short name.
    pub short_name: Option<String>,
    /// Kind word.
    pub kind: String,
    /// Its unit: valid today and in the caller's scope.
    pub unit: admin_unit::Model,
    /// The agency it belongs to.
    pub parent: Option<agency::Model>,
    /// First day; today when absent.
    pub valid_from: Option<NaiveDate>,
}

/// `createAgency`.
pub async fn create_agency(
    db: &DatabaseConnection,
    caller: &Caller,
    new: NewAgency,
) -> AppResult<agency::Model> {
    caller
        .access
        .authorize_admin(Some(&new.unit), WriteKind::Create)
        .await?;
    let parent = match new.parent {
        Some(p) => Some(usable_agency(db, caller, "parentAgencyId", p).await?.id),
        None => None,
    };
    audited(db, caller, "agency.create", None, async |txn| {
        agencies::create(
            txn,
            agencies::NewAgency {
                key: new.key,
                name: new.name,
                short_name: new.short_name,
                kind: new.kind,
                unit_id: new.unit.id,
                parent_id: parent,
                valid_from: new.valid_from,
            },
        )
        .await
    })
    .await
}

/// A change to an agency; absent fields stay as they are.
pub struct AgencyUpdate {
    /// New name.
    pub name: Option<String>,
    /// New short name (empty: none).
    pub short_name: Option<String>,
    /// New kind word.
    pub kind: Option<String>,
    /// Its last day, closing it.
    pub valid_to: Option<NaiveDate>,
    /// The agency that took it over.
    pub successor: Option<agency::Model>,
}

/// `updateAgency`. Closing an agency (its last day, its successor) winds it down, also at a
/// historical unit; renaming it needs a unit valid today.
pub async fn update_agency(
    db: &DatabaseConnection,
    caller: &Caller,
    current: agency::Model,
    update: AgencyUpdate,
) -> AppResult<agency::Model> {
    let unit = lookup::unit_opt(db, Some(current.admin_unit_id)).await?;
    let closing_only =
        update.name.is_none() && update.short_name.is_none() && update.kind.is_none();
    let kind = if closing_only {
        WriteKind::Close
    } else {
        WriteKind::Change
    };
    caller.access.authorize_admin(unit.as_ref(), kind).await?;
    let successor = match update.successor {
        Some(s) => Some(usable_agency(db, caller, "successorId", s).await?.id),
        None => None,
    };
    let change = agencies::AgencyChange {
        name: update.name,
        short_name: update.short_name,
        kind: update.kind,
        valid_to: update.valid_to,
        successor_id: successor,
    };
    let before = super::Trail::snapshot(&current);
    audited(db, caller, "agency.update", Some(before), async |txn| {
        agencies::update(txn, current, &change).await
    })
    .await
}

//! Users, service accounts and agencies as admins see and administer them. Every check is a
//! question to the policy (`policy::Access`); every write is one transaction with its audit
//! event.

pub mod mutation;
pub mod query;
pub mod sessions;
pub mod viewer;

use super::pagination::{self, PageArgs};
use super::plans::{Agency, access};
use super::scalars::{Date, DateTime, decode_node_id_of, node_id};
use super::units::{AdminUnit, UnitNode, loaders, max_page};
use crate::app;
use crate::auth::PrincipalKind;
use crate::clock;
use crate::connection;
use crate::error::{AppError, AppResult};
use crate::model::enums as E;
use crate::model::{admin_unit, agency, app_user, service_account};
use crate::services::{service_accounts, users};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use std::sync::Arc;
use viewer::Role;

use super::context::db as database;

/// A principal's home unit, seen today.
pub(crate) async fn home_unit(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<AdminUnit>> {
    match id {
        Some(id) => Ok(super::context::units(ctx)
            .await?
            .unit(id)
            .map(|u| AdminUnit::from_node(UnitNode::new(u, clock::today())))),
        None => Ok(None),
    }
}

/// A principal's agency.
pub(crate) async fn agency_of(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<Agency>> {
    match id {
        Some(id) => Ok(loaders(ctx)?.agency.load_one(id).await?.map(Agency)),
        None => Ok(None),
    }
}

/// A person who signs in.
#[derive(Clone)]
pub struct User(pub Arc<app_user::Model>);

/// A person who signs in.
#[Object]
impl User {
    /// Global id.
    pub(crate) async fn id(&self) -> ID {
        node_id("User", self.0.id)
    }
    /// Login name.
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// Display name.
    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }
    /// Role.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// Home unit; null for a national user.
    async fn home_unit(&self, ctx: &Context<'_>) -> Result<Option<AdminUnit>> {
        home_unit(ctx, self.0.home_unit_id).await
    }
    /// Agency.
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        agency_of(ctx, self.0.agency_id).await
    }
    /// False once deactivated: no login, no token works.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
}

impl User {
    fn position(&self) -> pagination::Key {
        (self.0.username.clone(), self.0.id)
    }
}

/// An integration's account: scopes, a home unit and a secret exchanged for tokens.
#[derive(Clone)]
pub struct ServiceAccount(pub Arc<service_account::Model>);

/// An integration's account: scopes, a home unit and a secret exchanged for tokens.
#[Object]
impl ServiceAccount {
    /// Global id.
    pub(crate) async fn id(&self) -> ID {
        node_id("ServiceAccount", self.0.id)
    }
    /// Its name, used with the secret in `serviceToken`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Scopes (`values:read`, `plans:read`, …).
    async fn scopes(&self) -> Vec<String> {
        self.0
            .scopes
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }
    /// Home unit; null for a national account.
    async fn home_unit(&self, ctx: &Context<'_>) -> Result<Option<AdminUnit>> {
        home_unit(ctx, self.0.home_unit_id).await
    }
    /// Agency.
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        agency_of(ctx, self.0.agency_id).await
    }
    /// When it stops working; null: never.
    async fn expires_at(&self) -> Option<DateTime> {
        self.0.expires_at.map(DateTime)
    }
    /// When it was revoked; null: not revoked.
    async fn revoked_at(&self) -> Option<DateTime> {
        self.0.revoked_at.map(DateTime)
    }
    /// When it last obtained a token.
    async fn last_used_at(&self) -> Option<DateTime> {
        self.0.last_used_at.map(DateTime)
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    /// Whether it may obtain tokens now (neither revoked nor expired).
    async fn usable(&self) -> bool {
        service_accounts::usable(&self.0)
    }
}

impl ServiceAccount {
    fn position(&self) -> pagination::Key {
        (self.0.name.clone(), self.0.id)
    }
}

connection!(UserConnection, UserEdge, User, "users");
connection!(
    ServiceAccountConnection,
    ServiceAccountEdge,
    ServiceAccount,
    "service accounts"
);

/// Filters of the users list.
#[derive(InputObject, Default)]
pub struct UserFilter {
    /// Only users with this role.
    pub role: Option<Role>,
    /// Only active (true) or deactivated (false) users.
    pub active: Option<bool>,
    /// Only users homed at this unit (global id).
    pub home_unit_id: Option<ID>,
}

fn decode(kind: &str, field: &str, id: &ID) -> AppResult<i64> {
    decode_node_id_of(kind, id)
        .ok_or_else(|| AppError::bad_input(field, format!("not a {kind} id")))
}

/// The users the caller administers (admins only; their scope), by username.
pub async fn list_users(
    ctx: &Context<'_>,
    filter: Option<UserFilter>,
    args: PageArgs,
) -> Result<UserConnection> {
    let f = filter.unwrap_or_default();
    let q = users::UserQuery {
        role: f.role.map(role_of),
        active: f.active,
        home_unit_id: match &f.home_unit_id {
            Some(unit) => Some(decode("AdminUnit", "homeUnitId", unit)?),
            None => None,
        },
    };
    let visible = access(ctx)?.visible_users()?;
    let request = pagination::page_request(&args, max_page(ctx))?;
    let (rows, total) = users::user_page(database(ctx)?, &visible, &q, &request).await?;
    let page = pagination::Page::from_rows(rows.map(|u| User(Arc::new(u))), User::position, total);
    Ok(UserConnection { page })
}

/// The service accounts the caller administers (admins only; their scope), by name.
pub async fn list_service_accounts(
    ctx: &Context<'_>,
    args: PageArgs,
) -> Result<ServiceAccountConnection> {
    let visible = access(ctx)?.visible_service_accounts()?;
    let request = pagination::page_request(&args, max_page(ctx))?;
    let (rows, total) = service_accounts::account_page(database(ctx)?, &visible, &request).await?;
    let page = pagination::Page::from_rows(
        rows.map(|a| ServiceAccount(Arc::new(a))),
        ServiceAccount::position,
        total,
    );
    Ok(ServiceAccountConnection { page })
}

/// A user by id, or the refusal (the caller himself, or an admin whose scope holds the user).
pub async fn user_node(ctx: &Context<'_>, id: i64) -> Result<Option<User>> {
    if !access(ctx)?.may_look_up_account(PrincipalKind::User, id) {
        return Err(access(ctx)?.denied("this user").into());
    }
    let Some(u) = app::lookup::user_opt(database(ctx)?, id).await? else {
        return Ok(None);
    };
    let a = access(ctx)?;
    if a.can_read_account(PrincipalKind::User, u.id, u.home_unit_id)
        .await?
    {
        Ok(Some(User(Arc::new(u))))
    } else {
        Err(a.denied("this user").into())
    }
}

/// A service account by id, or the refusal.
pub async fn service_account_node(ctx: &Context<'_>, id: i64) -> Result<Option<ServiceAccount>> {
    if !access(ctx)?.may_look_up_account(PrincipalKind::Service, id) {
        return Err(access(ctx)?.denied("this service account").into());
    }
    let Some(s) = app::lookup::service_account_opt(database(ctx)?, id).await? else {
        return Ok(None);
    };
    let a = access(ctx)?;
    if a.can_read_account(PrincipalKind::Service, s.id, s.home_unit_id)
        .await?
    {
        Ok(Some(ServiceAccount(Arc::new(s))))
    } else {
        Err(a.denied("this service account").into())
    }
}

fn role_of(r: Role) -> E::Role {
    match r {
        Role::Viewer => E::Role::Viewer,
        Role::Reporter => E::Role::Reporter,
        Role::Manager => E::Role::Manager,
        Role::Admin => E::Role::Admin,
    }
}

/// A user to create.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Login name: 1 to 64 characters, no spaces.
    pub username: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Initial password (at least 10 characters); the user should change it.
    pub password: String,
    /// Role: never above the caller's own.
    pub role: Role,
    /// Home unit (global id), valid today and in the caller's scope; null: national (national
    /// admins only).
    pub home_unit_id: Option<ID>,
    /// Agency (global id), in the caller's scope.
    pub agency_id: Option<ID>,
}

/// A change to a user; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The user (global id).
    pub id: ID,
    /// New display name.
    pub display_name: Option<String>,
    /// New role: never above the caller's own.
    pub role: Option<Role>,
    /// New home unit (valid today, in scope); null: national.
    pub home_unit_id: MaybeUndefined<ID>,
    /// New agency; null: none.
    pub agency_id: MaybeUndefined<ID>,
}

/// A user to deactivate.
#[derive(InputObject)]
pub struct DeactivateUserInput {
    /// The user (global id).
    pub id: ID,
}

/// The user written.
#[derive(SimpleObject)]
pub struct UserPayload {
    /// The user as stored.
    pub user: User,
}

/// A service account to create.
#[derive(InputObject)]
pub struct CreateServiceAccountInput {
    /// Name: 1 to 64 characters, no spaces.
    pub name: String,
    /// Scopes: `units:read`, `plans:read`, `plans:write`, `values:read`, `values:write`.
    pub scopes: Vec<String>,
    /// Home unit (global id), valid today and in the caller's scope; null: national.
    pub home_unit_id: Option<ID>,
    /// Agency (global id).
    pub agency_id: Option<ID>,
    /// When it stops working; null: never.
    pub expires_at: Option<DateTime>,
}

/// A new service account and its secret.
#[derive(SimpleObject)]
pub struct CreateServiceAccountPayload {
    /// The account.
    pub service_account: ServiceAccount,
    /// The secret, shown this once: only its hash is stored.
    pub secret: String,
}

/// A service account to revoke.
#[derive(InputObject)]
pub struct RevokeServiceAccountInput {
    /// The account (global id).
    pub id: ID,
}

/// The service account written.
#[derive(SimpleObject)]
pub struct ServiceAccountPayload {
    /// The account as stored.
    pub service_account: ServiceAccount,
}

/// An agency to create.
#[derive(InputObject)]
pub struct CreateAgencyInput {
    /// Stable key, e.g. `79.so-tc` (optional, unique).
    pub key: Option<String>,
    /// Official name.
    pub name: String,
    /// Short name.
    pub short_name: Option<String>,
    /// Kind word: `PEOPLES_COMMITTEE`, `PEOPLES_COUNCIL`, `DEPARTMENT`, `OFFICE`, …
    pub kind: String,
    /// Its unit (global id), valid today and in the caller's scope.
    pub unit_id: ID,
    /// The agency it belongs to (global id).
    pub parent_agency_id: Option<ID>,
    /// First day; today when absent.
    pub valid_from: Option<Date>,
}

/// A change to an agency; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateAgencyInput {
    /// The agency (global id).
    pub id: ID,
    /// New name.
    pub name: Option<String>,
    /// New short name (empty: none).
    pub short_name: Option<String>,
    /// New kind word.
    pub kind: Option<String>,
    /// Its last day, closing it.
    pub valid_to: Option<Date>,
    /// The agency that took it over (global id).
    pub successor_id: Option<ID>,
}

/// The agency written.
#[derive(SimpleObject)]
pub struct AgencyPayload {
    /// The agency as stored.
    pub agency: Agency,
}

use super::context::caller;

async fn unit_row(ctx: &Context<'_>, field: &str, id: &ID) -> Result<admin_unit::Model> {
    Ok(app::lookup::unit(database(ctx)?, field, decode("AdminUnit", field, id)?).await?)
}

async fn agency_row(ctx: &Context<'_>, field: &str, id: &ID) -> Result<agency::Model> {
    Ok(app::lookup::agency(database(ctx)?, field, decode("Agency", field, id)?).await?)
}

async fn opt_unit(
    ctx: &Context<'_>,
    field: &str,
    id: Option<&ID>,
) -> Result<Option<admin_unit::Model>> {
    match id {
        Some(id) => Ok(Some(unit_row(ctx, field, id).await?)),
        None => Ok(None),
    }
}

async fn opt_agency(
    ctx: &Context<'_>,
    field: &str,
    id: Option<&ID>,
) -> Result<Option<agency::Model>> {
    match id {
        Some(id) => Ok(Some(agency_row(ctx, field, id).await?)),
        None => Ok(None),
    }
}

/// `createUser`.
pub async fn create_user(ctx: &Context<'_>, input: CreateUserInput) -> Result<UserPayload> {
    let who = caller(ctx)?;
    let new = app::accounts::NewUser {
        home: opt_unit(ctx, "homeUnitId", input.home_unit_id.as_ref()).await?,
        agency: opt_agency(ctx, "agencyId", input.agency_id.as_ref()).await?,
        username: input.username,
        display_name: input.display_name,
        password: input.password,
        role: role_of(input.role),
    };
    let user = app::accounts::create_user(database(ctx)?, &who, new).await?;
    Ok(UserPayload {
        user: User(Arc::new(user)),
    })
}

/// `updateUser`.
pub async fn update_user(ctx: &Context<'_>, input: UpdateUserInput) -> Result<UserPayload> {
    let who = caller(ctx)?;
    let id = decode("User", "id", &input.id)?;
    let update = app::accounts::UserUpdate {
        display_name: input.display_name,
        role: input.role.map(role_of),
        home: match &input.home_unit_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(v) => Some(Some(unit_row(ctx, "homeUnitId", v).await?)),
        },
        agency: match &input.agency_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(v) => Some(Some(agency_row(ctx, "agencyId", v).await?)),
        },
    };
    let user = app::accounts::update_user(database(ctx)?, &who, id, update).await?;
    Ok(UserPayload {
        user: User(Arc::new(user)),
    })
}

/// `deactivateUser`.
pub async fn deactivate_user(ctx: &Context<'_>, input: DeactivateUserInput) -> Result<UserPayload> {
    let who = caller(ctx)?;
    let id = decode("User", "id", &input.id)?;
    let user = app::accounts::deactivate_user(database(ctx)?, &who, id).await?;
    Ok(UserPayload {
        user: User(Arc::new(user)),
    })
}

/// `createServiceAccount`.
pub async fn create_service_account(
    ctx: &Context<'_>,
    input: CreateServiceAccountInput,
) -> Result<CreateServiceAccountPayload> {
    let who = caller(ctx)?;
    let new = app::accounts::NewServiceAccount {
        home: opt_unit(ctx, "homeUnitId", input.home_unit_id.as_ref()).await?,
        agency: opt_agency(ctx, "agencyId", input.agency_id.as_ref()).await?,
        name: input.name,
        scopes: input.scopes,
        expires_at: input.expires_at.map(|e| e.0),
    };
    let (account, secret) =
        app::accounts::create_service_account(database(ctx)?, &who, new).await?;
    Ok(CreateServiceAccountPayload {
        service_account: ServiceAccount(Arc::new(account)),
        secret,
    })
}

/// `revokeServiceAccount`.
pub async fn revoke_service_account(
    ctx: &Context<'_>,
    input: RevokeServiceAccountInput,
) -> Result<ServiceAccountPayload> {
    let who = caller(ctx)?;
    let db = database(ctx)?;
    let account =
        app::lookup::service_account(db, decode("ServiceAccount", "id", &input.id)?).await?;
    let account = app::accounts::revoke_service_account(db, &who, account).await?;
    Ok(ServiceAccountPayload {
        service_account: ServiceAccount(Arc::new(account)),
    })
}

/// `createAgency`.
pub async fn create_agency(ctx: &Context<'_>, input: CreateAgencyInput) -> Result<AgencyPayload> {
    let who = caller(ctx)?;
    let new = app::accounts::NewAgency {
        unit: unit_row(ctx, "unitId", &input.unit_id).await?,
        parent: opt_agency(ctx, "parentAgencyId", input.parent_agency_id.as_ref()).await?,
        key: input.key,
        name: input.name,
        short_name: input.short_name,
        kind: input.kind,
        valid_from: input.valid_from.map(|d| d.0),
    };
    let agency = app::accounts::create_agency(database(ctx)?, &who, new).await?;
    Ok(AgencyPayload {
        agency: Agency(Arc::new(agency)),
    })
}

/// `updateAgency`.
pub async fn update_agency(ctx: &Context<'_>, input: UpdateAgencyInput) -> Result<AgencyPayload> {
    let who = caller(ctx)?;
    let current = agency_row(ctx, "id", &input.id).await?;
    let update = app::accounts::AgencyUpdate {
        successor: opt_agency(ctx, "successorId", input.successor_id.as_ref()).await?,
        name: input.name,
        short_name: input.short_name,
        kind: input.kind,
        valid_to: input.valid_to.map(|d| d.0),
    };
    let agency = app::accounts::update_agency(database(ctx)?, &who, current, update).await?;
    Ok(AgencyPayload {
        agency: Agency(Arc::new(agency)),
    })
}

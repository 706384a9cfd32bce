//! Users, service accounts and agencies as admins see and administer them. Every check is a
//! question to the policy (`policy::Access`); every write is one transaction with its audit
//! event.

use super::pagination::{self, PageArgs};
use super::plans::{Agency, access};
use super::scalars::{Date, DateTime, decode_node_id_of, node_id};
use super::units::{AdminUnit, UnitNode, loaders, max_page};
use super::viewer::Role;
use crate::auth::{PrincipalKind, SubjectStates};
use crate::clock;
use crate::connection;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::http::RequestId;
use crate::policy::WriteKind;
use crate::services::audit::{self, Actor};
use crate::services::{agencies, service_accounts, users};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use entity::enums as E;
use entity::{admin_unit, agency, app_user, service_account};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};
use std::sync::Arc;

fn database<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
}

fn actor(ctx: &Context<'_>) -> Result<Actor> {
    let p = access(ctx)?.require()?;
    let rid = ctx.data::<RequestId>().ok().map(|r| r.0.clone());
    Ok(Actor::of(p, rid))
}

/// A principal's home unit, seen today.
pub(crate) async fn home_unit(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<AdminUnit>> {
    match id {
        Some(id) => Ok(loaders(ctx)?
            .unit
            .load_one(id)
            .await?
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

/// What the audit trail records of a row.
trait Trail {
    /// The entity type in the trail.
    const KIND: &'static str;
    /// The row's id.
    fn row(&self) -> i64;
    /// Its snapshot, without secrets.
    fn snapshot(&self) -> serde_json::Value;
}

impl Trail for app_user::Model {
    const KIND: &'static str = "user";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        users::snapshot(self)
    }
}

impl Trail for service_account::Model {
    const KIND: &'static str = "service_account";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        service_accounts::snapshot(self)
    }
}

impl Trail for agency::Model {
    const KIND: &'static str = "agency";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        agencies::snapshot(self)
    }
}

/// Runs one administrative write in a transaction of its own, with its audit event (who, the
/// request id, a snapshot of the row before and after) in the same transaction.
async fn audited<T: Trail>(
    ctx: &Context<'_>,
    action: &str,
    before: Option<serde_json::Value>,
    write: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<T>,
) -> Result<T> {
    let who = actor(ctx)?;
    let txn = db::begin_write(database(ctx)?).await?;
    let after = write(&txn).await?;
    audit::record(
        &txn,
        &who,
        action,
        T::KIND,
        after.row(),
        before,
        Some(after.snapshot()),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
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
    let mut select = app_user::Entity::find().filter(access(ctx)?.visible_users()?.condition());
    if let Some(role) = f.role {
        select = select.filter(app_user::Column::Role.eq(role_of(role)));
    }
    if let Some(active) = f.active {
        select = select.filter(app_user::Column::Active.eq(active));
    }
    if let Some(unit) = &f.home_unit_id {
        select = select.filter(app_user::Column::HomeUnitId.eq(decode(
            "AdminUnit",
            "homeUnitId",
            unit,
        )?));
    }
    let all: Vec<User> = select
        .order_by_asc(app_user::Column::Username)
        .order_by_asc(app_user::Column::Id)
        .all(database(ctx)?)
        .await?
        .into_iter()
        .map(|u| User(Arc::new(u)))
        .collect();
    let page = pagination::paginate(&all, User::position, &args, max_page(ctx))?;
    Ok(UserConnection { page })
}

/// The service accounts the caller administers (admins only; their scope), by name.
pub async fn list_service_accounts(
    ctx: &Context<'_>,
    args: PageArgs,
) -> Result<ServiceAccountConnection> {
    let select = service_account::Entity::find()
        .filter(access(ctx)?.visible_service_accounts()?.condition());
    let all: Vec<ServiceAccount> = select
        .order_by_asc(service_account::Column::Name)
        .order_by_asc(service_account::Column::Id)
        .all(database(ctx)?)
        .await?
        .into_iter()
        .map(|a| ServiceAccount(Arc::new(a)))
        .collect();
    let page = pagination::paginate(&all, ServiceAccount::position, &args, max_page(ctx))?;
    Ok(ServiceAccountConnection { page })
}

/// A user by id, or the refusal (the caller himself, or an admin whose scope holds the user).
pub async fn user_node(ctx: &Context<'_>, id: i64) -> Result<Option<User>> {
    if !access(ctx)?.may_look_up_account(PrincipalKind::User, id) {
        return Err(access(ctx)?.denied("this user").into());
    }
    let Some(u) = app_user::Entity::find_by_id(id).one(database(ctx)?).await? else {
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
    let Some(s) = service_account::Entity::find_by_id(id)
        .one(database(ctx)?)
        .await?
    else {
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

async fn unit_row(ctx: &Context<'_>, field: &str, id: &ID) -> Result<admin_unit::Model> {
    let row = decode("AdminUnit", field, id)?;
    Ok(admin_unit::Entity::find_by_id(row)
        .one(database(ctx)?)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "no such unit"))?)
}

async fn agency_row(ctx: &Context<'_>, field: &str, id: &ID) -> Result<agency::Model> {
    let row = decode("Agency", field, id)?;
    Ok(agency::Entity::find_by_id(row)
        .one(database(ctx)?)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "no such agency"))?)
}

/// An agency a write names (an account's agency, a parent, a successor) must be in the
/// admin's scope, at a unit valid today, and not closed.
async fn usable_agency(ctx: &Context<'_>, field: &str, id: &ID) -> Result<agency::Model> {
    let agency = agency_row(ctx, field, id).await?;
    let unit = admin_unit::Entity::find_by_id(agency.admin_unit_id)
        .one(database(ctx)?)
        .await?;
    access(ctx)?
        .authorize_admin(unit.as_ref(), WriteKind::Create)
        .await?;
    if agency.valid_to.is_some_and(|to| to < clock::today()) {
        return Err(AppError::bad_input(field, "that agency has closed").into());
    }
    Ok(agency)
}

/// The home unit of a new or moved account: in the admin's scope and valid today.
async fn new_home(ctx: &Context<'_>, id: Option<&ID>) -> Result<Option<admin_unit::Model>> {
    let unit = match id {
        Some(id) => Some(unit_row(ctx, "homeUnitId", id).await?),
        None => None,
    };
    access(ctx)?
        .authorize_admin(unit.as_ref(), WriteKind::Create)
        .await?;
    Ok(unit)
}

async fn current_home(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<admin_unit::Model>> {
    Ok(match id {
        Some(id) => {
            admin_unit::Entity::find_by_id(id)
                .one(database(ctx)?)
                .await?
        }
        None => None,
    })
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

fn forget(ctx: &Context<'_>, kind: PrincipalKind, id: i64) {
    if let Ok(s) = ctx.data::<Arc<SubjectStates>>() {
        s.forget(kind, id);
    }
}

/// `createUser`.
pub async fn create_user(ctx: &Context<'_>, input: CreateUserInput) -> Result<UserPayload> {
    let a = access(ctx)?;
    let home = new_home(ctx, input.home_unit_id.as_ref()).await?;
    a.authorize_grant(role_of(input.role))?;
    let agency = match &input.agency_id {
        Some(id) => Some(usable_agency(ctx, "agencyId", id).await?),
        None => None,
    };
    let user = audited(ctx, "user.create", None, async |txn| {
        users::insert(
            txn,
            &input.username,
            input.display_name.as_deref(),
            role_of(input.role),
            home.map(|u| u.id),
            agency.map(|a| a.id),
            &input.password,
        )
        .await
    })
    .await?;
    Ok(UserPayload {
        user: User(Arc::new(user)),
    })
}

async fn administered_user(ctx: &Context<'_>, id: &ID, kind: WriteKind) -> Result<app_user::Model> {
    let row = decode("User", "id", id)?;
    let user = app_user::Entity::find_by_id(row)
        .one(database(ctx)?)
        .await?
        .ok_or_else(|| AppError::NotFound("no such user".into()))?;
    let home = current_home(ctx, user.home_unit_id).await?;
    access(ctx)?.authorize_admin(home.as_ref(), kind).await?;
    Ok(user)
}

/// `updateUser`.
pub async fn update_user(ctx: &Context<'_>, input: UpdateUserInput) -> Result<UserPayload> {
    let a = access(ctx)?;
    // Moving a user out of his unit winds it down (allowed at a historical unit); any other
    // change needs the user in a unit valid today.
    let kind = if input.home_unit_id.is_value() {
        WriteKind::Close
    } else {
        WriteKind::Change
    };
    let user = administered_user(ctx, &input.id, kind).await?;
    if let Some(role) = input.role {
        a.authorize_grant(role_of(role))?;
    }
    let home_unit_id = match &input.home_unit_id {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(new_home(ctx, None).await?.map(|u| u.id)),
        MaybeUndefined::Value(id) => Some(new_home(ctx, Some(id)).await?.map(|u| u.id)),
    };
    let agency_id = match &input.agency_id {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(id) => Some(Some(usable_agency(ctx, "agencyId", id).await?.id)),
    };
    let change = users::UserChange {
        display_name: input.display_name,
        role: input.role.map(role_of),
        home_unit_id,
        agency_id,
    };
    let user = audited(ctx, "user.update", Some(user.snapshot()), async |txn| {
        users::update(txn, user, &change).await
    })
    .await?;
    forget(ctx, PrincipalKind::User, user.id);
    Ok(UserPayload {
        user: User(Arc::new(user)),
    })
}

/// `deactivateUser`.
pub async fn deactivate_user(ctx: &Context<'_>, input: DeactivateUserInput) -> Result<UserPayload> {
    let user = administered_user(ctx, &input.id, WriteKind::Close).await?;
    let user = audited(ctx, "user.deactivate", Some(user.snapshot()), async |txn| {
        users::deactivate(txn, user).await
    })
    .await?;
    forget(ctx, PrincipalKind::User, user.id);
    Ok(UserPayload {
        user: User(Arc::new(user)),
    })
}

/// `createServiceAccount`.
pub async fn create_service_account(
    ctx: &Context<'_>,
    input: CreateServiceAccountInput,
) -> Result<CreateServiceAccountPayload> {
    let home = new_home(ctx, input.home_unit_id.as_ref()).await?;
    let agency = match &input.agency_id {
        Some(id) => Some(usable_agency(ctx, "agencyId", id).await?),
        None => None,
    };
    if input
        .expires_at
        .as_ref()
        .is_some_and(|e| e.0 <= chrono::Utc::now())
    {
        return Err(AppError::bad_input("expiresAt", "already past").into());
    }
    let created_by = actor(ctx)?.user_id;
    let mut secret = String::new();
    let account = audited(ctx, "service_account.create", None, async |txn| {
        let (account, shown_once) = service_accounts::insert(
            txn,
            &input.name,
            &input.scopes,
            home.map(|u| u.id),
            agency.map(|a| a.id),
            input.expires_at.map(|e| e.0),
            created_by,
        )
        .await?;
        secret = shown_once;
        Ok(account)
    })
    .await?;
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
    let row = decode("ServiceAccount", "id", &input.id)?;
    let account = service_account::Entity::find_by_id(row)
        .one(database(ctx)?)
        .await?
        .ok_or_else(|| AppError::NotFound("no such service account".into()))?;
    let home = current_home(ctx, account.home_unit_id).await?;
    access(ctx)?
        .authorize_admin(home.as_ref(), WriteKind::Close)
        .await?;
    let account = audited(
        ctx,
        "service_account.revoke",
        Some(account.snapshot()),
        async |txn| service_accounts::revoke_account(txn, account).await,
    )
    .await?;
    forget(ctx, PrincipalKind::Service, account.id);
    Ok(ServiceAccountPayload {
        service_account: ServiceAccount(Arc::new(account)),
    })
}

/// `createAgency`.
pub async fn create_agency(ctx: &Context<'_>, input: CreateAgencyInput) -> Result<AgencyPayload> {
    let unit = unit_row(ctx, "unitId", &input.unit_id).await?;
    access(ctx)?
        .authorize_admin(Some(&unit), WriteKind::Create)
        .await?;
    let parent = match &input.parent_agency_id {
        Some(id) => Some(usable_agency(ctx, "parentAgencyId", id).await?.id),
        None => None,
    };
    let agency = audited(ctx, "agency.create", None, async |txn| {
        agencies::create(
            txn,
            agencies::NewAgency {
                key: input.key,
                name: input.name,
                short_name: input.short_name,
                kind: input.kind,
                unit_id: unit.id,
                parent_id: parent,
                valid_from: input.valid_from.map(|d| d.0),
            },
        )
        .await
    })
    .await?;
    Ok(AgencyPayload {
        agency: Agency(Arc::new(agency)),
    })
}

/// `updateAgency`.
pub async fn update_agency(ctx: &Context<'_>, input: UpdateAgencyInput) -> Result<AgencyPayload> {
    let current = agency_row(ctx, "id", &input.id).await?;
    let unit = current_home(ctx, Some(current.admin_unit_id)).await?;
    // Closing an agency (its last day, its successor) winds it down, also at a historical
    // unit; renaming it needs a unit valid today.
    let closing_only = input.name.is_none() && input.short_name.is_none() && input.kind.is_none();
    let kind = if closing_only {
        WriteKind::Close
    } else {
        WriteKind::Change
    };
    access(ctx)?.authorize_admin(unit.as_ref(), kind).await?;
    let successor = match &input.successor_id {
        Some(id) => Some(usable_agency(ctx, "successorId", id).await?.id),
        None => None,
    };
    let change = agencies::AgencyChange {
        name: input.name,
        short_name: input.short_name,
        kind: input.kind,
        valid_to: input.valid_to.map(|d| d.0),
        successor_id: successor,
    };
    let agency = audited(
        ctx,
        "agency.update",
        Some(current.snapshot()),
        async |txn| agencies::update(txn, current, &change).await,
    )
    .await?;
    Ok(AgencyPayload {
        agency: Agency(Arc::new(agency)),
    })
}

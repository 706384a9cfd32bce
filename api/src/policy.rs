//! The one place that answers "may this principal do this to that" (DESIGN.md, "Access
//! control"). Resolvers, data loaders and services ask it; none of them re-implements a rule.
//!
//! Scope(U) comes from the closure table `unit_scope` ([`crate::services::scope`]): list
//! queries get it as one indexed `IN (subquery)` condition ([`Access::plan_condition`],
//! [`Access::account_condition`]), so that a page of 50 is 50 visible rows; single objects and
//! loaded relations are checked in memory against the principal's scope set, read once per
//! request and only when a rule needs it.
//!
//! Deny is the default. A denied single object answers `UNAUTHENTICATED` to an anonymous
//! caller ("log in and you may see it") and `FORBIDDEN` to an authenticated one; lists and
//! relations leave out what may not be read.

use crate::auth::{Principal, PrincipalKind};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::services::{scope, units};
use entity::enums::{PlanStatus, Role, Visibility};
use entity::{admin_unit, agency, plan};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection};
use std::collections::HashSet;
use tokio::sync::OnceCell;

/// The service-account scope that reads plans, their targets, tasks and reports.
pub const PLANS_READ: &str = "plans:read";

/// The service-account scope that reads indicator values inside its home unit's scope.
pub const VALUES_READ: &str = "values:read";
/// The service-account scope that submits indicator values inside its home unit's scope.
pub const VALUES_WRITE: &str = "values:write";

/// The policy's answer to "which rows of `T` may this caller see", as one SQL condition.
///
/// Only this module makes one (its fields are private and it has no public constructor), so a
/// query function that takes a `Visible<T>` cannot be called without asking the policy first.
/// "Everything" is an answer the policy gives national principals, never a missing value.
#[derive(Clone, Debug)]
pub struct Visible<T> {
    condition: Condition,
    _of: std::marker::PhantomData<fn() -> T>,
}

impl<T> Visible<T> {
    fn only(condition: Condition) -> Self {
        Self {
            condition,
            _of: std::marker::PhantomData,
        }
    }

    fn everything() -> Self {
        Self::only(Condition::all())
    }

    /// The condition to put in the query's `WHERE`.
    pub fn condition(&self) -> Condition {
        self.condition.clone()
    }

    /// Whether every row is visible (the condition is empty): a query may then leave out a
    /// visibility test that would cost it a join or a subquery.
    pub fn is_everything(&self) -> bool {
        self.condition.is_empty()
    }
}

/// The rows a `Visible<Plans>` is about: plans (and with them their targets, tasks, duties).
#[derive(Clone, Copy, Debug)]
pub enum Plans {}
/// The rows a `Visible<Values>` is about: indicator values (and their feed entries).
#[derive(Clone, Copy, Debug)]
pub enum Values {}
/// The rows a `Visible<Users>` is about: user accounts.
#[derive(Clone, Copy, Debug)]
pub enum Users {}
/// The rows a `Visible<ServiceAccounts>` is about: service accounts.
#[derive(Clone, Copy, Debug)]
pub enum ServiceAccounts {}
/// The rows a `Visible<Reports>` is about: progress reports.
#[derive(Clone, Copy, Debug)]
pub enum Reports {}
/// The rows a `Visible<DutyReports>` is about: reporting duties whose reports may be read.
#[derive(Clone, Copy, Debug)]
pub enum DutyReports {}

/// What a principal may do in general, for `me`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Reads plans, tasks and reports in its scope (beyond what is public).
    ReadScope,
    /// Reports progress and submits values in its scope.
    Report,
    /// Issues plans, targets and assignments at its unit; approves what lower units report.
    Manage,
    /// Administers users, service accounts and agencies in its scope.
    Administer,
    /// Administers the administrative units themselves (national admins).
    AdministerUnits,
}

/// How far a principal's reading reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    /// What is public only.
    Public,
    /// Scope(home) and the issued plans of the units above.
    Home(i64),
    /// Everything.
    National,
}

/// What a write does at a unit. Historical units are read-only except for winding down what
/// they still hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteKind {
    /// New users, service accounts, agencies: only at units valid today.
    Create,
    /// Editing what exists (a role, a name): only at units valid today.
    Change,
    /// Winding down what exists: deactivating a user, revoking an account, closing an agency,
    /// moving a user out to a current unit. Allowed at historical units too, so that an admin
    /// can clear a closed unit of his scope.
    Close,
}

/// A condition no row meets.
fn nothing() -> Condition {
    Condition::all().add(Expr::value(1).eq(0))
}

/// The rank of a role: an admin never grants a role above his own.
fn rank(role: Role) -> u8 {
    match role {
        Role::Viewer => 0,
        Role::Reporter => 1,
        Role::Manager => 2,
        Role::Admin => 3,
    }
}

/// The access of one request: its principal and, read lazily once, the principal's scope.
pub struct Access {
    principal: Option<Principal>,
    db: DatabaseConnection,
    scope: OnceCell<HashSet<i64>>,
    over: OnceCell<HashSet<i64>>,
}

impl Access {
    /// The access of a request by `principal` (none: anonymous).
    pub fn new(db: DatabaseConnection, principal: Option<Principal>) -> Self {
        Self {
            principal,
            db,
            scope: OnceCell::new(),
            over: OnceCell::new(),
        }
    }

    /// The principal, if any.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// The principal, or `UNAUTHENTICATED`.
    pub fn require(&self) -> AppResult<&Principal> {
        self.principal
            .as_ref()
            .ok_or_else(|| AppError::Unauthenticated("sign in first".into()))
    }

    /// The refusal for this caller: `UNAUTHENTICATED` when anonymous, else `FORBIDDEN`.
    pub fn denied(&self, what: &str) -> AppError {
        match self.principal {
            None => AppError::Unauthenticated(format!("sign in to read {what}")),
            Some(_) => AppError::Forbidden(format!("{what} is outside your scope")),
        }
    }

    fn plan_reach(&self) -> Reach {
        let Some(p) = &self.principal else {
            return Reach::Public;
        };
        if p.kind == PrincipalKind::Service && !p.scopes.iter().any(|s| s == PLANS_READ) {
            return Reach::Public;
        }
        match p.home_unit_id {
            Some(u) => Reach::Home(u),
            None => Reach::National,
        }
    }

    async fn scope_set(&self, home: i64) -> AppResult<&HashSet<i64>> {
        self.scope
            .get_or_try_init(|| scope::ids_in(&self.db, home))
            .await
    }

    async fn over_set(&self, home: i64) -> AppResult<&HashSet<i64>> {
        self.over
            .get_or_try_init(|| scope::ids_over(&self.db, home))
            .await
    }

    /// Whether `unit` (none: national) is in the principal's scope: everything for a national
    /// principal, Scope(home) otherwise, nothing for an anonymous caller.
    pub async fn in_scope(&self, unit: Option<i64>) -> AppResult<bool> {
        let Some(p) = &self.principal else {
            return Ok(false);
        };
        match (p.home_unit_id, unit) {
            (None, _) => Ok(true),
            (Some(_), None) => Ok(false),
            (Some(home), Some(u)) => Ok(self.scope_set(home).await?.contains(&u)),
        }
    }

    /// The principal's scope as a test on unit ids (read once): every unit for a national
    /// principal, Scope(home) otherwise, none for an anonymous caller.
    pub async fn scope_test(&self) -> AppResult<Box<dyn Fn(i64) -> bool + Send + Sync + '_>> {
        let Some(p) = &self.principal else {
            return Ok(Box::new(|_| false));
        };
        match p.home_unit_id {
            None => Ok(Box::new(|_| true)),
            Some(home) => {
                let set = self.scope_set(home).await?;
                Ok(Box::new(move |u| set.contains(&u)))
            }
        }
    }

    /// A document anyone may read: an issued (or since superseded) public act, or a document
    /// known only from a citation in a public act (the import makes such references public).
    pub fn is_public_plan(p: &plan::Model) -> bool {
        p.visibility == Visibility::Public
            && matches!(
                p.status,
                PlanStatus::Issued | PlanStatus::Superseded | PlanStatus::Referenced
            )
    }

    fn is_issued(p: &plan::Model) -> bool {
        matches!(p.status, PlanStatus::Issued | PlanStatus::Superseded)
    }

    /// Whether the plan (and with it its targets, assignments and duties) may be read.
    pub async fn can_read_plan(&self, p: &plan::Model) -> AppResult<bool> {
        if Self::is_public_plan(p) {
            return Ok(true);
        }
        match self.plan_reach() {
            Reach::Public => Ok(false),
            Reach::National => Ok(true),
            Reach::Home(home) => Ok(self.scope_set(home).await?.contains(&p.admin_unit_id)
                || (Self::is_issued(p) && self.over_set(home).await?.contains(&p.admin_unit_id))),
        }
    }

    /// The plan, or the refusal for this caller.
    pub async fn read_plan(&self, p: plan::Model) -> AppResult<plan::Model> {
        if self.can_read_plan(&p).await? {
            Ok(p)
        } else {
            Err(self.denied("this plan"))
        }
    }

    /// The plans this caller may read.
    pub fn visible_plans(&self) -> Visible<Plans> {
        let public = Condition::any().add(
            Condition::all()
                .add(plan::Column::Visibility.eq(Visibility::Public))
                .add(plan::Column::Status.is_in([
                    PlanStatus::Issued,
                    PlanStatus::Superseded,
                    PlanStatus::Referenced,
                ])),
        );
        match self.plan_reach() {
            Reach::National => Visible::everything(),
            Reach::Public => Visible::only(public),
            Reach::Home(home) => Visible::only(
                public
                    .add(plan::Column::AdminUnitId.in_subquery(scope::units_in(home)))
                    .add(
                        Condition::all()
                            .add(
                                plan::Column::Status
                                    .is_in([PlanStatus::Issued, PlanStatus::Superseded]),
                            )
                            .add(plan::Column::AdminUnitId.in_subquery(scope::units_over(home))),
                    ),
            ),
        }
    }

    /// The duties whose reports this caller may read (a condition on `reporting_duty`): their
    /// plan, if any, is readable, and the caller's scope holds the plan's unit (without a plan:
    /// the recipient's unit) or the reporting agency's unit.
    pub fn visible_duty_reports(&self) -> Visible<DutyReports> {
        use entity::reporting_duty::Column as D;
        match self.plan_reach() {
            Reach::National => Visible::everything(),
            Reach::Public => Visible::only(nothing()),
            Reach::Home(home) => {
                let (plans_here, agencies_here, readable) = self.report_sets(home);
                Visible::only(
                    Condition::all()
                        .add(
                            Condition::any()
                                .add(D::PlanId.is_null())
                                .add(D::PlanId.in_subquery(readable)),
                        )
                        .add(
                            Condition::any()
                                .add(D::PlanId.in_subquery(plans_here))
                                .add(D::ReporterAgencyId.in_subquery(agencies_here.clone()))
                                .add(
                                    Condition::all()
                                        .add(D::PlanId.is_null())
                                        .add(D::RecipientAgencyId.in_subquery(agencies_here)),
                                ),
                        ),
                )
            }
        }
    }

    /// The progress reports this caller may read (a condition on `progress_report`): on an
    /// assignment of a readable plan whose unit, or whose lead agency's unit, is in the
    /// caller's scope; or for a duty of [`Self::visible_duty_reports`].
    pub fn visible_reports(&self) -> Visible<Reports> {
        use entity::assignment::Column as A;
        use entity::progress_report::Column as R;
        use sea_orm::sea_query::Query;
        match self.plan_reach() {
            Reach::National => Visible::everything(),
            Reach::Public => Visible::only(nothing()),
            Reach::Home(home) => {
                let (plans_here, agencies_here, readable) = self.report_sets(home);
                let assignments = Query::select()
                    .column(A::Id)
                    .from(entity::assignment::Entity)
                    .cond_where(
                        Condition::all().add(A::PlanId.in_subquery(readable)).add(
                            Condition::any()
                                .add(A::PlanId.in_subquery(plans_here))
                                .add(A::LeadAgencyId.in_subquery(agencies_here)),
                        ),
                    )
                    .to_owned();
                let duties = Query::select()
                    .column(entity::reporting_duty::Column::Id)
                    .from(entity::reporting_duty::Entity)
                    .cond_where(self.visible_duty_reports().condition())
                    .to_owned();
                Visible::only(
                    Condition::any()
                        .add(R::AssignmentId.in_subquery(assignments))
                        .add(R::ReportingDutyId.in_subquery(duties)),
                )
            }
        }
    }

    /// The plans issued in Scope(home), the agencies of units in it, and the plans this
    /// caller may read, as subqueries of ids.
    fn report_sets(
        &self,
        home: i64,
    ) -> (
        sea_orm::sea_query::SelectStatement,
        sea_orm::sea_query::SelectStatement,
        sea_orm::sea_query::SelectStatement,
    ) {
        use sea_orm::sea_query::Query;
        let plans_here = Query::select()
            .column(plan::Column::Id)
            .from(plan::Entity)
            .and_where(plan::Column::AdminUnitId.in_subquery(scope::units_in(home)))
            .to_owned();
        let agencies_here = Query::select()
            .column(entity::agency::Column::Id)
            .from(entity::agency::Entity)
            .and_where(entity::agency::Column::AdminUnitId.in_subquery(scope::units_in(home)))
            .to_owned();
        let readable = Query::select()
            .column(plan::Column::Id)
            .from(plan::Entity)
            .cond_where(self.visible_plans().condition())
            .to_owned();
        (plans_here, agencies_here, readable)
    }

    /// Whether a user or service account homed at `home` may be read: by itself, or by an
    /// admin whose scope holds it.
    pub async fn can_read_account(
        &self,
        kind: PrincipalKind,
        id: i64,
        home: Option<i64>,
    ) -> AppResult<bool> {
        let Some(p) = &self.principal else {
            return Ok(false);
        };
        if p.kind == kind && p.id == id {
            return Ok(true);
        }
        Ok(Self::is_admin(p) && self.in_scope(home).await?)
    }

    /// Whether this caller may look an account up at all: an admin, or the account itself.
    /// Asked before the lookup, so that nobody else learns which ids exist.
    pub fn may_look_up_account(&self, kind: PrincipalKind, id: i64) -> bool {
        self.principal
            .as_ref()
            .is_some_and(|p| Self::is_admin(p) || (p.kind == kind && p.id == id))
    }

    /// The accounts (users or service accounts, by their home-unit column) this caller may
    /// list, as one SQL condition; `FORBIDDEN` for anyone but an admin.
    fn account_condition(&self, home_column: impl ColumnTrait) -> AppResult<Condition> {
        let p = self.require()?;
        if !Self::is_admin(p) {
            return Err(AppError::Forbidden("only admins list accounts".into()));
        }
        Ok(match p.home_unit_id {
            Some(home) => Condition::all()
                .add(Expr::col(home_column.into_column_ref()).in_subquery(scope::units_in(home))),
            None => Condition::all(),
        })
    }

    /// The users this caller may list (admins only, in their scope).
    pub fn visible_users(&self) -> AppResult<Visible<Users>> {
        self.account_condition(entity::app_user::Column::HomeUnitId)
            .map(Visible::only)
    }

    /// The service accounts this caller may list (admins only, in their scope).
    pub fn visible_service_accounts(&self) -> AppResult<Visible<ServiceAccounts>> {
        self.account_condition(entity::service_account::Column::HomeUnitId)
            .map(Visible::only)
    }

    fn is_admin(p: &Principal) -> bool {
        p.kind == PrincipalKind::User && p.role == Role::Admin
    }

    /// May this caller administer (`kind`) a user, service account or agency at `unit` (none:
    /// national)? An admin acts inside his scope; at historical units he may only wind down
    /// (`WriteKind::Close`).
    pub async fn authorize_admin(
        &self,
        unit: Option<&admin_unit::Model>,
        kind: WriteKind,
    ) -> AppResult<()> {
        let p = self.require()?;
        if !Self::is_admin(p) {
            return Err(AppError::Forbidden(
                "only admins administer users, service accounts and agencies".into(),
            ));
        }
        if !self.in_scope(unit.map(|u| u.id)).await? {
            return Err(AppError::Forbidden(
                "that unit is outside your scope".into(),
            ));
        }
        if kind != WriteKind::Close
            && let Some(u) = unit
            && !units::is_valid_on(u, clock::today())
        {
            return Err(AppError::Forbidden(format!(
                "{} ({}) is a historical unit: read-only, except for moving its users out and \
                 closing what it holds",
                u.name, u.code
            )));
        }
        Ok(())
    }

    /// Whether the caller manages `unit`'s plans: a manager homed there, or a national manager
    /// or admin.
    fn manages(&self, unit: i64) -> AppResult<bool> {
        let p = self.require()?;
        Ok(p.kind == PrincipalKind::User
            && match p.home_unit_id {
                Some(home) => p.role == Role::Manager && home == unit,
                None => matches!(p.role, Role::Manager | Role::Admin),
            })
    }

    /// May this caller write plans, targets and tasks issued at `unit`? A manager at that very
    /// unit, or a national manager or admin; the unit must be valid today (historical units
    /// take no new plans or tasks).
    pub fn authorize_plan_write(&self, unit: &admin_unit::Model) -> AppResult<()> {
        if !self.manages(unit.id)? {
            return Err(AppError::Forbidden(
                "only a manager of the issuing unit writes its plans, targets and tasks".into(),
            ));
        }
        if !units::is_valid_on(unit, clock::today()) {
            return Err(AppError::Forbidden(format!(
                "{} ({}) is a historical unit: its plans are read-only",
                unit.name, unit.code
            )));
        }
        Ok(())
    }

    /// May this caller report progress on a task or duty of `agency` (the task's lead, the
    /// duty's reporter)? Reporters and managers whose agency it is or whose scope holds its
    /// unit; national reporters, managers and admins.
    pub async fn authorize_progress(&self, agency: &agency::Model) -> AppResult<()> {
        let p = self.require()?;
        let role_ok = p.kind == PrincipalKind::User
            && (matches!(p.role, Role::Reporter | Role::Manager)
                || (p.role == Role::Admin && p.home_unit_id.is_none()));
        if role_ok
            && (p.agency_id == Some(agency.id) || self.in_scope(Some(agency.admin_unit_id)).await?)
        {
            return Ok(());
        }
        Err(AppError::Forbidden(
            "only reporters and managers of the leading agency, or whose scope holds it, report \
             progress"
                .into(),
        ))
    }

    /// May this caller accept or return progress reports on the plans of `plan_unit`? A
    /// manager of the issuing unit, or a national manager or admin.
    pub fn authorize_review(&self, plan_unit: i64) -> AppResult<()> {
        if self.manages(plan_unit)? {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only a manager of the issuing unit reviews progress reports".into(),
            ))
        }
    }

    /// Whose scope decides what values the caller reads beyond the published ones: none for
    /// anonymous callers and service accounts without `values:read`.
    fn value_reach(&self) -> Reach {
        let Some(p) = &self.principal else {
            return Reach::Public;
        };
        if p.kind == PrincipalKind::Service && !p.scopes.iter().any(|s| s == VALUES_READ) {
            return Reach::Public;
        }
        match p.home_unit_id {
            Some(u) => Reach::Home(u),
            None => Reach::National,
        }
    }

    /// The indicator values this caller may read (a condition on `indicator_value`):
    /// published ones anywhere, and every one of the units of his scope.
    pub fn visible_values(&self) -> Visible<Values> {
        use entity::indicator_value::Column as V;
        let published = Condition::all().add(V::Status.eq(entity::enums::ValueStatus::Published));
        match self.value_reach() {
            Reach::National => Visible::everything(),
            Reach::Public => Visible::only(published),
            Reach::Home(home) => Visible::only(
                Condition::any()
                    .add(published)
                    .add(V::AdminUnitId.in_subquery(scope::units_in(home))),
            ),
        }
    }

    /// The values of the units of this caller's scope, whatever their status (a condition on
    /// `indicator_value`): all for national readers, none for the public.
    pub fn values_in_scope(&self) -> Visible<Values> {
        use entity::indicator_value::Column as V;
        match self.value_reach() {
            Reach::National => Visible::everything(),
            Reach::Public => Visible::only(nothing()),
            Reach::Home(home) => Visible::only(
                Condition::all().add(V::AdminUnitId.in_subquery(scope::units_in(home))),
            ),
        }
    }

    /// The units whose unpublished values this caller reads, as a test on unit ids (the
    /// value-read rule: his scope, for users and for service accounts with `values:read`).
    /// Target achievement counts approved figures only there.
    pub async fn value_scope_test(&self) -> AppResult<Box<dyn Fn(i64) -> bool + Send + Sync + '_>> {
        match self.value_reach() {
            Reach::Public => Ok(Box::new(|_| false)),
            Reach::National => Ok(Box::new(|_| true)),
            Reach::Home(home) => {
                let set = self.scope_set(home).await?;
                Ok(Box::new(move |u| set.contains(&u)))
            }
        }
    }

    /// Whether the caller submits values at all: reporters and managers, national admins,
    /// service accounts with `values:write`. The unit of each row is checked with
    /// [`Self::scope_test`].
    pub fn authorize_value_submission(&self) -> AppResult<()> {
        let p = self.require()?;
        let ok = match p.kind {
            PrincipalKind::Service => p.scopes.iter().any(|s| s == VALUES_WRITE),
            PrincipalKind::User => {
                matches!(p.role, Role::Reporter | Role::Manager)
                    || (p.role == Role::Admin && p.home_unit_id.is_none())
            }
        };
        if ok {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only reporters, managers and service accounts with values:write submit values"
                    .into(),
            ))
        }
    }

    /// Whether the caller approves, rejects, publishes and reopens values at all: managers
    /// (of a unit above the value's: see [`Self::review_test`]) and national admins.
    pub fn authorize_value_review(&self) -> AppResult<()> {
        let p = self.require()?;
        let ok = p.kind == PrincipalKind::User
            && (p.role == Role::Manager || (p.role == Role::Admin && p.home_unit_id.is_none()));
        if ok {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only managers of a unit above approve, reject, publish and reopen values".into(),
            ))
        }
    }

    /// The units whose values this caller reviews: strictly below his home in his scope
    /// (every unit for national managers and admins).
    pub async fn review_test(&self) -> AppResult<Box<dyn Fn(i64) -> bool + Send + Sync + '_>> {
        let home = self.require()?.home_unit_id;
        let inside = self.scope_test().await?;
        Ok(Box::new(move |u| inside(u) && Some(u) != home))
    }

    /// An admin never grants a role above his own.
    pub fn authorize_grant(&self, role: Role) -> AppResult<()> {
        let p = self.require()?;
        if rank(role) > rank(p.role) {
            return Err(AppError::Forbidden(
                "you cannot grant a role above your own".into(),
            ));
        }
        Ok(())
    }

    /// What the principal may do in general (each write still checks its object).
    pub fn capabilities(&self) -> Vec<Capability> {
        let Some(p) = &self.principal else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if self.plan_reach() != Reach::Public {
            out.push(Capability::ReadScope);
        }
        match p.kind {
            PrincipalKind::Service => {
                if p.scopes.iter().any(|s| s.ends_with(":write")) {
                    out.push(Capability::Report);
                }
            }
            PrincipalKind::User => {
                if rank(p.role) >= rank(Role::Reporter) {
                    out.push(Capability::Report);
                }
                if rank(p.role) >= rank(Role::Manager) {
                    out.push(Capability::Manage);
                }
                if p.role == Role::Admin {
                    out.push(Capability::Administer);
                    if p.home_unit_id.is_none() {
                        out.push(Capability::AdministerUnits);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_the_design_table() {
        assert!(rank(Role::Viewer) < rank(Role::Reporter));
        assert!(rank(Role::Reporter) < rank(Role::Manager));
        assert!(rank(Role::Manager) < rank(Role::Admin));
    }
}

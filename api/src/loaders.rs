//! Per-request DataLoaders: every relation of the schema is fetched in batches. The loaders of
//! plans read only what the request's principal may read (`policy::Access`).

use crate::error::AppError;
use crate::policy::Access;
use crate::services::page::{PageRequest, Rows};
use crate::services::plans::AssignmentQuery;
use crate::services::targets;
use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use std::sync::Arc;

/// A shared list.
pub type List<T> = Arc<Vec<T>>;

/// A grouping key: a row's foreign key, which may be absent.
pub trait GroupKey {
    /// The key, if any.
    fn group_key(&self) -> Option<i64>;
}
impl GroupKey for i64 {
    fn group_key(&self) -> Option<i64> {
        Some(*self)
    }
}
impl GroupKey for Option<i64> {
    fn group_key(&self) -> Option<i64> {
        *self
    }
}

/// Declares a loader of rows by primary key.
macro_rules! by_id_loader {
    ($(#[$m:meta])* $name:ident, $entity:ident) => {
        by_id_loader!($(#[$m])* $name, $entity, entity::$entity::Model, |r| r);
    };
    // Rows decoded by position (services::rows), for the loaders of the busiest lists.
    ($(#[$m:meta])* $name:ident, $entity:ident, fast) => {
        by_id_loader!(
            $(#[$m])* $name,
            $entity,
            crate::services::rows::Fast<entity::$entity::Model>,
            |r: crate::services::rows::Fast<entity::$entity::Model>| r.0
        );
    };
    ($(#[$m:meta])* $name:ident, $entity:ident, $row:ty, $unwrap:expr) => {
        $(#[$m])*
        pub struct $name(pub DatabaseConnection);
        impl Loader<i64> for $name {
            type Value = Arc<entity::$entity::Model>;
            type Error = AppError;
            async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, AppError> {
                Ok(entity::$entity::Entity::find()
                    .filter(crate::services::sql::id_in(
                        self.0.get_database_backend(),
                        entity::$entity::Column::Id,
                        keys.iter().copied(),
                    ))
                    .into_model::<$row>()
                    .all(&self.0)
                    .await?
                    .into_iter()
                    .map($unwrap)
                    .map(|r| (r.id, Arc::new(r)))
                    .collect())
            }
        }
    };
}

/// Declares a loader of the rows that share a foreign key, in a fixed order.
macro_rules! group_loader {
    ($(#[$m:meta])* $name:ident, $entity:ident, $col:ident, $field:ident, [$($order:ident),*]) => {
        $(#[$m])*
        pub struct $name(pub DatabaseConnection);
        impl Loader<i64> for $name {
            type Value = List<entity::$entity::Model>;
            type Error = AppError;
            async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, AppError> {
                let rows = entity::$entity::Entity::find()
                    .filter(crate::services::sql::id_in(
                        self.0.get_database_backend(),
                        entity::$entity::Column::$col,
                        keys.iter().copied(),
                    ))
                    $(.order_by_asc(entity::$entity::Column::$order))*
                    .all(&self.0)
                    .await?;
                let mut out: HashMap<i64, Vec<entity::$entity::Model>> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for row in rows {
                    if let Some(list) = row.$field.group_key().and_then(|k| out.get_mut(&k)) {
                        list.push(row);
                    }
                }
                Ok(out.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
            }
        }
    };
}

/// Declares a loader of plans that reads only the plans the request's principal may read: the
/// policy's condition goes into the loader's own SQL, so no relation leaks what the top-level
/// query would refuse.
macro_rules! visible_plans_loader {
    ($(#[$m:meta])* $name:ident, $col:ident, $key:expr) => {
        $(#[$m])*
        pub struct $name(pub DatabaseConnection, pub Arc<Access>);
        impl Loader<i64> for $name {
            type Value = List<entity::plan::Model>;
            type Error = AppError;
            async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, AppError> {
                let rows = entity::plan::Entity::find()
                    .filter(crate::services::sql::id_in(
                        self.0.get_database_backend(),
                        entity::plan::Column::$col,
                        keys.iter().copied(),
                    ))
                    .filter(self.1.visible_plans().condition())
                    .order_by_asc(entity::plan::Column::Id)
                    .all(&self.0)
                    .await?;
                let mut out: HashMap<i64, Vec<entity::plan::Model>> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for row in rows {
                    let key: Option<i64> = $key(&row);
                    if let Some(list) = key.and_then(|k| out.get_mut(&k)) {
                        list.push(row);
                    }
                }
                Ok(out.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
            }
        }
    };
}

/// Readable plans by id (the policy's condition in the loader's SQL).
pub struct PlanById(pub DatabaseConnection, pub Arc<Access>);
impl Loader<i64> for PlanById {
    type Value = Arc<entity::plan::Model>;
    type Error = AppError;
    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, AppError> {
        Ok(entity::plan::Entity::find()
            .filter(crate::services::sql::id_in(
                self.0.get_database_backend(),
                entity::plan::Column::Id,
                keys.iter().copied(),
            ))
            .filter(self.1.visible_plans().condition())
            .all(&self.0)
            .await?
            .into_iter()
            .map(|r| (r.id, Arc::new(r)))
            .collect())
    }
}
visible_plans_loader!(/** Readable plans implementing plans. */ ImplementingPlans, ParentPlanId, |p: &entity::plan::Model| p.parent_plan_id);
visible_plans_loader!(/** Readable plans issued at units (by unit version). */ PlansOfUnit, AdminUnitId, |p: &entity::plan::Model| Some(p.admin_unit_id));
by_id_loader!(/** Agencies by id. */ AgencyById, agency, fast);
by_id_loader!(/** Indicators by id. */ IndicatorById, indicator);
by_id_loader!(/** Targets by id. */ TargetById, target);
by_id_loader!(/** Assignments by id. */ AssignmentById, assignment);
by_id_loader!(/** Reporting duties by id. */ DutyById, reporting_duty);
group_loader!(/** Targets of plans, in document order. */ TargetsOfPlan, target, PlanId, plan_id, [Position, Id]);

/// A page of a plan's assignments, keyed by plan, filter, page and whether the rows bring
/// their lead agency: plans that ask for the same filter and page share one windowed statement.
pub type AssignmentPageKey = (i64, AssignmentQuery, PageRequest, bool);

/// Pages of assignments of plans (`row_number()` per plan, one statement per distinct page).
pub struct AssignmentPages(pub DatabaseConnection);
impl Loader<AssignmentPageKey> for AssignmentPages {
    type Value = Arc<Rows<crate::services::plans::AssignmentRow>>;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[AssignmentPageKey],
    ) -> Result<HashMap<AssignmentPageKey, Self::Value>, AppError> {
        let mut groups: HashMap<(AssignmentQuery, PageRequest, bool), Vec<i64>> = HashMap::new();
        for (plan, q, page, with_lead) in keys {
            groups
                .entry((q.clone(), page.clone(), *with_lead))
                .or_default()
                .push(*plan);
        }
        let mut pages = Vec::new();
        for ((q, page, with_lead), plans) in groups {
            for (plan, rows) in
                crate::services::plans::assignment_pages(&self.0, &plans, &q, &page).await?
            {
                pages.push(((plan, q.clone(), page.clone(), with_lead), rows));
            }
        }
        // The lead agencies of every page that asks for them, in one statement by key (joined
        // into the windowed statement, PostgreSQL hashed the whole agency table for each page:
        // BENCHMARKS.md, "Every target in one run").
        let leads: Vec<i64> = pages
            .iter()
            .filter(|(key, _)| key.3)
            .flat_map(|(_, rows)| rows.rows.iter().map(|t| t.lead_agency_id))
            .collect::<std::collections::BTreeSet<i64>>()
            .into_iter()
            .collect();
        let leads = if leads.is_empty() {
            HashMap::new()
        } else {
            AgencyById(self.0.clone()).load(&leads).await?
        };
        Ok(pages
            .into_iter()
            .map(|(key, rows)| {
                let with_lead = key.3;
                let rows = rows.map(|task| {
                    let lead = with_lead
                        .then(|| leads.get(&task.lead_agency_id).cloned())
                        .flatten();
                    (task, lead)
                });
                (key, Arc::new(rows))
            })
            .collect())
    }
}

/// Numbers of a plan's assignments under a filter, keyed by plan and filter.
pub struct AssignmentCounts(pub DatabaseConnection);
impl Loader<(i64, AssignmentQuery)> for AssignmentCounts {
    type Value = usize;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[(i64, AssignmentQuery)],
    ) -> Result<HashMap<(i64, AssignmentQuery), usize>, AppError> {
        let mut groups: HashMap<AssignmentQuery, Vec<i64>> = HashMap::new();
        for (plan, q) in keys {
            groups.entry(q.clone()).or_default().push(*plan);
        }
        let mut out = HashMap::new();
        for (q, plans) in groups {
            let counts = crate::services::plans::assignment_counts(&self.0, &plans, &q).await?;
            for plan in plans {
                out.insert((plan, q.clone()), counts.get(&plan).copied().unwrap_or(0));
            }
        }
        Ok(out)
    }
}
group_loader!(/** Legal bases of plans. */ BasesOfPlan, plan_basis, PlanId, plan_id, [Position, Id]);
group_loader!(/** Addressees of plans. */ AddresseesOfPlan, plan_addressee, PlanId, plan_id, [AgencyId]);
group_loader!(/** Reporting duties of plans. */ DutiesOfPlan, reporting_duty, PlanId, plan_id, [DueOn, Id]);
group_loader!(/** Coordinating agencies of assignments. */ CoordinatorsOf, assignment_coordinator, AssignmentId, assignment_id, [AgencyId]);
group_loader!(/** Targets linked to assignments. */ TargetLinksOf, assignment_target, AssignmentId, assignment_id, [TargetId]);

/// Declares a loader of the progress reports the request's principal may read, grouped by one
/// column, oldest first: the policy's condition goes into the loader's own SQL.
macro_rules! visible_reports_loader {
    ($(#[$m:meta])* $name:ident, $col:ident, $field:ident) => {
        $(#[$m])*
        pub struct $name(pub DatabaseConnection, pub Arc<Access>);
        impl Loader<i64> for $name {
            type Value = List<entity::progress_report::Model>;
            type Error = AppError;
            async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, AppError> {
                use entity::progress_report::{Column, Entity};
                let rows = Entity::find()
                    .filter(crate::services::sql::id_in(
                        self.0.get_database_backend(),
                        Column::$col,
                        keys.iter().copied(),
                    ))
                    .filter(self.1.visible_reports().condition())
                    .order_by_asc(Column::ReportedAt)
                    .order_by_asc(Column::Id)
                    .all(&self.0)
                    .await?;
                let mut out: HashMap<i64, Vec<entity::progress_report::Model>> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for row in rows {
                    if let Some(list) = row.$field.and_then(|k| out.get_mut(&k)) {
                        list.push(row);
                    }
                }
                Ok(out.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
            }
        }
    };
}
visible_reports_loader!(/** Readable progress reports on assignments. */ ReportsOfAssignment, AssignmentId, assignment_id);
visible_reports_loader!(/** Readable progress reports for reporting duties. */ ReportsOfDuty, ReportingDutyId, reporting_duty_id);

/// Whether the reports of duties may be read (the policy's condition in SQL), by duty.
pub struct DutyReportsVisible(pub DatabaseConnection, pub Arc<Access>);
impl Loader<i64> for DutyReportsVisible {
    type Value = bool;
    type Error = AppError;
    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, bool>, AppError> {
        use entity::reporting_duty::{Column, Entity};
        let visible: std::collections::HashSet<i64> = Entity::find()
            .filter(crate::services::sql::id_in(
                self.0.get_database_backend(),
                Column::Id,
                keys.iter().copied(),
            ))
            .filter(self.1.visible_duty_reports().condition())
            .all(&self.0)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect();
        Ok(keys.iter().map(|k| (*k, visible.contains(k))).collect())
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Readable plans by id.
    pub plan: DataLoader<PlanById>,
    /// Readable plans by issuing unit.
    pub plans_of_unit: DataLoader<PlansOfUnit>,
    /// Agencies by id.
    pub agency: DataLoader<AgencyById>,
    /// Indicators by id.
    pub indicator: DataLoader<IndicatorById>,
    /// Targets by id.
    pub target: DataLoader<TargetById>,
    /// Assignments by id.
    pub assignment: DataLoader<AssignmentById>,
    /// Reporting duties by id.
    pub duty: DataLoader<DutyById>,
    /// Targets by plan.
    pub targets_of_plan: DataLoader<TargetsOfPlan>,
    /// Pages of assignments by plan.
    pub assignment_pages: DataLoader<AssignmentPages>,
    /// Numbers of assignments by plan (shared, so that a deferred `totalCount` can hold it).
    pub assignment_counts: Arc<DataLoader<AssignmentCounts>>,
    /// Bases by plan.
    pub bases_of_plan: DataLoader<BasesOfPlan>,
    /// Addressees by plan.
    pub addressees_of_plan: DataLoader<AddresseesOfPlan>,
    /// Implementing plans by parent plan.
    pub implementing: DataLoader<ImplementingPlans>,
    /// Reporting duties by plan.
    pub duties_of_plan: DataLoader<DutiesOfPlan>,
    /// Coordinators by assignment.
    pub coordinators: DataLoader<CoordinatorsOf>,
    /// Target links by assignment.
    pub target_links: DataLoader<TargetLinksOf>,
    /// Reports by assignment.
    pub reports_of_assignment: DataLoader<ReportsOfAssignment>,
    /// Reports by duty.
    pub reports_of_duty: DataLoader<ReportsOfDuty>,
    /// Whether a duty's reports may be read.
    pub duty_reports_visible: DataLoader<DutyReportsVisible>,
    /// Approved and published figures by (indicator, unit, disaggregation).
    pub figures: DataLoader<TargetFigures>,
    /// Revisions of indicator values, by value.
    pub revisions: DataLoader<ValueRevisions>,
}

impl Loaders {
    /// Fresh loaders for one request: their caches die with it.
    pub fn new(db: &DatabaseConnection, access: Arc<Access>) -> Self {
        Self {
            plan: DataLoader::new(PlanById(db.clone(), access.clone()), spawn_in_span),
            plans_of_unit: DataLoader::new(PlansOfUnit(db.clone(), access.clone()), spawn_in_span),
            agency: DataLoader::new(AgencyById(db.clone()), spawn_in_span),
            indicator: DataLoader::new(IndicatorById(db.clone()), spawn_in_span),
            target: DataLoader::new(TargetById(db.clone()), spawn_in_span),
            assignment: DataLoader::new(AssignmentById(db.clone()), spawn_in_span),
            duty: DataLoader::new(DutyById(db.clone()), spawn_in_span),
            targets_of_plan: DataLoader::new(TargetsOfPlan(db.clone()), spawn_in_span),
            assignment_pages: DataLoader::new(AssignmentPages(db.clone()), spawn_in_span),
            assignment_counts: Arc::new(DataLoader::new(
                AssignmentCounts(db.clone()),
                spawn_in_span,
            )),
            bases_of_plan: DataLoader::new(BasesOfPlan(db.clone()), spawn_in_span),
            addressees_of_plan: DataLoader::new(AddresseesOfPlan(db.clone()), spawn_in_span),
            implementing: DataLoader::new(
                ImplementingPlans(db.clone(), access.clone()),
                spawn_in_span,
            ),
            duties_of_plan: DataLoader::new(DutiesOfPlan(db.clone()), spawn_in_span),
            coordinators: DataLoader::new(CoordinatorsOf(db.clone()), spawn_in_span),
            target_links: DataLoader::new(TargetLinksOf(db.clone()), spawn_in_span),
            reports_of_assignment: DataLoader::new(
                ReportsOfAssignment(db.clone(), access.clone()),
                spawn_in_span,
            ),
            reports_of_duty: DataLoader::new(
                ReportsOfDuty(db.clone(), access.clone()),
                spawn_in_span,
            ),
            duty_reports_visible: DataLoader::new(
                DutyReportsVisible(db.clone(), access.clone()),
                spawn_in_span,
            ),
            figures: DataLoader::new(TargetFigures(db.clone()), spawn_in_span),
            revisions: DataLoader::new(ValueRevisions(db.clone()), spawn_in_span),
        }
    }
}

/// Figures of targets: one statement per batch. Which of them count for a caller is decided
/// by `services::targets::verdict` (published only, unless the caller's scope holds the unit).
pub struct TargetFigures(pub DatabaseConnection);
impl Loader<targets::FigureKey> for TargetFigures {
    type Value = Arc<Vec<targets::Figure>>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[targets::FigureKey],
    ) -> Result<HashMap<targets::FigureKey, Self::Value>, AppError> {
        let mut found = targets::figures(&self.0, keys).await?;
        Ok(keys
            .iter()
            .map(|k| (k.clone(), Arc::new(found.remove(k).unwrap_or_default())))
            .collect())
    }
}

/// Revisions of indicator values (only values the caller may read reach it): one statement per
/// batch.
pub struct ValueRevisions(pub DatabaseConnection);
impl Loader<i64> for ValueRevisions {
    type Value = List<entity::indicator_value_revision::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, AppError> {
        let mut found = crate::services::values::revisions(&self.0, keys).await?;
        Ok(keys
            .iter()
            .map(|k| (*k, Arc::new(found.remove(k).unwrap_or_default())))
            .collect())
    }
}

/// Runs a batch in the span of the request that triggered it, so that its log lines (a slow
/// statement, an error) carry the request id.
fn spawn_in_span(
    batch: futures_util::future::BoxFuture<'static, ()>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(tracing::Instrument::in_current_span(batch))
}

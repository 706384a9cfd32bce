//! Per-request DataLoaders: every relation of the schema is fetched in batches.

use crate::error::AppError;
use crate::services::units::{self, Direction};
use async_graphql::dataloader::{DataLoader, Loader};
use chrono::NaiveDate;
use entity::{admin_unit, admin_unit_lineage};
use sea_orm::DatabaseConnection;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Units by id.
pub struct UnitById(pub DatabaseConnection);
/// Children of units valid on a date.
pub struct ChildrenOf(pub DatabaseConnection);
/// Communes of provinces valid on a date, through districts or directly.
pub struct CommunesOfProvince(pub DatabaseConnection);
/// Direct lineage links of units.
pub struct LineageOf(pub DatabaseConnection);

/// A shared list.
pub type List<T> = Arc<Vec<T>>;

impl Loader<i64> for UnitById {
    type Value = Arc<admin_unit::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, AppError> {
        Ok(units::by_ids(&self.0, keys)
            .await?
            .into_iter()
            .map(|(k, v)| (k, Arc::new(v)))
            .collect())
    }
}

/// Groups (id, date) keys by date: one statement per distinct date (one in practice).
fn by_date(keys: &[(i64, NaiveDate)]) -> BTreeMap<NaiveDate, Vec<i64>> {
    let mut out: BTreeMap<NaiveDate, Vec<i64>> = BTreeMap::new();
    for (id, date) in keys {
        out.entry(*date).or_default().push(*id);
    }
    out
}

impl Loader<(i64, NaiveDate)> for ChildrenOf {
    type Value = List<admin_unit::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[(i64, NaiveDate)],
    ) -> Result<HashMap<(i64, NaiveDate), Self::Value>, AppError> {
        let mut out = HashMap::new();
        for (date, ids) in by_date(keys) {
            let mut found = units::children_of(&self.0, &ids, date).await?;
            for id in ids {
                out.insert((id, date), Arc::new(found.remove(&id).unwrap_or_default()));
            }
        }
        Ok(out)
    }
}

impl Loader<(i64, NaiveDate)> for CommunesOfProvince {
    type Value = List<admin_unit::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[(i64, NaiveDate)],
    ) -> Result<HashMap<(i64, NaiveDate), Self::Value>, AppError> {
        let mut out = HashMap::new();
        for (date, ids) in by_date(keys) {
            let mut found = units::communes_of_provinces(&self.0, &ids, date).await?;
            for id in ids {
                out.insert((id, date), Arc::new(found.remove(&id).unwrap_or_default()));
            }
        }
        Ok(out)
    }
}

impl Loader<(i64, Direction)> for LineageOf {
    type Value = List<admin_unit_lineage::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[(i64, Direction)],
    ) -> Result<HashMap<(i64, Direction), Self::Value>, AppError> {
        let mut out = HashMap::new();
        for direction in [Direction::Successors, Direction::Predecessors] {
            let ids: Vec<i64> = keys
                .iter()
                .filter(|k| k.1 == direction)
                .map(|k| k.0)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let mut found = units::lineage_of(&self.0, &ids, direction).await?;
            for id in ids {
                out.insert(
                    (id, direction),
                    Arc::new(found.remove(&id).unwrap_or_default()),
                );
            }
        }
        Ok(out)
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Units by id.
    pub unit: DataLoader<UnitById>,
    /// Children by parent and date.
    pub children: DataLoader<ChildrenOf>,
    /// Communes by province and date.
    pub communes: DataLoader<CommunesOfProvince>,
    /// Lineage by unit and direction.
    pub lineage: DataLoader<LineageOf>,
}

impl Loaders {
    /// Fresh loaders for one request: their caches die with it.
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            unit: DataLoader::new(UnitById(db.clone()), spawn_in_span),
            children: DataLoader::new(ChildrenOf(db.clone()), spawn_in_span),
            communes: DataLoader::new(CommunesOfProvince(db.clone()), spawn_in_span),
            lineage: DataLoader::new(LineageOf(db.clone()), spawn_in_span),
        }
    }
}

/// Runs a batch in the span of the request that triggered it, so that its log lines (a slow
/// statement, an error) carry the request id.
fn spawn_in_span(
    batch: futures_util::future::BoxFuture<'static, ()>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(tracing::Instrument::in_current_span(batch))
}

//! The search index of administrative units, held in memory.
//!
//! A search scans every unit's folded name (about 25,000 versions nationally): done in the
//! database, each query reads and ranks thousands of rows for a two-letter query. Instead each
//! process keeps the narrow columns it ranks on, and rebuilds them when a unit list has been
//! applied since: every import that changes units bumps a generation number in the database
//! (row 2 of `change_counter`, in the import's own transaction), and each search reads that
//! one row first. Several instances therefore agree, and an index is never older than the
//! last committed import.

use crate::error::AppResult;
use chrono::NaiveDate;
use entity::admin_unit::{Column, Entity as AdminUnit};
use entity::change_counter;
use entity::enums::AdminLevel;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use std::sync::Arc;
use tokio::sync::RwLock;

/// The `change_counter` row that counts changes to units.
const UNITS_GENERATION: i32 = 2;

/// One unit version, as search needs it.
pub struct Entry {
    /// Row id.
    pub id: i64,
    /// Official code.
    pub code: String,
    /// Folded full name.
    pub key: String,
    /// Level.
    pub level: AdminLevel,
    /// First day.
    pub valid_from: Option<NaiveDate>,
    /// Last day.
    pub valid_to: Option<NaiveDate>,
    /// Vietnamese sort key.
    pub sort_key: String,
    /// Parent row.
    pub parent_id: Option<i64>,
}

/// The index at one generation.
pub struct Snapshot {
    /// The generation it was built at.
    pub generation: i64,
    /// Every unit version.
    pub entries: Vec<Entry>,
}

/// The per-process index.
#[derive(Default)]
pub struct UnitSearchIndex {
    snapshot: RwLock<Option<Arc<Snapshot>>>,
}

/// The current generation of units.
pub async fn generation<C: ConnectionTrait>(db: &C) -> AppResult<i64> {
    Ok(change_counter::Entity::find_by_id(UNITS_GENERATION)
        .one(db)
        .await?
        .map(|r| r.value)
        .unwrap_or(0))
}

/// Records that units changed (call inside the writing transaction; after the commit, call
/// [`super::unit_snapshot::changed_here`]).
pub async fn bump<C: ConnectionTrait>(db: &C) -> AppResult<()> {
    let updated = change_counter::Entity::update_many()
        .col_expr(
            change_counter::Column::Value,
            Expr::col(change_counter::Column::Value).add(1),
        )
        .filter(change_counter::Column::Id.eq(UNITS_GENERATION))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        change_counter::Entity::insert(change_counter::ActiveModel {
            id: Set(UNITS_GENERATION),
            value: Set(1),
        })
        .exec(db)
        .await?;
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Delivered at commit to every instance that listens (unit_snapshot::watch).
        db.execute_unprepared(&format!("NOTIFY {}", super::unit_snapshot::CHANNEL))
            .await?;
    }
    Ok(())
}

impl UnitSearchIndex {
    /// The index as of the latest committed unit import.
    pub async fn current<C: ConnectionTrait>(&self, db: &C) -> AppResult<Arc<Snapshot>> {
        let generation = generation(db).await?;
        if let Some(s) = self.snapshot.read().await.as_ref()
            && s.generation == generation
        {
            return Ok(s.clone());
        }
        let mut slot = self.snapshot.write().await;
        if let Some(s) = slot.as_ref()
            && s.generation == generation
        {
            return Ok(s.clone());
        }
        type Row = (
            i64,
            String,
            String,
            AdminLevel,
            Option<NaiveDate>,
            Option<NaiveDate>,
            String,
            Option<i64>,
        );
        let rows: Vec<Row> = AdminUnit::find()
            .select_only()
            .columns([
                Column::Id,
                Column::Code,
                Column::SearchKey,
                Column::Level,
                Column::ValidFrom,
                Column::ValidTo,
                Column::SortKey,
                Column::ParentId,
            ])
            .into_tuple()
            .all(db)
            .await?;
        let entries = rows
            .into_iter()
            .map(
                |(id, code, key, level, valid_from, valid_to, sort_key, parent_id)| Entry {
                    id,
                    code,
                    key,
                    level,
                    valid_from,
                    valid_to,
                    sort_key,
                    parent_id,
                },
            )
            .collect();
        let snapshot = Arc::new(Snapshot {
            generation,
            entries,
        });
        *slot = Some(snapshot.clone());
        Ok(snapshot)
    }
}

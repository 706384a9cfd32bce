//! Scope(U) (DESIGN.md, "Access control"): U, every unit below it, and every historical unit
//! whose area passed into one of those through lineage. Stored as the closure table
//! `unit_scope`, rebuilt by every unit import inside its own transaction, so that a reader never
//! sees units without their scope.

use crate::error::AppResult;
use entity::unit_scope;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashSet;

/// Rebuilds `unit_scope` from `admin_unit` (parents) and `admin_unit_lineage` (predecessors).
/// `UNION` (not `UNION ALL`) removes duplicates and ends the recursion on any cycle. The same
/// statements run on PostgreSQL and SQLite.
const REBUILD: [&str; 2] = [
    "DELETE FROM unit_scope",
    "WITH RECURSIVE down_tree(root, unit) AS ( \
         SELECT id, id FROM admin_unit \
         UNION \
         SELECT down_tree.root, c.id FROM down_tree JOIN admin_unit c ON c.parent_id = down_tree.unit \
     ), back_tree(root, unit) AS ( \
         SELECT root, unit FROM down_tree \
         UNION \
         SELECT back_tree.root, l.predecessor_id FROM back_tree \
           JOIN admin_unit_lineage l ON l.successor_id = back_tree.unit \
     ) \
     INSERT INTO unit_scope (scope_unit_id, unit_id) SELECT root, unit FROM back_tree",
];

/// Rebuilds the closure from units and lineage (two statements, all in SQL), inside the
/// caller's transaction.
pub async fn rebuild<C: ConnectionTrait>(db: &C) -> AppResult<()> {
    for sql in REBUILD {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// The ids of the units in Scope(`unit`), as a subquery for an `IN` condition.
pub fn units_in(unit: i64) -> SelectStatement {
    Query::select()
        .column(unit_scope::Column::UnitId)
        .from(unit_scope::Entity)
        .and_where(unit_scope::Column::ScopeUnitId.eq(unit))
        .to_owned()
}

/// The ids of the units whose scope holds `unit` (itself and the units above it), as a
/// subquery for an `IN` condition.
pub fn units_over(unit: i64) -> SelectStatement {
    Query::select()
        .column(unit_scope::Column::ScopeUnitId)
        .from(unit_scope::Entity)
        .and_where(unit_scope::Column::UnitId.eq(unit))
        .to_owned()
}

/// The ids of the units in Scope(`unit`).
pub async fn ids_in<C: ConnectionTrait>(db: &C, unit: i64) -> AppResult<HashSet<i64>> {
    Ok(unit_scope::Entity::find()
        .select_only()
        .column(unit_scope::Column::UnitId)
        .filter(unit_scope::Column::ScopeUnitId.eq(unit))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The ids of the units whose scope holds `unit`: itself and the units above it.
pub async fn ids_over<C: ConnectionTrait>(db: &C, unit: i64) -> AppResult<HashSet<i64>> {
    Ok(unit_scope::Entity::find()
        .select_only()
        .column(unit_scope::Column::ScopeUnitId)
        .filter(unit_scope::Column::UnitId.eq(unit))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Whether `unit` is in Scope(`scope`): one primary-key probe.
pub async fn contains<C: ConnectionTrait>(db: &C, scope: i64, unit: i64) -> AppResult<bool> {
    Ok(unit_scope::Entity::find_by_id((scope, unit))
        .one(db)
        .await?
        .is_some())
}

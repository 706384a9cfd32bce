//! Scope(U) (DESIGN.md, "Access control"): U, every unit below it, and every historical unit
//! whose area passed into one of those through lineage. Stored as the closure table
//! `unit_scope`, rebuilt by every unit import inside its own transaction, so that a reader never
//! sees units without their scope.

use crate::error::AppResult;
use entity::unit_scope;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{HashMap, HashSet};

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

/// The province of every unit version (`unit_province`'s rows): its own code for a province,
/// else its parent's or its grandparent's (a commune under a district, before July 2025).
const PROVINCE_OF_UNITS: &str = "SELECT u.id AS unit_id, CASE WHEN u.level = 'PROVINCE' THEN u.code \
       WHEN p.level = 'PROVINCE' THEN p.code ELSE g.code END AS province_code \
     FROM admin_unit u LEFT JOIN admin_unit p ON p.id = u.parent_id \
       LEFT JOIN admin_unit g ON g.id = p.parent_id";

/// Rebuilds the closure from units and lineage, and `unit_province` from units, inside the
/// caller's transaction (all in SQL, the same statements on both backends). First, value
/// writers' turn ([`super::values::take_turn`]), then the province of the stored values of
/// every unit whose province moved (a parent corrected): a value written concurrently is
/// thus either committed before (and rewritten here) or written after (and reads the new
/// `unit_province`).
pub async fn rebuild<C: ConnectionTrait>(db: &C) -> AppResult<()> {
    use entity::indicator_value::{Column as V, Entity as IndicatorValue};
    use sea_orm::sea_query::Expr;
    super::values::take_turn(db).await?;
    // The moved units first (a join of two tables of unit versions), then their values by
    // the index on `admin_unit_id`: one statement joining the values themselves would scan
    // them all on every import (750 ms at a million values, with nothing moved).
    let moved: Vec<i64> = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT m.unit_id FROM ({PROVINCE_OF_UNITS}) m \
                 JOIN unit_province o ON o.unit_id = m.unit_id \
                 WHERE COALESCE(o.province_code, '') <> COALESCE(m.province_code, '')"
            ),
        ))
        .await?
        .iter()
        .map(|row| row.try_get::<i64>("", "unit_id"))
        .collect::<Result<_, _>>()?;
    if !moved.is_empty() {
        IndicatorValue::update_many()
            .col_expr(
                V::ProvinceCode,
                Expr::cust(format!(
                    "(SELECT m.province_code FROM ({PROVINCE_OF_UNITS}) m \
                     WHERE m.unit_id = indicator_value.admin_unit_id)"
                )),
            )
            .filter(super::sql::id_in(
                db.get_database_backend(),
                V::AdminUnitId,
                moved,
            ))
            .exec(db)
            .await?;
    }
    db.execute_unprepared("DELETE FROM unit_province").await?;
    db.execute_unprepared(&format!(
        "INSERT INTO unit_province (unit_id, province_code) {PROVINCE_OF_UNITS}"
    ))
    .await?;
    for sql in REBUILD {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// The province codes of these units (from `unit_province`), for the values about to be
/// created: call after [`super::values::take_turn`], in the writing transaction.
pub async fn provinces_of<C: ConnectionTrait>(
    db: &C,
    units: impl IntoIterator<Item = i64>,
) -> AppResult<HashMap<i64, String>> {
    use entity::unit_province::{Column as P, Entity as UnitProvince};
    let ids: HashSet<i64> = units.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, Option<String>)> = UnitProvince::find()
        .select_only()
        .column(P::UnitId)
        .column(P::ProvinceCode)
        .filter(super::sql::id_in(db.get_database_backend(), P::UnitId, ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(u, p)| Some((u, p?)))
        .collect())
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

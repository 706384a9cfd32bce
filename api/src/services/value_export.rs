//! The SQL of the bulk export of indicator values: pages by id (keyset) under the policy's
//! condition, and the codes of the indicators and units a page names.
//!
//! Each page is one statement on the pool: no connection and no transaction is held between
//! pages, so a slow client holds nothing in the database. The price is that an export is not
//! one snapshot: each row is as its page read it, every row at most once (ids only grow), and
//! a value created while the export runs appears if its id is past the last page read. A
//! reader that needs a consistent cut follows the change feed instead.

use crate::error::AppResult;
use crate::policy::{Values, Visible};
use crate::services::unit_snapshot::UnitSnapshot;
use crate::services::values::ValueQuery;
use entity::{admin_unit, indicator, indicator_value};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The visible, not deleted values after id `after` that match `q`, by id, at most `limit`.
pub async fn page_after<C: ConnectionTrait>(
    db: &C,
    visible: &Visible<Values>,
    q: &ValueQuery,
    after: i64,
    limit: u64,
) -> AppResult<Vec<indicator_value::Model>> {
    use indicator_value::Column as V;
    // The same filters as `indicatorValues`; never tombstones.
    let q = ValueQuery {
        include_deleted: false,
        ..q.clone()
    };
    let s = q.select(visible).filter(V::Id.gt(after));
    Ok(s.order_by(V::Id, Order::Asc).limit(limit).all(db).await?)
}

/// Codes of indicators and units by id: units from the hierarchy in memory, indicators (and
/// any unit newer than that hierarchy) read as pages need them and kept for the rest of the
/// export (bounded by the size of the catalogue and of the unit list, not by the export's).
pub struct Codes {
    snapshot: Arc<UnitSnapshot>,
    indicators: HashMap<i64, String>,
    units: HashMap<i64, String>,
}

impl Codes {
    /// Codes over this hierarchy.
    pub fn new(snapshot: Arc<UnitSnapshot>) -> Self {
        Self {
            snapshot,
            indicators: HashMap::new(),
            units: HashMap::new(),
        }
    }

    /// Reads the codes a page names that are not known yet: at most two statements.
    pub async fn load<C: ConnectionTrait>(
        &mut self,
        db: &C,
        rows: &[indicator_value::Model],
    ) -> AppResult<()> {
        let mut inds: Vec<i64> = rows
            .iter()
            .map(|v| v.indicator_id)
            .filter(|id| !self.indicators.contains_key(id))
            .collect();
        inds.sort_unstable();
        inds.dedup();
        if !inds.is_empty() {
            for i in indicator::Entity::find()
                .filter(indicator::Column::Id.is_in(inds))
                .all(db)
                .await?
            {
                self.indicators.insert(i.id, i.code);
            }
        }
        let mut units: Vec<i64> = rows
            .iter()
            .map(|v| v.admin_unit_id)
            .filter(|id| self.snapshot.code(*id).is_none() && !self.units.contains_key(id))
            .collect();
        units.sort_unstable();
        units.dedup();
        if !units.is_empty() {
            for u in admin_unit::Entity::find()
                .filter(admin_unit::Column::Id.is_in(units))
                .all(db)
                .await?
            {
                self.units.insert(u.id, u.code);
            }
        }
        Ok(())
    }

    /// An indicator's code (empty if unknown, which a foreign key rules out).
    pub fn indicator(&self, id: i64) -> &str {
        self.indicators.get(&id).map(String::as_str).unwrap_or("")
    }

    /// A unit's code (empty if unknown, which a foreign key rules out).
    pub fn unit(&self, id: i64) -> &str {
        self.snapshot
            .code(id)
            .or_else(|| self.units.get(&id).map(String::as_str))
            .unwrap_or("")
    }
}

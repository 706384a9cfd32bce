//! Indicator values: one row per indicator, unit, period and disaggregation, with its
//! revisions and the change feed.
//!
//! **The feed never skips.** Every writing transaction ends by taking its commit number from
//! row 1 of `change_counter` (`UPDATE … SET value = value + 1`) and only then inserts its feed
//! entries with that number. The counter row stays locked until the transaction commits, so
//! transactions commit in the order of their numbers: when a reader sees entries numbered n,
//! every transaction numbered below n has committed. A cursor is (commit number, entry id).
//! Entries are immutable snapshots of the value after the change; a deletion is a tombstone.

use crate::error::AppResult;
use crate::policy::{Values, Visible};
use chrono::Utc;
use entity::enums::ValueStatus;
use entity::{
    DecimalText, change_counter, indicator_value, indicator_value_change, indicator_value_revision,
};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, Order,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use std::collections::HashMap;

/// The counter row of the value feed.
pub const FEED_COUNTER: i32 = 1;

/// The key of a value: indicator, unit, period, disaggregation.
pub type Key = (i64, i64, String, String);

/// The values with these keys that exist (tombstones included), by key; in chunks.
pub async fn existing<C: ConnectionTrait>(
    db: &C,
    keys: &[Key],
) -> AppResult<HashMap<Key, indicator_value::Model>> {
    let mut out = HashMap::new();
    for chunk in keys.chunks(500) {
        let wanted: std::collections::HashSet<&Key> = chunk.iter().collect();
        let indicators: std::collections::BTreeSet<i64> = chunk.iter().map(|k| k.0).collect();
        let units: std::collections::BTreeSet<i64> = chunk.iter().map(|k| k.1).collect();
        let periods: std::collections::BTreeSet<&str> =
            chunk.iter().map(|k| k.2.as_str()).collect();
        for v in indicator_value::Entity::find()
            .filter(indicator_value::Column::IndicatorId.is_in(indicators))
            .filter(indicator_value::Column::AdminUnitId.is_in(units))
            .filter(indicator_value::Column::Period.is_in(periods))
            .all(db)
            .await?
        {
            let k = (
                v.indicator_id,
                v.admin_unit_id,
                v.period.clone(),
                v.disaggregation.clone(),
            );
            if wanted.contains(&k) {
                out.insert(k, v);
            }
        }
    }
    Ok(out)
}

/// A feed entry to write at commit: the value as it now stands.
pub struct Change {
    /// The value's row.
    pub value: indicator_value::Model,
    /// Its indicator's code.
    pub indicator_code: String,
    /// Its unit's code.
    pub unit_code: String,
}

/// A new or changed value, its revision written; returns the row as it now stands.
pub async fn save<C: ConnectionTrait>(
    db: &C,
    row: indicator_value::ActiveModel,
    who: &str,
) -> AppResult<indicator_value::Model> {
    let v = row.save(db).await?;
    let id = match v.id {
        sea_orm::ActiveValue::Set(id) | sea_orm::ActiveValue::Unchanged(id) => id,
        _ => return Err(crate::error::AppError::internal("a saved value has no id")),
    };
    let v = by_id(db, id).await?;
    indicator_value_revision::ActiveModel {
        indicator_value_id: Set(v.id),
        version: Set(v.version),
        value: Set(v.value.clone()),
        status: Set(v.status),
        comment: Set(v.comment.clone()),
        deleted: Set(v.deleted),
        changed_by: Set(Some(who.to_string())),
        changed_at: Set(v.updated_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(v)
}

/// A value by id (read back: decimals come as text only from a select).
pub async fn by_id<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<indicator_value::Model> {
    indicator_value::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| crate::error::AppError::NotFound("no such value".into()))
}

/// Values by id.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<Vec<indicator_value::Model>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            indicator_value::Entity::find()
                .filter(indicator_value::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// A fresh value row to insert; `province_code` from [`super::scope::provinces_of`] in the
/// writing transaction.
pub fn new_row(
    key: &Key,
    value: Decimal,
    comment: Option<String>,
    status: ValueStatus,
    who: &str,
    user_id: Option<i64>,
    province_code: Option<String>,
) -> indicator_value::ActiveModel {
    let now = Utc::now();
    indicator_value::ActiveModel {
        indicator_id: Set(key.0),
        admin_unit_id: Set(key.1),
        period: Set(key.2.clone()),
        disaggregation: Set(key.3.clone()),
        value: Set(Some(DecimalText::new(value))),
        comment: Set(comment),
        status: Set(status),
        stored_by_user_id: Set(user_id),
        stored_by: Set(Some(who.to_string())),
        version: Set(1),
        deleted: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        status_reason: Set(None),
        province_code: Set(province_code),
        ..Default::default()
    }
}

/// An existing row, changed by `f`, with its version and time moved on.
pub fn changed(
    v: &indicator_value::Model,
    f: impl FnOnce(&mut indicator_value::ActiveModel),
) -> indicator_value::ActiveModel {
    let mut m = v.clone().into_active_model();
    f(&mut m);
    m.version = Set(v.version + 1);
    m.updated_at = Set(Utc::now());
    m
}

/// Makes value writers take turns on PostgreSQL, as SQLite's single writer does: a row lock
/// on the feed counter, first thing in the transaction, held until it ends. Two batches that
/// create the same value can then neither both insert it nor deadlock over rows locked in
/// different orders. (Finer locking, per key, is left for when the bulk paths need it.)
pub async fn take_turn<C: ConnectionTrait>(db: &C) -> AppResult<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        change_counter::Entity::find_by_id(FEED_COUNTER)
            .lock_exclusive()
            .one(db)
            .await?;
    }
    Ok(())
}

/// Takes the transaction's commit number and writes its feed entries with it: call last in
/// a writing transaction (see the module documentation). Nothing to write takes no number.
pub async fn commit_changes<C: ConnectionTrait>(db: &C, changes: Vec<Change>) -> AppResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let seq = take_commit_number(db).await?;
    write_changes(db, seq, changes).await
}

/// Takes the transaction's commit number, for a transaction that writes its feed entries in
/// parts ([`write_changes`], as the bulk import does, to hold one chunk of changes at a time).
/// Only after [`take_turn`]: the counter row must stay locked from before the number is
/// taken until the commit, so that numbers still commit in order.
pub async fn take_commit_number<C: ConnectionTrait>(db: &C) -> AppResult<i64> {
    change_counter::Entity::update_many()
        .col_expr(
            change_counter::Column::Value,
            Expr::col(change_counter::Column::Value).add(1),
        )
        .filter(change_counter::Column::Id.eq(FEED_COUNTER))
        .exec(db)
        .await?;
    let seq = change_counter::Entity::find_by_id(FEED_COUNTER)
        .one(db)
        .await?
        .map(|c| c.value)
        .ok_or_else(|| crate::error::AppError::internal("the feed counter row is missing"))?;
    Ok(seq)
}

/// Writes feed entries under a commit number the transaction took.
pub async fn write_changes<C: ConnectionTrait>(
    db: &C,
    seq: i64,
    changes: Vec<Change>,
) -> AppResult<()> {
    let now = Utc::now();
    let rows: Vec<indicator_value_change::ActiveModel> = changes
        .into_iter()
        .map(|c| indicator_value_change::ActiveModel {
            commit_seq: Set(Some(seq)),
            indicator_value_id: Set(c.value.id),
            deleted: Set(c.value.deleted),
            indicator_code: Set(c.indicator_code),
            unit_code: Set(c.unit_code),
            period: Set(c.value.period.clone()),
            disaggregation: Set(c.value.disaggregation.clone()),
            value: Set(c.value.value.clone()),
            status: Set(Some(c.value.status)),
            changed_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        indicator_value_change::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// What a page of values is filtered by.
#[derive(Clone, Debug, Default)]
pub struct ValueQuery {
    /// Only these indicators.
    pub indicators: Option<Vec<i64>>,
    /// Only these units.
    pub units: Option<Vec<i64>>,
    /// Only the values of units in the province with this code (see [`Self::of_units`]).
    pub province: Option<String>,
    /// Periods from (inclusive, DHIS2 ids compare as text within one kind).
    pub period_from: Option<String>,
    /// Periods to (inclusive).
    pub period_to: Option<String>,
    /// Only these statuses.
    pub statuses: Option<Vec<ValueStatus>>,
    /// Only this disaggregation.
    pub disaggregation: Option<String>,
    /// Tombstones too (to read what was known before a deletion).
    pub include_deleted: bool,
}

impl ValueQuery {
    /// Only the values of `roots` (the versions of one code) and, with `descendants`, of every
    /// unit below them. For a province with the units below it, what integrators pull most,
    /// that is the values' stored province: with periods of one year, one range of the index
    /// (`province_code`, year, `id`) in the pages' order, where hundreds of unit ids leave
    /// PostgreSQL a walk of the primary key or a sort of every value of those units.
    /// Otherwise the unit ids.
    pub fn of_units(
        &mut self,
        units: &super::unit_snapshot::UnitSnapshot,
        roots: &[super::unit_snapshot::Unit],
        descendants: bool,
    ) {
        let province = roots.first().filter(|first| {
            descendants
                && roots
                    .iter()
                    .all(|u| u.level == entity::enums::AdminLevel::Province && u.code == first.code)
        });
        match province {
            Some(p) => self.province = Some(p.code.clone()),
            None => {
                let ids = super::plans::unit_scope(units, roots, descendants, false);
                self.units = Some(ids.into_iter().collect());
            }
        }
    }

    /// The visible values matching the filters (tombstones only with `include_deleted`):
    /// what `indicatorValues` pages and the bulk export streams.
    ///
    /// The unit and indicator ids stay one placeholder each (not `services::sql::id_in`'s one
    /// array): with an array parameter PostgreSQL soon prefers a generic plan for the page,
    /// a bitmap scan of every value of the units and a sort (184 ms for Q3 of BENCHMARKS.md,
    /// against 12 ms for the primary-key walk that the ids as values lead it to plan).
    pub fn select(&self, visible: &Visible<Values>) -> sea_orm::Select<indicator_value::Entity> {
        use indicator_value::Column as V;
        let mut s = indicator_value::Entity::find().filter(visible.condition());
        if !self.include_deleted {
            s = s.filter(V::Deleted.eq(false));
        }
        if let Some(i) = &self.indicators {
            s = s.filter(V::IndicatorId.is_in(i.iter().copied()));
        }
        if let Some(u) = &self.units {
            s = s.filter(V::AdminUnitId.is_in(u.iter().copied()));
        }
        let parse = |p: &Option<String>| p.as_deref().and_then(crate::period::Period::parse);
        if let Some(p) = &self.province {
            s = s.filter(V::ProvinceCode.eq(p.as_str()));
            // Periods within one year: that year too, in the form of the index
            // (`province_code`, `substr(period, 1, 4)`, `id`), literals and all, so that a
            // page is one range of it in id order.
            if let (Some(from), Some(to)) = (parse(&self.period_from), parse(&self.period_to))
                && from.year() == to.year()
            {
                s = s.filter(
                    Expr::cust(r#"substr("indicator_value"."period", 1, 4)"#)
                        .eq(format!("{:04}", from.year())),
                );
            }
        }
        if self.period_from.is_some() || self.period_to.is_some() {
            s = s.filter(crate::period::range_condition(
                V::Period,
                parse(&self.period_from),
                parse(&self.period_to),
            ));
        }
        if let Some(st) = &self.statuses {
            s = s.filter(V::Status.is_in(st.iter().copied()));
        }
        if let Some(d) = &self.disaggregation {
            s = s.filter(V::Disaggregation.eq(d.as_str()));
        }
        s
    }
}

/// One page of visible values (no tombstones), by id, with its total when asked.
pub async fn page(
    db: &sea_orm::DatabaseConnection,
    visible: &Visible<Values>,
    q: &ValueQuery,
    request: &super::page::PageRequest,
) -> AppResult<(
    super::page::Rows<indicator_value::Model>,
    super::page::Total,
)> {
    use indicator_value::Column as V;
    let s = q.select(visible);
    let rows = super::page::fetch_as::<_, _, _, super::rows::Fast<indicator_value::Model>>(
        db,
        s.clone(),
        &super::page::ById(V::Id),
        request,
    )
    .await?
    .map(|r| r.0);
    Ok((rows, super::page::Total::count_of(db, s)))
}

/// The revision of each value that was current at `at` (none for a value not yet stored).
pub async fn known_at<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    at: chrono::DateTime<Utc>,
) -> AppResult<HashMap<i64, indicator_value_revision::Model>> {
    use indicator_value_revision::Column as R;
    let mut out: HashMap<i64, indicator_value_revision::Model> = HashMap::new();
    for r in indicator_value_revision::Entity::find()
        .filter(R::IndicatorValueId.is_in(ids.iter().copied()))
        .filter(R::ChangedAt.lte(at))
        .all(db)
        .await?
    {
        match out.get(&r.indicator_value_id) {
            Some(o) if o.version >= r.version => {}
            _ => {
                out.insert(r.indicator_value_id, r);
            }
        }
    }
    Ok(out)
}

/// The revisions of several values, each list oldest first: one statement.
pub async fn revisions<C: ConnectionTrait>(
    db: &C,
    value_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<indicator_value_revision::Model>>> {
    let mut out: HashMap<i64, Vec<indicator_value_revision::Model>> = HashMap::new();
    for r in indicator_value_revision::Entity::find()
        .filter(indicator_value_revision::Column::IndicatorValueId.is_in(value_ids.iter().copied()))
        .order_by(indicator_value_revision::Column::Version, Order::Asc)
        .all(db)
        .await?
    {
        out.entry(r.indicator_value_id).or_default().push(r);
    }
    Ok(out)
}

/// One page of the feed after `after` (commit number, entry id): the entries a reader may
/// see as they are (`in_scope` of his, or published and not deleted) and those that tell him
/// a value he could see left his view (an earlier entry of the value was published). The
/// caller decides, per entry, which of the two it is, from the unit returned with it (0 when
/// `in_scope` is everything: the test is then true of any unit).
pub async fn feed_page<C: ConnectionTrait>(
    db: &C,
    in_scope: &Visible<Values>,
    after: Option<(i64, i64)>,
    limit: u64,
) -> AppResult<Vec<(indicator_value_change::Model, i64)>> {
    use indicator_value_change::Column as F;
    let published = Condition::all()
        .add(F::Status.eq(ValueStatus::Published))
        .add(F::Deleted.eq(false));
    let earlier = Query::select()
        .expr(Expr::val(1))
        .from_as(
            indicator_value_change::Entity,
            sea_orm::sea_query::Alias::new("e"),
        )
        .cond_where(
            Condition::all()
                .add(
                    Expr::col((sea_orm::sea_query::Alias::new("e"), F::IndicatorValueId))
                        .equals((indicator_value_change::Entity, F::IndicatorValueId)),
                )
                .add(
                    Expr::col((sea_orm::sea_query::Alias::new("e"), F::Status))
                        .eq(ValueStatus::Published),
                )
                .add(
                    Expr::col((sea_orm::sea_query::Alias::new("e"), F::CommitSeq))
                        .lt(Expr::col((indicator_value_change::Entity, F::CommitSeq))),
                ),
        )
        .to_owned();
    let scoped_ids = indicator_value::Entity::find()
        .select_only()
        .column(indicator_value::Column::Id)
        .filter(in_scope.condition())
        .into_query();
    let mut s = indicator_value_change::Entity::find().filter(F::CommitSeq.is_not_null());
    // A reader who sees every value (national) needs no test per entry: the test's subquery
    // over all value ids cost a national page hundreds of milliseconds.
    if !in_scope.is_everything() {
        s = s.filter(
            Condition::any()
                .add(F::IndicatorValueId.in_subquery(scoped_ids))
                .add(published)
                .add(Expr::exists(earlier)),
        );
    }
    // After the cursor as one row comparison, which both databases turn into a range of the
    // cursor index. The same test spelt `seq > s OR (seq = s AND id > i)` is a filter: it
    // walked every entry before the cursor of the same commit, 541 ms for a page 150,000
    // entries into an import of a million (one commit), 0.26 ms this way.
    if let Some((seq, id)) = after {
        s = s.filter(
            Expr::tuple([
                Expr::col((indicator_value_change::Entity, F::CommitSeq)),
                Expr::col((indicator_value_change::Entity, F::Id)),
            ])
            .gt(Expr::tuple([Expr::val(seq), Expr::val(id)])),
        );
    }
    let rows = s
        .order_by(F::CommitSeq, Order::Asc)
        .order_by(F::Id, Order::Asc)
        .limit(limit)
        .all(db)
        .await?;
    // The unit of each entry's value, for the caller's scope test; a reader in whose scope
    // every value is needs none (two statements less a page of 1,000).
    let units: HashMap<i64, i64> = if in_scope.is_everything() {
        HashMap::new()
    } else {
        let ids: Vec<i64> = rows.iter().map(|r| r.indicator_value_id).collect();
        by_ids(db, &ids)
            .await?
            .into_iter()
            .map(|v| (v.id, v.admin_unit_id))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let unit = units.get(&r.indicator_value_id).copied().unwrap_or(0);
            (r, unit)
        })
        .collect())
}

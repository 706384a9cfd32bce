//! Reading administrative units through time.

use crate::error::AppResult;
use chrono::NaiveDate;
use entity::admin_unit::{self, Column, Entity as AdminUnit};
use entity::enums::AdminLevel;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// Rows valid on `date`: started on or before it (or before the first list), not ended before it.
pub fn valid_on(date: NaiveDate) -> Condition {
    super::validity::on(Column::ValidFrom, Column::ValidTo, date)
}

/// Whether a row is valid on `date`.
pub fn is_valid_on(unit: &admin_unit::Model, date: NaiveDate) -> bool {
    super::validity::contains(unit.valid_from, unit.valid_to, date)
}

/// The date at which to look around a unit reached from a request dated `as_of`: `as_of` itself
/// when the unit was valid then, else the nearest day of the unit's own validity. A 2025 commune
/// reached as a successor from a 2024 query shows its 2025 parent, not nothing.
pub fn clamp_to_validity(unit: &admin_unit::Model, as_of: NaiveDate) -> NaiveDate {
    match (unit.valid_from, unit.valid_to) {
        (Some(from), _) if as_of < from => from,
        (_, Some(to)) if as_of > to => to,
        _ => as_of,
    }
}

/// The unit with this code on this date, optionally of one level.
pub async fn by_code<C: ConnectionTrait>(
    db: &C,
    code: &str,
    date: NaiveDate,
    level: Option<AdminLevel>,
) -> AppResult<Option<admin_unit::Model>> {
    let mut q = AdminUnit::find()
        .filter(Column::Code.eq(code.trim()))
        .filter(valid_on(date));
    if let Some(level) = level {
        q = q.filter(Column::Level.eq(level));
    }
    Ok(q.one(db).await?)
}

/// Every province valid on `date`, in Vietnamese order.
pub async fn provinces<C: ConnectionTrait>(
    db: &C,
    date: NaiveDate,
) -> AppResult<Vec<admin_unit::Model>> {
    Ok(AdminUnit::find()
        .filter(Column::Level.eq(AdminLevel::Province))
        .filter(valid_on(date))
        .order_by_asc(Column::SortKey)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// Units by id.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, admin_unit::Model>> {
    Ok(AdminUnit::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// The children valid on `date` of several parents, each list in Vietnamese order.
pub async fn children_of<C: ConnectionTrait>(
    db: &C,
    parent_ids: &[i64],
    date: NaiveDate,
) -> AppResult<HashMap<i64, Vec<admin_unit::Model>>> {
    let rows = AdminUnit::find()
        .filter(Column::ParentId.is_in(parent_ids.iter().copied()))
        .filter(valid_on(date))
        .order_by_asc(Column::SortKey)
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<admin_unit::Model>> = HashMap::new();
    for row in rows {
        if let Some(parent) = row.parent_id {
            out.entry(parent).or_default().push(row);
        }
    }
    Ok(out)
}

/// Which way to follow lineage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From a unit to the units that took it over.
    Successors,
    /// From a unit to the units it was formed from.
    Predecessors,
}

/// Units valid on a date, counted by level: (provinces, districts, communes).
pub async fn count_by_level<C: ConnectionTrait>(
    db: &C,
    date: NaiveDate,
) -> AppResult<(u64, u64, u64)> {
    use sea_orm::PaginatorTrait;
    let count = |level: AdminLevel| {
        AdminUnit::find()
            .filter(Column::Level.eq(level))
            .filter(valid_on(date))
            .count(db)
    };
    Ok((
        count(AdminLevel::Province).await?,
        count(AdminLevel::District).await?,
        count(AdminLevel::Commune).await?,
    ))
}

/// Folded type words, longest first, as they lead a folded unit name.
const FOLDED_TYPE_WORDS: &[&str] = &[
    "thanh pho ",
    "thi tran ",
    "dac khu ",
    "thi xa ",
    "phuong ",
    "huyen ",
    "quan ",
    "tinh ",
    "xa ",
];

/// The folded name without its type word, from the stored folded key (no Unicode work).
fn folded_bare(search_key: &str) -> &str {
    FOLDED_TYPE_WORDS
        .iter()
        .find_map(|w| search_key.strip_prefix(w).filter(|rest| !rest.is_empty()))
        .unwrap_or(search_key)
}

/// How a search hit matched, best first: exact bare name or code, prefix, contains.
fn match_rank(search_key: &str, code: &str, query: &str) -> Option<u8> {
    let bare = folded_bare(search_key);
    if bare == query || code == query {
        Some(0)
    } else if bare.starts_with(query) || code.starts_with(query) {
        Some(1)
    } else if search_key.contains(query) {
        Some(2)
    } else {
        None
    }
}

fn level_rank(level: AdminLevel) -> u8 {
    match level {
        AdminLevel::Province => 0,
        AdminLevel::District => 1,
        AdminLevel::Commune => 2,
    }
}

/// The result of a search: every match ranked, and the rows of one page.
pub struct SearchResult {
    /// (rank key, unit id) of every match, best first.
    pub ranked: Vec<(String, i64)>,
    /// The rows of the units on the page asked for, by id.
    pub rows: HashMap<i64, admin_unit::Model>,
}

/// Searches units by name or code the way Vietnamese users type: case, diacritics,
/// apostrophes and the normal form are ignored. Without `as_of` today's units come first,
/// then historical ones; within each, exact bare name (or code), then prefix, then contains;
/// ties go to the higher level, then Vietnamese order. With `as_of` only units valid that day
/// are searched. `within` keeps the units below a unit (on `as_of`, or in any version).
///
/// Matches are found and ranked in the in-memory index; full rows are read only for the page
/// (`page` picks it from the ranked list).
pub async fn search<C: ConnectionTrait>(
    db: &C,
    index: &super::unit_search::UnitSearchIndex,
    query: &str,
    level: Option<AdminLevel>,
    as_of: Option<NaiveDate>,
    within: Option<&admin_unit::Model>,
    page: impl FnOnce(&[(String, i64)]) -> AppResult<Vec<i64>>,
) -> AppResult<(SearchResult, Vec<i64>)> {
    let q = crate::text::fold(query);
    let by_code = q.bytes().all(|b| b.is_ascii_digit());
    let snapshot = index.current(db).await?;
    let valid = super::validity::contains;
    // The units below `within`: two levels of children, on the day asked or in any version.
    let scope: Option<std::collections::HashSet<i64>> = within.map(|root| {
        let mut scope = std::collections::HashSet::from([root.id]);
        let mut frontier = std::collections::HashSet::from([root.id]);
        for _ in 0..2 {
            let below: std::collections::HashSet<i64> = snapshot
                .entries
                .iter()
                .filter(|e| e.parent_id.is_some_and(|p| frontier.contains(&p)))
                .filter(|e| as_of.is_none_or(|d| valid(e.valid_from, e.valid_to, d)))
                .map(|e| e.id)
                .collect();
            scope.extend(below.iter().copied());
            frontier = below;
        }
        scope
    });
    let today = crate::clock::today();
    let mut ranked: Vec<(String, i64)> = snapshot
        .entries
        .iter()
        .filter(|e| e.key.contains(q.as_str()) || (by_code && e.code.starts_with(q.as_str())))
        .filter(|e| level.is_none_or(|l| e.level == l))
        .filter(|e| as_of.is_none_or(|d| valid(e.valid_from, e.valid_to, d)))
        .filter(|e| {
            scope
                .as_ref()
                .is_none_or(|s| e.parent_id.is_some_and(|p| s.contains(&p)))
        })
        .filter_map(|e| {
            let m = match_rank(&e.key, &e.code, &q)?;
            let historical = u8::from(as_of.is_none() && !valid(e.valid_from, e.valid_to, today));
            Some((
                format!("{historical}{m}{}{}", level_rank(e.level), e.sort_key),
                e.id,
            ))
        })
        .collect();
    ranked.sort_unstable();
    let ids = page(&ranked)?;
    let rows = by_ids(db, &ids).await?;
    Ok((SearchResult { ranked, rows }, ids))
}

//! Keyset pages in SQL: a page of `n` reads at most `n + 1` rows (the extra one says whether
//! more follow), whatever the size of the list, and the total is counted only when asked for.
//!
//! A position is (sort key, id), the same on both backends: the sort columns compare bytewise
//! (`COLLATE "C"` on PostgreSQL, SQLite's BINARY). Each list says how its rows order and how a
//! position becomes a condition ([`Keyset`]); [`fetch`] does the rest.

use crate::error::AppResult;
use futures_util::future::BoxFuture;
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, SimpleExpr};
use sea_orm::{
    Condition, ConnectionTrait, DatabaseConnection, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QuerySelect, Select,
};
use std::sync::Arc;

/// A position in a list: the sort key and the id that breaks ties.
pub type Key = (String, i64);

/// Default page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// A validated page request (sizes already checked against the maximum).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// Items after this position.
    pub after: Option<Key>,
    /// Items before this position.
    pub before: Option<Key>,
    /// At most this many from the start.
    pub first: Option<usize>,
    /// At most this many from the end (of the first `first`, when both are given).
    pub last: Option<usize>,
}

impl PageRequest {
    /// Whether the page is read from the end: `last` without `first`.
    pub fn backward(&self) -> bool {
        self.first.is_none() && self.last.is_some()
    }

    /// How many rows to read at most: one more than the page holds.
    pub fn limit(&self) -> usize {
        let n = if self.backward() {
            self.last.unwrap_or(DEFAULT_PAGE_SIZE)
        } else {
            self.first.unwrap_or(DEFAULT_PAGE_SIZE)
        };
        n + 1
    }

    /// Cuts the rows read (in list order, at most [`Self::limit`] of them, read from the end
    /// when [`Self::backward`]) down to the page.
    pub fn cut<T>(&self, mut rows: Vec<T>) -> Rows<T> {
        if self.backward() {
            let last = self.last.unwrap_or(DEFAULT_PAGE_SIZE);
            // Read newest-last-first: the rows arrive from the end of the list.
            let has_prev = rows.len() > last;
            rows.truncate(last);
            rows.reverse();
            return Rows {
                rows,
                has_next: self.before.is_some(),
                has_prev,
            };
        }
        let first = self.first.unwrap_or(DEFAULT_PAGE_SIZE);
        let has_next = rows.len() > first || self.before.is_some();
        rows.truncate(first);
        let mut has_prev = self.after.is_some();
        if let Some(last) = self.last
            && rows.len() > last
        {
            rows.drain(..rows.len() - last);
            has_prev = true;
        }
        Rows {
            rows,
            has_next,
            has_prev,
        }
    }
}

/// The rows of one page.
#[derive(Clone, Debug)]
pub struct Rows<T> {
    /// The rows, in list order.
    pub rows: Vec<T>,
    /// Whether rows follow the page.
    pub has_next: bool,
    /// Whether rows precede the page.
    pub has_prev: bool,
}

impl<T> Rows<T> {
    /// The same page with its rows mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Rows<U> {
        Rows {
            rows: self.rows.into_iter().map(f).collect(),
            has_next: self.has_next,
            has_prev: self.has_prev,
        }
    }
}

type Counter = Arc<dyn Fn() -> BoxFuture<'static, AppResult<usize>> + Send + Sync>;

/// The number of items in a whole list: known, or counted (one `COUNT` statement) only when
/// a client asks for it.
#[derive(Clone)]
pub enum Total {
    /// Already known.
    Known(usize),
    /// Counted on demand.
    Deferred(Counter),
}

impl Total {
    /// A `COUNT` of `select` (the list's filters, without the page's bounds), run only if
    /// [`Total::get`] is called.
    pub fn count_of<E>(db: &DatabaseConnection, select: Select<E>) -> Self
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let db = db.clone();
        Self::Deferred(Arc::new(move || {
            let db = db.clone();
            let select = select.clone();
            Box::pin(async move { Ok(select.count(&db).await? as usize) })
        }))
    }

    /// The number.
    pub async fn get(&self) -> AppResult<usize> {
        match self {
            Self::Known(n) => Ok(*n),
            Self::Deferred(count) => count().await,
        }
    }
}

/// How a list orders its rows and turns a position into a condition.
pub trait Keyset<E: EntityTrait> {
    /// Rows strictly after (`forward`) or strictly before (`!forward`) `key` in list order.
    fn beyond(&self, key: &Key, forward: bool) -> AppResult<Condition>;
    /// The select in list order (`Order::Asc`) or in reverse (`Order::Desc`).
    fn order(&self, select: Select<E>, order: Order) -> Select<E>;
}

/// A list ordered by one text column, then by id.
pub struct ByText<C, I>(pub C, pub I);

impl<E, C, I> Keyset<E> for ByText<C, I>
where
    E: EntityTrait,
    C: IntoColumnRef + Copy + sea_orm::ColumnTrait,
    I: IntoColumnRef + Copy + sea_orm::ColumnTrait,
{
    fn beyond(&self, key: &Key, forward: bool) -> AppResult<Condition> {
        Ok(beyond_text(self.0, self.1, key, forward))
    }

    fn order(&self, select: Select<E>, order: Order) -> Select<E> {
        use sea_orm::QueryOrder;
        select
            .order_by(self.0, order.clone())
            .order_by(self.1, order)
    }
}

/// A list ordered by id alone (the key's text is unused).
pub struct ById<I>(pub I);

impl<E, I> Keyset<E> for ById<I>
where
    E: EntityTrait,
    I: IntoColumnRef + Copy + sea_orm::ColumnTrait,
{
    fn beyond(&self, key: &Key, forward: bool) -> AppResult<Condition> {
        let e = Expr::col(self.0);
        Ok(Condition::all().add(if forward { e.gt(key.1) } else { e.lt(key.1) }))
    }

    fn order(&self, select: Select<E>, order: Order) -> Select<E> {
        use sea_orm::QueryOrder;
        select.order_by(self.0, order)
    }
}

/// `(col, id) > (key, id)` (or `<`), written out so both backends use the index.
pub fn beyond_text(
    col: impl IntoColumnRef + Copy,
    id: impl IntoColumnRef + Copy,
    key: &Key,
    forward: bool,
) -> Condition {
    let (text, row) = (key.0.clone(), key.1);
    let strictly = |e: Expr, v: SimpleExpr| if forward { e.gt(v) } else { e.lt(v) };
    Condition::any()
        .add(strictly(Expr::col(col), text.clone().into()))
        .add(
            Condition::all()
                .add(Expr::col(col).eq(text))
                .add(strictly(Expr::col(id), row.into())),
        )
}

/// Reads one page of `select` in the list's order: at most `page.limit()` rows.
pub async fn fetch<E, C, K>(
    db: &C,
    select: Select<E>,
    keyset: &K,
    page: &PageRequest,
) -> AppResult<Rows<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
    K: Keyset<E>,
{
    fetch_as::<E, C, K, E::Model>(db, select, keyset, page).await
}

/// [`fetch`], each row decoded as `M` (a [`super::rows::Fast`] model, say).
pub async fn fetch_as<E, C, K, M>(
    db: &C,
    select: Select<E>,
    keyset: &K,
    page: &PageRequest,
) -> AppResult<Rows<M>>
where
    E: EntityTrait,
    C: ConnectionTrait,
    K: Keyset<E>,
    M: sea_orm::FromQueryResult + Send,
{
    let mut s = select;
    if let Some(after) = &page.after {
        s = s.filter(keyset.beyond(after, true)?);
    }
    if let Some(before) = &page.before {
        s = s.filter(keyset.beyond(before, false)?);
    }
    let order = if page.backward() {
        Order::Desc
    } else {
        Order::Asc
    };
    let rows = keyset
        .order(s, order)
        .limit(page.limit() as u64)
        .into_model::<M>()
        .all(db)
        .await?;
    Ok(page.cut(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(r: &Rows<i64>) -> Vec<i64> {
        r.rows.clone()
    }

    #[test]
    fn forward_pages_read_one_extra_row() {
        let p = PageRequest {
            first: Some(3),
            ..Default::default()
        };
        assert_eq!(p.limit(), 4);
        let r = p.cut(vec![1, 2, 3, 4]);
        assert_eq!(ids(&r), [1, 2, 3]);
        assert!(r.has_next && !r.has_prev);
        let r = p.cut(vec![1, 2]);
        assert!(!r.has_next);
    }

    #[test]
    fn backward_pages_arrive_reversed() {
        let p = PageRequest {
            last: Some(2),
            ..Default::default()
        };
        assert!(p.backward());
        let r = p.cut(vec![10, 9, 8]);
        assert_eq!(ids(&r), [9, 10]);
        assert!(r.has_prev && !r.has_next);
    }

    #[test]
    fn first_and_last_take_the_end_of_the_first() {
        let p = PageRequest {
            first: Some(4),
            last: Some(2),
            ..Default::default()
        };
        let r = p.cut(vec![1, 2, 3, 4, 5]);
        assert_eq!(ids(&r), [3, 4]);
        assert!(r.has_prev && r.has_next);
    }
}

//! Relay connections over ordered lists.
//!
//! Cursors are opaque keyset positions (sort key and id), so a page stays correct when rows
//! before it come or go. `first`/`last` are capped by the configured hard maximum.

use crate::error::{AppError, AppResult};
use async_graphql::SimpleObject;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use crate::services::page::{DEFAULT_PAGE_SIZE, Key, PageRequest, Rows, Total};

/// Information about the page of a connection.
#[derive(Clone, Debug, SimpleObject)]
pub struct PageInfo {
    /// Whether items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page.
    pub has_previous_page: bool,
    /// Cursor of the first item of the page.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of the page.
    pub end_cursor: Option<String>,
}

/// Relay arguments of one connection field.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    /// Items after this cursor.
    pub after: Option<String>,
    /// Items before this cursor.
    pub before: Option<String>,
    /// At most this many from the start.
    pub first: Option<i32>,
    /// At most this many from the end.
    pub last: Option<i32>,
}

/// Encodes a cursor.
pub fn encode_cursor(key: &Key) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", key.1, key.0))
}

pub(crate) fn decode_cursor(field: &str, cursor: &str) -> AppResult<Key> {
    let bad = || AppError::bad_input(field, "not a cursor of this list");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (id, sort) = text.split_once(':').ok_or_else(bad)?;
    Ok((sort.to_string(), id.parse().map_err(|_| bad())?))
}

fn size(field: &str, value: Option<i32>, max: usize) -> AppResult<Option<usize>> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(AppError::bad_input(field, "must not be negative")),
        Some(n) if n as usize > max => Err(AppError::bad_input(
            field,
            format!("at most {max} items a page"),
        )),
        Some(n) => Ok(Some(n as usize)),
    }
}

/// One page of a list.
pub struct Page<T> {
    /// The items with their keyset positions, encoded as cursors only when a client selects
    /// them (most read `nodes`: encoding every item's cursor was 4 % of the server's
    /// instructions under the benchmark's Q4).
    pub items: Vec<(Key, T)>,
    /// Whether items follow this page.
    pub has_next: bool,
    /// Whether items precede this page.
    pub has_prev: bool,
    /// Items in the whole list (counted only when a client selects `totalCount`).
    pub total: Total,
}

impl<T> Page<T> {
    /// A page of rows read in SQL by the keyset of their list.
    pub fn from_rows(rows: Rows<T>, key: impl Fn(&T) -> Key, total: Total) -> Self {
        Page {
            items: rows.rows.into_iter().map(|t| (key(&t), t)).collect(),
            has_next: rows.has_next,
            has_prev: rows.has_prev,
            total,
        }
    }

    /// Information about the page, with the cursors of its first and last items.
    pub fn info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: self.has_prev,
            start_cursor: self.items.first().map(|i| encode_cursor(&i.0)),
            end_cursor: self.items.last().map(|i| encode_cursor(&i.0)),
        }
    }
}

/// Checks Relay arguments (sizes against `max`, cursors) into a page request for SQL.
pub fn page_request(args: &PageArgs, max: usize) -> AppResult<PageRequest> {
    Ok(PageRequest {
        first: size("first", args.first, max)?,
        last: size("last", args.last, max)?,
        after: args
            .after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?,
        before: args
            .before
            .as_deref()
            .map(|c| decode_cursor("before", c))
            .transpose()?,
    })
}

/// Cuts one page out of a list already in (sort key, id) order.
pub fn paginate<T: Clone>(
    all: &[T],
    key: impl Fn(&T) -> Key,
    args: &PageArgs,
    max: usize,
) -> AppResult<Page<T>> {
    let first = size("first", args.first, max)?;
    let last = size("last", args.last, max)?;
    let mut start = 0;
    let mut end = all.len();
    if let Some(after) = &args.after {
        let k = decode_cursor("after", after)?;
        start = all.partition_point(|t| key(t) <= k);
    }
    if let Some(before) = &args.before {
        let k = decode_cursor("before", before)?;
        end = all.partition_point(|t| key(t) < k).max(start);
    }
    let (mut has_prev, mut has_next) = (start > 0, end < all.len());
    let first = match (first, last) {
        (None, None) => Some(DEFAULT_PAGE_SIZE),
        (f, _) => f,
    };
    if let Some(f) = first
        && end - start > f
    {
        end = start + f;
        has_next = true;
    }
    if let Some(l) = last
        && end - start > l
    {
        start = end - l;
        has_prev = true;
    }
    Ok(Page {
        items: all[start..end]
            .iter()
            .map(|t| (key(t), t.clone()))
            .collect(),
        has_next,
        has_prev,
        total: Total::Known(all.len()),
    })
}

/// Declares a connection type and its edge type.
#[macro_export]
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ".")]
        pub struct $conn {
            /// The page.
            pub page: $crate::graphql::pagination::Page<$node>,
        }

        #[doc = concat!("One of ", $what, " with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Opaque cursor of this item, for `after` / `before`.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        #[doc = concat!("A page of ", $what, ".")]
        #[async_graphql::Object]
        impl $conn {
            /// The items of the page with their cursors.
            async fn edges(&self) -> Vec<$edge> {
                self.page
                    .items
                    .iter()
                    .map(|(key, node)| $edge {
                        cursor: $crate::graphql::pagination::encode_cursor(key),
                        node: node.clone(),
                    })
                    .collect()
            }
            /// The items of the page.
            async fn nodes(&self) -> Vec<$node> {
                self.page.items.iter().map(|(_, n)| n.clone()).collect()
            }
            /// Information about this page.
            async fn page_info(&self) -> $crate::graphql::pagination::PageInfo {
                self.page.info()
            }
            /// Number of items in the whole list, all pages together (counted only when
            /// selected).
            async fn total_count(&self) -> async_graphql::Result<usize> {
                Ok(self.page.total.get().await?)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Vec<(String, i64)> {
        (1..=10).map(|i| (format!("k{i:02}"), i)).collect()
    }

    #[test]
    fn forward_and_backward() {
        let all = list();
        let k = |t: &(String, i64)| t.clone();
        let p = paginate(
            &all,
            k,
            &PageArgs {
                first: Some(3),
                ..Default::default()
            },
            500,
        )
        .unwrap();
        assert_eq!(p.items.iter().map(|i| i.1.1).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(p.info().has_next_page && !p.info().has_previous_page);
        let after = p.info().end_cursor.clone();
        let p2 = paginate(
            &all,
            k,
            &PageArgs {
                first: Some(3),
                after,
                ..Default::default()
            },
            500,
        )
        .unwrap();
        assert_eq!(
            p2.items.iter().map(|i| i.1.1).collect::<Vec<_>>(),
            [4, 5, 6]
        );
        assert!(p2.info().has_previous_page);
        let p3 = paginate(
            &all,
            k,
            &PageArgs {
                last: Some(2),
                ..Default::default()
            },
            500,
        )
        .unwrap();
        assert_eq!(p3.items.iter().map(|i| i.1.1).collect::<Vec<_>>(), [9, 10]);
        assert!(!p3.info().has_next_page && p3.info().has_previous_page);
    }

    #[test]
    fn limits_and_bad_cursors() {
        let all = list();
        let k = |t: &(String, i64)| t.clone();
        let e = paginate(
            &all,
            k,
            &PageArgs {
                first: Some(501),
                ..Default::default()
            },
            500,
        );
        assert!(matches!(e, Err(AppError::BadUserInput { ref field, .. }) if field == "first"));
        let e = paginate(
            &all,
            k,
            &PageArgs {
                after: Some("???".into()),
                ..Default::default()
            },
            500,
        );
        assert!(matches!(e, Err(AppError::BadUserInput { ref field, .. }) if field == "after"));
    }
}

//! Small SQL pieces the services share.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbBackend};
use std::fmt::Write;

/// `column IN (ids)`. On PostgreSQL the ids go as ONE parameter, an array
/// (`column = ANY($1::int8[])`): a scope of 573 units is then one bound value rather than 573
/// placeholders to build, bind, parse and plan, and the statement's text is the same whatever
/// the list's length, so each connection prepares it once instead of once per length. SQLite
/// keeps the plain list. No ids match nothing, on both.
pub fn id_in<C: ColumnTrait>(
    backend: DbBackend,
    column: C,
    ids: impl IntoIterator<Item = i64>,
) -> sea_orm::sea_query::SimpleExpr {
    match backend {
        DbBackend::Postgres => {
            let mut list = String::from("{");
            for (i, id) in ids.into_iter().enumerate() {
                if i > 0 {
                    list.push(',');
                }
                // Writing to a String cannot fail.
                let _ = write!(list, "{id}");
            }
            list.push('}');
            // Whole, as one custom expression: sea-query would put a custom right-hand side
            // in parentheses, and `= (ANY(…))` is not SQL.
            let sql = format!(
                r#""{}"."{}" = ANY($1::int8[])"#,
                column.entity_name(),
                column.as_str()
            );
            Expr::cust_with_values(sql, [list])
        }
        _ => column.is_in(ids),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{EntityTrait, QueryFilter, QueryTrait};

    #[test]
    fn one_array_on_postgres_a_list_on_sqlite() {
        let q = |b| {
            entity::plan::Entity::find()
                .filter(id_in(b, entity::plan::Column::AdminUnitId, [3, 1, 2]))
                .build(b)
        };
        let pg = q(DbBackend::Postgres);
        assert!(
            pg.sql
                .ends_with(r#"WHERE "plan"."admin_unit_id" = ANY($1::int8[])"#),
            "{}",
            pg.sql
        );
        assert_eq!(pg.values.unwrap().0, vec!["{3,1,2}".into()]);
        let lite = q(DbBackend::Sqlite);
        assert!(
            lite.sql.ends_with(r#""plan"."admin_unit_id" IN (?, ?, ?)"#),
            "{}",
            lite.sql
        );
    }
}

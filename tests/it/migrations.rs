//! Migrations run up, down and up again on the backend under test.

use crate::common::fresh_database;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

async fn user_tables(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect()
}

#[tokio::test]
async fn up_down_up() {
    let url = fresh_database().await;
    let db = api::db::connect(&api::config::DatabaseUrl::parse(&url).unwrap())
        .await
        .unwrap();
    Migrator::up(&db, None).await.unwrap();
    let tables = user_tables(&db).await;
    for t in [
        "admin_unit",
        "admin_unit_lineage",
        "agency",
        "app_user",
        "service_account",
        "plan",
        "plan_basis",
        "plan_addressee",
        "indicator",
        "target",
        "assignment",
        "assignment_coordinator",
        "assignment_target",
        "reporting_duty",
        "progress_report",
        "indicator_value",
        "indicator_value_revision",
        "change_counter",
        "indicator_value_change",
        "audit_event",
        "idempotency_record",
    ] {
        assert!(
            tables.contains(&t.to_string()),
            "{t} missing from {tables:?}"
        );
    }
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::down(&db, None).await.unwrap();
    assert_eq!(user_tables(&db).await, ["seaql_migrations"]);
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(user_tables(&db).await.len(), tables.len());
}

#[tokio::test]
async fn decimals_are_exact_on_both_backends() {
    use entity::{DecimalText, indicator, indicator_value};
    use rust_decimal::Decimal;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    use std::str::FromStr;

    let url = fresh_database().await;
    let db = api::db::connect(&api::config::DatabaseUrl::parse(&url).unwrap())
        .await
        .unwrap();
    Migrator::up(&db, None).await.unwrap();
    api::seed::seed_demo(&db).await.unwrap();
    let unit = api::services::units::by_code(&db, "79", api::clock::today(), None)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    let ind = indicator::ActiveModel {
        code: Set("GRDP".into()),
        name: Set("GRDP".into()),
        unit_of_measure: Set("tỷ đồng".into()),
        category: Set(entity::enums::IndicatorCategory::Economy),
        direction: Set(entity::enums::Direction::HigherIsBetter),
        aggregation: Set(entity::enums::Aggregation::Sum),
        search_key: Set("grdp".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    // More significant digits than a double holds, and a trailing zero.
    let exact = Decimal::from_str("12345678901234567.120").unwrap();
    let v = indicator_value::ActiveModel {
        indicator_id: Set(ind.id),
        admin_unit_id: Set(unit.id),
        period: Set("2024".into()),
        disaggregation: Set("total".into()),
        value: Set(Some(DecimalText::new(exact))),
        status: Set(entity::enums::ValueStatus::Draft),
        version: Set(1),
        deleted: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    let back = indicator_value::Entity::find_by_id(v.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let text = back.value.unwrap();
    assert_eq!(text.as_str(), "12345678901234567.12");
    assert_eq!(text.to_decimal().unwrap(), exact);
    // The stored column type is exact: NUMERIC on PostgreSQL, text on SQLite.
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "SELECT pg_typeof(value)::text AS t FROM indicator_value",
        _ => "SELECT typeof(value) AS t FROM indicator_value",
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    let t: String = row.try_get("", "t").unwrap();
    let expected = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "decimal_text", // the domain over NUMERIC
        _ => "text",
    };
    assert_eq!(t, expected);
}

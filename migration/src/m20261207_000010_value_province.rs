//! Each value's province, stored on the value, so that "the values of a province" (what
//! integrators pull most: a province and a year) is one index range in id order instead of a
//! list of hundreds of unit ids that no index serves in that order.
//!
//! - `unit_province`: the code of the province each unit version lies in (itself for a
//!   province; its parent's or grandparent's otherwise). Derived from units, like
//!   `unit_scope`: unit imports rebuild it in their own transaction
//!   (`api::services::scope::rebuild`), and before that rewrite the province of the values of
//!   any unit whose province changed (a correction of a parent).
//! - `indicator_value.province_code`: copied from `unit_province` when a value is created (a
//!   value's unit never changes), with the index (`province_code`, year, `id`), the year
//!   being the period id's first four characters.
//!
//! A nullable column and a new table, so SQLite follows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UnitProvince {
    Table,
    UnitId,
    ProvinceCode,
}

#[derive(DeriveIden)]
enum IndicatorValue {
    Table,
    ProvinceCode,
}

/// The fill as this migration does it (frozen with it; the runtime rule lives in
/// `api::services::scope`).
const FILL: [&str; 2] = [
    "INSERT INTO unit_province (unit_id, province_code) \
     SELECT u.id, CASE WHEN u.level = 'PROVINCE' THEN u.code \
                       WHEN p.level = 'PROVINCE' THEN p.code ELSE g.code END \
     FROM admin_unit u LEFT JOIN admin_unit p ON p.id = u.parent_id \
       LEFT JOIN admin_unit g ON g.id = p.parent_id",
    "UPDATE indicator_value SET province_code = (SELECT up.province_code FROM unit_province up \
       WHERE up.unit_id = indicator_value.admin_unit_id)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UnitProvince::Table)
                    .col(
                        ColumnDef::new(UnitProvince::UnitId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(UnitProvince::ProvinceCode)
                            .string_len(8)
                            .null(),
                    )
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IndicatorValue::Table)
                    .add_column(
                        ColumnDef::new(IndicatorValue::ProvinceCode)
                            .string_len(8)
                            .null(),
                    )
                    .take(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in FILL {
            db.execute_unprepared(sql).await?;
        }
        // The year as the first four characters of the DHIS2 period id, so that "a province
        // and a year" is one index range in id order (an expression index: both backends).
        db.execute_unprepared(
            "CREATE INDEX ix_indicator_value_province \
             ON indicator_value (province_code, substr(period, 1, 4), id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ix_indicator_value_province")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IndicatorValue::Table)
                    .drop_column(IndicatorValue::ProvinceCode)
                    .take(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(UnitProvince::Table).take())
            .await
    }
}

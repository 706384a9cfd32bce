//! The disaggregations an indicator allows besides `total` (DHIS2's category option
//! combinations): a JSON array of strings in a text column. NULL means "not declared": any
//! disaggregation is taken, as before this migration, so stored values stay valid.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Indicator {
    Table,
    Disaggregations,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Indicator::Table)
                    .add_column(ColumnDef::new(Indicator::Disaggregations).text().null())
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Indicator::Table)
                    .drop_column(Indicator::Disaggregations)
                    .take(),
            )
            .await
    }
}

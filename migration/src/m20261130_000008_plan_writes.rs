//! Plan writes: a task's recurrence, and the review of a progress report (who returned or
//! accepted it, when, and why). Nullable columns only, so SQLite follows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assignment {
    Table,
    Recurrence,
}

#[derive(DeriveIden)]
enum ProgressReport {
    Table,
    ReviewReason,
    ReviewedBy,
    ReviewedAt,
}

fn columns() -> Vec<(TableRef, DynIden, ColumnDef)> {
    vec![
        (
            Assignment::Table.into_table_ref(),
            Assignment::Recurrence.into_iden(),
            ColumnDef::new(Assignment::Recurrence)
                .string_len(32)
                .null()
                .take(),
        ),
        (
            ProgressReport::Table.into_table_ref(),
            ProgressReport::ReviewReason.into_iden(),
            ColumnDef::new(ProgressReport::ReviewReason)
                .text()
                .null()
                .take(),
        ),
        (
            ProgressReport::Table.into_table_ref(),
            ProgressReport::ReviewedBy.into_iden(),
            ColumnDef::new(ProgressReport::ReviewedBy)
                .string_len(64)
                .null()
                .take(),
        ),
        (
            ProgressReport::Table.into_table_ref(),
            ProgressReport::ReviewedAt.into_iden(),
            ColumnDef::new(ProgressReport::ReviewedAt)
                .timestamp_with_time_zone()
                .null()
                .take(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for (table, _, mut col) in columns() {
            manager
                .alter_table(Table::alter().table(table).add_column(&mut col).take())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, _) in columns() {
            manager
                .alter_table(Table::alter().table(table).drop_column(name).take())
                .await?;
        }
        Ok(())
    }
}

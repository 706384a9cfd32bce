//! Provenance on lineage links: how sure each link is (`evidence`), the resolution that decided
//! the change, and where the evidence can be read. Nullable columns only, so SQLite follows;
//! links recorded before keep null evidence until their import runs again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AdminUnitLineage {
    Table,
    Evidence,
    Resolution,
    SourceUrl,
}

fn columns() -> [(AdminUnitLineage, ColumnDef); 3] {
    [
        (
            AdminUnitLineage::Evidence,
            ColumnDef::new(AdminUnitLineage::Evidence)
                .string_len(32)
                .null()
                .take(),
        ),
        (
            AdminUnitLineage::Resolution,
            ColumnDef::new(AdminUnitLineage::Resolution)
                .string_len(64)
                .null()
                .take(),
        ),
        (
            AdminUnitLineage::SourceUrl,
            ColumnDef::new(AdminUnitLineage::SourceUrl)
                .text()
                .null()
                .take(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for (_, mut col) in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(AdminUnitLineage::Table)
                        .add_column(&mut col)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(AdminUnitLineage::Table)
                        .drop_column(name)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}

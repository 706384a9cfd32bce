//! Stable keys for imported documents: `agency.code` and `plan.code` (the keys of plan files),
//! `plan.source_hash` (re-importing an unchanged file writes nothing), and
//! `assignment.group_title` (the heading a task sits under). Columns only, so SQLite follows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agency {
    Table,
    Code,
}
#[derive(DeriveIden)]
enum Plan {
    Table,
    Code,
    SourceHash,
}
#[derive(DeriveIden)]
enum Assignment {
    Table,
    GroupTitle,
}

/// The columns this migration adds, by table (SQLite takes one per ALTER TABLE).
fn columns() -> [(DynIden, DynIden); 4] {
    [
        (Agency::Table.into_iden(), Agency::Code.into_iden()),
        (Plan::Table.into_iden(), Plan::Code.into_iden()),
        (Plan::Table.into_iden(), Plan::SourceHash.into_iden()),
        (
            Assignment::Table.into_iden(),
            Assignment::GroupTitle.into_iden(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(ColumnDef::new(column).text().null())
                        .take(),
                )
                .await?;
        }
        for (name, table, column) in [
            (
                "ux_agency_code",
                Agency::Table.into_iden(),
                Agency::Code.into_iden(),
            ),
            (
                "ux_plan_code",
                Plan::Table.into_iden(),
                Plan::Code.into_iden(),
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(column)
                        .unique()
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ux_agency_code", Agency::Table.into_iden()),
            ("ux_plan_code", Plan::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        for (table, column) in columns() {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).take())
                .await?;
        }
        Ok(())
    }
}

//! Scope(U) as one indexed condition: a closure table of (scope unit, unit) pairs holding, for
//! every unit U, U itself, every unit below it, and every unit whose area passed into one of
//! those through lineage (whole or in part), transitively. "Is X in Scope(U)" is then one
//! primary-key probe, and "rows in Scope(U)" one indexed semi-join. The table is derived: unit
//! imports rebuild it in their own transaction (`api::services::scope::rebuild`, which owns the
//! rule as it evolves). A new table only, so SQLite follows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UnitScope {
    Table,
    ScopeUnitId,
    UnitId,
}

#[derive(DeriveIden)]
enum AdminUnit {
    Table,
    Id,
}

/// The closure as this migration first filled it, for databases that already held units:
/// frozen with the migration (a dated migration must do tomorrow what it did today); the
/// runtime rule lives in `api::services::scope`.
const UNIT_SCOPE_FILL: [&str; 2] = [
    "DELETE FROM unit_scope",
    "WITH RECURSIVE down_tree(root, unit) AS ( \
         SELECT id, id FROM admin_unit \
         UNION \
         SELECT down_tree.root, c.id FROM down_tree JOIN admin_unit c ON c.parent_id = down_tree.unit \
     ), back_tree(root, unit) AS ( \
         SELECT root, unit FROM down_tree \
         UNION \
         SELECT back_tree.root, l.predecessor_id FROM back_tree \
           JOIN admin_unit_lineage l ON l.successor_id = back_tree.unit \
     ) \
     INSERT INTO unit_scope (scope_unit_id, unit_id) SELECT root, unit FROM back_tree",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UnitScope::Table)
                    .col(
                        ColumnDef::new(UnitScope::ScopeUnitId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(UnitScope::UnitId).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(UnitScope::ScopeUnitId)
                            .col(UnitScope::UnitId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UnitScope::Table, UnitScope::ScopeUnitId)
                            .to(AdminUnit::Table, AdminUnit::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UnitScope::Table, UnitScope::UnitId)
                            .to(AdminUnit::Table, AdminUnit::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_unit_scope_unit")
                    .table(UnitScope::Table)
                    .col(UnitScope::UnitId)
                    .col(UnitScope::ScopeUnitId)
                    .take(),
            )
            .await?;
        // Databases that already hold units get their closure now.
        let db = manager.get_connection();
        for sql in UNIT_SCOPE_FILL {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UnitScope::Table).take())
            .await?;
        Ok(())
    }
}

//! Plan writes: a task's recurrence, why a value was rejected, and the review of a progress report (who returned or
//! accepted it, when, and why). Nullable columns only, so SQLite follows. An index on the
//! audit trail by actor and time answers "did this principal write lately?" (a query goes to
//! the primary rather than the replica for a while after its principal's write).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assignment {
    Table,
    Recurrence,
}

#[derive(DeriveIden)]
enum IndicatorValue {
    Table,
    StatusReason,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Actor,
    At,
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
            IndicatorValue::Table.into_table_ref(),
            IndicatorValue::StatusReason.into_iden(),
            ColumnDef::new(IndicatorValue::StatusReason)
                .text()
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
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_event_actor_at")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::Actor)
                    .col(AuditEvent::At)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_audit_event_actor_at")
                    .table(AuditEvent::Table)
                    .to_owned(),
            )
            .await?;
        for (table, name, _) in columns() {
            manager
                .alter_table(Table::alter().table(table).drop_column(name).take())
                .await?;
        }
        Ok(())
    }
}

//! The whole data model of DESIGN.md in one step: administrative units through time and their
//! lineage, agencies, principals, plans with bases and addressees, indicators, targets,
//! assignments, reporting duties, progress reports, indicator values with revisions and the
//! change feed, audit events and idempotency records.
//!
//! Exact decimals use the column type `decimal_text`: on PostgreSQL a domain over `NUMERIC`, on
//! SQLite a declared type whose name gives the column TEXT affinity, so values are stored as
//! canonical decimal strings and never pass through a float.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The name of the exact-decimal column type (see the module documentation).
const DECIMAL_TEXT: &str = "decimal_text";

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}
fn fk_col(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().take()
}
fn fk_col_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().null().take()
}
fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().take()
}
fn text_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().take()
}
fn word(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(32).not_null().take()
}
fn word_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(32).null().take()
}
fn date_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).date().null().take()
}
fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}
fn ts_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().take()
}
fn int_default(col: impl IntoIden, v: i32) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().default(v).take()
}
fn boolean(col: impl IntoIden, v: bool) -> ColumnDef {
    ColumnDef::new(col).boolean().not_null().default(v).take()
}
fn decimal_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).custom(DECIMAL_TEXT).null().take()
}
fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .take()
}
fn index(name: &str, table: impl IntoIden, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create().name(name).table(table).take();
    for c in cols {
        stmt.col(Alias::new(*c));
    }
    stmt
}

use ForeignKeyAction::{Cascade, Restrict, SetNull};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("CREATE DOMAIN decimal_text AS NUMERIC")
                .await?;
        }
        for table in tables() {
            manager.create_table(table).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            // Keys computed in Rust compare bytewise on both backends (SQLite's BINARY default).
            for (table, column) in [
                ("admin_unit", "search_key"),
                ("admin_unit", "sort_key"),
                ("agency", "search_key"),
                ("plan", "search_key"),
                ("indicator", "search_key"),
            ] {
                manager
                    .get_connection()
                    .execute_unprepared(&format!(
                        r#"ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE text COLLATE "C""#
                    ))
                    .await?;
            }
        }
        for idx in indexes() {
            manager.create_index(idx).await?;
        }
        // The change-feed counter is a single row that every writing transaction updates last.
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ChangeCounter::Table)
                    .columns([ChangeCounter::Id, ChangeCounter::Value])
                    .values_panic([1.into(), 0i64.into()])
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Drop in reverse creation order so that no foreign key is left dangling.
        let mut names: Vec<TableRef> = tables()
            .into_iter()
            .filter_map(|t| t.get_table_name().cloned())
            .collect();
        names.reverse();
        for name in names {
            manager.drop_table(Table::drop().table(name).take()).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP DOMAIN decimal_text")
                .await?;
        }
        Ok(())
    }
}

/// Every table, in creation order (each refers only to tables before it).
fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(AdminUnit::Table)
            .col(id(AdminUnit::Id))
            .col(ColumnDef::new(AdminUnit::Code).string_len(8).not_null())
            .col(text(AdminUnit::Name))
            .col(text(AdminUnit::Kind))
            .col(word(AdminUnit::Level))
            .col(fk_col_null(AdminUnit::ParentId))
            .col(date_null(AdminUnit::ValidFrom))
            .col(date_null(AdminUnit::ValidTo))
            .col(text(AdminUnit::SearchKey))
            .col(text(AdminUnit::SortKey))
            .col(ts(AdminUnit::CreatedAt))
            .check((
                Alias::new("ck_admin_unit_validity"),
                Expr::cust("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from"),
            ))
            .foreign_key(&mut fk(
                (AdminUnit::Table, AdminUnit::ParentId),
                (AdminUnit::Table, AdminUnit::Id),
                Restrict,
            ))
            .take(),
        Table::create()
            .table(AdminUnitLineage::Table)
            .col(id(AdminUnitLineage::Id))
            .col(fk_col(AdminUnitLineage::PredecessorId))
            .col(fk_col(AdminUnitLineage::SuccessorId))
            .col(
                ColumnDef::new(AdminUnitLineage::EffectiveOn)
                    .date()
                    .not_null(),
            )
            .col(word(AdminUnitLineage::Change))
            .col(
                ColumnDef::new(AdminUnitLineage::SplitCount)
                    .integer()
                    .null(),
            )
            .foreign_key(&mut fk(
                (AdminUnitLineage::Table, AdminUnitLineage::PredecessorId),
                (AdminUnit::Table, AdminUnit::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (AdminUnitLineage::Table, AdminUnitLineage::SuccessorId),
                (AdminUnit::Table, AdminUnit::Id),
                Cascade,
            ))
            .take(),
        Table::create()
            .table(Agency::Table)
            .col(id(Agency::Id))
            .col(text(Agency::Name))
            .col(text_null(Agency::ShortName))
            .col(word(Agency::Kind))
            .col(fk_col(Agency::AdminUnitId))
            .col(fk_col_null(Agency::ParentAgencyId))
            .col(date_null(Agency::ValidFrom))
            .col(date_null(Agency::ValidTo))
            .col(fk_col_null(Agency::SuccessorId))
            .col(text(Agency::SearchKey))
            .col(ts(Agency::CreatedAt))
            .check((
                Alias::new("ck_agency_validity"),
                Expr::cust("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from"),
            ))
            .foreign_key(&mut fk(
                (Agency::Table, Agency::AdminUnitId),
                (AdminUnit::Table, AdminUnit::Id),
                Restrict,
            ))
            .foreign_key(&mut fk(
                (Agency::Table, Agency::ParentAgencyId),
                (Agency::Table, Agency::Id),
                SetNull,
            ))
            .foreign_key(&mut fk(
                (Agency::Table, Agency::SuccessorId),
                (Agency::Table, Agency::Id),
                SetNull,
            ))
            .take(),
        Table::create()
            .table(AppUser::Table)
            .col(id(AppUser::Id))
            .col(
                ColumnDef::new(AppUser::Username)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(text_null(AppUser::DisplayName))
            .col(text(AppUser::PasswordHash))
            .col(word(AppUser::Role))
            .col(fk_col_null(AppUser::HomeUnitId))
            .col(fk_col_null(AppUser::AgencyId))
            .col(boolean(AppUser::Active, true))
            .col(int_default(AppUser::TokenVersion, 0))
            .col(int_default(AppUser::FailedLogins, 0))
            .col(ts_null(AppUser::LockedUntil))
            .col(ts(AppUser::CreatedAt))
            .col(ts(AppUser::UpdatedAt))
            .foreign_key(&mut fk(
                (AppUser::Table, AppUser::HomeUnitId),
                (AdminUnit::Table, AdminUnit::Id),
                Restrict,
            ))
            .foreign_key(&mut fk(
                (AppUser::Table, AppUser::AgencyId),
                (Agency::Table, Agency::Id),
                SetNull,
            ))
            .take(),
        Table::create()
            .table(ServiceAccount::Table)
            .col(id(ServiceAccount::Id))
            .col(
                ColumnDef::new(ServiceAccount::Name)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(text(ServiceAccount::SecretHash))
            .col(text(ServiceAccount::Scopes))
            .col(fk_col_null(ServiceAccount::HomeUnitId))
            .col(fk_col_null(ServiceAccount::AgencyId))
            .col(fk_col_null(ServiceAccount::CreatedBy))
            .col(int_default(ServiceAccount::TokenVersion, 0))
            .col(ts_null(ServiceAccount::ExpiresAt))
            .col(ts_null(ServiceAccount::RevokedAt))
            .col(ts_null(ServiceAccount::LastUsedAt))
            .col(ts(ServiceAccount::CreatedAt))
            .foreign_key(&mut fk(
                (ServiceAccount::Table, ServiceAccount::HomeUnitId),
                (AdminUnit::Table, AdminUnit::Id),
                Restrict,
            ))
            .foreign_key(&mut fk(
                (ServiceAccount::Table, ServiceAccount::AgencyId),
                (Agency::Table, Agency::Id),
                SetNull,
            ))
            .foreign_key(&mut fk(
                (ServiceAccount::Table, ServiceAccount::CreatedBy),
                (AppUser::Table, AppUser::Id),
                SetNull,
            ))
            .take(),
        Table::create()
            .table(Plan::Table)
            .col(id(Plan::Id))
            .col(text_null(Plan::Number))
            .col(word(Plan::Kind))
            .col(text(Plan::Title))
            .col(fk_col(Plan::AdminUnitId))
            .col(fk_col_null(Plan::IssuerAgencyId))
            .col(date_null(Plan::IssuedOn))
            .col(text_null(Plan::Signer))
            .col(ColumnDef::new(Plan::PeriodFrom).integer().null())
            .col(ColumnDef::new(Plan::PeriodTo).integer().null())
            .col(word(Plan::Status))
            .col(word(Plan::Visibility))
            .col(text_null(Plan::SourceUrl))
            .col(fk_col_null(Plan::ParentPlanId))
            .col(int_default(Plan::Version, 1))
            .col(text(Plan::SearchKey))
            .col(ts(Plan::CreatedAt))
            .col(ts(Plan::UpdatedAt))
            .foreign_key(&mut fk(
                (Plan::Table, Plan::AdminUnitId),
                (AdminUnit::Table, AdminUnit::Id),
                Restrict,
            ))
            .foreign_key(&mut fk(
                (Plan::Table, Plan::IssuerAgencyId),
                (Agency::Table, Agency::Id),
                SetNull,
            ))
            .foreign_key(&mut fk(
                (Plan::Table, Plan::ParentPlanId),
                (Plan::Table, Plan::Id),
                SetNull,
            ))
            .take(),
        Table::create()
            .table(PlanBasis::Table)
            .col(id(PlanBasis::Id))
            .col(fk_col(PlanBasis::PlanId))
            .col(int_default(PlanBasis::Position, 0))
            .col(fk_col_null(PlanBasis::BasisPlanId))
            .col(text_null(PlanBasis::Citation))
            .foreign_key(&mut fk(
                (PlanBasis::Table, PlanBasis::PlanId),
                (Plan::Table, Plan::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (PlanBasis::Table, PlanBasis::BasisPlanId),
                (Plan::Table, Plan::Id),
                SetNull,
            ))
            .take(),
        Table::create()
            .table(PlanAddressee::Table)
            .col(fk_col(PlanAddressee::PlanId))
            .col(fk_col(PlanAddressee::AgencyId))
            .primary_key(
                Index::create()
                    .col(PlanAddressee::PlanId)
                    .col(PlanAddressee::AgencyId),
            )
            .foreign_key(&mut fk(
                (PlanAddressee::Table, PlanAddressee::PlanId),
                (Plan::Table, Plan::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (PlanAddressee::Table, PlanAddressee::AgencyId),
                (Agency::Table, Agency::Id),
                Restrict,
            ))
            .take(),
        Table::create()
            .table(Indicator::Table)
            .col(id(Indicator::Id))
            .col(
                ColumnDef::new(Indicator::Code)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(text(Indicator::Name))
            .col(text_null(Indicator::Description))
            .col(text(Indicator::UnitOfMeasure))
            .col(word(Indicator::Category))
            .col(word(Indicator::Direction))
            .col(word(Indicator::Aggregation))
            .col(text(Indicator::SearchKey))
            .col(ts(Indicator::CreatedAt))
            .take(),
        Table::create()
            .table(Target::Table)
            .col(id(Target::Id))
            .col(fk_col(Target::PlanId))
            .col(fk_col_null(Target::ParentTargetId))
            .col(fk_col_null(Target::IndicatorId))
            .col(fk_col(Target::AdminUnitId))
            .col(text_null(Target::Ordinal))
            .col(int_default(Target::Position, 0))
            .col(word_null(Target::Period))
            .col(word(Target::Measure))
            .col(word_null(Target::ChangeUnit))
            .col(word_null(Target::Comparator))
            .col(decimal_null(Target::Value))
            .col(decimal_null(Target::UpperValue))
            .col(decimal_null(Target::Baseline))
            .col(word_null(Target::BaselinePeriod))
            .col(text_null(Target::UnitOfMeasure))
            .col(
                ColumnDef::new(Target::Disaggregation)
                    .string_len(64)
                    .not_null()
                    .default("total"),
            )
            .col(text(Target::Wording))
            .foreign_key(&mut fk(
                (Target::Table, Target::PlanId),
                (Plan::Table, Plan::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (Target::Table, Target::ParentTargetId),
                (Target::Table, Target::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (Target::Table, Target::IndicatorId),
                (Indicator::Table, Indicator::Id),
                SetNull,
            ))
            .foreign_key(&mut fk(
                (Target::Table, Target::AdminUnitId),
                (AdminUnit::Table, AdminUnit::Id),
                Restrict,
            ))
            .take(),
        Table::create()
            .table(Assignment::Table)
            .col(id(Assignment::Id))
            .col(fk_col(Assignment::PlanId))
            .col(text_null(Assignment::Ordinal))
            .col(int_default(Assignment::Position, 0))
            .col(text(Assignment::Title))
            .col(text_null(Assignment::Content))
            .col(fk_col(Assignment::LeadAgencyId))
            .col(date_null(Assignment::DueOn))
            .col(word(Assignment::Status))
            .col(int_default(Assignment::Version, 1))
            .col(ts(Assignment::CreatedAt))
            .col(ts(Assignment::UpdatedAt))
            .foreign_key(&mut fk(
                (Assignment::Table, Assignment::PlanId),
                (Plan::Table, Plan::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (Assignment::Table, Assignment::LeadAgencyId),
                (Agency::Table, Agency::Id),
                Restrict,
            ))
            .take(),
        Table::create()
            .table(AssignmentCoordinator::Table)
            .col(fk_col(AssignmentCoordinator::AssignmentId))
            .col(fk_col(AssignmentCoordinator::AgencyId))
            .primary_key(
                Index::create()
                    .col(AssignmentCoordinator::AssignmentId)
                    .col(AssignmentCoordinator::AgencyId),
            )
            .foreign_key(&mut fk(
                (
                    AssignmentCoordinator::Table,
                    AssignmentCoordinator::AssignmentId,
                ),
                (Assignment::Table, Assignment::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (
                    AssignmentCoordinator::Table,
                    AssignmentCoordinator::AgencyId,
                ),
                (Agency::Table, Agency::Id),
                Restrict,
            ))
            .take(),
        Table::create()
            .table(AssignmentTarget::Table)
            .col(fk_col(AssignmentTarget::AssignmentId))
            .col(fk_col(AssignmentTarget::TargetId))
            .primary_key(
                Index::create()
                    .col(AssignmentTarget::AssignmentId)
                    .col(AssignmentTarget::TargetId),
            )
            .foreign_key(&mut fk(
                (AssignmentTarget::Table, AssignmentTarget::AssignmentId),
                (Assignment::Table, Assignment::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (AssignmentTarget::Table, AssignmentTarget::TargetId),
                (Target::Table, Target::Id),
                Cascade,
            ))
            .take(),
        Table::create()
            .table(ReportingDuty::Table)
            .col(id(ReportingDuty::Id))
            .col(fk_col_null(ReportingDuty::PlanId))
            .col(text(ReportingDuty::Title))
            .col(fk_col(ReportingDuty::ReporterAgencyId))
            .col(fk_col(ReportingDuty::RecipientAgencyId))
            .col(word(ReportingDuty::Period))
            .col(word_null(ReportingDuty::Recurrence))
            .col(ColumnDef::new(ReportingDuty::DueOn).date().not_null())
            .col(ts(ReportingDuty::CreatedAt))
            .foreign_key(&mut fk(
                (ReportingDuty::Table, ReportingDuty::PlanId),
                (Plan::Table, Plan::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (ReportingDuty::Table, ReportingDuty::ReporterAgencyId),
                (Agency::Table, Agency::Id),
                Restrict,
            ))
            .foreign_key(&mut fk(
                (ReportingDuty::Table, ReportingDuty::RecipientAgencyId),
                (Agency::Table, Agency::Id),
                Restrict,
            ))
            .take(),
        Table::create()
            .table(ProgressReport::Table)
            .col(id(ProgressReport::Id))
            .col(fk_col_null(ProgressReport::AssignmentId))
            .col(fk_col_null(ProgressReport::ReportingDutyId))
            .col(word(ProgressReport::Period))
            .col(word(ProgressReport::Status))
            .col(
                ColumnDef::new(ProgressReport::PercentComplete)
                    .integer()
                    .null(),
            )
            .col(text_null(ProgressReport::Narrative))
            .col(fk_col_null(ProgressReport::ReportedByUserId))
            .col(text_null(ProgressReport::ReportedBy))
            .col(ts(ProgressReport::ReportedAt))
            .col(int_default(ProgressReport::Version, 1))
            .foreign_key(&mut fk(
                (ProgressReport::Table, ProgressReport::AssignmentId),
                (Assignment::Table, Assignment::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (ProgressReport::Table, ProgressReport::ReportingDutyId),
                (ReportingDuty::Table, ReportingDuty::Id),
                Cascade,
            ))
            .foreign_key(&mut fk(
                (ProgressReport::Table, ProgressReport::ReportedByUserId),
                (AppUser::Table, AppUser::Id),
                SetNull,
            ))
            .take(),
        Table::create()
            .table(IndicatorValue::Table)
            .col(id(IndicatorValue::Id))
            .col(fk_col(IndicatorValue::IndicatorId))
            .col(fk_col(IndicatorValue::AdminUnitId))
            .col(word(IndicatorValue::Period))
            .col(
                ColumnDef::new(IndicatorValue::Disaggregation)
                    .string_len(64)
                    .not_null()
                    .default("total"),
            )
            .col(decimal_null(IndicatorValue::Value))
            .col(text_null(IndicatorValue::Comment))
            .col(word(IndicatorValue::Status))
            .col(fk_col_null(IndicatorValue::StoredByUserId))
            .col(text_null(IndicatorValue::StoredBy))
            .col(int_default(IndicatorValue::Version, 1))
            .col(boolean(IndicatorValue::Deleted, false))
            .col(ts(IndicatorValue::CreatedAt))
            .col(ts(IndicatorValue::UpdatedAt))
            .foreign_key(&mut fk(
                (IndicatorValue::Table, IndicatorValue::IndicatorId),
                (Indicator::Table, Indicator::Id),
                Restrict,
            ))
            .foreign_key(&mut fk(
                (IndicatorValue::Table, IndicatorValue::AdminUnitId),
                (AdminUnit::Table, AdminUnit::Id),
                Restrict,
            ))
            .foreign_key(&mut fk(
                (IndicatorValue::Table, IndicatorValue::StoredByUserId),
                (AppUser::Table, AppUser::Id),
                SetNull,
            ))
            .take(),
        Table::create()
            .table(IndicatorValueRevision::Table)
            .col(id(IndicatorValueRevision::Id))
            .col(fk_col(IndicatorValueRevision::IndicatorValueId))
            .col(
                ColumnDef::new(IndicatorValueRevision::Version)
                    .integer()
                    .not_null(),
            )
            .col(decimal_null(IndicatorValueRevision::Value))
            .col(word(IndicatorValueRevision::Status))
            .col(text_null(IndicatorValueRevision::Comment))
            .col(boolean(IndicatorValueRevision::Deleted, false))
            .col(text_null(IndicatorValueRevision::ChangedBy))
            .col(ts(IndicatorValueRevision::ChangedAt))
            .foreign_key(&mut fk(
                (
                    IndicatorValueRevision::Table,
                    IndicatorValueRevision::IndicatorValueId,
                ),
                (IndicatorValue::Table, IndicatorValue::Id),
                Cascade,
            ))
            .take(),
        Table::create()
            .table(ChangeCounter::Table)
            .col(
                ColumnDef::new(ChangeCounter::Id)
                    .integer()
                    .not_null()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(ChangeCounter::Value)
                    .big_integer()
                    .not_null(),
            )
            .take(),
        Table::create()
            .table(IndicatorValueChange::Table)
            .col(id(IndicatorValueChange::Id))
            .col(
                ColumnDef::new(IndicatorValueChange::CommitSeq)
                    .big_integer()
                    .null(),
            )
            .col(fk_col(IndicatorValueChange::IndicatorValueId))
            .col(boolean(IndicatorValueChange::Deleted, false))
            .col(text(IndicatorValueChange::IndicatorCode))
            .col(text(IndicatorValueChange::UnitCode))
            .col(word(IndicatorValueChange::Period))
            .col(text(IndicatorValueChange::Disaggregation))
            .col(decimal_null(IndicatorValueChange::Value))
            .col(word_null(IndicatorValueChange::Status))
            .col(ts(IndicatorValueChange::ChangedAt))
            .foreign_key(&mut fk(
                (
                    IndicatorValueChange::Table,
                    IndicatorValueChange::IndicatorValueId,
                ),
                (IndicatorValue::Table, IndicatorValue::Id),
                Cascade,
            ))
            .take(),
        Table::create()
            .table(AuditEvent::Table)
            .col(id(AuditEvent::Id))
            .col(ts(AuditEvent::At))
            .col(text(AuditEvent::Actor))
            .col(fk_col_null(AuditEvent::ActorUserId))
            .col(word(AuditEvent::Action))
            .col(word(AuditEvent::EntityType))
            .col(text(AuditEvent::EntityId))
            .col(text_null(AuditEvent::Before))
            .col(text_null(AuditEvent::After))
            .col(text_null(AuditEvent::RequestId))
            .foreign_key(&mut fk(
                (AuditEvent::Table, AuditEvent::ActorUserId),
                (AppUser::Table, AppUser::Id),
                SetNull,
            ))
            .take(),
        Table::create()
            .table(IdempotencyRecord::Table)
            .col(id(IdempotencyRecord::Id))
            .col(
                ColumnDef::new(IdempotencyRecord::Principal)
                    .string_len(128)
                    .not_null(),
            )
            .col(
                ColumnDef::new(IdempotencyRecord::Key)
                    .string_len(255)
                    .not_null(),
            )
            .col(text(IdempotencyRecord::RequestHash))
            .col(
                ColumnDef::new(IdempotencyRecord::StatusCode)
                    .integer()
                    .not_null(),
            )
            .col(text(IdempotencyRecord::Response))
            .col(ts(IdempotencyRecord::CreatedAt))
            .col(ts(IdempotencyRecord::ExpiresAt))
            .take(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "ix_admin_unit_code",
            AdminUnit::Table,
            &["code", "valid_from"],
        ),
        index("ix_admin_unit_parent", AdminUnit::Table, &["parent_id"]),
        index(
            "ix_admin_unit_level",
            AdminUnit::Table,
            &["level", "valid_to"],
        ),
        index("ix_admin_unit_search", AdminUnit::Table, &["search_key"]),
        index(
            "ux_lineage_pair",
            AdminUnitLineage::Table,
            &["predecessor_id", "successor_id"],
        )
        .unique()
        .take(),
        index(
            "ix_lineage_successor",
            AdminUnitLineage::Table,
            &["successor_id"],
        ),
        index("ix_agency_unit", Agency::Table, &["admin_unit_id"]),
        index("ix_app_user_home", AppUser::Table, &["home_unit_id"]),
        index(
            "ix_service_account_home",
            ServiceAccount::Table,
            &["home_unit_id"],
        ),
        index("ix_plan_unit", Plan::Table, &["admin_unit_id"]),
        index("ix_plan_number", Plan::Table, &["number"]),
        index("ix_plan_parent", Plan::Table, &["parent_plan_id"]),
        index("ix_plan_basis_plan", PlanBasis::Table, &["plan_id"]),
        index(
            "ix_plan_addressee_agency",
            PlanAddressee::Table,
            &["agency_id"],
        ),
        index("ix_target_plan", Target::Table, &["plan_id", "position"]),
        index("ix_target_parent", Target::Table, &["parent_target_id"]),
        index("ix_target_indicator", Target::Table, &["indicator_id"]),
        index(
            "ix_assignment_plan",
            Assignment::Table,
            &["plan_id", "position"],
        ),
        index("ix_assignment_lead", Assignment::Table, &["lead_agency_id"]),
        index("ix_assignment_due", Assignment::Table, &["due_on"]),
        index(
            "ix_assignment_coordinator_agency",
            AssignmentCoordinator::Table,
            &["agency_id"],
        ),
        index(
            "ix_assignment_target_target",
            AssignmentTarget::Table,
            &["target_id"],
        ),
        index("ix_reporting_duty_plan", ReportingDuty::Table, &["plan_id"]),
        index("ix_reporting_duty_due", ReportingDuty::Table, &["due_on"]),
        index(
            "ix_progress_report_assignment",
            ProgressReport::Table,
            &["assignment_id"],
        ),
        index(
            "ix_progress_report_duty",
            ProgressReport::Table,
            &["reporting_duty_id"],
        ),
        index(
            "ux_indicator_value_key",
            IndicatorValue::Table,
            &["indicator_id", "admin_unit_id", "period", "disaggregation"],
        )
        .unique()
        .take(),
        index(
            "ix_indicator_value_unit",
            IndicatorValue::Table,
            &["admin_unit_id", "period"],
        ),
        index(
            "ix_indicator_value_revision_value",
            IndicatorValueRevision::Table,
            &["indicator_value_id", "version"],
        ),
        index(
            "ix_indicator_value_change_cursor",
            IndicatorValueChange::Table,
            &["commit_seq", "id"],
        ),
        index(
            "ix_audit_event_entity",
            AuditEvent::Table,
            &["entity_type", "entity_id"],
        ),
        index(
            "ux_idempotency_key",
            IdempotencyRecord::Table,
            &["principal", "key"],
        )
        .unique()
        .take(),
        index(
            "ix_idempotency_expiry",
            IdempotencyRecord::Table,
            &["expires_at"],
        ),
    ]
}

#[derive(DeriveIden)]
enum AdminUnit {
    Table,
    Id,
    Code,
    Name,
    Kind,
    Level,
    ParentId,
    ValidFrom,
    ValidTo,
    SearchKey,
    SortKey,
    CreatedAt,
}
#[derive(DeriveIden)]
enum AdminUnitLineage {
    Table,
    Id,
    PredecessorId,
    SuccessorId,
    EffectiveOn,
    Change,
    SplitCount,
}
#[derive(DeriveIden)]
enum Agency {
    Table,
    Id,
    Name,
    ShortName,
    Kind,
    AdminUnitId,
    ParentAgencyId,
    ValidFrom,
    ValidTo,
    SuccessorId,
    SearchKey,
    CreatedAt,
}
#[derive(DeriveIden)]
enum AppUser {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    Role,
    HomeUnitId,
    AgencyId,
    Active,
    TokenVersion,
    FailedLogins,
    LockedUntil,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum ServiceAccount {
    Table,
    Id,
    Name,
    SecretHash,
    Scopes,
    HomeUnitId,
    AgencyId,
    CreatedBy,
    TokenVersion,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
    CreatedAt,
}
#[derive(DeriveIden)]
enum Plan {
    Table,
    Id,
    Number,
    Kind,
    Title,
    AdminUnitId,
    IssuerAgencyId,
    IssuedOn,
    Signer,
    PeriodFrom,
    PeriodTo,
    Status,
    Visibility,
    SourceUrl,
    ParentPlanId,
    Version,
    SearchKey,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum PlanBasis {
    Table,
    Id,
    PlanId,
    Position,
    BasisPlanId,
    Citation,
}
#[derive(DeriveIden)]
enum PlanAddressee {
    Table,
    PlanId,
    AgencyId,
}
#[derive(DeriveIden)]
enum Indicator {
    Table,
    Id,
    Code,
    Name,
    Description,
    UnitOfMeasure,
    Category,
    Direction,
    Aggregation,
    SearchKey,
    CreatedAt,
}
#[derive(DeriveIden)]
enum Target {
    Table,
    Id,
    PlanId,
    ParentTargetId,
    IndicatorId,
    AdminUnitId,
    Ordinal,
    Position,
    Period,
    Measure,
    ChangeUnit,
    Comparator,
    Value,
    UpperValue,
    Baseline,
    BaselinePeriod,
    UnitOfMeasure,
    Disaggregation,
    Wording,
}
#[derive(DeriveIden)]
enum Assignment {
    Table,
    Id,
    PlanId,
    Ordinal,
    Position,
    Title,
    Content,
    LeadAgencyId,
    DueOn,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum AssignmentCoordinator {
    Table,
    AssignmentId,
    AgencyId,
}
#[derive(DeriveIden)]
enum AssignmentTarget {
    Table,
    AssignmentId,
    TargetId,
}
#[derive(DeriveIden)]
enum ReportingDuty {
    Table,
    Id,
    PlanId,
    Title,
    ReporterAgencyId,
    RecipientAgencyId,
    Period,
    Recurrence,
    DueOn,
    CreatedAt,
}
#[derive(DeriveIden)]
enum ProgressReport {
    Table,
    Id,
    AssignmentId,
    ReportingDutyId,
    Period,
    Status,
    PercentComplete,
    Narrative,
    ReportedByUserId,
    ReportedBy,
    ReportedAt,
    Version,
}
#[derive(DeriveIden)]
enum IndicatorValue {
    Table,
    Id,
    IndicatorId,
    AdminUnitId,
    Period,
    Disaggregation,
    Value,
    Comment,
    Status,
    StoredByUserId,
    StoredBy,
    Version,
    Deleted,
    CreatedAt,
    UpdatedAt,
}
#[derive(DeriveIden)]
enum IndicatorValueRevision {
    Table,
    Id,
    IndicatorValueId,
    Version,
    Value,
    Status,
    Comment,
    Deleted,
    ChangedBy,
    ChangedAt,
}
#[derive(DeriveIden)]
enum ChangeCounter {
    Table,
    Id,
    Value,
}
#[derive(DeriveIden)]
enum IndicatorValueChange {
    Table,
    Id,
    CommitSeq,
    IndicatorValueId,
    Deleted,
    IndicatorCode,
    UnitCode,
    Period,
    Disaggregation,
    Value,
    Status,
    ChangedAt,
}
#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    At,
    Actor,
    ActorUserId,
    Action,
    EntityType,
    EntityId,
    Before,
    After,
    RequestId,
}
#[derive(DeriveIden)]
enum IdempotencyRecord {
    Table,
    Id,
    Principal,
    Key,
    RequestHash,
    StatusCode,
    Response,
    CreatedAt,
    ExpiresAt,
}

//! Dated schema migrations of the regional data platform.
//!
//! Every migration runs up and down on PostgreSQL and SQLite (the integration suite proves it on
//! both). SQLite cannot add a foreign key to an existing table, so later migrations add tables or
//! nullable columns; they never rework constraints.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_import_keys;
mod m20261122_000003_sessions;
mod m20261122_000004_unit_scope;
mod m20261129_000005_username_case;
mod m20261129_000006_bytewise_keys;
mod m20261129_000007_lineage_evidence;
mod m20261130_000008_plan_writes;
mod m20261130_000009_indicator_disaggregations;
mod m20261207_000010_value_province;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_import_keys::Migration),
            Box::new(m20261122_000003_sessions::Migration),
            Box::new(m20261122_000004_unit_scope::Migration),
            Box::new(m20261129_000005_username_case::Migration),
            Box::new(m20261129_000006_bytewise_keys::Migration),
            Box::new(m20261129_000007_lineage_evidence::Migration),
            Box::new(m20261130_000008_plan_writes::Migration),
            Box::new(m20261130_000009_indicator_disaggregations::Migration),
            Box::new(m20261207_000010_value_province::Migration),
        ]
    }
}

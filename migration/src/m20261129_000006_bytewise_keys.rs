//! The columns lists are ordered and paged by in SQL compare bytewise on PostgreSQL too, as
//! SQLite's BINARY does and as the cursors assume: usernames, service-account names and
//! indicator codes, all `varchar(64)`. (The folded search and sort keys were made so by the
//! foundation.)

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [(&str, &str); 3] = [
    ("app_user", "username"),
    ("service_account", "name"),
    ("indicator", "code"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            for (table, column) in COLUMNS {
                manager
                    .get_connection()
                    .execute_unprepared(&format!(
                        r#"ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar(64) COLLATE "C""#
                    ))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            for (table, column) in COLUMNS {
                manager
                    .get_connection()
                    .execute_unprepared(&format!(
                        r#"ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar(64) COLLATE "default""#
                    ))
                    .await?;
            }
        }
        Ok(())
    }
}

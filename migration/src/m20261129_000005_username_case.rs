//! Usernames unique whatever their case: existing names are stored lower-cased (the form the
//! API now writes and logs in with), and a unique index on `lower(username)` keeps `ADMIN` from
//! standing beside `admin` even if two requests race. Both backends index the expression.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("UPDATE app_user SET username = lower(username)")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_app_user_username_lower ON app_user (lower(username))",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ux_app_user_username_lower")
            .await?;
        Ok(())
    }
}

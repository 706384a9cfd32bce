//! `service_account` table.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::DecimalText;
#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One row of `service_account`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub secret_hash: String,
    pub scopes: String,
    pub home_unit_id: Option<i64>,
    pub agency_id: Option<i64>,
    pub created_by: Option<i64>,
    pub token_version: i32,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Relations are followed through explicit batched queries, not joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

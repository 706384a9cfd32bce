//! `indicator_value` table.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::DecimalText;
#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One row of `indicator_value`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator_value")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub indicator_id: i64,
    pub admin_unit_id: i64,
    pub period: String,
    pub disaggregation: String,
    #[sea_orm(select_as = "text", save_as = "decimal_text")]
    pub value: Option<DecimalText>,
    pub comment: Option<String>,
    pub status: ValueStatus,
    pub stored_by_user_id: Option<i64>,
    pub stored_by: Option<String>,
    pub version: i32,
    pub deleted: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Why the value was rejected (or reopened).
    pub status_reason: Option<String>,
    /// The code of the province its unit lies in (from `unit_province`, when created).
    pub province_code: Option<String>,
}

/// Relations are followed through explicit batched queries, not joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

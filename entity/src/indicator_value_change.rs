//! `indicator_value_change` table.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::DecimalText;
#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One row of `indicator_value_change`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator_value_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub commit_seq: Option<i64>,
    pub indicator_value_id: i64,
    pub deleted: bool,
    pub indicator_code: String,
    pub unit_code: String,
    pub period: String,
    pub disaggregation: String,
    #[sea_orm(select_as = "text", save_as = "decimal_text")]
    pub value: Option<DecimalText>,
    pub status: Option<ValueStatus>,
    pub changed_at: DateTimeUtc,
}

/// Relations are followed through explicit batched queries, not joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `indicator_value_revision` table.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::DecimalText;
#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One row of `indicator_value_revision`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator_value_revision")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub indicator_value_id: i64,
    pub version: i32,
    #[sea_orm(select_as = "text", save_as = "decimal_text")]
    pub value: Option<DecimalText>,
    pub status: ValueStatus,
    pub comment: Option<String>,
    pub deleted: bool,
    pub changed_by: Option<String>,
    pub changed_at: DateTimeUtc,
}

/// Relations are followed through explicit batched queries, not joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

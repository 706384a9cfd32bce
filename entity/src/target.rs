//! `target` table.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::DecimalText;
#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One row of `target`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "target")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub parent_target_id: Option<i64>,
    pub indicator_id: Option<i64>,
    pub admin_unit_id: i64,
    pub ordinal: Option<String>,
    pub position: i32,
    pub period: Option<String>,
    pub measure: TargetMeasure,
    pub change_unit: Option<ChangeUnit>,
    pub comparator: Option<Comparator>,
    #[sea_orm(select_as = "text", save_as = "decimal_text")]
    pub value: Option<DecimalText>,
    #[sea_orm(select_as = "text", save_as = "decimal_text")]
    pub upper_value: Option<DecimalText>,
    #[sea_orm(select_as = "text", save_as = "decimal_text")]
    pub baseline: Option<DecimalText>,
    pub baseline_period: Option<String>,
    pub unit_of_measure: Option<String>,
    pub disaggregation: String,
    pub wording: String,
}

/// Relations are followed through explicit batched queries, not joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

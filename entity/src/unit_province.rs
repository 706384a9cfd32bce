//! `unit_province` table: the province each unit version lies in.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

/// `unit_id` lies in the province with code `province_code` (itself, for a province). Derived
/// from units; rebuilt by every unit import.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_province")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_id: i64,
    pub province_code: Option<String>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

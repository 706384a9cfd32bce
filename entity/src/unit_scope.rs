//! `unit_scope` table: the closure that makes "in Scope(U)" one indexed condition.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

/// `unit_id` is in Scope(`scope_unit_id`): the unit itself, below it, or a predecessor of one
/// of those through lineage. Derived from units and lineage; rebuilt by every unit import.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_scope")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope_unit_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_id: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

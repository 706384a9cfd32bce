//! `plan_basis` table.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::DecimalText;
#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One row of `plan_basis`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_basis")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub position: i32,
    pub basis_plan_id: Option<i64>,
    pub citation: Option<String>,
}

/// Relations are followed through explicit batched queries, not joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

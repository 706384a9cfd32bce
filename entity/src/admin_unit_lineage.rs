//! `admin_unit_lineage` table.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::DecimalText;
#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One row of `admin_unit_lineage`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admin_unit_lineage")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub predecessor_id: i64,
    pub successor_id: i64,
    pub effective_on: Date,
    pub change: LineageChange,
    pub split_count: Option<i32>,
    /// How sure the link is (null: recorded before evidence was kept).
    pub evidence: Option<LineageEvidence>,
    /// The resolution that decided the change, when known (e.g. `1286/NQ-UBTVQH15`).
    pub resolution: Option<String>,
    /// Where the evidence can be read, when the source gives it.
    pub source_url: Option<String>,
}

/// Relations are followed through explicit batched queries, not joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

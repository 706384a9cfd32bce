//! `plan` table.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::DecimalText;
#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One row of `plan`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number: Option<String>,
    pub kind: PlanKind,
    pub title: String,
    pub admin_unit_id: i64,
    pub issuer_agency_id: Option<i64>,
    pub issued_on: Option<Date>,
    pub signer: Option<String>,
    pub period_from: Option<i32>,
    pub period_to: Option<i32>,
    pub status: PlanStatus,
    pub visibility: Visibility,
    pub source_url: Option<String>,
    pub parent_plan_id: Option<i64>,
    pub version: i32,
    pub search_key: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Stable key from plan files.
    pub code: Option<String>,
    /// Hash of the plan file last imported for this plan.
    pub source_hash: Option<String>,
}

/// Relations are followed through explicit batched queries, not joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

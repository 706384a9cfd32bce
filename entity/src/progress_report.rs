//! `progress_report` table.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::DecimalText;
#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One row of `progress_report`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "progress_report")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub assignment_id: Option<i64>,
    pub reporting_duty_id: Option<i64>,
    pub period: String,
    pub status: ReportStatus,
    pub percent_complete: Option<i32>,
    pub narrative: Option<String>,
    pub reported_by_user_id: Option<i64>,
    pub reported_by: Option<String>,
    pub reported_at: DateTimeUtc,
    pub version: i32,
    /// Why a reviewer returned it.
    pub review_reason: Option<String>,
    /// Who accepted or returned it (`user:<id>`).
    pub reviewed_by: Option<String>,
    /// When it was reviewed.
    pub reviewed_at: Option<DateTimeUtc>,
}

/// Relations are followed through explicit batched queries, not joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `assignment` table.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::DecimalText;
#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One row of `assignment`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub ordinal: Option<String>,
    pub position: i32,
    pub title: String,
    pub content: Option<String>,
    pub lead_agency_id: i64,
    pub due_on: Option<Date>,
    pub status: AssignmentStatus,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The heading the task sits under in its document.
    pub group_title: Option<String>,
    /// How often the task recurs (`MONTHLY`, `QUARTERLY`, `SIX_MONTHLY`, `YEARLY`); none: once.
    pub recurrence: Option<String>,
}

/// Relations are followed through explicit batched queries, not joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

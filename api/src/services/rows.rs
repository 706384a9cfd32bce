//! The rows of the busiest lists, decoded by position with sqlx's own decoders.
//!
//! sea-orm's derived decoding reads every column by name as an `Option<Option<T>>`, and for each
//! NULL it formats an error message (the column's name, quoted by `Debug`) that it then drops.
//! Under a page of 100 indicator values, decoding the rows was a quarter of the server's
//! instructions, and that formatting a quarter of the decoding (callgrind, BENCHMARKS.md); under
//! the overdue tasks of a province (Q4), a fifth (its plans and tasks are read here too). The
//! models here are read by their position in their entity's column order, which is the order
//! sea-orm selects them in (`Entity::find()` lists every column in declaration order,
//! `select_as` casts included), with the decoders sea-orm itself calls for these types, on both
//! backends. Debug builds (the tests) check each position against the column's name.

use entity::enums::{AssignmentStatus, PlanKind, PlanStatus, ValueStatus, Visibility};
use entity::{agency, assignment, indicator_value, plan};
use sea_orm::sqlx::{self, Row as _};
use sea_orm::{ActiveEnum, DbErr, FromQueryResult, IdenStatic, QueryResult};

/// A model read by position (see the module): `.into_model::<Fast<Model>>()`.
pub struct Fast<M>(pub M);

/// A model that can be read by position from a row of its entity's columns.
pub trait ByPosition: Sized {
    /// Reads the model.
    fn read(row: &Row<'_>) -> Result<Self, DbErr>;
}

/// One row of either backend.
pub struct Row<'a> {
    raw: Raw<'a>,
}

#[derive(Clone, Copy)]
enum Raw<'a> {
    Pg(&'a sqlx::postgres::PgRow),
    Sqlite(&'a sqlx::sqlite::SqliteRow),
}

impl Row<'_> {
    /// The value of a column (`Option<T>` for a nullable one), checked in debug builds against
    /// the column's name.
    fn get<T>(&self, column: impl IdenStatic + Position) -> Result<T, DbErr>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>
            + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>,
    {
        let i = column.position();
        #[cfg(debug_assertions)]
        {
            use sqlx::Column as _;
            let name = match self.raw {
                Raw::Pg(r) => r.columns().get(i).map(|c| c.name().to_string()),
                Raw::Sqlite(r) => r.columns().get(i).map(|c| c.name().to_string()),
            };
            assert_eq!(
                name.as_deref(),
                Some(column.as_str()),
                "column {i} of the row is not `{}`",
                column.as_str()
            );
        }
        match self.raw {
            Raw::Pg(r) => r.try_get(i),
            Raw::Sqlite(r) => r.try_get(i),
        }
        .map_err(|e| DbErr::Type(format!("column `{}`: {e}", column.as_str())))
    }

    /// A string enum.
    fn status<E: ActiveEnum<Value = String>>(
        &self,
        column: impl IdenStatic + Position,
    ) -> Result<E, DbErr> {
        E::try_from_value(&self.get::<String>(column)?)
    }
}

impl<M: ByPosition> FromQueryResult for Fast<M> {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        if !pre.is_empty() {
            return Err(DbErr::Type(format!(
                "positional rows have no prefixed columns (`{pre}`)"
            )));
        }
        let raw = if let Some(r) = res.try_as_pg_row() {
            Raw::Pg(r)
        } else if let Some(r) = res.try_as_sqlite_row() {
            Raw::Sqlite(r)
        } else {
            return Err(DbErr::Type("a row of an unknown backend".into()));
        };
        Ok(Fast(M::read(&Row { raw })?))
    }
}

/// A column's position in its entity's declaration order.
pub trait Position {
    /// The position, from 0.
    fn position(self) -> usize;
}

macro_rules! positions {
    ($($module:ident),*) => {$(
        impl Position for $module::Column {
            fn position(self) -> usize {
                self as usize
            }
        }
    )*};
}
positions!(indicator_value, assignment, agency, plan);

impl ByPosition for indicator_value::Model {
    fn read(r: &Row<'_>) -> Result<Self, DbErr> {
        use indicator_value::Column as C;
        Ok(Self {
            id: r.get(C::Id)?,
            indicator_id: r.get(C::IndicatorId)?,
            admin_unit_id: r.get(C::AdminUnitId)?,
            period: r.get(C::Period)?,
            disaggregation: r.get(C::Disaggregation)?,
            value: r
                .get::<Option<String>>(C::Value)?
                .map(entity::DecimalText::from_stored),
            comment: r.get(C::Comment)?,
            status: r.status::<ValueStatus>(C::Status)?,
            stored_by_user_id: r.get(C::StoredByUserId)?,
            stored_by: r.get(C::StoredBy)?,
            version: r.get(C::Version)?,
            deleted: r.get(C::Deleted)?,
            created_at: r.get(C::CreatedAt)?,
            updated_at: r.get(C::UpdatedAt)?,
            status_reason: r.get(C::StatusReason)?,
            province_code: r.get(C::ProvinceCode)?,
        })
    }
}

impl ByPosition for assignment::Model {
    fn read(r: &Row<'_>) -> Result<Self, DbErr> {
        use assignment::Column as C;
        Ok(Self {
            id: r.get(C::Id)?,
            plan_id: r.get(C::PlanId)?,
            ordinal: r.get(C::Ordinal)?,
            position: r.get(C::Position)?,
            title: r.get(C::Title)?,
            content: r.get(C::Content)?,
            lead_agency_id: r.get(C::LeadAgencyId)?,
            due_on: r.get(C::DueOn)?,
            status: r.status::<AssignmentStatus>(C::Status)?,
            version: r.get(C::Version)?,
            created_at: r.get(C::CreatedAt)?,
            updated_at: r.get(C::UpdatedAt)?,
            group_title: r.get(C::GroupTitle)?,
            recurrence: r.get(C::Recurrence)?,
        })
    }
}

impl ByPosition for agency::Model {
    fn read(r: &Row<'_>) -> Result<Self, DbErr> {
        use agency::Column as C;
        Ok(Self {
            id: r.get(C::Id)?,
            name: r.get(C::Name)?,
            short_name: r.get(C::ShortName)?,
            kind: r.get(C::Kind)?,
            admin_unit_id: r.get(C::AdminUnitId)?,
            parent_agency_id: r.get(C::ParentAgencyId)?,
            valid_from: r.get(C::ValidFrom)?,
            valid_to: r.get(C::ValidTo)?,
            successor_id: r.get(C::SuccessorId)?,
            search_key: r.get(C::SearchKey)?,
            created_at: r.get(C::CreatedAt)?,
            code: r.get(C::Code)?,
        })
    }
}

impl ByPosition for plan::Model {
    fn read(r: &Row<'_>) -> Result<Self, DbErr> {
        use plan::Column as C;
        Ok(Self {
            id: r.get(C::Id)?,
            number: r.get(C::Number)?,
            kind: r.status::<PlanKind>(C::Kind)?,
            title: r.get(C::Title)?,
            admin_unit_id: r.get(C::AdminUnitId)?,
            issuer_agency_id: r.get(C::IssuerAgencyId)?,
            issued_on: r.get(C::IssuedOn)?,
            signer: r.get(C::Signer)?,
            period_from: r.get(C::PeriodFrom)?,
            period_to: r.get(C::PeriodTo)?,
            status: r.status::<PlanStatus>(C::Status)?,
            visibility: r.status::<Visibility>(C::Visibility)?,
            source_url: r.get(C::SourceUrl)?,
            parent_plan_id: r.get(C::ParentPlanId)?,
            version: r.get(C::Version)?,
            search_key: r.get(C::SearchKey)?,
            created_at: r.get(C::CreatedAt)?,
            updated_at: r.get(C::UpdatedAt)?,
            code: r.get(C::Code)?,
            source_hash: r.get(C::SourceHash)?,
        })
    }
}

//! The query root.

use super::scalars::Date;
use super::units::{
    AdminLevel, AdminUnit, Commune, District, Node, Province, UnitNode, decode_global_id, loaders,
};
use crate::clock;
use crate::error::AppError;
use crate::services::units;
use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Entry points for reading.
pub struct QueryRoot;

fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
}

fn date(as_of: Option<Date>) -> NaiveDate {
    as_of.map(|d| d.0).unwrap_or_else(clock::today)
}

fn check_code(code: &str) -> Result<(), AppError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_input(
            "code",
            "a unit code is 2, 3 or 5 digits",
        ));
    }
    Ok(())
}

async fn unit_by_code(
    ctx: &Context<'_>,
    code: &str,
    as_of: Option<Date>,
    level: Option<AdminLevel>,
) -> Result<Option<UnitNode>> {
    check_code(code)?;
    let day = date(as_of);
    Ok(units::by_code(db(ctx)?, code, day, level.map(Into::into))
        .await?
        .map(|u| UnitNode::new(Arc::new(u), day)))
}

/// Entry points for reading: administrative units through time.
#[Object(name = "Query")]
impl QueryRoot {
    /// Any object by its global id.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id.")] id: ID,
    ) -> Result<Option<Node>> {
        let Some(row) = decode_global_id(&id) else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .unit
            .load_one(row)
            .await?
            .map(|u| AdminUnit::from_node(UnitNode::new(u, clock::today())).into()))
    }

    /// Provinces valid on a day, in Vietnamese order.
    async fn provinces(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Vec<Province>> {
        let day = date(as_of);
        Ok(units::provinces(db(ctx)?, day)
            .await?
            .into_iter()
            .map(|u| Province(UnitNode::new(Arc::new(u), day)))
            .collect())
    }

    /// The province with this code on a day.
    async fn province(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Official 2-digit code.")] code: String,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Option<Province>> {
        Ok(unit_by_code(ctx, &code, as_of, Some(AdminLevel::Province))
            .await?
            .map(Province))
    }

    /// The district with this code on a day (districts ended on 30 June 2025).
    async fn district(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Official 3-digit code.")] code: String,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Option<District>> {
        Ok(unit_by_code(ctx, &code, as_of, Some(AdminLevel::District))
            .await?
            .map(District))
    }

    /// The commune with this code on a day.
    async fn commune(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Official 5-digit code.")] code: String,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Option<Commune>> {
        Ok(unit_by_code(ctx, &code, as_of, Some(AdminLevel::Commune))
            .await?
            .map(Commune))
    }

    /// The unit of any level with this code on a day.
    async fn admin_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Official code.")] code: String,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Option<AdminUnit>> {
        Ok(unit_by_code(ctx, &code, as_of, None)
            .await?
            .map(AdminUnit::from_node))
    }
}

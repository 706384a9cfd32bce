//! Reading administrative units through time: by code on a day, lists and search.

use crate::clock;
use crate::error::AppError;
use crate::graphql::context::{db, max_page};
use crate::graphql::pagination::{self, PageArgs};
use crate::graphql::query::{check_code, date, unit_by_code};
use crate::graphql::scalars::Date;
use crate::graphql::units::{
    AdminLevel, AdminUnit, AdminUnitConnection, Commune, District, Province, UnitNode,
};
use crate::services::units;
use async_graphql::{Context, Object, Result};
use std::sync::Arc;

/// Reading administrative units through time: by code on a day, lists and search.
#[derive(Default)]
pub struct UnitsQuery;

/// Reading administrative units through time: by code on a day, lists and search.
#[Object]
impl UnitsQuery {
    /// Provinces valid on a day, in Vietnamese order.
    async fn provinces(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day; today in Vietnam when absent.")] as_of: Option<Date>,
    ) -> Result<Vec<Province>> {
        let day = date(as_of);
        Ok(crate::graphql::context::units(ctx)
            .await?
            .provinces(day)
            .into_iter()
            .map(|u| Province(UnitNode::new(u, day)))
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

    /// Units whose name or code matches, the way Vietnamese users type: "hoc mon", "HÓC MÔN"
    /// and decomposed Unicode all find Hóc Môn. Ranked: exact name without its type word (or
    /// code), then prefix, then contains; ties go to the higher level, then Vietnamese order.
    /// Without `asOf`, today's units come first and then historical ones (see `validTo`).
    async fn search_admin_units(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words of the name, or the start of a code.")] query: String,
        #[graphql(desc = "Only units of this level.")] level: Option<AdminLevel>,
        #[graphql(
            desc = "Only units valid on this day; today's and historical units when absent."
        )]
        as_of: Option<Date>,
        #[graphql(desc = "Only units below the unit with this code (on `asOf`, else today).")]
        within: Option<String>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
    ) -> Result<AdminUnitConnection> {
        if crate::text::search_words(Some(&query), "query")?
            .concat()
            .chars()
            .count()
            < 2
        {
            return Err(AppError::bad_input("query", "type at least two characters").into());
        }
        let root = match &within {
            Some(code) => {
                check_code(code)?;
                let day = as_of.map(|d| d.0).unwrap_or_else(clock::today);
                Some(
                    units::by_code(db(ctx)?, code, day, None)
                        .await?
                        .ok_or_else(|| {
                            AppError::bad_input("within", format!("no unit {code} on {day}"))
                        })?,
                )
            }
            None => None,
        };
        let day = as_of.map(|d| d.0);
        let max = max_page(ctx);
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        let mut page = None;
        let index = ctx.data::<Arc<crate::services::unit_search::UnitSearchIndex>>()?;
        let (found, _) = units::search(
            db(ctx)?,
            index,
            &query,
            level.map(Into::into),
            day,
            root.as_ref(),
            |ranked| {
                let p = pagination::paginate(ranked, |k| k.clone(), &args, max)?;
                let ids = p.items.iter().map(|(_, (_, id))| *id).collect();
                page = Some(p);
                Ok(ids)
            },
        )
        .await?;
        let page = page.ok_or_else(|| AppError::internal("search produced no page"))?;
        let view = day.unwrap_or_else(clock::today);
        let items = page
            .items
            .into_iter()
            .filter_map(|(cursor, (_, id))| {
                let row = found.rows.get(&id)?.clone();
                Some((
                    cursor,
                    AdminUnit::from_node(UnitNode::new(Arc::new(row), view)),
                ))
            })
            .collect();
        Ok(AdminUnitConnection {
            page: pagination::Page {
                items,
                has_next: page.has_next,
                has_prev: page.has_prev,
                total: page.total,
            },
        })
    }
}

//! Indicator values: read by filter, followed through the change feed, submitted in batches
//! and carried through review. Each write is one use case of `app::values`.

use super::context::{access, caller, db, loaders, max_page};
use super::pagination::{self, PageArgs};
use super::plans::Indicator;
use super::scalars::{DateTime, Decimal, decode_node_id_of, node_id};
use super::units::{AdminUnit, UnitNode};
use crate::app::values as uc;
use crate::connection;
use crate::error::{AppError, AppResult};
use crate::model::enums as E;
use async_graphql::{
    Context, Enum, ErrorExtensions, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use std::sync::Arc;

/// Where a value stands in its review.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ValueStatus {
    /// Kept by its reporter, not submitted.
    Draft,
    /// Submitted for review.
    Submitted,
    /// Approved by a manager of a unit above; locked until reopened.
    Approved,
    /// Sent back with a reason.
    Rejected,
    /// Published: anyone reads it.
    Published,
}

impl From<E::ValueStatus> for ValueStatus {
    fn from(s: E::ValueStatus) -> Self {
        match s {
            E::ValueStatus::Draft => Self::Draft,
            E::ValueStatus::Submitted => Self::Submitted,
            E::ValueStatus::Approved => Self::Approved,
            E::ValueStatus::Rejected => Self::Rejected,
            E::ValueStatus::Published => Self::Published,
        }
    }
}

impl From<ValueStatus> for E::ValueStatus {
    fn from(s: ValueStatus) -> Self {
        match s {
            ValueStatus::Draft => Self::Draft,
            ValueStatus::Submitted => Self::Submitted,
            ValueStatus::Approved => Self::Approved,
            ValueStatus::Rejected => Self::Rejected,
            ValueStatus::Published => Self::Published,
        }
    }
}

/// The figure of an indicator for a unit, a period and a disaggregation.
#[derive(Clone)]
pub struct IndicatorValue(pub Arc<crate::model::indicator_value::Model>);

/// The figure of an indicator for a unit, a period and a disaggregation.
#[Object]
impl IndicatorValue {
    /// Global id.
    pub(crate) async fn id(&self) -> ID {
        node_id("IndicatorValue", self.0.id)
    }
    /// The indicator.
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Option<Indicator>> {
        Ok(loaders(ctx)?
            .indicator
            .load_one(self.0.indicator_id)
            .await?
            .map(Indicator))
    }
    /// The unit it belongs to: the one valid at the period's end.
    async fn unit(&self, ctx: &Context<'_>) -> Result<Option<AdminUnit>> {
        let day = crate::period::Period::parse(&self.0.period)
            .map(|p| p.end())
            .unwrap_or_else(crate::clock::today);
        Ok(super::context::units(ctx)
            .await?
            .unit(self.0.admin_unit_id)
            .map(|u| AdminUnit::from_node(UnitNode::new(u, day))))
    }
    /// DHIS2 period.
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// Disaggregation (`total` by default).
    async fn disaggregation(&self) -> &str {
        &self.0.disaggregation
    }
    /// The exact value, as a string.
    async fn value(&self) -> Option<Decimal> {
        self.0
            .value
            .as_ref()
            .map(|d| Decimal(d.as_str().to_string()))
    }
    /// The reporter's comment.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
    /// Review status.
    async fn status(&self) -> ValueStatus {
        self.0.status.into()
    }
    /// Why it was rejected or reopened.
    async fn status_reason(&self) -> Option<&str> {
        self.0.status_reason.as_deref()
    }
    /// Who stored the figure (`user:<id>`, `service:<id>`).
    async fn stored_by(&self) -> Option<&str> {
        self.0.stored_by.as_deref()
    }
    /// Version, raised by every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
    /// Every version, oldest first: value, status, who and when (outside your scope, only the
    /// published versions: the figures before them were never public).
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<ValueRevision>> {
        let internal = access(ctx)?.value_scope_test().await?(self.0.admin_unit_id);
        Ok(loaders(ctx)?
            .revisions
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .iter()
            .filter(|r| internal || r.status == E::ValueStatus::Published)
            .map(|r| ValueRevision(Arc::new(r.clone())))
            .collect())
    }
}

/// One version of a value.
pub struct ValueRevision(Arc<entity_revision::Model>);
use crate::model::indicator_value_revision as entity_revision;

/// One version of a value.
#[Object]
impl ValueRevision {
    /// The version.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The value then.
    async fn value(&self) -> Option<Decimal> {
        self.0
            .value
            .as_ref()
            .map(|d| Decimal(d.as_str().to_string()))
    }
    /// The status then.
    async fn status(&self) -> ValueStatus {
        self.0.status.into()
    }
    /// Whether it was deleted then.
    async fn deleted(&self) -> bool {
        self.0.deleted
    }
    /// Who changed it.
    async fn changed_by(&self) -> Option<&str> {
        self.0.changed_by.as_deref()
    }
    /// When.
    async fn changed_at(&self) -> DateTime {
        DateTime(self.0.changed_at)
    }
}

connection!(
    IndicatorValueConnection,
    IndicatorValueEdge,
    IndicatorValue,
    "indicator values"
);

/// Which values a list holds.
#[derive(InputObject, Default)]
pub struct IndicatorValueFilter {
    /// Only these indicators (codes).
    pub indicator_codes: Option<Vec<String>>,
    /// Only this unit (every version of the code)…
    pub unit_code: Option<String>,
    /// …and the units below it.
    #[graphql(default)]
    pub include_descendants: bool,
    /// Periods that start on or after this period's first day (a DHIS2 period id; "2024S2"
    /// takes 2024S2, 2024Q3, 202407 and later), whatever their length.
    pub period_from: Option<String>,
    /// Periods that end on or before this period's last day ("2024" takes the year, its
    /// halves, quarters and months).
    pub period_to: Option<String>,
    /// Only these statuses.
    pub statuses: Option<Vec<ValueStatus>>,
    /// Only this disaggregation.
    pub disaggregation: Option<String>,
}

/// One entry of the change feed: the value as a commit left it, or its deletion.
#[derive(SimpleObject)]
pub struct IndicatorValueChange {
    /// Where the entry stands in the feed: pass it as `after` to read on.
    pub cursor: String,
    /// The commit's number (entries of one commit share it).
    pub commit_number: i64,
    /// The value's global id.
    pub value_id: ID,
    /// Whether the value is gone (deleted, or no longer visible to you).
    pub deleted: bool,
    /// Indicator code.
    pub indicator_code: String,
    /// Unit code.
    pub unit_code: String,
    /// DHIS2 period.
    pub period: String,
    /// Disaggregation.
    pub disaggregation: String,
    /// The value (null when deleted).
    pub value: Option<Decimal>,
    /// Its status (null when deleted).
    pub status: Option<ValueStatus>,
    /// When the change was committed.
    pub changed_at: DateTime,
}

/// A page of the change feed.
#[derive(SimpleObject)]
pub struct IndicatorValueChangePage {
    /// The entries, in commit order.
    pub entries: Vec<IndicatorValueChange>,
    /// The cursor to pass as `after` next (the last entry's; `after` itself when empty).
    pub end_cursor: Option<String>,
    /// Whether more entries follow now.
    pub has_next_page: bool,
}

/// Values rolled up over the units below one, with completeness.
#[derive(SimpleObject)]
pub struct IndicatorAggregate {
    /// The indicator.
    pub indicator: Indicator,
    /// The unit rolled up over (valid at the period's end).
    pub unit: AdminUnit,
    /// The period.
    pub period: String,
    /// The level of the units counted.
    pub level: super::units::AdminLevel,
    /// The disaggregation.
    pub disaggregation: String,
    /// The sum or mean of the values reported, by the indicator's aggregation; null when the
    /// indicator does not aggregate (`NONE`) or nothing was reported.
    pub value: Option<Decimal>,
    /// Units expected to report: those at `level` under the unit, valid at the period's end.
    pub units_expected: usize,
    /// Of those, the units whose value you may read and that reported.
    pub units_reported: usize,
    /// `unitsReported / unitsExpected` (0 to 1; 0 when none is expected).
    pub completeness: f64,
    /// The units that have not reported (at most 500).
    pub missing: Vec<AdminUnit>,
}

/// Indicator values.
#[derive(Default)]
pub struct ValuesQuery;

/// Indicator values.
#[Object]
impl ValuesQuery {
    /// Values you may read (published ones for everyone; every one of your scope), by id.
    async fn indicator_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which values.")] filter: Option<IndicatorValueFilter>,
        #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
        #[graphql(desc = "Items after this cursor.")] after: Option<String>,
        #[graphql(
            desc = "Read what was known at this instant: each value as its revision then (values not yet stored, or deleted then, are left out; a page may then hold fewer items)."
        )]
        known_at: Option<DateTime>,
    ) -> Result<IndicatorValueConnection> {
        let f = filter.unwrap_or_default();
        for (field, p) in [("periodFrom", &f.period_from), ("periodTo", &f.period_to)] {
            if let Some(p) = p
                && crate::period::Period::parse(p).is_none()
            {
                return Err(AppError::bad_input(
                    field,
                    format!("`{p}` is not a DHIS2 period (2024, 2024S1, 2024Q3, 202406)"),
                )
                .into());
            }
        }
        let d = db(ctx)?;
        let mut q = crate::services::values::ValueQuery {
            include_deleted: known_at.is_some(),
            period_from: f.period_from,
            period_to: f.period_to,
            statuses: f.statuses.map(|s| s.into_iter().map(Into::into).collect()),
            disaggregation: f.disaggregation,
            ..Default::default()
        };
        if let Some(codes) = &f.indicator_codes {
            let found = crate::services::plans::indicators_by_codes(
                d,
                codes.iter().map(|c| c.trim()).collect(),
            )
            .await?;
            q.indicators = Some(found.values().map(|i| i.id).collect());
        }
        if let Some(code) = &f.unit_code {
            crate::graphql::query::check_code(code)?;
            let units = crate::graphql::context::units(ctx).await?;
            let roots = units.with_code(code, None);
            q.of_units(&units, &roots, f.include_descendants);
        }
        let args = PageArgs {
            after,
            first,
            ..Default::default()
        };
        let request = pagination::page_request(&args, max_page(ctx))?;
        let visible = access(ctx)?.visible_values();
        let (mut rows, total) = crate::services::values::page(d, &visible, &q, &request).await?;
        if let Some(at) = known_at {
            let ids: Vec<i64> = rows.rows.iter().map(|v| v.id).collect();
            let then = crate::services::values::known_at(d, &ids, at.0).await?;
            let internal = access(ctx)?.value_scope_test().await?;
            rows.rows = rows
                .rows
                .into_iter()
                .filter_map(|mut v| {
                    let r = then.get(&v.id)?;
                    if r.deleted
                        || (!internal(v.admin_unit_id) && r.status != E::ValueStatus::Published)
                    {
                        return None;
                    }
                    v.value = r.value.clone();
                    v.status = r.status;
                    v.comment = r.comment.clone();
                    v.version = r.version;
                    v.updated_at = r.changed_at;
                    v.deleted = false;
                    Some(v)
                })
                .collect();
        }
        let page = pagination::Page::from_rows(
            rows.map(|v| IndicatorValue(Arc::new(v))),
            |v: &IndicatorValue| (String::new(), v.0.id),
            total,
        );
        Ok(IndicatorValueConnection { page })
    }

    /// An indicator rolled up over the units at `level` (default `COMMUNE`) under a unit, for
    /// a period: the values you may read (published ones for everyone), optionally the
    /// approved and published ones only, with completeness.
    #[allow(clippy::too_many_arguments)]
    async fn indicator_aggregate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Indicator code.")] indicator_code: String,
        #[graphql(desc = "Unit code, resolved at the period's end.")] unit_code: String,
        #[graphql(desc = "DHIS2 period.")] period: String,
        #[graphql(desc = "The level of the units rolled up (default COMMUNE).")] level: Option<
            super::units::AdminLevel,
        >,
        #[graphql(desc = "Disaggregation.", default_with = "String::from(\"total\")")]
        disaggregation: String,
        #[graphql(desc = "Only approved and published values.", default = false)]
        approved_only: bool,
    ) -> Result<Option<IndicatorAggregate>> {
        let d = db(ctx)?;
        let p = crate::period::Period::parse(&period).ok_or_else(|| {
            AppError::bad_input(
                "period",
                "not a DHIS2 period (2024, 2024S1, 2024Q3, 202406)",
            )
        })?;
        crate::graphql::query::check_code(&unit_code)?;
        let Some(ind) = crate::services::plans::indicator_by_code(d, &indicator_code).await? else {
            return Err(AppError::bad_input("indicatorCode", "no such indicator").into());
        };
        let Some(root) = crate::services::units::by_code(d, &unit_code, p.end(), None).await?
        else {
            return Ok(None);
        };
        let level = level.unwrap_or(super::units::AdminLevel::Commune);
        let agg = crate::services::value_aggregate::aggregate(
            d,
            &access(ctx)?.visible_values(),
            &ind,
            &root,
            period.trim(),
            level.into(),
            disaggregation.trim(),
            approved_only,
        )
        .await?;
        let day = p.end();
        let reported: std::collections::HashSet<i64> = agg.reported.iter().copied().collect();
        let expected = agg.expected.len();
        Ok(Some(IndicatorAggregate {
            indicator: Indicator(Arc::new(ind)),
            unit: AdminUnit::from_node(UnitNode::new(Arc::new(root), day)),
            period: period.trim().to_string(),
            level,
            disaggregation: disaggregation.trim().to_string(),
            value: agg.value.map(|v| Decimal(v.to_string())),
            units_expected: expected,
            units_reported: reported.len(),
            completeness: if expected == 0 {
                0.0
            } else {
                reported.len() as f64 / expected as f64
            },
            missing: agg
                .expected
                .into_iter()
                .filter(|u| !reported.contains(&u.id))
                .take(500)
                .map(|u| AdminUnit::from_node(UnitNode::new(Arc::new(u), day)))
                .collect(),
        }))
    }

    /// The change feed: every committed change of the values you may read, in commit order,
    /// deletions as tombstones; a value that leaves your view (a published value reopened)
    /// appears as deleted. A cursor neither skips nor repeats a change, whatever order
    /// concurrent writers commit in.
    async fn indicator_value_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `cursor` of the last entry read; none: from the start.")]
        after: Option<String>,
        #[graphql(
            desc = "At most this many (default 100; at most 1,000, or the page maximum when it is larger)."
        )]
        first: Option<i32>,
    ) -> Result<IndicatorValueChangePage> {
        // Integrators catch up in large pages: the feed takes up to 1,000 whatever MAX_PAGE_SIZE.
        let most = max_page(ctx).max(FEED_PAGE_MAX);
        let limit = match first {
            None => 100,
            Some(n) if n < 0 || n as usize > most => {
                return Err(AppError::bad_input("first", format!("from 0 to {most}")).into());
            }
            Some(n) => n as u64,
        };
        let position = match &after {
            None => None,
            Some(c) => {
                let (seq, id) = pagination::decode_cursor("after", c)?;
                let seq: i64 = seq
                    .parse()
                    .map_err(|_| AppError::bad_input("after", "not a cursor of this feed"))?;
                Some((seq, id))
            }
        };
        let a = access(ctx)?;
        let in_scope = a.value_scope_test().await?;
        let rows =
            crate::services::values::feed_page(db(ctx)?, &a.values_in_scope(), position, limit + 1)
                .await?;
        let has_next_page = rows.len() as u64 > limit;
        let entries: Vec<IndicatorValueChange> = rows
            .into_iter()
            .take(limit as usize)
            .map(|(c, unit)| {
                let seq = c.commit_seq.unwrap_or_default();
                let as_is =
                    in_scope(unit) || (c.status == Some(E::ValueStatus::Published) && !c.deleted);
                let gone = c.deleted || !as_is;
                IndicatorValueChange {
                    cursor: pagination::encode_cursor(&(seq.to_string(), c.id)),
                    commit_number: seq,
                    value_id: node_id("IndicatorValue", c.indicator_value_id),
                    deleted: gone,
                    indicator_code: c.indicator_code,
                    unit_code: c.unit_code,
                    period: c.period,
                    disaggregation: c.disaggregation,
                    value: if gone {
                        None
                    } else {
                        c.value.map(|d| Decimal(d.as_str().to_string()))
                    },
                    status: if gone { None } else { c.status.map(Into::into) },
                    changed_at: DateTime(c.changed_at),
                }
            })
            .collect();
        let end_cursor = entries.last().map(|e| e.cursor.clone()).or(after);
        Ok(IndicatorValueChangePage {
            entries,
            end_cursor,
            has_next_page,
        })
    }
}

/// One figure to submit: codes and text, checked row by row.
#[derive(InputObject)]
pub struct IndicatorValueInput {
    /// Indicator code.
    pub indicator_code: String,
    /// Unit code: resolved at the period's end (a late 2024 figure goes to the 2024 commune).
    pub unit_code: String,
    /// DHIS2 period: 2024, 2024S1, 2024Q3, 202406.
    pub period: String,
    /// Disaggregation (default `total`).
    pub disaggregation: Option<String>,
    /// The value as a decimal string ("6.5", "14780").
    pub value: String,
    /// A comment.
    pub comment: Option<String>,
}

/// A batch of figures.
#[derive(InputObject)]
pub struct SubmitIndicatorValuesInput {
    /// Up to 10,000 rows; all are written or none.
    pub values: Vec<IndicatorValueInput>,
    /// Keep them as drafts rather than submitting them (users only).
    #[graphql(default)]
    pub draft: bool,
    /// Check and count, write nothing.
    #[graphql(default)]
    pub dry_run: bool,
}

/// What a batch wrote (or would write).
#[derive(SimpleObject)]
pub struct SubmitIndicatorValuesPayload {
    /// New values.
    pub created: usize,
    /// Changed values.
    pub updated: usize,
    /// Rows equal to what is stored: nothing written, no version moved.
    pub unchanged: usize,
    /// Whether it was only tried.
    pub dry_run: bool,
    /// The values, in the order of the rows.
    pub values: Vec<IndicatorValue>,
}

/// Values to move a step in their review, or delete.
#[derive(InputObject)]
pub struct IndicatorValueIdsInput {
    /// The values (global ids); all move or none.
    pub ids: Vec<ID>,
    /// Why (required to reject; optional to reopen).
    pub reason: Option<String>,
}

/// The values after the step.
#[derive(SimpleObject)]
pub struct IndicatorValuesPayload {
    /// The values as they now stand.
    pub values: Vec<IndicatorValue>,
}

/// The largest page of the change feed, whatever the page maximum of lists.
const FEED_PAGE_MAX: usize = 1_000;

/// Refuses a batch: every bad row as one error with its index and field; nothing written.
fn refuse_rows(ctx: &Context<'_>, errors: Vec<uc::RowError>) -> async_graphql::Error {
    let mut all: Vec<async_graphql::Error> = errors
        .into_iter()
        .map(|e| {
            let base = if e.forbidden {
                AppError::Forbidden(e.message).extend()
            } else {
                AppError::bad_input(e.field, e.message).extend()
            };
            base.extend_with(|_, x| {
                x.set("index", e.index as u64);
                x.set("field", e.field);
            })
        })
        .collect();
    let last = all
        .pop()
        .unwrap_or_else(|| AppError::internal("no row error").extend());
    for e in all {
        ctx.add_error(
            e.into_server_error(ctx.item.pos).with_path(
                ctx.path_node
                    .map(|p| p.to_string_vec())
                    .unwrap_or_default()
                    .into_iter()
                    .map(async_graphql::PathSegment::Field)
                    .collect(),
            ),
        );
    }
    last
}

fn ids(list: &[ID]) -> AppResult<Vec<i64>> {
    list.iter()
        .enumerate()
        .map(|(i, id)| {
            decode_node_id_of("IndicatorValue", id).ok_or_else(|| {
                AppError::bad_input("ids", format!("entry {i} is not an IndicatorValue id"))
            })
        })
        .collect()
}

async fn step(
    ctx: &Context<'_>,
    input: IndicatorValueIdsInput,
    step: uc::Step,
) -> Result<IndicatorValuesPayload> {
    let who = caller(ctx)?;
    let ids = ids(&input.ids)?;
    match uc::step(db(ctx)?, &who, &ids, step).await? {
        Ok(vals) => Ok(IndicatorValuesPayload {
            values: vals
                .into_iter()
                .map(|v| IndicatorValue(Arc::new(v)))
                .collect(),
        }),
        Err(errors) => Err(refuse_rows(ctx, errors)),
    }
}

/// An indicator to add to the catalogue.
#[derive(InputObject)]
pub struct CreateIndicatorInput {
    /// Code: upper-case ASCII letters, digits and `_` (`GRDP_GROWTH`).
    pub code: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Unit of measure ("%", "tỷ đồng").
    pub unit_of_measure: String,
    /// Category (default `ECONOMY`).
    pub category: Option<super::plans::IndicatorCategory>,
    /// Whether higher or lower is better (default `HIGHER_IS_BETTER`).
    pub direction: Option<super::plans::Direction>,
    /// How lower units' values combine (default `NONE`).
    pub aggregation: Option<super::plans::Aggregation>,
    /// The disaggregations its values may carry besides `total` (`["urban", "rural"]`); an
    /// empty list allows `total` only; absent or null, any disaggregation is taken.
    pub disaggregations: Option<Vec<String>>,
}

/// A change to an indicator; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateIndicatorInput {
    /// The indicator's code.
    pub code: String,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New unit of measure.
    pub unit_of_measure: Option<String>,
    /// New category.
    pub category: Option<super::plans::IndicatorCategory>,
    /// New direction.
    pub direction: Option<super::plans::Direction>,
    /// New aggregation.
    pub aggregation: Option<super::plans::Aggregation>,
    /// New list of the disaggregations allowed besides `total`; null takes any. A list that
    /// leaves out one that stored values use is refused.
    pub disaggregations: MaybeUndefined<Vec<String>>,
}

/// The indicator written.
#[derive(SimpleObject)]
pub struct IndicatorPayload {
    /// The indicator as it now stands.
    pub indicator: Indicator,
}

/// Submitting and reviewing indicator values.
#[derive(Default)]
pub struct ValuesMutation;

/// Submitting and reviewing indicator values.
#[Object]
impl ValuesMutation {
    /// Submits up to 10,000 figures for units of your scope valid at each period's end:
    /// reporters, managers, and service accounts with `values:write` (theirs arrive
    /// `SUBMITTED`). All or nothing; every bad row is one error with `index` and `field`. The
    /// same figure again changes nothing ("6.5" equals "6.50").
    async fn submit_indicator_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The batch.")] input: SubmitIndicatorValuesInput,
    ) -> Result<SubmitIndicatorValuesPayload> {
        let who = caller(ctx)?;
        let rows = input
            .values
            .into_iter()
            .map(|v| uc::RowIn {
                indicator: v.indicator_code,
                unit: v.unit_code,
                period: v.period,
                disaggregation: v.disaggregation,
                value: v.value,
                comment: v.comment,
            })
            .collect();
        match uc::submit(db(ctx)?, &who, rows, input.draft, input.dry_run).await? {
            Ok(done) => Ok(SubmitIndicatorValuesPayload {
                created: done.created,
                updated: done.updated,
                unchanged: done.unchanged,
                dry_run: input.dry_run,
                values: done
                    .values
                    .into_iter()
                    .map(|v| IndicatorValue(Arc::new(v)))
                    .collect(),
            }),
            Err(errors) => Err(refuse_rows(ctx, errors)),
        }
    }

    /// Adds an indicator to the catalogue (managers and admins).
    async fn create_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator.")] input: CreateIndicatorInput,
    ) -> Result<IndicatorPayload> {
        let who = caller(ctx)?;
        let f = crate::app::indicators::IndicatorFields {
            name: Some(input.name),
            description: input.description,
            unit_of_measure: Some(input.unit_of_measure),
            category: input.category.map(Into::into),
            direction: input.direction.map(Into::into),
            aggregation: input.aggregation.map(Into::into),
            disaggregations: Some(input.disaggregations),
        };
        let i = crate::app::indicators::create(db(ctx)?, &who, &input.code, f).await?;
        Ok(IndicatorPayload {
            indicator: Indicator(Arc::new(i)),
        })
    }

    /// Changes an indicator (national managers and admins: the catalogue is shared).
    async fn update_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: UpdateIndicatorInput,
    ) -> Result<IndicatorPayload> {
        let who = caller(ctx)?;
        let f = crate::app::indicators::IndicatorFields {
            name: input.name,
            description: input.description,
            unit_of_measure: input.unit_of_measure,
            category: input.category.map(Into::into),
            direction: input.direction.map(Into::into),
            aggregation: input.aggregation.map(Into::into),
            disaggregations: match input.disaggregations {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(list) => Some(Some(list)),
            },
        };
        let i = crate::app::indicators::update(db(ctx)?, &who, &input.code, f).await?;
        Ok(IndicatorPayload {
            indicator: Indicator(Arc::new(i)),
        })
    }

    /// Approves submitted values (managers of a unit above): they lock.
    async fn approve_indicator_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values.")] input: IndicatorValueIdsInput,
    ) -> Result<IndicatorValuesPayload> {
        step(ctx, input, uc::Step::Approve).await
    }

    /// Rejects submitted values with a reason (managers of a unit above).
    async fn reject_indicator_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values and the reason.")] input: IndicatorValueIdsInput,
    ) -> Result<IndicatorValuesPayload> {
        let reason = input.reason.clone().unwrap_or_default();
        step(ctx, input, uc::Step::Reject(reason)).await
    }

    /// Publishes approved values (managers of a unit above): anyone reads them.
    async fn publish_indicator_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values.")] input: IndicatorValueIdsInput,
    ) -> Result<IndicatorValuesPayload> {
        step(ctx, input, uc::Step::Publish).await
    }

    /// Reopens approved or published values for change (managers of a unit above).
    async fn reopen_indicator_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values and, optionally, why.")] input: IndicatorValueIdsInput,
    ) -> Result<IndicatorValuesPayload> {
        let reason = input.reason.clone();
        step(ctx, input, uc::Step::Reopen(reason)).await
    }

    /// Deletes values (a tombstone the feed carries): submitters while not approved,
    /// managers of a unit above at any time.
    async fn delete_indicator_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values.")] input: IndicatorValueIdsInput,
    ) -> Result<IndicatorValuesPayload> {
        step(ctx, input, uc::Step::Delete).await
    }
}

/// A value by id for `node`: none when there is none (or it was deleted), the refusal when
/// it may not be read (unpublished, outside the caller's scope).
pub(crate) async fn value_node(ctx: &Context<'_>, id: i64) -> Result<Option<IndicatorValue>> {
    let v = match crate::services::values::by_id(db(ctx)?, id).await {
        Ok(v) if !v.deleted => v,
        Ok(_) | Err(AppError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let a = access(ctx)?;
    if v.status == E::ValueStatus::Published || a.value_scope_test().await?(v.admin_unit_id) {
        Ok(Some(IndicatorValue(Arc::new(v))))
    } else {
        Err(a.denied("this value").into())
    }
}

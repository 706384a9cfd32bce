//! Indicator values: submitted in batches by reporters, managers and service accounts for the
//! units of their scope valid at the period's end; approved, rejected, published and reopened
//! by managers of a unit above; deleted as tombstones. Each call is one transaction that ends
//! with the change feed's commit number (`services::values`); a bad row anywhere writes
//! nothing and every bad row is reported.

use super::Caller;
use crate::error::{AppError, AppResult};
use crate::period::Period;
use crate::services::{audit, values};
use entity::enums::ValueStatus;
use entity::{admin_unit, indicator, indicator_value};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// The most rows one call takes.
pub const MAX_ROWS: usize = 10_000;

/// One row as given: codes, a DHIS2 period and a decimal as text.
#[derive(Clone, Debug)]
pub struct RowIn {
    /// Indicator code.
    pub indicator: String,
    /// Unit code, resolved at the period's end.
    pub unit: String,
    /// DHIS2 period.
    pub period: String,
    /// Disaggregation (default `total`).
    pub disaggregation: Option<String>,
    /// The value, a decimal ("6.5"; "6.50" is the same value).
    pub value: String,
    /// A comment.
    pub comment: Option<String>,
}

/// A refused row (or id): which, which field, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// Its index in the call.
    pub index: usize,
    /// The field at fault.
    pub field: &'static str,
    /// Why.
    pub message: String,
    /// Whether it is a refusal of the caller (`FORBIDDEN`) rather than bad input.
    pub forbidden: bool,
}

/// What a submission did (or would do, in a dry run).
#[derive(Clone, Debug, Default)]
pub struct Submitted {
    /// New values.
    pub created: usize,
    /// Values changed.
    pub updated: usize,
    /// Rows equal to what is stored: nothing written, no version moved.
    pub unchanged: usize,
    /// The values written or found, in the order of the rows.
    pub values: Vec<indicator_value::Model>,
}

/// The result of a batch: done, or the rows refused (nothing written).
pub type Batch<T> = Result<T, Vec<RowError>>;

fn err(index: usize, field: &'static str, message: impl Into<String>) -> RowError {
    RowError {
        index,
        field,
        message: message.into(),
        forbidden: false,
    }
}

fn refused(index: usize, field: &'static str, message: impl Into<String>) -> RowError {
    RowError {
        forbidden: true,
        ..err(index, field, message)
    }
}

/// A row that passed its checks, ready to write.
#[derive(Clone, Debug)]
pub struct Checked {
    /// Its index among the rows given.
    pub index: usize,
    /// The value's key.
    pub key: values::Key,
    /// The value.
    pub value: Decimal,
    /// The comment.
    pub comment: Option<String>,
    /// The indicator's code, for the feed.
    pub indicator_code: String,
    /// The unit's code, for the feed.
    pub unit_code: String,
}

/// The status a caller's submission arrives in: `DRAFT` when a user asks for drafts, else
/// `SUBMITTED` (service accounts' values always).
pub fn arrival_status(caller: &Caller, draft: bool) -> AppResult<ValueStatus> {
    caller.access.authorize_value_submission()?;
    let p = caller.access.require()?;
    Ok(if draft && p.kind == crate::auth::PrincipalKind::User {
        ValueStatus::Draft
    } else {
        ValueStatus::Submitted
    })
}

/// An indicator as rows are checked against it.
struct Known {
    model: indicator::Model,
    /// The disaggregations it allows besides `total` (`None`: any).
    allowed: Option<HashSet<String>>,
}

/// What rows are checked against: the catalogue, every version of the units by code, and the
/// caller's scope. Filled as codes come (one statement for the codes not seen before), so that
/// a file read in chunks looks each code up once.
pub struct Lookup<'a> {
    indicators: HashMap<String, Option<Known>>,
    units: HashMap<String, Vec<admin_unit::Model>>,
    in_scope: Box<dyn Fn(i64) -> bool + Send + Sync + 'a>,
}

impl<'a> Lookup<'a> {
    /// An empty lookup for `caller` (its scope read now: one statement at most).
    pub async fn new(caller: &'a Caller) -> AppResult<Self> {
        caller.access.authorize_value_submission()?;
        Ok(Self {
            indicators: HashMap::new(),
            units: HashMap::new(),
            in_scope: caller.access.scope_test().await?,
        })
    }

    /// Looks up the codes of `rows` not seen yet: two statements at most.
    async fn learn(&mut self, db: &DatabaseConnection, rows: &[RowIn]) -> AppResult<()> {
        let codes: HashSet<&str> = rows
            .iter()
            .map(|r| r.indicator.trim())
            .filter(|c| !self.indicators.contains_key(*c))
            .collect();
        if !codes.is_empty() {
            let found = crate::services::plans::indicators_by_codes(db, codes.clone()).await?;
            for c in codes {
                let known = found.get(c).map(|m| Known {
                    allowed: crate::app::indicators::allowed_disaggregations(m)
                        .map(|l| l.into_iter().collect()),
                    model: m.clone(),
                });
                self.indicators.insert(c.to_string(), known);
            }
        }
        let codes: HashSet<&str> = rows
            .iter()
            .map(|r| r.unit.trim())
            .filter(|c| !self.units.contains_key(*c))
            .collect();
        if !codes.is_empty() {
            for c in &codes {
                self.units.insert(c.to_string(), Vec::new());
            }
            for u in admin_unit::Entity::find()
                .filter(admin_unit::Column::Code.is_in(codes))
                .all(db)
                .await?
            {
                self.units.entry(u.code.clone()).or_default().push(u);
            }
        }
        Ok(())
    }
}

/// Checks rows against the catalogue, the units valid at each period's end and the caller's
/// scope (three statements, whatever the number of rows): the rows that pass, and every
/// refusal. `offset` is added to the indexes (for files read in chunks).
pub async fn check(
    db: &DatabaseConnection,
    caller: &Caller,
    rows: &[RowIn],
    offset: usize,
) -> AppResult<(Vec<Checked>, Vec<RowError>)> {
    let mut lookup = Lookup::new(caller).await?;
    check_with(db, &mut lookup, rows, offset).await
}

/// [`check`] with a lookup kept across calls (a file read in chunks).
pub async fn check_with(
    db: &DatabaseConnection,
    lookup: &mut Lookup<'_>,
    rows: &[RowIn],
    offset: usize,
) -> AppResult<(Vec<Checked>, Vec<RowError>)> {
    lookup.learn(db, rows).await?;
    let inds = &lookup.indicators;
    let units = &lookup.units;
    let in_scope = &lookup.in_scope;

    let mut errors = Vec::new();
    let mut checked: Vec<Checked> = Vec::new();
    let mut seen: HashMap<values::Key, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let index = i + offset;
        let known = inds.get(r.indicator.trim()).and_then(Option::as_ref);
        let ind = known.map(|k| &k.model);
        if ind.is_none() {
            errors.push(err(
                index,
                "indicatorCode",
                format!("no indicator `{}`", r.indicator),
            ));
        }
        let period = Period::parse(&r.period);
        if period.is_none() || r.period.trim().len() > 8 {
            errors.push(err(
                index,
                "period",
                format!(
                    "`{}` is not a DHIS2 period (2024, 2024S1, 2024Q3, 202406)",
                    r.period
                ),
            ));
        }
        let value = Decimal::from_str_exact(r.value.trim())
            .or_else(|_| Decimal::from_str(r.value.trim()))
            .ok()
            .filter(|_| r.value.trim().len() <= 40);
        if value.is_none() {
            errors.push(err(
                index,
                "value",
                format!("`{}` is not a decimal", r.value),
            ));
        }
        let disaggregation = r
            .disaggregation
            .as_deref()
            .map(crate::text::clean)
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "total".into());
        if disaggregation.chars().count() > 64 {
            errors.push(err(index, "disaggregation", "at most 64 characters"));
        } else if let Some(k) = known
            && let Some(allowed) = &k.allowed
            && disaggregation != "total"
            && !allowed.contains(&disaggregation)
        {
            let mut list: Vec<&str> = allowed.iter().map(String::as_str).collect();
            list.sort_unstable();
            list.insert(0, "total");
            errors.push(err(
                index,
                "disaggregation",
                format!(
                    "`{disaggregation}` is not a disaggregation of {}: one of {}",
                    k.model.code,
                    list.join(", ")
                ),
            ));
        }
        let unit = match (units.get(r.unit.trim()).filter(|v| !v.is_empty()), period) {
            (None, _) => {
                errors.push(err(index, "unitCode", format!("no unit `{}`", r.unit)));
                None
            }
            (Some(_), None) => None,
            (Some(versions), Some(p)) => {
                let end = p.end();
                match versions
                    .iter()
                    .find(|u| crate::services::validity::contains(u.valid_from, u.valid_to, end))
                {
                    None => {
                        errors.push(err(
                            index,
                            "unitCode",
                            format!(
                                "no unit `{}` at the end of {} ({end}): a value belongs to the unit valid then",
                                r.unit, r.period
                            ),
                        ));
                        None
                    }
                    Some(u) if !in_scope(u.id) => {
                        errors.push(refused(
                            index,
                            "unitCode",
                            format!("{} ({}) is outside your scope", u.name, u.code),
                        ));
                        None
                    }
                    Some(u) => Some(u),
                }
            }
        };
        if let (Some(ind), Some(unit), Some(value)) = (ind, unit, value) {
            let key = (ind.id, unit.id, r.period.trim().to_string(), disaggregation);
            if let Some(first) = seen.insert(key.clone(), index) {
                errors.push(err(
                    index,
                    "period",
                    format!(
                        "the same value as row {first} (indicator, unit, period, disaggregation)"
                    ),
                ));
                continue;
            }
            let comment = r
                .comment
                .as_deref()
                .map(crate::text::clean)
                .filter(|c| !c.is_empty());
            checked.push(Checked {
                index,
                key,
                value,
                comment,
                indicator_code: ind.code.clone(),
                unit_code: unit.code.clone(),
            });
        }
    }
    Ok((checked, errors))
}

/// `submitIndicatorValues`: all rows or none. Reporters and managers submit `SUBMITTED` (or
/// `DRAFT`) values; service accounts' values arrive `SUBMITTED`. The same row again changes
/// nothing. An approved or published value is locked until a manager reopens it.
pub async fn submit(
    db: &DatabaseConnection,
    caller: &Caller,
    rows: Vec<RowIn>,
    draft: bool,
    dry_run: bool,
) -> AppResult<Batch<Submitted>> {
    let status = arrival_status(caller, draft)?;
    if rows.len() > MAX_ROWS {
        return Err(AppError::bad_input(
            "values",
            format!("at most {MAX_ROWS} rows a call"),
        ));
    }
    let (checked, errors) = check(db, caller, &rows, 0).await?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let txn = super::begin(db, caller).await?;
    values::take_turn(&txn).await?;
    let (out, changes, errors) = write(&txn, caller, checked, status).await?;
    if !errors.is_empty() {
        txn.rollback().await?;
        return Ok(Err(errors));
    }
    if dry_run {
        txn.rollback().await?;
        return Ok(Ok(out));
    }
    finish(txn, caller, &out, changes, status).await?;
    Ok(Ok(out))
}

/// Writes checked rows inside the caller's transaction (after [`values::take_turn`]): what
/// was written, the feed entries to commit, and the rows refused because their value is
/// locked (approved or published).
pub async fn write(
    txn: &sea_orm::DatabaseTransaction,
    caller: &Caller,
    checked: Vec<Checked>,
    status: ValueStatus,
) -> AppResult<(Submitted, Vec<values::Change>, Vec<RowError>)> {
    let who = caller.actor.name.clone();
    let keys: Vec<values::Key> = checked.iter().map(|c| c.key.clone()).collect();
    let found = values::existing(txn, &keys).await?;
    let provinces = crate::services::scope::provinces_of(
        txn,
        keys.iter().filter(|k| !found.contains_key(*k)).map(|k| k.1),
    )
    .await?;
    let mut out = Submitted::default();
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    for c in checked {
        let (index, key, value, comment) = (c.index, c.key, c.value, c.comment);
        let row = match found.get(&key) {
            None => {
                out.created += 1;
                let province = provinces.get(&key.1).cloned();
                values::new_row(
                    &key,
                    value,
                    comment,
                    status,
                    &who,
                    caller.actor.user_id,
                    province,
                )
            }
            Some(v) => {
                let same = !v.deleted
                    && v.value.as_ref().and_then(|d| d.to_decimal().ok()) == Some(value)
                    && v.comment == comment
                    && (v.status == status
                        || matches!(v.status, ValueStatus::Approved | ValueStatus::Published));
                if same {
                    out.unchanged += 1;
                    out.values.push(v.clone());
                    continue;
                }
                if !v.deleted && matches!(v.status, ValueStatus::Approved | ValueStatus::Published)
                {
                    errors.push(err(
                        index,
                        "value",
                        format!(
                            "the value is {}: a manager reopens it before it changes",
                            v.status.to_value_str()
                        ),
                    ));
                    continue;
                }
                out.updated += 1;
                values::changed(v, |m| {
                    m.value = Set(Some(entity::DecimalText::new(value)));
                    m.comment = Set(comment.clone());
                    m.status = Set(status);
                    m.deleted = Set(false);
                    m.status_reason = Set(None);
                    m.stored_by = Set(Some(who.clone()));
                    m.stored_by_user_id = Set(caller.actor.user_id);
                })
            }
        };
        let saved = values::save(txn, row, &who).await?;
        changes.push(values::Change {
            value: saved.clone(),
            indicator_code: c.indicator_code,
            unit_code: c.unit_code,
        });
        out.values.push(saved);
    }
    Ok((out, changes, errors))
}

/// Ends a submission: its audit event, its feed entries under the commit number, the commit.
pub async fn finish(
    txn: sea_orm::DatabaseTransaction,
    caller: &Caller,
    out: &Submitted,
    changes: Vec<values::Change>,
    status: ValueStatus,
) -> AppResult<()> {
    if let Some(first) = changes.first() {
        audit::record(
            &txn,
            &caller.actor,
            "indicator_values.submit",
            "indicator_value",
            first.value.id,
            None,
            Some(serde_json::json!({
                "created": out.created, "updated": out.updated, "unchanged": out.unchanged,
                "status": status.to_value_str(),
            })),
        )
        .await?;
    }
    values::commit_changes(&txn, changes).await?;
    super::commit(txn, caller).await
}
/// A step of a value's review, or its deletion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `SUBMITTED` → `APPROVED` (managers above).
    Approve,
    /// `SUBMITTED` → `REJECTED`, with a reason (managers above).
    Reject(String),
    /// `APPROVED` → `PUBLISHED` (managers above).
    Publish,
    /// `APPROVED` or `PUBLISHED` → `SUBMITTED`, unlocking it (managers above).
    Reopen(Option<String>),
    /// A tombstone: by its submitters while not approved, by managers above at any time.
    Delete,
}

impl Step {
    fn action(&self) -> &'static str {
        match self {
            Step::Approve => "indicator_values.approve",
            Step::Reject(_) => "indicator_values.reject",
            Step::Publish => "indicator_values.publish",
            Step::Reopen(_) => "indicator_values.reopen",
            Step::Delete => "indicator_values.delete",
        }
    }

    fn target_status(&self, s: ValueStatus) -> Option<ValueStatus> {
        use ValueStatus::*;
        match (self, s) {
            (Step::Approve, Submitted) => Some(Approved),
            (Step::Reject(_), Submitted) => Some(Rejected),
            (Step::Publish, Approved) => Some(Published),
            (Step::Reopen(_), Approved | Published) => Some(Submitted),
            (Step::Delete, s) => Some(s),
            _ => None,
        }
    }
}

/// Applies one step to values by id: all or none, every refused id reported.
pub async fn step(
    db: &DatabaseConnection,
    caller: &Caller,
    ids: &[i64],
    step: Step,
) -> AppResult<Batch<Vec<indicator_value::Model>>> {
    let access = &caller.access;
    if ids.len() > MAX_ROWS {
        return Err(AppError::bad_input(
            "ids",
            format!("at most {MAX_ROWS} a call"),
        ));
    }
    let reviewer = access.authorize_value_review().is_ok();
    match &step {
        Step::Delete => {
            if !reviewer {
                access.authorize_value_submission()?;
            }
        }
        Step::Reject(reason) if reason.trim().is_empty() => {
            return Err(AppError::bad_input(
                "reason",
                "say why the values are rejected",
            ));
        }
        _ => access.authorize_value_review()?,
    }
    let reviews = access.review_test().await?;
    let in_scope = access.scope_test().await?;
    let who = caller.actor.name.clone();
    let txn = super::begin(db, caller).await?;
    values::take_turn(&txn).await?;
    let found: HashMap<i64, indicator_value::Model> = values::by_ids(&txn, ids)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let mut errors = Vec::new();
    let mut todo = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let Some(v) = found.get(id) else {
            errors.push(err(index, "ids", "no such value"));
            continue;
        };
        if !in_scope(v.admin_unit_id) && v.status != ValueStatus::Published {
            // As `node(id)` answers for a value one may not read.
            errors.push(refused(index, "ids", "this value is outside your scope"));
            continue;
        }
        if v.deleted {
            errors.push(err(index, "ids", "the value was deleted"));
            continue;
        }
        let allowed = match &step {
            Step::Delete => {
                reviews(v.admin_unit_id)
                    || (in_scope(v.admin_unit_id)
                        && !matches!(v.status, ValueStatus::Approved | ValueStatus::Published))
            }
            _ => reviews(v.admin_unit_id),
        };
        if !allowed {
            errors.push(refused(
                index,
                "ids",
                "not yours to change: values are reviewed by managers of a unit above",
            ));
            continue;
        }
        if matches!(step, Step::Approve | Step::Reject(_))
            && v.stored_by_user_id.is_some()
            && v.stored_by_user_id == caller.actor.user_id
        {
            errors.push(refused(
                index,
                "ids",
                "you stored this figure: another manager reviews it",
            ));
            continue;
        }
        let Some(to) = step.target_status(v.status) else {
            errors.push(err(
                index,
                "ids",
                format!("the value is {}", v.status.to_value_str()),
            ));
            continue;
        };
        todo.push((v.clone(), to));
    }
    if !errors.is_empty() {
        txn.rollback().await?;
        return Ok(Err(errors));
    }
    let codes = codes_of(&txn, todo.iter().map(|(v, _)| v)).await?;
    let mut out = Vec::new();
    let mut changes = Vec::new();
    for (v, to) in todo {
        let row = values::changed(&v, |m| {
            m.status = Set(to);
            match &step {
                Step::Delete => m.deleted = Set(true),
                Step::Reject(r) => m.status_reason = Set(Some(crate::text::clean(r))),
                Step::Reopen(r) => m.status_reason = Set(r.as_deref().map(crate::text::clean)),
                _ => {}
            }
        });
        let saved = values::save(&txn, row, &who).await?;
        let (ind, unit) = codes.get(&saved.id).cloned().unwrap_or_default();
        changes.push(values::Change {
            value: saved.clone(),
            indicator_code: ind,
            unit_code: unit,
        });
        out.push(saved);
    }
    if let Some(first) = out.first() {
        audit::record(
            &txn,
            &caller.actor,
            step.action(),
            "indicator_value",
            first.id,
            None,
            Some(serde_json::json!({"ids": out.iter().map(|v| v.id).collect::<Vec<_>>()})),
        )
        .await?;
    }
    values::commit_changes(&txn, changes).await?;
    super::commit(txn, caller).await?;
    Ok(Ok(out))
}

/// The indicator and unit codes of values, by value id: two statements.
async fn codes_of<'a, C: sea_orm::ConnectionTrait>(
    db: &C,
    vals: impl Iterator<Item = &'a indicator_value::Model>,
) -> AppResult<HashMap<i64, (String, String)>> {
    let vals: Vec<&indicator_value::Model> = vals.collect();
    let inds: HashMap<i64, String> = indicator::Entity::find()
        .filter(indicator::Column::Id.is_in(vals.iter().map(|v| v.indicator_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.code))
        .collect();
    let units: HashMap<i64, String> = admin_unit::Entity::find()
        .filter(admin_unit::Column::Id.is_in(vals.iter().map(|v| v.admin_unit_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.code))
        .collect();
    Ok(vals
        .iter()
        .map(|v| {
            (
                v.id,
                (
                    inds.get(&v.indicator_id).cloned().unwrap_or_default(),
                    units.get(&v.admin_unit_id).cloned().unwrap_or_default(),
                ),
            )
        })
        .collect())
}

/// The word of a status.
trait Word {
    fn to_value_str(&self) -> String;
}

impl Word for ValueStatus {
    fn to_value_str(&self) -> String {
        sea_orm::ActiveEnum::to_value(self)
    }
}

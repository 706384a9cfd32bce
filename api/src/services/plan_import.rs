//! Importing plan files (docs/plan-files.md): one document a file, one transaction a file.
//!
//! Everything that can be checked without the database is checked first, with the line of the
//! offending item; references to units and agencies are checked inside the transaction, so a
//! file with any error writes nothing. A file whose content hash matches the one stored with its
//! plan changes nothing.

use crate::db;
use crate::error::{AppError, AppResult};
use crate::period::Period;
use crate::services::units;
use crate::text;
use chrono::{NaiveDate, Utc};
use entity::enums::{
    Aggregation, AssignmentStatus, ChangeUnit, Comparator, Direction, IndicatorCategory, PlanKind,
    PlanStatus, TargetMeasure, Visibility,
};
use entity::{
    DecimalText, agency, assignment, assignment_coordinator, assignment_target, indicator, plan,
    plan_addressee, plan_basis, reporting_duty, target,
};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, Iterable, QueryFilter,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use toml::Spanned;

/// The format version this code reads.
pub const FORMAT: u32 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    format: u32,
    plan: Spanned<PlanDef>,
    #[serde(default)]
    referenced: Vec<Spanned<ReferencedDef>>,
    #[serde(default)]
    agencies: Vec<Spanned<AgencyDef>>,
    #[serde(default)]
    indicators: Vec<Spanned<IndicatorDef>>,
    #[serde(default)]
    targets: Vec<Spanned<TargetDef>>,
    #[serde(default)]
    assignments: Vec<Spanned<AssignmentDef>>,
    #[serde(default)]
    reporting_duties: Vec<Spanned<DutyDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanDef {
    key: String,
    kind: String,
    number: Option<String>,
    title: String,
    unit: String,
    unit_as_of: Option<String>,
    issued_on: Option<String>,
    issuer: Option<String>,
    signer: Option<String>,
    period_from: Option<i32>,
    period_to: Option<i32>,
    status: Option<String>,
    visibility: Option<String>,
    source_url: Option<String>,
    implements: Option<String>,
    #[serde(default)]
    addressees: Vec<String>,
    #[serde(default)]
    bases: Vec<Spanned<BasisDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BasisDef {
    citation: String,
    plan: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferencedDef {
    key: String,
    kind: String,
    number: Option<String>,
    title: String,
    unit: String,
    unit_as_of: Option<String>,
    issued_on: Option<String>,
    issuer: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencyDef {
    key: String,
    name: String,
    short_name: Option<String>,
    kind: String,
    unit: String,
    unit_as_of: String,
    parent: Option<String>,
    valid_from: Option<String>,
    valid_to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorDef {
    code: String,
    name: String,
    unit_of_measure: String,
    category: String,
    direction: String,
    aggregation: String,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetDef {
    ordinal: Option<String>,
    wording: String,
    indicator: Option<String>,
    period: Option<String>,
    measure: Option<String>,
    change_unit: Option<String>,
    comparator: Option<String>,
    value: Option<String>,
    upper_value: Option<String>,
    baseline: Option<String>,
    baseline_period: Option<String>,
    unit_of_measure: Option<String>,
    disaggregation: Option<String>,
    unit: Option<String>,
    #[serde(default)]
    sub: Vec<Spanned<TargetDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentDef {
    ordinal: Option<String>,
    group: Option<String>,
    title: String,
    content: Option<String>,
    lead: Option<String>,
    #[serde(default)]
    leads: Vec<String>,
    #[serde(default)]
    coordinators: Vec<String>,
    #[serde(default)]
    targets: Vec<String>,
    due_on: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DutyDef {
    title: String,
    reporter: String,
    recipient: String,
    period: String,
    due_on: String,
    recurrence: Option<String>,
}

/// Recurrences of reporting duties.
pub const RECURRENCES: &[&str] = &["MONTHLY", "QUARTERLY", "SIX_MONTHLY", "ANNUAL"];

/// What importing one file did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// The plan was new.
    Created,
    /// The plan existed (or was only referenced) and was replaced by the file's content.
    Updated,
    /// The same file was imported before: nothing was written.
    Unchanged,
}

/// The result of importing one file.
#[derive(Clone, Debug)]
pub struct ImportReport {
    /// The plan's row id.
    pub plan_id: i64,
    /// The plan's key.
    pub plan_key: String,
    /// What happened.
    pub outcome: ImportOutcome,
    /// Top-level targets and sub-targets written.
    pub targets: usize,
    /// Assignments written (after expanding `leads`).
    pub assignments: usize,
    /// Agencies declared in the file.
    pub agencies: usize,
    /// Reporting duties written.
    pub reporting_duties: usize,
    /// Things kept but worth a look, each with its line.
    pub warnings: Vec<String>,
}

/// Byte offset → line number, for messages.
struct Lines<'a>(&'a str);

impl Lines<'_> {
    fn of(&self, offset: usize) -> usize {
        self.0[..offset.min(self.0.len())].matches('\n').count() + 1
    }
}

/// Validation context: the file's text for line numbers.
struct Ctx<'a> {
    lines: Lines<'a>,
}

impl Ctx<'_> {
    /// An error in the item at `span`. A message that starts with a field name ("due_on: …")
    /// points at that field's own line when the item has it, else at the item's first line.
    fn err(&self, span: &std::ops::Range<usize>, message: impl Into<String>) -> AppError {
        let message = message.into();
        let line = self
            .field_line(span, &message)
            .unwrap_or_else(|| self.lines.of(span.start));
        AppError::bad_input(format!("line {line}"), message)
    }

    /// The line of `field = …` among the item's own keys (before any nested table).
    fn field_line(&self, span: &std::ops::Range<usize>, message: &str) -> Option<usize> {
        let field = message.split(':').next()?.trim();
        if field.is_empty() || !field.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return None;
        }
        let body = self.lines.0.get(span.clone())?;
        let mut offset = span.start;
        for (i, line) in body.split_inclusive('\n').enumerate() {
            let t = line.trim_start();
            // A nested table's header ends the item's own keys.
            if i > 0 && t.starts_with('[') && !t.contains('"') && !t.contains('=') {
                break;
            }
            if let Some(rest) = t.strip_prefix(field)
                && rest.trim_start().starts_with('=')
            {
                return Some(self.lines.of(offset));
            }
            offset += line.len();
        }
        None
    }

    fn date(&self, span: &std::ops::Range<usize>, field: &str, v: &str) -> AppResult<NaiveDate> {
        NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .map_err(|_| self.err(span, format!("{field}: `{v}` is not a date (YYYY-MM-DD)")))
    }

    fn opt_date(
        &self,
        span: &std::ops::Range<usize>,
        field: &str,
        v: &Option<String>,
    ) -> AppResult<Option<NaiveDate>> {
        v.as_deref().map(|s| self.date(span, field, s)).transpose()
    }

    fn decimal(
        &self,
        span: &std::ops::Range<usize>,
        field: &str,
        v: &Option<String>,
    ) -> AppResult<Option<DecimalText>> {
        match v.as_deref().map(str::trim) {
            None => Ok(None),
            Some(s) => Decimal::from_str(s)
                .map(|d| Some(DecimalText::new(d)))
                .map_err(|_| {
                    self.err(
                        span,
                        format!("{field}: `{s}` is not a decimal (digits and a dot)"),
                    )
                }),
        }
    }

    fn word<E>(&self, span: &std::ops::Range<usize>, field: &str, v: &str) -> AppResult<E>
    where
        E: ActiveEnum<Value = String> + Iterable,
    {
        E::iter().find(|e| e.to_value() == v.trim()).ok_or_else(|| {
            let allowed: Vec<String> = E::iter().map(|e| e.to_value()).collect();
            self.err(
                span,
                format!("{field}: `{v}` is not one of {}", allowed.join(", ")),
            )
        })
    }

    fn period(
        &self,
        span: &std::ops::Range<usize>,
        field: &str,
        v: &Option<String>,
    ) -> AppResult<()> {
        match v {
            Some(p) if Period::parse(p).is_none() => Err(self.err(
                span,
                format!("{field}: `{p}` is not a period (2024, 2024S1, 2024Q3 or 202406)"),
            )),
            _ => Ok(()),
        }
    }
}

/// A target ready to insert, with its sub-targets.
struct TargetRow {
    ordinal: Option<String>,
    wording: String,
    indicator: Option<String>,
    period: Option<String>,
    measure: TargetMeasure,
    change_unit: Option<ChangeUnit>,
    comparator: Option<Comparator>,
    value: Option<DecimalText>,
    upper_value: Option<DecimalText>,
    baseline: Option<DecimalText>,
    baseline_period: Option<String>,
    unit_of_measure: Option<String>,
    disaggregation: String,
    unit: Option<String>,
    line: std::ops::Range<usize>,
    sub: Vec<TargetRow>,
}

fn check_target(ctx: &Ctx<'_>, t: &Spanned<TargetDef>) -> AppResult<TargetRow> {
    let span = t.span();
    let d = t.get_ref();
    if d.wording.trim().is_empty() {
        return Err(ctx.err(&span, "a target needs its wording"));
    }
    let measure = match &d.measure {
        Some(m) => ctx.word::<TargetMeasure>(&span, "measure", m)?,
        None => TargetMeasure::Level,
    };
    let change_unit = d
        .change_unit
        .as_deref()
        .map(|c| ctx.word::<ChangeUnit>(&span, "change_unit", c))
        .transpose()?;
    if measure != TargetMeasure::Level && change_unit.is_none() {
        return Err(ctx.err(
            &span,
            "change_unit: INCREASE and DECREASE need ABSOLUTE, PERCENT or PERCENTAGE_POINT",
        ));
    }
    let comparator = d
        .comparator
        .as_deref()
        .map(|c| ctx.word::<Comparator>(&span, "comparator", c))
        .transpose()?;
    let value = ctx.decimal(&span, "value", &d.value)?;
    let upper_value = ctx.decimal(&span, "upper_value", &d.upper_value)?;
    match comparator {
        Some(Comparator::Between) if value.is_none() || upper_value.is_none() => {
            return Err(ctx.err(&span, "upper_value: BETWEEN needs value and upper_value"));
        }
        Some(Comparator::Between) => {
            if let (Some(lo), Some(hi)) = (&value, &upper_value)
                && lo.to_decimal().ok() > hi.to_decimal().ok()
            {
                return Err(ctx.err(&span, "upper_value: below value"));
            }
        }
        Some(Comparator::Maintain) | None => {}
        Some(_) if value.is_none() => {
            return Err(ctx.err(&span, "value: the comparator needs a value"));
        }
        Some(_) if upper_value.is_some() => {
            return Err(ctx.err(&span, "upper_value: only BETWEEN has an upper value"));
        }
        Some(_) => {}
    }
    ctx.period(&span, "period", &d.period)?;
    ctx.period(&span, "baseline_period", &d.baseline_period)?;
    let sub = d
        .sub
        .iter()
        .map(|s| check_target(ctx, s))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(TargetRow {
        ordinal: d.ordinal.as_deref().map(text::clean),
        wording: text::clean(&d.wording),
        indicator: d.indicator.clone(),
        period: d.period.clone(),
        measure,
        change_unit,
        comparator,
        value,
        upper_value,
        baseline: ctx.decimal(&span, "baseline", &d.baseline)?,
        baseline_period: d.baseline_period.clone(),
        unit_of_measure: d.unit_of_measure.as_deref().map(text::clean),
        disaggregation: d
            .disaggregation
            .as_deref()
            .map(text::clean)
            .unwrap_or_else(|| "total".into()),
        unit: d.unit.clone(),
        line: span,
        sub,
    })
}

fn collect_ordinals(rows: &[TargetRow], out: &mut BTreeSet<String>) {
    for r in rows {
        if let Some(o) = &r.ordinal {
            out.insert(o.clone());
        }
        collect_ordinals(&r.sub, out);
    }
}

fn count_targets(rows: &[TargetRow]) -> usize {
    rows.iter().map(|r| 1 + count_targets(&r.sub)).sum()
}

/// The typed values of the document proper (`[plan]`).
struct PlanTyped {
    kind: PlanKind,
    status: PlanStatus,
    visibility: Visibility,
    issued_on: Option<NaiveDate>,
    /// The day the unit code is resolved at: the issue date, else `unit_as_of`.
    unit_day: NaiveDate,
}

/// The typed values of a `[[referenced]]` document.
struct ReferencedTyped {
    kind: PlanKind,
    issued_on: Option<NaiveDate>,
    unit_day: NaiveDate,
}

/// The typed values of an `[[agencies]]` declaration.
struct AgencyTyped {
    checked: super::agencies::Checked,
    unit_day: NaiveDate,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

/// The typed values of an `[[indicators]]` declaration.
struct IndicatorTyped {
    category: IndicatorCategory,
    direction: Direction,
    aggregation: Aggregation,
}

/// The typed values of an `[[assignments]]` item.
struct AssignmentTyped {
    due_on: Option<NaiveDate>,
    status: AssignmentStatus,
}

/// A plan file parsed once: the file as written (for its text fields and the spans that
/// point errors at lines), every date, word and number converted and checked, the targets as
/// rows, and the warnings. Nothing of it is parsed again when it is written.
pub struct PlanDocument<'a> {
    source: &'a str,
    file: PlanFile,
    plan: PlanTyped,
    referenced: Vec<ReferencedTyped>,
    agencies: Vec<AgencyTyped>,
    indicators: Vec<IndicatorTyped>,
    assignments: Vec<AssignmentTyped>,
    duty_days: Vec<NaiveDate>,
    targets: Vec<TargetRow>,
    warnings: Vec<String>,
}

impl PlanDocument<'_> {
    /// The plan's stable key.
    pub fn key(&self) -> &str {
        self.file.plan.get_ref().key.trim()
    }

    /// Whether the file declares documents known only by citation or indicators: both are
    /// shared beyond the plan's unit.
    pub fn declares_shared_records(&self) -> bool {
        !self.file.referenced.is_empty() || !self.file.indicators.is_empty()
    }

    /// The keys of the agencies the file declares (and so creates or updates).
    pub fn agency_keys(&self) -> Vec<&str> {
        self.file
            .agencies
            .iter()
            .map(|a| a.get_ref().key.trim())
            .collect()
    }
}

/// Parses and checks a plan file without touching the database: the typed document, or the
/// first error with its line.
pub fn parse_plan_file(text_in: &str) -> AppResult<PlanDocument<'_>> {
    let (file, targets, warnings) = parse(text_in)?;
    let ctx = Ctx {
        lines: Lines(text_in),
    };
    let day = |span: &std::ops::Range<usize>, issued: Option<NaiveDate>, as_of: &Option<String>| {
        match issued {
            Some(d) => Ok(d),
            None => ctx.date(span, "unit_as_of", as_of.as_deref().unwrap_or_default()),
        }
    };
    let plan_span = file.plan.span();
    let p = file.plan.get_ref();
    let issued_on = ctx.opt_date(&plan_span, "issued_on", &p.issued_on)?;
    let plan = PlanTyped {
        kind: ctx.word(&plan_span, "kind", &p.kind)?,
        status: match &p.status {
            Some(s) => ctx.word(&plan_span, "status", s)?,
            None => PlanStatus::Issued,
        },
        visibility: match &p.visibility {
            Some(v) => ctx.word(&plan_span, "visibility", v)?,
            None => Visibility::Public,
        },
        issued_on,
        unit_day: day(&plan_span, issued_on, &p.unit_as_of)?,
    };
    let mut referenced = Vec::new();
    for r in &file.referenced {
        let span = r.span();
        let d = r.get_ref();
        let issued_on = ctx.opt_date(&span, "issued_on", &d.issued_on)?;
        referenced.push(ReferencedTyped {
            kind: ctx.word(&span, "kind", &d.kind)?,
            issued_on,
            unit_day: day(&span, issued_on, &d.unit_as_of)?,
        });
    }
    let mut agencies = Vec::new();
    for a in &file.agencies {
        let span = a.span();
        let d = a.get_ref();
        agencies.push(AgencyTyped {
            checked: super::agencies::check(
                Some(&d.key),
                &d.name,
                d.short_name.as_deref(),
                &d.kind,
            )
            .map_err(|e| ctx.err(&span, e.detail()))?,
            unit_day: ctx.date(&span, "unit_as_of", &d.unit_as_of)?,
            valid_from: ctx.opt_date(&span, "valid_from", &d.valid_from)?,
            valid_to: ctx.opt_date(&span, "valid_to", &d.valid_to)?,
        });
    }
    let mut indicators = Vec::new();
    for i in &file.indicators {
        let span = i.span();
        let d = i.get_ref();
        indicators.push(IndicatorTyped {
            category: ctx.word(&span, "category", &d.category)?,
            direction: ctx.word(&span, "direction", &d.direction)?,
            aggregation: ctx.word(&span, "aggregation", &d.aggregation)?,
        });
    }
    let mut assignments = Vec::new();
    for a in &file.assignments {
        let span = a.span();
        let d = a.get_ref();
        assignments.push(AssignmentTyped {
            due_on: ctx.opt_date(&span, "due_on", &d.due_on)?,
            status: match &d.status {
                Some(s) => ctx.word(&span, "status", s)?,
                None => AssignmentStatus::NotStarted,
            },
        });
    }
    let mut duty_days = Vec::new();
    for r in &file.reporting_duties {
        duty_days.push(ctx.date(&r.span(), "due_on", &r.get_ref().due_on)?);
    }
    Ok(PlanDocument {
        source: text_in,
        file,
        plan,
        referenced,
        agencies,
        indicators,
        assignments,
        duty_days,
        targets,
        warnings,
    })
}

/// Checks a file's structure and rules without touching the database.
fn parse(text_in: &str) -> AppResult<(PlanFile, Vec<TargetRow>, Vec<String>)> {
    let ctx = Ctx {
        lines: Lines(text_in),
    };
    let file: PlanFile = toml::from_str(text_in).map_err(|e| {
        let line = e.span().map(|s| ctx.lines.of(s.start)).unwrap_or(1);
        AppError::bad_input(format!("line {line}"), e.message().to_string())
    })?;
    if file.format != FORMAT {
        return Err(AppError::bad_input(
            "line 1",
            format!("format {} is not {FORMAT}", file.format),
        ));
    }
    let mut warnings = Vec::new();
    let plan_span = file.plan.span();
    let p = file.plan.get_ref();
    ctx.word::<PlanKind>(&plan_span, "kind", &p.kind)?;
    if let Some(s) = &p.status {
        let status = ctx.word::<PlanStatus>(&plan_span, "status", s)?;
        if status == PlanStatus::Referenced {
            return Err(ctx.err(
                &plan_span,
                "status: a plan file holds the document itself, not a reference",
            ));
        }
    }
    if let Some(v) = &p.visibility {
        ctx.word::<Visibility>(&plan_span, "visibility", v)?;
    }
    ctx.opt_date(&plan_span, "issued_on", &p.issued_on)?;
    ctx.opt_date(&plan_span, "unit_as_of", &p.unit_as_of)?;
    if p.issued_on.is_none() && p.unit_as_of.is_none() {
        return Err(ctx.err(&plan_span, "unit_as_of: needed when issued_on is absent"));
    }
    if let (Some(a), Some(b)) = (p.period_from, p.period_to)
        && a > b
    {
        return Err(ctx.err(&plan_span, "period_to: before period_from"));
    }
    for r in &file.referenced {
        let span = r.span();
        let d = r.get_ref();
        ctx.word::<PlanKind>(&span, "kind", &d.kind)?;
        ctx.opt_date(&span, "issued_on", &d.issued_on)?;
        ctx.opt_date(&span, "unit_as_of", &d.unit_as_of)?;
        if d.issued_on.is_none() && d.unit_as_of.is_none() {
            return Err(ctx.err(&span, "unit_as_of: needed when issued_on is absent"));
        }
    }
    let mut agency_keys = BTreeSet::new();
    for a in &file.agencies {
        let span = a.span();
        let d = a.get_ref();
        if !agency_keys.insert(d.key.clone()) {
            return Err(ctx.err(&span, format!("key: agency `{}` is declared twice", d.key)));
        }
        // The one validation of agencies (services::agencies), at the declaration's line.
        super::agencies::check(Some(&d.key), &d.name, d.short_name.as_deref(), &d.kind)
            .map_err(|e| ctx.err(&span, e.detail()))?;
        ctx.date(&span, "unit_as_of", &d.unit_as_of)?;
        let from = ctx.opt_date(&span, "valid_from", &d.valid_from)?;
        let to = ctx.opt_date(&span, "valid_to", &d.valid_to)?;
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            return Err(ctx.err(&span, "valid_to: before valid_from"));
        }
    }
    for i in &file.indicators {
        let span = i.span();
        let d = i.get_ref();
        ctx.word::<IndicatorCategory>(&span, "category", &d.category)?;
        ctx.word::<Direction>(&span, "direction", &d.direction)?;
        ctx.word::<Aggregation>(&span, "aggregation", &d.aggregation)?;
    }
    let targets = file
        .targets
        .iter()
        .map(|t| check_target(&ctx, t))
        .collect::<AppResult<Vec<_>>>()?;
    let mut ordinals = BTreeSet::new();
    collect_ordinals(&targets, &mut ordinals);
    let mut seen_ordinals: HashMap<String, usize> = HashMap::new();
    for a in &file.assignments {
        let span = a.span();
        let d = a.get_ref();
        match (&d.lead, d.leads.is_empty()) {
            (Some(_), true) | (None, false) => {}
            _ => return Err(ctx.err(&span, "lead: give exactly one of lead or leads")),
        }
        if d.title.trim().is_empty() {
            return Err(ctx.err(&span, "title: an assignment needs a title"));
        }
        ctx.opt_date(&span, "due_on", &d.due_on)?;
        if let Some(s) = &d.status {
            ctx.word::<AssignmentStatus>(&span, "status", s)?;
        }
        for t in &d.targets {
            if !ordinals.contains(t.trim()) {
                return Err(ctx.err(&span, format!("targets: no target numbered `{t}`")));
            }
        }
        if let Some(o) = &d.ordinal {
            let line = ctx.lines.of(span.start);
            if let Some(first) = seen_ordinals.insert(o.trim().to_string(), line) {
                warnings.push(format!(
                    "line {line}: ordinal {o} repeats the one at line {first}; both kept"
                ));
            }
        }
    }
    for r in &file.reporting_duties {
        let span = r.span();
        let d = r.get_ref();
        ctx.date(&span, "due_on", &d.due_on)?;
        ctx.period(&span, "period", &Some(d.period.clone()))?;
        if let Some(rec) = &d.recurrence
            && !RECURRENCES.contains(&rec.as_str())
        {
            return Err(ctx.err(
                &span,
                format!(
                    "recurrence: `{rec}` is not one of {}",
                    RECURRENCES.join(", ")
                ),
            ));
        }
    }
    Ok((file, targets, warnings))
}

/// Resolves agency keys: those of the file, then those already stored.
struct Agencies {
    ids: HashMap<String, i64>,
}

impl Agencies {
    fn get(
        &self,
        ctx: &Ctx<'_>,
        span: &std::ops::Range<usize>,
        field: &str,
        key: &str,
    ) -> AppResult<i64> {
        self.ids.get(key.trim()).copied().ok_or_else(|| {
            ctx.err(
                span,
                format!("{field}: unknown agency `{key}`: declare it under [[agencies]]"),
            )
        })
    }
}

async fn unit_id<C: ConnectionTrait>(
    db: &C,
    ctx: &Ctx<'_>,
    span: &std::ops::Range<usize>,
    code: &str,
    date: NaiveDate,
) -> AppResult<i64> {
    units::by_code(db, code, date, None)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| ctx.err(span, format!("unit: no unit `{code}` on {date}")))
}

/// Whether the document of a plan file is already stored (not only as a reference).
pub async fn is_present(db: &DatabaseConnection, content: &str) -> AppResult<bool> {
    let (file, _, _) = parse(content)?;
    let key = file.plan.get_ref().key.trim().to_string();
    Ok(plan::Entity::find()
        .filter(plan::Column::Code.eq(key))
        .filter(plan::Column::Status.ne(PlanStatus::Referenced))
        .one(db)
        .await?
        .is_some())
}

/// Imports one plan file in a write transaction of its own (tests, tools; the audited use
/// case is `app::imports::plan_file`).
pub async fn import_plan_file(db: &DatabaseConnection, content: &str) -> AppResult<ImportReport> {
    let txn = db::begin_write(db).await?;
    let report = write_plan_file(&txn, content).await?;
    txn.commit().await?;
    Ok(report)
}

/// Parses one plan file and writes it inside the caller's write transaction; an unchanged
/// file writes nothing (`ImportOutcome::Unchanged`).
pub async fn write_plan_file(txn: &DatabaseTransaction, content: &str) -> AppResult<ImportReport> {
    write_plan_document(txn, &parse_plan_file(content)?).await
}

/// Writes a parsed plan document inside the caller's write transaction, resolving its unit
/// codes and agency keys there: the write half that imports and plan mutations share.
pub async fn write_plan_document(
    txn: &DatabaseTransaction,
    doc: &PlanDocument<'_>,
) -> AppResult<ImportReport> {
    let (file, targets, warnings) = (&doc.file, &doc.targets, doc.warnings.clone());
    let ctx = Ctx {
        lines: Lines(doc.source),
    };
    let hash = format!("{:x}", Sha256::digest(doc.source.as_bytes()));
    let now = Utc::now();
    let plan_span = file.plan.span();
    let p = file.plan.get_ref();
    let plan_key = p.key.trim().to_string();

    // The same file again: nothing to write, not even its agencies (which may have been
    // edited since).
    if let Some(old) = plan::Entity::find()
        .filter(plan::Column::Code.eq(plan_key.as_str()))
        .one(txn)
        .await?
        && old.source_hash.as_deref() == Some(hash.as_str())
    {
        return Ok(ImportReport {
            plan_id: old.id,
            plan_key,
            outcome: ImportOutcome::Unchanged,
            targets: 0,
            assignments: 0,
            agencies: 0,
            reporting_duties: 0,
            warnings,
        });
    }

    // Agencies: upsert by key, then parents (a parent may come later in the file).
    let mut used_keys: BTreeSet<String> = BTreeSet::new();
    used_keys.extend(p.issuer.iter().cloned());
    used_keys.extend(p.addressees.iter().cloned());
    for r in &file.referenced {
        used_keys.extend(r.get_ref().issuer.iter().cloned());
    }
    for a in &file.assignments {
        let d = a.get_ref();
        used_keys.extend(d.lead.iter().cloned());
        used_keys.extend(d.leads.iter().cloned());
        used_keys.extend(d.coordinators.iter().cloned());
    }
    for r in &file.reporting_duties {
        used_keys.insert(r.get_ref().reporter.clone());
        used_keys.insert(r.get_ref().recipient.clone());
    }
    for a in &file.agencies {
        used_keys.extend(a.get_ref().parent.iter().cloned());
    }
    let stored: HashMap<String, agency::Model> = agency::Entity::find()
        .filter(
            agency::Column::Code.is_in(
                used_keys
                    .iter()
                    .chain(file.agencies.iter().map(|a| &a.get_ref().key))
                    .cloned(),
            ),
        )
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|a| a.code.clone().map(|c| (c, a)))
        .collect();
    let mut agencies = Agencies {
        ids: stored.iter().map(|(k, a)| (k.clone(), a.id)).collect(),
    };
    for (a, typed) in file.agencies.iter().zip(&doc.agencies) {
        let span = a.span();
        let d = a.get_ref();
        let unit = unit_id(txn, &ctx, &span, &d.unit, typed.unit_day).await?;
        let checked = typed.checked.clone();
        let old = stored.get(d.key.trim());
        // Start from the stored row (or an empty one) and set what differs: an unchanged
        // agency is not written.
        let mut m: agency::ActiveModel = match old {
            Some(o) => o.clone().into(),
            None => agency::ActiveModel {
                code: Set(Some(d.key.trim().to_string())),
                created_at: Set(now),
                ..Default::default()
            },
        };
        m.search_key.set_if_not_equals(checked.search_key);
        m.name.set_if_not_equals(checked.name);
        m.short_name.set_if_not_equals(checked.short_name);
        m.kind.set_if_not_equals(checked.kind);
        m.admin_unit_id.set_if_not_equals(unit);
        // Validity comes from the declarations that state it: a file that names an agency
        // without its dates (another plan citing the same department) leaves them as they are,
        // so the order in which files load does not decide when an agency ended.
        if let Some(from) = typed.valid_from {
            m.valid_from.set_if_not_equals(Some(from));
        }
        if let Some(to) = typed.valid_to {
            m.valid_to.set_if_not_equals(Some(to));
        }
        match old {
            Some(_) if m.is_changed() => {
                m.update(txn).await?;
            }
            Some(_) => {}
            None => {
                let inserted = m.insert(txn).await?;
                agencies.ids.insert(d.key.trim().to_string(), inserted.id);
            }
        }
    }
    for a in &file.agencies {
        let span = a.span();
        let d = a.get_ref();
        let id = agencies.get(&ctx, &span, "key", &d.key)?;
        let parent = match &d.parent {
            Some(k) => Some(agencies.get(&ctx, &span, "parent", k)?),
            None => None,
        };
        if stored
            .get(d.key.trim())
            .is_none_or(|old| old.parent_agency_id != parent)
        {
            agency::Entity::update_many()
                .col_expr(
                    agency::Column::ParentAgencyId,
                    sea_orm::sea_query::Expr::value(parent),
                )
                .filter(agency::Column::Id.eq(id))
                .exec(txn)
                .await?;
        }
    }

    // Indicators: upsert by code, writing only what differs.
    let declared: Vec<String> = file
        .indicators
        .iter()
        .map(|i| i.get_ref().code.trim().to_string())
        .collect();
    let mut stored_indicators: HashMap<String, indicator::Model> = indicator::Entity::find()
        .filter(indicator::Column::Code.is_in(declared))
        .all(txn)
        .await?
        .into_iter()
        .map(|i| (i.code.clone(), i))
        .collect();
    for (i, typed) in file.indicators.iter().zip(&doc.indicators) {
        let d = i.get_ref();
        let code = d.code.trim().to_string();
        let name = text::clean(&d.name);
        let old = stored_indicators.remove(&code);
        let mut m: indicator::ActiveModel = match &old {
            Some(o) => o.clone().into(),
            None => indicator::ActiveModel {
                code: Set(code.clone()),
                created_at: Set(now),
                ..Default::default()
            },
        };
        m.search_key
            .set_if_not_equals(text::fold(&format!("{code} {name}")));
        m.name.set_if_not_equals(name);
        m.description
            .set_if_not_equals(d.description.as_deref().map(text::clean));
        m.unit_of_measure
            .set_if_not_equals(text::clean(&d.unit_of_measure));
        m.category.set_if_not_equals(typed.category);
        m.direction.set_if_not_equals(typed.direction);
        m.aggregation.set_if_not_equals(typed.aggregation);
        match old {
            Some(_) if m.is_changed() => {
                m.update(txn).await?;
            }
            Some(_) => {}
            None => {
                m.insert(txn).await?;
            }
        }
    }
    // Every indicator a target may name: those of this file and those already stored.
    let target_indicators: BTreeSet<String> = {
        let mut codes = BTreeSet::new();
        fn walk(rows: &[TargetRow], out: &mut BTreeSet<String>) {
            for r in rows {
                out.extend(r.indicator.iter().map(|c| c.trim().to_string()));
                walk(&r.sub, out);
            }
        }
        walk(targets, &mut codes);
        codes
    };
    let indicator_ids: HashMap<String, i64> = indicator::Entity::find()
        .filter(indicator::Column::Code.is_in(target_indicators))
        .all(txn)
        .await?
        .into_iter()
        .map(|i| (i.code, i.id))
        .collect();

    // Referenced documents: created once as REFERENCED; a real import of the document later
    // takes the record over and is never turned back into a reference.
    // A citation is public when a public, issued act makes it (DESIGN: "citations of public
    // acts"): a reference first cited by an internal or draft plan stays internal until a
    // public act cites it too.
    let citing_status = doc.plan.status;
    let citing_visibility = doc.plan.visibility;
    let cited_publicly = citing_visibility == Visibility::Public
        && matches!(citing_status, PlanStatus::Issued | PlanStatus::Superseded);
    let mut plan_ids: HashMap<String, i64> = HashMap::new();
    for (r, typed) in file.referenced.iter().zip(&doc.referenced) {
        let span = r.span();
        let d = r.get_ref();
        let issued_on = typed.issued_on;
        let unit = unit_id(txn, &ctx, &span, &d.unit, typed.unit_day).await?;
        let issuer = match &d.issuer {
            Some(k) => Some(agencies.get(&ctx, &span, "issuer", k)?),
            None => None,
        };
        let existing = plan::Entity::find()
            .filter(plan::Column::Code.eq(d.key.trim()))
            .one(txn)
            .await?;
        let number = d.number.as_deref().map(text::clean);
        let title = text::clean(&d.title);
        let id = match existing {
            // The document itself was imported: its record is not a reference any more.
            Some(old) if old.status != PlanStatus::Referenced => old.id,
            old => {
                let mut m: plan::ActiveModel = match &old {
                    Some(o) => o.clone().into(),
                    None => plan::ActiveModel {
                        code: Set(Some(d.key.trim().to_string())),
                        status: Set(PlanStatus::Referenced),
                        visibility: Set(if cited_publicly {
                            Visibility::Public
                        } else {
                            Visibility::Internal
                        }),
                        version: Set(1),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    },
                };
                m.search_key.set_if_not_equals(text::fold(&format!(
                    "{} {}",
                    number.as_deref().unwrap_or_default(),
                    title
                )));
                m.number.set_if_not_equals(number);
                m.kind.set_if_not_equals(typed.kind);
                m.title.set_if_not_equals(title);
                m.admin_unit_id.set_if_not_equals(unit);
                m.issuer_agency_id.set_if_not_equals(issuer);
                m.issued_on.set_if_not_equals(issued_on);
                if cited_publicly {
                    m.visibility.set_if_not_equals(Visibility::Public);
                }
                match old {
                    Some(o) if m.is_changed() => {
                        m.updated_at = Set(now);
                        m.update(txn).await?;
                        o.id
                    }
                    Some(o) => o.id,
                    None => m.insert(txn).await?.id,
                }
            }
        };
        plan_ids.insert(d.key.trim().to_string(), id);
    }

    // The plan itself.
    let existing = plan::Entity::find()
        .filter(plan::Column::Code.eq(plan_key.as_str()))
        .one(txn)
        .await?;
    let issued_on = doc.plan.issued_on;
    let plan_unit = unit_id(txn, &ctx, &plan_span, &p.unit, doc.plan.unit_day).await?;
    let issuer = match &p.issuer {
        Some(k) => Some(agencies.get(&ctx, &plan_span, "issuer", k)?),
        None => None,
    };
    let resolve_plan = |key: &str| -> Option<i64> { plan_ids.get(key.trim()).copied() };
    let mut parent = None;
    if let Some(k) = &p.implements {
        parent = match resolve_plan(k) {
            Some(id) => Some(id),
            None => plan::Entity::find()
                .filter(plan::Column::Code.eq(k.trim()))
                .one(txn)
                .await?
                .map(|pl| pl.id),
        };
        if parent.is_none() {
            return Err(ctx.err(
                &plan_span,
                format!("implements: no plan `{k}`: declare it under [[referenced]]"),
            ));
        }
    }
    let number = p.number.as_deref().map(text::clean);
    let title = text::clean(&p.title);
    let fields = plan::ActiveModel {
        code: Set(Some(plan_key.clone())),
        search_key: Set(text::fold(&format!(
            "{} {}",
            number.as_deref().unwrap_or_default(),
            title
        ))),
        number: Set(number),
        kind: Set(doc.plan.kind),
        title: Set(title),
        admin_unit_id: Set(plan_unit),
        issuer_agency_id: Set(issuer),
        issued_on: Set(issued_on),
        signer: Set(p.signer.as_deref().map(text::clean)),
        period_from: Set(p.period_from),
        period_to: Set(p.period_to),
        status: Set(doc.plan.status),
        visibility: Set(doc.plan.visibility),
        source_url: Set(p.source_url.clone()),
        parent_plan_id: Set(parent),
        source_hash: Set(Some(hash.clone())),
        updated_at: Set(now),
        ..Default::default()
    };
    let (plan_id, outcome) = match &existing {
        Some(old) => {
            // Progress reported on the plan's tasks or duties is never discarded by a new
            // version of the file.
            let assignment_ids: Vec<i64> = assignment::Entity::find()
                .filter(assignment::Column::PlanId.eq(old.id))
                .all(txn)
                .await?
                .into_iter()
                .map(|a| a.id)
                .collect();
            let duty_ids: Vec<i64> = reporting_duty::Entity::find()
                .filter(reporting_duty::Column::PlanId.eq(old.id))
                .all(txn)
                .await?
                .into_iter()
                .map(|d| d.id)
                .collect();
            let reports = entity::progress_report::Entity::find()
                .filter(
                    sea_orm::Condition::any()
                        .add(entity::progress_report::Column::AssignmentId.is_in(assignment_ids))
                        .add(entity::progress_report::Column::ReportingDutyId.is_in(duty_ids)),
                )
                .one(txn)
                .await?;
            if reports.is_some() {
                return Err(AppError::Conflict(format!(
                    "plan {plan_key} has progress reports; a changed file cannot replace its tasks"
                )));
            }
            let mut m = fields;
            m.id = Set(old.id);
            m.version = Set(old.version + 1);
            m.update(txn).await?;
            // The document's content is replaced as a whole.
            target::Entity::delete_many()
                .filter(target::Column::PlanId.eq(old.id))
                .filter(target::Column::ParentTargetId.is_not_null())
                .exec(txn)
                .await?;
            target::Entity::delete_many()
                .filter(target::Column::PlanId.eq(old.id))
                .exec(txn)
                .await?;
            assignment::Entity::delete_many()
                .filter(assignment::Column::PlanId.eq(old.id))
                .exec(txn)
                .await?;
            reporting_duty::Entity::delete_many()
                .filter(reporting_duty::Column::PlanId.eq(old.id))
                .exec(txn)
                .await?;
            plan_basis::Entity::delete_many()
                .filter(plan_basis::Column::PlanId.eq(old.id))
                .exec(txn)
                .await?;
            plan_addressee::Entity::delete_many()
                .filter(plan_addressee::Column::PlanId.eq(old.id))
                .exec(txn)
                .await?;
            (old.id, ImportOutcome::Updated)
        }
        None => {
            let mut m = fields;
            m.version = Set(1);
            m.created_at = Set(now);
            (m.insert(txn).await?.id, ImportOutcome::Created)
        }
    };

    for (position, b) in p.bases.iter().enumerate() {
        let span = b.span();
        let d = b.get_ref();
        let basis_plan = match &d.plan {
            Some(k) => Some(match resolve_plan(k) {
                Some(id) => id,
                None => plan::Entity::find()
                    .filter(plan::Column::Code.eq(k.trim()))
                    .one(txn)
                    .await?
                    .map(|pl| pl.id)
                    .ok_or_else(|| ctx.err(&span, format!("plan: no plan `{k}`")))?,
            }),
            None => None,
        };
        plan_basis::ActiveModel {
            plan_id: Set(plan_id),
            position: Set(position as i32),
            basis_plan_id: Set(basis_plan),
            citation: Set(Some(text::clean(&d.citation))),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    let mut addressees = BTreeSet::new();
    for k in &p.addressees {
        addressees.insert(agencies.get(&ctx, &plan_span, "addressees", k)?);
    }
    for agency_id in addressees {
        plan_addressee::ActiveModel {
            plan_id: Set(plan_id),
            agency_id: Set(agency_id),
        }
        .insert(txn)
        .await?;
    }

    // Targets, depth first, positions in document order.
    let mut by_ordinal: HashMap<String, Vec<i64>> = HashMap::new();
    let mut position = 0;
    let mut stack: Vec<(&TargetRow, Option<i64>)> =
        targets.iter().rev().map(|t| (t, None)).collect();
    while let Some((t, parent_id)) = stack.pop() {
        let unit = match &t.unit {
            Some(code) => unit_id(txn, &ctx, &t.line, code, doc.plan.unit_day).await?,
            None => plan_unit,
        };
        let indicator_id = match &t.indicator {
            Some(code) => Some(*indicator_ids.get(code.trim()).ok_or_else(|| {
                ctx.err(
                    &t.line,
                    format!("indicator: unknown `{code}`: declare it under [[indicators]]"),
                )
            })?),
            None => None,
        };
        let row = target::ActiveModel {
            plan_id: Set(plan_id),
            parent_target_id: Set(parent_id),
            indicator_id: Set(indicator_id),
            admin_unit_id: Set(unit),
            ordinal: Set(t.ordinal.clone()),
            position: Set(position),
            period: Set(t.period.clone()),
            measure: Set(t.measure),
            change_unit: Set(t.change_unit),
            comparator: Set(t.comparator),
            value: Set(t.value.clone()),
            upper_value: Set(t.upper_value.clone()),
            baseline: Set(t.baseline.clone()),
            baseline_period: Set(t.baseline_period.clone()),
            unit_of_measure: Set(t.unit_of_measure.clone()),
            disaggregation: Set(t.disaggregation.clone()),
            wording: Set(t.wording.clone()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        position += 1;
        if let Some(o) = &t.ordinal {
            by_ordinal.entry(o.clone()).or_default().push(row.id);
        }
        stack.extend(t.sub.iter().rev().map(|s| (s, Some(row.id))));
    }

    // Assignments: one per lead.
    let mut assignments = 0;
    for (position, (a, typed)) in file.assignments.iter().zip(&doc.assignments).enumerate() {
        let span = a.span();
        let d = a.get_ref();
        let leads: Vec<&String> = d.lead.iter().chain(d.leads.iter()).collect();
        let mut coordinators = BTreeSet::new();
        for k in &d.coordinators {
            coordinators.insert(agencies.get(&ctx, &span, "coordinators", k)?);
        }
        let target_ids: BTreeSet<i64> = d
            .targets
            .iter()
            .flat_map(|o| by_ordinal.get(o.trim()).cloned().unwrap_or_default())
            .collect();
        for lead in leads {
            let field = if d.lead.is_some() { "lead" } else { "leads" };
            let lead_id = agencies.get(&ctx, &span, field, lead)?;
            let row = assignment::ActiveModel {
                plan_id: Set(plan_id),
                ordinal: Set(d.ordinal.as_deref().map(text::clean)),
                position: Set(position as i32),
                title: Set(text::clean(&d.title)),
                content: Set(d.content.as_deref().map(text::clean)),
                group_title: Set(d.group.as_deref().map(text::clean)),
                lead_agency_id: Set(lead_id),
                due_on: Set(typed.due_on),
                status: Set(typed.status),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            assignments += 1;
            for agency_id in coordinators.iter().filter(|c| **c != lead_id) {
                assignment_coordinator::ActiveModel {
                    assignment_id: Set(row.id),
                    agency_id: Set(*agency_id),
                }
                .insert(txn)
                .await?;
            }
            for target_id in &target_ids {
                assignment_target::ActiveModel {
                    assignment_id: Set(row.id),
                    target_id: Set(*target_id),
                }
                .insert(txn)
                .await?;
            }
        }
    }

    for (r, due_on) in file.reporting_duties.iter().zip(&doc.duty_days) {
        let span = r.span();
        let d = r.get_ref();
        reporting_duty::ActiveModel {
            plan_id: Set(Some(plan_id)),
            title: Set(text::clean(&d.title)),
            reporter_agency_id: Set(agencies.get(&ctx, &span, "reporter", &d.reporter)?),
            recipient_agency_id: Set(agencies.get(&ctx, &span, "recipient", &d.recipient)?),
            period: Set(d.period.trim().to_string()),
            recurrence: Set(d.recurrence.clone()),
            due_on: Set(*due_on),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(ImportReport {
        plan_id,
        plan_key,
        outcome,
        targets: count_targets(targets),
        assignments,
        agencies: file.agencies.len(),
        reporting_duties: file.reporting_duties.len(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"format = 1
[plan]
key = "01.plan.test"
kind = "PLAN"
title = "Kế hoạch thử"
unit = "01"
issued_on = "2024-01-01"

[[targets]]
ordinal = "1"
wording = "GRDP tăng 6,5-7%"
comparator = "BETWEEN"
value = "6.5"
upper_value = "7"
"#;

    fn field_of(e: AppError) -> String {
        match e {
            AppError::BadUserInput { field, message } => format!("{field}: {message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_minimal_file_parses() {
        let (_, targets, warnings) = parse(MINIMAL).unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].comparator, Some(Comparator::Between));
        assert!(warnings.is_empty());
    }

    #[test]
    fn errors_name_their_line() {
        let no_upper = MINIMAL.replace("upper_value = \"7\"\n", "");
        let m = field_of(parse(&no_upper).err().unwrap());
        assert!(m.starts_with("line 9: upper_value"), "{m}");
        let bad_date = MINIMAL.replace("2024-01-01", "2024-13-01");
        // The field's own line, not the table's.
        assert!(field_of(parse(&bad_date).err().unwrap()).starts_with("line 7: issued_on"));
        let bad_toml = MINIMAL.replace("kind = \"PLAN\"", "kind = PLAN");
        assert!(field_of(parse(&bad_toml).err().unwrap()).starts_with("line 4"));
        let bad_enum = MINIMAL.replace("BETWEEN", "ROUGHLY");
        assert!(field_of(parse(&bad_enum).err().unwrap()).contains("comparator"));
        let comma = MINIMAL.replace("\"6.5\"", "\"6,5\"");
        assert!(field_of(parse(&comma).err().unwrap()).contains("value"));
    }

    #[test]
    fn repeated_ordinals_are_warnings() {
        let file = format!(
            "{MINIMAL}\n[[agencies]]\nkey = \"01.ubnd\"\nname = \"UBND\"\nkind = \"PEOPLES_COMMITTEE\"\nunit = \"01\"\nunit_as_of = \"2024-01-01\"\n\n[[assignments]]\nordinal = \"1.2\"\ntitle = \"A\"\nlead = \"01.ubnd\"\n\n[[assignments]]\nordinal = \"1.2\"\ntitle = \"B\"\nlead = \"01.ubnd\"\n"
        );
        let (_, _, warnings) = parse(&file).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("1.2"));
    }
}

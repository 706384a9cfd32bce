//! Loading unit lists and lineage (DESIGN.md, "Units and time").
//!
//! A list as of a date D continues a row when code, name, kind, level and parent are unchanged;
//! otherwise it closes the old row (valid to D − 1), opens a new one (valid from D) and links the
//! two (`RENAMED`, `RETYPED`, `REPARENTED`). Units absent from the list are closed. The first list
//! loaded into an empty table opens its units with no start date. The official mapping adds
//! commune links (its kind wins over a code-continuation link of the same pair), and links above
//! communes are derived from it. Callers run these inside one write transaction.

use crate::error::{AppError, AppResult};
use crate::text;
use chrono::{Days, NaiveDate, Utc};
use entity::admin_unit::{self, Column, Entity as AdminUnit};
use entity::admin_unit_lineage::{self, Entity as Lineage};
use entity::enums::{AdminLevel, LineageChange, LineageEvidence};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Rows per multi-row statement (well under the bind-parameter limits of both backends).
const CHUNK: usize = 1000;

/// One unit of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitRow {
    /// Official code.
    pub code: String,
    /// Name with its type word, NFC.
    pub name: String,
    /// Official type word.
    pub kind: String,
    /// Level.
    pub level: AdminLevel,
    /// The parent's code in the same list; none for provinces.
    pub parent_code: Option<String>,
    /// Where the row came from, for error messages (a line number).
    pub line: usize,
}

/// One old → new link of the official mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineageRow {
    /// Code of the old commune (valid the day before the effective date).
    pub old_code: String,
    /// Code of the new commune (valid on the effective date).
    pub new_code: String,
    /// Kind of change.
    pub change: LineageChange,
    /// Into how many new units the old one went.
    pub split_count: Option<i32>,
    /// Line number, for reports.
    pub line: usize,
}

/// Where a link comes from, kept on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// How sure the link is.
    pub evidence: LineageEvidence,
    /// The resolution that decided the change.
    pub resolution: Option<String>,
    /// Where the evidence can be read.
    pub source_url: Option<String>,
}

impl Provenance {
    fn of(evidence: LineageEvidence) -> Self {
        Self {
            evidence,
            resolution: None,
            source_url: None,
        }
    }
}

/// A link to write: predecessor, successor, kind, split count, effective day, provenance.
struct Link {
    pred: i64,
    succ: i64,
    change: LineageChange,
    split: Option<i32>,
    effective_on: NaiveDate,
    provenance: Provenance,
}

/// One row of the derived list of the 2024–2025 commune merger wave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergerRow {
    /// Code of the commune that was merged.
    pub old_code: String,
    /// Its name, as the list gives it.
    pub old_name: String,
    /// Code of the commune that took it in.
    pub new_code: String,
    /// The day the resolution took effect.
    pub effective: NaiveDate,
    /// Where the link comes from.
    pub provenance: Provenance,
    /// Line number, for reports.
    pub line: usize,
}

/// What applying the merger list did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergerReport {
    /// Links inserted or changed.
    pub written: usize,
    /// Links already present as given, and rows whose successor continues the old code.
    pub unchanged: usize,
    /// Rows skipped, with the reason (units this database does not hold, such as the demo
    /// area's, are among them).
    pub skipped: Vec<(usize, String)>,
    /// Communes that ended on the day the merged ones did and have no successor at all:
    /// (code, name, last day).
    pub without_successor: Vec<(String, String, NaiveDate)>,
}

/// What applying a list did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotReport {
    /// Rows left as they were.
    pub continued: usize,
    /// Rows opened.
    pub opened: usize,
    /// Rows closed.
    pub closed: usize,
    /// Lineage links written by code continuation.
    pub lineage: usize,
}

/// What applying a mapping did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineageReport {
    /// Links inserted or changed (commune links and derived ones).
    pub written: usize,
    /// Links already present as given.
    pub unchanged: usize,
    /// Rows skipped, with the reason.
    pub skipped: Vec<(usize, String)>,
    /// Communes that ended the day before and have no successor at all: (code, name, last
    /// day).
    pub without_successor: Vec<(String, String, NaiveDate)>,
}

fn level_rank(level: AdminLevel) -> u8 {
    match level {
        AdminLevel::Province => 0,
        AdminLevel::District => 1,
        AdminLevel::Commune => 2,
    }
}

fn bad(line: usize, reason: impl Into<String>) -> AppError {
    AppError::bad_input(format!("line {line}"), reason.into())
}

/// Checks one list for the errors that abort it: code length, empty names, duplicates, unknown
/// or wrong-level parents.
fn validate(rows: &[UnitRow]) -> AppResult<()> {
    let mut seen: HashMap<&str, &UnitRow> = HashMap::new();
    for row in rows {
        let expected = match row.level {
            AdminLevel::Province => 2,
            AdminLevel::District => 3,
            AdminLevel::Commune => 5,
        };
        if row.code.len() != expected || !row.code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                row.line,
                format!("code `{}` is not {expected} digits", row.code),
            ));
        }
        if row.name.trim().is_empty() {
            return Err(bad(row.line, "empty name"));
        }
        if seen.insert(&row.code, row).is_some() {
            return Err(bad(row.line, format!("duplicate code {}", row.code)));
        }
    }
    for row in rows {
        match (&row.parent_code, row.level) {
            (None, AdminLevel::Province) => {}
            (None, _) => return Err(bad(row.line, format!("{} has no parent", row.code))),
            (Some(_), AdminLevel::Province) => {
                return Err(bad(row.line, "a province has no parent"));
            }
            (Some(p), level) => match seen.get(p.as_str()) {
                Some(parent) if level_rank(parent.level) < level_rank(level) => {}
                Some(_) => {
                    return Err(bad(
                        row.line,
                        format!("parent {p} is not above {}", row.code),
                    ));
                }
                None => return Err(bad(row.line, format!("unknown parent {p}"))),
            },
        }
    }
    Ok(())
}

fn new_row(
    row: &UnitRow,
    parent_id: Option<i64>,
    valid_from: Option<NaiveDate>,
) -> admin_unit::ActiveModel {
    let name = text::clean(&row.name);
    admin_unit::ActiveModel {
        code: Set(row.code.clone()),
        search_key: Set(text::fold(&name)),
        sort_key: Set(text::sort_key(&name)),
        name: Set(name),
        kind: Set(text::clean(&row.kind)),
        level: Set(row.level),
        parent_id: Set(parent_id),
        valid_from: Set(valid_from),
        valid_to: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Applies a list of units valid from `valid_from` (none: the first list of an empty table).
pub async fn apply_snapshot<C: ConnectionTrait>(
    db: &C,
    rows: &[UnitRow],
    valid_from: Option<NaiveDate>,
) -> AppResult<SnapshotReport> {
    validate(rows)?;
    let existing = AdminUnit::find().count(db).await?;
    let date = match valid_from {
        Some(d) => d,
        None if existing == 0 => NaiveDate::MIN,
        None => return first_list_again(db, rows).await,
    };
    let day_before = date.checked_sub_days(Days::new(1)).unwrap_or(date);
    let open: HashMap<String, admin_unit::Model> = AdminUnit::find()
        .filter(Column::ValidTo.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();
    // Lists load oldest first: nothing may start after this date, nor end on or after it (a
    // later list was applied). The same date again is a correction of that list.
    if let Some(d) = valid_from {
        let later = AdminUnit::find()
            .filter(
                Condition::any()
                    .add(Column::ValidFrom.gt(d))
                    .add(Column::ValidTo.gte(d)),
            )
            .count(db)
            .await?;
        if later > 0 {
            return Err(AppError::bad_input(
                "validFrom",
                format!("a list later than {d} is already loaded; lists load oldest first"),
            ));
        }
    }
    let code_of: HashMap<i64, &str> = open.values().map(|u| (u.id, u.code.as_str())).collect();

    let mut report = SnapshotReport::default();
    // code → id of the row open after this list, filled level by level for parent lookups.
    let mut current: HashMap<String, i64> = HashMap::new();
    let mut to_close: Vec<i64> = Vec::new();
    let mut links: Vec<(String, LineageChange)> = Vec::new(); // (code, kind): old open → new
    let mut ordered: Vec<&UnitRow> = rows.iter().collect();
    ordered.sort_by_key(|r| level_rank(r.level));

    for level in [
        AdminLevel::Province,
        AdminLevel::District,
        AdminLevel::Commune,
    ] {
        let mut inserts = Vec::new();
        for row in ordered.iter().filter(|r| r.level == level) {
            let parent_id = match &row.parent_code {
                Some(p) => Some(
                    *current
                        .get(p)
                        .ok_or_else(|| bad(row.line, format!("unknown parent {p}")))?,
                ),
                None => None,
            };
            let name = text::clean(&row.name);
            let kind = text::clean(&row.kind);
            match open.get(&row.code) {
                Some(old)
                    if old.name == name
                        && old.kind == kind
                        && old.level == row.level
                        && old.parent_id == parent_id =>
                {
                    report.continued += 1;
                    current.insert(row.code.clone(), old.id);
                }
                // A correction of a list applied on the same date: the version opened then is
                // replaced in place (closing it would leave an empty, inverted validity).
                Some(old) if valid_from.is_some() && old.valid_from == valid_from => {
                    let mut fix: admin_unit::ActiveModel = new_row(row, parent_id, valid_from);
                    fix.id = Set(old.id);
                    fix.created_at = Set(old.created_at);
                    AdminUnit::update(fix).exec(db).await?;
                    report.opened += 1;
                    current.insert(row.code.clone(), old.id);
                }
                Some(old) => {
                    let old_parent_code = old.parent_id.and_then(|p| code_of.get(&p).copied());
                    let change = if old.name != name {
                        LineageChange::Renamed
                    } else if old.kind != kind || old.level != row.level {
                        LineageChange::Retyped
                    } else if old_parent_code != row.parent_code.as_deref() {
                        LineageChange::Reparented
                    } else {
                        // Only the parent's version changed (it was renamed or retyped): the
                        // unit itself, and its area, did not.
                        LineageChange::Unchanged
                    };
                    to_close.push(old.id);
                    links.push((row.code.clone(), change));
                    inserts.push(new_row(row, parent_id, valid_from));
                }
                None => inserts.push(new_row(row, parent_id, valid_from)),
            }
        }
        // Close the replaced rows of this level before opening their successors.
        close(db, &to_close, day_before).await?;
        report.closed += to_close.len();
        to_close.clear();
        report.opened += inserts.len();
        for chunk in inserts.chunks(CHUNK) {
            AdminUnit::insert_many(chunk.to_vec()).exec(db).await?;
        }
        let now_open = AdminUnit::find()
            .filter(Column::ValidTo.is_null())
            .filter(Column::Level.eq(level))
            .all(db)
            .await?;
        for unit in now_open {
            current.entry(unit.code.clone()).or_insert(unit.id);
        }
    }

    // Units absent from the list are closed; one opened by the same list date is removed.
    let listed: HashSet<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    let (opened_today, absent): (Vec<&admin_unit::Model>, Vec<&admin_unit::Model>) = open
        .values()
        .filter(|u| !listed.contains(u.code.as_str()))
        .partition(|u| valid_from.is_some() && u.valid_from == valid_from);
    let absent: Vec<i64> = absent.iter().map(|u| u.id).collect();
    close(db, &absent, day_before).await?;
    report.closed += absent.len();
    for chunk in opened_today.chunks(CHUNK) {
        AdminUnit::delete_many()
            .filter(Column::Id.is_in(chunk.iter().map(|u| u.id)))
            .exec(db)
            .await?;
    }
    report.closed += opened_today.len();

    let mut pairs = Vec::new();
    for (code, change) in links {
        if let (Some(old), Some(new)) = (open.get(&code), current.get(&code)) {
            pairs.push(Link {
                pred: old.id,
                succ: *new,
                change,
                split: None,
                effective_on: date,
                provenance: Provenance::of(LineageEvidence::Lists),
            });
        }
    }
    report.lineage = upsert_links(db, &pairs, |_, _| false).await?.0;
    if report.opened + report.closed + report.lineage > 0 {
        super::unit_search::bump(db).await?;
        super::scope::rebuild(db).await?;
    }
    Ok(report)
}

/// The first list loaded again: nothing to do when it is the same list, else a date is needed.
async fn first_list_again<C: ConnectionTrait>(
    db: &C,
    rows: &[UnitRow],
) -> AppResult<SnapshotReport> {
    let first: HashMap<i64, admin_unit::Model> = AdminUnit::find()
        .filter(Column::ValidFrom.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let by_code: HashMap<&str, &admin_unit::Model> =
        first.values().map(|u| (u.code.as_str(), u)).collect();
    let same = first.len() == rows.len()
        && rows.iter().all(|r| {
            by_code.get(r.code.as_str()).is_some_and(|u| {
                let parent_code = u
                    .parent_id
                    .and_then(|p| first.get(&p))
                    .map(|p| p.code.as_str());
                u.name == text::clean(&r.name)
                    && u.kind == text::clean(&r.kind)
                    && u.level == r.level
                    && parent_code == r.parent_code.as_deref()
            })
        });
    if same {
        Ok(SnapshotReport {
            continued: rows.len(),
            ..SnapshotReport::default()
        })
    } else {
        Err(AppError::bad_input(
            "validFrom",
            "units are already loaded: give the date from which this list is valid",
        ))
    }
}

async fn close<C: ConnectionTrait>(db: &C, ids: &[i64], valid_to: NaiveDate) -> AppResult<()> {
    for chunk in ids.chunks(CHUNK) {
        AdminUnit::update_many()
            .col_expr(Column::ValidTo, Expr::value(valid_to))
            .filter(Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Writes links, one per pair. With `overwrite`, a given kind replaces the stored one (the
/// mapping's kind wins); without, an existing pair is kept. Returns (written, unchanged).
async fn upsert_links<C: ConnectionTrait>(
    db: &C,
    links: &[Link],
    overwrite: impl Fn(i64, i64) -> bool,
) -> AppResult<(usize, usize)> {
    let predecessors: BTreeSet<i64> = links.iter().map(|l| l.pred).collect();
    let mut stored: HashMap<(i64, i64), admin_unit_lineage::Model> = HashMap::new();
    let ids: Vec<i64> = predecessors.into_iter().collect();
    for chunk in ids.chunks(CHUNK) {
        for link in Lineage::find()
            .filter(admin_unit_lineage::Column::PredecessorId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            stored.insert((link.predecessor_id, link.successor_id), link);
        }
    }
    let (mut written, mut unchanged) = (0, 0);
    let mut inserts = Vec::new();
    for l in links {
        let p = &l.provenance;
        match stored.get(&(l.pred, l.succ)) {
            Some(old) if old.change == l.change && old.split_count == l.split => {
                let same = old.evidence == Some(p.evidence)
                    && old.resolution == p.resolution
                    && old.source_url == p.source_url;
                if same {
                    unchanged += 1;
                } else {
                    // Same link, better provenance (or provenance not kept before).
                    let mut m: admin_unit_lineage::ActiveModel = old.clone().into();
                    m.evidence = Set(Some(p.evidence));
                    m.resolution = Set(p.resolution.clone());
                    m.source_url = Set(p.source_url.clone());
                    m.update(db).await?;
                    written += 1;
                }
            }
            Some(_) if !overwrite(l.pred, l.succ) => unchanged += 1,
            Some(old) => {
                let mut m: admin_unit_lineage::ActiveModel = old.clone().into();
                m.change = Set(l.change);
                m.split_count = Set(l.split);
                m.effective_on = Set(l.effective_on);
                m.evidence = Set(Some(p.evidence));
                m.resolution = Set(p.resolution.clone());
                m.source_url = Set(p.source_url.clone());
                m.update(db).await?;
                written += 1;
            }
            None => {
                inserts.push(admin_unit_lineage::ActiveModel {
                    predecessor_id: Set(l.pred),
                    successor_id: Set(l.succ),
                    effective_on: Set(l.effective_on),
                    change: Set(l.change),
                    split_count: Set(l.split),
                    evidence: Set(Some(p.evidence)),
                    resolution: Set(p.resolution.clone()),
                    source_url: Set(p.source_url.clone()),
                    ..Default::default()
                });
                written += 1;
            }
        }
    }
    for chunk in inserts.chunks(CHUNK) {
        Lineage::insert_many(chunk.to_vec()).exec(db).await?;
    }
    Ok((written, unchanged))
}

/// Units with these codes of one level valid on a date, by code.
async fn units_on<C: ConnectionTrait>(
    db: &C,
    codes: &BTreeSet<&str>,
    date: NaiveDate,
) -> AppResult<HashMap<String, admin_unit::Model>> {
    let codes: Vec<&str> = codes.iter().copied().collect();
    let mut out = HashMap::new();
    for chunk in codes.chunks(CHUNK) {
        for unit in AdminUnit::find()
            .filter(Column::Code.is_in(chunk.iter().copied()))
            .filter(super::units::valid_on(date))
            .all(db)
            .await?
        {
            out.insert(unit.code.clone(), unit);
        }
    }
    Ok(out)
}

/// The kind of a derived link: whole when the unit went to one successor; a split when it went
/// to several that took in nothing else; else a part.
fn derived_kind(
    pred: i64,
    succs: &BTreeSet<i64>,
    preds_of: &HashMap<i64, BTreeSet<i64>>,
) -> (LineageChange, Option<i32>) {
    if succs.len() == 1 {
        return (LineageChange::MergedWhole, Some(1));
    }
    let pure = succs.iter().all(|s| {
        preds_of
            .get(s)
            .is_some_and(|p| p.len() == 1 && p.contains(&pred))
    });
    let kind = if pure {
        LineageChange::Split
    } else {
        LineageChange::MergedPart
    };
    (kind, Some(succs.len() as i32))
}

/// Applies the official old → new commune mapping effective on `effective`, and derives the
/// links of districts and provinces from it (a district's successors are the new units its
/// communes went to; a province's likewise).
pub async fn apply_lineage<C: ConnectionTrait>(
    db: &C,
    rows: &[LineageRow],
    effective: NaiveDate,
) -> AppResult<LineageReport> {
    let day_before = effective
        .checked_sub_days(Days::new(1))
        .unwrap_or(effective);
    let old_codes: BTreeSet<&str> = rows.iter().map(|r| r.old_code.as_str()).collect();
    let new_codes: BTreeSet<&str> = rows.iter().map(|r| r.new_code.as_str()).collect();
    let old = units_on(db, &old_codes, day_before).await?;
    let new = units_on(db, &new_codes, effective).await?;
    let mut report = LineageReport::default();
    let mut pairs = Vec::new();
    let mut seen_pairs: HashMap<(i64, i64), usize> = HashMap::new();
    for row in rows {
        match (old.get(&row.old_code), new.get(&row.new_code)) {
            // A unit whose row continues across the date needs no link to itself.
            (Some(o), Some(n)) if o.id == n.id => report.unchanged += 1,
            // The mapping links the versions that ended the day before to those that began
            // on the day; anything else means a list is missing or the date is wrong.
            (Some(o), _) if o.valid_to != Some(day_before) => report.skipped.push((
                row.line,
                format!(
                    "{} did not end on {day_before}: load the new list first",
                    row.old_code
                ),
            )),
            (_, Some(n)) if n.valid_from != Some(effective) => report.skipped.push((
                row.line,
                format!(
                    "{} did not begin on {effective}: load the new list first",
                    row.new_code
                ),
            )),
            (Some(o), Some(n)) => match seen_pairs.get(&(o.id, n.id)) {
                Some(first) => report
                    .skipped
                    .push((row.line, format!("repeats the pair of line {first}"))),
                None => {
                    seen_pairs.insert((o.id, n.id), row.line);
                    pairs.push((o.id, n.id, row.change, row.split_count));
                }
            },
            (None, _) => report.skipped.push((
                row.line,
                format!("no unit {} on {day_before}", row.old_code),
            )),
            (_, None) => report
                .skipped
                .push((row.line, format!("no unit {} on {effective}", row.new_code))),
        }
    }
    let official: Vec<Link> = pairs
        .iter()
        .map(|&(pred, succ, change, split)| Link {
            pred,
            succ,
            change,
            split,
            effective_on: effective,
            provenance: Provenance::of(LineageEvidence::Official),
        })
        .collect();
    let (w, u) = upsert_links(db, &official, |_, _| true).await?;
    report.written += w;
    report.unchanged += u;

    // Ancestors of the old communes (as of the day before) and of the new ones (as of the day).
    let parent_ids: Vec<i64> = old
        .values()
        .chain(new.values())
        .filter_map(|u| u.parent_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut parents = super::units::by_ids(db, &parent_ids).await?;
    let grand_ids: Vec<i64> = parents
        .values()
        .filter_map(|u| u.parent_id)
        .filter(|id| !parents.contains_key(id))
        .collect();
    parents.extend(super::units::by_ids(db, &grand_ids).await?);
    let province_of = |unit: &admin_unit::Model| -> Option<i64> {
        let parent = parents.get(&unit.parent_id?)?;
        match parent.level {
            AdminLevel::Province => Some(parent.id),
            _ => parent.parent_id,
        }
    };
    let district_of = |unit: &admin_unit::Model| -> Option<i64> {
        let parent = parents.get(&unit.parent_id?)?;
        (parent.level == AdminLevel::District).then_some(parent.id)
    };

    let by_id: HashMap<i64, &admin_unit::Model> = old
        .values()
        .chain(new.values())
        .map(|u| (u.id, u))
        .collect();
    let mut district_succ: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    let mut district_pred: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    let mut province_succ: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    let mut province_pred: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    for (o, n, _, _) in &pairs {
        let (Some(o), Some(n)) = (by_id.get(o), by_id.get(n)) else {
            continue;
        };
        if o.id == n.id {
            continue;
        }
        if let Some(d) = district_of(o) {
            district_succ.entry(d).or_default().insert(n.id);
            district_pred.entry(n.id).or_default().insert(d);
        }
        if let (Some(po), Some(pn)) = (province_of(o), province_of(n))
            && po != pn
        {
            province_succ.entry(po).or_default().insert(pn);
            province_pred.entry(pn).or_default().insert(po);
        }
    }
    let mut derived = Vec::new();
    for (pred, succs) in &district_succ {
        let (kind, split) = derived_kind(*pred, succs, &district_pred);
        derived.extend(succs.iter().map(|s| (*pred, *s, kind, split)));
    }
    for (pred, succs) in &province_succ {
        let (kind, split) = derived_kind(*pred, succs, &province_pred);
        derived.extend(succs.iter().map(|s| (*pred, *s, kind, split)));
    }
    derived.sort_by_key(|p| (p.0, p.1));
    // A derived link replaces a code-continuation link of the same pair (Tiền Giang 82 → the
    // new Đồng Tháp 82 merged, it was not renamed), except a plain one-to-one change, where
    // RENAMED / RETYPED says more than MERGED_WHOLE.
    let one_to_one = |pred: i64, succ: i64| {
        let only =
            |m: &HashMap<i64, BTreeSet<i64>>, k: i64| m.get(&k).is_some_and(|s| s.len() == 1);
        (only(&district_succ, pred) && only(&district_pred, succ))
            || (only(&province_succ, pred) && only(&province_pred, succ))
    };
    let derived: Vec<Link> = derived
        .into_iter()
        .map(|(pred, succ, change, split)| Link {
            pred,
            succ,
            change,
            split,
            effective_on: effective,
            provenance: Provenance::of(LineageEvidence::Derived),
        })
        .collect();
    let (w, u) = upsert_links(db, &derived, |p, s| !one_to_one(p, s)).await?;
    report.written += w;
    report.unchanged += u;
    if report.written > 0 {
        // Lineage is part of the in-memory hierarchy too.
        super::unit_search::bump(db).await?;
        super::scope::rebuild(db).await?;
    }
    report.without_successor = ended_without_successor(db, day_before).await?;
    Ok(report)
}

/// Applies the derived list of the 2024–2025 merger wave (after the March 2025 list): one
/// `MERGED_WHOLE` link per row from the commune's last version to the version of its successor
/// that began the next day, with the resolution, its legal effective date and the row's
/// evidence kept on the link. A successor that is the old code's own continuation gets no new
/// link. Units keep the validity the lists give them. Reports the communes that ended with the
/// merged ones and have no successor at all; rebuilds the scope closure when anything changed.
pub async fn apply_mergers<C: ConnectionTrait>(
    db: &C,
    rows: &[MergerRow],
) -> AppResult<MergerReport> {
    let mut report = MergerReport::default();
    // The merged communes as they were the day before their resolutions took effect.
    let mut by_day: BTreeMap<NaiveDate, BTreeSet<&str>> = BTreeMap::new();
    for r in rows {
        let before = r
            .effective
            .checked_sub_days(Days::new(1))
            .unwrap_or(r.effective);
        by_day
            .entry(before)
            .or_default()
            .insert(r.old_code.as_str());
    }
    let mut old: HashMap<(NaiveDate, String), admin_unit::Model> = HashMap::new();
    for (day, codes) in &by_day {
        for (code, unit) in units_on(db, codes, *day).await? {
            old.insert((*day, code), unit);
        }
    }
    // Their successors as they were the day after the merged communes' last day.
    let mut next_day: BTreeMap<NaiveDate, BTreeSet<&str>> = BTreeMap::new();
    for r in rows {
        let before = r
            .effective
            .checked_sub_days(Days::new(1))
            .unwrap_or(r.effective);
        if let Some(to) = old
            .get(&(before, r.old_code.clone()))
            .and_then(|u| u.valid_to)
        {
            let day = to.checked_add_days(Days::new(1)).unwrap_or(to);
            next_day.entry(day).or_default().insert(r.new_code.as_str());
        }
    }
    let mut new: HashMap<(NaiveDate, String), admin_unit::Model> = HashMap::new();
    for (day, codes) in &next_day {
        for (code, unit) in units_on(db, codes, *day).await? {
            new.insert((*day, code), unit);
        }
    }
    let mut links = Vec::new();
    let mut seen: HashMap<(i64, i64), usize> = HashMap::new();
    let mut closed_days = BTreeSet::new();
    for r in rows {
        let before = r
            .effective
            .checked_sub_days(Days::new(1))
            .unwrap_or(r.effective);
        let Some(o) = old.get(&(before, r.old_code.clone())) else {
            report.skipped.push((
                r.line,
                format!(
                    "no commune {} on {before}: this database does not hold it",
                    r.old_code
                ),
            ));
            continue;
        };
        let Some(last) = o.valid_to else {
            if r.new_code == r.old_code {
                report.unchanged += 1;
            } else {
                report.skipped.push((
                    r.line,
                    format!(
                        "{} {} is still valid: load the list that drops it first",
                        o.code, o.name
                    ),
                ));
            }
            continue;
        };
        if r.new_code == r.old_code {
            // The successor continues the old code: the lists link the two already.
            report.unchanged += 1;
            continue;
        }
        closed_days.insert(last);
        let first = last.checked_add_days(Days::new(1)).unwrap_or(last);
        let Some(n) = new.get(&(first, r.new_code.clone())) else {
            report
                .skipped
                .push((r.line, format!("no commune {} on {first}", r.new_code)));
            continue;
        };
        match seen.get(&(o.id, n.id)) {
            Some(line) => report
                .skipped
                .push((r.line, format!("repeats the pair of line {line}"))),
            None => {
                seen.insert((o.id, n.id), r.line);
                links.push(Link {
                    pred: o.id,
                    succ: n.id,
                    change: LineageChange::MergedWhole,
                    split: Some(1),
                    effective_on: r.effective,
                    provenance: r.provenance.clone(),
                });
            }
        }
    }
    let (w, u) = upsert_links(db, &links, |_, _| true).await?;
    report.written += w;
    report.unchanged += u;
    // Communes that ended with the merged ones and lead nowhere.
    for day in closed_days {
        report
            .without_successor
            .extend(ended_without_successor(db, day).await?);
    }
    report.without_successor.sort();
    if report.written > 0 {
        // Lineage is part of the in-memory hierarchy too.
        super::unit_search::bump(db).await?;
        super::scope::rebuild(db).await?;
    }
    Ok(report)
}

/// The communes whose last day was `day` and that have no successor link at all: (code, name,
/// last day), by code.
async fn ended_without_successor<C: ConnectionTrait>(
    db: &C,
    day: NaiveDate,
) -> AppResult<Vec<(String, String, NaiveDate)>> {
    let ended = AdminUnit::find()
        .filter(Column::Level.eq(AdminLevel::Commune))
        .filter(Column::ValidTo.eq(day))
        .all(db)
        .await?;
    let ids: Vec<i64> = ended.iter().map(|u| u.id).collect();
    let mut linked: HashSet<i64> = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        for link in Lineage::find()
            .filter(admin_unit_lineage::Column::PredecessorId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            linked.insert(link.predecessor_id);
        }
    }
    let mut out: Vec<_> = ended
        .into_iter()
        .filter(|u| !linked.contains(&u.id))
        .map(|u| (u.code, u.name, day))
        .collect();
    out.sort();
    Ok(out)
}

//! Bulk import of indicator values from a CSV file: the export's own CSV or a DHIS2 data value
//! set, told apart by the header. Shared by `POST /import/indicator-values` and
//! `platform import indicator-values`.
//!
//! The file is read and checked in chunks of [`CHUNK`] rows with [`values::check_with`] (row
//! numbers as indexes; each indicator and unit code looked up once per import). A key
//! (indicator, unit, period, disaggregation) repeated in the file refuses the later row,
//! across chunks too. Memory stays bounded by a chunk, the report's first [`MAX_REPORTED`]
//! refusals and 16 bytes per key seen (a hash, for the duplicate check). Every row or none is
//! written, unless `skip_invalid` asks for the good rows alone.
//!
//! How the rows are written depends on the backend:
//! - **PostgreSQL**: the checked rows go into a staging table through `COPY` while no lock is
//!   held; then ONE transaction takes value writers' turn ([`vs::take_turn`]), classifies the
//!   staged rows against the stored values and writes values, revisions and feed entries with
//!   a few set-based statements ([`crate::services::value_stage`]).
//! - **SQLite**: ONE transaction, [`values::write`] per chunk (value, revision, feed entry row
//!   by row, as `submitIndicatorValues` does).

use super::Caller;
use super::values::{self, Checked, RowError, RowIn};
use crate::error::{AppError, AppResult};
use crate::services::value_stage::{Stage, StagedRow};
use crate::services::{audit, values as vs};
use entity::DecimalText;
use entity::enums::ValueStatus;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Rows checked and written at a time.
pub const CHUNK: usize = 1_000;

/// Refusals listed in a report at most (the rest are counted).
pub const MAX_REPORTED: usize = 1_000;

/// The two files the import reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// The export's CSV: `indicator,unit,period,disaggregation,value,…` (`status`, `version`
    /// and `updated_at` are ignored).
    Csv,
    /// A DHIS2 data value set as CSV: `dataelement,period,orgunit,categoryoptioncombo,…`.
    Dhis2,
}

impl FileFormat {
    /// Its name in reports: `csv` or `dhis2`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Dhis2 => "dhis2",
        }
    }
}

/// How to import.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Check and write, then roll back: the report says what would happen.
    pub dry_run: bool,
    /// Write the good rows and report the others (by default one bad row writes nothing).
    pub skip_invalid: bool,
    /// Values use a decimal comma and thousands dots ([`decimal_comma`]).
    pub decimal_comma: bool,
}

/// A refused row: its number, the column at fault, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The row's number in the file, the header being row 1 (what a spreadsheet shows; blank
    /// lines are skipped and not counted).
    pub row: usize,
    /// The column at fault, named as in the file's header.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// What an import did (or, in a dry run or when refused, would have done).
#[derive(Clone, Debug)]
pub struct Report {
    /// The file's format.
    pub format: FileFormat,
    /// Data rows read.
    pub rows: usize,
    /// New values.
    pub created: usize,
    /// Values changed.
    pub updated: usize,
    /// Rows equal to the stored value (nothing written for them).
    pub unchanged: usize,
    /// Rows refused.
    pub rejected: usize,
    /// The refusals, one per bad field, by row: at most [`MAX_REPORTED`].
    pub rejected_rows: Vec<Rejected>,
    /// Refusals left out of `rejected_rows`.
    pub omitted: usize,
    /// A dry run.
    pub dry_run: bool,
    /// Whether the transaction was committed: false in a dry run and when rows were refused
    /// without `skip_invalid` (nothing written).
    pub written: bool,
}

/// The import ran past its deadline and was rolled back after this many rows.
#[derive(Clone, Copy, Debug)]
pub struct TimedOut {
    /// Rows read when it stopped.
    pub rows: usize,
}

/// Reads a value written with a decimal comma: dots group thousands, the comma is the decimal
/// point. "6,5" → "6.5", "14.780" → "14780", "1.234.567,25" → "1234567.25", "-0,15" →
/// "-0.15", "14780" → "14780". A dot must be followed by exactly three digits and the first
/// group be one to three digits, so "6.5" and "1234.567" are refused (`None`) rather than
/// read as 65 or 1234567; so is anything else that is not a number.
pub fn decimal_comma(s: &str) -> Option<String> {
    let t = s.trim();
    let (sign, rest) = match t.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", t.strip_prefix('+').unwrap_or(t)),
    };
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = match rest.split_once(',') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    if frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    let groups: Vec<&str> = int.split('.').collect();
    if !groups.iter().all(|g| digits(g)) {
        return None;
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    let mut out = format!("{sign}{}", groups.concat());
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

/// Where the columns stand in the header.
struct Columns {
    format: FileFormat,
    indicator: usize,
    unit: usize,
    period: usize,
    value: usize,
    disaggregation: Option<usize>,
    comment: Option<usize>,
}

impl Columns {
    /// Reads the header: the export's (`indicator` … ) or DHIS2's (`dataelement` …), in any
    /// column order, names in any case.
    fn of(header: &csv::ByteRecord) -> AppResult<Self> {
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let f = if i == 0 {
                    f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
                } else {
                    f
                };
                String::from_utf8_lossy(f).trim().to_ascii_lowercase()
            })
            .collect();
        let at = |name: &str| names.iter().position(|n| n == name);
        let (format, [ind, unit, dis]) = if at("dataelement").is_some() {
            (
                FileFormat::Dhis2,
                ["dataelement", "orgunit", "categoryoptioncombo"],
            )
        } else if at("indicator").is_some() {
            (FileFormat::Csv, ["indicator", "unit", "disaggregation"])
        } else {
            return Err(AppError::bad_input(
                "file",
                "the header is neither the export's (indicator,unit,period,disaggregation,value,…) \
                 nor a DHIS2 data value set's (dataelement,period,orgunit,categoryoptioncombo,…,value,…)",
            ));
        };
        let need = |name: &str| {
            at(name).ok_or_else(|| {
                AppError::bad_input("file", format!("the header has no `{name}` column"))
            })
        };
        Ok(Self {
            format,
            indicator: need(ind)?,
            unit: need(unit)?,
            period: need("period")?,
            value: need("value")?,
            disaggregation: at(dis),
            comment: at("comment"),
        })
    }

    /// The file's name of a field `check` names.
    fn name(&self, field: &str) -> &'static str {
        match (self.format, field) {
            (FileFormat::Csv, "indicatorCode") => "indicator",
            (FileFormat::Csv, "unitCode") => "unit",
            (FileFormat::Csv, "disaggregation") => "disaggregation",
            (FileFormat::Dhis2, "indicatorCode") => "dataelement",
            (FileFormat::Dhis2, "unitCode") => "orgunit",
            (FileFormat::Dhis2, "disaggregation") => "categoryoptioncombo",
            (_, "period") => "period",
            (_, "value") => "value",
            (_, "comment") => "comment",
            _ => "row",
        }
    }
}

/// A chunk as read: its rows, and what was wrong with rows before `check` saw them.
#[derive(Default)]
struct Chunk {
    rows: Vec<RowIn>,
    /// Rows that are not text: their one refusal, `check`'s ignored.
    unreadable: HashMap<usize, Rejected>,
    /// Values that do not read with a decimal comma: the refusal replacing `check`'s.
    bad_comma: HashMap<usize, String>,
}

/// The running totals and the refusals kept for the report.
struct Tally {
    created: usize,
    updated: usize,
    unchanged: usize,
    rejected: usize,
    refusals: Vec<Rejected>,
    refusals_total: usize,
}

impl Tally {
    fn new() -> Self {
        Self {
            created: 0,
            updated: 0,
            unchanged: 0,
            rejected: 0,
            refusals: Vec::new(),
            refusals_total: 0,
        }
    }

    fn refuse(&mut self, r: Rejected) {
        self.refusals_total += 1;
        self.refusals.push(r);
        // Keep the first MAX_REPORTED by row, sorting now and then.
        if self.refusals.len() >= 2 * MAX_REPORTED {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.refusals.sort_by_key(|r| r.row);
        self.refusals.truncate(MAX_REPORTED);
    }
}

/// Reads up to [`CHUNK`] data rows; `first` is the number of the first (the header is 1).
fn read_chunk<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    cols: &Columns,
    opts: Options,
    first: usize,
) -> AppResult<Chunk> {
    let mut chunk = Chunk::default();
    let mut record = csv::ByteRecord::new();
    while chunk.rows.len() < CHUNK {
        let more = reader.read_byte_record(&mut record).map_err(|e| {
            AppError::bad_input("file", format!("row {}: {e}", first + chunk.rows.len()))
        })?;
        if !more {
            break;
        }
        let index = first + chunk.rows.len();
        let mut unreadable = None;
        let mut field = |at: Option<usize>| -> String {
            let bytes = at.and_then(|i| record.get(i)).unwrap_or_default();
            match std::str::from_utf8(bytes) {
                Ok(s) => s.to_string(),
                Err(_) => {
                    unreadable.get_or_insert(at.unwrap_or_default());
                    String::new()
                }
            }
        };
        let mut row = RowIn {
            indicator: field(Some(cols.indicator)),
            unit: field(Some(cols.unit)),
            period: field(Some(cols.period)),
            disaggregation: Some(field(cols.disaggregation)),
            value: field(Some(cols.value)),
            comment: Some(field(cols.comment)),
        };
        if let Some(column) = unreadable {
            let name = String::from_utf8_lossy(record.get(column).unwrap_or_default());
            chunk.unreadable.insert(
                index,
                Rejected {
                    row: index,
                    field: "row".into(),
                    reason: format!("not UTF-8 text (`{name}`): save the file as UTF-8"),
                },
            );
        }
        if cols.format == FileFormat::Dhis2
            && row
                .disaggregation
                .as_deref()
                .is_some_and(|d| d.trim().eq_ignore_ascii_case("default"))
        {
            // DHIS2's default category option combination is our total.
            row.disaggregation = None;
        }
        if opts.decimal_comma {
            match decimal_comma(&row.value) {
                Some(v) => row.value = v,
                None => {
                    chunk.bad_comma.insert(
                        index,
                        format!(
                            "`{}` is not a number with a decimal comma (6,5; 14.780; 1.234.567,25): \
                             dots group thousands by three",
                            row.value
                        ),
                    );
                    row.value = String::new();
                }
            }
        }
        chunk.rows.push(row);
    }
    Ok(chunk)
}

/// A 128-bit hash of a key, for the duplicate check across chunks.
fn key_hash(key: &vs::Key) -> u128 {
    let half = |seed: u8| {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        key.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// Imports a file as `caller`: see the module documentation. `progress` is told the bytes
/// and rows read after each chunk. Past `deadline`, the import is rolled back.
pub async fn import<R: std::io::Read + Send>(
    db: &DatabaseConnection,
    caller: &Caller,
    input: R,
    opts: Options,
    deadline: Option<tokio::time::Instant>,
    mut progress: impl FnMut(u64, usize) + Send,
) -> AppResult<Result<Report, TimedOut>> {
    // Who may not submit values learns it before the file is read.
    let status = values::arrival_status(caller, false)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut header = csv::ByteRecord::new();
    let has_header = reader
        .read_byte_record(&mut header)
        .map_err(|e| AppError::bad_input("file", e.to_string()))?;
    if !has_header {
        return Err(AppError::bad_input(
            "file",
            "the file is empty: expected a header row",
        ));
    }
    let cols = Columns::of(&header)?;
    let mut lookup = values::Lookup::new(caller).await?;
    let mut tally = Tally::new();
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        let mut stage = Stage::open(db).await?;
        let job = Staged {
            db,
            caller,
            cols: &cols,
            opts,
            status,
            deadline,
        };
        let out = job
            .run(&mut stage, &mut reader, &mut lookup, &mut tally, progress)
            .await;
        stage.finish().await;
        return out;
    }

    // `check` reads through the pool while the transaction holds a connection: with a single
    // connection (an in-memory SQLite), every chunk is checked first and written afterwards.
    let buffered = single_connection(db);
    let mut txn = None;
    if !buffered {
        txn = Some(begin(db, caller).await?);
    }
    let mut pending: Vec<Vec<Checked>> = Vec::new();
    let mut seen: HashMap<u128, usize> = HashMap::new();
    let mut feed = Feed::default();
    let mut rows = 0;
    loop {
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            if let Some(t) = txn {
                t.rollback().await?;
            }
            return Ok(Err(TimedOut { rows }));
        }
        let chunk = read_chunk(&mut reader, &cols, opts, rows + 2)?;
        if chunk.rows.is_empty() {
            break;
        }
        rows += chunk.rows.len();
        let checked = check_chunk(
            db,
            &mut lookup,
            &cols,
            chunk,
            rows + 2,
            &mut seen,
            &mut tally,
        )
        .await?;
        match &txn {
            Some(t) => {
                write_chunk(t, caller, &cols, checked, status, &mut feed, &mut tally).await?
            }
            None => pending.push(checked),
        }
        progress(reader.position().byte(), rows);
    }
    let txn = match txn {
        Some(t) => t,
        None => {
            let t = begin(db, caller).await?;
            for checked in pending {
                write_chunk(&t, caller, &cols, checked, status, &mut feed, &mut tally).await?;
            }
            t
        }
    };
    tally.trim();
    let refused = tally.rejected > 0 && !opts.skip_invalid;
    let written = !opts.dry_run && !refused;
    if written {
        if let Some(first) = feed.first_value {
            audit::record(
                &txn,
                &caller.actor,
                "indicator_values.import",
                "indicator_value",
                first,
                None,
                Some(summary(&cols, rows, &tally, status)),
            )
            .await?;
        }
        super::commit(txn, caller).await?;
    } else {
        txn.rollback().await?;
    }
    Ok(Ok(report(&cols, rows, tally, opts, written)))
}

/// The PostgreSQL import: every checked row staged through `COPY` first, with no lock held;
/// then, in one transaction with value writers' turn, classified and written by set-based
/// statements ([`Stage`]).
struct Staged<'a> {
    db: &'a DatabaseConnection,
    caller: &'a Caller,
    cols: &'a Columns,
    opts: Options,
    status: ValueStatus,
    deadline: Option<tokio::time::Instant>,
}

impl Staged<'_> {
    async fn run<R: std::io::Read + Send>(
        &self,
        stage: &mut Stage,
        reader: &mut csv::Reader<R>,
        lookup: &mut values::Lookup<'_>,
        tally: &mut Tally,
        mut progress: impl FnMut(u64, usize) + Send,
    ) -> AppResult<Result<Report, TimedOut>> {
        let (cols, opts) = (self.cols, self.opts);
        let mut seen: HashMap<u128, usize> = HashMap::new();
        let mut rows = 0;
        let late = || {
            self.deadline
                .is_some_and(|d| tokio::time::Instant::now() >= d)
        };
        loop {
            if late() {
                return Ok(Err(TimedOut { rows }));
            }
            let chunk = read_chunk(reader, cols, opts, rows + 2)?;
            if chunk.rows.is_empty() {
                break;
            }
            rows += chunk.rows.len();
            let checked =
                check_chunk(self.db, lookup, cols, chunk, rows + 2, &mut seen, tally).await?;
            let texts: Vec<String> = checked
                .iter()
                .map(|c| DecimalText::new(c.value).as_str().to_string())
                .collect();
            stage
                .add(checked.iter().zip(&texts).map(|(c, v)| StagedRow {
                    index: c.index,
                    indicator_id: c.key.0,
                    unit_id: c.key.1,
                    period: &c.key.2,
                    disaggregation: &c.key.3,
                    value: v,
                    comment: c.comment.as_deref(),
                }))
                .await?;
            progress(reader.position().byte(), rows);
        }
        drop(seen);
        stage.close().await?;
        if late() {
            return Ok(Err(TimedOut { rows }));
        }
        let txn = begin(self.db, self.caller).await?;
        Stage::time_limit(&txn, self.deadline).await?;
        let found = stage.classify(&txn, self.status, MAX_REPORTED).await?;
        tally.created = found.created;
        tally.updated = found.updated;
        tally.unchanged = found.unchanged;
        tally.rejected += found.locked;
        tally.refusals_total += found.locked - found.locked_rows.len();
        for (row, status) in found.locked_rows {
            tally.refuse(Rejected {
                row,
                field: cols.name("value").into(),
                reason: format!("the value is {status}: a manager reopens it before it changes"),
            });
        }
        tally.trim();
        let refused = tally.rejected > 0 && !opts.skip_invalid;
        let written = !opts.dry_run && !refused;
        if written && tally.created + tally.updated > 0 {
            let seq = vs::take_commit_number(&txn).await?;
            let actor = &self.caller.actor;
            let first = stage
                .write(&txn, seq, self.status, &actor.name, actor.user_id)
                .await?;
            if let Some(first) = first {
                audit::record(
                    &txn,
                    actor,
                    "indicator_values.import",
                    "indicator_value",
                    first,
                    None,
                    Some(summary(cols, rows, tally, self.status)),
                )
                .await?;
            }
        }
        if written {
            super::commit(txn, self.caller).await?;
        } else {
            txn.rollback().await?;
        }
        Ok(Ok(report(
            cols,
            rows,
            std::mem::replace(tally, Tally::new()),
            opts,
            written,
        )))
    }
}

/// The audit event's summary of an import.
fn summary(cols: &Columns, rows: usize, tally: &Tally, status: ValueStatus) -> serde_json::Value {
    serde_json::json!({
        "format": cols.format.name(), "rows": rows,
        "created": tally.created, "updated": tally.updated,
        "unchanged": tally.unchanged, "rejected": tally.rejected,
        "status": sea_orm::ActiveEnum::to_value(&status),
    })
}

/// The report of an import that read `rows` rows.
fn report(cols: &Columns, rows: usize, tally: Tally, opts: Options, written: bool) -> Report {
    Report {
        format: cols.format,
        rows,
        created: tally.created,
        updated: tally.updated,
        unchanged: tally.unchanged,
        rejected: tally.rejected,
        omitted: tally.refusals_total - tally.refusals.len(),
        rejected_rows: tally.refusals,
        dry_run: opts.dry_run,
        written,
    }
}

/// The import's transaction: the caller's write transaction, value writers' turn taken.
async fn begin(db: &DatabaseConnection, caller: &Caller) -> AppResult<DatabaseTransaction> {
    let txn = super::begin(db, caller).await?;
    vs::take_turn(&txn).await?;
    Ok(txn)
}

/// Whether the pool has a single connection (an in-memory SQLite).
fn single_connection(db: &DatabaseConnection) -> bool {
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            db.get_sqlite_connection_pool()
                .options()
                .get_max_connections()
                < 2
        }
        _ => false,
    }
}

/// Checks a chunk (rows numbered from `next - len`) and refuses keys seen in earlier rows.
async fn check_chunk(
    db: &DatabaseConnection,
    lookup: &mut values::Lookup<'_>,
    cols: &Columns,
    chunk: Chunk,
    next: usize,
    seen: &mut HashMap<u128, usize>,
    tally: &mut Tally,
) -> AppResult<Vec<Checked>> {
    let offset = next - chunk.rows.len();
    let (checked, errors) = values::check_with(db, lookup, &chunk.rows, offset).await?;
    let mut bad_rows: HashSet<usize> = HashSet::new();
    for r in chunk.unreadable.values() {
        bad_rows.insert(r.row);
        tally.refuse(r.clone());
    }
    for e in errors {
        if chunk.unreadable.contains_key(&e.index) {
            continue;
        }
        bad_rows.insert(e.index);
        let reason = match chunk.bad_comma.get(&e.index) {
            Some(reason) if e.field == "value" => reason.clone(),
            _ => hint(e.message, e.field, &chunk.rows[e.index - offset].value),
        };
        tally.refuse(Rejected {
            row: e.index,
            field: cols.name(e.field).into(),
            reason,
        });
    }
    let mut out = Vec::with_capacity(checked.len());
    for c in checked {
        match seen.entry(key_hash(&c.key)) {
            std::collections::hash_map::Entry::Occupied(first) => {
                bad_rows.insert(c.index);
                tally.refuse(Rejected {
                    row: c.index,
                    field: cols.name("period").into(),
                    reason: format!(
                        "the same value as row {} (indicator, unit, period, disaggregation)",
                        first.get()
                    ),
                });
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(c.index);
                out.push(c);
            }
        }
    }
    // A refused row's key is not remembered: a later row with that key counts as the first
    // (as `check` does within a chunk).
    tally.rejected += bad_rows.len();
    Ok(out)
}

/// `check`'s message, with a hint for a decimal comma sent without the option.
fn hint(message: String, field: &str, value: &str) -> String {
    if field == "value" && value.contains(',') {
        format!("{message}: for a decimal comma, import with decimalComma=true (--decimal-comma)")
    } else {
        message
    }
}

/// The feed entries' commit number, taken with the first change.
#[derive(Default)]
struct Feed {
    seq: Option<i64>,
    first_value: Option<i64>,
}

/// Writes a chunk's checked rows and their feed entries.
async fn write_chunk(
    txn: &DatabaseTransaction,
    caller: &Caller,
    cols: &Columns,
    checked: Vec<Checked>,
    status: ValueStatus,
    feed: &mut Feed,
    tally: &mut Tally,
) -> AppResult<()> {
    if checked.is_empty() {
        return Ok(());
    }
    let (out, changes, errors) = values::write(txn, caller, checked, status).await?;
    tally.created += out.created;
    tally.updated += out.updated;
    tally.unchanged += out.unchanged;
    tally.rejected += errors.len();
    for RowError {
        index,
        field,
        message,
        ..
    } in errors
    {
        tally.refuse(Rejected {
            row: index,
            field: cols.name(field).into(),
            reason: message,
        });
    }
    if let Some(first) = changes.first() {
        feed.first_value.get_or_insert(first.value.id);
        // One commit number for the whole import, taken once value writers' turn is ours
        // (services::values::take_commit_number).
        let seq = match feed.seq {
            Some(s) => s,
            None => *feed.seq.insert(vs::take_commit_number(txn).await?),
        };
        vs::write_changes(txn, seq, changes).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_commas() {
        for (given, read) in [
            ("6,5", Some("6.5")),
            ("14.780", Some("14780")),
            ("1.234.567,25", Some("1234567.25")),
            ("-0,15", Some("-0.15")),
            (" 14780 ", Some("14780")),
            ("0,95", Some("0.95")),
            ("6.5", None),
            ("1234.567", None),
            ("1.23", None),
            ("1,2,3", None),
            ("6,", None),
            (",5", None),
            ("abc", None),
            ("", None),
        ] {
            assert_eq!(decimal_comma(given).as_deref(), read, "{given}");
        }
    }

    #[test]
    fn headers_tell_the_format() {
        let rec = |s: &str| csv::ByteRecord::from(s.split(',').collect::<Vec<_>>());
        let c = Columns::of(&rec(
            "\u{feff}indicator,unit,period,disaggregation,value,status,comment,version,updated_at",
        ))
        .unwrap();
        assert_eq!((c.format, c.indicator, c.value), (FileFormat::Csv, 0, 4));
        let d = Columns::of(&rec(
            "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value,storedby,lastupdated,comment,followup",
        ))
        .unwrap();
        assert_eq!(
            (d.format, d.unit, d.comment),
            (FileFormat::Dhis2, 2, Some(8))
        );
        assert_eq!(d.name("unitCode"), "orgunit");
        assert!(Columns::of(&rec("a,b,c")).is_err());
        assert!(Columns::of(&rec("indicator,unit,value")).is_err());
    }
}

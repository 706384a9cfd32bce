//! The demo area of the embedded default (api/data/demo/, typed for the demo; see its README).
//!
//! Loaded on first start of the default SQLite database, or on demand by `platform seed-demo`,
//! in one write transaction: the 2024 list (no start date), the two-level list of 1 July 2025,
//! then the official lineage of that day. Then, one transaction each: the five documents
//! (api/data/plans/), the two invented ones (api/data/demo/plans/), the demo users if asked
//! for, and the demo progress reports (api/data/demo/progress.toml).

use crate::db;
use crate::error::{AppError, AppResult};
use crate::services::plan_import;
use crate::services::unit_import::{self, LineageRow, UnitRow};
use chrono::NaiveDate;
use entity::admin_unit::Entity as AdminUnit;
use entity::enums::{AdminLevel, LineageChange};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde::Deserialize;

const UNITS_2024: &str = include_str!("../data/demo/units-2024.csv");
const UNITS_2025_07: &str = include_str!("../data/demo/units-2025-07-01.csv");
const LINEAGE_2025_07: &str = include_str!("../data/demo/lineage-2025-07-01.csv");

/// The five documents (api/data/plans/), in an order where every plan a file links to by key
/// is declared before or in that file.
pub const DEMO_PLANS: &[(&str, &str)] = &[
    (
        "tan-phu-51-2022.toml",
        include_str!("../data/plans/tan-phu-51-2022.toml"),
    ),
    (
        "ha-noi-31-nq-2023.toml",
        include_str!("../data/plans/ha-noi-31-nq-2023.toml"),
    ),
    (
        "hcm-directive-2024.toml",
        include_str!("../data/plans/hcm-directive-2024.toml"),
    ),
    (
        "thap-muoi-230-2024.toml",
        include_str!("../data/plans/thap-muoi-230-2024.toml"),
    ),
    (
        "hoc-mon-ct12-2024.toml",
        include_str!("../data/plans/hoc-mon-ct12-2024.toml"),
    ),
];

/// The two documents invented for the demo (api/data/demo/plans/, typed from no seed text): a
/// draft, internal 2026 plan of Thành phố Hồ Chí Minh and an issued, internal 2026 plan of Tỉnh
/// Đồng Tháp, with tasks due before and after today. Loaded after [`DEMO_PLANS`], whose
/// agencies and indicators they name.
pub const INVENTED_PLANS: &[(&str, &str)] = &[
    (
        "hcm-2026-draft.toml",
        include_str!("../data/demo/plans/hcm-2026-draft.toml"),
    ),
    (
        "dong-thap-2026-internal.toml",
        include_str!("../data/demo/plans/dong-thap-2026-internal.toml"),
    ),
];

const USERS: &str = include_str!("../data/demo/users.toml");
const PROGRESS: &str = include_str!("../data/demo/progress.toml");

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo-password";

#[derive(Deserialize)]
struct DemoUsers {
    agencies: Vec<DemoAgency>,
    users: Vec<DemoUser>,
}

#[derive(Deserialize)]
struct DemoAgency {
    key: String,
    name: String,
    kind: String,
    unit: String,
}

#[derive(Deserialize)]
struct DemoUser {
    username: String,
    display_name: String,
    role: String,
    unit: Option<String>,
    agency: Option<String>,
}

/// Loads the demo users (api/data/demo/users.toml) and the agencies they belong to, unless a
/// user exists already; one transaction. Returns how many were created.
pub async fn seed_demo_users(db: &DatabaseConnection) -> AppResult<usize> {
    use entity::{agency, app_user};
    use sea_orm::{ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter};
    let file: DemoUsers = toml::from_str(USERS)
        .map_err(|e| AppError::internal(format!("demo users: {}", e.message())))?;
    let txn = db::begin_write(db).await?;
    if app_user::Entity::find().count(&txn).await? > 0 {
        txn.rollback().await?;
        return Ok(0);
    }
    let today = crate::clock::today();
    for a in &file.agencies {
        if agency::Entity::find()
            .filter(agency::Column::Code.eq(a.key.as_str()))
            .one(&txn)
            .await?
            .is_some()
        {
            continue;
        }
        let unit = crate::services::units::by_code(&txn, &a.unit, today, None)
            .await?
            .ok_or_else(|| {
                AppError::internal(format!("demo agency {}: no unit {}", a.key, a.unit))
            })?;
        let checked = crate::services::agencies::check(Some(&a.key), &a.name, None, &a.kind)
            .map_err(|e| AppError::internal(format!("demo agency {}: {}", a.key, e.detail())))?;
        agency::ActiveModel {
            code: Set(checked.key),
            name: Set(checked.name),
            kind: Set(checked.kind),
            admin_unit_id: Set(unit.id),
            valid_from: Set(unit.valid_from),
            search_key: Set(checked.search_key),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    for u in &file.users {
        let role = entity::enums::Role::try_from_value(&u.role).map_err(|_| {
            AppError::internal(format!("demo user {}: role {}", u.username, u.role))
        })?;
        let made = async {
            let (home, agency) =
                crate::services::users::resolve_home(&txn, u.unit.as_deref(), u.agency.as_deref())
                    .await?;
            crate::services::users::insert(
                &txn,
                &u.username,
                Some(&u.display_name),
                role,
                home,
                agency,
                DEMO_PASSWORD,
            )
            .await
        };
        made.await
            .map_err(|e| AppError::internal(format!("demo user {}: {}", u.username, e.detail())))?;
    }
    txn.commit().await?;
    Ok(file.users.len())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoProgress {
    reports: Vec<DemoReport>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoReport {
    plan: String,
    ordinal: String,
    lead: String,
    period: String,
    percent_complete: Option<i32>,
    narrative: Option<String>,
    reported_by: String,
    reported_on: NaiveDate,
    status: String,
    review_reason: Option<String>,
    reviewed_by: Option<String>,
    reviewed_on: Option<NaiveDate>,
}

/// A report of api/data/demo/progress.toml, checked.
struct CheckedReport<'a> {
    row: &'a DemoReport,
    status: entity::enums::ReportStatus,
}

/// Reads api/data/demo/progress.toml and checks each report the way the API checks a report
/// and its review: a DHIS2 period, 0–100 percent, a percentage or a narrative, a reviewer for
/// an accepted or returned report and a reason for a returned one, at most one report a task
/// and period.
fn demo_progress(file: &DemoProgress) -> AppResult<Vec<CheckedReport<'_>>> {
    use entity::enums::ReportStatus;
    use sea_orm::ActiveEnum;
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (i, r) in file.reports.iter().enumerate() {
        let bad = |reason: &str| {
            AppError::internal(format!(
                "demo progress report {} ({} {} {}): {reason}",
                i + 1,
                r.plan,
                r.ordinal,
                r.period
            ))
        };
        let status = ReportStatus::try_from_value(&r.status).map_err(|_| bad("unknown status"))?;
        if crate::period::Period::parse(&r.period).is_none() {
            return Err(bad("not a DHIS2 period"));
        }
        if r.percent_complete.is_some_and(|p| !(0..=100).contains(&p)) {
            return Err(bad("percent_complete is from 0 to 100"));
        }
        if r.percent_complete.is_none() && r.narrative.is_none() {
            return Err(bad("a report gives a percentage, a narrative or both"));
        }
        let reviewed = r.reviewed_by.is_some() && r.reviewed_on.is_some();
        match status {
            ReportStatus::Submitted
                if r.reviewed_by.is_some()
                    || r.reviewed_on.is_some()
                    || r.review_reason.is_some() =>
            {
                return Err(bad("a submitted report has no review yet"));
            }
            ReportStatus::Accepted | ReportStatus::Returned if !reviewed => {
                return Err(bad("a reviewed report names reviewed_by and reviewed_on"));
            }
            ReportStatus::Returned if r.review_reason.is_none() => {
                return Err(bad("a returned report says why (review_reason)"));
            }
            _ => {}
        }
        if !seen.insert((&r.plan, &r.ordinal, &r.lead, &r.period)) {
            return Err(bad("the task has a report for this period already"));
        }
        out.push(CheckedReport { row: r, status });
    }
    Ok(out)
}

/// A Vietnamese calendar day at a given hour, as a UTC instant.
fn vietnam_time(day: NaiveDate, hour: u32) -> chrono::DateTime<chrono::Utc> {
    day.and_hms_opt(hour, 0, 0)
        .and_then(|t| t.and_local_timezone(crate::clock::VIETNAM).single())
        .map(|t| t.to_utc())
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Loads the demo progress reports (api/data/demo/progress.toml) on tasks of the invented
/// plans, in one transaction; call it after [`seed_demo`] and, when there are demo users,
/// after [`seed_demo_users`]. A report whose task already has a report for its period is left
/// out, and so is one whose task is not there (its plan was changed since it was loaded).
/// Reporters and reviewers are stored as `user:<id>` when the named user exists (as
/// `submitProgressReport` writes them), else as the username. Returns how many were written.
pub async fn seed_demo_progress(db: &DatabaseConnection) -> AppResult<usize> {
    use entity::enums::{PlanStatus, ReportStatus};
    use entity::{agency, app_user, assignment, plan, progress_report};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter};
    let file: DemoProgress = toml::from_str(PROGRESS)
        .map_err(|e| AppError::internal(format!("demo progress: {}", e.message())))?;
    let reports = demo_progress(&file)?;
    let txn = db::begin_write(db).await?;
    let mut written = 0;
    for CheckedReport { row: r, status } in reports {
        let Some(p) = plan::Entity::find()
            .filter(plan::Column::Code.eq(r.plan.as_str()))
            .filter(plan::Column::Status.ne(PlanStatus::Referenced))
            .one(&txn)
            .await?
        else {
            tracing::warn!(plan = %r.plan, "demo progress: no such plan; report left out");
            continue;
        };
        let Some(lead) = agency::Entity::find()
            .filter(agency::Column::Code.eq(r.lead.as_str()))
            .one(&txn)
            .await?
        else {
            tracing::warn!(agency = %r.lead, "demo progress: no such agency; report left out");
            continue;
        };
        let tasks = assignment::Entity::find()
            .filter(assignment::Column::PlanId.eq(p.id))
            .filter(assignment::Column::Ordinal.eq(r.ordinal.as_str()))
            .filter(assignment::Column::LeadAgencyId.eq(lead.id))
            .all(&txn)
            .await?;
        let task = match tasks.as_slice() {
            [one] => one,
            [] => {
                tracing::warn!(plan = %r.plan, ordinal = %r.ordinal, lead = %r.lead,
                    "demo progress: no such task; report left out");
                continue;
            }
            _ => {
                return Err(AppError::internal(format!(
                    "demo progress: {} {} led by {} names {} tasks",
                    r.plan,
                    r.ordinal,
                    r.lead,
                    tasks.len()
                )));
            }
        };
        let period = r.period.trim().to_string();
        if progress_report::Entity::find()
            .filter(progress_report::Column::AssignmentId.eq(task.id))
            .filter(progress_report::Column::Period.eq(period.as_str()))
            .one(&txn)
            .await?
            .is_some()
        {
            continue;
        }
        // `user:<id>` when the user exists, as the API writes it; the username otherwise.
        let who = async |username: &str| -> AppResult<(String, Option<i64>)> {
            Ok(
                match app_user::Entity::find()
                    .filter(app_user::Column::Username.eq(username))
                    .one(&txn)
                    .await?
                {
                    Some(u) => (format!("user:{}", u.id), Some(u.id)),
                    None => (username.to_string(), None),
                },
            )
        };
        let (reported_by, reporter_id) = who(&r.reported_by).await?;
        let reviewed_by = match &r.reviewed_by {
            Some(name) => Some(who(name).await?.0),
            None => None,
        };
        progress_report::ActiveModel {
            assignment_id: Set(Some(task.id)),
            reporting_duty_id: Set(None),
            period: Set(period),
            status: Set(status),
            percent_complete: Set(r.percent_complete),
            narrative: Set(r.narrative.as_deref().map(crate::text::clean)),
            reported_by_user_id: Set(reporter_id),
            reported_by: Set(Some(reported_by)),
            reported_at: Set(vietnam_time(r.reported_on, 9)),
            // As the API leaves it: a review raises the version.
            version: Set(if status == ReportStatus::Submitted {
                1
            } else {
                2
            }),
            review_reason: Set(r.review_reason.as_deref().map(crate::text::clean)),
            reviewed_by: Set(reviewed_by),
            reviewed_at: Set(r.reviewed_on.map(|d| vietnam_time(d, 15))),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        written += 1;
    }
    txn.commit().await?;
    Ok(written)
}

/// The day the two-level system took effect.
pub const REFORM_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2025, 7, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};

#[derive(Deserialize)]
struct UnitCsv {
    code: String,
    name: String,
    kind: String,
    level: String,
    parent_code: String,
}

#[derive(Deserialize)]
struct LineageCsv {
    old_code: String,
    new_code: String,
    change: String,
    split_count: Option<i32>,
}

fn parse_level(s: &str) -> Option<AdminLevel> {
    match s {
        "PROVINCE" => Some(AdminLevel::Province),
        "DISTRICT" => Some(AdminLevel::District),
        "COMMUNE" => Some(AdminLevel::Commune),
        _ => None,
    }
}

fn parse_change(s: &str) -> Option<LineageChange> {
    use LineageChange::*;
    Some(match s {
        "MERGED_WHOLE" => MergedWhole,
        "MERGED_PART" => MergedPart,
        "SPLIT" => Split,
        "RENAMED" => Renamed,
        "RETYPED" => Retyped,
        "REPARENTED" => Reparented,
        "UNCHANGED" => Unchanged,
        _ => return None,
    })
}

fn csv_error(file: &str, line: usize, reason: impl std::fmt::Display) -> AppError {
    AppError::bad_input(format!("{file}:{line}"), reason.to_string())
}

/// Parses a list in the demo format (`code,name,kind,level,parent_code`).
pub fn parse_units(file: &str, data: &str) -> AppResult<Vec<UnitRow>> {
    let mut reader = csv::Reader::from_reader(data.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.deserialize::<UnitCsv>().enumerate() {
        let line = i + 2;
        let r = record.map_err(|e| csv_error(file, line, e))?;
        let level = parse_level(&r.level)
            .ok_or_else(|| csv_error(file, line, format!("unknown level `{}`", r.level)))?;
        rows.push(UnitRow {
            code: r.code,
            name: r.name,
            kind: r.kind,
            level,
            parent_code: Some(r.parent_code).filter(|p| !p.is_empty()),
            line,
        });
    }
    Ok(rows)
}

/// Parses lineage in the demo format (`old_code,new_code,change,split_count`).
pub fn parse_lineage(file: &str, data: &str) -> AppResult<Vec<LineageRow>> {
    let mut reader = csv::Reader::from_reader(data.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.deserialize::<LineageCsv>().enumerate() {
        let line = i + 2;
        let r = record.map_err(|e| csv_error(file, line, e))?;
        let change = parse_change(&r.change)
            .ok_or_else(|| csv_error(file, line, format!("unknown change `{}`", r.change)))?;
        rows.push(LineageRow {
            old_code: r.old_code,
            new_code: r.new_code,
            change,
            split_count: r.split_count,
            line,
        });
    }
    Ok(rows)
}

/// What seeding units did.
#[derive(Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The demo area was loaded: units opened, lineage links written.
    Loaded {
        /// Unit rows written.
        units: usize,
        /// Lineage links written.
        links: usize,
    },
    /// Units were already present; nothing was written.
    AlreadyPresent,
}

/// Loads the demo area's units unless units are already present (one transaction), then
/// imports the five documents and the two invented ones (one transaction each; an unchanged
/// file writes nothing).
pub async fn seed_demo(db: &DatabaseConnection) -> AppResult<SeedOutcome> {
    Ok(seed_demo_counted(db).await?.0)
}

/// How many demo documents [`seed_demo`] may load: the five and the two invented ones.
pub fn demo_document_count() -> usize {
    DEMO_PLANS.len() + INVENTED_PLANS.len()
}

/// [`seed_demo`], also saying how many of the seven documents it loaded (those already present
/// are left as they are).
pub async fn seed_demo_counted(db: &DatabaseConnection) -> AppResult<(SeedOutcome, usize)> {
    let outcome = seed_units(db).await?;
    let mut documents = 0;
    for (name, content) in DEMO_PLANS.iter().chain(INVENTED_PLANS) {
        // A demo document already present (perhaps edited, or re-imported by its office) is
        // left as it is.
        if plan_import::is_present(db, content).await? {
            continue;
        }
        plan_import::import_plan_file(db, content)
            .await
            .map_err(|e| AppError::internal(format!("demo plan {name}: {}", e.detail())))?;
        documents += 1;
    }
    Ok((outcome, documents))
}

/// Loads the demo area's units unless units are already present, in one transaction.
pub async fn seed_units(db: &DatabaseConnection) -> AppResult<SeedOutcome> {
    let first = parse_units("units-2024.csv", UNITS_2024)?;
    let reform = parse_units("units-2025-07-01.csv", UNITS_2025_07)?;
    let lineage = parse_lineage("lineage-2025-07-01.csv", LINEAGE_2025_07)?;
    let txn = db::begin_write(db).await?;
    if AdminUnit::find().count(&txn).await? > 0 {
        txn.rollback().await?;
        return Ok(SeedOutcome::AlreadyPresent);
    }
    let a = unit_import::apply_snapshot(&txn, &first, None).await?;
    let b = unit_import::apply_snapshot(&txn, &reform, Some(REFORM_DATE)).await?;
    let c = unit_import::apply_lineage(&txn, &lineage, REFORM_DATE).await?;
    if let Some((line, reason)) = c.skipped.first() {
        return Err(AppError::internal(format!(
            "demo lineage line {line} does not resolve: {reason}"
        )));
    }
    txn.commit().await?;
    crate::services::unit_snapshot::changed_here();
    Ok(SeedOutcome::Loaded {
        units: a.opened + b.opened,
        links: a.lineage + b.lineage + c.written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_files_parse_with_the_expected_counts() {
        let first = parse_units("units-2024.csv", UNITS_2024).unwrap();
        let count = |parent: &str| {
            first
                .iter()
                .filter(|u| u.parent_code.as_deref() == Some(parent))
                .count()
        };
        assert_eq!(count("784"), 12);
        assert_eq!(count("767"), 11);
        assert_eq!(count("769"), 34);
        assert_eq!(count("872"), 13);
        assert!(parse_lineage("l", LINEAGE_2025_07).unwrap().len() >= 70);
    }

    #[test]
    fn the_invented_plans_read() {
        for (name, text) in INVENTED_PLANS {
            plan_import::parse_plan_file(text).unwrap_or_else(|e| panic!("{name}: {}", e.detail()));
        }
    }

    #[test]
    fn the_demo_reports_read_and_check() {
        let file: DemoProgress = toml::from_str(PROGRESS).unwrap();
        let reports = demo_progress(&file).unwrap_or_else(|e| panic!("{}", e.detail()));
        use entity::enums::ReportStatus::*;
        for status in [Submitted, Accepted, Returned] {
            assert!(reports.iter().any(|r| r.status == status), "{status:?}");
        }
    }

    #[test]
    fn a_returned_demo_report_needs_a_reason() {
        let file: DemoProgress = toml::from_str(
            r#"[[reports]]
plan = "p"
ordinal = "1"
lead = "a"
period = "2026Q3"
percent_complete = 5
reported_by = "u"
reported_on = "2026-10-01"
status = "RETURNED"
reviewed_by = "m"
reviewed_on = "2026-10-02"
"#,
        )
        .unwrap();
        let err = demo_progress(&file).err().unwrap();
        assert!(err.detail().contains("review_reason"), "{}", err.detail());
    }

    #[test]
    fn demo_days_are_vietnamese_days() {
        let t = vietnam_time(NaiveDate::from_ymd_opt(2026, 10, 5).unwrap(), 9);
        assert_eq!(t.to_rfc3339(), "2026-10-05T02:00:00+00:00");
    }

    #[test]
    fn unknown_level_is_reported_with_its_line() {
        let err = parse_units(
            "f.csv",
            "code,name,kind,level,parent_code\n01,A,Tỉnh,STATE,\n",
        )
        .unwrap_err();
        assert!(matches!(err, AppError::BadUserInput { ref field, .. } if field == "f.csv:2"));
    }
}

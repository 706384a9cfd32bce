//! The demo area of the embedded default (api/data/demo/, typed for the demo; see its README).
//!
//! Loaded on first start of the default SQLite database, or on demand by `platform seed-demo`,
//! in one write transaction: the 2024 list (no start date), the two-level list of 1 July 2025,
//! then the official lineage of that day. Then, one transaction each: the five documents
//! (api/data/plans/), the two invented ones (api/data/demo/plans/), and the demo users if
//! asked for.

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
    fn unknown_level_is_reported_with_its_line() {
        let err = parse_units(
            "f.csv",
            "code,name,kind,level,parent_code\n01,A,Tỉnh,STATE,\n",
        )
        .unwrap_err();
        assert!(matches!(err, AppError::BadUserInput { ref field, .. } if field == "f.csv:2"));
    }
}

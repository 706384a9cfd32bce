//! Applying unit lists and lineage: idempotent re-runs, same-day corrections, order, and the
//! kinds of code-continuation links.

use crate::common::{TestApp, fresh_database};
use api::services::unit_import::{UnitRow, apply_lineage, apply_snapshot};
use chrono::NaiveDate;
use entity::admin_unit;
use entity::admin_unit_lineage;
use entity::enums::{AdminLevel, LineageChange};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

const UNITS_2025: &str = include_str!("../../api/data/demo/units-2025-07-01.csv");
const LINEAGE_2025: &str = include_str!("../../api/data/demo/lineage-2025-07-01.csv");

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn empty_db() -> DatabaseConnection {
    let url = fresh_database().await;
    let db = api::db::connect(&api::config::DatabaseUrl::parse(&url).unwrap())
        .await
        .unwrap();
    Migrator::up(&db, None).await.unwrap();
    db
}

fn unit(code: &str, name: &str, kind: &str, level: AdminLevel, parent: Option<&str>) -> UnitRow {
    UnitRow {
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        level,
        parent_code: parent.map(Into::into),
        line: 0,
    }
}

async fn no_inverted_validity(db: &DatabaseConnection) {
    for u in admin_unit::Entity::find().all(db).await.unwrap() {
        if let (Some(from), Some(to)) = (u.valid_from, u.valid_to) {
            assert!(to >= from, "{} {} valid {from}..{to}", u.code, u.name);
        }
    }
}

#[tokio::test]
async fn re_running_the_same_list_and_mapping_changes_nothing() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let before = admin_unit::Entity::find().all(db).await.unwrap();
    let links_before = admin_unit_lineage::Entity::find().all(db).await.unwrap();
    let units = api::seed::parse_units("u", UNITS_2025).unwrap();
    let report = apply_snapshot(db, &units, Some(day("2025-07-01")))
        .await
        .unwrap();
    assert_eq!((report.opened, report.closed, report.lineage), (0, 0, 0));
    assert_eq!(report.continued, units.len());
    let lineage = api::seed::parse_lineage("l", LINEAGE_2025).unwrap();
    let report = apply_lineage(db, &lineage, day("2025-07-01"))
        .await
        .unwrap();
    assert_eq!(report.written, 0);
    assert!(report.skipped.is_empty());
    assert_eq!(admin_unit::Entity::find().all(db).await.unwrap(), before);
    assert_eq!(
        admin_unit_lineage::Entity::find().all(db).await.unwrap(),
        links_before
    );
}

#[tokio::test]
async fn a_correction_on_the_same_date_replaces_in_place() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let mut units = api::seed::parse_units("u", UNITS_2025).unwrap();
    let fixed = units.iter_mut().find(|u| u.code == "27559").unwrap();
    fixed.name = "Xã Hóc Môn Mới".into();
    let dropped = units.iter().position(|u| u.code == "27592").unwrap();
    units.remove(dropped);
    apply_snapshot(db, &units, Some(day("2025-07-01")))
        .await
        .unwrap();
    no_inverted_validity(db).await;
    let now = app
        .data(r#"{ commune(code: "27559") { name validFrom } b: commune(code: "27592") { code } }"#)
        .await;
    assert_eq!(now["commune"]["name"], "Xã Hóc Môn Mới");
    assert_eq!(now["commune"]["validFrom"], "2025-07-01");
    assert!(now["b"].is_null());
}

#[tokio::test]
async fn lists_load_oldest_first() {
    let app = TestApp::spawn().await;
    let units = api::seed::parse_units("u", UNITS_2025).unwrap();
    let err = apply_snapshot(&app.db, &units, Some(day("2025-03-01")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "BAD_USER_INPUT");
    // A first list cannot be loaded twice.
    let err = apply_snapshot(&app.db, &units, None).await.unwrap_err();
    assert_eq!(err.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_renamed_parent_gives_its_children_unchanged_links() {
    use AdminLevel::*;
    let db = empty_db().await;
    let first = vec![
        unit("01", "Tỉnh Một", "Tỉnh", Province, None),
        unit("001", "Huyện Hai", "Huyện", District, Some("01")),
        unit("00001", "Xã Ba", "Xã", Commune, Some("001")),
        unit("00002", "Xã Bốn", "Xã", Commune, Some("001")),
    ];
    apply_snapshot(&db, &first, None).await.unwrap();
    let mut second = first.clone();
    second[1] = unit("001", "Thị xã Hai", "Thị xã", District, Some("01"));
    second[3] = unit("00002", "Phường Bốn", "Phường", Commune, Some("001"));
    let report = apply_snapshot(&db, &second, Some(day("2020-01-01")))
        .await
        .unwrap();
    assert_eq!((report.continued, report.opened, report.closed), (1, 3, 3));
    let links = admin_unit_lineage::Entity::find().all(&db).await.unwrap();
    let closed = admin_unit::Entity::find()
        .filter(admin_unit::Column::ValidTo.is_not_null())
        .all(&db)
        .await
        .unwrap();
    let kind_of = |code: &str| {
        let old = closed.iter().find(|u| u.code == code).unwrap();
        links
            .iter()
            .find(|l| l.predecessor_id == old.id)
            .unwrap()
            .change
    };
    assert_eq!(kind_of("001"), LineageChange::Renamed);
    assert_eq!(kind_of("00001"), LineageChange::Unchanged);
    assert_eq!(kind_of("00002"), LineageChange::Renamed);
    no_inverted_validity(&db).await;
    // A bad row aborts with its line.
    let mut bad = second.clone();
    bad.push(UnitRow {
        line: 7,
        ..unit("0003", "Xã Lỗi", "Xã", Commune, Some("001"))
    });
    let err = apply_snapshot(&db, &bad, Some(day("2021-01-01")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, api::error::AppError::BadUserInput { ref field, .. } if field == "line 7")
    );
}

#[tokio::test]
async fn the_reform_takes_effect_on_1_july_2025() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ a: commune(code: "27559", asOf: "2025-06-30") { name } b: commune(code: "27559", asOf: "2025-07-01") { name }
                   c: district(code: "784", asOf: "2025-06-30") { code } d: district(code: "784", asOf: "2025-07-01") { code } }"#)
        .await;
    assert_eq!(d["a"]["name"], "Thị trấn Hóc Môn");
    assert_eq!(d["b"]["name"], "Xã Hóc Môn");
    assert_eq!(d["c"]["code"], "784");
    assert!(d["d"].is_null());
}

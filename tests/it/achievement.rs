//! Achievement over HTTP: a target judged on its figures (published ones for everyone,
//! approved ones only inside the caller's scope), and the roll-ups over a scope counted with a
//! bounded number of statements and equal to a row-by-row count made here.

use crate::common::TestApp;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::str::FromStr;

async fn unit_id(app: &TestApp, code: &str, valid_on: &str) -> i64 {
    entity::admin_unit::Entity::find()
        .filter(entity::admin_unit::Column::Code.eq(code))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| {
            let day = chrono::NaiveDate::from_str(valid_on).unwrap();
            u.valid_from.is_none_or(|f| f <= day) && u.valid_to.is_none_or(|t| t >= day)
        })
        .unwrap_or_else(|| panic!("unit {code} on {valid_on}"))
        .id
}

async fn figure(
    app: &TestApp,
    indicator: &str,
    unit: i64,
    period: &str,
    value: &str,
    status: entity::enums::ValueStatus,
) {
    let ind = entity::indicator::Entity::find()
        .filter(entity::indicator::Column::Code.eq(indicator))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    entity::indicator_value::ActiveModel {
        indicator_id: Set(ind.id),
        admin_unit_id: Set(unit),
        period: Set(period.into()),
        disaggregation: Set("total".into()),
        value: Set(Some(entity::DecimalText::new(
            rust_decimal::Decimal::from_str(value).unwrap(),
        ))),
        comment: Set(None),
        status: Set(status),
        stored_by_user_id: Set(None),
        stored_by: Set(Some("test".into())),
        version: Set(1),
        deleted: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

fn achievement_of(targets: &Value, ordinal: &str) -> String {
    targets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["ordinal"] == ordinal)
        .unwrap_or_else(|| panic!("target {ordinal} in {targets}"))["achievement"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn targets_are_judged_on_the_figures_their_reader_may_see() {
    let mut app = TestApp::spawn().await;
    use entity::enums::ValueStatus::{Approved, Published};
    // Hà Nội's GRDP growth of 6.8 % in 2024, published: 6.5–7 % is achieved, for anyone.
    let hanoi = unit_id(&app, "01", "2024-06-01").await;
    figure(&app, "GRDP_GROWTH", hanoi, "2024", "6.8", Published).await;
    // Tháp Mười's poverty rate: 1.0 % approved, not yet published ("below 1 %" is missed).
    let thapmuoi = unit_id(&app, "872", "2024-06-01").await;
    figure(
        &app,
        "POOR_HOUSEHOLD_RATE",
        thapmuoi,
        "2024",
        "1.0",
        Approved,
    )
    .await;

    let q = |number: &str, unit: &str| {
        format!(
            r#"{{ planByNumber(number: "{number}", unitCode: "{unit}") {{ targets {{ ordinal achievement }} }} }}"#
        )
    };
    let hn = app.data(&q("31/NQ-HĐND", "01")).await;
    assert_eq!(
        achievement_of(&hn["planByNumber"]["targets"], "1"),
        "ACHIEVED"
    );
    // Qualitative or figureless targets have no data.
    assert_eq!(
        achievement_of(&hn["planByNumber"]["targets"], "2"),
        "NO_DATA"
    );

    // Anonymous: the approved figure is not published: no data.
    let tm = app.data(&q("230/KH-UBND", "872")).await;
    assert_eq!(
        achievement_of(&tm["planByNumber"]["targets"], "12"),
        "NO_DATA"
    );
    // Inside the scope (a national viewer) the approved figure counts.
    app.sign_in_nationally().await;
    let tm = app.data(&q("230/KH-UBND", "872")).await;
    assert_eq!(
        achievement_of(&tm["planByNumber"]["targets"], "12"),
        "NOT_ACHIEVED"
    );

    // The summary of Đồng Tháp's old district counts the same verdicts.
    let (s, statements) = app
        .counted(r#"{ targetSummary(unitCode: "872", year: 2024) { total achieved notAchieved onTrack atRisk noData perUnit { unit { code } total notAchieved } } }"#)
        .await;
    let s = &s["targetSummary"];
    assert_eq!(s["notAchieved"], 1, "{s}");
    assert_eq!(s["achieved"], 0);
    let all = app
        .data(r#"{ planByNumber(number: "230/KH-UBND", unitCode: "872") { targets { achievement subTargets { achievement } } } }"#)
        .await;
    let mut verdicts = Vec::new();
    for t in all["planByNumber"]["targets"].as_array().unwrap() {
        verdicts.push(t["achievement"].as_str().unwrap().to_string());
        for p in t["subTargets"].as_array().unwrap() {
            verdicts.push(p["achievement"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(s["total"], verdicts.len(), "{s}");
    assert_eq!(
        s["noData"],
        verdicts.iter().filter(|v| *v == "NO_DATA").count()
    );
    assert!(
        statements <= 15,
        "targetSummary took {statements} statements"
    );
}

#[tokio::test]
async fn the_summaries_of_79_take_a_bounded_number_of_statements_and_match_a_row_by_row_count() {
    let mut app = TestApp::spawn().await;
    app.sign_in_nationally().await;
    let day = "2024-06-01";
    let (s, task_statements) = app
        .counted(&format!(
            r#"{{ assignmentSummary(unitCode: "79", asOf: "{day}") {{ total overdue dueIn30Days byStatus {{ status count }} perUnit {{ total overdue }} }} }}"#
        ))
        .await;
    let s = &s["assignmentSummary"];
    // Row by row: every task of every plan issued in 79's tree, read through the API.
    let plans = app
        .data(r#"{ plans(filter: {unitCode: "79", includeDescendants: true}, first: 500) { nodes { unit { code } assignments(first: 500) { nodes { status dueOn } } } } }"#)
        .await;
    let (mut total, mut overdue, mut soon) = (0, 0, 0);
    let today = chrono::NaiveDate::from_str(day).unwrap();
    for p in plans["plans"]["nodes"].as_array().unwrap() {
        for a in p["assignments"]["nodes"].as_array().unwrap() {
            total += 1;
            let open = a["status"] != "DONE" && a["status"] != "CANCELLED";
            if let Some(due) = a["dueOn"].as_str() {
                let due = chrono::NaiveDate::from_str(due).unwrap();
                if open && due < today {
                    overdue += 1;
                }
                if open && due >= today && due <= today + chrono::Days::new(30) {
                    soon += 1;
                }
            }
        }
    }
    assert_eq!(
        (
            s["total"].as_u64().unwrap(),
            s["overdue"].as_u64().unwrap(),
            s["dueIn30Days"].as_u64().unwrap()
        ),
        (total, overdue, soon),
        "{s}"
    );
    assert!(total > 0 && overdue > 0, "{s}");
    let per_unit: u64 = s["perUnit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["total"].as_u64().unwrap())
        .sum();
    assert_eq!(per_unit, total);
    assert!(
        task_statements <= 15,
        "assignmentSummary took {task_statements} statements"
    );

    let (t, statements) = app
        .counted(r#"{ targetSummary(unitCode: "79") { total noData perUnit { total } } }"#)
        .await;
    let targets = app
        .data(r#"{ plans(filter: {unitCode: "79", includeDescendants: true}, first: 500) { nodes { targets { id subTargets { id } } } } }"#)
        .await;
    let rows: usize = targets["plans"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap())
        .map(|t| 1 + t["subTargets"].as_array().unwrap().len())
        .sum();
    assert_eq!(t["targetSummary"]["total"], rows, "{t}");
    assert!(
        statements <= 15,
        "targetSummary took {statements} statements"
    );
    eprintln!(
        "summaries of 79: {total} tasks in {task_statements} statements, {rows} targets in {statements}"
    );
}

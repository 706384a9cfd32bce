//! Pages are cut in SQL: a page of 50 out of 5,000 reads at most 51 rows, in a number of
//! statements that does not grow with the list; `totalCount` costs one more statement, and
//! only when selected. The same for a connection nested in a list of 20 parents (one windowed
//! statement for all of them).

use crate::common::TestApp;
use entity::enums::{AssignmentStatus, PlanKind, PlanStatus, Visibility};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::Value;

/// Inserts `n` issued public plans at the unit with code 79 (as of 2024), one day apart, each
/// with `tasks` assignments; returns their ids.
async fn bulk_plans(app: &TestApp, n: usize, tasks: usize) -> Vec<i64> {
    let unit = api::services::units::by_code(
        &app.db,
        "79",
        chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let agency = entity::agency::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    let start = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
    let mut ids = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|i| entity::plan::ActiveModel {
            number: Set(Some(format!("{i}/KH-BULK"))),
            kind: Set(PlanKind::Plan),
            title: Set(format!("Kế hoạch số {i}")),
            admin_unit_id: Set(unit.id),
            issued_on: Set(Some(start + chrono::Days::new(*i as u64))),
            status: Set(PlanStatus::Issued),
            visibility: Set(Visibility::Public),
            version: Set(1),
            search_key: Set(format!("{i}/kh-bulk ke hoach so {i}")),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        entity::plan::Entity::insert_many(rows)
            .exec(&app.db)
            .await
            .unwrap();
    }
    for p in entity::plan::Entity::find().all(&app.db).await.unwrap() {
        if p.number.as_deref().is_some_and(|n| n.ends_with("/KH-BULK")) {
            ids.push(p.id);
        }
    }
    if tasks > 0 {
        let rows: Vec<_> = ids
            .iter()
            .flat_map(|plan| {
                (0..tasks).map(move |t| entity::assignment::ActiveModel {
                    plan_id: Set(*plan),
                    position: Set(t as i32),
                    title: Set(format!("Nhiệm vụ {t}")),
                    lead_agency_id: Set(agency.id),
                    status: Set(AssignmentStatus::InProgress),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
            })
            .collect();
        for chunk in rows.chunks(500) {
            entity::assignment::Entity::insert_many(chunk.to_vec())
                .exec(&app.db)
                .await
                .unwrap();
        }
    }
    ids
}

/// Runs a query while recording its SQL; returns the data and the statements.
async fn recorded(app: &TestApp, query: &str) -> (Value, Vec<String>) {
    app.statements.record();
    let data = app.data(query).await;
    (data, app.statements.recorded())
}

/// As [`recorded`], without the read of the unit generation: on PostgreSQL whether a request
/// reads it depends on how long ago the last one did (the snapshot is trusted for a second
/// while notifications are followed), not on the query.
async fn recorded_reads(app: &TestApp, query: &str) -> (Value, Vec<String>) {
    let (data, sql) = recorded(app, query).await;
    let sql = sql
        .into_iter()
        .filter(|s| !s.contains("FROM \"change_counter\""))
        .collect();
    (data, sql)
}

/// The statements that read rows of `table`.
fn reading<'a>(sql: &'a [String], table: &str) -> Vec<&'a String> {
    let quoted = format!("FROM \"{table}\"");
    sql.iter().filter(|s| s.contains(&quoted)).collect()
}

const PAGE: &str = r#"{ plans(first: 50, filter: {unitCode: "79"}) { edges { cursor node { number } } pageInfo { hasNextPage endCursor } } }"#;

#[tokio::test]
async fn a_page_of_50_out_of_5000_reads_51_rows_in_constant_statements() {
    let app = TestApp::spawn().await;
    // The first request also loads the unit hierarchy (the scope comes from it).
    recorded(&app, PAGE).await;
    let (_, small) = recorded_reads(&app, PAGE).await;
    bulk_plans(&app, 5_000, 0).await;
    let (data, big) = recorded_reads(&app, PAGE).await;
    let edges = data["plans"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 50);
    // Newest first: the last bulk plan was issued latest.
    assert_eq!(edges[0]["node"]["number"], "4999/KH-BULK");
    assert_eq!(data["plans"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(big.len(), small.len(), "{big:#?}");
    let plan_reads = reading(&big, "plan");
    assert_eq!(plan_reads.len(), 1, "{plan_reads:#?}");
    assert!(plan_reads[0].contains("LIMIT"), "{}", plan_reads[0]);
    assert!(!plan_reads[0].contains("COUNT"), "{}", plan_reads[0]);

    // totalCount: one more statement, a COUNT, only when selected.
    let with_total = PAGE.replace("pageInfo {", "totalCount pageInfo {");
    let (data, counted) = recorded_reads(&app, &with_total).await;
    assert!(data["plans"]["totalCount"].as_i64().unwrap() >= 5_000);
    assert_eq!(counted.len(), big.len() + 1);
    assert_eq!(
        counted
            .iter()
            .filter(|s| s.to_uppercase().contains("COUNT("))
            .count(),
        1
    );

    // The next page follows on from the cursor, in the same number of statements.
    let after = data["plans"]["pageInfo"]["endCursor"].as_str().unwrap();
    let next = PAGE.replace("first: 50,", &format!("first: 50, after: \"{after}\","));
    let (data, again) = recorded_reads(&app, &next).await;
    assert_eq!(
        data["plans"]["edges"][0]["node"]["number"], "4949/KH-BULK",
        "{data}"
    );
    assert_eq!(again.len(), big.len());
    // And backwards from the end.
    let tail = r#"{ plans(last: 3, filter: {unitCode: "79"}) { edges { node { number } } pageInfo { hasPreviousPage } } }"#;
    let (data, _) = recorded(&app, tail).await;
    assert_eq!(data["plans"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(data["plans"]["edges"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_nested_page_in_a_list_of_20_parents_is_one_windowed_statement() {
    let app = TestApp::spawn().await;
    bulk_plans(&app, 20, 30).await;
    let nested = r#"{ plans(first: 20, filter: {unitCode: "79", search: "kh-bulk"}) { edges { node { number
                      assignments(first: 5) { edges { node { title } } pageInfo { hasNextPage } } } } } }"#;
    let (data, sql) = recorded(&app, nested).await;
    let plans = data["plans"]["edges"].as_array().unwrap();
    assert_eq!(plans.len(), 20);
    for p in plans {
        let tasks = p["node"]["assignments"]["edges"].as_array().unwrap();
        assert_eq!(tasks.len(), 5, "{p}");
        assert_eq!(tasks[0]["node"]["title"], "Nhiệm vụ 0");
        assert_eq!(p["node"]["assignments"]["pageInfo"]["hasNextPage"], true);
    }
    // One windowed statement for the 20 lists (a batch may split in two when the machine is
    // loaded and the loader's window closes early; one per parent would be 20).
    let task_reads = reading(&sql, "assignment");
    assert!((1..=2).contains(&task_reads.len()), "{task_reads:#?}");
    assert!(
        task_reads.iter().all(|r| r.contains("ROW_NUMBER() OVER")),
        "{task_reads:#?}"
    );

    // totalCount of every nested list: one grouped statement more.
    let with_total = nested.replace(
        "pageInfo { hasNextPage }",
        "totalCount pageInfo { hasNextPage }",
    );
    let (data, counted) = recorded(&app, &with_total).await;
    let counts = counted
        .iter()
        .filter(|s| s.contains("COUNT") && s.contains("assignment"))
        .count();
    assert!((1..=2).contains(&counts), "{counted:#?}");
    assert!(counted.len() <= sql.len() + 3, "{counted:#?}");
    assert_eq!(
        data["plans"]["edges"][7]["node"]["assignments"]["totalCount"],
        30
    );

    // The lead agencies, selected under `nodes` or through a fragment under `edges`, come in
    // one statement by key for the whole page of plans (not joined into the windowed one, and
    // not one per plan or per agency).
    let lead = entity::agency::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .name;
    for (selection, fragment) in [
        ("nodes { title leadAgency { name } }", ""),
        (
            "edges { node { ...task } }",
            "fragment task on Assignment { title leadAgency { name } }",
        ),
    ] {
        let query = format!(
            r#"query {{ plans(first: 20, filter: {{unitCode: "79", search: "kh-bulk"}}) {{ nodes {{ number
                  assignments(first: 5) {{ {selection} }} }} }} }} {fragment}"#
        );
        let (data, sql) = recorded(&app, &query).await;
        assert!((1..=2).contains(&reading(&sql, "agency").len()), "{sql:#?}");
        assert!(
            !sql.iter().any(|s| s.contains("JOIN \"agency\"")),
            "{sql:#?}"
        );
        let plans = data["plans"]["nodes"].as_array().unwrap();
        assert_eq!(plans.len(), 20);
        for p in plans {
            let list = &p["assignments"];
            let tasks: Vec<&Value> = match list["nodes"].as_array() {
                Some(nodes) => nodes.iter().collect(),
                None => list["edges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| &e["node"])
                    .collect(),
            };
            assert_eq!(tasks.len(), 5, "{p}");
            for t in tasks {
                assert_eq!(t["leadAgency"]["name"], lead.as_str(), "{t}");
            }
        }
    }
}

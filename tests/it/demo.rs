//! The demo shows the rules: the two invented plans (api/data/demo/plans/), a draft of
//! Thành phố Hồ Chí Minh (79) and an internal plan of Tỉnh Đồng Tháp (82), with their progress
//! reports (api/data/demo/progress.toml), read over HTTP by the demo users after logging in.
//! What each one sees is what api/src/policy.rs says: drafts and internal plans are read inside
//! the scope of the issuing unit; of the units above, only issued plans.

use crate::common::TestApp;
use entity::{agency, app_user, indicator, progress_report};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const SECRET: &str = "a-demo-walkthrough-test-secret-32-bytes";
const DRAFT: &str = "79.plan.du-thao-ktxh-2026";
const INTERNAL: &str = "82.plan.nhiem-vu-trong-tam-2026";
/// The day the demo's due dates were chosen against (today when they were written); given as
/// `asOf` so that the counts do not drift with the calendar.
const AS_OF: &str = "2026-11-29";

/// A server with the demo area, the demo users and the demo reports, as on a first start.
async fn demo() -> TestApp {
    let app = TestApp::spawn_with_demo(|c| c.jwt.secret = Some(SECRET.into())).await;
    assert_eq!(api::seed::seed_demo_users(&app.db).await.unwrap(), 6);
    assert_eq!(api::seed::seed_demo_progress(&app.db).await.unwrap(), 6);
    app
}

async fn token(app: &TestApp, user: &str) -> String {
    let (_, body) = app
        .gql(
            None,
            "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken } }",
            json!({"u": user, "p": "demo-password"}),
        )
        .await;
    body["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{user} logs in: {body}"))
        .to_string()
}

const PLANS: &str = r#"query($unit: String!) { plans(filter: {unitCode: $unit}, first: 100) { edges { node {
    id key status visibility
    assignments(first: 100) { totalCount edges { node { ordinal dueOn overdue leadAgency { key }
        progressReports { period status percentComplete reportedBy reviewedBy reviewReason } } } } } } } }"#;

/// The plans issued by `unit` that `token` reads, by key.
async fn plans(app: &TestApp, token: Option<&str>, unit: &str) -> BTreeMap<String, Value> {
    let (_, body) = app.gql(token, PLANS, json!({"unit": unit})).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["plans"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["key"].as_str().unwrap().to_string(),
                e["node"].clone(),
            )
        })
        .collect()
}

fn tasks(plan: &Value) -> Vec<Value> {
    plan["assignments"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn reports(plan: &Value) -> Vec<Value> {
    tasks(plan)
        .iter()
        .flat_map(|t| t["progressReports"].as_array().unwrap().clone())
        .collect()
}

fn statuses(reports: &[Value]) -> Vec<&str> {
    let mut s: Vec<&str> = reports
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    s.sort();
    s
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn each_demo_user_sees_the_plans_and_reports_his_scope_gives_him() {
    let app = demo().await;
    let hcm = token(&app, "hcm.manager").await;
    let dongthap = token(&app, "dongthap.manager").await;
    let hocmon = token(&app, "hocmon.reporter").await;
    let tanphu = token(&app, "tanphu.viewer").await;
    let thapmuoi = token(&app, "thapmuoi.reporter").await;

    // hcm.manager: the city's draft, its seven tasks and the three reports on them.
    let seen = plans(&app, Some(&hcm), "79").await;
    let draft = seen.get(DRAFT).unwrap_or_else(|| panic!("{seen:?}"));
    assert_eq!(
        (draft["status"].as_str(), draft["visibility"].as_str()),
        (Some("DRAFT"), Some("INTERNAL"))
    );
    assert_eq!(draft["assignments"]["totalCount"], 7);
    let leads: Vec<String> = tasks(draft)
        .iter()
        .map(|t| t["leadAgency"]["key"].as_str().unwrap().to_string())
        .collect();
    for commune in ["27559.ubnd-2025", "27031.ubnd-2025"] {
        assert!(leads.iter().any(|l| l == commune), "{leads:?}");
    }
    let on_draft = reports(draft);
    assert_eq!(statuses(&on_draft), ["ACCEPTED", "SUBMITTED", "SUBMITTED"]);
    // Written as the API writes them: `user:<id>` of the reporter and of the reviewer.
    let hcm_id = format!("user:{}", user_id(&app, "hcm.manager").await);
    let admin_id = format!("user:{}", user_id(&app, "admin").await);
    assert!(
        on_draft.iter().all(|r| r["reportedBy"] == hcm_id),
        "{on_draft:?}"
    );
    assert!(
        on_draft
            .iter()
            .any(|r| r["status"] == "ACCEPTED" && r["reviewedBy"] == admin_id)
    );
    // … but not Đồng Tháp's internal plan: 82 is neither in his scope nor above it.
    assert!(plans(&app, Some(&hcm), "82").await.is_empty());

    // dongthap.manager: not the city's draft; his province's internal plan with its reports,
    // one of them returned with its reason.
    assert!(!plans(&app, Some(&dongthap), "79").await.contains_key(DRAFT));
    let seen = plans(&app, Some(&dongthap), "82").await;
    let internal = seen.get(INTERNAL).unwrap_or_else(|| panic!("{seen:?}"));
    assert_eq!(
        (internal["status"].as_str(), internal["visibility"].as_str()),
        (Some("ISSUED"), Some("INTERNAL"))
    );
    assert_eq!(internal["assignments"]["totalCount"], 5);
    let on_internal = reports(internal);
    assert_eq!(
        statuses(&on_internal),
        ["ACCEPTED", "RETURNED", "SUBMITTED"]
    );
    let dongthap_id = format!("user:{}", user_id(&app, "dongthap.manager").await);
    let returned = on_internal
        .iter()
        .find(|r| r["status"] == "RETURNED")
        .unwrap();
    assert_eq!(returned["reviewedBy"], dongthap_id);
    assert!(!returned["reviewReason"].as_str().unwrap().is_empty());

    // hocmon.reporter (Xã Hóc Môn, 27559) leads tasks of the draft but does not read it: a draft
    // is read only where the scope holds the issuing unit (79), and the rule that opens the
    // plans of the units above covers issued plans only. tanphu.viewer likewise.
    for t in [&hocmon, &tanphu] {
        assert!(!plans(&app, Some(t), "79").await.contains_key(DRAFT));
        assert!(plans(&app, Some(t), "82").await.is_empty());
    }
    // Asked for by id, the draft is refused to them (FORBIDDEN) and to an anonymous caller
    // (UNAUTHENTICATED).
    let q = "query($id: ID!) { plan(id: $id) { key } }";
    let id = json!({"id": draft["id"]});
    for (who, code) in [
        (Some(hocmon.as_str()), "FORBIDDEN"),
        (Some(dongthap.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let (_, body) = app.gql(who, q, id.clone()).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
    }

    // thapmuoi.reporter (Xã Tháp Mười, 30037): the province's plan is issued, so he reads it,
    // and the reports on his commune's tasks (all three are).
    let seen = plans(&app, Some(&thapmuoi), "82").await;
    let internal = seen.get(INTERNAL).unwrap_or_else(|| panic!("{seen:?}"));
    assert_eq!(reports(internal).len(), 3);
    assert!(!plans(&app, Some(&thapmuoi), "79").await.contains_key(DRAFT));

    // Anonymous: neither.
    assert!(!plans(&app, None, "79").await.contains_key(DRAFT));
    assert!(plans(&app, None, "82").await.is_empty());
}

const SUMMARY: &str = r#"query($unit: String!, $day: Date!) {
    assignmentSummary(unitCode: $unit, asOf: $day) { total overdue dueIn30Days } }"#;

async fn summary(app: &TestApp, token: Option<&str>, unit: &str) -> (u64, u64, u64) {
    let (_, body) = app
        .gql(token, SUMMARY, json!({"unit": unit, "day": AS_OF}))
        .await;
    let s = &body["data"]["assignmentSummary"];
    let n = |f: &str| s[f].as_u64().unwrap_or_else(|| panic!("{f} in {body}"));
    (n("total"), n("overdue"), n("dueIn30Days"))
}

#[tokio::test]
async fn the_managers_summaries_count_overdue_tasks_and_tasks_due_soon() {
    let app = demo().await;
    let hcm = token(&app, "hcm.manager").await;
    let dongthap = token(&app, "dongthap.manager").await;
    // The city: what anyone sees (the 2024 documents, long overdue) and, for its manager, the
    // draft's seven tasks too: due 30/9 and 31/10 (overdue), 15/12 and 20/12 (within 30
    // days), one done on time, two later.
    let (total, overdue, soon) = summary(&app, Some(&hcm), "79").await;
    let (public_total, public_overdue, public_soon) = summary(&app, None, "79").await;
    assert_eq!(
        (
            total - public_total,
            overdue - public_overdue,
            soon - public_soon
        ),
        (7, 2, 2)
    );
    assert!(overdue > 0 && soon > 0);
    // Đồng Tháp: only the internal plan is issued by 82: nothing for an anonymous caller.
    assert_eq!(summary(&app, Some(&dongthap), "82").await, (5, 2, 2));
    assert_eq!(summary(&app, None, "82").await, (0, 0, 0));
    // Without asOf: today, in Vietnam. Tasks due 30/9 and 31/10/2026 stay overdue until they
    // are done (which tasks due soon are depends on the day).
    let (_, body) = app
        .gql(
            Some(&dongthap),
            r#"{ assignmentSummary(unitCode: "82") { overdue } }"#,
            json!({}),
        )
        .await;
    let overdue = body["data"]["assignmentSummary"]["overdue"].as_u64();
    assert!(overdue.is_some_and(|n| n >= 2), "{body}");
}

#[tokio::test]
async fn demo_reports_load_once_and_name_users_only_when_they_exist() {
    // `platform seed-demo` without --with-users: no accounts, so reporters are usernames.
    let app = TestApp::spawn().await;
    assert_eq!(api::seed::seed_demo_progress(&app.db).await.unwrap(), 6);
    assert_eq!(api::seed::seed_demo_progress(&app.db).await.unwrap(), 0);
    let rows = progress_report::Entity::find()
        .order_by_asc(progress_report::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.reported_by_user_id.is_none()));
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r.reported_by.as_deref().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "thapmuoi.reporter",
            "thapmuoi.reporter",
            "thapmuoi.reporter",
            "hcm.manager",
            "hcm.manager",
            "hcm.manager"
        ]
    );
    // Users created afterwards leave the reports as they are, and loading again adds none.
    assert_eq!(api::seed::seed_demo_users(&app.db).await.unwrap(), 6);
    assert_eq!(api::seed::seed_demo_progress(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn the_invented_plans_change_nothing_the_five_documents_wrote() {
    let app = TestApp::spawn_empty().await;
    api::seed::seed_units(&app.db).await.unwrap();
    for (name, text) in api::seed::DEMO_PLANS {
        api::services::plan_import::import_plan_file(&app.db, text)
            .await
            .unwrap_or_else(|e| panic!("{name}: {}", e.detail()));
    }
    let agencies_before = agency::Entity::find().all(&app.db).await.unwrap();
    let indicators = async || {
        indicator::Entity::find()
            .order_by_asc(indicator::Column::Id)
            .all(&app.db)
            .await
            .unwrap()
    };
    let indicators_before = indicators().await;
    for (name, text) in api::seed::INVENTED_PLANS {
        api::services::plan_import::import_plan_file(&app.db, text)
            .await
            .unwrap_or_else(|e| panic!("{name}: {}", e.detail()));
    }
    let agencies_after = agency::Entity::find()
        .order_by_asc(agency::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(indicators().await, indicators_before);
    for a in &agencies_before {
        assert!(agencies_after.contains(a), "{:?} changed", a.code);
    }
    // The new ones: the 2025 committees and two departments of the new Đồng Tháp, each valid
    // today at a unit valid today.
    let today = api::clock::today();
    let mut added = Vec::new();
    for a in agencies_after
        .iter()
        .filter(|a| !agencies_before.contains(a))
    {
        let unit = entity::admin_unit::Entity::find_by_id(a.admin_unit_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert!(
            api::services::units::is_valid_on(&unit, today),
            "{:?}",
            a.code
        );
        assert!(a.valid_from.is_some_and(|d| d <= today) && a.valid_to.is_none());
        added.push(a.code.clone().unwrap());
    }
    added.sort();
    assert_eq!(
        added,
        [
            "27031.ubnd-2025",
            "27559.ubnd-2025",
            "30037.ubnd-2025",
            "82.so-nnmt",
            "82.so-tc",
            "82.ubnd"
        ]
    );
    // The demo users' agencies are declared the same way in users.toml: creating the users
    // changes none of them.
    let before_users = agency::Entity::find()
        .order_by_asc(agency::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    api::seed::seed_demo_users(&app.db).await.unwrap();
    assert_eq!(
        agency::Entity::find()
            .order_by_asc(agency::Column::Id)
            .all(&app.db)
            .await
            .unwrap(),
        before_users
    );
}

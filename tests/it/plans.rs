//! The five documents as data, read through the API; importing plan files.

use crate::common::TestApp;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

fn nodes(conn: &Value) -> Vec<Value> {
    conn["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("not a connection: {conn}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn find(list: &Value, pred: impl Fn(&Value) -> bool) -> &Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| pred(v))
        .unwrap_or_else(|| panic!("not found in {list}"))
}

#[tokio::test]
async fn the_plans_list_holds_the_five_documents_and_the_referenced_ones() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ plans(first: 100) { totalCount edges { node { key number status kind unit { code } } } } }"#)
        .await;
    let plans = nodes(&d["plans"]);
    let issued: Vec<&str> = plans
        .iter()
        .filter(|p| p["status"] == "ISSUED")
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(issued.len(), 5, "{issued:?}");
    for key in [
        "784.plan.ct12-2024",
        "79.directive.ct-2024",
        "872.plan.230-kh-ubnd-2024",
        "01.resolution.31-nq-hdnd-2023",
        "767.plan.51-kh-ubnd-2022",
    ] {
        assert!(issued.contains(&key), "{key} in {issued:?}");
    }
    let referenced = plans.iter().find(|p| p["number"] == "12/CT-UBND").unwrap();
    assert_eq!(referenced["status"], "REFERENCED");
    assert_eq!(referenced["unit"]["code"], "79");
    assert_eq!(d["plans"]["totalCount"], plans.len());
    // Only REFERENCED ones, through the filter.
    let r = app
        .data(r#"{ plans(filter: {status: REFERENCED}) { edges { node { status } } } }"#)
        .await;
    assert!(
        nodes(&r["plans"])
            .iter()
            .all(|p| p["status"] == "REFERENCED")
    );
    assert_eq!(nodes(&r["plans"]).len(), plans.len() - 5);
}

#[tokio::test]
async fn hoc_mon_plan_has_5_targets_and_18_tasks_and_implements_12_ct_ubnd() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ plans(filter: {unitCode: "784", kind: PLAN}) { edges { node {
            number issuedOn title unit { code name }
            parentPlan { number status issuedOn kind implementingPlans { key } }
            bases { citation plan { number } }
            targets { ordinal subTargets { period comparator value } }
            assignments(first: 100) { totalCount edges { node { ordinal leadAgency { key name kind } } } }
            reportingDuties { reporter { key } recipient { name } }
        } } } }"#)
        .await;
    let plans = nodes(&d["plans"]);
    assert_eq!(plans.len(), 1);
    let p = &plans[0];
    assert!(
        p["number"].is_null() && p["issuedOn"].is_null(),
        "the document shows neither"
    );
    assert_eq!(p["unit"]["name"], "Huyện Hóc Môn");
    assert_eq!(p["targets"].as_array().unwrap().len(), 5);
    let t2 = find(&p["targets"], |t| t["ordinal"] == "2");
    let periods: Vec<&str> = t2["subTargets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2024", "2025"]);
    // 18 tasks in III; IV.1 is one per office (8) and commune (12); IV.2 is the focal point's.
    let tasks = nodes(&p["assignments"]);
    assert_eq!(tasks.len(), 18 + 20 + 1);
    assert_eq!(p["assignments"]["totalCount"], 18 + 20 + 1);
    assert_eq!(tasks.iter().filter(|t| t["ordinal"] == "IV.1").count(), 20);
    assert!(tasks.iter().all(|t| {
        t["leadAgency"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("Phòng") || n.contains("huyện") || !n.is_empty())
    }));
    assert_eq!(
        tasks.iter().filter(|t| t["ordinal"] == "1.2").count(),
        2,
        "the source's repeated 1.2 is kept"
    );
    assert!(
        tasks.iter().any(|t| t["ordinal"].is_null()),
        "group 3's unnumbered task"
    );
    let parent = &p["parentPlan"];
    assert_eq!(parent["number"], "12/CT-UBND");
    assert_eq!(parent["status"], "REFERENCED");
    assert_eq!(parent["issuedOn"], "2024-08-12");
    assert_eq!(parent["implementingPlans"][0]["key"], "784.plan.ct12-2024");
    assert_eq!(p["bases"][0]["plan"]["number"], "12/CT-UBND");
    // IV: every office (eight) and commune (twelve) reports to the UBND huyện, through the
    // Phòng Tài chính – Kế hoạch.
    let duties = p["reportingDuties"].as_array().unwrap();
    assert_eq!(duties.len(), 20);
    assert!(
        duties
            .iter()
            .all(|d| d["recipient"]["name"] == "Ủy ban nhân dân huyện Hóc Môn"),
        "{duties:?}"
    );
    assert!(
        duties
            .iter()
            .any(|d| d["reporter"]["key"] == "784.phong-tckh")
    );
    assert!(duties.iter().any(|d| d["reporter"]["key"] == "27559.ubnd"));
}

#[tokio::test]
async fn ha_noi_targets_are_typed() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ planByNumber(number: "31/NQ-HĐND", unitCode: "01") { kind issuedOn targets {
            ordinal wording measure changeUnit comparator value upperValue unitOfMeasure indicator { code }
            subTargets { ordinal disaggregation comparator value subTargets { disaggregation value } }
        } } }"#)
        .await;
    let p = &d["planByNumber"];
    assert_eq!(p["kind"], "RESOLUTION");
    assert_eq!(p["issuedOn"], "2023-12-06");
    let targets = &p["targets"];
    assert_eq!(targets.as_array().unwrap().len(), 24);
    let grdp = find(targets, |t| t["indicator"]["code"] == "GRDP_GROWTH");
    assert_eq!(
        (
            &grdp["measure"],
            &grdp["comparator"],
            &grdp["value"],
            &grdp["upperValue"]
        ),
        (
            &Value::from("LEVEL"),
            &Value::from("BETWEEN"),
            &Value::from("6.5"),
            &Value::from("7")
        )
    );
    let poor = find(targets, |t| {
        t["wording"].as_str().unwrap().contains("300-400 hộ")
    });
    assert_eq!(poor["measure"], "DECREASE");
    assert_eq!(poor["changeUnit"], "ABSOLUTE");
    assert_eq!(poor["comparator"], "BETWEEN");
    assert_eq!(
        (poor["value"].as_str(), poor["upperValue"].as_str()),
        (Some("300"), Some("400"))
    );
    let water = find(targets, |t| {
        t["wording"].as_str().unwrap().contains("nước sạch")
    });
    let urban = find(&water["subTargets"], |s| s["disaggregation"] == "urban");
    let rural = find(&water["subTargets"], |s| s["disaggregation"] == "rural");
    assert_eq!(urban["value"], "100");
    assert_eq!(rural["value"], "95");
    let t22 = find(targets, |t| t["ordinal"] == "22");
    assert_eq!(t22["subTargets"].as_array().unwrap().len(), 4);
    // Part (i) holds two figures: new clusters and operating ones.
    let part_i = find(&t22["subTargets"], |s| s["ordinal"] == "22(i)");
    let kinds: Vec<&str> = part_i["subTargets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["disaggregation"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["new_clusters", "operating_clusters"]);
}

#[tokio::test]
async fn thap_muoi_poverty_rate_and_tan_phu_reporting_duties() {
    // Lateness and progress reports are internal: read as a national viewer.
    let mut app = TestApp::spawn().await;
    app.sign_in_nationally().await;
    let d = app
        .data(r#"{ tm: planByNumber(number: "230/KH-UBND", unitCode: "872") { targets { wording measure comparator value baseline baselinePeriod } bases { plan { status } } }
                   tp: planByNumber(number: "51/KH-UBND", unitCode: "767") { reportingDuties { title period dueOn late reporter { key } recipient { name } } } }"#)
        .await;
    let targets = &d["tm"]["targets"];
    assert_eq!(targets.as_array().unwrap().len(), 24);
    let poor = find(targets, |t| {
        t["wording"].as_str().unwrap().contains("hộ nghèo")
    });
    assert_eq!(
        (
            poor["measure"].as_str(),
            poor["comparator"].as_str(),
            poor["value"].as_str()
        ),
        (Some("LEVEL"), Some("BELOW"), Some("1"))
    );
    assert!(
        d["tm"]["bases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["plan"]["status"] == "REFERENCED")
    );
    // The six-month and the annual report of each of the 11 wards, to the UBND quận (through
    // the Phòng Nội vụ).
    let duties = d["tp"]["reportingDuties"].as_array().unwrap();
    assert_eq!(duties.len(), 22);
    let mut due: Vec<&str> = duties
        .iter()
        .map(|r| r["dueOn"].as_str().unwrap())
        .collect();
    due.sort();
    due.dedup();
    assert_eq!(due, ["2022-05-15", "2022-12-01"]);
    for r in duties {
        assert_eq!(r["recipient"]["name"], "Ủy ban nhân dân quận Tân Phú");
        assert!(r["reporter"]["key"].as_str().unwrap().ends_with(".ubnd"));
        assert_eq!(
            r["late"], true,
            "no report was ever made and the dates have passed"
        );
    }
}

#[tokio::test]
async fn search_ignores_diacritics_and_filters_combine() {
    let app = TestApp::spawn().await;
    for q in ["hoc mon", "HÓC MÔN", "Hóc Môn"] {
        let d = app.data(&format!(r#"{{ plans(filter: {{search: "{q}", status: ISSUED}}) {{ edges {{ node {{ key }} }} }} }}"#)).await;
        let keys: Vec<String> = nodes(&d["plans"])
            .iter()
            .map(|p| p["key"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(keys, ["784.plan.ct12-2024"], "{q}");
    }
    let d = app
        .data(r#"{ plans(filter: {search: "230/kh"}) { edges { node { number } } } }"#)
        .await;
    assert_eq!(nodes(&d["plans"])[0]["number"], "230/KH-UBND");
    // Province 79 with everything below it: the city's directive and the two district plans.
    let d = app.data(r#"{ plans(filter: {unitCode: "79", includeDescendants: true, status: ISSUED}) { edges { node { key } } } }"#).await;
    let mut keys: Vec<String> = nodes(&d["plans"])
        .iter()
        .map(|p| p["key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "767.plan.51-kh-ubnd-2022",
            "784.plan.ct12-2024",
            "79.directive.ct-2024"
        ]
    );
    // Hóc Môn with what is above it: its own plan and the city's documents.
    let d = app.data(r#"{ plans(filter: {unitCode: "784", includeAncestors: true, year: 2024}) { edges { node { key } } } }"#).await;
    let keys: Vec<String> = nodes(&d["plans"])
        .iter()
        .map(|p| p["key"].as_str().unwrap().to_string())
        .collect();
    assert!(
        keys.contains(&"79.directive.ct-2024".to_string())
            && keys.contains(&"784.plan.ct12-2024".to_string()),
        "{keys:?}"
    );
    assert!(!keys.iter().any(|k| k.starts_with("872")), "{keys:?}");
    // Year: Tân Phú's 2022 plan is not a 2024 plan.
    let d = app
        .data(r#"{ plans(filter: {year: 2022, status: ISSUED}) { edges { node { key } } } }"#)
        .await;
    let keys: Vec<String> = nodes(&d["plans"])
        .iter()
        .map(|p| p["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, ["767.plan.51-kh-ubnd-2022"]);
}

#[tokio::test]
async fn agencies_indicators_and_nodes() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ agencies(unitCode: "784", search: "tai chinh") { edges { node { id key name validTo unit { code } parent { key } } } }
                   indicators(filter: {search: "ngheo"}) { edges { node { code category direction } } }
                   indicator(code: "GRDP_GROWTH") { name unitOfMeasure } }"#)
        .await;
    let agencies = nodes(&d["agencies"]);
    assert_eq!(agencies.len(), 1, "{agencies:?}");
    assert_eq!(agencies[0]["key"], "784.phong-tckh");
    assert_eq!(agencies[0]["validTo"], "2025-06-30");
    assert_eq!(agencies[0]["unit"]["code"], "784");
    assert!(
        nodes(&d["indicators"])
            .iter()
            .any(|i| i["code"] == "POOR_HOUSEHOLD_RATE")
    );
    assert_eq!(d["indicator"]["unitOfMeasure"], "%");
    // District offices are gone today.
    let today = app
        .data(r#"{ agencies(unitCode: "784", asOf: "2026-01-01") { totalCount } }"#)
        .await;
    assert_eq!(today["agencies"]["totalCount"], 0);
    // A global id resolves through node().
    let id = agencies[0]["id"].as_str().unwrap();
    let n = app
        .data(&format!(
            r#"{{ node(id: "{id}") {{ id ... on Agency {{ key }} }} }}"#
        ))
        .await;
    assert_eq!(n["node"]["key"], "784.phong-tckh");
}

#[tokio::test]
async fn a_plan_with_all_its_targets_and_tasks_takes_a_fixed_number_of_statements() {
    // Lateness and progress reports are internal: read as a national viewer.
    let mut app = TestApp::spawn().await;
    app.sign_in_nationally().await;
    let q = r#"{ plans(first: 100) { edges { node { number unit { code } issuer { name } parentPlan { number }
        bases { plan { number } } addressees { name } reportingDuties { reporter { name } recipient { name } late }
        targets { indicator { code } unit { code } subTargets { indicator { code } value } }
        assignments(first: 500) { edges { node { leadAgency { name unit { code } } coordinatingAgencies { name } targets { ordinal } plan { number } overdue progressReports { status } } } } } } } }"#;
    let (data, statements) = app.counted(q).await;
    let tasks: usize = nodes(&data["plans"])
        .iter()
        .map(|p| p["assignments"]["edges"].as_array().unwrap().len())
        .sum();
    assert!(tasks > 100, "{tasks}");
    eprintln!("all plans, targets and tasks: {statements} statements for {tasks} tasks");
    // One statement per relation (some relations of the same kind load in more than one round,
    // and a batch may split in two on a loaded machine), whatever the number of plans, targets
    // and tasks: one statement per task would be over 150.
    assert!(
        statements <= 36,
        "{statements} statements for {tasks} tasks"
    );
    let one = q.replace(
        "plans(first: 100)",
        "plans(first: 100, filter: {unitCode: \"784\", status: ISSUED})",
    );
    let (data, for_one) = app.counted(&one).await;
    assert_eq!(nodes(&data["plans"]).len(), 1);
    eprintln!("one plan: {for_one} statements");
    // Batches split under load, more often the more items they gather: allow some rounds
    // more, far below one statement per plan (34) or per task (216).
    assert!(
        statements <= for_one + 10,
        "all plans {statements}, one plan {for_one}"
    );
}

const GOOD: &str = r#"format = 1
[plan]
key = "79.plan.test-2024"
kind = "PLAN"
title = "Kế hoạch thử"
unit = "79"
issued_on = "2024-03-01"
issuer = "79.ubnd"

[[targets]]
ordinal = "1"
wording = "Tăng trưởng 6,5-7%"
comparator = "BETWEEN"
value = "6.5"
upper_value = "7"

[[assignments]]
ordinal = "1"
title = "Làm việc"
lead = "79.ubnd"
targets = ["1"]
"#;

async fn plan_count(app: &TestApp) -> u64 {
    app.data("{ plans { totalCount } }").await["plans"]["totalCount"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn bad_plan_files_write_nothing_and_good_ones_import_once() {
    use api::services::plan_import::{ImportOutcome, import_plan_file};
    let app = TestApp::spawn().await;
    let before = plan_count(&app).await;
    let cases = [
        // Each error names the field and points at its own line (the item's first line when the
        // field is absent).
        (
            GOOD.replace("lead = \"79.ubnd\"", "lead = \"79.nobody\""),
            "line 20: lead",
            "79.nobody",
        ),
        (
            GOOD.replace("upper_value = \"7\"\n", ""),
            "line 10: upper_value",
            "upper_value",
        ),
        (
            GOOD.replace("2024-03-01", "2024-02-30"),
            "line 7: issued_on",
            "issued_on",
        ),
        (
            GOOD.replace("unit = \"79\"", "unit = \"99\""),
            "line 6: unit",
            "unit",
        ),
    ];
    for (file, line, needle) in cases {
        let err = import_plan_file(&app.db, &file).await.unwrap_err();
        let text = err.detail();
        assert!(text.starts_with(line) && text.contains(needle), "{text}");
        assert_eq!(
            plan_count(&app).await,
            before,
            "nothing written for {needle}"
        );
    }
    let first = import_plan_file(&app.db, GOOD).await.unwrap();
    assert_eq!(first.outcome, ImportOutcome::Created);
    assert_eq!((first.targets, first.assignments), (1, 1));
    assert_eq!(plan_count(&app).await, before + 1);
    let again = import_plan_file(&app.db, GOOD).await.unwrap();
    assert_eq!(again.outcome, ImportOutcome::Unchanged);
    let v = app.data(r#"{ planByNumber(number: "x", unitCode: "79") { id } plans(filter: {search: "ke hoach thu"}) { edges { node { version targets { value upperValue } assignments { edges { node { targets { ordinal } } } } } } } }"#).await;
    let p = &nodes(&v["plans"])[0];
    assert_eq!(p["version"], 1, "re-importing changed nothing");
    assert_eq!(p["targets"][0]["upperValue"], "7");
    assert_eq!(
        p["assignments"]["edges"][0]["node"]["targets"][0]["ordinal"],
        "1"
    );
    // A changed file replaces the plan's content and raises its version.
    let changed = GOOD.replace("upper_value = \"7\"", "upper_value = \"7.5\"");
    assert_eq!(
        import_plan_file(&app.db, &changed).await.unwrap().outcome,
        ImportOutcome::Updated
    );
    let v = app.data(r#"{ plans(filter: {search: "ke hoach thu"}) { edges { node { version targets { upperValue } } } } }"#).await;
    let p = &nodes(&v["plans"])[0];
    assert_eq!(p["version"], 2);
    assert_eq!(p["targets"].as_array().unwrap().len(), 1);
    assert_eq!(p["targets"][0]["upperValue"], "7.5");
}

#[tokio::test]
async fn late_reporting_duties_by_unit_and_day() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    // Lateness and progress reports are internal: read as a national viewer.
    let mut app = TestApp::spawn().await;
    app.sign_in_nationally().await;
    let titles = |v: &Value| -> Vec<String> {
        nodes(&v["lateReportingDuties"])
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d["period"].as_str().unwrap(),
                    d["dueOn"].as_str().unwrap()
                )
            })
            .collect()
    };
    // HCMC and everything below it: Tân Phú's six-month reports (one per ward, 11) are late in
    // June 2022, the annual ones not yet; in 2023 both are.
    let june = app.data(r#"{ lateReportingDuties(unitCode: "79", asOf: "2022-06-01") { edges { node { period dueOn } } } }"#).await;
    assert_eq!(titles(&june), vec!["2022S1 2022-05-15"; 11]);
    let later = app.data(r#"{ lateReportingDuties(unitCode: "767", asOf: "2023-01-10") { edges { node { period dueOn } } } }"#).await;
    assert_eq!(
        titles(&later),
        [vec!["2022S1 2022-05-15"; 11], vec!["2022 2022-12-01"; 11]].concat()
    );
    // Tháp Mười's monthly duties (one per unit, 22): in mid-April 2024 the March report is the
    // one due; the quarterly ones too.
    let tm = app.data(r#"{ lateReportingDuties(unitCode: "872", asOf: "2024-04-15") { edges { node { period recurrence } } } }"#).await;
    let recurrences: Vec<String> = nodes(&tm["lateReportingDuties"])
        .iter()
        .map(|d| d["recurrence"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        recurrences,
        [vec!["MONTHLY"; 22], vec!["QUARTERLY"; 22]].concat()
    );
    assert!(nodes(&app.data(r#"{ lateReportingDuties(unitCode: "01", asOf: "2030-01-01") { edges { node { id } } } }"#).await["lateReportingDuties"]).is_empty());

    // A report submitted for the period clears the duty (one ward's); a returned one does not.
    let duty = entity::reporting_duty::Entity::find()
        .filter(entity::reporting_duty::Column::Period.eq("2022S1"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let report = |status| entity::progress_report::ActiveModel {
        reporting_duty_id: Set(Some(duty.id)),
        period: Set("2022S1".into()),
        status: Set(status),
        reported_at: Set(chrono::Utc::now()),
        version: Set(1),
        ..Default::default()
    };
    report(entity::enums::ReportStatus::Returned)
        .insert(&app.db)
        .await
        .unwrap();
    let still = app
        .data(r#"{ lateReportingDuties(unitCode: "767", asOf: "2022-06-01") { totalCount } }"#)
        .await;
    assert_eq!(still["lateReportingDuties"]["totalCount"], 11);
    report(entity::enums::ReportStatus::Submitted)
        .insert(&app.db)
        .await
        .unwrap();
    let cleared = app
        .data(r#"{ lateReportingDuties(unitCode: "767", asOf: "2022-06-01") { totalCount } }"#)
        .await;
    assert_eq!(cleared["lateReportingDuties"]["totalCount"], 10);
}

#[tokio::test]
async fn assignment_summary_counts_a_unit_and_what_is_below() {
    let app = TestApp::spawn().await;
    // Of the demo documents' tasks only the HCMC directive's 1.2 has a deadline (end of January
    // 2024, one task per agency of the demo area: 13): add a plan whose tasks have more.
    let dated = r#"format = 1
[plan]
key = "79.plan.dated-2024"
kind = "PLAN"
title = "Kế hoạch có thời hạn"
unit = "79"
issued_on = "2024-01-02"
issuer = "79.ubnd"

[[assignments]]
title = "Quá hạn"
lead = "79.ubnd"
due_on = "2024-05-01"

[[assignments]]
title = "Sắp đến hạn"
lead = "79.ubnd"
due_on = "2024-06-20"

[[assignments]]
title = "Đã xong"
lead = "79.ubnd"
due_on = "2024-05-01"
status = "DONE"
"#;
    api::services::plan_import::import_plan_file(&app.db, dated)
        .await
        .unwrap();
    let s = app
        .data(r#"{ all: assignmentSummary(unitCode: "79", asOf: "2024-06-01") { unit { code } total overdue dueIn30Days byStatus { status count } perUnit { unit { code } total } }
                   own: assignmentSummary(unitCode: "79", includeDescendants: false, asOf: "2024-06-01") { total perUnit { unit { code } } }
                   plans(filter: {unitCode: "79", includeDescendants: true}) { edges { node { assignments(first: 500) { edges { node { dueOn status } } } } } } }"#)
        .await;
    // Expected from the plans themselves.
    let day = "2024-06-01";
    let horizon = "2024-07-01";
    let tasks: Vec<Value> = nodes(&s["plans"])
        .iter()
        .flat_map(|p| nodes(&p["assignments"]))
        .collect();
    let open = |t: &Value| t["status"] != "DONE" && t["status"] != "CANCELLED";
    let due = |t: &Value| t["dueOn"].as_str().map(str::to_string);
    let overdue = tasks
        .iter()
        .filter(|t| open(t) && due(t).is_some_and(|d| d.as_str() < day))
        .count();
    let soon = tasks
        .iter()
        .filter(|t| open(t) && due(t).is_some_and(|d| d.as_str() >= day && d.as_str() <= horizon))
        .count();
    let all = &s["all"];
    assert_eq!(all["unit"]["code"], "79");
    assert_eq!(all["total"].as_u64().unwrap() as usize, tasks.len());
    assert_eq!(
        all["total"],
        61 + 3 + 58 + 39,
        "the city's, Tân Phú's and Hóc Môn's tasks"
    );
    assert_eq!(
        (overdue, soon),
        (1 + 13, 1),
        "the dated plan's tasks and the directive's 1.2"
    );
    assert_eq!(all["overdue"].as_u64().unwrap() as usize, overdue);
    assert_eq!(all["dueIn30Days"].as_u64().unwrap() as usize, soon);
    let count_of = |status: &str| {
        all["byStatus"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["status"] == status)
            .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count_of("DONE"), 1);
    assert_eq!(count_of("NOT_STARTED") + 1, all["total"].as_u64().unwrap());
    assert_eq!(
        all["byStatus"].as_array().unwrap().len(),
        4,
        "every status, zeros included"
    );
    let per: Vec<(String, u64)> = all["perUnit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["unit"]["code"].as_str().unwrap().to_string(),
                u["total"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per,
        [
            ("79".to_string(), 64),
            ("767".to_string(), 58),
            ("784".to_string(), 39)
        ]
    );
    assert_eq!(s["own"]["total"], 64);
    assert_eq!(s["own"]["perUnit"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_agency_keeps_the_end_its_own_declaration_gives_whatever_loads_last() {
    // The HCMC directive ends Sở KH&ĐT on 2025-02-28; the Hóc Môn plan, loaded after it, names
    // the same department without dates and must not erase that end.
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ agencies(unitCode: "79", search: "ke hoach va dau tu") { edges { node { key validTo } } } }"#)
        .await;
    let found = nodes(&d["agencies"]);
    let khdt = found
        .iter()
        .find(|a| a["key"] == "79.so-khdt")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(khdt["validTo"], "2025-02-28");
    // Loading the files again, in either order, changes nothing.
    for (name, text) in api::seed::DEMO_PLANS.iter().rev() {
        api::services::plan_import::import_plan_file(&app.db, text)
            .await
            .unwrap_or_else(|e| panic!("{name}: {}", e.detail()));
    }
    let d = app
        .data(r#"{ agencies(unitCode: "79", search: "ke hoach va dau tu") { edges { node { key validTo } } } }"#)
        .await;
    assert!(
        nodes(&d["agencies"])
            .iter()
            .any(|a| a["key"] == "79.so-khdt" && a["validTo"] == "2025-02-28")
    );
}

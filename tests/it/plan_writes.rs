//! Plan writes end to end with the demo users: a manager drafts, fills and issues a plan; a
//! reporter of the leading agency reports progress; the manager returns and accepts reports;
//! a viewer writes nothing; bad input names its field and writes nothing; stale versions are
//! `CONFLICT`; `Idempotency-Key` retries apply once, also when they arrive together.

use crate::common::{TestApp, demo_token as token, demo_with_users as demo};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

fn code_of(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

fn field_of(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_default()
}

async fn agency_id(app: &TestApp, unit_code: &str, search: &str) -> String {
    let body = app
        .data(&format!(
            "{{ agencies(unitCode: \"{unit_code}\", search: \"{search}\", first: 5) {{ nodes {{ id name validTo }} }} }}"
        ))
        .await;
    let nodes = body["agencies"]["nodes"].as_array().unwrap();
    nodes
        .iter()
        .find(|n| n["validTo"].is_null())
        .unwrap_or_else(|| panic!("an open agency at {unit_code} matching {search}: {body}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

const CREATE_PLAN: &str = "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id number status version unit { code } } } }";

async fn post_keyed(
    app: &TestApp,
    token: &str,
    key: &str,
    query: &str,
    vars: Value,
) -> (u16, Option<String>, Value) {
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header("idempotency-key", key)
        .json(&json!({"query": query, "variables": vars}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let replayed = res
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string());
    (status, replayed, res.json().await.unwrap())
}

async fn plan_count(app: &TestApp) -> u64 {
    entity::plan::Entity::find().count(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_manager_issues_a_plan_and_follows_its_task_to_an_accepted_report() {
    let app = demo().await;
    let manager = token(&app, "hcm.manager").await;
    let reporter = token(&app, "hocmon.reporter").await;
    let viewer = token(&app, "tanphu.viewer").await;

    // A draft at the manager's own unit.
    let (_, body) = app
        .gql(
            Some(&manager),
            CREATE_PLAN,
            json!({"i": {"kind": "PLAN", "number": "901/KH-UBND", "title": "Kế hoạch phát triển kinh tế - xã hội năm 2026", "periodFrom": 2026, "periodTo": 2026}}),
        )
        .await;
    let plan = &body["data"]["createPlan"]["plan"];
    assert_eq!(plan["status"], "DRAFT", "{body}");
    assert_eq!(plan["unit"]["code"], "79");
    let plan_id = plan["id"].as_str().unwrap().to_string();

    // A target: GRDP 6.5–7 %.
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: AddTargetInput!) { addTarget(input: $i) { target { id comparator value upperValue plan { version } } } }",
            json!({"i": {"planId": plan_id, "expectedVersion": 1, "terms": {"wording": "Tốc độ tăng trưởng kinh tế (GRDP) đạt 6,5-7%.", "indicatorCode": "GRDP_GROWTH", "period": "2026", "comparator": "BETWEEN", "value": "6.5", "upperValue": "7.0"}}}),
        )
        .await;
    let target = &body["data"]["addTarget"]["target"];
    assert_eq!(target["upperValue"], "7", "{body}");
    assert_eq!(target["plan"]["version"], 2);
    let target_id = target["id"].as_str().unwrap().to_string();

    // Issued, then a task led by UBND Xã Hóc Môn.
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: IssuePlanInput!) { issuePlan(input: $i) { plan { status issuedOn version } } }",
            json!({"i": {"id": plan_id, "expectedVersion": 2}}),
        )
        .await;
    assert_eq!(
        body["data"]["issuePlan"]["plan"]["status"], "ISSUED",
        "{body}"
    );
    let lead = agency_id(&app, "27559", "Hoc Mon").await;
    let due = api::clock::today() + chrono::Duration::days(30);
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: CreateAssignmentInput!) { createAssignment(input: $i) { assignment { id version status leadAgency { name } targets { id } dueOn } } }",
            json!({"i": {"planId": plan_id, "expectedVersion": 3, "terms": {"ordinal": "1", "title": "Triển khai kế hoạch trên địa bàn xã", "leadAgencyId": lead, "targetIds": [target_id], "dueOn": due.to_string(), "recurrence": "QUARTERLY"}}}),
        )
        .await;
    let task = &body["data"]["createAssignment"]["assignment"];
    assert_eq!(
        task["leadAgency"]["name"], "Ủy ban nhân dân Xã Hóc Môn",
        "{body}"
    );
    assert_eq!(task["targets"][0]["id"], target_id.as_str());
    let task_id = task["id"].as_str().unwrap().to_string();

    // The viewer writes nothing.
    let (_, body) = app
        .gql(
            Some(&viewer),
            CREATE_PLAN,
            json!({"i": {"kind": "PLAN", "title": "x"}}),
        )
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");
    let submit = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { progressReport { id status version percentComplete reportedBy } } }";
    let (_, body) = app
        .gql(
            Some(&viewer),
            submit,
            json!({"i": {"assignmentId": task_id, "period": "2026Q1", "percentComplete": 10, "narrative": "x"}}),
        )
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");
    // Neither does the reporter write the plan.
    let (_, body) = app
        .gql(
            Some(&reporter),
            "mutation($i: PlanStatusInput!) { cancelPlan(input: $i) { plan { id } } }",
            json!({"i": {"id": plan_id, "expectedVersion": 4}}),
        )
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");

    // The reporter of the leading agency reports; the manager returns it with a reason.
    let (_, body) = app
        .gql(
            Some(&reporter),
            submit,
            json!({"i": {"assignmentId": task_id, "period": "2026Q1", "percentComplete": 20, "narrative": "Đã ban hành kế hoạch của xã."}}),
        )
        .await;
    let report = &body["data"]["submitProgressReport"]["progressReport"];
    assert_eq!(report["status"], "SUBMITTED", "{body}");
    let report_id = report["id"].as_str().unwrap().to_string();
    let review = "mutation($i: ReviewProgressReportInput!) { reviewProgressReport(input: $i) { progressReport { status reviewReason reviewedBy version } } }";
    let (_, body) = app
        .gql(
            Some(&manager),
            review,
            json!({"i": {"id": report_id, "expectedVersion": 1, "decision": "RETURN"}}),
        )
        .await;
    assert_eq!(
        (code_of(&body), field_of(&body)),
        ("BAD_USER_INPUT", "reason"),
        "{body}"
    );
    let (_, body) = app
        .gql(
            Some(&reporter),
            review,
            json!({"i": {"id": report_id, "expectedVersion": 1, "decision": "ACCEPT"}}),
        )
        .await;
    assert_eq!(
        code_of(&body),
        "FORBIDDEN",
        "a reporter reviews nothing: {body}"
    );
    let (_, body) = app
        .gql(
            Some(&manager),
            review,
            json!({"i": {"id": report_id, "expectedVersion": 1, "decision": "RETURN", "reason": "Thiếu số liệu"}}),
        )
        .await;
    let returned = &body["data"]["reviewProgressReport"]["progressReport"];
    assert_eq!(returned["status"], "RETURNED", "{body}");
    assert_eq!(returned["reviewReason"], "Thiếu số liệu");
    assert_eq!(returned["version"], 2);

    // A manager may report on his own plan's task, but nobody reviews his own report.
    let (_, body) = app
        .gql(
            Some(&manager),
            submit,
            json!({"i": {"assignmentId": task_id, "period": "2026Q1", "narrative": "Ý kiến của thành phố."}}),
        )
        .await;
    let own = body["data"]["submitProgressReport"]["progressReport"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();
    let (_, body) = app
        .gql(
            Some(&manager),
            review,
            json!({"i": {"id": own, "expectedVersion": 1, "decision": "ACCEPT"}}),
        )
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");

    // The next report is accepted.
    let (_, body) = app
        .gql(
            Some(&reporter),
            submit,
            json!({"i": {"assignmentId": task_id, "period": "2026Q1", "percentComplete": 25, "narrative": "Bổ sung số liệu quý I."}}),
        )
        .await;
    let second = body["data"]["submitProgressReport"]["progressReport"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();
    let (_, body) = app
        .gql(
            Some(&manager),
            review,
            json!({"i": {"id": second, "expectedVersion": 1, "decision": "ACCEPT"}}),
        )
        .await;
    assert_eq!(
        body["data"]["reviewProgressReport"]["progressReport"]["status"], "ACCEPTED",
        "{body}"
    );

    // Read back: the task's reports, oldest first, as the manager sees them.
    let (_, body) = app
        .gql(
            Some(&manager),
            "query($id: ID!) { node(id: $id) { ... on Assignment { progressReports { status percentComplete } } } }",
            json!({"id": task_id}),
        )
        .await;
    assert_eq!(
        body["data"]["node"]["progressReports"],
        json!([{"status": "RETURNED", "percentComplete": 20}, {"status": "SUBMITTED", "percentComplete": null}, {"status": "ACCEPTED", "percentComplete": 25}]),
        "{body}"
    );

    // The trail: the plan's manager reads it, with before and after; a reporter and a
    // manager elsewhere do not.
    let trail = "query($t: AuditEntityType!, $id: ID!) { auditEvents(entityType: $t, entityId: $id) { totalCount nodes { action actor before after } } }";
    let (_, body) = app
        .gql(Some(&manager), trail, json!({"t": "PLAN", "id": plan_id}))
        .await;
    let events = &body["data"]["auditEvents"];
    assert_eq!(events["totalCount"], 2, "{body}");
    assert_eq!(events["nodes"][0]["action"], "plan.create");
    assert!(events["nodes"][0]["before"].is_null());
    assert_eq!(events["nodes"][1]["action"], "plan.issue");
    assert_eq!(events["nodes"][1]["before"]["status"], "DRAFT");
    assert_eq!(events["nodes"][1]["after"]["status"], "ISSUED");
    let (_, body) = app
        .gql(
            Some(&manager),
            trail,
            json!({"t": "PROGRESS_REPORT", "id": report_id}),
        )
        .await;
    assert_eq!(
        body["data"]["auditEvents"]["nodes"][1]["after"]["reviewReason"], "Thiếu số liệu",
        "{body}"
    );
    let (_, body) = app
        .gql(Some(&reporter), trail, json!({"t": "PLAN", "id": plan_id}))
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");
    let elsewhere = token(&app, "dongthap.manager").await;
    let (_, body) = app
        .gql(Some(&elsewhere), trail, json!({"t": "PLAN", "id": plan_id}))
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");

    // Every write left its audit event in its own transaction.
    use sea_orm::{ColumnTrait, QueryFilter};
    let actions: Vec<String> = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Action.ne("session.login"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| {
            !a.starts_with("session") && !a.starts_with("plan.import") && !a.starts_with("user")
        })
        .collect();
    assert_eq!(
        actions,
        [
            "plan.create",
            "target.add",
            "plan.issue",
            "assignment.create",
            "progress_report.submit",
            "progress_report.return",
            "progress_report.submit",
            "progress_report.submit",
            "progress_report.accept"
        ],
    );
}

#[tokio::test]
async fn bad_plan_input_names_its_field_and_writes_nothing() {
    let app = demo().await;
    let manager = token(&app, "hcm.manager").await;
    let (_, body) = app
        .gql(
            Some(&manager),
            CREATE_PLAN,
            json!({"i": {"kind": "PLAN", "number": "77/KH-UBND", "title": "Kế hoạch thử", "periodFrom": 2026}}),
        )
        .await;
    let plan_id = body["data"]["createPlan"]["plan"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let plans = plan_count(&app).await;
    let targets = entity::target::Entity::find().count(&app.db).await.unwrap();

    let add = "mutation($i: AddTargetInput!) { addTarget(input: $i) { target { id } } }";
    for (terms, field) in [
        (
            json!({"wording": "w", "comparator": "BETWEEN", "value": "6.5"}),
            "upperValue",
        ),
        (
            json!({"wording": "w", "comparator": "BETWEEN", "value": "7", "upperValue": "6.5"}),
            "upperValue",
        ),
        (
            json!({"wording": "w", "measure": "INCREASE", "comparator": "AT_LEAST", "value": "1"}),
            "changeUnit",
        ),
        (
            json!({"wording": "w", "indicatorCode": "NO_SUCH_INDICATOR"}),
            "indicatorCode",
        ),
        (json!({"wording": "w", "period": "2026-13"}), "period"),
        (json!({"wording": "  "}), "wording"),
    ] {
        let (_, body) = app
            .gql(
                Some(&manager),
                add,
                json!({"i": {"planId": plan_id, "expectedVersion": 1, "terms": terms}}),
            )
            .await;
        assert_eq!(
            (code_of(&body), field_of(&body)),
            ("BAD_USER_INPUT", field),
            "{terms}: {body}"
        );
    }

    // Issued on a past day, a task due before it is refused; so is a lead agency outside the
    // issuing unit's scope (Đồng Tháp's committee for a plan of HCMC).
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: IssuePlanInput!) { issuePlan(input: $i) { plan { version } } }",
            json!({"i": {"id": plan_id, "expectedVersion": 1, "issuedOn": "2026-01-05"}}),
        )
        .await;
    assert_eq!(body["data"]["issuePlan"]["plan"]["version"], 2, "{body}");
    let lead = agency_id(&app, "27559", "Hoc Mon").await;
    let outside = agency_id(&app, "82", "Dong Thap").await;
    let create = "mutation($i: CreateAssignmentInput!) { createAssignment(input: $i) { assignment { id } } }";
    for (terms, field) in [
        (
            json!({"title": "t", "leadAgencyId": lead, "dueOn": "2025-12-31"}),
            "dueOn",
        ),
        (
            json!({"title": "t", "leadAgencyId": outside}),
            "leadAgencyId",
        ),
        (
            json!({"title": "t", "leadAgencyId": lead, "recurrence": "HOURLY"}),
            "recurrence",
        ),
    ] {
        let (_, body) = app
            .gql(
                Some(&manager),
                create,
                json!({"i": {"planId": plan_id, "expectedVersion": 2, "terms": terms}}),
            )
            .await;
        assert_eq!(
            (code_of(&body), field_of(&body)),
            ("BAD_USER_INPUT", field),
            "{terms}: {body}"
        );
    }

    // The same number for the same issuer and year.
    let (_, body) = app
        .gql(
            Some(&manager),
            CREATE_PLAN,
            json!({"i": {"kind": "PLAN", "number": "77/KH-UBND", "title": "Kế hoạch khác", "periodFrom": 2026}}),
        )
        .await;
    assert_eq!(
        (code_of(&body), field_of(&body)),
        ("BAD_USER_INPUT", "number"),
        "{body}"
    );

    assert_eq!(plan_count(&app).await, plans);
    assert_eq!(
        entity::target::Entity::find().count(&app.db).await.unwrap(),
        targets
    );
    assert_eq!(
        entity::assignment::Entity::find()
            .filter(sea_orm::ColumnTrait::eq(
                &entity::assignment::Column::PlanId,
                plan_id_number(&plan_id)
            ))
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

use sea_orm::QueryFilter;

fn plan_id_number(id: &str) -> i64 {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    text.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn two_updates_with_one_version_apply_once() {
    let app = demo().await;
    let manager = token(&app, "hcm.manager").await;
    let (_, body) = app
        .gql(
            Some(&manager),
            CREATE_PLAN,
            json!({"i": {"kind": "PLAN", "title": "Bản nháp"}}),
        )
        .await;
    let plan_id = body["data"]["createPlan"]["plan"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let update =
        "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { title version } } }";
    let one = app.gql(
        Some(&manager),
        update,
        json!({"i": {"id": plan_id, "expectedVersion": 1, "title": "Tiêu đề A"}}),
    );
    let two = app.gql(
        Some(&manager),
        update,
        json!({"i": {"id": plan_id, "expectedVersion": 1, "title": "Tiêu đề B"}}),
    );
    let ((_, a), (_, b)) = tokio::join!(one, two);
    let outcomes = [a, b];
    let applied: Vec<&Value> = outcomes
        .iter()
        .filter(|b| b["data"]["updatePlan"]["plan"]["version"] == 2)
        .collect();
    let conflicts = outcomes.iter().filter(|b| code_of(b) == "CONFLICT").count();
    assert_eq!((applied.len(), conflicts), (1, 1), "{outcomes:?}");
    let (_, now) = app
        .gql(
            Some(&manager),
            "query($id: ID!) { node(id: $id) { ... on Plan { title version } } }",
            json!({"id": plan_id}),
        )
        .await;
    assert_eq!(now["data"]["node"]["version"], 2);
    assert_eq!(
        now["data"]["node"]["title"],
        applied[0]["data"]["updatePlan"]["plan"]["title"]
    );
}

#[tokio::test]
async fn a_retried_create_plan_with_one_key_creates_one_plan() {
    let app = demo().await;
    let manager = token(&app, "hcm.manager").await;
    let before = plan_count(&app).await;
    let vars = json!({"i": {"kind": "PLAN", "title": "Kế hoạch gửi lại"}});

    let (status, replayed, first) =
        post_keyed(&app, &manager, "retry-1", CREATE_PLAN, vars.clone()).await;
    assert_eq!((status, replayed), (200, None), "{first}");
    let (status, replayed, again) =
        post_keyed(&app, &manager, "retry-1", CREATE_PLAN, vars.clone()).await;
    assert_eq!((status, replayed.as_deref()), (200, Some("true")));
    assert_eq!(again, first);
    assert_eq!(plan_count(&app).await, before + 1);
    // A client that orders its variables otherwise sends the same request.
    let reordered: Value =
        serde_json::from_str(r#"{"i": {"title": "Kế hoạch gửi lại", "kind": "PLAN"}}"#).unwrap();
    let (status, replayed, _) = post_keyed(&app, &manager, "retry-1", CREATE_PLAN, reordered).await;
    assert_eq!((status, replayed.as_deref()), (200, Some("true")));

    // The same key with another request.
    let other = json!({"i": {"kind": "PLAN", "title": "Một kế hoạch khác"}});
    let (status, _, body) = post_keyed(&app, &manager, "retry-1", CREATE_PLAN, other).await;
    assert_eq!(status, 422);
    assert_eq!(
        (code_of(&body), field_of(&body)),
        ("BAD_USER_INPUT", "Idempotency-Key")
    );
    assert_eq!(plan_count(&app).await, before + 1);

    // Keys are the caller's own: another principal's same key is another request.
    let dongthap = token(&app, "dongthap.manager").await;
    let (_, _, theirs) = post_keyed(&app, &dongthap, "retry-1", CREATE_PLAN, vars.clone()).await;
    assert!(
        theirs["data"]["createPlan"]["plan"]["id"].is_string(),
        "{theirs}"
    );
    assert_eq!(plan_count(&app).await, before + 2);

    // Five at once with one key: one plan, five equal answers.
    let call = || post_keyed(&app, &manager, "together-1", CREATE_PLAN, vars.clone());
    let (a, b, c, d, e) = tokio::join!(call(), call(), call(), call(), call());
    assert_eq!(plan_count(&app).await, before + 3);
    let bodies: Vec<&Value> = [&a, &b, &c, &d, &e]
        .into_iter()
        .map(|(_, _, b)| b)
        .collect();
    assert!(
        bodies[0]["data"]["createPlan"]["plan"]["id"].is_string(),
        "{bodies:?}"
    );
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");

    // An anonymous request with a key is refused: keys are kept per principal.
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .header("idempotency-key", "anon-1")
        .json(&json!({"query": CREATE_PLAN, "variables": vars}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

const PLAN_FILE: &str = r#"format = 1
targets = []

[plan]
key = "79.plan.import-test-2026"
kind = "PLAN"
number = "15/KH-UBND"
title = "Kế hoạch thí điểm nhập tệp"
unit = "79"
unit_as_of = "2026-01-10"
issued_on = "2026-01-10"
issuer = "79.ubnd"
period_from = 2026
period_to = 2026
visibility = "INTERNAL"

[[assignments]]
ordinal = "1"
title = "Tổ chức triển khai"
lead = "79.ubnd"
due_on = "2026-12-31"
"#;

#[tokio::test]
async fn a_manager_imports_a_plan_file_of_his_unit_after_a_dry_run() {
    let app = demo().await;
    let manager = token(&app, "hcm.manager").await;
    let import = "mutation($i: ImportPlanInput!) { importPlan(input: $i) { outcome dryRun key assignments plan { number status unit { code } } } }";
    let before = plan_count(&app).await;

    let (_, body) = app
        .gql(
            Some(&manager),
            import,
            json!({"i": {"content": PLAN_FILE, "dryRun": true}}),
        )
        .await;
    let r = &body["data"]["importPlan"];
    assert_eq!(
        (r["outcome"].as_str(), r["dryRun"].as_bool()),
        (Some("CREATED"), Some(true)),
        "{body}"
    );
    assert_eq!(r["assignments"], 1);
    assert!(r["plan"].is_null());
    assert_eq!(plan_count(&app).await, before, "a dry run writes nothing");

    let (_, body) = app
        .gql(Some(&manager), import, json!({"i": {"content": PLAN_FILE}}))
        .await;
    let r = &body["data"]["importPlan"];
    assert_eq!(r["outcome"], "CREATED", "{body}");
    assert_eq!(r["plan"]["unit"]["code"], "79");
    assert_eq!(plan_count(&app).await, before + 1);
    let (_, body) = app
        .gql(Some(&manager), import, json!({"i": {"content": PLAN_FILE}}))
        .await;
    assert_eq!(body["data"]["importPlan"]["outcome"], "UNCHANGED", "{body}");

    // A reporter imports nothing; a manager imports nothing of another unit; a bad file names
    // its line and writes nothing.
    let reporter = token(&app, "hocmon.reporter").await;
    let (_, body) = app
        .gql(
            Some(&reporter),
            import,
            json!({"i": {"content": PLAN_FILE}}),
        )
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");
    let dongthap = token(&app, "dongthap.manager").await;
    // Another unit's manager cannot take the plan over by its key, nor by a dry run read it.
    let hijack = PLAN_FILE
        .replace("unit = \"79\"", "unit = \"82\"")
        .replace("issuer = \"79.ubnd\"", "issuer = \"82.ubnd\"");
    for dry in [true, false] {
        let (_, body) = app
            .gql(
                Some(&dongthap),
                import,
                json!({"i": {"content": hijack, "dryRun": dry}}),
            )
            .await;
        assert_eq!(code_of(&body), "FORBIDDEN", "{body}");
    }
    let (_, body) = app
        .gql(
            Some(&manager),
            r#"{ plans(filter: {search: "thi diem nhap tep"}) { nodes { unit { code } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["plans"]["nodes"][0]["unit"]["code"], "79",
        "{body}"
    );
    let other = PLAN_FILE.replace("import-test-2026", "import-test-2026-b");
    let (_, body) = app
        .gql(Some(&dongthap), import, json!({"i": {"content": other}}))
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");
    let broken = PLAN_FILE.replace("kind = \"PLAN\"", "kind = \"MEMO\"");
    let (_, body) = app
        .gql(Some(&manager), import, json!({"i": {"content": broken}}))
        .await;
    assert_eq!(
        (code_of(&body), field_of(&body)),
        ("BAD_USER_INPUT", "content"),
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("line "),
        "{body}"
    );
    assert_eq!(plan_count(&app).await, before + 1);
}

#[tokio::test]
async fn every_plan_write_applies_once_and_moves_its_version() {
    let app = demo().await;
    let manager = token(&app, "hcm.manager").await;
    let call = |q: &'static str, i: Value| {
        let (app, manager) = (&app, manager.clone());
        async move {
            let (_, body) = app.gql(Some(&manager), q, json!({"i": i})).await;
            assert!(body["errors"].is_null(), "{q}: {body}");
            body["data"].clone()
        }
    };
    let d = call(
        CREATE_PLAN,
        json!({"kind": "PLAN", "number": "31/KH-UBND", "title": "Kế hoạch thử đủ các bước"}),
    )
    .await;
    let plan = d["createPlan"]["plan"]["id"].as_str().unwrap().to_string();
    let d = call(
        "mutation($i: AddTargetInput!) { addTarget(input: $i) { target { id } } }",
        json!({"planId": plan, "expectedVersion": 1, "terms": {"wording": "Giảm tỷ lệ hộ nghèo 0,5%.", "measure": "DECREASE", "changeUnit": "PERCENTAGE_POINT", "comparator": "AT_LEAST", "value": "0.5", "period": "2026"}}),
    )
    .await;
    let target = d["addTarget"]["target"]["id"].as_str().unwrap().to_string();
    let d = call(
        "mutation($i: UpdateTargetInput!) { updateTarget(input: $i) { target { value changeUnit plan { version } } } }",
        json!({"id": target, "expectedVersion": 2, "terms": {"wording": "Giảm tỷ lệ hộ nghèo 0,6%.", "measure": "DECREASE", "changeUnit": "PERCENTAGE_POINT", "comparator": "AT_LEAST", "value": "0.6", "period": "2026"}}),
    )
    .await;
    assert_eq!(d["updateTarget"]["target"]["value"], "0.6");
    assert_eq!(d["updateTarget"]["target"]["plan"]["version"], 3);
    let d = call(
        "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { title version visibility } } }",
        json!({"id": plan, "expectedVersion": 3, "title": "Kế hoạch thử, bản sửa", "visibility": "PUBLIC"}),
    )
    .await;
    assert_eq!(d["updatePlan"]["plan"]["version"], 4);
    call(
        "mutation($i: IssuePlanInput!) { issuePlan(input: $i) { plan { status } } }",
        json!({"id": plan, "expectedVersion": 4}),
    )
    .await;
    let lead = agency_id(&app, "27559", "Hoc Mon").await;
    let other = agency_id(&app, "27031", "Tan Phu").await;
    let d = call(
        "mutation($i: CreateAssignmentInput!) { createAssignment(input: $i) { assignment { id version } } }",
        json!({"planId": plan, "expectedVersion": 5, "terms": {"title": "Rà soát hộ nghèo", "leadAgencyId": lead, "targetIds": [target]}}),
    )
    .await;
    let task = d["createAssignment"]["assignment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = call(
        "mutation($i: UpdateAssignmentInput!) { updateAssignment(input: $i) { assignment { title version coordinatingAgencies { name } recurrence } } }",
        json!({"id": task, "expectedVersion": 1, "terms": {"title": "Rà soát, cập nhật hộ nghèo", "leadAgencyId": lead, "coordinatingAgencyIds": [other], "recurrence": "QUARTERLY", "targetIds": [target]}}),
    )
    .await;
    let a = &d["updateAssignment"]["assignment"];
    assert_eq!(
        (a["version"].as_i64(), a["recurrence"].as_str()),
        (Some(2), Some("QUARTERLY"))
    );
    assert_eq!(
        a["coordinatingAgencies"][0]["name"],
        "Ủy ban nhân dân Phường Tân Phú"
    );
    let d = call(
        "mutation($i: SetAssignmentStatusInput!) { setAssignmentStatus(input: $i) { assignment { status version } } }",
        json!({"id": task, "expectedVersion": 2, "status": "IN_PROGRESS"}),
    )
    .await;
    assert_eq!(
        d["setAssignmentStatus"]["assignment"]["status"],
        "IN_PROGRESS"
    );
    let city = agency_id(&app, "79", "Uy ban nhan dan Thanh pho").await;
    let d = call(
        "mutation($i: CreateReportingDutyInput!) { createReportingDuty(input: $i) { reportingDuty { title period recurrence reporter { name } recipient { name } } } }",
        json!({"planId": plan, "expectedVersion": 6, "title": "Báo cáo quý", "reporterAgencyId": lead, "recipientAgencyId": city, "period": "2026Q4", "recurrence": "QUARTERLY", "dueOn": "2026-12-31"}),
    )
    .await;
    assert_eq!(
        d["createReportingDuty"]["reportingDuty"]["reporter"]["name"],
        "Ủy ban nhân dân Xã Hóc Môn"
    );
    let d = call(
        "mutation($i: RemoveTargetInput!) { removeTarget(input: $i) { removedTargetId } }",
        json!({"id": target, "expectedVersion": 7}),
    )
    .await;
    assert_eq!(d["removeTarget"]["removedTargetId"], target.as_str());
    call(
        "mutation($i: PlanStatusInput!) { supersedePlan(input: $i) { plan { status } } }",
        json!({"id": plan, "expectedVersion": 8}),
    )
    .await;
    // A superseded plan takes no new task; cancelling it is no step of its life either.
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: PlanStatusInput!) { cancelPlan(input: $i) { plan { status } } }",
            json!({"i": {"id": plan, "expectedVersion": 9}}),
        )
        .await;
    assert_eq!(code_of(&body), "BAD_USER_INPUT", "{body}");
    // Anonymous readers see the public plan as it ended: superseded, its task without target.
    let (_, body) = app
        .gql(
            None,
            "query($id: ID!) { plan(id: $id) { title status version targets { id } assignments { nodes { title targets { id } } } } }",
            json!({"id": plan}),
        )
        .await;
    let p = &body["data"]["plan"];
    assert_eq!(
        (p["status"].as_str(), p["version"].as_i64()),
        (Some("SUPERSEDED"), Some(9)),
        "{body}"
    );
    assert_eq!(p["targets"], json!([]));
    assert_eq!(p["assignments"]["nodes"][0]["targets"], json!([]));
}

//! Administration end to end: an admin creates, changes and deactivates users, creates and
//! revokes service accounts, lists what is his; bad input writes nothing; the CLI imports users
//! from CSV and moves the users of a closed unit.

use crate::common::{TestApp, fresh_database};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::process::Command;

const SECRET: &str = "an-admin-test-secret-that-is-32-bytes";

async fn demo_app_on(url: &str) -> TestApp {
    let app = TestApp::spawn_on(url, |c| c.jwt.secret = Some(SECRET.into())).await;
    api::seed::seed_demo(&app.db).await.unwrap();
    assert_eq!(api::seed::seed_demo_users(&app.db).await.unwrap(), 6);
    app
}

async fn login(app: &TestApp, user: &str, password: &str) -> Value {
    app.gql(
        None,
        "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken } }",
        json!({"u": user, "p": password}),
    )
    .await
    .1
}

async fn token(app: &TestApp, user: &str, password: &str) -> String {
    let body = login(app, user, password).await;
    body["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{user} logs in: {body}"))
        .to_string()
}

/// A province admin for HCMC, created by the national admin through the API.
async fn hcm_admin(app: &TestApp, national: &str) -> String {
    let hcm = unit_id(app, "79").await;
    let (_, body) = app
        .gql(
            Some(national),
            "mutation($i: CreateUserInput!) { createUser(input: $i) { user { username role homeUnit { code } } } }",
            json!({"i": {"username": "hcm.admin", "password": "hcm-admin-password", "role": "ADMIN", "homeUnitId": hcm}}),
        )
        .await;
    assert_eq!(
        body["data"]["createUser"]["user"]["homeUnit"]["code"], "79",
        "{body}"
    );
    token(app, "hcm.admin", "hcm-admin-password").await
}

async fn unit_id(app: &TestApp, code: &str) -> String {
    let body = app
        .data(&format!("{{ adminUnit(code: \"{code}\") {{ id }} }}"))
        .await;
    body["adminUnit"]["id"].as_str().unwrap().to_string()
}

fn code_of(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn an_admin_creates_changes_and_deactivates_users_in_his_scope() {
    let app = demo_app_on(&fresh_database().await).await;
    let national = token(&app, "admin", "demo-password").await;
    let admin = hcm_admin(&app, &national).await;
    let hoc_mon = unit_id(&app, "27559").await;

    let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id username role active homeUnit { code } } } }";
    let (_, body) = app
        .gql(
            Some(&admin),
            create,
            json!({"i": {"username": "hocmon.viewer", "displayName": "Cán bộ  xã", "password": "initial-password-1", "role": "VIEWER", "homeUnitId": hoc_mon}}),
        )
        .await;
    let user = body["data"]["createUser"]["user"].clone();
    assert_eq!(user["homeUnit"]["code"], "27559", "{body}");
    let user_id = user["id"].as_str().unwrap().to_string();

    // The new user signs in and is who the admin made him.
    let viewer = token(&app, "hocmon.viewer", "initial-password-1").await;
    let (_, me) = app
        .gql(
            Some(&viewer),
            "{ me { role homeUnit { code } permissions } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["role"], "VIEWER");
    assert_eq!(me["data"]["me"]["permissions"], json!(["READ_SCOPE"]));

    // Another province is outside the HCMC admin's scope; a national user too.
    let dong_thap = unit_id(&app, "82").await;
    for home in [json!(dong_thap), Value::Null] {
        let (_, body) = app
            .gql(
                Some(&admin),
                create,
                json!({"i": {"username": "elsewhere", "password": "initial-password-1", "role": "VIEWER", "homeUnitId": home}}),
            )
            .await;
        assert_eq!(code_of(&body), "FORBIDDEN", "{body}");
    }

    // A role change ends the user's sessions: his old token stops working.
    let (_, body) = app
        .gql(
            Some(&admin),
            "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { role displayName } } }",
            json!({"i": {"id": user_id, "role": "REPORTER"}}),
        )
        .await;
    assert_eq!(
        body["data"]["updateUser"]["user"]["role"], "REPORTER",
        "{body}"
    );
    assert_eq!(
        body["data"]["updateUser"]["user"]["displayName"],
        "Cán bộ xã"
    );
    let (status, body) = app.gql(Some(&viewer), "{ me { role } }", json!({})).await;
    assert_eq!(status, 401, "{body}");
    let reporter = token(&app, "hocmon.viewer", "initial-password-1").await;
    let (_, me) = app.gql(Some(&reporter), "{ me { role } }", json!({})).await;
    assert_eq!(me["data"]["me"]["role"], "REPORTER");

    // The admin lists the users of his scope only.
    let (_, body) = app
        .gql(
            Some(&admin),
            "{ users(first: 100) { totalCount edges { node { username } } } }",
            json!({}),
        )
        .await;
    let names = body["data"]["users"]["edges"].to_string();
    for inside in [
        "hcm.manager",
        "hocmon.reporter",
        "tanphu.viewer",
        "hocmon.viewer",
        "hcm.admin",
    ] {
        assert!(names.contains(inside), "{inside} in {body}");
    }
    for outside in ["dongthap.manager", "thapmuoi.reporter", "\"admin\""] {
        assert!(!names.contains(outside), "{outside} not in {body}");
    }
    // A manager lists nothing.
    let manager = token(&app, "hcm.manager", "demo-password").await;
    let (_, body) = app
        .gql(Some(&manager), "{ users { totalCount } }", json!({}))
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");
    // Nor does he learn which user ids exist; an admin gets null for a missing one.
    let missing = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("User:999999")
    };
    let node = "query($id: ID!) { node(id: $id) { id } }";
    let (_, body) = app.gql(Some(&manager), node, json!({"id": missing})).await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");
    let (_, body) = app.gql(Some(&admin), node, json!({"id": missing})).await;
    assert!(
        body["data"]["node"].is_null() && body.get("errors").is_none(),
        "{body}"
    );

    // Deactivation: no login, and the audit trail has every step with its request id.
    let (_, body) = app
        .gql(
            Some(&admin),
            "mutation($i: DeactivateUserInput!) { deactivateUser(input: $i) { user { active } } }",
            json!({"i": {"id": user_id}}),
        )
        .await;
    assert_eq!(
        body["data"]["deactivateUser"]["user"]["active"], false,
        "{body}"
    );
    assert_eq!(
        code_of(&login(&app, "hocmon.viewer", "initial-password-1").await),
        "UNAUTHENTICATED"
    );
    let events = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::EntityType.eq("user"))
        .order_by_asc(entity::audit_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user.create",
            "user.create",
            "user.update",
            "user.deactivate"
        ]
    );
    assert!(events.iter().all(|e| e.request_id.is_some()));
    assert!(
        events
            .iter()
            .all(|e| !e.after.clone().unwrap_or_default().contains("password"))
    );
}

#[tokio::test]
async fn bad_input_names_its_field_and_writes_nothing() {
    let app = demo_app_on(&fresh_database().await).await;
    let national = token(&app, "admin", "demo-password").await;
    let before = entity::app_user::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }";
    let historical = {
        let old = api::services::units::by_code(
            &app.db,
            "784",
            chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
            None,
        )
        .await
        .unwrap()
        .unwrap();
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("AdminUnit:{}", old.id))
    };
    let cases = [
        (
            json!({"username": "x y", "password": "long-enough-pw", "role": "VIEWER"}),
            "BAD_USER_INPUT",
            Some("username"),
        ),
        (
            json!({"username": "short", "password": "short", "role": "VIEWER"}),
            "BAD_USER_INPUT",
            Some("password"),
        ),
        (
            json!({"username": "nohome", "password": "long-enough-pw", "role": "VIEWER", "homeUnitId": "bm9wZQ"}),
            "BAD_USER_INPUT",
            Some("homeUnitId"),
        ),
        (
            json!({"username": "admin", "password": "long-enough-pw", "role": "VIEWER"}),
            "CONFLICT",
            None,
        ),
        // Historical units take no new users: Huyện Hóc Môn ended on 30 June 2025.
        (
            json!({"username": "old.district", "password": "long-enough-pw", "role": "VIEWER", "homeUnitId": historical}),
            "FORBIDDEN",
            None,
        ),
    ];
    for (input, code, field) in cases {
        let (_, body) = app.gql(Some(&national), create, json!({"i": input})).await;
        assert_eq!(code_of(&body), code, "{input}: {body}");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
    }
    let after = entity::app_user::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn an_admin_creates_a_service_account_whose_secret_works_until_revoked() {
    let app = demo_app_on(&fresh_database().await).await;
    let national = token(&app, "admin", "demo-password").await;
    let admin = hcm_admin(&app, &national).await;
    let hcm = unit_id(&app, "79").await;
    let (_, body) = app
        .gql(
            Some(&admin),
            "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { secret serviceAccount { id name scopes usable homeUnit { code } } } }",
            json!({"i": {"name": "hcm-dashboard", "scopes": ["plans:read", "values:read"], "homeUnitId": hcm}}),
        )
        .await;
    let created = &body["data"]["createServiceAccount"];
    assert_eq!(
        created["serviceAccount"]["scopes"],
        json!(["plans:read", "values:read"]),
        "{body}"
    );
    let secret = created["secret"].as_str().unwrap().to_string();
    let id = created["serviceAccount"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let exchange = "mutation($s: String!) { serviceToken(input: {name: \"hcm-dashboard\", secret: $s}) { accessToken } }";
    let (_, body) = app.gql(None, exchange, json!({"s": secret})).await;
    let access = body["data"]["serviceToken"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, me) = app
        .gql(
            Some(&access),
            "{ me { kind homeUnit { code } permissions } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["homeUnit"]["code"], "79", "{me}");
    assert_eq!(me["data"]["me"]["permissions"], json!(["READ_SCOPE"]));
    // Unknown scopes are refused with their field.
    let (_, body) = app
        .gql(
            Some(&admin),
            "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { secret } }",
            json!({"i": {"name": "bad-scope", "scopes": ["everything"], "homeUnitId": hcm}}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "scopes", "{body}");
    // The admin of another province may not revoke it; its own admin may.
    let revoke = "mutation($i: RevokeServiceAccountInput!) { revokeServiceAccount(input: $i) { serviceAccount { usable } } }";
    let manager = token(&app, "dongthap.manager", "demo-password").await;
    let (_, body) = app
        .gql(Some(&manager), revoke, json!({"i": {"id": id}}))
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN");
    let (_, body) = app
        .gql(Some(&admin), revoke, json!({"i": {"id": id}}))
        .await;
    assert_eq!(
        body["data"]["revokeServiceAccount"]["serviceAccount"]["usable"], false,
        "{body}"
    );
    let (_, body) = app.gql(None, exchange, json!({"s": secret})).await;
    assert_eq!(code_of(&body), "UNAUTHENTICATED");
}

fn platform(url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_platform"));
    cmd.env_remove("CONFIG_FILE")
        .env("DATABASE_URL", url)
        .env("LOG_LEVEL", "warn")
        .current_dir(std::env::temp_dir());
    cmd
}

#[tokio::test]
async fn the_cli_imports_users_from_csv_all_or_nothing() {
    let url = fresh_database().await;
    let app = demo_app_on(&url).await;
    let dir = std::env::temp_dir().join(format!("users-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "username,display_name,role,unit,agency\n\
         ok.one,Một,viewer,27559,\n\
         bad.role,Hai,chief,27559,\n\
         bad.unit,Ba,viewer,784,\n\
         ok.one,Bốn,viewer,79,\n",
    )
    .unwrap();
    let out = platform(&url)
        .args(["user", "import"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in [":3: role:", ":4: unit:", ":5: username:"] {
        assert!(stderr.contains(line), "{line} in {stderr}");
    }
    assert!(stderr.contains("nothing written"), "{stderr}");
    let none = entity::app_user::Entity::find()
        .filter(entity::app_user::Column::Username.eq("ok.one"))
        .one(&app.db)
        .await
        .unwrap();
    assert!(none.is_none());

    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "username,display_name,role,unit,agency\n\
         ok.one,Một,viewer,27559,27559.ubnd-2025\n\
         ok.two,Hai,reporter,30037,\n\
         hcm.manager,,manager,79,\n",
    )
    .unwrap();
    let out = platform(&url)
        .args(["user", "import"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows[0], "username,password");
    assert_eq!(rows.len(), 3, "two new users: {stdout}");
    let (name, password) = rows[1].split_once(',').unwrap();
    assert_eq!(name, "ok.one");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 already present"));
    // The printed initial password works.
    let t = token(&app, name, password).await;
    let (_, me) = app
        .gql(
            Some(&t),
            "{ me { homeUnit { code } agency { key } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["homeUnit"]["code"], "27559", "{me}");
    assert_eq!(me["data"]["me"]["agency"]["key"], "27559.ubnd-2025");
}

#[tokio::test]
async fn the_cli_moves_the_users_of_a_closed_unit_to_its_successor() {
    let url = fresh_database().await;
    let app = demo_app_on(&url).await;
    // Two users still homed at Thị trấn Hóc Môn, which closed on 30 June 2025.
    let old = api::services::units::by_code(
        &app.db,
        "27559",
        chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
        None,
    )
    .await
    .unwrap()
    .unwrap();
    for name in ["old.one", "old.two"] {
        crate::common::insert_user(&app.db, name, entity::enums::Role::Viewer, Some(old.id)).await;
    }
    // Tháp Mười did not take over Hóc Môn; a current unit keeps its users.
    for (args, word) in [
        (
            vec!["--from", "27559", "--to", "30037"],
            "did not take over",
        ),
        (
            vec![
                "--from",
                "27031",
                "--from-date",
                "2025-08-01",
                "--to",
                "27031",
            ],
            "valid today",
        ),
    ] {
        let out = platform(&url)
            .args(["user", "move"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(word), "{stderr}");
    }
    let out = platform(&url)
        .args(["user", "move", "--from", "27559", "--to", "27559"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("moved 2 users"));
    let new = api::services::units::by_code(&app.db, "27559", api::clock::today(), None)
        .await
        .unwrap()
        .unwrap();
    let moved = entity::app_user::Entity::find()
        .filter(entity::app_user::Column::HomeUnitId.eq(new.id))
        .filter(entity::app_user::Column::TokenVersion.eq(1))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(moved, 2);
}

#[tokio::test]
async fn users_left_in_a_historical_unit_may_be_moved_out_but_not_promoted_there() {
    let app = demo_app_on(&fresh_database().await).await;
    let national = token(&app, "admin", "demo-password").await;
    let admin = hcm_admin(&app, &national).await;
    // A user still homed at Huyện Hóc Môn, which ended on 30 June 2025.
    let district = api::services::units::by_code(
        &app.db,
        "784",
        chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let stranded = crate::common::insert_user(
        &app.db,
        "stranded",
        entity::enums::Role::Viewer,
        Some(district.id),
    )
    .await;
    use base64::Engine;
    let id =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("User:{}", stranded.id));
    let update = "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { role homeUnit { code } } } }";
    // Promoting him where he stands would hand out power over a whole former district.
    let (_, body) = app
        .gql(
            Some(&admin),
            update,
            json!({"i": {"id": id, "role": "ADMIN"}}),
        )
        .await;
    assert_eq!(code_of(&body), "FORBIDDEN", "{body}");
    // Moving him to a current ward of the admin's scope is what the admin is for.
    let hoc_mon = unit_id(&app, "27559").await;
    let (_, body) = app
        .gql(
            Some(&admin),
            update,
            json!({"i": {"id": id, "homeUnitId": hoc_mon, "role": "REPORTER"}}),
        )
        .await;
    assert_eq!(
        body["data"]["updateUser"]["user"]["homeUnit"]["code"], "27559",
        "{body}"
    );
    assert_eq!(body["data"]["updateUser"]["user"]["role"], "REPORTER");
}

/// The audit events of the CLI's operator, as (action, entity type), oldest first.
async fn cli_events(app: &TestApp) -> Vec<(String, String)> {
    entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Actor.eq("cli"))
        .order_by_asc(entity::audit_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.entity_type))
        .collect()
}

#[tokio::test]
async fn cli_writes_leave_the_audit_events_of_their_api_twins() {
    use std::io::Write;
    let url = fresh_database().await;
    let app = demo_app_on(&url).await;
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = platform(&url)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        &[
            "user",
            "create",
            "--username",
            "cli.viewer",
            "--role",
            "viewer",
            "--unit",
            "27559",
        ],
        Some("a-cli-password-1\n"),
    );
    run(
        &[
            "service-account",
            "create",
            "--name",
            "cli-sync",
            "--scopes",
            "values:read",
        ],
        None,
    );
    run(&["service-account", "revoke", "--name", "cli-sync"], None);
    // A plan file that differs from the stored one by a comment: re-imported, audited.
    let dir = std::env::temp_dir().join(format!("cli-audit-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tan-phu.toml");
    let (_, text) = api::seed::DEMO_PLANS[0];
    std::fs::write(&file, format!("{text}\n# re-read by the operator\n")).unwrap();
    run(&["import", "plan", file.to_str().unwrap()], None);
    // An unchanged file writes nothing, not even an event.
    run(&["import", "plan", file.to_str().unwrap()], None);
    let csv = dir.join("users.csv");
    std::fs::write(
        &csv,
        "username,display_name,role,unit,agency\ncli.imported,,viewer,27559,\n",
    )
    .unwrap();
    run(&["user", "import", csv.to_str().unwrap()], None);
    // A user left at Thị trấn Hóc Môn (closed on 30 June 2025), moved to Xã Hóc Môn.
    let old = api::services::units::by_code(
        &app.db,
        "27559",
        chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
        None,
    )
    .await
    .unwrap()
    .unwrap();
    crate::common::insert_user(
        &app.db,
        "left.behind",
        entity::enums::Role::Viewer,
        Some(old.id),
    )
    .await;
    run(&["user", "move", "--from", "27559", "--to", "27559"], None);
    assert_eq!(
        cli_events(&app).await,
        [
            ("user.create".to_string(), "user".to_string()),
            ("service_account.create".into(), "service_account".into()),
            ("service_account.revoke".into(), "service_account".into()),
            ("plan.import.update".into(), "plan".into()),
            ("user.import".into(), "user".into()),
            ("user.move".into(), "user".into()),
        ]
    );
    // The API's own twin of the first write records the same action on the same kind.
    let admin = token(&app, "admin", api::seed::DEMO_PASSWORD).await;
    let (_, body) = app
        .gql(
            Some(&admin),
            "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }",
            json!({"i": {"username": "api.viewer", "password": "an-api-password-1", "role": "VIEWER"}}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let api_event = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Actor.ne("cli"))
        .order_by_desc(entity::audit_event::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (api_event.action.as_str(), api_event.entity_type.as_str()),
        ("user.create", "user")
    );

    // Unit lists and mappings too, on an empty database.
    let empty = fresh_database().await;
    let bare = TestApp::spawn_on(&empty, |_| {}).await;
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/admin-units/");
    for args in [
        vec![
            "import".to_string(),
            "admin-units".into(),
            format!("{fixtures}three-level-2024.csv"),
        ],
        vec![
            "import".into(),
            "admin-units".into(),
            format!("{fixtures}two-level-2025.csv"),
            "--valid-from".into(),
            "2025-07-01".into(),
        ],
        vec![
            "import".into(),
            "admin-unit-lineage".into(),
            format!("{fixtures}mapping-2025.csv"),
            "--effective".into(),
            "2025-07-01".into(),
        ],
    ] {
        let out = platform(&empty).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        cli_events(&bare).await,
        [
            ("units.import".to_string(), "unit_list".to_string()),
            ("units.import".into(), "unit_list".into()),
            ("units.lineage".into(), "unit_list".into()),
        ]
    );
}

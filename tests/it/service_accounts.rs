//! Service accounts: a secret shown once, exchanged for a bearer token; scopes; revocation;
//! `lastUsedAt`; and `platform token issue`.

use crate::common::TestApp;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

const SECRET: &str = "a-service-test-secret-long-enough-32b";

async fn gql(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    app.gql(token, query, variables).await
}

const EXCHANGE: &str = "mutation($n: String!, $s: String!) { serviceToken(input: {name: $n, secret: $s}) { accessToken expiresAt } }";
/// Creates an account as the CLI's operator does.
async fn create(
    app: &TestApp,
    name: &str,
    scopes: &[String],
    unit: Option<&str>,
) -> Result<(entity::service_account::Model, String), api::error::AppError> {
    let operator = api::app::Caller::operator(&app.db);
    let home = match unit {
        Some(code) => Some(api::app::lookup::unit_today(&app.db, "unit", code).await?),
        None => None,
    };
    api::app::accounts::create_service_account(
        &app.db,
        &operator,
        api::app::accounts::NewServiceAccount {
            name: name.to_string(),
            scopes: scopes.to_vec(),
            home,
            agency: None,
            expires_at: None,
        },
    )
    .await
}

const ME: &str = "{ me { username kind role scopes homeUnit { code } } }";

#[tokio::test]
async fn an_integration_exchanges_its_secret_for_a_bearer_token() {
    let app = TestApp::spawn_with_demo(|c| c.jwt.secret = Some(SECRET.into())).await;
    let scopes = vec!["values:read".to_string(), "plans:read".to_string()];
    let (account, secret) = create(&app, "dhis2-sync", &scopes, Some("82"))
        .await
        .unwrap();
    assert!(
        secret.starts_with("sa_") && !account.secret_hash.contains(&secret[3..]),
        "stored hashed"
    );
    let (_, body) = gql(
        &app,
        None,
        EXCHANGE,
        json!({"n": "dhis2-sync", "s": secret}),
    )
    .await;
    let token = body["data"]["serviceToken"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, me) = gql(&app, Some(&token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["kind"], "service");
    assert_eq!(me["data"]["me"]["username"], "dhis2-sync");
    assert_eq!(
        me["data"]["me"]["scopes"],
        json!(["values:read", "plans:read"])
    );
    assert_eq!(me["data"]["me"]["homeUnit"]["code"], "82");
    let used = entity::service_account::Entity::find_by_id(account.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(used.last_used_at.is_some(), "lastUsedAt recorded");
    // A wrong secret and an unknown account: the same answer.
    let (_, wrong) = gql(
        &app,
        None,
        EXCHANGE,
        json!({"n": "dhis2-sync", "s": "sa_wrong"}),
    )
    .await;
    let (_, unknown) = gql(&app, None, EXCHANGE, json!({"n": "nobody", "s": secret})).await;
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(wrong["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    // Unknown scopes are refused at creation.
    let err = create(&app, "x", &["everything".to_string()], None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "BAD_USER_INPUT");
    // No scope at all is a mistake, not an account that can do nothing.
    let err = create(&app, "x", &[], None).await.unwrap_err();
    assert!(
        matches!(&err, api::error::AppError::BadUserInput { field, .. } if field == "scopes"),
        "{err:?}"
    );
}

#[tokio::test]
async fn revoked_accounts_and_their_tokens_stop_working() {
    let app = TestApp::spawn_with_demo(|c| c.jwt.secret = Some(SECRET.into())).await;
    let (_, secret) = create(&app, "old-sync", &["values:read".to_string()], None)
        .await
        .unwrap();
    let (_, body) = gql(&app, None, EXCHANGE, json!({"n": "old-sync", "s": secret})).await;
    let token = body["data"]["serviceToken"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let operator = api::app::Caller::operator(&app.db);
    let account = api::app::lookup::service_account_by_name(&app.db, "old-sync")
        .await
        .unwrap();
    api::app::accounts::revoke_service_account(&app.db, &operator, account)
        .await
        .unwrap();
    // Not yet seen by this instance: rejected at once.
    assert_eq!(gql(&app, Some(&token), ME, json!({})).await.0, 401);
    let (_, again) = gql(&app, None, EXCHANGE, json!({"n": "old-sync", "s": secret})).await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_command_line_creates_accounts_and_issues_tokens() {
    let app = TestApp::spawn_with_demo(|c| c.jwt.secret = Some(SECRET.into())).await;
    let url = app.config.database_url.expose().to_string();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_platform"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("JWT_SECRET", SECRET)
            .env("AUTO_MIGRATE", "true")
            .env("LOG_LEVEL", "warn")
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap()
    };
    let out = run(&[
        "service-account",
        "create",
        "--name",
        "cli-sync",
        "--scopes",
        "values:read",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("secret (shown once"), "{stdout}");
    let out = run(&["token", "issue", "--service-account", "cli-sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (_, me) = gql(&app, Some(&token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["username"], "cli-sync");
    // Without a configured key the command refuses rather than print a useless token.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_platform"))
        .args(["token", "issue", "--service-account", "cli-sync"])
        .env("DATABASE_URL", &url)
        .env_remove("JWT_SECRET")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET"));
}

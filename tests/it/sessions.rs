//! Login, refresh rotation, logout, logout everywhere, password change and lockout, over HTTP.

use crate::common::TestApp;
use serde_json::{Value, json};

async fn app() -> TestApp {
    let app = TestApp::spawn_with_demo(|c| {
        c.jwt.secret = Some("a-test-secret-that-is-long-enough-32b".into());
    })
    .await;
    assert_eq!(api::seed::seed_demo_users(&app.db).await.unwrap(), 6);
    app
}

async fn gql(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    app.gql(token, query, variables).await
}

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken refreshToken expiresAt } }";
const REFRESH: &str =
    "mutation($r: String!) { refresh(input: {refreshToken: $r}) { accessToken refreshToken } }";
const ME: &str = "{ me { username role homeUnit { code } agency { key } } }";

async fn login(app: &TestApp, user: &str, password: &str) -> Value {
    gql(app, None, LOGIN, json!({"u": user, "p": password}))
        .await
        .1
}

fn error_of(body: &Value) -> (String, String) {
    let e = &body["errors"][0];
    (
        e["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        e["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn demo_users_log_in_and_see_themselves() {
    let app = app().await;
    let body = login(&app, "hocmon.reporter", "demo-password").await;
    let access = body["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, me) = gql(&app, Some(&access), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["username"], "hocmon.reporter");
    assert_eq!(me["data"]["me"]["role"], "REPORTER");
    assert_eq!(me["data"]["me"]["homeUnit"]["code"], "27559");
    assert_eq!(me["data"]["me"]["agency"]["key"], "27559.ubnd-2025");
    let (_, admin) = gql(
        &app,
        Some(
            login(&app, "admin", "demo-password").await["data"]["login"]["accessToken"]
                .as_str()
                .unwrap(),
        ),
        ME,
        json!({}),
    )
    .await;
    assert!(
        admin["data"]["me"]["homeUnit"].is_null(),
        "the national admin has no home unit"
    );
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_get_the_same_answer() {
    let app = app().await;
    let wrong = error_of(&login(&app, "hcm.manager", "not-the-password").await);
    let unknown = error_of(&login(&app, "nobody.here", "demo-password").await);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.0, "UNAUTHENTICATED");
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_the_address() {
    let app = app().await;
    for _ in 0..5 {
        assert_eq!(
            error_of(&login(&app, "dongthap.manager", "wrong-password").await).0,
            "UNAUTHENTICATED"
        );
    }
    // Locked: even the right password fails, with the same answer.
    let locked = login(&app, "dongthap.manager", "demo-password").await;
    assert_eq!(error_of(&locked).0, "UNAUTHENTICATED");
    assert!(locked["data"].is_null() || locked["data"]["login"].is_null());
    // The address (127.0.0.1) is locked too, for every account.
    assert_eq!(
        error_of(&login(&app, "admin", "demo-password").await).0,
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_family() {
    let app = app().await;
    let first = login(&app, "hcm.manager", "demo-password").await["data"]["login"].clone();
    let r1 = first["refreshToken"].as_str().unwrap();
    let second = gql(&app, None, REFRESH, json!({"r": r1})).await.1["data"]["refresh"].clone();
    let r2 = second["refreshToken"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let (_, me) = gql(&app, second["accessToken"].as_str(), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["username"], "hcm.manager");
    // The spent token again: refused, and the family (r2 included) is over.
    assert_eq!(
        error_of(&gql(&app, None, REFRESH, json!({"r": r1})).await.1).0,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        error_of(&gql(&app, None, REFRESH, json!({"r": r2})).await.1).0,
        "UNAUTHENTICATED"
    );
    // Logout ends a session.
    let third = login(&app, "hcm.manager", "demo-password").await["data"]["login"].clone();
    let r3 = third["refreshToken"].as_str().unwrap();
    let (_, out) = gql(
        &app,
        None,
        "mutation($r: String!) { logout(input: {refreshToken: $r}) { ok } }",
        json!({"r": r3}),
    )
    .await;
    assert_eq!(out["data"]["logout"]["ok"], true);
    assert_eq!(
        error_of(&gql(&app, None, REFRESH, json!({"r": r3})).await.1).0,
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn logout_everywhere_and_password_change_end_sessions() {
    let app = app().await;
    let s = login(&app, "tanphu.viewer", "demo-password").await["data"]["login"].clone();
    let access = s["accessToken"].as_str().unwrap().to_string();
    assert_eq!(gql(&app, Some(&access), ME, json!({})).await.0, 200);
    let (_, out) = gql(
        &app,
        Some(&access),
        "mutation { logoutEverywhere(input: {clientMutationId: \"x\"}) { ok clientMutationId } }",
        json!({}),
    )
    .await;
    assert_eq!(out["data"]["logoutEverywhere"]["clientMutationId"], "x");
    assert_eq!(
        gql(&app, Some(&access), ME, json!({})).await.0,
        401,
        "the old access token is dead here at once"
    );
    assert_eq!(
        error_of(
            &gql(&app, None, REFRESH, json!({"r": s["refreshToken"]}))
                .await
                .1
        )
        .0,
        "UNAUTHENTICATED"
    );

    let s = login(&app, "tanphu.viewer", "demo-password").await["data"]["login"].clone();
    let access = s["accessToken"].as_str().unwrap().to_string();
    const CHANGE: &str = "mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) { accessToken } }";
    let (_, bad) = gql(
        &app,
        Some(&access),
        CHANGE,
        json!({"c": "wrong-password", "n": "a-new-password-1"}),
    )
    .await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "currentPassword");
    let (_, short) = gql(
        &app,
        Some(&access),
        CHANGE,
        json!({"c": "demo-password", "n": "short"}),
    )
    .await;
    assert_eq!(short["errors"][0]["extensions"]["field"], "newPassword");
    let (_, ok) = gql(
        &app,
        Some(&access),
        CHANGE,
        json!({"c": "demo-password", "n": "a-new-password-1"}),
    )
    .await;
    let fresh = ok["data"]["changePassword"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        gql(&app, Some(&access), ME, json!({})).await.0,
        401,
        "other sessions end"
    );
    assert_eq!(gql(&app, Some(&fresh), ME, json!({})).await.0, 200);
    assert_eq!(
        error_of(&login(&app, "tanphu.viewer", "demo-password").await).0,
        "UNAUTHENTICATED"
    );
    assert!(
        login(&app, "tanphu.viewer", "a-new-password-1").await["data"]["login"]["accessToken"]
            .is_string()
    );
    // Signing out requires signing in.
    let (_, anon) = gql(
        &app,
        None,
        "mutation { logoutEverywhere(input: {}) { ok } }",
        json!({}),
    )
    .await;
    assert_eq!(error_of(&anon).0, "UNAUTHENTICATED");
}

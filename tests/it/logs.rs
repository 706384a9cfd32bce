//! The real binary's logs, captured: no password, secret or token ever appears in them.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let dir = std::env::temp_dir().join(format!("logs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = "log-test-secret-9f2b7c41d0e8a6b3c5d7e9f1";
    let db_password = "db-pass-7731";
    // The default embedded database (so the demo users exist), debug logs, JSON lines.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_platform"))
        .env_remove("DATABASE_URL")
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("LOG_LEVEL", "debug")
        .env("LOG_FORMAT", "json")
        .env("JWT_SECRET", secret)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server started");
    let post = |token: Option<String>, body: Value| {
        let mut req = http
            .post(format!("{base}/graphql"))
            .header(CONTENT_TYPE, "application/json")
            .json(&body);
        if let Some(t) = token {
            req = req.header(AUTHORIZATION, format!("Bearer {t}"));
        }
        req.send()
    };
    let login = json!({"query": "mutation($p: String!) { login(input: {username: \"hcm.manager\", password: $p}) { accessToken refreshToken } }", "variables": {"p": "demo-password"}});
    let session: Value = post(None, login).await.unwrap().json().await.unwrap();
    let access = session["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let refresh = session["data"]["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    post(
        Some(access.clone()),
        json!({"query": "{ me { username } }"}),
    )
    .await
    .unwrap();
    post(None, json!({"query": "mutation($r: String!) { refresh(input: {refreshToken: $r}) { accessToken } }", "variables": {"r": refresh}})).await.unwrap();
    // Reusing the spent refresh token logs a warning: still without the token.
    post(None, json!({"query": "mutation($r: String!) { refresh(input: {refreshToken: $r}) { accessToken } }", "variables": {"r": refresh}})).await.unwrap();
    post(None, json!({"query": "mutation { login(input: {username: \"hcm.manager\", password: \"wrong-password-x\"}) { accessToken } }"})).await.unwrap();
    post(
        Some(format!("{access}tampered")),
        json!({"query": "{ me { username } }"}),
    )
    .await
    .unwrap();
    // An admin creates a user (with an initial password) and a service account (whose secret
    // comes back once): neither reaches the logs.
    let admin_login = json!({"query": "mutation { login(input: {username: \"admin\", password: \"demo-password\"}) { accessToken } }"});
    let admin: Value = post(None, admin_login).await.unwrap().json().await.unwrap();
    let admin = admin["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let created: Value = post(
        Some(admin.clone()),
        json!({"query": "mutation($p: String!) { createUser(input: {username: \"log.user\", password: $p, role: VIEWER}) { user { id } } }", "variables": {"p": "initial-pass-5521"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(
        created["data"]["createUser"]["user"]["id"].is_string(),
        "{created}"
    );
    let account: Value = post(
        Some(admin.clone()),
        json!({"query": "mutation { createServiceAccount(input: {name: \"log-sync\", scopes: [\"values:read\"]}) { secret } }"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let service_secret = account["data"]["createServiceAccount"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    // A bad database password on another command is not echoed either.
    let other = Command::new(env!("CARGO_BIN_EXE_platform"))
        .args(["migrate", "status"])
        .env(
            "DATABASE_URL",
            format!("postgres://app:{db_password}@127.0.0.1:1/nowhere"),
        )
        .env("LOG_LEVEL", "debug")
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    logs.push_str(&String::from_utf8_lossy(&other.stderr));
    logs.push_str(&String::from_utf8_lossy(&other.stdout));
    assert!(logs.contains("served"), "the logs were captured: {logs}");
    // The first start says what it loaded: the demo units and the planning documents.
    assert!(
        logs.contains("loaded the demo area's units")
            && logs.contains("loaded the demo planning documents"),
        "the first start says what it loaded: {logs}"
    );
    for (what, needle) in [
        ("the signing secret", secret),
        ("the demo password", "demo-password"),
        ("a wrong password", "wrong-password-x"),
        ("the access token", access.as_str()),
        ("the refresh token", refresh.as_str()),
        ("the database password", db_password),
        ("a new user's initial password", "initial-pass-5521"),
        ("a service account's secret", service_secret.as_str()),
        ("an admin's access token", admin.as_str()),
    ] {
        assert!(!logs.contains(needle), "{what} appears in the logs");
    }
    std::fs::remove_dir_all(&dir).ok();
}

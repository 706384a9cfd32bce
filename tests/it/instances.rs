//! Two instances behind one database, as replicas behind a load balancer: nothing that
//! matters lives in one process's memory.

use crate::common::{TestApp, fresh_database};
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "a-shared-secret-of-two-instances-32b";
const LOGIN: &str = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken refreshToken } }";
const REFRESH: &str =
    "mutation($r: String!) { refresh(input: {refreshToken: $r}) { accessToken refreshToken } }";
const ME: &str = "{ me { username } }";

async fn instance(url: &str) -> TestApp {
    TestApp::spawn_on(url, |c| {
        c.jwt.secret = Some(SECRET.into());
        c.revocation_staleness_seconds = 1;
    })
    .await
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn two_instances_share_tokens_sessions_lockouts_and_deactivations() {
    let url = fresh_database().await;
    let a = instance(&url).await;
    api::seed::seed_demo(&a.db).await.unwrap();
    api::seed::seed_demo_users(&a.db).await.unwrap();
    let b = instance(&url).await;

    // A token from one works on the other.
    let (_, s) = a
        .gql(
            None,
            LOGIN,
            json!({"u": "hcm.manager", "p": "demo-password"}),
        )
        .await;
    let access = s["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let refresh = s["data"]["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, me) = b.gql(Some(&access), ME, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(me["data"]["me"]["username"], "hcm.manager", "{me}");

    // A refresh token used on one is refused when replayed on the other.
    let (_, first) = a.gql(None, REFRESH, json!({"r": refresh})).await;
    assert!(
        first["data"]["refresh"]["accessToken"].is_string(),
        "{first}"
    );
    let (_, replay) = b.gql(None, REFRESH, json!({"r": refresh})).await;
    assert_eq!(code(&replay), "UNAUTHENTICATED", "{replay}");

    // A deactivation on one takes effect on the other within the staleness (1 s here).
    let (_, s) = a
        .gql(
            None,
            LOGIN,
            json!({"u": "tanphu.viewer", "p": "demo-password"}),
        )
        .await;
    let viewer = s["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(b.gql(Some(&viewer), ME, json!({})).await.0, 200);
    let (_, s) = a
        .gql(None, LOGIN, json!({"u": "admin", "p": "demo-password"}))
        .await;
    let admin = s["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, users) = a
        .gql(
            Some(&admin),
            r#"{ users(first: 50) { edges { node { id username } } } }"#,
            json!({}),
        )
        .await;
    let id = users["data"]["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["username"] == "tanphu.viewer")
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .unwrap();
    let (_, done) = a
        .gql(
            Some(&admin),
            "mutation($i: DeactivateUserInput!) { deactivateUser(input: $i) { user { active } } }",
            json!({"i": {"id": id}}),
        )
        .await;
    assert_eq!(
        done["data"]["deactivateUser"]["user"]["active"], false,
        "{done}"
    );
    // At once on the instance that made the change.
    assert_eq!(a.gql(Some(&viewer), ME, json!({})).await.0, 401);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(b.gql(Some(&viewer), ME, json!({})).await.0, 401);

    // Failed logins count across both (last: they lock the address too): five wrong
    // passwords, alternating, lock the account.
    for i in 0..5 {
        let app = if i % 2 == 0 { &a } else { &b };
        let (_, body) = app
            .gql(
                None,
                LOGIN,
                json!({"u": "dongthap.manager", "p": "wrong-password"}),
            )
            .await;
        assert_eq!(code(&body), "UNAUTHENTICATED");
    }
    let (_, locked) = b
        .gql(
            None,
            LOGIN,
            json!({"u": "dongthap.manager", "p": "demo-password"}),
        )
        .await;
    assert!(
        locked["data"].is_null() || locked["data"]["login"].is_null(),
        "{locked}"
    );
}

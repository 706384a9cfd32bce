//! Requests an attacker would send: each defect found by the hardening review, over HTTP,
//! and the limits that answer them. After every hostile request the same server still
//! answers `/healthz`.

use crate::common::TestApp;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

const GQL: &str = "application/graphql-response+json";

async fn post(app: &TestApp, query: &str, variables: Value) -> (StatusCode, Value) {
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, GQL)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

async fn assert_alive(app: &TestApp) {
    let res = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

fn first_error(body: &Value) -> (&str, &str) {
    let e = &body["errors"][0];
    (
        e["extensions"]["code"].as_str().unwrap_or_default(),
        e["extensions"]["field"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn huge_searches_are_refused_not_crashed_on() {
    let app = TestApp::spawn().await;
    let words = vec!["ke"; 16_000].join(" ");
    for (query, field) in [
        (
            "query($s: String) { plans(filter: {search: $s}) { totalCount } }",
            "filter.search",
        ),
        (
            "query($s: String) { agencies(search: $s) { totalCount } }",
            "search",
        ),
        (
            "query($s: String) { indicators(filter: {search: $s}) { totalCount } }",
            "filter.search",
        ),
    ] {
        for input in [words.clone(), ["a"; 13].join(" "), "x".repeat(201)] {
            let (status, body) = post(&app, query, json!({"s": input})).await;
            assert_eq!(status, 200);
            assert_eq!(
                first_error(&body),
                ("BAD_USER_INPUT", field),
                "{query}: {body}"
            );
        }
        // Twelve words are still a search.
        let (_, body) = post(&app, query, json!({"s": (["a"; 12].join(" "))})).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let (_, body) = post(
        &app,
        "query($s: String!) { searchAdminUnits(query: $s) { totalCount } }",
        json!({"s": words}),
    )
    .await;
    assert_eq!(first_error(&body), ("BAD_USER_INPUT", "query"), "{body}");
    // A real search still finds what it found before.
    let (_, body) = post(
        &app,
        r#"{ plans(filter: {search: "ke hoach"}) { totalCount } }"#,
        json!({}),
    )
    .await;
    assert!(
        body["data"]["plans"]["totalCount"].as_i64().unwrap() >= 1,
        "{body}"
    );
    assert_alive(&app).await;
}

/// `query { ...F0 } fragment F0 on Query { ...F1 ...F1 } …`: `levels` levels doubling each.
fn doubling_fragments(levels: usize, leaf: &str) -> String {
    let mut q = String::from("query { ...F0 }\n");
    for i in 0..levels {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    q.push_str(&format!("fragment F{levels} on Query {{ {leaf} }}\n"));
    q
}

#[tokio::test]
async fn fragments_that_fan_out_are_refused_before_validation() {
    let app = TestApp::spawn().await;
    for (levels, leaf) in [
        (22, "__typename"),
        (30, "__typename"),
        (28, "plans { totalCount }"),
        (60, "plans(first: 500) { totalCount }"),
    ] {
        let (status, body) = post(&app, &doubling_fragments(levels, leaf), json!({})).await;
        assert_eq!(status, 400, "{levels} levels: {body}");
        assert!(body.get("data").is_none());
        let e = &body["errors"][0]["extensions"];
        assert_eq!(e["code"], "GRAPHQL_VALIDATION_FAILED", "{body}");
        assert_eq!(e["limit"], "MAX_SELECTIONS", "{body}");
        assert_alive(&app).await;
    }
    // A few levels stay a valid document.
    let (status, body) = post(&app, &doubling_fragments(4, "__typename"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    // A long chain of fragments is refused for its depth, before the validator recurses.
    let mut chain = String::from("query { ...F0 }\n");
    for i in 0..5_000 {
        chain.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
    }
    chain.push_str("fragment F5000 on Query { __typename }\n");
    let (status, body) = post(&app, &chain, json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["limit"], "MAX_DEPTH");
    assert_alive(&app).await;
}

#[tokio::test]
async fn aliases_and_depth_are_bounded() {
    let app = TestApp::spawn().await;
    let aliases = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: __typename")).collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let (status, _) = post(&app, &aliases(30), json!({})).await;
    assert_eq!(status, 200);
    let (status, body) = post(&app, &aliases(31), json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["extensions"]["limit"], "MAX_ALIASES",
        "{body}"
    );
    // Sixteen levels of selection: over the depth limit of 15.
    let mut deep = String::from("__typename");
    for _ in 0..8 {
        deep = format!("successors {{ unit {{ {deep} }} }}");
    }
    let (status, body) = post(
        &app,
        &format!(r#"{{ commune(code: "27559", asOf: "2024-06-01") {{ {deep} }} }}"#),
        json!({}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    // A province with all its districts and communes passes the complexity limit.
    let (status, body) = post(
        &app,
        r#"{ province(code: "79", asOf: "2024-06-01") { code name districts { code name communes { code name } } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn mutations_are_never_run_over_get() {
    let app = TestApp::spawn().await;
    for q in [
        r#"mutation m { login(input: {username: "admin", password: "x"}) { accessToken } }"#,
        "mutation { __typename }",
        "query q { __typename } mutation m { __typename }",
    ] {
        let res = app
            .http
            .get(format!("{}/graphql", app.base))
            .query(&[("query", q)])
            .header(ACCEPT, GQL)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{q}");
    }
    // Nothing was attempted: no failed login was counted.
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::login_throttle::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn out_of_range_integers_name_their_argument() {
    let app = TestApp::spawn().await;
    let (status, body) = post(
        &app,
        "{ plans(first: 2147483648) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(first_error(&body), ("BAD_USER_INPUT", "first"), "{body}");
    let (_, body) = post(
        &app,
        "query($n: Int) { plans(first: $n) { totalCount } }",
        json!({"n": 10_000_000_000i64}),
    )
    .await;
    assert_eq!(first_error(&body), ("BAD_USER_INPUT", "first"), "{body}");
    let (status, body) = post(
        &app,
        "query($n: Int) { plans(first: $n) { totalCount } }",
        json!({"n": 1e10}),
    )
    .await;
    // A float is refused by validation (400 without data) or as bad input; never internal.
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default();
    assert!(
        code == "BAD_USER_INPUT" || (status == 400 && code == "GRAPHQL_VALIDATION_FAILED"),
        "{status} {body}"
    );
    assert_alive(&app).await;
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let app = TestApp::spawn().await;
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header(CONTENT_TYPE, "application/json")
        .header(AUTHORIZATION, "Bearer a")
        .header(AUTHORIZATION, "Bearer b")
        .body(json!({"query": "{ __typename }"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

const INTROSPECT: &str = "{ __schema { types { name } } }";

#[tokio::test]
async fn introspection_is_off_in_prod_unless_enabled() {
    let dev = TestApp::spawn_empty().await;
    let (_, body) = post(&dev, INTROSPECT, json!({})).await;
    assert!(body["data"]["__schema"]["types"].is_array(), "{body}");

    let prod = TestApp::spawn_with(|c| {
        c.profile = api::Profile::Prod;
        c.limits.introspection = false;
        c.jwt.secret = Some("a-prod-test-secret-of-at-least-32-bytes".into());
    })
    .await;
    let (status, body) = post(&prod, INTROSPECT, json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["limit"], "INTROSPECTION",
        "{body}"
    );
    // `__typename` is not introspection.
    let (status, _) = post(&prod, "{ __typename }", json!({})).await;
    assert_eq!(status, 200);
    // No field suggestions either ("Did you mean …" reveals the schema).
    let (_, body) = post(&prod, "{ provinc { code } }", json!({})).await;
    assert!(!body.to_string().contains("Did you mean"), "{body}");
    assert_alive(&prod).await;
}

#[tokio::test]
async fn usernames_are_one_case_and_visible_characters_only() {
    let app = TestApp::spawn_with_demo(|c| {
        c.jwt.secret = Some("a-test-secret-that-is-long-enough-32b".into());
    })
    .await;
    api::seed::seed_demo_users(&app.db).await.unwrap();
    let login = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken } }";
    let (_, body) = app
        .gql(None, login, json!({"u": "admin", "p": "demo-password"}))
        .await;
    let admin = body["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    // The same name in another case logs in as the same user.
    let (_, body) = app
        .gql(None, login, json!({"u": "ADMIN", "p": "demo-password"}))
        .await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");

    let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { username } } }";
    let user = |name: &str| json!({"i": {"username": name, "password": "a-long-password-1", "role": "VIEWER"}});
    let (_, body) = app.gql(Some(&admin), create, user("ADMIN")).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "CONFLICT",
        "{body}"
    );
    for bad in [
        "ad\u{0}min",
        "ad\u{202e}min",
        "ad\u{200b}min",
        "аdmin", // Cyrillic а
        "two words",
        ".dot",
        "",
    ] {
        let (_, body) = app.gql(Some(&admin), create, user(bad)).await;
        assert_eq!(
            first_error(&body),
            ("BAD_USER_INPUT", "username"),
            "{bad:?}: {body}"
        );
    }
    let (_, body) = app.gql(Some(&admin), create, user("New.Officer")).await;
    assert_eq!(
        body["data"]["createUser"]["user"]["username"], "new.officer",
        "{body}"
    );
}

#[tokio::test]
async fn readiness_and_security_headers() {
    let app = TestApp::spawn().await;
    let res = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "ready");
    // Every API response: no sniffing, no framing, no referrer, a policy that loads nothing.
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header(CONTENT_TYPE, "application/json")
        .body(json!({"query": "{ __typename }"}).to_string())
        .send()
        .await
        .unwrap();
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(
        h["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    // The GraphiQL page keeps its own policy, which lets it load its own scripts.
    let res = app
        .http
        .get(format!("{}/graphql", app.base))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
}

/// A CORS preflight from `origin`; the allowed origin answered, if any.
async fn preflight(app: &TestApp, origin: &str) -> Option<String> {
    let res = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    res.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn cors_follows_the_allow_list() {
    let dev = TestApp::spawn_empty().await;
    assert_eq!(
        preflight(&dev, "http://localhost:5173").await.as_deref(),
        Some("*")
    );
    let prod = TestApp::spawn_with(|c| {
        c.profile = api::Profile::Prod;
        c.cors_origins = api::config::CorsOrigins::List(Vec::new());
        c.jwt.secret = Some("a-prod-test-secret-of-at-least-32-bytes".into());
    })
    .await;
    assert_eq!(preflight(&prod, "https://evil.example").await, None);
    let listed = TestApp::spawn_with(|c| {
        c.cors_origins =
            api::config::CorsOrigins::List(vec!["https://portal.example.gov.vn".into()]);
    })
    .await;
    assert_eq!(
        preflight(&listed, "https://portal.example.gov.vn")
            .await
            .as_deref(),
        Some("https://portal.example.gov.vn")
    );
    assert_eq!(preflight(&listed, "https://evil.example").await, None);
}

#[tokio::test]
async fn metrics_count_requests_operations_and_refusals() {
    let app = TestApp::spawn().await;
    let (status, _) = post(
        &app,
        r#"{ province(code: "79", asOf: "2024-06-01") { code } }"#,
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let aliases: Vec<String> = (0..31).map(|i| format!("a{i}: __typename")).collect();
    let (status, _) = post(&app, &format!("{{ {} }}", aliases.join(" ")), json!({})).await;
    assert_eq!(status, 400);
    // An operation whose root field the schema lacks is counted without its made-up name.
    post(&app, "{ noSuchFieldAnywhere }", json!({})).await;
    let res = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    for needle in [
        r#"http_requests_total{route="/graphql",status="2xx"}"#,
        "http_request_duration_seconds_bucket",
        r#"graphql_operations_total{type="query",field="province",outcome="ok"}"#,
        r#"graphql_refusals_total{limit="MAX_ALIASES"}"#,
        r#"db_pool_connections{state="open"}"#,
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    assert!(!text.contains("noSuchFieldAnywhere"), "{text}");
}

#[tokio::test]
async fn credential_checks_are_rate_limited_per_address() {
    let app = TestApp::spawn_with_demo(|c| {
        c.jwt.secret = Some("a-test-secret-that-is-long-enough-32b".into());
        c.limits.login_rate_per_minute = 3;
    })
    .await;
    api::seed::seed_demo_users(&app.db).await.unwrap();
    let login = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken } }";
    for _ in 0..3 {
        let (status, body) = app
            .gql(
                None,
                login,
                json!({"u": "hcm.manager", "p": "demo-password"}),
            )
            .await;
        assert_eq!(status, 200);
        assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
    }
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header(CONTENT_TYPE, "application/json")
        .json(&json!({"query": login, "variables": {"u": "hcm.manager", "p": "demo-password"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{body}"
    );
    // Reads are not limited by it.
    let (status, _) = post(&app, "{ __typename }", json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    let query = r#"{ province(code: "79", asOf: "2024-06-01") { districts { code name communes { code name } } } }"#;
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header(CONTENT_TYPE, "application/json")
        .header("accept-encoding", "gzip")
        .json(&json!({"query": query}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let zipped = res.bytes().await.unwrap().len();
    let plain = app
        .http
        .post(format!("{}/graphql", app.base))
        .header(CONTENT_TYPE, "application/json")
        .json(&json!({"query": query}))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap().len();
    assert!(zipped * 2 < plain, "{zipped} bytes gzipped of {plain}");
}

/// A login as `who` from the client that `forwarded_for` names; its status.
async fn login_from(app: &TestApp, forwarded_for: &str) -> StatusCode {
    let login = "mutation { login(input: {username: \"hcm.manager\", password: \"demo-password\"}) { accessToken } }";
    app.http
        .post(format!("{}/graphql", app.base))
        .header(CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"query": login}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let secret = "a-test-secret-that-is-long-enough-32b";
    let behind = TestApp::spawn_with_demo(|c| {
        c.jwt.secret = Some(secret.into());
        c.limits.login_rate_per_minute = 1;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    api::seed::seed_demo_users(&behind.db).await.unwrap();
    assert_eq!(login_from(&behind, "203.0.113.7").await, StatusCode::OK);
    assert_eq!(
        login_from(&behind, "203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy has its own budget; a spoofed left-most entry
    // does not help the first one.
    assert_eq!(login_from(&behind, "198.51.100.9").await, StatusCode::OK);
    assert_eq!(
        login_from(&behind, "192.0.2.1, 203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Without trusted proxies the header is ignored: one address, one budget.
    let direct = TestApp::spawn_with_demo(|c| {
        c.jwt.secret = Some(secret.into());
        c.limits.login_rate_per_minute = 1;
    })
    .await;
    api::seed::seed_demo_users(&direct.db).await.unwrap();
    assert_eq!(login_from(&direct, "203.0.113.7").await, StatusCode::OK);
    assert_eq!(
        login_from(&direct, "198.51.100.9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

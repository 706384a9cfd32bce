//! GraphQL over HTTP: status codes and media types of the specification.

use crate::common::TestApp;
use reqwest::header::{ACCEPT, ALLOW, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const GQL: &str = "application/graphql-response+json";
const JSON: &str = "application/json";
const Q: &str = r#"{ province(code: "79", asOf: "2024-06-01") { code } }"#;

async fn post(
    app: &TestApp,
    accept: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut req = app
        .http
        .post(format!("{}/graphql", app.base))
        .body(body.to_string());
    if let Some(a) = accept {
        req = req.header(ACCEPT, a);
    }
    if let Some(c) = content_type {
        req = req.header(CONTENT_TYPE, c);
    }
    req.send().await.unwrap()
}

fn media(res: &reqwest::Response) -> String {
    res.headers()[CONTENT_TYPE].to_str().unwrap().to_string()
}

fn body(q: &str) -> String {
    json!({ "query": q }).to_string()
}

#[tokio::test]
async fn negotiates_the_response_media_type() {
    let app = TestApp::spawn().await;
    let res = post(&app, Some(GQL), Some(JSON), &body(Q)).await;
    assert_eq!(res.status(), 200);
    assert!(media(&res).starts_with(GQL));
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["data"]["province"]["code"], "79");

    let res = post(&app, Some(JSON), Some(JSON), &body(Q)).await;
    assert_eq!(res.status(), 200);
    assert!(media(&res).starts_with(JSON), "{}", media(&res));

    // No Accept: the specification's current default.
    let res = post(&app, None, Some(JSON), &body(Q)).await;
    assert!(media(&res).starts_with(GQL));
    let res = post(
        &app,
        Some("*/*"),
        Some("application/json; charset=utf-8"),
        &body(Q),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(media(&res).starts_with(GQL));
    let res = post(
        &app,
        Some("application/graphql-response+json;q=0.2, application/json"),
        Some(JSON),
        &body(Q),
    )
    .await;
    assert!(media(&res).starts_with(JSON));

    let res = post(&app, Some("text/csv"), Some(JSON), &body(Q)).await;
    assert_eq!(res.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn malformed_requests_are_400_under_both_media_types() {
    let app = TestApp::spawn().await;
    for accept in [GQL, JSON] {
        for bad in [
            "{not json",
            "[1,2]",
            r#"{"variables":{}}"#,
            r#"{"query":5}"#,
            r#"{"query":"{ __typename }","variables":[1]}"#,
        ] {
            let res = post(&app, Some(accept), Some(JSON), bad).await;
            assert_eq!(res.status(), 400, "{accept} {bad}");
            let v: Value = res.json().await.unwrap();
            assert!(v.get("data").is_none());
            assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_REQUEST");
        }
    }
}

#[tokio::test]
async fn content_type_must_be_json() {
    let app = TestApp::spawn().await;
    let res = post(&app, Some(GQL), None, &body(Q)).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = post(&app, Some(GQL), Some("text/plain"), &body(Q)).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = post(
        &app,
        Some(GQL),
        Some("application/x-www-form-urlencoded"),
        "query=x",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn parse_and_validation_failures_follow_the_media_type() {
    let app = TestApp::spawn().await;
    let cases = [
        ("{ province(code: ", "GRAPHQL_PARSE_FAILED", None),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED", None),
        (
            r#"{ province(code: "79", asOf: "2024-13-45") { code } }"#,
            "GRAPHQL_VALIDATION_FAILED",
            None,
        ),
        (
            r#"query($c: String!) { province(code: $c) { code } }"#,
            "GRAPHQL_VALIDATION_FAILED",
            Some(json!({"c": 79})),
        ),
        (
            r#"query($d: Date) { province(code: "79", asOf: $d) { code } }"#,
            "GRAPHQL_VALIDATION_FAILED",
            Some(json!({"d": "yesterday"})),
        ),
        (
            "query A { __typename } query B { __typename }",
            "GRAPHQL_VALIDATION_FAILED",
            None,
        ),
    ];
    for (query, code, variables) in cases {
        let mut request = json!({ "query": query });
        if let Some(v) = variables {
            request["variables"] = v;
        }
        let res = post(&app, Some(GQL), Some(JSON), &request.to_string()).await;
        assert_eq!(res.status(), 400, "{query}");
        assert!(media(&res).starts_with(GQL));
        let v: Value = res.json().await.unwrap();
        assert!(v.get("data").is_none(), "{query}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["code"], code, "{query}: {v}");

        let res = post(&app, Some(JSON), Some(JSON), &request.to_string()).await;
        assert_eq!(res.status(), 200, "{query}");
        let v: Value = res.json().await.unwrap();
        assert!(v.get("data").is_none(), "{query}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["code"], code);
    }
}

#[tokio::test]
async fn execution_errors_are_200_with_data_and_codes() {
    let app = TestApp::spawn().await;
    let q = r#"{ province(code: "79") { code communes(first: 100000) { totalCount } } }"#;
    let res = post(&app, Some(GQL), Some(JSON), &body(q)).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert!(v.get("data").is_some());
    let e = &v["errors"][0];
    assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(e["extensions"]["field"], "first");
    assert_eq!(e["path"], json!(["province", "communes"]));
    let res = post(
        &app,
        Some(GQL),
        Some(JSON),
        &body(r#"{ province(code: "7x9") { code } }"#),
    )
    .await;
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["field"], "code");
}

#[tokio::test]
async fn get_runs_queries_and_refuses_mutations() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql", app.base);
    let res = app
        .http
        .get(&url)
        .query(&[("query", Q)])
        .header(ACCEPT, GQL)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["data"]["province"]["code"], "79");

    let vars = json!({"c": "87", "d": "2024-06-01"}).to_string();
    let res = app
        .http
        .get(&url)
        .query(&[
            (
                "query",
                "query($c: String!, $d: Date) { province(code: $c, asOf: $d) { name } }",
            ),
            ("variables", vars.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["data"]["province"]["name"], "Tỉnh Đồng Tháp");

    for q in [
        "mutation { __typename }",
        "query A { __typename } mutation B { __typename }",
    ] {
        let mut params = vec![("query", q)];
        if q.contains("mutation B") {
            params.push(("operationName", "B"));
        }
        let res = app
            .http
            .get(&url)
            .query(&params)
            .header(ACCEPT, GQL)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{q}");
        assert_eq!(res.headers()[ALLOW], "POST");
    }

    let res = app.http.get(&url).header(ACCEPT, GQL).send().await.unwrap();
    assert_eq!(res.status(), 400, "GET without a query");

    let res = app
        .http
        .request(Method::PUT, &url)
        .body(body(Q))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(res.headers()[ALLOW].to_str().unwrap().contains("POST"));
}

#[tokio::test]
async fn request_ids_are_accepted_generated_and_reported() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql", app.base);
    let res = app
        .http
        .post(&url)
        .header(CONTENT_TYPE, JSON)
        .header("x-request-id", "client-42")
        .body(body("{ nope }"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "client-42");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["requestId"], "client-42");

    // Execution errors carry it too.
    let res = app
        .http
        .post(&url)
        .header(CONTENT_TYPE, JSON)
        .header("x-request-id", "client-43")
        .body(body(
            r#"{ province(code: "79") { communes(first: -1) { totalCount } } }"#,
        ))
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["requestId"], "client-43");

    // Generated when absent or unusable, and the same id in the header and the body.
    for header in [None, Some("bad id with spaces")] {
        let mut req = app
            .http
            .post(&url)
            .header(CONTENT_TYPE, "text/plain")
            .body("x");
        if let Some(h) = header {
            req = req.header("x-request-id", h);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 415);
        let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(id.len(), 36, "a UUID: {id}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["errors"][0]["extensions"]["requestId"], id.as_str());
    }
}

#[tokio::test]
async fn graphiql_and_health() {
    let app = TestApp::spawn().await;
    let res = app
        .http
        .get(format!("{}/graphql", app.base))
        .header(ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(media(&res).starts_with("text/html"));
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let page = res.text().await.unwrap();
    assert!(page.to_lowercase().contains("graphiql"));
    // Everything the page loads comes from this server: no other host is named, and every
    // script and style sheet it references is served here with its media type.
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    let referenced: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/graphiql/"))
        .collect();
    assert_eq!(referenced.len(), 5, "{referenced:?}");
    for path in referenced {
        let res = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let expected = if path.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(media(&res).starts_with(expected), "{path}: {}", media(&res));
        assert!(res.bytes().await.unwrap().len() > 100, "{path}");
    }
    let res = app
        .http
        .get(format!("{}/graphiql/LICENSE-graphiql", app.base))
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("MIT"));
    let res = app
        .http
        .get(format!("{}/graphiql/../Cargo.toml", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "ok");
}

#[tokio::test]
async fn no_graphiql_in_prod() {
    let app = TestApp::spawn_with(|c| {
        c.profile = api::Profile::Prod;
        c.jwt.secret = Some("a-prod-test-secret-of-at-least-32-bytes".into());
    })
    .await;
    let res = app
        .http
        .get(format!("{}/graphql", app.base))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 200);
    assert!(!media(&res).starts_with("text/html"));
    let res = app
        .http
        .get(format!("{}/graphiql/graphiql.min.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn internal_errors_show_a_generic_message_and_the_request_id() {
    let app = TestApp::spawn().await;
    // Break the database under the running server.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("DROP TABLE plan_addressee")
        .await
        .unwrap();
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header(CONTENT_TYPE, JSON)
        .header("x-request-id", "broken-1")
        .body(body(
            r#"{ planByNumber(number: "230/KH-UBND", unitCode: "872") { number addressees { name } } }"#,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let e = &v["errors"][0];
    assert_eq!(e["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    assert_eq!(e["extensions"]["requestId"], "broken-1");
    assert_eq!(e["message"], "internal server error");
    assert!(!text.contains("plan_addressee"), "the cause leaked: {text}");
    assert_eq!(e["path"], json!(["planByNumber", "addressees"]));
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_an_error_body() {
    let app = TestApp::spawn_empty().await;
    let huge = format!(
        r#"{{"query":"{{ __typename }}","extensions":{{"pad":"{}"}}}}"#,
        "x".repeat(9 * 1024 * 1024)
    );
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header(CONTENT_TYPE, JSON)
        .header("x-request-id", "big-1")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(v["errors"][0]["extensions"]["requestId"], "big-1");
}

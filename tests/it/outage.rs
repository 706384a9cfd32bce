//! A database outage, through a TCP proxy the test controls between the server and
//! PostgreSQL: during the cut the server answers SERVICE_UNAVAILABLE promptly (no hang, no
//! panic) and `/readyz` turns false; once the link is back it serves again without a restart.
//! A second test cuts the link under a stream of writes sent with idempotency keys: every
//! acknowledged write is in the database once, none answered NOT_APPLIED is, and every one left
//! UNKNOWN, retried with its key, ends applied exactly once.
//! PostgreSQL only (an SQLite file cannot be cut off); on SQLite the tests say so and pass.

use crate::common::{TestApp, fresh_database};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// A TCP proxy to `upstream` that can be cut (every link dropped, new ones refused) and
/// restored.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (c, l) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                l.lock().await.push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Self { port, cut, links }
    }

    async fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// A server on a fresh PostgreSQL database reached through a [`Proxy`].
async fn behind_a_proxy() -> (Proxy, TestApp) {
    let url = fresh_database().await;
    let (scheme_host, db) = url.rsplit_once('/').unwrap();
    let host_port = scheme_host.rsplit_once('@').map_or_else(
        || scheme_host.trim_start_matches("postgres://").to_string(),
        |(_, h)| h.to_string(),
    );
    let proxy = Proxy::start(host_port.clone()).await;
    let through = format!(
        "{}/{db}",
        scheme_host.replace(&host_port, &format!("127.0.0.1:{}", proxy.port))
    );
    let app = TestApp::spawn_on(&through, |_| {}).await;
    (proxy, app)
}

#[tokio::test]
async fn an_outage_answers_service_unavailable_and_recovery_needs_no_restart() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("outage: PostgreSQL only (set TEST_DATABASE_URL); nothing to cut on SQLite");
        return;
    }
    let (proxy, app) = behind_a_proxy().await;
    api::seed::seed_demo(&app.db).await.unwrap();
    let query = r#"{ plans(first: 5) { edges { node { title } } } }"#;
    assert!(app.query(query).await.get("errors").is_none());

    proxy.cut().await;
    let started = Instant::now();
    let body = app.query(query).await;
    let waited = started.elapsed();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["outcome"], "NOT_APPLIED");
    assert!(
        waited < Duration::from_secs(12),
        "answered after {waited:?}"
    );
    let ready = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    // The process is alive all along.
    let alive = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200);

    proxy.restore();
    let back = Instant::now();
    loop {
        let body = app.query(query).await;
        if body.get("errors").is_none() {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "still failing 5 s after the link came back: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "outage: SERVICE_UNAVAILABLE after {waited:?}; serving again {:?} after the link came back",
        back.elapsed()
    );
    let ready = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
}

/// The outcome of one keyed write, as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Acknowledged,
    NotApplied,
    Unknown,
}

async fn create_plan(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    unit: &str,
    i: usize,
) -> (Option<Seen>, serde_json::Value) {
    let res = http
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header("idempotency-key", format!("fault-{i}"))
        .timeout(Duration::from_secs(40))
        .json(&serde_json::json!({
            "query": "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id } } }",
            "variables": {"i": {"kind": "PLAN", "title": format!("fault write {i}"), "unitId": unit}},
        }))
        .send()
        .await;
    let Ok(res) = res else {
        return (Some(Seen::Unknown), serde_json::Value::Null);
    };
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    let seen = if body["data"]["createPlan"]["plan"]["id"].is_string() {
        Some(Seen::Acknowledged)
    } else {
        match (
            body["errors"][0]["extensions"]["code"].as_str(),
            body["errors"][0]["extensions"]["outcome"].as_str(),
        ) {
            (Some("SERVICE_UNAVAILABLE"), Some("NOT_APPLIED")) => Some(Seen::NotApplied),
            (Some("SERVICE_UNAVAILABLE"), Some("UNKNOWN")) => Some(Seen::Unknown),
            (Some("ALREADY_APPLIED"), _) => Some(Seen::Acknowledged),
            _ => None,
        }
    };
    (seen, body)
}

#[tokio::test]
async fn keyed_writes_through_a_cut_apply_exactly_once() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("fault: PostgreSQL only (set TEST_DATABASE_URL); nothing to cut on SQLite");
        return;
    }
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let (proxy, app) = behind_a_proxy().await;
    api::seed::seed_demo(&app.db).await.unwrap();
    // A national manager writes plans for HCMC.
    let user =
        crate::common::insert_user(&app.db, "fault.manager", entity::enums::Role::Manager, None)
            .await;
    let principal = api::auth::Principal {
        id: user.id,
        kind: api::auth::PrincipalKind::User,
        role: entity::enums::Role::Manager,
        home_unit_id: None,
        agency_id: None,
        scopes: Vec::new(),
    };
    let token = app.tokens.issue(&principal, 0).unwrap().0;
    let unit = app.data(r#"{ adminUnit(code: "79") { id } }"#).await["adminUnit"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Four writers, 40 writes each, sent one after another; the link is cut twice meanwhile.
    const WRITERS: usize = 4;
    const EACH: usize = 40;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (http, base, token, unit) = (
            app.http.clone(),
            app.base.clone(),
            token.clone(),
            unit.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for k in 0..EACH {
                let i = w * EACH + k;
                let (outcome, body) = create_plan(&http, &base, &token, &unit, i).await;
                let outcome = outcome.unwrap_or_else(|| {
                    panic!("write {i}: an answer that says nothing of the outcome: {body}")
                });
                seen.push((i, outcome));
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            seen
        }));
    }
    for pause in [150, 400] {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        proxy.cut().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.restore();
    }
    let mut seen = Vec::new();
    for w in writers {
        seen.extend(w.await.unwrap());
    }
    let count = |o: Seen| seen.iter().filter(|(_, s)| *s == o).count();
    eprintln!(
        "fault: {} acknowledged, {} NOT_APPLIED, {} UNKNOWN of {}",
        count(Seen::Acknowledged),
        count(Seen::NotApplied),
        count(Seen::Unknown),
        seen.len()
    );
    assert!(
        count(Seen::NotApplied) + count(Seen::Unknown) > 0,
        "the cuts hit no write"
    );

    // Serving again within 5 s of the last restore.
    let back = Instant::now();
    while app
        .query("{ adminUnit(code: \"79\") { code } }")
        .await
        .get("errors")
        .is_some()
    {
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "not serving 5 s after the link came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Row by row: acknowledged writes are there once, NOT_APPLIED ones are not.
    let rows = |i: usize| {
        let db = app.db.clone();
        async move {
            entity::plan::Entity::find()
                .filter(entity::plan::Column::Title.eq(format!("fault write {i}")))
                .all(&db)
                .await
                .unwrap()
                .len()
        }
    };
    for (i, s) in &seen {
        match s {
            Seen::Acknowledged => assert_eq!(rows(*i).await, 1, "acknowledged write {i}"),
            Seen::NotApplied => assert_eq!(rows(*i).await, 0, "NOT_APPLIED write {i}"),
            Seen::Unknown => {}
        }
    }
    // Every write not acknowledged, retried with its key, ends applied exactly once.
    for (i, s) in &seen {
        if *s == Seen::Acknowledged {
            continue;
        }
        let (outcome, body) = create_plan(&app.http, &app.base, &token, &unit, *i).await;
        assert_eq!(
            outcome,
            Some(Seen::Acknowledged),
            "retry of write {i}: {body}"
        );
        assert_eq!(rows(*i).await, 1, "write {i} ({s:?}) after its retry");
    }
}

//! A database outage, through a TCP proxy the test controls between the server and
//! PostgreSQL: during the cut the server answers SERVICE_UNAVAILABLE promptly (no hang, no
//! panic) and `/readyz` turns false; once the link is back it serves again without a restart.
//! PostgreSQL only (an SQLite file cannot be cut off); on SQLite the test says so and passes.

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

#[tokio::test]
async fn an_outage_answers_service_unavailable_and_recovery_needs_no_restart() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("outage: PostgreSQL only (set TEST_DATABASE_URL); nothing to cut on SQLite");
        return;
    }
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

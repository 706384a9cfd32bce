//! Spawning the application on a database of its own.

use api::{Application, Config};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

/// A fresh, migrated, empty database URL for one test.
pub async fn fresh_database() -> String {
    let name = format!("it_{}", uuid::Uuid::new_v4().simple());
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let admin = Database::connect(&admin_url)
                .await
                .expect("TEST_DATABASE_URL reachable");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("URL with a database name");
            format!("{base}/{name}")
        }
        _ => {
            let dir = std::env::temp_dir().join("regional-platform-it");
            std::fs::create_dir_all(&dir).unwrap();
            format!(
                "sqlite://{}?mode=rwc",
                dir.join(format!("{name}.db")).display()
            )
        }
    }
}

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Its pool.
    pub db: DatabaseConnection,
    /// An HTTP client.
    pub http: reqwest::Client,
    /// Statements run by the server's pool.
    pub statements: api::db::StatementCounter,
    /// Its configuration.
    pub config: Config,
    /// Its token service, to mint tokens without logging in.
    pub tokens: std::sync::Arc<api::auth::TokenService>,
    /// A bearer token that `query`, `data` and `counted` send, if set.
    pub bearer: Option<String>,
}

impl TestApp {
    /// A server on a fresh database with the demo area loaded.
    pub async fn spawn() -> Self {
        let app = Self::spawn_empty().await;
        api::seed::seed_demo(&app.db)
            .await
            .expect("demo area loads");
        app
    }

    /// A server on a fresh database with the demo area loaded, its configuration adjusted.
    pub async fn spawn_with_demo(adjust: impl FnOnce(&mut Config)) -> Self {
        let app = Self::spawn_with(adjust).await;
        api::seed::seed_demo(&app.db)
            .await
            .expect("demo area loads");
        app
    }

    /// A server on a fresh migrated database with no data.
    pub async fn spawn_empty() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A server on a fresh migrated database with no data, its configuration adjusted.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let url = fresh_database().await;
        Self::spawn_on(&url, adjust).await
    }

    /// A server on a given database (migrated if needed).
    pub async fn spawn_on(url: &str, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::for_database(url).unwrap();
        adjust(&mut config);
        let app = Application::build(&config)
            .await
            .expect("application builds");
        let addr = app.local_addr().unwrap();
        let db = app.db().clone();
        let statements = app.statements();
        let tokens = app.tokens();
        tokio::spawn(app.serve_until(std::future::pending()));
        Self {
            base: format!("http://{addr}"),
            db,
            http: reqwest::Client::new(),
            statements,
            config,
            tokens,
            bearer: None,
        }
    }

    /// Makes `query`, `data` and `counted` act as a national viewer (who reads everything,
    /// internal progress reports included), minting the token directly.
    pub async fn sign_in_nationally(&mut self) {
        let user = insert_user(
            &self.db,
            format!("national.viewer.{}", uuid::Uuid::new_v4().simple()),
            entity::enums::Role::Viewer,
            None,
        )
        .await;
        let principal = api::auth::Principal {
            id: user.id,
            kind: api::auth::PrincipalKind::User,
            role: entity::enums::Role::Viewer,
            home_unit_id: None,
            agency_id: None,
            scopes: Vec::new(),
        };
        self.bearer = Some(self.tokens.issue(&principal, 0).unwrap().0);
    }

    /// POSTs a query with `Accept: application/graphql-response+json`; returns the JSON body
    /// after checking for 200.
    pub async fn query(&self, query: &str) -> Value {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.base))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/graphql-response+json")
            .json(&json!({ "query": query }));
        if let Some(t) = &self.bearer {
            req = req.header(reqwest::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200, "query {query}");
        res.json().await.unwrap()
    }

    /// Runs a query and returns its data with the number of SQL statements it took.
    pub async fn counted(&self, query: &str) -> (Value, u64) {
        let before = self.statements.get();
        let data = self.data(query).await;
        (data, self.statements.get() - before)
    }

    /// POSTs a query with variables, optionally with a bearer token; returns the status and
    /// the JSON body whatever they are.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.base))
            .header(CONTENT_TYPE, "application/json")
            .json(&json!({"query": query, "variables": variables}));
        if let Some(t) = token {
            req = req.header(reqwest::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    /// Like `query`, and asserts that there are no errors; returns `data`.
    pub async fn data(&self, query: &str) -> Value {
        let body = self.query(query).await;
        assert!(body.get("errors").is_none(), "errors for {query}: {body}");
        body["data"].clone()
    }
}

/// The signing secret of [`demo_with_users`].
pub const DEMO_SECRET: &str = "a-demo-users-test-secret-of-32-byte";

/// A server on a fresh database with the demo area and the six demo users (password
/// "demo-password"), signing tokens with [`DEMO_SECRET`].
pub async fn demo_with_users() -> TestApp {
    let app = TestApp::spawn_on(&fresh_database().await, |c| {
        c.jwt.secret = Some(DEMO_SECRET.into())
    })
    .await;
    api::seed::seed_demo(&app.db).await.unwrap();
    api::seed::seed_demo_users(&app.db).await.unwrap();
    app
}

/// A demo user's access token, through `login`.
pub async fn demo_token(app: &TestApp, user: &str) -> String {
    let (_, body) = app
        .gql(
            None,
            "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken } }",
            json!({"u": user, "p": "demo-password"}),
        )
        .await;
    body["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{user} logs in: {body}"))
        .to_string()
}

/// The `code` fields of a list of objects.
pub fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_string())
        .collect()
}

/// Inserts an active user with an unusable password hash (tests mint its tokens directly).
pub async fn insert_user(
    db: &DatabaseConnection,
    username: impl Into<String>,
    role: entity::enums::Role,
    home_unit_id: Option<i64>,
) -> entity::app_user::Model {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = chrono::Utc::now();
    entity::app_user::ActiveModel {
        username: Set(username.into()),
        password_hash: Set("not-a-hash".into()),
        role: Set(role),
        home_unit_id: Set(home_unit_id),
        active: Set(true),
        token_version: Set(0),
        failed_logins: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
}

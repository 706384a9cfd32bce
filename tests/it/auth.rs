//! Bearer tokens: keys pinned per `kid`, rotation, every classic forgery rejected with the same
//! uninformative UNAUTHENTICATED answer, revocation by deactivation and token version.

use crate::common::TestApp;
use api::auth::keys::Claims;
use api::auth::{Principal, PrincipalKind, TokenService};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::enums::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys/");

fn key(name: &str) -> String {
    format!("{KEYS}{name}")
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(key(name)).unwrap()
}

/// A server signing with RS256 (kid rs-2026) that still accepts the rotated-out rs-2025 key.
async fn rs_app() -> TestApp {
    TestApp::spawn_with_demo(|c| {
        c.jwt.private_key = Some(key("rs256-private.pem"));
        c.jwt.kid = Some("rs-2026".into());
        c.jwt.public_keys = Some(format!("rs-2025={}", key("rs256-old-public.pem")));
    })
    .await
}

async fn user(app: &TestApp, username: &str, active: bool, token_version: i32) -> i64 {
    let unit = api::services::units::by_code(&app.db, "79", api::clock::today(), None)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    entity::app_user::ActiveModel {
        username: Set(username.into()),
        display_name: Set(Some(format!("Người dùng {username}"))),
        // "!": no password login (password login is not part of these tests).
        password_hash: Set("!".into()),
        role: Set(Role::Manager),
        home_unit_id: Set(Some(unit.id)),
        active: Set(active),
        token_version: Set(token_version),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
    .id
}

fn principal(id: i64, unit: Option<i64>) -> Principal {
    Principal {
        id,
        kind: PrincipalKind::User,
        role: Role::Manager,
        home_unit_id: unit,
        agency_id: None,
        scopes: vec![],
    }
}

async fn me(app: &TestApp, token: Option<&str>) -> (u16, Value) {
    let mut req = app
        .http
        .post(format!("{}/graphql", app.base))
        .header(CONTENT_TYPE, "application/json")
        .json(&json!({"query": "{ me { username kind role homeUnit { code } scopes } }"}));
    if let Some(t) = token {
        req = req.header(AUTHORIZATION, format!("Bearer {t}"));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

fn claims(sub: i64, ver: i32) -> Claims {
    let now = jsonwebtoken::get_current_timestamp();
    Claims {
        sub: sub.to_string(),
        kind: PrincipalKind::User,
        role: "MANAGER".into(),
        unit: None,
        agency: None,
        scopes: vec![],
        ver,
        iss: "regional-platform".into(),
        aud: "regional-platform-api".into(),
        exp: now + 600,
        nbf: now,
        iat: now,
        jti: "t".into(),
    }
}

fn sign(claims: &Claims, alg: Algorithm, kid: &str, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn assert_rejected(res: (u16, Value), what: &str) {
    assert_eq!(res.0, 401, "{what}: {}", res.1);
    let e = &res.1["errors"][0];
    assert_eq!(e["extensions"]["code"], "UNAUTHENTICATED", "{what}");
    assert_eq!(
        e["message"], "invalid or expired credentials",
        "{what}: no detail"
    );
    assert!(res.1.get("data").is_none(), "{what}");
}

#[tokio::test]
async fn a_valid_token_names_its_principal_and_none_means_anonymous() {
    let app = rs_app().await;
    let id = user(&app, "hcm.manager", true, 0).await;
    let service = TokenService::from_settings(&app.config.jwt, false).unwrap();
    let unit = api::services::units::by_code(&app.db, "79", api::clock::today(), None)
        .await
        .unwrap()
        .map(|u| u.id);
    let (token, _) = service.issue(&principal(id, unit), 0).unwrap();
    let (status, body) = me(&app, Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["username"], "hcm.manager");
    assert_eq!(body["data"]["me"]["role"], "MANAGER");
    assert_eq!(body["data"]["me"]["homeUnit"]["code"], "79");
    let (status, body) = me(&app, None).await;
    assert_eq!(status, 200);
    assert!(body["data"]["me"].is_null());
    // A token signed with the rotated-out key still verifies.
    let old = EncodingKey::from_rsa_pem(&pem("rs256-old-private.pem")).unwrap();
    let (status, body) = me(
        &app,
        Some(&sign(&claims(id, 0), Algorithm::RS256, "rs-2025", &old)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["username"], "hcm.manager");
}

#[tokio::test]
async fn forged_expired_and_misdirected_tokens_are_rejected_alike() {
    let app = rs_app().await;
    let id = user(&app, "target", true, 0).await;
    let current = EncodingKey::from_rsa_pem(&pem("rs256-private.pem")).unwrap();
    let good = sign(&claims(id, 0), Algorithm::RS256, "rs-2026", &current);
    assert_eq!(me(&app, Some(&good)).await.0, 200);

    // alg "none": a header, the claims and no signature.
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"rs-2026"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(id, 0)).unwrap());
    assert_rejected(
        me(&app, Some(&format!("{none_header}.{payload}."))).await,
        "alg none",
    );
    // HS256 signed with the RS256 public key as the secret (algorithm confusion).
    let confused = sign(
        &claims(id, 0),
        Algorithm::HS256,
        "rs-2026",
        &EncodingKey::from_secret(&pem("rs256-public.pem")),
    );
    assert_rejected(me(&app, Some(&confused)).await, "HS256 with the public key");
    // Expired beyond the leeway, and not yet valid.
    let mut expired = claims(id, 0);
    expired.exp = jsonwebtoken::get_current_timestamp() - 3600;
    assert_rejected(
        me(
            &app,
            Some(&sign(&expired, Algorithm::RS256, "rs-2026", &current)),
        )
        .await,
        "expired",
    );
    let mut early = claims(id, 0);
    early.nbf = jsonwebtoken::get_current_timestamp() + 3600;
    assert_rejected(
        me(
            &app,
            Some(&sign(&early, Algorithm::RS256, "rs-2026", &current)),
        )
        .await,
        "nbf",
    );
    // Another issuer, another audience.
    let mut iss = claims(id, 0);
    iss.iss = "someone-else".into();
    assert_rejected(
        me(
            &app,
            Some(&sign(&iss, Algorithm::RS256, "rs-2026", &current)),
        )
        .await,
        "iss",
    );
    let mut aud = claims(id, 0);
    aud.aud = "another-api".into();
    assert_rejected(
        me(
            &app,
            Some(&sign(&aud, Algorithm::RS256, "rs-2026", &current)),
        )
        .await,
        "aud",
    );
    // A changed payload under a valid signature.
    let parts: Vec<&str> = good.split('.').collect();
    let mut raised = claims(id, 0);
    raised.role = "ADMIN".into();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&raised).unwrap()),
        parts[2]
    );
    assert_rejected(me(&app, Some(&tampered)).await, "tampered payload");
    // A key id the server does not know, and a key it never had.
    assert_rejected(
        me(
            &app,
            Some(&sign(&claims(id, 0), Algorithm::RS256, "rs-1999", &current)),
        )
        .await,
        "unknown kid",
    );
    let stranger = EncodingKey::from_ed_pem(&pem("ed25519-private.pem")).unwrap();
    assert_rejected(
        me(
            &app,
            Some(&sign(
                &claims(id, 0),
                Algorithm::EdDSA,
                "rs-2026",
                &stranger,
            )),
        )
        .await,
        "foreign key",
    );
    // Not a bearer token at all.
    assert_rejected(me(&app, Some("not-a-token")).await, "garbage");
}

#[tokio::test]
async fn deactivated_users_and_older_token_versions_are_rejected() {
    let app = rs_app().await;
    let current = EncodingKey::from_rsa_pem(&pem("rs256-private.pem")).unwrap();
    let inactive = user(&app, "left", false, 0).await;
    assert_rejected(
        me(
            &app,
            Some(&sign(
                &claims(inactive, 0),
                Algorithm::RS256,
                "rs-2026",
                &current,
            )),
        )
        .await,
        "deactivated",
    );
    // The user logged out everywhere: version 3 now, the token carries 2.
    let moved_on = user(&app, "logged.out", true, 3).await;
    assert_rejected(
        me(
            &app,
            Some(&sign(
                &claims(moved_on, 2),
                Algorithm::RS256,
                "rs-2026",
                &current,
            )),
        )
        .await,
        "old version",
    );
    assert_eq!(
        me(
            &app,
            Some(&sign(
                &claims(moved_on, 3),
                Algorithm::RS256,
                "rs-2026",
                &current
            ))
        )
        .await
        .0,
        200
    );
    // A subject that does not exist.
    assert_rejected(
        me(
            &app,
            Some(&sign(
                &claims(999_999, 0),
                Algorithm::RS256,
                "rs-2026",
                &current,
            )),
        )
        .await,
        "no such user",
    );
}

#[tokio::test]
async fn jwks_serves_the_public_keys() {
    let app = rs_app().await;
    let v: Value = app
        .http
        .get(format!("{}/.well-known/jwks.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = v["keys"].as_array().unwrap();
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, ["rs-2026", "rs-2025"]);
    for k in keys {
        assert_eq!(k["kty"], "RSA");
        assert!(k["n"].as_str().unwrap().len() > 300 && k["e"] == "AQAB");
        assert!(k.get("d").is_none(), "no private part");
    }
    // Verifying with the published key works: it is the signing key's public half.
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(keys[0].clone()).unwrap();
    let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let current = EncodingKey::from_rsa_pem(&pem("rs256-private.pem")).unwrap();
    let token = sign(&claims(1, 0), Algorithm::RS256, "rs-2026", &current);
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    validation.set_audience(&["regional-platform-api"]);
    assert!(jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).is_ok());
}

#[tokio::test]
async fn key_configuration_is_checked_at_start() {
    let url = crate::common::fresh_database().await;
    let mut prod = api::Config::for_database(&url).unwrap();
    prod.profile = api::Profile::Prod;
    let err = api::Application::build(&prod)
        .await
        .err()
        .expect("prod needs a key")
        .to_string();
    assert!(err.contains("JWT_SECRET") && !err.contains('\n'), "{err}");
    let mut short = api::Config::for_database(&url).unwrap();
    short.jwt.secret = Some("too short".into());
    let err = api::Application::build(&short)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("JWT_SECRET") && err.contains("32 bytes") && !err.contains("too short"),
        "{err}"
    );
    // dev: a generated HS256 key; its tokens verify.
    let dev = api::Application::build(&api::Config::for_database(&url).unwrap())
        .await
        .unwrap();
    let tokens = dev.tokens();
    assert!(tokens.generated);
    let (token, _) = tokens.issue(&principal(1, None), 0).unwrap();
    assert_eq!(tokens.verify(&token).unwrap().sub, "1");
    // EdDSA keys work as well.
    let mut ed = api::Config::for_database(&url).unwrap();
    ed.jwt.private_key = Some(key("ed25519-private.pem"));
    let ed = TokenService::from_settings(&ed.jwt, false).unwrap();
    let (token, _) = ed.issue(&principal(1, None), 0).unwrap();
    assert!(ed.verify(&token).is_ok());
    assert_eq!(ed.jwks().keys.len(), 1);
}

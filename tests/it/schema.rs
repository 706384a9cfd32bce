//! The committed SDL is current, and every type, field, argument and enum value is described.

use crate::common::TestApp;

#[test]
fn committed_sdl_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let current = api::graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == current,
        "schema.graphql is stale: run `UPDATE_SCHEMA=1 cargo test committed_sdl` and list breaking changes in CHANGELOG.md"
    );
}

#[tokio::test]
async fn everything_has_a_description() {
    let app = TestApp::spawn_empty().await;
    let d = app
        .data(
            r#"{ __schema { types { name kind description
                 fields { name description args { name description } }
                 inputFields { name description }
                 enumValues { name description } } } }"#,
        )
        .await;
    let mut missing = Vec::new();
    for t in d["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        let described = |v: &serde_json::Value| {
            v["description"]
                .as_str()
                .is_some_and(|s| !s.trim().is_empty())
        };
        if !described(t) {
            missing.push(name.to_string());
        }
        for f in t["fields"].as_array().into_iter().flatten() {
            if !described(f) {
                missing.push(format!("{name}.{}", f["name"]));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if !described(a) {
                    missing.push(format!("{name}.{}({})", f["name"], a["name"]));
                }
            }
        }
        for key in ["inputFields", "enumValues"] {
            for f in t[key].as_array().into_iter().flatten() {
                if !described(f) {
                    missing.push(format!("{name}.{}", f["name"]));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:?}");
}

//! Unit lists and the mapping through the command line, on small fixtures in the official
//! formats (tests/fixtures/admin-units); then lineage and search through the API.

use crate::common::{TestApp, fresh_database};

use serde_json::Value;
use std::process::{Command, Output};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/admin-units/");

fn platform(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_platform"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("LOG_LEVEL", "warn")
        .env_remove("CONFIG_FILE")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap()
}

fn ok(url: &str, args: &[&str]) -> String {
    let out = platform(url, args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A fresh database, migrated by the command line as an operator would.
async fn fresh_migrated() -> String {
    let url = fresh_database().await;
    ok(&url, &["migrate"]);
    url
}

fn file(name: &str) -> String {
    format!("{FIX}{name}")
}

async fn load_all(url: &str) -> Vec<String> {
    vec![
        ok(
            url,
            &["import", "admin-units", &file("three-level-2024.csv")],
        ),
        ok(
            url,
            &[
                "import",
                "admin-units",
                &file("three-level-2025-03.csv"),
                "--valid-from",
                "2025-03-01",
            ],
        ),
        ok(
            url,
            &[
                "import",
                "admin-units",
                &file("two-level-2025.csv"),
                "--valid-from",
                "2025-07-01",
            ],
        ),
        ok(
            url,
            &[
                "import",
                "admin-unit-lineage",
                &file("mapping-2025.csv"),
                "--effective",
                "2025-07-01",
            ],
        ),
    ]
}

#[tokio::test]
async fn the_four_imports_give_the_counts_and_rerunning_changes_nothing() {
    let url = fresh_migrated().await;
    let outputs = load_all(&url).await;
    assert!(outputs[0].contains("17 opened"), "{}", outputs[0]);
    assert!(outputs[1].contains("1 closed"), "{}", outputs[1]);
    let lineage = &outputs[3];
    assert!(lineage.contains("line 9: `Khu vực bãi bồi"), "{lineage}");
    assert!(lineage.contains("line 10: no unit 99999"), "{lineage}");
    assert!(lineage.contains("2 skipped"), "{lineage}");
    assert_eq!(
        ok(&url, &["units", "count", "--as-of", "2024-06-01"]).trim(),
        "2024-06-01: 5 provinces, 5 districts, 7 communes"
    );
    assert_eq!(
        ok(&url, &["units", "count", "--as-of", "2025-03-15"]).trim(),
        "2025-03-15: 5 provinces, 5 districts, 6 communes"
    );
    assert_eq!(
        ok(&url, &["units", "count", "--as-of", "2025-08-01"]).trim(),
        "2025-08-01: 3 provinces, 0 districts, 5 communes"
    );
    for out in [
        ok(
            &url,
            &[
                "import",
                "admin-units",
                &file("two-level-2025.csv"),
                "--valid-from",
                "2025-07-01",
            ],
        ),
        ok(
            &url,
            &[
                "import",
                "admin-unit-lineage",
                &file("mapping-2025.csv"),
                "--effective",
                "2025-07-01",
            ],
        ),
    ] {
        assert!(out.contains("nothing changed"), "{out}");
    }
}

#[tokio::test]
async fn a_bad_row_aborts_the_whole_file() {
    let url = fresh_migrated().await;
    ok(
        &url,
        &["import", "admin-units", &file("three-level-2024.csv")],
    );
    let dir = std::env::temp_dir().join(format!("bad-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(file("three-level-2025-03.csv")).unwrap();
    for (name, bad_line, reason) in [
        (
            "dup.csv",
            "01,Thành phố Hà Nội,Thành phố Trung ương,001,Quận Ba Đình,Quận,00004,Phường Khác,Phường,,,",
            "duplicate code 00004",
        ),
        (
            "len.csv",
            "01,Thành phố Hà Nội,Thành phố Trung ương,001,Quận Ba Đình,Quận,0004,Phường Ngắn,Phường,,,",
            "not 5 digits",
        ),
        (
            "empty.csv",
            "01,Thành phố Hà Nội,Thành phố Trung ương,001,Quận Ba Đình,Quận,00009,,Phường,,,",
            "empty name",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, format!("{good}{bad_line}\n")).unwrap();
        let out = platform(
            &url,
            &[
                "import",
                "admin-units",
                path.to_str().unwrap(),
                "--valid-from",
                "2025-03-01",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("line 9")
                && stderr.contains(reason)
                && stderr.contains("nothing written"),
            "{stderr}"
        );
    }
    // Nothing of the aborted files was written: the March list has not been applied.
    assert_eq!(
        ok(&url, &["units", "count", "--as-of", "2025-03-15"]).trim(),
        "2025-03-15: 5 provinces, 5 districts, 7 communes"
    );
}

#[tokio::test]
async fn the_gso_export_is_recognised_and_cleaned() {
    let url = fresh_migrated().await;
    let out = ok(&url, &["import", "admin-units", &file("gso-export.csv")]);
    assert!(out.contains("GsoExport"), "{out}");
    assert_eq!(
        ok(&url, &["units", "count", "--as-of", "2025-01-04"]).trim(),
        "2025-01-04: 3 provinces, 3 districts, 3 communes"
    );
    let app = TestApp::spawn_on(&url, |_| {}).await;
    let d = app.data(r#"{ commune(code: "00001", asOf: "2025-01-04") { name province { kind } district { kind } } }"#).await;
    assert_eq!(d["commune"]["name"], "Phường Phúc Xá");
    assert_eq!(d["commune"]["province"]["kind"], "Thành phố Trung ương");
    assert_eq!(d["commune"]["district"]["kind"], "Quận");
}

fn codes_of(links: &Value) -> Vec<String> {
    let mut v: Vec<String> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["unit"]["code"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn lineage_links_old_and_new_units_and_search_finds_both() {
    let url = fresh_migrated().await;
    load_all(&url).await;
    let app = TestApp::spawn_on(&url, |_| {}).await;
    let d = app
        .data(r#"{ dt: province(code: "87", asOf: "2024-06-01") { successors { unit { id code name validFrom } change } }
                   tg: province(code: "82", asOf: "2024-06-01") { id name successors { unit { id code name } change } }
                   cd: district(code: "755", asOf: "2024-06-01") { successors { unit { code kind } change } }
                   a: commune(code: "00001", asOf: "2025-03-15") { successors { unit { code } change } }
                   b: commune(code: "00004", asOf: "2025-03-15") { successors { unit { code } change } }
                   c: commune(code: "27562", asOf: "2025-03-15") { successors { unit { code } } }
                   d: commune(code: "30037", asOf: "2025-03-15") { successors { unit { code } } }
                   e: commune(code: "28249", asOf: "2025-03-15") { successors { unit { code } } } }"#)
        .await;
    assert_eq!(d["dt"]["successors"][0]["unit"]["code"], "82");
    assert_eq!(d["dt"]["successors"][0]["change"], "MERGED_WHOLE");
    assert_eq!(d["tg"]["name"], "Tỉnh Tiền Giang");
    let tg_next = &d["tg"]["successors"][0];
    assert_eq!(tg_next["unit"]["name"], "Tỉnh Đồng Tháp");
    assert_eq!(
        tg_next["change"], "MERGED_WHOLE",
        "Tiền Giang merged; it was not renamed"
    );
    assert_ne!(
        tg_next["unit"]["id"], d["tg"]["id"],
        "two distinct units with the code 82"
    );
    assert_eq!(
        tg_next["unit"]["id"],
        d["dt"]["successors"][0]["unit"]["id"]
    );
    assert_eq!(d["cd"]["successors"][0]["unit"]["kind"], "Đặc khu");
    assert_eq!(d["a"]["successors"][0]["change"], "MERGED_PART");
    for k in ["a", "b", "c", "d", "e"] {
        assert_eq!(
            codes_of(&d[k]["successors"]).len(),
            1,
            "{k}: every old commune has a successor"
        );
    }
    // Search: today first, then history; the exact bare name before prefixes.
    let decomposed: String = unicode_normalization::UnicodeNormalization::nfd("Hóc Môn").collect();
    for q in ["hoc mon", "HÓC MÔN", decomposed.as_str()] {
        let s = app
            .data(&format!(r#"{{ searchAdminUnits(query: "{q}") {{ edges {{ node {{ code name validTo }} }} }} }}"#))
            .await;
        let names: Vec<&str> = s["searchAdminUnits"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["Xã Hóc Môn", "Huyện Hóc Môn", "Thị trấn Hóc Môn"],
            "{q}"
        );
        let then = app
            .data(&format!(r#"{{ searchAdminUnits(query: "{q}", asOf: "2024-06-01") {{ edges {{ node {{ code }} }} }} }}"#))
            .await;
        assert_eq!(
            then["searchAdminUnits"]["edges"][0]["node"]["code"], "784",
            "{q}"
        );
    }
    let s = app
        .data(
            r#"{ searchAdminUnits(query: "ba", asOf: "2025-08-01") { edges { node { name } } } }"#,
        )
        .await;
    assert_eq!(
        s["searchAdminUnits"]["edges"][0]["node"]["name"], "Phường Ba Đình",
        "a prefix of the bare name"
    );
    let s = app
        .data(r#"{ searchAdminUnits(query: "2755", level: COMMUNE) { totalCount } }"#)
        .await;
    assert_eq!(
        s["searchAdminUnits"]["totalCount"], 2,
        "codes match too: the two versions of 27559"
    );
    let s = app.data(r#"{ searchAdminUnits(query: "phuong", within: "01", asOf: "2024-06-01") { edges { node { code } } } }"#).await;
    let codes: Vec<&str> = s["searchAdminUnits"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["00001", "00004", "00006"],
        "within Hà Nội, in Vietnamese order"
    );
    let body = app
        .query(r#"{ searchAdminUnits(query: "x") { totalCount } }"#)
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "query");
}

/// A viewer homed at `unit`, as his token names him.
fn viewer_at(id: i64, unit: i64) -> api::auth::Principal {
    api::auth::Principal {
        id,
        kind: api::auth::PrincipalKind::User,
        role: entity::enums::Role::Viewer,
        home_unit_id: Some(unit),
        agency_id: None,
        scopes: Vec::new(),
    }
}

/// The 2024 list, then the March 2025 list (the first without the merged communes).
fn load_until_march(url: &str) {
    ok(
        url,
        &["import", "admin-units", &file("three-level-2024.csv")],
    );
    let march = file("three-level-2025-03.csv");
    ok(
        url,
        &[
            "import",
            "admin-units",
            &march,
            "--valid-from",
            "2025-03-01",
        ],
    );
}

/// The two-level list of 1 July 2025 and the official mapping.
fn load_july(url: &str) {
    let list = file("two-level-2025.csv");
    ok(
        url,
        &["import", "admin-units", &list, "--valid-from", "2025-07-01"],
    );
    let mapping = file("mapping-2025.csv");
    ok(
        url,
        &[
            "import",
            "admin-unit-lineage",
            &mapping,
            "--effective",
            "2025-07-01",
        ],
    );
}

#[tokio::test]
async fn the_merger_wave_links_its_communes_with_their_evidence() {
    let url = fresh_migrated().await;
    // The lists in order, the merger list after the March 2025 one, then the July mapping.
    load_until_march(&url);
    let mergers = file("mergers-2024-2025.csv");
    let out = ok(&url, &["import", "admin-unit-lineage", &mergers]);
    assert!(out.contains("1 lineage links written"), "{out}");
    assert!(out.contains("1 unchanged"), "{out}");
    assert!(out.contains("line 4: no commune 14692"), "{out}");
    assert!(
        out.contains("0 communes that ended with them have no successor"),
        "{out}"
    );
    // Again: nothing changes.
    let again = ok(&url, &["import", "admin-unit-lineage", &mergers]);
    assert!(again.contains("nothing changed"), "{again}");
    // The merger list carries its own dates; the official mapping needs one.
    let refused = platform(
        &url,
        &[
            "import",
            "admin-unit-lineage",
            &mergers,
            "--effective",
            "2025-01-01",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    let refused = platform(
        &url,
        &["import", "admin-unit-lineage", &file("mapping-2025.csv")],
    );
    assert_eq!(refused.status.code(), Some(2));
    load_july(&url);

    let app = TestApp::spawn_on(&url, |_| {}).await;
    let data = app
        .data(
            r#"{ commune(code: "00006", asOf: "2024-06-01") { name validTo
                   successors(transitive: true) { unit { code name validFrom } change effectiveOn evidence resolution sourceUrl } } }"#,
        )
        .await;
    let links = data["commune"]["successors"].as_array().unwrap();
    assert_eq!(
        data["commune"]["validTo"], "2025-02-28",
        "units keep the lists' validity"
    );
    assert_eq!(links[0]["unit"]["name"], "Phường Trúc Bạch");
    assert_eq!(links[0]["change"], "MERGED_WHOLE");
    assert_eq!(links[0]["effectiveOn"], "2025-01-01");
    assert_eq!(links[0]["evidence"], "CITED");
    assert_eq!(links[0]["resolution"], "1286/NQ-UBTVQH15");
    assert_eq!(links[0]["sourceUrl"], "https://example.org/nq-1286-ha-noi");
    // On through the official mapping to the 2025 Phường Ba Đình.
    let last = links.last().unwrap();
    assert_eq!(last["unit"]["name"], "Phường Ba Đình", "{links:?}");
    assert_eq!(last["evidence"], "OFFICIAL");

    // A viewer of the 2025 ward reads the internal documents of the commune merged into its
    // predecessor; his scope holds it through the merger link.
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let old = api::services::units::by_code(
        &app.db,
        "00006",
        chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let ward = api::services::units::by_code(
        &app.db,
        "00004",
        chrono::NaiveDate::from_ymd_opt(2025, 8, 1).unwrap(),
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let now = chrono::Utc::now();
    let plan = entity::plan::ActiveModel {
        kind: Set(entity::enums::PlanKind::Plan),
        title: Set("Kế hoạch nội bộ của phường Vĩnh Phúc".into()),
        admin_unit_id: Set(old.id),
        status: Set(entity::enums::PlanStatus::Draft),
        visibility: Set(entity::enums::Visibility::Internal),
        version: Set(1),
        search_key: Set("ke hoach noi bo".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let viewer = crate::common::insert_user(
        &app.db,
        "badinh.viewer",
        entity::enums::Role::Viewer,
        Some(ward.id),
    )
    .await;
    let token = app
        .tokens
        .issue(&viewer_at(viewer.id, ward.id), 0)
        .unwrap()
        .0;
    use base64::Engine;
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Plan:{}", plan.id));
    let (_, body) = app
        .gql(
            Some(&token),
            "query($id: ID!) { plan(id: $id) { title } }",
            serde_json::json!({"id": id}),
        )
        .await;
    assert_eq!(
        body["data"]["plan"]["title"], "Kế hoạch nội bộ của phường Vĩnh Phúc",
        "{body}"
    );
    // A viewer elsewhere (the special zone of Côn Đảo) does not.
    let zone = api::services::units::by_code(
        &app.db,
        "26732",
        chrono::NaiveDate::from_ymd_opt(2025, 8, 1).unwrap(),
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let other = app
        .tokens
        .issue(&viewer_at(viewer.id, zone.id), 0)
        .unwrap()
        .0;
    let (_, body) = app
        .gql(
            Some(&other),
            "query($id: ID!) { plan(id: $id) { title } }",
            serde_json::json!({"id": id}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
}

#[tokio::test]
async fn a_merged_commune_without_a_row_is_reported() {
    let url = fresh_migrated().await;
    load_until_march(&url);
    let dir = std::env::temp_dir().join(format!("mergers-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let partial = dir.join("mergers.csv");
    let full = std::fs::read_to_string(file("mergers-2024-2025.csv")).unwrap();
    let header = full.lines().next().unwrap();
    // The dropped commune's row names a successor this database does not hold: the row is
    // skipped, and the commune is reported as ending with no successor.
    std::fs::write(
        &partial,
        format!("{header}\n00006,Phường Vĩnh Phúc,99998,Phường Không Có,2025-01-01,,INFERRED,\n"),
    )
    .unwrap();
    let out = ok(
        &url,
        &["import", "admin-unit-lineage", partial.to_str().unwrap()],
    );
    assert!(
        out.contains("line 2: no commune 99998 on 2025-03-01"),
        "{out}"
    );
    assert!(
        out.contains("00006 Phường Vĩnh Phúc ended on 2025-02-28 with no successor"),
        "{out}"
    );
}

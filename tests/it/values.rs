//! Indicator values over HTTP: a commune reporter submits, the province's manager approves and
//! publishes, anyone reads the published figure; revisions read back; bad rows come back all at
//! once and nothing is written; the same batch again changes nothing; the change feed neither
//! skips nor repeats a change while writers commit concurrently, on both backends.

use crate::common::{TestApp, demo_token as token, demo_with_users as demo};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

const SUBMIT: &str = "mutation($i: SubmitIndicatorValuesInput!) { submitIndicatorValues(input: $i) { created updated unchanged values { id value status version unit { code } } } }";

fn row(unit: &str, period: &str, value: &str) -> Value {
    json!({"indicatorCode": "POOR_HOUSEHOLD_RATE", "unitCode": unit, "period": period, "value": value})
}

async fn value_count(app: &TestApp) -> u64 {
    entity::indicator_value::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_commune_submits_the_province_approves_and_publishes_and_anyone_reads() {
    let app = demo().await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    let manager = token(&app, "dongthap.manager").await;

    let (_, body) = app
        .gql(
            Some(&reporter),
            SUBMIT,
            json!({"i": {"values": [row("30037", "2025", "0.95"), row("30037", "2025S2", "0.97")]}}),
        )
        .await;
    let r = &body["data"]["submitIndicatorValues"];
    assert_eq!(r["created"], 2, "{body}");
    assert_eq!(r["values"][0]["status"], "SUBMITTED");
    assert_eq!(r["values"][0]["unit"]["code"], "30037");
    let id = r["values"][0]["id"].as_str().unwrap().to_string();

    // The same rows again, "0.950" for "0.95": nothing changes, no version moves.
    let (_, body) = app
        .gql(
            Some(&reporter),
            SUBMIT,
            json!({"i": {"values": [row("30037", "2025", "0.950"), row("30037", "2025S2", "0.97")]}}),
        )
        .await;
    let r = &body["data"]["submitIndicatorValues"];
    assert_eq!(
        (r["created"].as_u64(), r["unchanged"].as_u64()),
        (Some(0), Some(2)),
        "{body}"
    );
    assert_eq!(r["values"][0]["version"], 1);

    // Anonymous: nothing yet.
    let read = r#"{ indicatorValues(filter: {unitCode: "30037"}) { totalCount nodes { period value status } } }"#;
    let (_, body) = app.gql(None, read, json!({})).await;
    assert_eq!(body["data"]["indicatorValues"]["totalCount"], 0, "{body}");

    // The reporter cannot approve; the province's manager approves and publishes.
    let approve = "mutation($i: IndicatorValueIdsInput!) { approveIndicatorValues(input: $i) { values { status version } } }";
    let (_, body) = app
        .gql(Some(&reporter), approve, json!({"i": {"ids": [id]}}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let (_, body) = app
        .gql(Some(&manager), approve, json!({"i": {"ids": [id]}}))
        .await;
    assert_eq!(
        body["data"]["approveIndicatorValues"]["values"][0]["status"], "APPROVED",
        "{body}"
    );
    // Approved: locked against the reporter's change.
    let (_, body) = app
        .gql(
            Some(&reporter),
            SUBMIT,
            json!({"i": {"values": [row("30037", "2025", "1.2")]}}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "value", "{body}");
    let publish = "mutation($i: IndicatorValueIdsInput!) { publishIndicatorValues(input: $i) { values { status } } }";
    let (_, body) = app
        .gql(Some(&manager), publish, json!({"i": {"ids": [id]}}))
        .await;
    assert_eq!(
        body["data"]["publishIndicatorValues"]["values"][0]["status"], "PUBLISHED",
        "{body}"
    );

    let (_, body) = app.gql(None, read, json!({})).await;
    assert_eq!(
        body["data"]["indicatorValues"]["nodes"],
        json!([{"period": "2025", "value": "0.95", "status": "PUBLISHED"}]),
        "{body}"
    );
    // Anonymously, only the published version: the figures before it were never public.
    let (_, body) = app
        .gql(
            None,
            r#"{ indicatorValues(filter: {unitCode: "30037"}) { nodes { revisions { status } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["indicatorValues"]["nodes"][0]["revisions"],
        json!([{"status": "PUBLISHED"}]),
        "{body}"
    );
    // Revisions: submitted, approved, published.
    let (_, body) = app
        .gql(
            Some(&manager),
            r#"{ indicatorValues(filter: {unitCode: "30037", periodFrom: "2025", periodTo: "2025"}) { nodes { revisions { version status changedBy } } } }"#,
            json!({}),
        )
        .await;
    let revs: Vec<&str> = body["data"]["indicatorValues"]["nodes"][0]["revisions"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(revs, ["SUBMITTED", "APPROVED", "PUBLISHED"]);

    // The feed, read anonymously: the published value; once reopened, it is gone for him.
    let feed = "query($a: String) { indicatorValueChanges(after: $a) { entries { deleted value unitCode period } endCursor } }";
    let (_, body) = app.gql(None, feed, json!({"a": null})).await;
    let page = &body["data"]["indicatorValueChanges"];
    let entries = page["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(entries.len(), 1, "{body}");
    assert_eq!(entries[0]["value"], "0.95");
    let cursor = page["endCursor"].clone();
    let reopen = "mutation($i: IndicatorValueIdsInput!) { reopenIndicatorValues(input: $i) { values { status } } }";
    let (_, body) = app
        .gql(
            Some(&manager),
            reopen,
            json!({"i": {"ids": [id], "reason": "Sửa số liệu"}}),
        )
        .await;
    assert_eq!(
        body["data"]["reopenIndicatorValues"]["values"][0]["status"], "SUBMITTED",
        "{body}"
    );
    let (_, body) = app.gql(None, feed, json!({"a": cursor})).await;
    let entries = &body["data"]["indicatorValueChanges"]["entries"];
    assert_eq!(entries.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(entries[0]["deleted"], true);
    assert!(entries[0]["value"].is_null());
}

#[tokio::test]
async fn bad_rows_come_back_all_at_once_and_nothing_is_written() {
    let app = demo().await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    let before = value_count(&app).await;
    let (_, body) = app
        .gql(
            Some(&reporter),
            SUBMIT,
            json!({"i": {"values": [
                row("30037", "2025", "1.0"),
                row("99999", "2025", "1.0"),
                row("30037", "2024-13", "1.0"),
                row("30037", "2025", "abc"),
                row("27559", "2025", "1.0"),
                row("872", "2026", "1.0"),
            ]}}),
        )
        .await;
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let got: Vec<(u64, &str, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["extensions"]["index"].as_u64().unwrap(),
                e["extensions"]["field"].as_str().unwrap(),
                e["extensions"]["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "unitCode", "BAD_USER_INPUT"),
            (2, "period", "BAD_USER_INPUT"),
            (3, "value", "BAD_USER_INPUT"),
            (4, "unitCode", "FORBIDDEN"),
            (5, "unitCode", "BAD_USER_INPUT"),
        ],
        "{body}"
    );
    assert_eq!(value_count(&app).await, before, "nothing written");
}

/// Follows the feed to its end from `cursor`, applying entries to `state`; returns the new
/// cursor and the entry cursors read.
async fn follow(
    app: &TestApp,
    token: &str,
    mut cursor: Value,
    state: &mut BTreeMap<(String, String), Option<String>>,
    seen: &mut Vec<String>,
) -> Value {
    let feed = "query($a: String) { indicatorValueChanges(after: $a, first: 50) { entries { cursor deleted value unitCode period } endCursor hasNextPage } }";
    loop {
        let (_, body) = app.gql(Some(token), feed, json!({"a": cursor})).await;
        let page = &body["data"]["indicatorValueChanges"];
        let entries = page["entries"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        for e in entries {
            seen.push(e["cursor"].as_str().unwrap().to_string());
            let key = (
                e["unitCode"].as_str().unwrap().to_string(),
                e["period"].as_str().unwrap().to_string(),
            );
            let v = if e["deleted"] == true {
                None
            } else {
                e["value"].as_str().map(str::to_string)
            };
            state.insert(key, v);
        }
        cursor = page["endCursor"].clone();
        if page["hasNextPage"] != true {
            return cursor;
        }
    }
}

#[tokio::test]
async fn the_feed_neither_skips_nor_repeats_while_writers_commit_concurrently() {
    let app = demo().await;
    // A national reporter writes (tokens minted: no password hashing in the loop).
    let user = crate::common::insert_user(
        &app.db,
        "feed.reporter",
        entity::enums::Role::Reporter,
        None,
    )
    .await;
    let principal = api::auth::Principal {
        id: user.id,
        kind: api::auth::PrincipalKind::User,
        role: entity::enums::Role::Reporter,
        home_unit_id: None,
        agency_id: None,
        scopes: Vec::new(),
    };
    let token = app.tokens.issue(&principal, 0).unwrap().0;
    let units = ["30037", "27559", "27031"];
    let periods = [
        "2025", "2025S2", "2025Q3", "2025Q4", "202510", "202511", "202512",
    ];

    // Four writers, twelve batches each, over overlapping keys; the reader follows meanwhile.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (http, base, token) = (app.http.clone(), app.base.clone(), token.clone());
            tokio::spawn(async move {
                for b in 0..12usize {
                    let rows: Vec<Value> = (0..5)
                        .map(|k| {
                            let n = w * 7 + b * 3 + k;
                            row(
                                units[n % units.len()],
                                periods[(n / 3) % periods.len()],
                                &format!("{}.{}", w, b * 10 + k),
                            )
                        })
                        .collect();
                    let res = http
                        .post(format!("{base}/graphql"))
                        .bearer_auth(&token)
                        .json(&json!({"query": SUBMIT, "variables": {"i": {"values": rows}}}))
                        .send()
                        .await
                        .unwrap();
                    let body: Value = res.json().await.unwrap();
                    // A batch repeating a key within itself is refused whole; others apply.
                    assert!(
                        body["data"]["submitIndicatorValues"].is_object()
                            || body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT",
                        "{body}"
                    );
                }
            })
        })
        .collect();
    let mut state = BTreeMap::new();
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    let mut done = false;
    while !done {
        done = writers.iter().all(|w| w.is_finished());
        cursor = follow(&app, &token, cursor, &mut state, &mut seen).await;
    }
    for w in writers {
        w.await.unwrap();
    }
    follow(&app, &token, cursor, &mut state, &mut seen).await;

    // No entry twice; as many entries as the feed holds.
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "an entry was read twice");
    let stored = entity::indicator_value_change::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(seen.len() as u64, stored, "entries missed");
    // The reader's picture is the final set of values.
    let (_, body) = app
        .gql(
            Some(&token),
            r#"{ indicatorValues(first: 500) { nodes { period value unit { code } } } }"#,
            json!({}),
        )
        .await;
    let finals: BTreeMap<(String, String), Option<String>> =
        body["data"]["indicatorValues"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|n| {
                (
                    (
                        n["unit"]["code"].as_str().unwrap().to_string(),
                        n["period"].as_str().unwrap().to_string(),
                    ),
                    n["value"].as_str().map(str::to_string),
                )
            })
            .collect();
    assert!(!finals.is_empty());
    assert_eq!(state, finals);
    eprintln!(
        "feed: {} entries followed while 4 writers committed 48 batches; {} values",
        seen.len(),
        finals.len()
    );
}

#[tokio::test]
async fn the_catalogue_the_aggregate_with_completeness_and_what_was_known_then() {
    let app = demo().await;
    let admin = token(&app, "admin").await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    let manager = token(&app, "dongthap.manager").await;

    // A summed indicator, added by the national admin; a province manager may not change it.
    let (_, body) = app
        .gql(
            Some(&admin),
            "mutation($i: CreateIndicatorInput!) { createIndicator(input: $i) { indicator { code aggregation direction } } }",
            json!({"i": {"code": "NEW_COOPERATIVES", "name": "Số hợp tác xã thành lập mới", "unitOfMeasure": "HTX", "aggregation": "SUM"}}),
        )
        .await;
    assert_eq!(
        body["data"]["createIndicator"]["indicator"]["aggregation"], "SUM",
        "{body}"
    );
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: UpdateIndicatorInput!) { updateIndicator(input: $i) { indicator { code } } }",
            json!({"i": {"code": "NEW_COOPERATIVES", "direction": "LOWER_IS_BETTER"}}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );

    let coop = |unit: &str, v: &str| json!({"indicatorCode": "NEW_COOPERATIVES", "unitCode": unit, "period": "2025", "value": v});
    let (_, body) = app
        .gql(
            Some(&reporter),
            SUBMIT,
            json!({"i": {"values": [coop("30037", "3")]}}),
        )
        .await;
    let first = body["data"]["submitIndicatorValues"]["values"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();
    let (_, body) = app
        .gql(
            Some(&manager),
            SUBMIT,
            json!({"i": {"values": [coop("30043", "2.5")]}}),
        )
        .await;
    let second = body["data"]["submitIndicatorValues"]["values"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();
    let before_review = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let agg = r#"{ indicatorAggregate(indicatorCode: "NEW_COOPERATIVES", unitCode: "82", period: "2025") { value unitsExpected unitsReported completeness missing { code } } }"#;
    // The manager reads both submitted values: 5.5 over 2 of the province's communes.
    let (_, body) = app.gql(Some(&manager), agg, json!({})).await;
    let a = &body["data"]["indicatorAggregate"];
    assert_eq!(a["value"], "5.5", "{body}");
    assert_eq!(a["unitsReported"], 2);
    let expected = a["unitsExpected"].as_u64().unwrap();
    assert!(expected >= 6, "{body}");
    assert_eq!(a["missing"].as_array().unwrap().len() as u64, expected - 2);
    // Anonymous: nothing published yet.
    let (_, body) = app.gql(None, agg, json!({})).await;
    assert_eq!(
        body["data"]["indicatorAggregate"]["unitsReported"], 0,
        "{body}"
    );
    assert!(body["data"]["indicatorAggregate"]["value"].is_null());

    // The province approves and publishes the commune's value, not the one its manager
    // stored himself: nobody approves his own figures.
    for step in ["approveIndicatorValues", "publishIndicatorValues"] {
        let q = format!(
            "mutation($i: IndicatorValueIdsInput!) {{ {step}(input: $i) {{ values {{ status }} }} }}"
        );
        let (_, body) = app
            .gql(Some(&manager), &q, json!({"i": {"ids": [first]}}))
            .await;
        assert!(body["errors"].is_null(), "{body}");
        let (_, body) = app
            .gql(Some(&manager), &q, json!({"i": {"ids": [second]}}))
            .await;
        // Approving his own figure is refused; publishing it, it is not approved.
        let want = if step == "approveIndicatorValues" {
            "FORBIDDEN"
        } else {
            "BAD_USER_INPUT"
        };
        assert_eq!(body["errors"][0]["extensions"]["code"], want, "{body}");
    }
    let (_, body) = app.gql(None, agg, json!({})).await;
    let a = &body["data"]["indicatorAggregate"];
    assert_eq!(
        (a["value"].as_str(), a["unitsReported"].as_u64()),
        (Some("3"), Some(1)),
        "{body}"
    );

    // What was known before the review: submitted, version 1.
    let (_, body) = app
        .gql(
            Some(&manager),
            r#"query($t: DateTime) { indicatorValues(filter: {indicatorCodes: ["NEW_COOPERATIVES"], unitCode: "30037"}, knownAt: $t) { nodes { status version value } } }"#,
            json!({"t": before_review}),
        )
        .await;
    assert_eq!(
        body["data"]["indicatorValues"]["nodes"],
        json!([{"status": "SUBMITTED", "version": 1, "value": "3"}]),
        "{body}"
    );
}

/// `unitCode` of a province with `includeDescendants` reads the values by the province stored
/// on each (one index range, `indicator_value.province_code`): it must hold exactly what the
/// units below the province hold, for values from either write path, and follow a unit that a
/// correction moves to another province.
#[tokio::test]
async fn a_province_reads_the_values_of_its_units_and_follows_a_unit_moved_by_a_correction() {
    let app = demo().await;
    let admin = token(&app, "admin").await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    let (_, body) = app
        .gql(
            Some(&reporter),
            SUBMIT,
            json!({"i": {"values": [row("30037", "2025", "0.95"), row("30037", "2025Q3", "0.96")]}}),
        )
        .await;
    assert_eq!(
        body["data"]["submitIndicatorValues"]["created"], 2,
        "{body}"
    );
    // The province (82) and the commune itself: the same two values, in id order; none under 79.
    let read = |unit: &str, below: bool| {
        format!(
            r#"{{ indicatorValues(filter: {{unitCode: "{unit}", includeDescendants: {below}, periodFrom: "2025", periodTo: "2025Q4"}}) {{ totalCount nodes {{ period unit {{ code }} }} }} }}"#
        )
    };
    let periods = |body: &Value| -> Vec<String> {
        body["data"]["indicatorValues"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|n| n["period"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, province) = app.gql(Some(&admin), &read("82", true), json!({})).await;
    let (_, commune) = app
        .gql(Some(&admin), &read("30037", false), json!({}))
        .await;
    assert_eq!(periods(&province), ["2025", "2025Q3"], "{province}");
    assert_eq!(periods(&province), periods(&commune));
    assert_eq!(province["data"]["indicatorValues"]["totalCount"], 2);
    let (_, other) = app.gql(Some(&admin), &read("79", true), json!({})).await;
    assert!(periods(&other).is_empty(), "{other}");

    // The bulk import path (through `COPY` on PostgreSQL) stores the province too.
    let csv = "indicator,unit,period,disaggregation,value,status,comment,version,updated_at\n\
               POOR_HOUSEHOLD_RATE,30043,2025,total,1.5,,,,\n";
    let res = app
        .http
        .post(format!("{}/import/indicator-values", app.base))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let report: Value = res.json().await.unwrap();
    assert_eq!((status, &report["imported"]), (200, &json!(1)), "{report}");
    let (_, province) = app.gql(Some(&admin), &read("82", true), json!({})).await;
    assert_eq!(
        province["data"]["indicatorValues"]["totalCount"], 3,
        "{province}"
    );
    let stored: Vec<Option<String>> = entity::indicator_value::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.province_code)
        .collect();
    assert_eq!(stored, vec![Some("82".to_string()); 3]);

    // A same-day correction moves Xã Tháp Mười to 79: its values follow it.
    let mut units = api::seed::parse_units(
        "u",
        include_str!("../../api/data/demo/units-2025-07-01.csv"),
    )
    .unwrap();
    units
        .iter_mut()
        .find(|u| u.code == "30037")
        .unwrap()
        .parent_code = Some("79".into());
    api::services::unit_import::apply_snapshot(
        &app.db,
        &units,
        Some(chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()),
    )
    .await
    .unwrap();
    let (_, moved) = app.gql(Some(&admin), &read("79", true), json!({})).await;
    assert_eq!(periods(&moved), ["2025", "2025Q3"], "{moved}");
    let (_, province) = app.gql(Some(&admin), &read("82", true), json!({})).await;
    assert_eq!(
        province["data"]["indicatorValues"]["totalCount"], 1,
        "{province}"
    );
}

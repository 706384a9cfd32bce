//! Bulk files of indicator values over HTTP and at the command line: a commune reporter imports,
//! the province's manager publishes some; an anonymous export in each format holds exactly the
//! published ones; an export imported again changes nothing; bad rows come back together and
//! nothing is written, or the good rows land with `skipInvalid`; decimal commas; DHIS2 files;
//! duplicates across chunks; a long export streams whole; the CLI imports a file.

use crate::common::{TestApp, demo_token as token, demo_with_users as demo};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const CSV_HEADER: &str =
    "indicator,unit,period,disaggregation,value,status,comment,version,updated_at";
const DHIS2_HEADER: &str = "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value,storedby,lastupdated,comment,followup";

/// POSTs a file to the import route; the status and the JSON body.
async fn import(app: &TestApp, token: Option<&str>, params: &str, file: String) -> (u16, Value) {
    let mut req = app
        .http
        .post(format!("{}/import/indicator-values{params}", app.base))
        .header("content-type", "text/csv")
        .body(file);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// GETs an export; the status, the content type and the body.
async fn export(app: &TestApp, token: Option<&str>, params: &str) -> (u16, String, String) {
    let mut req = app
        .http
        .get(format!("{}/export/indicator-values{params}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

/// A file in the export's CSV, from (unit, period, disaggregation, value, comment) rows.
fn csv_file(rows: &[(&str, &str, &str, &str, &str)]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER.split(',')).unwrap();
    for (unit, period, dis, value, comment) in rows {
        w.write_record([
            "POOR_HOUSEHOLD_RATE",
            unit,
            period,
            dis,
            value,
            "",
            comment,
            "",
            "",
        ])
        .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// The records of a CSV body (header first).
fn records(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

async fn value_count(app: &TestApp) -> u64 {
    entity::indicator_value::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

async fn feed_count(app: &TestApp) -> u64 {
    entity::indicator_value_change::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

/// The (row, field) pairs of a report's refusals.
fn refusals(report: &Value) -> Vec<(u64, String)> {
    report["rejectedRows"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"))
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap(),
                r["field"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_public_export_holds_exactly_the_published_values_and_a_reimport_changes_nothing() {
    let app = demo().await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    let manager = token(&app, "dongthap.manager").await;

    let file = csv_file(&[
        ("30037", "2025", "total", "0.95", ""),
        ("30037", "2025S2", "total", "0.97", ""),
        ("30037", "2025", "Thành thị", "0.5", "Ghi chú, \"mới\""),
        ("30037", "202512", "total", "1.25", ""),
    ]);
    let (status, report) = import(&app, Some(&reporter), "", file).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["imported"], &report["rejected"], &report["written"]),
        (&json!(4), &json!(0), &json!(true)),
        "{report}"
    );

    // The manager publishes the two 2025 figures.
    let (_, body) = app
        .gql(
            Some(&manager),
            r#"{ indicatorValues(filter: {unitCode: "30037", periodFrom: "2025", periodTo: "2025"}) { nodes { id status period } } }"#,
            json!({}),
        )
        .await;
    // The year's own figures (the range holds its half-years and months too).
    let ids: Vec<Value> = body["data"]["indicatorValues"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|n| n["period"] == "2025")
        .map(|n| n["id"].clone())
        .collect();
    assert_eq!(ids.len(), 2, "{body}");
    for step in ["approveIndicatorValues", "publishIndicatorValues"] {
        let (_, body) = app
            .gql(
                Some(&manager),
                &format!("mutation($i: IndicatorValueIdsInput!) {{ {step}(input: $i) {{ values {{ status }} }} }}"),
                json!({"i": {"ids": ids}}),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let published: BTreeSet<(String, String, String)> =
        [("2025", "total", "0.95"), ("2025", "Thành thị", "0.5")]
            .iter()
            .map(|(p, d, v)| (p.to_string(), d.to_string(), v.to_string()))
            .collect();

    // Anonymous, CSV.
    let (status, ct, body) = export(&app, None, "?format=csv").await;
    assert_eq!(
        (status, ct.as_str()),
        (200, "text/csv; charset=utf-8"),
        "{body}"
    );
    let recs = records(&body);
    assert_eq!(recs[0].join(","), CSV_HEADER);
    let got: BTreeSet<(String, String, String)> = recs[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), 9, "{r:?}");
            assert_eq!(
                (r[0].as_str(), r[1].as_str()),
                ("POOR_HOUSEHOLD_RATE", "30037")
            );
            assert_eq!(r[5], "PUBLISHED");
            (r[2].clone(), r[3].clone(), r[4].clone())
        })
        .collect();
    assert_eq!(recs.len(), 3, "{body}");
    assert_eq!(got, published);
    assert!(
        recs.iter().any(|r| r[6] == "Ghi chú, \"mới\""),
        "a comment with a comma and quotes survives: {body}"
    );

    // Anonymous, NDJSON.
    let (status, ct, body) = export(&app, None, "?format=ndjson").await;
    assert_eq!(
        (status, ct.as_str()),
        (200, "application/x-ndjson"),
        "{body}"
    );
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{body}");
    let got: BTreeSet<(String, String, String)> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["status"], "PUBLISHED");
            assert_eq!(l["indicator"], "POOR_HOUSEHOLD_RATE");
            assert!(l["version"].is_i64() && l["updated_at"].is_string(), "{l}");
            (
                l["period"].as_str().unwrap().to_string(),
                l["disaggregation"].as_str().unwrap().to_string(),
                l["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, published);

    // Anonymous, DHIS2.
    let (status, _, body) = export(&app, None, "?format=dhis2").await;
    assert_eq!(status, 200, "{body}");
    let recs = records(&body);
    assert_eq!(recs[0].join(","), DHIS2_HEADER);
    assert_eq!(recs.len(), 3, "{body}");
    let got: BTreeSet<(String, String, String)> = recs[1..]
        .iter()
        .map(|r| {
            assert_eq!(
                (r[0].as_str(), r[2].as_str(), r[4].as_str(), r[9].as_str()),
                ("POOR_HOUSEHOLD_RATE", "30037", "", "false"),
                "{r:?}"
            );
            assert!(r[6].starts_with("user:"), "storedby: {r:?}");
            (r[1].clone(), r[3].clone(), r[5].clone())
        })
        .collect();
    assert_eq!(got, published);

    // Filters: the unpublished periods are not there for the public at all.
    let (_, _, body) = export(&app, None, "?periodFrom=2025S2&periodTo=2025S2").await;
    assert_eq!(records(&body).len(), 1, "only the header: {body}");
    let (_, _, body) = export(
        &app,
        None,
        "?indicator=POOR_HOUSEHOLD_RATE&unit=82&descendants=true&status=PUBLISHED&disaggregation=total",
    )
    .await;
    assert_eq!(records(&body).len(), 2, "{body}");

    // The reporter reads his four; imported again they change nothing, in either format.
    let (values, feed) = (value_count(&app).await, feed_count(&app).await);
    for format in ["csv", "dhis2"] {
        let (_, _, body) = export(&app, Some(&reporter), &format!("?format={format}")).await;
        assert_eq!(records(&body).len(), 5, "{body}");
        let (status, report) = import(&app, Some(&reporter), "", body).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["format"], format);
        assert_eq!(
            (
                &report["rows"],
                &report["unchanged"],
                &report["imported"],
                &report["updated"]
            ),
            (&json!(4), &json!(4), &json!(0), &json!(0)),
            "{report}"
        );
    }
    assert_eq!(value_count(&app).await, values);
    assert_eq!(feed_count(&app).await, feed, "no feed entry for nothing");
}

#[tokio::test]
async fn bad_rows_come_back_together_and_nothing_is_written_unless_skip_invalid() {
    let app = demo().await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    let before = value_count(&app).await;
    let file = csv_file(&[
        ("30037", "2025", "total", "0.95", ""),
        ("99999", "2025", "total", "1.0", ""),
        ("30037", "2024-13", "total", "1.0", ""),
        ("30037", "2025Q4", "total", "abc", ""),
    ]);

    let (status, report) = import(&app, Some(&reporter), "", file.clone()).await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(
        refusals(&report),
        [
            (3, "unit".to_string()),
            (4, "period".to_string()),
            (5, "value".to_string())
        ],
        "{report}"
    );
    assert_eq!(
        (&report["rejected"], &report["written"]),
        (&json!(3), &json!(false))
    );
    assert_eq!(value_count(&app).await, before, "nothing written");

    // A dry run with skipInvalid says what would land, and writes nothing.
    let (status, report) = import(
        &app,
        Some(&reporter),
        "?skipInvalid=true&dryRun=true",
        file.clone(),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["imported"], &report["dryRun"]),
        (&json!(1), &json!(true))
    );
    assert_eq!(value_count(&app).await, before, "a dry run writes nothing");

    let (status, report) = import(&app, Some(&reporter), "?skipInvalid=true", file).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["imported"], &report["rejected"], &report["written"]),
        (&json!(1), &json!(3), &json!(true)),
        "{report}"
    );
    assert_eq!(refusals(&report).len(), 3);
    assert_eq!(value_count(&app).await, before + 1);

    // A key repeated in the file: the later row is refused.
    let file = csv_file(&[
        ("30037", "2025S2", "total", "1", ""),
        ("30037", "2025S2", "total", "2", ""),
    ]);
    let (status, report) = import(&app, Some(&reporter), "", file).await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(refusals(&report), [(3, "period".to_string())]);
    assert!(
        report["rejectedRows"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("row 2"),
        "{report}"
    );

    // Who may import: not the public, not a viewer.
    let ok = csv_file(&[("30037", "2025", "total", "0.95", "")]);
    let (status, report) = import(&app, None, "", ok.clone()).await;
    assert_eq!(status, 401, "{report}");
    assert_eq!(report["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let viewer = token(&app, "tanphu.viewer").await;
    let (status, report) = import(&app, Some(&viewer), "", ok.clone()).await;
    assert_eq!(status, 403, "{report}");
    // Nor a reporter outside his scope (Hóc Môn's reporter for Tháp Mười).
    let hocmon = token(&app, "hocmon.reporter").await;
    let (status, report) = import(&app, Some(&hocmon), "", ok).await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(refusals(&report), [(2, "unit".to_string())]);
    assert!(
        report["rejectedRows"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("outside your scope")
    );
}

#[tokio::test]
async fn decimal_commas_and_dhis2_files() {
    let app = demo().await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    let file = format!(
        "{DHIS2_HEADER}\n\
         POOR_HOUSEHOLD_RATE,2025,30037,default,,\"6,5\",,,,false\n\
         POOR_HOUSEHOLD_RATE,2025S2,30037,,,14.780,,,,false\n\
         POOR_HOUSEHOLD_RATE,2025Q4,30037,urban,,\"1.234.567,25\",,,Ghi chú,false\n\
         POOR_HOUSEHOLD_RATE,202512,30037,,,6.5,,,,false\n"
    );
    let (status, report) = import(
        &app,
        Some(&reporter),
        "?decimalComma=true&skipInvalid=true",
        file,
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["format"], "dhis2");
    assert_eq!(report["imported"], 3, "{report}");
    // "6.5" is ambiguous with a decimal comma: refused, not read as 65.
    assert_eq!(refusals(&report), [(5, "value".to_string())], "{report}");
    let (_, body) = app
        .gql(
            Some(&reporter),
            r#"{ indicatorValues(filter: {unitCode: "30037"}) { nodes { period disaggregation value comment } } }"#,
            json!({}),
        )
        .await;
    let got: BTreeSet<(String, String, String)> = body["data"]["indicatorValues"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|n| {
            (
                n["period"].as_str().unwrap().to_string(),
                n["disaggregation"].as_str().unwrap().to_string(),
                n["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("2025", "total", "6.5"),
        ("2025S2", "total", "14780"),
        ("2025Q4", "urban", "1234567.25"),
    ]
    .iter()
    .map(|(p, d, v)| (p.to_string(), d.to_string(), v.to_string()))
    .collect();
    assert_eq!(got, want);

    // Without the option, a decimal comma is refused with a hint.
    let file = csv_file(&[("30037", "2025", "total", "6,5", "")]);
    let (status, report) = import(&app, Some(&reporter), "", file).await;
    assert_eq!(status, 422, "{report}");
    assert!(
        report["rejectedRows"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("decimalComma=true"),
        "{report}"
    );
}

#[tokio::test]
async fn bad_parameters_and_files_are_refused_naming_them() {
    let app = TestApp::spawn_with_demo(|c| {
        c.jwt.secret = Some(crate::common::DEMO_SECRET.into());
        c.limits.max_import_bytes = 4096;
    })
    .await;
    for (params, field) in [
        ("?format=xml", "format"),
        ("?periodFrom=2024-13", "periodFrom"),
        ("?periodTo=20241", "periodTo"),
        ("?status=DONE", "status"),
        ("?indicator=NO_SUCH_INDICATOR", "indicator"),
        ("?indicator=POOR_HOUSEHOLD_RATE,NOPE", "indicator"),
        ("?unit=99999", "unit"),
        ("?unit=abc", "unit"),
        ("?descendants=true", "descendants"),
        ("?unit=82&descendants=yes", "descendants"),
        ("?format=csv&format=csv", "format"),
        ("?page=2", "page"),
    ] {
        let (status, _, body) = export(&app, None, params).await;
        assert_eq!(status, 400, "{params}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        let ext = &body["errors"][0]["extensions"];
        assert_eq!(
            (ext["code"].as_str(), ext["field"].as_str()),
            (Some("BAD_USER_INPUT"), Some(field)),
            "{params}: {body}"
        );
        assert!(ext["requestId"].is_string());
    }
    let (status, _, _) = export(&app, Some("not-a-token"), "").await;
    assert_eq!(status, 401);

    // A national reporter (token minted), for the import's own refusals.
    let user = crate::common::insert_user(
        &app.db,
        "bulk.reporter",
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
    let t = app.tokens.issue(&principal, 0).unwrap().0;
    let ok = csv_file(&[("30037", "2025", "total", "1", "")]);
    for (params, field) in [
        ("?dryRun=maybe", "dryRun"),
        ("?skipinvalid=true", "skipinvalid"),
    ] {
        let (status, body) = import(&app, Some(&t), params, ok.clone()).await;
        assert_eq!(status, 400, "{params}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    for (file, message) in [
        ("", "empty"),
        ("a,b,c\n1,2,3\n", "neither"),
        ("indicator,unit,value\nX,30037,1\n", "`period`"),
    ] {
        let (status, body) = import(&app, Some(&t), "", file.to_string()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "file");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{body}"
        );
    }
    let big = csv_file(&vec![("30037", "2025", "total", "1", ""); 200]);
    assert!(big.len() > 4096);
    let (status, body) = import(&app, None, "", big.clone()).await;
    assert_eq!(status, 401, "the caller first, then the file: {body}");
    let (status, body) = import(&app, Some(&t), "", big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn service_accounts_import_with_values_write_only() {
    let app = demo().await;
    let operator = api::app::Caller::operator(&app.db);
    let home = api::app::lookup::unit_today(&app.db, "unit", "82")
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for (name, scope) in [("reader", "values:read"), ("writer", "values:write")] {
        let (_, secret) = api::app::accounts::create_service_account(
            &app.db,
            &operator,
            api::app::accounts::NewServiceAccount {
                name: name.into(),
                scopes: vec![scope.into()],
                home: Some(home.clone()),
                agency: None,
                expires_at: None,
            },
        )
        .await
        .unwrap();
        let (_, body) = app
            .gql(
                None,
                "mutation($n: String!, $s: String!) { serviceToken(input: {name: $n, secret: $s}) { accessToken } }",
                json!({"n": name, "s": secret}),
            )
            .await;
        tokens.push(
            body["data"]["serviceToken"]["accessToken"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_string(),
        );
    }
    let file = csv_file(&[("30037", "2025", "total", "0.95", "")]);
    let (status, body) = import(&app, Some(&tokens[0]), "", file.clone()).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = import(&app, Some(&tokens[1]), "", file).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 1);
    // Its values arrive submitted; the reader reads them in his scope.
    let (_, _, body) = export(&app, Some(&tokens[0]), "?format=ndjson").await;
    let line: Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(line["status"], "SUBMITTED", "{body}");
}

#[tokio::test]
async fn duplicates_across_chunks_and_a_long_export_streams_whole() {
    let app = demo().await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    // 75 years × 7 periods × 6 disaggregations = 3,150 values: four chunks, four pages.
    let mut rows = Vec::new();
    for year in 2026..2101 {
        for suffix in ["", "S1", "S2", "Q1", "Q2", "Q3", "Q4"] {
            for d in 0..6 {
                rows.push((
                    format!("{year}{suffix}"),
                    format!("d{d}"),
                    format!("{year}.{d}"),
                ));
            }
        }
    }
    let mut file = csv_file(
        &rows
            .iter()
            .map(|(p, d, v)| ("30037", p.as_str(), d.as_str(), v.as_str(), ""))
            .collect::<Vec<_>>(),
    );
    // The first row again, in the last chunk.
    file.push_str("POOR_HOUSEHOLD_RATE,30037,2026,d0,9,,,,\n");
    let started = std::time::Instant::now();
    let (status, report) = import(&app, Some(&reporter), "?skipInvalid=true", file).await;
    let import_ms = started.elapsed().as_millis();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], rows.len(), "{report}");
    assert_eq!(
        refusals(&report),
        [(rows.len() as u64 + 2, "period".to_string())],
        "{report}"
    );
    assert!(
        report["rejectedRows"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("row 2 "),
        "{report}"
    );
    // One commit: a feed entry for every value, all under one commit number.
    let entries = entity::indicator_value_change::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(entries.len(), rows.len());
    let numbers: BTreeSet<Option<i64>> = entries.iter().map(|e| e.commit_seq).collect();
    assert_eq!(numbers.len(), 1, "{numbers:?}");

    let want: BTreeSet<(String, String, String)> = rows.iter().cloned().collect();
    for format in ["csv", "ndjson", "dhis2"] {
        let started = std::time::Instant::now();
        let (status, _, body) = export(&app, Some(&reporter), &format!("?format={format}")).await;
        let ms = started.elapsed().as_millis();
        assert_eq!(status, 200);
        assert!(
            body.ends_with('\n'),
            "{format}: the body ends with a whole line"
        );
        let got: Vec<(String, String, String)> = match format {
            "ndjson" => body
                .lines()
                .map(|l| {
                    let v: Value = serde_json::from_str(l).unwrap();
                    (
                        v["period"].as_str().unwrap().to_string(),
                        v["disaggregation"].as_str().unwrap().to_string(),
                        v["value"].as_str().unwrap().to_string(),
                    )
                })
                .collect(),
            _ => {
                let recs = records(&body);
                let (p, d, v) = if format == "csv" {
                    (2, 3, 4)
                } else {
                    (1, 3, 5)
                };
                recs[1..]
                    .iter()
                    .map(|r| (r[p].clone(), r[d].clone(), r[v].clone()))
                    .collect()
            }
        };
        assert_eq!(got.len(), rows.len(), "{format}: every row once");
        let got: BTreeSet<_> = got.into_iter().collect();
        // Values come back canonical: "2026.0" is "2026".
        let canonical: BTreeSet<(String, String, String)> = want
            .iter()
            .map(|(p, d, v)| {
                let v = v.trim_end_matches('0').trim_end_matches('.').to_string();
                (p.clone(), d.clone(), v)
            })
            .collect();
        assert_eq!(got, canonical, "{format}");
        eprintln!(
            "bulk: exported {} values as {format} ({} bytes) in {ms} ms",
            rows.len(),
            body.len()
        );
    }
    eprintln!(
        "bulk: imported {} values over HTTP in {import_ms} ms",
        rows.len()
    );
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_cli_imports_a_file() {
    let dir = scratch("cli-values");
    let url = format!("sqlite://{}/v.db?mode=rwc", dir.display());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_platform"))
            .args(args)
            .env_remove("CONFIG_FILE")
            .env("DATABASE_URL", &url)
            .env("LOG_LEVEL", "warn")
            .current_dir(&dir)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = run(&["seed-demo"]);
    assert_eq!(code, Some(0), "{stderr}");
    let file = dir.join("values.csv");
    std::fs::write(
        &file,
        csv_file(&[
            ("30037", "2025", "total", "0,95", ""),
            ("27559", "2025", "total", "14.780", ""),
            ("99999", "2025", "total", "1", ""),
        ]),
    )
    .unwrap();
    let path = file.to_str().unwrap();

    let (code, stdout, stderr) = run(&["import", "indicator-values", path, "--decimal-comma"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("row 4: unit: no unit `99999`"), "{stderr}");
    assert!(stdout.contains("nothing written"), "{stdout}");

    let (code, stdout, stderr) = run(&[
        "import",
        "indicator-values",
        path,
        "--decimal-comma",
        "--skip-invalid",
        "--dry-run",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("2 created") && stdout.contains("dry run"),
        "{stdout}"
    );

    let (code, stdout, stderr) = run(&[
        "import",
        "indicator-values",
        path,
        "--decimal-comma",
        "--skip-invalid",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("csv file, 3 rows: 2 created, 0 updated, 0 unchanged, 1 rejected"),
        "{stdout}"
    );
    let (_, stdout, _) = run(&[
        "import",
        "indicator-values",
        path,
        "--decimal-comma",
        "--skip-invalid",
    ]);
    assert!(
        stdout.contains("0 created, 0 updated, 2 unchanged"),
        "{stdout}"
    );

    let (code, _, stderr) = run(&["import", "indicator-values", "no-such-file.csv"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no-such-file.csv"), "{stderr}");
}

#[tokio::test]
async fn an_in_memory_database_checks_every_chunk_first_then_writes() {
    // One connection: the import cannot read through the pool while its transaction holds it.
    let url = api::config::DatabaseUrl::parse("sqlite::memory:").unwrap();
    let db = api::db::connect(&url).await.unwrap();
    api::db::migrate_up(&db).await.unwrap();
    api::seed::seed_demo(&db).await.unwrap();
    let operator = api::app::Caller::operator(&db);
    let file = csv_file(&[
        ("30037", "2025", "total", "1", ""),
        ("27559", "2025", "total", "2", ""),
        ("99999", "2025", "total", "3", ""),
    ]);
    let options = api::app::value_import::Options {
        skip_invalid: true,
        ..Default::default()
    };
    let report = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        api::app::value_import::import(&db, &operator, file.as_bytes(), options, None, |_, _| {}),
    )
    .await
    .expect("no wait for a second connection")
    .unwrap()
    .unwrap();
    assert_eq!(
        (report.created, report.rejected, report.written),
        (2, 1, true)
    );
    let stored = entity::indicator_value::Entity::find()
        .count(&db)
        .await
        .unwrap();
    assert_eq!(stored, 2);
}

/// The staged path on PostgreSQL (and the row-by-row one on SQLite) classify alike: a row
/// equal to the stored value changes nothing, a changed one is updated with a revision, an
/// approved value that differs is refused by row, and every change lands in the feed once.
#[tokio::test]
async fn an_import_updates_refuses_locked_values_by_row_and_feeds_every_change() {
    let app = demo().await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    let manager = token(&app, "dongthap.manager").await;
    let first = csv_file(&[
        ("30037", "2024", "total", "1", ""),
        ("30037", "2024S1", "total", "2", ""),
        ("30037", "2024S2", "total", "3", "ba"),
    ]);
    let (status, report) = import(&app, Some(&reporter), "", first).await;
    assert_eq!((status, &report["imported"]), (200, &json!(3)), "{report}");

    // The manager approves the 2024S1 figure.
    let (_, body) = app
        .gql(
            Some(&manager),
            r#"{ indicatorValues(filter: {unitCode: "30037", periodFrom: "2024S1", periodTo: "2024S1"}) { nodes { id } } }"#,
            json!({}),
        )
        .await;
    let id = body["data"]["indicatorValues"]["nodes"][0]["id"].clone();
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: IndicatorValueIdsInput!) { approveIndicatorValues(input: $i) { values { status } } }",
            json!({"i": {"ids": [id]}}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let feed = "query($a: String) { indicatorValueChanges(after: $a, first: 100) { entries { period value } endCursor } }";
    let (_, body) = app.gql(Some(&manager), feed, json!({"a": null})).await;
    let cursor = body["data"]["indicatorValueChanges"]["endCursor"].clone();
    let (values, changes) = (value_count(&app).await, feed_count(&app).await);

    // Unchanged, locked, changed (6.50 is the stored 6.5 once written), new.
    let second = csv_file(&[
        ("30037", "2024", "total", "1.000", ""),
        ("30037", "2024S1", "total", "5", ""),
        ("30037", "2024S2", "total", "6.50", "ba"),
        ("30037", "2023", "total", "7", ""),
    ]);
    let (status, report) = import(&app, Some(&reporter), "", second.clone()).await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(
        refusals(&report),
        vec![(3, "value".to_string())],
        "{report}"
    );
    let reason = report["rejectedRows"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("APPROVED"), "{reason}");
    assert_eq!(
        (value_count(&app).await, feed_count(&app).await),
        (values, changes),
        "a refused import writes nothing"
    );

    let (status, report) = import(&app, Some(&reporter), "?skipInvalid=true", second).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (
            &report["unchanged"],
            &report["updated"],
            &report["imported"],
            &report["rejected"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(1)),
        "{report}"
    );
    assert_eq!(value_count(&app).await, values + 1);
    let (_, body) = app.gql(Some(&manager), feed, json!({"a": cursor})).await;
    let got: BTreeSet<(String, String)> = body["data"]["indicatorValueChanges"]["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| {
            (
                e["period"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [("2024S2", "6.5"), ("2023", "7")]
        .iter()
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect();
    assert_eq!(got, want, "exactly the two changes, once each: {body}");
    let (_, body) = app
        .gql(
            Some(&reporter),
            r#"{ indicatorValues(filter: {unitCode: "30037", periodFrom: "2024S2", periodTo: "2024S2"}) { nodes { value version comment revisions { version value } } } }"#,
            json!({}),
        )
        .await;
    let node = &body["data"]["indicatorValues"]["nodes"][0];
    assert_eq!(
        (&node["value"], &node["version"], &node["comment"]),
        (&json!("6.5"), &json!(2), &json!("ba")),
        "{body}"
    );
    let revisions: Vec<(i64, String)> = node["revisions"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|r| {
            (
                r["version"].as_i64().unwrap(),
                r["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        revisions.contains(&(1, "3".into())) && revisions.contains(&(2, "6.5".into())),
        "{body}"
    );
    // Period ranges by date: a year holds its halves; a half-year bound cuts at its days.
    for (from, to, want) in [
        ("2024", "2024", vec!["2024", "2024S1", "2024S2"]),
        ("2024S2", "2024S2", vec!["2024S2"]),
        ("2023", "2024S1", vec!["2023", "2024S1"]),
        ("", "2023", vec!["2023"]),
        ("2024S1", "", vec!["2024", "2024S1", "2024S2"]),
        ("2024Q3", "", vec!["2024S2"]),
    ] {
        let mut filter = json!({"unitCode": "30037", "disaggregation": "total"});
        if !from.is_empty() {
            filter["periodFrom"] = json!(from);
        }
        if !to.is_empty() {
            filter["periodTo"] = json!(to);
        }
        let (_, body) = app
            .gql(
                Some(&reporter),
                "query($f: IndicatorValueFilter) { indicatorValues(filter: $f) { nodes { period } } }",
                json!({"f": filter}),
            )
            .await;
        let mut got: Vec<String> = body["data"]["indicatorValues"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|n| n["period"].as_str().unwrap().to_string())
            .collect();
        got.sort();
        assert_eq!(got, want, "{from}..{to}: {body}");
        let mut params = "?disaggregation=total".to_string();
        for (name, v) in [("periodFrom", from), ("periodTo", to)] {
            if !v.is_empty() {
                params.push_str(&format!("&{name}={v}"));
            }
        }
        let (_, _, csv) = export(&app, Some(&reporter), &params).await;
        assert_eq!(records(&csv).len(), want.len() + 1, "{from}..{to}: {csv}");
    }
}

/// An indicator that declares its disaggregations takes only those and `total`, in a
/// submission and in a file; a list that leaves out one in use is refused.
#[tokio::test]
async fn declared_disaggregations_are_the_only_ones_taken() {
    let app = demo().await;
    let admin = token(&app, "admin").await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    let update = "mutation($i: UpdateIndicatorInput!) { updateIndicator(input: $i) { indicator { disaggregations } } }";
    let (_, body) = app
        .gql(
            Some(&admin),
            update,
            json!({"i": {"code": "POOR_HOUSEHOLD_RATE", "disaggregations": ["Thành thị", "Nông thôn", "total", "Thành thị"]}}),
        )
        .await;
    assert_eq!(
        body["data"]["updateIndicator"]["indicator"]["disaggregations"],
        json!(["Thành thị", "Nông thôn"]),
        "{body}"
    );
    let file = csv_file(&[
        ("30037", "2024", "total", "1", ""),
        ("30037", "2024", "Nông thôn", "2", ""),
        ("30037", "2024", "Nam", "3", ""),
    ]);
    let (status, report) = import(&app, Some(&reporter), "", file).await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(
        refusals(&report),
        vec![(4, "disaggregation".to_string())],
        "{report}"
    );
    let (_, body) = app
        .gql(
            Some(&reporter),
            "mutation($i: SubmitIndicatorValuesInput!) { submitIndicatorValues(input: $i) { created } }",
            json!({"i": {"values": [{"indicatorCode": "POOR_HOUSEHOLD_RATE", "unitCode": "30037",
                "period": "2024", "disaggregation": "Nam", "value": "3"}]}}),
        )
        .await;
    assert_eq!(
        (
            &body["errors"][0]["extensions"]["field"],
            &body["errors"][0]["extensions"]["index"]
        ),
        (&json!("disaggregation"), &json!(0)),
        "{body}"
    );
    // In use: Nông thôn, once a value carries it.
    let file = csv_file(&[("30037", "2024", "Nông thôn", "2", "")]);
    let (status, report) = import(&app, Some(&reporter), "", file).await;
    assert_eq!(status, 200, "{report}");
    let (_, body) = app
        .gql(
            Some(&admin),
            update,
            json!({"i": {"code": "POOR_HOUSEHOLD_RATE", "disaggregations": ["Thành thị"]}}),
        )
        .await;
    assert_eq!(
        (
            &body["errors"][0]["extensions"]["code"],
            &body["errors"][0]["extensions"]["field"]
        ),
        (&json!("BAD_USER_INPUT"), &json!("disaggregations")),
        "{body}"
    );
    // Null: any again.
    let (_, body) = app
        .gql(
            Some(&admin),
            update,
            json!({"i": {"code": "POOR_HOUSEHOLD_RATE", "disaggregations": null}}),
        )
        .await;
    assert_eq!(
        body["data"]["updateIndicator"]["indicator"]["disaggregations"],
        Value::Null,
        "{body}"
    );
}

#[tokio::test]
async fn export_filters_are_data_whatever_their_quotes_and_backslashes() {
    let app = demo().await;
    let reporter = token(&app, "thapmuoi.reporter").await;
    let before = value_count(&app).await;
    // A disaggregation and a comment with SQL's quote, a backslash and a comment marker: the
    // PostgreSQL export writes its filters into its `COPY` statement as quoted literals.
    let odd = r"O'Brien \x01 ''; -- x";
    let comment = r#"Ghi chú, "mới"; 'x' \ y"#;
    let file = csv_file(&[
        ("30037", "2025", odd, "1.50", comment),
        ("30037", "2025", "total", "2", ""),
    ]);
    let (status, report) = import(&app, Some(&reporter), "", file).await;
    assert_eq!((status, &report["imported"]), (200, &json!(2)), "{report}");

    let filter: String = odd
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let (status, _, body) = export(
        &app,
        Some(&reporter),
        &format!("?format=csv&disaggregation={filter}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let recs = records(&body);
    assert_eq!(recs.len(), 2, "the header and the one value: {body}");
    assert_eq!(
        (
            recs[1][3].as_str(),
            recs[1][4].as_str(),
            recs[1][6].as_str()
        ),
        (odd, "1.5", comment)
    );
    let (_, _, body) = export(
        &app,
        Some(&reporter),
        &format!("?format=ndjson&disaggregation={filter}"),
    )
    .await;
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 1, "{body}");
    assert_eq!(
        (
            &lines[0]["disaggregation"],
            &lines[0]["comment"],
            &lines[0]["value"]
        ),
        (&json!(odd), &json!(comment), &json!("1.5"))
    );
    assert_eq!(lines[0]["version"], json!(1));
    // A filter that matches nothing is an empty file, not an error.
    let (status, _, body) = export(
        &app,
        Some(&reporter),
        "?disaggregation=%27%29%20OR%201%3D1%20--",
    )
    .await;
    assert_eq!((status, records(&body).len()), (200, 1), "{body}");
    // NDJSON has no header: nothing matching is an empty body, still a whole one.
    let (status, ct, body) = export(&app, None, "?format=ndjson&disaggregation=none-such").await;
    assert_eq!(
        (status, ct.as_str(), body.as_str()),
        (200, "application/x-ndjson", "")
    );
    // The database is still there and whole.
    assert_eq!(value_count(&app).await, before + 2);
}

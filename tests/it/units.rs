//! Units through time: the foundation's acceptance queries and the relations around them.

use crate::common::{TestApp, codes};
use serde_json::Value;

fn edge_codes(conn: &Value) -> Vec<String> {
    conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn hoc_mon_in_2024_has_its_twelve_communes() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ province(code: "79", asOf: "2024-06-01") { name districts { code communes { code } } } }"#)
        .await;
    let districts = &d["province"]["districts"];
    let mut ds = codes(districts);
    ds.sort();
    assert_eq!(ds, ["767", "769", "784"]);
    let hoc_mon = districts
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "784")
        .unwrap();
    let communes = codes(&hoc_mon["communes"]);
    assert_eq!(communes.len(), 12);
    assert!(communes.contains(&"27559".to_string()));
}

#[tokio::test]
async fn today_there_are_no_districts_and_xa_hoc_mon_is_a_commune_of_79() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ province(code: "79") { districts { code } communes(first: 50) { totalCount edges { node { code name district { code } } } } } }"#)
        .await;
    assert_eq!(d["province"]["districts"], serde_json::json!([]));
    let edges = d["province"]["communes"]["edges"].as_array().unwrap();
    let hoc_mon = edges
        .iter()
        .find(|e| e["node"]["code"] == "27559")
        .expect("27559 listed");
    assert_eq!(hoc_mon["node"]["name"], "Xã Hóc Môn");
    assert!(hoc_mon["node"]["district"].is_null());
    assert_eq!(d["province"]["communes"]["totalCount"], edges.len());
}

#[tokio::test]
async fn hoc_mon_district_successors_are_four_communes() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ district(code: "784", asOf: "2024-06-01") { successors(transitive: true) { unit { code level validFrom } change splitCount effectiveOn } } }"#)
        .await;
    let links = d["district"]["successors"].as_array().unwrap();
    let mut got: Vec<&str> = links
        .iter()
        .map(|l| l["unit"]["code"].as_str().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ["27559", "27568", "27577", "27592"]);
    for l in links {
        assert_eq!(l["change"], "SPLIT");
        assert_eq!(l["splitCount"], 4);
        assert_eq!(l["effectiveOn"], "2025-07-01");
        assert_eq!(l["unit"]["level"], "COMMUNE");
        assert_eq!(l["unit"]["validFrom"], "2025-07-01");
    }
}

#[tokio::test]
async fn dong_thap_87_is_succeeded_by_82() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ province(code: "87", asOf: "2024-06-01") { name validTo successors { unit { code name validFrom } change } } }"#)
        .await;
    let p = &d["province"];
    assert_eq!(p["validTo"], "2025-06-30");
    assert_eq!(
        codes(
            &p["successors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["unit"].clone())
                .collect()
        ),
        ["82"]
    );
    assert_eq!(p["successors"][0]["change"], "MERGED_WHOLE");
    // The code 82 today is the new Đồng Tháp, and it remembers 87.
    let d = app
        .data(r#"{ province(code: "82") { name predecessors { unit { code validTo } } } }"#)
        .await;
    assert_eq!(d["province"]["name"], "Tỉnh Đồng Tháp");
    assert_eq!(d["province"]["predecessors"][0]["unit"]["code"], "87");
    // 87 does not exist today.
    assert!(app.data(r#"{ province(code: "87") { code } }"#).await["province"].is_null());
}

#[tokio::test]
async fn codes_resolve_by_date() {
    let app = TestApp::spawn().await;
    let then = app.data(r#"{ commune(code: "27559", asOf: "2024-06-01") { name kind district { code } province { code } ancestors { code level } } }"#).await;
    assert_eq!(then["commune"]["name"], "Thị trấn Hóc Môn");
    assert_eq!(then["commune"]["kind"], "Thị trấn");
    assert_eq!(then["commune"]["district"]["code"], "784");
    assert_eq!(then["commune"]["province"]["code"], "79");
    assert_eq!(codes(&then["commune"]["ancestors"]), ["79", "784"]);
    let now = app.data(r#"{ commune(code: "27559") { name kind validFrom province { code } ancestors { code } predecessors { unit { code name } change } } }"#).await;
    assert_eq!(now["commune"]["name"], "Xã Hóc Môn");
    assert_eq!(now["commune"]["validFrom"], "2025-07-01");
    assert_eq!(codes(&now["commune"]["ancestors"]), ["79"]);
    let preds: Vec<(String, String)> = now["commune"]["predecessors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["unit"]["code"].as_str().unwrap().to_string(),
                l["change"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The mapping's kind wins over the code-continuation link of the same pair.
    assert!(
        preds.contains(&("27559".into(), "MERGED_WHOLE".into())),
        "{preds:?}"
    );
    assert!(preds.iter().any(|p| p.0 == "27562"));
    assert!(preds.iter().any(|p| p.0 == "784" && p.1 == "SPLIT"));
    // adminUnit answers any level; a wrong-level lookup answers null.
    let any = app.data(r#"{ adminUnit(code: "784", asOf: "2024-06-01") { __typename level } district(code: "79") { code } }"#).await;
    assert_eq!(any["adminUnit"]["__typename"], "District");
    assert!(any["district"].is_null());
}

#[tokio::test]
async fn communes_page_in_vietnamese_order_with_cursors() {
    let app = TestApp::spawn().await;
    let all = app.data(r#"{ province(code: "79") { communes(first: 500) { totalCount edges { node { name } } } } }"#).await;
    let names: Vec<String> = all["province"]["communes"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_string())
        .collect();
    let pos = |n: &str| {
        names
            .iter()
            .position(|x| x == n)
            .unwrap_or_else(|| panic!("{n} in {names:?}"))
    };
    // a < b < c < d < đ, and the type word does not decide.
    assert!(pos("Phường An Khánh") < pos("Xã Bà Điểm"));
    assert!(pos("Xã Bà Điểm") < pos("Phường Cát Lái"));
    assert!(pos("Phường Cát Lái") < pos("Xã Đông Thạnh"));
    assert!(pos("Xã Đông Thạnh") < pos("Phường Hiệp Bình"));
    assert!(pos("Phường Tam Bình") < pos("Phường Tăng Nhơn Phú"));
    assert!(pos("Phường Tăng Nhơn Phú") < pos("Phường Tân Phú"));

    let total = all["province"]["communes"]["totalCount"].as_u64().unwrap() as usize;
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let arg = if after.is_empty() {
            String::new()
        } else {
            format!(r#", after: "{after}""#)
        };
        let d = app
            .data(&format!(r#"{{ province(code: "79") {{ communes(first: 5{arg}) {{ edges {{ node {{ code }} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"#))
            .await;
        let c = &d["province"]["communes"];
        seen.extend(edge_codes(c));
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = c["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    }
    assert_eq!(seen.len(), total);
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), total, "no item twice across pages");

    let last = app.data(r#"{ province(code: "79") { children(last: 2) { edges { node { name } } pageInfo { hasPreviousPage hasNextPage } } } }"#).await;
    let c = &last["province"]["children"];
    assert_eq!(c["edges"].as_array().unwrap().len(), 2);
    assert_eq!(c["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(c["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        c["edges"][1]["node"]["name"],
        names.last().unwrap().as_str()
    );
}

#[tokio::test]
async fn provinces_and_nodes() {
    let app = TestApp::spawn().await;
    let then = app
        .data(r#"{ provinces(asOf: "2024-06-01") { code } }"#)
        .await;
    let mut c = codes(&then["provinces"]);
    c.sort();
    assert_eq!(c, ["01", "79", "87"]);
    let now = app.data(r#"{ provinces { code id } }"#).await;
    let mut c = codes(&now["provinces"]);
    c.sort();
    assert_eq!(c, ["01", "79", "82"]);
    let id = now["provinces"][0]["id"].as_str().unwrap();
    let node = app
        .data(&format!(
            r#"{{ node(id: "{id}") {{ id ... on Province {{ code }} }} }}"#
        ))
        .await;
    assert_eq!(node["node"]["id"], id);
    assert!(app.data(r#"{ node(id: "bm9wZQ") { id } }"#).await["node"].is_null());
}

#[tokio::test]
async fn seeding_twice_writes_nothing() {
    let app = TestApp::spawn().await;
    let again = api::seed::seed_demo(&app.db).await.unwrap();
    assert_eq!(again, api::seed::SeedOutcome::AlreadyPresent);
}

#[tokio::test]
async fn nested_relations_are_batched() {
    let app = TestApp::spawn().await;
    // Every province, its districts, their communes, each commune's parent, ancestors and
    // successors: the number of statements must not grow with the number of units.
    let deep = r#"{ provinces(asOf: "2024-06-01") { code districts { code province { code }
        communes { code parent { code } ancestors { code } successors(transitive: true) { unit { code parent { code } } } } } } }"#;
    let (data, statements) = app.counted(deep).await;
    let communes: usize = data["provinces"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["districts"].as_array().unwrap())
        .map(|d| d["communes"].as_array().unwrap().len())
        .sum();
    assert_eq!(communes, 70);
    // provinces, children, units by id (parents, grandparents, successors), lineage (two
    // rounds), successors' parents: ten when every batch forms at once. Under a loaded machine
    // a DataLoader batch may split in two, so the bound leaves room for that; one statement per
    // unit would be over a hundred.
    eprintln!("nested query: {statements} statements for {communes} communes");
    assert!(
        statements <= 16,
        "{statements} statements for {communes} communes"
    );

    let (_, one_province) = app
        .counted(r#"{ province(code: "79", asOf: "2024-06-01") { districts { communes { code parent { code } successors { unit { code } } } } } }"#)
        .await;
    let (_, all_provinces) = app
        .counted(r#"{ provinces(asOf: "2024-06-01") { districts { communes { code parent { code } successors { unit { code } } } } } }"#)
        .await;
    assert!(
        all_provinces <= one_province + 4,
        "the count does not depend on the number of provinces: {one_province} for one, {all_provinces} for all"
    );
}

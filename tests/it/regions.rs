//! `/v1/regions` (UN M49 and named regions) and the health endpoints.

use crate::common::{assert_problem, incident, TestApp};
use serde_json::{json, Value};

#[test]
fn regions_list_every_un_m49_region_and_subregion_with_countries() {
    let app = TestApp::start();
    let regions = app.get_json("/v1/regions")["regions"]
        .as_array()
        .unwrap()
        .clone();
    let find = |name: &str| {
        regions
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name}"))
    };
    for region in ["Africa", "Americas", "Asia", "Europe", "Oceania"] {
        assert_eq!(find(region)["kind"], "m49_region");
    }
    let southern_asia = find("Southern Asia");
    assert_eq!(southern_asia["kind"], "m49_subregion");
    assert_eq!(southern_asia["parent"], "Asia");
    let codes: Vec<&str> = southern_asia["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"AFG") && codes.contains(&"PAK") && codes.contains(&"IRN"),
        "{codes:?}"
    );
    let countries: usize = regions
        .iter()
        .filter(|r| r["kind"] == "m49_region")
        .map(|r| r["countries"].as_array().unwrap().len())
        .sum();
    assert!(countries >= 240, "every country has a region: {countries}");
}

#[test]
fn health_and_readiness() {
    let app = TestApp::start();
    assert_eq!(app.get_json("/healthz")["status"], "ok");
    assert_eq!(app.get_json("/readyz")["status"], "ready");
    let missing = app.get("/v1/nothing-here");
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
}

const MIDDLE_EAST: [&str; 9] = ["SY", "YE", "IQ", "PS", "IL", "LB", "TR", "IR", "SA"];

#[test]
fn a_named_region_filters_exactly_its_countries() {
    let app = TestApp::start();
    let mut expected = Vec::new();
    for (n, country) in ["SY", "YE", "IQ", "EG", "AF", "TR", "SA", "JO"]
        .iter()
        .enumerate()
    {
        let created = app.create(&incident(country, &format!("2020-11-{:02}", n + 1)));
        if MIDDLE_EAST.contains(country) {
            expected.push(created["id"].as_i64().unwrap());
        }
    }
    let response = app.put_region("Middle%20East", &MIDDLE_EAST);
    assert_eq!(response.status(), 201);
    let region: Value = response.json().unwrap();
    assert_eq!(region["kind"], "named");
    assert_eq!(region["countries"].as_array().unwrap().len(), 9);
    let mut found = app.ids("/v1/incidents?region=Middle%20East");
    found.sort();
    assert_eq!(found, expected);
    let mut any_case = app.ids("/v1/incidents?region=middle%20east,Northern%20Africa");
    any_case.sort();
    assert_eq!(
        any_case.len(),
        expected.len() + 1,
        "Egypt is in Northern Africa"
    );
    let stats = app.get_json("/v1/stats?region=Middle%20East");
    assert_eq!(stats["data"][0]["incidents"], expected.len());
    let listed = app.get_json("/v1/regions")["regions"].clone();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "Middle East" && r["kind"] == "named"));
}

#[test]
fn named_regions_group_next_to_the_un_m49_regions() {
    let app = TestApp::start();
    for country in ["SY", "EG", "AF"] {
        app.create(&incident(country, "2020-11-01"));
    }
    assert_eq!(app.put_region("Middle%20East", &MIDDLE_EAST).status(), 201);
    let rows = app.get_json("/v1/stats?group_by=region")["data"].clone();
    let groups: Vec<(Value, Value)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["group"]["region"].clone(), r["incidents"].clone()))
        .collect();
    assert_eq!(
        groups,
        [
            (json!("Africa"), json!(1)),
            (json!("Asia"), json!(2)),
            (json!("Middle East"), json!(1)),
        ]
    );
}

#[test]
fn named_regions_are_replaced_deleted_and_checked() {
    let app = TestApp::start();
    assert_eq!(app.put_region("Sahel", &["ML", "NE"]).status(), 201);
    let replaced = app.put_region("sahel", &["ML", "Niger", "BFA"]);
    assert_eq!(replaced.status(), 200, "any case names the same region");
    let region: Value = replaced.json().unwrap();
    let codes: Vec<&str> = region["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["BFA", "MLI", "NER"]);
    assert_problem(
        app.put_region("Sahel", &["ML", "Wakanda"]),
        422,
        "countries[1]",
    );
    assert_problem(app.put_region("Sahel", &[]), 422, "countries");
    assert_eq!(app.put_region("Asia", &["AF"]).status(), 409);
    let as_editor = app.with_token(
        app.client
            .put(app.url("/v1/regions/Levant"))
            .json(&json!({"countries": ["SY"]})),
        &app.editor,
    );
    assert_eq!(as_editor.status(), 403, "named regions need an admin key");
    let delete = |name: &str| app.with_token(app.client.delete(app.url(name)), &app.admin);
    assert_eq!(delete("/v1/regions/SAHEL").status(), 204);
    assert_eq!(delete("/v1/regions/Sahel").status(), 404);
    let problem = assert_problem(app.get("/v1/incidents?region=Sahel"), 400, "region");
    assert!(problem["detail"].as_str().unwrap().contains("Sahel"));
}

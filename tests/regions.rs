//! `GET /v1/regions` and the health endpoints.

mod common;

use common::TestApp;

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

//! The browse page at `/` and the map's clusters (`group_by=cell`); the page itself is tested
//! in a browser by `tests/browser.sh`.

use crate::common::{assert_problem, incident, kabul, ucdp_sample, TestApp};
use std::collections::BTreeMap;

use serde_json::{json, Value};

const CHROMIUM_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn get_with_accept(app: &TestApp, path: &str, accept: &str) -> reqwest::blocking::Response {
    app.client
        .get(app.url(path))
        .header("Accept", accept)
        .send()
        .unwrap()
}

fn header(response: &reqwest::blocking::Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_string()
}

#[test]
fn a_browser_gets_the_page_and_a_program_the_index_of_links() {
    let app = TestApp::start();
    let page = get_with_accept(&app, "/?country=AF&from=2020-11", CHROMIUM_ACCEPT);
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let policy = header(&page, "content-security-policy");
    assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"));
    let html = page.text().unwrap();
    for hook in [
        "data-testid=\"map\"",
        "data-testid=\"result-count\"",
        "data-testid=\"export-csv\"",
        "data-testid=\"export-geojson\"",
        "data-testid=\"filter-country\"",
        "data-testid=\"facet-perpetrator\"",
        "data-testid=\"draft-open\"",
        "data-testid=\"draft-text\"",
        "data-testid=\"draft-key\"",
        "data-testid=\"draft-submit\"",
        "data-testid=\"draft-save\"",
        "/web/app.js",
    ] {
        assert!(html.contains(hook), "the page has {hook}");
    }
    for accept in ["application/json", "*/*"] {
        let index = get_with_accept(&app, "/", accept);
        assert_eq!(index.status(), 200, "{accept}");
        let varies = index
            .headers()
            .get_all("vary")
            .iter()
            .any(|v| v == "Accept");
        assert!(varies, "caches keep the page and the index apart");
        let index: Value = index.json().unwrap();
        assert_eq!(index["links"]["browse"], "/");
        assert_eq!(index["links"]["incidents"], "/v1/incidents");
        assert_eq!(index["links"]["docs"], "/docs/");
    }
}

#[test]
fn the_page_files_are_served_from_the_binary_with_their_types() {
    let app = TestApp::start();
    for (name, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("countries-110m.json", "application/json"),
        ("countries-50m.json", "application/json"),
        ("favicon.svg", "image/svg+xml"),
        ("LICENSES.txt", "text/plain; charset=utf-8"),
    ] {
        let response = app.get(&format!("/web/{name}"));
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(header(&response, "content-type"), content_type, "{name}");
        let etag = header(&response, "etag");
        assert!(!response.bytes().unwrap().is_empty(), "{name}");
        let again = app
            .client
            .get(app.url(&format!("/web/{name}")))
            .header("If-None-Match", &etag)
            .send()
            .unwrap();
        assert_eq!(again.status(), 304, "{name} is revalidated by its ETag");
    }
    let basemap: Value = app.get_json("/web/countries-110m.json");
    assert_eq!(basemap["type"], "Topology");
    assert!(
        basemap["objects"]["countries"]["geometries"]
            .as_array()
            .unwrap()
            .len()
            > 150
    );
    assert_eq!(app.get("/web/missing.js").status(), 404);
    assert_eq!(app.get("/web/../Cargo.toml").status(), 404);
}

#[test]
fn the_docs_link_back_to_the_page_and_try_it_out_starts_empty() {
    let app = TestApp::start();
    let document = app.get_json("/openapi.json");
    assert!(document["info"]["description"]
        .as_str()
        .unwrap()
        .contains("](/)"));
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = &parameter["name"];
                assert!(
                    parameter.get("example").is_none() && parameter.get("examples").is_none(),
                    "{method} {path} {name}: Swagger would pre-fill its example"
                );
                assert!(
                    parameter["schema"].get("example").is_none(),
                    "{method} {path} {name}: nor its schema's"
                );
            }
        }
    }
}

fn cells(app: &TestApp, query: &str) -> Vec<Value> {
    app.get_json(&format!("/v1/stats?{query}"))["data"]
        .as_array()
        .unwrap()
        .clone()
}

fn at(lat: f64, lon: f64, precision: &str, killed: i64) -> Value {
    let mut body = incident("AF", "2020-11-21");
    body["location"]["latitude"] = json!(lat);
    body["location"]["longitude"] = json!(lon);
    body["location"]["geo_precision"] = json!(precision);
    body["casualties"] = json!({"killed": {"low": killed, "best": killed, "high": null}});
    body
}

#[test]
fn cells_are_bboxes_with_counts_sums_and_mean_positions() {
    let app = TestApp::start();
    app.create(&at(34.5, 69.1, "exact", 2));
    app.create(&at(35.5, 68.1, "exact", 4));
    app.create(&at(34.9, 69.9, "admin1", 1));
    app.create(&at(-33.9, -70.7, "place", 3));
    app.create(&incident("AF", "2020-11-22"));
    let rows = cells(&app, "group_by=cell&cell=2");
    let groups: Vec<(Value, i64)> = rows
        .iter()
        .map(|r| (r["group"]["cell"].clone(), r["incidents"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        groups,
        [
            (json!("-72,-34,-70,-32"), 1),
            (json!("68,34,70,36"), 3),
            (Value::Null, 1),
        ]
    );
    let kabul_cell = &rows[1];
    assert_eq!(
        kabul_cell["killed"],
        json!({"low": 7, "best": 7, "high": null, "unknown": 0})
    );
    let mean = |key: &str| kabul_cell[key].as_f64().unwrap();
    assert!((mean("latitude") - 34.966_666).abs() < 1e-5);
    assert!((mean("longitude") - 69.033_333).abs() < 1e-5);
    assert_eq!(
        rows[2]["latitude"],
        Value::Null,
        "no coordinates, no position"
    );

    let split = cells(&app, "group_by=cell,geo_precision&cell=2&country=AF");
    let kinds: Vec<(&str, &str, i64)> = split
        .iter()
        .filter(|r| !r["group"]["cell"].is_null())
        .map(|r| {
            let group = &r["group"];
            let cell = group["cell"].as_str().unwrap();
            (
                cell,
                group["geo_precision"].as_str().unwrap(),
                r["incidents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("-72,-34,-70,-32", "place", 1),
            ("68,34,70,36", "admin1", 1),
            ("68,34,70,36", "exact", 2)
        ]
    );

    // A cell is a bbox: filtering by it finds exactly its incidents.
    let listed = app.get_json("/v1/incidents?bbox=68,34,70,36&count=true")["total"].clone();
    assert_eq!(listed, 3);
}

#[test]
fn cells_keep_to_the_grid_and_the_world() {
    let app = TestApp::start();
    app.create(&at(89.99, 179.99, "exact", 1));
    app.create(&at(0.31, 0.29, "exact", 1));
    let rows = cells(&app, "group_by=cell&cell=0.1");
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["group"]["cell"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["0.2,0.3,0.3,0.4", "179.9,89.9,180,90"]);
    let csv = app
        .get("/v1/stats?group_by=cell&cell=30&format=csv")
        .text()
        .unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("cell,incidents,") && header.ends_with(",latitude,longitude"));
}

#[test]
fn cell_sizes_are_validated() {
    let app = TestApp::start();
    for bad in ["0", "-1", "181", "NaN", "inf", "two"] {
        assert_problem(
            app.get(&format!("/v1/stats?group_by=cell&cell={bad}")),
            400,
            "cell",
        );
    }
    assert_problem(app.get("/v1/stats?cell=2"), 400, "cell");
    assert_eq!(
        app.get("/v1/stats?group_by=cell").status(),
        200,
        "1 degree by default"
    );
}

#[test]
fn claims_count_each_incident_once_per_status() {
    let app = TestApp::start();
    let mut both_claimed = kabul();
    both_claimed["perpetrators"] = json!([
        {"name": "Islamic State", "claim": "claimed"},
        {"name": "ISKP", "claim": "claimed"},
        {"name": "Taliban", "claim": "denied"}
    ]);
    app.create(&both_claimed);
    app.create(&kabul());
    app.create(&incident("AF", "2020-11-22"));
    let claims: Vec<(Value, i64)> = cells(&app, "group_by=claim")
        .iter()
        .map(|r| {
            (
                r["group"]["claim"].clone(),
                r["incidents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        claims,
        [
            (json!("claimed"), 2),
            (json!("denied"), 2),
            (Value::Null, 1)
        ]
    );
    let listed = app.get_json("/v1/incidents?claim=claimed&count=true")["total"].clone();
    assert_eq!(listed, 2, "the facet's count is what the filter finds");
    let pairs = cells(&app, "group_by=perpetrator,claim");
    let islamic_state = pairs
        .iter()
        .find(|r| r["group"] == json!({"perpetrator": "Islamic State", "claim": "claimed"}))
        .unwrap();
    assert_eq!(islamic_state["incidents"], 2);
}

#[test]
fn the_demo_data_clusters_like_the_list() {
    let app = TestApp::start();
    app.import_report("format=ucdp", ucdp_sample());
    let listed = app.get_json("/v1/incidents?limit=1000");
    let mut expected: BTreeMap<(Option<(i64, i64)>, String), i64> = BTreeMap::new();
    for incident in listed["data"].as_array().unwrap() {
        let location = &incident["location"];
        let cell = match (
            location["latitude"].as_f64(),
            location["longitude"].as_f64(),
        ) {
            (Some(lat), Some(lon)) => {
                Some(((lat / 5.0).floor() as i64, (lon / 5.0).floor() as i64))
            }
            _ => None,
        };
        let precision = location["geo_precision"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *expected.entry((cell, precision)).or_default() += 1;
    }
    let mut clustered = BTreeMap::new();
    for row in cells(&app, "group_by=cell,geo_precision&cell=5") {
        let cell = row["group"]["cell"].as_str().map(|bbox| {
            let corner: Vec<f64> = bbox.split(',').map(|n| n.parse().unwrap()).collect();
            ((corner[1] / 5.0) as i64, (corner[0] / 5.0) as i64)
        });
        let precision = row["group"]["geo_precision"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        clustered.insert((cell, precision), row["incidents"].as_i64().unwrap());
    }
    assert_eq!(clustered, expected);
}

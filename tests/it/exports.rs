//! Exports of `GET /v1/incidents`: CSV, GeoJSON and NDJSON of every match, streamed.

use std::collections::HashSet;

use crate::common::{assert_problem, generated_ndjson, incident, kabul, ucdp_sample, TestApp};
use serde_json::{json, Value};

fn total(app: &TestApp, filter: &str) -> u64 {
    app.get_json(&format!("/v1/incidents?count=true&limit=1&{filter}"))["total"]
        .as_u64()
        .unwrap()
}

fn export(app: &TestApp, query: &str) -> (reqwest::header::HeaderMap, String) {
    let response = app.get(&format!("/v1/incidents?{query}"));
    assert_eq!(response.status(), 200, "{query}");
    let headers = response.headers().clone();
    (headers, response.text().unwrap())
}

#[test]
fn a_csv_export_has_a_row_for_every_match_beyond_any_page_limit() {
    let app = TestApp::start();
    app.import_report("format=ndjson", generated_ndjson(2_345));
    for filter in ["", "country=AF", "from=2020-03&to=2020-08", "killed_min=3"] {
        let (headers, text) = export(&app, &format!("format=csv&{filter}"));
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let columns = reader.headers().unwrap().clone();
        assert_eq!(&columns[0], "id");
        assert!(columns.iter().any(|c| c == "perpetrator_claims"));
        let ids: Vec<i64> = reader
            .records()
            .map(|r| r.unwrap()[0].parse().unwrap())
            .collect();
        assert_eq!(ids.len() as u64, total(&app, filter), "{filter}");
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            ids.len(),
            "no row twice"
        );
    }
}

#[test]
fn csv_flattens_casualties_perpetrators_and_sources() {
    let app = TestApp::start();
    let stored = app.create(&kabul());
    let (_, text) = export(&app, "format=csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let columns = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let field = |name: &str| row[columns.iter().position(|c| c == name).unwrap()].to_string();
    assert_eq!(field("id"), stored["id"].to_string());
    assert_eq!(field("country_code"), "AFG");
    assert_eq!(field("killed_low"), "8");
    assert_eq!(field("killed_high"), "", "unknown stays empty, not 0");
    assert_eq!(field("perpetrators"), "Islamic State | Taliban");
    assert_eq!(field("perpetrator_claims"), "claimed | denied");
    assert_eq!(field("source_urls"), "");
    assert_eq!(
        field("source_titles"),
        stored["sources"][0]["title"].as_str().unwrap()
    );
}

#[test]
fn geojson_holds_points_and_counts_the_incidents_without_coordinates() {
    let app = TestApp::start();
    app.create(&kabul());
    app.create(&incident("AF", "2020-11-22"));
    let (headers, text) = export(&app, "format=geojson");
    assert_eq!(headers["content-type"], "application/geo+json");
    assert_eq!(headers["x-omitted-without-coordinates"], "1");
    let collection: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(collection["type"], "FeatureCollection");
    assert_eq!(collection["omitted_without_coordinates"], 1);
    let features = collection["features"].as_array().unwrap();
    assert_eq!(features.len(), 1);
    assert_eq!(features[0]["geometry"]["type"], "Point");
    assert_eq!(
        features[0]["geometry"]["coordinates"],
        json!([69.17, 34.53])
    );
    // Flat scalars named as the CSV's columns, as QGIS and GDAL want them.
    let properties = features[0]["properties"].as_object().unwrap();
    assert_eq!(properties["killed_best"], 8);
    assert_eq!(properties["injured_low"], 25);
    assert_eq!(properties["perpetrators"], "Islamic State | Taliban");
    assert!(properties.values().all(|v| !v.is_object() && !v.is_array()));
}

#[test]
fn csv_takes_a_bom_and_chosen_columns() {
    let app = TestApp::start();
    let mut body = kabul();
    body["location"]["place"] = json!("Kābul Ḥawza");
    app.create(&body);
    let (headers, text) = export(&app, "format=csv&bom=true");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("incidents.csv"));
    assert!(text.starts_with('\u{feff}'));
    assert!(text.contains("Kābul Ḥawza"));
    let (_, text) = export(
        &app,
        "format=csv&columns=place,killed_low,perpetrator_claims",
    );
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "place,killed_low,perpetrator_claims",
            "Kābul Ḥawza,8,claimed | denied"
        ]
    );
    let problem = assert_problem(
        app.get("/v1/incidents?format=csv&columns=place,kiled_low"),
        400,
        "columns",
    );
    assert!(
        problem["suggestions"].to_string().contains("killed_low"),
        "{problem}"
    );
}

#[test]
fn an_export_honours_limit_and_cursor() {
    let app = TestApp::start();
    for day in 1..=5 {
        app.create(&incident("AF", &format!("2020-01-0{day}")));
    }
    let (_, text) = export(&app, "format=ndjson&sort=occurred_on&limit=2");
    let days: Vec<String> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["occurred_on"].to_string())
        .collect();
    assert_eq!(days, ["\"2020-01-01\"", "\"2020-01-02\""]);
    let page = app.get_json("/v1/incidents?sort=occurred_on&limit=3");
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = export(
        &app,
        &format!("format=ndjson&sort=occurred_on&cursor={cursor}"),
    );
    assert_eq!(rest.lines().count(), 2);
}

#[test]
fn an_ndjson_export_carries_identity_and_imports_as_it_is() {
    let source = TestApp::start();
    source.create(&kabul());
    let (_, text) = export(&source, "format=ndjson");
    let line: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(line["id"], 1);
    assert_eq!(line["version"], 1);
    assert!(line["updated_at"].is_string());
    let mirror = TestApp::start();
    let report = mirror.import_report("format=ndjson", text.clone().into_bytes());
    assert_eq!(report["inserted"], 1, "{report}");
    let copy = &mirror.get_json("/v1/incidents")["data"][0];
    assert_eq!(copy["casualties"], line["casualties"]);
    assert_eq!(copy["perpetrators"], line["perpetrators"]);
}

#[test]
fn the_accept_header_chooses_the_format_and_format_wins() {
    let app = TestApp::start();
    app.create(&kabul());
    let by_accept = app
        .client
        .get(app.url("/v1/incidents"))
        .header("Accept", "application/x-ndjson")
        .send()
        .unwrap();
    assert_eq!(by_accept.headers()["content-type"], "application/x-ndjson");
    assert_eq!(by_accept.text().unwrap().lines().count(), 1);
    let forced = app
        .client
        .get(app.url("/v1/incidents?format=json"))
        .header("Accept", "text/csv")
        .send()
        .unwrap();
    assert_eq!(forced.headers()["content-type"], "application/json");
    assert_problem(app.get("/v1/incidents?format=xlsx"), 400, "format");
}

#[test]
fn export_then_import_into_an_empty_database_gives_identical_stats() {
    let original = TestApp::start();
    original.import_report("format=ucdp", ucdp_sample());
    original.create(&kabul());
    let (_, ndjson) = export(&original, "format=ndjson");
    let copy = TestApp::start();
    let report = copy.import_report("format=ndjson", ndjson.into_bytes());
    assert_eq!(report["inserted"], 201);
    assert_eq!(report["skipped"], 0);
    for query in [
        "group_by=country,year",
        "group_by=perpetrator",
        "group_by=source_region,dataset",
    ] {
        let stats = |app: &TestApp| app.get_json(&format!("/v1/stats?{query}"))["data"].clone();
        assert_eq!(stats(&original), stats(&copy), "{query}");
    }
    let kabul_copy = &copy.get_json("/v1/incidents?q=rockets")["data"][0];
    assert_eq!(kabul_copy["perpetrators"], kabul()["perpetrators"]);
    assert_eq!(kabul_copy["sources"], kabul()["sources"]);
}

#[test]
fn the_cli_exports_what_the_api_exports() {
    let app = TestApp::start();
    app.import_report("format=ucdp", ucdp_sample());
    let (_, over_http) = export(&app, "format=csv&country=AF&sort=id");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_incidentdb"))
        .args(["export", "--format", "csv", "--country", "AF", "--sort=id"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let from_cli = String::from_utf8(output.stdout).unwrap();
    assert!(from_cli.lines().count() > 10);
    assert_eq!(from_cli, over_http);
}

/// An export answers `HEAD` with its length and `Range` with that part, as GDAL's `/vsicurl/`
/// reads a file: the size first, then ranges.
#[test]
fn exports_have_a_length_and_byte_ranges() {
    let app = TestApp::start();
    app.import_report("format=ucdp", ucdp_sample());
    let path = "/v1/incidents?format=geojson&country=AF";
    let whole = app.get(path).bytes().unwrap();
    let head = app.client.head(app.url(path)).send().unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-length"],
        whole.len().to_string().as_str()
    );
    assert_eq!(head.headers()["accept-ranges"], "bytes");

    let range = |spec: &str| {
        app.client
            .get(app.url(path))
            .header("Range", spec)
            .send()
            .unwrap()
    };
    let part = range("bytes=10-109");
    assert_eq!(part.status(), 206);
    let total = whole.len();
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 10-109/{total}").as_str()
    );
    assert_eq!(part.bytes().unwrap(), whole.slice(10..110));
    let tail = range("bytes=-5");
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().unwrap(), whole.slice(total - 5..));
    let past = range(&format!("bytes={total}-"));
    assert_eq!(past.status(), 416);
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{total}").as_str()
    );
    assert_eq!(
        range("bytes=0-1,5-6").bytes().unwrap(),
        whole,
        "several ranges: the whole"
    );
    assert_eq!(
        range("pages=1").bytes().unwrap(),
        whole,
        "another unit: the whole"
    );
}

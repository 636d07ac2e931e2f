//! `POST /v1/imports`: the real dataset samples (when ../shared is there), our own fixtures in
//! each format, idempotent re-imports, and the abort / skip contract for bad rows.

use std::path::{Path, PathBuf};

use crate::common::{assert_problem, TestApp};
use reqwest::blocking::Response;
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// A dev sample from ../shared/datasets, or `None` when ../shared is not beside the repo.
fn shared_sample(name: &str) -> Option<Vec<u8>> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/datasets")
        .join(name);
    std::fs::read(path).ok()
}

fn import(app: &TestApp, query: &str, body: Vec<u8>) -> Response {
    app.import(query, body)
}

fn report(app: &TestApp, query: &str, body: Vec<u8>) -> Value {
    app.import_report(query, body)
}

fn counts(report: &Value) -> [u64; 4] {
    ["inserted", "updated", "unchanged", "skipped"].map(|k| report[k].as_u64().unwrap())
}

/// Every incident matching `query` (the samples are small enough for one page).
fn all(app: &TestApp, query: &str) -> Vec<Value> {
    let page = app.get_json(&format!("/v1/incidents?limit=1000&{query}"));
    assert_eq!(page["next_cursor"], Value::Null);
    page["data"].as_array().unwrap().clone()
}

/// The sum of a casualty estimate over `incidents`, and how many had it unknown.
fn sum(incidents: &[Value], kind: &str, estimate: &str) -> (i64, usize) {
    let values: Vec<&Value> = incidents
        .iter()
        .map(|i| &i["casualties"][kind][estimate])
        .collect();
    (
        values.iter().filter_map(|v| v.as_i64()).sum(),
        values.iter().filter(|v| v.is_null()).count(),
    )
}

#[test]
fn the_acled_sample_imports_completely_and_keeps_its_facts() {
    let Some(sample) = shared_sample("acled_dev.csv") else {
        return;
    };
    let app = TestApp::start();
    assert_eq!(
        counts(&report(&app, "format=acled", sample.clone())),
        [200, 0, 0, 0]
    );
    assert_eq!(
        counts(&report(&app, "format=acled", sample)),
        [0, 0, 200, 0]
    );

    let every = all(&app, "dataset=acled&sort=occurred_on");
    assert_eq!(every.len(), 200);
    assert_eq!(sum(&every, "killed", "best").0, 130);
    assert_eq!(every[0]["occurred_on"], "2020-04-27");
    assert_eq!(every[199]["occurred_on"], "2020-05-09");
    let afghanistan = all(&app, "country=AF");
    assert_eq!(
        (afghanistan.len(), sum(&afghanistan, "killed", "best").0),
        (15, 36)
    );
    assert!(afghanistan.iter().all(|i| i["location"]["source_region"]
        == "Caucasus and Central Asia"
        && i["location"]["subregion"] == "Southern Asia"));
    let southern = all(&app, "source_region=Southern%20Asia");
    assert_eq!(
        (southern.len(), sum(&southern, "killed", "best").0),
        (25, 1)
    );
    let week = all(
        &app,
        "source_region=Southern%20Asia&from=2020-05-01&to=2020-05-07",
    );
    assert_eq!((week.len(), sum(&week, "killed", "best").0), (14, 1));
    assert!(every
        .iter()
        .all(|i| i["casualties"]["injured"] == json!({"low": null, "best": null, "high": null})));
}

#[test]
fn an_acled_row_is_found_by_dataset_and_external_id_as_stored() {
    let Some(sample) = shared_sample("acled_dev.csv") else {
        return;
    };
    let app = TestApp::start();
    report(&app, "format=acled", sample.clone());
    let text = String::from_utf8(sample).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .unwrap()
    };
    for record in reader.records().take(20) {
        let record = record.unwrap();
        let id = &record[column("event_id_cnty")];
        let found = all(&app, &format!("dataset=acled&external_id={id}"));
        assert_eq!(found.len(), 1, "{id}");
        let found = &found[0];
        assert_eq!(
            found["description"],
            record[column("notes")],
            "{id}: notes untouched"
        );
        assert_eq!(found["attributes"]["inter1"], record[column("inter1")]);
        assert_eq!(
            found["casualties"]["killed"]["best"],
            record[column("fatalities")].parse::<i64>().unwrap()
        );
    }
}

#[test]
fn the_ucdp_sample_imports_completely_and_keeps_its_facts() {
    let Some(sample) = shared_sample("ucdp_dev.csv") else {
        return;
    };
    let app = TestApp::start();
    assert_eq!(
        counts(&report(&app, "format=ucdp", sample.clone())),
        [200, 0, 0, 0]
    );
    assert_eq!(counts(&report(&app, "format=ucdp", sample)), [0, 0, 200, 0]);
    let every = all(&app, "dataset=ucdp");
    assert_eq!(sum(&every, "killed", "best").0, 1121);
    assert_eq!(all(&app, "source_region=Asia").len(), 130);
    assert_eq!(all(&app, "source_region=Middle%20East").len(), 70);
    let june = all(&app, "source_region=Asia&from=2007-06&to=2007-06");
    assert_eq!((june.len(), sum(&june, "killed", "best").0), (20, 103));
    assert!(
        every.iter().any(|i| i["occurred_until"].is_string()),
        "spans keep their end"
    );
}

#[test]
fn the_gtd_sample_imports_completely_and_keeps_unknowns_unknown() {
    let Some(sample) = shared_sample("gtd_dev.csv") else {
        return;
    };
    let app = TestApp::start();
    assert_eq!(
        counts(&report(&app, "format=gtd", sample.clone())),
        [200, 0, 0, 0]
    );
    assert_eq!(counts(&report(&app, "format=gtd", sample)), [0, 0, 200, 0]);
    let every = all(&app, "dataset=gtd");
    assert_eq!(sum(&every, "killed", "best"), (64, 11));
    assert_eq!(sum(&every, "injured", "best"), (109, 31));
    assert_eq!(
        every
            .iter()
            .filter(|i| i["date_precision"] == "month")
            .count(),
        3
    );
    assert_eq!(
        all(&app, "bbox=-180,-90,180,90").len(),
        198,
        "2 rows have no coordinates"
    );
    assert_eq!(all(&app, "source_region=North%20America").len(), 130);
    let west = all(&app, "source_region=Western%20Europe&from=1971&to=1971");
    assert_eq!((west.len(), sum(&west, "killed", "best").0), (18, 30));
    assert!(every
        .iter()
        .any(|i| i["location"]["country"] == "West Germany"
            && i["location"]["country_code"] == "FRG"
            && i["location"]["subregion"] == "Western Europe"));
}

#[test]
fn our_own_fixtures_import_in_every_format() {
    let app = TestApp::start();
    for (format, file) in [
        ("acled", "acled_sample.csv"),
        ("ucdp", "ucdp_sample.csv"),
        ("gtd", "gtd_sample.csv"),
        ("ndjson", "ndjson_sample.ndjson"),
    ] {
        let first = report(&app, &format!("format={format}"), fixture(file));
        let [inserted, updated, unchanged, skipped] = counts(&first);
        assert!(
            inserted > 0 && updated == 0 && unchanged == 0 && skipped == 0,
            "{format}: {first}"
        );
        let again = report(&app, &format!("format={format}"), fixture(file));
        assert_eq!(counts(&again), [0, 0, inserted, 0], "{format} re-import");
    }
}

#[test]
fn a_changed_row_is_updated_and_its_version_bumped() {
    let app = TestApp::start();
    let line = |killed: i64| {
        json!({"external_id": "e1", "occurred_on": "2020-01-01", "location": {"country_code": "SY"},
            "casualties": {"killed": {"best": killed}}})
        .to_string()
    };
    report(&app, "format=ndjson&dataset=mine", line(3).into_bytes());
    let changed = report(&app, "format=ndjson&dataset=mine", line(4).into_bytes());
    assert_eq!(counts(&changed), [0, 1, 0, 0]);
    let found = all(&app, "dataset=mine&external_id=e1");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["casualties"]["killed"]["best"], 4);
    assert_eq!(found[0]["version"], 2);
}

#[test]
fn abort_writes_nothing_and_names_every_bad_line() {
    let app = TestApp::start();
    for (format, file) in [
        ("acled", "acled_broken.csv"),
        ("ucdp", "ucdp_broken.csv"),
        ("gtd", "gtd_broken.csv"),
        ("ndjson", "ndjson_broken.ndjson"),
    ] {
        let response = import(&app, &format!("format={format}"), fixture(file));
        assert_eq!(response.status(), 422, "{format}");
        let problem: Value = response.json().unwrap();
        let errors = problem["errors"].as_array().unwrap();
        assert!(errors.len() >= 5, "{format}: every bad row: {problem}");
        assert!(errors
            .iter()
            .all(|e| e["line"].as_u64().unwrap() >= 2 && e["field"].is_string()));
        assert!(
            app.ids("/v1/incidents").is_empty(),
            "{format}: nothing written"
        );
    }
    let response = import(&app, "format=acled", fixture("acled_broken.csv"));
    let problem: Value = response.json().unwrap();
    assert_eq!(problem["errors"][0]["line"], 3);
    assert_eq!(problem["errors"][0]["field"], "event_date");
}

#[test]
fn skip_writes_the_valid_rows_and_reports_the_rest() {
    let app = TestApp::start();
    let skipped = report(
        &app,
        "format=ndjson&on_error=skip",
        fixture("ndjson_broken.ndjson"),
    );
    assert_eq!(skipped["inserted"], 2);
    assert_eq!(skipped["skipped"], 7);
    let lines: Vec<u64> = skipped["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6, 7, 8]);
    let stored = all(&app, "");
    let ids: Vec<&str> = stored
        .iter()
        .filter_map(|i| i["external_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"ok-1") && ids.contains(&"ok-10"));
}

#[test]
fn imports_need_an_editor_key_and_known_parameters() {
    let app = TestApp::start();
    let url = app.url("/v1/imports?format=ndjson");
    let anonymous = app
        .client
        .post(&url)
        .body(fixture("ndjson_sample.ndjson"))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let reader = app.with_token(
        app.client.post(&url).body(fixture("ndjson_sample.ndjson")),
        &app.reader,
    );
    assert_eq!(reader.status(), 403);
    assert_problem(import(&app, "format=excel", Vec::new()), 400, "format");
    assert_problem(import(&app, "", Vec::new()), 400, "format");
    assert_problem(
        import(&app, "format=acled&on_error=ignore", Vec::new()),
        400,
        "on_error",
    );
    assert!(app.ids("/v1/incidents").is_empty());
}

#[test]
fn an_oversize_body_is_413_and_writes_nothing() {
    let app = TestApp::start_with(|config| config.max_import_bytes = 1000);
    let mut body = Vec::new();
    for i in 0..100 {
        body.extend(
            format!("{{\"external_id\": \"r{i}\", \"occurred_on\": \"2020-01-01\", \"location\": {{\"country_code\": \"AF\"}}}}\n")
                .into_bytes(),
        );
    }
    let response = import(&app, "format=ndjson", body);
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(app.ids("/v1/incidents").is_empty());
}

#[test]
fn an_import_into_an_empty_database_leaves_every_index_in_place() {
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let app = TestApp::start();
    let sql = match incidentdb::db::Backend::of(&app.database_url) {
        incidentdb::db::Backend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' \
             AND tbl_name IN ('incidents', 'incident_perpetrators')"
        }
        incidentdb::db::Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM pg_indexes \
             WHERE tablename IN ('incidents', 'incident_perpetrators')"
        }
    };
    let indexes = || {
        let mut conn = incidentdb::db::connect(&app.database_url).unwrap();
        diesel::sql_query(sql)
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n
    };
    let before = indexes();
    let broken = import(&app, "format=ndjson", fixture("ndjson_broken.ndjson"));
    assert_eq!(broken.status(), 422);
    assert_eq!(indexes(), before, "a failed load puts them back too");
    assert!(counts(&report(&app, "format=ucdp", fixture("ucdp_sample.csv")))[0] > 0);
    assert_eq!(
        indexes(),
        before,
        "the indexes dropped for the load are back"
    );
}

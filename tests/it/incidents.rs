//! The incident resource: create, read, change, delete, with keys and validation.

use crate::common::{assert_problem, incident, kabul, TestApp};
use serde_json::{json, Value};

#[test]
fn the_kabul_report_is_stored_exactly_and_found_by_region_and_by_country() {
    let app = TestApp::start();
    let created = app.create(&kabul());
    let id = created["id"].as_i64().unwrap();

    for query in [
        "/v1/incidents?region=Southern%20Asia&from=2020-11&to=2020-11",
        "/v1/incidents?country=AF&from=2020-11-21&to=2020-11-21",
    ] {
        let page = app.get_json(query);
        let data = page["data"].as_array().unwrap();
        assert_eq!(data.len(), 1, "{query}");
        let found = &data[0];
        assert_eq!(found["id"], id);
        assert_eq!(found["casualties"]["killed"]["low"], 8);
        assert_eq!(found["casualties"]["injured"]["low"], 25);
        assert_eq!(found["casualties"]["injured"]["best"], Value::Null);
        assert_eq!(
            found["perpetrators"],
            json!([
                {"name": "Islamic State", "claim": "claimed"},
                {"name": "Taliban", "claim": "denied"}
            ])
        );
        assert_eq!(
            found["sources"][0]["title"],
            "Rockets Strike Kabul as Mike Pompeo Plans to Meet with Taliban"
        );
        let location = &found["location"];
        assert_eq!(location["country_code"], "AFG");
        assert_eq!(location["country"], "Afghanistan");
        assert_eq!(location["region"], "Asia");
        assert_eq!(location["subregion"], "Southern Asia");
        assert_eq!(found["dataset"], "manual");
        assert_eq!(found["version"], 1);
    }
}

#[test]
fn a_created_incident_has_a_location_and_an_etag() {
    let app = TestApp::start();
    let response = app.post("/v1/incidents", &kabul());
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let created: Value = response.json().unwrap();
    assert_eq!(location, format!("/v1/incidents/{}", created["id"]));

    let fetched = app.get(&location);
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["etag"], "\"1\"");
    assert_eq!(fetched.json::<Value>().unwrap(), created);
}

#[test]
fn writes_need_a_key_with_a_writing_role() {
    let app = TestApp::start();
    let url = app.url("/v1/incidents");
    let anonymous = app.client.post(&url).json(&kabul()).send().unwrap();
    assert_problem_status(anonymous, 401);
    let unknown = app.with_token(app.client.post(&url).json(&kabul()), "idb_not_a_key");
    assert_problem_status(unknown, 401);
    let reader = app.with_token(app.client.post(&url).json(&kabul()), &app.reader);
    assert_problem_status(reader, 403);
    let admin = app.with_token(app.client.post(&url).json(&kabul()), &app.admin);
    assert_eq!(admin.status(), 201);
    assert_eq!(
        app.ids("/v1/incidents").len(),
        1,
        "only the admin's write landed"
    );
}

fn assert_problem_status(response: reqwest::blocking::Response, status: u16) {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[test]
fn invalid_fields_are_422_naming_each_field_and_nothing_is_written() {
    let app = TestApp::start();
    let cases = [
        (json!({"occurred_on": "2020-13-01"}), "occurred_on"),
        (
            json!({"location": {"country_code": "AF", "latitude": 91.0, "longitude": 69.0}}),
            "location.latitude",
        ),
        (
            json!({"location": {"country_code": "AF", "latitude": 34.0, "longitude": 181.0}}),
            "location.longitude",
        ),
        (
            json!({"perpetrators": [{"name": "Taliban", "claim": "boasted"}]}),
            "perpetrators[0].claim",
        ),
        (
            json!({"casualties": {"killed": {"low": -1}}}),
            "casualties.killed.low",
        ),
        (
            json!({"location": {"country_code": "XX"}}),
            "location.country_code",
        ),
        (json!({"occurred_until": "2020-11-01"}), "occurred_until"),
        (json!({"date_precision": "hour"}), "date_precision"),
        (json!({"colour": "red"}), "colour"),
    ];
    for (change, field) in cases {
        let mut body = kabul();
        merge(&mut body, &change);
        assert_problem(app.post("/v1/incidents", &body), 422, field);
    }
    assert!(app.ids("/v1/incidents").is_empty());
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

#[test]
fn unknown_ids_are_404() {
    let app = TestApp::start();
    assert_problem_status(app.get("/v1/incidents/424242"), 404);
    assert_problem(app.get("/v1/incidents/abc"), 400, "id");
    let url = app.url("/v1/incidents/424242");
    assert_problem_status(app.with_token(app.client.delete(&url), &app.editor), 404);
    let patch = app.client.patch(&url).json(&json!({"description": "x"}));
    assert_problem_status(app.with_token(patch, &app.editor), 404);
}

#[test]
fn dataset_and_external_id_are_unique_together() {
    let app = TestApp::start();
    let mut first = incident("IQ", "2021-01-01");
    first["dataset"] = json!("acled");
    first["external_id"] = json!("IRQ1");
    app.create(&first);
    let conflict = app.post("/v1/incidents", &first);
    assert_problem_status(conflict, 409);
    first["dataset"] = json!("gtd");
    app.create(&first);
    assert_eq!(app.ids("/v1/incidents?external_id=IRQ1").len(), 2);
}

#[test]
fn patch_merges_bumps_the_version_and_honours_if_match() {
    let app = TestApp::start();
    let created = app.create(&kabul());
    let url = app.url(&format!("/v1/incidents/{}", created["id"]));

    let patch = json!({"casualties": {"killed": {"high": 10}}, "description": null});
    let request = app
        .client
        .patch(&url)
        .header("If-Match", "\"1\"")
        .json(&patch);
    let response = app.with_token(request, &app.editor);
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let changed: Value = response.json().unwrap();
    assert_eq!(changed["version"], 2);
    assert_eq!(
        changed["casualties"]["killed"],
        json!({"low": 8, "best": 8, "high": 10})
    );
    assert_eq!(changed["description"], Value::Null);
    assert_eq!(changed["perpetrators"], created["perpetrators"]);
    assert_eq!(changed["sources"], created["sources"]);

    let stale = app
        .client
        .patch(&url)
        .header("If-Match", "\"1\"")
        .json(&patch);
    assert_problem_status(app.with_token(stale, &app.editor), 412);

    let invalid = app
        .client
        .patch(&url)
        .json(&json!({"location": {"latitude": 95}}));
    assert_problem(
        app.with_token(invalid, &app.editor),
        422,
        "location.latitude",
    );

    let moved = app
        .client
        .patch(&url)
        .json(&json!({"location": {"country": "Iraq"}}));
    let moved: Value = app.with_token(moved, &app.editor).json().unwrap();
    assert_eq!(moved["location"]["country_code"], "IRQ");
    assert_eq!(moved["location"]["subregion"], "Western Asia");
    assert_eq!(moved["version"], 3);
}

#[test]
fn delete_removes_the_incident_and_honours_if_match() {
    let app = TestApp::start();
    let created = app.create(&kabul());
    let url = app.url(&format!("/v1/incidents/{}", created["id"]));
    let stale = app.client.delete(&url).header("If-Match", "\"7\"");
    assert_problem_status(app.with_token(stale, &app.editor), 412);
    let anonymous = app.client.delete(&url).send().unwrap();
    assert_problem_status(anonymous, 401);
    let deleted = app.with_token(
        app.client.delete(&url).header("If-Match", "\"1\""),
        &app.editor,
    );
    assert_eq!(deleted.status(), 204);
    assert_problem_status(app.get(&format!("/v1/incidents/{}", created["id"])), 404);
    assert!(app.ids("/v1/incidents").is_empty());
}

#[test]
fn a_mirror_follows_changes_and_deletions() {
    let app = TestApp::start();
    let first = app.create(&incident("AF", "2020-11-01"));
    let feed = app.get_json("/v1/incidents/deleted");
    assert_eq!(feed["data"], json!([]));
    let since = feed["as_of"].as_str().unwrap().to_string();
    let second = app.create(&incident("IQ", "2020-11-02"));
    let delete = app
        .client
        .delete(app.url(&format!("/v1/incidents/{}", first["id"])));
    assert_eq!(app.with_token(delete, &app.editor).status(), 204);
    let changed = app.ids(&format!("/v1/incidents?updated_since={since}"));
    assert_eq!(changed, [second["id"].as_i64().unwrap()]);
    let deleted = app.get_json(&format!("/v1/incidents/deleted?since={since}"));
    let rows = deleted["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], first["id"]);
    assert_eq!(rows[0]["dataset"], "manual");
    let nothing_new = app.get_json("/v1/incidents/deleted?since=2999-01-01T00:00:00Z");
    assert_eq!(nothing_new["data"], json!([]));
    assert_problem(
        app.get("/v1/incidents/deleted?since=yesterday"),
        400,
        "since",
    );
}

#[test]
fn sources_reporting_several_incidents_are_shared() {
    let app = TestApp::start();
    let source = json!({"url": "https://example.org/a", "title": "Two attacks", "publisher": "Wire",
        "published_on": "2020-11-22", "excerpt": null});
    for place in ["Kabul", "Jalalabad"] {
        let mut body = incident("AF", "2020-11-21");
        body["location"]["place"] = json!(place);
        body["sources"] = json!([source]);
        app.create(&body);
    }
    let page = app.get_json("/v1/incidents?country=AF");
    for found in page["data"].as_array().unwrap() {
        assert_eq!(found["sources"], json!([source]));
    }
}

#[test]
fn reads_can_require_a_key() {
    let app = TestApp::start_with(|config| config.read_requires_key = true);
    assert_problem_status(app.get("/v1/incidents"), 401);
    let with_key = app.with_token(app.client.get(app.url("/v1/incidents")), &app.reader);
    assert_eq!(with_key.status(), 200);
}

//! `POST /v1/drafts`: the seed report (`../shared/reference`, copied into the fixtures) drafts to the incident the project began with, the
//! draft saves as it is and is found again; nothing recognisable, huge and invalid bodies.

use crate::common::{assert_problem, TestApp};
use serde_json::{json, Value};

const SEED: &str = include_str!("../fixtures/drafts/01-kabul-rockets-seed.txt");

fn seed_request() -> Value {
    json!({"text": SEED, "published_on": "2020-11-21", "publisher": "example.org"})
}

/// The evidence for `field`, which must cite text that is really at its offsets.
fn evidence<'a>(drafted: &'a Value, text: &str, field: &str) -> &'a Value {
    let found = drafted["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == field)
        .unwrap_or_else(|| panic!("evidence for {field}: {drafted}"));
    let (start, end) = (
        found["start"].as_u64().unwrap() as usize,
        found["end"].as_u64().unwrap() as usize,
    );
    let cited: String = text.chars().skip(start).take(end - start).collect();
    assert_eq!(cited, found["text"], "{field} cites its offsets");
    found
}

#[test]
fn the_seed_report_drafts_to_the_kabul_incident_with_evidence_and_saves() {
    let app = TestApp::start();
    let response = app.post("/v1/drafts", &seed_request());
    assert_eq!(response.status(), 200);
    let drafted: Value = response.json().unwrap();
    let draft = &drafted["draft"];
    assert_eq!(draft["occurred_on"], "2020-11-21");
    assert_eq!(draft["location"]["country_code"], "AFG");
    assert_eq!(draft["location"]["place"], "Kabul");
    let (lat, lon) = (
        draft["location"]["latitude"].as_f64().unwrap(),
        draft["location"]["longitude"].as_f64().unwrap(),
    );
    assert!(
        (lat - 34.53).abs() < 0.15 && (lon - 69.17).abs() < 0.15,
        "within 20 km of Kabul: {lat},{lon}"
    );
    assert_eq!(draft["casualties"]["killed"]["low"], 8);
    assert_eq!(draft["casualties"]["injured"]["low"], 25);
    assert_eq!(draft["casualties"]["injured"]["best"], Value::Null);
    assert_eq!(
        draft["perpetrators"],
        json!([{"name": "Islamic State", "claim": "claimed"}, {"name": "Taliban", "claim": "denied"}])
    );
    assert_eq!(draft["event_type"], "Explosions/Remote violence");
    assert_eq!(draft["sources"][0]["publisher"], "example.org");
    assert_eq!(
        draft["sources"][0]["title"],
        "Rockets Strike Kabul as Mike Pompeo Plans to Meet with Taliban"
    );
    for field in [
        "occurred_on",
        "location.country_code",
        "location.place",
        "location.latitude",
        "casualties.killed.low",
        "casualties.injured.low",
        "perpetrators[0].claim",
        "perpetrators[1].claim",
        "event_type",
        "sources[0].excerpt",
    ] {
        evidence(&drafted, SEED, field);
    }
    assert_eq!(
        evidence(&drafted, SEED, "casualties.killed.low")["text"],
        "killing at least eight people"
    );
    assert_eq!(app.ids("/v1/incidents").len(), 0, "drafting stores nothing");

    let saved = app.create(draft);
    let found = app.get_json("/v1/incidents?region=Southern%20Asia&from=2020-11");
    assert_eq!(found["data"][0]["id"], saved["id"]);
    assert_eq!(found["data"][0]["location"]["subregion"], "Southern Asia");
}

#[test]
fn nothing_recognisable_is_an_empty_draft_with_warnings() {
    let app = TestApp::start();
    for text in [
        "",
        "Lorem ipsum dolor sit amet.",
        "\u{1F600}\u{0301}é…\n\n\n—",
        "1 2 3 killed at least",
    ] {
        let response = app.post("/v1/drafts", &json!({"text": text}));
        assert_eq!(response.status(), 200, "{text:?}");
        let drafted: Value = response.json().unwrap();
        assert_eq!(drafted["draft"]["occurred_on"], Value::Null);
        assert!(!drafted["warnings"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_megabyte_of_text_answers_and_larger_bodies_are_refused() {
    let app = TestApp::start();
    let paragraph = "Gunmen attacked a market in Baquba on Monday, killing 5 people. Officials met in Doha to talk. ";
    let text = paragraph.repeat(1_000_000 / paragraph.len());
    let started = std::time::Instant::now();
    let response = app.post(
        "/v1/drafts",
        &json!({"text": text, "published_on": "2021-01-20"}),
    );
    assert_eq!(response.status(), 200);
    let drafted: Value = response.json().unwrap();
    assert_eq!(drafted["draft"]["casualties"]["killed"]["low"], 5);
    // Debug builds are several times slower than release (see the README for the figure).
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );

    let too_large = "x".repeat(2 << 20);
    let response = app.post("/v1/drafts", &json!({ "text": too_large }));
    assert_eq!(response.status(), 413);
}

#[test]
fn drafting_needs_an_editor_key_and_a_valid_body() {
    let app = TestApp::start();
    let url = app.url("/v1/drafts");
    let anonymous = app.client.post(&url).json(&seed_request()).send().unwrap();
    assert_eq!(anonymous.status(), 401);
    let reader = app.with_token(app.client.post(&url).json(&seed_request()), &app.reader);
    assert_eq!(reader.status(), 403);
    assert_problem(app.post("/v1/drafts", &json!({})), 422, "text");
    assert_problem(
        app.post(
            "/v1/drafts",
            &json!({"text": "x", "published_on": "21/11/2020"}),
        ),
        422,
        "published_on",
    );
    assert_problem(
        app.post("/v1/drafts", &json!({"text": "x", "language": "en"})),
        422,
        "language",
    );
    assert_problem(
        app.post("/v1/drafts", &json!({"text": "a\u{0}b"})),
        422,
        "text",
    );
}

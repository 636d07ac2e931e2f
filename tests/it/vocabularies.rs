//! `GET /v1/vocabularies/{field}`: the values a field takes among the filtered incidents,
//! with their counts.

use crate::common::{assert_problem, kabul, TestApp};
use serde_json::{json, Value};

/// Two incidents in Bogotá and one in Boyacá (Colombia), Kabul twice (Afghanistan).
fn seeded() -> TestApp {
    let app = TestApp::start();
    let colombia = |admin1: &str, place: &str, perpetrator: &str| {
        json!({"occurred_on": "2021-05-01", "event_type": "Riots",
            "location": {"country_code": "CO", "admin1": admin1, "place": place},
            "perpetrators": [{"name": perpetrator, "claim": "attributed"}]})
    };
    let mut university = kabul();
    university["perpetrators"] = json!([{"name": "Islamic State", "claim": "claimed"},
        {"name": "Islamic State", "claim": "suspected"}]);
    for body in [
        colombia("Bogotá", "Bogotá", "ELN"),
        colombia("Bogotá", "Suba", "ELN"),
        colombia("Boyacá", "Tunja", "FARC dissidents"),
        kabul(),
        university,
    ] {
        app.create(&body);
    }
    app
}

/// `(value, incidents)` of each entry of `GET /v1/vocabularies/{path}`.
fn entries(app: &TestApp, path: &str) -> Vec<(String, i64)> {
    let body: Value = app.get_json(&format!("/v1/vocabularies/{path}"));
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| {
            (
                e["value"].as_str().unwrap().into(),
                e["incidents"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn owned(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected.iter().map(|(v, n)| (v.to_string(), *n)).collect()
}

#[test]
fn values_come_by_count_then_value_with_the_list_filters_and_a_folded_prefix() {
    let app = seeded();
    let cases: Vec<(&str, Vec<(&str, i64)>)> = vec![
        ("admin1", vec![("Bogotá", 2), ("Kabul", 2), ("Boyacá", 1)]),
        ("admin1?q=bog", vec![("Bogotá", 2)]),
        ("admin1?q=BOGOTA", vec![("Bogotá", 2)]),
        ("admin1?q=bogotá", vec![("Bogotá", 2)]),
        ("admin1?q=b", vec![("Bogotá", 2), ("Boyacá", 1)]),
        ("admin1?q=b&country=AF", vec![]),
        ("admin1?country=AF", vec![("Kabul", 2)]),
        ("admin1?q=x", vec![]),
        ("admin1?limit=1", vec![("Bogotá", 2)]),
        (
            "place?country=CO",
            vec![("Bogotá", 1), ("Suba", 1), ("Tunja", 1)],
        ),
        (
            "perpetrator",
            vec![
                ("ELN", 2),
                ("Islamic State", 2),
                ("FARC dissidents", 1),
                ("Taliban", 1),
            ],
        ),
        ("perpetrator?country=AF&q=isl", vec![("Islamic State", 2)]),
        ("event_type?from=2021", vec![("Riots", 3)]),
        ("dataset", vec![("manual", 5)]),
        ("source_region", vec![]),
        ("admin1?admin1=bogota", vec![("Bogotá", 2)]),
    ];
    for (path, expected) in cases {
        let mut expected = owned(&expected);
        expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        assert_eq!(entries(&app, path), expected, "{path}");
    }
}

#[test]
fn unknown_fields_and_bad_parameters_are_400_naming_them() {
    let app = seeded();
    let problem = assert_problem(app.get("/v1/vocabularies/admin3"), 400, "field");
    assert!(problem["suggestions"]
        .as_array()
        .unwrap()
        .contains(&json!("admin1")));
    assert_problem(app.get("/v1/vocabularies/admin1?limit=0"), 400, "limit");
    assert_problem(app.get("/v1/vocabularies/admin1?limit=1001"), 400, "limit");
    assert_problem(app.get("/v1/vocabularies/admin1?contry=AF"), 400, "contry");
    assert_problem(app.get("/v1/vocabularies/admin1?sort=id"), 400, "sort");
    let problem = assert_problem(
        app.get("/v1/vocabularies/place?admin1=Bogta"),
        400,
        "admin1",
    );
    assert_eq!(problem["suggestions"][0], "Bogotá", "{problem}");
}

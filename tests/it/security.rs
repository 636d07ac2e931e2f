//! The protections: keys and roles, revocation, body limits, rate limits, CORS, SQL-looking
//! input, and what every response carries for operators (request ids, metrics).

use crate::common::{assert_problem, incident, kabul, TestApp};
use incidentdb::db::keys;
use serde_json::{json, Value};

fn assert_problem_status(response: reqwest::blocking::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().unwrap();
    assert_eq!(problem["status"], status);
    problem
}

#[test]
fn a_revoked_key_stops_working_at_once() {
    let app = TestApp::start();
    let token = {
        let mut conn = incidentdb::db::connect(&app.database_url).unwrap();
        keys::create(&mut conn, "leaving", keys::Role::Editor).unwrap()
    };
    let post = || {
        let request = app.client.post(app.url("/v1/incidents")).json(&kabul());
        app.with_token(request, &token)
    };
    assert_eq!(post().status(), 201);
    {
        let mut conn = incidentdb::db::connect(&app.database_url).unwrap();
        assert!(keys::revoke(&mut conn, "leaving").unwrap());
    }
    assert_problem_status(post(), 401);
    assert_eq!(app.ids("/v1/incidents").len(), 1);
}

#[test]
fn an_oversized_body_is_413_and_writes_nothing() {
    let app = TestApp::start_with(|config| config.max_body_bytes = 4096);
    let mut body = kabul();
    body["description"] = json!("x".repeat(10_000));
    let problem = assert_problem_status(app.post("/v1/incidents", &body), 413);
    assert!(
        problem["detail"].as_str().unwrap().contains("size"),
        "{problem}"
    );
    assert!(app.ids("/v1/incidents").is_empty());
    assert_eq!(app.post("/v1/incidents", &kabul()).status(), 201);
}

#[test]
fn a_client_over_its_rate_gets_429_with_retry_after() {
    let app = TestApp::start_with(|config| {
        config.rate_limit_per_second = 1;
        config.rate_limit_burst = 3;
    });
    let statuses: Vec<u16> = (0..5)
        .map(|_| app.get("/v1/incidents").status().as_u16())
        .collect();
    assert_eq!(&statuses[..3], [200, 200, 200]);
    assert_eq!(statuses[4], 429);
    let limited = app.get("/v1/incidents");
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem_status(limited, 429);
    let with_key = app.with_token(app.client.get(app.url("/v1/incidents")), &app.reader);
    assert_eq!(with_key.status(), 200, "a key has a budget of its own");
}

#[test]
fn sql_in_input_is_only_ever_data() {
    let app = TestApp::start();
    let mut body = incident("AF", "2020-11-21");
    body["description"] = json!("'); DROP TABLE incidents; --");
    body["location"]["place"] = json!("Robert'); DROP TABLE incidents;--");
    body["perpetrators"] = json!([{"name": "x' OR '1'='1", "claim": "claimed"}]);
    let created = app.create(&body);
    assert_eq!(created["description"], body["description"]);
    app.create(&incident("IQ", "2020-11-22"));
    // In q's language this OR has no word on its left: a 400, not every row.
    assert_problem(app.get("/v1/incidents?q=%27%20OR%201%3D1%20--"), 400, "q");
    for query in [
        "perpetrator=%27%20OR%20%271%27%3D%271",
        "external_id=1%27%20OR%20%271%27%3D%271",
    ] {
        assert!(
            app.ids(&format!("/v1/incidents?{query}")).is_empty(),
            "{query}"
        );
    }
    // A place no incident has: a 400, not every row.
    let place = app.get("/v1/incidents?admin1=%27%20OR%20%271%27%3D%271");
    assert_problem(place, 400, "admin1");
    let exact = app.ids("/v1/incidents?perpetrator=x%27%20OR%20%271%27%3D%271");
    assert_eq!(exact, [created["id"].as_i64().unwrap()]);
    let words = app.ids("/v1/incidents?q=drop%20table");
    assert_eq!(words, [created["id"].as_i64().unwrap()]);
    assert_eq!(
        app.ids("/v1/incidents").len(),
        2,
        "the table is still there"
    );
    // % is no wildcard: a query with no word to search for.
    assert_problem(app.get("/v1/incidents?q=%25"), 400, "q");
}

#[test]
fn framework_errors_are_problems_too() {
    let app = TestApp::start();
    let not_an_id = app.get("/v1/incidents/99999999999999999999");
    assert_eq!(assert_problem_status(not_an_id, 400)["parameter"], "id");
    assert_problem_status(app.get("/v2/anything"), 404);
    let wrong_method = app.client.put(app.url("/v1/incidents")).send().unwrap();
    assert_eq!(wrong_method.headers()["allow"], "GET, HEAD, POST");
    assert_problem_status(wrong_method, 405);
    let feed = app.with_token(
        app.client
            .patch(app.url("/v1/incidents/deleted"))
            .json(&json!({})),
        &app.editor,
    );
    assert_eq!(feed.headers()["allow"], "GET, HEAD");
    assert_problem_status(feed, 405);
    let not_json = app.with_token(
        app.client
            .post(app.url("/v1/incidents"))
            .header("Content-Type", "application/json")
            .body("{\"occurred_on\": "),
        &app.editor,
    );
    let problem = assert_problem_status(not_json, 422);
    assert!(!problem["detail"].as_str().unwrap().contains("src/"));
}

#[test]
fn cors_answers_only_the_configured_origins() {
    let app = TestApp::start_with(|config| {
        config.cors_origins = vec!["https://analyst.example".into()];
    });
    let preflight = |origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/v1/incidents"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .send()
            .unwrap()
    };
    let allowed = preflight("https://analyst.example");
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://analyst.example"
    );
    let other = preflight("https://elsewhere.example");
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    let closed = TestApp::start();
    let response = closed
        .client
        .get(closed.url("/v1/incidents"))
        .header("Origin", "https://analyst.example")
        .send()
        .unwrap();
    assert!(!response
        .headers()
        .contains_key("access-control-allow-origin"));
}

#[test]
fn every_response_has_a_request_id_and_metrics_count_routes() {
    let app = TestApp::start();
    let response = app.get("/v1/incidents?country=AF");
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_ne!(
        app.get("/v1/incidents").headers()["x-request-id"],
        id.as_str()
    );
    app.get("/v1/incidents/12345");
    let metrics = app.get("/metrics").text().unwrap();
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("incidentdb_http_requests_total")
                && l.contains("endpoint=\"/v1/incidents\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no count for the list route:\n{metrics}"));
    assert!(line.ends_with(" 2"), "{line}");
    assert!(metrics.contains("endpoint=\"/v1/incidents/{id}\""));
    assert!(metrics.contains("incidentdb_http_requests_duration_seconds_bucket"));
}

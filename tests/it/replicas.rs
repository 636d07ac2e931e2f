//! Read replicas and read-only mode, as far as they can be seen without a replica server
//! (`tests/replica.sh` streams to a real one): reads that no replica takes are answered by the
//! primary and counted, every read works on a read-only connection, and read-only mode
//! refuses every write while reads go on.

use crate::common::{incident, kabul, TestApp};
use incidentdb::config::Config;
use incidentdb::db::{self, Backend};
use incidentdb::model::history::{Change, ChangeKind};
use incidentdb::model::validate::{validate, DEFAULT_DATASET};
use reqwest::blocking::Response;
use serde_json::{json, Value};

/// Every read a replica serves, with one incident stored.
const REPLICA_READS: [&str; 7] = [
    "/v1/incidents?country=AF&count=true",
    "/v1/incidents?format=csv",
    "/v1/incidents?format=geojson",
    "/v1/stats?group_by=country,month",
    "/v1/regions",
    "/v1/incidents/deleted",
    "/v1/incidents?region=Test%20region",
];

/// A replica URL on `primary_url`'s backend that cannot be opened: a closed port, or a file in
/// a directory that does not exist.
fn unreachable_replica(primary_url: &str) -> String {
    match Backend::of(primary_url) {
        Backend::Postgres => "postgres://postgres@127.0.0.1:1/replica".into(),
        Backend::Sqlite => "sqlite:///nonexistent-incidentdb-directory/replica.db".into(),
    }
}

/// `incidentdb_replica_fallbacks_total` as `/metrics` serves it.
fn fallbacks(app: &TestApp) -> u64 {
    let response = app.get("/metrics");
    assert_eq!(response.status(), 200);
    let text = response.text().unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("incidentdb_replica_fallbacks_total "))
        .expect("the fallback counter is served")
        .parse()
        .unwrap()
}

fn stored_incident(app: &TestApp) -> i64 {
    assert_eq!(app.put_region("Test region", &["AF"]).status(), 201);
    app.create(&kabul())["id"].as_i64().unwrap()
}

#[test]
fn reads_no_replica_takes_are_answered_by_the_primary_and_counted() {
    let app = TestApp::start_with(|config| {
        config.database_read_urls = vec![unreachable_replica(&config.database_url)];
    });
    let id = stored_incident(&app);
    for path in REPLICA_READS {
        let before = fallbacks(&app);
        let response = app.get(path);
        assert_eq!(response.status(), 200, "GET {path}");
        assert!(!response.text().unwrap().is_empty());
        assert!(fallbacks(&app) > before, "GET {path} fell back");
    }
    // The written incident is in what the primary answered.
    assert_eq!(app.ids("/v1/incidents"), vec![id]);
    // A single incident is read from the primary: it is what a client reads after its write.
    let before = fallbacks(&app);
    assert_eq!(app.get(&format!("/v1/incidents/{id}")).status(), 200);
    assert_eq!(fallbacks(&app), before);
    // Ready, since the primary answers; the replica is reported down.
    let ready = app.get_json("/readyz");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["databases"][0]["name"], "primary");
    assert_eq!(ready["databases"][0]["ready"], true);
    assert_eq!(ready["databases"][1]["name"], "replica 1");
    assert_eq!(ready["databases"][1]["ready"], false, "{ready}");
}

#[test]
fn every_read_works_on_a_read_only_replica_connection() {
    // The primary's own database as its replica: its connections are read-only, so a read
    // that writes anything fails here.
    let app = TestApp::start_with(|config| {
        config.database_read_urls = vec![config.database_url.clone()];
    });
    let id = stored_incident(&app);
    for path in REPLICA_READS {
        let response = app.get(path);
        assert_eq!(response.status(), 200, "GET {path}");
        assert!(!response.text().unwrap().is_empty());
    }
    assert_eq!(app.ids("/v1/incidents?region=Test%20region"), vec![id]);
    assert_eq!(fallbacks(&app), 0);
    let ready = app.get_json("/readyz");
    assert_eq!(ready["databases"][1]["ready"], true, "{ready}");
}

fn assert_read_only(response: Response, what: &str) {
    assert_eq!(response.status(), 503, "{what}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().unwrap();
    assert_eq!(
        problem["type"], "https://incidentdb.dev/problems/read-only-mode",
        "{what}: {problem}"
    );
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("INCIDENTDB_READ_ONLY"));
}

#[test]
fn read_only_mode_refuses_every_write_and_serves_reads() {
    let app = TestApp::start_with(|config| config.read_only = true);
    // Stored the way an operator would before the maintenance: not through this instance.
    let mut conn = db::connect(&app.database_url).unwrap();
    let input = serde_json::from_value(kabul()).unwrap();
    let change = Change {
        kind: ChangeKind::Create,
        by: "operator".into(),
        reason: None,
    };
    let valid = validate(input, DEFAULT_DATASET).unwrap();
    let id = db::incidents::insert(&mut conn, &valid, &change).unwrap();

    let client = &app.client;
    let url = |path: &str| app.url(path);
    let incident_url = url(&format!("/v1/incidents/{id}"));
    let writes = [
        (
            "POST an incident",
            client
                .post(url("/v1/incidents"))
                .json(&incident("AF", "2020-01-01")),
        ),
        (
            "PATCH it",
            client
                .patch(&incident_url)
                .json(&json!({"description": "changed"})),
        ),
        ("DELETE it", client.delete(&incident_url)),
        (
            "PUT a region",
            client
                .put(url("/v1/regions/Somewhere"))
                .json(&json!({"countries": ["AF"]})),
        ),
        (
            "DELETE a region",
            client.delete(url("/v1/regions/Somewhere")),
        ),
        (
            "POST an import",
            client.post(url("/v1/imports?format=ndjson")).body("{}\n"),
        ),
    ];
    for (what, request) in writes {
        assert_read_only(app.with_token(request, &app.admin), what);
    }
    // Refused before the key is looked at, so every client learns why alike.
    let anonymous = client
        .post(url("/v1/incidents"))
        .json(&kabul())
        .send()
        .unwrap();
    assert_read_only(anonymous, "POST without a key");

    assert_eq!(app.ids("/v1/incidents"), vec![id]);
    let read = app.with_token(client.get(&incident_url), &app.reader);
    assert_eq!(read.status(), 200);
    assert_eq!(app.get_json("/v1/stats")["data"][0]["incidents"], 1);
    assert_eq!(app.get_json("/readyz")["status"], "ready");
}

#[test]
fn a_replica_on_another_backend_than_the_primary_is_refused() {
    let app = TestApp::start();
    let other_backend = match Backend::of(&app.database_url) {
        Backend::Postgres => unreachable_replica("sqlite://primary.db"),
        Backend::Sqlite => unreachable_replica("postgres://primary"),
    };
    let mut config = Config::for_database(&app.database_url);
    config.database_read_urls = vec![other_backend];
    let refused = format!("{:#}", incidentdb::state(config).err().expect("refused"));
    assert!(refused.contains("DATABASE_READ_URL"), "{refused}");
}

//! Starts the real service on a fresh database and talks HTTP to it.
//!
//! The backend comes from `TEST_DATABASE_URL`: unset or a SQLite URL → a fresh SQLite file
//! per test; `postgres://…` → a fresh database per test on that server, dropped afterwards.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::SimpleConnection;
use incidentdb::config::Config;
use incidentdb::db::{self, keys, Backend};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{json, Value};

/// A running service on its own database.
pub struct TestApp {
    pub base: String,
    pub client: Client,
    /// An editor's token.
    pub editor: String,
    /// An admin's token.
    pub admin: String,
    /// A reader's token (may read, may not write).
    pub reader: String,
    pub database_url: String,
    server: actix_web::dev::ServerHandle,
    /// Dropped after the server stops: dropping it deletes the database.
    _database: TestDatabase,
}

enum TestDatabase {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "idb_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

impl TestDatabase {
    fn create() -> (TestDatabase, String) {
        let configured = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
        let name = unique_name();
        if Backend::of(&configured) == Backend::Postgres {
            let mut admin = db::connect(&configured).expect("TEST_DATABASE_URL answers");
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create the test database");
            let base = configured
                .rsplit_once('/')
                .map_or(configured.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}");
            (
                TestDatabase::Postgres {
                    admin_url: configured,
                    name,
                },
                url,
            )
        } else {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            let url = format!("sqlite://{}", path.display());
            (TestDatabase::Sqlite(path), url)
        }
    }
}

/// A fresh database that no server uses, with its URL; dropping the guard deletes it.
pub fn bare_database() -> (impl Sized, String) {
    TestDatabase::create()
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            TestDatabase::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDatabase::Postgres { admin_url, name } => {
                if let Ok(mut admin) = db::connect(admin_url) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting requests and close the pool before the database goes away.
        drop(self.server.stop(false));
    }
}

impl TestApp {
    /// A service on a fresh database with default settings.
    pub fn start() -> TestApp {
        TestApp::start_with(|_| {})
    }

    /// A service on a fresh database, with `adjust` applied to its configuration.
    pub fn start_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let (database, database_url) = TestDatabase::create();
        let mut config = Config::for_database(&database_url);
        adjust(&mut config);
        let state = incidentdb::state(config).expect("the service starts");
        let (editor, admin, reader) = {
            let mut conn = state.pool.get().expect("a connection");
            (
                keys::create(&mut conn, "test-editor", keys::Role::Editor).unwrap(),
                keys::create(&mut conn, "test-admin", keys::Role::Admin).unwrap(),
                keys::create(&mut conn, "test-reader", keys::Role::Reader).unwrap(),
            )
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = incidentdb::server(state, listener).expect("the server starts");
                sender.send(server.handle()).unwrap();
                server.await
            })
        });
        let server = receiver.recv().expect("the server handle");
        TestApp {
            base,
            client: Client::new(),
            editor,
            admin,
            reader,
            database_url,
            server,
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().expect("GET answers")
    }

    /// GET, expecting 200, returning the JSON body.
    pub fn get_json(&self, path: &str) -> Value {
        let response = self.get(path);
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().expect("a JSON body")
    }

    pub fn with_token(&self, request: RequestBuilder, token: &str) -> Response {
        request
            .bearer_auth(token)
            .send()
            .expect("the request answers")
    }

    /// POST JSON as the editor.
    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.with_token(self.client.post(self.url(path)).json(body), &self.editor)
    }

    /// PATCHes incident `id` with the merge patch `body` as the editor.
    pub fn patch(&self, id: i64, body: &Value) -> Response {
        let request = self
            .client
            .patch(self.url(&format!("/v1/incidents/{id}")))
            .header("Content-Type", "application/merge-patch+json")
            .body(body.to_string());
        self.with_token(request, &self.editor)
    }

    /// Creates an incident as the editor, expecting 201; returns it.
    pub fn create(&self, body: &Value) -> Value {
        let response = self.post("/v1/incidents", body);
        assert_eq!(response.status(), 201, "create {body}");
        response.json().unwrap()
    }

    /// POSTs a dataset file to `/v1/imports?{query}` as the editor.
    pub fn import(&self, query: &str, body: Vec<u8>) -> Response {
        let request = self
            .client
            .post(self.url(&format!("/v1/imports?{query}")))
            .body(body);
        self.with_token(request, &self.editor)
    }

    /// Imports a file, expecting 200; returns the report.
    pub fn import_report(&self, query: &str, body: Vec<u8>) -> Value {
        let response = self.import(query, body);
        assert_eq!(response.status(), 200, "import {query}");
        response.json().unwrap()
    }

    /// Stores named region `name` as the admin; returns the response.
    pub fn put_region(&self, name: &str, countries: &[&str]) -> Response {
        let request = self
            .client
            .put(self.url(&format!("/v1/regions/{name}")))
            .json(&json!({ "countries": countries }));
        self.with_token(request, &self.admin)
    }

    /// The ids of every page of `GET path` (a query string with `limit`), following
    /// `next_cursor` to the end.
    pub fn walk(&self, path: &str) -> Vec<i64> {
        self.walk_by(path, "id")
    }

    /// The `key` of every item of every page of `GET path` (a query string with `limit`),
    /// following `next_cursor` to the end.
    pub fn walk_by(&self, path: &str, key: &str) -> Vec<i64> {
        let mut walked = Vec::new();
        let mut page = self.get_json(path);
        loop {
            walked.extend(
                page["data"]
                    .as_array()
                    .expect("data")
                    .iter()
                    .map(|i| i[key].as_i64().unwrap()),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => page = self.get_json(&format!("{path}&cursor={cursor}")),
                None => return walked,
            }
        }
    }

    /// The ids of `GET path`'s `data`, in order.
    pub fn ids(&self, path: &str) -> Vec<i64> {
        self.get_json(path)["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect()
    }
}

/// Asserts a problem+json response with `status` whose `field` or `parameter` is `name`.
pub fn assert_problem(response: Response, status: u16, name: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().unwrap();
    assert_eq!(problem["status"], status);
    let named = problem["parameter"] == name
        || problem["errors"]
            .as_array()
            .is_some_and(|errors| errors.iter().any(|e| e["field"] == name));
    assert!(named, "problem names {name}: {problem}");
    problem
}

/// The Kabul rocket attack of 21 November 2020, as in ../shared/reference: at least 8 killed,
/// more than two dozen wounded, Islamic State claimed, the Taliban denied, the article as source.
pub fn kabul() -> Value {
    incidentdb::model::example::kabul_input()
}

/// How the tests that call the importer directly run it: NDJSON, all or nothing.
pub fn ndjson_import() -> incidentdb::import::writer::ImportOptions {
    incidentdb::import::writer::ImportOptions {
        format: incidentdb::import::Format::Ndjson,
        dataset: None,
        on_error: incidentdb::import::writer::OnError::Abort,
        on_conflict: incidentdb::import::writer::OnConflict::Keep,
        by: "import:test".into(),
        reason: None,
    }
}

/// A minimal valid incident in `country` on `date`.
pub fn incident(country: &str, date: &str) -> Value {
    json!({"occurred_on": date, "location": {"country_code": country}})
}

/// The UCDP GED sample shipped for `serve --demo` (CC BY 4.0): 200 real events.
pub fn ucdp_sample() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/demo/ucdp_ged_sample.csv"
    ))
    .unwrap()
}

/// `count` made-up incidents as NDJSON import lines, spread over 2019–2020.
pub fn generated_ndjson(count: usize) -> Vec<u8> {
    let mut lines = String::new();
    for n in 0..count {
        let day = 1 + n % 28;
        let month = 1 + n % 12;
        let line = json!({
            "dataset": "generated",
            "external_id": format!("g{n}"),
            "occurred_on": format!("{}-{month:02}-{day:02}", 2019 + n % 2),
            "location": {"country_code": if n % 3 == 0 { "AF" } else { "SY" },
                         "latitude": 30.0 + (n % 10) as f64, "longitude": 40.0},
            "casualties": {"killed": {"best": n % 7}},
            "perpetrators": [{"name": format!("Group {}", n % 5), "claim": "suspected"},
                             {"name": "Second group", "claim": "denied"}],
            "sources": [{"url": format!("https://example.org/{}", n % 50), "title": "Report"}],
        });
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    lines.into_bytes()
}

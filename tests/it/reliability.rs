//! The defects an outside attack found (issue 13), each with the request that broke the
//! service: every one must now be a 4xx naming the parameter or field, or work, and the
//! service must keep serving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{assert_problem, incident, kabul, TestApp};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

fn words(word: &str, count: usize) -> String {
    vec![word; count].join("+")
}

#[test]
fn thousands_of_words_or_values_are_a_400_and_the_service_keeps_serving() {
    let app = TestApp::start();
    app.create(&kabul());
    let many = words("a", 9000);
    for path in [
        format!("/v1/incidents?q={many}"),
        format!("/v1/stats?q={many}"),
        format!("/v1/incidents?format=csv&q={many}"),
    ] {
        let problem = assert_problem(app.get(&path), 400, "q");
        assert!(
            problem["detail"].as_str().unwrap().contains("32"),
            "{problem}"
        );
    }
    let countries = vec!["AF"; 300].join(",");
    assert_problem(
        app.get(&format!("/v1/incidents?country={countries}")),
        400,
        "country",
    );
    // At the limit the words are one flat condition, and all must match.
    assert_eq!(
        app.ids(&format!("/v1/incidents?q={}", words("rockets", 32)))
            .len(),
        1
    );
    assert_eq!(app.ids("/v1/incidents?q=rockets+Kabul+nowhere").len(), 0);
    let stats = app.get_json(&format!("/v1/stats?q={}", words("rockets", 32)));
    assert_eq!(stats["data"][0]["incidents"], 1);
}

#[test]
fn thousands_of_parameters_are_a_400() {
    let app = TestApp::start();
    let query: Vec<String> = (0..7000).map(|i| format!("p{i}=1")).collect();
    let response = app.get(&format!("/v1/incidents?{}", query.join("&")));
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("at most 64"));
}

#[test]
fn nul_is_refused_in_every_parameter_and_field_on_both_backends() {
    let app = TestApp::start();
    for name in [
        "q",
        "admin1",
        "place",
        "perpetrator",
        "dataset",
        "region",
        "event_type",
    ] {
        assert_problem(app.get(&format!("/v1/incidents?{name}=a%00b")), 400, name);
        assert_problem(app.get(&format!("/v1/stats?{name}=%00")), 400, name);
    }
    assert_problem(app.put_region("Middle%00East", &["SY"]), 400, "name");
    let delete = app
        .client
        .delete(app.url("/v1/regions/Middle%00East"))
        .bearer_auth(&app.admin)
        .send()
        .unwrap();
    assert_problem(delete, 400, "name");

    let mut body = kabul();
    body["description"] = json!("rockets\u{0}");
    assert_problem(app.post("/v1/incidents", &body), 422, "description");
    let mut body = kabul();
    body["attributes"] = json!({"notes": ["fine", {"deep": "a\u{0}"}]});
    assert_problem(app.post("/v1/incidents", &body), 422, "attributes.notes");

    let created = app.create(&kabul());
    let patch = app
        .client
        .patch(app.url(&format!("/v1/incidents/{}", created["id"])))
        .bearer_auth(&app.editor)
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"location": {"place": "Kab\u0000ul"}}"#)
        .send()
        .unwrap();
    assert_problem(patch, 422, "location.place");

    let file = [
        json!({"external_id": "n1", "occurred_on": "2020-01-01", "location": {"country_code": "AF"}}),
        json!({"external_id": "n2", "occurred_on": "2020-01-02", "location": {"country_code": "AF", "admin1": "Ka\u{0}bul"}}),
        json!({"external_id": "n3", "occurred_on": "2020-01-03", "location": {"country_code": "AF"}}),
    ]
    .iter()
    .map(|line| format!("{line}\n"))
    .collect::<String>();
    let aborted = assert_problem(
        app.import("format=ndjson", file.clone().into_bytes()),
        422,
        "location.admin1",
    );
    assert_eq!(aborted["errors"][0]["line"], 2);
    let report = app.import_report("format=ndjson&on_error=skip", file.into_bytes());
    assert_eq!(report["inserted"], 2, "{report}");
    assert_eq!(report["skipped"], 1, "{report}");
    assert_eq!(report["errors"][0]["line"], 2, "{report}");
    assert_eq!(report["errors"][0]["field"], "location.admin1", "{report}");
    assert_eq!(app.ids("/v1/incidents").len(), 3);
}

#[test]
fn an_import_reports_its_first_thousand_problems_and_counts_them_all() {
    let app = TestApp::start();
    let junk = "not json at all\n".repeat(5000).into_bytes();
    let problem = assert_problem(app.import("format=ndjson", junk.clone()), 422, "");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 1000);
    assert_eq!(problem["error_count"], 5000);
    assert_eq!(problem["errors"][999]["line"], 1000);
    let report = app.import_report("format=ndjson&on_error=skip", junk);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1000);
    assert_eq!(report["error_count"], 5000);
    assert_eq!(report["skipped"], 5000);
    // A CSV in the wrong format: every row has several problems, still 1000 kept.
    let wrong = "a,b,c\n".to_string() + &"1,2,3\n".repeat(3000);
    let response = app.import("format=acled", wrong.into_bytes());
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().unwrap();
    assert!(problem["errors"].as_array().unwrap().len() <= 1000);
}

#[test]
fn invented_tokens_count_against_their_address_and_probes_are_never_limited() {
    let app = TestApp::start_with(|config| {
        config.rate_limit_per_second = 1;
        config.rate_limit_burst = 3;
    });
    let statuses: Vec<u16> = (0..6)
        .map(|i| {
            let request = app.client.get(app.url("/v1/incidents"));
            app.with_token(request, &format!("invented-{i}"))
                .status()
                .as_u16()
        })
        .collect();
    assert_eq!(&statuses[..3], [401, 401, 401]);
    assert_eq!(&statuses[3..], [429, 429, 429], "{statuses:?}");
    for probe in ["/healthz", "/readyz"] {
        for _ in 0..5 {
            assert_eq!(app.get(probe).status(), 200, "{probe}");
        }
    }
    // A valid key has a bucket of its own, whatever spacing its header has; once it
    // authenticated, its variants share that bucket.
    let reader = |token: String| {
        let request = app
            .client
            .get(app.url("/v1/regions"))
            .header("Authorization", token);
        request.send().unwrap().status().as_u16()
    };
    assert_eq!(reader(format!("Bearer {}", app.reader)), 200);
    let variants: Vec<u16> = (0..6)
        .map(|i| reader(format!("Bearer {}{}", " ".repeat(i), app.reader)))
        .collect();
    assert!(variants.contains(&429), "{variants:?}");
}

/// Starts `POST /v1/imports` with a body announced as `length` bytes and sends only `sent`.
fn slow_import(app: &TestApp, sent: &[u8], length: usize) -> TcpStream {
    let address = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    let head = format!(
        "POST /v1/imports?format=ndjson HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {}\r\nContent-Length: {length}\r\n\r\n",
        app.editor
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(sent).unwrap();
    stream.flush().unwrap();
    stream
}

fn status_of(mut stream: TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).unwrap();
    String::from_utf8_lossy(&answer[9..12]).to_string()
}

#[test]
fn a_trickling_import_holds_no_connection_and_is_dropped_when_idle() {
    let app = TestApp::start_with(|config| {
        config.pool_size = 1;
        config.max_imports = 1;
        config.import_idle_timeout = Duration::from_secs(2);
    });
    let line = json!({"occurred_on": "2020-01-01", "location": {"country_code": "AF"}});
    let slow = slow_import(&app, format!("{line}\n").as_bytes(), 1_000_000);
    std::thread::sleep(Duration::from_millis(300));
    // The only connection is free for everyone else.
    assert_eq!(app.get("/v1/incidents").status(), 200);
    assert_eq!(app.post("/v1/incidents", &kabul()).status(), 201);
    // The import slot is taken.
    let second = app.import("format=ndjson", format!("{line}\n").into_bytes());
    assert_eq!(second.status(), 503);
    // Idle past the timeout: 408, and the abort import wrote nothing.
    assert_eq!(status_of(slow), "408");
    assert_eq!(app.ids("/v1/incidents").len(), 1);
    let report = app.import_report("format=ndjson", format!("{line}\n").into_bytes());
    assert_eq!(report["inserted"], 1);
}

#[test]
fn casualties_have_a_documented_maximum_and_month_sums_are_64_bit() {
    let app = TestApp::start();
    let mut huge = incident("AF", "2020-05-10");
    huge["casualties"] = json!({"killed": {"best": 2_147_483_647}});
    for _ in 0..2 {
        let problem = assert_problem(
            app.post("/v1/incidents", &huge),
            422,
            "casualties.killed.best",
        );
        assert!(problem["detail"].as_str().unwrap().contains("10000000"));
    }
    let lines: String = (0..250)
        .map(|i| {
            let line = json!({"external_id": format!("big{i}"), "occurred_on": "2020-05-01",
                "location": {"country_code": "AF"},
                "casualties": {"killed": {"low": 10_000_000, "best": 10_000_000}}});
            format!("{line}\n")
        })
        .collect();
    let report = app.import_report("format=ndjson", lines.into_bytes());
    assert_eq!(report["inserted"], 250);
    let stats = app.get_json("/v1/stats?country=AF&from=2020-05&to=2020-05&group_by=month");
    assert_eq!(
        stats["data"][0]["killed"]["best"], 2_500_000_000_i64,
        "{stats}"
    );
    let mut later = incident("AF", "2020-05-20");
    later["casualties"] = json!({"killed": {"best": 10_000_000}});
    app.create(&later);
    let stats = app.get_json("/v1/stats?country=AF&from=2020-05&to=2020-05");
    assert_eq!(
        stats["data"][0]["killed"]["best"], 2_510_000_000_i64,
        "{stats}"
    );
}

#[test]
fn tiny_coordinates_never_break_a_radius_search() {
    let app = TestApp::start();
    let mut tiny = incident("GH", "2020-01-01");
    tiny["location"]["latitude"] = json!(1e-200);
    tiny["location"]["longitude"] = json!(1e-300);
    let created = app.create(&tiny);
    assert_eq!(created["location"]["latitude"], 0.0);
    let mut near = incident("GH", "2020-01-02");
    near["location"]["latitude"] = json!(0.000_000_001);
    near["location"]["longitude"] = json!(0.0);
    app.create(&near);
    for near in ["0,0", "1e-200,1e-200", "0.000000001,0"] {
        let path = format!("/v1/incidents?near={near}&radius_km=10");
        assert_eq!(app.ids(&path).len(), 2, "{path}");
        let stats = app.get_json(&format!("/v1/stats?near={near}&radius_km=10"));
        assert_eq!(stats["data"][0]["incidents"], 2);
        let export = app.get(&format!("/v1/incidents?format=csv&near={near}"));
        assert_eq!(export.status(), 200);
        assert_eq!(export.text().unwrap().lines().count(), 3);
    }
}

#[test]
fn a_tampered_cursor_is_a_400() {
    let app = TestApp::start();
    for tampered in [
        "-occurred_on|-100000-01-01|5",
        "-occurred_on|+200000-01-01|5",
        "occurred_on|0000-01-01|5",
    ] {
        let sort = tampered.split('|').next().unwrap();
        let cursor = URL_SAFE_NO_PAD.encode(tampered);
        let path = format!("/v1/incidents?sort={sort}&cursor={cursor}");
        assert_problem(app.get(&path), 400, "cursor");
    }
}

#[test]
fn years_outside_0001_to_9999_are_refused() {
    let app = TestApp::start();
    for (field, value) in [
        ("occurred_on", "+10000-01-01"),
        ("occurred_on", "0000-12-31"),
        ("occurred_until", "+10000-01-01"),
    ] {
        let mut body = incident("AF", "2020-01-01");
        body[field] = json!(value);
        assert_problem(app.post("/v1/incidents", &body), 422, field);
    }
    let mut body = kabul();
    body["sources"][0]["published_on"] = json!("+12020-11-21");
    assert_problem(
        app.post("/v1/incidents", &body),
        422,
        "sources[0].published_on",
    );
    assert!(app.ids("/v1/incidents").is_empty());
}

#[test]
fn metrics_need_a_key_when_reads_do() {
    let app = TestApp::start_with(|config| config.read_requires_key = true);
    assert_eq!(app.get("/metrics").status(), 401);
    let with_key = app.with_token(app.client.get(app.url("/metrics")), &app.reader);
    assert_eq!(with_key.status(), 200);
    assert!(with_key
        .text()
        .unwrap()
        .contains("incidentdb_http_requests_total"));
    assert_eq!(app.get("/healthz").status(), 200);
}

#[test]
fn the_cli_stops_quietly_when_its_reader_does() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_incidentdb"))
        .arg("openapi")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

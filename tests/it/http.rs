//! HTTP conventions the tools users have rely on: HEAD, conditional requests, content
//! negotiation by weight, absolute paging links.

use crate::common::{incident, kabul, TestApp};
use serde_json::json;

#[test]
fn head_answers_every_get_with_its_headers_and_no_body() {
    let app = TestApp::start();
    app.create(&kabul());
    for path in [
        "/v1/incidents",
        "/v1/incidents?format=geojson",
        "/v1/incidents/1",
        "/v1/stats",
        "/v1/regions",
        "/healthz",
    ] {
        let response = app.client.head(app.url(path)).send().unwrap();
        assert_eq!(response.status(), 200, "HEAD {path}");
        assert!(response.headers().contains_key("content-type"), "{path}");
        assert!(response.text().unwrap().is_empty(), "{path}");
    }
    let geojson = app
        .client
        .head(app.url("/v1/incidents?format=geojson"))
        .send()
        .unwrap();
    assert_eq!(geojson.headers()["content-type"], "application/geo+json");
}

#[test]
fn etags_make_reads_conditional_and_writes_strict() {
    let app = TestApp::start();
    let created = app.create(&kabul());
    let url = app.url(&format!("/v1/incidents/{}", created["id"]));
    let again = app
        .client
        .get(&url)
        .header("If-None-Match", "\"7\", W/\"1\"")
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], "\"1\"");
    let stale = app
        .client
        .get(&url)
        .header("If-None-Match", "\"0\"")
        .send()
        .unwrap();
    assert_eq!(stale.status(), 200);
    let patch = |tag: &str| {
        let request = app
            .client
            .patch(&url)
            .header("If-Match", tag)
            .header("Content-Type", "application/merge-patch+json")
            .body(json!({"description": "changed"}).to_string());
        app.with_token(request, &app.editor)
    };
    assert_eq!(
        patch("W/\"1\"").status(),
        412,
        "a weak tag never matches a write"
    );
    assert_eq!(patch("\"5\", \"1\"").status(), 200);
    assert_eq!(patch("*").status(), 200);
}

#[test]
fn accept_weights_choose_the_format() {
    let app = TestApp::start();
    app.create(&kabul());
    let answer = |accept: &str| {
        let response = app
            .client
            .get(app.url("/v1/incidents"))
            .header("Accept", accept)
            .send()
            .unwrap();
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        answer("text/csv;q=0.1, application/json"),
        "application/json"
    );
    assert!(answer("application/json;q=0.5, text/csv").starts_with("text/csv"));
    assert_eq!(answer("text/html"), "application/json");
}

#[test]
fn paging_links_are_absolute_with_next_and_first() {
    let app = TestApp::start();
    for day in 1..=3 {
        app.create(&incident("AF", &format!("2020-01-0{day}")));
    }
    let response = app.get("/v1/incidents?country=AF&limit=2");
    let link = response.headers()["link"].to_str().unwrap().to_string();
    let next = format!("<{}/v1/incidents?country=AF&limit=2&cursor=", app.base);
    assert!(link.starts_with(&next), "{link}");
    let first = format!(
        "<{}/v1/incidents?country=AF&limit=2>; rel=\"first\"",
        app.base
    );
    assert!(
        link.contains("rel=\"next\"") && link.ends_with(&first),
        "{link}"
    );
}

//! The OpenAPI document is the contract: the committed file must match the code.
//! Run with `UPDATE_OPENAPI=1 cargo test --test it openapi` to rewrite `openapi/openapi.json` after a deliberate change.

use crate::common::TestApp;
use incidentdb::query::filter::FilterParams;
use incidentdb::query::page::PageParams;
use incidentdb::query::stats::StatsParams;
use serde_json::Value;
use utoipa::openapi::path::ParameterIn;
use utoipa::IntoParams;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

fn generated() -> String {
    incidentdb::openapi::document().to_pretty_json().unwrap() + "\n"
}

#[test]
fn the_committed_document_matches_the_code() {
    let generated = generated();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(COMMITTED, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test --test it openapi`"
    );
}

#[test]
fn the_service_serves_the_document_and_the_docs() {
    let app = TestApp::start();
    let served = app.get_json("/openapi.json");
    let expected: Value = serde_json::from_str(&generated()).unwrap();
    assert_eq!(served, expected);
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    let docs = app.get("/docs/");
    assert_eq!(docs.status(), 200);
    assert!(docs.text().unwrap().contains("swagger"));
}

#[test]
fn every_operation_documents_its_errors_and_every_parameter_has_an_example_or_schema() {
    let document: Value = serde_json::from_str(&generated()).unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path} has responses");
            assert!(
                operation["description"].is_string() || operation["summary"].is_string(),
                "{method} {path} is described"
            );
            if matches!(method.as_str(), "post" | "patch" | "delete" | "put") {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} documents 401"
                );
                assert!(
                    responses.contains_key("403"),
                    "{method} {path} documents 403"
                );
            }
        }
    }
    let documented = |path: &str| -> Vec<String> {
        document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let declared = |params: Vec<utoipa::openapi::path::Parameter>| -> Vec<String> {
        params.into_iter().map(|p| p.name).collect()
    };
    let query = || Some(ParameterIn::Query);
    let list = documented("/v1/incidents");
    for name in declared(FilterParams::into_params(query))
        .into_iter()
        .chain(declared(PageParams::into_params(query)))
    {
        assert!(list.contains(&name), "GET /v1/incidents documents {name}");
    }
    let stats = documented("/v1/stats");
    for name in declared(StatsParams::into_params(query)) {
        assert!(stats.contains(&name), "GET /v1/stats documents {name}");
    }
}

#[test]
fn every_schema_reference_resolves() {
    let document: Value = serde_json::from_str(&generated()).unwrap();
    let text = document.to_string();
    let schemas = &document["components"]["schemas"];
    let prefix = "\"#/components/schemas/";
    let dangling: Vec<&str> = text
        .match_indices(prefix)
        .filter_map(|(at, _)| text[at + prefix.len()..].split('"').next())
        .filter(|name| schemas.get(name).is_none())
        .collect();
    assert!(dangling.is_empty(), "unresolvable references: {dangling:?}");
}

//! A record researchers can cite: every version kept with who, why and how; queries answered
//! as of a time or a release; corrections that survive re-imports; keys that survive a mirror.

use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{assert_problem, incident, kabul, ucdp_sample, TestApp};

/// The server's clock now, to the microsecond, as an `as_of` value; after a pause so that
/// writes before and after it fall on either side.
fn instant_between() -> String {
    std::thread::sleep(Duration::from_millis(20));
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    std::thread::sleep(Duration::from_millis(20));
    now
}

fn patch(app: &TestApp, id: i64, body: Value, reason: Option<&str>) {
    let mut request = app
        .client
        .patch(app.url(&format!("/v1/incidents/{id}")))
        .header("Content-Type", "application/merge-patch+json")
        .body(body.to_string());
    if let Some(reason) = reason {
        request = request.header("X-Change-Reason", reason);
    }
    assert_eq!(app.with_token(request, &app.editor).status(), 200);
}

fn killed_best(incident: &Value) -> Value {
    incident["casualties"]["killed"]["best"].clone()
}

#[test]
fn every_change_is_a_version_and_as_of_answers_the_past() {
    let app = TestApp::start();
    let created = app.create(&kabul());
    let id = created["id"].as_i64().unwrap();
    let before_patches = instant_between();
    patch(
        &app,
        id,
        json!({"casualties": {"killed": {"best": 9}}}),
        Some("ministry figures"),
    );
    let between = instant_between();
    patch(
        &app,
        id,
        json!({"casualties": {"killed": {"best": 12}}, "perpetrators": [{"name": "Night Riders Brigade", "claim": "suspected"}]}),
        None,
    );
    let before_delete = instant_between();
    let delete = app
        .client
        .delete(app.url(&format!("/v1/incidents/{id}")))
        .header("X-Change-Reason", "duplicate of another record");
    assert_eq!(app.with_token(delete, &app.editor).status(), 204);

    let history = app.get_json(&format!("/v1/incidents/{id}/history"))["data"].clone();
    let versions = history.as_array().unwrap();
    let summary: Vec<(i64, &str, &str, Value)> = versions
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["change"].as_str().unwrap(),
                v["changed_by"].as_str().unwrap(),
                v["reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "create", "test-editor", Value::Null),
            (2, "update", "test-editor", json!("ministry figures")),
            (3, "update", "test-editor", Value::Null),
            (
                4,
                "delete",
                "test-editor",
                json!("duplicate of another record")
            ),
        ]
    );
    assert_eq!(killed_best(&versions[1]["incident"]), 9);
    assert_eq!(versions[1]["valid_to"], versions[2]["valid_from"]);
    assert_eq!(versions[3]["valid_to"], Value::Null);

    // As of between the PATCHes: the middle version, in the list, the single GET, the stats.
    let listed = app.get_json(&format!("/v1/incidents?as_of={between}&country=AF"));
    assert_eq!(listed["as_of"], between.as_str());
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(killed_best(&listed["data"][0]), 9);
    assert_eq!(listed["data"][0]["version"], 2);
    let single = app.get(&format!("/v1/incidents/{id}?as_of={between}"));
    assert_eq!(single.headers()["x-as-of"], between.as_str());
    assert_eq!(killed_best(&single.json::<Value>().unwrap()), 9);
    let stats = app.get_json(&format!("/v1/stats?as_of={between}&group_by=country"));
    assert_eq!(stats["data"][0]["killed"]["best"], 9);
    assert_eq!(stats["as_of"], between.as_str());
    // Every filter applies to the version as it was: the brigade came in version 3.
    let islamic_state = format!("/v1/incidents?as_of={between}&perpetrator=Islamic%20State");
    assert_eq!(app.ids(&islamic_state), [id]);
    let brigade = "perpetrator=Night%20Riders%20Brigade";
    assert!(app
        .ids(&format!("/v1/incidents?as_of={between}&{brigade}"))
        .is_empty());
    let later = format!("/v1/incidents?as_of={before_delete}&{brigade}");
    assert_eq!(app.ids(&later), [id]);
    assert_eq!(
        app.ids(&format!(
            "/v1/incidents?as_of={between}&killed_min=9&killed_max=9"
        )),
        [id]
    );
    let first = app.get_json(&format!("/v1/incidents/{id}?as_of={before_patches}"));
    assert_eq!(first["version"], 1);

    // Deleted now, found as of before the deletion; gone from the present.
    assert_eq!(app.get(&format!("/v1/incidents/{id}")).status(), 404);
    assert!(app.ids("/v1/incidents").is_empty());
    assert_eq!(
        app.ids(&format!("/v1/incidents?as_of={before_delete}")),
        [id]
    );
    let csv = app.get(&format!("/v1/incidents?format=csv&as_of={before_delete}"));
    assert_eq!(csv.headers()["x-as-of"], before_delete.as_str());
    assert_eq!(csv.text().unwrap().lines().count(), 2);
    assert_eq!(
        app.get_json(&format!("/v1/incidents/{id}?version=2"))["version"],
        2
    );
    assert_eq!(
        app.get(&format!("/v1/incidents/{id}?version=4")).status(),
        410
    );
    assert_eq!(
        app.get(&format!("/v1/incidents/{id}?version=5")).status(),
        404
    );
    assert_eq!(app.get("/v1/incidents/999/history").status(), 404);
}

#[test]
fn as_of_pages_with_cursors_and_refuses_what_it_cannot_answer() {
    let app = TestApp::start();
    let ids: Vec<i64> = (1..=5)
        .map(|day| {
            app.create(&incident("IQ", &format!("2021-01-0{day}")))["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let then = instant_between();
    app.create(&incident("IQ", "2021-01-09"));
    patch(&app, ids[0], json!({"occurred_on": "2021-02-01"}), None);
    let walked = app.walk(&format!("/v1/incidents?as_of={then}&limit=2"));
    let newest_first: Vec<i64> = ids.iter().rev().copied().collect();
    assert_eq!(walked, newest_first);
    let count = app.get_json(&format!(
        "/v1/incidents?as_of={then}&count=true&from=2021-01"
    ));
    assert_eq!(count["total"], 5);

    assert_problem(
        app.get("/v1/incidents?as_of=2999-01-01T00:00:00Z"),
        400,
        "as_of",
    );
    assert_problem(app.get("/v1/incidents?as_of=yesterday"), 400, "as_of");
    assert_problem(
        app.get(&format!("/v1/incidents?as_of={then}&release=x")),
        400,
        "release",
    );
    assert_problem(app.get("/v1/incidents?release=nope"), 400, "release");
    let reason = app
        .client
        .post(app.url("/v1/incidents"))
        .header("X-Change-Reason", "x".repeat(1001))
        .json(&incident("IQ", "2021-01-01"));
    assert_problem(app.with_token(reason, &app.editor), 400, "X-Change-Reason");
}

#[test]
fn a_release_freezes_a_time_its_checksum_verifies() {
    let app = TestApp::start();
    let id = app.create(&kabul())["id"].as_i64().unwrap();
    app.create(&incident("IQ", "2021-05-01"));
    let make = |token: &str, body: Value| {
        let request = app.client.post(app.url("/v1/releases")).json(&body);
        app.with_token(request, token)
    };
    assert_eq!(make(&app.editor, json!({"name": "2026-12"})).status(), 403);
    assert_problem(make(&app.admin, json!({"name": "a b"})), 422, "name");
    let made = make(
        &app.admin,
        json!({"name": "2026-12", "description": "December"}),
    );
    assert_eq!(made.status(), 201);
    let release: Value = made.json().unwrap();
    assert_eq!(release["incidents"], 2);
    assert!(release["citation"].as_str().unwrap().contains("2026-12"));

    // Changes after the release do not change what it answers.
    patch(
        &app,
        id,
        json!({"casualties": {"killed": {"best": 30}}}),
        None,
    );
    app.create(&incident("SY", "2022-01-01"));
    let export = app.get("/v1/incidents?format=ndjson&release=2026-12");
    assert_eq!(
        export.headers()["x-as-of"],
        release["as_of"].as_str().unwrap()
    );
    let bytes = export.bytes().unwrap();
    let checksum: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(checksum, release["checksum"].as_str().unwrap());
    let listed = app.get_json("/v1/incidents?release=2026-12&country=AF");
    assert_eq!(killed_best(&listed["data"][0]), 8);
    let stats = app.get_json("/v1/stats?release=2026-12");
    assert_eq!(stats["data"][0]["incidents"], 2);

    assert_eq!(make(&app.admin, json!({"name": "2026-12"})).status(), 409);
    let delete = app.client.delete(app.url("/v1/releases/2026-12"));
    assert_eq!(app.with_token(delete, &app.admin).status(), 409);
    assert_eq!(
        app.get_json("/v1/releases/2026-12")["checksum"],
        release["checksum"]
    );
    assert_eq!(
        app.get_json("/v1/releases")["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(app.get("/v1/releases/2027-01").status(), 404);
}

#[test]
fn corrections_survive_a_re_import_unless_overwritten() {
    let app = TestApp::start();
    app.import_report("format=ucdp", ucdp_sample());
    let row = app.get_json("/v1/incidents?dataset=ucdp&limit=1")["data"][0].clone();
    let id = row["id"].as_i64().unwrap();
    let source_best = killed_best(&row);
    patch(
        &app,
        id,
        json!({"casualties": {"killed": {"best": 999}}}),
        Some("checked"),
    );

    for _ in 0..2 {
        let report = app.import_report("format=ucdp", ucdp_sample());
        assert_eq!(report["conflict_count"], 1, "{report}");
        assert_eq!(report["conflicts"][0]["id"], id);
        assert_eq!(
            report["conflicts"][0]["fields"],
            json!(["casualties.killed"])
        );
        assert!(report["conflicts"][0]["line"].as_u64().unwrap() >= 2);
        assert_eq!(report["updated"], 0);
        let kept = app.get_json(&format!("/v1/incidents/{id}"));
        assert_eq!(killed_best(&kept), 999);
    }
    let report = app.import_report("format=ucdp&on_conflict=overwrite", ucdp_sample());
    assert_eq!(report["updated"], 1, "{report}");
    let restored = app.get_json(&format!("/v1/incidents/{id}"));
    assert_eq!(killed_best(&restored), source_best);
    let changes: Vec<String> = app.get_json(&format!("/v1/incidents/{id}/history"))["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["change"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(changes, ["import", "update", "import"]);
}

#[test]
fn an_upstream_change_on_other_fields_still_updates_a_corrected_row() {
    let app = TestApp::start();
    let line = |place: &str, killed: u32| {
        json!({"dataset": "field", "external_id": "F-1", "occurred_on": "2021-01-01",
            "location": {"country_code": "ML", "place": place},
            "casualties": {"killed": {"best": killed}}})
        .to_string()
            + "\n"
    };
    app.import_report("format=ndjson", line("Gao", 3).into_bytes());
    let id = app.ids("/v1/incidents?dataset=field")[0];
    patch(
        &app,
        id,
        json!({"casualties": {"killed": {"best": 4}}}),
        None,
    );
    let report = app.import_report("format=ndjson", line("Gao town", 3).into_bytes());
    assert_eq!(report["updated"], 1, "{report}");
    assert_eq!(report["conflict_count"], 1, "{report}");
    let now = app.get_json(&format!("/v1/incidents/{id}"));
    assert_eq!(now["location"]["place"], "Gao town");
    assert_eq!(killed_best(&now), 4);
    // The source agreeing with the correction later is no conflict.
    let report = app.import_report("format=ndjson", line("Gao town", 4).into_bytes());
    assert_eq!(report["conflict_count"], 0, "{report}");
}

#[test]
fn an_export_imported_twice_elsewhere_inserts_nothing_twice() {
    let source = TestApp::start();
    let made = source.create(&kabul());
    assert!(made["external_id"]
        .as_str()
        .is_some_and(|id| id.len() == 36));
    source.create(&incident("IQ", "2021-05-01"));
    let export = source
        .get("/v1/incidents?format=ndjson")
        .bytes()
        .unwrap()
        .to_vec();
    let mirror = TestApp::start();
    let first = mirror.import_report("format=ndjson", export.clone());
    assert_eq!(first["inserted"], 2);
    let second = mirror.import_report("format=ndjson", export);
    assert_eq!(
        (second["inserted"].clone(), second["unchanged"].clone()),
        (json!(0), json!(2))
    );

    let id = made["id"].as_i64().unwrap();
    let delete = source
        .client
        .delete(source.url(&format!("/v1/incidents/{id}")));
    assert_eq!(source.with_token(delete, &source.editor).status(), 204);
    let deleted = source.get_json("/v1/incidents/deleted")["data"][0].clone();
    assert_eq!(deleted["dataset"], "manual");
    assert_eq!(deleted["external_id"], made["external_id"]);
}

#[test]
fn a_patch_that_changes_nothing_makes_no_version() {
    let app = TestApp::start();
    let id = app.create(&kabul())["id"].as_i64().unwrap();
    patch(
        &app,
        id,
        json!({"casualties": {"killed": {"low": 8}}}),
        Some("no-op"),
    );
    let history = app.get_json(&format!("/v1/incidents/{id}/history"));
    assert_eq!(history["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.get_json(&format!("/v1/incidents/{id}"))["version"], 1);
}

#[test]
fn history_pages_by_version() {
    let app = TestApp::start();
    let id = app.create(&kabul())["id"].as_i64().unwrap();
    for best in 9..14 {
        patch(
            &app,
            id,
            json!({"casualties": {"killed": {"best": best}}}),
            None,
        );
    }
    let delete = app.client.delete(app.url(&format!("/v1/incidents/{id}")));
    assert_eq!(app.with_token(delete, &app.editor).status(), 204);
    let path = format!("/v1/incidents/{id}/history");

    assert_eq!(
        app.walk_by(&format!("{path}?limit=2"), "version"),
        (1..=7).collect::<Vec<_>>()
    );
    assert_eq!(
        app.walk_by(&format!("{path}?limit=7"), "version"),
        (1..=7).collect::<Vec<_>>()
    );
    let first = app.get(&format!("{path}?limit=3"));
    let link = first.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("cursor=3") && link.contains("rel=\"next\""),
        "{link}"
    );
    let last = app.get_json(&format!("{path}?limit=3&cursor=6"));
    assert_eq!(last["data"].as_array().unwrap().len(), 1);
    assert_eq!(last["data"][0]["change"], "delete");
    assert_eq!(last["next_cursor"], Value::Null);
    let past_the_end = app.get_json(&format!("{path}?cursor=7"));
    assert_eq!(past_the_end["data"], json!([]));

    assert_problem(app.get(&format!("{path}?limit=0")), 400, "limit");
    assert_problem(app.get(&format!("{path}?limit=1001")), 400, "limit");
    assert_problem(app.get(&format!("{path}?cursor=x")), 400, "cursor");
    assert_problem(app.get(&format!("{path}?page=2")), 400, "page");
    assert_eq!(app.get("/v1/incidents/999/history?cursor=3").status(), 404);
}

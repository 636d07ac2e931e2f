//! Uncertain figures: "at least 22 killed" is low 22, best unknown, and the bounds and sorts
//! read the effective figure (best, else low).

use crate::common::TestApp;
use serde_json::json;

#[test]
fn bounds_and_sorts_read_best_else_low() {
    let app = TestApp::start();
    let with = |killed: serde_json::Value, injured: serde_json::Value| {
        let body = json!({"occurred_on": "2021-03-01", "location": {"country_code": "ML"},
            "casualties": {"killed": killed, "injured": injured}});
        app.create(&body)["id"].as_i64().unwrap()
    };
    let at_least_22 = with(json!({"low": 22}), json!({"low": 40, "best": 50}));
    let exactly_5 = with(json!({"low": 5, "best": 5}), json!({}));
    let unknown = with(json!({}), json!({"low": 3}));
    assert_eq!(app.ids("/v1/incidents?killed_min=10"), [at_least_22]);
    assert_eq!(app.ids("/v1/incidents?killed_max=10"), [exactly_5]);
    assert_eq!(app.ids("/v1/incidents?injured_min=45"), [at_least_22]);
    assert_eq!(app.ids("/v1/incidents?injured_max=3"), [unknown]);
    assert_eq!(
        app.ids("/v1/incidents?sort=-killed"),
        [at_least_22, exactly_5, unknown]
    );
    assert_eq!(
        app.ids("/v1/incidents?sort=-injured"),
        [at_least_22, unknown, exactly_5]
    );
    assert_eq!(
        app.ids("/v1/incidents?sort=injured"),
        [exactly_5, unknown, at_least_22]
    );
    let mut walked = Vec::new();
    let mut path = "/v1/incidents?sort=-injured&limit=1".to_string();
    loop {
        let page = app.get_json(&path);
        walked.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/incidents?sort=-injured&limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, [at_least_22, unknown, exactly_5]);
}

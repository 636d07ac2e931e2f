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
    let walked = app.walk("/v1/incidents?sort=-injured&limit=1");
    assert_eq!(walked, [at_least_22, unknown, exactly_5]);
}

//! The seed record, the Kabul rocket attack of 21 November 2020, as the OpenAPI examples show it.

use serde_json::{json, Value};

/// The Kabul incident as a client sends it.
pub fn kabul_input() -> Value {
    json!({
        "occurred_on": "2020-11-21",
        "date_precision": "day",
        "event_type": "Explosions/Remote violence",
        "sub_event_type": "Shelling/artillery/missile attack",
        "description": "23 rockets hit central Kabul near a university and a shopping area.",
        "location": {
            "country_code": "AF", "admin1": "Kabul", "place": "Kabul",
            "latitude": 34.53, "longitude": 69.17, "geo_precision": "place"
        },
        "casualties": {
            "killed": {"low": 8, "best": 8, "high": null},
            "injured": {"low": 25, "best": null, "high": null}
        },
        "perpetrators": [
            {"name": "Islamic State", "claim": "claimed"},
            {"name": "Taliban", "claim": "denied"}
        ],
        "sources": [{
            "url": null,
            "title": "Rockets Strike Kabul as Mike Pompeo Plans to Meet with Taliban",
            "publisher": null,
            "published_on": "2020-11-21",
            "excerpt": "The rocket fire struck the heart of Kabul, killing at least eight people and wounding more than two dozen."
        }]
    })
}

/// The Kabul incident as the service returns it.
pub fn kabul_stored() -> Value {
    let mut stored = kabul_input();
    let object = stored.as_object_mut().expect("an object");
    object.insert("id".into(), json!(1042));
    object.insert("dataset".into(), json!("manual"));
    object.insert("external_id".into(), Value::Null);
    object.insert("occurred_until".into(), Value::Null);
    object.insert("attributes".into(), json!({}));
    object.insert("version".into(), json!(1));
    object.insert("created_at".into(), json!("2026-11-24T19:00:00Z"));
    object.insert("updated_at".into(), json!("2026-11-24T19:00:00Z"));
    object.insert(
        "location".into(),
        json!({
            "country_code": "AFG", "country": "Afghanistan",
            "region": "Asia", "subregion": "Southern Asia", "source_region": null,
            "admin1": "Kabul", "admin2": null, "place": "Kabul",
            "latitude": 34.53, "longitude": 69.17, "geo_precision": "place"
        }),
    );
    stored
}

/// The part of `kabul_stored` at `pointer` (a JSON pointer): the example of a nested schema.
pub fn kabul_stored_part(pointer: &str) -> Value {
    kabul_stored()
        .pointer(pointer)
        .cloned()
        .expect("a part of the Kabul example")
}

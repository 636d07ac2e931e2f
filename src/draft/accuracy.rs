//! The drafter's accuracy on the reports of `tests/fixtures/drafts`: each `NAME.txt` with its
//! `NAME.json` (`published_on` and the `expected` fields). A field is right when it equals
//! the expected value; the place when it lies within 50 km of the expected coordinates (or
//! both are absent); the perpetrators when the names and claims match as a set.
//! `cargo test accuracy -- --nocapture` prints the table.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::{draft, DraftRequest, Drafted};

#[derive(Debug, Deserialize)]
struct Fixture {
    published_on: Option<chrono::NaiveDate>,
    expected: Expected,
}

#[derive(Debug, Deserialize)]
struct Expected {
    occurred_on: Option<String>,
    country: Option<String>,
    /// `[latitude, longitude]` of the event's place, or null when only the country is known.
    coordinates: Option<[f64; 2]>,
    killed_low: Option<i32>,
    injured_low: Option<i32>,
    perpetrators: Vec<(String, String)>,
}

const FIELDS: [&str; 6] = [
    "date",
    "country",
    "place within 50 km",
    "killed low",
    "injured low",
    "perpetrators with claims",
];

/// Kilometres between two points on the Earth's surface.
pub fn distance_km(a: [f64; 2], b: [f64; 2]) -> f64 {
    let (lat1, lat2) = (a[0].to_radians(), b[0].to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b[1] - a[1]).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Which of the six fields the draft got right.
fn score(drafted: &Drafted, expected: &Expected) -> [bool; 6] {
    let d = &drafted.draft;
    let coordinates = d
        .location
        .latitude
        .zip(d.location.longitude)
        .map(|(a, b)| [a, b]);
    let place = match (coordinates, expected.coordinates) {
        (Some(found), Some(wanted)) => distance_km(found, wanted) <= 50.0,
        (None, None) => true,
        _ => false,
    };
    let mut found: Vec<(String, String)> = d
        .perpetrators
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                crate::model::wire::WireName::wire_name(&p.claim).to_string(),
            )
        })
        .collect();
    let mut wanted = expected.perpetrators.clone();
    found.sort();
    wanted.sort();
    [
        d.occurred_on.map(|o| o.to_string()) == expected.occurred_on,
        d.location.country_code == expected.country,
        place,
        d.casualties.killed.low == expected.killed_low,
        d.casualties.injured.low == expected.injured_low,
        found == wanted,
    ]
}

fn fixtures() -> BTreeMap<String, (String, Fixture)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drafts");
    let mut fixtures = BTreeMap::new();
    for entry in std::fs::read_dir(&folder).expect("the fixtures folder") {
        let path = entry.expect("an entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let text = std::fs::read_to_string(&path).expect("the report");
        let json =
            std::fs::read_to_string(path.with_extension("json")).expect("its expected fields");
        let fixture: Fixture =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}.json: {e}"));
        fixtures.insert(name, (text, fixture));
    }
    fixtures
}

#[test]
fn accuracy_on_the_test_reports_is_at_least_95_percent() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 25,
        "at least 25 reports, got {}",
        fixtures.len()
    );
    let mut right = [0usize; 6];
    let mut misses = Vec::new();
    for (name, (text, fixture)) in &fixtures {
        let request = DraftRequest {
            text: text.clone(),
            published_on: fixture.published_on,
            url: None,
            title: None,
            publisher: None,
        };
        let drafted = draft(&request);
        let fields = score(&drafted, &fixture.expected);
        for (i, ok) in fields.iter().enumerate() {
            if *ok {
                right[i] += 1;
            } else {
                let draft: Value = serde_json::to_value(&drafted.draft).unwrap_or_default();
                misses.push(format!("{name}: {} wrong; draft {draft}", FIELDS[i]));
            }
        }
    }
    let reports = fixtures.len();
    println!("| field | right | accuracy |\n| --- | --- | --- |");
    for (field, count) in FIELDS.iter().zip(right) {
        println!(
            "| {field} | {count}/{reports} | {:.1}% |",
            100.0 * count as f64 / reports as f64
        );
    }
    let total: usize = right.iter().sum();
    let overall = total as f64 / (6 * reports) as f64;
    println!(
        "| overall | {total}/{} | {:.1}% |",
        6 * reports,
        100.0 * overall
    );
    for miss in &misses {
        println!("miss: {miss}");
    }
    assert!(
        overall >= 0.95,
        "overall accuracy {overall:.3}: {misses:#?}"
    );
}

//! Every filter of `GET /v1/incidents`, its combinations, sorting and pagination.

use std::collections::HashSet;

use crate::common::{assert_problem, kabul, TestApp};
use serde_json::json;

/// Five incidents that tell the filters apart; returns the app and their ids in this order:
/// Kabul rockets, Kabul university, Mosul, West Germany (historical, no coordinates), Fiji.
fn seeded() -> (TestApp, [i64; 5]) {
    let app = TestApp::start();
    let university = json!({
        "occurred_on": "2020-11-02", "event_type": "Violence against civilians",
        "sub_event_type": "Attack",
        "description": "Gunmen stormed Kabul University.",
        "location": {"country_code": "AFG", "admin1": "Kabul", "admin2": "Kabul City",
            "place": "Kabul University", "latitude": 34.51, "longitude": 69.13},
        "casualties": {"killed": {"low": 22, "best": 22, "high": 35}},
        "perpetrators": [{"name": "Islamic State", "claim": "attributed"}]
    });
    let mosul = json!({
        "dataset": "ucdp", "external_id": "u1",
        "occurred_on": "2021-03-05", "event_type": "One-sided violence",
        "location": {"country": "Iraq", "source_region": "Middle East", "admin1": "Nineveh",
            "place": "Mosul", "latitude": 36.34, "longitude": 43.13},
        "perpetrators": [{"name": "Islamic State", "claim": "suspected"}]
    });
    let bonn = json!({
        "dataset": "gtd", "external_id": "197105010001",
        "occurred_on": "1971-05-01", "date_precision": "month",
        "location": {"country": "West Germany (FRG)", "source_region": "Western Europe",
            "place": "Bonn"},
        "casualties": {"killed": {"best": 0}}
    });
    let fiji = json!({
        "occurred_on": "2019-12-31", "event_type": "Riots",
        "location": {"country_code": "FJ", "admin1": "Northern", "admin2": "Macuata",
            "place": "Labasa", "latitude": -16.43, "longitude": 179.9},
        "casualties": {"killed": {"best": 1}}
    });
    let ids = [kabul(), university, mosul, bonn, fiji]
        .map(|body| app.create(&body)["id"].as_i64().unwrap());
    (app, ids)
}

fn set(ids: &[i64]) -> HashSet<i64> {
    ids.iter().copied().collect()
}

#[test]
fn every_filter_selects_exactly_its_incidents() {
    let (app, [rockets, university, mosul, bonn, fiji]) = seeded();
    let cases: Vec<(&str, Vec<i64>)> = vec![
        ("", vec![rockets, university, mosul, bonn, fiji]),
        ("from=2020", vec![rockets, university, mosul]),
        ("to=2020", vec![rockets, university, bonn, fiji]),
        ("from=2020-11&to=2020-11", vec![rockets, university]),
        ("from=2020-11-21&to=2020-11-21", vec![rockets]),
        ("from=2019-12-31&to=2019-12-31", vec![fiji]),
        ("country=AF", vec![rockets, university]),
        ("country=afghanistan,IRQ", vec![rockets, university, mosul]),
        ("country=AF&country=FJI", vec![rockets, university, fiji]),
        // Lists beyond 16 values are padded with their last one: 20 countries, then 17 places.
        (
            "country=DEU,FRA,ITA,ESP,PRT,NLD,BEL,LUX,AUT,CHE,POL,CZE,SVK,HUN,ROU,BGR,GRC,AFG,NOR,FJI",
            vec![rockets, university, fiji],
        ),
        (
            "place=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,kabul,labasa",
            vec![rockets, fiji],
        ),
        ("region=Southern%20Asia", vec![rockets, university]),
        ("region=asia", vec![rockets, university, mosul]),
        ("region=Western%20Asia", vec![mosul]),
        ("region=Oceania", vec![fiji]),
        ("region=Melanesia,Western%20Asia", vec![mosul, fiji]),
        ("source_region=middle%20east", vec![mosul]),
        ("source_region=Western%20Europe", vec![bonn]),
        ("admin1=kabul", vec![rockets, university]),
        ("admin2=MACUATA", vec![fiji]),
        ("place=Kabul", vec![rockets]),
        ("place=kabul,mosul", vec![rockets, mosul]),
        ("bbox=68.9,34.3,69.5,34.8", vec![rockets, university]),
        ("bbox=179,-20,-179,-10", vec![fiji]),
        ("bbox=-10,-10,10,10", vec![]),
        ("near=34.53,69.17&radius_km=3", vec![rockets]),
        ("near=34.53,69.17&radius_km=10", vec![rockets, university]),
        ("near=-16.43,-179.95&radius_km=20", vec![fiji]),
        (
            "event_type=violence%20against%20civilians",
            vec![university],
        ),
        ("event_type=Riots,One-sided%20violence", vec![mosul, fiji]),
        ("sub_event_type=Attack", vec![university]),
        (
            "perpetrator=islamic%20state",
            vec![rockets, university, mosul],
        ),
        ("perpetrator=Taliban", vec![rockets]),
        ("perpetrator=Taliban&claim=denied", vec![rockets]),
        ("perpetrator=Taliban&claim=claimed", vec![]),
        ("claim=suspected", vec![mosul]),
        ("claim=claimed,attributed", vec![rockets, university]),
        ("killed_min=1", vec![rockets, university, fiji]),
        ("killed_max=0", vec![bonn]),
        ("killed_min=10&killed_max=30", vec![university]),
        ("dataset=gtd,ucdp", vec![mosul, bonn]),
        ("dataset=manual", vec![rockets, university, fiji]),
        ("external_id=u1", vec![mosul]),
        ("dataset=ucdp&external_id=197105010001", vec![]),
        ("q=rockets", vec![rockets]),
        ("q=ISLAMIC%20state", vec![rockets, university, mosul]),
        ("q=labasa", vec![fiji]),
        ("q=100%25", vec![]),
        (
            "updated_since=2000-01-01T00:00:00Z",
            vec![rockets, university, mosul, bonn, fiji],
        ),
        ("updated_since=2999-01-01T00:00:00Z", vec![]),
        ("country=AF&killed_min=10&from=2020-11-01", vec![university]),
    ];
    for (query, expected) in cases {
        let found = app.ids(&format!("/v1/incidents?{query}"));
        assert_eq!(set(&found), set(&expected), "{query}");
        assert_eq!(found.len(), expected.len(), "no duplicates for {query}");
    }
}

#[test]
fn historical_countries_have_their_own_code_and_the_region_of_their_territory() {
    let (app, [_, _, _, bonn, _]) = seeded();
    let found = app.get_json(&format!("/v1/incidents/{bonn}"));
    assert_eq!(found["location"]["country"], "West Germany");
    assert_eq!(found["location"]["country_code"], "FRG");
    assert_eq!(found["location"]["region"], "Europe");
    assert_eq!(found["date_precision"], "month");
}

#[test]
fn bad_parameters_are_400_naming_the_parameter() {
    let (app, _) = seeded();
    let cases = [
        ("from=2020-13", "from"),
        ("to=21-11-2020", "to"),
        ("from=2021&to=2020", "to"),
        ("country=Afghanstan", "country"),
        ("region=Southern%20Asai", "region"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=0,95,1,96", "bbox"),
        ("near=91,0", "near"),
        ("radius_km=5", "radius_km"),
        ("near=1,1&radius_km=-5", "radius_km"),
        ("claim=boasted", "claim"),
        ("killed_min=-1", "killed_min"),
        ("killed_max=many", "killed_max"),
        ("killed_min=2147483648", "killed_min"),
        ("updated_since=yesterday", "updated_since"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("sort=deadliest", "sort"),
        ("cursor=nonsense", "cursor"),
        ("count=maybe", "count"),
        ("contry=AF", "contry"),
    ];
    for (query, parameter) in cases {
        assert_problem(app.get(&format!("/v1/incidents?{query}")), 400, parameter);
    }
}

#[test]
fn unknown_names_come_with_the_closest_known_ones() {
    let (app, _) = seeded();
    let problem = assert_problem(app.get("/v1/incidents?country=Afghanstan"), 400, "country");
    assert!(problem["suggestions"]
        .as_array()
        .unwrap()
        .contains(&json!("Afghanistan")));
    let problem = assert_problem(
        app.get("/v1/incidents?region=Southern%20Asai"),
        400,
        "region",
    );
    assert_eq!(problem["suggestions"][0], "Southern Asia");
    let problem = assert_problem(app.get("/v1/incidents?contry=AF"), 400, "contry");
    assert_eq!(problem["suggestions"][0], "country");
}

#[test]
fn sorts_break_ties_by_id_and_put_unknown_killed_last() {
    let (app, [rockets, university, mosul, bonn, fiji]) = seeded();
    assert_eq!(
        app.ids("/v1/incidents"),
        vec![mosul, rockets, university, fiji, bonn]
    );
    assert_eq!(
        app.ids("/v1/incidents?sort=occurred_on"),
        vec![bonn, fiji, university, rockets, mosul]
    );
    assert_eq!(
        app.ids("/v1/incidents?sort=-killed"),
        vec![university, rockets, fiji, bonn, mosul]
    );
    assert_eq!(
        app.ids("/v1/incidents?sort=killed"),
        vec![mosul, bonn, fiji, rockets, university]
    );
    assert_eq!(
        app.ids("/v1/incidents?sort=id"),
        vec![rockets, university, mosul, bonn, fiji]
    );
}

#[test]
fn cursors_walk_every_row_once_in_every_sort() {
    let (app, ids) = seeded();
    for sort in ["-occurred_on", "occurred_on", "-killed", "killed", "id"] {
        let whole = app.ids(&format!("/v1/incidents?sort={sort}"));
        let mut walked = Vec::new();
        let mut next = Some(format!("/v1/incidents?sort={sort}&limit=2&count=true"));
        while let Some(path) = next.take() {
            let response = app.get(&path);
            let link = response
                .headers()
                .get("link")
                .map(|l| l.to_str().unwrap().to_string());
            let page: serde_json::Value = response.json().unwrap();
            assert_eq!(page["total"], 5);
            walked.extend(
                page["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].as_i64().unwrap()),
            );
            if let Some(cursor) = page["next_cursor"].as_str() {
                let link = link.expect("a Link header with a next page");
                assert!(link.contains("rel=\"next\""), "{link}");
                next = Some(format!(
                    "/v1/incidents?sort={sort}&limit=2&count=true&cursor={cursor}"
                ));
            } else {
                assert!(link.is_none());
            }
        }
        assert_eq!(walked, whole, "{sort}");
        assert_eq!(set(&walked), set(&ids));
    }
}

#[test]
fn pages_stay_stable_while_rows_are_inserted() {
    let (app, _) = seeded();
    let first: serde_json::Value = app.get_json("/v1/incidents?limit=2");
    let seen: Vec<i64> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    app.create(&crate::common::incident("AF", "2030-01-01"));
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app.ids(&format!("/v1/incidents?limit=100&cursor={cursor}"));
    assert_eq!(
        rest.len(),
        3,
        "the newer row sorts before the cursor and is not served twice"
    );
    assert!(rest.iter().all(|id| !seen.contains(id)));
}

/// A page of several countries is chosen on the index, then read by its ids: short pages and
/// long ones (whose id list is too long to keep a prepared statement for) give the order the
/// export gives, in every date sort.
#[test]
fn pages_over_several_countries_follow_the_export_order_short_or_long() {
    let app = TestApp::start();
    app.import_report("format=ndjson", crate::common::generated_ndjson(400));
    for sort in ["-occurred_on", "occurred_on", "-killed"] {
        let filter = format!("country=AF,SY&from=2019-03&sort={sort}");
        let csv = app
            .get(&format!("/v1/incidents?format=csv&{filter}"))
            .text()
            .unwrap();
        let exported: Vec<i64> = csv::Reader::from_reader(csv.as_bytes())
            .records()
            .map(|r| r.unwrap()[0].parse().unwrap())
            .collect();
        assert!(exported.len() > 300, "{}", exported.len());
        let long = app.ids(&format!("/v1/incidents?{filter}&limit=1000"));
        assert_eq!(long, exported, "{sort}, one page");
        let mut paged = Vec::new();
        let mut next = Some(format!("/v1/incidents?{filter}&limit=40"));
        while let Some(path) = next {
            let page = app.get_json(&path);
            paged.extend(
                page["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].as_i64().unwrap()),
            );
            next = page["next_cursor"]
                .as_str()
                .map(|cursor| format!("/v1/incidents?{filter}&limit=40&cursor={cursor}"));
        }
        assert_eq!(paged, exported, "{sort}, pages of 40");
    }
}

#[test]
fn date_match_overlap_finds_incidents_whose_span_overlaps_the_dates() {
    let app = TestApp::start();
    let incident = |on: &str, precision: &str, until: Option<&str>| {
        let body = json!({"occurred_on": on, "date_precision": precision,
            "occurred_until": until, "location": {"country_code": "AF"}});
        app.create(&body)["id"].as_i64().unwrap()
    };
    let october = incident("2020-10-01", "month", None);
    let late_october = incident("2020-10-25", "month", None);
    let into_october = incident("2020-09-25", "day", Some("2020-10-12"));
    let in_range = incident("2020-10-15", "day", None);
    let year = incident("2020-01-01", "year", None);
    let september = incident("2020-09-01", "day", None);
    let ended_before = incident("2020-09-20", "day", Some("2020-10-09"));
    let november = incident("2020-11-01", "month", None);
    let last_year = incident("2019-06-01", "year", None);
    let range = "from=2020-10-10&to=2020-10-20";
    assert!(!app
        .ids(&format!("/v1/incidents?{range}&date_match=overlap"))
        .contains(&november));
    assert_eq!(
        set(&app.ids(&format!("/v1/incidents?{range}"))),
        set(&[in_range])
    );
    assert_eq!(
        set(&app.ids(&format!("/v1/incidents?{range}&date_match=start"))),
        set(&[in_range])
    );
    let overlapping = [october, late_october, into_october, in_range, year];
    assert_eq!(
        set(&app.ids(&format!("/v1/incidents?{range}&date_match=overlap"))),
        set(&overlapping)
    );
    assert_eq!(
        set(&app.ids("/v1/incidents?to=2020-10-05&date_match=overlap&limit=1000")),
        set(&[
            october,
            late_october,
            into_october,
            year,
            september,
            ended_before,
            last_year
        ])
    );
    // Whole months would be answered from the month sums by start date: not with overlap.
    let stats = app.get_json("/v1/stats?from=2020-10&to=2020-10&date_match=overlap");
    assert_eq!(stats["data"][0]["incidents"], 6, "{stats}");
    let stats = app.get_json("/v1/stats?from=2020-10&to=2020-10");
    assert_eq!(stats["data"][0]["incidents"], 3, "{stats}");
    assert_problem(
        app.get("/v1/incidents?date_match=sideways"),
        400,
        "date_match",
    );
}

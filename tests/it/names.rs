//! Real data, real names: countries as datasets code and name them (codes of their own,
//! Kosovo, historical states, word order and diacritics) and UN M49 groupings and codes.

use crate::common::{assert_problem, TestApp};
use serde_json::json;

/// An ACLED export of one row in `country`, whose `iso3` and numeric `iso` are as given.
fn acled_row(country: &str, iso3: &str, iso: &str, id: &str) -> String {
    let header = "data_id,iso,event_id_cnty,event_id_no_cnty,event_date,year,time_precision,\
event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,\
region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,\
source_scale,notes,fatalities,timestamp,iso3";
    let row = format!(
        "1,{iso},{id},1,9-May-20,2020,1,Protests,Peaceful protest,Protesters,,6,,,0,60,\
Europe,{country},Pristina,,,Pristina,42.6667,21.1667,1,Example,National,,0,1589305744,{iso3}"
    );
    format!("{header}\n{row}\n")
}

fn ndjson(lines: &[serde_json::Value]) -> Vec<u8> {
    lines
        .iter()
        .map(|line| format!("{line}\n"))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn an_acled_export_with_codes_of_its_own_imports_whole() {
    let app = TestApp::start();
    let mut file = acled_row("Kosovo", "XKX", "0", "XKX1");
    file.push_str(
        acled_row("Kosovo", "KOS", "", "XKX2")
            .lines()
            .nth(1)
            .unwrap(),
    );
    file.push('\n');
    file.push_str(
        acled_row("Atlantis", "ATL", "999", "ATL1")
            .lines()
            .nth(1)
            .unwrap(),
    );
    file.push('\n');
    let report = app.import_report("format=acled", file.into_bytes());
    assert_eq!(report["inserted"], 3, "{report}");
    assert_eq!(report["error_count"], 0, "{report}");
    assert_eq!(report["warning_count"], 1, "{report}");
    assert_eq!(report["warnings"][0]["line"], 4, "{report}");
    assert_eq!(report["warnings"][0]["field"], "country", "{report}");
    for query in [
        "country=Kosovo",
        "country=XK",
        "country=xkx",
        "region=Southern%20Europe",
    ] {
        assert_eq!(
            app.ids(&format!("/v1/incidents?{query}")).len(),
            2,
            "{query}"
        );
    }
    let atlantis = &app.get_json("/v1/incidents?dataset=acled&external_id=ATL1")["data"][0];
    assert_eq!(atlantis["location"]["country"], "Atlantis");
    assert!(atlantis["location"]["country_code"].is_null());
}

#[test]
fn historical_states_are_countries_in_the_region_of_their_territory() {
    let app = TestApp::start();
    let row = |id: &str, country: &str| json!({"external_id": id, "occurred_on": "1975-06-01", "location": {"country": country}});
    let report = app.import_report(
        "format=ndjson",
        ndjson(&[
            row("g1", "West Germany (FRG)"),
            row("g2", "East Germany (GDR)"),
            row("g3", "Soviet Union"),
            row("g4", "Yugoslavia"),
        ]),
    );
    assert_eq!(report["inserted"], 4, "{report}");
    assert_eq!(report["warning_count"], 0, "{report}");
    for (query, count) in [
        ("country=West%20Germany", 1),
        ("country=FRG", 1),
        ("country=DDR", 1),
        ("country=SUN,YUG", 2),
        ("region=Europe", 4),
        ("region=Western%20Europe", 2),
        ("region=150", 4),
    ] {
        assert_eq!(
            app.ids(&format!("/v1/incidents?{query}")).len(),
            count,
            "{query}"
        );
    }
}

#[test]
fn m49_groupings_and_codes_and_names_as_people_write_them() {
    let app = TestApp::start();
    let at = |code: &str| json!({"occurred_on": "2021-01-01", "location": {"country_code": code}});
    for body in [at("NG"), at("KE"), at("EG"), at("BR"), at("US")] {
        app.create(&body);
    }
    for (query, count) in [
        ("region=Sub-Saharan%20Africa", 2),
        ("region=202", 2),
        ("region=002", 3),
        ("region=Latin%20America%20and%20the%20Caribbean", 1),
        ("region=419", 1),
        ("country=Tanzania,%20United%20Republic%20of,NGA", 1),
        ("country=Turkiye,Cote%20d%27Ivoire,Kenya", 1),
    ] {
        assert_eq!(
            app.ids(&format!("/v1/incidents?{query}")).len(),
            count,
            "{query}"
        );
    }
    let mut turkey = at("TR");
    turkey["location"] = json!({"country": "Türkiye"});
    assert_eq!(app.create(&turkey)["location"]["country_code"], "TUR");
    assert_problem(
        app.get("/v1/incidents?region=Sub-Saharan%20Afrika"),
        400,
        "region",
    );
}

#[test]
fn a_group_is_found_by_any_of_its_names() {
    let app = TestApp::start();
    app.import_report("format=ucdp", crate::common::ucdp_sample());
    let count =
        |query: &str| app.get_json(&format!("/v1/incidents?{query}&count=true"))["total"].clone();
    let taleban = count("perpetrator=Taleban");
    assert!(taleban.as_i64().unwrap() > 0);
    assert_eq!(count("perpetrator=Taliban"), taleban);
    assert_eq!(count("perpetrator=TALIBAN"), taleban);
}

#[test]
fn datasets_match_whatever_their_case() {
    let app = TestApp::start();
    app.import_report("format=ucdp", crate::common::ucdp_sample());
    let all = app.get_json("/v1/incidents?dataset=ucdp&count=true")["total"].clone();
    assert_eq!(all, 200);
    assert_eq!(
        app.get_json("/v1/incidents?dataset=UCDP&count=true")["total"],
        all
    );
}

#[test]
fn a_typo_in_a_closed_vocabulary_is_a_400_not_an_empty_answer() {
    let app = TestApp::start();
    app.import_report("format=ucdp", crate::common::ucdp_sample());
    let problem = assert_problem(
        app.get("/v1/incidents?source_region=Asai"),
        400,
        "source_region",
    );
    assert_eq!(problem["suggestions"][0], "Asia", "{problem}");
    assert_problem(
        app.get("/v1/stats?event_type=State-baesd%20conflict"),
        400,
        "event_type",
    );
    assert_problem(app.get("/v1/incidents?dataset=ucpd"), 400, "dataset");
    // A known value that matches nothing with the other filters is an empty answer.
    let none = app.get_json("/v1/incidents?source_region=Asia&from=1900&to=1900");
    assert!(none["data"].as_array().unwrap().is_empty());
}

#[test]
fn places_and_vocabularies_match_whatever_their_diacritics() {
    let app = TestApp::start();
    let at = |admin1: &str, place: &str| {
        json!({"occurred_on": "2021-05-01", "event_type": "Protests",
            "location": {"country_code": "CO", "admin1": admin1, "admin2": "Chapinero",
                "place": place, "source_region": "South America"}})
    };
    for body in [
        at("Bogotá", "Bogotá"),
        at("Bogotá", "Zipaquirá"),
        at("Boyacá", "Tunja"),
    ] {
        app.create(&body);
    }
    let count =
        |query: &str| app.get_json(&format!("/v1/incidents?{query}&count=true"))["total"].clone();
    for (query, expected) in [
        ("admin1=Bogota", 2),
        ("admin1=BOGOTA", 2),
        ("admin1=bogotá", 2),
        ("admin1=BOGOTÁ", 2),
        ("admin1=Bogota,Boyaca", 3),
        ("place=zipaquira", 1),
        ("admin2=chapinero", 3),
        ("source_region=south%20america", 3),
        ("event_type=Protésts", 3),
        // A stored value with the other filters matching nothing is an empty answer.
        ("admin1=Bogota&from=1990&to=1990", 0),
        // A list with a value no incident has answers the others.
        ("place=Tunja,Bogta", 1),
    ] {
        assert_eq!(count(query), expected, "{query}");
    }
    let stats = app.get_json("/v1/stats?admin1=Bogota&group_by=admin1");
    assert_eq!(stats["data"][0]["group"]["admin1"], "Bogotá", "{stats}");
    assert_eq!(stats["data"][0]["incidents"], 2, "{stats}");
}

#[test]
fn a_typo_in_a_place_is_a_400_with_the_closest_stored_names() {
    let app = TestApp::start();
    let at = |place: &str| {
        json!({"occurred_on": "2021-05-01",
            "location": {"country_code": "CO", "admin1": "Bogotá", "place": place}})
    };
    app.create(&at("Bogotá"));
    app.create(&at("Zipaquirá"));
    let problem = assert_problem(app.get("/v1/incidents?place=Bogta"), 400, "place");
    assert_eq!(problem["suggestions"][0], "Bogotá", "{problem}");
    let problem = assert_problem(app.get("/v1/incidents?place=Zipaquria"), 400, "place");
    assert_eq!(problem["suggestions"][0], "Zipaquirá", "{problem}");
    assert_problem(app.get("/v1/stats?admin1=Bogtoa"), 400, "admin1");
    assert_problem(app.get("/v1/incidents?admin2=Chapinero"), 400, "admin2");
}

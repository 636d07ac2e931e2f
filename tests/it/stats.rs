//! `GET /v1/stats`: the same filters as the list, grouped sums computed in the database.

use crate::common::{assert_problem, generated_ndjson, incident, kabul, ucdp_sample, TestApp};
use serde_json::{json, Value};

/// Every incident matching `query` (one page: the fixtures are small).
fn listed(app: &TestApp, query: &str) -> Vec<Value> {
    let page = app.get_json(&format!("/v1/incidents?limit=1000&{query}"));
    assert_eq!(page["next_cursor"], Value::Null, "{query}");
    page["data"].as_array().unwrap().clone()
}

/// `[low, best, high, unknown]` of `kind` summed over `incidents` as the stats should.
fn expected_totals(incidents: &[Value], kind: &str) -> Value {
    let sum = |estimate: &str| {
        let known: Vec<i64> = incidents
            .iter()
            .filter_map(|i| i["casualties"][kind][estimate].as_i64())
            .collect();
        if known.is_empty() {
            Value::Null
        } else {
            json!(known.iter().sum::<i64>())
        }
    };
    let unknown = incidents
        .iter()
        .filter(|i| i["casualties"][kind]["best"].is_null())
        .count();
    json!({"low": sum("low"), "best": sum("best"), "high": sum("high"), "unknown": unknown})
}

fn stats(app: &TestApp, query: &str) -> Vec<Value> {
    app.get_json(&format!("/v1/stats?{query}"))["data"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn totals_equal_the_sums_over_the_listed_rows() {
    let app = TestApp::start();
    app.import_report("format=ucdp", ucdp_sample());
    app.create(&kabul());
    for filter in [
        "",
        "country=AF",
        "from=2020-01&to=2020-06",
        "region=Africa",
        "killed_min=5",
        "country=AF,SO&from=2015",
    ] {
        let incidents = listed(&app, filter);
        let rows = stats(&app, filter);
        assert_eq!(rows.len(), 1, "no group_by: one row ({filter})");
        assert_eq!(rows[0]["incidents"], incidents.len(), "{filter}");
        assert_eq!(
            rows[0]["killed"],
            expected_totals(&incidents, "killed"),
            "{filter}"
        );
        assert_eq!(
            rows[0]["injured"],
            expected_totals(&incidents, "injured"),
            "{filter}"
        );
    }
}

#[test]
fn groups_partition_the_matches() {
    let app = TestApp::start();
    app.import_report("format=ucdp", ucdp_sample());
    let incidents = listed(&app, "from=2010");
    let rows = stats(&app, "from=2010&group_by=country,year");
    let total: i64 = rows.iter().map(|r| r["incidents"].as_i64().unwrap()).sum();
    assert_eq!(total, incidents.len() as i64);
    for row in &rows {
        let country = row["group"]["country"].as_str().unwrap();
        let year = row["group"]["year"].as_str().unwrap();
        let members: Vec<Value> = incidents
            .iter()
            .filter(|i| {
                i["location"]["country_code"] == country
                    && i["occurred_on"].as_str().unwrap().starts_with(year)
            })
            .cloned()
            .collect();
        assert_eq!(row["incidents"], members.len(), "{country} {year}");
        assert_eq!(row["killed"], expected_totals(&members, "killed"));
    }
    let keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            let key = |k: &str| r["group"][k].as_str().unwrap().to_string();
            (key("country"), key("year"))
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "groups come in key order");
}

#[test]
fn unknown_casualties_are_counted_as_unknown_not_zero() {
    let app = TestApp::start();
    let mut known = incident("AF", "2020-11-21");
    known["casualties"] = json!({"killed": {"low": 3, "best": 5, "high": 9}});
    app.create(&known);
    app.create(&incident("AF", "2020-11-22"));
    app.create(&incident("IQ", "2020-11-22"));
    let rows = stats(&app, "group_by=country");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["group"]["country"], "AFG");
    assert_eq!(
        rows[0]["killed"],
        json!({"low": 3, "best": 5, "high": 9, "unknown": 1})
    );
    assert_eq!(rows[1]["group"]["country"], "IRQ");
    assert_eq!(
        rows[1]["killed"],
        json!({"low": null, "best": null, "high": null, "unknown": 1}),
        "nothing known sums to null, not 0"
    );
    assert_eq!(rows[1]["injured"]["unknown"], 1);
}

#[test]
fn month_and_year_buckets_are_right_at_their_boundaries() {
    let app = TestApp::start();
    for date in [
        "2019-12-31",
        "2020-01-01",
        "2020-01-31",
        "2020-02-01",
        "2020-02-29",
        "2020-03-01",
    ] {
        app.create(&incident("SY", date));
    }
    let months: Vec<(String, i64)> = stats(&app, "group_by=month")
        .iter()
        .map(|r| {
            let month = r["group"]["month"].as_str().unwrap().to_string();
            (month, r["incidents"].as_i64().unwrap())
        })
        .collect();
    let expected = [
        ("2019-12", 1),
        ("2020-01", 2),
        ("2020-02", 2),
        ("2020-03", 1),
    ];
    assert_eq!(months, expected.map(|(m, n)| (m.to_string(), n)));
    let years = stats(&app, "group_by=year&from=2020-02&to=2020-02");
    assert_eq!(years.len(), 1);
    assert_eq!(years[0]["group"], json!({"year": "2020"}));
    assert_eq!(years[0]["incidents"], 2);
}

#[test]
fn each_perpetrator_gets_the_incidents_it_is_named_in() {
    let app = TestApp::start();
    app.create(&kabul());
    app.create(&incident("AF", "2020-11-22"));
    let rows = stats(&app, "group_by=perpetrator");
    let groups: Vec<(Value, Value)> = rows
        .iter()
        .map(|r| (r["group"]["perpetrator"].clone(), r["incidents"].clone()))
        .collect();
    assert_eq!(
        groups,
        [
            (json!("Islamic State"), json!(1)),
            (json!("Taliban"), json!(1)),
            (Value::Null, json!(1)),
        ]
    );
}

#[test]
fn csv_stats_read_as_a_table() {
    let app = TestApp::start();
    let mut known = kabul();
    known["external_id"] = json!("kabul-1");
    app.create(&known);
    let response = app.get("/v1/stats?group_by=country&format=csv");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = response.text().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "country,incidents,killed_low,killed_best,killed_high,killed_unknown,\
         injured_low,injured_best,injured_high,injured_unknown"
    );
    assert_eq!(lines[1], "AFG,1,8,8,,0,25,,,1");
    let by_accept = app
        .client
        .get(app.url("/v1/stats?group_by=country"))
        .header("Accept", "text/csv")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(by_accept, text);
}

#[test]
fn group_by_is_validated() {
    let app = TestApp::start();
    let problem = assert_problem(app.get("/v1/stats?group_by=contry"), 400, "group_by");
    assert_eq!(problem["suggestions"][0], "country");
    assert_problem(
        app.get("/v1/stats?group_by=country,year,month,dataset"),
        400,
        "group_by",
    );
    assert_problem(app.get("/v1/stats?group_by=year,year"), 400, "group_by");
    assert_problem(app.get("/v1/stats?format=geojson"), 400, "format");
    assert_problem(app.get("/v1/stats?region=Narnia"), 400, "region");
}

#[test]
fn month_sums_agree_with_the_incidents_through_changes_and_deletions() {
    let app = TestApp::start();
    // `dataset=` matches every row here but is not in the month sums, so it forces the scan.
    let sums_agree = |when: &str| {
        for query in [
            "group_by=country",
            "group_by=region,year&from=2015&to=2020-11",
            "group_by=month&country=PK,SO",
            "group_by=subregion&region=Asia&from=2020-11&to=2020-11",
        ] {
            let sums = app.get_json(&format!("/v1/stats?{query}"))["data"].clone();
            let scanned =
                app.get_json(&format!("/v1/stats?{query}&dataset=ucdp,manual"))["data"].clone();
            assert_eq!(sums, scanned, "{query} {when}");
        }
    };
    app.import_report("format=ucdp", ucdp_sample());
    let kabul = app.create(&kabul());
    sums_agree("after an import");
    let url = app.url(&format!("/v1/incidents/{}", kabul["id"]));
    let patch = json!({"location": {"country_code": "PK"}, "casualties": {"killed": {"best": 11}}});
    let patched = app.with_token(app.client.patch(&url).json(&patch), &app.editor);
    assert_eq!(patched.status(), 200);
    let doomed = app.ids("/v1/incidents?country=SO&limit=3");
    for id in doomed {
        let url = app.url(&format!("/v1/incidents/{id}"));
        assert_eq!(
            app.with_token(app.client.delete(url), &app.editor).status(),
            204
        );
    }
    sums_agree("after a change and deletions");
    // An all-or-nothing import that inserts a row and updates it (its key again, in another
    // country and month), then a skip import that writes around a bad row: on PostgreSQL the
    // first merges its month sums once, at its end; the second at every statement.
    let rows = [
        json!({"external_id": "twice", "occurred_on": "2019-03-02", "location": {"country_code": "SO"},
               "casualties": {"killed": {"best": 4}}}),
        json!({"external_id": "twice", "occurred_on": "2020-11-09", "location": {"country_code": "PK"},
               "casualties": {"killed": {"low": 2, "best": 3}}}),
    ];
    let ndjson = |rows: &[Value]| {
        rows.iter()
            .map(|row| format!("{row}\n"))
            .collect::<String>()
    };
    let report = app.import_report("format=ndjson&dataset=manual", ndjson(&rows).into_bytes());
    assert_eq!(
        (report["inserted"].as_u64(), report["updated"].as_u64()),
        (Some(1), Some(1))
    );
    sums_agree("after an import that updates its own row");
    let skipping = [
        incident("SO", "2019-03-31"),
        json!({"occurred_on": "never"}),
    ];
    let report = app.import_report(
        "format=ndjson&dataset=manual&on_error=skip",
        ndjson(&skipping).into_bytes(),
    );
    assert_eq!(
        (report["inserted"].as_u64(), report["skipped"].as_u64()),
        (Some(1), Some(1))
    );
    sums_agree("after an import that skips a row");
    let pakistan = stats(&app, "country=PK&from=2020-11&to=2020-11");
    assert_eq!(pakistan[0]["killed"]["best"], 14);
}

/// The facet and map stats are kept between requests while the data is unchanged: every
/// kind of write must show in the next answer, and an answer seen twice must be the same.
#[test]
fn kept_stats_follow_every_write() {
    let app = TestApp::start();
    let by_perpetrator = "group_by=perpetrator";
    let by_cell = "group_by=cell,geo_precision&cell=10";
    let perpetrator_row = |name: &str| {
        stats(&app, by_perpetrator)
            .into_iter()
            .find(|row| row["group"]["perpetrator"] == name)
    };
    let first = app.create(&kabul());
    let id = first["id"].as_i64().unwrap();
    assert_eq!(stats(&app, by_perpetrator), stats(&app, by_perpetrator));
    assert_eq!(stats(&app, by_cell), stats(&app, by_cell));
    let cells_before = stats(&app, by_cell);

    let mut second = incident("AF", "2020-11-22");
    second["perpetrators"] = json!([{"name": "Night Riders Brigade", "claim": "claimed"}]);
    second["location"]["latitude"] = json!(-33.9);
    second["location"]["longitude"] = json!(18.4);
    second["casualties"] = json!({"killed": {"best": 3}});
    let second_id = app.create(&second)["id"].as_i64().unwrap();
    assert_eq!(
        perpetrator_row("Night Riders Brigade").unwrap()["incidents"],
        1
    );
    assert_ne!(
        stats(&app, by_cell),
        cells_before,
        "a new incident shows on the map"
    );

    assert_eq!(
        app.patch(second_id, &json!({"casualties": {"killed": {"best": 5}}}))
            .status(),
        200
    );
    let row = perpetrator_row("Night Riders Brigade").unwrap();
    assert_eq!(row["killed"]["best"], 5, "a change shows: {row}");

    let delete = app
        .client
        .delete(app.url(&format!("/v1/incidents/{second_id}")));
    assert_eq!(app.with_token(delete, &app.editor).status(), 204);
    assert!(perpetrator_row("Night Riders Brigade").is_none());
    assert_eq!(
        stats(&app, by_cell),
        cells_before,
        "a deletion shows on the map"
    );

    // Named regions change without touching an incident: by region, and filtered by one.
    let by_region = "group_by=region&event_type=Explosions/Remote violence";
    let named = |name: &str| {
        stats(&app, by_region)
            .into_iter()
            .any(|row| row["group"]["region"] == name)
    };
    assert!(!named("Kabul Watch"));
    assert!(app.put_region("Kabul Watch", &["AF"]).status().is_success());
    assert!(named("Kabul Watch"), "a new named region shows");
    let in_region = "group_by=dataset&region=Kabul Watch";
    assert_eq!(stats(&app, in_region)[0]["incidents"], 1);
    assert!(app.put_region("Kabul Watch", &["SY"]).status().is_success());
    assert_eq!(
        stats(&app, in_region),
        Vec::<Value>::new(),
        "its new members count"
    );

    let imported = app.import("format=ndjson", generated_ndjson(30));
    assert_eq!(imported.status(), 200);
    let total: i64 = stats(&app, "group_by=dataset")
        .iter()
        .map(|row| row["incidents"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 31, "an import shows (incident {id} and 30 imported)");
}

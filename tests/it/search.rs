//! Full-text search (`q`): what it searches, its query language, the relevance sort, and
//! paging, on both backends alike.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{assert_problem, generated_ndjson, kabul, ndjson_import, TestApp};

/// Kabul (rockets, a shopping area), an attack in Kandahār, notes kept in `attributes` in
/// Mosul, and a source's title in Aleppo; returns the app and their ids in this order.
fn seeded() -> (TestApp, [i64; 4]) {
    let app = TestApp::start();
    let attacked = json!({
        "occurred_on": "2021-01-10", "description": "Gunmen attacked a police checkpoint.",
        "location": {"country_code": "AF", "admin1": "Kandahār", "place": "Spin Boldak"},
        "perpetrators": [{"name": "Taliban", "claim": "attributed"}]
    });
    let notes = json!({
        "occurred_on": "2019-05-02",
        "location": {"country_code": "IQ", "place": "Mosul"},
        "attributes": {"notes": "Protesters gathered near the shopping district.", "code": "X7"}
    });
    let titled = json!({
        "occurred_on": "2018-03-03",
        "location": {"country_code": "SY", "place": "Aleppo"},
        "sources": [{"title": "Rocketry exhibition opens", "url": "https://example.org/a"}]
    });
    let ids =
        [kabul(), attacked, notes, titled].map(|body| app.create(&body)["id"].as_i64().unwrap());
    (app, ids)
}

fn search(app: &TestApp, q: &str) -> Vec<i64> {
    app.ids(&format!("/v1/incidents?q={}", urlencode(q)))
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[test]
fn q_searches_every_text_with_stems_phrases_or_not_prefixes_and_any_diacritics() {
    let (app, [kabul, attacked, notes, titled]) = seeded();
    let cases: Vec<(&str, Vec<i64>)> = vec![
        // Stems: `attack` finds `attacked`, `protesters` finds the notes' `Protesters`.
        ("attack", vec![attacked]),
        ("attacks", vec![attacked]),
        ("PROTESTER", vec![notes]),
        // Phrases keep their words' order.
        ("\"shopping area\"", vec![kabul]),
        ("\"area shopping\"", vec![]),
        ("shopping", vec![kabul, notes]),
        // OR, -word, prefixes.
        ("mosul OR aleppo", vec![notes, titled]),
        ("shopping -mosul", vec![kabul]),
        ("shopping -\"shopping district\"", vec![kabul]),
        ("rock*", vec![kabul, titled]),
        ("\"rocket fi\"*", vec![kabul]),
        // Diacritics either way: stored `Kandahār`, asked `kabúl`.
        ("kandahar", vec![attacked]),
        ("kabúl", vec![kabul]),
        // Places, perpetrators, source titles and excerpts, attribute notes; not codes.
        ("boldak", vec![attacked]),
        ("taliban", vec![kabul, attacked]),
        ("exhibition", vec![titled]),
        ("wounding dozen", vec![kabul]),
        ("x7", vec![]),
        // Words with punctuation inside are phrases of their parts.
        ("spin-boldak", vec![attacked]),
    ];
    for (q, expected) in cases {
        let mut found = search(&app, q);
        found.sort();
        let mut expected = expected;
        expected.sort();
        assert_eq!(found, expected, "q={q}");
    }
}

#[test]
fn q_combines_with_the_other_filters_counts_stats_and_exports() {
    let (app, [kabul, _, notes, _]) = seeded();
    assert_eq!(app.ids("/v1/incidents?q=shopping&country=AF"), [kabul]);
    let page = app.get_json("/v1/incidents?q=shopping&count=true");
    assert_eq!(page["total"], 2);
    let stats = app.get_json("/v1/stats?q=shopping&group_by=country");
    assert_eq!(stats["data"].as_array().unwrap().len(), 2);
    let csv = app
        .get("/v1/incidents?q=protesters&format=csv")
        .text()
        .unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert_eq!(
        app.ids("/v1/incidents?q=shopping&sort=occurred_on"),
        [notes, kabul]
    );
}

#[test]
fn bad_queries_are_a_400_naming_q_and_relevance_needs_q() {
    let (app, _) = seeded();
    for q in ["-kabul", "%", "kabul OR", "OR kabul", "a OR -b"] {
        let path = format!("/v1/incidents?q={}", urlencode(q));
        assert_problem(app.get(&path), 400, "q");
    }
    let many = vec!["a"; 33].join("+");
    assert_problem(app.get(&format!("/v1/stats?q={many}")), 400, "q");
    assert_problem(app.get("/v1/incidents?sort=relevance"), 400, "sort");
    let then = "2020-01-01T00:00:00Z";
    let with_as_of = format!("/v1/incidents?sort=relevance&q=kabul&as_of={then}");
    assert_problem(app.get(&with_as_of), 400, "sort");
    // Blank is no search.
    assert_eq!(app.ids("/v1/incidents?q=%20").len(), 4);
}

/// Five incidents of as many words each, `kabul` from five times to once: the more often,
/// the better the match; two equal ones are told apart by date, newest first.
#[test]
fn relevance_orders_best_first_then_newest_and_its_cursor_pages() {
    let app = TestApp::start();
    let mut expected = Vec::new();
    for (times, day) in [
        (5, "01"),
        (4, "02"),
        (3, "03"),
        (2, "04"),
        (1, "05"),
        (1, "06"),
    ] {
        let words: Vec<&str> = (0..6)
            .map(|i| if i < times { "kabul" } else { "market" })
            .collect();
        let body = json!({
            "occurred_on": format!("2020-01-{day}"), "description": words.join(" "),
            "location": {"country_code": "FJ"}
        });
        expected.push(app.create(&body)["id"].as_i64().unwrap());
    }
    expected.swap(4, 5);
    app.create(
        &json!({"occurred_on": "2020-02-01", "description": "market",
        "location": {"country_code": "FJ"}}),
    );
    assert_eq!(app.ids("/v1/incidents?q=kabul&sort=relevance"), expected);
    let mut paged = Vec::new();
    let mut path = "/v1/incidents?q=kabul&sort=relevance&limit=2".to_string();
    loop {
        let page = app.get_json(&path);
        paged.extend(ids_of(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/incidents?q=kabul&sort=relevance&limit=2&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(paged, expected);
}

fn ids_of(page: &Value) -> Vec<i64> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// Every page of `path` (which has a `limit`) through the cursors.
fn all_pages(app: &TestApp, path: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut next = path.to_string();
    loop {
        let page = app.get_json(&next);
        ids.extend(ids_of(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}&cursor={cursor}"),
            None => return ids,
        }
    }
}

#[test]
fn date_sorted_pages_of_a_search_match_the_same_list_without_it() {
    let app = TestApp::start();
    let report = app.import_report("format=ndjson", generated_ndjson(300));
    assert_eq!(report["inserted"], 300);
    // Every incident names "Second group": q=group is every row, its pages the list's.
    for sort in ["-occurred_on", "occurred_on"] {
        let everything = app.ids(&format!("/v1/incidents?sort={sort}&limit=1000"));
        assert_eq!(
            all_pages(&app, &format!("/v1/incidents?q=group&sort={sort}&limit=7")),
            everything
        );
        let afghan = app.ids(&format!("/v1/incidents?country=AF&sort={sort}&limit=1000"));
        let path = format!("/v1/incidents?q=group&country=AF&sort={sort}&limit=7");
        assert_eq!(all_pages(&app, &path), afghan);
    }
    let rare = app.ids("/v1/incidents?q=%22group%203%22&limit=1000");
    assert_eq!(rare.len(), 60);
}

/// PostgreSQL stores each row's full-text vector: imports have it computed ahead on a
/// connection of their own (the HTTP import on an idle pooled one, the CLI on a second one),
/// other writes through the trigger. Every path must store what `to_tsvector` gives for the
/// row's text, and on both databases the index must answer the words written last.
#[test]
fn every_write_path_indexes_the_text_it_writes() {
    let app = TestApp::start();
    let original = generated_ndjson(300);
    assert_eq!(
        app.import_report("format=ndjson", original.clone())["inserted"],
        300
    );
    // Re-imported with other words: every row is a new version, written by the staged update.
    let renamed = String::from_utf8(original)
        .unwrap()
        .replace("Second group", "Other band");
    let report = app.import_report("format=ndjson", renamed.into_bytes());
    assert_eq!(report["updated"], 300, "{report}");
    assert_eq!(app.ids("/v1/incidents?q=band&limit=1000").len(), 300);
    assert_eq!(
        app.ids("/v1/incidents?q=%22second%20group%22"),
        Vec::<i64>::new()
    );
    // Through the command line, into the same database.
    let file = std::env::temp_dir().join(format!("vectors-{}.ndjson", std::process::id()));
    let cli_rows = String::from_utf8(generated_ndjson(20))
        .unwrap()
        .replace("\"generated\"", "\"cli\"")
        .replace("Second group", "Lone militia");
    std::fs::write(&file, cli_rows).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_incidentdb"))
        .args(["import", "--format", "ndjson"])
        .arg(&file)
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(app.ids("/v1/incidents?q=militia&limit=1000").len(), 20);
    // Through the API: a new incident, then its description changed.
    let id = app.create(&kabul())["id"].as_i64().unwrap();
    assert_eq!(
        app.patch(id, &json!({"description": "Mortars struck a depot."}))
            .status(),
        200
    );
    assert_eq!(app.ids("/v1/incidents?q=mortar"), vec![id]);
    assert_eq!(app.ids("/v1/incidents?q=university"), Vec::<i64>::new());
    let mut conn = incidentdb::db::connect(&app.database_url).unwrap();
    if matches!(conn, incidentdb::db::DbConnection::Postgres(_)) {
        use diesel::RunQueryDsl;
        let stale: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM incidents WHERE search_vector IS DISTINCT FROM \
             to_tsvector('english', search_text))",
        ))
        .get_result(&mut conn)
        .unwrap();
        assert_eq!(stale, 0);
    }
}

/// An import's vectors computed ahead are the ones stored (PostgreSQL; SQLite indexes its own
/// text): a vectorizer that answers a marker word for every row makes every row found by the
/// marker and none by its words.
#[test]
fn vectors_computed_ahead_are_the_ones_stored() {
    let app = TestApp::start();
    let options = ndjson_import();
    let marker: incidentdb::import::writer::Vectorize =
        Box::new(|texts: &[String]| Some(vec!["'zzmarker':1".to_string(); texts.len()]));
    let url = app.database_url.clone();
    let report = incidentdb::import::writer::import(
        || {
            Ok(Box::new(
                incidentdb::db::connect(&url).expect("a connection"),
            ))
        },
        Some(marker),
        std::io::Cursor::new(generated_ndjson(30)),
        &options,
        |_| {},
    )
    .unwrap();
    assert_eq!(report.inserted, 30);
    let conn = incidentdb::db::connect(&url).unwrap();
    let staged = incidentdb::db::bulk::stages_imports(&conn);
    let (by_marker, by_words) = (
        app.ids("/v1/incidents?q=zzmarker"),
        app.ids("/v1/incidents?q=group"),
    );
    assert_eq!(
        (by_marker.len(), by_words.len()),
        if staged { (30, 0) } else { (0, 30) }
    );
}

#[test]
fn q_as_of_a_time_searches_the_versions_then_current() {
    let app = TestApp::start();
    let created = app.create(&json!({
        "occurred_on": "2020-05-05", "description": "Rockets hit a market.",
        "location": {"country_code": "AF"}
    }));
    let id = created["id"].as_i64().unwrap();
    let before = instant();
    assert_eq!(
        app.patch(id, &json!({"description": "Gunmen attacked a market."}))
            .status(),
        200
    );
    let after = instant();
    let delete = app.client.delete(app.url(&format!("/v1/incidents/{id}")));
    assert_eq!(app.with_token(delete, &app.editor).status(), 204);
    let at = |q: &str, time: &str| app.ids(&format!("/v1/incidents?q={q}&as_of={time}"));
    assert_eq!(at("rocket", &before), [id]);
    assert_eq!(at("attack", &before), Vec::<i64>::new());
    assert_eq!(at("attack", &after), [id]);
    assert_eq!(at("rocket", &after), Vec::<i64>::new());
    assert_eq!(at("market+-rocket", &after), [id]);
    assert_eq!(search(&app, "market"), Vec::<i64>::new());
}

/// The server's clock now, between two pauses, as an `as_of` value.
fn instant() -> String {
    std::thread::sleep(Duration::from_millis(20));
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    std::thread::sleep(Duration::from_millis(20));
    urlencode(&now)
}

/// `incidentdb reindex` gives rows stored under older rules the current search text, through
/// the triggers that keep the index, without making versions.
#[test]
fn reindex_mends_stale_search_text() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::start();
    let id = app.create(&kabul())["id"].as_i64().unwrap();
    let mut conn = incidentdb::db::connect(&app.database_url).unwrap();
    conn.batch_execute("UPDATE incidents SET search_text = 'stale words'")
        .unwrap();
    assert_eq!(app.ids("/v1/incidents?q=university"), Vec::<i64>::new());
    assert_eq!(app.ids("/v1/incidents?q=stale"), vec![id]);

    let reindex = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_incidentdb"))
            .arg("reindex")
            .env("DATABASE_URL", &app.database_url)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    assert_eq!(reindex(), json!({"reindexed": 1, "skipped": []}));
    assert_eq!(app.ids("/v1/incidents?q=rockets"), vec![id]);
    assert_eq!(app.ids("/v1/incidents?q=stale"), Vec::<i64>::new());
    assert_eq!(reindex(), json!({"reindexed": 0, "skipped": []}));
    let unreadable = app.create(&kabul())["id"].as_i64().unwrap();
    conn.batch_execute(&format!(
        "UPDATE incidents SET document = '{{\"occurred_on\": 5}}' WHERE id = {unreadable}"
    ))
    .unwrap();
    assert_eq!(reindex(), json!({"reindexed": 0, "skipped": [unreadable]}));
    let history = app.get_json(&format!("/v1/incidents/{id}/history"));
    assert_eq!(
        history["data"].as_array().unwrap().len(),
        1,
        "no version made"
    );
}

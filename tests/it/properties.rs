//! Property tests of the parsers that take outside input: the query-string filter and the
//! dataset readers. Whatever they are given, they answer with a value or an error naming
//! the parameter or line — never a panic.

use incidentdb::import::Format;
use incidentdb::query::filter::FilterParams;
use incidentdb::query::page::Page;
use incidentdb::query::page::PageParams;
use incidentdb::query::stats::{Grouping, StatsParams};
use incidentdb::query::{Filter, Params};
use proptest::prelude::*;

/// The query parameters the OpenAPI document gives for the list and the stats, and one
/// misspelt name.
fn names() -> Vec<String> {
    let document = serde_json::to_value(incidentdb::openapi::document()).unwrap();
    let mut names: Vec<String> = ["/v1/incidents", "/v1/stats"]
        .iter()
        .flat_map(|path| {
            document["paths"][path]["get"]["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|parameter| parameter["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names.push("contry".into());
    names
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{1,4}(-[0-9]{1,2}){0,3}",
        "-?[0-9]{1,3}(\\.[0-9]{1,8})?(,-?[0-9]{1,3}(\\.[0-9]{1,8})?){0,4}",
        "[A-Za-z ,%_'\\-]{0,30}",
        Just("2020-02-30".to_string()),
        Just("1e309,1,2,3".to_string()),
        Just("NaN,NaN".to_string()),
    ]
}

fn query_string() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(names()), value()), 0..8)
        .prop_map(|pairs| serde_urlencoded::to_string(pairs).expect("pairs encode"))
}

/// Everything the handlers parse from a query string, in their order.
fn parse_all(query: &str) {
    let Ok(mut params) = Params::parse(query) else {
        return;
    };
    let filter = params.read::<FilterParams>().and_then(Filter::try_from);
    let page = params.read::<PageParams>().and_then(Page::try_from);
    let keys = params
        .read::<StatsParams>()
        .and_then(|stats| Grouping::parse(stats.group_by, stats.cell));
    if let (Ok(filter), Ok(_), Ok(_)) = (filter, page, keys) {
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            assert!(from <= to, "{query}");
        }
        if let Some(bbox) = filter.bbox {
            assert!(bbox.min_lat <= bbox.max_lat, "{query}");
        }
    }
}

/// Every row of `input` as the importer sees it; each error names a line that exists.
fn read_all(format: Format, input: &[u8]) {
    let lines = input.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    for row in format.rows(input) {
        let line = match row {
            Ok((line, _)) => line,
            Err(error) => {
                assert!(!error.field.is_empty() || !error.message.is_empty());
                error.line
            }
        };
        assert!(line <= lines + 1, "line {line} of {lines}");
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/").to_string() + name)
        .unwrap()
}

/// A fixture with one byte range replaced: near-valid input, where parsers are weakest.
fn mutated(name: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let original = fixture(name);
    let len = original.len();
    (
        0..len,
        0..64usize,
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(move |(at, cut, insert)| {
            let mut bytes = original.clone();
            let end = (at + cut).min(len);
            bytes.splice(at..end, insert);
            bytes
        })
}

proptest! {
    #[test]
    fn the_filter_parser_answers_every_query_string(query in query_string()) {
        parse_all(&query);
    }

    #[test]
    fn the_filter_parser_answers_raw_text(query in any::<String>()) {
        parse_all(&query);
    }

    #[test]
    fn the_acled_reader_answers_any_bytes(input in mutated("acled_sample.csv")) {
        read_all(Format::Acled, &input);
    }

    #[test]
    fn the_ucdp_reader_answers_any_bytes(input in mutated("ucdp_sample.csv")) {
        read_all(Format::Ucdp, &input);
    }

    #[test]
    fn the_gtd_reader_answers_any_bytes(input in mutated("gtd_sample.csv")) {
        read_all(Format::Gtd, &input);
    }

    #[test]
    fn the_ndjson_reader_answers_any_bytes(input in mutated("ndjson_sample.ndjson")) {
        read_all(Format::Ndjson, &input);
    }

    #[test]
    fn every_reader_answers_random_bytes(input in prop::collection::vec(any::<u8>(), 0..2048)) {
        for format in [Format::Acled, Format::Ucdp, Format::Gtd, Format::Ndjson] {
            read_all(format, &input);
        }
    }
}

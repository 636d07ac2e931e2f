//! ACLED export CSV (the 2020 layout; columns are found by name, so later layouts read too).
//!
//! `actor1` and the `;`-separated `assoc_actor_1` become perpetrators with claim `attributed`
//! (ACLED codes actor 1 as the side that acted); `actor2` is the other side and stays in
//! `attributes`. `fatalities` is ACLED's single conservative count: it becomes `killed.best`,
//! with `low`/`high` and all of `injured` unknown.

use std::io::Read;

use super::csv_rows::{self, Fields, Layout};
use super::known_country_code;
use super::{Row, RowError};
use crate::model::incident::{
    Bounds, Casualties, Claim, DatePrecision, GeoPrecision, IncidentBody, Location, Source,
};

static LAYOUT: Layout = Layout {
    required: &[
        "event_id_cnty",
        "event_date",
        "time_precision",
        "event_type",
        "sub_event_type",
        "actor1",
        "assoc_actor_1",
        "region",
        "country",
        "admin1",
        "admin2",
        "location",
        "latitude",
        "longitude",
        "geo_precision",
        "source",
        "notes",
        "fatalities",
    ],
    optional: &["iso3"],
};

/// `9-May-20` (spreadsheet re-save), `2020-05-09` (API), `09 May 2020` (export tool).
const DATE_FORMATS: &[&str] = &["%d-%b-%y", "%Y-%m-%d", "%d %B %Y"];

/// The meanings of codes 1, 2, 3 (see `Fields::code`).
const TIME_PRECISION: [DatePrecision; 3] = {
    use DatePrecision::*;
    [Day, Week, Month]
};

const GEO_PRECISION: [GeoPrecision; 3] = {
    use GeoPrecision::*;
    [Place, Near, Admin1]
};

/// The incidents of an ACLED CSV file, one per record.
pub fn rows<R: Read>(input: R) -> impl Iterator<Item = Row> {
    csv_rows::rows(input, &LAYOUT, parse)
}

fn parse(f: &Fields) -> Result<IncidentBody, RowError> {
    Ok(IncidentBody {
        dataset: None,
        external_id: f.text("event_id_cnty"),
        occurred_on: f.required_date("event_date", DATE_FORMATS)?,
        occurred_until: None,
        date_precision: f
            .code("time_precision", &TIME_PRECISION)?
            .unwrap_or_default(),
        event_type: f.text("event_type"),
        sub_event_type: f.text("sub_event_type"),
        description: f.text("notes"),
        location: location(f)?,
        casualties: Casualties {
            killed: Bounds {
                best: f.count("fatalities")?,
                ..Bounds::default()
            },
            injured: Bounds::default(),
        },
        perpetrators: csv_rows::perpetrators(
            std::iter::once(f.raw("actor1"))
                .chain(csv_rows::split_list(f.raw("assoc_actor_1")))
                .map(|name| (name, Claim::Attributed)),
        ),
        sources: csv_rows::split_list(f.raw("source"))
            .into_iter()
            .map(|name| Source {
                publisher: Some(name.to_string()),
                ..Source::default()
            })
            .collect(),
        attributes: f.attributes(),
    })
}

fn location(f: &Fields) -> Result<Location, RowError> {
    Ok(Location {
        country_code: known_country_code([f.text("iso3"), f.text("iso")]),
        country: f.text("country"),
        source_region: f.text("region"),
        admin1: f.text("admin1"),
        admin2: f.text("admin2"),
        place: f.text("location"),
        latitude: f.coordinate("latitude", 90.0)?,
        longitude: f.coordinate("longitude", 180.0)?,
        geo_precision: f.code("geo_precision", &GEO_PRECISION)?,
        ..Location::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::csv_rows::testing::{
        date, dev_sample, fixture, in_source_region, killed, ok,
    };
    use crate::import::Format;
    use crate::model::incident::Perpetrator;

    #[test]
    fn sample_maps_every_field() {
        let rows = fixture(Format::Acled, "acled_sample.csv");
        assert_eq!(rows.len(), 4);
        let lines: Vec<u64> = rows.iter().map(|r| r.as_ref().expect("valid").0).collect();
        assert_eq!(lines, vec![2, 3, 4, 6]);
        let first = ok(&rows[0]);
        assert_eq!(first.external_id.as_deref(), Some("AFG90001"));
        assert_eq!(first.dataset, None);
        assert_eq!(first.occurred_on, date(2020, 5, 9));
        assert_eq!(first.date_precision, DatePrecision::Day);
        assert_eq!(
            first.casualties.killed,
            Bounds {
                low: None,
                best: Some(3),
                high: None
            }
        );
        assert_eq!(first.casualties.injured, Bounds::default());
        let names: Vec<&str> = first.perpetrators.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["Alpha Front", "Beta Militia", "Gamma Youth"]);
        assert!(first
            .perpetrators
            .iter()
            .all(|p| p.claim == Claim::Attributed));
        let publishers: Vec<_> = first.sources.iter().map(|s| s.publisher.clone()).collect();
        assert_eq!(
            publishers,
            vec![Some("Daily Example".into()), Some("Radio Sample".into())]
        );
        assert_eq!(first.sources[0].title, None);
        let loc = &first.location;
        assert_eq!(loc.country_code.as_deref(), Some("AFG"));
        assert_eq!(
            loc.source_region.as_deref(),
            Some("Caucasus and Central Asia")
        );
        assert_eq!(
            (loc.latitude, loc.longitude),
            (Some(34.5167), Some(69.1833))
        );
        assert_eq!(loc.place.as_deref(), Some("Kabul"));
        assert_eq!(loc.geo_precision, Some(GeoPrecision::Place));
        assert_eq!(first.attributes["actor2"], "Civilians (Afghanistan)");
        assert_eq!(first.attributes["inter1"], "2");
        assert_eq!(first.attributes["admin3"], "Central Kabul");
        assert_eq!(first.attributes["source_scale"], "National");
        assert!(!first.attributes.contains_key("assoc_actor_2"));
        assert!(!first.attributes.contains_key("fatalities"));
    }

    #[test]
    fn sample_reads_all_date_formats_precisions_and_multiline_notes() {
        let rows = fixture(Format::Acled, "acled_sample.csv");
        let second = ok(&rows[1]);
        assert_eq!(second.occurred_on, date(2020, 5, 9));
        assert_eq!(second.date_precision, DatePrecision::Week);
        assert_eq!(second.casualties.killed.best, Some(0));
        assert_eq!(second.location.geo_precision, Some(GeoPrecision::Near));
        assert_eq!(second.location.admin2, None);
        let third = ok(&rows[2]);
        assert_eq!(third.occurred_on, date(2020, 5, 9));
        assert_eq!(third.date_precision, DatePrecision::Month);
        assert_eq!(third.location.geo_precision, Some(GeoPrecision::Admin1));
        assert_eq!(
            third.perpetrators,
            vec![Perpetrator {
                name: "Protesters (Kenya)".into(),
                claim: Claim::Attributed
            }]
        );
        let notes = third.description.as_deref().expect("notes");
        assert!(notes.contains("\"no comment\"\r\nLater"), "{notes:?}");
        assert_eq!(ok(&rows[3]).occurred_on, date(2020, 4, 27));
    }

    #[test]
    fn dev_file_facts() {
        let Some(incidents) = dev_sample(Format::Acled, "acled_dev.csv") else {
            return;
        };
        assert_eq!(killed(&incidents), 130);
        let afghan: Vec<_> = incidents
            .iter()
            .filter(|i| i.location.country_code.as_deref() == Some("AFG"))
            .collect();
        assert_eq!(afghan.len(), 15);
        assert_eq!(killed(afghan), 36);
        let southern_asia = in_source_region(&incidents, "Southern Asia")
            .filter(|i| (date(2020, 5, 1)..=date(2020, 5, 7)).contains(&i.occurred_on))
            .count();
        assert_eq!(southern_asia, 14);
        let first = incidents.iter().map(|i| i.occurred_on).min();
        let last = incidents.iter().map(|i| i.occurred_on).max();
        assert_eq!(
            (first, last),
            (Some(date(2020, 4, 27)), Some(date(2020, 5, 9)))
        );
    }
}

//! UCDP Georeferenced Event Dataset (GED) as CSV, as the API's JSON turned into a table.
//!
//! Deaths `low`/`best`/`high` are kept as given, even when inconsistent; injuries are not
//! coded. `side_a` and `side_b` are perpetrators with claim `attributed`, except a `side_b`
//! of "Civilians" (one-sided violence), which is the target. The `source_*` columns describe
//! one source, possibly several citations joined by `;`, kept as one `Source`.

use std::io::Read;

use chrono::NaiveDate;

use super::csv_rows::{self, Fields, Layout};
use super::{Row, RowError};
use crate::model::incident::{
    Bounds, Casualties, Claim, DatePrecision, GeoPrecision, IncidentBody, Location, Source,
};

static LAYOUT: Layout = Layout {
    required: &[
        "id",
        "type_of_violence",
        "side_a",
        "side_b",
        "source_article",
        "source_office",
        "source_date",
        "source_headline",
        "where_prec",
        "where_coordinates",
        "adm_1",
        "adm_2",
        "latitude",
        "longitude",
        "country",
        "region",
        "date_prec",
        "date_start",
        "date_end",
        "best",
        "high",
        "low",
    ],
    optional: &[],
};

/// `2007-06-01T00:00:00` (API) or `2007-06-01`.
const DATE_FORMATS: &[&str] = &["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"];

/// 1 exact day, 2 within 2–6 days, 3 about a month, 4 about a year, 5 more than a year.
const DATE_PRECISION: [DatePrecision; 5] = {
    use DatePrecision::*;
    [Day, Week, Month, Year, Year]
};

/// 1 exact, 2 within 25 km, 3 second-order and 4 first-order administrative division,
/// 5 a larger part of the country (several divisions, a line), 6 country, 7 international
/// waters or airspace.
const WHERE_PRECISION: [GeoPrecision; 7] = {
    use GeoPrecision::*;
    [Exact, Near, Admin2, Admin1, Admin1, Country, Region]
};

const TYPE_OF_VIOLENCE: [&str; 3] = [
    "State-based conflict",
    "Non-state conflict",
    "One-sided violence",
];

/// The incidents of a UCDP GED CSV file, one per record.
pub fn rows<R: Read>(input: R) -> impl Iterator<Item = Row> {
    csv_rows::rows(input, &LAYOUT, parse)
}

fn parse(f: &Fields) -> Result<IncidentBody, RowError> {
    let (occurred_on, occurred_until) = span(f)?;
    let side_b = f.raw("side_b");
    let side_b = (side_b.trim() != "Civilians").then_some(side_b);
    Ok(IncidentBody {
        dataset: None,
        external_id: f.text("id"),
        occurred_on,
        occurred_until,
        date_precision: f.code("date_prec", &DATE_PRECISION)?.unwrap_or_default(),
        event_type: f
            .code("type_of_violence", &TYPE_OF_VIOLENCE)?
            .map(str::to_string),
        sub_event_type: None,
        description: None,
        location: location(f)?,
        casualties: Casualties {
            killed: Bounds {
                low: f.count("low")?,
                best: f.count("best")?,
                high: f.count("high")?,
            },
            injured: Bounds::default(),
        },
        perpetrators: csv_rows::perpetrators(
            std::iter::once(f.raw("side_a"))
                .chain(side_b)
                .map(|name| (name, Claim::Attributed)),
        ),
        sources: source(f).into_iter().collect(),
        attributes: f.attributes(),
    })
}

/// `date_start`, and `date_end` when it is a later day.
fn span(f: &Fields) -> Result<(NaiveDate, Option<NaiveDate>), RowError> {
    let start = f.required_date("date_start", DATE_FORMATS)?;
    match f.date("date_end", DATE_FORMATS)? {
        Some(end) if end < start => Err(f.error(
            "date_end",
            format!("before date_start: {:?}", f.raw("date_end")),
        )),
        end => Ok((start, end.filter(|&end| end != start))),
    }
}

fn location(f: &Fields) -> Result<Location, RowError> {
    Ok(Location {
        country_code: None,
        country: f.text("country"),
        source_region: f.text("region"),
        admin1: f.text("adm_1"),
        admin2: f.text("adm_2"),
        place: f.text("where_coordinates"),
        latitude: f.coordinate("latitude", 90.0)?,
        longitude: f.coordinate("longitude", 180.0)?,
        geo_precision: f.code("where_prec", &WHERE_PRECISION)?,
        ..Location::default()
    })
}

/// The source columns as one `Source`, `None` when all are blank.
fn source(f: &Fields) -> Option<Source> {
    let source = Source {
        url: None,
        title: f.text("source_headline"),
        publisher: f.text("source_office"),
        published_on: published_on(f.raw("source_date")),
        excerpt: f.text("source_article"),
    };
    (source != Source::default()).then_some(source)
}

/// The day of `source_date` when it names one (several citations of the same day count as
/// one); `None` when the citations differ or the text is no date.
fn published_on(raw: &str) -> Option<NaiveDate> {
    match csv_rows::split_list(raw)[..] {
        [one] => csv_rows::parse_date(one, DATE_FORMATS),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::csv_rows::testing::{
        date, dev_sample, fixture, in_source_region, killed, ok,
    };
    use crate::import::Format;
    use crate::model::incident::Perpetrator;
    use std::collections::HashMap;

    fn attributed(name: &str) -> Perpetrator {
        Perpetrator {
            name: name.into(),
            claim: Claim::Attributed,
        }
    }

    #[test]
    fn sample_maps_dates_deaths_and_sides() {
        let rows = fixture(Format::Ucdp, "ucdp_sample.csv");
        let lines: Vec<u64> = rows.iter().map(|r| r.as_ref().expect("valid").0).collect();
        assert_eq!(lines, vec![2, 5, 6, 7]);
        let first = ok(&rows[0]);
        assert_eq!(first.external_id.as_deref(), Some("990001"));
        assert_eq!(
            (first.occurred_on, first.occurred_until),
            (date(2007, 6, 3), None)
        );
        assert_eq!(first.date_precision, DatePrecision::Day);
        assert_eq!(first.event_type.as_deref(), Some("State-based conflict"));
        let killed = Bounds {
            low: Some(5),
            best: Some(4),
            high: Some(3),
        };
        assert_eq!(first.casualties.killed, killed);
        assert_eq!(first.casualties.injured, Bounds::default());
        let sides = vec![
            attributed("Government of Afghanistan"),
            attributed("Taleban"),
        ];
        assert_eq!(first.perpetrators, sides);
        assert_eq!(first.description, None);
        let second = ok(&rows[1]);
        assert_eq!(second.occurred_on, date(2007, 6, 1));
        assert_eq!(second.occurred_until, Some(date(2007, 6, 5)));
        assert_eq!(second.date_precision, DatePrecision::Week);
        assert_eq!(second.event_type.as_deref(), Some("One-sided violence"));
        assert_eq!(second.perpetrators, vec![attributed("Taleban")]);
        assert_eq!(second.attributes["dyad_name"], "Taleban - Civilians");
        let precisions: Vec<_> = rows.iter().map(|r| ok(r).date_precision).collect();
        assert_eq!(precisions[2..], [DatePrecision::Year, DatePrecision::Year]);
    }

    #[test]
    fn sample_maps_location_sources_and_attributes() {
        let rows = fixture(Format::Ucdp, "ucdp_sample.csv");
        let first = ok(&rows[0]);
        let loc = &first.location;
        assert_eq!(
            (loc.country.as_deref(), loc.country_code.as_deref()),
            (Some("Afghanistan"), None)
        );
        assert_eq!(loc.source_region.as_deref(), Some("Asia"));
        assert_eq!(loc.admin1.as_deref(), Some("Kandahar province"));
        assert_eq!(loc.admin2.as_deref(), Some("Panjwayi district"));
        assert_eq!(loc.place.as_deref(), Some("Panjwayi town"));
        assert_eq!((loc.latitude, loc.longitude), (Some(31.53), Some(65.46)));
        assert_eq!(loc.geo_precision, Some(GeoPrecision::Exact));
        let source = &first.sources[0];
        assert_eq!(first.sources.len(), 1);
        assert_eq!(
            source.publisher.as_deref(),
            Some("Example Wire;Example Wire")
        );
        assert_eq!(
            source.title.as_deref(),
            Some("Clash reported in Panjwayi;Panjwayi fighting")
        );
        assert_eq!(source.published_on, Some(date(2007, 6, 3)));
        let excerpt = source.excerpt.as_deref().expect("article");
        assert!(
            excerpt.contains("\"Clash reported in Panjwayi\";\r\nExample Wire"),
            "{excerpt:?}"
        );
        assert_eq!(first.attributes["deaths_a"], "1");
        assert_eq!(
            first.attributes["dyad_name"],
            "Government of Afghanistan - Taleban"
        );
        assert_eq!(first.attributes["active_year"], "true");
        assert!(!first.attributes.contains_key("best"));
        let precisions: Vec<_> = rows.iter().map(|r| ok(r).location.geo_precision).collect();
        assert_eq!(
            precisions[2..],
            [Some(GeoPrecision::Country), Some(GeoPrecision::Region)]
        );
        assert_eq!(ok(&rows[2]).sources[0].published_on, None);
        assert!(ok(&rows[3]).sources.is_empty());
    }

    #[test]
    fn dev_file_facts() {
        let Some(incidents) = dev_sample(Format::Ucdp, "ucdp_dev.csv") else {
            return;
        };
        assert_eq!(killed(&incidents), 1121);
        let mut regions: HashMap<&str, usize> = HashMap::new();
        for incident in &incidents {
            let region = incident.location.source_region.as_deref().unwrap_or("");
            *regions.entry(region).or_default() += 1;
        }
        assert_eq!(regions, HashMap::from([("Asia", 130), ("Middle East", 70)]));
        let asia_june_2007: Vec<_> = in_source_region(&incidents, "Asia")
            .filter(|i| (date(2007, 6, 1)..=date(2007, 6, 30)).contains(&i.occurred_on))
            .collect();
        assert_eq!(asia_june_2007.len(), 20);
        assert_eq!(killed(asia_june_2007), 103);
    }
}

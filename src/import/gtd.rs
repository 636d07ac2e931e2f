//! Global Terrorism Database CSV (the 135-column distribution layout).
//!
//! The date is `iyear`/`imonth`/`iday` where 0 means unknown: an unknown day keeps the first
//! of the month with precision `month`, an unknown month January 1 with precision `year`; no
//! day is invented. `nkill`/`nwound` are `best` counts; blank and the codes -9/-99 are unknown
//! (null), never 0. The named groups (`gname`, `gname2`, `gname3`; "Unknown" is no group)
//! are perpetrators: `claimed` when their claim column is 1, else `suspected` when their
//! `guncertain` column is 1, else `attributed`.

use std::io::Read;

use chrono::NaiveDate;

use super::csv_rows::{self, Fields, Layout};
use super::{Row, RowError};
use crate::model::incident::{
    Bounds, Casualties, Claim, DatePrecision, GeoPrecision, IncidentBody, Location, Perpetrator,
    Source,
};

static LAYOUT: Layout = Layout {
    required: &[
        "eventid",
        "iyear",
        "imonth",
        "iday",
        "country_txt",
        "region_txt",
        "provstate",
        "city",
        "latitude",
        "longitude",
        "specificity",
        "summary",
        "attacktype1_txt",
        "gname",
        "gname2",
        "gname3",
        "nkill",
        "nwound",
        "scite1",
        "scite2",
        "scite3",
    ],
    optional: &[],
};

/// The GTD codebook's meaning: 1 the coordinates of the city, town or village; 2 of the
/// smallest administrative region around a city that could not be located; 3 of the smallest
/// administrative region (no city); 4 of the first-order region; 5 no region below the country.
const SPECIFICITY: [GeoPrecision; 5] = {
    use GeoPrecision::*;
    [Place, Admin2, Admin2, Admin1, Country]
};

/// Each named group with the columns of its claim and of its uncertain attribution.
const GROUPS: [(&str, &str, &str); 3] = [
    ("gname", "claimed", "guncertain1"),
    ("gname2", "claim2", "guncertain2"),
    ("gname3", "claim3", "guncertain3"),
];

const UNKNOWN: &str = "Unknown";

/// The incidents of a GTD CSV file, one per record.
pub fn rows<R: Read>(input: R) -> impl Iterator<Item = Row> {
    csv_rows::rows(input, &LAYOUT, parse)
}

fn parse(f: &Fields) -> Result<IncidentBody, RowError> {
    let (occurred_on, date_precision) = date(f)?;
    Ok(IncidentBody {
        dataset: None,
        external_id: f.text("eventid"),
        occurred_on,
        occurred_until: None,
        date_precision,
        event_type: f.text("attacktype1_txt"),
        sub_event_type: None,
        description: f.text("summary"),
        location: location(f)?,
        casualties: Casualties {
            killed: best(count(f, "nkill")?),
            injured: best(count(f, "nwound")?),
        },
        perpetrators: perpetrators(f),
        sources: ["scite1", "scite2", "scite3"]
            .into_iter()
            .filter_map(|column| f.text(column))
            .map(|citation| Source {
                excerpt: Some(citation),
                ..Source::default()
            })
            .collect(),
        attributes: f.attributes(),
    })
}

/// The first possible day and how precisely it is known.
fn date(f: &Fields) -> Result<(NaiveDate, DatePrecision), RowError> {
    let year = f
        .number::<i32>("iyear")?
        .ok_or_else(|| f.missing("iyear"))?;
    let month = f.number::<u32>("imonth")?.unwrap_or(0);
    let day = f.number::<u32>("iday")?.unwrap_or(0);
    let (month, day, precision) = match (month, day) {
        (0, _) => (1, 1, DatePrecision::Year),
        (month, 0) => (month, 1, DatePrecision::Month),
        (month, day) => (month, day, DatePrecision::Day),
    };
    if month > 12 {
        return Err(f.error("imonth", format!("not a month: {:?}", f.raw("imonth"))));
    }
    NaiveDate::from_ymd_opt(year, month, day)
        .map(|date| (date, precision))
        .ok_or_else(|| {
            let message = format!("not a day of {year}-{month:02}: {:?}", f.raw("iday"));
            f.error("iday", message)
        })
}

/// A casualty count where -9 and -99 mean unknown.
fn count(f: &Fields, column: &str) -> Result<Option<i32>, RowError> {
    match f.raw(column).trim() {
        "-9" | "-99" => Ok(None),
        _ => f.count(column),
    }
}

fn best(best: Option<i32>) -> Bounds {
    Bounds {
        best,
        ..Bounds::default()
    }
}

/// The text of a column, `None` when blank or "Unknown".
fn known(f: &Fields, column: &str) -> Option<String> {
    f.text(column).filter(|text| text.trim() != UNKNOWN)
}

fn location(f: &Fields) -> Result<Location, RowError> {
    Ok(Location {
        country_code: None,
        country: f.text("country_txt"),
        source_region: f.text("region_txt"),
        admin1: known(f, "provstate"),
        admin2: None,
        place: known(f, "city"),
        latitude: f.coordinate("latitude", 90.0)?,
        longitude: f.coordinate("longitude", 180.0)?,
        geo_precision: f.code("specificity", &SPECIFICITY)?,
        ..Location::default()
    })
}

fn perpetrators(f: &Fields) -> Vec<Perpetrator> {
    csv_rows::perpetrators(
        GROUPS
            .into_iter()
            .filter(|&(name, _, _)| f.raw(name).trim() != UNKNOWN)
            .map(|(name, claimed, uncertain)| {
                let claim = if f.flag(claimed) {
                    Claim::Claimed
                } else if f.flag(uncertain) {
                    Claim::Suspected
                } else {
                    Claim::Attributed
                };
                (f.raw(name), claim)
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::csv_rows::testing::{
        date, dev_sample, fixture, in_source_region, killed, ok,
    };
    use crate::import::Format;

    fn perpetrator(name: &str, claim: Claim) -> Perpetrator {
        Perpetrator {
            name: name.into(),
            claim,
        }
    }

    #[test]
    fn sample_maps_dates_casualties_and_claims() {
        let rows = fixture(Format::Gtd, "gtd_sample.csv");
        let lines: Vec<u64> = rows.iter().map(|r| r.as_ref().expect("valid").0).collect();
        assert_eq!(lines, vec![2, 4, 5]);
        let [first, second, third] = [0, 1, 2].map(|i| ok(&rows[i]));
        assert_eq!(first.external_id.as_deref(), Some("197105090001"));
        assert_eq!(
            (first.occurred_on, first.date_precision),
            (date(1971, 5, 9), DatePrecision::Day)
        );
        assert_eq!(
            (second.occurred_on, second.date_precision),
            (date(1971, 7, 1), DatePrecision::Month)
        );
        assert_eq!(
            (third.occurred_on, third.date_precision),
            (date(1972, 1, 1), DatePrecision::Year)
        );
        assert_eq!(first.casualties.killed, best(Some(2)));
        assert_eq!(first.casualties.injured, best(None));
        assert_eq!(second.casualties.killed, best(None));
        assert_eq!(second.casualties.injured, best(None));
        assert_eq!(third.casualties.killed, best(Some(2)));
        assert_eq!(third.casualties.injured, best(Some(0)));
        assert_eq!(
            first.perpetrators,
            vec![perpetrator("Alpha Front", Claim::Claimed)]
        );
        assert!(second.perpetrators.is_empty());
        let groups = vec![
            perpetrator("Beta Cell", Claim::Suspected),
            perpetrator("Gamma Brigade", Claim::Claimed),
            perpetrator("Delta Group", Claim::Attributed),
        ];
        assert_eq!(third.perpetrators, groups);
    }

    #[test]
    fn sample_maps_location_text_and_sources() {
        let rows = fixture(Format::Gtd, "gtd_sample.csv");
        let [first, second, third] = [0, 1, 2].map(|i| ok(&rows[i]));
        let loc = &first.location;
        assert_eq!(loc.country.as_deref(), Some("West Germany (FRG)"));
        assert_eq!(loc.country_code, None);
        assert_eq!(loc.source_region.as_deref(), Some("Western Europe"));
        assert_eq!(
            (loc.admin1.as_deref(), loc.place.as_deref()),
            (Some("Bavaria"), Some("Munich"))
        );
        assert_eq!(
            (loc.latitude, loc.longitude),
            (Some(48.1372), Some(11.5756))
        );
        assert_eq!(loc.geo_precision, Some(GeoPrecision::Place));
        assert_eq!(first.event_type.as_deref(), Some("Bombing/Explosion"));
        let summary = first.description.as_deref().expect("summary");
        assert!(summary.contains("office.\nNo group"), "{summary:?}");
        let excerpts: Vec<_> = first.sources.iter().map(|s| s.excerpt.as_deref()).collect();
        assert_eq!(
            excerpts,
            vec![
                Some("\"Invented Blast,\" Example Times, May 10, 1971."),
                Some("Example Gazette, May 11, 1971.")
            ]
        );
        assert!(first.sources.iter().all(|s| s.title.is_none()));
        assert_eq!(first.attributes["dbsource"], "PGIS");
        assert_eq!(first.attributes["targtype1_txt"], "Business");
        assert_eq!(first.attributes["claimed"], "1");
        assert_eq!(first.attributes["INT_ANY"], "-9");
        assert!(!first.attributes.contains_key("approxdate"));
        assert_eq!(second.attributes["approxdate"], "July 1971");
        assert_eq!(second.location.place, None);
        assert_eq!(
            (second.location.latitude, second.location.longitude),
            (None, None)
        );
        assert_eq!(second.location.geo_precision, Some(GeoPrecision::Country));
        assert_eq!(second.description, None);
        assert_eq!(third.location.geo_precision, Some(GeoPrecision::Admin1));
    }

    #[test]
    fn dev_file_facts() {
        let Some(incidents) = dev_sample(Format::Gtd, "gtd_dev.csv") else {
            return;
        };
        assert_eq!(killed(&incidents), 64);
        let unknown_killed = incidents
            .iter()
            .filter(|i| i.casualties.killed.best.is_none());
        assert_eq!(unknown_killed.count(), 11);
        let wounded: Vec<Option<i32>> = incidents
            .iter()
            .map(|i| i.casualties.injured.best)
            .collect();
        assert_eq!(wounded.iter().flatten().sum::<i32>(), 109);
        assert_eq!(wounded.iter().filter(|w| w.is_none()).count(), 31);
        let by_month = incidents
            .iter()
            .filter(|i| i.date_precision == DatePrecision::Month);
        assert_eq!(by_month.count(), 3);
        assert!(incidents
            .iter()
            .all(|i| i.date_precision != DatePrecision::Year));
        let unlocated = incidents.iter().filter(|i| i.location.latitude.is_none());
        assert_eq!(unlocated.count(), 2);
        let north_america = in_source_region(&incidents, "North America");
        assert_eq!(north_america.count(), 130);
        let western_europe_1971: Vec<_> = in_source_region(&incidents, "Western Europe")
            .filter(|i| i.occurred_on.format("%Y").to_string() == "1971")
            .collect();
        assert_eq!(western_europe_1971.len(), 18);
        assert_eq!(killed(western_europe_1971), 30);
    }
}

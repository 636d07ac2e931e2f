//! Exports: every incident a filter matches, read in keyset batches (flat memory however many
//! rows match) and written as CSV, GeoJSON or NDJSON.

use diesel::QueryResult;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::page::{Page, Sort};
use super::{list, Filter};
use crate::db::incidents::StoredIncident;
use crate::db::PooledConnection;
use crate::error::AppResult;
use crate::model::incident::{Incident, Source};

/// Incidents read and written together.
const BATCH: i64 = 1000;

/// What `format` (or `Accept`) may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A page of incidents as JSON (the default).
    #[default]
    Json,
    /// Every match as CSV, one row per incident (columns: see `CSV_COLUMNS`).
    Csv,
    /// Every match with coordinates as a GeoJSON FeatureCollection of Points.
    Geojson,
    /// Every match as import-ready NDJSON, one incident per line.
    Ndjson,
}

impl Format {
    /// Every format, for endpoints that offer them all.
    pub const ALL_FORMATS: [Format; 4] =
        [Format::Json, Format::Csv, Format::Geojson, Format::Ndjson];

    const ALL: [(&'static str, Format, &'static str); 4] = [
        ("json", Format::Json, "application/json"),
        ("csv", Format::Csv, "text/csv; charset=utf-8"),
        ("geojson", Format::Geojson, "application/geo+json"),
        ("ndjson", Format::Ndjson, "application/x-ndjson"),
    ];

    /// The `format` parameter's value.
    pub fn parse(text: &str) -> Result<Format, String> {
        Format::ALL
            .iter()
            .find(|(name, _, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, format, _)| *format)
            .ok_or_else(|| {
                format!("unknown format {text:?}; expected json, csv, geojson or ndjson")
            })
    }

    /// The format an `Accept` header asks for, if it names one of ours.
    pub fn from_accept(accept: &str) -> Option<Format> {
        accept.split(',').find_map(|item| {
            let media = item.split(';').next().unwrap_or("").trim();
            match media {
                "text/csv" => Some(Format::Csv),
                "application/geo+json" => Some(Format::Geojson),
                "application/x-ndjson" | "application/ndjson" => Some(Format::Ndjson),
                "application/json" => Some(Format::Json),
                _ => None,
            }
        })
    }

    pub fn content_type(self) -> &'static str {
        Format::ALL
            .iter()
            .find(|(_, format, _)| *format == self)
            .map(|(_, _, media)| *media)
            .unwrap_or("application/json")
    }

    /// The file extension for `Content-Disposition`.
    pub fn extension(self) -> &'static str {
        Format::ALL
            .iter()
            .find(|(_, format, _)| *format == self)
            .map(|(name, _, _)| *name)
            .unwrap_or("json")
    }
}

/// The CSV export's columns. Perpetrators and sources are joined with ` | `, in their order;
/// `perpetrator_claims` holds the claim of each perpetrator at the same position.
pub const CSV_COLUMNS: [&str; 34] = [
    "id",
    "dataset",
    "external_id",
    "occurred_on",
    "occurred_until",
    "date_precision",
    "event_type",
    "sub_event_type",
    "description",
    "country_code",
    "country",
    "region",
    "subregion",
    "source_region",
    "admin1",
    "admin2",
    "place",
    "latitude",
    "longitude",
    "geo_precision",
    "killed_low",
    "killed_best",
    "killed_high",
    "injured_low",
    "injured_best",
    "injured_high",
    "perpetrators",
    "perpetrator_claims",
    "source_urls",
    "source_titles",
    "attributes",
    "version",
    "created_at",
    "updated_at",
];

/// Joins list values in one CSV cell.
const LIST_SEPARATOR: &str = " | ";

/// Turns incidents into the bytes of one export format.
pub struct Writer {
    format: Format,
}

impl Writer {
    pub fn new(format: Format) -> Writer {
        Writer { format }
    }

    /// What comes before the first incident.
    pub fn header(&self, omitted: i64) -> Vec<u8> {
        match self.format {
            Format::Csv => csv_line(CSV_COLUMNS.iter().map(|c| c.to_string())),
            Format::Geojson => format!(
                "{{\"type\":\"FeatureCollection\",\"omitted_without_coordinates\":{omitted},\"features\":["
            )
            .into_bytes(),
            Format::Json | Format::Ndjson => Vec::new(),
        }
    }

    /// `batch` written out; `first` tells whether anything was written before it.
    pub fn batch(&self, batch: &[StoredIncident], first: bool) -> QueryResult<Vec<u8>> {
        let mut out = Vec::with_capacity(batch.len() * 1024);
        let mut first = first;
        for stored in batch {
            match self.format {
                Format::Csv => out.extend(csv_line(csv_record(&stored.incident()?))),
                Format::Ndjson | Format::Json => {
                    serde_json::to_writer(&mut out, &stored.incident()?.to_input())
                        .expect("an incident serialises");
                    out.push(b'\n');
                }
                Format::Geojson => {
                    let (Some(lat), Some(lon)) = (stored.latitude, stored.longitude) else {
                        continue;
                    };
                    if !first {
                        out.push(b',');
                    }
                    let feature = format!(
                        "{{\"type\":\"Feature\",\"id\":{},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{},{}]}},\"properties\":{}}}",
                        stored.id,
                        json!(lon),
                        json!(lat),
                        stored.json()
                    );
                    out.extend(feature.into_bytes());
                }
            }
            first = false;
        }
        Ok(out)
    }

    /// What comes after the last incident.
    pub fn footer(&self) -> Vec<u8> {
        match self.format {
            Format::Geojson => b"]}\n".to_vec(),
            _ => Vec::new(),
        }
    }
}

fn csv_line(fields: impl IntoIterator<Item = String>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(fields)
        .expect("writing to memory cannot fail");
    writer.into_inner().expect("writing to memory cannot fail")
}

fn csv_record(incident: &Incident) -> Vec<String> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let number = |value: Option<i32>| value.map(|n| n.to_string()).unwrap_or_default();
    let float = |value: Option<f64>| value.map(|n| n.to_string()).unwrap_or_default();
    let location = &incident.location;
    let killed = incident.casualties.killed;
    let injured = incident.casualties.injured;
    let joined = |values: Vec<String>| values.join(LIST_SEPARATOR);
    let source_field = |field: fn(&Source) -> Option<String>| {
        joined(
            incident
                .sources
                .iter()
                .map(|s| field(s).unwrap_or_default())
                .collect(),
        )
    };
    vec![
        incident.id.to_string(),
        incident.dataset.clone(),
        text(&incident.external_id),
        incident.occurred_on.to_string(),
        incident
            .occurred_until
            .map(|d| d.to_string())
            .unwrap_or_default(),
        wire_name(&incident.date_precision),
        text(&incident.event_type),
        text(&incident.sub_event_type),
        text(&incident.description),
        text(&location.country_code),
        text(&location.country),
        text(&location.region),
        text(&location.subregion),
        text(&location.source_region),
        text(&location.admin1),
        text(&location.admin2),
        text(&location.place),
        float(location.latitude),
        float(location.longitude),
        location
            .geo_precision
            .as_ref()
            .map(wire_name)
            .unwrap_or_default(),
        number(killed.low),
        number(killed.best),
        number(killed.high),
        number(injured.low),
        number(injured.best),
        number(injured.high),
        joined(
            incident
                .perpetrators
                .iter()
                .map(|p| p.name.clone())
                .collect(),
        ),
        joined(
            incident
                .perpetrators
                .iter()
                .map(|p| wire_name(&p.claim))
                .collect(),
        ),
        source_field(|s| s.url.clone()),
        source_field(|s| s.title.clone()),
        Value::Object(incident.attributes.clone()).to_string(),
        incident.version.to_string(),
        incident
            .created_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        incident
            .updated_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ]
}

fn wire_name<T: Serialize>(value: &T) -> String {
    crate::db::incidents::enum_text(value)
}

/// Reads every incident `filter` matches in `sort` order, `BATCH` at a time, each batch one
/// keyset query on a connection taken from `connect` for it alone (a slow client holds no
/// connection), and hands each batch to `emit` until it returns false.
pub fn each_batch(
    connect: impl Fn() -> AppResult<PooledConnection>,
    filter: &Filter,
    sort: Sort,
    mut emit: impl FnMut(Vec<StoredIncident>) -> bool,
) -> AppResult<()> {
    let mut page = Page {
        sort,
        limit: BATCH,
        cursor: None,
        count: false,
    };
    loop {
        let listing = {
            let mut conn = connect()?;
            list(&mut conn, filter, &page)?
        };
        let next = listing.next_cursor;
        if !emit(listing.incidents) {
            return Ok(());
        }
        match next {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(()),
        }
    }
}

//! The incident resource: its content (`IncidentBody`), sent by clients and importers and
//! stored as it is served, and the stored `Incident` around it.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::model::example;
use crate::wire_enum;

wire_enum! {
    /// How precisely the date of an incident is known.
    #[derive(Default)]
    pub enum DatePrecision {
        #[default]
        Day,
        Week,
        Month,
        Year,
    }
}

wire_enum! {
    /// How precisely the coordinates locate the incident.
    pub enum GeoPrecision {
        /// The exact spot.
        Exact,
        /// The named town, village or site.
        Place,
        /// Near the place, or within a few tens of kilometres of it.
        Near,
        /// The second-level administrative area.
        Admin2,
        /// The first-level administrative area (province, state).
        Admin1,
        /// Only the country is known.
        Country,
        /// A wider area than a country (e.g. international waters).
        Region,
    }
}

wire_enum! {
    /// The standing of a perpetrator with respect to an incident.
    pub enum Claim {
        /// The group claimed responsibility.
        Claimed,
        /// The group denied responsibility.
        Denied,
        /// Responsibility was attributed to the group by the source.
        Attributed,
        /// The group is suspected, without firm attribution.
        Suspected,
    }
}

/// A casualty count as low / best / high estimates. `null` means unknown, never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!(example::kabul_stored_part("/casualties/killed")))]
pub struct Bounds {
    #[schema(minimum = 0)]
    pub low: Option<i32>,
    #[schema(minimum = 0)]
    pub best: Option<i32>,
    #[schema(minimum = 0)]
    pub high: Option<i32>,
}

/// Killed and injured, each as low / best / high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!(example::kabul_stored_part("/casualties")))]
pub struct Casualties {
    #[serde(default)]
    pub killed: Bounds,
    #[serde(default)]
    pub injured: Bounds,
}

/// A group named in connection with the incident, with its claim status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!(example::kabul_stored_part("/perpetrators/0")))]
pub struct Perpetrator {
    pub name: String,
    pub claim: Claim,
}

/// An article or report that documents the incident. Identical sources are shared between
/// incidents (matched by URL, or by title, publisher and date when there is no URL).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!(example::kabul_stored_part("/sources/0")))]
pub struct Source {
    pub url: Option<String>,
    pub title: Option<String>,
    pub publisher: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub published_on: Option<NaiveDate>,
    pub excerpt: Option<String>,
}

/// Where the incident happened. The UN M49 `region` and `subregion` are derived from the
/// country: what a client sends there is ignored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!(example::kabul_stored_part("/location")))]
pub struct Location {
    /// ISO 3166-1 alpha-2 or alpha-3 code on input, alpha-3 as stored (null for names without
    /// a code, such as historical states). Either this or `country` is needed.
    pub country_code: Option<String>,
    /// Country name; resolved to an ISO code when one applies, kept verbatim otherwise
    /// (historical names such as "West Germany (FRG)").
    pub country: Option<String>,
    /// UN M49 region, from the country.
    #[schema(read_only)]
    pub region: Option<String>,
    /// UN M49 sub-region, from the country.
    #[schema(read_only)]
    pub subregion: Option<String>,
    /// The region label of the source dataset, kept verbatim.
    pub source_region: Option<String>,
    pub admin1: Option<String>,
    pub admin2: Option<String>,
    pub place: Option<String>,
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    pub geo_precision: Option<GeoPrecision>,
}

/// An incident's content: what clients send (POST, NDJSON import), what every importer
/// produces, and what is stored and served between the incident's `id` and `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!(example::kabul_input()))]
pub struct IncidentBody {
    /// The dataset the row belongs to; `manual` when omitted.
    pub dataset: Option<String>,
    /// The row's identifier in its dataset; unique together with `dataset`.
    pub external_id: Option<String>,
    /// The first possible day.
    #[schema(value_type = String, format = Date)]
    pub occurred_on: NaiveDate,
    /// The last possible day when the source gives a span.
    #[schema(value_type = Option<String>, format = Date)]
    pub occurred_until: Option<NaiveDate>,
    #[serde(default)]
    pub date_precision: DatePrecision,
    pub event_type: Option<String>,
    pub sub_event_type: Option<String>,
    pub description: Option<String>,
    pub location: Location,
    #[serde(default)]
    pub casualties: Casualties,
    #[serde(default)]
    pub perpetrators: Vec<Perpetrator>,
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Source-specific fields, kept losslessly under their original names.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
}

/// A stored incident: its body with its identity and history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!(example::kabul_stored()))]
pub struct Incident {
    pub id: i64,
    #[serde(flatten)]
    pub body: IncidentBody,
    /// Increments on every change; also the `ETag`.
    pub version: i32,
    #[serde(with = "utc_timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "utc_timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

/// Timestamps are stored as UTC without a zone and written as RFC 3339 with `Z`.
pub mod utc_timestamp {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(
            &value
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let text = String::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| t.naive_utc())
            .map_err(serde::de::Error::custom)
    }
}

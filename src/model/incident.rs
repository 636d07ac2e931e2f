//! The incident resource: its content (`IncidentBody`), sent by clients and importers and
//! stored as it is served, and the stored `Incident` around it.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

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
pub struct Bounds {
    #[schema(example = 8, minimum = 0)]
    pub low: Option<i32>,
    #[schema(example = 8, minimum = 0)]
    pub best: Option<i32>,
    #[schema(example = json!(null), minimum = 0)]
    pub high: Option<i32>,
}

/// Killed and injured, each as low / best / high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Casualties {
    #[serde(default)]
    pub killed: Bounds,
    #[serde(default)]
    pub injured: Bounds,
}

/// A group named in connection with the incident, with its claim status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Perpetrator {
    #[schema(example = "Islamic State")]
    pub name: String,
    pub claim: Claim,
}

/// An article or report that documents the incident. Identical sources are shared between
/// incidents (matched by URL, or by title, publisher and date when there is no URL).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Source {
    #[schema(example = json!(null))]
    pub url: Option<String>,
    #[schema(example = "Rockets Strike Kabul as Mike Pompeo Plans to Meet with Taliban")]
    pub title: Option<String>,
    #[schema(example = json!(null))]
    pub publisher: Option<String>,
    #[schema(value_type = Option<String>, format = Date, example = "2020-11-21")]
    pub published_on: Option<NaiveDate>,
    #[schema(
        example = "The rocket fire struck the heart of Kabul, killing at least eight people and wounding more than two dozen."
    )]
    pub excerpt: Option<String>,
}

/// Where the incident happened. The UN M49 `region` and `subregion` are derived from the
/// country: what a client sends there is ignored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct Location {
    /// ISO 3166-1 alpha-2 or alpha-3 code on input, alpha-3 as stored (null for names without
    /// a code, such as historical states). Either this or `country` is needed.
    #[schema(example = "AFG")]
    pub country_code: Option<String>,
    /// Country name; resolved to an ISO code when one applies, kept verbatim otherwise
    /// (historical names such as "West Germany (FRG)").
    #[schema(example = "Afghanistan")]
    pub country: Option<String>,
    /// UN M49 region, from the country.
    #[schema(example = "Asia", read_only)]
    pub region: Option<String>,
    /// UN M49 sub-region, from the country.
    #[schema(example = "Southern Asia", read_only)]
    pub subregion: Option<String>,
    /// The region label of the source dataset, kept verbatim.
    #[schema(example = json!(null))]
    pub source_region: Option<String>,
    #[schema(example = "Kabul")]
    pub admin1: Option<String>,
    #[schema(example = json!(null))]
    pub admin2: Option<String>,
    #[schema(example = "Kabul")]
    pub place: Option<String>,
    #[schema(example = 34.53, minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(example = 69.17, minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    pub geo_precision: Option<GeoPrecision>,
}

/// An incident's content: what clients send (POST, NDJSON import), what every importer
/// produces, and what is stored and served between the incident's `id` and `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!(crate::model::example::kabul_input()))]
pub struct IncidentBody {
    /// The dataset the row belongs to; `manual` when omitted.
    #[schema(example = "manual")]
    pub dataset: Option<String>,
    /// The row's identifier in its dataset; unique together with `dataset`.
    #[schema(example = json!(null))]
    pub external_id: Option<String>,
    /// The first possible day.
    #[schema(value_type = String, format = Date, example = "2020-11-21")]
    pub occurred_on: NaiveDate,
    /// The last possible day when the source gives a span.
    #[schema(value_type = Option<String>, format = Date, example = json!(null))]
    pub occurred_until: Option<NaiveDate>,
    #[serde(default)]
    pub date_precision: DatePrecision,
    #[schema(example = "Explosions/Remote violence")]
    pub event_type: Option<String>,
    #[schema(example = "Shelling/artillery/missile attack")]
    pub sub_event_type: Option<String>,
    #[schema(example = "23 rockets hit central Kabul near a university and a shopping area.")]
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
#[schema(example = json!(crate::model::example::kabul_stored()))]
pub struct Incident {
    #[schema(example = 1042)]
    pub id: i64,
    #[serde(flatten)]
    pub body: IncidentBody,
    /// Increments on every change; also the `ETag`.
    #[schema(example = 1)]
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

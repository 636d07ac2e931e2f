//! The incident resource: what clients send (`NewIncident`) and what they get back (`Incident`).

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::wire::WireName;

/// How precisely the date of an incident is known.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "lowercase")]
pub enum DatePrecision {
    #[default]
    Day,
    Week,
    Month,
    Year,
}

impl WireName for DatePrecision {}

/// How precisely the coordinates locate the incident.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "lowercase")]
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

impl WireName for GeoPrecision {}

/// The standing of a perpetrator with respect to an incident.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "lowercase")]
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

impl WireName for Claim {}

/// A casualty count as low / best / high estimates. `null` means unknown, never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct Casualties {
    #[serde(default)]
    pub killed: Bounds,
    #[serde(default)]
    pub injured: Bounds,
}

/// A group named in connection with the incident, with its claim status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Perpetrator {
    #[schema(example = "Islamic State")]
    pub name: String,
    pub claim: Claim,
}

/// An article or report that documents the incident. Identical sources are shared between
/// incidents (matched by URL, or by title, publisher and date when there is no URL).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
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

/// Where the incident happened, as given by the client.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLocation {
    /// ISO 3166-1 alpha-2 or alpha-3 code. Either this or `country` is needed.
    #[schema(example = "AF")]
    pub country_code: Option<String>,
    /// Country name; resolved to an ISO code when one applies, kept verbatim otherwise
    /// (historical names such as "West Germany (FRG)").
    #[schema(example = "Afghanistan")]
    pub country: Option<String>,
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

/// An incident as clients create it (POST, NDJSON import), and as every importer produces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!(crate::model::example::kabul_input()))]
pub struct NewIncident {
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
    pub location: NewLocation,
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

/// Where the incident happened, with the UN M49 region derived from the country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Location {
    /// ISO 3166-1 alpha-3, or null for names without a code (historical states).
    #[schema(example = "AFG")]
    pub country_code: Option<String>,
    #[schema(example = "Afghanistan")]
    pub country: Option<String>,
    /// UN M49 region.
    #[schema(example = "Asia")]
    pub region: Option<String>,
    /// UN M49 sub-region.
    #[schema(example = "Southern Asia")]
    pub subregion: Option<String>,
    /// The source dataset's own region label.
    #[schema(example = json!(null))]
    pub source_region: Option<String>,
    #[schema(example = "Kabul")]
    pub admin1: Option<String>,
    #[schema(example = json!(null))]
    pub admin2: Option<String>,
    #[schema(example = "Kabul")]
    pub place: Option<String>,
    #[schema(example = 34.53)]
    pub latitude: Option<f64>,
    #[schema(example = 69.17)]
    pub longitude: Option<f64>,
    pub geo_precision: Option<GeoPrecision>,
}

/// A stored incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!(crate::model::example::kabul_stored()))]
pub struct Incident {
    #[schema(example = 1042)]
    pub id: i64,
    #[schema(example = "manual")]
    pub dataset: String,
    pub external_id: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub occurred_on: NaiveDate,
    #[schema(value_type = Option<String>, format = Date)]
    pub occurred_until: Option<NaiveDate>,
    pub date_precision: DatePrecision,
    pub event_type: Option<String>,
    pub sub_event_type: Option<String>,
    pub description: Option<String>,
    pub location: Location,
    pub casualties: Casualties,
    pub perpetrators: Vec<Perpetrator>,
    pub sources: Vec<Source>,
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
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

impl Incident {
    /// The input shape of this incident: what a client would send to recreate it.
    pub fn to_input(&self) -> NewIncident {
        NewIncident {
            dataset: Some(self.dataset.clone()),
            external_id: self.external_id.clone(),
            occurred_on: self.occurred_on,
            occurred_until: self.occurred_until,
            date_precision: self.date_precision,
            event_type: self.event_type.clone(),
            sub_event_type: self.sub_event_type.clone(),
            description: self.description.clone(),
            location: NewLocation {
                country_code: self.location.country_code.clone(),
                country: self.location.country.clone(),
                source_region: self.location.source_region.clone(),
                admin1: self.location.admin1.clone(),
                admin2: self.location.admin2.clone(),
                place: self.location.place.clone(),
                latitude: self.location.latitude,
                longitude: self.location.longitude,
                geo_precision: self.location.geo_precision,
            },
            casualties: self.casualties,
            perpetrators: self.perpetrators.clone(),
            sources: self.sources.clone(),
            attributes: self.attributes.clone(),
        }
    }
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

//! Validation of client and import input: every rule in one place, every problem reported
//! with the JSON path of its field.

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::country;
use super::incident::{Bounds, IncidentBody};
use crate::error::FieldError;

/// The largest casualty figure one incident may carry: above the deadliest single events on
/// record, and low enough that sums over millions of incidents stay far inside 64 bits.
pub const MAX_CASUALTIES: i32 = 10_000_000;

/// Longest identifier or name (dataset, external_id, places, types, perpetrators), in
/// characters: PostgreSQL indexes some of them, and an index entry must fit in a page.
pub const MAX_NAME_CHARS: usize = 250;

/// Most perpetrators and sources one incident may list.
pub const MAX_PERPETRATORS: usize = 100;
pub const MAX_SOURCES: usize = 200;

/// Coordinates are kept to this many parts of a degree (0.1 mm): finer digits mean nothing,
/// and values like 1e-200 would underflow PostgreSQL's distance arithmetic.
const COORDINATE_GRID: f64 = 1e9;

/// An incident that passed validation: the dataset is set, the country is resolved to ISO
/// alpha-3 where one applies, and the UN M49 region is derived from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidIncident(IncidentBody);

impl ValidIncident {
    pub fn body(&self) -> &IncidentBody {
        &self.0
    }

    pub fn into_body(self) -> IncidentBody {
        self.0
    }

    pub fn dataset(&self) -> &str {
        self.0.dataset.as_deref().unwrap_or(DEFAULT_DATASET)
    }
}

pub const DEFAULT_DATASET: &str = "manual";

/// Checks `input`; `dataset` is used when the input names none.
pub fn validate(mut input: IncidentBody, dataset: &str) -> Result<ValidIncident, Vec<FieldError>> {
    let mut errors = Vec::new();
    let dataset = input.dataset.clone().unwrap_or_else(|| dataset.to_string());
    if dataset.trim().is_empty() {
        errors.push(FieldError::new("dataset", "must not be empty"));
    }
    if input
        .external_id
        .as_deref()
        .is_some_and(|id| id.trim().is_empty())
    {
        errors.push(FieldError::new(
            "external_id",
            "must not be empty when given",
        ));
    }
    for (field, len, most) in [
        ("perpetrators", input.perpetrators.len(), MAX_PERPETRATORS),
        ("sources", input.sources.len(), MAX_SOURCES),
    ] {
        if len > most {
            // Checked first and alone, so a huge list cannot make a huge list of errors.
            return Err(vec![FieldError::new(
                field,
                format!("at most {most} items, got {len}"),
            )]);
        }
    }
    check_text(&input, &mut errors);
    check_year("occurred_on", input.occurred_on, &mut errors);
    if let Some(until) = input.occurred_until {
        check_year("occurred_until", until, &mut errors);
    }
    for (i, source) in input.sources.iter().enumerate() {
        if let Some(day) = source.published_on {
            check_year(&format!("sources[{i}].published_on"), day, &mut errors);
        }
    }
    if let Some(until) = input.occurred_until {
        if until < input.occurred_on {
            errors.push(FieldError::new(
                "occurred_until",
                format!("must not be before occurred_on ({})", input.occurred_on),
            ));
        }
    }
    check_coordinates(&input, &mut errors);
    snap_coordinates(&mut input);
    check_bounds("casualties.killed", &input.casualties.killed, &mut errors);
    check_bounds("casualties.injured", &input.casualties.injured, &mut errors);
    for (i, perpetrator) in input.perpetrators.iter().enumerate() {
        if perpetrator.name.trim().is_empty() {
            errors.push(FieldError::new(
                format!("perpetrators[{i}].name"),
                "must not be empty",
            ));
        }
    }
    resolve_country(&mut input, &mut errors);
    if errors.is_empty() {
        input.dataset = Some(dataset);
        // Every incident has a stable public key, dataset + external_id, so an export
        // imported elsewhere, and imported again, matches the rows it wrote.
        input
            .external_id
            .get_or_insert_with(|| uuid::Uuid::new_v4().to_string());
        Ok(ValidIncident(input))
    } else {
        Err(errors)
    }
}

fn check_coordinates(input: &IncidentBody, errors: &mut Vec<FieldError>) {
    let location = &input.location;
    for (field, value, limit) in [
        ("location.latitude", location.latitude, 90.0),
        ("location.longitude", location.longitude, 180.0),
    ] {
        if let Some(v) = value {
            if !v.is_finite() || v.abs() > limit {
                errors.push(FieldError::new(
                    field,
                    format!("must be between -{limit} and {limit}, got {v}"),
                ));
            }
        }
    }
    if location.latitude.is_some() != location.longitude.is_some() {
        errors.push(FieldError::new(
            "location",
            "latitude and longitude go together: give both or neither",
        ));
    }
}

/// `value` on the grid of `COORDINATE_GRID`; values with at most nine decimals are unchanged.
pub fn snap_coordinate(value: f64) -> f64 {
    (value * COORDINATE_GRID).round() / COORDINATE_GRID
}

fn snap_coordinates(input: &mut IncidentBody) {
    let location = &mut input.location;
    for value in [&mut location.latitude, &mut location.longitude]
        .into_iter()
        .flatten()
    {
        *value = snap_coordinate(*value);
    }
}

fn check_bounds(field: &str, bounds: &Bounds, errors: &mut Vec<FieldError>) {
    for (name, value) in [
        ("low", bounds.low),
        ("best", bounds.best),
        ("high", bounds.high),
    ] {
        match value {
            Some(v) if v < 0 => errors.push(FieldError::new(
                format!("{field}.{name}"),
                format!("must not be negative, got {v}"),
            )),
            Some(v) if v > MAX_CASUALTIES => errors.push(FieldError::new(
                format!("{field}.{name}"),
                format!("must be at most {MAX_CASUALTIES}, got {v}"),
            )),
            _ => {}
        }
    }
}

/// Years 1 to 9999: what both databases store and sort as dates.
fn check_year(field: &str, day: NaiveDate, errors: &mut Vec<FieldError>) {
    if !(1..=9999).contains(&day.year()) {
        errors.push(FieldError::new(
            field,
            format!("the year must be between 0001 and 9999, got {day}"),
        ));
    }
}

/// No text may hold NUL (PostgreSQL can neither store nor compare it; refused on SQLite too,
/// so data moves between the two), and names stay short enough to index.
fn check_text(input: &IncidentBody, errors: &mut Vec<FieldError>) {
    for (field, value, limit) in text_fields(input) {
        if value.contains('\0') {
            errors.push(FieldError::new(
                field,
                "must not contain the NUL character (U+0000)",
            ));
        } else if limit.is_some_and(|most| value.chars().count() > most) {
            errors.push(FieldError::new(
                field,
                format!("must have at most {MAX_NAME_CHARS} characters"),
            ));
        }
    }
    for (key, value) in &input.attributes {
        check_json_text(&format!("attributes.{key}"), key, value, errors);
    }
}

/// Every text field of `input` with its path and its length limit, if any.
fn text_fields(input: &IncidentBody) -> Vec<(Cow<'static, str>, &str, Option<usize>)> {
    let name = Some(MAX_NAME_CHARS);
    let location = &input.location;
    let mut fields: Vec<(Cow<'static, str>, Option<&String>, Option<usize>)> = vec![
        ("dataset".into(), input.dataset.as_ref(), name),
        ("external_id".into(), input.external_id.as_ref(), name),
        ("event_type".into(), input.event_type.as_ref(), name),
        ("sub_event_type".into(), input.sub_event_type.as_ref(), name),
        ("description".into(), input.description.as_ref(), None),
        (
            "location.country_code".into(),
            location.country_code.as_ref(),
            name,
        ),
        ("location.country".into(), location.country.as_ref(), name),
        (
            "location.source_region".into(),
            location.source_region.as_ref(),
            name,
        ),
        ("location.admin1".into(), location.admin1.as_ref(), name),
        ("location.admin2".into(), location.admin2.as_ref(), name),
        ("location.place".into(), location.place.as_ref(), name),
    ];
    for (i, perpetrator) in input.perpetrators.iter().enumerate() {
        fields.push((
            format!("perpetrators[{i}].name").into(),
            Some(&perpetrator.name),
            name,
        ));
    }
    for (i, source) in input.sources.iter().enumerate() {
        for (part, value) in [
            ("url", &source.url),
            ("title", &source.title),
            ("publisher", &source.publisher),
            ("excerpt", &source.excerpt),
        ] {
            fields.push((format!("sources[{i}].{part}").into(), value.as_ref(), None));
        }
    }
    fields
        .into_iter()
        .filter_map(|(field, value, limit)| Some((field, value?.as_str(), limit)))
        .collect()
}

/// NUL in an attribute's key or in any text inside its value.
fn check_json_text(field: &str, key: &str, value: &Value, errors: &mut Vec<FieldError>) {
    let nul = |text: &str| text.contains('\0');
    let mut pending = vec![value];
    let mut found = nul(key);
    while let Some(value) = pending.pop() {
        match value {
            Value::String(text) => found |= nul(text),
            Value::Array(items) => pending.extend(items),
            Value::Object(map) => {
                found |= map.keys().any(|k| nul(k));
                pending.extend(map.values());
            }
            _ => {}
        }
    }
    if found {
        errors.push(FieldError::new(
            field.replace('\0', "\\0"),
            "must not contain the NUL character (U+0000)",
        ));
    }
}

/// Resolves the country to ISO alpha-3 and sets its UN M49 region and sub-region. A code
/// must be known; a name that matches no ISO country (a historical state) is kept verbatim.
fn resolve_country(input: &mut IncidentBody, errors: &mut Vec<FieldError>) {
    let location = &mut input.location;
    let found = match (&location.country_code, &location.country) {
        (Some(code), _) => match country::resolve(code) {
            Some(found) => Some(found),
            None => {
                let hint = country::suggest_country(code);
                errors.push(FieldError::new(
                    "location.country_code",
                    format!("unknown country code {code:?}{}", did_you_mean(&hint)),
                ));
                None
            }
        },
        (None, Some(name)) => country::resolve(name),
        (None, None) => {
            errors.push(FieldError::new(
                "location.country_code",
                "give a country_code (ISO alpha-2 or alpha-3) or a country name",
            ));
            None
        }
    };
    match found {
        Some(found) => {
            location.country_code = Some(found.alpha3.clone());
            location.country = Some(found.name.clone());
            location.region = found.region.clone();
            location.subregion = found.subregion.clone();
        }
        None => {
            location.country_code = None;
            location.region = None;
            location.subregion = None;
        }
    }
}

/// ` (did you mean "A", "B"?)`, or nothing without suggestions.
pub fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = suggestions.iter().map(|s| format!("{s:?}")).collect();
        format!(" (did you mean {}?)", quoted.join(", "))
    }
}

//! Validation of client and import input: every rule in one place, every problem reported
//! with the JSON path of its field.

use super::country;
use super::incident::{Bounds, NewIncident};
use crate::error::FieldError;

/// An incident that passed validation: the dataset is set, the country is resolved to ISO
/// alpha-3 where one applies, and the UN M49 region is derived from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidIncident {
    pub input: NewIncident,
    pub dataset: String,
    pub region: Option<String>,
    pub subregion: Option<String>,
}

pub const DEFAULT_DATASET: &str = "manual";

/// Checks `input`; `dataset` is used when the input names none.
pub fn validate(mut input: NewIncident, dataset: &str) -> Result<ValidIncident, Vec<FieldError>> {
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
    if let Some(until) = input.occurred_until {
        if until < input.occurred_on {
            errors.push(FieldError::new(
                "occurred_until",
                format!("must not be before occurred_on ({})", input.occurred_on),
            ));
        }
    }
    check_coordinates(&input, &mut errors);
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
    let (region, subregion) = resolve_country(&mut input, &mut errors);
    if errors.is_empty() {
        input.dataset = Some(dataset.clone());
        Ok(ValidIncident {
            input,
            dataset,
            region,
            subregion,
        })
    } else {
        Err(errors)
    }
}

fn check_coordinates(input: &NewIncident, errors: &mut Vec<FieldError>) {
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

fn check_bounds(field: &str, bounds: &Bounds, errors: &mut Vec<FieldError>) {
    for (name, value) in [
        ("low", bounds.low),
        ("best", bounds.best),
        ("high", bounds.high),
    ] {
        if let Some(v) = value.filter(|v| *v < 0) {
            errors.push(FieldError::new(
                format!("{field}.{name}"),
                format!("must not be negative, got {v}"),
            ));
        }
    }
}

/// Resolves the country to ISO alpha-3 and returns its UN M49 region and sub-region. A code
/// must be known; a name that matches no ISO country (a historical state) is kept verbatim.
fn resolve_country(
    input: &mut NewIncident,
    errors: &mut Vec<FieldError>,
) -> (Option<String>, Option<String>) {
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
            (found.region.clone(), found.subregion.clone())
        }
        None => {
            location.country_code = None;
            (None, None)
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

//! Reading JSON input: request bodies and NDJSON import lines go through the same parser, so
//! a problem names its field the same way in a POST and in an import (`location.latitude`,
//! `perpetrators[0].claim`, a missing field by its own path), and a field the incident does
//! not have is a problem, not silently dropped.

use serde::de::DeserializeOwned;

use crate::error::FieldError;

/// `text` read as a `T`, or the first problem with the JSON path of its field. Fields `T` does
/// not have are problems, but for the paths in `ignored`.
pub fn from_json<T: DeserializeOwned>(text: &[u8], ignored: &[&str]) -> Result<T, FieldError> {
    let mut json = serde_json::Deserializer::from_slice(text);
    let mut unknown: Option<String> = None;
    let value = {
        let mut remember = |path: serde_ignored::Path| {
            let path = dotted(&path);
            if unknown.is_none() && !ignored.contains(&path.as_str()) {
                unknown = Some(path);
            }
        };
        let ignoring = serde_ignored::Deserializer::new(&mut json, &mut remember);
        serde_path_to_error::deserialize(ignoring).map_err(|error| {
            let field = field_of(&error);
            FieldError::new(field, error.into_inner().to_string())
        })?
    };
    json.end().map_err(|e| FieldError::new("", e.to_string()))?;
    match unknown {
        Some(field) => Err(FieldError::new(field, "unknown field")),
        None => Ok(value),
    }
}

/// The JSON path of the field at fault; serde reports a missing field at its parent's path.
fn field_of(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path().to_string();
    let parent = if path == "." { "" } else { &path };
    let message = error.inner().to_string();
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match missing {
        Some(name) if parent.is_empty() => name.to_string(),
        Some(name) => format!("{parent}.{name}"),
        None => parent.to_string(),
    }
}

/// `location.altitude`, `perpetrators[0].nickname`: paths as serde_path_to_error writes them.
fn dotted(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", dotted(parent)),
        Path::Map { parent, key } => match dotted(parent) {
            parent if parent.is_empty() => key.clone(),
            parent => format!("{parent}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => dotted(parent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::incident::IncidentBody;

    fn problem(text: &str) -> FieldError {
        from_json::<IncidentBody>(text.as_bytes(), &[]).unwrap_err()
    }

    #[test]
    fn problems_name_their_field_by_its_path() {
        let located = r#"{"occurred_on": "2020-01-01", "location": {"country_code": "AF""#;
        assert_eq!(problem("{}").field, "occurred_on");
        assert_eq!(
            problem(
                r#"{"occurred_on": "2020-01-01", "location": {}, "perpetrators": [{"name": "X"}]}"#
            )
            .field,
            "perpetrators[0].claim"
        );
        let unknown = problem(&format!(r#"{located}, "altitude": 3}}}}"#));
        assert_eq!(
            (unknown.field.as_str(), unknown.message.as_str()),
            ("location.altitude", "unknown field")
        );
        let nested = format!(
            r#"{located}}}, "perpetrators": [{{"name": "X", "claim": "claimed", "alias": "Y"}}]}}"#
        );
        assert_eq!(problem(&nested).field, "perpetrators[0].alias");
        assert_eq!(problem(&format!(r#"{located}}}}} trailing"#)).field, "");
    }
}

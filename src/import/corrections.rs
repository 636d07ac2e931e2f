//! Corrections made through the API to imported incidents, and how a re-import keeps them.
//! Fields are compared as JSON paths two levels deep (`casualties.killed`, `location.place`,
//! `perpetrators`): fine enough to keep one corrected figure while the source updates another.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::model::incident::IncidentBody;

/// How deep paths go: `location.place`, not `location`; `casualties.killed`, not its `best`.
const DEPTH: usize = 2;

/// The fields changed since the import wrote `imported` (all, when no import did), whose
/// value in `source` differs from `current`'s: the analyst's corrections the source would undo.
pub fn changed_fields(
    imported: Option<&IncidentBody>,
    current: &IncidentBody,
    source: &IncidentBody,
) -> Vec<String> {
    let current = fields(current);
    let source = fields(source);
    let imported = imported.map(fields);
    let value = |fields: &BTreeMap<String, Value>, path: &str| {
        fields.get(path).cloned().unwrap_or(Value::Null)
    };
    let mut paths: Vec<&String> = current.keys().chain(source.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|path| {
            let now = value(&current, path);
            let corrected = imported
                .as_ref()
                .is_none_or(|imported| value(imported, path) != now);
            corrected && value(&source, path) != now
        })
        .cloned()
        .collect()
}

/// `source` with the fields at `paths` taken from `current`.
pub fn merge(current: &IncidentBody, source: IncidentBody, paths: &[String]) -> IncidentBody {
    let current = to_value(current);
    let mut merged = to_value(&source);
    for path in paths {
        let kept = lookup(&current, path).cloned().unwrap_or(Value::Null);
        set(&mut merged, path, kept);
    }
    serde_json::from_value(merged).unwrap_or(source)
}

fn to_value(body: &IncidentBody) -> Value {
    serde_json::to_value(body).unwrap_or(Value::Null)
}

/// The body's values by path.
fn fields(body: &IncidentBody) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Value::Object(map) = to_value(body) {
        flatten("", &map, 1, &mut out);
    }
    out
}

fn flatten(
    prefix: &str,
    map: &Map<String, Value>,
    depth: usize,
    out: &mut BTreeMap<String, Value>,
) {
    for (key, value) in map {
        let path = format!("{prefix}{key}");
        match value {
            Value::Object(inner) if depth < DEPTH && key != "attributes" => {
                flatten(&format!("{path}."), inner, depth + 1, out)
            }
            _ => {
                out.insert(path, value.clone());
            }
        }
    }
}

fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |value, key| value.get(key))
}

fn set(value: &mut Value, path: &str, new: Value) {
    let mut target = value;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if !target.is_object() {
            *target = Value::Object(Map::new());
        }
        let object = target.as_object_mut().expect("made an object above");
        if keys.peek().is_none() {
            object.insert(key.to_string(), new);
            return;
        }
        target = object.entry(key).or_insert(Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::example::kabul_input;

    fn body(patch: Value) -> IncidentBody {
        let mut value = kabul_input();
        json_patch::merge(&mut value, &patch);
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_corrected_figure_is_kept_and_the_source_updates_the_rest() {
        let imported = body(serde_json::json!({}));
        let current = body(serde_json::json!({"casualties": {"killed": {"best": 9}}}));
        let source = body(serde_json::json!({"location": {"place": "Kabul city"}}));
        let fields = changed_fields(Some(&imported), &current, &source);
        assert_eq!(fields, ["casualties.killed"]);
        let merged = merge(&current, source, &fields);
        assert_eq!(merged.casualties.killed.best, Some(9));
        assert_eq!(merged.location.place.as_deref(), Some("Kabul city"));
    }

    #[test]
    fn a_source_that_agrees_with_the_correction_is_no_conflict() {
        let imported = body(serde_json::json!({}));
        let current = body(serde_json::json!({"casualties": {"killed": {"best": 9}}}));
        let fields = changed_fields(Some(&imported), &current, &current.clone());
        assert!(fields.is_empty());
    }
}

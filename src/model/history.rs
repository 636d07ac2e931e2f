//! An incident's history: who changed it, why and how, and each version it went through.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::wire_enum;

wire_enum! {
    /// How a version came to be.
    pub enum ChangeKind {
        /// Created through the API.
        Create,
        /// Changed through the API (`PATCH`).
        Update,
        /// Written by an import: created from a source row, or updated from it.
        Import,
        /// Deleted; the version holds the incident as it was last.
        Delete,
    }
}

/// Who made a change, why and how: recorded with the version it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// The API key's name, or `import:<dataset>` for the command-line import.
    pub by: String,
    /// The writer's reason (`X-Change-Reason`, `--reason`), if given.
    pub reason: Option<String>,
}

/// One version of an incident, with the span of time in which it was the current one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    #[schema(example = 2)]
    pub version: i32,
    /// When this version became current (RFC 3339, to the microsecond): an `as_of` at or after
    /// it, and before `valid_to`, answers this version.
    #[serde(with = "micros")]
    #[schema(value_type = String, format = DateTime)]
    pub valid_from: NaiveDateTime,
    /// When the next version replaced it; `null` for the current version and for a deletion.
    #[serde(with = "micros::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_to: Option<NaiveDateTime>,
    /// The API key's name, or `import:<dataset>` for the command-line import.
    #[schema(example = "analyst-1")]
    pub changed_by: Option<String>,
    /// The reason given with the change (`X-Change-Reason`).
    #[schema(example = "casualty figures from the ministry's update")]
    pub reason: Option<String>,
    pub change: ChangeKind,
    /// The incident as this version has it (for a deletion: as it was last).
    #[schema(value_type = crate::model::incident::Incident)]
    pub incident: Box<RawValue>,
}

/// Timestamps to the microsecond, as stored: history's spans must be exact to be usable as
/// `as_of` values.
pub mod micros {
    use chrono::NaiveDateTime;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(value: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(*value))
    }

    /// `time` as RFC 3339 UTC, with microseconds when it has any.
    pub fn text(time: NaiveDateTime) -> String {
        time.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    pub mod option {
        use chrono::NaiveDateTime;
        use serde::Serializer;

        pub fn serialize<S: Serializer>(
            value: &Option<NaiveDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(time) => s.serialize_str(&super::text(*time)),
                None => s.serialize_none(),
            }
        }
    }
}

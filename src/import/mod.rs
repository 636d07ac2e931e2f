//! Importers: one module per source format, each a streaming reader that turns the file into
//! the one `IncidentBody` type, row by row, in constant memory.

pub mod acled;
pub mod corrections;
pub mod gtd;
pub mod ndjson;
pub mod ucdp;
pub mod writer;

mod csv_rows;

use std::io::Read;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::incident::IncidentBody;

/// A problem with one row of an import file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// 1-based line number in the file where the row starts (the header is line 1 for CSV).
    #[schema(example = 7)]
    pub line: u64,
    /// The column (CSV) or JSON path (NDJSON) at fault.
    #[schema(example = "event_date")]
    pub field: String,
    #[schema(example = "not a date: \"31-Feb-20\"")]
    pub message: String,
}

/// One parsed row: the line it starts on and the incident, or why it could not be read.
pub type Row = Result<(u64, IncidentBody), RowError>;

/// The first of a row's country codes that is known: datasets' codes are not always ISO 3166
/// (older ACLED exports carry codes of their own for a few countries). None known: the row's
/// country is resolved by its name, or kept as named, which the import report warns of.
pub(crate) fn known_country_code(
    codes: impl IntoIterator<Item = Option<String>>,
) -> Option<String> {
    codes
        .into_iter()
        .flatten()
        .find(|code| crate::model::country::resolve(code).is_some())
}

/// The import formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// ACLED export CSV.
    Acled,
    /// UCDP GED CSV.
    Ucdp,
    /// Global Terrorism Database CSV.
    Gtd,
    /// The incident input shape, one JSON object per line.
    Ndjson,
}

impl Format {
    /// The dataset name rows get when the caller names none.
    pub fn default_dataset(self) -> &'static str {
        match self {
            Format::Acled => "acled",
            Format::Ucdp => "ucdp",
            Format::Gtd => "gtd",
            Format::Ndjson => "manual",
        }
    }

    /// A streaming reader of `input` in this format.
    pub fn rows<'a, R: Read + 'a>(self, input: R) -> Box<dyn Iterator<Item = Row> + 'a> {
        match self {
            Format::Acled => Box::new(acled::rows(input)),
            Format::Ucdp => Box::new(ucdp::rows(input)),
            Format::Gtd => Box::new(gtd::rows(input)),
            Format::Ndjson => Box::new(ndjson::rows(input)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::csv_rows::testing::{expected_outcomes, fixture, outcomes};
    use super::Format;

    #[test]
    fn every_reader_reports_broken_rows_with_their_line_and_field_and_reads_on() {
        for format in [Format::Acled, Format::Ucdp, Format::Gtd] {
            let name = format!("{}_broken", format.default_dataset());
            let read = outcomes(fixture(format, &format!("{name}.csv")));
            assert_eq!(
                read,
                expected_outcomes(&format!("{name}.expected")),
                "{name}"
            );
        }
    }
}

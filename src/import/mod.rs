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
    use super::csv_rows::testing::{err, fixture, outcomes};
    use super::Format;

    #[test]
    fn every_reader_reports_broken_rows_with_their_line_and_field_and_reads_on() {
        let expected = [
            (
                Format::Acled,
                "acled_broken.csv",
                vec![
                    Ok(2),
                    err(3, "event_date", "not a date: \"31-Feb-20\""),
                    Ok(4),
                    err(6, "latitude", "not within -90..90: \"95.5\""),
                    err(7, "fatalities", "negative count: \"-2\""),
                    err(8, "fatalities", "not a count: \"two\""),
                    err(9, "time_precision", "not one of 1, 2, 3: \"4\""),
                    Ok(10),
                ],
            ),
            (
                Format::Ucdp,
                "ucdp_broken.csv",
                vec![
                    Ok(2),
                    err(3, "date_start", "not a date: \"2007-13-01T00:00:00\""),
                    err(4, "best", "not a count: \"n/a\""),
                    err(5, "latitude", "not within -90..90: \"-91\""),
                    err(6, "date_end", "before date_start: \"2007-05-30T00:00:00\""),
                    err(7, "type_of_violence", "not one of 1, 2, 3: \"4\""),
                    Ok(8),
                ],
            ),
            (
                Format::Gtd,
                "gtd_broken.csv",
                vec![
                    Ok(2),
                    err(3, "iday", "not a day of 1971-02: \"30\""),
                    err(4, "imonth", "not a month: \"13\""),
                    err(5, "nkill", "not a count: \"many\""),
                    err(6, "", "expected 135 fields, found 3"),
                    err(7, "nwound", "negative count: \"-4\""),
                    err(8, "longitude", "not within -180..180: \"200\""),
                    err(9, "iyear", "missing value"),
                    Ok(10),
                ],
            ),
        ];
        for (format, name, outcome) in expected {
            assert_eq!(outcomes(fixture(format, name)), outcome, "{name}");
        }
    }
}

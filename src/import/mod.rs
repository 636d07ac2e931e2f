//! Importers: one module per source format, each a streaming reader that turns the file into
//! the one `IncidentBody` type, row by row, in constant memory.

pub mod acled;
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

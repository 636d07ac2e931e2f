//! What the ACLED, UCDP and GTD readers share: a streaming CSV reader that matches columns by
//! header name, reports the line each record starts on, offers typed accessors whose errors
//! name the column and the raw value, and keeps every column a format does not map under
//! `attributes`.

use std::collections::HashMap;
use std::fmt::Display;
use std::io::Read;
use std::str::FromStr;

use chrono::NaiveDate;
use csv::StringRecord;
use serde_json::{Map, Value};

use super::{Row, RowError};
use crate::model::incident::{Claim, IncidentBody, Perpetrator};

/// The columns a format maps into typed fields: `required` ones must be in the header,
/// `optional` ones read as blank when absent. Every other column goes to `attributes`.
pub(super) struct Layout {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

/// Turns one record into an incident.
pub(super) type Parse = fn(&Fields) -> Result<IncidentBody, RowError>;

/// Reads `input` as CSV with a header line, one record at a time.
pub(super) fn rows<R: Read>(
    input: R,
    layout: &'static Layout,
    parse: Parse,
) -> impl Iterator<Item = Row> {
    CsvRows {
        reader: csv::Reader::from_reader(input),
        layout,
        parse,
        columns: None,
        record: StringRecord::new(),
        crlf: false,
        done: false,
    }
}

struct CsvRows<R> {
    reader: csv::Reader<R>,
    layout: &'static Layout,
    parse: Parse,
    columns: Option<Columns>,
    record: StringRecord,
    crlf: bool,
    done: bool,
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.done {
            return None;
        }
        if self.columns.is_none() {
            match self.read_header() {
                Ok(columns) => self.columns = Some(columns),
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
        let start = self.reader.position().line();
        let read = self.reader.read_record(&mut self.record);
        let line = self.start_line(start);
        match read {
            Ok(true) => Some(self.parse_record(line)),
            Ok(false) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = matches!(error.kind(), csv::ErrorKind::Io(_));
                Some(Err(self.read_error(line, &error)))
            }
        }
    }
}

impl<R: Read> CsvRows<R> {
    fn read_header(&mut self) -> Result<Columns, RowError> {
        let header = self.reader.headers().map_err(|error| RowError {
            line: 1,
            field: String::new(),
            message: error.to_string(),
        })?;
        let columns = Columns::new(header, self.layout)?;
        // csv-core ends a record at the `\r` of `\r\n` and counts the `\n` with the next one.
        self.crlf = self.reader.position().line() == 1;
        Ok(columns)
    }

    /// The line the record just read starts on, given the reader's line before reading it.
    /// csv reports where it began reading, before the line breaks it skips: the `\n` left
    /// over from a `\r\n` and blank lines; the breaks consumed beyond the record's own
    /// (quoted ones and its terminator) tell how many blank lines there were.
    fn start_line(&self, start: u64) -> u64 {
        let quoted = self.record.as_byte_record().as_slice();
        let quoted = quoted.iter().filter(|&&b| b == b'\n').count() as u64;
        let consumed = self.reader.position().line() - start;
        start + consumed.saturating_sub(quoted + 1) + u64::from(self.crlf)
    }

    fn parse_record(&self, line: u64) -> Row {
        let fields = Fields {
            record: &self.record,
            columns: self.columns.as_ref().expect("header is read first"),
            line,
        };
        (self.parse)(&fields).map(|incident| (line, incident))
    }

    fn read_error(&self, line: u64, error: &csv::Error) -> RowError {
        let (field, message) = match error.kind() {
            csv::ErrorKind::Utf8 { err, .. } => (
                self.columns
                    .as_ref()
                    .and_then(|columns| columns.names.get(err.field()))
                    .cloned(),
                "not valid UTF-8".to_string(),
            ),
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => (None, format!("expected {expected_len} fields, found {len}")),
            _ => (None, error.to_string()),
        };
        RowError {
            line,
            field: field.unwrap_or_default(),
            message,
        }
    }
}

/// The header: where each column is (names matched case-insensitively) and which columns
/// go to `attributes`.
struct Columns {
    names: Vec<String>,
    index: HashMap<String, usize>,
    attributes: Vec<usize>,
}

impl Columns {
    fn new(header: &StringRecord, layout: &Layout) -> Result<Columns, RowError> {
        let names: Vec<String> = header
            .iter()
            .map(|name| name.trim_start_matches('\u{feff}').to_string())
            .collect();
        let mut index = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            index.entry(name.trim().to_lowercase()).or_insert(i);
        }
        let missing: Vec<&str> = layout
            .required
            .iter()
            .copied()
            .filter(|column| !index.contains_key(*column))
            .collect();
        if let Some(first) = missing.first() {
            return Err(RowError {
                line: 1,
                field: first.to_string(),
                message: format!("missing column(s): {}", missing.join(", ")),
            });
        }
        let mapped = |name: &String| {
            let key = name.trim().to_lowercase();
            layout.required.contains(&key.as_str()) || layout.optional.contains(&key.as_str())
        };
        let attributes = (0..names.len()).filter(|&i| !mapped(&names[i])).collect();
        Ok(Columns {
            names,
            index,
            attributes,
        })
    }
}

/// One record, read by column name.
pub(super) struct Fields<'a> {
    record: &'a StringRecord,
    columns: &'a Columns,
    line: u64,
}

impl<'a> Fields<'a> {
    /// The raw text of `column` (lower case), or "" when the file has no such column.
    pub fn raw(&self, column: &str) -> &'a str {
        self.columns
            .index
            .get(column)
            .and_then(|&i| self.record.get(i))
            .unwrap_or("")
    }

    /// The raw text, or `None` when it is blank.
    pub fn text(&self, column: &str) -> Option<String> {
        let raw = self.raw(column);
        (!raw.trim().is_empty()).then(|| raw.to_string())
    }

    /// An error about `column` on this record's line.
    pub fn error(&self, column: &str, message: impl Display) -> RowError {
        RowError {
            line: self.line,
            field: column.to_string(),
            message: message.to_string(),
        }
    }

    /// The error for a required value that is blank.
    pub fn missing(&self, column: &str) -> RowError {
        self.error(column, "missing value")
    }

    fn invalid(&self, column: &str, what: &str) -> RowError {
        self.error(column, format!("{what}: {:?}", self.raw(column)))
    }

    /// A number, `None` when blank.
    pub fn number<T: FromStr>(&self, column: &str) -> Result<Option<T>, RowError> {
        let raw = self.raw(column).trim();
        if raw.is_empty() {
            return Ok(None);
        }
        raw.parse()
            .map(Some)
            .map_err(|_| self.invalid(column, "not a number"))
    }

    /// A non-negative whole count, `None` when blank. Accepts "3.0" as spreadsheets write it.
    pub fn count(&self, column: &str) -> Result<Option<i32>, RowError> {
        let raw = self.raw(column).trim();
        if raw.is_empty() {
            return Ok(None);
        }
        match integer(raw).map(i32::try_from) {
            Some(Ok(n)) if n >= 0 => Ok(Some(n)),
            Some(Ok(_)) => Err(self.invalid(column, "negative count")),
            _ => Err(self.invalid(column, "not a count")),
        }
    }

    /// Whether the column holds the code 1 (yes).
    pub fn flag(&self, column: &str) -> bool {
        integer(self.raw(column).trim()) == Some(1)
    }

    /// A latitude (`limit` 90) or longitude (`limit` 180) in degrees, `None` when blank.
    pub fn coordinate(&self, column: &str, limit: f64) -> Result<Option<f64>, RowError> {
        match self.number::<f64>(column)? {
            Some(v) if !v.is_finite() || v.abs() > limit => {
                Err(self.invalid(column, &format!("not within -{limit}..{limit}")))
            }
            value => Ok(value),
        }
    }

    /// A date in one of `formats`, `None` when blank.
    pub fn date(&self, column: &str, formats: &[&str]) -> Result<Option<NaiveDate>, RowError> {
        let raw = self.raw(column).trim();
        if raw.is_empty() {
            return Ok(None);
        }
        parse_date(raw, formats)
            .map(Some)
            .ok_or_else(|| self.invalid(column, "not a date"))
    }

    /// A date that must be there.
    pub fn required_date(&self, column: &str, formats: &[&str]) -> Result<NaiveDate, RowError> {
        self.date(column, formats)?
            .ok_or_else(|| self.missing(column))
    }

    /// The meaning of the column's numeric code, `None` when blank. The datasets number their
    /// codes from 1: code `n` means `meanings[n - 1]`.
    pub fn code<T: Copy>(&self, column: &str, meanings: &[T]) -> Result<Option<T>, RowError> {
        let raw = self.raw(column).trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let codes: Vec<String> = (1..=meanings.len()).map(|n| n.to_string()).collect();
        match codes.iter().position(|code| code == raw) {
            Some(index) => Ok(Some(meanings[index])),
            None => {
                let message = format!("not one of {}", codes.join(", "));
                Err(self.invalid(column, &message))
            }
        }
    }

    /// Every column the layout does not map, as raw text under its original name; blank
    /// values are left out.
    pub fn attributes(&self) -> Map<String, Value> {
        self.columns
            .attributes
            .iter()
            .filter_map(|&i| {
                let value = self.record.get(i).filter(|value| !value.is_empty())?;
                Some((self.columns.names[i].clone(), Value::from(value)))
            })
            .collect()
    }
}

/// A whole number written as "3" or "3.0".
fn integer(raw: &str) -> Option<i64> {
    raw.strip_suffix(".0").unwrap_or(raw).parse().ok()
}

/// The first of `formats` that reads `raw` as a date.
pub(super) fn parse_date(raw: &str, formats: &[&str]) -> Option<NaiveDate> {
    formats
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(raw, format).ok())
}

/// The entries of a `;`-separated list, trimmed, without blanks and repeats.
pub(super) fn split_list(raw: &str) -> Vec<&str> {
    let mut entries: Vec<&str> = Vec::new();
    for entry in raw.split(';').map(str::trim) {
        if !entry.is_empty() && !entries.contains(&entry) {
            entries.push(entry);
        }
    }
    entries
}

/// Named groups as perpetrators, in order, trimmed; blank names and repeats are dropped
/// (the first claim wins).
pub(super) fn perpetrators<'a>(
    named: impl IntoIterator<Item = (&'a str, Claim)>,
) -> Vec<Perpetrator> {
    let mut perpetrators: Vec<Perpetrator> = Vec::new();
    for (name, claim) in named {
        let name = name.trim();
        if !name.is_empty() && perpetrators.iter().all(|p| p.name != name) {
            perpetrators.push(Perpetrator {
                name: name.to_string(),
                claim,
            });
        }
    }
    perpetrators
}

#[cfg(test)]
mod tests {
    use super::*;

    static LAYOUT: Layout = Layout {
        required: &["id", "when"],
        optional: &["code"],
    };

    fn first_incident(f: &Fields) -> Result<IncidentBody, RowError> {
        let occurred_on = f.required_date("when", &["%Y-%m-%d"])?;
        let mut incident: IncidentBody = serde_json::from_value(serde_json::json!({
            "occurred_on": occurred_on, "location": {}
        }))
        .expect("minimal incident");
        incident.external_id = f.text("id");
        incident.attributes = f.attributes();
        Ok(incident)
    }

    fn read(input: &str) -> Vec<Row> {
        rows(input.as_bytes(), &LAYOUT, first_incident).collect()
    }

    #[test]
    fn header_with_bom_and_any_case_is_matched_by_name() {
        let rows = read("\u{feff}When,Extra,ID\r\n2020-05-09,x,A1\r\n");
        let (line, incident) = rows[0].clone().expect("row");
        assert_eq!(line, 2);
        assert_eq!(incident.external_id.as_deref(), Some("A1"));
        assert_eq!(incident.attributes.len(), 1);
        assert_eq!(incident.attributes["Extra"], "x");
    }

    #[test]
    fn missing_columns_are_one_error_on_line_1() {
        let rows = read("name,other\nx,y\nz,w\n");
        assert_eq!(rows.len(), 1);
        let error = rows[0].clone().expect_err("missing columns");
        assert_eq!((error.line, error.field.as_str()), (1, "id"));
        assert_eq!(error.message, "missing column(s): id, when");
    }

    #[test]
    fn record_errors_do_not_stop_the_reader() {
        let input = "id,when\n1,\"2020-05-09\"\n2\n3,\"multi\nline\"\n4,2020-05-10\n";
        let lines: Vec<Result<u64, (u64, String)>> = read(input)
            .into_iter()
            .map(|row| row.map(|(line, _)| line).map_err(|e| (e.line, e.field)))
            .collect();
        assert_eq!(
            lines,
            vec![
                Ok(2),
                Err((3, String::new())),
                Err((4, "when".into())),
                Ok(6)
            ]
        );
    }

    #[test]
    fn lines_count_crlf_blank_lines_and_quoted_breaks() {
        let input = "id,when\r\n1,2020-05-09\r\n\r\n2,\"a\r\nb\"\r\n3,2020-05-10\r\n\r\n";
        let lines: Vec<u64> = read(input)
            .into_iter()
            .map(|row| row.map_or_else(|e| e.line, |(line, _)| line))
            .collect();
        assert_eq!(lines, vec![2, 4, 6]);
    }

    #[test]
    fn invalid_utf8_names_the_column() {
        let input: &[u8] = b"id,when\n\xff,2020-05-09\n2,2020-05-10\n";
        let rows: Vec<Row> = rows(input, &LAYOUT, first_incident).collect();
        let error = rows[0].clone().expect_err("bad utf-8");
        assert_eq!((error.line, error.field.as_str()), (2, "id"));
        assert!(rows[1].is_ok());
    }

    #[test]
    fn lists_and_perpetrators_drop_blanks_and_repeats() {
        assert_eq!(split_list(" a; b;;a ; "), vec!["a", "b"]);
        let named = [
            ("X ", Claim::Claimed),
            ("", Claim::Attributed),
            ("X", Claim::Suspected),
        ];
        assert_eq!(
            perpetrators(named),
            vec![Perpetrator {
                name: "X".into(),
                claim: Claim::Claimed
            }]
        );
    }

    #[test]
    fn integers_accept_a_zero_fraction_only() {
        assert_eq!(integer("3.0"), Some(3));
        assert_eq!(integer("3.5"), None);
        assert_eq!(integer("-9"), Some(-9));
    }
}

/// What the readers' unit tests share.
#[cfg(test)]
pub(super) mod testing {
    use chrono::NaiveDate;

    use super::super::{Format, Row};
    use crate::model::incident::IncidentBody;

    /// A row's line, or its error as (line, field, message).
    pub type Outcome = Result<u64, (u64, String, String)>;

    pub fn ok(row: &Row) -> &IncidentBody {
        &row.as_ref().expect("valid row").1
    }

    pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    /// The rows of the file at `path` as the reader of `format` reads them.
    pub fn read(format: Format, path: &str) -> Vec<Row> {
        format
            .rows(std::fs::File::open(path).expect("the file opens"))
            .collect()
    }

    /// The rows of `tests/fixtures/{name}` as the reader of `format` reads them.
    pub fn fixture(format: Format, name: &str) -> Vec<Row> {
        read(format, &fixture_path(name))
    }

    fn fixture_path(name: &str) -> String {
        format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    pub fn outcomes(rows: Vec<Row>) -> Vec<Outcome> {
        rows.into_iter()
            .map(|r| {
                r.map(|(line, _)| line)
                    .map_err(|e| (e.line, e.field, e.message))
            })
            .collect()
    }

    /// The outcomes `tests/fixtures/{name}` lists, a row a line: its line number alone when
    /// the row reads, else the line, the field and the message, separated by tabs.
    pub fn expected_outcomes(name: &str) -> Vec<Outcome> {
        let text = std::fs::read_to_string(fixture_path(name)).expect("the expectations read");
        text.lines().map(expected_outcome).collect()
    }

    fn expected_outcome(listed: &str) -> Outcome {
        let mut parts = listed.splitn(3, '\t');
        let line = parts.next().and_then(|n| n.parse().ok()).expect("a line");
        match (parts.next(), parts.next()) {
            (Some(field), Some(message)) => Err((line, field.into(), message.into())),
            (None, None) => Ok(line),
            _ => panic!("a listed error names its field and message: {listed:?}"),
        }
    }

    /// The sum of the incidents' best counts of killed, where known.
    pub fn killed<'a>(incidents: impl IntoIterator<Item = &'a IncidentBody>) -> i32 {
        let best = |i: &IncidentBody| i.casualties.killed.best;
        incidents.into_iter().filter_map(best).sum()
    }

    /// The incidents whose source places them in `region`.
    pub fn in_source_region<'a>(
        incidents: &'a [IncidentBody],
        region: &'a str,
    ) -> impl Iterator<Item = &'a IncidentBody> {
        let region = Some(region);
        incidents
            .iter()
            .filter(move |i| i.location.source_region.as_deref() == region)
    }

    /// The 200 rows of dev sample `name` in ../shared/datasets as the reader of `format` reads
    /// them, all valid and ending on line 201; `None` when ../shared is not beside the repo.
    pub fn dev_sample(format: Format, name: &str) -> Option<Vec<IncidentBody>> {
        let path = format!("{}/../shared/datasets/{name}", env!("CARGO_MANIFEST_DIR"));
        if !std::path::Path::new(&path).exists() {
            return None;
        }
        let rows = read(format, &path);
        assert_eq!(rows.last().map(|r| r.as_ref().expect("valid").0), Some(201));
        let incidents: Vec<IncidentBody> = rows
            .into_iter()
            .map(|row| row.expect("valid row").1)
            .collect();
        assert_eq!(incidents.len(), 200);
        Some(incidents)
    }
}

//! NDJSON: one `IncidentBody` JSON object a line, the same shape as `POST /v1/incidents`.
//! Blank lines are skipped; a problem names the JSON path of the field at fault.

use std::io::{self, BufRead, BufReader, Read};

use super::{Row, RowError};
use crate::model::json::from_json;

/// The incidents of an NDJSON file, one per non-blank line.
pub fn rows<R: Read>(input: R) -> impl Iterator<Item = Row> {
    NdjsonRows {
        input: BufReader::new(input),
        buffer: Vec::new(),
        line: 0,
        done: false,
    }
}

struct NdjsonRows<R> {
    input: BufReader<R>,
    buffer: Vec<u8>,
    line: u64,
    done: bool,
}

impl<R: Read> Iterator for NdjsonRows<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        while !self.done {
            self.buffer.clear();
            match read_line(&mut self.input, &mut self.buffer) {
                Ok((0, _)) => self.done = true,
                Ok((_, true)) => {
                    self.line += 1;
                    let message = format!("the line is longer than {MAX_LINE_BYTES} bytes");
                    return Some(Err(error_at(self.line, "", message)));
                }
                Ok((_, false)) => {
                    self.line += 1;
                    if let Some(row) = self.parse_line() {
                        return Some(row);
                    }
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error_at(self.line + 1, "", error)));
                }
            }
        }
        None
    }
}

/// The longest line read: no incident comes near it, and a file without newlines must not be
/// read into memory whole.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Reads through the next newline into `buffer`, keeping at most `MAX_LINE_BYTES`; returns
/// the bytes consumed and whether the line was longer.
fn read_line(input: &mut impl BufRead, buffer: &mut Vec<u8>) -> io::Result<(usize, bool)> {
    let (mut consumed, mut cut) = (0, false);
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok((consumed, cut));
        }
        let end = memchr::memchr(b'\n', available).map(|i| i + 1);
        let chunk = &available[..end.unwrap_or(available.len())];
        let room = MAX_LINE_BYTES.saturating_sub(buffer.len());
        cut |= chunk.len() > room;
        buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let length = chunk.len();
        input.consume(length);
        consumed += length;
        if end.is_some() {
            return Ok((consumed, cut));
        }
    }
}

impl<R> NdjsonRows<R> {
    /// The row on the line just read, `None` when it is blank.
    fn parse_line(&self) -> Option<Row> {
        let text = match std::str::from_utf8(&self.buffer) {
            Ok(text) => text,
            Err(error) => return Some(Err(error_at(self.line, "", error))),
        };
        let text = if self.line == 1 {
            text.trim_start_matches('\u{feff}')
        } else {
            text
        };
        (!text.trim().is_empty()).then(|| parse(text, self.line))
    }
}

/// What an exported line carries besides the input shape, which an import leaves to the
/// database it writes to.
const SERVED_ONLY: [&str; 4] = ["id", "version", "created_at", "updated_at"];

fn parse(text: &str, line: u64) -> Row {
    from_json(text.as_bytes(), &SERVED_ONLY)
        .map(|incident| (line, incident))
        .map_err(|error| error_at(line, &error.field, error.message))
}

fn error_at(line: u64, field: &str, message: impl std::fmt::Display) -> RowError {
    RowError {
        line,
        field: field.to_string(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::csv_rows::testing::{date, fixture};
    use crate::import::Format;
    use crate::model::incident::{Bounds, Claim, IncidentBody};

    #[test]
    fn sample_skips_blank_lines_and_reads_bom_and_crlf() {
        let rows = fixture(Format::Ndjson, "ndjson_sample.ndjson");
        let rows: Vec<(u64, IncidentBody)> = rows.into_iter().map(|r| r.expect("valid")).collect();
        let lines: Vec<u64> = rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![1, 2, 4, 6]);
        let (_, first) = &rows[0];
        assert_eq!(first.external_id.as_deref(), Some("syn:000001"));
        assert_eq!(first.dataset, None);
        assert_eq!(first.occurred_on, date(2012, 6, 20));
        assert_eq!(
            first.casualties.killed,
            Bounds {
                low: Some(0),
                best: Some(0),
                high: None
            }
        );
        assert_eq!(first.perpetrators[0].claim, Claim::Attributed);
        let (_, fourth) = &rows[3];
        assert_eq!(fourth.casualties.injured, Bounds::default());
        assert_eq!(fourth.dataset.as_deref(), Some("field-notes"));
        assert_eq!(fourth.attributes["source_scale"], "Local");
    }

    #[test]
    fn broken_lines_name_the_json_path() {
        let rows = fixture(Format::Ndjson, "ndjson_broken.ndjson");
        let outcome: Vec<Result<u64, (u64, String)>> = rows
            .into_iter()
            .map(|r| r.map(|(line, _)| line).map_err(|e| (e.line, e.field)))
            .collect();
        let err = |line, field: &str| Err((line, field.to_string()));
        assert_eq!(
            outcome,
            vec![
                Ok(1),
                err(2, "location"),
                err(3, "casualties.killed.low"),
                err(4, "perpetrators[0].claim"),
                err(5, "location.altitude"),
                err(6, "occurred_on"),
                err(7, ""),
                err(8, "occurred_on"),
                Ok(10),
            ]
        );
    }

    #[test]
    fn missing_fields_are_named_by_their_path() {
        let input =
            "{\"occurred_on\":\"2020-01-01\",\"location\":{},\"perpetrators\":[{\"name\":\"X\"}]}";
        let error = rows(input.as_bytes())
            .next()
            .expect("row")
            .expect_err("no claim");
        assert_eq!(error.field, "perpetrators[0].claim");
        assert_eq!(error.message, "missing field `claim` at line 1 column 70");
    }

    #[test]
    fn a_line_too_long_is_one_error_and_the_next_line_is_read() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\n{\"occurred_on\":\"2020-01-01\",\"location\":{}}\n");
        let rows: Vec<Row> = rows(input.as_slice()).collect();
        assert_eq!(rows.len(), 2);
        let error = rows[0].as_ref().expect_err("too long");
        assert_eq!(error.line, 1);
        assert!(error.message.contains("longer than"), "{}", error.message);
        assert_eq!(rows[1].as_ref().map(|(line, _)| *line).ok(), Some(2));
    }

    #[test]
    fn messages_are_serdes() {
        let input = "{\"occurred_on\":\"2020-01-01\",\"location\":{},\"casualties\":{\"killed\":{\"low\":-1.5}}}\n";
        let error = rows(input.as_bytes())
            .next()
            .expect("row")
            .expect_err("float count");
        assert_eq!(error.field, "casualties.killed.low");
        assert!(
            error
                .message
                .starts_with("invalid type: floating point `-1.5`, expected i32"),
            "{}",
            error.message
        );
    }
}

//! Exports: every incident a filter matches, read in keyset batches (flat memory however many
//! rows match) and written as CSV, GeoJSON or NDJSON.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::QueryResult;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa::ToSchema;

use super::filter::FilterParams;
use super::page::{Page, PageParams};
use super::params::{List, Params};
use super::{list, Filter};
use crate::db::incidents::StoredIncident;
use crate::db::PooledConnection;
use crate::error::{AppError, AppResult};
use crate::model::country::suggest;
use crate::model::incident::{utc_timestamp, DatePrecision, GeoPrecision, Incident, Source};
use crate::model::validate::did_you_mean;
use crate::model::wire::WireName;
use crate::param_name;

/// Incidents read and written together.
const BATCH: i64 = 1000;

/// What `format` (or `Accept`) may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A page of incidents as JSON (the default).
    #[default]
    Json,
    /// Every match as CSV, one row per incident (columns: see `CSV_COLUMNS`).
    Csv,
    /// Every match with coordinates as a GeoJSON FeatureCollection of Points.
    Geojson,
    /// Every match as import-ready NDJSON, one incident per line.
    Ndjson,
}

impl WireName for Format {}

impl Format {
    /// The formats `Accept` asks for, most wanted first (by `q`, then the header's order);
    /// media types of no format of ours, and those with `q=0`, are left out.
    pub fn accepted(accept: &str) -> Vec<Format> {
        let mut wanted: Vec<(f32, Format)> = accept
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let format = Format::of_media(parts.next()?.trim())?;
                let q = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, format))
            })
            .collect();
        // Stable: equal weights keep the header's order.
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0));
        wanted.into_iter().map(|(_, format)| format).collect()
    }

    fn of_media(media: &str) -> Option<Format> {
        match media {
            "text/csv" => Some(Format::Csv),
            "application/geo+json" => Some(Format::Geojson),
            "application/x-ndjson" | "application/ndjson" => Some(Format::Ndjson),
            "application/json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Geojson => "application/geo+json",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    /// The file extension for `Content-Disposition`.
    pub fn extension(self) -> &'static str {
        self.wire_name()
    }
}

/// Joins list values in one CSV cell.
const LIST_SEPARATOR: &str = " | ";

/// One CSV row: the incident flattened, its field names the header. Perpetrators and sources
/// are joined with ` | `, in their order; `perpetrator_claims` holds the claim of each
/// perpetrator at the same position; `attributes` is a JSON object.
#[derive(Debug, Default, Serialize)]
struct CsvRow<'a> {
    id: i64,
    dataset: &'a str,
    external_id: Option<&'a str>,
    occurred_on: NaiveDate,
    occurred_until: Option<NaiveDate>,
    date_precision: DatePrecision,
    event_type: Option<&'a str>,
    sub_event_type: Option<&'a str>,
    description: Option<&'a str>,
    country_code: Option<&'a str>,
    country: Option<&'a str>,
    region: Option<&'a str>,
    subregion: Option<&'a str>,
    source_region: Option<&'a str>,
    admin1: Option<&'a str>,
    admin2: Option<&'a str>,
    place: Option<&'a str>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    geo_precision: Option<GeoPrecision>,
    killed_low: Option<i32>,
    killed_best: Option<i32>,
    killed_high: Option<i32>,
    injured_low: Option<i32>,
    injured_best: Option<i32>,
    injured_high: Option<i32>,
    perpetrators: String,
    perpetrator_claims: String,
    source_urls: String,
    source_titles: String,
    attributes: String,
    version: i32,
    #[serde(with = "utc_timestamp")]
    created_at: NaiveDateTime,
    #[serde(with = "utc_timestamp")]
    updated_at: NaiveDateTime,
}

impl<'a> CsvRow<'a> {
    fn of(incident: &'a Incident) -> CsvRow<'a> {
        let body = &incident.body;
        let location = &body.location;
        let (killed, injured) = (body.casualties.killed, body.casualties.injured);
        let joined = |values: Vec<&str>| values.join(LIST_SEPARATOR);
        let sources = |field: fn(&Source) -> Option<&str>| {
            joined(
                body.sources
                    .iter()
                    .map(|s| field(s).unwrap_or(""))
                    .collect(),
            )
        };
        CsvRow {
            id: incident.id,
            dataset: body.dataset.as_deref().unwrap_or_default(),
            external_id: body.external_id.as_deref(),
            occurred_on: body.occurred_on,
            occurred_until: body.occurred_until,
            date_precision: body.date_precision,
            event_type: body.event_type.as_deref(),
            sub_event_type: body.sub_event_type.as_deref(),
            description: body.description.as_deref(),
            country_code: location.country_code.as_deref(),
            country: location.country.as_deref(),
            region: location.region.as_deref(),
            subregion: location.subregion.as_deref(),
            source_region: location.source_region.as_deref(),
            admin1: location.admin1.as_deref(),
            admin2: location.admin2.as_deref(),
            place: location.place.as_deref(),
            latitude: location.latitude,
            longitude: location.longitude,
            geo_precision: location.geo_precision,
            killed_low: killed.low,
            killed_best: killed.best,
            killed_high: killed.high,
            injured_low: injured.low,
            injured_best: injured.best,
            injured_high: injured.high,
            perpetrators: joined(body.perpetrators.iter().map(|p| p.name.as_str()).collect()),
            perpetrator_claims: joined(
                body.perpetrators
                    .iter()
                    .map(|p| p.claim.wire_name())
                    .collect(),
            ),
            source_urls: sources(|s| s.url.as_deref()),
            source_titles: sources(|s| s.title.as_deref()),
            attributes: Value::Object(body.attributes.clone()).to_string(),
            version: incident.version,
            created_at: incident.created_at,
            updated_at: incident.updated_at,
        }
    }
}

/// The CSV header: the names of `CsvRow`'s fields, as the csv writer derives them.
fn csv_header() -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.serialize(CsvRow::default());
    let both = writer.into_inner().unwrap_or_default();
    let end = both.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    both[..end].to_vec()
}

/// The CSV columns (and GeoJSON properties), in order.
pub fn csv_columns() -> Vec<String> {
    String::from_utf8_lossy(&csv_header())
        .trim_end()
        .split(',')
        .map(str::to_string)
        .collect()
}

/// How `GET /v1/incidents` answers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (default): a page. `csv`, `geojson`, `ndjson`: every match, streamed, in the
    /// list's `sort` order, from `cursor` when given and at most `limit` rows when given. The
    /// `Accept` header (`text/csv`, `application/geo+json`, `application/x-ndjson`) works too.
    /// CSV columns: the incident's fields flattened (`killed_low` … `injured_high`), with
    /// `perpetrators`, `perpetrator_claims`, `source_urls` and `source_titles` joined by ` | `,
    /// and `attributes` as a JSON object. GeoJSON: Points whose properties are the CSV's
    /// columns; incidents without coordinates are left out and counted in
    /// `X-Omitted-Without-Coordinates`. NDJSON lines are the incidents as served, which import
    /// as they are.
    #[param(inline)]
    pub format: Option<Format>,
    /// CSV: start with a byte order mark, so Excel reads non-ASCII names right.
    pub bom: Option<bool>,
    /// CSV: only these columns, in this order.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub columns: Option<List>,
}

/// The CSV columns asked for, each checked: an unknown one is a 400 with the closest names.
fn chosen_columns(columns: Option<List>) -> AppResult<Option<Vec<String>>> {
    let Some(List(columns)) = columns else {
        return Ok(None);
    };
    let known = csv_columns();
    if let Some(unknown) = columns.iter().find(|c| !known.contains(c)) {
        let suggestions = suggest(unknown, known.iter().cloned());
        return Err(AppError::InvalidParameter {
            parameter: param_name!(ExportParams, columns).into(),
            message: format!(
                "unknown column {unknown:?}{}; known: {}",
                did_you_mean(&suggestions),
                known.join(", ")
            ),
            suggestions,
        });
    }
    Ok(Some(columns))
}

/// What `GET /v1/incidents` is asked: the filter, the order and start, the format (when the
/// query names one) and the export's shape.
#[derive(Debug)]
pub struct ListRequest {
    pub filter: Filter,
    pub page: Page,
    pub format: Option<Format>,
    pub shape: Shape,
}

impl ListRequest {
    /// Reads the list's parameters from `query`; an unknown one is an error.
    pub fn parse(query: &str) -> AppResult<ListRequest> {
        let mut params = Params::parse(query)?;
        let filter = Filter::try_from(params.read::<FilterParams>()?)?;
        let page_params: PageParams = params.read()?;
        let limit = page_params.limit.map(usize::from);
        let page = Page::try_from(page_params)?;
        page.check_sort(&filter)?;
        let export: ExportParams = params.read()?;
        params.finish()?;
        Ok(ListRequest {
            filter,
            page,
            format: export.format,
            shape: Shape {
                bom: export.bom.unwrap_or(false),
                columns: chosen_columns(export.columns)?,
                limit,
            },
        })
    }
}

/// How an export is written, besides its format.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    /// CSV: a byte order mark first, for spreadsheet programs that guess the encoding.
    pub bom: bool,
    /// CSV: only these columns, in this order (checked against `csv_columns`).
    pub columns: Option<Vec<String>>,
    /// At most this many incidents.
    pub limit: Option<usize>,
}

/// Writes every incident `filter` matches, in `page`'s order from its cursor, as `format`
/// through `send`, from header to footer, each batch read on a connection from `connect`;
/// `omitted` is the GeoJSON count of matches without coordinates. Stops early when `send`
/// returns false (the client went away).
pub fn write_all(
    connect: impl Fn() -> AppResult<PooledConnection>,
    filter: &Filter,
    page: Page,
    writer: Writer,
    omitted: i64,
    mut send: impl FnMut(Vec<u8>) -> bool,
) -> AppResult<()> {
    if !send(writer.header(omitted)) {
        return Ok(());
    }
    // No incident written yet: a GeoJSON batch of incidents without coordinates writes none.
    let mut first = true;
    let mut unreadable = None;
    each_batch(
        connect,
        filter,
        page,
        writer.shape.limit,
        |batch| match writer.batch(&batch, first) {
            Ok(bytes) => {
                first &= bytes.is_empty();
                send(bytes)
            }
            Err(error) => {
                unreadable = Some(error);
                false
            }
        },
    )?;
    if let Some(error) = unreadable {
        return Err(error.into());
    }
    send(writer.footer());
    Ok(())
}

/// Turns incidents into the bytes of one export format.
#[derive(Debug, Clone)]
pub struct Writer {
    pub format: Format,
    pub shape: Shape,
}

impl Writer {
    /// What comes before the first incident.
    fn header(&self, omitted: i64) -> Vec<u8> {
        match self.format {
            Format::Csv => {
                let mut out = Vec::new();
                if self.shape.bom {
                    out.extend_from_slice("\u{feff}".as_bytes());
                }
                match &self.shape.columns {
                    Some(columns) => out.extend(csv_record(columns)),
                    None => out.extend(csv_header()),
                }
                out
            }
            Format::Geojson => format!(
                "{{\"type\":\"FeatureCollection\",\"omitted_without_coordinates\":{omitted},\"features\":["
            )
            .into_bytes(),
            Format::Json | Format::Ndjson => Vec::new(),
        }
    }

    /// `batch` written out; `first` tells whether anything was written before it.
    fn batch(&self, batch: &[StoredIncident], first: bool) -> QueryResult<Vec<u8>> {
        let mut out = Vec::with_capacity(batch.len() * 1024);
        match self.format {
            Format::Csv => self.csv_rows(batch, &mut out)?,
            // Import input as it is: the incident as served; an import ignores its id,
            // version and timestamps.
            Format::Ndjson | Format::Json => {
                for stored in batch {
                    out.extend_from_slice(stored.json().as_bytes());
                    out.push(b'\n');
                }
            }
            Format::Geojson => {
                let mut first = first;
                for stored in batch {
                    let (Some(lat), Some(lon)) = (stored.latitude, stored.longitude) else {
                        continue;
                    };
                    if !first {
                        out.push(b',');
                    }
                    let incident = stored.incident()?;
                    let properties = serde_json::to_string(&CsvRow::of(&incident))
                        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
                    let feature = format!(
                        "{{\"type\":\"Feature\",\"id\":{},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{},{}]}},\"properties\":{properties}}}",
                        stored.id,
                        json!(lon),
                        json!(lat),
                    );
                    out.extend(feature.into_bytes());
                    first = false;
                }
            }
        }
        Ok(out)
    }

    /// The CSV rows of `batch`: every column, or the chosen ones.
    fn csv_rows(&self, batch: &[StoredIncident], out: &mut Vec<u8>) -> QueryResult<()> {
        let failed = |e: csv::Error| diesel::result::Error::SerializationError(Box::new(e));
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(out);
        for stored in batch {
            let incident = stored.incident()?;
            let row = CsvRow::of(&incident);
            match &self.shape.columns {
                None => writer.serialize(row).map_err(failed)?,
                Some(columns) => writer
                    .write_record(chosen_cells(&row, columns))
                    .map_err(failed)?,
            }
        }
        writer.flush().map_err(|e| failed(e.into()))
    }

    /// What comes after the last incident.
    fn footer(&self) -> Vec<u8> {
        match self.format {
            Format::Geojson => b"]}\n".to_vec(),
            _ => Vec::new(),
        }
    }
}

/// The cells of `columns` of `row`, as the full CSV writes them.
fn chosen_cells(row: &CsvRow, columns: &[String]) -> Vec<String> {
    let Ok(Value::Object(fields)) = serde_json::to_value(row) else {
        return Vec::new();
    };
    columns
        .iter()
        .map(|column| match fields.get(column) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        })
        .collect()
}

fn csv_record(cells: &[String]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(cells);
    writer.into_inner().unwrap_or_default()
}

/// Reads every incident `filter` matches in `page`'s order from its cursor, `BATCH` at a time
/// and `limit` in all, each batch one keyset query on a connection taken from `connect` for
/// it alone (a slow client holds no connection), and hands each batch to `emit` until it
/// returns false.
fn each_batch(
    connect: impl Fn() -> AppResult<PooledConnection>,
    filter: &Filter,
    mut page: Page,
    limit: Option<usize>,
    mut emit: impl FnMut(Vec<StoredIncident>) -> bool,
) -> AppResult<()> {
    let mut left = limit.unwrap_or(usize::MAX);
    page.limit = BATCH;
    page.count = false;
    while left > 0 {
        let mut listing = {
            let mut conn = connect()?;
            list(&mut conn, filter, &page)?
        };
        listing.incidents.truncate(left);
        left -= listing.incidents.len();
        let next = listing.next_cursor;
        if !emit(listing.incidents) {
            return Ok(());
        }
        match next {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn accept_is_read_by_weight() {
        assert_eq!(
            Format::accepted("text/csv;q=0.1, application/json"),
            [Format::Json, Format::Csv]
        );
        assert_eq!(
            Format::accepted("application/geo+json, text/csv"),
            [Format::Geojson, Format::Csv]
        );
        assert!(Format::accepted("text/csv;q=0, text/html").is_empty());
    }
}

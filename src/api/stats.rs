//! `/v1/stats`: counts and casualty sums of the filtered incidents, grouped.

use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::incidents::AS_OF_HEADER;
use super::{requested_format, Call};
use crate::error::{AppResult, ReadProblems};
use crate::model::history::micros;
use crate::model::wire::WireName;
use crate::query::export::Format;
use crate::query::filter::FilterParams;
use crate::query::stats::{self, GroupKey, Grouping, StatsFormat, StatsParams, StatsRow};
use crate::query::{Filter, Params};

pub fn configure(config: &mut ServiceConfig) {
    config.service(get_stats);
}

/// Stats of the filtered incidents.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// The keys the rows are grouped by, in order.
    #[schema(example = json!(["country", "year"]))]
    pub group_by: Vec<GroupKey>,
    /// One row per group, in key order (nulls last).
    pub data: Vec<StatsRow>,
    /// With `as_of` or `release`: the time the answer reflects.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<String>,
}

/// Stats of the filtered incidents.
///
/// Counts and casualty sums of the incidents the filters match, grouped by up to three keys.
/// Unknown casualties are not counted as 0: each sum covers the known values and `unknown`
/// counts the incidents without a `best` figure. Grouped by `cell`, the rows are a map's
/// clusters: `GET /v1/stats?group_by=cell,geo_precision&cell=5&country=AF` gives each 5° cell
/// with incidents (as a `bbox`), its counts and sums and the mean position of its incidents,
/// one row for each location precision in the cell.
#[utoipa::path(
    tag = "stats",
    params(FilterParams, StatsParams),
    responses(
        (status = 200, description = "One row per group", body = Stats,
            headers(("X-As-Of" = String, description = "With `as_of` or `release`: the time the answer reflects")),
            content(
                (Stats = "application/json"),
                (String = "text/csv", example = "country,incidents,killed_low,killed_best,killed_high,killed_unknown,injured_low,injured_best,injured_high,injured_unknown\nAFG,1,8,8,,0,,,,1\n"),
            )),
        ReadProblems,
    )
)]
#[get("/v1/stats")]
async fn get_stats(call: Call) -> AppResult<HttpResponse> {
    let Call { req, state, .. } = call;
    let mut params = Params::parse(req.query_string())?;
    let mut filter = Filter::try_from(params.read::<FilterParams>()?)?;
    let stats_params: StatsParams = params.read()?;
    params.finish()?;
    let grouping = Grouping::parse(stats_params.group_by, stats_params.cell)?;
    let format = requested_format(&req, stats_params.format).unwrap_or_default();
    let group_by = grouping.keys.clone();
    let cache = state.stats_cache.clone();
    let (data, as_of) = state
        .read(move |conn| {
            filter.resolve(conn)?;
            let rows = stats::stats(conn, &filter, &grouping, &cache)?;
            if rows.iter().all(|row| row.incidents == 0) {
                filter.check_vocabularies()?;
            }
            Ok((rows, filter.as_of.map(micros::text)))
        })
        .await?;
    let mut response = HttpResponse::Ok();
    if let Some(as_of) = &as_of {
        response.insert_header((AS_OF_HEADER, as_of.as_str()));
    }
    Ok(match format {
        StatsFormat::Csv => response
            .content_type(Format::Csv.content_type())
            .body(csv(&group_by, &data)),
        StatsFormat::Json => response.json(Stats {
            group_by,
            data,
            as_of,
        }),
    })
}

/// The rows as CSV: the keys, `incidents`, then `killed_*` and `injured_*`, and with cells the
/// mean `latitude` and `longitude`.
fn csv(keys: &[GroupKey], rows: &[StatsRow]) -> Vec<u8> {
    const FIGURES: [&str; 9] = [
        "incidents",
        "killed_low",
        "killed_best",
        "killed_high",
        "killed_unknown",
        "injured_low",
        "injured_best",
        "injured_high",
        "injured_unknown",
    ];
    const POSITION: [&str; 2] = ["latitude", "longitude"];
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let cells = keys.contains(&GroupKey::Cell);
    let position: &[&str] = if cells { &POSITION } else { &[] };
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = keys
        .iter()
        .map(|k| k.wire_name())
        .chain(FIGURES)
        .chain(position.iter().copied());
    writer
        .write_record(header)
        .expect("writing to memory cannot fail");
    for row in rows {
        let mut record: Vec<String> = keys
            .iter()
            .map(|k| {
                row.group
                    .get(k.wire_name())
                    .cloned()
                    .flatten()
                    .unwrap_or_default()
            })
            .collect();
        record.push(row.incidents.to_string());
        for totals in [row.killed, row.injured] {
            record.extend([number(totals.low), number(totals.best), number(totals.high)]);
            record.push(totals.unknown.to_string());
        }
        if cells {
            let degrees = |d: Option<f64>| d.map(|d| d.to_string()).unwrap_or_default();
            record.extend([degrees(row.latitude), degrees(row.longitude)]);
        }
        writer
            .write_record(&record)
            .expect("writing to memory cannot fail");
    }
    writer.into_inner().expect("writing to memory cannot fail")
}

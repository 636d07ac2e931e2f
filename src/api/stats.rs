//! `/v1/stats`: counts and casualty sums of the filtered incidents, grouped.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::Caller;
use super::{requested_format, AppState};
use crate::error::{AppResult, Problem};
use crate::query::export::Format;
use crate::query::filter::FilterParams;
use crate::query::stats::{self, GroupKey, StatsRow};
use crate::query::{Filter, Params};

pub fn configure(config: &mut ServiceConfig) {
    config.service(get_stats);
}

/// Grouping and format of `GET /v1/stats`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; the handler reads them
pub struct StatsParams {
    /// Up to three of `country`, `region`, `subregion`, `source_region`, `admin1`, `year`,
    /// `month`, `event_type`, `perpetrator`, `dataset`, comma-separated. None: one row of
    /// totals.
    #[param(example = "country,month")]
    group_by: Option<String>,
    /// `json` (default) or `csv`; `Accept: text/csv` works too.
    #[param(inline, example = "csv")]
    format: Option<StatsFormat>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // documents the parameter's values
enum StatsFormat {
    Json,
    Csv,
}

/// Stats of the filtered incidents.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// The keys the rows are grouped by, in order.
    #[schema(example = json!(["country", "year"]))]
    pub group_by: Vec<GroupKey>,
    /// One row per group, in key order (nulls last).
    pub data: Vec<StatsRow>,
}

/// Counts and casualty sums of the incidents the filters match, grouped by up to three keys.
/// Unknown casualties are not counted as 0: each sum covers the known values and `unknown`
/// counts the incidents without a `best` figure.
#[utoipa::path(
    tag = "stats",
    params(FilterParams, StatsParams),
    responses(
        (status = 200, description = "One row per group", body = Stats,
            content(
                (Stats = "application/json"),
                (String = "text/csv", example = "country,incidents,killed_low,killed_best,killed_high,killed_unknown,injured_low,injured_best,injured_high,injured_unknown\nAFG,1,8,8,,0,,,,1\n"),
            )),
        (status = 400, description = "A parameter is invalid; the problem names it", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A key is needed (INCIDENTDB_READ_REQUIRES_KEY) or the key is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/stats")]
async fn get_stats(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: Caller,
) -> AppResult<HttpResponse> {
    let mut params = Params::parse(req.query_string())?;
    let mut filter = Filter::parse(&mut params)?;
    let keys = stats::parse_group_by(&mut params)?;
    let format = requested_format(&req, &mut params, &[Format::Json, Format::Csv])?;
    params.finish()?;
    let group_by = keys.clone();
    let data = state
        .read(move |conn| {
            filter.resolve_named_regions(conn)?;
            stats::stats(conn, &filter, &keys)
        })
        .await?;
    Ok(match format {
        Format::Csv => HttpResponse::Ok()
            .content_type(Format::Csv.content_type())
            .body(csv(&group_by, &data)),
        _ => HttpResponse::Ok().json(Stats { group_by, data }),
    })
}

/// The rows as CSV: the keys, `incidents`, then `killed_*` and `injured_*`.
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
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = keys.iter().map(|k| k.name()).chain(FIGURES);
    writer
        .write_record(header)
        .expect("writing to memory cannot fail");
    for row in rows {
        let mut record: Vec<String> = keys
            .iter()
            .map(|k| {
                row.group
                    .get(k.name())
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
        writer
            .write_record(&record)
            .expect("writing to memory cannot fail");
    }
    writer.into_inner().expect("writing to memory cannot fail")
}

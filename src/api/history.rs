//! `/v1/incidents/{id}/history`: every version of an incident, and who wrote each, why and how.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{page_response, Call};
use crate::db::history;
use crate::db::keys::ApiKey;
use crate::error::{AppError, AppResult, Problem, ReadProblems};
use crate::model::history::{Change, ChangeKind, Version};
use crate::param_name;
use crate::query::Params;

pub fn configure(config: &mut ServiceConfig) {
    config.service(incident_history);
}

/// The header that carries a write's reason into the history.
pub const REASON_HEADER: &str = "X-Change-Reason";

/// Longest reason kept, in characters.
const MAX_REASON_CHARS: usize = 1000;

/// The change a request by `key` makes, with the reason its `X-Change-Reason` gives.
pub fn change(req: &HttpRequest, key: &ApiKey, kind: ChangeKind) -> AppResult<Change> {
    let reason = match req.headers().get(REASON_HEADER) {
        None => None,
        Some(value) => Some(reason(value.as_bytes())?),
    };
    Ok(Change {
        kind,
        by: key.name.clone(),
        reason,
    })
}

/// A reason as sent: UTF-8 (a header's bytes may be any), bounded, storable on both backends.
fn reason(bytes: &[u8]) -> AppResult<String> {
    let problem = |message: &str| AppError::parameter(REASON_HEADER, message);
    let text = std::str::from_utf8(bytes).map_err(|_| problem("must be UTF-8"))?;
    let text = text.trim();
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(problem(&format!("at most {MAX_REASON_CHARS} characters")));
    }
    if text.contains('\0') {
        return Err(problem("must not contain the NUL character (U+0000)"));
    }
    Ok(text.to_string())
}

/// Paging of an incident's history.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Versions per page, 1 to 1000 (default 100). Example: `100`.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u16>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const DEFAULT_LIMIT: u16 = 100;
const MAX_LIMIT: u16 = 1000;

impl HistoryParams {
    fn limit(&self) -> AppResult<i64> {
        match self.limit.unwrap_or(DEFAULT_LIMIT) {
            limit @ 1..=MAX_LIMIT => Ok(i64::from(limit)),
            other => Err(AppError::parameter(
                param_name!(HistoryParams, limit),
                format!("expected an integer from 1 to {MAX_LIMIT}, got {other}"),
            )),
        }
    }

    /// The version the page starts after: a cursor is the last version of the page before.
    fn after(&self) -> AppResult<i32> {
        match &self.cursor {
            None => Ok(0),
            Some(cursor) => cursor
                .parse::<i32>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| {
                    AppError::parameter(
                        param_name!(HistoryParams, cursor),
                        "not a cursor of this history; pass next_cursor unchanged",
                    )
                }),
        }
    }
}

/// A page of an incident's versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// Oldest first; a deletion is the last version.
    pub data: Vec<Version>,
    /// Pass as `cursor` for the next page; null on the last page. `Link: <...>; rel="next"`
    /// carries the same.
    pub next_cursor: Option<String>,
}

/// An incident's history.
///
/// Every version the incident went through, oldest first: each with the span in which it was
/// current, who wrote it (the API key's name, or `import:<dataset>` for the command-line
/// import), the reason given (`X-Change-Reason`), how (`create`, `update`, `import`, `delete`)
/// and the incident as it was. A deleted incident's history stays readable. Paged by version:
/// `limit` versions a page, `next_cursor` (and `Link: rel="next"`) to the next.
#[utoipa::path(
    tag = "incidents",
    params(("id" = i64, Path, description = "Incident id. Example: `1`."), HistoryParams),
    responses(
        (status = 200, description = "The versions", body = History),
        (status = 404, description = "No incident ever had this id", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    )
)]
#[get("/v1/incidents/{id}/history")]
async fn incident_history(path: web::Path<i64>, call: Call) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let paging: HistoryParams = Params::only(call.req.query_string())?;
    let (after, limit) = (paging.after()?, paging.limit()?);
    let (mut data, exists) = call
        .state
        .run(move |conn| {
            let data = history::versions(conn, id, after, limit + 1)?;
            let exists = !data.is_empty() || !history::versions(conn, id, 0, 1)?.is_empty();
            Ok((data, exists))
        })
        .await?;
    if !exists {
        return Err(AppError::NotFound(format!("incident {id}")));
    }
    let more = data.len() as i64 > limit;
    data.truncate(limit as usize);
    let next_cursor = more
        .then(|| data.last().map(|version| version.version.to_string()))
        .flatten();
    let cursor = param_name!(HistoryParams, cursor);
    Ok(
        page_response(&call.req, cursor, next_cursor.as_deref())
            .json(History { data, next_cursor }),
    )
}

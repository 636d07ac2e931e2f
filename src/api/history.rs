//! `/v1/incidents/{id}/history`: every version of an incident, and who wrote each, why and how.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::Caller;
use super::AppState;
use crate::db::history;
use crate::db::keys::ApiKey;
use crate::error::{AppError, AppResult, Problem, ReadProblems, ServiceProblems};
use crate::model::history::{Change, ChangeKind, Version};

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

/// Every version of an incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// Oldest first; a deletion is the last version.
    pub data: Vec<Version>,
}

/// An incident's history.
///
/// Every version the incident went through, oldest first: each with the span in which it was
/// current, who wrote it (the API key's name, or `import:<dataset>` for the command-line
/// import), the reason given (`X-Change-Reason`), how (`create`, `update`, `import`, `delete`)
/// and the incident as it was. A deleted incident's history stays readable.
#[utoipa::path(
    tag = "incidents",
    params(("id" = i64, Path, description = "Incident id. Example: `1`.")),
    responses(
        (status = 200, description = "The versions", body = History),
        (status = 404, description = "No incident ever had this id", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
        ServiceProblems,
    )
)]
#[get("/v1/incidents/{id}/history")]
async fn incident_history(
    path: web::Path<i64>,
    state: web::Data<AppState>,
    _caller: Caller,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let data = state
        .run(move |conn| Ok(history::versions(conn, id)?))
        .await?;
    if data.is_empty() {
        return Err(AppError::NotFound(format!("incident {id}")));
    }
    Ok(HttpResponse::Ok().json(History { data }))
}

//! `/v1/drafts`: a draft incident from a news report, for a coder to review and save with
//! `POST /v1/incidents`. Nothing is stored.

use actix_web::{post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::Caller;
use super::parse_json;
use crate::db::keys::Role;
use crate::draft::{draft, DraftRequest, Drafted};
use crate::error::{AppError, AppResult, Problem, WriteProblems};

pub fn configure(config: &mut ServiceConfig) {
    config.service(create_draft);
}

/// Draft an incident from a news report. Needs an editor key; stores nothing.
///
/// Offline, by rules a coder can check: the date (explicit, or a weekday or "yesterday"
/// counted from the dateline's date or `published_on`), the place of the event resolved
/// with the GeoNames gazetteer, killed and injured with their bounds ("at least 8" → low 8,
/// "more than two dozen" → low 25), the groups that claimed, denied, were blamed or
/// suspected, the event type by keywords, and the source. Every field filled cites the
/// words it came from and the rule that read them in `evidence`; what could not be read
/// stays null with a warning. Review the draft, then `POST /v1/incidents` it (give
/// `occurred_on` first when it is null).
#[utoipa::path(
    tag = "drafts",
    request_body(content = DraftRequest, description = "The report and what is known of its source"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The draft, its evidence and warnings", body = Drafted),
        (status = 413, description = "The body is larger than INCIDENTDB_MAX_BODY_BYTES", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body is not a draft request; the problem names the field", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/v1/drafts")]
async fn create_draft(body: web::Bytes, caller: Caller) -> AppResult<HttpResponse> {
    caller.require(Role::Editor)?;
    let request: DraftRequest = parse_json(&body)?;
    if request.text.contains('\0') {
        return Err(AppError::field(
            "text",
            "must not contain the NUL character (U+0000)",
        ));
    }
    // Reading a long report is CPU work: off the async workers.
    let drafted = web::block(move || draft(&request)).await?;
    Ok(HttpResponse::Ok().json(drafted))
}

//! Liveness and readiness.

use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::Caller;
use super::AppState;
use crate::error::{AppError, AppResult, Problem, ReadProblems, ServiceProblems};

pub fn configure(config: &mut ServiceConfig) {
    config.service(healthz).service(readyz).service(metrics);
}

/// Health of the service.
#[derive(Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Status)))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The database is reachable", body = Status),
        (status = 503, description = "The database is not reachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .run(|conn| {
            conn.batch_execute("SELECT 1")
                .map_err(|_| crate::error::AppError::Unavailable)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Status { status: "ready" }))
}

/// Request counts and latency histograms per route, in the Prometheus text format
/// (`incidentdb_http_requests_total`, `incidentdb_http_requests_duration_seconds`). Needs a
/// key when reads do (INCIDENTDB_READ_REQUIRES_KEY).
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "text/plain; version=0.0.4"),
        ReadProblems,
        ServiceProblems,
    )
)]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>, _caller: Caller) -> AppResult<HttpResponse> {
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&state.metrics.registry.gather())
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(text))
}

//! Liveness and readiness.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{AppState, Call};
use crate::db::replicas::REPLICA_WAIT;
use crate::db::DbPool;
use crate::error::{AppError, AppResult, Problem, ReadProblems};

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

/// Readiness, and each database pool's state.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    status: &'static str,
    /// The primary, then each replica of `DATABASE_READ_URL` in its order.
    databases: Vec<PoolStatus>,
}

/// Not ready: the problem, with each database pool's state.
#[derive(Serialize, ToSchema)]
pub struct NotReady {
    #[serde(flatten)]
    problem: Problem,
    /// The primary, then each replica of `DATABASE_READ_URL` in its order.
    databases: Vec<PoolStatus>,
}

/// A database pool. Its URL is left out: `/readyz` answers anyone.
#[derive(Serialize, ToSchema)]
pub struct PoolStatus {
    /// `primary`, or `replica N` for the Nth URL of `DATABASE_READ_URL`.
    #[schema(example = "primary")]
    name: String,
    /// Whether it gave a connection within its wait, and the connection answered a query.
    ready: bool,
    /// Connections open.
    #[schema(example = 4)]
    connections: u32,
    /// Connections open and unused.
    #[schema(example = 3)]
    idle_connections: u32,
}

/// Readiness: the database answers.
///
/// Ready when the primary answers; in read-only mode, which only reads, when any database
/// does. Replicas are reported, not required: the reads they cannot take go to the primary.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready; the state of each database pool", body = Readiness),
        (status = 503, description = "The database is not reachable; the state of each database pool", body = NotReady, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    // In read-only mode the primary only stands in for the replicas, and a probe must not wait
    // out its full wait while it is down for maintenance.
    let primary_wait = if state.config.read_only {
        REPLICA_WAIT
    } else {
        state.pool.connection_timeout()
    };
    let replicas = state.replicas.pools().iter().enumerate().map(|(i, pool)| {
        let name = format!("replica {}", i + 1);
        (name, pool.clone(), pool.connection_timeout())
    });
    let pools: Vec<_> = std::iter::once(("primary".into(), state.pool.clone(), primary_wait))
        .chain(replicas)
        .collect();
    let databases = web::block(move || check_all(pools)).await?;
    let ready = if state.config.read_only {
        databases.iter().any(|pool| pool.ready)
    } else {
        databases[0].ready
    };
    if !ready {
        let problem = AppError::Unavailable.problem();
        return Ok(HttpResponse::ServiceUnavailable()
            .content_type("application/problem+json")
            .json(NotReady { problem, databases }));
    }
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready",
        databases,
    }))
}

/// Checks every pool at once, so a probe waits for the slowest, not for the sum.
fn check_all(pools: Vec<(String, DbPool, Duration)>) -> Vec<PoolStatus> {
    std::thread::scope(|scope| {
        let checks: Vec<_> = pools
            .into_iter()
            .map(|(name, pool, wait)| scope.spawn(move || check(name, &pool, wait)))
            .collect();
        checks
            .into_iter()
            .map(|check| check.join().expect("a pool check does not panic"))
            .collect()
    })
}

fn check(name: String, pool: &DbPool, wait: Duration) -> PoolStatus {
    let ready = pool
        .get_timeout(wait)
        .is_ok_and(|mut conn| conn.batch_execute("SELECT 1").is_ok());
    let state = pool.state();
    PoolStatus {
        name,
        ready,
        connections: state.connections,
        idle_connections: state.idle_connections,
    }
}

/// Prometheus metrics.
///
/// Request counts and latency histograms per route, in the Prometheus text format
/// (`incidentdb_http_requests_total`, `incidentdb_http_requests_duration_seconds`). Needs a
/// key when reads do (INCIDENTDB_READ_REQUIRES_KEY).
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "text/plain; version=0.0.4"),
        ReadProblems,
    )
)]
#[get("/metrics")]
async fn metrics(call: Call) -> AppResult<HttpResponse> {
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&call.state.metrics.registry.gather())
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(text))
}

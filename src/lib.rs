//! incidentdb: a conflict-incident database with a documented REST API.
//!
//! `server` builds the same HTTP service for `incidentdb serve` and for the tests.

pub mod api;
pub mod config;
pub mod db;
pub mod demo;
pub mod draft;
pub mod error;
pub mod import;
pub mod middleware;
pub mod model;
pub mod openapi;
pub mod query;
pub mod web;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress, Condition, ErrorHandlers};
use actix_web::web::{get, to, Data, PathConfig, PayloadConfig};
use actix_web::{App, HttpResponse, HttpServer};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use api::AppState;
use config::Config;

/// Opens the database (running its migrations) and its replicas, and builds the shared state.
pub fn state(config: Config) -> anyhow::Result<Data<AppState>> {
    let pool = db::open_pool(&config.database_url, config.pool_size)?;
    let metrics = middleware::metrics()?;
    let replicas = db::Replicas::open(
        &config.database_url,
        &config.database_read_urls,
        config.pool_size,
        &metrics.registry,
    )?;
    let imports = std::sync::Arc::new(tokio::sync::Semaphore::new(config.max_imports));
    Ok(Data::new(AppState {
        pool,
        replicas: std::sync::Arc::new(replicas),
        imports,
        rate_limit: middleware::RateLimit::of(&config),
        known_keys: api::auth::KnownKeys::default(),
        stats_cache: std::sync::Arc::default(),
        metrics,
        config,
    }))
}

/// The HTTP server on `listener`, ready to be awaited.
pub fn server(state: Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let workers = state.config.workers;
    // As many blocking threads as pooled connections: more would only park on the pool and
    // crowd the cores (measured: 50 threads under 32 connections).
    let connections = state.pool.max_size() + state.replicas.max_size();
    let blocking_threads = (connections as usize).div_ceil(workers);
    let metrics = state.metrics.clone();
    let warm = state.clone();
    let server = HttpServer::new(move || {
        let (app, document) = App::new()
            .into_utoipa_app()
            .openapi(openapi::base())
            .app_data(state.clone())
            .app_data(PayloadConfig::new(state.config.max_body_bytes))
            .app_data(PathConfig::default().error_handler(api::path_error))
            .configure(api::configure)
            .split_for_parts();
        app.wrap(from_fn(middleware::head_as_get))
            .wrap(ErrorHandlers::new().default_handler(error::problem_for_plain_errors))
            .wrap(Compress::default())
            .wrap(from_fn(middleware::limit_rate))
            .wrap(Condition::new(
                state.config.read_only,
                from_fn(middleware::refuse_writes),
            ))
            .wrap(Condition::new(
                !state.config.cors_origins.is_empty(),
                middleware::cors(&state.config),
            ))
            .wrap(metrics.clone())
            .wrap(from_fn(middleware::log_request))
            .wrap(TracingLogger::<middleware::RequestSpans>::new())
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi::finish(document)))
            .default_service(to(api::unrouted))
            .route(
                "/docs",
                get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header(("Location", "/docs/"))
                        .finish()
                }),
            )
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking_threads)
    .listen(listener)?
    .run();
    actix_web::rt::spawn(keep_stats_warm(warm));
    Ok(server)
}

/// How often the whole-database stats are warmed again, when the data changed since.
const WARM_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// Keeps the stats a first visit of the browse page asks warm (`query::stats::warm`): at start,
/// then, when the data changed, at most every `WARM_INTERVAL` (a million incidents cost about
/// fifteen seconds of one core; a busy PostgreSQL cluster, whose generation moves with every
/// write, no more than that every five minutes).
async fn keep_stats_warm(state: Data<AppState>) {
    let mut warmed: Option<db::history::Generation> = None;
    loop {
        let (last, cache) = (warmed.clone(), state.stats_cache.clone());
        let done = state
            .read(move |conn| {
                let generation = db::history::generation(conn)?;
                if last.as_ref() == Some(&generation) {
                    return Ok(None);
                }
                let started = std::time::Instant::now();
                query::stats::warm(conn, &cache)?;
                // Its own target, so a benchmark can wait for it with everything else quiet.
                tracing::info!(target: "incidentdb::warm", seconds = started.elapsed().as_secs_f64(), "stats warmed");
                Ok(Some(generation))
            })
            .await;
        match done {
            Ok(Some(generation)) => warmed = Some(generation),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "warming the stats"),
        }
        actix_web::rt::time::sleep(WARM_INTERVAL).await;
    }
}

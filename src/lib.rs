//! incidentdb: a conflict-incident database with a documented REST API.
//!
//! `server` builds the same HTTP service for `incidentdb serve` and for the tests.

pub mod api;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod import;
pub mod model;
pub mod openapi;
pub mod query;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpResponse, HttpServer};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use api::AppState;
use config::Config;

/// Opens the database (running its migrations) and builds the shared state.
pub fn state(config: Config) -> Result<web::Data<AppState>, String> {
    let pool = db::open_pool(&config.database_url, config.pool_size)?;
    Ok(web::Data::new(AppState { pool, config }))
}

/// The HTTP server on `listener`, ready to be awaited.
pub fn server(state: web::Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let workers = state.config.workers;
    let server = HttpServer::new(move || {
        let (app, document) = App::new()
            .into_utoipa_app()
            .openapi(openapi::base())
            .app_data(state.clone())
            .app_data(web::PathConfig::default().error_handler(|error, _| {
                error::AppError::parameter("id", error.to_string()).into()
            }))
            .configure(api::configure)
            .split_for_parts();
        app.wrap(middleware::Logger::new("%a \"%r\" %s %b %Dms"))
            .wrap(middleware::Compress::default())
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", document))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(error::AppError::NotFound("this route".into()))
            }))
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header(("Location", "/docs/"))
                        .finish()
                }),
            )
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}

//! The HTTP API: one module per resource, registered in one place.

pub mod auth;
pub mod conditional;
pub mod drafts;
pub mod health;
pub mod history;
pub mod imports;
pub mod incidents;
pub mod regions;
pub mod releases;
pub mod stats;
pub mod vocabularies;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use actix_web::{HttpResponse, ResponseError};
use serde::de::DeserializeOwned;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::Config;
use crate::db::{write_transaction, DbConnection, DbPool, PooledConnection, Replicas};
use crate::error::{AppError, AppResult};
use crate::model::json::from_json;
use crate::query::export::Format;

/// What every handler shares.
pub struct AppState {
    /// The primary: writes, and the reads that must see them.
    pub pool: DbPool,
    /// The read replicas, none without `DATABASE_READ_URL`.
    pub replicas: std::sync::Arc<Replicas>,
    pub config: Config,
    /// One permit per import that may run at once.
    pub imports: std::sync::Arc<tokio::sync::Semaphore>,
    /// The rate limit, when one is set.
    pub rate_limit: Option<crate::middleware::RateLimit>,
    pub known_keys: auth::KnownKeys,
    /// Stats answers kept while the data is unchanged (`query::cache`).
    pub stats_cache: std::sync::Arc<crate::query::cache::StatsCache>,
    /// Request counts and latencies, served at `/metrics`.
    pub metrics: actix_web_prom::PrometheusMetrics,
}

/// What every API handler takes besides its path and body: the request, the shared state and
/// the caller. Taking the caller authenticates it, so a read answers 401 when a key is needed
/// and none or an unknown one is given (`Caller`); a write also checks the caller's role.
pub struct Call {
    pub req: HttpRequest,
    pub state: web::Data<AppState>,
    pub caller: auth::Caller,
}

impl FromRequest for Call {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Call>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = auth::Caller::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::internal("no application state"))?
                .clone();
            let caller = caller.await?;
            Ok(Call { req, state, caller })
        })
    }
}

impl AppState {
    /// Runs `work` on a connection to the primary on the blocking thread pool, off the async
    /// workers: for writes, and for reads that must see the latest write (key checks, an
    /// incident read back after its change). The pool has as many threads as there are
    /// connections (see `server`), so a query waits in the pool's queue, not on a thread of
    /// its own parked until a connection frees up. In read-only mode nothing writes, so there
    /// is no write to see: `work` runs as in `read`, and answers while the primary is down.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    {
        if self.config.read_only {
            return self.read(work).await;
        }
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }

    /// Runs `work` in one write transaction (see `db::write_transaction`) on a pooled
    /// connection; an error rolls it back.
    pub async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    {
        self.run(|conn| write_transaction(conn, work)).await
    }

    /// Runs `work`, which only reads and may lag the primary by the replication delay, like
    /// `run` but on a replica's connection (the primary's when no replica answers in time).
    pub async fn read<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    {
        let connect = self.reader();
        web::block(move || {
            let mut conn = connect()?;
            work(&mut conn)
        })
        .await?
    }

    /// Takes a connection for a read, each time it is called (see `read`).
    pub fn reader(&self) -> impl Fn() -> AppResult<PooledConnection> + Send + 'static {
        let (primary, replicas) = (self.pool.clone(), self.replicas.clone());
        move || Ok(replicas.connection(&primary)?)
    }

    /// Runs `work` on a thread of its own, for work that lasts as long as a client keeps
    /// sending or reading (imports, exports): on the blocking pool it would hold one of the
    /// few threads every short query needs.
    pub async fn run_long<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&DbPool) -> AppResult<T> + Send + 'static,
    {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let pool = self.pool.clone();
        spawn_long(move || {
            let _ = sender.send(work(&pool));
        })?;
        receiver.await.map_err(AppError::internal)?
    }
}

/// Starts `work` on a thread of its own (see `AppState::run_long`).
pub fn spawn_long(work: impl FnOnce() + Send + 'static) -> AppResult<()> {
    std::thread::Builder::new()
        .name("incidentdb-long".into())
        .spawn(work)
        .map(drop)
        .map_err(AppError::internal)
}

/// Registers every route.
pub fn configure(config: &mut ServiceConfig) {
    health::configure(config);
    incidents::configure(config);
    history::configure(config);
    releases::configure(config);
    drafts::configure(config);
    imports::configure(config);
    regions::configure(config);
    stats::configure(config);
    vocabularies::configure(config);
    crate::web::configure(config);
}

/// A path parameter that does not parse: 405 when the path is another route's (a `PATCH` of
/// `/v1/incidents/deleted`), else 400 naming the `id`.
pub fn path_error(error: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    let allowed = methods_of(req.path());
    if !allowed.is_empty() && !allowed.contains(&req.method().as_str()) {
        let response = method_not_allowed(req, &allowed);
        return actix_web::error::InternalError::from_response(error, response).into();
    }
    AppError::parameter("id", error.to_string()).into()
}

/// Answers the requests no route took: 405 with `Allow` when the path is one of the
/// document's with other methods, else 404.
pub async fn unrouted(req: HttpRequest) -> AppResult<HttpResponse> {
    let allowed = methods_of(req.path());
    if allowed.is_empty() {
        return Err(AppError::NotFound("this route".into()));
    }
    Ok(method_not_allowed(&req, &allowed))
}

fn method_not_allowed(req: &HttpRequest, allowed: &[&str]) -> HttpResponse {
    let allow = allowed.join(", ");
    let mut response = AppError::Http(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not allowed here; allowed: {allow}", req.method()),
    )
    .error_response();
    if let Ok(value) = header::HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// The methods the OpenAPI document gives for `path` (`{id}`-style segments match any one).
fn methods_of(path: &str) -> Vec<&'static str> {
    static ROUTES: OnceLock<Vec<(Vec<String>, Vec<&'static str>)>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        crate::openapi::document()
            .paths
            .paths
            .iter()
            .map(|(pattern, item)| {
                let segments = pattern.split('/').map(str::to_string).collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                let methods = methods.into_iter().filter(|(_, has)| *has).map(|(m, _)| m);
                (segments, methods.collect())
            })
            .collect()
    });
    let segments: Vec<&str> = path.split('/').collect();
    let placeholders = |pattern: &[String]| pattern.iter().filter(|p| p.starts_with('{')).count();
    let matching: Vec<_> = routes
        .iter()
        .filter(|(pattern, _)| {
            pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()))
        })
        .collect();
    // `/v1/incidents/deleted` is its own route, not an `{id}`.
    let most_specific = matching.iter().map(|(p, _)| placeholders(p)).min();
    matching
        .into_iter()
        .filter(|(pattern, _)| Some(placeholders(pattern)) == most_specific)
        .flat_map(|(_, methods)| methods.iter().copied())
        .collect()
}

/// Parses a JSON body; a problem names the JSON path of its field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    from_json(body, &[]).map_err(|error| AppError::InvalidBody(vec![error]))
}

/// The response format: `given` (the `format` parameter), else the first of `Accept`'s media
/// types that `F` offers, if any.
pub fn requested_format<F: TryFrom<Format>>(req: &HttpRequest, given: Option<F>) -> Option<F> {
    given.or_else(|| {
        let accept = req.headers().get(header::ACCEPT)?.to_str().ok()?;
        Format::accepted(accept)
            .into_iter()
            .find_map(|format| F::try_from(format).ok())
    })
}

/// A 200 for a page; with a `Link` to the next page and the first where there is a next.
pub fn page_response(
    req: &HttpRequest,
    cursor: &str,
    next_cursor: Option<&str>,
) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    if let Some(next) = next_cursor {
        response.insert_header((header::LINK, links(req, cursor, next)));
    }
    response
}

/// `Link` to the next page and the first, as absolute URLs: the request's, with the paging
/// parameter `cursor` replaced or removed.
fn links(req: &HttpRequest, cursor: &str, next_cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs.retain(|(name, _)| name != cursor);
    let info = req.connection_info();
    let base = format!("{}://{}{}", info.scheme(), info.host(), req.path());
    let url = |pairs: &[(String, String)]| match serde_urlencoded::to_string(pairs) {
        Ok(query) if !query.is_empty() => format!("{base}?{query}"),
        _ => base.clone(),
    };
    let first = url(&pairs);
    pairs.push((cursor.into(), next_cursor.into()));
    format!("<{}>; rel=\"next\", <{first}>; rel=\"first\"", url(&pairs))
}

//! What wraps every request: request ids and logs, metrics, CORS and rate limits.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_cors::Cors;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use actix_web::{web, ResponseError};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

use crate::api::auth::valid_key_id;
use crate::api::AppState;
use crate::config::Config;
use crate::error::AppError;

/// Who a rate limit applies to: the API key when the request carries a valid one, else the
/// address it comes from. Invalid tokens count against their address, so inventing tokens
/// neither adds buckets nor adds quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    Key(i64),
    Address(IpAddr),
}

/// Rate limits per client, shared by every worker.
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<Client>,
    checks: AtomicU64,
}

/// Idle buckets are dropped once every this many checks.
const PRUNE_EVERY: u64 = 4096;

/// Paths a load balancer probes: never limited, or a busy client would take a healthy
/// instance out of rotation.
const PROBES: [&str; 2] = ["/healthz", "/readyz"];

impl RateLimit {
    /// The rate limit of `config`; `None` when it is off.
    pub fn of(config: &Config) -> Option<RateLimit> {
        let rate = NonZeroU32::new(config.rate_limit_per_second)?;
        let burst = NonZeroU32::new(config.rate_limit_burst).unwrap_or(NonZeroU32::MIN);
        Some(RateLimit {
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            checks: AtomicU64::new(0),
        })
    }

    /// Counts a request of `client`; `Err` with the seconds to wait when it is over its rate.
    pub fn check(&self, client: Client) -> Result<(), u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// How many clients have a bucket.
    pub fn clients(&self) -> usize {
        self.limiter.len()
    }
}

/// Each request's span: its request id, which every line logged while serving it carries.
/// The one line about the request itself is `log_request`'s, so the span logs nothing when
/// it ends.
pub struct RequestSpans;

impl RootSpanBuilder for RequestSpans {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request.extensions().get::<RequestId>().copied();
        tracing::info_span!("request", id = %id.map(|id| id.to_string()).unwrap_or_default())
    }

    fn on_request_end<B: MessageBody>(_: Span, _: &Result<ServiceResponse<B>, actix_web::Error>) {}
}

/// The name of the key a request authenticated with, for the log.
#[derive(Debug, Clone)]
pub struct KeyName(pub String);

/// Logs every completed request once (method, route, status, duration, request id, key name)
/// and sends its request id back as `X-Request-Id`.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let id = req.extensions().get::<RequestId>().copied();
    let mut response = next.call(req).await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unrouted".into());
    let key = response.request().extensions().get::<KeyName>().cloned();
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let request_id = id.map(|id| id.to_string()).unwrap_or_default();
    tracing::info!(
        %method,
        %route,
        status,
        elapsed_ms = format!("{elapsed_ms:.1}"),
        key = key.as_ref().map_or("", |k| k.0.as_str()),
        "served"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

/// Answers `HEAD` as the `GET` of the same URL (the server sends its headers, not its body):
/// GDAL's `/vsicurl/`, which QGIS uses, starts with `HEAD`. The request keeps `Head` among its
/// extensions, for handlers whose headers depend on it (an export's length).
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
        req.extensions_mut().insert(Head);
    }
    next.call(req).await
}

/// Answers 429 with `Retry-After` to a client over its rate; the probes pass.
pub async fn limit_rate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let limit = state.as_ref().and_then(|state| state.rate_limit.as_ref());
    if let Some(limit) = limit.filter(|_| !PROBES.contains(&req.path())) {
        let client = match valid_key_id(req.request()).await {
            Some(id) => Some(Client::Key(id)),
            None => req.peer_addr().map(|peer| Client::Address(peer.ip())),
        };
        if let Some(Err(seconds)) = client.map(|client| limit.check(client)) {
            let response = AppError::TooManyRequests(seconds).error_response();
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Marks a `HEAD` request answered as its `GET`.
#[derive(Debug, Clone, Copy)]
pub struct Head;

/// Read-only mode: every request whose method may write (all but GET, HEAD, OPTIONS and
/// TRACE) answers 503 before its key, rate or body is looked at, so no write reaches the
/// primary and every client learns why alike.
pub async fn refuse_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if req.method().is_safe() {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let response = AppError::ReadOnly.error_response();
    Ok(req.into_response(response).map_into_right_body())
}

/// Request counts and latencies per route, shared by every worker; `GET /metrics` serves
/// them (see `api::health`), behind a key when reads need one.
pub fn metrics() -> anyhow::Result<PrometheusMetrics> {
    PrometheusMetricsBuilder::new("incidentdb")
        .mask_unmatched_patterns("UNMATCHED")
        .build()
        .map_err(|e| anyhow::anyhow!(e))
}

/// CORS for the configured origins (`*`: any); none configured: no CORS headers, so browsers
/// keep to the same origin.
pub fn cors(config: &Config) -> Cors {
    let cors = Cors::default()
        .allow_any_method()
        .allow_any_header()
        .expose_headers(["Link", "ETag", "Location", "X-Request-Id", "Retry-After"])
        .max_age(3600);
    if config.cors_origins.iter().any(|o| o == "*") {
        cors.allow_any_origin().send_wildcard()
    } else {
        config
            .cors_origins
            .iter()
            .fold(cors, |cors, origin| cors.allowed_origin(origin))
    }
}

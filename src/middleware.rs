//! What wraps every request: request ids and logs, metrics, CORS and rate limits.

use actix_cors::Cors;
use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::governor::middleware::NoOpMiddleware;
use actix_governor::governor::NotUntil;
use actix_governor::{
    GovernorConfig, GovernorConfigBuilder, KeyExtractor, SimpleKeyExtractionError,
};
use actix_web::dev::ServiceRequest;
use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};

use crate::config::Config;
use crate::error::AppError;

/// Who a rate limit applies to: the API key when the request carries one, else the address
/// it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Client {
    Key(String),
    Address(std::net::IpAddr),
}

/// Longest bearer token kept as a rate-limit key; longer ones cannot be valid and count
/// against their address.
const LONGEST_TOKEN: usize = 128;

#[derive(Debug, Clone, Copy)]
pub struct ClientKey;

impl KeyExtractor for ClientKey {
    type Key = Client;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<Client, Self::KeyExtractionError> {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .filter(|token| token.len() <= LONGEST_TOKEN);
        match (token, req.peer_addr()) {
            (Some(token), _) => Ok(Client::Key(token.to_string())),
            (None, Some(peer)) => Ok(Client::Address(peer.ip())),
            (None, None) => Err(SimpleKeyExtractionError::new("no client address")),
        }
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        _response: HttpResponseBuilder,
    ) -> HttpResponse {
        let wait = negative.wait_time_from(DefaultClock::default().now());
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AppError::TooManyRequests(seconds).error_response()
    }
}

/// The rate limit of `config`, shared by every worker; `None` when it is off.
pub fn rate_limit(
    config: &Config,
) -> Option<GovernorConfig<ClientKey, NoOpMiddleware<QuantaInstant>>> {
    if config.rate_limit_per_second == 0 {
        return None;
    }
    GovernorConfigBuilder::default()
        .requests_per_second(u64::from(config.rate_limit_per_second))
        .burst_size(config.rate_limit_burst.max(1))
        .key_extractor(ClientKey)
        .finish()
}

/// Request counts and latencies per route, served at `/metrics`; shared by every worker.
pub fn metrics() -> Result<PrometheusMetrics, String> {
    PrometheusMetricsBuilder::new("incidentdb")
        .endpoint("/metrics")
        .mask_unmatched_patterns("UNMATCHED")
        .build()
        .map_err(|e| e.to_string())
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

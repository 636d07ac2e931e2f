//! The HTTP API: one module per resource, registered in one place.

pub mod auth;
pub mod health;
pub mod imports;
pub mod incidents;
pub mod regions;
pub mod stats;

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use serde::de::DeserializeOwned;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::Config;
use crate::db::{DbConnection, DbPool};
use crate::error::{AppError, AppResult, FieldError};
use crate::query::export::Format;
use crate::query::Params;

/// What every handler shares.
pub struct AppState {
    pub pool: DbPool,
    pub config: Config,
}

impl AppState {
    /// Runs `work` on a pooled connection on the blocking thread pool, off the async workers.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }
}

/// Registers every route.
pub fn configure(config: &mut ServiceConfig) {
    health::configure(config);
    incidents::configure(config);
    imports::configure(config);
    regions::configure(config);
    stats::configure(config);
}

/// Parses a JSON body; every problem names the JSON path of its field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        AppError::InvalidBody(vec![FieldError::new(field, e.into_inner().to_string())])
    })?;
    deserializer
        .end()
        .map_err(|e| AppError::field("", e.to_string()))?;
    Ok(value)
}

/// The response format: the `format` parameter, else the first of ours that `Accept` names,
/// else JSON. Only `allowed` formats are accepted.
pub fn requested_format(
    req: &HttpRequest,
    params: &mut Params,
    allowed: &[Format],
) -> AppResult<Format> {
    let not_allowed = |format: Format| {
        let names: Vec<&str> = allowed.iter().map(|f| f.extension()).collect();
        format!(
            "{} is not available here; expected {}",
            format.extension(),
            names.join(", ")
        )
    };
    if let Some(format) = params.take_parsed("format", |text| {
        let format = Format::parse(text)?;
        if allowed.contains(&format) {
            Ok(format)
        } else {
            Err(not_allowed(format))
        }
    })? {
        return Ok(format);
    }
    let accepted = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .and_then(Format::from_accept)
        .filter(|format| allowed.contains(format));
    Ok(accepted.unwrap_or_default())
}

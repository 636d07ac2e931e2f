//! `POST /v1/imports`: a dataset file as the request body, streamed into the importer.

use std::io::{self, Read};

use actix_web::web::Bytes;
use actix_web::{post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::Caller;
use super::AppState;
use crate::db::keys::Role;
use crate::error::{AppError, AppResult, Problem};
use crate::import::writer::{import, ImportOptions, ImportReport, OnError};
use crate::import::Format;
use crate::query::Params;

pub fn configure(config: &mut ServiceConfig) {
    config.service(create_import);
}

/// How to read the body.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; `create_import` reads them
pub struct ImportParams {
    /// The file's format.
    #[param(inline)]
    format: Format,
    /// The dataset the rows belong to; default: `acled`, `ucdp`, `gtd`, or for NDJSON each
    /// row's own `dataset` (else `manual`).
    #[param(example = "acled")]
    dataset: Option<String>,
    /// `abort` (default): any invalid row → 422 and nothing written. `skip`: valid rows are
    /// written, invalid ones reported.
    #[param(inline)]
    on_error: Option<OnError>,
}

/// Chunks of the request body, read on the blocking thread as it arrives.
struct BodyReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

fn options(req: &HttpRequest) -> AppResult<ImportOptions> {
    let mut params = Params::parse(req.query_string())?;
    let format = params
        .take_parsed("format", |text| {
            crate::db::incidents::enum_parse::<Format>(&text.to_lowercase()).ok_or_else(|| {
                format!("unknown format {text:?}; expected acled, ucdp, gtd or ndjson")
            })
        })?
        .ok_or_else(|| AppError::parameter("format", "required: acled, ucdp, gtd or ndjson"))?;
    let dataset = params.take("dataset");
    let on_error = params
        .take_parsed("on_error", |text| {
            crate::db::incidents::enum_parse::<OnError>(&text.to_lowercase())
                .ok_or_else(|| format!("expected abort or skip, got {text:?}"))
        })?
        .unwrap_or_default();
    params.finish()?;
    Ok(ImportOptions {
        format,
        dataset,
        on_error,
    })
}

/// Import a dataset file (the request body, streamed: files larger than memory are fine).
/// Re-importing the same file changes nothing: rows are matched on dataset + external_id,
/// changed rows are updated and their version bumped. Needs an editor key.
#[utoipa::path(
    tag = "imports",
    params(ImportParams),
    request_body(content = String, content_type = "text/csv", description = "The file: CSV for acled, ucdp and gtd; NDJSON for ndjson"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The import report", body = ImportReport),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not write", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than INCIDENTDB_MAX_IMPORT_BYTES; nothing was written with on_error=abort", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "on_error=abort and some rows are invalid: every bad row with its line, field and reason; nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/imports")]
async fn create_import(
    req: HttpRequest,
    mut body: web::Payload,
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<HttpResponse> {
    caller.require(Role::Editor)?;
    let options = options(&req)?;
    let limit = state.config.max_import_bytes;
    let (sender, chunks) = mpsc::channel(8);
    let reader = BodyReader {
        chunks,
        current: Bytes::new(),
    };
    let importing = state.run_long(move |pool| {
        let mut conn = pool.get()?;
        import(&mut conn, reader, &options, |_| {})
    });
    let feeding = async move {
        let mut received = 0usize;
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
            received += chunk.as_ref().map_or(0, |c| c.len());
            let too_large = received > limit;
            let message = if too_large {
                Err(io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    "body too large",
                ))
            } else {
                chunk
            };
            if sender.send(message).await.is_err() || too_large {
                return too_large;
            }
        }
        false
    };
    let (report, too_large) = futures_util::future::join(importing, feeding).await;
    if too_large {
        return Err(AppError::PayloadTooLarge(limit));
    }
    Ok(HttpResponse::Ok().json(report?))
}

//! `POST /v1/imports`: a dataset file as the request body, streamed into the importer.

use std::io::{self, Read};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::history::change;
use super::Call;
use crate::db::keys::ApiKey;
use crate::db::keys::Role;
use crate::db::Backend;
use crate::error::{AppError, AppResult, Problem, WriteProblems};
use crate::import::writer::{
    import, search_vectors, ImportOptions, ImportReport, OnConflict, OnError, Vectorize,
};
use crate::import::Format;
use crate::model::history::{Change, ChangeKind};
use crate::model::incident::IncidentBody;
use crate::query::Params;

pub fn configure(config: &mut ServiceConfig) {
    config.service(create_import);
}

/// How to read the body.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The file's format.
    #[param(inline)]
    format: Format,
    /// The dataset the rows belong to; default: `acled`, `ucdp`, `gtd`, or for NDJSON each
    /// row's own `dataset` (else `manual`). Example: `acled`.
    dataset: Option<String>,
    /// `abort` (default): any invalid row → 422 and nothing written. `skip`: valid rows are
    /// written, invalid ones reported.
    #[param(inline)]
    on_error: Option<OnError>,
    /// For rows whose incident was changed through the API since it was imported: `keep`
    /// (default) keeps those changes and takes the source's other fields, `overwrite` takes the
    /// source row as it is. Either way the report lists them under `conflicts`.
    #[param(inline)]
    on_conflict: Option<OnConflict>,
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

fn options(req: &HttpRequest, key: &ApiKey) -> AppResult<ImportOptions> {
    let ImportParams {
        format,
        dataset,
        on_error,
        on_conflict,
    } = Params::only(req.query_string())?;
    let Change { by, reason, .. } = change(req, key, ChangeKind::Import)?;
    Ok(ImportOptions {
        format,
        dataset: dataset.filter(|d| !d.is_empty()),
        on_error: on_error.unwrap_or_default(),
        on_conflict: on_conflict.unwrap_or_default(),
        by,
        reason,
    })
}

/// Import a dataset file.
///
/// The request body, streamed: files larger than memory are fine. Re-importing the same file
/// changes nothing: rows are matched on dataset + external_id, changed rows are updated and
/// their version bumped. Corrections made through the API since a row was imported are kept
/// (`on_conflict`). Needs an editor key; the history records its name and `X-Change-Reason`.
#[utoipa::path(
    tag = "imports",
    params(
        ImportParams,
        ("X-Change-Reason" = Option<String>, Header, description = "Why: recorded in the history of every incident the import writes"),
    ),
    request_body(description = "The file: CSV for acled, ucdp and gtd; NDJSON (the incident input shape, or an NDJSON export, a line each) for ndjson",
        content(
            (String = "text/csv"),
            (IncidentBody = "application/x-ndjson"),
        )),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The import report", body = ImportReport),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body sent nothing for INCIDENTDB_IMPORT_IDLE_SECONDS; nothing was written with on_error=abort", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than INCIDENTDB_MAX_IMPORT_BYTES; nothing was written with on_error=abort", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "on_error=abort and some rows are invalid: the first 1000 problems with their line, field and reason, and `error_count`; nothing was written", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/v1/imports")]
async fn create_import(body: web::Payload, call: Call) -> AppResult<HttpResponse> {
    let options = options(&call.req, call.caller.require(Role::Editor)?)?;
    let state = &call.state;
    let _permit = state.imports.clone().try_acquire_owned().map_err(|_| {
        AppError::Http(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{} imports are running, the most this server runs at once; retry when one ends",
                state.config.max_imports
            ),
        )
    })?;
    let (sender, chunks) = mpsc::channel(8);
    let reader = BodyReader {
        chunks,
        current: Bytes::new(),
    };
    let postgres = Backend::of(&state.config.database_url) == Backend::Postgres;
    let importing = state.run_long(move |pool| {
        // PostgreSQL: the rows' full-text vectors are computed ahead on a pooled connection
        // for a batch at a time (see `db::bulk::search_vectors`), when another stays idle for
        // requests; else the database computes them as it writes.
        let vectorize: Option<Vectorize> = postgres.then(|| {
            let pool = pool.clone();
            Box::new(move |texts: &[String]| {
                if pool.state().idle_connections < 2 {
                    return None;
                }
                search_vectors(&mut *pool.try_get()?, texts)
            }) as _
        });
        import(|| Ok(pool.get()?), vectorize, reader, &options, |_| {})
    });
    let feeding = feed(
        body,
        sender,
        state.config.max_import_bytes,
        state.config.import_idle_timeout,
    );
    let (report, fed) = futures_util::future::join(importing, feeding).await;
    fed?;
    Ok(HttpResponse::Ok().json(report?))
}

/// Sends the body's chunks to the importer until it ends; a body larger than `limit` is a
/// 413, one that sends nothing for `idle` a 408 (the importer sees an error either way, so
/// an `abort` import writes nothing).
async fn feed(
    mut body: web::Payload,
    sender: mpsc::Sender<io::Result<Bytes>>,
    limit: usize,
    idle: Duration,
) -> AppResult<()> {
    let mut received = 0usize;
    loop {
        let chunk = match actix_web::rt::time::timeout(idle, body.next()).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Ok(()),
            Err(_) => {
                let _ = sender
                    .send(Err(io::Error::new(io::ErrorKind::TimedOut, "body idle")))
                    .await;
                return Err(AppError::Http(
                    StatusCode::REQUEST_TIMEOUT,
                    format!("the body sent nothing for {} s", idle.as_secs()),
                ));
            }
        };
        let chunk = chunk.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
        received += chunk.as_ref().map_or(0, |c| c.len());
        if received > limit {
            let _ = sender
                .send(Err(io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    "body too large",
                )))
                .await;
            return Err(AppError::PayloadTooLarge(limit));
        }
        if sender.send(chunk).await.is_err() {
            return Ok(());
        }
    }
}

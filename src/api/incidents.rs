//! `/v1/incidents`: list, read, create, change and delete incidents.

use std::fmt::Write as _;

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::ResponseError;
use actix_web::{
    delete, get, patch, post, web, HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::mpsc;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::conditional::{if_match, if_none_match, Tags};
use super::history::change;
use super::{page_response, parse_json, requested_format, spawn_long, AppState, Call};
use crate::db::history;
use crate::db::incidents as store;
use crate::db::keys::Role;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, Problem, ReadProblems, WriteProblems};
use crate::middleware::Head;
use crate::model::history::{micros, ChangeKind};
use crate::model::incident::{Incident, IncidentBody};
use crate::model::validate::{validate, ValidIncident, DEFAULT_DATASET};
use crate::param_name;
use crate::query::export::{self, ExportParams, Format, ListRequest, Writer};
use crate::query::filter::FilterParams;
use crate::query::page::PageParams;
use crate::query::params::Timestamp;
use crate::query::{self, Filter, Page, Params};

/// The header that states the time an "as of" answer reflects, where the body cannot.
pub const AS_OF_HEADER: &str = "X-As-Of";

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(list_incidents)
        .service(list_deleted)
        .service(get_incident)
        .service(create_incident)
        .service(patch_incident)
        .service(delete_incident);
}

/// List or export incidents.
///
/// The incidents matching the filters, newest first by default, a page at a time with cursor
/// pagination (`Link` has the next and first pages); or every match exported as CSV, GeoJSON or
/// NDJSON (`format` or `Accept`).
#[utoipa::path(
    tag = "incidents",
    params(FilterParams, PageParams, ExportParams),
    responses(
        (status = 200, description = "A page of incidents (`Link: <...>; rel=\"next\"` points to the next), or the export",
            content(
                (IncidentPage = "application/json"),
                (String = "text/csv", example = "id,dataset,external_id,occurred_on,...\n1,manual,,2020-11-21,...\n"),
                (Object = "application/geo+json", example = json!({"type": "FeatureCollection", "omitted_without_coordinates": 0, "features": [{"type": "Feature", "id": 1, "geometry": {"type": "Point", "coordinates": [69.17, 34.53]}, "properties": {"id": 1}}]})),
                (IncidentBody = "application/x-ndjson"),
            ),
            headers(
                ("X-Omitted-Without-Coordinates" = i64, description = "GeoJSON only: matching incidents left out for lack of coordinates"),
                ("X-As-Of" = String, description = "Exports with `as_of` or `release`: the time the answer reflects"),
            )),
        (status = 206, description = "Exports: the byte range asked for with `Range` (exports up to 64 MiB; `HEAD` gives their `Content-Length`), as GDAL's `/vsicurl/` reads"),
        (status = 416, description = "Exports: a `Range` past the end", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    )
)]
#[get("/v1/incidents")]
async fn list_incidents(call: Call) -> AppResult<HttpResponse> {
    let Call { req, state, .. } = call;
    let ListRequest {
        mut filter,
        page,
        format,
        shape,
    } = ListRequest::parse(req.query_string())?;
    let format = requested_format(&req, format).unwrap_or_default();
    if format != Format::Json {
        return export(&req, &state, filter, page, Writer { format, shape }).await;
    }
    let (body, next_cursor) = state
        .read(move |conn| {
            filter.resolve(conn)?;
            let listing = query::list(conn, &filter, &page)?;
            if listing.incidents.is_empty() && page.cursor.is_none() {
                filter.check_vocabularies()?;
            }
            let next_cursor = listing.next_cursor.as_ref().map(|c| page.encode(c));
            Ok((page_body(&listing, next_cursor.as_deref()), next_cursor))
        })
        .await?;
    Ok(page_response(
        &req,
        param_name!(PageParams, cursor),
        next_cursor.as_deref(),
    )
    .content_type(ContentType::json())
    .body(body))
}

// The schema of what `page_body` writes, beside it: the two must agree.
/// A page of incidents.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentPage {
    #[schema(value_type = Vec<Incident>)]
    pub data: Vec<Box<RawValue>>,
    /// Pass as `cursor` to get the next page; null on the last page.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
    /// The number of matching incidents, with `count=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 1)]
    pub total: Option<i64>,
    /// With `as_of` or `release`: the time the answer reflects.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<String>,
}

/// The `IncidentPage` JSON of `listing`, written straight from the stored documents: they are
/// our own serialisation, so parsing them again (even only to check them as raw JSON) would
/// repeat work on every row of every page.
pub fn page_body(listing: &query::Listing, next_cursor: Option<&str>) -> String {
    let documents: usize = listing.incidents.iter().map(|i| i.document.len()).sum();
    let mut out = String::with_capacity(documents + 160 * listing.incidents.len() + 128);
    out.push_str("{\"data\":[");
    for (i, stored) in listing.incidents.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        stored.write_json(&mut out);
    }
    out.push_str("],\"next_cursor\":");
    match next_cursor {
        Some(cursor) => out.push_str(&Value::from(cursor).to_string()),
        None => out.push_str("null"),
    }
    if let Some(total) = listing.total {
        let _ = write!(out, ",\"total\":{total}");
    }
    if let Some(as_of) = listing.as_of {
        let _ = write!(out, ",\"as_of\":\"{}\"", micros::text(as_of));
    }
    out.push('}');
    out
}

/// Streams every incident `filter` matches: the batches are read on a blocking thread and
/// sent through a small bounded channel, so memory stays flat and a slow client slows the
/// reader down instead of filling memory.
async fn export(
    req: &HttpRequest,
    state: &AppState,
    mut filter: Filter,
    page: Page,
    writer: Writer,
) -> AppResult<HttpResponse> {
    let format = writer.format;
    let (filter, omitted) = state
        .read(move |conn| {
            filter.resolve(conn)?;
            let omitted = match format {
                Format::Geojson => query::count_without_coordinates(conn, &filter)?,
                _ => 0,
            };
            Ok((filter, omitted))
        })
        .await?;
    let as_of = filter.as_of;
    let (sender, mut receiver) = mpsc::channel::<Result<web::Bytes, std::io::Error>>(4);
    let connect = state.reader();
    spawn_long(move || {
        let send = |bytes: Vec<u8>| sender.blocking_send(Ok(web::Bytes::from(bytes))).is_ok();
        if let Err(error) = export::write_all(connect, &filter, page, writer, omitted, send) {
            tracing::error!(%error, "export stopped");
            let _ = sender.blocking_send(Err(std::io::Error::other("export stopped")));
        }
    })?;
    let mut response = HttpResponse::Ok();
    response.content_type(format.content_type()).insert_header((
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"incidents.{}\"", format.extension()),
    ));
    if format == Format::Geojson {
        response.insert_header(("X-Omitted-Without-Coordinates", omitted.to_string()));
    }
    if let Some(as_of) = as_of {
        response.insert_header((AS_OF_HEADER, micros::text(as_of)));
    }
    let mut read = web::BytesMut::new();
    // A few at a time, as each holds its export in memory; the others stream.
    let sizing = (req.extensions().contains::<Head>() || req.headers().contains_key(header::RANGE))
        .then(|| SIZED_EXPORTS.try_acquire().ok())
        .flatten();
    if sizing.is_some() {
        while let Some(chunk) = receiver.recv().await {
            read.extend_from_slice(&chunk.map_err(AppError::internal)?);
            if read.len() > MAX_SIZED_EXPORT {
                break;
            }
        }
        if read.len() <= MAX_SIZED_EXPORT {
            return Ok(ranged(req, response, read.freeze()));
        }
    }
    let rest = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let read = futures_util::stream::iter((!read.is_empty()).then(|| Ok(read.freeze())));
    Ok(response.streaming(read.chain(rest)))
}

/// The largest export answered with its length, to `HEAD` and to `Range` requests; larger
/// ones stream as every other export does.
const MAX_SIZED_EXPORT: usize = 64 << 20;

/// Exports held in memory to be sized at once (per process): at most 2 × 64 MiB.
static SIZED_EXPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A whole export with its length and `Accept-Ranges`, or the one byte range asked for (206),
/// as GDAL's `/vsicurl/` reads a file: it asks for the size, then for ranges. Several ranges
/// get the whole body (a server may ignore `Range`); a range past the end is a 416.
fn ranged(req: &HttpRequest, mut response: HttpResponseBuilder, body: web::Bytes) -> HttpResponse {
    response.insert_header((header::ACCEPT_RANGES, "bytes"));
    let total = body.len() as u64;
    let asked = req
        .headers()
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<header::Range>().ok());
    let Some(header::Range::Bytes(specs)) = asked.filter(|_| total > 0) else {
        return response.body(body);
    };
    let [spec] = specs.as_slice() else {
        return response.body(body);
    };
    match spec.to_satisfiable_range(total) {
        Some((start, end)) => response
            .status(StatusCode::PARTIAL_CONTENT)
            .insert_header((
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{total}"),
            ))
            .body(body.slice(start as usize..=end as usize)),
        None => {
            let mut refused = AppError::Http(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the export has {total} bytes"),
            )
            .error_response();
            if let Ok(value) = header::HeaderValue::from_str(&format!("bytes */{total}")) {
                refused.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            refused
        }
    }
}

/// Deletions since a time, for mirrors.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedPage {
    /// Every incident deleted at or after `since`, oldest deletion first.
    pub data: Vec<store::DeletedIncident>,
    /// The server's time when the feed was read: pass it (less a safety margin, see the
    /// README's sync recipe) as the next `since` and `updated_since`.
    #[serde(with = "crate::model::incident::utc_timestamp")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-24T12:00:00Z")]
    pub as_of: chrono::NaiveDateTime,
}

/// When the deletions start.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeletedParams {
    /// RFC 3339 timestamp; only deletions at or after it. Omitted: every deletion.
    /// Example: `2026-11-24T00:00:00Z`.
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
}

/// Deleted incidents.
///
/// The change feed of deletions: what a mirror removes. Changes and additions come from
/// `GET /v1/incidents?updated_since=`.
#[utoipa::path(
    tag = "incidents",
    params(DeletedParams),
    responses(
        (status = 200, description = "The deletions", body = DeletedPage),
        ReadProblems,
    )
)]
#[get("/v1/incidents/deleted")]
async fn list_deleted(call: Call) -> AppResult<HttpResponse> {
    let since = Params::only::<DeletedParams>(call.req.query_string())?.since;
    let since = since.map(|t| t.0);
    let as_of = store::now();
    let data = call
        .state
        .read(move |conn| Ok(store::deleted_since(conn, since)?))
        .await?;
    Ok(HttpResponse::Ok().json(DeletedPage { data, as_of }))
}

/// Which version of an incident to read: the current one by default.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentParams {
    /// That version (see its history), a deleted incident's earlier ones included.
    /// Example: `2`.
    #[param(minimum = 1)]
    pub version: Option<u32>,
    /// The version current at this RFC 3339 time (not in the future), as `as_of` on the list;
    /// `X-As-Of` states it. Not with `version`. Example: `2026-11-01T00:00:00Z`.
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

/// One incident.
///
/// The `ETag` is its version, for `If-Match` on PATCH and DELETE and `If-None-Match` here.
/// `version` or `as_of` read an earlier version.
#[utoipa::path(
    tag = "incidents",
    params(
        ("id" = i64, Path, description = "Incident id. Example: `1`."),
        IncidentParams,
        ("If-None-Match" = Option<String>, Header, description = "ETags the client holds; a match answers 304 without a body"),
    ),
    responses(
        (status = 200, description = "The incident", body = Incident, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified: the client's copy is current", headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "No incident has this id (or had it at `as_of`, or has this `version`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`version` is the incident's deletion", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    )
)]
#[get("/v1/incidents/{id}")]
async fn get_incident(path: web::Path<i64>, call: Call) -> AppResult<HttpResponse> {
    let Call { req, state, .. } = call;
    let id = path.into_inner();
    let IncidentParams { version, as_of } = Params::only(req.query_string())?;
    if let Some(version) = version {
        if as_of.is_some() {
            return Err(AppError::parameter(
                param_name!(IncidentParams, as_of),
                "give either version or as_of, not both",
            ));
        }
        return incident_version(&state, id, version).await;
    }
    let as_of = Filter::try_from(FilterParams {
        as_of,
        ..FilterParams::default()
    })?
    .as_of;
    let unchanged_for = if_none_match(&req)?;
    let incident = state
        .run(move |conn| {
            let missing = || match as_of {
                Some(time) => {
                    AppError::NotFound(format!("incident {id} as of {}", micros::text(time)))
                }
                None => AppError::NotFound(format!("incident {id}")),
            };
            history::find_at(conn, id, as_of)?.ok_or_else(missing)
        })
        .await?;
    if unchanged_for.is_some_and(|tags| tags.match_weakly(incident.version)) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(&incident)))
            .finish());
    }
    let mut response = HttpResponse::Ok();
    if let Some(as_of) = as_of {
        response.insert_header((AS_OF_HEADER, micros::text(as_of)));
    }
    Ok(with_etag(response, &incident))
}

/// Version `version` of incident `id`; a deletion's version is 404, saying so.
async fn incident_version(state: &AppState, id: i64, version: u32) -> AppResult<HttpResponse> {
    let version = i32::try_from(version).unwrap_or(i32::MAX);
    let found = state
        .run(move |conn| Ok(history::version(conn, id, version)?))
        .await?;
    match found {
        Some(found) if found.change == ChangeKind::Delete => Err(AppError::Http(
            StatusCode::GONE,
            format!("incident {id} was deleted: version {version} is its deletion"),
        )),
        Some(found) => Ok(HttpResponse::Ok()
            .insert_header((header::ETAG, format!("\"{version}\"")))
            .content_type(ContentType::json())
            .body(found.incident.get().to_string())),
        None => Err(AppError::NotFound(format!(
            "incident {id} has no version {version}"
        ))),
    }
}

/// Create an incident.
///
/// Needs an editor key. `dataset` + `external_id` must be unique (else 409).
#[utoipa::path(
    tag = "incidents",
    params(
        ("X-Change-Reason" = Option<String>, Header, description = "Why: recorded in the incident's history (at most 1000 characters)"),
    ),
    request_body(content = IncidentBody, description = "The incident; `dataset` defaults to `manual`; an `external_id` is assigned (a UUID) when none is given"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names it", body = Incident,
            headers(("Location" = String, description = "URL of the new incident"), ("ETag" = String, description = "The version, quoted"))),
        (status = 409, description = "An incident with this dataset and external_id exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named by its JSON path", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/v1/incidents")]
async fn create_incident(body: web::Bytes, call: Call) -> AppResult<HttpResponse> {
    let key = call.caller.require(Role::Editor)?;
    let change = change(&call.req, key, ChangeKind::Create)?;
    let valid = validated(parse_json(&body)?)?;
    let incident = call
        .state
        .write(move |conn| {
            let id = store::insert(conn, &valid, &change)?;
            find(conn, id)
        })
        .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/incidents/{}", incident.id)));
    Ok(with_etag(response, &incident))
}

/// The headers of a change or deletion of a stored incident (read by `if_match` and
/// `change`).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ChangeHeaders {
    /// The ETag the change is based on. Example: `"1"`.
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
    /// Why: recorded in the incident's history (at most 1000 characters)
    #[param(rename = "X-Change-Reason")]
    pub reason: Option<String>,
}

/// What a change or deletion of a stored incident can answer besides `WriteProblems`.
#[derive(utoipa::IntoResponses)]
pub enum StoredIncidentProblems {
    /// The id is not an integer
    #[response(status = 400, content_type = "application/problem+json")]
    InvalidId(Problem),
    /// No incident has this id
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// If-Match does not match the current version
    #[response(status = 412, content_type = "application/problem+json")]
    PreconditionFailed(Problem),
}

/// Change an incident.
///
/// A JSON merge patch (RFC 7396) of the incident: fields given replace, `null` removes,
/// arrays are replaced whole. `If-Match` with the `ETag` guards against lost updates. Needs
/// an editor key.
#[utoipa::path(
    tag = "incidents",
    params(
        ("id" = i64, Path, description = "Incident id. Example: `1`."),
        ChangeHeaders,
    ),
    request_body(content = Object, content_type = "application/merge-patch+json",
        example = json!({"casualties": {"killed": {"high": 10}}, "perpetrators": [{"name": "Islamic State", "claim": "claimed"}]})),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed incident", body = Incident, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 409, description = "The change collides with another incident's dataset and external_id", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The patched incident is invalid", body = Problem, content_type = "application/problem+json"),
        StoredIncidentProblems,
        WriteProblems,
    )
)]
#[patch("/v1/incidents/{id}")]
async fn patch_incident(
    path: web::Path<i64>,
    body: web::Bytes,
    call: Call,
) -> AppResult<HttpResponse> {
    let key = call.caller.require(Role::Editor)?;
    let change = change(&call.req, key, ChangeKind::Update)?;
    let id = path.into_inner();
    let patch: Value = parse_json(&body)?;
    if !patch.is_object() {
        return Err(AppError::field("", "a merge patch must be a JSON object"));
    }
    let expected = if_match(&call.req)?;
    let incident = call
        .state
        .write(move |conn| {
            let current = find(conn, id)?;
            // An invalid change is a 422 whatever version it was meant for.
            let valid = validated(patched(&current, &patch)?)?;
            check_version(&current, expected.as_ref())?;
            if valid.body() == &current.body {
                // Nothing changes: no new version, no history entry to explain.
                return Ok(current);
            }
            store::replace(conn, id, current.version, &valid, &change)?.ok_or(
                AppError::PreconditionFailed {
                    current: current.version + 1,
                    expected: current.version.to_string(),
                },
            )?;
            find(conn, id)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), &incident))
}

/// Delete an incident.
///
/// It then appears in the change feed of deletions. `If-Match` is honoured. Needs an editor
/// key.
#[utoipa::path(
    tag = "incidents",
    params(
        ("id" = i64, Path, description = "Incident id. Example: `1`."),
        ChangeHeaders,
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        StoredIncidentProblems,
        WriteProblems,
    )
)]
#[delete("/v1/incidents/{id}")]
async fn delete_incident(path: web::Path<i64>, call: Call) -> AppResult<HttpResponse> {
    let key = call.caller.require(Role::Editor)?;
    let change = change(&call.req, key, ChangeKind::Delete)?;
    let id = path.into_inner();
    let expected = if_match(&call.req)?;
    call.state
        .write(move |conn| {
            let current = find(conn, id)?;
            check_version(&current, expected.as_ref())?;
            Ok(store::delete(conn, id, &change)?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn find(conn: &mut DbConnection, id: i64) -> AppResult<Incident> {
    store::find(conn, id)?.ok_or_else(|| AppError::NotFound(format!("incident {id}")))
}

fn validated(input: IncidentBody) -> AppResult<ValidIncident> {
    validate(input, DEFAULT_DATASET).map_err(AppError::InvalidBody)
}

/// `current` with the merge patch applied, read back as input.
fn patched(current: &Incident, patch: &Value) -> AppResult<IncidentBody> {
    let mut document = serde_json::to_value(&current.body).map_err(AppError::internal)?;
    let location = patch.get("location");
    // A new country name must not be overridden by the code of the old country.
    if location.is_some_and(|l| l.get("country").is_some() && l.get("country_code").is_none()) {
        document["location"]["country_code"] = Value::Null;
    }
    json_patch::merge(&mut document, patch);
    parse_json(document.to_string().as_bytes())
}

/// Fails with 412 unless `If-Match`, when given, names the current version (strongly).
fn check_version(current: &Incident, expected: Option<&Tags>) -> AppResult<()> {
    match expected {
        Some(tags) if !tags.match_strongly(current.version) => Err(AppError::PreconditionFailed {
            current: current.version,
            expected: tags.describe(),
        }),
        _ => Ok(()),
    }
}

/// The incident's entity tag: its version, quoted.
fn etag(incident: &Incident) -> String {
    format!("\"{}\"", incident.version)
}

fn with_etag(mut response: actix_web::HttpResponseBuilder, incident: &Incident) -> HttpResponse {
    response.insert_header((header::ETAG, etag(incident)));
    response.json(incident)
}

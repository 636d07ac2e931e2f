//! `/v1/releases`: named, frozen points in time that researchers cite, and verify.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{parse_json, spawn_long, AppState, Call};
use crate::db::keys::Role;
use crate::db::releases::{self, Release};
use crate::error::{AppError, AppResult, Problem, ReadProblems, WriteProblems};
use crate::model::history::micros;
use crate::query::export::{self, ListRequest, Writer};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(create_release)
        .service(list_releases)
        .service(get_release)
        .service(delete_release);
}

/// Longest release name, in characters.
const MAX_NAME_CHARS: usize = 100;

/// A release to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    /// Letters, digits, `.`, `_` and `-`, at most 100: it goes into URLs as it is.
    #[schema(example = "2026-12")]
    pub name: String,
    #[schema(example = "December 2026 release")]
    pub description: Option<String>,
}

/// A release with the citation that names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseView {
    #[serde(flatten)]
    pub release: Release,
    /// A ready citation: the release, its time, size and checksum, and where to get it.
    #[schema(
        example = "incidentdb release 2026-12 (as of 2026-12-01T00:00:00.123456Z; 1042 incidents; NDJSON SHA-256 9f86d081…). http://localhost:8080/v1/incidents?format=ndjson&release=2026-12"
    )]
    pub citation: String,
}

impl ReleaseView {
    fn of(release: Release, req: &HttpRequest) -> Self {
        let info = req.connection_info();
        let citation = format!(
            "incidentdb release {} (as of {}; {} incidents; NDJSON SHA-256 {}). {}://{}/v1/incidents?format=ndjson&release={}",
            release.name,
            micros::text(release.as_of),
            release.incidents,
            release.checksum,
            info.scheme(),
            info.host(),
            release.name,
        );
        ReleaseView { release, citation }
    }
}

/// What an operation on a named release can answer besides its own statuses.
#[derive(utoipa::IntoResponses)]
pub enum MissingRelease {
    /// No release has this name
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
}

/// Every release.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseList {
    /// Oldest first.
    pub data: Vec<ReleaseView>,
}

/// Make a release.
///
/// Freezes the current time under a name: `release=NAME` on the list, the exports and the
/// stats then answers as of that time, forever. The checksum is the SHA-256 of the release's
/// NDJSON export, so anyone can verify a copy. Needs an admin key. A release cannot be changed
/// or deleted.
#[utoipa::path(
    tag = "releases",
    request_body = NewRelease,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Made", body = ReleaseView,
            headers(("Location" = String, description = "URL of the release"))),
        (status = 409, description = "A release has this name", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or description", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/v1/releases")]
async fn create_release(body: web::Bytes, call: Call) -> AppResult<HttpResponse> {
    let created_by = call.caller.require(Role::Admin)?.name.clone();
    let new: NewRelease = parse_json(&body)?;
    check_name(&new.name)?;
    check_description(new.description.as_deref())?;
    let name = new.name.clone();
    let as_of = call
        .state
        .write(move |conn| {
            refuse_taken(conn, &name)?;
            Ok(releases::settled_now(conn)?)
        })
        .await?;
    let (incidents, checksum) = checksum(&call.state, as_of).await?;
    let release = Release {
        name: new.name,
        description: new.description,
        as_of,
        incidents,
        checksum,
        created_by,
    };
    let stored = release.clone();
    call.state
        .write(move |conn| {
            refuse_taken(conn, &stored.name)?;
            Ok(releases::insert(conn, &stored)?)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/releases/{}", release.name)))
        .json(ReleaseView::of(release, &call.req)))
}

fn check_name(name: &str) -> AppResult<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || !name.chars().all(allowed) {
        return Err(AppError::field(
            "name",
            format!("1 to {MAX_NAME_CHARS} letters, digits, '.', '_' or '-'"),
        ));
    }
    Ok(())
}

fn check_description(description: Option<&str>) -> AppResult<()> {
    match description {
        Some(text) if text.chars().count() > 2000 => {
            Err(AppError::field("description", "at most 2000 characters"))
        }
        Some(text) if text.contains('\0') => Err(AppError::field(
            "description",
            "must not contain the NUL character (U+0000)",
        )),
        _ => Ok(()),
    }
}

fn refuse_taken(conn: &mut crate::db::DbConnection, name: &str) -> AppResult<()> {
    match releases::find(conn, name)? {
        Some(_) => Err(AppError::Conflict(format!(
            "release {name:?} exists; a release cannot be changed"
        ))),
        None => Ok(()),
    }
}

/// The count of incidents and the SHA-256 of the NDJSON export as of `as_of`: the bytes
/// `GET /v1/incidents?format=ndjson&release=NAME` answers, read from the primary.
async fn checksum(state: &AppState, as_of: chrono::NaiveDateTime) -> AppResult<(i64, String)> {
    let ListRequest {
        filter,
        page,
        shape,
        ..
    } = ListRequest::parse(&format!("as_of={}", micros::text(as_of)))?;
    let writer = Writer {
        format: export::Format::Ndjson,
        shape,
    };
    let pool = state.pool.clone();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    spawn_long(move || {
        let mut hasher = Sha256::new();
        let mut lines = 0i64;
        let connect = || Ok(pool.get()?);
        let written = export::write_all(connect, &filter, page, writer, 0, |bytes| {
            lines += bytes.iter().filter(|&&b| b == b'\n').count() as i64;
            hasher.update(&bytes);
            true
        });
        let _ = sender.send(written.map(|()| (lines, hex(&hasher.finalize()))));
    })?;
    receiver.await.map_err(AppError::internal)?
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every release.
#[utoipa::path(
    tag = "releases",
    responses(
        (status = 200, description = "The releases", body = ReleaseList),
        ReadProblems,
    )
)]
#[get("/v1/releases")]
async fn list_releases(call: Call) -> AppResult<HttpResponse> {
    let all = call.state.run(|conn| Ok(releases::all(conn)?)).await?;
    let data = all
        .into_iter()
        .map(|r| ReleaseView::of(r, &call.req))
        .collect();
    Ok(HttpResponse::Ok().json(ReleaseList { data }))
}

/// One release.
#[utoipa::path(
    tag = "releases",
    params(("name" = String, Path, description = "Release name. Example: `2026-12`.")),
    responses(
        (status = 200, description = "The release", body = ReleaseView),
        MissingRelease,
        ReadProblems,
    )
)]
#[get("/v1/releases/{name}")]
async fn get_release(path: web::Path<String>, call: Call) -> AppResult<HttpResponse> {
    let release = find(&call.state, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ReleaseView::of(release, &call.req)))
}

/// The release named `name`, read from the primary; 404 when there is none.
async fn find(state: &AppState, name: String) -> AppResult<Release> {
    let found = state
        .run(move |conn| Ok(releases::find(conn, &name)?.ok_or(name)))
        .await?;
    found.map_err(|name| AppError::NotFound(format!("release {name:?}")))
}

/// Releases are permanent.
///
/// Always 409 for a release that exists (404 otherwise): what was cited must stay
/// reproducible.
#[utoipa::path(
    tag = "releases",
    params(("name" = String, Path, description = "Release name. Example: `2026-12`.")),
    security(("bearer" = [])),
    responses(
        MissingRelease,
        (status = 409, description = "The release exists and cannot be deleted", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[delete("/v1/releases/{name}")]
async fn delete_release(path: web::Path<String>, call: Call) -> AppResult<HttpResponse> {
    call.caller.require(Role::Admin)?;
    let release = find(&call.state, path.into_inner()).await?;
    Err(AppError::Conflict(format!(
        "release {:?} is permanent: a release cannot be changed or deleted",
        release.name
    )))
}

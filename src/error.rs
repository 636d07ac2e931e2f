//! The one error type of the service, rendered as RFC 9457 `application/problem+json`.

use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::openapi::{response::Response, RefOr};
use utoipa::ToSchema;

use crate::import::writer::RowErrors;

/// A problem with one field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field.
    #[schema(example = "location.latitude")]
    pub field: String,
    #[schema(example = "must be between -90 and 90, got 91")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid parameter `{parameter}`: {message}")]
    InvalidParameter {
        parameter: String,
        message: String,
        suggestions: Vec<String>,
    },
    #[error("invalid request body: {}", describe(.0))]
    InvalidBody(Vec<FieldError>),
    #[error("the import has {} invalid rows; nothing was written", .0.rows)]
    InvalidRows(RowErrors),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("this operation needs the {0} role")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the resource is at version {current}, not {expected}")]
    PreconditionFailed { current: i32, expected: String },
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("too many requests; retry in {0} s")]
    TooManyRequests(u64),
    /// An error the framework answered before our handlers ran (an unknown method, an
    /// unreadable body), with its status and reason.
    #[error("{1}")]
    Http(StatusCode, String),
    #[error("the database is not reachable")]
    Unavailable,
    #[error(
        "the service is in read-only mode for database maintenance (INCIDENTDB_READ_ONLY): \
         writes are refused until it ends, reads work"
    )]
    ReadOnly,
    #[error("the database is busy with another write (a large import?); retry shortly")]
    Busy,
    /// A failure of ours; its source goes to the log, never to the client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    pub fn parameter(parameter: &str, message: impl Into<String>) -> Self {
        AppError::InvalidParameter {
            parameter: parameter.to_string(),
            message: message.into(),
            suggestions: Vec::new(),
        }
    }

    /// A failure of ours, with its cause for the log.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AppError::Internal(source.into())
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::InvalidBody(vec![FieldError::new(field, message)])
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::InvalidParameter { .. } => "Invalid parameter",
            AppError::InvalidBody(_) => "Invalid request body",
            AppError::InvalidRows(_) => "Invalid import rows",
            AppError::Unauthorized(_) => "Unauthorized",
            AppError::Forbidden(_) => "Forbidden",
            AppError::NotFound(_) => "Not found",
            AppError::Conflict(_) => "Conflict",
            AppError::PreconditionFailed { .. } => "Precondition failed",
            AppError::PayloadTooLarge(_) => "Payload too large",
            AppError::TooManyRequests(_) => "Too many requests",
            AppError::Http(status, _) => status.canonical_reason().unwrap_or("HTTP error"),
            AppError::Unavailable | AppError::Busy => "Service unavailable",
            AppError::ReadOnly => "Read-only mode",
            AppError::Internal(_) => "Internal server error",
        }
    }

    /// The problem document for this error. Internal details are logged, never sent.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let mut problem = Problem {
            kind: format!(
                "https://incidentdb.dev/problems/{}",
                self.title().to_lowercase().replace(' ', "-")
            ),
            title: self.title().to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            parameter: None,
            suggestions: None,
            errors: None,
            error_count: None,
        };
        match self {
            AppError::InvalidParameter {
                parameter,
                suggestions,
                ..
            } => {
                problem.parameter = Some(parameter.clone());
                problem.suggestions = (!suggestions.is_empty()).then(|| suggestions.clone());
            }
            AppError::InvalidBody(errors) => {
                problem.errors = Some(
                    errors
                        .iter()
                        .map(|e| ProblemItem {
                            line: None,
                            field: e.field.clone(),
                            message: e.message.clone(),
                        })
                        .collect(),
                );
            }
            AppError::InvalidRows(errors) => {
                problem.error_count = Some(errors.count);
                problem.errors = Some(
                    errors
                        .first
                        .iter()
                        .map(|e| ProblemItem {
                            line: Some(e.line),
                            field: e.field.clone(),
                            message: e.message.clone(),
                        })
                        .collect(),
                );
            }
            _ => {}
        }
        problem
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "https://incidentdb.dev/problems/invalid-parameter",
    "title": "Invalid parameter",
    "status": 400,
    "detail": "invalid parameter `country`: unknown country \"Afghanstan\"",
    "parameter": "country",
    "suggestions": ["Afghanistan"]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The query or path parameter at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The closest known values, for an unknown name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Vec<String>>,
    /// Every invalid field (request bodies), or the first 1000 problems of an import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemItem>>,
    /// Imports: every problem found, of which `errors` lists the first 1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_count: Option<u64>,
}

/// What every read can answer besides its own statuses.
pub type ReadProblems = WithServiceProblems<ReadRefusals>;

/// What every write can answer besides its own statuses.
pub type WriteProblems = WithServiceProblems<WriteRefusals>;

/// The caller's problems with a read (see `ReadProblems`).
#[derive(utoipa::IntoResponses)]
pub enum ReadRefusals {
    /// A parameter (query or path) is invalid; the problem names it
    #[response(status = 400, content_type = "application/problem+json")]
    InvalidParameter(Problem),
    /// A key is needed (INCIDENTDB_READ_REQUIRES_KEY) or the key is invalid
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
}

/// The caller's problems with a write (see `WriteProblems`).
#[derive(utoipa::IntoResponses)]
pub enum WriteRefusals {
    /// No valid API key
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The key's role may not do this
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// The responses of `T` and `ServiceProblems` together: every API operation can answer both,
/// so its `responses(...)` names one type, not two.
pub struct WithServiceProblems<T>(std::marker::PhantomData<T>);

impl<T: utoipa::IntoResponses> utoipa::IntoResponses for WithServiceProblems<T> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = T::responses();
        responses.extend(ServiceProblems::responses());
        responses
    }
}

/// What any operation can answer when the service is saturated.
#[derive(utoipa::IntoResponses)]
pub enum ServiceProblems {
    /// Over the rate limit; retry after `Retry-After` seconds
    #[response(status = 429, content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds to wait")))]
    TooManyRequests(Problem),
    /// The database is unreachable or busy with a write, or INCIDENTDB_MAX_IMPORTS imports
    /// are running
    #[response(status = 503, content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds to wait, when busy")))]
    Unavailable(Problem),
}

/// One invalid field; `line` is set for import rows.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProblemItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 7)]
    pub line: Option<u64>,
    #[schema(example = "location.latitude")]
    pub field: String,
    #[schema(example = "must be between -90 and 90, got 91")]
    pub message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            AppError::InvalidBody(_) | AppError::InvalidRows(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Http(status, _) => *status,
            AppError::Unavailable | AppError::Busy | AppError::ReadOnly => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(source) = self {
            tracing::error!(error = %source, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        match self {
            AppError::Unauthorized(_) => {
                response.insert_header(("WWW-Authenticate", "Bearer"));
            }
            AppError::Busy => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            AppError::TooManyRequests(seconds) => {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => AppError::NotFound("resource".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                AppError::Conflict(format!("a conflicting row exists: {}", info.message()))
            }
            // SQLite's writer lock outlasted the busy timeout: one writer at a time.
            Error::DatabaseError(_, info) if info.message().contains("database is locked") => {
                AppError::Busy
            }
            other => AppError::internal(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(%error, "no database connection");
        AppError::Unavailable
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        AppError::internal(error)
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Turns the error responses the framework makes itself (405, 413 from a body limit, ...)
/// into problem documents like ours; ours pass through untouched. No error body ever
/// carries more than the status and a reason.
pub fn problem_for_plain_errors<B>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value == PROBLEM_JSON);
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let reason = response
        .response()
        .error()
        .filter(|_| status.is_client_error())
        .map(|error| error.to_string())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let (request, _) = response.into_parts();
    let problem = AppError::Http(status, reason).error_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, problem).map_into_right_body(),
    ))
}

const PROBLEM_JSON: &str = "application/problem+json";

//! API keys on requests: `Authorization: Bearer TOKEN`, checked against the stored hashes.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};

use super::AppState;
use crate::db::keys::{self, ApiKey, Role};
use crate::error::{AppError, AppResult};

/// The authenticated caller of a request, when it presented a valid key.
pub struct Caller(pub Option<ApiKey>);

impl Caller {
    /// Fails unless the caller's key has at least `role`.
    pub fn require(&self, role: Role) -> AppResult<&ApiKey> {
        let key = self.0.as_ref().ok_or(AppError::Unauthorized(
            "this operation needs an API key: Authorization: Bearer TOKEN",
        ))?;
        if key.role() < role {
            return Err(AppError::Forbidden(match role {
                Role::Admin => "admin",
                Role::Editor => "editor",
                Role::Reader => "reader",
            }));
        }
        Ok(key)
    }
}

fn bearer_token(req: &HttpRequest) -> AppResult<Option<String>> {
    let Some(header) = req.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let text = header
        .to_str()
        .map_err(|_| AppError::Unauthorized("the Authorization header is not readable"))?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_string()))
        }
        _ => Err(AppError::Unauthorized(
            "expected Authorization: Bearer TOKEN",
        )),
    }
}

async fn authenticate(req: HttpRequest) -> AppResult<Caller> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal("no application state".into()))?
        .clone();
    let Some(token) = bearer_token(&req)? else {
        if state.config.read_requires_key {
            return Err(AppError::Unauthorized(
                "this server needs an API key for every request",
            ));
        }
        return Ok(Caller(None));
    };
    let key = state
        .run(move |conn| Ok(keys::authenticate(conn, &token)?))
        .await?
        .ok_or(AppError::Unauthorized("unknown or revoked API key"))?;
    Ok(Caller(Some(key)))
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Caller>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

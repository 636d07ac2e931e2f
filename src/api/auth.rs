//! API keys on requests: `Authorization: Bearer TOKEN`, checked against the stored hashes.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::RwLock;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::AppState;
use crate::db::keys::{self, ApiKey, Role};
use crate::error::{AppError, AppResult};
use crate::middleware::KeyName;
use crate::model::wire::WireName;

/// The authenticated caller of a request, when it presented a valid key.
pub struct Caller(pub Option<ApiKey>);

impl Caller {
    /// Fails unless the caller's key has at least `role`.
    pub fn require(&self, role: Role) -> AppResult<&ApiKey> {
        let key = self.0.as_ref().ok_or(AppError::Unauthorized(
            "this operation needs an API key: Authorization: Bearer TOKEN",
        ))?;
        if key.role < role {
            return Err(AppError::Forbidden(role.wire_name()));
        }
        Ok(key)
    }
}

/// The keys that authenticated on this instance, by the hash of their token: the rate limit,
/// which runs before any handler, tells a valid key from an invented one without asking the
/// database. It holds at most one entry per stored key.
#[derive(Debug, Default)]
pub struct KnownKeys(RwLock<HashMap<String, i64>>);

impl KnownKeys {
    /// The id of the key whose token is `token`, when it has authenticated here before.
    fn id_of(&self, token: &str) -> Option<i64> {
        let known = self.0.read().ok()?;
        known.get(&keys::hash_token(token)).copied()
    }

    fn remember(&self, token: &str, id: i64) {
        if let Ok(mut known) = self.0.write() {
            known.insert(keys::hash_token(token), id);
        }
    }
}

/// A key the rate limit already authenticated for this request.
#[derive(Clone)]
struct Authenticated(ApiKey);

/// The id of the valid key `req` carries, or `None` (no token, or an invalid one): what the
/// rate limit counts the request against. A token this instance has not seen is looked up,
/// and the key found is kept for the handler, so a request costs one lookup at most.
pub async fn valid_key_id(req: &HttpRequest) -> Option<i64> {
    let token = bearer_token(req).ok()??;
    let state = req.app_data::<web::Data<AppState>>()?;
    if let Some(id) = state.known_keys.id_of(&token) {
        return Some(id);
    }
    let key = look_up(state, token).await.ok()??;
    let id = key.id;
    req.extensions_mut().insert(Authenticated(key));
    Some(id)
}

/// The active key whose token is `token`, remembered when found.
async fn look_up(state: &AppState, token: String) -> AppResult<Option<ApiKey>> {
    let key = state
        .run({
            let token = token.clone();
            move |conn| Ok(keys::authenticate(conn, &token)?)
        })
        .await?;
    if let Some(key) = &key {
        state.known_keys.remember(&token, key.id);
    }
    Ok(key)
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
        .ok_or_else(|| AppError::internal("no application state"))?
        .clone();
    let Some(token) = bearer_token(&req)? else {
        if state.config.read_requires_key {
            return Err(AppError::Unauthorized(
                "this server needs an API key for every request",
            ));
        }
        return Ok(Caller(None));
    };
    if let Some(Authenticated(key)) = req.extensions().get::<Authenticated>().cloned() {
        return Ok(Caller(Some(key)));
    }
    let key = look_up(&state, token)
        .await?
        .ok_or(AppError::Unauthorized("unknown or revoked API key"))?;
    Ok(Caller(Some(key)))
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Caller>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let caller = authenticate(req.clone()).await?;
            if let Some(key) = &caller.0 {
                req.extensions_mut().insert(KeyName(key.name.clone()));
            }
            Ok(caller)
        })
    }
}

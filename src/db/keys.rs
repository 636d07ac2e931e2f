//! API keys: random tokens shown once, stored as SHA-256 hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::incidents::now;
use super::schema::api_keys;
use super::DbConnection;
use crate::wire_enum;

wire_enum! {
    /// What a key may do. Editors write incidents and imports; admins also manage regions.
    #[derive(PartialOrd, Ord, clap::ValueEnum)]
    pub enum Role {
        Reader,
        Editor,
        Admin,
    }
}

/// A stored key, without its token.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// The SHA-256 of a token. Tokens carry 256 random bits, so a fast hash is as safe as a slow
/// one here and keeps the per-request check cheap; the lookup is by hash, so the token itself
/// is never compared byte by byte.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a key and returns its token, which is not stored anywhere.
pub fn create(conn: &mut DbConnection, name: &str, role: Role) -> QueryResult<String> {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!("idb_{}", hex::encode(secret));
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::name.eq(name),
            api_keys::token_hash.eq(hash_token(&token)),
            api_keys::role.eq(role),
            api_keys::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Every key, oldest first.
pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<ApiKey>> {
    api_keys::table
        .order(api_keys::id)
        .select(ApiKey::as_select())
        .load(conn)
}

/// Revokes the key called `name`; false when there is no such active key.
pub fn revoke(conn: &mut DbConnection, name: &str) -> QueryResult<bool> {
    let changed = diesel::update(
        api_keys::table
            .filter(api_keys::name.eq(name))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now()))
    .execute(conn)?;
    Ok(changed > 0)
}

/// The active key whose token is `token`.
pub fn authenticate(conn: &mut DbConnection, token: &str) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .filter(api_keys::token_hash.eq(hash_token(token)))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKey::as_select())
        .first(conn)
        .optional()
}

//! Releases: named, frozen points in time that queries can name instead of a time.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::releases;
use super::time::StoredTime;
use super::DbConnection;

/// A release as stored: what it froze and how to verify it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = releases)]
pub struct Release {
    #[schema(example = "2026-12")]
    pub name: String,
    #[schema(example = "December 2026 release")]
    pub description: Option<String>,
    /// The frozen time: `release=NAME` answers as `as_of` this time.
    #[diesel(deserialize_as = StoredTime)]
    #[serde(with = "crate::model::history::micros")]
    #[schema(value_type = String, format = DateTime)]
    pub as_of: NaiveDateTime,
    /// How many incidents the release holds.
    #[schema(example = 1042)]
    pub incidents: i64,
    /// SHA-256 (hex) of the release's canonical NDJSON: the exact body of
    /// `GET /v1/incidents?format=ndjson&release=NAME`.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub checksum: String,
    /// The API key that made it.
    #[serde(skip)]
    pub created_by: String,
}

/// The release named `name`, if any.
pub fn find(conn: &mut DbConnection, name: &str) -> QueryResult<Option<Release>> {
    releases::table
        .find(name)
        .select(Release::as_select())
        .first(conn)
        .optional()
}

/// Every release, oldest first.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<Release>> {
    releases::table
        .order((releases::as_of, releases::name))
        .select(Release::as_select())
        .load(conn)
}

/// Records `release`; fails with a unique violation when the name is taken.
pub fn insert(conn: &mut DbConnection, release: &Release) -> QueryResult<()> {
    diesel::insert_into(releases::table)
        .values(release)
        .execute(conn)
        .map(drop)
}

/// The current time, taken once every write begun before it has committed, so that a query as
/// of it answers the same later. On SQLite the caller's write transaction already excludes
/// other writers; on PostgreSQL a share lock on `incidents` waits for the writers in progress.
pub fn settled_now(conn: &mut DbConnection) -> QueryResult<NaiveDateTime> {
    if let DbConnection::Postgres(pg) = conn {
        pg.batch_execute("LOCK TABLE incidents IN SHARE MODE")?;
    }
    Ok(super::incidents::now())
}

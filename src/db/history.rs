//! Incidents through time. The current versions live in `incidents`; the versions they
//! replaced, and deletions, in `incident_versions` (written by triggers, see the history
//! migration). An "as of" query is any query over `incidents`, run with `incidents` and
//! `incident_perpetrators` standing for the rows that were current at that time: every filter,
//! sort, cursor and aggregate then answers as it did then, written once for both.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::Timestamp;

use super::incidents::{incident_json, StoredIncident};
use super::schema::{incident_versions, incidents};
use super::time::StoredTime;
use super::{Db, DbConnection};
use crate::model::history::{ChangeKind, Version};
use crate::model::incident::{Incident, IncidentBody};

/// Which versions of incidents a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The current ones (`incidents` as it is).
    Now,
    /// Those current at the time: the current ones not changed since, and the archived ones
    /// current then.
    Timeline(NaiveDateTime),
    /// Of those, the current ones not changed since the time.
    Current(NaiveDateTime),
    /// Of those, the archived ones.
    Archived(NaiveDateTime),
}

impl Scope {
    /// The scope of an answer as of `time`, now when `None`.
    pub fn as_of(time: Option<NaiveDateTime>) -> Scope {
        time.map_or(Scope::Now, Scope::Timeline)
    }
}

/// `query`, run on the versions `scope` names: a common table expression named `incidents`
/// (and one named `incident_perpetrators` where the perpetrators differ) shadows the table
/// within the statement, selecting from the views of the history migrations.
#[derive(Debug, Clone)]
pub struct AsOf<Q> {
    query: Q,
    scope: Scope,
}

impl<Q> AsOf<Q> {
    pub fn new(query: Q, scope: Scope) -> Self {
        AsOf { query, scope }
    }
}

crate::written_query!(AsOf<Q>);

impl<Q: QueryFragment<Db>> QueryFragment<Db> for AsOf<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        // Versions current at the time: begun by then, and not yet replaced.
        fn current_at<'b>(
            out: &mut AstPass<'_, 'b, Db>,
            time: &'b NaiveDateTime,
        ) -> QueryResult<()> {
            out.push_sql(" WHERE valid_from <= ");
            out.push_bind_param::<Timestamp, _>(time)?;
            out.push_sql(" AND (valid_to IS NULL OR valid_to > ");
            out.push_bind_param::<Timestamp, _>(time)?;
            out.push_sql(")");
            Ok(())
        }
        let (versions, perpetrators, time) = match &self.scope {
            Scope::Now => return self.query.walk_ast(out.reborrow()),
            Scope::Timeline(time) => ("incident_timeline", Some("perpetrator_timeline"), time),
            // Unchanged since: the current perpetrators are those of then.
            Scope::Current(time) => ("current_versions", None, time),
            Scope::Archived(time) => ("archived_versions", Some("archived_perpetrators"), time),
        };
        out.push_sql("WITH incidents AS (SELECT * FROM ");
        out.push_sql(versions);
        current_at(&mut out, time)?;
        if let Some(perpetrators) = perpetrators {
            out.push_sql(
                "), incident_perpetrators AS (SELECT id, incident_id, position, name, claim FROM ",
            );
            out.push_sql(perpetrators);
            current_at(&mut out, time)?;
        }
        out.push_sql(") ");
        self.query.walk_ast(out.reborrow())
    }
}

/// An archived version as read.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = incident_versions)]
struct ArchivedVersion {
    id: i64,
    version: i32,
    #[diesel(deserialize_as = StoredTime)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    updated_at: NaiveDateTime,
    document: String,
    change: ChangeKind,
    changed_by: Option<String>,
    change_reason: Option<String>,
    #[diesel(deserialize_as = StoredTime)]
    valid_from: NaiveDateTime,
    valid_to: Option<NaiveDateTime>,
}

/// The current version's provenance, read beside the incident.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = incidents)]
struct CurrentVersion {
    #[diesel(embed)]
    stored: StoredIncident,
    change: ChangeKind,
    changed_by: Option<String>,
    change_reason: Option<String>,
}

impl ArchivedVersion {
    fn into_version(self) -> QueryResult<Version> {
        let json = incident_json(
            self.id,
            &self.document,
            self.version,
            self.created_at,
            self.updated_at,
        );
        Ok(Version {
            version: self.version,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            changed_by: self.changed_by,
            reason: self.change_reason,
            change: self.change,
            incident: raw(json)?,
        })
    }
}

impl CurrentVersion {
    fn into_version(self) -> QueryResult<Version> {
        Ok(Version {
            version: self.stored.version,
            valid_from: self.stored.updated_at,
            valid_to: None,
            changed_by: self.changed_by,
            reason: self.change_reason,
            change: self.change,
            incident: raw(self.stored.json())?,
        })
    }
}

fn raw(json: String) -> QueryResult<Box<serde_json::value::RawValue>> {
    serde_json::value::RawValue::from_string(json)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// Incident `id` as it was at `time` (now when `None`), if it existed then.
pub fn find_at(
    conn: &mut DbConnection,
    id: i64,
    time: Option<NaiveDateTime>,
) -> QueryResult<Option<Incident>> {
    let query = incidents::table
        .find(id)
        .select(StoredIncident::as_select())
        .limit(1);
    AsOf::new(query, Scope::as_of(time))
        .get_result::<StoredIncident>(conn)
        .optional()?
        .map(|stored| stored.incident())
        .transpose()
}

/// Up to `limit` versions of incident `id` after version `after`, oldest first, a deletion
/// last; empty when no incident ever had this id (or none after `after`).
pub fn versions(
    conn: &mut DbConnection,
    id: i64,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<Version>> {
    // The current version first, then the archived ones before it: a write landing between
    // the two reads then shows on the next page instead of falling between them.
    let current: Option<CurrentVersion> = incidents::table
        .find(id)
        .filter(incidents::version.gt(after))
        .select(CurrentVersion::as_select())
        .first(conn)
        .optional()?;
    let mut archived = incident_versions::table
        .filter(incident_versions::id.eq(id))
        .filter(incident_versions::version.gt(after))
        .into_boxed();
    if let Some(current) = &current {
        archived = archived.filter(incident_versions::version.lt(current.stored.version));
    }
    let archived: Vec<ArchivedVersion> = archived
        .order(incident_versions::version)
        .limit(limit)
        .select(ArchivedVersion::as_select())
        .load(conn)?;
    let room = (archived.len() as i64) < limit;
    archived
        .into_iter()
        .map(ArchivedVersion::into_version)
        .chain(current.filter(|_| room).map(CurrentVersion::into_version))
        .collect()
}

/// Version `version` of incident `id`, if it had one.
pub fn version(conn: &mut DbConnection, id: i64, version: i32) -> QueryResult<Option<Version>> {
    let archived = incident_versions::table
        .filter(incident_versions::id.eq(id))
        .filter(incident_versions::version.eq(version))
        .select(ArchivedVersion::as_select())
        .first(conn)
        .optional()?;
    if let Some(archived) = archived {
        return archived.into_version().map(Some);
    }
    incidents::table
        .find(id)
        .filter(incidents::version.eq(version))
        .select(CurrentVersion::as_select())
        .first(conn)
        .optional()?
        .map(CurrentVersion::into_version)
        .transpose()
}

/// The content incident `id` had as last written by an import, before the API changed it:
/// what tells an analyst's corrections from the source's values. `None` when no import ever
/// wrote it.
pub fn last_imported(conn: &mut DbConnection, id: i64) -> QueryResult<Option<IncidentBody>> {
    let document: Option<String> = incident_versions::table
        .filter(incident_versions::id.eq(id))
        .filter(incident_versions::change.eq(ChangeKind::Import))
        .order(incident_versions::version.desc())
        .select(incident_versions::document)
        .first(conn)
        .optional()?;
    document
        .map(|d| serde_json::from_str(&d))
        .transpose()
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// What changes whenever the incidents do, and reads in microseconds. On SQLite (one writer at
/// a time) the highest incident id and version id: every insertion takes a new highest id, and
/// every update and deletion archives a version under a new highest version id. On PostgreSQL,
/// where concurrent writers may commit ids out of order, the position in the write-ahead log
/// that the data reflects (the primary's insert position, or a replica's replayed one): every
/// commit moves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generation {
    Ids {
        incident: Option<i64>,
        version: Option<i64>,
    },
    WalPosition(String),
}

pub fn generation(conn: &mut DbConnection) -> QueryResult<Generation> {
    use diesel::dsl::{max, sql};
    match conn {
        DbConnection::Sqlite(sqlite) => Ok(Generation::Ids {
            incident: incidents::table.select(max(incidents::id)).first(sqlite)?,
            version: incident_versions::table
                .select(max(incident_versions::version_id))
                .first(sqlite)?,
        }),
        DbConnection::Postgres(pg) => diesel::select(sql::<diesel::sql_types::Text>(
            "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
             ELSE pg_current_wal_insert_lsn() END)::text",
        ))
        .get_result(pg)
        .map(Generation::WalPosition),
    }
}

//! PostgreSQL bulk imports: a batch of rows goes into a temporary staging table with one
//! binary `COPY`, is matched against the stored incidents by dataset + external_id in one
//! join, and is written with one `INSERT … SELECT` (new incidents and their perpetrators) and
//! one `UPDATE … FROM` (changed ones). The triggers do the rest set-wise: the month sums once
//! a statement, the history a version per row updated; the full-text vectors are computed
//! ahead on another connection (`search_vectors`) where one was free, else by the trigger.
//! SQLite writes its batches through `incidents::insert_many` / `replace` (already fast).

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamp};
use diesel::PgConnection;

use super::incidents::{now, IncidentValues, StagedValues, WRITTEN_COLUMNS};
use super::schema::import_rows;
use super::DbConnection;
use crate::model::history::{Change, ChangeKind};
use crate::model::validate::ValidIncident;

/// Whether imports into this database go through the staging table (PostgreSQL).
pub fn stages_imports(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Postgres(_))
}

/// An incident that a staged row's key already names.
#[derive(Debug, QueryableByName)]
pub struct Existing {
    /// The row's place in the staged batch.
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    /// How its current version was written.
    #[diesel(sql_type = Text)]
    pub change: ChangeKind,
    /// Its stored document when it differs from the staged row's; `None` when identical.
    #[diesel(sql_type = Nullable<Text>)]
    pub document: Option<String>,
}

fn postgres(conn: &mut DbConnection) -> QueryResult<&mut PgConnection> {
    match conn {
        DbConnection::Postgres(pg) => Ok(pg),
        DbConnection::Sqlite(_) => Err(diesel::result::Error::QueryBuilderError(
            "the import's staging table is PostgreSQL's".into(),
        )),
    }
}

/// The full-text vectors of `texts` (rows' `search_text`), as text: an import computes them on
/// a connection of its own while its writing connection files the rows before them (see the
/// `search_vector` migration), so two backends share the work that one did.
pub fn search_vectors(conn: &mut DbConnection, texts: &[String]) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Vector {
        #[diesel(sql_type = Text)]
        vector: String,
    }
    let vectors: Vec<Vector> = diesel::sql_query(
        "SELECT to_tsvector('english', t)::text AS vector \
         FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
    )
    .bind::<Array<Text>, _>(texts)
    .load(postgres(conn)?)?;
    Ok(vectors.into_iter().map(|v| v.vector).collect())
}

/// Replaces the staged rows with `rows` (their `seq` is their index; each with its full-text
/// vector when computed ahead) and returns the stored incidents their keys name, by `seq`.
/// The keys of `rows` must be distinct.
pub fn stage(
    conn: &mut DbConnection,
    rows: &[(&ValidIncident, Option<&str>)],
) -> QueryResult<Vec<Existing>> {
    let pg = postgres(conn)?;
    // Temporary: no WAL, private to the connection; its rows go at every commit. `seq`
    // numbers the rows in the order copied, from 0 after every `TRUNCATE … RESTART IDENTITY`.
    pg.batch_execute(
        "DO $$ BEGIN IF to_regclass('pg_temp.import_rows') IS NULL THEN \
           CREATE TEMP TABLE import_rows ON COMMIT DELETE ROWS AS \
             SELECT * FROM incidents WITH NO DATA; \
           ALTER TABLE import_rows ADD COLUMN seq bigint \
             GENERATED ALWAYS AS IDENTITY (MINVALUE 0 START WITH 0); \
           ALTER TABLE import_rows ADD COLUMN vector text; \
         END IF; END $$; \
         TRUNCATE import_rows RESTART IDENTITY;",
    )?;
    let staged: Vec<StagedValues> = rows
        .iter()
        .map(|(valid, vector)| IncidentValues::of(valid).staged(*vector))
        .collect();
    diesel::copy_from(import_rows::table)
        .from_insertable(&staged)
        .execute(pg)?;
    drop(staged);
    // The planner's row count for the join below: without it, it guesses a temporary
    // table's size from its pages and may scan every incident. Only the columns joined on
    // and filtered by: the others (the documents above all) would take most of the sampling.
    pg.batch_execute("ANALYZE import_rows (seq, dataset, external_id)")?;
    diesel::sql_query(
        "SELECT s.seq, i.id, i.version, i.change, \
         CASE WHEN i.document = s.document THEN NULL ELSE i.document END AS document \
         FROM import_rows s JOIN incidents i \
         ON i.dataset = s.dataset AND i.external_id = s.external_id ORDER BY s.seq",
    )
    .load(pg)
}

/// The perpetrators of the staged row `s`, from its document, as `p(name, claim, position)`:
/// the same rows `incidents::write_perpetrators` writes.
const STAGED_PERPETRATORS: &str =
    "ROWS FROM (json_to_recordset((s.document::json) -> 'perpetrators') \
     AS (name text, claim text)) WITH ORDINALITY AS p(name, claim, position)";

/// Inserts the staged rows `seqs` as new incidents (ids in `seq` order) with their
/// perpetrators; returns how many.
pub fn insert_staged(conn: &mut DbConnection, seqs: &[i64], change: &Change) -> QueryResult<u64> {
    if seqs.is_empty() {
        return Ok(0);
    }
    let pg = postgres(conn)?;
    let columns = WRITTEN_COLUMNS.join(", ");
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let sql = format!(
        "WITH new AS ( \
           INSERT INTO incidents ({columns}, search_vector, version, created_at, updated_at, change, changed_by, change_reason) \
           SELECT {columns}, vector::tsvector, 1, $1, $1, $2, $3, $4 FROM import_rows WHERE seq = ANY($5) ORDER BY seq \
           RETURNING id, dataset, external_id \
         ), perpetrators AS ( \
           INSERT INTO incident_perpetrators (incident_id, position, name, claim) \
           SELECT new.id, p.position - 1, p.name, p.claim FROM new \
           JOIN import_rows s ON s.dataset = new.dataset AND s.external_id = new.external_id \
           CROSS JOIN LATERAL {STAGED_PERPETRATORS} \
           ORDER BY new.id, p.position \
         ) SELECT count(*) AS count FROM new"
    );
    let count: Count = bind_change(diesel::sql_query(sql), now(), change)
        .bind::<Array<BigInt>, _>(seqs)
        .get_result(pg)?;
    Ok(count.count as u64)
}

/// Writes the staged rows of `updates` (`seq`, the version it replaces) as the new versions of
/// the incidents their keys name, if those are still at that version and were last written
/// by an import (a write since, by the API or another import, leaves its incident alone and
/// the count short), and replaces their perpetrators (the history trigger archives the
/// versions replaced, with their perpetrators). Returns how many.
pub fn update_staged(
    conn: &mut DbConnection,
    updates: &[(i64, i32)],
    change: &Change,
) -> QueryResult<u64> {
    if updates.is_empty() {
        return Ok(0);
    }
    let (seqs, versions): (Vec<i64>, Vec<i32>) = updates.iter().copied().unzip();
    let pg = postgres(conn)?;
    let targets = WRITTEN_COLUMNS.join(", ");
    let values = WRITTEN_COLUMNS
        .iter()
        .map(|c| format!("s.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE incidents i SET ({targets}, search_vector) = ({values}, s.vector::tsvector), \
         version = i.version + 1, \
         updated_at = $1, change = $2, changed_by = $3, change_reason = $4 \
         FROM import_rows s JOIN unnest($5::bigint[], $6::integer[]) AS seen(seq, version) \
         ON seen.seq = s.seq \
         WHERE i.dataset = s.dataset AND i.external_id = s.external_id \
         AND i.version = seen.version AND i.change = $2 \
         RETURNING i.id"
    );
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let ids: Vec<i64> = bind_change(diesel::sql_query(sql), now(), change)
        .bind::<Array<BigInt>, _>(&seqs)
        .bind::<Array<Integer>, _>(&versions)
        .load::<Id>(pg)?
        .into_iter()
        .map(|row| row.id)
        .collect();
    diesel::sql_query("DELETE FROM incident_perpetrators WHERE incident_id = ANY($1)")
        .bind::<Array<BigInt>, _>(&ids)
        .execute(pg)?;
    diesel::sql_query(format!(
        "INSERT INTO incident_perpetrators (incident_id, position, name, claim) \
         SELECT i.id, p.position - 1, p.name, p.claim FROM import_rows s \
         JOIN incidents i ON i.dataset = s.dataset AND i.external_id = s.external_id \
         CROSS JOIN LATERAL {STAGED_PERPETRATORS} \
         WHERE s.seq = ANY($1) AND i.id = ANY($2) ORDER BY i.id, p.position"
    ))
    .bind::<Array<BigInt>, _>(&seqs)
    .bind::<Array<BigInt>, _>(&ids)
    .execute(pg)?;
    Ok(ids.len() as u64)
}

/// Binds $1 to $4: the time of the new versions, and who wrote them, how and why.
fn bind_change(
    query: diesel::query_builder::SqlQuery,
    at: NaiveDateTime,
    change: &Change,
) -> diesel::query_builder::BoxedSqlQuery<'static, diesel::pg::Pg, diesel::query_builder::SqlQuery>
{
    query
        .into_boxed()
        .bind::<Timestamp, _>(at)
        .bind::<Text, _>(change.kind)
        .bind::<Text, _>(change.by.clone())
        .bind::<Nullable<Text>, _>(change.reason.clone())
}

/// Inside an all-or-nothing import into PostgreSQL: the month sums of its statements wait in
/// `incident_month_changes` until `merge_month_sums` (see the `month_sum_changes` migration),
/// instead of updating the same months' rows chunk after chunk in one transaction.
pub fn defer_month_sums(conn: &mut DbConnection) -> QueryResult<()> {
    postgres(conn)?.batch_execute("SET LOCAL incidentdb.defer_month_sums = on")
}

/// Adds the month sums waiting since `defer_month_sums` (or the last merge) to `incident_months`.
pub fn merge_month_sums(conn: &mut DbConnection) -> QueryResult<()> {
    postgres(conn)?.batch_execute("SELECT incident_months_merge()")
}

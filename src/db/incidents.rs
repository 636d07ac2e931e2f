//! Reading and writing incidents. Each row carries the incident's JSON (`document`) for
//! serving, beside the columns the filters, sorts and stats use; perpetrators also get rows of
//! their own for the perpetrator filter and groups.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{deleted_incidents, import_rows, incident_perpetrators, incidents};
use super::time::{StoredDate, StoredTime};
use super::{on_backend, DbConnection, SEARCH_DEFERRED, SEARCH_KEY};
use crate::model::history::{Change, ChangeKind};
use crate::model::incident::{Casualties, DatePrecision, GeoPrecision, Incident, IncidentBody};
use crate::model::validate::ValidIncident;
use crate::query::search::searchable;

/// An incident as read: the columns that page and serve it. `document` is the incident's JSON
/// less `id`, `version` and the timestamps, written once with the row, so a read serves it
/// without reassembling perpetrators and sources or re-serialising every field.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = incidents)]
pub struct StoredIncident {
    pub id: i64,
    #[diesel(deserialize_as = StoredDate)]
    pub occurred_on: NaiveDate,
    pub killed_best: Option<i32>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub version: i32,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub updated_at: NaiveDateTime,
    pub document: String,
}

impl StoredIncident {
    /// Appends the incident's JSON, exactly as `Incident` serialises.
    pub fn write_json(&self, out: &mut String) {
        write_incident_json(
            out,
            self.id,
            &self.document,
            self.version,
            self.created_at,
            self.updated_at,
        );
    }

    /// The incident's JSON, exactly as `Incident` serialises.
    pub fn json(&self) -> String {
        let mut out = String::with_capacity(self.document.len() + 96);
        self.write_json(&mut out);
        out
    }

    /// The incident as a value.
    pub fn incident(&self) -> QueryResult<Incident> {
        Ok(Incident {
            id: self.id,
            body: serde_json::from_str(&self.document)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The JSON of the incident `id` whose stored `document` is at `version`, exactly as
/// `Incident` serialises.
pub fn incident_json(
    id: i64,
    document: &str,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
) -> String {
    let mut out = String::with_capacity(document.len() + 96);
    write_incident_json(&mut out, id, document, version, created_at, updated_at);
    out
}

fn write_incident_json(
    out: &mut String,
    id: i64,
    document: &str,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
) {
    let fields = document
        .strip_prefix('{')
        .and_then(|d| d.strip_suffix('}'))
        .unwrap_or_default();
    let _ = write!(out, "{{\"id\":{id},{fields},\"version\":{version}");
    out.push_str(",\"created_at\":");
    write_utc(out, created_at);
    out.push_str(",\"updated_at\":");
    write_utc(out, updated_at);
    out.push('}');
}

/// A timestamp as the API writes it, quoted: RFC 3339 in UTC to the second. By hand: chrono
/// parses its format string on every call, and even `write!` with padded fields took 6% of a
/// list request.
fn write_utc(out: &mut String, time: NaiveDateTime) {
    let year = time.year();
    if !(0..=9999).contains(&year) {
        let _ = write!(out, "\"{}\"", time.and_utc().format("%+"));
        return;
    }
    let mut text = *b"\"0000-00-00T00:00:00Z\"";
    let fields = [
        (1, 4, year as u32),
        (6, 2, time.month()),
        (9, 2, time.day()),
        (12, 2, time.hour()),
        (15, 2, time.minute()),
        (18, 2, time.second()),
    ];
    for (start, width, mut value) in fields {
        for position in (start..start + width).rev() {
            text[position] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    out.push_str(std::str::from_utf8(&text).expect("ASCII digits"));
}

/// The served JSON of `valid`'s body: what `document` holds.
fn document(valid: &ValidIncident) -> String {
    serde_json::to_string(valid.body()).expect("an incident serialises")
}

/// Declares `IncidentValues` with the fields given, and `StagedValues`, the same fields for
/// the staging table of a PostgreSQL import (see `db::bulk`; a derive serves one table only
/// when it also derives `AsChangeset`, and `COPY` wants no `DEFAULT`s).
macro_rules! incident_values {
    ($($field:ident: $type:ty,)*) => {
        /// The stored columns of an incident, as written.
        #[derive(Debug, Insertable, AsChangeset)]
        #[diesel(table_name = incidents, treat_none_as_null = true)]
        pub(super) struct IncidentValues<'a> {
            $($field: $type,)*
        }

        /// `IncidentValues` as staged for a bulk import, with the full-text vector when
        /// computed ahead (else the database computes it as it writes the row).
        #[derive(Debug, Insertable)]
        #[diesel(table_name = import_rows, treat_none_as_default_value = false)]
        pub(super) struct StagedValues<'a> {
            $($field: $type,)*
            vector: Option<&'a str>,
        }

        impl<'a> IncidentValues<'a> {
            pub(super) fn staged(self, vector: Option<&'a str>) -> StagedValues<'a> {
                StagedValues { $($field: self.$field,)* vector }
            }
        }

        /// The columns `IncidentValues` writes, in order: what a bulk import copies from its
        /// staged rows into new versions.
        pub(super) const WRITTEN_COLUMNS: &[&str] = &[$(stringify!($field),)*];
    };
}

incident_values! {
    dataset: &'a str,
    external_id: Option<&'a str>,
    occurred_on: NaiveDate,
    occurred_until: Option<NaiveDate>,
    date_precision: DatePrecision,
    event_type: Option<&'a str>,
    sub_event_type: Option<&'a str>,
    country_code: Option<&'a str>,
    country: Option<&'a str>,
    region: Option<&'a str>,
    subregion: Option<&'a str>,
    source_region: Option<&'a str>,
    admin1: Option<&'a str>,
    admin2: Option<&'a str>,
    place: Option<&'a str>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    geo_precision: Option<GeoPrecision>,
    killed_low: Option<i32>,
    killed_best: Option<i32>,
    killed_high: Option<i32>,
    injured_low: Option<i32>,
    injured_best: Option<i32>,
    injured_high: Option<i32>,
    search_text: String,
    document: String,
}

impl<'a> IncidentValues<'a> {
    pub(super) fn of(valid: &'a ValidIncident) -> Self {
        let input = valid.body();
        let location = &input.location;
        let Casualties { killed, injured } = input.casualties;
        IncidentValues {
            dataset: valid.dataset(),
            external_id: input.external_id.as_deref(),
            occurred_on: input.occurred_on,
            occurred_until: input.occurred_until,
            date_precision: input.date_precision,
            event_type: input.event_type.as_deref(),
            sub_event_type: input.sub_event_type.as_deref(),
            country_code: location.country_code.as_deref(),
            country: location.country.as_deref(),
            region: location.region.as_deref(),
            subregion: location.subregion.as_deref(),
            source_region: location.source_region.as_deref(),
            admin1: location.admin1.as_deref(),
            admin2: location.admin2.as_deref(),
            place: location.place.as_deref(),
            latitude: location.latitude,
            longitude: location.longitude,
            geo_precision: location.geo_precision,
            killed_low: killed.low,
            killed_best: killed.best,
            killed_high: killed.high,
            injured_low: injured.low,
            injured_best: injured.best,
            injured_high: injured.high,
            search_text: search_text(valid.body()),
            document: document(valid),
        }
    }
}

/// What `q` searches (see `query::search`): description, place names, perpetrators, the
/// sources' titles and excerpts, and the attributes that hold prose or names (values of more
/// than one word: a source's notes or summary, the other side; not codes and flags).
pub fn search_text(input: &IncidentBody) -> String {
    let location = &input.location;
    let mut texts: Vec<&str> = Vec::new();
    texts.extend(input.description.as_deref());
    texts.extend(
        [&location.place, &location.admin2, &location.admin1]
            .map(|t| t.as_deref())
            .into_iter()
            .flatten(),
    );
    texts.extend(input.perpetrators.iter().map(|p| p.name.as_str()));
    for source in &input.sources {
        texts.extend(source.title.as_deref());
        texts.extend(source.excerpt.as_deref());
    }
    let prose = input.attributes.values().filter_map(|value| value.as_str());
    texts.extend(prose.filter(|text| text.trim().contains(char::is_whitespace)));
    searchable(texts)
}

/// Incidents `reindex_search` reads and writes in one statement.
const REINDEX_BATCH: i64 = 1000;

/// What `reindex_search` did.
#[derive(Debug, Default, Serialize)]
pub struct Reindexed {
    /// Incidents whose search text changed.
    pub reindexed: u64,
    /// Incidents whose stored document did not read as an incident, left as they were.
    pub skipped: Vec<i64>,
}

/// Gives every incident the search text the current rules make of its stored document, where
/// it differs (rows written before a change of the rules keep their old text until written).
/// The triggers keep the full-text index in step; no version is made, as the content does not
/// change. Each batch is one statement: an incident written meanwhile (another version) is
/// left to its writer, and PostgreSQL's per-statement month-sum triggers run once a batch.
/// `progress` hears the last id done.
pub fn reindex_search(
    conn: &mut DbConnection,
    mut progress: impl FnMut(i64),
) -> QueryResult<Reindexed> {
    let (mut after, mut done) = (0, Reindexed::default());
    loop {
        let rows: Vec<(i64, i32, String, String)> = incidents::table
            .filter(incidents::id.gt(after))
            .order(incidents::id)
            .limit(REINDEX_BATCH)
            .select((
                incidents::id,
                incidents::version,
                incidents::document,
                incidents::search_text,
            ))
            .load(conn)?;
        let Some(last) = rows.last().map(|(id, ..)| *id) else {
            return Ok(done);
        };
        let mut changed = Vec::new();
        for (id, version, document, stored) in rows {
            match serde_json::from_str::<IncidentBody>(&document) {
                Ok(body) => {
                    let text = search_text(&body);
                    if text != stored {
                        changed
                            .push(serde_json::json!({"id": id, "version": version, "text": text}));
                    }
                }
                Err(_) => done.skipped.push(id),
            }
        }
        if !changed.is_empty() {
            done.reindexed +=
                set_search_texts(conn, &serde_json::Value::from(changed).to_string())?;
        }
        after = last;
        progress(after);
    }
}

/// Sets the search text of each `{id, version, text}` of the JSON array `changes` whose
/// incident is still at that version, in one statement; returns how many it set.
fn set_search_texts(conn: &mut DbConnection, changes: &str) -> QueryResult<u64> {
    let sql = match conn {
        DbConnection::Postgres(_) => {
            "UPDATE incidents SET search_text = v.text \
             FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, version integer, text text) \
             WHERE incidents.id = v.id AND incidents.version = v.version"
        }
        DbConnection::Sqlite(_) => {
            "UPDATE incidents SET search_text = v.value ->> 'text' FROM json_each(?) v \
             WHERE incidents.id = v.value ->> 'id' \
             AND incidents.version = v.value ->> 'version'"
        }
    };
    let set = diesel::sql_query(sql)
        .bind::<diesel::sql_types::Text, _>(changes)
        .execute(conn)?;
    Ok(set as u64)
}

/// Who wrote a version, why and how: the columns that record it.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = incidents, treat_none_as_null = true)]
struct ChangeValues<'a> {
    change: ChangeKind,
    changed_by: &'a str,
    change_reason: Option<&'a str>,
}

impl<'a> ChangeValues<'a> {
    fn of(change: &'a Change) -> Self {
        ChangeValues {
            change: change.kind,
            changed_by: &change.by,
            change_reason: change.reason.as_deref(),
        }
    }
}

/// Inserts a new incident with its perpetrators; returns its id.
pub fn insert(conn: &mut DbConnection, valid: &ValidIncident, change: &Change) -> QueryResult<i64> {
    Ok(insert_many(conn, &[valid], change)?[0])
}

/// Inserts new incidents with their perpetrators in a handful of multi-row statements;
/// returns their ids in the order given.
pub fn insert_many(
    conn: &mut DbConnection,
    valid: &[&ValidIncident],
    change: &Change,
) -> QueryResult<Vec<i64>> {
    let now = now();
    let mut ids = Vec::with_capacity(valid.len());
    for chunk in valid.chunks(INCIDENTS_PER_STATEMENT) {
        let rows: Vec<IncidentBodyRow> = chunk
            .iter()
            .map(|valid| IncidentBodyRow {
                values: IncidentValues::of(valid),
                change: ChangeValues::of(change),
                version: 1,
                created_at: now,
                updated_at: now,
            })
            .collect();
        // Both databases return the ids of a multi-row insert in the order of its rows.
        let chunk_ids: Vec<i64> = on_backend!(conn, c => diesel::insert_into(incidents::table)
            .values(&rows)
            .returning(incidents::id)
            .get_results(c))?;
        ids.extend(chunk_ids);
    }
    index_search(conn, &ids)?;
    let written: Vec<(i64, &ValidIncident)> =
        ids.iter().copied().zip(valid.iter().copied()).collect();
    write_perpetrators(conn, &written)?;
    Ok(ids)
}

/// SQLite: adds fresh incidents to the full-text index (see the full-text migration), in the
/// order of its keys. Not by a trigger, as updates and deletions are: FTS5 writes its buffer
/// out as a new segment whenever a key is lower than the last one, and an import's rows come
/// in no date order, so a trigger wrote a segment for about every other row and merged them
/// all again (a 1M import took 2.4 times as long); a batch in key order is one segment, and
/// an import into an empty database adds them all at its end (`defer_indexes`).
/// PostgreSQL's GIN index is on the stored `search_vector`, kept by PostgreSQL.
fn index_search(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<()> {
    let DbConnection::Sqlite(conn) = conn else {
        return Ok(());
    };
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "INSERT INTO incident_search (rowid, search_text) SELECT {SEARCH_KEY}, search_text \
             FROM incidents WHERE id IN (SELECT value FROM json_each(?)) AND NOT EXISTS \
             (SELECT 1 FROM sqlite_temp_master WHERE name = '{SEARCH_DEFERRED}') ORDER BY 1"
        )
    });
    let ids = serde_json::to_string(ids).expect("ids serialise");
    diesel::sql_query(SQL.as_str())
        .bind::<diesel::sql_types::Text, _>(ids)
        .execute(conn)?;
    Ok(())
}

/// Rows in one multi-row insert: well below the bound-parameter limits (SQLite 32,766,
/// PostgreSQL 65,535) at 29 columns a row.
const INCIDENTS_PER_STATEMENT: usize = 50;
/// The same for the narrow perpetrator rows (4 columns).
const CHILDREN_PER_STATEMENT: usize = 200;

#[derive(Insertable)]
#[diesel(table_name = incidents)]
struct IncidentBodyRow<'a> {
    #[diesel(embed)]
    values: IncidentValues<'a>,
    #[diesel(embed)]
    change: ChangeValues<'a>,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Replaces every field of incident `id` if it is still at `version`, and bumps the version
/// (the version replaced goes to the history). Returns the new version, or `None` when the
/// incident changed in between.
pub fn replace(
    conn: &mut DbConnection,
    id: i64,
    version: i32,
    valid: &ValidIncident,
    change: &Change,
) -> QueryResult<Option<i32>> {
    let changed = diesel::update(
        incidents::table
            .find(id)
            .filter(incidents::version.eq(version)),
    )
    .set((
        IncidentValues::of(valid),
        ChangeValues::of(change),
        incidents::version.eq(version + 1),
        incidents::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    diesel::delete(incident_perpetrators::table.filter(incident_perpetrators::incident_id.eq(id)))
        .execute(conn)?;
    write_perpetrators(conn, &[(id, valid)])?;
    Ok(Some(version + 1))
}

/// The id of the incident `external_id` of `dataset`.
pub fn find_id(
    conn: &mut DbConnection,
    dataset: &str,
    external_id: &str,
) -> QueryResult<Option<i64>> {
    incidents::table
        .filter(incidents::dataset.eq(dataset))
        .filter(incidents::external_id.eq(external_id))
        .select(incidents::id)
        .first(conn)
        .optional()
}

/// Deletes incident `id` and records it for the change feed. The deletion is first written as
/// the incident's last version, so the history keeps who deleted it, why and when.
pub fn delete(conn: &mut DbConnection, id: i64, change: &Change) -> QueryResult<()> {
    let (dataset, external_id): (String, Option<String>) = incidents::table
        .find(id)
        .select((incidents::dataset, incidents::external_id))
        .first(conn)?;
    let deleted_at = now();
    diesel::update(incidents::table.find(id))
        .set((
            ChangeValues::of(change),
            incidents::version.eq(incidents::version + 1),
            incidents::updated_at.eq(deleted_at),
        ))
        .execute(conn)?;
    diesel::delete(incident_perpetrators::table.filter(incident_perpetrators::incident_id.eq(id)))
        .execute(conn)?;
    diesel::delete(incidents::table.find(id)).execute(conn)?;
    diesel::insert_into(deleted_incidents::table)
        .values((
            deleted_incidents::id.eq(id),
            deleted_incidents::dataset.eq(dataset),
            deleted_incidents::external_id.eq(external_id),
            deleted_incidents::deleted_at.eq(deleted_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes the perpetrator rows of freshly written incidents.
fn write_perpetrators(
    conn: &mut DbConnection,
    written: &[(i64, &ValidIncident)],
) -> QueryResult<()> {
    let perpetrators: Vec<_> = written
        .iter()
        .flat_map(|&(id, valid)| {
            valid
                .body()
                .perpetrators
                .iter()
                .enumerate()
                .map(move |(position, p)| {
                    (
                        incident_perpetrators::incident_id.eq(id),
                        incident_perpetrators::position.eq(position as i32),
                        incident_perpetrators::name.eq(p.name.as_str()),
                        incident_perpetrators::claim.eq(p.claim),
                    )
                })
        })
        .collect();
    for chunk in perpetrators.chunks(CHILDREN_PER_STATEMENT) {
        on_backend!(conn, c => diesel::insert_into(incident_perpetrators::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// The incident with `id`, if any.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Incident>> {
    incidents::table
        .find(id)
        .select(StoredIncident::as_select())
        .first(conn)
        .optional()?
        .map(|stored| stored.incident())
        .transpose()
}

/// The incidents with these (dataset, external_id) keys, each with how its current version
/// was written.
pub fn find_by_keys(
    conn: &mut DbConnection,
    keys: &[(String, String)],
) -> QueryResult<Vec<(Incident, ChangeKind)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut datasets: Vec<&str> = keys.iter().map(|(d, _)| d.as_str()).collect();
    datasets.sort_unstable();
    datasets.dedup();
    let external_ids: Vec<&str> = keys.iter().map(|(_, e)| e.as_str()).collect();
    let rows: Vec<(StoredIncident, ChangeKind)> = incidents::table
        .filter(incidents::dataset.eq_any(datasets))
        .filter(incidents::external_id.eq_any(external_ids))
        .select((StoredIncident::as_select(), incidents::change))
        .load(conn)?;
    let wanted: std::collections::HashSet<(&str, &str)> =
        keys.iter().map(|(d, e)| (d.as_str(), e.as_str())).collect();
    let mut found = Vec::with_capacity(rows.len());
    for (stored, change) in rows {
        let incident = stored.incident()?;
        let key = (
            incident.body.dataset.as_deref().unwrap_or_default(),
            incident.body.external_id.as_deref().unwrap_or_default(),
        );
        if wanted.contains(&key) {
            found.push((incident, change));
        }
    }
    Ok(found)
}

/// The current time in UTC, to the microsecond (what both backends store).
pub fn now() -> NaiveDateTime {
    use chrono::SubsecRound;
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// An incident deleted at `deleted_at`, for the change feed.
#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct DeletedIncident {
    #[schema(example = 1042)]
    pub id: i64,
    #[schema(example = "acled")]
    pub dataset: String,
    #[schema(example = "AFG45510")]
    pub external_id: Option<String>,
    #[serde(with = "crate::model::incident::utc_timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub deleted_at: NaiveDateTime,
}

/// The incidents deleted at or after `since` (all when `None`), oldest deletion first.
pub fn deleted_since(
    conn: &mut DbConnection,
    since: Option<NaiveDateTime>,
) -> QueryResult<Vec<DeletedIncident>> {
    let mut query = deleted_incidents::table
        .select((
            deleted_incidents::id,
            deleted_incidents::dataset,
            deleted_incidents::external_id,
            deleted_incidents::deleted_at,
        ))
        .order((deleted_incidents::deleted_at, deleted_incidents::id))
        .into_boxed();
    if let Some(since) = since {
        query = query.filter(deleted_incidents::deleted_at.ge(since));
    }
    query.load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::example::kabul_input;
    use crate::model::validate::validate;

    #[test]
    fn a_served_document_is_exactly_the_incident_serialised() {
        let input = serde_json::from_value(kabul_input()).unwrap();
        let valid = validate(input, "manual").unwrap();
        let time = NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let stored = StoredIncident {
            id: 7,
            occurred_on: valid.body().occurred_on,
            killed_best: Some(8),
            latitude: Some(34.53),
            longitude: Some(69.17),
            version: 2,
            created_at: time,
            updated_at: time,
            document: document(&valid),
        };
        let incident = stored.incident().unwrap();
        assert_eq!(incident.id, 7);
        assert_eq!(incident.body.location.region.as_deref(), Some("Asia"));
        assert_eq!(incident.body.perpetrators, valid.body().perpetrators);
        assert_eq!(serde_json::to_string(&incident).unwrap(), stored.json());
    }
}

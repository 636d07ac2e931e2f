//! Reading and writing incidents with their perpetrators and sources.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::schema::{
    deleted_incidents, incident_perpetrators, incident_sources, incidents, sources,
};
use super::{on_backend, DbConnection};
use crate::model::incident::{Bounds, Casualties, Claim, Incident, Location, Perpetrator, Source};
use crate::model::validate::ValidIncident;

/// One row of `incidents`, as read.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = incidents)]
pub struct IncidentRow {
    pub id: i64,
    pub dataset: String,
    pub external_id: Option<String>,
    pub occurred_on: NaiveDate,
    pub occurred_until: Option<NaiveDate>,
    pub date_precision: String,
    pub event_type: Option<String>,
    pub sub_event_type: Option<String>,
    pub description: Option<String>,
    pub country_code: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub subregion: Option<String>,
    pub source_region: Option<String>,
    pub admin1: Option<String>,
    pub admin2: Option<String>,
    pub place: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub geo_precision: Option<String>,
    pub killed_low: Option<i32>,
    pub killed_best: Option<i32>,
    pub killed_high: Option<i32>,
    pub injured_low: Option<i32>,
    pub injured_best: Option<i32>,
    pub injured_high: Option<i32>,
    pub attributes: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The stored columns of an incident, as written.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = incidents, treat_none_as_null = true)]
struct IncidentValues<'a> {
    dataset: &'a str,
    external_id: Option<&'a str>,
    occurred_on: NaiveDate,
    occurred_until: Option<NaiveDate>,
    date_precision: String,
    event_type: Option<&'a str>,
    sub_event_type: Option<&'a str>,
    description: Option<&'a str>,
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
    geo_precision: Option<String>,
    killed_low: Option<i32>,
    killed_best: Option<i32>,
    killed_high: Option<i32>,
    injured_low: Option<i32>,
    injured_best: Option<i32>,
    injured_high: Option<i32>,
    attributes: String,
    search_text: String,
}

impl<'a> IncidentValues<'a> {
    fn of(valid: &'a ValidIncident) -> Self {
        let input = &valid.input;
        let location = &input.location;
        let Casualties { killed, injured } = input.casualties;
        IncidentValues {
            dataset: &valid.dataset,
            external_id: input.external_id.as_deref(),
            occurred_on: input.occurred_on,
            occurred_until: input.occurred_until,
            date_precision: enum_text(&input.date_precision),
            event_type: input.event_type.as_deref(),
            sub_event_type: input.sub_event_type.as_deref(),
            description: input.description.as_deref(),
            country_code: location.country_code.as_deref(),
            country: location.country.as_deref(),
            region: valid.region.as_deref(),
            subregion: valid.subregion.as_deref(),
            source_region: location.source_region.as_deref(),
            admin1: location.admin1.as_deref(),
            admin2: location.admin2.as_deref(),
            place: location.place.as_deref(),
            latitude: location.latitude,
            longitude: location.longitude,
            geo_precision: location.geo_precision.as_ref().map(enum_text),
            killed_low: killed.low,
            killed_best: killed.best,
            killed_high: killed.high,
            injured_low: injured.low,
            injured_best: injured.best,
            injured_high: injured.high,
            attributes: serde_json::Value::Object(input.attributes.clone()).to_string(),
            search_text: search_text(valid),
        }
    }
}

/// What `q` searches: description, place and perpetrator names, lower-cased once on write.
fn search_text(valid: &ValidIncident) -> String {
    let input = &valid.input;
    let mut parts: Vec<&str> = Vec::new();
    parts.extend(input.description.as_deref());
    parts.extend(input.location.place.as_deref());
    parts.extend(input.perpetrators.iter().map(|p| p.name.as_str()));
    parts.join("\n").to_lowercase()
}

/// The lower-case wire name of a serde enum (`Claim::Denied` → `denied`).
pub fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => unreachable!("not a unit enum: {other:?}"),
    }
}

/// The serde enum with wire name `text`, if there is one.
pub fn enum_parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
}

/// Inserts a new incident with its perpetrators and sources; returns its id.
pub fn insert(conn: &mut DbConnection, valid: &ValidIncident) -> QueryResult<i64> {
    Ok(insert_many(conn, &[valid])?[0])
}

/// Inserts new incidents with their perpetrators and sources in a handful of multi-row
/// statements; returns their ids in the order given.
pub fn insert_many(conn: &mut DbConnection, valid: &[&ValidIncident]) -> QueryResult<Vec<i64>> {
    let now = now();
    let mut ids = Vec::with_capacity(valid.len());
    for chunk in valid.chunks(INCIDENTS_PER_STATEMENT) {
        let rows: Vec<NewIncidentRow> = chunk
            .iter()
            .map(|valid| NewIncidentRow {
                values: IncidentValues::of(valid),
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
    let written: Vec<(i64, &ValidIncident)> =
        ids.iter().copied().zip(valid.iter().copied()).collect();
    write_children(conn, &written)?;
    Ok(ids)
}

/// Rows in one multi-row insert: well below the bound-parameter limits (SQLite 32,766,
/// PostgreSQL 65,535) at 29 columns a row.
const INCIDENTS_PER_STATEMENT: usize = 50;
/// The same for the narrow child tables (at most 4 columns a row).
const CHILDREN_PER_STATEMENT: usize = 200;

#[derive(Insertable)]
#[diesel(table_name = incidents)]
struct NewIncidentRow<'a> {
    #[diesel(embed)]
    values: IncidentValues<'a>,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Replaces every field of incident `id` if it is still at `version`, and bumps the version.
/// Returns the new version, or `None` when the incident changed in between.
pub fn replace(
    conn: &mut DbConnection,
    id: i64,
    version: i32,
    valid: &ValidIncident,
) -> QueryResult<Option<i32>> {
    let changed = diesel::update(
        incidents::table
            .find(id)
            .filter(incidents::version.eq(version)),
    )
    .set((
        IncidentValues::of(valid),
        incidents::version.eq(version + 1),
        incidents::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    diesel::delete(incident_perpetrators::table.filter(incident_perpetrators::incident_id.eq(id)))
        .execute(conn)?;
    diesel::delete(incident_sources::table.filter(incident_sources::incident_id.eq(id)))
        .execute(conn)?;
    write_children(conn, &[(id, valid)])?;
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

/// Deletes incident `id` and records it for the change feed.
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    let (dataset, external_id): (String, Option<String>) = incidents::table
        .find(id)
        .select((incidents::dataset, incidents::external_id))
        .first(conn)?;
    diesel::delete(incident_perpetrators::table.filter(incident_perpetrators::incident_id.eq(id)))
        .execute(conn)?;
    diesel::delete(incident_sources::table.filter(incident_sources::incident_id.eq(id)))
        .execute(conn)?;
    diesel::delete(incidents::table.find(id)).execute(conn)?;
    diesel::insert_into(deleted_incidents::table)
        .values((
            deleted_incidents::id.eq(id),
            deleted_incidents::dataset.eq(dataset),
            deleted_incidents::external_id.eq(external_id),
            deleted_incidents::deleted_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes the perpetrators and source links of freshly written incidents.
fn write_children(conn: &mut DbConnection, written: &[(i64, &ValidIncident)]) -> QueryResult<()> {
    let perpetrators: Vec<_> = written
        .iter()
        .flat_map(|&(id, valid)| {
            valid
                .input
                .perpetrators
                .iter()
                .enumerate()
                .map(move |(position, p)| {
                    (
                        incident_perpetrators::incident_id.eq(id),
                        incident_perpetrators::position.eq(position as i32),
                        incident_perpetrators::name.eq(p.name.as_str()),
                        incident_perpetrators::claim.eq(enum_text(&p.claim)),
                    )
                })
        })
        .collect();
    for chunk in perpetrators.chunks(CHILDREN_PER_STATEMENT) {
        on_backend!(conn, c => diesel::insert_into(incident_perpetrators::table)
            .values(chunk)
            .execute(c))?;
    }
    let cited: Vec<(i64, i32, &Source)> = written
        .iter()
        .flat_map(|&(id, valid)| {
            let sources = valid.input.sources.iter().enumerate();
            sources.map(move |(position, source)| (id, position as i32, source))
        })
        .collect();
    let source_ids = source_ids(conn, cited.iter().map(|&(_, _, source)| source))?;
    let links: Vec<_> = cited
        .iter()
        .map(|&(id, position, source)| {
            (
                incident_sources::incident_id.eq(id),
                incident_sources::source_id.eq(source_ids[&source_identity(source)]),
                incident_sources::position.eq(position),
            )
        })
        .collect();
    for chunk in links.chunks(CHILDREN_PER_STATEMENT) {
        on_backend!(conn, c => diesel::insert_into(incident_sources::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// What makes two sources the same article: the URL, or else every field together.
fn source_identity(source: &Source) -> String {
    match &source.url {
        Some(url) => format!("url:{url}"),
        None => {
            let text = serde_json::to_string(source).expect("a source serialises");
            format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
        }
    }
}

/// The ids of these sources by identity: one lookup for those already stored, one insert
/// for the new ones.
fn source_ids<'a>(
    conn: &mut DbConnection,
    cited: impl Iterator<Item = &'a Source>,
) -> QueryResult<HashMap<String, i64>> {
    let mut wanted: HashMap<String, &Source> = HashMap::new();
    for source in cited {
        wanted.entry(source_identity(source)).or_insert(source);
    }
    let identities: Vec<&str> = wanted.keys().map(String::as_str).collect();
    let mut ids = HashMap::with_capacity(wanted.len());
    for chunk in identities.chunks(CHILDREN_PER_STATEMENT) {
        ids.extend(
            sources::table
                .filter(sources::identity.eq_any(chunk))
                .select((sources::identity, sources::id))
                .load::<(String, i64)>(conn)?,
        );
    }
    let new: Vec<_> = wanted
        .iter()
        .filter(|(identity, _)| !ids.contains_key(*identity))
        .map(|(identity, source)| {
            (
                sources::identity.eq(identity.as_str()),
                sources::url.eq(source.url.as_deref()),
                sources::title.eq(source.title.as_deref()),
                sources::publisher.eq(source.publisher.as_deref()),
                sources::published_on.eq(source.published_on),
                sources::excerpt.eq(source.excerpt.as_deref()),
            )
        })
        .collect();
    for chunk in new.chunks(CHILDREN_PER_STATEMENT / 2) {
        let stored: Vec<(String, i64)> = on_backend!(conn, c => diesel::insert_into(sources::table)
            .values(chunk)
            .returning((sources::identity, sources::id))
            .get_results(c))?;
        ids.extend(stored);
    }
    Ok(ids)
}

/// The incident with `id`, if any.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Incident>> {
    let row = incidents::table
        .find(id)
        .select(IncidentRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(row) => assemble(conn, vec![row])?.pop(),
        None => None,
    })
}

/// The incidents with these (dataset, external_id) keys.
pub fn find_by_keys(
    conn: &mut DbConnection,
    keys: &[(String, String)],
) -> QueryResult<Vec<Incident>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut datasets: Vec<&str> = keys.iter().map(|(d, _)| d.as_str()).collect();
    datasets.sort_unstable();
    datasets.dedup();
    let external_ids: Vec<&str> = keys.iter().map(|(_, e)| e.as_str()).collect();
    let rows: Vec<IncidentRow> = incidents::table
        .filter(incidents::dataset.eq_any(datasets))
        .filter(incidents::external_id.eq_any(external_ids))
        .select(IncidentRow::as_select())
        .load(conn)?;
    let wanted: std::collections::HashSet<(&str, &str)> =
        keys.iter().map(|(d, e)| (d.as_str(), e.as_str())).collect();
    let rows = rows
        .into_iter()
        .filter(|r| wanted.contains(&(r.dataset.as_str(), r.external_id.as_deref().unwrap_or(""))))
        .collect();
    assemble(conn, rows)
}

/// Turns rows into incidents, loading perpetrators and sources in one query each.
pub fn assemble(conn: &mut DbConnection, rows: Vec<IncidentRow>) -> QueryResult<Vec<Incident>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut perpetrators: HashMap<i64, Vec<Perpetrator>> = HashMap::new();
    for (incident_id, name, claim) in incident_perpetrators::table
        .filter(incident_perpetrators::incident_id.eq_any(&ids))
        .order((
            incident_perpetrators::incident_id,
            incident_perpetrators::position,
        ))
        .select((
            incident_perpetrators::incident_id,
            incident_perpetrators::name,
            incident_perpetrators::claim,
        ))
        .load::<(i64, String, String)>(conn)?
    {
        let claim = enum_parse::<Claim>(&claim).unwrap_or(Claim::Attributed);
        perpetrators
            .entry(incident_id)
            .or_default()
            .push(Perpetrator { name, claim });
    }
    let mut cited: HashMap<i64, Vec<Source>> = HashMap::new();
    for (incident_id, url, title, publisher, published_on, excerpt) in incident_sources::table
        .inner_join(sources::table)
        .filter(incident_sources::incident_id.eq_any(&ids))
        .order((incident_sources::incident_id, incident_sources::position))
        .select((
            incident_sources::incident_id,
            sources::url,
            sources::title,
            sources::publisher,
            sources::published_on,
            sources::excerpt,
        ))
        .load::<SourceTuple>(conn)?
    {
        cited.entry(incident_id).or_default().push(Source {
            url,
            title,
            publisher,
            published_on,
            excerpt,
        });
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id;
            to_incident(
                row,
                perpetrators.remove(&id).unwrap_or_default(),
                cited.remove(&id).unwrap_or_default(),
            )
        })
        .collect())
}

type SourceTuple = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<NaiveDate>,
    Option<String>,
);

fn to_incident(row: IncidentRow, perpetrators: Vec<Perpetrator>, sources: Vec<Source>) -> Incident {
    Incident {
        id: row.id,
        dataset: row.dataset,
        external_id: row.external_id,
        occurred_on: row.occurred_on,
        occurred_until: row.occurred_until,
        date_precision: enum_parse(&row.date_precision).unwrap_or_default(),
        event_type: row.event_type,
        sub_event_type: row.sub_event_type,
        description: row.description,
        location: Location {
            country_code: row.country_code,
            country: row.country,
            region: row.region,
            subregion: row.subregion,
            source_region: row.source_region,
            admin1: row.admin1,
            admin2: row.admin2,
            place: row.place,
            latitude: row.latitude,
            longitude: row.longitude,
            geo_precision: row.geo_precision.as_deref().and_then(enum_parse),
        },
        casualties: Casualties {
            killed: Bounds {
                low: row.killed_low,
                best: row.killed_best,
                high: row.killed_high,
            },
            injured: Bounds {
                low: row.injured_low,
                best: row.injured_best,
                high: row.injured_high,
            },
        },
        perpetrators,
        sources,
        attributes: serde_json::from_str(&row.attributes).unwrap_or_default(),
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
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

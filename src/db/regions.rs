//! Named regions: lists of countries that analysts name themselves ("Middle East", "Sahel"),
//! matched case-insensitively.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::incidents::now;
use super::schema::named_region_countries as members;
use super::DbConnection;

/// A named region as stored: its name as last written and its alpha-3 country codes, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedRegion {
    pub name: String,
    pub countries: Vec<String>,
}

fn key(name: &str) -> String {
    name.to_lowercase()
}

/// Stores region `name` with exactly `countries`; true when it is new.
pub fn put(conn: &mut DbConnection, name: &str, countries: &[String]) -> QueryResult<bool> {
    let region_key = key(name);
    let now = now();
    super::write_transaction(conn, |conn| {
        let replaced = diesel::delete(members::table.filter(members::region_key.eq(&region_key)))
            .execute(conn)?;
        let rows: Vec<_> = countries
            .iter()
            .map(|code| {
                (
                    members::region_key.eq(&region_key),
                    members::region.eq(name),
                    members::country_code.eq(code),
                    members::updated_at.eq(now),
                )
            })
            .collect();
        super::on_backend!(conn, c => diesel::insert_into(members::table).values(&rows).execute(c))?;
        Ok(replaced == 0)
    })
}

/// Deletes region `name`; false when there was none.
pub fn delete(conn: &mut DbConnection, name: &str) -> QueryResult<bool> {
    let deleted =
        diesel::delete(members::table.filter(members::region_key.eq(key(name)))).execute(conn)?;
    Ok(deleted > 0)
}

/// Every named region, by name.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<NamedRegion>> {
    load(members::table.into_boxed(), conn)
}

/// The named regions among `names` (any case); names not found are left out.
pub fn find(conn: &mut DbConnection, names: &[String]) -> QueryResult<Vec<NamedRegion>> {
    let keys: Vec<String> = names.iter().map(|n| key(n)).collect();
    load(
        members::table
            .filter(super::sql::text_in(members::region_key, keys))
            .into_boxed(),
        conn,
    )
}

fn load(
    query: members::BoxedQuery<'_, super::Db>,
    conn: &mut DbConnection,
) -> QueryResult<Vec<NamedRegion>> {
    let rows: Vec<(String, String)> = query
        .select((members::region, members::country_code))
        .order((members::region_key, members::country_code))
        .load(conn)?;
    let mut regions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (region, code) in rows {
        regions.entry(region).or_default().push(code);
    }
    Ok(regions
        .into_iter()
        .map(|(name, countries)| NamedRegion { name, countries })
        .collect())
}

//! Finding incidents: the one filter type, sorting and pagination, and the queries that run
//! them for the list, the exports and the stats.

pub mod cache;
pub mod export;
pub mod filter;
pub mod page;
pub mod params;
pub mod search;
pub mod stats;
pub mod vocabulary;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::history::{AsOf, Scope};
use crate::db::incidents::StoredIncident;
use crate::db::schema::incidents;
use crate::db::sql::{bigint_in, in_query};
use crate::db::DbConnection;
pub use filter::Filter;
pub use page::Page;
pub use params::Params;

/// One page of incidents and the cursor of the next.
#[derive(Debug)]
pub struct Listing {
    pub incidents: Vec<StoredIncident>,
    pub next_cursor: Option<page::Cursor>,
    pub total: Option<i64>,
    /// The time the answer reflects, when not now.
    pub as_of: Option<chrono::NaiveDateTime>,
}

/// The page of incidents that `filter` and `page` select.
pub fn list(conn: &mut DbConnection, filter: &Filter, page: &Page) -> QueryResult<Listing> {
    let mut rows = match filter.as_of {
        Some(time) => merged_halves(conn, filter, page, time)?,
        None => page_rows(conn, filter, page, Scope::Now)?,
    };
    let more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit as usize);
    let next_cursor = match rows.last() {
        Some(last) if more => Some(page.cursor_after(last, score(conn, filter, page, last.id)?)),
        _ => None,
    };
    let total = if page.count {
        Some(count(conn, filter)?)
    } else {
        None
    };
    Ok(Listing {
        incidents: rows,
        next_cursor,
        total,
        as_of: filter.as_of,
    })
}

/// The page's rows (and one more, when there are more) among the versions of `scope`.
fn page_rows(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &Page,
    scope: Scope,
) -> QueryResult<Vec<StoredIncident>> {
    if scope == Scope::Now {
        if let Some(ids) = search::page_ids(conn, filter, page)? {
            return rows_by_ids(conn, &ids, scope);
        }
    }
    if filter.spans_several_ranges() || page.sorts_off_index() {
        return page_by_ids(conn, filter, page, scope);
    }
    let query = page
        .apply(
            filter.apply(incidents::table.into_boxed()),
            filter.search.as_ref(),
        )
        .select(StoredIncident::as_select());
    AsOf::new(query, scope).load(conn)
}

/// The page as of `time`: the page among the current versions unchanged since, and the page
/// among the archived versions current then, merged. Each reads its indexes in order and
/// stops at the page's end; over their union the database would gather and sort every match.
fn merged_halves(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &Page,
    time: NaiveDateTime,
) -> QueryResult<Vec<StoredIncident>> {
    let halves = [Scope::Current(time), Scope::Archived(time)];
    let mut keyed = Vec::new();
    for scope in halves {
        for row in page_rows(conn, filter, page, scope)? {
            keyed.push((page.cursor_after(&row, None), row));
        }
    }
    // Keys are unique (the id ends each), so the order is total.
    keyed.sort_by(|(a, _), (b, _)| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if page.descending() {
        keyed.reverse();
    }
    keyed.truncate(page.limit as usize + 1);
    Ok(keyed.into_iter().map(|(_, row)| row).collect())
}

/// The relevance score of incident `id` when the page is sorted by it: only the last row of a
/// page needs one, for the cursor.
fn score(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &Page,
    id: i64,
) -> QueryResult<Option<f64>> {
    match (&filter.search, page.sort) {
        (Some(search), page::Sort::Relevance) => incidents::table
            .find(id)
            .select(search.score())
            .first(conn)
            .map(Some),
        _ => Ok(None),
    }
}

/// The page for matches that no single index range returns in order (several countries,
/// sorting by casualties): the ids are chosen and sorted on the indexes alone, then only the
/// page's rows are read, so the sort never carries every match's document. Both steps are
/// one statement (`id IN (the page's ids)`, the rows sorted again), except for relevance,
/// whose score is the search's, and "as of" a time.
fn page_by_ids(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &Page,
    scope: Scope,
) -> QueryResult<Vec<StoredIncident>> {
    let ids = page
        .apply(
            filter.apply(incidents::table.into_boxed()),
            filter.search.as_ref(),
        )
        .select(incidents::id);
    // "As of" a time, `incidents` is a CTE: named twice, both databases would materialise it.
    if page.sort == page::Sort::Relevance || scope != Scope::Now {
        let page_ids: Vec<i64> = AsOf::new(ids, scope).load(conn)?;
        return rows_by_ids(conn, &page_ids, scope);
    }
    let rows = page
        .sorted(incidents::table.into_boxed())
        .filter(in_query(incidents::id, ids))
        .select(StoredIncident::as_select());
    rows.load(conn)
}

/// The rows of `ids` among the versions of `scope`, in the order of `ids`.
fn rows_by_ids(
    conn: &mut DbConnection,
    ids: &[i64],
    scope: Scope,
) -> QueryResult<Vec<StoredIncident>> {
    let rows_by_id = incidents::table
        .filter(bigint_in(incidents::id, ids.to_vec()))
        .select(StoredIncident::as_select());
    let mut rows: HashMap<i64, StoredIncident> = AsOf::new(rows_by_id, scope)
        .load_iter(conn)?
        .map(|row| row.map(|row| (row.id, row)))
        .collect::<QueryResult<_>>()?;
    Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
}

/// How many incidents match `filter`.
pub fn count(conn: &mut DbConnection, filter: &Filter) -> QueryResult<i64> {
    filter
        .at_time(filter.apply(incidents::table.into_boxed()).count())
        .get_result(conn)
}

/// How many incidents match `filter` but have no coordinates (what a GeoJSON export leaves out).
pub fn count_without_coordinates(conn: &mut DbConnection, filter: &Filter) -> QueryResult<i64> {
    let query = filter.apply(incidents::table.into_boxed()).filter(
        incidents::latitude
            .is_null()
            .or(incidents::longitude.is_null()),
    );
    filter.at_time(query.count()).get_result(conn)
}

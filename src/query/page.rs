//! Sorting and keyset pagination of the incident list. A cursor holds the sort key and id of
//! the last row served, so pages stay stable while rows are inserted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::filter::{Filter, IncidentQuery};
use super::search::Search;
use crate::db::incidents::StoredIncident;
use crate::db::schema::incidents;
use crate::db::sql::{sql, Sql};
use crate::error::{AppError, AppResult};
use crate::model::wire::WireName;
use crate::param_name;

/// Paging and ordering of `GET /v1/incidents`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Order of the rows; ties are broken by id in the same direction. `-killed` puts
    /// incidents with unknown killed last. `relevance` (with `q`, not with `as_of` or
    /// `release`): best match first (SQLite's bm25, PostgreSQL's `ts_rank`), then newest;
    /// its pages are stable while no incident is written, as every write changes the scores.
    /// Example: `-occurred_on`.
    #[param(inline)]
    pub sort: Option<Sort>,
    /// Rows per page, 1 to 1000 (default 100). Example: `100`.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u16>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Also return `total`, the number of matching incidents. Example: `true`.
    pub count: Option<bool>,
}

/// The orders the list can be sorted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum Sort {
    #[default]
    #[serde(rename = "-occurred_on")]
    NewestFirst,
    #[serde(rename = "occurred_on")]
    OldestFirst,
    #[serde(rename = "-killed")]
    MostKilledFirst,
    #[serde(rename = "killed")]
    LeastKilledFirst,
    #[serde(rename = "-injured")]
    MostInjuredFirst,
    #[serde(rename = "injured")]
    LeastInjuredFirst,
    #[serde(rename = "id")]
    Id,
    #[serde(rename = "relevance")]
    Relevance,
}

impl WireName for Sort {}

impl Sort {
    fn descending(self) -> bool {
        matches!(
            self,
            Sort::NewestFirst | Sort::MostKilledFirst | Sort::MostInjuredFirst
        )
    }

    /// The casualty figure this order is by, if any.
    fn figure(self) -> Option<Figure> {
        match self {
            Sort::MostKilledFirst | Sort::LeastKilledFirst => Some(Figure::Killed),
            Sort::MostInjuredFirst | Sort::LeastInjuredFirst => Some(Figure::Injured),
            Sort::NewestFirst | Sort::OldestFirst | Sort::Id | Sort::Relevance => None,
        }
    }
}

/// A casualty figure as the sorts and the `*_min`/`*_max` bounds read it: the effective
/// figure, `best`, else `low` ("at least 22" counts as 22); unknown when neither is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Killed,
    Injured,
}

impl Figure {
    /// SQL of the effective figure, NULL when unknown.
    pub const fn effective(self) -> &'static str {
        match self {
            Figure::Killed => "COALESCE(killed_best, killed_low)",
            Figure::Injured => "COALESCE(injured_best, injured_low)",
        }
    }

    /// SQL of the sort key: the effective figure, or -1, below every known count.
    const fn sort_key(self) -> &'static str {
        match self {
            Figure::Killed => "COALESCE(killed_best, killed_low, -1)",
            Figure::Injured => "COALESCE(injured_best, injured_low, -1)",
        }
    }

    /// The sort key of `row`, from its document: only the last row of a page sorted by a
    /// figure needs it, so the page query reads no casualty columns beyond `killed_best`.
    fn key_of(self, row: &StoredIncident) -> i32 {
        let Ok(incident) = row.incident() else {
            return -1;
        };
        let casualties = incident.body.casualties;
        let bounds = match self {
            Figure::Killed => casualties.killed,
            Figure::Injured => casualties.injured,
        };
        bounds.best.or(bounds.low).unwrap_or(-1)
    }
}

/// Where the previous page ended; also a row's key in the page's order (ascending).
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum Cursor {
    Date(NaiveDate, i64),
    /// A casualty sort's key (see `Figure`) and id.
    Figure(i32, i64),
    /// The relevance sort's score (see `Search::score`), date and id.
    Relevance(f64, NaiveDate, i64),
    Id(i64),
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub sort: Sort,
    pub limit: i64,
    pub cursor: Option<Cursor>,
    pub count: bool,
}

impl TryFrom<PageParams> for Page {
    type Error = AppError;

    fn try_from(params: PageParams) -> AppResult<Page> {
        let sort = params.sort.unwrap_or_default();
        let limit = params.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(AppError::parameter(
                param_name!(PageParams, limit),
                format!("expected an integer from 1 to 1000, got {limit}"),
            ));
        }
        let cursor = params
            .cursor
            .map(|text| decode_cursor(&text, sort))
            .transpose()
            .map_err(|message| AppError::parameter(param_name!(PageParams, cursor), message))?;
        Ok(Page {
            sort,
            limit: i64::from(limit),
            cursor,
            count: params.count.unwrap_or(false),
        })
    }
}

impl Page {
    /// `query` ordered, started after the cursor, and limited to one row more than the page
    /// (the extra row tells whether there is a next page); `search` is the filter's, which
    /// the relevance sort scores by.
    pub fn apply(&self, query: IncidentQuery, search: Option<&Search>) -> IncidentQuery {
        let query = match (self.sort, search) {
            (Sort::Relevance, Some(search)) => self.by_relevance(query, search),
            _ => self.after_cursor(self.sorted(query)),
        };
        query.limit(self.limit + 1)
    }

    /// Whether the order is from the largest key down.
    pub fn descending(&self) -> bool {
        self.sort.descending()
    }

    /// The relevance sort needs `q`, and scores the current index only.
    pub fn check_sort(&self, filter: &Filter) -> AppResult<()> {
        let problem = match (self.sort, &filter.search) {
            (Sort::Relevance, None) => "relevance needs q, the words it ranks by",
            (Sort::Relevance, _) if filter.as_of.is_some() || filter.release.is_some() => {
                "relevance ranks incidents as they are now: not with as_of or release"
            }
            _ => return Ok(()),
        };
        Err(AppError::parameter(param_name!(PageParams, sort), problem))
    }

    /// Whether the order is by a figure or a score, which no index holds.
    pub fn sorts_off_index(&self) -> bool {
        self.sort.figure().is_some() || self.sort == Sort::Relevance
    }

    /// Best score first, then newest: `score > s OR (score = s AND (occurred_on, id) <
    /// (date, id))` after a cursor.
    fn by_relevance(&self, query: IncidentQuery, search: &Search) -> IncidentQuery {
        let query = query.order((
            search.score().asc(),
            incidents::occurred_on.desc(),
            incidents::id.desc(),
        ));
        let Some(Cursor::Relevance(score, date, id)) = self.cursor else {
            return query;
        };
        query.filter(
            search
                .score()
                .gt(score)
                .or(search.score().eq(score).and(row_after(" < ", date, id))),
        )
    }

    /// `query` in this sort's order (by id for relevance, whose order needs the search).
    pub fn sorted(&self, query: IncidentQuery) -> IncidentQuery {
        match self.sort {
            Sort::NewestFirst => query.order((incidents::occurred_on.desc(), incidents::id.desc())),
            Sort::OldestFirst => query.order((incidents::occurred_on.asc(), incidents::id.asc())),
            Sort::Id | Sort::Relevance => query.order(incidents::id.asc()),
            sort => {
                let key = sql::<Integer>(sort.figure().map_or("id", Figure::sort_key));
                if sort.descending() {
                    query.order((key.desc(), incidents::id.desc()))
                } else {
                    query.order((key.asc(), incidents::id.asc()))
                }
            }
        }
    }

    fn after_cursor(&self, query: IncidentQuery) -> IncidentQuery {
        let descending = self.sort.descending();
        match self.cursor.clone() {
            None | Some(Cursor::Relevance(..)) => query,
            Some(Cursor::Id(id)) => query.filter(incidents::id.gt(id)),
            // A row-value comparison is one range of the date index on both databases (an
            // `a < x OR (a = x AND b < y)` made PostgreSQL scan the table for every page); the
            // plain bound beside it helps planners that do not read row values.
            Some(Cursor::Date(date, id)) if descending => query
                .filter(incidents::occurred_on.le(date))
                .filter(row_after(" < ", date, id)),
            Some(Cursor::Date(date, id)) => query
                .filter(incidents::occurred_on.ge(date))
                .filter(row_after(" > ", date, id)),
            Some(Cursor::Figure(figure, id)) => {
                let beyond = if descending { " < " } else { " > " };
                let key = self.sort.figure().map_or("id", Figure::sort_key);
                query.filter(
                    sql::<Bool>("(")
                        .sql(key)
                        .sql(beyond)
                        .bind(figure)
                        .sql(" OR (")
                        .sql(key)
                        .sql(" = ")
                        .bind(figure)
                        .sql(" AND id")
                        .sql(beyond)
                        .bind(id)
                        .sql("))"),
                )
            }
        }
    }

    /// The cursor that continues after `row`; `score` is its score in the relevance sort.
    pub fn cursor_after(&self, row: &StoredIncident, score: Option<f64>) -> Cursor {
        match (self.sort, self.sort.figure()) {
            (Sort::Relevance, _) => {
                Cursor::Relevance(score.unwrap_or_default(), row.occurred_on, row.id)
            }
            (_, Some(figure)) => Cursor::Figure(figure.key_of(row), row.id),
            (Sort::NewestFirst | Sort::OldestFirst, None) => Cursor::Date(row.occurred_on, row.id),
            _ => Cursor::Id(row.id),
        }
    }

    /// `cursor` as the opaque text clients pass back.
    pub fn encode(&self, cursor: &Cursor) -> String {
        let key = match cursor {
            Cursor::Date(date, _) => date.to_string(),
            Cursor::Figure(figure, _) => figure.to_string(),
            // Rust writes the shortest text that reads back as the same float.
            Cursor::Relevance(score, date, _) => format!("{score} {date}"),
            Cursor::Id(_) => String::new(),
        };
        let id = match cursor {
            Cursor::Date(_, id)
            | Cursor::Figure(_, id)
            | Cursor::Relevance(_, _, id)
            | Cursor::Id(id) => id,
        };
        URL_SAFE_NO_PAD.encode(format!("{}|{key}|{id}", self.sort.wire_name()))
    }
}

/// `(occurred_on, id) <op> (date, id)`.
fn row_after(op: &'static str, date: NaiveDate, id: i64) -> Sql<Bool> {
    sql::<Bool>("(occurred_on, id)")
        .sql(op)
        .sql("(")
        .bind(date)
        .sql(", ")
        .bind(id)
        .sql(")")
}

fn decode_cursor(text: &str, sort: Sort) -> Result<Cursor, String> {
    let invalid =
        || "not a cursor of this list; pass next_cursor unchanged, with the same sort".to_string();
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let decoded = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = decoded.splitn(3, '|');
    let (Some(name), Some(key), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    if name != sort.wire_name() {
        return Err(invalid());
    }
    let id: i64 = id.parse().map_err(|_| invalid())?;
    // Only the dates rows can have: others are out of PostgreSQL's range.
    let date = |text: &str| {
        text.parse::<NaiveDate>()
            .ok()
            .filter(|date| (1..=9999).contains(&date.year()))
    };
    match sort {
        Sort::NewestFirst | Sort::OldestFirst => date(key)
            .map(|date| Cursor::Date(date, id))
            .ok_or_else(invalid),
        Sort::Relevance => {
            let (score, day) = key.split_once(' ').ok_or_else(invalid)?;
            let score = score.parse::<f64>().ok().filter(|s| s.is_finite());
            match (score, date(day)) {
                (Some(score), Some(day)) => Ok(Cursor::Relevance(score, day, id)),
                _ => Err(invalid()),
            }
        }
        Sort::Id => Ok(Cursor::Id(id)),
        _ => key
            .parse()
            .map(|figure| Cursor::Figure(figure, id))
            .map_err(|_| invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_sort() {
        let page = Page {
            sort: Sort::MostKilledFirst,
            limit: 10,
            cursor: None,
            count: false,
        };
        let text = page.encode(&Cursor::Figure(-1, 42));
        assert_eq!(
            decode_cursor(&text, Sort::MostKilledFirst),
            Ok(Cursor::Figure(-1, 42))
        );
        assert!(decode_cursor(&text, Sort::NewestFirst).is_err());
        assert!(decode_cursor("garbage!", Sort::Id).is_err());
        for tampered in [
            "-occurred_on|-100000-01-01|5",
            "-occurred_on|+10000-01-01|5",
        ] {
            let text = URL_SAFE_NO_PAD.encode(tampered);
            assert!(
                decode_cursor(&text, Sort::NewestFirst).is_err(),
                "{tampered}"
            );
        }
    }
}

//! Full-text search: `q`'s query language, parsed once into a small tree and written as an
//! SQLite FTS5 `MATCH` expression and as a PostgreSQL `tsquery`, and the text it searches.
//!
//! Both databases see the same words: the searchable text is folded here (transliterated to
//! ASCII, lower-cased, every run of other characters one space) before it is stored, and so
//! are the query's words. SQLite indexes it in FTS5 (`porter` stems), PostgreSQL with a GIN
//! index on its stored `to_tsvector('english', …)`, `search_vector` (Snowball stems; English
//! stop words are left out).

use std::collections::HashSet;

use diesel::expression::ValidGrouping;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Double, Text};
use diesel::sqlite::Sqlite;

use super::filter::Filter;
use super::page::{Cursor, Page, Sort};
use crate::db::schema::incidents;
use crate::db::{Db, DbConnection, SEARCH_KEY};

/// Most words `q` may hold, in all its terms.
pub const MAX_WORDS: usize = 32;

/// The low 40 bits of an FTS5 row key hold the incident's id (see `search_key`).
const ID_BITS: u32 = 40;

/// A parsed `q`: every group must match (a group matches when any of its terms does), and
/// no excluded term may.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    all: Vec<Vec<Term>>,
    excluded: Vec<Term>,
    /// The FTS5 `MATCH` expression and the `tsquery` text, written once.
    fts5: String,
    tsquery: String,
}

/// A word, or a phrase of words in this order; `prefix` makes the last word a prefix.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    words: Vec<String>,
    prefix: bool,
}

enum Token {
    Term { term: Term, excluded: bool },
    Or,
}

impl Search {
    /// Parses `q`: words (all must occur), `"a phrase"`, `a OR b`, `-word` (must not occur),
    /// `pref*`. Blank is no search; `Err` says what is wrong.
    pub fn parse(q: &str) -> Result<Option<Search>, String> {
        if q.trim().is_empty() {
            return Ok(None);
        }
        let tokens = tokens(q);
        let words: usize = tokens
            .iter()
            .map(|token| match token {
                Token::Term { term, .. } => term.words.len(),
                Token::Or => 0,
            })
            .sum();
        if words > MAX_WORDS {
            return Err(format!("at most {MAX_WORDS} words, got {words}"));
        }
        let (all, excluded) = group(tokens)?;
        if all.is_empty() {
            return Err("no word to search for (`-word` only leaves words out)".into());
        }
        let mut search = Search {
            all,
            excluded,
            fts5: String::new(),
            tsquery: String::new(),
        };
        search.fts5 = search.render(&FTS5);
        search.tsquery = search.render(&TSQUERY);
        Ok(Some(search))
    }

    /// The condition that an incident matches: on SQLite the FTS5 index of current rows, or,
    /// `as_of` a time, those of current rows and archived versions, each row matched by the
    /// index of its own version; on PostgreSQL the GIN index (as of a time, the same
    /// expression on the versions' text).
    pub fn matches(&self, as_of: bool) -> Matches {
        Matches {
            fts5: self.fts5.clone(),
            tsquery: self.tsquery.clone(),
            as_of,
        }
    }

    /// How well an incident matches, lower is better: SQLite's bm25, PostgreSQL's `ts_rank`
    /// negated. Only for current rows (relevance is not offered `as_of` a time).
    pub fn score(&self) -> Score {
        Score {
            fts5: self.fts5.clone(),
            tsquery: self.tsquery.clone(),
        }
    }

    /// The FTS5 expression, for reading the index directly.
    pub fn fts5(&self) -> &str {
        &self.fts5
    }

    fn render(&self, syntax: &Syntax) -> String {
        let group = |terms: &[Term]| match terms {
            [one] => syntax.term(one),
            many => {
                let terms: Vec<String> = many.iter().map(|t| syntax.term(t)).collect();
                format!("({})", terms.join(syntax.or))
            }
        };
        let all: Vec<String> = self.all.iter().map(|terms| group(terms)).collect();
        let all = all.join(syntax.and);
        if self.excluded.is_empty() {
            return all;
        }
        format!("({all}){}{}", syntax.not, group(&self.excluded))
    }
}

/// How one backend writes the tree.
struct Syntax {
    and: &'static str,
    or: &'static str,
    not: &'static str,
    fts5: bool,
}

const FTS5: Syntax = Syntax {
    and: " AND ",
    or: " OR ",
    not: " NOT ",
    fts5: true,
};

const TSQUERY: Syntax = Syntax {
    and: " & ",
    or: " | ",
    not: " & !",
    fts5: false,
};

impl Syntax {
    /// A term; its words are `[a-z0-9]+`, so quoting them needs no escapes.
    fn term(&self, term: &Term) -> String {
        let star = if term.prefix { "*" } else { "" };
        if self.fts5 {
            return format!("\"{}\"{star}", term.words.join(" "));
        }
        let last = term.words.len() - 1;
        let words: Vec<String> = term
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| match term.prefix && i == last {
                true => format!("'{w}':*"),
                false => format!("'{w}'"),
            })
            .collect();
        format!("({})", words.join(" <-> "))
    }
}

/// The words, quoted phrases and `OR`s of `q`; a token with no letter or digit is left out.
fn tokens(q: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = q.trim_start();
    while !rest.is_empty() {
        let excluded = rest.len() > 1 && rest.starts_with('-');
        if excluded {
            rest = &rest[1..];
        }
        let (text, quoted, after) = match rest.strip_prefix('"') {
            Some(inner) => {
                let end = inner.find('"').unwrap_or(inner.len());
                (&inner[..end], true, inner.get(end + 1..).unwrap_or(""))
            }
            None => {
                let end = rest.find(|c: char| c.is_whitespace() || c == '"');
                let end = end.unwrap_or(rest.len());
                (&rest[..end], false, &rest[end..])
            }
        };
        let (text, prefix, after) = match (quoted, after.strip_prefix('*')) {
            (true, Some(after)) => (text, true, after),
            (true, None) => (text, false, after),
            (false, _) => (text.trim_end_matches('*'), text.ends_with('*'), after),
        };
        rest = after.trim_start();
        if text == "OR" && !quoted && !excluded {
            tokens.push(Token::Or);
            continue;
        }
        let words = words(text);
        if !words.is_empty() {
            let term = Term { words, prefix };
            tokens.push(Token::Term { term, excluded });
        }
    }
    tokens
}

/// The groups of terms joined by `OR`, and the excluded terms.
fn group(tokens: Vec<Token>) -> Result<(Vec<Vec<Term>>, Vec<Term>), String> {
    let or_needs = "OR needs a word to search for on each side";
    let mut all: Vec<Vec<Term>> = Vec::new();
    let mut excluded = Vec::new();
    // Whether the last token was a word to search for, and whether an OR waits for its right.
    let (mut after_word, mut pending_or) = (false, false);
    for token in tokens {
        match token {
            Token::Or if !after_word => return Err(or_needs.into()),
            Token::Or => (after_word, pending_or) = (false, true),
            Token::Term { excluded: true, .. } if pending_or => return Err(or_needs.into()),
            Token::Term {
                term,
                excluded: true,
            } => {
                excluded.push(term);
                after_word = false;
            }
            Token::Term { term, .. } => {
                match all.last_mut() {
                    Some(terms) if pending_or => terms.push(term),
                    _ => all.push(vec![term]),
                }
                (after_word, pending_or) = (true, false);
            }
        }
    }
    if pending_or {
        return Err(or_needs.into());
    }
    Ok((all, excluded))
}

/// The words of `text` as they are searched: folded like the stored text.
fn words(text: &str) -> Vec<String> {
    let mut folded = String::new();
    fold_into(&mut folded, text);
    folded.split_whitespace().map(str::to_string).collect()
}

/// Appends `text` folded: transliterated to ASCII, lower-cased, and each run of characters
/// other than letters and digits one space (so the databases' parsers read only plain words,
/// and split them alike), with no space at either end.
fn fold_into(out: &mut String, text: &str) {
    let transliterated;
    let text = if text.is_ascii() {
        text
    } else {
        transliterated = deunicode::deunicode(text);
        &transliterated
    };
    let mut gap = !out.is_empty();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() {
            if gap {
                out.push(' ');
                gap = false;
            }
            out.push(char::from(byte.to_ascii_lowercase()));
        } else {
            gap = !out.is_empty();
        }
    }
}

/// The stored `search_text` of these texts, folded and joined, each thing said once: a text
/// already said word for word (a place named in the description) is left out, and one that
/// quotes an earlier long one (an excerpt repeating the description) adds only what it says
/// beyond it. A search finds the same incidents, and the index stays about the size of what
/// the incident says, which is what an import pays for.
pub fn searchable<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    // Everything said so far, a space before and after each text.
    let mut said = String::from(" ");
    let mut quotable: Vec<std::ops::Range<usize>> = Vec::new();
    let mut folded = String::new();
    for text in texts {
        folded.clear();
        fold_into(&mut folded, text);
        for range in &quotable {
            unquote(&mut folded, &said[range.clone()]);
        }
        let bounded = format!(" {folded} ");
        if folded.is_empty() || find(&said, &bounded).is_some() {
            continue;
        }
        let start = said.len();
        said.push_str(&folded);
        if folded.len() >= QUOTED {
            quotable.push(start..said.len());
        }
        said.push(' ');
    }
    said.trim().to_string()
}

/// Where `needle` first occurs in `haystack`. Plainly: these texts are a few hundred bytes,
/// and setting up a substring searcher for each pair cost more than the search (2% of an
/// import).
fn find(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    let first = *needle.first()?;
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window[0] == first && window == needle)
}

/// Takes `earlier` out of `text` where it stands as whole words.
fn unquote(text: &mut String, earlier: &str) {
    if text.len() <= earlier.len() {
        return;
    }
    let Some(at) = find(text, earlier) else {
        return;
    };
    let end = at + earlier.len();
    let bytes = text.as_bytes();
    let bounded = (at == 0 || bytes[at - 1] == b' ') && (end == text.len() || bytes[end] == b' ');
    if bounded {
        text.replace_range(at..end, "");
        *text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
}

/// The shortest text whose repetition is left out of a later one: shorter ones (a name) are
/// part of what the later text says.
const QUOTED: usize = 24;

/// The FTS5 row key of an incident: its day (Julian day number) above its id, so the index
/// returns matches newest or oldest first, and a page of a common word reads only that page
/// of the index. SQLite computes the same (`db::SEARCH_KEY`).
pub fn search_key(occurred_on: chrono::NaiveDate, id: i64) -> i64 {
    use chrono::Datelike;
    // Day 1 of the common era is Julian day 1,721,426.
    let julian_day = i64::from(occurred_on.num_days_from_ce()) + 1_721_425;
    (julian_day << ID_BITS) + id
}

/// The id in a row key.
pub fn id_of_key(key: i64) -> i64 {
    key & ((1 << ID_BITS) - 1)
}

/// The condition of `Search::matches`.
#[derive(Debug, Clone)]
pub struct Matches {
    fts5: String,
    tsquery: String,
    as_of: bool,
}

/// The value of `Search::score`.
#[derive(Debug, Clone)]
pub struct Score {
    fts5: String,
    tsquery: String,
}

macro_rules! expression {
    ($type:ty, $sql_type:ty) => {
        impl Expression for $type {
            type SqlType = $sql_type;
        }

        impl<QS> AppearsOnTable<QS> for $type {}

        impl<QS> SelectableExpression<QS> for $type {}

        impl ValidGrouping<()> for $type {
            type IsAggregate = is_aggregate::Never;
        }

        impl QueryId for $type {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }

        // Each database's own SQL: the multi-backend connection asks the one it runs on.
        impl QueryFragment<Db> for $type {
            fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Db>) -> QueryResult<()> {
                Db::walk_variant_ast(self, pass)
            }
        }
    };
}

expression!(Matches, Bool);
expression!(Score, Double);

impl QueryFragment<Sqlite> for Matches {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        let current = "SELECT rowid & 1099511627775 FROM incident_search \
                       WHERE incident_search MATCH ";
        if !self.as_of {
            out.push_sql("id IN (");
            out.push_sql(current);
            out.push_bind_param::<Text, _>(&self.fts5)?;
            out.push_sql(")");
            return Ok(());
        }
        // `incidents` is the versions current at the time; `main.incidents` the table.
        out.push_sql(
            "(id, version) IN (SELECT m.id, m.version FROM main.incidents m WHERE m.id IN (",
        );
        out.push_sql(current);
        out.push_bind_param::<Text, _>(&self.fts5)?;
        out.push_sql(
            ") UNION ALL SELECT v.id, v.version FROM incident_versions v WHERE v.version_id IN \
             (SELECT rowid FROM incident_version_search WHERE incident_version_search MATCH ",
        );
        out.push_bind_param::<Text, _>(&self.fts5)?;
        out.push_sql("))");
        Ok(())
    }
}

impl QueryFragment<Pg> for Matches {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        walk_tsquery(out, "search_vector @@ ", &self.tsquery, "")
    }
}

impl QueryFragment<Sqlite> for Score {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(
            "(SELECT bm25(incident_search) FROM incident_search WHERE incident_search MATCH ",
        );
        out.push_bind_param::<Text, _>(&self.fts5)?;
        out.push_sql(" AND rowid = ");
        out.push_sql(SEARCH_KEY);
        out.push_sql(")");
        Ok(())
    }
}

impl QueryFragment<Pg> for Score {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        walk_tsquery(
            out,
            "(-ts_rank(search_vector, ",
            &self.tsquery,
            "))::float8",
        )
    }
}

/// PostgreSQL's SQL of `Matches` and `Score`: `tsquery` bound as a query of English words,
/// between `before` and `after`.
fn walk_tsquery<'b>(
    mut out: AstPass<'_, 'b, Pg>,
    before: &str,
    tsquery: &'b String,
    after: &str,
) -> QueryResult<()> {
    out.push_sql(before);
    out.push_sql("to_tsquery('english', ");
    out.push_bind_param::<Text, _>(tsquery)?;
    out.push_sql(")");
    out.push_sql(after);
    Ok(())
}

/// Most candidate keys read from the index in one step.
const LARGEST_STEP: i64 = 8192;

/// The ids of a page of `q` on SQLite now (not `as_of`), newest, oldest or best first, read
/// from the FTS5 index in the page's order: by row key for dates (see `search_key`), so a
/// common word reads a page of its matches instead of sorting them all; by score for
/// relevance, from one query, as FTS5 counts the documents of each word once per query
/// (bm25 asked row by row counted them again for every row). Candidates are read in growing
/// steps from the cursor and the filter's other conditions checked on them, until the page
/// (and one more row) is full or the matches run out. `None` for every other request.
pub fn page_ids(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &Page,
) -> QueryResult<Option<Vec<i64>>> {
    let (Some(search), None, DbConnection::Sqlite(_)) = (&filter.search, filter.as_of, &*conn)
    else {
        return Ok(None);
    };
    let Some(mut bound) = Bound::first(page) else {
        return Ok(None);
    };
    let others = filter.without_search();
    let alone = others == Filter::default();
    let wanted = page.limit + 1;
    let (mut ids, mut step) = (Vec::new(), wanted);
    loop {
        let keys = keys(conn, search, &bound, step)?;
        let candidates: Vec<i64> = keys.iter().map(|k| id_of_key(k.key)).collect();
        if alone {
            ids.extend(candidates);
        } else {
            ids.extend(matching(conn, &others, candidates)?);
        }
        match keys.last() {
            Some(last) if (ids.len() as i64) < wanted && keys.len() as i64 == step => {
                bound = bound.after(last);
                step = (step * 8).min(LARGEST_STEP);
            }
            _ => break,
        }
    }
    ids.truncate(wanted as usize);
    Ok(Some(ids))
}

/// Where the next candidates start: after a row key (dates), or after a score and key.
enum Bound {
    Before(i64),
    After(i64),
    Worse(f64, i64),
}

impl Bound {
    /// The page's start, for the sorts the index serves.
    fn first(page: &Page) -> Option<Bound> {
        let key = |cursor: &Option<Cursor>| match cursor {
            Some(Cursor::Date(date, id)) => Some(search_key(*date, *id)),
            _ => None,
        };
        match (page.sort, &page.cursor) {
            (Sort::NewestFirst, cursor) => Some(Bound::Before(key(cursor).unwrap_or(i64::MAX))),
            (Sort::OldestFirst, cursor) => Some(Bound::After(key(cursor).unwrap_or(i64::MIN))),
            (Sort::Relevance, Some(Cursor::Relevance(score, date, id))) => {
                Some(Bound::Worse(*score, search_key(*date, *id)))
            }
            (Sort::Relevance, _) => Some(Bound::Worse(f64::NEG_INFINITY, i64::MAX)),
            _ => None,
        }
    }

    fn after(&self, last: &Key) -> Bound {
        match self {
            Bound::Before(_) => Bound::Before(last.key),
            Bound::After(_) => Bound::After(last.key),
            Bound::Worse(..) => Bound::Worse(last.score, last.key),
        }
    }
}

#[derive(QueryableByName)]
struct Key {
    #[diesel(sql_type = BigInt)]
    key: i64,
    #[diesel(sql_type = Double)]
    score: f64,
}

/// Up to `limit` row keys of matches beyond `bound`, in order.
fn keys(
    conn: &mut DbConnection,
    search: &Search,
    bound: &Bound,
    limit: i64,
) -> QueryResult<Vec<Key>> {
    let DbConnection::Sqlite(conn) = conn else {
        return Ok(Vec::new());
    };
    let dates = "SELECT rowid AS key, 0e0 AS score FROM incident_search \
                 WHERE incident_search MATCH ?";
    let (sql, scored, key) = match *bound {
        Bound::Before(key) => (
            format!("{dates} AND rowid < ? ORDER BY rowid DESC LIMIT ?"),
            None,
            key,
        ),
        Bound::After(key) => (
            format!("{dates} AND rowid > ? ORDER BY rowid LIMIT ?"),
            None,
            key,
        ),
        Bound::Worse(score, key) => (
            "SELECT key, score FROM (SELECT rowid AS key, bm25(incident_search) AS score \
             FROM incident_search WHERE incident_search MATCH ?) \
             WHERE score > ? OR (score = ? AND key < ?) ORDER BY score, key DESC LIMIT ?"
                .to_string(),
            Some(score),
            key,
        ),
    };
    let mut query = diesel::sql_query(sql)
        .into_boxed::<Sqlite>()
        .bind::<Text, _>(search.fts5.as_str());
    if let Some(score) = scored {
        query = query.bind::<Double, _>(score).bind::<Double, _>(score);
    }
    query
        .bind::<BigInt, _>(key)
        .bind::<BigInt, _>(limit)
        .load(conn)
}

/// Those of `candidates` that `filter` matches, in their order.
fn matching(
    conn: &mut DbConnection,
    filter: &Filter,
    candidates: Vec<i64>,
) -> QueryResult<Vec<i64>> {
    let query = filter
        .apply(incidents::table.into_boxed())
        .select(incidents::id);
    let ids = serde_json::to_string(&candidates).expect("ids serialise");
    let matched: HashSet<i64> = Among { query, ids }
        .load_iter(conn)?
        .collect::<QueryResult<_>>()?;
    Ok(candidates
        .into_iter()
        .filter(|id| matched.contains(id))
        .collect())
}

/// `query` over the candidates alone: a materialised `incidents` of their rows (less the
/// document and the search text) shadows the table. With `id IN (…)` beside the filter, a
/// SQLite planner without statistics took the country index instead and read every incident of
/// the country for each step (200–300 ms for `q=killed&country=AF` at 1M, now a few).
struct Among<Q> {
    query: Q,
    ids: String,
}

crate::written_query!(Among<Q>);

impl<Q: QueryFragment<Db>> QueryFragment<Db> for Among<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        out.push_sql(
            "WITH incidents AS MATERIALIZED (SELECT id, dataset, external_id, occurred_on, \
             occurred_until, date_precision, event_type, sub_event_type, country_code, country, \
             region, subregion, source_region, admin1, admin2, place, latitude, longitude, \
             geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, \
             injured_high, version, created_at, updated_at, change, changed_by, change_reason \
             FROM main.incidents WHERE id IN (SELECT value FROM json_each(",
        );
        out.push_bind_param::<Text, _>(&self.ids)?;
        out.push_sql("))) ");
        self.query.walk_ast(out.reborrow())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(q: &str) -> (String, String) {
        let search = Search::parse(q).unwrap().unwrap();
        (search.fts5, search.tsquery)
    }

    #[test]
    fn the_language_is_written_alike_for_both_databases() {
        assert_eq!(both("Attack"), (r#""attack""#.into(), "('attack')".into()));
        assert_eq!(
            both(r#"kabúl "shopping area" rock* -taliban"#),
            (
                r#"("kabul" AND "shopping area" AND "rock"*) NOT "taliban""#.into(),
                "(('kabul') & ('shopping' <-> 'area') & ('rock':*)) & !('taliban')".into()
            )
        );
        assert_eq!(
            both("kabul mosul OR herat"),
            (
                r#""kabul" AND ("mosul" OR "herat")"#.into(),
                "('kabul') & (('mosul') | ('herat'))".into()
            )
        );
        // Punctuation splits words: a word with some inside is a phrase.
        assert_eq!(both("al-Qaeda").0, r#""al qaeda""#);
        assert_eq!(both("kabul --"), both("kabul"));
    }

    #[test]
    fn queries_with_nothing_to_find_are_refused() {
        assert_eq!(Search::parse("  "), Ok(None));
        for bad in [
            "-kabul",
            "%",
            "kabul OR",
            "' OR 1=1 --",
            "a OR -b",
            "a OR OR b",
        ] {
            assert!(Search::parse(bad).is_err(), "{bad}");
        }
        let many = vec!["a"; 33].join(" ");
        assert!(Search::parse(&many).unwrap_err().contains("32"));
    }

    #[test]
    fn stored_text_is_folded_and_says_each_thing_once() {
        let description = "Rockets hit the Shopping Area of Kabúl.";
        let excerpt = "KABUL (Wire) - Rockets hit the Shopping Area of Kabúl.";
        assert_eq!(
            searchable([description, excerpt, "Kabul", "Kabul", "Wire Service"]),
            "rockets hit the shopping area of kabul kabul wire wire service"
        );
    }

    #[test]
    fn row_keys_order_by_day_then_id() {
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(search_key(day(1, 1, 1), 0) >> ID_BITS, 1_721_426);
        assert!(search_key(day(2020, 11, 21), 9) < search_key(day(2020, 11, 22), 1));
        assert_eq!(id_of_key(search_key(day(9999, 12, 31), 123_456)), 123_456);
    }
}

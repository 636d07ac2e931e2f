//! SQL fragments whose prepared statements can be cached. Diesel caches a statement per
//! connection unless one of its fragments says the text may differ between runs of the same
//! code: `eq_any` says so (the text grows with the list) and so does every `sql()` literal.
//! One such fragment makes the whole statement prepared afresh on every request, which costs
//! more than reading a page of rows from an index. The fragments here have a text fixed by
//! their shape (the number of values, the code's own SQL), so the cache, keyed by the text,
//! prepares each shape once per connection.

use std::marker::PhantomData;

use chrono::NaiveDate;
use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression};
use diesel::expression::{TypedExpressionType, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Date, Double, HasSqlType, Integer, Nullable, Text};
use diesel::QueryResult;

/// Makes `$query`, whose `QueryFragment` writes its SQL, a query diesel runs on any connection,
/// giving rows of `$rows`; `$query<Q>` wraps another query `Q` and gives its rows. Its text
/// varies with its values, so it has no static query id: the statement cache is keyed by the
/// text (see the module comment).
#[macro_export]
macro_rules! written_query {
    ($query:ident<Q>) => {
        impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for $query<Q> {
            type SqlType = Q::SqlType;
        }

        impl<Q> diesel::query_builder::QueryId for $query<Q> {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }

        impl<Q, Conn> diesel::RunQueryDsl<Conn> for $query<Q> {}
    };
    ($query:ty => $rows:ty) => {
        impl diesel::query_builder::Query for $query {
            type SqlType = $rows;
        }

        impl diesel::query_builder::QueryId for $query {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }

        impl<Conn> diesel::RunQueryDsl<Conn> for $query {}
    };
}

/// Lists longer than this are prepared afresh: so few requests carry them, and they read so
/// many rows, that caching each length would only hold memory.
const LONGEST_CACHED_LIST: usize = 128;

/// Lists a client gives (countries, event types, …) up to this long keep their length;
/// longer ones are padded (see `placeholders`).
const LONGEST_EXACT_LIST: usize = 16;

/// How many placeholders a list of `len` values a client gave gets: up to 16 its length, then
/// the next power of two, the last value repeated (`x IN (a, b, c, c)` is `x IN (a, b, c)`).
/// A connection's statement cache then holds 19 lengths of each list instead of 128, so a
/// client varying its lists cannot make it grow much.
fn placeholders(len: usize) -> usize {
    if len <= LONGEST_EXACT_LIST || len > LONGEST_CACHED_LIST {
        len
    } else {
        len.next_power_of_two()
    }
}

/// `expression IN (?, ?, …)`, NULL-safe as SQL's own: a NULL expression matches nothing.
#[derive(Debug, Clone)]
pub struct InList<E, ST, T> {
    expression: E,
    values: Vec<T>,
    padded: bool,
    bind_type: PhantomData<ST>,
}

/// `expression IN (values)`, the values (a client's) bound as text, the list padded.
pub fn text_in<E>(expression: E, values: Vec<String>) -> InList<E, Text, String> {
    InList {
        expression,
        values,
        padded: true,
        bind_type: PhantomData,
    }
}

/// `expression IN (values)`, the values bound as 64-bit integers. Not padded: these are a
/// page's ids, as many as the page has rows, and padding them cost 10% of a page read by ids.
pub fn bigint_in<E>(expression: E, values: Vec<i64>) -> InList<E, BigInt, i64> {
    InList {
        expression,
        values,
        padded: false,
        bind_type: PhantomData,
    }
}

impl<E: Expression, ST, T> Expression for InList<E, ST, T> {
    type SqlType = Nullable<Bool>;
}

impl<E, ST, T, QS> AppearsOnTable<QS> for InList<E, ST, T>
where
    E: AppearsOnTable<QS>,
    Self: Expression,
{
}

impl<E, ST, T, QS> SelectableExpression<QS> for InList<E, ST, T>
where
    E: SelectableExpression<QS>,
    Self: AppearsOnTable<QS>,
{
}

impl<E: ValidGrouping<()>, ST, T> ValidGrouping<()> for InList<E, ST, T> {
    type IsAggregate = E::IsAggregate;
}

impl<E, ST, T> QueryId for InList<E, ST, T> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

// Generic over the backend: inside a subquery, the multi-backend connection asks each
// database's own implementation.
impl<E, ST, T, DB> QueryFragment<DB> for InList<E, ST, T>
where
    DB: Backend + HasSqlType<ST>,
    E: QueryFragment<DB>,
    T: ToSql<ST, DB>,
    ST: 'static,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.values.len() > LONGEST_CACHED_LIST {
            out.unsafe_to_cache_prepared();
        }
        if self.values.is_empty() {
            out.push_sql("1 = 0");
            return Ok(());
        }
        self.expression.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        let last = self.values.len() - 1;
        let slots = if self.padded {
            placeholders(self.values.len())
        } else {
            self.values.len()
        };
        for i in 0..slots {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<ST, T>(&self.values[i.min(last)])?;
        }
        out.push_sql(")");
        Ok(())
    }
}

/// `expression IN (query)`: rows chosen by a subquery in the statement that reads them, one
/// round trip where ids read first and rows second took two.
#[derive(Debug, Clone)]
pub struct InQuery<E, Q> {
    expression: E,
    query: Q,
}

/// `expression IN (query)`.
pub fn in_query<E, Q>(expression: E, query: Q) -> InQuery<E, Q> {
    InQuery { expression, query }
}

impl<E, Q> Expression for InQuery<E, Q> {
    type SqlType = Bool;
}

impl<E: AppearsOnTable<QS>, Q, QS> AppearsOnTable<QS> for InQuery<E, Q> {}

impl<E: SelectableExpression<QS>, Q, QS> SelectableExpression<QS> for InQuery<E, Q> {}

impl<E: ValidGrouping<()>, Q> ValidGrouping<()> for InQuery<E, Q> {
    type IsAggregate = E::IsAggregate;
}

impl<E, Q> QueryId for InQuery<E, Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<E, Q, DB> QueryFragment<DB> for InQuery<E, Q>
where
    DB: Backend,
    E: QueryFragment<DB>,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.expression.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// SQL written by this crate, with bound values: a `sql()` literal that can be cached. Only
/// `&'static str` goes into its text, so the text never depends on input.
#[derive(Debug, Clone)]
pub struct Sql<ST> {
    parts: Vec<Part>,
    sql_type: PhantomData<ST>,
}

#[derive(Debug, Clone)]
enum Part {
    /// SQL text of this crate's own.
    Text(&'static str),
    Bound(Bound),
}

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub enum Bound {
    Date(NaiveDate),
    BigInt(i64),
    Integer(i32),
    Double(f64),
    Text(String),
}

macro_rules! bound_from {
    ($($rust:ty => $variant:ident),*) => {$(
        impl From<$rust> for Bound {
            fn from(value: $rust) -> Bound {
                Bound::$variant(value)
            }
        }
    )*};
}

bound_from!(NaiveDate => Date, i64 => BigInt, i32 => Integer, f64 => Double, String => Text);

/// `text` as an expression of type `ST`.
pub fn sql<ST>(text: &'static str) -> Sql<ST> {
    Sql {
        parts: vec![Part::Text(text)],
        sql_type: PhantomData,
    }
}

impl<ST> Sql<ST> {
    /// Appends SQL text.
    pub fn sql(mut self, text: &'static str) -> Self {
        self.parts.push(Part::Text(text));
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(mut self, value: impl Into<Bound>) -> Self {
        self.parts.push(Part::Bound(value.into()));
        self
    }
}

impl<ST: TypedExpressionType> Expression for Sql<ST> {
    type SqlType = ST;
}

impl<ST, QS> AppearsOnTable<QS> for Sql<ST> where Self: Expression {}

impl<ST, QS> SelectableExpression<QS> for Sql<ST> where Self: AppearsOnTable<QS> {}

impl<ST> ValidGrouping<()> for Sql<ST> {
    type IsAggregate = is_aggregate::Never;
}

impl<ST> QueryId for Sql<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, DB> QueryFragment<DB> for Sql<ST>
where
    DB: Backend
        + HasSqlType<Date>
        + HasSqlType<BigInt>
        + HasSqlType<Integer>
        + HasSqlType<Double>
        + HasSqlType<Text>,
    NaiveDate: ToSql<Date, DB>,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    i32: ToSql<Integer, DB>,
    f64: ToSql<Double, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_sql(text),
                Part::Bound(Bound::Date(value)) => out.push_bind_param::<Date, _>(value)?,
                Part::Bound(Bound::BigInt(value)) => out.push_bind_param::<BigInt, _>(value)?,
                Part::Bound(Bound::Integer(value)) => out.push_bind_param::<Integer, _>(value)?,
                Part::Bound(Bound::Double(value)) => out.push_bind_param::<Double, _>(value)?,
                Part::Bound(Bound::Text(value)) => out.push_bind_param::<Text, _>(value)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sqlite::Sqlite;

    use super::*;
    use crate::db::schema::incidents;

    fn sql_of(codes: Vec<String>) -> String {
        let query = incidents::table
            .select(incidents::id)
            .filter(text_in(incidents::country_code, codes));
        diesel::debug_query::<Sqlite, _>(&query).to_string()
    }

    fn codes(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn lists_beyond_sixteen_are_padded_to_a_power_of_two_with_their_last_value() {
        let three = sql_of(codes(&["AFG", "IRQ", "SYR"]));
        assert!(three.contains("IN (?, ?, ?)"), "{three}");
        let seventeen: Vec<String> = (0..17).map(|i| format!("C{i:02}")).collect();
        let padded = sql_of(seventeen);
        assert_eq!(padded.matches('?').count(), 32, "{padded}");
        assert_eq!(padded.matches(r#""C16""#).count(), 16, "{padded}");
        let long: Vec<String> = (0..200).map(|i| format!("C{i}")).collect();
        assert_eq!(sql_of(long).matches('?').count(), 200);
    }
}

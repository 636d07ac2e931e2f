//! Vocabularies: the values a field takes among the incidents a filter matches, each with how
//! many incidents have it, most frequent first (what a filter box suggests).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{BigInt, Text};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::filter::escape_like;
use super::Filter;
use crate::db::schema::incidents;
use crate::db::{Db, DbConnection};
use crate::error::{AppError, AppResult};
use crate::model::country;
use crate::model::validate::did_you_mean;
use crate::model::wire::{wire_names, WireName};
use crate::param_name;

/// What `GET /v1/vocabularies/{field}` takes besides the list's filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VocabularyParams {
    /// Only the values that start with this, case- and diacritic-insensitive (`bog` finds
    /// `Bogotá`). Here `q` is this prefix, not the list's words. Example: `bog`.
    pub q: Option<String>,
    /// At most this many values, 1 to 1000 (default 100). Example: `20`.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u16>,
}

/// The fields that have a vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VocabularyField {
    /// Perpetrators' names as stored (an incident with two counts for both).
    Perpetrator,
    EventType,
    SubEventType,
    /// The source dataset's own region labels.
    SourceRegion,
    Dataset,
    Admin1,
    Admin2,
    Place,
}

impl WireName for VocabularyField {}

impl VocabularyField {
    /// The field named `name`; an unknown one is a 400 naming the path's `field`.
    pub fn parse(name: &str) -> AppResult<VocabularyField> {
        VocabularyField::from_wire(name).map_err(|_| {
            let names = wire_names::<VocabularyField>();
            let suggestions = country::suggest(name, names.iter().map(|n| n.to_string()));
            AppError::InvalidParameter {
                parameter: "field".into(),
                message: format!(
                    "no vocabulary {name:?}{}; expected one of {}",
                    did_you_mean(&suggestions),
                    names.join(", ")
                ),
                suggestions,
            }
        })
    }

    /// The field's SQL over the matching incidents `i` (and their perpetrators `p`).
    fn sql(self) -> &'static str {
        match self {
            VocabularyField::Perpetrator => "p.name",
            VocabularyField::EventType => "i.event_type",
            VocabularyField::SubEventType => "i.sub_event_type",
            VocabularyField::SourceRegion => "i.source_region",
            VocabularyField::Dataset => "i.dataset",
            VocabularyField::Admin1 => "i.admin1",
            VocabularyField::Admin2 => "i.admin2",
            VocabularyField::Place => "i.place",
        }
    }
}

/// One value and how many of the matching incidents have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VocabularyEntry {
    #[schema(example = "Kabul")]
    pub value: String,
    #[schema(example = 1)]
    pub incidents: i64,
}

/// Most values one answer holds, and how many by default.
const MAX_LIMIT: u16 = 1000;
const DEFAULT_LIMIT: u16 = 100;

/// The `limit` parameter, checked.
pub fn limit(limit: Option<u16>) -> AppResult<usize> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        limit @ 1..=MAX_LIMIT => Ok(usize::from(limit)),
        other => Err(AppError::parameter(
            param_name!(VocabularyParams, limit),
            format!("expected an integer from 1 to {MAX_LIMIT}, got {other}"),
        )),
    }
}

/// The form values are compared in for diacritic-insensitive matching: transliterated to
/// ASCII and lower-cased (`Bogotá` is `bogota`).
pub fn fold(text: &str) -> String {
    deunicode::deunicode(text).to_lowercase()
}

/// The `limit` most frequent values of `field` among the incidents `filter` matches that
/// start with `prefix` once folded, by count then value. The database groups and counts;
/// the prefix is checked here, as neither database folds diacritics, and so is the order, as
/// their collations differ.
pub fn values(
    conn: &mut DbConnection,
    filter: &Filter,
    field: VocabularyField,
    prefix: Option<&str>,
    limit: usize,
) -> QueryResult<Vec<VocabularyEntry>> {
    let prefix = prefix.map(fold);
    let query = Counts {
        matching: Box::new(filter.apply(incidents::table.into_boxed()).select((
            incidents::id,
            incidents::dataset,
            incidents::event_type,
            incidents::sub_event_type,
            incidents::source_region,
            incidents::admin1,
            incidents::admin2,
            incidents::place,
        ))),
        field,
        pattern: prefix.as_deref().map(|p| format!("{}%", escape_like(p))),
    };
    // The best `limit` so far, the worst on top: memory stays at `limit` however many
    // distinct values there are.
    let mut best = BinaryHeap::with_capacity(limit + 1);
    for row in filter.at_time(query).load_iter::<(String, i64), _>(conn)? {
        let (value, incidents) = row?;
        if prefix
            .as_ref()
            .is_some_and(|p| !fold(&value).starts_with(p))
        {
            continue;
        }
        best.push((Reverse(incidents), value));
        if best.len() > limit {
            best.pop();
        }
    }
    Ok(best
        .into_sorted_vec()
        .into_iter()
        .map(|(Reverse(incidents), value)| VocabularyEntry { value, incidents })
        .collect())
}

/// `SELECT value, count FROM (matching rows) i [JOIN perpetrators p] WHERE value IS NOT NULL
/// [AND it may start with the prefix] GROUP BY value`. An ASCII value's `lower()` is its folded
/// form, so `LIKE` decides for it; a value with other characters may fold to the prefix
/// whatever its letters (`Évry`), so it is kept for `values` to check.
struct Counts {
    matching: Box<dyn QueryFragment<Db> + Send>,
    field: VocabularyField,
    /// `LIKE` pattern of the folded prefix.
    pattern: Option<String>,
}

impl QueryFragment<Db> for Counts {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        let value = self.field.sql();
        out.push_sql("SELECT ");
        out.push_sql(value);
        if self.field == VocabularyField::Perpetrator {
            // An incident naming the same perpetrator twice counts once.
            out.push_sql(", COUNT(DISTINCT i.id) FROM (");
        } else {
            out.push_sql(", COUNT(*) FROM (");
        }
        self.matching.walk_ast(out.reborrow())?;
        out.push_sql(") i");
        if self.field == VocabularyField::Perpetrator {
            out.push_sql(" JOIN incident_perpetrators p ON p.incident_id = i.id");
        }
        out.push_sql(" WHERE ");
        out.push_sql(value);
        out.push_sql(" IS NOT NULL");
        if let Some(pattern) = &self.pattern {
            out.push_sql(" AND (lower(");
            out.push_sql(value);
            out.push_sql(") LIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
            out.push_sql(" ESCAPE '\\' OR octet_length(");
            out.push_sql(value);
            out.push_sql(") > length(");
            out.push_sql(value);
            out.push_sql("))");
        }
        out.push_sql(" GROUP BY ");
        out.push_sql(value);
        Ok(())
    }
}

crate::written_query!(Counts => (Text, BigInt));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_diacritics() {
        assert_eq!([fold("Bogotá"), fold("ÉVRY")], ["bogota", "evry"]);
        assert!(fold("Bogotá D.C.").starts_with(&fold("BOG")));
    }
}

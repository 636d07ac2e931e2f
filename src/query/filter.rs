//! The one filter of the API: read and validated once from the query string, applied as one
//! diesel query by the list, the exports and the stats alike.

use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel::Column;
use serde::Deserialize;
use serde_with::DeserializeFromStr;
use utoipa::{IntoParams, ToSchema};

use super::page::Figure;
use super::params::{List, Timestamp};
use super::search::Search;
use super::vocabulary::fold;
use crate::db::history::{AsOf, Scope};
use crate::db::schema::{incident_perpetrators, incidents};
use crate::db::sql::{sql, text_in, Sql};
use crate::db::{regions, releases, Db, DbConnection};
use crate::error::{AppError, AppResult};
use crate::model::incident::{Claim, DatePrecision};
use crate::model::validate::{did_you_mean, snap_coordinate, MAX_CASUALTIES};
use crate::model::wire::WireName;
use crate::model::{actors, country};
use crate::param_name;

#[diesel::declare_sql_function]
extern "SQL" {
    fn lower(text: Text) -> Text;
    #[sql_name = "lower"]
    fn lower_nullable(text: Nullable<Text>) -> Nullable<Text>;
}

/// A boxed query over `incidents` on either backend.
pub type IncidentQuery = incidents::BoxedQuery<'static, Db>;

/// The filters shared by the list, the exports and the stats. All combine with AND; a
/// list (comma-separated, or the parameter repeated) means any of its values.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// First day, inclusive: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a year or month means its
    /// first day). Matches `occurred_on`, or the span with `date_match=overlap`.
    /// Example: `2020-11`.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")]
    pub from: Option<PartialDate>,
    /// Last day, inclusive: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a year or month means its last
    /// day). Example: `2020-11`.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")]
    pub to: Option<PartialDate>,
    /// How `from` and `to` match an incident's date: `start` (default), its `occurred_on`
    /// is within them; `overlap`, its possible span (`occurred_on` to `occurred_until`, and
    /// the whole month or year of `occurred_on` when `date_precision` is `month` or `year`)
    /// overlaps them. Example: `overlap`.
    #[param(inline)]
    pub date_match: Option<DateMatch>,
    /// Countries as ISO alpha-2, alpha-3 or names, case-insensitive. Unknown names are a 400
    /// with the closest known names. Example: `AF`.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub country: Option<List>,
    /// UN M49 regions or sub-regions, or named regions (see `GET /v1/regions`),
    /// case-insensitive. Example: `Southern Asia`.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub region: Option<List>,
    /// The source dataset's own region labels, case- and diacritic-insensitive; a value no
    /// incident has is a 400 (when nothing matches) with the closest stored values.
    /// Example: `Caucasus and Central Asia`.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub source_region: Option<List>,
    /// First-level administrative areas, case- and diacritic-insensitive exact names
    /// (`Bogota` finds `Bogotá`); a name no incident has is a 400 (when nothing matches) with
    /// the closest stored names. Example: `Kabul`.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub admin1: Option<List>,
    /// Second-level administrative areas, case- and diacritic-insensitive exact names (as
    /// `admin1`).
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub admin2: Option<List>,
    /// Places, case- and diacritic-insensitive exact names (as `admin1`). Example: `Kabul`.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub place: Option<List>,
    /// `minLon,minLat,maxLon,maxLat`; `minLon > maxLon` crosses the antimeridian. Rows without
    /// coordinates never match. Example: `68.9,34.3,69.5,34.8`.
    #[param(value_type = Option<String>)]
    pub bbox: Option<BoundingBox>,
    /// `lat,lon`: incidents within `radius_km` (great-circle distance) of this point.
    /// Example: `34.53,69.17`.
    #[param(value_type = Option<String>)]
    pub near: Option<Point>,
    /// Radius for `near`, in kilometres (default 10, at most 20000). Example: `25`.
    #[param(minimum = 0, maximum = 20000)]
    pub radius_km: Option<f64>,
    /// Event types, case- and diacritic-insensitive (as `source_region`).
    /// Example: `Explosions/Remote violence`.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub event_type: Option<List>,
    /// Sub-event types, case- and diacritic-insensitive (as `source_region`).
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub sub_event_type: Option<List>,
    /// Perpetrator names, case-insensitive; a known group's other names match too (`Taliban`
    /// finds UCDP's `Taleban`). With `claim`, the same perpetrator must have that claim status.
    /// Example: `Islamic State`.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub perpetrator: Option<List>,
    /// Claim statuses. Example: `claimed`.
    #[param(value_type = Option<Vec<Claim>>, style = Form, explode = false)]
    pub claim: Option<List>,
    /// Least killed, by the effective figure: `best`, else `low` ("at least 22" counts as
    /// 22); incidents with neither are excluded once a bound is given. Example: `1`.
    #[param(minimum = 0, maximum = 10000000)]
    pub killed_min: Option<u32>,
    /// Most killed, by the effective figure. Example: `100`.
    #[param(minimum = 0, maximum = 10000000)]
    pub killed_max: Option<u32>,
    /// Least injured, by the effective figure (`best`, else `low`). Example: `1`.
    #[param(minimum = 0, maximum = 10000000)]
    pub injured_min: Option<u32>,
    /// Most injured, by the effective figure. Example: `100`.
    #[param(minimum = 0, maximum = 10000000)]
    pub injured_max: Option<u32>,
    /// Datasets, case- and diacritic-insensitive (as `source_region`). Example: `acled`.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub dataset: Option<List>,
    /// Identifiers within the dataset. Example: `AFG45510`.
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub external_id: Option<List>,
    /// Full-text search in the description, the place names (`place`, `admin1`, `admin2`),
    /// the perpetrators, the sources' titles and excerpts, and the source's notes kept in
    /// `attributes` (values of more than one word). Words all must occur, in any case and
    /// with or without diacritics (`kabúl` = `Kabul`), in any form of the word (`attack`
    /// finds `attacked`); `"a phrase"` its words in order; `a OR b` either; `-word` not;
    /// `rock*` a prefix. At most 32 words; a query with no word to find is a 400.
    /// PostgreSQL leaves English stop words (`the`, `of`, …) out. With `as_of`, the text of
    /// the versions then current is searched. Example: `rockets "shopping area" -taliban`.
    pub q: Option<String>,
    /// Only incidents created or changed at or after this RFC 3339 timestamp.
    /// Example: `2026-11-24T00:00:00Z`.
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<Timestamp>,
    /// Answer as the database stood at this RFC 3339 time (not in the future): the versions
    /// then current, incidents deleted since included, every other parameter applying to them
    /// as they were. The answer states the time (`as_of`, or `X-As-Of` on exports). Example:
    /// `2026-11-01T00:00:00Z`.
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
    /// Answer as of a release (see `GET /v1/releases`): its frozen time. Not with `as_of`.
    /// Example: `2026-12`.
    pub release: Option<String>,
}

/// How `from` and `to` match an incident's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DateMatch {
    /// `occurred_on` is within `from`..`to`.
    #[default]
    Start,
    /// The incident's possible span overlaps `from`..`to`.
    Overlap,
}

/// A validated filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub date_match: DateMatch,
    /// Alpha-3 codes from `country`.
    pub countries: Vec<String>,
    /// Alpha-3 codes of every region in `region`.
    pub region_countries: Option<Vec<String>>,
    /// Names in `region` that are not UN M49 regions: named regions, looked up in the
    /// database by `resolve`.
    pub named_regions: Vec<String>,
    pub source_regions: Vec<String>,
    pub admin1: Vec<String>,
    pub admin2: Vec<String>,
    pub places: Vec<String>,
    pub bbox: Option<BoundingBox>,
    pub near: Option<Circle>,
    pub event_types: Vec<String>,
    pub sub_event_types: Vec<String>,
    pub perpetrators: Vec<String>,
    pub claims: Vec<Claim>,
    pub killed_min: Option<i32>,
    pub killed_max: Option<i32>,
    pub injured_min: Option<i32>,
    pub injured_max: Option<i32>,
    pub datasets: Vec<String>,
    pub external_ids: Vec<String>,
    pub search: Option<Search>,
    pub updated_since: Option<NaiveDateTime>,
    /// The time the answer reflects (`as_of`, or the release's, once resolved); `None` for now.
    pub as_of: Option<NaiveDateTime>,
    /// A release named by `release`, looked up by `resolve`.
    pub release: Option<String>,
    /// The first value of a closed vocabulary or place that no incident has in any spelling
    /// (see `resolve_spellings`).
    unknown: Option<UnknownValue>,
}

/// A value no incident has, the parameter that gave it and the closest stored values.
#[derive(Debug, Clone, PartialEq)]
struct UnknownValue {
    parameter: &'static str,
    value: String,
    suggestions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, DeserializeFromStr)]
pub struct BoundingBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

/// A point given as `lat,lon`.
#[derive(Debug, Clone, Copy, PartialEq, DeserializeFromStr)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

const EARTH_RADIUS_KM: f64 = 6371.0088;

impl TryFrom<FilterParams> for Filter {
    type Error = AppError;

    /// Validates the parameters; named regions and the release stay to be looked up
    /// (`resolve`).
    fn try_from(params: FilterParams) -> AppResult<Filter> {
        let from = params.from.map(PartialDate::first_day);
        let to = params.to.map(PartialDate::last_day);
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(AppError::parameter(
                    param_name!(FilterParams, to),
                    format!("{to} is before from ({from})"),
                ));
            }
        }
        let (region_countries, named_regions) = resolve_m49_regions(List::values(params.region));
        Ok(Filter {
            from,
            to,
            date_match: params.date_match.unwrap_or_default(),
            countries: resolve_countries(List::values(params.country))?,
            region_countries,
            named_regions,
            source_regions: lower_list(params.source_region),
            admin1: lower_list(params.admin1),
            admin2: lower_list(params.admin2),
            places: lower_list(params.place),
            bbox: params.bbox,
            near: circle(params.near, params.radius_km)?,
            event_types: lower_list(params.event_type),
            sub_event_types: lower_list(params.sub_event_type),
            perpetrators: actors::with_aliases(lower_list(params.perpetrator)),
            claims: parse_claims(List::values(params.claim))?,
            killed_min: count(params.killed_min, param_name!(FilterParams, killed_min))?,
            killed_max: count(params.killed_max, param_name!(FilterParams, killed_max))?,
            injured_min: count(params.injured_min, param_name!(FilterParams, injured_min))?,
            injured_max: count(params.injured_max, param_name!(FilterParams, injured_max))?,
            datasets: lower_list(params.dataset),
            external_ids: List::values(params.external_id),
            search: parse_search(params.q)?,
            updated_since: params.updated_since.map(|t| t.0),
            as_of: as_of(params.as_of)?,
            release: release(params.release, params.as_of.is_some())?,
            unknown: None,
        })
    }
}

/// `as_of` to the microsecond (what both backends store); a time to come is refused, as its
/// answer could still change.
fn as_of(time: Option<Timestamp>) -> AppResult<Option<NaiveDateTime>> {
    use chrono::SubsecRound;
    let Some(Timestamp(time)) = time else {
        return Ok(None);
    };
    if time > chrono::Utc::now().naive_utc() {
        return Err(AppError::parameter(
            param_name!(FilterParams, as_of),
            "is in the future: only the past can be answered as it stood",
        ));
    }
    Ok(Some(time.trunc_subsecs(6)))
}

fn release(name: Option<String>, with_as_of: bool) -> AppResult<Option<String>> {
    if name.is_some() && with_as_of {
        return Err(AppError::parameter(
            param_name!(FilterParams, release),
            "give either release or as_of, not both",
        ));
    }
    Ok(name)
}

impl Filter {
    /// When nothing matched: a 400 for the first value of a closed vocabulary (`source_region`,
    /// `event_type`, `sub_event_type`, `dataset`) or of a place (`admin1`, `admin2`, `place`)
    /// that no incident has, with the closest stored values, so a typo is not a silent empty
    /// answer. Only for empty answers: a list whose other values match answers them.
    pub fn check_vocabularies(&self) -> AppResult<()> {
        match &self.unknown {
            None => Ok(()),
            Some(unknown) => Err(AppError::InvalidParameter {
                parameter: unknown.parameter.into(),
                message: format!(
                    "no incident has {:?}{}",
                    unknown.value,
                    did_you_mean(&unknown.suggestions)
                ),
                suggestions: unknown.suggestions.clone(),
            }),
        }
    }

    /// Looks up what the filter names in the database: named regions, the release's time, and
    /// the stored spellings of vocabulary values and places.
    pub fn resolve(&mut self, conn: &mut DbConnection) -> AppResult<()> {
        self.resolve_named_regions(conn)?;
        self.resolve_release(conn)?;
        self.resolve_spellings(conn)
    }

    /// Adds to each list of a closed vocabulary or a place, for each value no incident has as
    /// written (in any case), the stored values that differ from it only in case and
    /// diacritics (`Bogota` finds `Bogotá`). Looked up only for such values, so the filters'
    /// SQL and the write path stay as they were (no folded column to keep) and a value that
    /// is stored costs one probe that stops at its first row; the price is that a value stored
    /// in both spellings finds the rows of the one given only. The first value with no stored
    /// spelling is kept, with the closest stored values, for `check_vocabularies`.
    fn resolve_spellings(&mut self, conn: &mut DbConnection) -> AppResult<()> {
        let mut unknown = None;
        for (values, column, parameter) in self.spelled_lists() {
            let mut missing = Vec::new();
            for value in values.iter() {
                if !is_stored(conn, column, value)? {
                    missing.push(value.clone());
                }
            }
            if missing.is_empty() {
                continue;
            }
            let stored = stored_spellings(conn, column)?;
            for value in missing {
                let folded = fold(&value);
                let spellings = stored.iter().filter(|(_, _, f)| *f == folded);
                let before = values.len();
                values.extend(spellings.map(|(_, lower, _)| lower.clone()));
                if values.len() == before && unknown.is_none() {
                    let names = stored.iter().map(|(name, _, _)| name.clone());
                    let suggestions = country::suggest(&value, names);
                    unknown = Some(UnknownValue {
                        parameter,
                        value,
                        suggestions,
                    });
                }
            }
        }
        self.unknown = unknown;
        Ok(())
    }

    /// `release`'s time as `as_of`; an unknown release is a 400 with the closest names.
    fn resolve_release(&mut self, conn: &mut DbConnection) -> AppResult<()> {
        if let Some(name) = self.release.take() {
            let Some(release) = releases::find(conn, &name)? else {
                let names = releases::all(conn)?.into_iter().map(|r| r.name);
                let suggestions = country::suggest(&name, names);
                return Err(AppError::InvalidParameter {
                    parameter: param_name!(FilterParams, release).into(),
                    message: format!("no release {name:?}{}", did_you_mean(&suggestions)),
                    suggestions,
                });
            };
            self.as_of = Some(release.as_of);
        }
        Ok(())
    }

    /// The lists matched in any spelling, each with its column and parameter, in the order
    /// their errors are reported.
    fn spelled_lists(&mut self) -> [(&mut Vec<String>, &'static str, &'static str); 7] {
        // Each list's column and parameter have one name.
        macro_rules! spelled {
            ($list:expr, $name:ident) => {
                (
                    &mut $list,
                    incidents::$name::NAME,
                    param_name!(FilterParams, $name),
                )
            };
        }
        [
            spelled!(self.source_regions, source_region),
            spelled!(self.event_types, event_type),
            spelled!(self.sub_event_types, sub_event_type),
            spelled!(self.datasets, dataset),
            spelled!(self.admin1, admin1),
            spelled!(self.admin2, admin2),
            spelled!(self.places, place),
        ]
    }

    /// Looks up the named regions of `region` and adds their countries; a name that is neither
    /// a UN M49 region nor a named region is a 400 with the closest names.
    fn resolve_named_regions(&mut self, conn: &mut DbConnection) -> AppResult<()> {
        if self.named_regions.is_empty() {
            return Ok(());
        }
        let found = regions::find(conn, &self.named_regions)?;
        for name in &self.named_regions {
            if !found
                .iter()
                .any(|r| r.name.to_lowercase() == name.to_lowercase())
            {
                let named = regions::all(conn)?.into_iter().map(|r| r.name);
                let suggestions =
                    country::suggest(name, country::m49_names().into_iter().chain(named));
                return Err(AppError::InvalidParameter {
                    parameter: param_name!(FilterParams, region).into(),
                    message: format!("unknown region {name:?}{}", did_you_mean(&suggestions)),
                    suggestions,
                });
            }
        }
        let codes = self.region_countries.get_or_insert_with(Vec::new);
        codes.extend(found.into_iter().flat_map(|r| r.countries));
        codes.sort();
        codes.dedup();
        self.named_regions.clear();
        Ok(())
    }

    /// Whether the matches come from several ranges of the country index (a list of countries,
    /// a region), so that no index returns them in date order.
    pub fn spans_several_ranges(&self) -> bool {
        let regions = self.region_countries.as_ref().map_or(0, Vec::len);
        self.countries.len() + regions > 1
    }

    /// The first and last month (`YYYY-MM`) when the filter narrows only by whole months and
    /// by country or (resolved) region: what the per-month sums can answer.
    pub fn whole_months(&self) -> Option<(Option<String>, Option<String>)> {
        let rest = Filter {
            from: None,
            to: None,
            countries: Vec::new(),
            region_countries: None,
            ..self.clone()
        };
        if rest != Filter::default() {
            return None;
        }
        let month = |day: NaiveDate| day.format("%Y-%m").to_string();
        let from = match self.from {
            Some(day) if day.day() != 1 => return None,
            from => from.map(month),
        };
        let to = match self.to {
            Some(day) if day.succ_opt().is_some_and(|next| next.day() != 1) => return None,
            to => to.map(month),
        };
        Some((from, to))
    }

    /// This filter less `q`.
    pub fn without_search(&self) -> Filter {
        Filter {
            search: None,
            ..self.clone()
        }
    }

    /// `query` (over `incidents`) run as of the filter's time, if it has one.
    pub fn at_time<Q>(&self, query: Q) -> AsOf<Q> {
        AsOf::new(query, Scope::as_of(self.as_of))
    }

    /// `query` narrowed to the incidents this filter matches.
    pub fn apply(&self, mut query: IncidentQuery) -> IncidentQuery {
        query = match self.date_match {
            DateMatch::Start => self.apply_start(query),
            DateMatch::Overlap => self.apply_overlap(query),
        };
        if !self.countries.is_empty() {
            query = query.filter(text_in(incidents::country_code, self.countries.clone()));
        }
        if let Some(codes) = &self.region_countries {
            query = query.filter(text_in(incidents::country_code, codes.clone()));
        }
        macro_rules! any_of_lowercase {
            ($($values:expr => $column:expr),*) => {$(
                if !$values.is_empty() {
                    query = query.filter(text_in(lower_nullable($column), $values.clone()));
                }
            )*};
        }
        any_of_lowercase!(
            self.source_regions => incidents::source_region,
            self.admin1 => incidents::admin1,
            self.admin2 => incidents::admin2,
            self.places => incidents::place,
            self.event_types => incidents::event_type,
            self.sub_event_types => incidents::sub_event_type
        );
        if let Some(bbox) = self.bbox {
            query = apply_bbox(query, bbox);
        }
        if let Some(circle) = self.near {
            query = apply_bbox(query, circle.bounding_box()).filter(within(circle));
        }
        query = self.apply_perpetrators(query);
        for (figure, bound, operator) in [
            (Figure::Killed, self.killed_min, " >= "),
            (Figure::Killed, self.killed_max, " <= "),
            (Figure::Injured, self.injured_min, " >= "),
            (Figure::Injured, self.injured_max, " <= "),
        ] {
            if let Some(bound) = bound {
                query = query.filter(sql::<Bool>(figure.effective()).sql(operator).bind(bound));
            }
        }
        if !self.datasets.is_empty() {
            query = query.filter(text_in(lower(incidents::dataset), self.datasets.clone()));
        }
        if !self.external_ids.is_empty() {
            query = query.filter(text_in(incidents::external_id, self.external_ids.clone()));
        }
        if let Some(search) = &self.search {
            query = query.filter(search.matches(self.as_of.is_some()));
        }
        if let Some(since) = self.updated_since {
            query = query.filter(incidents::updated_at.ge(since));
        }
        query
    }

    /// Incidents whose `occurred_on` is within `from`..`to`: one range of the date indexes.
    fn apply_start(&self, mut query: IncidentQuery) -> IncidentQuery {
        if let Some(from) = self.from {
            query = query.filter(incidents::occurred_on.ge(from));
        }
        if let Some(to) = self.to {
            query = query.filter(incidents::occurred_on.le(to));
        }
        query
    }

    /// Incidents whose possible span overlaps `from`..`to`: it runs from `occurred_on` to
    /// `occurred_until` (when known), and covers at least the month or year of `occurred_on`
    /// at those precisions. The month and year bounds are computed here, so each condition
    /// compares `occurred_on` with a date; the year bound before `to` is one index range.
    fn apply_overlap(&self, mut query: IncidentQuery) -> IncidentQuery {
        use incidents::{date_precision, occurred_on, occurred_until};
        let month = DatePrecision::Month.wire_name();
        let year = DatePrecision::Year.wire_name();
        if let Some(from) = self.from {
            query = query.filter(
                occurred_on
                    .ge(from)
                    .or(occurred_until.ge(from).assume_not_null())
                    .or(date_precision
                        .eq(month)
                        .and(occurred_on.ge(month_of(from).0)))
                    .or(date_precision.eq(year).and(occurred_on.ge(year_of(from).0))),
            );
        }
        if let Some(to) = self.to {
            query = query.filter(occurred_on.le(year_of(to).1)).filter(
                occurred_on
                    .le(to)
                    .or(date_precision.eq(month).and(occurred_on.le(month_of(to).1)))
                    .or(date_precision.eq(year)),
            );
        }
        query
    }

    /// Incidents with a perpetrator matching the names and the claims (the same one both).
    fn apply_perpetrators(&self, query: IncidentQuery) -> IncidentQuery {
        use incident_perpetrators::dsl as p;
        let names = self.perpetrators.clone();
        let claims: Vec<String> = self
            .claims
            .iter()
            .map(|claim| claim.wire_name().to_string())
            .collect();
        match (names.is_empty(), claims.is_empty()) {
            (true, true) => query,
            (false, true) => query.filter(
                incidents::id.eq_any(
                    p::incident_perpetrators
                        .select(p::incident_id)
                        .filter(text_in(lower(p::name), names)),
                ),
            ),
            (true, false) => query.filter(
                incidents::id.eq_any(
                    p::incident_perpetrators
                        .select(p::incident_id)
                        .filter(text_in(p::claim, claims)),
                ),
            ),
            (false, false) => query.filter(
                incidents::id.eq_any(
                    p::incident_perpetrators
                        .select(p::incident_id)
                        .filter(text_in(lower(p::name), names))
                        .filter(text_in(p::claim, claims)),
                ),
            ),
        }
    }
}

/// Whether an incident has `value` in `column`, in any case.
fn is_stored(conn: &mut DbConnection, column: &'static str, value: &str) -> QueryResult<bool> {
    let found = incidents::table
        .select(incidents::id)
        .filter(
            sql::<Bool>("lower(")
                .sql(column)
                .sql(") = ")
                .bind(value.to_string()),
        )
        .first::<i64>(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Every distinct value of `column`, each with its SQL `lower()` (which the filters compare,
/// and which on SQLite lowers ASCII letters only) and its folded form.
fn stored_spellings(
    conn: &mut DbConnection,
    column: &'static str,
) -> QueryResult<Vec<(String, String, String)>> {
    let rows: Vec<(String, String)> = incidents::table
        .select((
            sql::<Text>(column),
            sql::<Text>("lower(").sql(column).sql(")"),
        ))
        .filter(sql::<Bool>(column).sql(" IS NOT NULL"))
        .distinct()
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(value, lower)| {
            let folded = fold(&value);
            (value, lower, folded)
        })
        .collect())
}

/// The first and last day of the month of `day`.
fn month_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = day.with_day(1).unwrap_or(day);
    let next = first.checked_add_months(Months::new(1));
    (first, next.and_then(|next| next.pred_opt()).unwrap_or(day))
}

/// The first and last day of the year of `day`.
fn year_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day);
    let last = NaiveDate::from_ymd_opt(day.year(), 12, 31).unwrap_or(day);
    (first, last)
}

fn apply_bbox(query: IncidentQuery, bbox: BoundingBox) -> IncidentQuery {
    let query = query.filter(incidents::latitude.between(bbox.min_lat, bbox.max_lat));
    if bbox.min_lon <= bbox.max_lon {
        query.filter(incidents::longitude.between(bbox.min_lon, bbox.max_lon))
    } else {
        query.filter(
            incidents::longitude
                .ge(bbox.min_lon)
                .or(incidents::longitude.le(bbox.max_lon)),
        )
    }
}

/// The haversine great-circle distance from `circle`'s centre is at most its radius.
fn within(circle: Circle) -> Sql<Bool> {
    sql::<Bool>("")
        .bind(2.0 * EARTH_RADIUS_KM)
        .sql(" * asin(sqrt(power(sin(radians(latitude - ")
        .bind(circle.lat)
        .sql(") / 2), 2) + cos(radians(")
        .bind(circle.lat)
        .sql(")) * cos(radians(latitude)) * power(sin(radians(longitude - ")
        .bind(circle.lon)
        .sql(") / 2), 2))) <= ")
        .bind(circle.radius_km)
}

impl Circle {
    /// A box that contains the circle, so an index on the coordinates narrows the search
    /// before the exact distance is computed.
    fn bounding_box(self) -> BoundingBox {
        let dlat = (self.radius_km / EARTH_RADIUS_KM).to_degrees();
        let min_lat = (self.lat - dlat).max(-90.0);
        let max_lat = (self.lat + dlat).min(90.0);
        let widest = self.lat.abs() + dlat;
        if widest >= 89.0 {
            return BoundingBox {
                min_lon: -180.0,
                min_lat,
                max_lon: 180.0,
                max_lat,
            };
        }
        let dlon = dlat / widest.to_radians().cos();
        if dlon >= 180.0 {
            return BoundingBox {
                min_lon: -180.0,
                min_lat,
                max_lon: 180.0,
                max_lat,
            };
        }
        let wrap = |lon: f64| ((lon + 540.0) % 360.0) - 180.0;
        BoundingBox {
            min_lon: wrap(self.lon - dlon),
            min_lat,
            max_lon: wrap(self.lon + dlon),
            max_lat,
        }
    }
}

/// A day, month or year as `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, DeserializeFromStr)]
pub struct PartialDate {
    first: NaiveDate,
    last: NaiveDate,
}

impl PartialDate {
    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn last_day(self) -> NaiveDate {
        self.last
    }
}

impl FromStr for PartialDate {
    type Err = String;

    fn from_str(text: &str) -> Result<PartialDate, String> {
        let invalid = || format!("expected YYYY, YYYY-MM or YYYY-MM-DD, got {text:?}");
        let parts: Vec<&str> = text.split('-').collect();
        let number = |s: &str, len: usize| -> Result<u32, String> {
            if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().map_err(|_| invalid())
            } else {
                Err(invalid())
            }
        };
        let year = number(parts[0], 4)? as i32;
        let (first, last) = match parts.len() {
            1 => (
                NaiveDate::from_ymd_opt(year, 1, 1),
                NaiveDate::from_ymd_opt(year, 12, 31),
            ),
            2 => {
                let first = NaiveDate::from_ymd_opt(year, number(parts[1], 2)?, 1);
                let next = first.and_then(|d| d.checked_add_months(chrono::Months::new(1)));
                (first, next.and_then(|next| next.pred_opt()))
            }
            3 => {
                let day = NaiveDate::from_ymd_opt(year, number(parts[1], 2)?, number(parts[2], 2)?);
                (day, day)
            }
            _ => (None, None),
        };
        match (first, last) {
            (Some(first), Some(last)) if first.year() == year && last.year() == year => {
                Ok(PartialDate { first, last })
            }
            _ => Err(invalid()),
        }
    }
}

/// A casualty bound, at most the largest figure an incident may carry.
fn count(value: Option<u32>, parameter: &str) -> AppResult<Option<i32>> {
    match value.map(i32::try_from) {
        None => Ok(None),
        Some(Ok(bound)) if bound <= MAX_CASUALTIES => Ok(Some(bound)),
        Some(_) => Err(AppError::parameter(
            parameter,
            format!("at most {MAX_CASUALTIES}, the largest figure an incident may carry"),
        )),
    }
}

fn parse_numbers(text: &str, count: usize, shape: &str) -> Result<Vec<f64>, String> {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|n| n.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("expected {shape}, got {text:?}"))?;
    if numbers.len() != count || numbers.iter().any(|n| !n.is_finite()) {
        return Err(format!("expected {shape}, got {text:?}"));
    }
    Ok(numbers)
}

fn check_lat_lon(lat: f64, lon: f64) -> Result<(), String> {
    if lat.abs() > 90.0 {
        return Err(format!("latitude must be between -90 and 90, got {lat}"));
    }
    if lon.abs() > 180.0 {
        return Err(format!("longitude must be between -180 and 180, got {lon}"));
    }
    Ok(())
}

impl FromStr for BoundingBox {
    type Err = String;

    fn from_str(text: &str) -> Result<BoundingBox, String> {
        let n = parse_numbers(text, 4, "minLon,minLat,maxLon,maxLat")?;
        check_lat_lon(n[1], n[0])?;
        check_lat_lon(n[3], n[2])?;
        if n[1] > n[3] {
            return Err(format!("minLat {} is above maxLat {}", n[1], n[3]));
        }
        Ok(BoundingBox {
            min_lon: n[0],
            min_lat: n[1],
            max_lon: n[2],
            max_lat: n[3],
        })
    }
}

impl FromStr for Point {
    type Err = String;

    fn from_str(text: &str) -> Result<Point, String> {
        let n = parse_numbers(text, 2, "lat,lon")?;
        check_lat_lon(n[0], n[1])?;
        // On the stored coordinates' grid, so the distance arithmetic cannot underflow.
        Ok(Point {
            lat: snap_coordinate(n[0]),
            lon: snap_coordinate(n[1]),
        })
    }
}

/// The circle of `near` and `radius_km` (10 km by default).
fn circle(near: Option<Point>, radius_km: Option<f64>) -> AppResult<Option<Circle>> {
    if let Some(radius) = radius_km {
        if !(radius.is_finite() && radius > 0.0 && radius <= 20_000.0) {
            return Err(AppError::parameter(
                param_name!(FilterParams, radius_km),
                format!("expected kilometres in (0, 20000], got {radius}"),
            ));
        }
    }
    match (near, radius_km) {
        (Some(Point { lat, lon }), radius) => Ok(Some(Circle {
            lat,
            lon,
            radius_km: radius.unwrap_or(10.0),
        })),
        (None, Some(_)) => Err(AppError::parameter(
            param_name!(FilterParams, radius_km),
            "radius_km needs near=lat,lon",
        )),
        (None, None) => Ok(None),
    }
}

fn parse_claims(values: Vec<String>) -> AppResult<Vec<Claim>> {
    values
        .iter()
        .map(|v| {
            Claim::from_wire(&v.to_lowercase())
                .map_err(|message| AppError::parameter(param_name!(FilterParams, claim), message))
        })
        .collect()
}

/// The alpha-3 codes of `values`. A name with a comma ("Tanzania, United Republic of") comes
/// split in two by the list: two values that together name a country are that country.
fn resolve_countries(values: Vec<String>) -> AppResult<Vec<String>> {
    let mut codes = Vec::with_capacity(values.len());
    let mut rest = values.into_iter().peekable();
    while let Some(value) = rest.next() {
        let joined = rest.peek().map(|next| format!("{value}, {next}"));
        if let Some(found) = joined.as_deref().and_then(country::resolve) {
            codes.push(found.alpha3.clone());
            rest.next();
            continue;
        }
        match country::resolve(&value) {
            Some(found) => codes.push(found.alpha3.clone()),
            None => {
                let suggestions = country::suggest_country(&value);
                return Err(AppError::InvalidParameter {
                    parameter: param_name!(FilterParams, country).into(),
                    message: format!("unknown country {value:?}{}", did_you_mean(&suggestions)),
                    suggestions,
                });
            }
        }
    }
    Ok(codes)
}

/// The countries of the UN M49 regions among `values`, and the other names.
fn resolve_m49_regions(values: Vec<String>) -> (Option<Vec<String>>, Vec<String>) {
    if values.is_empty() {
        return (None, Vec::new());
    }
    let mut codes = Vec::new();
    let mut named = Vec::new();
    for value in values {
        match country::m49_members(&value) {
            Some(members) => codes.extend(members),
            None => named.push(value),
        }
    }
    codes.sort();
    codes.dedup();
    (Some(codes), named)
}

fn lower_list(list: Option<List>) -> Vec<String> {
    List::values(list)
        .into_iter()
        .map(|v| v.to_lowercase())
        .collect()
}

fn parse_search(q: Option<String>) -> AppResult<Option<Search>> {
    q.as_deref()
        .map(Search::parse)
        .transpose()
        .map(Option::flatten)
        .map_err(|message| AppError::parameter(param_name!(FilterParams, q), message))
}

pub(super) fn escape_like(word: &str) -> String {
    word.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    enum Bound {
        First,
        Last,
    }

    fn day(text: &str, bound: Bound) -> Result<NaiveDate, String> {
        let date: PartialDate = text.parse()?;
        Ok(match bound {
            Bound::First => date.first_day(),
            Bound::Last => date.last_day(),
        })
    }

    #[test]
    fn partial_dates_cover_their_whole_period() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(day("2020", Bound::First), Ok(d(2020, 1, 1)));
        assert_eq!(day("2020", Bound::Last), Ok(d(2020, 12, 31)));
        assert_eq!(day("2020-02", Bound::Last), Ok(d(2020, 2, 29)));
        assert_eq!(day("2020-12", Bound::Last), Ok(d(2020, 12, 31)));
        assert_eq!(day("2020-11-21", Bound::First), Ok(d(2020, 11, 21)));
        for bad in [
            "2020-13",
            "2020-02-30",
            "20",
            "2020-1-1",
            "yesterday",
            "2020-11-21-1",
        ] {
            assert!(day(bad, Bound::First).is_err(), "{bad}");
        }
    }

    #[test]
    fn circle_box_contains_the_circle() {
        let circle = Circle {
            lat: 34.53,
            lon: 69.17,
            radius_km: 50.0,
        };
        let b = circle.bounding_box();
        assert!(b.min_lat < 34.09 && b.max_lat > 34.97);
        assert!(b.min_lon < 68.625 && b.max_lon > 69.715);
    }
}

//! Stats: counts and casualty sums of the incidents a filter matches, grouped by up to three
//! keys, computed by one SQL aggregate in the database.

use std::borrow::Cow;

use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

use super::cache::StatsCache;
use super::export::Format;
use super::filter::FilterParams;
use super::params::List;
use super::Filter;
use crate::db::history;
use crate::db::schema::incidents;
use crate::db::sql::text_in;
use crate::db::{Db, DbConnection};
use crate::error::{AppError, AppResult};
use crate::model::country;
use crate::model::validate::did_you_mean;
use crate::model::wire::{wire_names, WireName};
use crate::param_name;

/// Grouping and format of `GET /v1/stats`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Up to three of `country`, `region`, `subregion`, `source_region`, `admin1`, `year`,
    /// `month`, `event_type`, `perpetrator`, `claim`, `dataset`, `geo_precision`, `cell`.
    /// None: one row of totals. `cell` groups by squares of `cell` degrees (a map's clusters:
    /// each row also has the mean `latitude` and `longitude` of its incidents). Example:
    /// `country,month`; `cell,geo_precision` with `cell=2`.
    #[param(value_type = Option<Vec<GroupKey>>, style = Form, explode = false)]
    pub group_by: Option<List>,
    /// With `group_by=cell`: the side of a grid cell in degrees of latitude and longitude, from
    /// 0.0001 to 180 (default 1). Cells are aligned on multiples of it from 0° (the cell of
    /// 34.53, 69.17 at `cell=2` is `68,34,70,36`). Example: `2`.
    #[param(minimum = 0.0001, maximum = 180)]
    pub cell: Option<f64>,
    /// `json` (default) or `csv`; `Accept: text/csv` works too. Example: `csv`.
    #[param(inline)]
    pub format: Option<StatsFormat>,
}

/// The formats stats come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatsFormat {
    #[default]
    Json,
    Csv,
}

impl TryFrom<Format> for StatsFormat {
    type Error = Format;

    fn try_from(format: Format) -> Result<StatsFormat, Format> {
        match format {
            Format::Json => Ok(StatsFormat::Json),
            Format::Csv => Ok(StatsFormat::Csv),
            other => Err(other),
        }
    }
}

/// What `group_by` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupKey {
    /// ISO alpha-3 country code.
    Country,
    /// UN M49 region; a named region's incidents also form a group of their own.
    Region,
    /// UN M49 sub-region.
    Subregion,
    /// The source dataset's own region label.
    SourceRegion,
    Admin1,
    /// `YYYY` of `occurred_on`.
    Year,
    /// `YYYY-MM` of `occurred_on`.
    Month,
    EventType,
    /// Each perpetrator of an incident: an incident with two counts in both groups; one
    /// with none in the null group.
    Perpetrator,
    /// Each claim status among an incident's perpetrators: an incident counts once under each
    /// status it has (with `perpetrator` too: under each perpetrator's own); one without
    /// perpetrators in the null group.
    Claim,
    Dataset,
    /// How precisely the location is known (`exact`, `place`, … `country`).
    GeoPrecision,
    /// The grid cell of side `cell` degrees holding the coordinates, as the
    /// `minLon,minLat,maxLon,maxLat` that the `bbox` filter takes; null without coordinates.
    Cell,
}

impl WireName for GroupKey {}

impl GroupKey {
    /// The key's SQL over the filtered rows `i` of `source` (and their perpetrators `p`, or
    /// their distinct claims `c`). Dates are ISO text on both backends (PostgreSQL sessions
    /// run with `DateStyle = ISO`). `Cell` is written by `Grid`, which knows the size.
    fn sql(self, source: Source) -> &'static str {
        match (self, source) {
            (GroupKey::Country, Source::Months) => "NULLIF(i.country_code, '')",
            (GroupKey::Year, Source::Months) => "substr(i.month, 1, 4)",
            (GroupKey::Month, Source::Months) => "i.month",
            (GroupKey::Country, _) => "i.country_code",
            (GroupKey::Region, _) => "i.region_key",
            (GroupKey::Subregion, _) => "i.subregion",
            (GroupKey::SourceRegion, _) => "i.source_region",
            (GroupKey::Admin1, _) => "i.admin1",
            (GroupKey::Year, _) => "substr(CAST(i.occurred_on AS TEXT), 1, 4)",
            (GroupKey::Month, _) => "substr(CAST(i.occurred_on AS TEXT), 1, 7)",
            (GroupKey::EventType, _) => "i.event_type",
            (GroupKey::Perpetrator, _) => "p.name",
            (GroupKey::Claim, _) => "c.claim",
            (GroupKey::Dataset, _) => "i.dataset",
            (GroupKey::GeoPrecision, _) => "i.geo_precision",
            (GroupKey::Cell, _) => "NULL",
        }
    }

    /// Whether the month sums hold this key.
    fn in_months(self) -> bool {
        matches!(
            self,
            GroupKey::Country
                | GroupKey::Region
                | GroupKey::Subregion
                | GroupKey::Year
                | GroupKey::Month
        )
    }
}

/// What the stats are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The matching incidents themselves.
    Incidents,
    /// The per-month, per-country sums the database keeps (`incident_months`): a year of
    /// stats reads a few hundred rows instead of every incident of the year.
    Months,
}

impl Source {
    fn aggregates(self) -> &'static str {
        match self {
            Source::Incidents => INCIDENT_AGGREGATES,
            Source::Months => MONTH_AGGREGATES,
        }
    }
}

/// At most this many `group_by` keys.
const MAX_KEYS: usize = 3;

/// What the stats are grouped by: the keys, and the grid of the `cell` key.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub keys: Vec<GroupKey>,
    pub grid: Grid,
}

/// The grid of `group_by=cell`: squares of `size` degrees aligned on 0°.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub size: f64,
}

const SMALLEST_CELL: f64 = 0.0001;
const LARGEST_CELL: f64 = 180.0;
const DEFAULT_CELL: f64 = 1.0;

impl Grouping {
    /// The keys of `group_by` and the grid of `cell`, validated.
    pub fn parse(group_by: Option<List>, cell: Option<f64>) -> AppResult<Grouping> {
        let keys = parse_group_by(group_by)?;
        let parameter = param_name!(StatsParams, cell);
        let size = match cell {
            Some(_) if !keys.contains(&GroupKey::Cell) => {
                return Err(AppError::parameter(parameter, "cell needs group_by=cell"))
            }
            Some(size) if !(SMALLEST_CELL..=LARGEST_CELL).contains(&size) => {
                return Err(AppError::parameter(
                    parameter,
                    format!("expected degrees from {SMALLEST_CELL} to {LARGEST_CELL}, got {size}"),
                ))
            }
            Some(size) => size,
            None => DEFAULT_CELL,
        };
        Ok(Grouping {
            keys,
            grid: Grid { size },
        })
    }

    fn has_cells(&self) -> bool {
        self.keys.contains(&GroupKey::Cell)
    }
}

impl Grid {
    /// The size as an SQL literal of type double on both backends. Written into the text, not
    /// bound: PostgreSQL matches a selected expression to the `GROUP BY` one by its text, and
    /// two placeholders are two different expressions to it.
    fn literal(self) -> String {
        format!("CAST({} AS DOUBLE PRECISION)", self.size)
    }

    /// The cell's row and column numbers, which the rows are grouped by.
    fn group_sql(self) -> String {
        let size = self.literal();
        format!("floor(i.latitude / {size}), floor(i.longitude / {size})")
    }

    /// The cell as `row,column` text, made of the grouped expressions (so both databases take
    /// it as grouped); `bbox_of` turns it into degrees.
    fn select_sql(self) -> String {
        let size = self.literal();
        let number =
            |column: &str| format!("CAST(CAST(floor(i.{column} / {size}) AS BIGINT) AS TEXT)");
        format!("{} || ',' || {}", number("latitude"), number("longitude"))
    }

    /// `minLon,minLat,maxLon,maxLat` of the cell `row,column`, within the world's bounds.
    fn bbox_of(self, cell: &str) -> Option<String> {
        let (row, column) = cell.split_once(',')?;
        let (row, column): (f64, f64) = (row.parse().ok()?, column.parse().ok()?);
        // Kept to the coordinates' own 1e-9 degree, so 3 × 0.1 reads 0.3.
        let degrees =
            |n: f64, limit: f64| ((n * self.size).clamp(-limit, limit) * 1e9).round() / 1e9;
        Some(format!(
            "{},{},{},{}",
            degrees(column, 180.0),
            degrees(row, 90.0),
            degrees(column + 1.0, 180.0),
            degrees(row + 1.0, 90.0)
        ))
    }
}

/// The keys of `group_by`: up to three distinct ones.
fn parse_group_by(group_by: Option<List>) -> AppResult<Vec<GroupKey>> {
    let parameter = param_name!(StatsParams, group_by);
    let mut keys = Vec::new();
    for name in List::values(group_by) {
        let key = GroupKey::from_wire(&name.to_lowercase()).map_err(|_| {
            let names = wire_names::<GroupKey>();
            let suggestions = country::suggest(&name, names.iter().map(|n| n.to_string()));
            AppError::InvalidParameter {
                parameter: parameter.into(),
                message: format!(
                    "unknown key {name:?}{}; expected up to three of {}",
                    did_you_mean(&suggestions),
                    names.join(", ")
                ),
                suggestions,
            }
        })?;
        if keys.contains(&key) {
            return Err(AppError::parameter(
                parameter,
                format!("{} is named twice", key.wire_name()),
            ));
        }
        keys.push(key);
    }
    if keys.len() > MAX_KEYS {
        return Err(AppError::parameter(
            parameter,
            format!("at most {MAX_KEYS} keys, got {}", keys.len()),
        ));
    }
    Ok(keys)
}

/// Sums of one casualty figure over a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    /// Sum of the known `low` values; null when none is known.
    #[schema(example = 8)]
    pub low: Option<i64>,
    /// Sum of the known `best` values; null when none is known.
    #[schema(example = 8)]
    pub best: Option<i64>,
    /// Sum of the known `high` values; null when none is known.
    #[schema(example = json!(null))]
    pub high: Option<i64>,
    /// Incidents whose `best` is unknown (not counted as 0 in the sums).
    #[schema(example = 0)]
    pub unknown: i64,
}

/// One group: its keys, how many incidents it has, and their casualties.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatsRow {
    /// The group's value of each `group_by` key (null: the incidents without one).
    #[schema(example = json!({"country": "AFG", "year": "2020"}))]
    pub group: BTreeMap<String, Option<String>>,
    #[schema(example = 1)]
    pub incidents: i64,
    pub killed: Totals,
    pub injured: Totals,
    /// With `group_by=cell`: the mean latitude of the group's incidents (where a map draws
    /// the cluster); null without coordinates.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = json!(null))]
    pub latitude: Option<f64>,
    /// With `group_by=cell`: the mean longitude of the group's incidents.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = json!(null))]
    pub longitude: Option<f64>,
}

type StatsSqlType = (
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    BigInt,
    Nullable<BigInt>,
    Nullable<BigInt>,
    Nullable<BigInt>,
    BigInt,
    Nullable<BigInt>,
    Nullable<BigInt>,
    Nullable<BigInt>,
    BigInt,
    Nullable<Double>,
    Nullable<Double>,
);

type StatsTuple = (
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    Option<f64>,
    Option<f64>,
);

const INCIDENT_AGGREGATES: &str = "COUNT(*), \
     SUM(i.killed_low), SUM(i.killed_best), SUM(i.killed_high), COUNT(*) - COUNT(i.killed_best), \
     SUM(i.injured_low), SUM(i.injured_best), SUM(i.injured_high), COUNT(*) - COUNT(i.injured_best)";

/// The same from the month sums: a sum is unknown when no incident had the figure. The sums
/// are 64-bit columns, whose SUM PostgreSQL widens to numeric: cast back.
const MONTH_AGGREGATES: &str = "CAST(COALESCE(SUM(i.incidents), 0) AS BIGINT), \
     CASE WHEN SUM(i.killed_low_known) > 0 THEN CAST(SUM(i.killed_low_sum) AS BIGINT) END, \
     CASE WHEN SUM(i.killed_best_known) > 0 THEN CAST(SUM(i.killed_best_sum) AS BIGINT) END, \
     CASE WHEN SUM(i.killed_high_known) > 0 THEN CAST(SUM(i.killed_high_sum) AS BIGINT) END, \
     CAST(COALESCE(SUM(i.incidents) - SUM(i.killed_best_known), 0) AS BIGINT), \
     CASE WHEN SUM(i.injured_low_known) > 0 THEN CAST(SUM(i.injured_low_sum) AS BIGINT) END, \
     CASE WHEN SUM(i.injured_best_known) > 0 THEN CAST(SUM(i.injured_best_sum) AS BIGINT) END, \
     CASE WHEN SUM(i.injured_high_known) > 0 THEN CAST(SUM(i.injured_high_sum) AS BIGINT) END, \
     CAST(COALESCE(SUM(i.incidents) - SUM(i.injured_best_known), 0) AS BIGINT)";

/// The cell size, in degrees, of the browse page's whole-world map.
pub const WORLD_CELL_DEGREES: f64 = 15.0;

/// Computes, and so keeps in `cache`, the answers over every incident that the month sums do
/// not hold: each key alone (the browse page's facets) and the whole world's map cells; the
/// answers a first visit of the page would otherwise wait seconds for at a million incidents.
/// A key that cannot be grouped alone (too many groups, `cell` without a size) is passed over.
pub fn warm(conn: &mut DbConnection, cache: &StatsCache) -> AppResult<()> {
    let mut filter = Filter::try_from(FilterParams::default())?;
    filter.resolve(conn)?;
    let world = Grouping::parse(
        Some(List(vec!["cell".into(), "geo_precision".into()])),
        Some(WORLD_CELL_DEGREES),
    );
    let each_key = wire_names::<GroupKey>()
        .iter()
        .map(|key| Grouping::parse(Some(List(vec![key.to_string()])), None));
    for grouping in each_key.chain([world]).flatten() {
        match stats(conn, &filter, &grouping, cache) {
            Ok(_) | Err(AppError::InvalidParameter { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Most groups one answer holds.
pub const MAX_GROUPS: usize = 50_000;
const MORE_THAN_MAX_GROUPS: &str = " LIMIT 50001";

/// The stats of `filter` grouped as `grouping` says, groups in key order (nulls last); more
/// than `MAX_GROUPS` groups are a 400 naming `group_by`.
pub fn stats(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: &Grouping,
    cache: &StatsCache,
) -> AppResult<Vec<StatsRow>> {
    match month_sums(filter, &grouping.keys) {
        Some(sums) => computed(conn, filter, grouping, sums, Source::Months),
        // Not kept: grouped by region, the named regions' members are read too, and `q` reads
        // the search text, which `incidentdb reindex` rewrites; the data's generation follows
        // neither.
        None if grouping.keys.contains(&GroupKey::Region) || filter.search.is_some() => computed(
            conn,
            filter,
            grouping,
            matching_incidents(filter),
            Source::Incidents,
        ),
        None => {
            let generation = history::generation(conn)?;
            let query = format!("{filter:?} {grouping:?}");
            cache.answer(query, generation, || {
                let matching = matching_incidents(filter);
                computed(conn, filter, grouping, matching, Source::Incidents)
            })
        }
    }
}

/// The stats of `filter` grouped as `grouping` says, computed from `matching`.
fn computed(
    conn: &mut DbConnection,
    filter: &Filter,
    grouping: &Grouping,
    matching: Box<dyn QueryFragment<Db> + Send>,
    source: Source,
) -> AppResult<Vec<StatsRow>> {
    let keys = &grouping.keys;
    let query = StatsQuery {
        matching,
        grouping: grouping.clone(),
        source,
    };
    let mut rows: Vec<StatsRow> = filter
        .at_time(query)
        .load::<StatsTuple>(conn)?
        .into_iter()
        .map(|row| to_stats_row(grouping, row))
        .collect();
    if rows.len() > MAX_GROUPS {
        return Err(AppError::parameter(
            "group_by",
            format!("more than {MAX_GROUPS} groups; narrow the filter or group by fewer keys"),
        ));
    }
    rows.sort_by(|a, b| {
        let order = |row: &StatsRow| -> Vec<(bool, Option<String>)> {
            keys.iter()
                .map(|k| {
                    let value = row.group.get(k.wire_name()).cloned().flatten();
                    (value.is_none(), value)
                })
                .collect()
        };
        order(a).cmp(&order(b))
    });
    Ok(rows)
}

/// The columns of the matching incidents that the keys and sums read.
fn matching_incidents(filter: &Filter) -> Box<dyn QueryFragment<Db> + Send> {
    Box::new(filter.apply(incidents::table.into_boxed()).select((
        incidents::id,
        incidents::dataset,
        incidents::occurred_on,
        incidents::event_type,
        incidents::country_code,
        incidents::region,
        incidents::subregion,
        incidents::source_region,
        incidents::admin1,
        (
            incidents::latitude,
            incidents::longitude,
            incidents::geo_precision,
        ),
        (
            incidents::killed_low,
            incidents::killed_best,
            incidents::killed_high,
        ),
        (
            incidents::injured_low,
            incidents::injured_best,
            incidents::injured_high,
        ),
    )))
}

/// The month sums that answer `filter` grouped by `keys`, when they can: whole months, by
/// country or region, grouped by keys the sums hold.
fn month_sums(filter: &Filter, keys: &[GroupKey]) -> Option<Box<dyn QueryFragment<Db> + Send>> {
    use crate::db::schema::incident_months as m;
    if !keys.iter().all(|k| k.in_months()) {
        return None;
    }
    let (from, to) = filter.whole_months()?;
    let mut query = m::table.filter(m::incidents.gt(0)).into_boxed();
    if let Some(from) = from {
        query = query.filter(m::month.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(m::month.le(to));
    }
    if !filter.countries.is_empty() {
        query = query.filter(text_in(m::country_code, filter.countries.clone()));
    }
    if let Some(codes) = &filter.region_countries {
        query = query.filter(text_in(m::country_code, codes.clone()));
    }
    Some(Box::new(query.select((
        m::month,
        m::country_code,
        m::region,
        m::subregion,
        m::incidents,
        (
            m::killed_low_sum,
            m::killed_low_known,
            m::killed_best_sum,
            m::killed_best_known,
            m::killed_high_sum,
            m::killed_high_known,
        ),
        (
            m::injured_low_sum,
            m::injured_low_known,
            m::injured_best_sum,
            m::injured_best_known,
            m::injured_high_sum,
            m::injured_high_known,
        ),
    ))))
}

fn to_stats_row(grouping: &Grouping, row: StatsTuple) -> StatsRow {
    let (k1, k2, k3, incidents, kl, kb, kh, ku, il, ib, ih, iu, latitude, longitude) = row;
    let group = grouping
        .keys
        .iter()
        .zip([k1, k2, k3])
        .map(|(key, value)| {
            let value = match key {
                GroupKey::Cell => value.and_then(|cell| grouping.grid.bbox_of(&cell)),
                _ => value,
            };
            (key.wire_name().to_string(), value)
        })
        .collect();
    StatsRow {
        group,
        incidents,
        killed: Totals {
            low: kl,
            best: kb,
            high: kh,
            unknown: ku,
        },
        injured: Totals {
            low: il,
            best: ib,
            high: ih,
            unknown: iu,
        },
        latitude,
        longitude,
    }
}

/// `SELECT keys, aggregates FROM (matching rows) i [JOIN …] GROUP BY keys`. The matching
/// incidents are the list's own query, so stats and list can never disagree; both databases
/// flatten the subquery into a plain scan of the filter's index range.
struct StatsQuery {
    matching: Box<dyn QueryFragment<Db> + Send>,
    grouping: Grouping,
    source: Source,
}

/// Joins each incident to the distinct claim statuses of its perpetrators: the first
/// perpetrator with each status stands for it, so an incident with two claimed perpetrators
/// counts once as claimed.
const DISTINCT_CLAIMS: &str = " LEFT JOIN incident_perpetrators c ON c.incident_id = i.id \
     AND c.position = (SELECT MIN(d.position) FROM incident_perpetrators d \
     WHERE d.incident_id = i.id AND d.claim = c.claim)";

impl StatsQuery {
    fn has(&self, key: GroupKey) -> bool {
        self.grouping.keys.contains(&key)
    }

    /// The SQL of `key` as selected, and as grouped by.
    fn key_sql(&self, key: GroupKey) -> (Cow<'static, str>, Cow<'static, str>) {
        match key {
            GroupKey::Cell => {
                let grid = self.grouping.grid;
                (grid.select_sql().into(), grid.group_sql().into())
            }
            // Grouped by perpetrator too, each perpetrator's own claim.
            GroupKey::Claim if self.has(GroupKey::Perpetrator) => {
                ("p.claim".into(), "p.claim".into())
            }
            key => (key.sql(self.source).into(), key.sql(self.source).into()),
        }
    }

    /// The filtered incidents; grouped by region they appear once under their UN M49 region
    /// and once more under each named region holding their country.
    fn walk_source<'b>(&'b self, out: &mut AstPass<'_, 'b, Db>) -> QueryResult<()> {
        if self.has(GroupKey::Region) {
            out.push_sql("(SELECT m.*, m.region AS region_key FROM (");
            self.matching.walk_ast(out.reborrow())?;
            out.push_sql(") m UNION ALL SELECT m.*, n.region AS region_key FROM (");
            self.matching.walk_ast(out.reborrow())?;
            out.push_sql(") m JOIN named_region_countries n ON n.country_code = m.country_code) i");
        } else {
            out.push_sql("(");
            self.matching.walk_ast(out.reborrow())?;
            out.push_sql(") i");
        }
        if self.has(GroupKey::Perpetrator) {
            out.push_sql(" LEFT JOIN incident_perpetrators p ON p.incident_id = i.id");
        } else if self.has(GroupKey::Claim) {
            out.push_sql(DISTINCT_CLAIMS);
        }
        Ok(())
    }

    /// The mean position of each cell's incidents, where a map draws it.
    fn positions(&self) -> &'static str {
        if self.grouping.has_cells() {
            ", AVG(i.latitude), AVG(i.longitude)"
        } else {
            ", CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS DOUBLE PRECISION)"
        }
    }
}

impl QueryFragment<Db> for StatsQuery {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        let keys: Vec<_> = self
            .grouping
            .keys
            .iter()
            .map(|&k| self.key_sql(k))
            .collect();
        out.push_sql("SELECT ");
        for position in 0..MAX_KEYS {
            match keys.get(position) {
                Some((selected, _)) => out.push_sql(selected),
                None => out.push_sql("CAST(NULL AS TEXT)"),
            }
            out.push_sql(", ");
        }
        out.push_sql(self.source.aggregates());
        out.push_sql(self.positions());
        out.push_sql(" FROM ");
        self.walk_source(&mut out)?;
        if !keys.is_empty() {
            out.push_sql(" GROUP BY ");
            let grouped: Vec<&str> = keys.iter().map(|(_, grouped)| grouped.as_ref()).collect();
            out.push_sql(&grouped.join(", "));
        }
        // One group more than allowed tells that there are too many.
        out.push_sql(MORE_THAN_MAX_GROUPS);
        Ok(())
    }
}

crate::written_query!(StatsQuery => StatsSqlType);

#[cfg(test)]
mod tests {
    #[test]
    fn the_group_limit_is_one_number() {
        assert_eq!(
            super::MORE_THAN_MAX_GROUPS,
            format!(" LIMIT {}", super::MAX_GROUPS + 1)
        );
    }
}

//! The one filter of the API: parsed and validated once from the query string, applied as one
//! diesel query by the list, the exports and the stats alike.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use serde::Deserialize;
use utoipa::IntoParams;

use super::params::Params;
use crate::db::schema::{incident_perpetrators, incidents};
use crate::db::sql::{sql, text_in, Sql};
use crate::db::{regions, Db, DbConnection};
use crate::error::{AppError, AppResult};
use crate::model::country;
use crate::model::incident::Claim;
use crate::model::validate::{did_you_mean, snap_coordinate};

#[diesel::declare_sql_function]
extern "SQL" {
    fn lower(text: Text) -> Text;
    #[sql_name = "lower"]
    fn lower_nullable(text: Nullable<Text>) -> Nullable<Text>;
}

/// A boxed query over `incidents` on either backend.
pub type IncidentQuery = incidents::BoxedQuery<'static, Db>;

/// The filters shared by the list, the exports and the stats. All combine with AND; a
/// comma-separated list means any of its values.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; `Filter::parse` reads them
pub struct FilterParams {
    /// First day, inclusive: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a year or month means its
    /// first day). Matches `occurred_on`.
    #[param(example = "2020-11")]
    from: Option<String>,
    /// Last day, inclusive: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a year or month means its last
    /// day).
    #[param(example = "2020-11")]
    to: Option<String>,
    /// Countries as ISO alpha-2, alpha-3 or names, case-insensitive. Unknown names are a 400
    /// with the closest known names.
    #[param(example = "AF")]
    country: Option<String>,
    /// UN M49 regions or sub-regions, or named regions (see `GET /v1/regions`),
    /// case-insensitive.
    #[param(example = "Southern Asia")]
    region: Option<String>,
    /// The source dataset's own region labels, case-insensitive.
    #[param(example = "Caucasus and Central Asia")]
    source_region: Option<String>,
    /// First-level administrative areas, case-insensitive exact names.
    #[param(example = "Kabul")]
    admin1: Option<String>,
    /// Second-level administrative areas, case-insensitive exact names.
    admin2: Option<String>,
    /// Places, case-insensitive exact names.
    #[param(example = "Kabul")]
    place: Option<String>,
    /// `minLon,minLat,maxLon,maxLat`; `minLon > maxLon` crosses the antimeridian. Rows without
    /// coordinates never match.
    #[param(example = "68.9,34.3,69.5,34.8")]
    bbox: Option<String>,
    /// `lat,lon`: incidents within `radius_km` (great-circle distance) of this point.
    #[param(example = "34.53,69.17")]
    near: Option<String>,
    /// Radius for `near`, in kilometres (default 10, at most 20000).
    #[param(example = 25)]
    radius_km: Option<f64>,
    /// Event types, case-insensitive.
    #[param(example = "Explosions/Remote violence")]
    event_type: Option<String>,
    /// Sub-event types, case-insensitive.
    sub_event_type: Option<String>,
    /// Perpetrator names, case-insensitive. With `claim`, the same perpetrator must have
    /// that claim status.
    #[param(example = "Islamic State")]
    perpetrator: Option<String>,
    /// Claim statuses: `claimed`, `denied`, `attributed`, `suspected`.
    #[param(example = "claimed")]
    claim: Option<String>,
    /// Least `killed.best`; incidents with unknown killed are excluded once a bound is given.
    #[param(example = 1, minimum = 0)]
    killed_min: Option<i32>,
    /// Most `killed.best`.
    #[param(example = 100, minimum = 0)]
    killed_max: Option<i32>,
    /// Datasets.
    #[param(example = "acled")]
    dataset: Option<String>,
    /// Identifiers within the dataset.
    #[param(example = "AFG45510")]
    external_id: Option<String>,
    /// Words that must all occur (case-insensitive) in the description, the place or a
    /// perpetrator's name.
    #[param(example = "rockets")]
    q: Option<String>,
    /// Only incidents created or changed at or after this RFC 3339 timestamp.
    #[param(example = "2026-11-24T00:00:00Z")]
    updated_since: Option<String>,
}

/// A validated filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Alpha-3 codes from `country`.
    pub countries: Vec<String>,
    /// Alpha-3 codes of every region in `region`.
    pub region_countries: Option<Vec<String>>,
    /// Names in `region` that are not UN M49 regions: named regions, looked up in the
    /// database by `resolve_named_regions`.
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
    pub datasets: Vec<String>,
    pub external_ids: Vec<String>,
    pub words: Vec<String>,
    pub updated_since: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

const EARTH_RADIUS_KM: f64 = 6371.0088;

impl Filter {
    /// Reads and validates every filter parameter from `params`.
    pub fn parse(params: &mut Params) -> AppResult<Filter> {
        let from = params.take_parsed("from", |v| parse_day(v, Bound::First))?;
        let to = params.take_parsed("to", |v| parse_day(v, Bound::Last))?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(AppError::parameter(
                    "to",
                    format!("{to} is before from ({from})"),
                ));
            }
        }
        let near = parse_near(params)?;
        let killed_min = params.take_parsed("killed_min", parse_count)?;
        let killed_max = params.take_parsed("killed_max", parse_count)?;
        let (region_countries, named_regions) = resolve_m49_regions(params.take_list("region")?);
        Ok(Filter {
            from,
            to,
            countries: resolve_countries(params.take_list("country")?)?,
            region_countries,
            named_regions,
            source_regions: lower_list(params.take_list("source_region")?),
            admin1: lower_list(params.take_list("admin1")?),
            admin2: lower_list(params.take_list("admin2")?),
            places: lower_list(params.take_list("place")?),
            bbox: params.take_parsed("bbox", parse_bbox)?,
            near,
            event_types: lower_list(params.take_list("event_type")?),
            sub_event_types: lower_list(params.take_list("sub_event_type")?),
            perpetrators: lower_list(params.take_list("perpetrator")?),
            claims: parse_claims(params.take_list("claim")?)?,
            killed_min,
            killed_max,
            datasets: params.take_list("dataset")?,
            external_ids: params.take_list("external_id")?,
            words: parse_words(params.take("q"))?,
            updated_since: params.take_parsed("updated_since", parse_timestamp)?,
        })
    }

    /// Looks up the named regions of `region` and adds their countries; a name that is neither
    /// a UN M49 region nor a named region is a 400 with the closest names.
    pub fn resolve_named_regions(&mut self, conn: &mut DbConnection) -> AppResult<()> {
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
                    parameter: "region".into(),
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

    /// `query` narrowed to the incidents this filter matches.
    pub fn apply(&self, mut query: IncidentQuery) -> IncidentQuery {
        if let Some(from) = self.from {
            query = query.filter(incidents::occurred_on.ge(from));
        }
        if let Some(to) = self.to {
            query = query.filter(incidents::occurred_on.le(to));
        }
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
        if let Some(min) = self.killed_min {
            query = query.filter(incidents::killed_best.ge(min));
        }
        if let Some(max) = self.killed_max {
            query = query.filter(incidents::killed_best.le(max));
        }
        if !self.datasets.is_empty() {
            query = query.filter(text_in(incidents::dataset, self.datasets.clone()));
        }
        if !self.external_ids.is_empty() {
            query = query.filter(text_in(incidents::external_id, self.external_ids.clone()));
        }
        if !self.words.is_empty() {
            query = query.filter(contains_all(&self.words));
        }
        if let Some(since) = self.updated_since {
            query = query.filter(incidents::updated_at.ge(since));
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
            .map(crate::db::incidents::enum_text)
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
        .bind_double(2.0 * EARTH_RADIUS_KM)
        .sql(" * asin(sqrt(power(sin(radians(latitude - ")
        .bind_double(circle.lat)
        .sql(") / 2), 2) + cos(radians(")
        .bind_double(circle.lat)
        .sql(")) * cos(radians(latitude)) * power(sin(radians(longitude - ")
        .bind_double(circle.lon)
        .sql(") / 2), 2))) <= ")
        .bind_double(circle.radius_km)
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

#[derive(Clone, Copy)]
enum Bound {
    First,
    Last,
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; a year or month means its first or last day.
fn parse_day(text: &str, bound: Bound) -> Result<NaiveDate, String> {
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
    let date = match (parts.len(), bound) {
        (1, Bound::First) => NaiveDate::from_ymd_opt(year, 1, 1),
        (1, Bound::Last) => NaiveDate::from_ymd_opt(year, 12, 31),
        (2, bound) => {
            let month = number(parts[1], 2)?;
            let first = NaiveDate::from_ymd_opt(year, month, 1);
            match bound {
                Bound::First => first,
                Bound::Last => first.and_then(|d| {
                    d.checked_add_months(chrono::Months::new(1))
                        .and_then(|next| next.pred_opt())
                }),
            }
        }
        (3, _) => NaiveDate::from_ymd_opt(year, number(parts[1], 2)?, number(parts[2], 2)?),
        _ => None,
    };
    date.filter(|d| d.year() == year).ok_or_else(invalid)
}

/// An RFC 3339 timestamp, as UTC.
pub fn parse_timestamp(text: &str) -> Result<NaiveDateTime, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.naive_utc())
        .map_err(|e| format!("not an RFC 3339 timestamp ({e}): {text:?}"))
}

fn parse_count(text: &str) -> Result<i32, String> {
    text.parse::<i32>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("expected a non-negative integer, got {text:?}"))
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

fn parse_bbox(text: &str) -> Result<BoundingBox, String> {
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

fn parse_near(params: &mut Params) -> AppResult<Option<Circle>> {
    let centre = params.take_parsed("near", |text| {
        let n = parse_numbers(text, 2, "lat,lon")?;
        check_lat_lon(n[0], n[1])?;
        // On the stored coordinates' grid, so the distance arithmetic cannot underflow.
        Ok((snap_coordinate(n[0]), snap_coordinate(n[1])))
    })?;
    let radius_km = params.take_parsed("radius_km", |text| {
        text.parse::<f64>()
            .ok()
            .filter(|r| r.is_finite() && *r > 0.0 && *r <= 20_000.0)
            .ok_or_else(|| format!("expected kilometres in (0, 20000], got {text:?}"))
    })?;
    match (centre, radius_km) {
        (Some((lat, lon)), radius) => Ok(Some(Circle {
            lat,
            lon,
            radius_km: radius.unwrap_or(10.0),
        })),
        (None, Some(_)) => Err(AppError::parameter(
            "radius_km",
            "radius_km needs near=lat,lon",
        )),
        (None, None) => Ok(None),
    }
}

fn parse_claims(values: Vec<String>) -> AppResult<Vec<Claim>> {
    values
        .iter()
        .map(|v| {
            crate::db::incidents::enum_parse::<Claim>(&v.to_lowercase()).ok_or_else(|| {
                AppError::parameter(
                    "claim",
                    format!(
                        "unknown claim {v:?}; expected claimed, denied, attributed or suspected"
                    ),
                )
            })
        })
        .collect()
}

fn resolve_countries(values: Vec<String>) -> AppResult<Vec<String>> {
    values
        .iter()
        .map(|value| match country::resolve(value) {
            Some(found) => Ok(found.alpha3.clone()),
            None => {
                let suggestions = country::suggest_country(value);
                Err(AppError::InvalidParameter {
                    parameter: "country".into(),
                    message: format!("unknown country {value:?}{}", did_you_mean(&suggestions)),
                    suggestions,
                })
            }
        })
        .collect()
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

fn lower_list(values: Vec<String>) -> Vec<String> {
    values.into_iter().map(|v| v.to_lowercase()).collect()
}

/// Most words `q` may hold: each is one more LIKE over the text.
pub const MAX_WORDS: usize = 32;

fn parse_words(q: Option<String>) -> AppResult<Vec<String>> {
    let words: Vec<String> = q
        .map(|q| q.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    if words.len() > MAX_WORDS {
        return Err(AppError::parameter(
            "q",
            format!("at most {MAX_WORDS} words, got {}", words.len()),
        ));
    }
    Ok(words)
}

/// `search_text` contains every word: one flat `LIKE … AND LIKE …` whose depth does not grow
/// with the words (each `.filter()` would nest the query one level deeper).
fn contains_all(words: &[String]) -> Sql<Bool> {
    words
        .iter()
        .enumerate()
        .fold(sql::<Bool>("("), |sql, (i, word)| {
            let sql = if i > 0 { sql.sql(" AND ") } else { sql };
            sql.sql("search_text LIKE ")
                .bind_text(format!("%{}%", escape_like(word)))
                .sql(" ESCAPE '\\'")
        })
        .sql(")")
}

fn escape_like(word: &str) -> String {
    word.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str, bound: Bound) -> Result<NaiveDate, String> {
        parse_day(text, bound)
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

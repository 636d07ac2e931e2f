//! `/v1/regions`: the regions the `region` filter understands.

use actix_web::{delete, get, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{parse_json, Call};
use crate::db::keys::Role;
use crate::db::regions;
use crate::error::{AppError, AppResult, FieldError, Problem, ReadProblems, WriteProblems};
use crate::model::country;
use crate::model::validate::did_you_mean;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(list_regions)
        .service(put_region)
        .service(delete_region);
}

/// The regions usable in the `region` filter.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionList {
    pub regions: Vec<Region>,
}

/// A region and the countries in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Region {
    #[schema(example = "Southern Asia")]
    pub name: String,
    pub kind: RegionKind,
    /// The UN M49 numeric code (usable in `region=` too).
    #[schema(example = "034")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The UN M49 region a sub-region belongs to.
    #[schema(example = "Asia")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub countries: Vec<CountryRef>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    /// A UN M49 region (Africa, Americas, Asia, Europe, Oceania).
    M49Region,
    /// A UN M49 sub-region (e.g. Southern Asia).
    M49Subregion,
    /// A UN M49 grouping of sub-regions (Sub-Saharan Africa, Latin America and the Caribbean).
    M49Grouping,
    /// A region named by an admin (`PUT /v1/regions/{name}`).
    Named,
}

/// The countries of a named region.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"countries": ["SY", "YE", "IQ", "PS", "IL", "LB", "TR", "IR", "SA"]}))]
pub struct RegionInput {
    /// ISO alpha-2, alpha-3 or names; at least one.
    pub countries: Vec<String>,
}

/// A country in a region.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountryRef {
    /// ISO 3166-1 alpha-3.
    #[schema(example = "AFG")]
    pub code: String,
    /// ISO 3166-1 alpha-2, which the `country` filter takes too.
    #[schema(example = "AF")]
    pub alpha2: String,
    #[schema(example = "Afghanistan")]
    pub name: String,
}

fn country_refs<'a>(codes: impl Iterator<Item = &'a String>) -> Vec<CountryRef> {
    codes
        .filter_map(|code| country::resolve(code))
        .map(|c| CountryRef {
            code: c.alpha3.clone(),
            alpha2: c.alpha2.clone(),
            name: c.name.clone(),
        })
        .collect()
}

/// List regions.
///
/// The UN M49 regions and sub-regions, then the M49 groupings, then the named regions, with
/// their codes and countries.
#[utoipa::path(
    tag = "regions",
    responses(
        (status = 200, description = "Every region and sub-region", body = RegionList),
        ReadProblems,
    )
)]
#[get("/v1/regions")]
async fn list_regions(call: Call) -> AppResult<HttpResponse> {
    let named = call.state.read(|conn| Ok(regions::all(conn)?)).await?;
    let mut regions = Vec::new();
    for (region, subregions) in country::m49_regions() {
        regions.push(Region {
            code: country::m49_code(&region),
            name: region.clone(),
            kind: RegionKind::M49Region,
            parent: None,
            countries: country_refs(subregions.iter().flat_map(|(_, codes)| codes.iter())),
        });
        for (subregion, codes) in &subregions {
            regions.push(Region {
                code: country::m49_code(subregion),
                name: subregion.clone(),
                kind: RegionKind::M49Subregion,
                parent: Some(region.clone()),
                countries: country_refs(codes.iter()),
            });
        }
    }
    regions.extend(country::M49_GROUPINGS.iter().map(|(name, code, _)| Region {
        name: name.to_string(),
        kind: RegionKind::M49Grouping,
        code: Some(code),
        parent: None,
        countries: country_refs(country::m49_members(name).unwrap_or_default().iter()),
    }));
    regions.extend(named.into_iter().map(named_region));
    Ok(HttpResponse::Ok().json(RegionList { regions }))
}

fn named_region(region: regions::NamedRegion) -> Region {
    Region {
        name: region.name,
        kind: RegionKind::Named,
        code: None,
        parent: None,
        countries: country_refs(region.countries.iter()),
    }
}

/// What an operation on a named region answers to a bad name in its path.
#[derive(utoipa::IntoResponses)]
pub enum InvalidRegionName {
    /// The name is empty, longer than 100 characters or holds NUL
    #[response(status = 400, content_type = "application/problem+json")]
    InvalidName(Problem),
}

/// Longest region name accepted.
const MAX_NAME: usize = 100;

/// Most countries a named region may list (there are fewer than 300).
const MAX_COUNTRIES: usize = 300;

/// Create or replace a named region.
///
/// A list of countries, usable in the `region` filter and in `group_by=region` of the stats.
/// Names are case-insensitive and may not be UN M49 names. Needs an admin key.
#[utoipa::path(
    tag = "regions",
    params(("name" = String, Path, description = "The region's name. Example: `Middle East`.")),
    request_body = RegionInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced", body = Region),
        (status = 201, description = "Created", body = Region),
        (status = 409, description = "The name is a UN M49 region or sub-region", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A country is unknown, or there is none; each named by its JSON path", body = Problem, content_type = "application/problem+json"),
        InvalidRegionName,
        WriteProblems,
    )
)]
#[put("/v1/regions/{name}")]
async fn put_region(
    path: web::Path<String>,
    body: web::Bytes,
    call: Call,
) -> AppResult<HttpResponse> {
    call.caller.require(Role::Admin)?;
    let name = region_name(path.into_inner())?;
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(AppError::parameter(
            "name",
            format!("a region name has 1 to {MAX_NAME} characters"),
        ));
    }
    if country::m49_members(&name).is_some() {
        return Err(AppError::Conflict(format!(
            "{name:?} is a UN M49 region; choose another name"
        )));
    }
    let input: RegionInput = parse_json(&body)?;
    let codes = resolve_countries(&input.countries)?;
    let created = call
        .state
        .run({
            let (name, codes) = (name.clone(), codes.clone());
            move |conn| Ok(regions::put(conn, &name, &codes)?)
        })
        .await?;
    let region = named_region(regions::NamedRegion {
        name,
        countries: codes,
    });
    Ok(if created {
        HttpResponse::Created().json(region)
    } else {
        HttpResponse::Ok().json(region)
    })
}

/// The name in the path, trimmed. NUL, which PostgreSQL cannot store or compare, is refused
/// on both backends.
fn region_name(name: String) -> AppResult<String> {
    if name.contains('\0') {
        return Err(AppError::parameter(
            "name",
            "must not contain the NUL character (U+0000)",
        ));
    }
    Ok(name.trim().to_string())
}

/// The alpha-3 codes of `countries`, sorted; every unknown one is reported.
fn resolve_countries(countries: &[String]) -> AppResult<Vec<String>> {
    if countries.is_empty() {
        return Err(AppError::field(
            "countries",
            "must name at least one country",
        ));
    }
    if countries.len() > MAX_COUNTRIES {
        return Err(AppError::field(
            "countries",
            format!("at most {MAX_COUNTRIES} countries, got {}", countries.len()),
        ));
    }
    let mut codes = Vec::new();
    let mut errors = Vec::new();
    for (i, value) in countries.iter().enumerate() {
        match country::resolve(value) {
            Some(found) => codes.push(found.alpha3.clone()),
            None => errors.push(FieldError::new(
                format!("countries[{i}]"),
                format!(
                    "unknown country {value:?}{}",
                    did_you_mean(&country::suggest_country(value))
                ),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::InvalidBody(errors));
    }
    codes.sort();
    codes.dedup();
    Ok(codes)
}

/// Delete a named region.
///
/// Needs an admin key.
#[utoipa::path(
    tag = "regions",
    params(("name" = String, Path, description = "The region's name, any case. Example: `Middle East`.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No named region has this name", body = Problem, content_type = "application/problem+json"),
        InvalidRegionName,
        WriteProblems,
    )
)]
#[delete("/v1/regions/{name}")]
async fn delete_region(path: web::Path<String>, call: Call) -> AppResult<HttpResponse> {
    call.caller.require(Role::Admin)?;
    let name = region_name(path.into_inner())?;
    let deleted = call
        .state
        .run({
            let name = name.clone();
            move |conn| Ok(regions::delete(conn, &name)?)
        })
        .await?;
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AppError::NotFound(format!("named region {name:?}")))
    }
}

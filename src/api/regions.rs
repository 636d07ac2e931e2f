//! `/v1/regions`: the regions the `region` filter understands.

use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::Caller;
use crate::model::country;

pub fn configure(config: &mut ServiceConfig) {
    config.service(list_regions);
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
}

/// A country in a region.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountryRef {
    /// ISO 3166-1 alpha-3.
    #[schema(example = "AFG")]
    pub code: String,
    #[schema(example = "Afghanistan")]
    pub name: String,
}

fn country_refs<'a>(codes: impl Iterator<Item = &'a String>) -> Vec<CountryRef> {
    codes
        .filter_map(|code| country::resolve(code))
        .map(|c| CountryRef {
            code: c.alpha3.clone(),
            name: c.name.clone(),
        })
        .collect()
}

/// The UN M49 regions and sub-regions with their countries.
#[utoipa::path(
    tag = "regions",
    responses(
        (status = 200, description = "Every region and sub-region", body = RegionList),
        (status = 401, description = "A key is needed (INCIDENTDB_READ_REQUIRES_KEY) or the key is invalid", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/regions")]
async fn list_regions(_caller: Caller) -> HttpResponse {
    let mut regions = Vec::new();
    for (region, subregions) in country::m49_regions() {
        regions.push(Region {
            name: region.clone(),
            kind: RegionKind::M49Region,
            parent: None,
            countries: country_refs(subregions.iter().flat_map(|(_, codes)| codes.iter())),
        });
        for (subregion, codes) in &subregions {
            regions.push(Region {
                name: subregion.clone(),
                kind: RegionKind::M49Subregion,
                parent: Some(region.clone()),
                countries: country_refs(codes.iter()),
            });
        }
    }
    HttpResponse::Ok().json(RegionList { regions })
}

//! The OpenAPI document, generated from the handlers registered in `api::configure`.

use actix_web::App;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "incidentdb",
        description = "[← Browse the incidents](/): map, filters, facets, timeline and table, \
            with links back to these operations.\n\n\
            A conflict-incident database: incidents with dates and their precision, \
            locations with UN M49 regions, casualties as low/best/high (null = unknown, never 0), \
            perpetrators with their claim status, and the sources that reported them.\n\n\
            Errors are `application/problem+json` (RFC 9457) naming the parameter or field. \
            Writes need `Authorization: Bearer TOKEN` (create one with `incidentdb keys create`).",
        license(name = "MIT"),
    ),
    tags(
        (name = "incidents", description = "Incidents: list with filters, export (CSV, GeoJSON, NDJSON), read, create, change, delete, and the feed of deletions"),
        (name = "stats", description = "Counts and casualty sums of the filtered incidents, grouped"),
        (name = "imports", description = "Importing ACLED, UCDP GED, GTD and NDJSON files"),
        (name = "regions", description = "UN M49 regions and sub-regions, and named regions"),
        (name = "health", description = "Liveness and readiness"),
        (name = "web", description = "The browse page"),
    ),
    modifiers(&BearerAuth),
)]
struct Base;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The title, tags and security schemes; `api::configure` adds the paths and schemas.
pub fn base() -> Document {
    Base::openapi()
}

/// The complete document, as served at `/openapi.json`.
pub fn document() -> Document {
    App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::api::configure)
        .split_for_parts()
        .1
}

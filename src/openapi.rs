//! The OpenAPI document, generated from the handlers registered in `api::configure`.

use actix_web::App;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr, Schema};
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
            Writes need `Authorization: Bearer TOKEN` (create one with `incidentdb keys create`).\n\n\
            `POST /v1/drafts` resolves places with GeoNames data (https://www.geonames.org/), \
            licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).",
        license(name = "MIT", identifier = "MIT"),
        contact(name = "incidentdb", url = "https://github.com/incidentdb/incidentdb"),
    ),
    servers(
        (url = "/", description = "The server that serves this document"),
    ),
    tags(
        (name = "incidents", description = "Incidents: list with filters, export (CSV, GeoJSON, NDJSON), read, create, change, delete, their history, and the feed of deletions. `as_of` answers as the database stood at a time"),
        (name = "releases", description = "Named, frozen points in time to cite: `release=NAME` answers as of one, and its checksum verifies an export"),
        (name = "stats", description = "Counts and casualty sums of the filtered incidents, grouped"),
        (name = "drafts", description = "Drafting an incident from a news report, with the evidence for each field"),
        (name = "imports", description = "Importing ACLED, UCDP GED, GTD and NDJSON files"),
        (name = "regions", description = "UN M49 regions and sub-regions, and named regions"),
        (name = "vocabularies", description = "The values a field takes among the filtered incidents, with their counts"),
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
    let (_, document) = App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::api::configure)
        .split_for_parts();
    finish(document)
}

/// What the handlers' annotations cannot say: the PATCH body is a merge patch of the incident,
/// its schema derived from `IncidentBody`: no field required, `null` for any, and the same for
/// the objects inside (a merge patch merges them); arrays are replaced whole.
pub fn finish(mut document: Document) -> Document {
    let components = document.components.get_or_insert_with(Default::default);
    let Some(patch) = merge_patch_of(&mut components.schemas, "IncidentBody") else {
        return document;
    };
    let patched = document
        .paths
        .paths
        .get_mut("/v1/incidents/{id}")
        .and_then(|item| item.patch.as_mut())
        .and_then(|operation| operation.request_body.as_mut());
    if let Some(content) = patched.and_then(|body| body.content.get_mut(MERGE_PATCH)) {
        content.schema = Some(patch);
    }
    document
}

/// A reference to the merge-patch schema of component `name` (added as `<name>Patch`, with
/// `IncidentBody` giving `IncidentPatch`), when `name` is an object.
fn merge_patch_of(schemas: &mut Schemas, name: &str) -> Option<RefOr<Schema>> {
    let patch_name = format!("{}Patch", name.trim_end_matches("Body"));
    if !schemas.contains_key(&patch_name) {
        // Objects with fields merge; anything else (an enum, a list) is replaced whole.
        let object = match schemas.get(name) {
            Some(RefOr::T(Schema::Object(object))) if !object.properties.is_empty() => object,
            _ => return None,
        };
        let mut patch = object.clone();
        patch.required.clear();
        patch.description = Some(format!(
            "A JSON merge patch (RFC 7396) of {name}: fields given replace, `null` removes, \
             objects merge, arrays are replaced whole."
        ));
        for property in patch.properties.values_mut() {
            let merged = match property {
                RefOr::Ref(reference) => {
                    let inner = reference
                        .ref_location
                        .rsplit('/')
                        .next()
                        .unwrap_or_default();
                    merge_patch_of(schemas, inner)
                }
                RefOr::T(_) => None,
            };
            let null = ObjectBuilder::new().schema_type(Type::Null).build();
            let value = merged.unwrap_or_else(|| property.clone());
            *property = RefOr::T(Schema::OneOf(
                OneOfBuilder::new().item(value).item(null).build(),
            ));
        }
        schemas.insert(patch_name.clone(), RefOr::T(Schema::Object(patch)));
    }
    Some(RefOr::Ref(Ref::from_schema_name(patch_name)))
}

/// The document's named schemas.
type Schemas = std::collections::BTreeMap<String, RefOr<Schema>>;

const MERGE_PATCH: &str = "application/merge-patch+json";

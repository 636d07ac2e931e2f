//! The browse page at `/`: one HTML page, its script and style sheet, and the Natural Earth
//! basemap, all embedded in the binary at build time (see `src/web/README.md`), so the page
//! works offline and needs nothing but this service. The page reads the public API only.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, AppResult, ServiceProblems};
use crate::query::stats::WORLD_CELL_DEGREES;

/// The page in the OpenAPI document; its files, which are no part of the API, outside it.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(index)
        .route("/web/{name}", web::get().to(asset));
}

/// A file the page loads, served at `/web/{name}`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// The page, with the cell size of its whole-world map filled in (the server warms the world
/// map's cells at that size: see `query::stats::warm`).
fn page() -> &'static str {
    static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PAGE.get_or_init(|| {
        include_str!("index.html").replace("{world_cell}", &WORLD_CELL_DEGREES.to_string())
    })
}

/// A file of this folder, embedded, served under its own name.
macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!($name),
        }
    };
}

const ASSETS: [Asset; 6] = [
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("countries-110m.json", "application/json"),
    asset!("countries-50m.json", "application/json"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("LICENSES.txt", "text/plain; charset=utf-8"),
];

/// The page may load only what this service serves: nothing leaves for a CDN, a tile server
/// or a font service even if a future change tried to.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Where to go from `/`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Index {
    #[schema(example = "incidentdb")]
    pub name: &'static str,
    pub links: Links,
}

/// The service's entry points.
#[derive(Debug, Serialize, ToSchema)]
// The example is what `/` answers: each link written once, in `INDEX`.
#[schema(example = json!(INDEX.links))]
pub struct Links {
    /// This page in a browser: map, filters, facets, timeline and table.
    pub browse: &'static str,
    /// The interactive API documentation.
    pub docs: &'static str,
    /// The OpenAPI 3.1 document.
    pub openapi: &'static str,
    pub incidents: &'static str,
    pub deleted: &'static str,
    pub stats: &'static str,
    pub regions: &'static str,
    pub imports: &'static str,
    pub health: &'static str,
    pub ready: &'static str,
}

const INDEX: Index = Index {
    name: "incidentdb",
    links: Links {
        browse: "/",
        docs: "/docs/",
        openapi: "/openapi.json",
        incidents: "/v1/incidents",
        deleted: "/v1/incidents/deleted",
        stats: "/v1/stats",
        regions: "/v1/regions",
        imports: "/v1/imports",
        health: "/healthz",
        ready: "/readyz",
    },
};

/// The browse page for a browser (an `Accept` that prefers `text/html`); a JSON index of the
/// service's entry points for anything else. The page keeps its whole state in the query
/// string, in the API's own parameters (`/?country=AF&from=2020-11`), which it reads itself.
#[utoipa::path(
    tag = "web",
    responses(
        (status = 200, description = "The page, or the index of links",
            content(
                (Index = "application/json"),
                (String = "text/html", example = "<!doctype html>..."),
            )),
        ServiceProblems,
    )
)]
#[get("/")]
async fn index(req: HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.insert_header((header::VARY, "Accept"));
    if !prefers_html(&req) {
        return response.json(INDEX);
    }
    response
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(page())
}

/// Whether `Accept` names `text/html` with at least the weight of `application/json`. A
/// client that names neither (curl's `*/*`) gets JSON: browsers always ask for HTML.
fn prefers_html(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let weight = |wanted: &str| -> Option<f32> {
        accept.split(',').find_map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next()?;
            if !media.eq_ignore_ascii_case(wanted) {
                return None;
            }
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .map_or(Some(1.0), |q| q.parse().ok());
            Some(q.unwrap_or(0.0))
        })
    };
    match (weight("text/html"), weight("application/json")) {
        (Some(html), Some(json)) => html > 0.0 && html >= json,
        (Some(html), None) => html > 0.0,
        _ => false,
    }
}

/// The page's script, style sheet, basemap and licences. Each has an `ETag` (a hash of its
/// bytes), so a browser revalidates with a 304 instead of loading it again.
async fn asset(req: HttpRequest, name: web::Path<String>) -> AppResult<HttpResponse> {
    let (asset, etag) = ASSETS
        .iter()
        .zip(etags())
        .find(|(asset, _)| asset.name == name.as_str())
        .ok_or_else(|| AppError::NotFound(format!("file {name:?}")))?;
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|tags| tags.to_str().ok())
        .is_some_and(|tags| tags.contains(etag.to_str().unwrap_or_default()));
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if unchanged {
        return Ok(response.finish());
    }
    Ok(response.content_type(asset.content_type).body(asset.body))
}

/// The `ETag` of each asset, in the order of `ASSETS`, computed once.
fn etags() -> &'static [HeaderValue] {
    static ETAGS: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let digest = hex::encode(&Sha256::digest(asset.body)[..8]);
                HeaderValue::from_str(&format!("\"{digest}\"")).expect("hex is a valid header")
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn html_for(accept: Option<&str>) -> bool {
        let mut request = TestRequest::get().uri("/");
        if let Some(accept) = accept {
            request = request.insert_header((header::ACCEPT, accept));
        }
        prefers_html(&request.to_http_request())
    }

    #[test]
    fn browsers_get_the_page_and_programs_the_index() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(html_for(Some(chromium)));
        assert!(html_for(Some("text/html")));
        assert!(!html_for(Some("application/json")));
        assert!(!html_for(Some("application/json, text/html;q=0.5")));
        assert!(!html_for(Some("text/html;q=0")));
        assert!(!html_for(Some("*/*")));
        assert!(!html_for(None));
    }
}

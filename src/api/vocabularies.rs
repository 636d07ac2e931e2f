//! `/v1/vocabularies/{field}`: the values a field takes among the filtered incidents, with
//! their counts.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Call;
use crate::error::{AppResult, ReadProblems};
use crate::query::filter::FilterParams;
use crate::query::vocabulary::{self, VocabularyEntry, VocabularyField, VocabularyParams};
use crate::query::{Filter, Params};

pub fn configure(config: &mut ServiceConfig) {
    config.service(get_vocabulary);
}

/// The values of a field, most frequent first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Vocabulary {
    /// By count of incidents (descending), then by value.
    pub data: Vec<VocabularyEntry>,
}

/// The query parameters as documented: the list's filters and the vocabulary's own, whose
/// `q` (a prefix) takes the place of the list's `q` (words). Both structs read the query
/// string, so a derived struct of their union would declare `q` twice.
struct VocabularyQuery;

impl IntoParams for VocabularyQuery {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let own = VocabularyParams::into_params(&parameter_in);
        let mut params: Vec<Parameter> = FilterParams::into_params(&parameter_in)
            .into_iter()
            .filter(|filter| own.iter().all(|p| p.name != filter.name))
            .collect();
        params.extend(own);
        params
    }
}

/// The values of a field.
///
/// The values `field` takes among the incidents the filters match (the list's filters, e.g.
/// `country=AF`), each with how many of them have it, by count then value: what a filter box
/// suggests. `q` keeps the values that start with it, case- and diacritic-insensitive
/// (`/v1/vocabularies/admin1?q=bog` finds `Bogotá`). Perpetrators are counted once per
/// incident that names them.
#[utoipa::path(
    tag = "vocabularies",
    params(
        ("field" = inline(VocabularyField), Path, description = "The field. Example: `admin1`."),
        VocabularyQuery,
    ),
    responses(
        (status = 200, description = "The values and their counts", body = Vocabulary),
        ReadProblems,
    )
)]
#[get("/v1/vocabularies/{field}")]
async fn get_vocabulary(path: web::Path<String>, call: Call) -> AppResult<HttpResponse> {
    let field = VocabularyField::parse(&path.into_inner())?;
    let mut params = Params::parse(call.req.query_string())?;
    let mut filter_params: FilterParams = params.read()?;
    let own: VocabularyParams = params.read()?;
    params.finish()?;
    // `q` is this endpoint's prefix, not the list's words.
    filter_params.q = None;
    let mut filter = Filter::try_from(filter_params)?;
    let limit = vocabulary::limit(own.limit)?;
    let data = call
        .state
        .read(move |conn| {
            filter.resolve(conn)?;
            let data = vocabulary::values(conn, &filter, field, own.q.as_deref(), limit)?;
            if data.is_empty() {
                filter.check_vocabularies()?;
            }
            Ok(data)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Vocabulary { data }))
}

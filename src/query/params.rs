//! Query parameters. Each endpoint reads its parameters as typed structs (`Deserialize` +
//! `IntoParams`): the struct's fields are the parameters' only names, serve as the OpenAPI
//! document's, and name the parameter in every error. A parameter no struct declares (a typo
//! such as `contry`) is an error with the closest names, not a silent no-op.

use std::any::TypeId;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, OnceLock, RwLock};

use chrono::NaiveDateTime;
use serde::de::DeserializeOwned;
use serde_with::DeserializeFromStr;
use utoipa::openapi::path::ParameterIn;
use utoipa::IntoParams;

use crate::error::{AppError, AppResult};
use crate::model::country::suggest;

/// Most distinct parameters a query string may carry; more cannot be a real query.
pub const MAX_PARAMETERS: usize = 64;

/// Most values a list parameter (`country=AF,IQ`, repeated or comma-separated) may carry.
pub const MAX_LIST_VALUES: usize = 256;

/// The name of field `$field` of parameter struct `$params`, for errors about a parameter
/// found after parsing (a cross-parameter rule, a name looked up in the database). The
/// compiler checks that the field exists.
#[macro_export]
macro_rules! param_name {
    ($params:ty, $field:ident) => {{
        let _field_exists = |params: &$params| {
            let _ = &params.$field;
        };
        stringify!($field)
    }};
}

/// A query string taken apart: each name once, repeated names joined with commas
/// (`country=AF&country=IQ` means `country=AF,IQ`), values trimmed.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// `pairs` as a query string again, which each struct is read from.
    encoded: String,
    /// The names of every struct read so far.
    known: Vec<Arc<[String]>>,
}

/// The parameter names `T` declares, listed once per type: `into_params` builds every
/// parameter's documentation, which cost a tenth of a list request's time when done for each.
fn declared<T: IntoParams + 'static>() -> Arc<[String]> {
    static DECLARED: OnceLock<RwLock<HashMap<TypeId, Arc<[String]>>>> = OnceLock::new();
    let cache = DECLARED.get_or_init(Default::default);
    let cached = cache
        .read()
        .ok()
        .and_then(|names| names.get(&TypeId::of::<T>()).cloned());
    cached.unwrap_or_else(|| {
        let names: Arc<[String]> = T::into_params(|| Some(ParameterIn::Query))
            .into_iter()
            .map(|p| p.name)
            .collect();
        if let Ok(mut cache) = cache.write() {
            cache.insert(TypeId::of::<T>(), names.clone());
        }
        names
    })
}

impl Params {
    /// Reads `query` as the parameters of `T` alone: any other name is an error.
    pub fn only<T: DeserializeOwned + IntoParams + 'static>(query: &str) -> AppResult<T> {
        let mut params = Params::parse(query)?;
        let read = params.read()?;
        params.finish()?;
        Ok(read)
    }

    /// Parses `a=1&b=2`. A NUL character, which PostgreSQL cannot store or compare, is refused
    /// in any name or value, whatever the backend.
    pub fn parse(query: &str) -> AppResult<Params> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if name.contains('\0') || value.contains('\0') {
                return Err(AppError::parameter(
                    name.trim_matches('\0'),
                    "must not contain the NUL character (U+0000)",
                ));
            }
            let value = value.trim();
            match index.get(name.as_ref()) {
                Some(&at) => {
                    let joined = &mut pairs[at].1;
                    joined.push(',');
                    joined.push_str(value);
                }
                None if pairs.len() == MAX_PARAMETERS => {
                    return Err(AppError::parameter(
                        &name,
                        format!("a query takes at most {MAX_PARAMETERS} distinct parameters"),
                    ));
                }
                None => {
                    index.insert(name.to_string(), pairs.len());
                    pairs.push((name.into_owned(), value.to_string()));
                }
            }
        }
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        Ok(Params {
            pairs,
            encoded,
            known: Vec::new(),
        })
    }

    /// The parameters `T` declares, typed; an error names the parameter at fault.
    pub fn read<T: DeserializeOwned + IntoParams + 'static>(&mut self) -> AppResult<T> {
        self.known.push(declared::<T>());
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(self.encoded.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let message = error.inner().to_string();
            let path = error.path().to_string();
            let name = match message.strip_prefix("missing field `") {
                Some(rest) => rest.split('`').next().unwrap_or_default().to_string(),
                None => path,
            };
            AppError::parameter(&name, message)
        })
    }

    /// Fails on the first parameter that no struct read declares.
    pub fn finish(self) -> AppResult<()> {
        let known: Vec<&String> = self.known.iter().flat_map(|names| names.iter()).collect();
        let unknown = self
            .pairs
            .into_iter()
            .find(|(name, _)| !known.contains(&name));
        match unknown {
            None => Ok(()),
            Some((name, _)) => Err(AppError::InvalidParameter {
                suggestions: suggest(&name, known.iter().map(|k| k.to_string())),
                message: format!(
                    "unknown parameter; known: {}",
                    known
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                parameter: name,
            }),
        }
    }
}

/// A list parameter: comma-separated values, trimmed, without empty items, at most
/// `MAX_LIST_VALUES`.
#[derive(Debug, Clone, Default, PartialEq, DeserializeFromStr)]
pub struct List(pub Vec<String>);

impl FromStr for List {
    type Err = String;

    fn from_str(text: &str) -> Result<List, String> {
        let values: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        if values.len() > MAX_LIST_VALUES {
            return Err(format!(
                "at most {MAX_LIST_VALUES} values, got {}",
                values.len()
            ));
        }
        Ok(List(values))
    }
}

impl List {
    /// The values of an optional list; none when absent.
    pub fn values(list: Option<List>) -> Vec<String> {
        list.map(|list| list.0).unwrap_or_default()
    }
}

/// An RFC 3339 timestamp, as UTC.
#[derive(Debug, Clone, Copy, PartialEq, DeserializeFromStr)]
pub struct Timestamp(pub NaiveDateTime);

impl FromStr for Timestamp {
    type Err = String;

    fn from_str(text: &str) -> Result<Timestamp, String> {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| Timestamp(t.naive_utc()))
            .map_err(|e| format!("not an RFC 3339 timestamp ({e}): {text:?}"))
    }
}

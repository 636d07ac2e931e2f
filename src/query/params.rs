//! The raw query string, taken apart once so every parameter is read by name exactly once and
//! a parameter nobody reads (a typo such as `contry`) is an error, not a silent no-op.

use std::collections::HashMap;

use crate::error::{AppError, AppResult};
use crate::model::country::suggest;

/// Most distinct parameters a query string may carry; more cannot be a real query.
pub const MAX_PARAMETERS: usize = 64;

/// Most values a list parameter (`country=AF,IQ`, repeated or comma-separated) may carry.
pub const MAX_LIST_VALUES: usize = 256;

/// Query parameters not yet read.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    known: Vec<&'static str>,
}

impl Params {
    /// Parses `a=1&b=2`. Repeated parameters are joined with commas (`country=AF&country=IQ`
    /// means `country=AF,IQ`). A NUL character, which PostgreSQL cannot store or compare, is
    /// refused in any name or value, whatever the backend.
    pub fn parse(query: &str) -> AppResult<Params> {
        let raw: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| {
            AppError::parameter("query", format!("cannot read the query string: {e}"))
        })?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (name, value) in raw {
            if name.contains('\0') || value.contains('\0') {
                return Err(AppError::parameter(
                    name.trim_matches('\0'),
                    "must not contain the NUL character (U+0000)",
                ));
            }
            match index.get(&name) {
                Some(&at) => {
                    let joined = &mut pairs[at].1;
                    joined.push(',');
                    joined.push_str(&value);
                }
                None if pairs.len() == MAX_PARAMETERS => {
                    return Err(AppError::parameter(
                        &name,
                        format!("a query takes at most {MAX_PARAMETERS} distinct parameters"),
                    ));
                }
                None => {
                    index.insert(name.clone(), pairs.len());
                    pairs.push((name, value));
                }
            }
        }
        Ok(Params {
            pairs,
            known: Vec::new(),
        })
    }

    /// The value of `name`, trimmed; empty values count as absent.
    pub fn take(&mut self, name: &'static str) -> Option<String> {
        self.take_given(name).filter(|value| !value.is_empty())
    }

    /// The value of `name`, trimmed, even when empty.
    fn take_given(&mut self, name: &'static str) -> Option<String> {
        self.known.push(name);
        let index = self.pairs.iter().position(|(n, _)| n == name)?;
        Some(self.pairs.remove(index).1.trim().to_string())
    }

    /// The comma-separated values of `name`, trimmed, without empty items; at most
    /// `MAX_LIST_VALUES` of them.
    pub fn take_list(&mut self, name: &'static str) -> AppResult<Vec<String>> {
        let values = self.take(name).map(|v| split_list(&v)).unwrap_or_default();
        if values.len() > MAX_LIST_VALUES {
            return Err(AppError::parameter(
                name,
                format!("at most {MAX_LIST_VALUES} values, got {}", values.len()),
            ));
        }
        Ok(values)
    }

    /// `name` parsed with `parse`, whose error message names what was wrong. A typed
    /// parameter given empty (`from=`) is an error, not absent: it cannot mean anything.
    pub fn take_parsed<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> AppResult<Option<T>> {
        self.take_given(name)
            .map(|v| parse(&v).map_err(|message| AppError::parameter(name, message)))
            .transpose()
    }

    /// Fails on the first parameter that no one read.
    pub fn finish(self) -> AppResult<()> {
        match self.pairs.into_iter().next() {
            None => Ok(()),
            Some((name, _)) => Err(AppError::InvalidParameter {
                suggestions: suggest(&name, self.known.iter().map(|k| k.to_string())),
                message: format!("unknown parameter; known: {}", self.known.join(", ")),
                parameter: name,
            }),
        }
    }
}

pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

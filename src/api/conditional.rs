//! Conditional requests on an incident (RFC 9110 §13): its `ETag` is its version, quoted.
//! `If-Match` guards a change with the strong comparison (`W/"3"` never matches); `If-None-Match`
//! spares a client the body it already has with the weak one.

use actix_web::http::header::{self, HeaderName};
use actix_web::HttpRequest;

use crate::error::{AppError, AppResult};

/// The entity tags a condition header names.
#[derive(Debug, PartialEq)]
pub enum Tags {
    /// `*`: any current version.
    Any,
    /// `"3", W/"2"`: each tag with whether it is weak.
    List(Vec<(bool, String)>),
}

impl Tags {
    /// Whether `version` is among the tags, as the strong comparison sees it.
    pub fn match_strongly(&self, version: i32) -> bool {
        match self {
            Tags::Any => true,
            Tags::List(tags) => tags
                .iter()
                .any(|(weak, tag)| !weak && *tag == version.to_string()),
        }
    }

    /// Whether `version` is among the tags, weak ones included.
    pub fn match_weakly(&self, version: i32) -> bool {
        match self {
            Tags::Any => true,
            Tags::List(tags) => tags.iter().any(|(_, tag)| *tag == version.to_string()),
        }
    }

    /// The tags as written, for messages.
    pub fn describe(&self) -> String {
        match self {
            Tags::Any => "*".into(),
            Tags::List(tags) => tags
                .iter()
                .map(|(weak, tag)| format!("{}\"{tag}\"", if *weak { "W/" } else { "" }))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The tags of `If-Match`, if the request has it.
pub fn if_match(req: &HttpRequest) -> AppResult<Option<Tags>> {
    tags_of(req, header::IF_MATCH)
}

/// The tags of `If-None-Match`, if the request has it.
pub fn if_none_match(req: &HttpRequest) -> AppResult<Option<Tags>> {
    tags_of(req, header::IF_NONE_MATCH)
}

fn tags_of(req: &HttpRequest, name: HeaderName) -> AppResult<Option<Tags>> {
    let Some(value) = req.headers().get(&name) else {
        return Ok(None);
    };
    let unreadable = || AppError::parameter(name.as_str(), "not a list of entity tags");
    let text = value.to_str().map_err(|_| unreadable())?.trim();
    if text == "*" {
        return Ok(Some(Tags::Any));
    }
    let tags = text
        .split(',')
        .map(|item| {
            let item = item.trim();
            let (weak, tag) = match item.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, item),
            };
            // A bare tag (`If-Match: 3`) is read as the quoted one clients meant.
            let tag = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(tag);
            (!tag.is_empty() && !tag.contains('"'))
                .then(|| (weak, tag.to_string()))
                .ok_or_else(unreadable)
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Some(Tags::List(tags)))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn tags(value: &str) -> Tags {
        let req = TestRequest::default()
            .insert_header((header::IF_MATCH, value))
            .to_http_request();
        if_match(&req).unwrap().unwrap()
    }

    #[test]
    fn weak_tags_never_match_strongly_and_lists_are_read() {
        assert!(!tags("W/\"3\"").match_strongly(3));
        assert!(tags("W/\"3\"").match_weakly(3));
        assert!(tags("\"1\", \"3\"").match_strongly(3));
        assert!(!tags("\"1\", \"2\"").match_strongly(3));
        assert!(tags("*").match_strongly(3));
        assert!(tags("3").match_strongly(3));
        assert_eq!(tags("W/\"2\", \"3\"").describe(), "W/\"2\", \"3\"");
    }
}

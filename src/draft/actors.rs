//! Armed groups by the names reports give them, each with the one name the database keeps
//! ("ISIS", "Daesh", "the Islamic State" → "Islamic State"). Until the project has its own
//! actor vocabulary this list is it; a group not on it is kept under the name the report
//! gives, when a claim names it.

use std::sync::OnceLock;

use regex::Regex;

use super::text::compile;
use crate::model::actors::ACTORS;

/// An actor's name as found: where, and the name kept.
#[derive(Debug, Clone)]
pub struct ActorMention {
    pub start: usize,
    pub end: usize,
    pub name: &'static str,
}

struct Matcher {
    /// Names in any case, longest first.
    names: Regex,
    /// Acronyms, in capitals.
    acronyms: Regex,
    /// Lower-cased name or acronym → the name kept.
    canonical: Vec<(String, &'static str)>,
}

fn matcher() -> &'static Matcher {
    static MATCHER: OnceLock<Matcher> = OnceLock::new();
    MATCHER.get_or_init(|| {
        let mut names = Vec::new();
        let mut acronyms = Vec::new();
        let mut canonical = Vec::new();
        for (kept, others) in ACTORS {
            for name in std::iter::once(kept).chain(others.iter()) {
                let is_acronym = name.len() <= 6
                    && name.chars().filter(|c| c.is_uppercase()).count() >= 2
                    && !name.contains(' ');
                if is_acronym {
                    acronyms.push(*name);
                } else {
                    names.push(*name);
                }
                canonical.push((name.to_lowercase(), *kept));
            }
        }
        let alternation = |list: &mut Vec<&str>| {
            list.sort_by_key(|n| std::cmp::Reverse(n.len()));
            list.iter()
                .map(|n| spelling_pattern(n))
                .collect::<Vec<_>>()
                .join("|")
        };
        Matcher {
            names: compile(&format!(r"(?i)\b(?:{})\b", alternation(&mut names)))
                .expect("a valid pattern"),
            acronyms: compile(&format!(r"\b(?:{})\b", alternation(&mut acronyms)))
                .expect("a valid pattern"),
            canonical,
        }
    })
}

/// A name as a pattern: a hyphen or a space matches either, an apostrophe may be curly or
/// left out.
fn spelling_pattern(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '-' | ' ' => "[- ]".to_string(),
            '\'' => "['’]?".to_string(),
            other => regex::escape(&other.to_string()),
        })
        .collect()
}

/// The name kept for a matched name: spelled with `-` or a space, with or without `'`.
fn kept(matched: &str) -> Option<&'static str> {
    let plain = |s: &str| s.to_lowercase().replace(['-', '\'', '’'], " ");
    let wanted = plain(matched);
    matcher()
        .canonical
        .iter()
        .find(|(name, _)| plain(name) == wanted)
        .map(|(_, kept)| *kept)
}

/// Every actor named in `text`, in order.
pub fn mentions(text: &str) -> Vec<ActorMention> {
    let matcher = matcher();
    let mut found: Vec<ActorMention> = Vec::new();
    for regex in [&matcher.names, &matcher.acronyms] {
        for m in regex.find_iter(text) {
            if found.iter().any(|f| m.start() < f.end && f.start < m.end()) {
                continue;
            }
            if let Some(name) = kept(m.as_str()) {
                found.push(ActorMention {
                    start: m.start(),
                    end: m.end(),
                    name,
                });
            }
        }
    }
    found.sort_by_key(|m| m.start);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_as_the_database_keeps_them() {
        let found = mentions("ISIS, the Islamic State group, al Shabab, IS and the Pakistani Taliban; his fiancé is here");
        let names: Vec<&str> = found.iter().map(|m| m.name).collect();
        assert_eq!(
            names,
            [
                "Islamic State",
                "Islamic State",
                "Al-Shabaab",
                "Islamic State",
                "Tehrik-i-Taliban Pakistan"
            ]
        );
    }
}

//! The place of the event: every capitalised name the gazetteer or the country list knows,
//! weighed by its sentence and the words before it ("in", "near", "outskirts of"), so the
//! event's town wins over the dateline's city; each name resolved to the place of the
//! countries and areas the report names (Kabul, Afghanistan, not a Kabul elsewhere).

use std::collections::HashMap;
use std::ops::Range;

use super::gazetteer::{fold, gazetteer, is_apostrophe, Place, PlaceKind, MAX_KEY_WORDS};
use super::text::Text;
use crate::model::country::{self, Country};
use crate::model::incident::GeoPrecision;

/// The event's place as the draft holds it.
#[derive(Debug, Clone)]
pub struct EventPlace {
    pub country: &'static Country,
    /// `None` when only the country is known.
    pub place: Option<&'static Place>,
    pub precision: GeoPrecision,
    pub span: Range<usize>,
    pub rule: String,
}

/// A name found in the text.
#[derive(Debug, Clone)]
struct Mention {
    span: Range<usize>,
    /// The gazetteer's places of this name.
    places: Vec<u32>,
    country: Option<&'static Country>,
}

/// Single words the gazetteer holds as towns but reports use as common words or names.
const NOT_PLACES: [&str; 40] = [
    "police",
    "security",
    "union",
    "independence",
    "liberty",
    "victoria",
    "mercedes",
    "concordia",
    "progreso",
    "reforma",
    "said",
    "man",
    "male",
    "bar",
    "best",
    "hit",
    "aid",
    "university",
    "mosque",
    "church",
    "army",
    "hospital",
    "state",
    "islamic",
    "ministry",
    "march",
    "may",
    "june",
    "july",
    "august",
    "sunday",
    "monday",
    "friday",
    "deal",
    "come",
    "many",
    "most",
    "president",
    "general",
    "centre",
];

/// Words before a name that make it a person's.
const TITLES: [&str; 16] = [
    "mr",
    "mrs",
    "ms",
    "dr",
    "president",
    "general",
    "gen",
    "minister",
    "governor",
    "senator",
    "colonel",
    "col",
    "captain",
    "sheikh",
    "imam",
    "commander",
];

/// Words before a name that place the event there.
const IN: [&str; 12] = [
    "in",
    "at",
    "into",
    "across",
    "inside",
    "struck",
    "strike",
    "strikes",
    "hit",
    "hits",
    "rocked",
    "targeting",
];
/// Words before a name that place the event near it.
const NEAR: [&str; 5] = ["near", "outside", "around", "nearby", "outskirts"];
/// "the heart of Kabul", "the province of Diyala": `of` after these places the event.
const OF_PLACE: [&str; 22] = [
    "heart",
    "centre",
    "center",
    "city",
    "town",
    "village",
    "district",
    "province",
    "state",
    "region",
    "area",
    "capital",
    "north",
    "south",
    "east",
    "west",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
    "outskirts",
    "suburbs",
];
/// Words after a name that make it an area.
const AREA_WORDS: [&str; 9] = [
    "province",
    "state",
    "governorate",
    "region",
    "district",
    "department",
    "county",
    "oblast",
    "prefecture",
];
/// Words after a name that make it a newspaper or an institution, not the event's place.
const NOT_AFTER: [&str; 6] = ["times", "post", "journal", "herald", "tribune", "news"];

/// The event's place, or why there is none.
pub fn find(text: &Text, focus: Option<usize>) -> Result<EventPlace, String> {
    let mentions = mentions(text);
    if mentions.is_empty() {
        return Err("no place the gazetteer knows is named".into());
    }
    let votes = country_votes(text, &mentions);
    let mut best: Option<(f64, EventPlace)> = None;
    for mention in &mentions {
        let Some((score, place)) = judge(text, mention, focus, &votes) else {
            continue;
        };
        if best.as_ref().is_none_or(|(top, _)| score > *top) {
            best = Some((score, place));
        }
    }
    best.map(|(_, place)| place)
        .ok_or_else(|| "the places named are not where the event happened".into())
}

/// Every name of a place or country, longest first: "Dera Ismail Khan" before "Khan".
fn mentions(text: &Text) -> Vec<Mention> {
    let words = words(text.text);
    let gazetteer = gazetteer();
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let starts_name = text.text[words[i].clone()].starts_with(char::is_uppercase);
        let mut taken = 1;
        if starts_name {
            for n in (1..=MAX_KEY_WORDS.min(words.len() - i)).rev() {
                let group = &words[i..i + n];
                if !joined(text.text, group) {
                    continue;
                }
                let span = group[0].start..group[n - 1].end;
                let written = strip_possessive(&text.text[span.clone()]);
                let key = fold(written);
                let country = country_named(written);
                let places = if n == 1 && NOT_PLACES.contains(&key.as_str()) {
                    &[][..]
                } else {
                    gazetteer.lookup(&key)
                };
                if country.is_some() || !places.is_empty() {
                    found.push(Mention {
                        span: span.start..span.start + written.len(),
                        places: places.to_vec(),
                        country,
                    });
                    taken = n;
                    break;
                }
            }
        }
        i += taken;
    }
    found
}

/// Words: letters and digits, with apostrophes and hyphens inside them.
fn words(text: &str) -> Vec<Range<usize>> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let inside = c.is_alphanumeric() || ((is_apostrophe(c) || c == '-') && start.is_some());
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push(trim_word(text, s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(trim_word(text, s, text.len()));
    }
    words
}

/// A word without the apostrophes and hyphens it ends with.
fn trim_word(text: &str, start: usize, end: usize) -> Range<usize> {
    let word = text[start..end].trim_end_matches(|c: char| is_apostrophe(c) || c == '-');
    start..start + word.len()
}

/// Whether the words are one name: only spaces or hyphens between them.
fn joined(text: &str, group: &[Range<usize>]) -> bool {
    group.windows(2).all(|pair| {
        let gap = &text[pair[0].end..pair[1].start];
        gap == " " || gap == "-"
    })
}

fn strip_possessive(written: &str) -> &str {
    written
        .strip_suffix("'s")
        .or_else(|| written.strip_suffix("’s"))
        .unwrap_or(written)
}

/// The country a name names: full names only, never a bare code ("IS" is not Iceland).
fn country_named(written: &str) -> Option<&'static Country> {
    let code_like = written.chars().count() <= 3 && written.chars().all(|c| c.is_uppercase());
    if code_like {
        return None;
    }
    country::resolve(written)
}

/// How strongly the report points at each country (alpha-2): its name, its places, the
/// dateline's, counted more in the sentences of the event.
fn country_votes(text: &Text, mentions: &[Mention]) -> HashMap<&'static str, f64> {
    let gazetteer = gazetteer();
    let mut votes: HashMap<&'static str, f64> = HashMap::new();
    for mention in mentions {
        let index = text.sentence_of(mention.span.start);
        let weight = if text.in_dateline(&mention.span) {
            3.0
        } else if text.tells_event(index) {
            2.0
        } else {
            1.0
        };
        if let Some(country) = mention.country {
            *votes.entry(country_alpha2(country)).or_default() += 2.0 * weight;
        }
        // A place name counts for each country it may be in, less when it may be in many.
        let mut countries: Vec<&str> = mention
            .places
            .iter()
            .map(|&i| gazetteer.places[i as usize].country)
            .collect();
        countries.dedup();
        let share = weight / countries.len().max(1) as f64;
        for country in countries {
            *votes.entry(country).or_default() += share;
        }
    }
    votes
}

fn country_alpha2(country: &'static Country) -> &'static str {
    country.alpha2.as_str()
}

/// What the words before a name say of it.
enum Placement {
    /// "near Djibo", "on the outskirts of Kabul".
    Near(String),
    /// "in Gwoza", "the heart of Kabul".
    In(String),
    Unmarked,
}

fn placement(before: &[String]) -> Placement {
    match before {
        [word, ..] if NEAR.contains(&word.as_str()) => Placement::Near(word.clone()),
        [of, what, ..] if of == "of" && (what == "outskirts" || what == "suburbs") => {
            Placement::Near(format!("{what} of"))
        }
        [to, close, ..] if to == "to" && close == "close" => Placement::Near("close to".into()),
        [word, ..] if IN.contains(&word.as_str()) => Placement::In(word.clone()),
        [of, what, ..] if of == "of" && OF_PLACE.contains(&what.as_str()) => {
            Placement::In(format!("{what} of"))
        }
        _ => Placement::Unmarked,
    }
}

/// The score of a mention as the event's place, with the place it resolves to; `None` for
/// a person's name or a newspaper's.
fn judge(
    text: &Text,
    mention: &Mention,
    focus: Option<usize>,
    votes: &HashMap<&'static str, f64>,
) -> Option<(f64, EventPlace)> {
    let before = words_before(text, mention.span.start, 3);
    let after = words_after(text, mention.span.end, 1);
    let after = after.first().map_or("", String::as_str);
    let titled = before.first().is_some_and(|w| TITLES.contains(&w.as_str()));
    if titled || NOT_AFTER.contains(&after) || is_inside_a_name(text, mention) {
        return None;
    }
    let written = text.slice(&mention.span);
    let mut score = text.event_weight(text.sentence_of(mention.span.start), focus, 3.0);
    let mut rules = Vec::new();
    let placement = placement(&before);
    match &placement {
        Placement::Near(words) => rules.push(format!("\"{words} {written}\": near the place")),
        Placement::In(words) => rules.push(format!("\"{words} {written}\": the event's place")),
        Placement::Unmarked if text.starts_sentence(mention.span.start) => {
            score -= 2.0; // "Police said": a capital at a sentence's start is weak evidence
        }
        Placement::Unmarked => {}
    }
    if !matches!(placement, Placement::Unmarked) {
        score += 3.0;
    }
    if text.in_dateline(&mention.span) {
        score -= 6.0;
        rules.push("the dateline's place (no other place is named for the event)".into());
    }
    let near = matches!(placement, Placement::Near(_));
    let (place, country, precision) = resolve(mention, AREA_WORDS.contains(&after), near, votes)?;
    score += match place.map(|p| p.kind) {
        Some(PlaceKind::City) => 1.0, // a town is more precise than its area or country
        Some(PlaceKind::Admin1) => 0.0,
        None => -1.0,
    };
    rules.push(describe(place, country));
    let found = EventPlace {
        country,
        place,
        precision,
        span: mention.span.clone(),
        rule: rules.join("; "),
    };
    Some((score, found))
}

/// "Tariq Arian": a known name inside a longer run of capitalised words is part of a
/// person's or an organisation's name.
fn is_inside_a_name(text: &Text, mention: &Mention) -> bool {
    let before = &text.text[..mention.span.start];
    let Some(previous) = before.strip_suffix(' ') else {
        return false;
    };
    let word_start = previous
        .rfind(|c: char| !c.is_alphanumeric())
        .map_or(0, |i| i + c_len(previous, i));
    let word = &previous[word_start..];
    let capitalised = word.starts_with(char::is_uppercase);
    let sentence_start = text.starts_sentence(word_start);
    capitalised && !sentence_start && !matches!(word, "The" | "In" | "At" | "Near" | "Outside")
}

fn c_len(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(1, char::len_utf8)
}

/// The place and country a mention resolves to: the candidate in the countries the report
/// points at, the most populous; an area when followed by "province" or when no town has
/// the name.
fn resolve(
    mention: &Mention,
    area_follows: bool,
    near: bool,
    votes: &HashMap<&'static str, f64>,
) -> Option<(Option<&'static Place>, &'static Country, GeoPrecision)> {
    let gazetteer = gazetteer();
    let weigh = |place: &Place| {
        let vote = votes.get(place.country).copied().unwrap_or(0.0);
        let size = match place.kind {
            PlaceKind::City => (f64::from(place.population) + 1.0).log10(),
            PlaceKind::Admin1 if area_follows => 9.0,
            PlaceKind::Admin1 => 3.5,
        };
        size + 2.0 * vote.min(5.0)
    };
    let best = mention
        .places
        .iter()
        .map(|&i| &gazetteer.places[i as usize])
        .max_by(|a, b| weigh(a).total_cmp(&weigh(b)));
    if let Some(country) = mention.country {
        // A country's name wins over a town of the same name ("Djibouti", "Kuwait").
        let place = best.filter(|p| {
            p.country == country.alpha2 && p.kind == PlaceKind::City && p.population > 200_000
        });
        return Some(match place {
            Some(place) => (Some(place), country, GeoPrecision::Place),
            None => (None, country, GeoPrecision::Country),
        });
    }
    let place = best?;
    let country = country::resolve(place.country)?;
    let precision = match (place.kind, near) {
        (PlaceKind::Admin1, _) => GeoPrecision::Admin1,
        (PlaceKind::City, true) => GeoPrecision::Near,
        (PlaceKind::City, false) => GeoPrecision::Place,
    };
    Some((Some(place), country, precision))
}

fn describe(place: Option<&Place>, country: &Country) -> String {
    let gazetteer = gazetteer();
    match place {
        Some(place) if place.kind == PlaceKind::City => {
            let area = gazetteer.admin1_of(place).map_or("", |a| a.name);
            format!(
                "gazetteer: {} ({area}, {}), population {}, the likeliest of its name given the countries the report names",
                place.name, country.alpha3, place.population
            )
        }
        Some(place) => format!("gazetteer: the area {} ({})", place.name, country.alpha3),
        None => format!("a country's name: {}", country.name),
    }
}

/// Up to `n` words before `at` in its sentence, nearest first, lower case.
fn words_before(text: &Text, at: usize, n: usize) -> Vec<String> {
    let start = text.around(at, 80).start;
    text.text[start..at]
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .rev()
        .take(n)
        .map(str::to_lowercase)
        .collect()
}

/// Up to `n` words after `at`, lower case, stopping at punctuation.
fn words_after(text: &Text, at: usize, n: usize) -> Vec<String> {
    let rest = &text.text[at..text.text.ceil_char_boundary(at + 80)];
    let clause = rest
        .split(['.', ',', ';', ':', '\n', '(', ')'])
        .next()
        .unwrap_or("");
    clause
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(n)
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(text: &str) -> (String, Option<String>, GeoPrecision) {
        let found = find(&Text::new(text), None).expect("a place");
        (
            found.country.alpha3.clone(),
            found.place.map(|p| p.name.to_string()),
            found.precision,
        )
    }

    #[test]
    fn the_event_place_wins_over_the_dateline() {
        let (country, town, _) = place(
            "MAIDUGURI, Nigeria — Gunmen killed 12 villagers in Gwoza, in Borno State, on Sunday.",
        );
        assert_eq!((country.as_str(), town.as_deref()), ("NGA", Some("Gwoza")));
    }

    #[test]
    fn spelling_variants_and_near() {
        assert_eq!(
            place("A car bomb exploded in Baquba, Iraq, killing five.")
                .1
                .as_deref(),
            Some("Baqubah")
        );
        let (country, town, precision) = place("A blast near Belet Weyne killed two soldiers.");
        assert_eq!(
            (country.as_str(), town.as_deref(), precision),
            ("SOM", Some("Beledweyne"), GeoPrecision::Near)
        );
    }
}

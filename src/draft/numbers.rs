//! Figures as reports write them, with the words that bound them: "at least eight", "more
//! than two dozen", "up to 1,200", "dozens", "between 10 and 15".

use crate::model::incident::Bounds;
use crate::model::validate::MAX_CASUALTIES;

const UNITS: [&str; 9] = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
const TEENS: [&str; 10] = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Vague plurals and the low bound they are read as: "dozens" is at least two dozen,
/// "scores" at least two score, "hundreds" at least two hundred.
const VAGUE: [(&str, u32); 3] = [("dozens", 24), ("scores", 40), ("hundreds", 200)];

/// A figure in words or digits, as a regex fragment (case-insensitive, no groups).
pub fn number_pattern() -> String {
    let units = UNITS.join("|");
    let teens = TEENS.join("|");
    let tens = TENS.join("|");
    let small = format!("(?:(?:{tens})(?:[- ](?:{units}))?|{teens}|{units})");
    format!(
        r"(?:\d{{1,3}}(?:,\d{{3}})+|\d+|half a dozen|(?:a|{units})\s+dozen|(?:a|{units})\s+hundred(?:\s+and\s+{small})?|dozens|scores|hundreds|{small})"
    )
}

/// A bounded figure: "between A and B", or an optional qualifier and a figure. Named groups
/// `a`, `b`, `q`, `n` (each pattern may hold it once).
pub fn phrase_pattern() -> String {
    let number = number_pattern();
    format!(
        r"(?:between\s+(?P<a>{number})\s+and\s+(?P<b>{number})|(?:(?P<q>at least|no fewer than|not less than|a minimum of|more than|over|upwards of|in excess of|up to|as many as|at most|no more than|about|around|nearly|almost|approximately|roughly|some|an estimated)\s+)?(?P<n>{number}))"
    )
}

/// A figure read from its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Exact(u32),
    /// "dozens": only a low bound.
    Vague(u32),
}

impl Figure {
    pub fn value(self) -> u32 {
        match self {
            Figure::Exact(n) | Figure::Vague(n) => n,
        }
    }
}

/// The value of a figure matched by `number_pattern`.
pub fn parse_figure(text: &str) -> Option<Figure> {
    let words = text.to_lowercase();
    let words = words.trim();
    if let Some(&(_, low)) = VAGUE.iter().find(|(word, _)| *word == words) {
        return Some(Figure::Vague(low));
    }
    if words.starts_with(|c: char| c.is_ascii_digit()) {
        return words.replace(',', "").parse().ok().map(Figure::Exact);
    }
    if words == "half a dozen" {
        return Some(Figure::Exact(6));
    }
    let mut parts = words.split_whitespace();
    let first = parts.next()?;
    match parts.next() {
        Some("dozen") => Some(Figure::Exact(multiplier(first)? * 12)),
        Some("hundred") => {
            let rest: Vec<&str> = parts.skip_while(|w| *w == "and").collect();
            let rest = if rest.is_empty() {
                0
            } else {
                small_number(&rest.join(" "))?
            };
            Some(Figure::Exact(multiplier(first)? * 100 + rest))
        }
        _ => small_number(words).map(Figure::Exact),
    }
}

fn multiplier(word: &str) -> Option<u32> {
    if word == "a" {
        Some(1)
    } else {
        small_number(word)
    }
}

/// "seven", "fifteen", "twenty-five", "forty one".
fn small_number(words: &str) -> Option<u32> {
    let position = |list: &[&str], word: &str| list.iter().position(|w| *w == word);
    let mut parts = words.split(['-', ' ']).filter(|w| !w.is_empty());
    let first = parts.next()?;
    let value = if let Some(i) = position(&UNITS, first) {
        i as u32 + 1
    } else if let Some(i) = position(&TEENS, first) {
        i as u32 + 10
    } else {
        let tens = (position(&TENS, first)? as u32 + 2) * 10;
        match parts.next() {
            Some(unit) => tens + position(&UNITS, unit)? as u32 + 1,
            None => tens,
        }
    };
    parts.next().is_none().then_some(value)
}

/// How a qualifier bounds its figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// No qualifier: the figure is the count.
    Exact,
    /// "at least", "no fewer than".
    AtLeast,
    /// "more than", "over": the next whole number is the low bound.
    MoreThan,
    /// "up to", "as many as".
    AtMost,
    /// "about", "nearly": the best estimate, without bounds.
    About,
}

impl Qualifier {
    pub fn of(words: Option<&str>) -> Qualifier {
        match words.map(str::to_lowercase).as_deref() {
            None => Qualifier::Exact,
            Some("at least" | "no fewer than" | "not less than" | "a minimum of") => {
                Qualifier::AtLeast
            }
            Some("more than" | "over" | "upwards of" | "in excess of") => Qualifier::MoreThan,
            Some("up to" | "as many as" | "at most" | "no more than") => Qualifier::AtMost,
            Some(_) => Qualifier::About,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Qualifier::Exact => "an exact figure: low = best",
            Qualifier::AtLeast => "\"at least N\": low = N",
            Qualifier::MoreThan => "\"more than N\": low = N + 1",
            Qualifier::AtMost => "\"up to N\": high = N",
            Qualifier::About => "\"about N\": best = N",
        }
    }
}

/// The bounds a qualified figure gives, or `None` past the largest figure an incident holds.
pub fn bounds(qualifier: Qualifier, figure: Figure) -> Option<Bounds> {
    let n = i32::try_from(figure.value())
        .ok()
        .filter(|n| *n <= MAX_CASUALTIES)?;
    let mut bounds = Bounds::default();
    match (figure, qualifier) {
        (Figure::Vague(_), _) | (_, Qualifier::AtLeast) => bounds.low = Some(n),
        (_, Qualifier::Exact) => (bounds.low, bounds.best) = (Some(n), Some(n)),
        (_, Qualifier::MoreThan) => bounds.low = Some(n.saturating_add(1).min(MAX_CASUALTIES)),
        (_, Qualifier::AtMost) => bounds.high = Some(n),
        (_, Qualifier::About) => bounds.best = Some(n),
    }
    Some(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::text::compile;

    #[test]
    fn figures_in_words_and_digits() {
        for (text, value) in [
            ("eight", Figure::Exact(8)),
            ("Eleven", Figure::Exact(11)),
            ("twenty-five", Figure::Exact(25)),
            ("two dozen", Figure::Exact(24)),
            ("a dozen", Figure::Exact(12)),
            ("half a dozen", Figure::Exact(6)),
            ("a hundred", Figure::Exact(100)),
            ("two hundred and fifty", Figure::Exact(250)),
            ("1,200", Figure::Exact(1200)),
            ("dozens", Figure::Vague(24)),
        ] {
            assert_eq!(parse_figure(text), Some(value), "{text}");
        }
        let whole = compile(&format!("(?i)^{}$", number_pattern())).unwrap();
        for text in ["two dozen", "a hundred", "forty one", "1,200", "dozens"] {
            assert!(whole.is_match(text), "{text}");
        }
    }

    #[test]
    fn qualifiers_bound_their_figure() {
        let of = |q: &str, n| bounds(Qualifier::of(Some(q)), Figure::Exact(n)).unwrap();
        assert_eq!(of("at least", 8).low, Some(8));
        assert_eq!(of("more than", 24).low, Some(25));
        assert_eq!(
            (of("up to", 30).high, of("up to", 30).low),
            (Some(30), None)
        );
        assert_eq!(of("no fewer than", 6).low, Some(6));
        let exact = bounds(Qualifier::Exact, Figure::Exact(5)).unwrap();
        assert_eq!((exact.low, exact.best), (Some(5), Some(5)));
        assert_eq!(bounds(Qualifier::Exact, Figure::Exact(20_000_000)), None);
    }
}

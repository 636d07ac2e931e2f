//! The date of the event: explicit dates, weekdays and "yesterday" resolved against the
//! reference date (the dateline's, else `published_on`), each mention weighed by the
//! sentence it is in, so a claim made days later does not move the attack.

use std::ops::Range;
use std::sync::OnceLock;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use regex::{Captures, Regex};

use super::text::{compile, event_words, pattern, Taken, Text};
use crate::model::incident::DatePrecision;

/// The event's date as the draft holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDate {
    pub on: NaiveDate,
    pub until: Option<NaiveDate>,
    pub precision: DatePrecision,
    pub span: Range<usize>,
    pub rule: String,
}

/// The day relative dates count from, and where it came from.
#[derive(Debug, Clone)]
pub struct Reference {
    pub day: NaiveDate,
    /// The dateline's date, cited; `None` for `published_on`.
    pub span: Option<Range<usize>>,
}

impl Reference {
    fn describe(&self) -> String {
        match self.span {
            Some(_) => format!("{} (the dateline)", self.day),
            None => format!("{} (published_on)", self.day),
        }
    }
}

const MONTHS: &str = r"January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Iso,
    DayMonth,
    MonthDay,
    Weekday,
    Relative,
    Month,
}

struct Pattern {
    kind: Kind,
    regex: Regex,
}

fn patterns() -> &'static [Pattern] {
    static PATTERNS: OnceLock<Vec<Pattern>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let p = |kind, pattern: String| Pattern {
            kind,
            regex: compile(&pattern).expect("a valid pattern"),
        };
        vec![
            p(Kind::Iso, r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b".into()),
            p(
                Kind::DayMonth,
                format!(r"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m>{MONTHS})\b\.?(?:,?\s+(?P<y>\d{{4}})\b)?"),
            ),
            p(
                Kind::MonthDay,
                format!(r"\b(?P<m>{MONTHS})\b\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}})\b)?"),
            ),
            p(
                Kind::Weekday,
                r"(?:\b(?P<part>[Ll]ate|[Ee]arly|[Oo]vernight|[Ll]ast)\s+(?:on\s+)?)?\b(?P<w>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b(?:’s|'s)?(?:\s+(?:morning|night|evening|afternoon))?".into(),
            ),
            p(
                Kind::Relative,
                r"(?i)\b(?P<r>yesterday|last night|earlier today|this morning|today|tonight|last week|earlier this week|this week|last month|earlier this month)\b".into(),
            ),
            p(
                Kind::Month,
                format!(r"(?i:\b(?:in|during|early|late|mid-?|since|by)\s*)(?P<m>{MONTHS})\b(?:\s+(?P<y>\d{{4}})\b)?"),
            ),
        ]
    })
}

/// Statements about the event, whose dates are the statements': "claimed on Sunday".
fn statement_words() -> &'static Regex {
    pattern!(
        r"(?i)\b(claim(ed|s)?|denied|deny|said|says|statement|announced|told|responsibility|according to|reported|visit(ed)?|met|meet|meeting|takes office|will)\b"
    )
}

/// A date mentioned in the text, resolved.
#[derive(Debug)]
struct Mention {
    date: EventDate,
    score: f64,
}

/// The reference date: the dateline's, when it carries one that can be read, else
/// `published_on`.
pub fn reference(text: &Text, published_on: Option<NaiveDate>) -> Option<Reference> {
    let from_dateline = text
        .dateline
        .as_ref()
        .and_then(|d| d.date.clone())
        .and_then(|span| {
            // "Nov 21" takes its year from published_on; "Nov 21, 2020" needs none.
            let partial = published_on.map(|day| Reference { day, span: None });
            let date = explicit_in(text.slice(&span), partial.as_ref())?;
            Some(Reference {
                day: date,
                span: Some(span),
            })
        });
    from_dateline.or(published_on.map(|day| Reference { day, span: None }))
}

/// An explicit date written in `words`, its year from `reference` when missing.
fn explicit_in(words: &str, reference: Option<&Reference>) -> Option<NaiveDate> {
    patterns()
        .iter()
        .filter(|p| matches!(p.kind, Kind::Iso | Kind::DayMonth | Kind::MonthDay))
        .find_map(|p| {
            let captures = p.regex.captures(words)?;
            resolve(p.kind, &captures, reference).map(|(on, _, _, _)| on)
        })
}

/// The event's date, or why there is none.
pub fn find(
    text: &Text,
    reference: Option<&Reference>,
    focus: Option<usize>,
) -> Result<EventDate, String> {
    let mut mentions = Vec::new();
    let mut taken = Taken::default();
    let mut unresolved = false;
    for pattern in patterns() {
        for captures in pattern.regex.captures_iter(text.text) {
            let Some(whole) = captures.get(0) else {
                continue;
            };
            let span = whole.range();
            if text.in_dateline(&span) || taken.overlaps(&span) {
                continue;
            }
            let Some((on, until, precision, rule)) = resolve(pattern.kind, &captures, reference)
            else {
                unresolved |= matches!(pattern.kind, Kind::Weekday | Kind::Relative);
                continue;
            };
            if reference.is_some_and(|r| on > r.day) {
                continue; // "takes office in January": not yet happened
            }
            let score = weigh(text, pattern.kind, &span, focus);
            taken.take(&span);
            let date = EventDate {
                on,
                until,
                precision,
                span,
                rule,
            };
            mentions.push(Mention { date, score });
        }
    }
    let best = mentions
        .into_iter()
        .filter(|m| m.score > 0.0)
        .max_by(|a, b| {
            a.score
                .total_cmp(&b.score)
                .then(b.date.span.start.cmp(&a.date.span.start))
        });
    if let Some(best) = best {
        return Ok(best.date);
    }
    if let Some(Reference {
        day,
        span: Some(span),
    }) = reference
    {
        return Ok(EventDate {
            on: *day,
            until: None,
            precision: DatePrecision::Day,
            span: span.clone(),
            rule: "the dateline's date: the text names no other day for the event".into(),
        });
    }
    Err(if unresolved {
        "the text dates the event relatively (a weekday, \"yesterday\") but there is no reference date: pass published_on".into()
    } else {
        "no date of the event found".into()
    })
}

/// How likely a mention dates the event: in a sentence of violence, next to the words of
/// the event rather than of a statement, early in the report, precise.
fn weigh(text: &Text, kind: Kind, span: &Range<usize>, focus: Option<usize>) -> f64 {
    let mut score = text.event_weight(text.sentence_of(span.start), focus, 2.0);
    score += match nearest_cue(text, span) {
        Some(Cue::Event) => 1.5,
        Some(Cue::Statement) => -3.0,
        None => 0.0,
    };
    score += match kind {
        Kind::Iso | Kind::DayMonth | Kind::MonthDay => 1.0,
        Kind::Weekday | Kind::Relative => 0.0,
        Kind::Month => -1.0,
    };
    score
}

enum Cue {
    Event,
    Statement,
}

/// The kind of the words nearest the mention in its sentence (within 300 bytes).
fn nearest_cue(text: &Text, span: &Range<usize>) -> Option<Cue> {
    let sentence = text.around(span.start, 300);
    let words = &text.text[sentence.clone()];
    let distance = |m: regex::Match| {
        let (start, end) = (sentence.start + m.start(), sentence.start + m.end());
        if end <= span.start {
            span.start - end
        } else {
            start.saturating_sub(span.end)
        }
    };
    let nearest = |regex: &Regex| regex.find_iter(words).map(distance).min();
    match (nearest(event_words()), nearest(statement_words())) {
        (Some(event), Some(statement)) if statement < event => Some(Cue::Statement),
        (Some(_), _) => Some(Cue::Event),
        (None, Some(_)) => Some(Cue::Statement),
        (None, None) => None,
    }
}

type Resolved = (NaiveDate, Option<NaiveDate>, DatePrecision, String);

fn resolve(kind: Kind, c: &Captures, reference: Option<&Reference>) -> Option<Resolved> {
    let number = |name| c.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    match kind {
        Kind::Iso | Kind::DayMonth | Kind::MonthDay => {
            let month = month_number(c.name("m")?.as_str())?;
            let day = number("d")?;
            let (date, rule) = match number("y") {
                Some(year) => (
                    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?,
                    "an explicit date".to_string(),
                ),
                None => {
                    let reference = reference?;
                    let date = latest_on_or_before(reference.day, month, day)?;
                    let rule = format!(
                        "a day and month, in the year that puts it on or before {}",
                        reference.describe()
                    );
                    (date, rule)
                }
            };
            Some((date, None, DatePrecision::Day, rule))
        }
        Kind::Weekday => {
            let reference = reference?;
            let name = c.name("w")?.as_str();
            let weekday: Weekday = name.parse().ok()?;
            let strictly_before = c
                .name("part")
                .is_some_and(|p| p.as_str().eq_ignore_ascii_case("last"));
            let start = if strictly_before {
                reference.day.pred_opt()?
            } else {
                reference.day
            };
            let back =
                (start.weekday().num_days_from_monday() + 7 - weekday.num_days_from_monday()) % 7;
            let day = start.checked_sub_days(Days::new(back.into()))?;
            let rule = format!(
                "a weekday: the latest {name} on or before {}",
                reference.describe()
            );
            Some((day, None, DatePrecision::Day, rule))
        }
        Kind::Relative => {
            let reference = reference?;
            relative(&c.name("r")?.as_str().to_lowercase(), reference)
        }
        Kind::Month => {
            let month = month_number(c.name("m")?.as_str())?;
            let year = match number("y") {
                Some(year) => i32::try_from(year).ok()?,
                None => {
                    let reference = reference?;
                    if month <= reference.day.month() {
                        reference.day.year()
                    } else {
                        reference.day.year() - 1
                    }
                }
            };
            let first = NaiveDate::from_ymd_opt(year, month, 1)?;
            let last = first.checked_add_months(Months::new(1))?.pred_opt()?;
            Some((
                first,
                Some(last),
                DatePrecision::Month,
                "a month: its first and last day".into(),
            ))
        }
    }
}

fn relative(words: &str, reference: &Reference) -> Option<Resolved> {
    let day = reference.day;
    let monday = day.checked_sub_days(Days::new(day.weekday().num_days_from_monday().into()))?;
    let described = reference.describe();
    Some(match words {
        "yesterday" | "last night" => (
            day.pred_opt()?,
            None,
            DatePrecision::Day,
            format!("\"{words}\": the day before {described}"),
        ),
        "last week" => {
            let start = monday.checked_sub_days(Days::new(7))?;
            let end = monday.pred_opt()?;
            (
                start,
                Some(end),
                DatePrecision::Week,
                format!("\"last week\": Monday to Sunday of the week before {described}"),
            )
        }
        "earlier this week" | "this week" => (
            monday,
            Some(day),
            DatePrecision::Week,
            format!("\"{words}\": from Monday to {described}"),
        ),
        "last month" => {
            let first = NaiveDate::from_ymd_opt(day.year(), day.month(), 1)?
                .checked_sub_months(Months::new(1))?;
            let last = first.checked_add_months(Months::new(1))?.pred_opt()?;
            (
                first,
                Some(last),
                DatePrecision::Month,
                format!("\"last month\": the month before {described}"),
            )
        }
        "earlier this month" => {
            let first = NaiveDate::from_ymd_opt(day.year(), day.month(), 1)?;
            (
                first,
                Some(day),
                DatePrecision::Month,
                format!("\"{words}\": from the first of the month to {described}"),
            )
        }
        _ => (
            day,
            None,
            DatePrecision::Day,
            format!("\"{words}\": {described}"),
        ),
    })
}

fn month_number(name: &str) -> Option<u32> {
    let prefix: String = name.chars().take(3).collect::<String>().to_lowercase();
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if let Ok(number) = name.parse::<u32>() {
        return (1..=12).contains(&number).then_some(number);
    }
    months
        .iter()
        .position(|m| *m == prefix)
        .map(|i| i as u32 + 1)
}

/// `month`/`day` in the reference's year, or the year before when that is later.
fn latest_on_or_before(reference: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    let this_year = NaiveDate::from_ymd_opt(reference.year(), month, day);
    match this_year {
        Some(date) if date <= reference => Some(date),
        _ => NaiveDate::from_ymd_opt(reference.year() - 1, month, day),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str, published: &str) -> Result<EventDate, String> {
        let text = Text::new(text);
        let reference = reference(&text, published.parse().ok());
        find(&text, reference.as_ref(), None)
    }

    /// The day the event starts on, for text published on `published`.
    fn starts_on(text: &str, published: &str) -> NaiveDate {
        date(text, published).unwrap().on
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_event_starts_on_the_day_its_sentence_names() {
        let cases = [
            // Weekdays resolve to the latest such day.
            ("A bomb exploded on Saturday in Kabul, killing five.", "2020-11-21", "2020-11-21"),
            ("Gunmen attacked a village late on Tuesday.", "2020-11-21", "2020-11-17"),
            // A later claim does not move the attack.
            (
                "A suicide bomber killed 12 people on Friday. The group claimed responsibility on Sunday.",
                "2021-03-08",
                "2021-03-05",
            ),
            ("The blast yesterday killed two.", "2021-03-10", "2021-03-09"),
            // The dateline's date is the reference, with or without its year.
            (
                "BAGHDAD, March 3 (Reuters) - A car bomb exploded on Monday, killing 4.",
                "2021-03-05",
                "2021-03-01",
            ),
            (
                "BAGHDAD, March 3, 2021 (Reuters) - A car bomb exploded on Monday.",
                "",
                "2021-03-01",
            ),
        ];
        for (text, published, expected) in cases {
            assert_eq!(starts_on(text, published), day(expected), "{text}");
        }
    }

    #[test]
    fn relative_dates_carry_their_precision() {
        let found = date(
            "Militants attacked a base last week, killing 3 soldiers.",
            "2021-03-10",
        )
        .unwrap();
        let last_week = (day("2021-03-01"), Some(day("2021-03-07")));
        assert_eq!((found.on, found.until), last_week);
        assert_eq!(found.precision, DatePrecision::Week);
        assert!(date("The blast on Monday killed two.", "").is_err());
    }
}

//! The report cut into what the rules read: sentences, the headline and the dateline, and the
//! words that mark a sentence as telling the event (or another one).

use std::collections::BTreeMap;
use std::ops::Range;

use regex::Regex;

/// The report with its sentences, in byte ranges of `text`.
pub struct Text<'a> {
    pub text: &'a str,
    pub sentences: Vec<Range<usize>>,
    /// The first line, when it stands alone like a headline (short, no final period).
    pub headline: Option<Range<usize>>,
    /// `KABUL, Afghanistan (Reuters) –`: where the report was filed, not always where the
    /// event happened.
    pub dateline: Option<Dateline>,
    /// What each sentence tells, read once: the rules ask for every name and figure.
    tells: Vec<Tells>,
}

#[derive(Debug, Clone, Copy)]
struct Tells {
    event: bool,
    other_event: bool,
    total: bool,
}

pub struct Dateline {
    /// The whole dateline, dash included.
    pub span: Range<usize>,
    /// Its place ("KABUL").
    pub place: Range<usize>,
    /// Its date, when it carries one ("Nov 21").
    pub date: Option<Range<usize>>,
}

impl<'a> Text<'a> {
    pub fn new(text: &'a str) -> Text<'a> {
        let sentences = sentences(text);
        let headline = headline(text);
        let dateline = dateline(text, headline.as_ref());
        let tells = sentences
            .iter()
            .map(|span| {
                let sentence = &text[span.clone()];
                Tells {
                    event: event_words().is_match(sentence),
                    other_event: other_event_words().is_match(sentence),
                    total: total_words().is_match(sentence),
                }
            })
            .collect();
        Text {
            text,
            sentences,
            headline,
            dateline,
            tells,
        }
    }

    /// Whether a sentence starts at byte `at`.
    pub fn starts_sentence(&self, at: usize) -> bool {
        self.sentences
            .get(self.sentence_of(at))
            .is_some_and(|s| s.start == at)
    }

    pub fn slice(&self, span: &Range<usize>) -> &'a str {
        &self.text[span.clone()]
    }

    /// The index of the sentence holding byte `at`.
    pub fn sentence_of(&self, at: usize) -> usize {
        self.sentences
            .partition_point(|s| s.end <= at)
            .min(self.sentences.len().saturating_sub(1))
    }

    /// Whether `span` lies in the dateline.
    pub fn in_dateline(&self, span: &Range<usize>) -> bool {
        self.dateline
            .as_ref()
            .is_some_and(|d| span.start >= d.span.start && span.end <= d.span.end)
    }

    /// Whether sentence `index` tells of violence (an attack, a blast, people killed).
    pub fn tells_event(&self, index: usize) -> bool {
        self.tells.get(index).is_some_and(|t| t.event)
    }

    /// Whether sentence `index` tells of another event ("a similar attack in March", "in a
    /// separate incident"): its dates, places and figures are not ours.
    pub fn tells_other_event(&self, index: usize) -> bool {
        self.tells.get(index).is_some_and(|t| t.other_event)
    }

    /// Whether sentence `index` gives a total over many events ("163 civilians were killed
    /// nationwide in November").
    pub fn tells_total(&self, index: usize) -> bool {
        self.tells.get(index).is_some_and(|t| t.total)
    }

    /// How much sentence `index` says its dates or places are the event's: one of violence,
    /// the one of the figures (`focus`, worth `focus_weight`), early in the report; not
    /// another event's or a total's.
    pub fn event_weight(&self, index: usize, focus: Option<usize>, focus_weight: f64) -> f64 {
        let mut weight = 1.0 - 0.2 * index as f64;
        if self.tells_event(index) {
            weight += 3.0;
        }
        if focus == Some(index) {
            weight += focus_weight;
        }
        if self.tells_other_event(index) || self.tells_total(index) {
            weight -= 5.0;
        }
        weight
    }

    /// Up to `most` bytes of the sentence holding `at`, around it: what a rule reads of the
    /// context of a name or a figure (a sentence of a megabyte is read once, not per name).
    pub fn around(&self, at: usize, most: usize) -> Range<usize> {
        let sentence = self
            .sentences
            .get(self.sentence_of(at))
            .cloned()
            .unwrap_or(at..at);
        let start = self
            .text
            .floor_char_boundary(at.saturating_sub(most).max(sentence.start).min(at));
        let end = self
            .text
            .ceil_char_boundary((at + most).min(sentence.end.max(at)));
        start..end
    }
}

/// Spans already read, so a later rule does not read the same words again.
#[derive(Debug, Default)]
pub struct Taken(BTreeMap<usize, usize>);

impl Taken {
    /// Whether `span` overlaps a span taken. Taken spans never overlap each other, so only
    /// the last one starting before `span` ends can.
    pub fn overlaps(&self, span: &Range<usize>) -> bool {
        self.0
            .range(..span.end)
            .next_back()
            .is_some_and(|(_, &end)| end > span.start)
    }

    pub fn take(&mut self, span: &Range<usize>) {
        self.0.insert(span.start, span.end);
    }
}

/// `pattern` compiled with ASCII word boundaries: with Unicode's `\b` the regex engine falls
/// back to its slowest matcher on any text holding a non-ASCII character (a curly quote is
/// enough), ten times slower on a megabyte. Names with marks ("Kābul") are matched by the
/// gazetteer's folding, not by these patterns.
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&pattern.replace(r"\b", r"(?-u:\b)"))
}

/// The literal `$pattern` compiled (see `compile`) on first use and kept: a `&'static Regex`.
macro_rules! pattern {
    ($pattern:literal) => {{
        static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        PATTERN.get_or_init(|| $crate::draft::text::compile($pattern).expect("a valid pattern"))
    }};
}
pub(crate) use pattern;

/// Words of violence, for telling event sentences from the rest.
pub fn event_words() -> &'static Regex {
    pattern!(
        r"(?i)\b(attack(ed|s)?|assault(ed)?|bomb(ing|ings|s|ed|er)?|blasts?|explosions?|exploded|explosives?|detonated|rockets?|missiles?|mortars?|shell(ing|ed)|strikes?|struck|airstrikes?|ambush(ed)?|stormed|raid(ed)?|gunmen|gunfire|opened fire|shot|killed|killing|kills|dead|died|wounded|wounding|injured|injuring|clash(es|ed)?|fighting|abduct(s|ed)?|kidnap(s|ped)?|massacred?)\b"
    )
}

/// Marks of another event.
fn other_event_words() -> &'static Regex {
    pattern!(
        r"(?i)\b(similar|previous|in a separate|another (attack|bombing|blast|incident)|anniversary|bloody month|earlier attack)\b"
    )
}

/// Marks of a total over many events.
fn total_words() -> &'static Regex {
    pattern!(
        r"(?i)\b(nationwide|across the country|this year|so far|in total|since (january|the start|the beginning)|in recent (weeks|months|years)|earlier this year|last year|a year ago|according to (the )?un\b|per cent|percent)\b"
    )
}

/// Abbreviations whose period does not end a sentence.
const ABBREVIATIONS: [&str; 30] = [
    "mr", "mrs", "ms", "dr", "gen", "lt", "col", "maj", "capt", "sgt", "gov", "sen", "rep", "st",
    "jr", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "no", "vs", "u.s",
];

/// Sentences: ended by `.`, `!` or `?` before a capital (not after an abbreviation or an
/// initial), by a blank line, or by a line break after closing punctuation. The first line
/// is a sentence of its own (a headline).
fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let first_line_end = text.find('\n').unwrap_or(text.len());
    let cut = |start: &mut usize, end: usize, sentences: &mut Vec<Range<usize>>| {
        let piece = &text[*start..end];
        let trimmed_start = *start + (piece.len() - piece.trim_start().len());
        let trimmed_end = trimmed_start + piece.trim().len();
        if trimmed_end > trimmed_start {
            sentences.push(trimmed_start..trimmed_end);
        }
        *start = end;
    };
    for (i, c) in text.char_indices() {
        match c {
            '\n' => {
                let before = text[start..i].trim_end();
                let after_blank = text[i + 1..].trim_start_matches([' ', '\t', '\r']);
                let closes = before.ends_with(['.', '!', '?', ':', '"', '”', '’']);
                if i == first_line_end || closes || after_blank.starts_with('\n') {
                    cut(&mut start, i, &mut sentences);
                }
            }
            '.' | '!' | '?' if ends_sentence(text, bytes, i) => {
                let mut end = i + 1;
                while end < text.len() && text[end..].starts_with(['"', '”', '’', ')']) {
                    end += text[end..].chars().next().map_or(1, char::len_utf8);
                }
                cut(&mut start, end, &mut sentences);
            }
            _ => {}
        }
    }
    cut(&mut start, text.len(), &mut sentences);
    sentences
}

fn ends_sentence(text: &str, bytes: &[u8], at: usize) -> bool {
    let rest = text[at + 1..].trim_start_matches(['"', '”', '’', ')']);
    let next = rest.trim_start();
    if rest.len() == next.len() && !rest.is_empty() {
        return false; // "U.S.", "3.5": no space after the point
    }
    let starts_upper = next
        .chars()
        .next()
        .is_none_or(|c| c.is_uppercase() || c.is_ascii_digit() || matches!(c, '"' | '“' | '‘'));
    if !starts_upper {
        return false;
    }
    if bytes[at] != b'.' {
        return true;
    }
    let word_start = text[..at]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || *c == '(')
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = text[word_start..at].to_lowercase();
    let initial = word.chars().count() == 1 && word.chars().all(char::is_alphabetic);
    !(initial || ABBREVIATIONS.contains(&word.as_str()))
}

/// The first line when it reads like a headline: under 200 characters, no final period,
/// followed by more text.
fn headline(text: &str) -> Option<Range<usize>> {
    let line_end = text.find('\n')?;
    let line = &text[..line_end];
    let trimmed = line.trim();
    let is_headline = !trimmed.is_empty()
        && trimmed.chars().count() <= 200
        && !trimmed.ends_with('.')
        && !text[line_end..].trim().is_empty()
        && dateline_pattern().find(line).is_none();
    let start = line.len() - line.trim_start().len();
    is_headline.then(|| start..start + trimmed.len())
}

fn dateline_pattern() -> &'static Regex {
    pattern!(
        r"^\s*(?P<place>[A-Z][A-Z'’.\-]+(?: [A-Z][A-Z'’.\-]+){0,3}|[A-Z][a-z]+(?: [A-Z][a-z]+){0,2})(?:,\s*(?P<area>[A-Z][A-Za-z.]+(?: [A-Z][A-Za-z.]+){0,3}))?(?:,?\s*(?P<date>(?:[A-Z][a-z]{2,8}\.? \d{1,2}|\d{1,2} [A-Z][a-z]{2,8})(?:,? \d{4})?))?\s*(?P<agency>\([A-Za-z .\-]{1,40}\)\s*)?(?:[–—]|--?)\s*"
    )
}

/// The dateline at the start of the first or second paragraph of the body.
fn dateline(text: &str, headline: Option<&Range<usize>>) -> Option<Dateline> {
    let body_start = headline.map_or(0, |h| h.end);
    let mut offset = body_start;
    for line in text[body_start..].split_inclusive('\n').take(6) {
        if !line.trim().is_empty() {
            let found = dateline_pattern().captures(line)?;
            let whole = found.get(0)?;
            let place = found.name("place")?;
            let shouting = !place.as_str().chars().any(char::is_lowercase);
            // "Gunmen attacked – ": a capitalised word before a dash is a dateline only when
            // written in capitals or followed by a country or an agency.
            if !shouting && found.name("area").is_none() && found.name("agency").is_none() {
                return None;
            }
            return Some(Dateline {
                span: offset + whole.start()..offset + whole.end(),
                place: offset + place.start()..offset + place.end(),
                date: found
                    .name("date")
                    .map(|d| offset + d.start()..offset + d.end()),
            });
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_end_at_points_but_not_after_titles_or_initials() {
        let text = Text::new(
            "Blast in Kabul\n\nKABUL, Afghanistan (Reuters) – Mr. Pompeo met Joseph R. Biden Jr. in the U.S. today. Rockets hit! \"Yes,\" he said.",
        );
        let sentences: Vec<&str> = text.sentences.iter().map(|s| text.slice(s)).collect();
        assert_eq!(
            sentences,
            [
                "Blast in Kabul",
                "KABUL, Afghanistan (Reuters) – Mr. Pompeo met Joseph R. Biden Jr. in the U.S. today.",
                "Rockets hit!",
                "\"Yes,\" he said."
            ]
        );
        assert_eq!(text.headline.map(|h| &text.text[h]), Some("Blast in Kabul"));
        let dateline = text.dateline.expect("a dateline");
        assert_eq!(&text.text[dateline.place], "KABUL");
    }

    #[test]
    fn a_dateline_may_carry_a_date() {
        let text = Text::new("MOGADISHU, Nov 21 (AFP) - A car bomb exploded.");
        let dateline = text.dateline.expect("a dateline");
        assert_eq!(dateline.date.map(|d| &text.text[d]), Some("Nov 21"));
        assert!(text.headline.is_none());
    }
}

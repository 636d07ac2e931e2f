//! Killed and injured, each with its bounds, from the phrases that tie a figure to a death
//! or a wound: "killing at least eight people", "more than two dozen were wounded", "the
//! death toll rose to 15", "left 12 dead". Attackers killed are reported, not counted.

use std::ops::Range;
use std::sync::OnceLock;

use regex::{Captures, Regex};

use super::numbers::{self, bounds, parse_figure, Qualifier};
use super::text::{compile, Taken, Text};
use super::Finding;
use crate::model::incident::Bounds;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Killed,
    Injured,
}

impl Category {
    fn of_verb(verb: &str) -> Category {
        let verb = verb.to_lowercase();
        let injured = ["wound", "injur", "hurt"].iter().any(|w| verb.contains(w));
        if injured {
            Category::Injured
        } else {
            Category::Killed
        }
    }

    pub fn field(self) -> &'static str {
        match self {
            Category::Killed => "casualties.killed",
            Category::Injured => "casualties.injured",
        }
    }
}

/// A figure tied to a category, where the text gives it.
#[derive(Debug, Clone)]
pub struct Figure {
    pub category: Category,
    pub bounds: Bounds,
    pub span: Range<usize>,
    pub sentence: usize,
    pub rule: String,
    /// "the death toll rose to": replaces the first figure.
    pub update: bool,
}

/// What the casualty rules found.
#[derive(Debug, Default)]
pub struct Casualties {
    pub killed: Option<Figure>,
    pub injured: Option<Figure>,
    /// Figures of attackers killed, reported apart.
    pub attackers: Vec<Finding<u32>>,
}

impl Casualties {
    /// The sentence the event's figures come from.
    pub fn sentence(&self) -> Option<usize> {
        self.killed
            .as_ref()
            .or(self.injured.as_ref())
            .map(|f| f.sentence)
    }
}

/// Who is counted: a figure followed by one of these (after up to three other words).
const PEOPLE: &str = r"people|persons|civilians|soldiers|troops|servicemen|policemen|police officers|police|officers|guards|personnel|members|students|children|kids|women|men|villagers|worshippers|passengers|pilgrims|workers|farmers|residents|protesters|demonstrators|others|victims|individuals|bystanders|shoppers|miners|herders|traders|journalists|teachers|doctors|patients|guests|customers|commuters|fishermen|marines|recruits|cadets|wedding guests|mourners|displaced|family|relatives|militants|fighters|insurgents|attackers|assailants|gunmen|bombers|jihadists|terrorists|rebels|suspects|militiamen|extremists";

/// Of them, the attackers.
const ATTACKERS: [&str; 13] = [
    "militants",
    "fighters",
    "insurgents",
    "attackers",
    "assailants",
    "gunmen",
    "bombers",
    "jihadists",
    "terrorists",
    "rebels",
    "suspects",
    "militiamen",
    "extremists",
];

const ONE: &str = r"person|soldier|civilian|policeman|police officer|officer|child|man|woman|boy|girl|student|guard|worker|farmer|journalist|teacher|worshipper|passenger|villager";

struct Rule {
    name: &'static str,
    pattern: Regex,
}

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let phrase = numbers::phrase_pattern();
        let who = format!(r"(?P<who>(?:\s+[\w'’-]+){{0,3}}?\s+(?:{PEOPLE}))?");
        let verb_after = r"(?:(?:were|was|have been|has been|had been|are|is|been|being|reportedly|also|later|all|have|had|confirmed|were reported|left)\s+){0,3}(?P<verb>killed|dead|died|slain|shot dead|lost their lives|perished|wounded|injured|hurt)";
        let compile = |name, pattern: String| Rule {
            name,
            pattern: compile(&format!("(?i){pattern}")).expect("a valid pattern"),
        };
        vec![
            compile(
                "nobody (\"no one was killed\")",
                r"\b(?P<n>no one|nobody|no-one)\s+(?:was|were|had been|has been)\s+(?P<verb>killed|hurt|injured|wounded)\b".to_string(),
            ),
            compile(
                "verb then figure (\"killing at least 8 people\")",
                format!(r"\b(?P<verb>killing|killed|kills|kill|wounding|wounded|wounds|injuring|injured|injures|hurting)\s+(?:a total of\s+)?{phrase}\b{who}\b"),
            ),
            compile(
                "\"left N dead\"",
                format!(r"\b(?:left|leaving)\s+{phrase}\b{who}\s+(?P<verb>dead|wounded|injured|hurt)\b"),
            ),
            compile(
                "figure then verb (\"8 people were killed\")",
                format!(r"\b{phrase}\b{who}\s+{verb_after}\b"),
            ),
            compile(
                "death toll",
                format!(r"\b(?P<verb>death toll|toll)\s+(?:\w+\s+){{0,4}}?(?:to|at|of|reached|hit)\s+{phrase}\b"),
            ),
            compile(
                "one victim (\"killing a policeman\")",
                format!(r"\b(?P<verb>killing|killed|kills|wounding|wounded|injuring|injured)\s+(?P<n>an?|one)\s+(?:[\w'’-]+\s+){{0,2}}?(?:{ONE})\b"),
            ),
            compile(
                "one victim (\"a soldier was killed\")",
                format!(r"\b(?P<n>an?|one)\s+(?:[\w'’-]+\s+){{0,2}}?(?:{ONE})\s+(?:was|has been|had been)\s+(?:\w+\s+)?(?P<verb>killed|wounded|injured|shot dead|hurt)\b"),
            ),
        ]
    })
}

/// Words just before a figure that make it part of another: "including five children".
fn is_part_of_another(text: &str, start: usize) -> bool {
    let before = &text[text.floor_char_boundary(start.saturating_sub(30))..start];
    let before = before.trim_end().to_lowercase();
    [
        "including",
        "among them",
        "among the dead",
        "of whom",
        "of them",
        "among those",
    ]
    .iter()
    .any(|w| before.ends_with(w))
}

/// Every figure the rules read, in the order of the text.
fn figures(text: &Text) -> (Vec<Figure>, Vec<Finding<u32>>) {
    let mut found: Vec<Figure> = Vec::new();
    let mut taken = Taken::default();
    let mut attackers = Vec::new();
    for rule in rules() {
        for captures in rule.pattern.captures_iter(text.text) {
            let Some(whole) = captures.get(0) else {
                continue;
            };
            // Two rules reading the same words: the first (most specific) keeps them.
            if taken.overlaps(&whole.range()) {
                continue;
            }
            if is_part_of_another(text.text, whole.start()) {
                continue;
            }
            let Some((qualifier, value)) = read_figure(&captures) else {
                continue;
            };
            let verb = captures.name("verb").map_or("", |v| v.as_str());
            let category = Category::of_verb(verb);
            let who = captures
                .name("who")
                .map(|w| w.as_str().to_lowercase())
                .unwrap_or_default();
            if ATTACKERS.iter().any(|a| who.trim_end().ends_with(a)) {
                if category == Category::Killed {
                    let finding = Finding::new(
                        value.low.or(value.best).or(value.high).unwrap_or(0) as u32,
                        whole.range(),
                        rule.name,
                    );
                    attackers.push(finding);
                }
                continue;
            }
            if looks_like_a_year(&captures) {
                continue;
            }
            taken.take(&whole.range());
            found.push(Figure {
                category,
                bounds: value,
                span: whole.range(),
                sentence: text.sentence_of(whole.start()),
                rule: format!("{}; {}", rule.name, qualifier.describe()),
                update: verb.to_lowercase().contains("toll"),
            });
        }
    }
    found.sort_by_key(|f| f.span.start);
    (found, attackers)
}

/// The bounds of the figure the captures hold.
fn read_figure(captures: &Captures) -> Option<(Qualifier, Bounds)> {
    if let (Some(a), Some(b)) = (captures.name("a"), captures.name("b")) {
        let low = parse_figure(a.as_str())?;
        let high = parse_figure(b.as_str())?;
        let mut range = bounds(Qualifier::AtLeast, low)?;
        range.high = bounds(Qualifier::AtMost, high)?.high;
        return Some((Qualifier::AtLeast, range));
    }
    let n = captures.name("n")?.as_str().to_lowercase();
    let figure = match n.as_str() {
        "a" | "an" | "one" => numbers::Figure::Exact(1),
        "no one" | "nobody" | "no-one" => numbers::Figure::Exact(0),
        other => parse_figure(other)?,
    };
    let qualifier = Qualifier::of(captures.name("q").map(|q| q.as_str()));
    Some((qualifier, bounds(qualifier, figure)?))
}

/// "In 2019 killed": a bare four-digit figure without people is a year.
fn looks_like_a_year(captures: &Captures) -> bool {
    let bare = captures.name("who").is_none() && captures.name("q").is_none();
    let year = captures
        .name("n")
        .and_then(|n| n.as_str().parse::<u32>().ok())
        .is_some_and(|n| (1900..=2100).contains(&n));
    bare && year
}

/// The event's killed and injured: the first figures of the report that are not totals or
/// another event's; a later "death toll rose to N" replaces the killed.
pub fn find(text: &Text) -> Casualties {
    let (figures, attackers) = figures(text);
    let usable: Vec<&Figure> = figures
        .iter()
        .filter(|f| !text.tells_total(f.sentence) && !text.tells_other_event(f.sentence))
        .collect();
    let first = |category: Category| usable.iter().find(|f| f.category == category && !f.update);
    let update = usable
        .iter()
        .rev()
        .find(|f| f.category == Category::Killed && f.update);
    let killed = match (first(Category::Killed), update) {
        (Some(first), Some(update)) if update.span.start > first.span.start => Some(*update),
        (Some(first), _) => Some(*first),
        (None, update) => update.copied(),
    };
    let injured = killed
        .and_then(|k| {
            usable
                .iter()
                .find(|f| f.category == Category::Injured && f.sentence == k.sentence)
        })
        .or_else(|| first(Category::Injured));
    Casualties {
        killed: killed.cloned(),
        injured: injured.map(|f| (*f).clone()),
        attackers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Option<Bounds>, Option<Bounds>) {
        let found = find(&Text::new(text));
        (
            found.killed.map(|f| f.bounds),
            found.injured.map(|f| f.bounds),
        )
    }

    fn b(low: Option<i32>, best: Option<i32>, high: Option<i32>) -> Option<Bounds> {
        Some(Bounds { low, best, high })
    }

    #[test]
    fn figures_with_their_bounds() {
        assert_eq!(
            read("The rocket fire struck Kabul, killing at least eight people and wounding more than two dozen."),
            (b(Some(8), None, None), b(Some(25), None, None))
        );
        assert_eq!(
            read("Eleven soldiers were killed and up to 30 others wounded."),
            (b(Some(11), Some(11), None), b(None, None, Some(30)))
        );
        assert_eq!(
            read("Dozens of people were wounded when a bomb exploded."),
            (None, b(Some(24), None, None))
        );
        assert_eq!(
            read("The blast killed no fewer than six worshippers. The death toll later rose to 9."),
            (b(Some(9), Some(9), None), None)
        );
    }

    #[test]
    fn attackers_and_sub_figures_are_not_victims() {
        let found = find(&Text::new(
            "Gunmen killed 12 villagers, including five children. Troops killed three attackers.",
        ));
        assert_eq!(found.killed.map(|f| f.bounds.low), Some(Some(12)));
        assert_eq!(found.attackers.len(), 1);
        assert_eq!(found.attackers[0].value, 3);
    }
}

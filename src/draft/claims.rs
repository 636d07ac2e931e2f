//! Perpetrators and their claims: each group named in a clause with a claim's words
//! ("claimed responsibility", "denied any role", "blamed", "suspected"), the group on the
//! side of the words they govern. "No group claimed" asserts nothing.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use super::actors::{self, ActorMention};
use super::text::{compile, pattern, Text};
use crate::model::incident::Claim;

/// A perpetrator as the draft holds it, with the spans of its name and of its claim.
#[derive(Debug, Clone)]
pub struct Found {
    pub name: String,
    pub claim: Claim,
    pub name_span: Range<usize>,
    pub claim_span: Range<usize>,
    pub rule: String,
}

/// Which side of the words the group stands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// "the Taliban denied": the group comes first.
    Before,
    /// "blamed the Taliban": the group comes after.
    After,
}

struct Cue {
    claim: Claim,
    side: Side,
    name: &'static str,
    pattern: Regex,
}

fn cues() -> &'static [Cue] {
    static CUES: OnceLock<Vec<Cue>> = OnceLock::new();
    CUES.get_or_init(|| {
        let cue = |claim, side, name, pattern: &str| Cue {
            claim,
            side,
            name,
            pattern: compile(&format!("(?i){pattern}")).expect("a valid pattern"),
        };
        let group = r"(?:it|they|the (?:insurgent |militant |armed |jihadist |extremist )?(?:group|movement|militants|insurgents|organi[sz]ation)|its (?:fighters|militants|members))";
        vec![
            cue(Claim::Claimed, Side::Before, "\"claimed responsibility\"", r"\bclaim(?:ed|s)?\s+(?:full\s+)?(?:responsibility|credit)\b"),
            cue(Claim::Claimed, Side::Before, "\"claimed the attack\"", r"\bclaim(?:ed|s)\s+(?:the|an|a|this|Saturday's|the\s+deadly)\s+(?:\w+\s+)?(?:attack|bombing|blast|assault|killings?|strike|ambush|raid|explosion|massacre|abduction|kidnapping)\b"),
            cue(Claim::Claimed, Side::Before, "\"took responsibility\" (or credit, or recognition)", r"\b(?:took|takes|accepted|accepts|assumed|demanded|demands|sought)\s+(?:full\s+)?(?:responsibility|credit|recognition)\b"),
            cue(Claim::Claimed, Side::Before, "\"said it carried out\"", &format!(r"\b(?:said|says|announced|stated)\s+(?:that\s+)?{group}\s+(?:had\s+|has\s+)?(?:carried out|conducted|launched|staged|was behind|were behind|mounted|killed)\b")),
            cue(Claim::Claimed, Side::After, "\"claimed by\"", r"\b(?:claimed by|claim of responsibility (?:from|by|issued by)|responsibility was claimed by)\b"),
            cue(Claim::Denied, Side::Before, "\"denied\"", r"\b(?:denied|denies|deny|rejected|rejects)\s+(?:any\s+|all\s+)?(?:involvement|responsibility|role|part|links?|participation|that it|it was|carrying out|being behind|the claim|the accusations?|the allegations?|it)\b"),
            cue(Claim::Denied, Side::Before, "\"said it was not involved\"", &format!(r"\b(?:said|says|insisted|stated)\s+(?:that\s+)?{group}\s+(?:was|were|had|has|is|are)\s+(?:not|never|in no way)\s+(?:been\s+)?(?:involved|behind|responsible)\b")),
            cue(Claim::Denied, Side::Before, "\"distanced itself\"", r"\b(?:distanced (?:itself|themselves)|had nothing to do with|has nothing to do with)\b"),
            cue(Claim::Attributed, Side::After, "\"blamed\"", r"\b(?:blamed|blames|blaming|accused|accuses|attributed (?:the \w+ |it )?to|pinned (?:the \w+ |it )?on)\b"),
            cue(Claim::Attributed, Side::After, "\"carried out by\"", r"\b(?:carried out|perpetrated|committed)\s+by\b"),
            cue(Claim::Attributed, Side::After, "\"the attacker was a member of\"", r"\b(?:attackers?|bombers?|gunm[ae]n|assailants?|militants)\s+(?:was|were)\s+(?:a\s+)?(?:members?|fighters?)\s+of\b"),
            cue(Claim::Attributed, Side::Before, "a group as the subject of the attack", r"^\W*(?:(?:fighters|militants|gunmen|insurgents|members|jihadists|rebels)\s+)?(?:attacked|stormed|ambushed|raided|abducted|kidnapped|shelled|opened fire|launched (?:an|a) (?:attack|assault)|fired|killed)\b"),
            cue(Claim::Attributed, Side::Before, "\"was behind\"", r"\b(?:was|were)\s+behind\b"),
            cue(Claim::Suspected, Side::After, "\"suspected\"", r"\b(?:suspected|believed to (?:be|have been)|thought to (?:be|have been)|(?:bore|bears|had|has) the hallmarks of|suspicion fell on|presumed|likely)\b"),
            cue(Claim::Suspected, Side::Before, "\"is suspected\"", r"\b(?:is|are|was|were)\s+(?:widely\s+|also\s+)?(?:suspected|believed|thought)\b"),
        ]
    })
}

/// "No group claimed responsibility": the words that assert no claim.
fn no_claim() -> &'static Regex {
    pattern!(
        r"(?i)\b(?:no (?:group|one|organi[sz]ation|faction)(?: has| had)?(?: yet| immediately)?|there (?:was|has been) no (?:immediate )?claim of|nobody (?:has |had )?(?:yet |immediately )?)\s*(?:claimed|claim)(?:\s+responsibility)?"
    )
}

/// Clauses: a sentence cut at `;`, "but" and "while", where another claim begins.
fn clauses(text: &Text) -> Vec<Range<usize>> {
    let cut =
        pattern!(r"(?i);|,?\s+but\s+|,\s+while\s+|,\s+whereas\s+|,\s+although\s+|,\s+though\s+");
    let mut clauses = Vec::new();
    for (index, sentence) in text.sentences.iter().enumerate() {
        if text.tells_other_event(index) || text.tells_total(index) {
            continue;
        }
        let words = &text.text[sentence.clone()];
        let mut start = 0;
        for m in cut.find_iter(words) {
            clauses.push(sentence.start + start..sentence.start + m.start());
            start = m.end();
        }
        clauses.push(sentence.start + start..sentence.end);
    }
    clauses
}

/// Claim strength, for one group named with several: its own word first.
fn rank(claim: Claim) -> u8 {
    match claim {
        Claim::Claimed => 4,
        Claim::Denied => 3,
        Claim::Attributed => 2,
        Claim::Suspected => 1,
    }
}

/// "JNIM, al-Qaeda's affiliate in the Sahel, claimed": a group named, just after another,
/// to describe it.
fn describes_another(text: &Text, actor: &ActorMention, previous: Option<&ActorMention>) -> bool {
    let follows_another = previous.is_some_and(|p| {
        let gap = &text.text[p.end.min(actor.start)..actor.start];
        gap.trim() == "," || gap.trim() == "(" || gap.trim() == ", the"
    });
    if !follows_another {
        return false;
    }
    let words = pattern!(
        r"(?i)^(?:['’]s\s+(?:\w+\s+)?(?:affiliate|branch|offshoot|ally|wing|franchise|faction)|[- ](?:linked|affiliated|allied|inspired))\b"
    );
    words.is_match(&text.text[actor.end..])
}

/// "suspected Boko Haram fighters killed": the group the subject of the attack, but only
/// suspected of it. The start of the hedging word, when there is one.
fn hedge(text: &Text, actor: &ActorMention) -> Option<usize> {
    let window = text.around(actor.start, 20);
    let before = text.text[window.start..actor.start].trim_end();
    let lower = before.to_lowercase();
    ["suspected", "alleged", "presumed", "possible"]
        .iter()
        .find(|w| lower.ends_with(*w))
        .map(|w| window.start + before.len() - w.len())
}

/// The perpetrators the report names with a claim, in order of first mention.
pub fn find(text: &Text) -> Vec<Found> {
    let clauses = clauses(text);
    let unlisted = unlisted_claimants(text, &clauses);
    let actors = listed_actors(text, &unlisted);
    let mut found: Vec<Found> = Vec::new();
    for clause in &clauses {
        claims_in(text, clause, &actors, &mut found);
    }
    for claimant in unlisted {
        let name = text.slice(&claimant.name).to_string();
        let claim = (
            Claim::Claimed,
            claimant.claim,
            "a group not on the actor list, named as the subject of \"claimed responsibility\"",
        );
        record(&mut found, &name, claimant.name.clone(), claim);
    }
    found.sort_by_key(|f| f.name_span.start);
    found
}

/// The actors of the list the report names, less those named only to describe another
/// group ("JNIM, al-Qaeda's affiliate", "The Resistance Front, a proxy of Lashkar-e-Taiba").
fn listed_actors(text: &Text, unlisted: &[Unlisted]) -> Vec<ActorMention> {
    let mentioned = actors::mentions(text.text);
    let in_apposition = |actor: &ActorMention| {
        unlisted
            .iter()
            .filter_map(|u| u.apposition.as_ref())
            .any(|a| a.start <= actor.start && actor.end <= a.end)
    };
    mentioned
        .iter()
        .enumerate()
        .filter(|(i, actor)| {
            let previous = i.checked_sub(1).map(|p| &mentioned[p]);
            !describes_another(text, actor, previous) && !in_apposition(actor)
        })
        .map(|(_, actor)| actor.clone())
        .collect()
}

/// The claims of the listed actors named in `clause`.
fn claims_in(
    text: &Text,
    clause: &Range<usize>,
    all_actors: &[ActorMention],
    found: &mut Vec<Found>,
) {
    let first = all_actors.partition_point(|a| a.start < clause.start);
    let actors: Vec<&ActorMention> = all_actors[first..]
        .iter()
        .take_while(|a| a.end <= clause.end)
        .collect();
    if actors.is_empty() {
        return;
    }
    let words = &text.text[clause.clone()];
    let silenced: Vec<Range<usize>> = no_claim()
        .find_iter(words)
        .map(|m| clause.start + m.start()..clause.start + m.end())
        .collect();
    for (position, actor) in actors.iter().enumerate() {
        let previous_end = position
            .checked_sub(1)
            .map_or(clause.start, |p| actors[p].end);
        let next_start = actors.get(position + 1).map_or(clause.end, |a| a.start);
        let Some(mut claim) = governing_cue(text, actor, previous_end..next_start, &silenced)
        else {
            continue;
        };
        if let Some(start) = hedge(text, actor).filter(|_| claim.0 == Claim::Attributed) {
            let span = start.min(claim.1.start)..claim.1.end;
            claim = (
                Claim::Suspected,
                span,
                "\"suspected\" before the group's name",
            );
        }
        record(found, actor.name, actor.start..actor.end, claim);
    }
}

/// A group the actor list does not know, named as the subject of a claim.
struct Unlisted {
    name: Range<usize>,
    claim: Range<usize>,
    /// ", a proxy of Lashkar-e-Taiba,": what describes it.
    apposition: Option<Range<usize>>,
}

/// Words that begin a capitalised run without naming a group.
const NOT_GROUPS: [&str; 12] = [
    "police",
    "officials",
    "authorities",
    "no",
    "a",
    "an",
    "nobody",
    "it",
    "he",
    "she",
    "they",
    "there",
];

/// "The Resistance Front, a proxy of Lashkar-e-Taiba, claimed responsibility": two to seven
/// capitalised words (with "of", "al", "the" ... between them) right before "claimed
/// responsibility", kept as written.
fn unlisted_claimants(text: &Text, clauses: &[Range<usize>]) -> Vec<Unlisted> {
    let pattern = pattern!(
        r"(?P<name>[A-Z][\w'’-]*(?:\s+(?:[A-Z][\w'’-]*|of|al|el|the|for|and|de|wal|ul|in)){1,6})(?P<apposition>,\s+(?:a|an|the|its)\s+[^,;]{1,80},)?\s+(?:has\s+|had\s+|have\s+)?(?:claimed|claims)\s+(?:full\s+)?responsibility\b"
    );
    let listed = actors::mentions(text.text);
    let mut found = Vec::new();
    for clause in clauses {
        for captures in pattern.captures_iter(&text.text[clause.clone()]) {
            let (Some(whole), Some(name)) = (captures.get(0), captures.get(1)) else {
                continue;
            };
            let written = name.as_str();
            let first_word = written
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_lowercase();
            let ends_capitalised = written
                .split_whitespace()
                .last()
                .is_some_and(|w| w.starts_with(char::is_uppercase));
            let span = clause.start + name.start()..clause.start + name.end();
            let is_listed = listed
                .iter()
                .any(|a| a.start < span.end && span.start < a.end);
            if NOT_GROUPS.contains(&first_word.as_str()) || !ends_capitalised || is_listed {
                continue;
            }
            found.push(Unlisted {
                name: span,
                claim: clause.start + whole.start()..clause.start + whole.end(),
                apposition: captures
                    .name("apposition")
                    .map(|a| clause.start + a.start()..clause.start + a.end()),
            });
        }
    }
    found
}

/// The strongest cue that governs `actor` between its neighbours: a `Before` cue after it,
/// an `After` cue before it.
fn governing_cue(
    text: &Text,
    actor: &ActorMention,
    reach: Range<usize>,
    silenced: &[Range<usize>],
) -> Option<(Claim, Range<usize>, &'static str)> {
    let mut best: Option<(Claim, Range<usize>, &'static str)> = None;
    for cue in cues() {
        let sides: &[(Range<usize>, bool)] = &[
            (actor.end..reach.end, true),
            (reach.start..actor.start, false),
        ];
        for (range, after_actor) in sides {
            let allowed = match cue.side {
                Side::Before => *after_actor,
                Side::After => !*after_actor,
            };
            if !allowed || range.is_empty() {
                continue;
            }
            let words = &text.text[range.clone()];
            for m in cue.pattern.find_iter(words) {
                let span = range.start + m.start()..range.start + m.end();
                if silenced
                    .iter()
                    .any(|s| span.start < s.end && s.start < span.end)
                {
                    continue;
                }
                // The subject cue reads only what follows the name at once.
                if cue.name.starts_with("a group as the subject") && m.start() > 0 {
                    continue;
                }
                let claim_span = span.start.min(actor.start)..span.end.max(actor.end);
                if best
                    .as_ref()
                    .is_none_or(|(claim, _, _)| rank(cue.claim) > rank(*claim))
                {
                    best = Some((cue.claim, claim_span, cue.name));
                }
            }
        }
    }
    best
}

fn record(
    found: &mut Vec<Found>,
    name: &str,
    name_span: Range<usize>,
    (claim, claim_span, cue): (Claim, Range<usize>, &'static str),
) {
    let rule = format!(
        "{cue} → {}",
        serde_variant::to_variant_name(&claim).unwrap_or_default()
    );
    match found.iter_mut().find(|f| f.name == name) {
        Some(existing) if rank(claim) > rank(existing.claim) => {
            existing.claim = claim;
            existing.claim_span = claim_span;
            existing.rule = rule;
        }
        Some(_) => {}
        None => found.push(Found {
            name: name.to_string(),
            claim,
            name_span,
            claim_span,
            rule,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(text: &str) -> Vec<(String, Claim)> {
        find(&Text::new(text))
            .into_iter()
            .map(|f| (f.name, f.claim))
            .collect()
    }

    #[test]
    fn claims_denials_and_attributions() {
        assert_eq!(
            claims("The Islamic State demanded recognition for the attack. A Taliban spokesman said the insurgent group was not involved."),
            [("Islamic State".into(), Claim::Claimed), ("Taliban".into(), Claim::Denied)]
        );
        assert_eq!(
            claims("No group claimed responsibility, but officials blamed al-Shabaab."),
            [("Al-Shabaab".into(), Claim::Attributed)]
        );
        assert_eq!(
            claims("No group has claimed the attack on the Taliban's checkpoint."),
            []
        );
        assert_eq!(
            claims("The Resistance Front, a proxy of Lashkar-e-Taiba, claimed responsibility."),
            [("The Resistance Front".into(), Claim::Claimed)]
        );
        assert_eq!(
            claims("The bombing bore the hallmarks of Boko Haram."),
            [("Boko Haram".into(), Claim::Suspected)]
        );
    }
}

//! The event type and sub-type, by keywords (ACLED's types): the most specific keyword in
//! the lead of the report, from its first sentence of violence to the one its figures come
//! from. The table is in the README.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use super::text::{compile, Text};

pub const EXPLOSIONS: &str = "Explosions/Remote violence";
pub const BATTLES: &str = "Battles";
pub const CIVILIANS: &str = "Violence against civilians";

/// A type with the keyword it was read from.
#[derive(Debug, Clone)]
pub struct EventType {
    pub event_type: &'static str,
    pub sub_event_type: &'static str,
    pub span: Range<usize>,
    pub rule: String,
}

struct Rule {
    event_type: &'static str,
    sub_event_type: &'static str,
    pattern: Regex,
}

/// Most specific first: a suicide bombing is also an explosion, an attack on a checkpoint
/// also an attack.
fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let rule = |event_type, sub_event_type, pattern: &str| Rule {
            event_type,
            sub_event_type,
            pattern: compile(&format!(r"(?i)\b(?:{pattern})\b")).expect("a valid pattern"),
        };
        vec![
            rule(EXPLOSIONS, "Suicide bomb", r"suicide (?:bomb(?:er|ers|ing|ings|s)?|attack(?:er|ers|s)?|car bomb|vest|blast|truck bomb)|blew (?:himself|herself|themselves) up"),
            rule(EXPLOSIONS, "Air/drone strike", r"air ?strikes?|drone (?:strikes?|attacks?)|warplanes?|aerial (?:bombardment|attack|bombing)|helicopter gunships?"),
            rule(EXPLOSIONS, "Shelling/artillery/missile attack", r"rockets?|mortars?|mortar rounds|shell(?:ing|ed|s)|artillery|missiles?|katyushas?"),
            rule(EXPLOSIONS, "Grenade", r"grenades?"),
            rule(EXPLOSIONS, "Remote explosive/landmine/IED", r"roadside bombs?|improvised explosive|IEDs?|landmines?|land mines?|car bombs?|bombs?|bombings?|explosions?|blasts?|explosive devices?|exploded|detonated"),
            rule(CIVILIANS, "Abduction/forced disappearance", r"abduct(?:ed|s|ion|ions)|kidnap(?:ped|ping|pings|s)|taken hostage|seized hostages"),
            rule(BATTLES, "Armed clash", r"clash(?:es|ed)?|fighting between|firefights?|gun ?battles?|exchange of fire|exchanged fire|battled|(?:attacked|stormed|ambushed|raided|overran|assaulted)\s+(?:\w+\s+){0,3}?(?:army|military|police|security|checkpoints?|bases?|outposts?|posts?|convoys?|soldiers|troops|patrols?|barracks)"),
            rule(CIVILIANS, "Attack", r"gunmen|opened fire|shot dead|massacred?|stormed|attacked|raided|hacked to death|torched|set fire to|shot and killed|attacks? on (?:\w+\s+){0,2}?(?:villages?|towns?|camps?|churche?s?|mosques?|markets?|schools?|hospitals?|bus|wedding|civilians|villagers)"),
            // Last: people killed, and nothing says how.
            rule(CIVILIANS, "Attack", r"attacks?|killed|killing"),
        ]
    })
}

/// The type read from the lead of the report (`focus` is the sentence of its figures).
pub fn find(text: &Text, focus: Option<usize>) -> Option<EventType> {
    let usable = |i: usize| !text.tells_other_event(i) && !text.tells_total(i);
    let first = (0..text.sentences.len()).find(|&i| usable(i) && text.tells_event(i))?;
    let last = focus
        .map_or(first + 2, |f| f.max(first) + 1)
        .min(text.sentences.len() - 1);
    for rule in rules() {
        for index in (first..=last).filter(|&i| usable(i)) {
            let sentence = &text.sentences[index];
            if let Some(m) = rule.pattern.find(&text.text[sentence.clone()]) {
                return Some(EventType {
                    event_type: rule.event_type,
                    sub_event_type: rule.sub_event_type,
                    span: sentence.start + m.start()..sentence.start + m.end(),
                    rule: format!(
                        "keyword \"{}\" → {} / {}",
                        m.as_str(),
                        rule.event_type,
                        rule.sub_event_type
                    ),
                });
            }
        }
    }
    None
}

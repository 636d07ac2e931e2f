//! Drafting an incident from a news report, offline and by rules a coder can check: every
//! field filled cites the words it came from and the rule that read them, and what the
//! rules could not read stays empty with a warning. Nothing is stored.
//!
//! `text` cuts the report into sentences, headline and dateline; `dates`, `places`
//! (with the `gazetteer`), `casualties` (with `numbers`), `claims` (with `actors`) and
//! `events` each read one part of the incident.

pub mod actors;
pub mod casualties;
pub mod claims;
pub mod dates;
pub mod events;
pub mod gazetteer;
pub mod numbers;
pub mod places;
pub mod text;

#[cfg(test)]
mod accuracy;

use std::ops::Range;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::incident::{Bounds, Casualties, DatePrecision, Location, Perpetrator, Source};
use crate::model::wire::WireName;
use text::Text;

/// A news report to draft an incident from, with what is known of its source.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "text": "KABUL, Afghanistan – The rocket fire struck the heart of Kabul on Saturday, killing at least eight people and wounding more than two dozen. The Islamic State claimed responsibility.",
    "published_on": "2020-11-21",
    "title": "Rockets Strike Kabul as Mike Pompeo Plans to Meet with Taliban"
}))]
pub struct DraftRequest {
    /// The report's text, as plain text.
    pub text: String,
    /// The day the report was published: weekdays and "yesterday" count from it (from the
    /// dateline's date when the text has one).
    #[schema(value_type = Option<String>, format = Date)]
    pub published_on: Option<NaiveDate>,
    pub url: Option<String>,
    /// The headline; when omitted, the text's first line if it reads like one.
    pub title: Option<String>,
    pub publisher: Option<String>,
}

/// An incident as drafted: the input of `POST /v1/incidents`, except that `occurred_on`
/// may be null when the text gives no date (the coder must then give one before saving).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct IncidentDraft {
    #[schema(value_type = Option<String>, format = Date, example = "2020-11-21")]
    pub occurred_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date, example = json!(null))]
    pub occurred_until: Option<NaiveDate>,
    pub date_precision: DatePrecision,
    #[schema(example = "Explosions/Remote violence")]
    pub event_type: Option<String>,
    #[schema(example = "Shelling/artillery/missile attack")]
    pub sub_event_type: Option<String>,
    pub location: Location,
    pub casualties: Casualties,
    pub perpetrators: Vec<Perpetrator>,
    pub sources: Vec<Source>,
}

/// Where a field of the draft came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// The field's JSON path in `draft`.
    #[schema(example = "casualties.killed.low")]
    pub field: String,
    /// The words it was read from: `text[start..end]`.
    #[schema(example = "killing at least eight people")]
    pub text: String,
    /// Offsets in Unicode characters (code points) from the start of the request's `text`.
    #[schema(example = 312)]
    pub start: usize,
    #[schema(example = 341)]
    pub end: usize,
    /// The rule that read them.
    #[schema(
        example = "verb then figure (\"killing at least 8 people\"); \"at least N\": low = N"
    )]
    pub rule: String,
}

/// The answer of `POST /v1/drafts`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Drafted {
    pub draft: IncidentDraft,
    /// One entry for each field read from the text (metadata given in the request is copied
    /// as it is and cites nothing).
    pub evidence: Vec<Evidence>,
    /// What could not be read, and what was read but left out (attackers killed).
    #[schema(example = json!(["3 attackers reported killed, not counted among the victims: \"killed three attackers\""]))]
    pub warnings: Vec<String>,
}

/// A value read from `span` of the text by `rule`.
#[derive(Debug, Clone)]
pub struct Finding<T> {
    pub value: T,
    pub span: Range<usize>,
    pub rule: String,
}

impl<T> Finding<T> {
    pub fn new(value: T, span: Range<usize>, rule: impl Into<String>) -> Self {
        Finding {
            value,
            span,
            rule: rule.into(),
        }
    }
}

/// Longest excerpt kept from the sentence of the figures.
const MAX_EXCERPT_CHARS: usize = 500;

/// The draft of the incident `request.text` reports.
pub fn draft(request: &DraftRequest) -> Drafted {
    let text = Text::new(&request.text);
    let mut builder = Builder {
        text: &text,
        draft: IncidentDraft::default(),
        evidence: Vec::new(),
        warnings: Vec::new(),
    };
    if request.text.trim().is_empty() {
        builder.warn("the text is empty");
    }
    let casualties = casualties::find(&text);
    let focus = casualties.sentence();
    builder.date(request.published_on, focus);
    builder.place(focus);
    builder.event_type(focus);
    builder.casualties(&casualties);
    builder.perpetrators();
    builder.source(request, focus);
    builder.finish()
}

struct Builder<'a> {
    text: &'a Text<'a>,
    draft: IncidentDraft,
    /// Spans in bytes until `finish`.
    evidence: Vec<(String, Range<usize>, String)>,
    warnings: Vec<String>,
}

impl Builder<'_> {
    fn cite(&mut self, field: impl Into<String>, span: &Range<usize>, rule: impl Into<String>) {
        self.evidence
            .push((field.into(), span.clone(), rule.into()));
    }

    fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    fn date(&mut self, published_on: Option<NaiveDate>, focus: Option<usize>) {
        let reference = dates::reference(self.text, published_on);
        match dates::find(self.text, reference.as_ref(), focus) {
            Ok(date) => {
                self.draft.occurred_on = Some(date.on);
                self.draft.occurred_until = date.until;
                self.draft.date_precision = date.precision;
                self.cite("occurred_on", &date.span, &date.rule);
                if date.until.is_some() {
                    self.cite("occurred_until", &date.span, &date.rule);
                }
                let precision = format!("precision of {}", date.precision.wire_name());
                self.cite("date_precision", &date.span, precision);
            }
            Err(why) => self.warn(format!("occurred_on: {why}")),
        }
    }

    fn place(&mut self, focus: Option<usize>) {
        let found = match places::find(self.text, focus) {
            Ok(found) => found,
            Err(why) => return self.warn(format!("location: {why}")),
        };
        let location = &mut self.draft.location;
        location.country_code = Some(found.country.alpha3.clone());
        location.country = Some(found.country.name.clone());
        location.geo_precision = Some(found.precision);
        let mut fields = vec![
            "location.country_code",
            "location.country",
            "location.geo_precision",
        ];
        if let Some(place) = found.place {
            let gazetteer = gazetteer::gazetteer();
            location.admin1 = gazetteer.admin1_of(place).map(|a| a.name.to_string());
            if place.kind == gazetteer::PlaceKind::City {
                location.place = Some(place.name.to_string());
                fields.push("location.place");
            }
            location.latitude = Some(place.latitude);
            location.longitude = Some(place.longitude);
            if location.admin1.is_some() {
                fields.push("location.admin1");
            }
            fields.extend(["location.latitude", "location.longitude"]);
        }
        for field in fields {
            self.cite(field, &found.span, &found.rule);
        }
    }

    fn event_type(&mut self, focus: Option<usize>) {
        match events::find(self.text, focus) {
            Some(found) => {
                self.draft.event_type = Some(found.event_type.into());
                self.draft.sub_event_type = Some(found.sub_event_type.into());
                self.cite("event_type", &found.span, &found.rule);
                self.cite("sub_event_type", &found.span, &found.rule);
            }
            None => self.warn("event_type: no keyword of a type of violence found"),
        }
    }

    fn casualties(&mut self, found: &casualties::Casualties) {
        for (category, figure) in [
            (casualties::Category::Killed, &found.killed),
            (casualties::Category::Injured, &found.injured),
        ] {
            let Some(figure) = figure else {
                self.warn(format!(
                    "{}: no figure found; unknown stays null",
                    category.field()
                ));
                continue;
            };
            let bounds: &mut Bounds = match category {
                casualties::Category::Killed => &mut self.draft.casualties.killed,
                casualties::Category::Injured => &mut self.draft.casualties.injured,
            };
            *bounds = figure.bounds;
            for (name, value) in [
                ("low", figure.bounds.low),
                ("best", figure.bounds.best),
                ("high", figure.bounds.high),
            ] {
                if value.is_some() {
                    self.cite(
                        format!("{}.{name}", category.field()),
                        &figure.span,
                        &figure.rule,
                    );
                }
            }
        }
        for attackers in &found.attackers {
            let words = self.text.slice(&attackers.span);
            self.warn(format!(
                "{} attackers reported killed, not counted among the victims: \"{words}\"",
                attackers.value
            ));
        }
    }

    fn perpetrators(&mut self) {
        let found = claims::find(self.text);
        if found.is_empty() {
            self.warn(
                "perpetrators: no group is named with a claim, a denial, a blame or a suspicion",
            );
        }
        for (i, perpetrator) in found.into_iter().enumerate() {
            self.cite(
                format!("perpetrators[{i}].name"),
                &perpetrator.name_span,
                "a group's name, as the actor list keeps it",
            );
            self.cite(
                format!("perpetrators[{i}].claim"),
                &perpetrator.claim_span,
                &perpetrator.rule,
            );
            self.draft.perpetrators.push(Perpetrator {
                name: perpetrator.name,
                claim: perpetrator.claim,
            });
        }
    }

    /// The source: the request's metadata, the headline when no title is given, and the
    /// sentence of the figures (else the first sentence of violence) as the excerpt.
    fn source(&mut self, request: &DraftRequest, focus: Option<usize>) {
        let mut source = Source {
            url: request.url.clone(),
            title: request.title.clone(),
            publisher: request.publisher.clone(),
            published_on: request.published_on,
            excerpt: None,
        };
        if source.title.is_none() {
            if let Some(headline) = &self.text.headline {
                source.title = Some(self.text.slice(headline).to_string());
                self.cite(
                    "sources[0].title",
                    headline,
                    "the first line, which reads like a headline",
                );
            }
        }
        let lead =
            focus.or_else(|| (0..self.text.sentences.len()).find(|&i| self.text.tells_event(i)));
        if let Some(index) = lead {
            let sentence = &self.text.sentences[index];
            let excerpt = cut(self.text.slice(sentence), MAX_EXCERPT_CHARS);
            let span = sentence.start..sentence.start + excerpt.len();
            source.excerpt = Some(excerpt.to_string());
            let rule = if focus.is_some() {
                "the sentence of the casualty figures"
            } else {
                "the first sentence of violence"
            };
            self.cite("sources[0].excerpt", &span, rule);
        }
        if source != Source::default() {
            self.draft.sources.push(source);
        }
    }

    fn finish(self) -> Drafted {
        let text = self.text.text;
        let evidence = self
            .evidence
            .into_iter()
            .map(|(field, span, rule)| Evidence {
                field,
                text: text[span.clone()].to_string(),
                start: text[..span.start].chars().count(),
                end: text[..span.end].chars().count(),
                rule,
            })
            .collect();
        Drafted {
            draft: self.draft,
            evidence,
            warnings: self.warnings,
        }
    }
}

/// `text` cut to at most `most` characters.
fn cut(text: &str, most: usize) -> &str {
    match text.char_indices().nth(most) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of reports, of broken dates and of other scripts, to be shuffled together.
    fn pieces() -> impl Strategy<Value = String> {
        let words = prop::sample::select(vec![
            "killed",
            "killing at least",
            "wounding more than",
            "two dozen",
            "dozens",
            " 12 ",
            "people were killed",
            "Kabul",
            "Baquba",
            "Belet Weyne",
            "MOGADISHU, Somalia — ",
            "on Saturday",
            "late on Sunday",
            "yesterday",
            "last week",
            "31 February",
            "Nov. 21",
            "2021-13-45",
            "in March",
            "claimed responsibility",
            "denied any role",
            "blamed",
            "suspected",
            "Islamic State",
            "Taliban",
            "al-Shabab",
            "No group claimed",
            "near",
            "Mr.",
            ", ",
            ". ",
            "\n",
            "\n\n",
            "—",
            "’s",
            "ā",
            "é",
            "\u{301}",
            "日本",
            "Ω",
            " ",
        ]);
        let piece = prop_oneof![
            words.prop_map(str::to_string),
            any::<char>().prop_map(String::from)
        ];
        prop::collection::vec(piece, 0..80).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn any_text_drafts_and_every_citation_is_where_it_says(
            text in pieces(),
            days in prop::option::of(-3_000_000i32..3_000_000),
        ) {
            let published_on = days.and_then(NaiveDate::from_num_days_from_ce_opt);
            let request = DraftRequest { text: text.clone(), published_on, url: None, title: None, publisher: None };
            let drafted = draft(&request);
            for evidence in &drafted.evidence {
                let cited: String = text.chars().skip(evidence.start).take(evidence.end - evidence.start).collect();
                prop_assert_eq!(&cited, &evidence.text);
            }
        }
    }

    #[test]
    fn published_on_at_the_ends_of_the_calendar_is_no_panic() {
        for day in [NaiveDate::MIN, NaiveDate::MAX] {
            let request = DraftRequest {
                text: "A bomb exploded on Monday yesterday last week in March, 21 November.".into(),
                published_on: Some(day),
                url: None,
                title: None,
                publisher: None,
            };
            draft(&request);
        }
    }
}

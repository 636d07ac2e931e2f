//! The offline gazetteer: GeoNames' cities of 15,000 people or more with their other
//! spellings, and the first-level administrative areas (CC BY 4.0, see `gazetteer/README.md`),
//! embedded in the binary and indexed the first time a draft needs it.

use std::collections::HashMap;
use std::sync::OnceLock;

/// `gazetteer/places.tsv`, made by `gazetteer/extract.py`.
const PLACES: &str = include_str!("../../gazetteer/places.tsv");

/// A spelling is looked up by at most this many words ("Dera Ismail Khan").
pub const MAX_KEY_WORDS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    City,
    /// A first-level administrative area; its coordinates are the mean of its towns'.
    Admin1,
}

/// One place of the gazetteer.
#[derive(Debug)]
pub struct Place {
    pub name: &'static str,
    /// ISO 3166-1 alpha-2.
    pub country: &'static str,
    /// The index of the place's admin1 area in `Gazetteer::places`, when known.
    pub admin1: Option<usize>,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u32,
    pub kind: PlaceKind,
}

pub struct Gazetteer {
    pub places: Vec<Place>,
    /// Folded spelling (see `fold`) → where its places are in `postings`: one allocation
    /// per spelling, not two (120,000 spellings; measured 43 MB resident with a `Vec` each,
    /// about 36 MB resident then, 20 MB now).
    by_key: HashMap<Box<str>, (u32, u32)>,
    /// Indexes into `places`, grouped by spelling.
    postings: Vec<u32>,
}

impl Gazetteer {
    /// The places (indexes into `places`) a folded spelling names.
    pub fn lookup(&self, key: &str) -> &[u32] {
        match self.by_key.get(key) {
            Some(&(start, len)) => &self.postings[start as usize..(start + len) as usize],
            None => &[],
        }
    }

    /// The admin1 area of `place` (itself for an area).
    pub fn admin1_of(&self, place: &Place) -> Option<&Place> {
        place.admin1.map(|i| &self.places[i])
    }
}

/// The gazetteer, parsed on first use (about 37,000 places; see the README for the time).
pub fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(|| {
        let started = std::time::Instant::now();
        let gazetteer = parse(PLACES);
        tracing::debug!(places = gazetteer.places.len(), elapsed = ?started.elapsed(), "gazetteer indexed");
        gazetteer
    })
}

fn parse(text: &'static str) -> Gazetteer {
    let mut places = Vec::with_capacity(40_000);
    let mut spellings: Vec<(Box<str>, u32)> = Vec::with_capacity(130_000);
    let mut areas: HashMap<&str, usize> = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (place, other) = match fields.as_slice() {
            ["A", code, name, lat, lon, other] => {
                areas.insert(code, places.len());
                let area = Place {
                    name,
                    country: country_of(code),
                    admin1: Some(places.len()),
                    latitude: lat.parse().unwrap_or_default(),
                    longitude: lon.parse().unwrap_or_default(),
                    population: 0,
                    kind: PlaceKind::Admin1,
                };
                (area, *other)
            }
            ["C", name, code, lat, lon, population, other] => {
                let city = Place {
                    name,
                    country: country_of(code),
                    admin1: areas.get(code).copied(),
                    latitude: lat.parse().unwrap_or_default(),
                    longitude: lon.parse().unwrap_or_default(),
                    population: population.parse().unwrap_or_default(),
                    kind: PlaceKind::City,
                };
                (city, *other)
            }
            // The file is ours and checked by a test; a line of another shape is skipped.
            _ => continue,
        };
        let index = places.len() as u32;
        for spelling in std::iter::once(place.name).chain(other.split('|')) {
            let key = fold(spelling);
            if !key.is_empty() && key.split(' ').count() <= MAX_KEY_WORDS {
                spellings.push((key.into_boxed_str(), index));
            }
        }
        places.push(place);
    }
    // Sorted, each spelling's places are next to each other: they become its postings.
    spellings.sort_unstable();
    spellings.dedup();
    let mut by_key: HashMap<Box<str>, (u32, u32)> = HashMap::with_capacity(spellings.len());
    let mut postings = Vec::with_capacity(spellings.len());
    for (key, place) in spellings {
        let at = postings.len() as u32;
        postings.push(place);
        by_key.entry(key).or_insert((at, 0)).1 += 1;
    }
    Gazetteer {
        places,
        by_key,
        postings,
    }
}

/// `AF.13` → `AF`.
fn country_of(code: &str) -> &str {
    code.split('.').next().unwrap_or(code)
}

/// A spelling as it is compared: lower case, Latin letters without their marks, no
/// apostrophes, and one space between words, so "Ba'qūbah", "Baqubah" and "BAQUBAH" meet,
/// as do "Deir ez-Zor" and "Deir ez Zor".
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if is_apostrophe(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            push_folded(&mut out, c);
        } else {
            space = true;
        }
    }
    out
}

pub fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | 'ʼ' | 'ʿ' | 'ʾ' | '`' | '´')
}

/// Latin letters U+00C0..U+024F without their marks; `*` keeps the letter as it is.
const LATIN_FOLDS: &str = "aaaaaaaceeeeiiiidnooooo*ouuuuytsaaaaaaaceeeeiiiidnooooo*ouuuuyty\
aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkk*llllll**llnnnnnn*nnoooooooorrrrrr\
ssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzsbb****o***d***eeeff****ikk******oo*************uu**yy\
************************aaiioouuuuuuuuuueaaaaaa**ggkkoooo**j***gg**nnaaaaooaaaaeeeeiiiioooo\
rrrruuuusstt**hh******aaeeooooooooyy***************b************";

fn push_folded(out: &mut String, c: char) {
    let code = c as usize;
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else if (0xC0..0x250).contains(&code) {
        match LATIN_FOLDS.as_bytes()[code - 0xC0] {
            b'*' => out.extend(c.to_lowercase()),
            folded => out.push(folded as char),
        }
    } else if c == 'ə' {
        out.push('e');
    } else {
        out.extend(c.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_fold_together() {
        assert_eq!(fold("Ba'qūbah"), "baqubah");
        assert_eq!(fold("  Deir ez-Zor "), "deir ez zor");
        assert_eq!(fold("KABUL’s"), "kabuls");
        assert_eq!(LATIN_FOLDS.len(), 0x250 - 0xC0);
    }

    #[test]
    fn every_line_of_the_file_is_read() {
        let records = PLACES.lines().filter(|l| !l.starts_with('#')).count();
        let g = gazetteer();
        assert_eq!(g.places.len(), records);
        let kabul = g.lookup("kabul");
        assert!(kabul
            .iter()
            .map(|&i| &g.places[i as usize])
            .any(|p| p.kind == PlaceKind::City
                && p.country == "AF"
                && g.admin1_of(p).map(|a| a.name) == Some("Kabul")));
        for variant in ["baquba", "baqubah", "beledweyne", "belet weyne"] {
            assert!(!g.lookup(variant).is_empty(), "{variant}");
        }
    }
}

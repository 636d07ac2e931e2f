//! Countries and their UN M49 regions, from the `keshvar` crate (ISO 3166-1 with UN M49
//! region and sub-region for every country), indexed once for lookups by code or name.

use std::collections::HashMap;
use std::sync::OnceLock;

/// One country with the names it can be looked up by.
#[derive(Debug, Clone)]
pub struct Country {
    pub alpha2: String,
    pub alpha3: String,
    pub name: String,
    pub region: Option<String>,
    pub subregion: Option<String>,
}

struct Registry {
    countries: Vec<Country>,
    /// Lower-cased alpha-2, alpha-3 and every known name → index into `countries`.
    by_key: HashMap<String, usize>,
    /// Lower-cased UN M49 region and sub-region names → their countries' alpha-3 codes.
    m49_members: HashMap<String, Vec<String>>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(build_registry)
}

fn build_registry() -> Registry {
    let mut countries = Vec::new();
    let mut by_key = HashMap::new();
    for country in keshvar::CountryIterator::new() {
        let index = countries.len();
        let mut names: Vec<&str> = vec![country.iso_short_name(), country.iso_long_name()];
        names.extend(country.unofficial_name_list());
        for key in [country.alpha2().to_string(), country.alpha3().to_string()]
            .into_iter()
            .chain(names.iter().map(|n| n.to_string()))
        {
            by_key.entry(normalize(&key)).or_insert(index);
        }
        countries.push(Country {
            alpha2: country.alpha2().to_string(),
            alpha3: country.alpha3().to_string(),
            name: country.iso_short_name().to_string(),
            region: country.maybe_region().map(|r| title_case(&r.to_string())),
            subregion: country
                .maybe_subregion()
                .map(|s| title_case(&s.to_string())),
        });
    }
    let mut m49_members: HashMap<String, Vec<String>> = HashMap::new();
    for country in &countries {
        for name in [&country.region, &country.subregion].into_iter().flatten() {
            m49_members
                .entry(normalize(name))
                .or_default()
                .push(country.alpha3.clone());
        }
    }
    Registry {
        countries,
        by_key,
        m49_members,
    }
}

/// `south-eastern-asia` → `South-eastern Asia`, `australia-and-new-zealand` →
/// `Australia and New Zealand`: the spelling of the UN M49 standard.
fn title_case(slug: &str) -> String {
    const LOWER: [&str; 2] = ["and", "the"];
    slug.replace("south-eastern", "south_eastern")
        .split('-')
        .map(|word| {
            if LOWER.contains(&word) {
                word.to_string()
            } else {
                let mut chars = word.chars();
                let first = chars.next().map(|c| c.to_ascii_uppercase());
                first.into_iter().chain(chars).collect::<String>()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
        .replace("_", "-")
}

fn normalize(text: &str) -> String {
    text.trim().to_lowercase()
}

/// Every known country.
pub fn all() -> &'static [Country] {
    &registry().countries
}

/// The country for an alpha-2 or alpha-3 code or a name, case-insensitive.
pub fn resolve(input: &str) -> Option<&'static Country> {
    let registry = registry();
    registry
        .by_key
        .get(&normalize(input))
        .map(|&i| &registry.countries[i])
}

/// The known names closest to `input`, best first, for "did you mean" hints.
pub fn suggest(input: &str, candidates: impl Iterator<Item = String>) -> Vec<String> {
    // Similarity costs the product of the lengths; no real name is this long.
    if input.chars().count() > MAX_SUGGESTED_LENGTH {
        return Vec::new();
    }
    let wanted = normalize(input);
    let mut scored: Vec<(f64, String)> = candidates
        .map(|name| (strsim::jaro_winkler(&wanted, &normalize(&name)), name))
        .filter(|(score, _)| *score > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// Inputs longer than this get no suggestions.
const MAX_SUGGESTED_LENGTH: usize = 100;

/// Country names closest to `input`.
pub fn suggest_country(input: &str) -> Vec<String> {
    suggest(input, all().iter().map(|c| c.name.clone()))
}

/// A sub-region's name and its countries' alpha-3 codes.
pub type Subregion = (String, Vec<String>);

/// The UN M49 regions, each with its sub-regions, each with its countries' alpha-3 codes.
pub fn m49_regions() -> Vec<(String, Vec<Subregion>)> {
    let mut regions: Vec<(String, Vec<Subregion>)> = Vec::new();
    for country in all() {
        let (Some(region), Some(subregion)) = (&country.region, &country.subregion) else {
            continue;
        };
        let position = match regions.iter().position(|(name, _)| name == region) {
            Some(p) => p,
            None => {
                regions.push((region.clone(), Vec::new()));
                regions.len() - 1
            }
        };
        let subregions = &mut regions[position].1;
        match subregions.iter_mut().find(|(name, _)| name == subregion) {
            Some((_, codes)) => codes.push(country.alpha3.clone()),
            None => subregions.push((subregion.clone(), vec![country.alpha3.clone()])),
        }
    }
    regions.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, subregions) in &mut regions {
        subregions.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, codes) in subregions.iter_mut() {
            codes.sort();
        }
    }
    regions
}

/// The alpha-3 codes of a UN M49 region or sub-region, case-insensitive.
pub fn m49_members(name: &str) -> Option<Vec<String>> {
    registry().m49_members.get(&normalize(name)).cloned()
}

/// Every UN M49 region and sub-region name.
pub fn m49_names() -> Vec<String> {
    let mut names: Vec<String> = all()
        .iter()
        .flat_map(|c| [c.region.clone(), c.subregion.clone()])
        .flatten()
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_codes_and_names_case_insensitively() {
        for input in ["AF", "afg", "Afghanistan", " afghanistan "] {
            assert_eq!(resolve(input).map(|c| c.alpha3.as_str()), Some("AFG"));
        }
        let af = resolve("AF").unwrap();
        assert_eq!(af.region.as_deref(), Some("Asia"));
        assert_eq!(af.subregion.as_deref(), Some("Southern Asia"));
    }

    #[test]
    fn m49_names_follow_the_standard_spelling() {
        let names = m49_names();
        for expected in [
            "South-eastern Asia",
            "Australia and New Zealand",
            "Western Asia",
            "Americas",
        ] {
            assert!(
                names.contains(&expected.to_string()),
                "{expected} in {names:?}"
            );
        }
    }

    #[test]
    fn suggests_close_names() {
        assert!(suggest_country("Afganistan").contains(&"Afghanistan".to_string()));
    }
}

//! Countries and their UN M49 regions, from the `keshvar` crate (ISO 3166-1 with UN M49
//! region and sub-region for every country), plus what real datasets name that ISO 3166-1
//! does not (Kosovo, historical states), indexed once for lookups by code, numeric code or
//! name, whatever the case, diacritics or word order ("Tanzania, United Republic of").

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

/// What datasets name that ISO 3166-1 does not: Kosovo (`XK`/`XKX`, as the EU and most
/// datasets code it), and historical states with their ISO 3166-3 alpha-3 codes where they
/// have one (incidentdb's own `FRG` for West Germany, which kept `DEU`), each in the UN M49
/// region and sub-region of its territory, so `region=Europe` includes West Germany; and the
/// names datasets give today's countries (whose codes are known: only their names are added).
const OTHER_COUNTRIES: &[OtherCountry] = &[
    (
        "XK",
        "XKX",
        "Kosovo",
        "Europe",
        "Southern Europe",
        &["Republic of Kosovo"],
    ),
    (
        "",
        "FRG",
        "West Germany",
        "Europe",
        "Western Europe",
        &["West Germany (FRG)", "Federal Republic of Germany (West)"],
    ),
    (
        "DD",
        "DDR",
        "East Germany",
        "Europe",
        "Western Europe",
        &["East Germany (GDR)", "German Democratic Republic", "GDR"],
    ),
    (
        "SU",
        "SUN",
        "Soviet Union",
        "Europe",
        "Eastern Europe",
        &["USSR", "Union of Soviet Socialist Republics"],
    ),
    (
        "YU",
        "YUG",
        "Yugoslavia",
        "Europe",
        "Southern Europe",
        &[
            "Socialist Federal Republic of Yugoslavia",
            "Federal Republic of Yugoslavia",
        ],
    ),
    (
        "CS",
        "CSK",
        "Czechoslovakia",
        "Europe",
        "Eastern Europe",
        &[],
    ),
    (
        "",
        "SCG",
        "Serbia and Montenegro",
        "Europe",
        "Southern Europe",
        &["Serbia-Montenegro"],
    ),
    (
        "YD",
        "YMD",
        "South Yemen",
        "Asia",
        "Western Asia",
        &["People's Democratic Republic of Yemen", "Yemen (South)"],
    ),
    (
        "",
        "YAR",
        "North Yemen",
        "Asia",
        "Western Asia",
        &["Yemen Arab Republic", "Yemen (North)"],
    ),
    (
        "",
        "RVN",
        "South Vietnam",
        "Asia",
        "South-eastern Asia",
        &["Republic of Vietnam", "Vietnam (South)"],
    ),
    ("ZR", "ZAR", "Zaire", "Africa", "Middle Africa", &[]),
    (
        "RH",
        "RHO",
        "Rhodesia",
        "Africa",
        "Eastern Africa",
        &["Southern Rhodesia", "Zimbabwe Rhodesia"],
    ),
    (
        "",
        "COG",
        "People's Republic of the Congo",
        "Africa",
        "Middle Africa",
        &[],
    ),
    ("NH", "NHB", "New Hebrides", "Oceania", "Melanesia", &[]),
    // Names of today's countries as datasets write them.
    (
        "CD",
        "COD",
        "DR Congo",
        "",
        "",
        &["Democratic Republic of Congo", "Congo, DRC", "DRC"],
    ),
    ("BA", "BIH", "Bosnia-Herzegovina", "", "", &[]),
    ("MK", "MKD", "Macedonia, FYR", "", "", &["Macedonia"]),
    ("CI", "CIV", "Ivory Coast", "", "", &[]),
];

/// Alpha-2 (or ""), alpha-3, name, M49 region and sub-region (or "" for a known country),
/// and other names.
type OtherCountry = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

fn build_registry() -> Registry {
    let mut countries = Vec::new();
    let mut by_key = HashMap::new();
    for country in keshvar::CountryIterator::new() {
        let mut keys: Vec<String> = vec![
            country.alpha2().to_string(),
            country.alpha3().to_string(),
            country.number().to_string(),
            country.number().trim_start_matches('0').to_string(),
            country.iso_short_name().to_string(),
            country.iso_long_name().to_string(),
        ];
        keys.extend(country.unofficial_name_list().iter().map(|n| n.to_string()));
        index(&mut by_key, countries.len(), &keys);
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
    for (alpha2, alpha3, name, region, subregion, aliases) in OTHER_COUNTRIES {
        let mut keys: Vec<String> = vec![alpha3.to_string(), name.to_string()];
        keys.extend((!alpha2.is_empty()).then(|| alpha2.to_string()));
        keys.extend(aliases.iter().map(|a| a.to_string()));
        // Their own codes first: `COG` is today's Congo, the old name only an alias.
        let existing = by_key.get(&normalize(alpha3)).copied();
        index(&mut by_key, existing.unwrap_or(countries.len()), &keys);
        if existing.is_none() {
            countries.push(Country {
                alpha2: alpha2.to_string(),
                alpha3: alpha3.to_string(),
                name: name.to_string(),
                region: Some(region.to_string()),
                subregion: Some(subregion.to_string()),
            });
        }
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
    for (name, _, parts) in M49_GROUPINGS {
        let members: Vec<String> = parts
            .iter()
            .flat_map(|part| {
                m49_members
                    .get(&normalize(part))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        m49_members.insert(normalize(name), members);
    }
    for (name, code) in M49_CODES {
        if let Some(members) = m49_members.get(&normalize(name)).cloned() {
            m49_members.insert(normalize(code), members);
        }
    }
    Registry {
        countries,
        by_key,
        m49_members,
    }
}

/// Files `keys` (codes and names) under country `index`; a key already taken keeps its country.
fn index(by_key: &mut HashMap<String, usize>, index: usize, keys: &[String]) {
    for key in keys.iter().filter(|k| !k.is_empty()) {
        by_key.entry(normalize(key)).or_insert(index);
        // "Tanzania, United Republic of" is also "United Republic of Tanzania".
        if let Some((head, tail)) = key.split_once(", ") {
            by_key
                .entry(normalize(&format!("{tail} {head}")))
                .or_insert(index);
        }
    }
}

/// The UN M49 intermediate groupings used in region filters, with their codes and the
/// sub-regions they gather.
pub const M49_GROUPINGS: [(&str, &str, &[&str]); 2] = [
    (
        "Sub-Saharan Africa",
        "202",
        &[
            "Eastern Africa",
            "Middle Africa",
            "Southern Africa",
            "Western Africa",
        ],
    ),
    (
        "Latin America and the Caribbean",
        "419",
        &["Caribbean", "Central America", "South America"],
    ),
];

/// The UN M49 numeric code of every region, sub-region and grouping.
pub const M49_CODES: [(&str, &str); 29] = [
    ("Africa", "002"),
    ("Americas", "019"),
    ("Asia", "142"),
    ("Europe", "150"),
    ("Oceania", "009"),
    ("Northern Africa", "015"),
    ("Sub-Saharan Africa", "202"),
    ("Eastern Africa", "014"),
    ("Middle Africa", "017"),
    ("Southern Africa", "018"),
    ("Western Africa", "011"),
    ("Latin America and the Caribbean", "419"),
    ("Caribbean", "029"),
    ("Central America", "013"),
    ("South America", "005"),
    ("Northern America", "021"),
    ("Central Asia", "143"),
    ("Eastern Asia", "030"),
    ("South-eastern Asia", "035"),
    ("Southern Asia", "034"),
    ("Western Asia", "145"),
    ("Eastern Europe", "151"),
    ("Northern Europe", "154"),
    ("Southern Europe", "039"),
    ("Western Europe", "155"),
    ("Australia and New Zealand", "053"),
    ("Melanesia", "054"),
    ("Micronesia", "057"),
    ("Polynesia", "061"),
];

/// The M49 code of region, sub-region or grouping `name`.
pub fn m49_code(name: &str) -> Option<&'static str> {
    M49_CODES
        .iter()
        .find(|(known, _)| normalize(known) == normalize(name))
        .map(|(_, code)| *code)
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

/// The form names are compared in: lower case, without diacritics (`Türkiye` is `turkiye`,
/// `Côte d'Ivoire` is `cote d'ivoire`), spaces collapsed, M49 codes without leading zeros.
fn normalize(text: &str) -> String {
    let folded = deunicode::deunicode(text).to_lowercase();
    let words: Vec<&str> = folded.split_whitespace().collect();
    let joined = words.join(" ");
    if !joined.is_empty() && joined.bytes().all(|b| b.is_ascii_digit()) {
        let trimmed = joined.trim_start_matches('0');
        return if trimmed.is_empty() {
            "0".into()
        } else {
            trimmed.to_string()
        };
    }
    joined
}

/// Every known country.
pub fn all() -> &'static [Country] {
    &registry().countries
}

/// The country for an alpha-2, alpha-3 or numeric code or a name, case- and
/// diacritic-insensitive. A name with a parenthesis, as UCDP writes them ("DR Congo (Zaire)",
/// "Russia (Soviet Union)"), is the name before it, else the one inside.
pub fn resolve(input: &str) -> Option<&'static Country> {
    let registry = registry();
    let find = |key: &str| {
        registry
            .by_key
            .get(&normalize(key))
            .map(|&i| &registry.countries[i])
    };
    find(input).or_else(|| {
        let (before, rest) = input.split_once('(')?;
        let inside = rest.split(')').next().unwrap_or_default();
        find(before).or_else(|| find(inside))
    })
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

/// Every UN M49 region, sub-region and grouping name.
pub fn m49_names() -> Vec<String> {
    let mut names: Vec<String> = all()
        .iter()
        .flat_map(|c| [c.region.clone(), c.subregion.clone()])
        .flatten()
        .chain(M49_GROUPINGS.iter().map(|(name, _, _)| name.to_string()))
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
    fn real_datasets_names_resolve() {
        let code = |input: &str| resolve(input).map(|c| c.alpha3.as_str());
        for (input, expected) in [
            ("Kosovo", "XKX"),
            ("XK", "XKX"),
            ("West Germany (FRG)", "FRG"),
            ("DDR", "DDR"),
            ("Soviet Union", "SUN"),
            ("Tanzania, United Republic of", "TZA"),
            ("Turkiye", "TUR"),
            ("Cote d'Ivoire", "CIV"),
            ("DR Congo (Zaire)", "COD"),
            ("Yemen (North Yemen)", "YEM"),
            ("004", "AFG"),
            ("4", "AFG"),
        ] {
            assert_eq!(code(input), Some(expected), "{input}");
        }
        let frg = resolve("West Germany").unwrap();
        assert_eq!(frg.region.as_deref(), Some("Europe"));
        assert!(m49_members("Europe").unwrap().contains(&"FRG".to_string()));
        let ssa = m49_members("sub-saharan africa").unwrap();
        assert!(ssa.contains(&"NGA".to_string()) && !ssa.contains(&"EGY".to_string()));
        assert_eq!(m49_members("202"), Some(ssa));
        assert!(m49_members("419").unwrap().contains(&"BRA".to_string()));
    }

    #[test]
    fn suggests_close_names() {
        assert!(suggest_country("Afganistan").contains(&"Afghanistan".to_string()));
    }
}

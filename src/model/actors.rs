//! The names one group goes by across datasets (UCDP's `Taleban` is ACLED's `Taliban`): a
//! perpetrator filter on any of them finds them all.

/// Groups of names for the same actor, compared in lower case.
const ALIASES: &[&[&str]] = &[
    &["taliban", "taleban", "islamic emirate of afghanistan"],
    &[
        "islamic state",
        "is",
        "isis",
        "isil",
        "daesh",
        "islamic state of iraq and the levant",
        "islamic state of iraq and syria",
    ],
    &[
        "islamic state khorasan province",
        "iskp",
        "is-k",
        "is-khorasan",
    ],
    &[
        "al-shabaab",
        "al shabaab",
        "al-shabab",
        "harakat al-shabaab al-mujahideen",
    ],
    &["al-qaeda", "al-qaida", "al qaeda", "al qaida"],
    &[
        "boko haram",
        "jama'atu ahlis sunna lidda'awati wal-jihad",
        "jas",
    ],
    &["hezbollah", "hizballah", "hizbollah", "hizbullah"],
    &["tehrik-i-taliban pakistan", "ttp", "pakistani taliban"],
];

/// `names` (lower case) with every other name of the same actors, each once.
pub fn with_aliases(names: Vec<String>) -> Vec<String> {
    let mut all = names.clone();
    for name in &names {
        let group = ALIASES.iter().find(|group| group.contains(&name.as_str()));
        all.extend(
            group
                .into_iter()
                .flat_map(|g| g.iter().map(|n| n.to_string())),
        );
    }
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_brings_its_aliases() {
        let found = super::with_aliases(vec!["taliban".into(), "unknown group".into()]);
        assert_eq!(
            found,
            [
                "islamic emirate of afghanistan",
                "taleban",
                "taliban",
                "unknown group"
            ]
        );
    }
}

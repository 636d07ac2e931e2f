//! Armed groups by the names reports and datasets give them, each with the one name the
//! database keeps ("ISIS", "Daesh", "the Islamic State" → "Islamic State"; UCDP's "Taleban" →
//! "Taliban"): the drafter reads reports with it, and a perpetrator filter on any of a group's
//! names finds them all.

/// The name kept, then the other names, matched as whole words. Names in capitals (acronyms)
/// match only in capitals; the others in any case.
pub const ACTORS: &[(&str, &[&str])] = &[
    (
        "Islamic State West Africa Province",
        &[
            "ISWAP",
            "Islamic State in West Africa",
            "Islamic State West Africa",
        ],
    ),
    (
        "Islamic State Khorasan Province",
        &[
            "ISKP",
            "ISIS-K",
            "IS-K",
            "Islamic State Khorasan",
            "Islamic State-Khorasan",
        ],
    ),
    (
        "Islamic State Sahel Province",
        &[
            "Islamic State in the Greater Sahara",
            "ISGS",
            "Islamic State Sahel",
        ],
    ),
    (
        "Islamic State",
        &[
            "ISIS",
            "ISIL",
            "IS",
            "Daesh",
            "Daesh",
            "Islamic State group",
            "Islamic State of Iraq and the Levant",
            "Islamic State of Iraq and Syria",
        ],
    ),
    (
        "Tehrik-i-Taliban Pakistan",
        &[
            "TTP",
            "Pakistani Taliban",
            "Tehreek-e-Taliban Pakistan",
            "Tehrik-e-Taliban Pakistan",
        ],
    ),
    (
        "Taliban",
        &[
            "Afghan Taliban",
            "Islamic Emirate of Afghanistan",
            "Taleban",
        ],
    ),
    ("Haqqani Network", &["Haqqani network", "Haqqanis"]),
    (
        "Al-Shabaab",
        &[
            "al-Shabaab",
            "al-Shabab",
            "Al-Shabab",
            "al Shabaab",
            "Shabaab",
            "al-Shebab",
            "Harakat al-Shabaab al-Mujahideen",
        ],
    ),
    (
        "Boko Haram",
        &["Jama'atu Ahlis Sunna Lidda'awati wal-Jihad", "JAS"],
    ),
    (
        "Al-Qaeda in the Arabian Peninsula",
        &["AQAP", "al-Qaeda in the Arabian Peninsula"],
    ),
    (
        "Al-Qaeda in the Islamic Maghreb",
        &["AQIM", "al-Qaeda in the Islamic Maghreb"],
    ),
    (
        "JNIM",
        &[
            "Jama'at Nusrat al-Islam wal-Muslimin",
            "Jamaat Nusrat al-Islam wal-Muslimin",
            "Group for the Support of Islam and Muslims",
            "GSIM",
        ],
    ),
    (
        "Al-Qaeda",
        &["al-Qaeda", "al-Qaida", "Al-Qaida", "al Qaeda"],
    ),
    (
        "Houthis",
        &["Houthi", "Houthi rebels", "Ansar Allah", "Ansarullah"],
    ),
    (
        "Hamas",
        &["Izz ad-Din al-Qassam Brigades", "Qassam Brigades"],
    ),
    ("Hezbollah", &["Hizbollah", "Hizballah"]),
    (
        "PKK",
        &["Kurdistan Workers' Party", "Kurdistan Workers Party"],
    ),
    ("ELN", &["National Liberation Army"]),
    (
        "Baloch Liberation Army",
        &["BLA", "Balochistan Liberation Army"],
    ),
    ("Allied Democratic Forces", &["ADF", "ADF rebels"]),
    ("M23", &["March 23 Movement"]),
    ("Hayat Tahrir al-Sham", &["HTS", "Hay'at Tahrir al-Sham"]),
    ("New People's Army", &["NPA"]),
    ("Abu Sayyaf", &["Abu Sayyaf Group", "ASG"]),
    ("Lashkar-e-Taiba", &["LeT", "Lashkar-e-Toiba"]),
    ("Jaish-e-Mohammed", &["JeM", "Jaish-e-Muhammad"]),
    ("Jamaat-ul-Ahrar", &["Jamat-ul-Ahrar"]),
    ("Ansar al-Islam", &[]),
    ("Ansaru", &[]),
    ("Al-Nusra Front", &["Nusra Front", "Jabhat al-Nusra"]),
];

/// `names` (lower case) with every other name of the same groups, in lower case, each once.
pub fn with_aliases(names: Vec<String>) -> Vec<String> {
    let mut all = names.clone();
    for name in &names {
        let group = ACTORS.iter().find(|(kept, others)| {
            kept.to_lowercase() == *name || others.iter().any(|o| o.to_lowercase() == *name)
        });
        if let Some((kept, others)) = group {
            all.push(kept.to_lowercase());
            all.extend(others.iter().map(|o| o.to_lowercase()));
        }
    }
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_brings_its_aliases() {
        let found = super::with_aliases(vec!["taleban".into(), "unknown group".into()]);
        assert!(found.contains(&"taliban".to_string()), "{found:?}");
        assert!(found.contains(&"unknown group".to_string()), "{found:?}");
        assert!(
            !found.contains(&"tehrik-i-taliban pakistan".to_string()),
            "{found:?}"
        );
    }
}

//! The one schema for both backends (see `migrations/sqlite` and `migrations/postgres`).

/// A table of incident versions: its own columns, then those of a version of an incident,
/// written once for the current versions (`incidents`) and the ones they replaced
/// (`incident_versions`).
macro_rules! incident_version_table {
    ($(#[$meta:meta])* $name:ident ($key:ident) { $($own:tt)* }) => {
        diesel::table! {
            $(#[$meta])*
            $name ($key) {
                $($own)*
                dataset -> Text,
                external_id -> Nullable<Text>,
                occurred_on -> Date,
                occurred_until -> Nullable<Date>,
                date_precision -> Text,
                event_type -> Nullable<Text>,
                sub_event_type -> Nullable<Text>,
                country_code -> Nullable<Text>,
                country -> Nullable<Text>,
                region -> Nullable<Text>,
                subregion -> Nullable<Text>,
                source_region -> Nullable<Text>,
                admin1 -> Nullable<Text>,
                admin2 -> Nullable<Text>,
                place -> Nullable<Text>,
                latitude -> Nullable<Double>,
                longitude -> Nullable<Double>,
                geo_precision -> Nullable<Text>,
                killed_low -> Nullable<Integer>,
                killed_best -> Nullable<Integer>,
                killed_high -> Nullable<Integer>,
                injured_low -> Nullable<Integer>,
                injured_best -> Nullable<Integer>,
                injured_high -> Nullable<Integer>,
                search_text -> Text,
                document -> Text,
                version -> Integer,
                created_at -> Timestamp,
                updated_at -> Timestamp,
                change -> Text,
                changed_by -> Nullable<Text>,
                change_reason -> Nullable<Text>,
            }
        }
    };
}

incident_version_table!(incidents (id) {
    id -> BigInt,
});

incident_version_table!(
    /// Earlier versions of incidents, and deletions (see the history migration).
    incident_versions (version_id) {
        version_id -> BigInt,
        /// The incident's id.
        id -> BigInt,
        valid_from -> Timestamp,
        valid_to -> Nullable<Timestamp>,
    }
);

incident_version_table!(
    /// PostgreSQL: a temporary table holding an import's rows on their way in (created from
    /// `incidents` by `db::bulk`, so it has every incident column; the importer writes those
    /// of a new version), each numbered by its place in the batch.
    import_rows (seq) {
        seq -> BigInt,
        /// The row's full-text vector as text, when computed ahead (see `db::bulk`).
        vector -> Nullable<Text>,
    }
);

diesel::table! {
    releases (name) {
        name -> Text,
        description -> Nullable<Text>,
        as_of -> Timestamp,
        incidents -> BigInt,
        checksum -> Text,
        created_by -> Text,
    }
}

diesel::table! {
    incident_perpetrators (id) {
        id -> BigInt,
        incident_id -> BigInt,
        position -> Integer,
        name -> Text,
        claim -> Text,
    }
}

diesel::table! {
    deleted_incidents (id) {
        id -> BigInt,
        dataset -> Text,
        external_id -> Nullable<Text>,
        deleted_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    named_region_countries (region_key, country_code) {
        region_key -> Text,
        region -> Text,
        country_code -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    incident_months (month, country_code) {
        month -> Text,
        country_code -> Text,
        region -> Nullable<Text>,
        subregion -> Nullable<Text>,
        incidents -> BigInt,
        killed_low_sum -> BigInt,
        killed_low_known -> BigInt,
        killed_best_sum -> BigInt,
        killed_best_known -> BigInt,
        killed_high_sum -> BigInt,
        killed_high_known -> BigInt,
        injured_low_sum -> BigInt,
        injured_low_known -> BigInt,
        injured_best_sum -> BigInt,
        injured_best_known -> BigInt,
        injured_high_sum -> BigInt,
        injured_high_known -> BigInt,
    }
}

diesel::joinable!(incident_perpetrators -> incidents (incident_id));

diesel::allow_tables_to_appear_in_same_query!(
    incidents,
    incident_perpetrators,
    deleted_incidents,
    api_keys,
    named_region_countries,
    incident_months,
    incident_versions,
    releases,
);

DROP VIEW incident_timeline;
CREATE VIEW incident_timeline AS
SELECT id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, updated_at AS valid_from, NULL AS valid_to FROM incidents
UNION ALL
SELECT id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, valid_from, valid_to FROM incident_versions WHERE valid_to IS NOT NULL;
DROP VIEW archived_perpetrators;
DROP VIEW archived_versions;
DROP VIEW current_versions;

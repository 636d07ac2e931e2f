DROP VIEW incident_timeline;
DROP VIEW archived_versions;
DROP VIEW current_versions;
CREATE VIEW current_versions AS
SELECT id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, updated_at AS valid_from, NULL::timestamp AS valid_to FROM incidents;
CREATE VIEW archived_versions AS
SELECT id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, valid_from, valid_to FROM incident_versions WHERE valid_to IS NOT NULL;
CREATE VIEW incident_timeline AS
SELECT * FROM current_versions UNION ALL SELECT * FROM archived_versions;
DROP TRIGGER incidents_search_vector ON incidents;
DROP FUNCTION incidents_search_vector();
DROP INDEX incidents_search;
ALTER TABLE incidents DROP COLUMN search_vector;
CREATE INDEX incidents_search ON incidents USING gin (to_tsvector('english', search_text));

-- The two halves of the timeline as views of their own: an "as of" list runs once on each,
-- where each is a plain table to the planner (its indexes read in order, stopping at the
-- page's end), and merges the two pages; over their union the planner gathers and sorts
-- every match first.
CREATE VIEW current_versions AS
SELECT id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, updated_at AS valid_from, NULL::timestamp AS valid_to FROM incidents;

CREATE VIEW archived_versions AS
SELECT id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, valid_from, valid_to FROM incident_versions WHERE valid_to IS NOT NULL;

-- The perpetrators of archived versions, by incident, for the perpetrator filter.
CREATE VIEW archived_perpetrators AS
SELECT p.id, v.id AS incident_id, p.position, p.name, p.claim, v.valid_from, v.valid_to
FROM version_perpetrators p JOIN incident_versions v ON v.version_id = p.version_id;

DROP VIEW incident_timeline;
CREATE VIEW incident_timeline AS
SELECT * FROM current_versions UNION ALL SELECT * FROM archived_versions;

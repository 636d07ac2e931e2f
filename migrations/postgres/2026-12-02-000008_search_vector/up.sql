-- The full-text vector of `search_text`, stored: an import computes the vectors of its rows
-- on a connection of its own while its one transaction writes the rows before them, so the
-- writing backend only files them in the index (computing them took it more time than the
-- rest of an insert). Every other write leaves the column NULL, or changes `search_text`
-- alone, and the trigger computes it.
-- The old index goes first, and the triggers rest for the update of this column alone (it
-- changes no version and no month's sums).
DROP INDEX incidents_search;
ALTER TABLE incidents ADD COLUMN search_vector tsvector;
ALTER TABLE incidents DISABLE TRIGGER USER;
UPDATE incidents SET search_vector = to_tsvector('english', search_text);
ALTER TABLE incidents ENABLE TRIGGER USER;
CREATE INDEX incidents_search ON incidents USING gin (search_vector);

CREATE FUNCTION incidents_search_vector() RETURNS trigger AS $$
BEGIN
    IF NEW.search_vector IS NULL
        OR (TG_OP = 'UPDATE' AND NEW.search_text IS DISTINCT FROM OLD.search_text
            AND NEW.search_vector IS NOT DISTINCT FROM OLD.search_vector) THEN
        NEW.search_vector := to_tsvector('english', NEW.search_text);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidents_search_vector BEFORE INSERT OR UPDATE OF search_text, search_vector
    ON incidents FOR EACH ROW EXECUTE FUNCTION incidents_search_vector();

-- "As of" a time, `q` reads the vector of each version: stored for current ones, computed
-- for archived ones (only when a query asks for it).
DROP VIEW incident_timeline;
CREATE OR REPLACE VIEW current_versions AS
SELECT id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, updated_at AS valid_from, NULL::timestamp AS valid_to, search_vector FROM incidents;
CREATE OR REPLACE VIEW archived_versions AS
SELECT id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, valid_from, valid_to, to_tsvector('english', search_text) AS search_vector FROM incident_versions WHERE valid_to IS NOT NULL;
CREATE VIEW incident_timeline AS
SELECT * FROM current_versions UNION ALL SELECT * FROM archived_versions;

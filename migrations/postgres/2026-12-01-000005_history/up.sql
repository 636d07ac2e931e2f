-- History: every incident keeps each of its earlier versions. The current version stays in
-- `incidents` (with who wrote it, why, and how); the moment a version is replaced or the
-- incident deleted, a trigger copies the version it replaces into `incident_versions`, in the
-- same transaction, with the time span in which it was current ([valid_from, valid_to)).
-- A deletion is a version of its own (change 'delete', valid_to NULL) that no "as of" query
-- answers. A first import writes nothing here: a row's first version is the row itself.
ALTER TABLE incidents ADD COLUMN change TEXT NOT NULL DEFAULT 'create';
ALTER TABLE incidents ADD COLUMN changed_by TEXT;
ALTER TABLE incidents ADD COLUMN change_reason TEXT;

-- Every incident has a stable public key, dataset + external_id: rows written without one get
-- a random one, in the column and in the served document (where serde writes the field first
-- after `dataset`, so its first occurrence is the incident's own).
UPDATE incidents SET document =
    substr(document, 1, strpos(document, '"external_id":null') - 1) || '"external_id":"' || gen_random_uuid()::text || '"'
    || substr(document, strpos(document, '"external_id":null') + 18)
WHERE external_id IS NULL AND strpos(document, '"external_id":null') > 0;
UPDATE incidents SET external_id = (document::json)->>'external_id' WHERE external_id IS NULL;

CREATE TABLE incident_versions (
    version_id BIGSERIAL PRIMARY KEY,
    id BIGINT NOT NULL,
    dataset TEXT NOT NULL,
    external_id TEXT,
    occurred_on DATE NOT NULL,
    occurred_until DATE,
    date_precision TEXT NOT NULL,
    event_type TEXT,
    sub_event_type TEXT,
    country_code TEXT,
    country TEXT,
    region TEXT,
    subregion TEXT,
    source_region TEXT,
    admin1 TEXT,
    admin2 TEXT,
    place TEXT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    geo_precision TEXT,
    killed_low INTEGER,
    killed_best INTEGER,
    killed_high INTEGER,
    injured_low INTEGER,
    injured_best INTEGER,
    injured_high INTEGER,
    search_text TEXT NOT NULL,
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    change TEXT NOT NULL,
    changed_by TEXT,
    change_reason TEXT,
    valid_from TIMESTAMP NOT NULL,
    valid_to TIMESTAMP
);
CREATE UNIQUE INDEX incident_versions_id_version ON incident_versions (id, version);
CREATE INDEX incident_versions_occurred_on ON incident_versions (occurred_on, id);
CREATE INDEX incident_versions_country_occurred_on ON incident_versions (country_code, occurred_on, id);
CREATE INDEX incident_versions_valid_to ON incident_versions (valid_to);

-- The perpetrators of each archived version, for the perpetrator filter "as of" a time.
CREATE TABLE version_perpetrators (
    id BIGSERIAL PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES incident_versions (version_id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    claim TEXT NOT NULL
);
CREATE INDEX version_perpetrators_version ON version_perpetrators (version_id);
CREATE INDEX version_perpetrators_name ON version_perpetrators (lower(name), version_id);

-- Every version with the span in which it was current: what an "as of" query reads (the
-- server names it `incidents` for the length of such a query, so every filter, sort and
-- aggregate runs on it unchanged).
CREATE VIEW incident_timeline AS
SELECT id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, updated_at AS valid_from, NULL AS valid_to FROM incidents
UNION ALL
SELECT id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, valid_from, valid_to FROM incident_versions WHERE valid_to IS NOT NULL;

CREATE VIEW perpetrator_timeline AS
SELECT p.id, p.incident_id, p.position, p.name, p.claim, i.updated_at AS valid_from, NULL AS valid_to
FROM incident_perpetrators p JOIN incidents i ON i.id = p.incident_id
UNION ALL
SELECT p.id, v.id AS incident_id, p.position, p.name, p.claim, v.valid_from, v.valid_to
FROM version_perpetrators p JOIN incident_versions v ON v.version_id = p.version_id;

-- Named, frozen points in time.
CREATE TABLE releases (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT,
    as_of TIMESTAMP NOT NULL,
    incidents BIGINT NOT NULL,
    checksum TEXT NOT NULL,
    created_by TEXT NOT NULL
);

-- A new version (the version number changes): archive the one it replaces, perpetrators too
-- (the writer replaces them after this statement). A deletion: the server first writes the
-- deletion as the row's last version (who, why, when), then deletes the row, which is kept
-- as that version, with no end.
CREATE FUNCTION incident_versions_archive() RETURNS trigger AS $$
DECLARE
    archived BIGINT;
BEGIN
    INSERT INTO incident_versions (id, dataset, external_id, occurred_on, occurred_until, date_precision, event_type, sub_event_type, country_code, country, region, subregion, source_region, admin1, admin2, place, latitude, longitude, geo_precision, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high, search_text, document, version, created_at, updated_at, change, changed_by, change_reason, valid_from, valid_to)
    VALUES (OLD.id, OLD.dataset, OLD.external_id, OLD.occurred_on, OLD.occurred_until, OLD.date_precision, OLD.event_type, OLD.sub_event_type, OLD.country_code, OLD.country, OLD.region, OLD.subregion, OLD.source_region, OLD.admin1, OLD.admin2, OLD.place, OLD.latitude, OLD.longitude, OLD.geo_precision, OLD.killed_low, OLD.killed_best, OLD.killed_high, OLD.injured_low, OLD.injured_best, OLD.injured_high, OLD.search_text, OLD.document, OLD.version, OLD.created_at, OLD.updated_at, OLD.change, OLD.changed_by, OLD.change_reason, OLD.updated_at, CASE WHEN TG_OP = 'UPDATE' THEN NEW.updated_at END)
    RETURNING version_id INTO archived;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO version_perpetrators (version_id, position, name, claim)
        SELECT archived, position, name, claim FROM incident_perpetrators WHERE incident_id = OLD.id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER incident_versions_archive AFTER UPDATE OF version ON incidents
    FOR EACH ROW WHEN (OLD.version <> NEW.version) EXECUTE FUNCTION incident_versions_archive();
CREATE TRIGGER incident_versions_delete AFTER DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incident_versions_archive();

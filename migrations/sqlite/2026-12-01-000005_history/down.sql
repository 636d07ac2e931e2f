DROP TRIGGER incident_versions_archive;
DROP TRIGGER incident_versions_delete;

DROP TABLE releases;
DROP VIEW perpetrator_timeline;
DROP VIEW incident_timeline;
DROP TABLE version_perpetrators;
DROP TABLE incident_versions;
ALTER TABLE incidents DROP COLUMN change_reason;
ALTER TABLE incidents DROP COLUMN changed_by;
ALTER TABLE incidents DROP COLUMN change;

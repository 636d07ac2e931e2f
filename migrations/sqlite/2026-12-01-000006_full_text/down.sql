DROP TRIGGER incident_version_search_insert;
DROP TABLE incident_version_search;
DROP TRIGGER incident_search_update;
DROP TRIGGER incident_search_delete;
DROP TABLE incident_search;

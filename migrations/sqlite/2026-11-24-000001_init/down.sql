DROP TABLE api_keys;
DROP TABLE deleted_incidents;
DROP TABLE incident_perpetrators;
DROP TABLE incidents;

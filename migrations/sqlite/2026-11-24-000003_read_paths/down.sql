DROP TRIGGER incident_months_update;
DROP TRIGGER incident_months_delete;
DROP TRIGGER incident_months_insert;
DROP TABLE incident_months;
DROP INDEX incidents_occurred_on;
CREATE INDEX incidents_occurred_on ON incidents (occurred_on, id);
CREATE INDEX incidents_longitude_latitude ON incidents (longitude, latitude);

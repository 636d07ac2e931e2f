DROP TRIGGER incident_months_change ON incidents;
DROP FUNCTION incident_months_change();
DROP TABLE incident_months;
DROP INDEX incidents_occurred_on;
CREATE INDEX incidents_occurred_on ON incidents (occurred_on, id);
CREATE INDEX incidents_longitude_latitude ON incidents (longitude, latitude);

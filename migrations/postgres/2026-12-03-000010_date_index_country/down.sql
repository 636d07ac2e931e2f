DROP INDEX incidents_occurred_on;
CREATE INDEX incidents_occurred_on ON incidents (occurred_on, id, latitude, longitude);

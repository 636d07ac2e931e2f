CREATE TABLE incidents (
    id BIGSERIAL PRIMARY KEY,
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
    search_text TEXT NOT NULL DEFAULT '',
    -- The incident as served, less id, version and timestamps (see db/incidents.rs).
    document TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX incidents_dataset_external_id ON incidents (dataset, external_id);
CREATE INDEX incidents_occurred_on ON incidents (occurred_on, id);
CREATE INDEX incidents_country_occurred_on ON incidents (country_code, occurred_on, id);
CREATE INDEX incidents_longitude_latitude ON incidents (longitude, latitude);
CREATE INDEX incidents_updated_at ON incidents (updated_at, id);

CREATE TABLE incident_perpetrators (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    claim TEXT NOT NULL
);
CREATE INDEX incident_perpetrators_incident ON incident_perpetrators (incident_id);
CREATE INDEX incident_perpetrators_name ON incident_perpetrators (lower(name), incident_id);

CREATE TABLE deleted_incidents (
    id BIGINT PRIMARY KEY NOT NULL,
    dataset TEXT NOT NULL,
    external_id TEXT,
    deleted_at TIMESTAMP NOT NULL
);
CREATE INDEX deleted_incidents_deleted_at ON deleted_incidents (deleted_at);

CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

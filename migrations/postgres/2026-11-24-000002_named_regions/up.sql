-- A named region is its member countries; the display name is kept as last written and
-- matched case-insensitively through region_key = lower(region).
CREATE TABLE named_region_countries (
    region_key TEXT NOT NULL,
    region TEXT NOT NULL,
    country_code TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (region_key, country_code)
);
CREATE INDEX named_region_countries_country ON named_region_countries (country_code);

-- Full-text search for `q` (see src/query/search.rs): the server writes `search_text`
-- folded (ASCII, lower case, plain words); the English configuration stems them and leaves
-- stop words out. An expression index, kept by PostgreSQL in every write; "as of" a time the
-- same expression reads the versions' text.
CREATE INDEX incidents_search ON incidents USING gin (to_tsvector('english', search_text));

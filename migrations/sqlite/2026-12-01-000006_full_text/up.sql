-- Full-text search for `q` (see src/query/search.rs). FTS5 indexes `search_text`, which the
-- server writes folded (ASCII, lower case, plain words); `porter` stems the words. The index
-- is contentless (the text stays in `incidents` only) and keyed by the incident's day above
-- its id, `(julian day << 40) + id`, so the index returns matches newest or oldest first and
-- a page of a common word reads only that page. The server adds new incidents, a batch at a
-- time in key order (see `index_search` in src/db/incidents.rs: FTS5 starts a new segment
-- whenever a key goes down, so a trigger on an import's rows, in no date order, wrote one for
-- about every other row); the triggers below keep it in step with updates and deletions.
CREATE VIRTUAL TABLE incident_search USING fts5(
    search_text, content = '', contentless_delete = 1, tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO incident_search (rowid, search_text)
SELECT (CAST(julianday(occurred_on) + 0.5 AS INTEGER) << 40) + id, search_text FROM incidents
ORDER BY 1;

CREATE TRIGGER incident_search_delete AFTER DELETE ON incidents BEGIN
    DELETE FROM incident_search WHERE rowid = (CAST(julianday(OLD.occurred_on) + 0.5 AS INTEGER) << 40) + OLD.id;
END;
CREATE TRIGGER incident_search_update AFTER UPDATE OF occurred_on, search_text ON incidents
WHEN OLD.occurred_on <> NEW.occurred_on OR OLD.search_text <> NEW.search_text BEGIN
    DELETE FROM incident_search WHERE rowid = (CAST(julianday(OLD.occurred_on) + 0.5 AS INTEGER) << 40) + OLD.id;
    INSERT INTO incident_search (rowid, search_text)
    VALUES ((CAST(julianday(NEW.occurred_on) + 0.5 AS INTEGER) << 40) + NEW.id, NEW.search_text);
END;

-- The archived versions' text, keyed by `version_id`, so `q` "as of" a time matches each
-- version by its own words. Versions are only ever added.
CREATE VIRTUAL TABLE incident_version_search USING fts5(
    search_text, content = '', tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO incident_version_search (rowid, search_text)
SELECT version_id, search_text FROM incident_versions;

CREATE TRIGGER incident_version_search_insert AFTER INSERT ON incident_versions BEGIN
    INSERT INTO incident_version_search (rowid, search_text) VALUES (NEW.version_id, NEW.search_text);
END;

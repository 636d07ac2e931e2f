-- An import writes in one transaction, chunk after chunk, and each chunk used to update the
-- sums of the months it touched at once: the same rows, again and again, in a transaction
-- that can prune none of their old versions, so every chunk walked longer chains of them
-- (quadratic: a 10M-row import fell from 7,000 to 2,200 rows/s). A statement's signed sums now
-- go into `incident_month_changes` first; they are merged into `incident_months` at once,
-- unless the transaction set `incidentdb.defer_month_sums` to `on` and merges them itself
-- (`incident_months_merge()`) every so many chunks and before it commits.
DROP TRIGGER incident_months_update_new ON incidents;
DROP TRIGGER incident_months_update_old ON incidents;
DROP TRIGGER incident_months_delete ON incidents;
DROP TRIGGER incident_months_insert ON incidents;
DROP FUNCTION incident_months_subtract();
DROP FUNCTION incident_months_add();

-- Unlogged: its rows live no longer than the transaction that wrote them, which merges them
-- (a transaction sees no other's uncommitted rows, so each merges its own alone).
CREATE UNLOGGED TABLE incident_month_changes (LIKE incident_months);

-- PL/pgSQL rather than SQL: it keeps its plan between calls (every write calls it).
CREATE FUNCTION incident_months_merge() RETURNS void AS $$
BEGIN
    WITH changes AS (DELETE FROM incident_month_changes RETURNING *)
    INSERT INTO incident_months
        SELECT month, country_code, MAX(region), MAX(subregion), SUM(incidents),
               SUM(killed_low_sum), SUM(killed_low_known),
               SUM(killed_best_sum), SUM(killed_best_known),
               SUM(killed_high_sum), SUM(killed_high_known),
               SUM(injured_low_sum), SUM(injured_low_known),
               SUM(injured_best_sum), SUM(injured_best_known),
               SUM(injured_high_sum), SUM(injured_high_known)
        FROM changes GROUP BY month, country_code
    ON CONFLICT (month, country_code) DO UPDATE SET
            incidents = incident_months.incidents + excluded.incidents,
            killed_low_sum = incident_months.killed_low_sum + excluded.killed_low_sum,
            killed_low_known = incident_months.killed_low_known + excluded.killed_low_known,
            killed_best_sum = incident_months.killed_best_sum + excluded.killed_best_sum,
            killed_best_known = incident_months.killed_best_known + excluded.killed_best_known,
            killed_high_sum = incident_months.killed_high_sum + excluded.killed_high_sum,
            killed_high_known = incident_months.killed_high_known + excluded.killed_high_known,
            injured_low_sum = incident_months.injured_low_sum + excluded.injured_low_sum,
            injured_low_known = incident_months.injured_low_known + excluded.injured_low_known,
            injured_best_sum = incident_months.injured_best_sum + excluded.injured_best_sum,
            injured_best_known = incident_months.injured_best_known + excluded.injured_best_known,
            injured_high_sum = incident_months.injured_high_sum + excluded.injured_high_sum,
            injured_high_known = incident_months.injured_high_known + excluded.injured_high_known;
END
$$ LANGUAGE plpgsql;

-- The rows a statement wrote (sign 1) or took away (sign -1), summed by month and country.
CREATE FUNCTION incident_months_change() RETURNS trigger AS $$
DECLARE
    sign bigint := TG_ARGV[0];
BEGIN
    INSERT INTO incident_month_changes
        SELECT to_char(occurred_on, 'YYYY-MM'), COALESCE(country_code, ''),
               MAX(region), MAX(subregion), sign * COUNT(*),
               sign * COALESCE(SUM(killed_low), 0), sign * COUNT(killed_low),
               sign * COALESCE(SUM(killed_best), 0), sign * COUNT(killed_best),
               sign * COALESCE(SUM(killed_high), 0), sign * COUNT(killed_high),
               sign * COALESCE(SUM(injured_low), 0), sign * COUNT(injured_low),
               sign * COALESCE(SUM(injured_best), 0), sign * COUNT(injured_best),
               sign * COALESCE(SUM(injured_high), 0), sign * COUNT(injured_high)
        FROM changed_rows GROUP BY 1, 2;
    IF current_setting('incidentdb.defer_month_sums', true) IS DISTINCT FROM 'on' THEN
        PERFORM incident_months_merge();
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER incident_months_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_months_change('1');
CREATE TRIGGER incident_months_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_months_change('-1');
-- An update takes its rows out of their old months and puts them into their new ones.
CREATE TRIGGER incident_months_update_old AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_months_change('-1');
CREATE TRIGGER incident_months_update_new AFTER UPDATE ON incidents
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_months_change('1');

DROP TRIGGER incident_months_update_new ON incidents;
DROP TRIGGER incident_months_update_old ON incidents;
DROP TRIGGER incident_months_delete ON incidents;
DROP TRIGGER incident_months_insert ON incidents;
DROP FUNCTION incident_months_change();
DROP FUNCTION incident_months_merge();
DROP TABLE incident_month_changes;

CREATE FUNCTION incident_months_add() RETURNS trigger AS $$
BEGIN
    INSERT INTO incident_months
        SELECT to_char(occurred_on, 'YYYY-MM') AS month,
               COALESCE(country_code, '') AS country_code,
               MAX(region) AS region,
               MAX(subregion) AS subregion,
               COUNT(*) AS incidents,
               COALESCE(SUM(killed_low), 0) AS killed_low_sum,
               COUNT(killed_low) AS killed_low_known,
               COALESCE(SUM(killed_best), 0) AS killed_best_sum,
               COUNT(killed_best) AS killed_best_known,
               COALESCE(SUM(killed_high), 0) AS killed_high_sum,
               COUNT(killed_high) AS killed_high_known,
               COALESCE(SUM(injured_low), 0) AS injured_low_sum,
               COUNT(injured_low) AS injured_low_known,
               COALESCE(SUM(injured_best), 0) AS injured_best_sum,
               COUNT(injured_best) AS injured_best_known,
               COALESCE(SUM(injured_high), 0) AS injured_high_sum,
               COUNT(injured_high) AS injured_high_known
        FROM new_rows GROUP BY 1, 2
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
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION incident_months_subtract() RETURNS trigger AS $$
BEGIN
    UPDATE incident_months m SET
            incidents = m.incidents - d.incidents,
            killed_low_sum = m.killed_low_sum - d.killed_low_sum,
            killed_low_known = m.killed_low_known - d.killed_low_known,
            killed_best_sum = m.killed_best_sum - d.killed_best_sum,
            killed_best_known = m.killed_best_known - d.killed_best_known,
            killed_high_sum = m.killed_high_sum - d.killed_high_sum,
            killed_high_known = m.killed_high_known - d.killed_high_known,
            injured_low_sum = m.injured_low_sum - d.injured_low_sum,
            injured_low_known = m.injured_low_known - d.injured_low_known,
            injured_best_sum = m.injured_best_sum - d.injured_best_sum,
            injured_best_known = m.injured_best_known - d.injured_best_known,
            injured_high_sum = m.injured_high_sum - d.injured_high_sum,
            injured_high_known = m.injured_high_known - d.injured_high_known
    FROM (SELECT to_char(occurred_on, 'YYYY-MM') AS month,
               COALESCE(country_code, '') AS country_code,
               MAX(region) AS region,
               MAX(subregion) AS subregion,
               COUNT(*) AS incidents,
               COALESCE(SUM(killed_low), 0) AS killed_low_sum,
               COUNT(killed_low) AS killed_low_known,
               COALESCE(SUM(killed_best), 0) AS killed_best_sum,
               COUNT(killed_best) AS killed_best_known,
               COALESCE(SUM(killed_high), 0) AS killed_high_sum,
               COUNT(killed_high) AS killed_high_known,
               COALESCE(SUM(injured_low), 0) AS injured_low_sum,
               COUNT(injured_low) AS injured_low_known,
               COALESCE(SUM(injured_best), 0) AS injured_best_sum,
               COUNT(injured_best) AS injured_best_known,
               COALESCE(SUM(injured_high), 0) AS injured_high_sum,
               COUNT(injured_high) AS injured_high_known
        FROM old_rows GROUP BY 1, 2) d
    WHERE m.month = d.month AND m.country_code = d.country_code;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER incident_months_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_months_add();
CREATE TRIGGER incident_months_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_months_subtract();
-- An update takes its rows out of their old months and puts them into their new ones.
CREATE TRIGGER incident_months_update_old AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_months_subtract();
CREATE TRIGGER incident_months_update_new AFTER UPDATE ON incidents
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_months_add();

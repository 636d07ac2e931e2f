-- Lists sorted by date scan this index newest first and test the coordinates in it, so the
-- newest 100 incidents of a box are found without sorting every incident in the box.
DROP INDEX incidents_longitude_latitude;
DROP INDEX incidents_occurred_on;
CREATE INDEX incidents_occurred_on ON incidents (occurred_on, id, latitude, longitude);

-- Stats over whole months by country and region read these sums (kept by triggers) instead of
-- every incident. `country_code` is '' for incidents without one; `*_known` counts the
-- incidents with that figure, so a sum over none stays unknown. Stored in key order (WITHOUT
-- ROWID), so a year of them is one contiguous read.
CREATE TABLE incident_months (
    month TEXT NOT NULL,
    country_code TEXT NOT NULL,
    region TEXT,
    subregion TEXT,
    incidents INTEGER NOT NULL,
    killed_low_sum INTEGER NOT NULL,
    killed_low_known INTEGER NOT NULL,
    killed_best_sum INTEGER NOT NULL,
    killed_best_known INTEGER NOT NULL,
    killed_high_sum INTEGER NOT NULL,
    killed_high_known INTEGER NOT NULL,
    injured_low_sum INTEGER NOT NULL,
    injured_low_known INTEGER NOT NULL,
    injured_best_sum INTEGER NOT NULL,
    injured_best_known INTEGER NOT NULL,
    injured_high_sum INTEGER NOT NULL,
    injured_high_known INTEGER NOT NULL,
    PRIMARY KEY (month, country_code)
) WITHOUT ROWID;

INSERT INTO incident_months
SELECT substr(occurred_on, 1, 7), COALESCE(country_code, ''), MAX(region), MAX(subregion), COUNT(*), COALESCE(SUM(killed_low), 0), COUNT(killed_low), COALESCE(SUM(killed_best), 0), COUNT(killed_best), COALESCE(SUM(killed_high), 0), COUNT(killed_high), COALESCE(SUM(injured_low), 0), COUNT(injured_low), COALESCE(SUM(injured_best), 0), COUNT(injured_best), COALESCE(SUM(injured_high), 0), COUNT(injured_high)
FROM incidents GROUP BY 1, 2;

CREATE TRIGGER incident_months_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO incident_months VALUES (substr(NEW.occurred_on, 1, 7), COALESCE(NEW.country_code, ''), NEW.region, NEW.subregion, 1, COALESCE(NEW.killed_low, 0), (NEW.killed_low IS NOT NULL), COALESCE(NEW.killed_best, 0), (NEW.killed_best IS NOT NULL), COALESCE(NEW.killed_high, 0), (NEW.killed_high IS NOT NULL), COALESCE(NEW.injured_low, 0), (NEW.injured_low IS NOT NULL), COALESCE(NEW.injured_best, 0), (NEW.injured_best IS NOT NULL), COALESCE(NEW.injured_high, 0), (NEW.injured_high IS NOT NULL))
    ON CONFLICT (month, country_code) DO UPDATE SET
        incidents = incidents + 1,
        killed_low_sum = killed_low_sum + excluded.killed_low_sum,
        killed_low_known = killed_low_known + excluded.killed_low_known,
        killed_best_sum = killed_best_sum + excluded.killed_best_sum,
        killed_best_known = killed_best_known + excluded.killed_best_known,
        killed_high_sum = killed_high_sum + excluded.killed_high_sum,
        killed_high_known = killed_high_known + excluded.killed_high_known,
        injured_low_sum = injured_low_sum + excluded.injured_low_sum,
        injured_low_known = injured_low_known + excluded.injured_low_known,
        injured_best_sum = injured_best_sum + excluded.injured_best_sum,
        injured_best_known = injured_best_known + excluded.injured_best_known,
        injured_high_sum = injured_high_sum + excluded.injured_high_sum,
        injured_high_known = injured_high_known + excluded.injured_high_known;
END;

CREATE TRIGGER incident_months_delete AFTER DELETE ON incidents BEGIN
    UPDATE incident_months SET
        incidents = incidents - 1,
        killed_low_sum = killed_low_sum - COALESCE(OLD.killed_low, 0),
        killed_low_known = killed_low_known - (OLD.killed_low IS NOT NULL),
        killed_best_sum = killed_best_sum - COALESCE(OLD.killed_best, 0),
        killed_best_known = killed_best_known - (OLD.killed_best IS NOT NULL),
        killed_high_sum = killed_high_sum - COALESCE(OLD.killed_high, 0),
        killed_high_known = killed_high_known - (OLD.killed_high IS NOT NULL),
        injured_low_sum = injured_low_sum - COALESCE(OLD.injured_low, 0),
        injured_low_known = injured_low_known - (OLD.injured_low IS NOT NULL),
        injured_best_sum = injured_best_sum - COALESCE(OLD.injured_best, 0),
        injured_best_known = injured_best_known - (OLD.injured_best IS NOT NULL),
        injured_high_sum = injured_high_sum - COALESCE(OLD.injured_high, 0),
        injured_high_known = injured_high_known - (OLD.injured_high IS NOT NULL)
    WHERE month = substr(OLD.occurred_on, 1, 7) AND country_code = COALESCE(OLD.country_code, '');
END;

CREATE TRIGGER incident_months_update AFTER UPDATE OF occurred_on, country_code, region, subregion, killed_low, killed_best, killed_high, injured_low, injured_best, injured_high ON incidents BEGIN
    UPDATE incident_months SET
        incidents = incidents - 1,
        killed_low_sum = killed_low_sum - COALESCE(OLD.killed_low, 0),
        killed_low_known = killed_low_known - (OLD.killed_low IS NOT NULL),
        killed_best_sum = killed_best_sum - COALESCE(OLD.killed_best, 0),
        killed_best_known = killed_best_known - (OLD.killed_best IS NOT NULL),
        killed_high_sum = killed_high_sum - COALESCE(OLD.killed_high, 0),
        killed_high_known = killed_high_known - (OLD.killed_high IS NOT NULL),
        injured_low_sum = injured_low_sum - COALESCE(OLD.injured_low, 0),
        injured_low_known = injured_low_known - (OLD.injured_low IS NOT NULL),
        injured_best_sum = injured_best_sum - COALESCE(OLD.injured_best, 0),
        injured_best_known = injured_best_known - (OLD.injured_best IS NOT NULL),
        injured_high_sum = injured_high_sum - COALESCE(OLD.injured_high, 0),
        injured_high_known = injured_high_known - (OLD.injured_high IS NOT NULL)
    WHERE month = substr(OLD.occurred_on, 1, 7) AND country_code = COALESCE(OLD.country_code, '');
    INSERT INTO incident_months VALUES (substr(NEW.occurred_on, 1, 7), COALESCE(NEW.country_code, ''), NEW.region, NEW.subregion, 1, COALESCE(NEW.killed_low, 0), (NEW.killed_low IS NOT NULL), COALESCE(NEW.killed_best, 0), (NEW.killed_best IS NOT NULL), COALESCE(NEW.killed_high, 0), (NEW.killed_high IS NOT NULL), COALESCE(NEW.injured_low, 0), (NEW.injured_low IS NOT NULL), COALESCE(NEW.injured_best, 0), (NEW.injured_best IS NOT NULL), COALESCE(NEW.injured_high, 0), (NEW.injured_high IS NOT NULL))
    ON CONFLICT (month, country_code) DO UPDATE SET
        incidents = incidents + 1,
        killed_low_sum = killed_low_sum + excluded.killed_low_sum,
        killed_low_known = killed_low_known + excluded.killed_low_known,
        killed_best_sum = killed_best_sum + excluded.killed_best_sum,
        killed_best_known = killed_best_known + excluded.killed_best_known,
        killed_high_sum = killed_high_sum + excluded.killed_high_sum,
        killed_high_known = killed_high_known + excluded.killed_high_known,
        injured_low_sum = injured_low_sum + excluded.injured_low_sum,
        injured_low_known = injured_low_known + excluded.injured_low_known,
        injured_best_sum = injured_best_sum + excluded.injured_best_sum,
        injured_best_known = injured_best_known + excluded.injured_best_known,
        injured_high_sum = injured_high_sum + excluded.injured_high_sum,
        injured_high_known = injured_high_known + excluded.injured_high_known;
END;

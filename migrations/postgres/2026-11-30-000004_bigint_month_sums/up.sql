-- Sums and counts per month in 64 bits: a month's casualties can pass 2^31 (each figure is
-- at most 10,000,000, and a month may hold thousands of incidents).
ALTER TABLE incident_months
    ALTER COLUMN incidents TYPE BIGINT,
    ALTER COLUMN killed_low_sum TYPE BIGINT,
    ALTER COLUMN killed_low_known TYPE BIGINT,
    ALTER COLUMN killed_best_sum TYPE BIGINT,
    ALTER COLUMN killed_best_known TYPE BIGINT,
    ALTER COLUMN killed_high_sum TYPE BIGINT,
    ALTER COLUMN killed_high_known TYPE BIGINT,
    ALTER COLUMN injured_low_sum TYPE BIGINT,
    ALTER COLUMN injured_low_known TYPE BIGINT,
    ALTER COLUMN injured_best_sum TYPE BIGINT,
    ALTER COLUMN injured_best_known TYPE BIGINT,
    ALTER COLUMN injured_high_sum TYPE BIGINT,
    ALTER COLUMN injured_high_known TYPE BIGINT;

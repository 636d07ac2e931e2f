ALTER TABLE incident_months
    ALTER COLUMN incidents TYPE INTEGER,
    ALTER COLUMN killed_low_sum TYPE INTEGER,
    ALTER COLUMN killed_low_known TYPE INTEGER,
    ALTER COLUMN killed_best_sum TYPE INTEGER,
    ALTER COLUMN killed_best_known TYPE INTEGER,
    ALTER COLUMN killed_high_sum TYPE INTEGER,
    ALTER COLUMN killed_high_known TYPE INTEGER,
    ALTER COLUMN injured_low_sum TYPE INTEGER,
    ALTER COLUMN injured_low_known TYPE INTEGER,
    ALTER COLUMN injured_best_sum TYPE INTEGER,
    ALTER COLUMN injured_best_known TYPE INTEGER,
    ALTER COLUMN injured_high_sum TYPE INTEGER,
    ALTER COLUMN injured_high_known TYPE INTEGER;

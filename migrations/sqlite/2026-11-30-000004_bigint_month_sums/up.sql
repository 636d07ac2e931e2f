-- SQLite's INTEGER is already 64 bits: the month sums need no change here (the PostgreSQL
-- migration of the same name widens them there).
SELECT 1;

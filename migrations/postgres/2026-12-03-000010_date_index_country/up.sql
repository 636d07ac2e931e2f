-- The date index carries each incident's country: a list over a few countries sorted by date
-- (a region over a month) reads the date range newest first and keeps the rows of those
-- countries until the page is full, from the index alone, instead of gathering every match of
-- each country from the country index and sorting them; the first grows with the page, the
-- second with the month. The planner still takes the country index where the countries are
-- rare among the dates.
DROP INDEX incidents_occurred_on;
CREATE INDEX incidents_occurred_on ON incidents (occurred_on, id, latitude, longitude)
    INCLUDE (country_code);

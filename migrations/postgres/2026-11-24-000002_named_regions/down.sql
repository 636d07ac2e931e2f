DROP TABLE named_region_countries;

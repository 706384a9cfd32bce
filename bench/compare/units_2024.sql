-- The plain tables PostGraphile 4 and 5 serve in bench/compare.sh: the provinces, districts and
-- communes of this API's admin_unit table (same database) that are valid on 2024-06-01, with
-- their ids, codes, names and the API's sort key (so both can list in the API's order).
-- Tables, not views: PostGraphile infers the relations from the foreign keys and reads a
-- snapshot with no dates to filter (this API filters the 15,440 versions of all lists by date
-- on every request, which is part of what it is measured on).
DROP SCHEMA IF EXISTS units_2024 CASCADE;
CREATE SCHEMA units_2024;

CREATE TABLE units_2024.province AS
  SELECT id, code, name, sort_key FROM public.admin_unit
  WHERE level = 'PROVINCE'
    AND (valid_from IS NULL OR valid_from <= DATE '2024-06-01')
    AND (valid_to IS NULL OR valid_to >= DATE '2024-06-01');
CREATE TABLE units_2024.district AS
  SELECT id, parent_id AS province_id, code, name, sort_key FROM public.admin_unit
  WHERE level = 'DISTRICT'
    AND (valid_from IS NULL OR valid_from <= DATE '2024-06-01')
    AND (valid_to IS NULL OR valid_to >= DATE '2024-06-01');
CREATE TABLE units_2024.commune AS
  SELECT id, parent_id AS district_id, code, name, sort_key FROM public.admin_unit
  WHERE level = 'COMMUNE'
    AND (valid_from IS NULL OR valid_from <= DATE '2024-06-01')
    AND (valid_to IS NULL OR valid_to >= DATE '2024-06-01');

ALTER TABLE units_2024.province ADD PRIMARY KEY (id), ADD UNIQUE (code),
  ALTER COLUMN code SET NOT NULL, ALTER COLUMN name SET NOT NULL, ALTER COLUMN sort_key SET NOT NULL;
ALTER TABLE units_2024.district ADD PRIMARY KEY (id), ADD UNIQUE (code),
  ALTER COLUMN province_id SET NOT NULL, ALTER COLUMN code SET NOT NULL,
  ALTER COLUMN name SET NOT NULL, ALTER COLUMN sort_key SET NOT NULL,
  ADD FOREIGN KEY (province_id) REFERENCES units_2024.province (id);
ALTER TABLE units_2024.commune ADD PRIMARY KEY (id), ADD UNIQUE (code),
  ALTER COLUMN district_id SET NOT NULL, ALTER COLUMN code SET NOT NULL,
  ALTER COLUMN name SET NOT NULL, ALTER COLUMN sort_key SET NOT NULL,
  ADD FOREIGN KEY (district_id) REFERENCES units_2024.district (id);
-- The foreign keys' indexes, in the API's order (sort key, then id).
CREATE INDEX ON units_2024.district (province_id, sort_key, id);
CREATE INDEX ON units_2024.commune (district_id, sort_key, id);
ANALYZE units_2024.province;
ANALYZE units_2024.district;
ANALYZE units_2024.commune;

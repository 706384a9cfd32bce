-- What PostGraphile 4 and 5 serve for Q3, Q4 and Q5 in bench/compare.sh, after
-- bench/compare/units_2024.sql (the values' communes are units_2024.commune) and the seeding
-- (seed_plans.sql, load_values.sql). As for units_2024: plain tables copied from this API's
-- tables in the same database, with the primary and foreign keys PostGraphile infers its
-- relations from, and indexes for the conditions and orders the queries use. The copies are
-- snapshots: the readable plans only, the province and the year of each row written into it,
-- "overdue" judged once (today in Vietnam) when the copy is made. PostGraphile has the easier
-- job in the database: this API resolves the unit scope, the visibility of plans and values,
-- and the day, on every request.
--
-- Q5 is a SQL function, plans_bench.assignment_summary(unit_code), over this API's own tables
-- (public.admin_unit, public.plan, public.assignment), not over the copies: the same scope
-- (every version of the code and the units below them, three levels), the same visibility of
-- plans for an anonymous caller (PUBLIC and ISSUED, SUPERSEDED or REFERENCED), the same counts
-- by status, overdue and due within 30 days, per issuing unit. PostGraphile exposes a STABLE
-- function returning SETOF a composite type as a query field with a connection.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS plans_bench CASCADE;
DROP SCHEMA IF EXISTS values_bench CASCADE;
CREATE SCHEMA plans_bench;
CREATE SCHEMA values_bench;

-- The province of every unit version (itself for a province), for the copies below.
CREATE TEMP TABLE pg_unit_province AS
  SELECT u.id AS unit_id,
         CASE WHEN u.level = 'PROVINCE' THEN u.code WHEN p.level = 'PROVINCE' THEN p.code
              ELSE g.code END AS province_code
  FROM public.admin_unit u
  LEFT JOIN public.admin_unit p ON p.id = u.parent_id
  LEFT JOIN public.admin_unit g ON g.id = p.parent_id;

-- ---- Q4: plans, tasks, agencies ---------------------------------------------------------
CREATE TABLE plans_bench.agency AS
  SELECT a.id, a.name, a.admin_unit_id AS unit_id FROM public.agency a;
CREATE TABLE plans_bench.plan AS
  SELECT p.id, up.province_code, p.period_from AS year, p.number, p.title, p.issued_on,
         p.admin_unit_id AS unit_id
  FROM public.plan p JOIN pg_unit_province up ON up.unit_id = p.admin_unit_id
  WHERE p.visibility = 'PUBLIC' AND p.status IN ('ISSUED', 'SUPERSEDED', 'REFERENCED');
CREATE TABLE plans_bench.assignment AS
  SELECT a.id, a.plan_id, a.position, a.ordinal, a.title, a.due_on, a.status, a.lead_agency_id,
         (a.due_on < (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
          AND a.status NOT IN ('DONE', 'CANCELLED')) AS overdue
  FROM public.assignment a JOIN plans_bench.plan p ON p.id = a.plan_id;
ALTER TABLE plans_bench.agency ADD PRIMARY KEY (id), ALTER COLUMN name SET NOT NULL;
ALTER TABLE plans_bench.plan ADD PRIMARY KEY (id), ALTER COLUMN province_code SET NOT NULL,
  ALTER COLUMN title SET NOT NULL;
ALTER TABLE plans_bench.assignment ADD PRIMARY KEY (id), ALTER COLUMN plan_id SET NOT NULL,
  ALTER COLUMN position SET NOT NULL, ALTER COLUMN title SET NOT NULL,
  ALTER COLUMN status SET NOT NULL, ALTER COLUMN lead_agency_id SET NOT NULL,
  ALTER COLUMN overdue SET NOT NULL,
  ADD FOREIGN KEY (plan_id) REFERENCES plans_bench.plan (id),
  ADD FOREIGN KEY (lead_agency_id) REFERENCES plans_bench.agency (id);
-- The API's orders: plans newest issue first, then by id; tasks by position, id.
CREATE INDEX ON plans_bench.plan (province_code, year, issued_on DESC, id);
CREATE INDEX ON plans_bench.plan (issued_on DESC, id);
CREATE INDEX ON plans_bench.assignment (plan_id, overdue, position, id);
CREATE INDEX ON plans_bench.assignment (plan_id, position, id);
CREATE INDEX ON plans_bench.assignment (lead_agency_id);
CREATE INDEX ON plans_bench.assignment (overdue);

-- ---- Q5: the summary as a function over the API's tables ---------------------------------
CREATE TYPE plans_bench.assignment_count AS (
  unit_code text, unit_name text, total int, not_started int, in_progress int, done int,
  cancelled int, overdue int, due_in_30_days int);
CREATE FUNCTION plans_bench.assignment_summary(unit_code text)
RETURNS SETOF plans_bench.assignment_count LANGUAGE sql STABLE AS $$
  WITH RECURSIVE scope(id, depth) AS (
    SELECT u.id, 0 FROM public.admin_unit u WHERE u.code = unit_code
    UNION
    SELECT c.id, s.depth + 1 FROM public.admin_unit c JOIN scope s ON c.parent_id = s.id
    WHERE s.depth < 3
  ), today AS (SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS d)
  SELECT u.code::text, u.name::text, count(*)::int,
         count(*) FILTER (WHERE a.status = 'NOT_STARTED')::int,
         count(*) FILTER (WHERE a.status = 'IN_PROGRESS')::int,
         count(*) FILTER (WHERE a.status = 'DONE')::int,
         count(*) FILTER (WHERE a.status = 'CANCELLED')::int,
         count(*) FILTER (WHERE a.status NOT IN ('DONE', 'CANCELLED') AND a.due_on < t.d)::int,
         count(*) FILTER (WHERE a.status NOT IN ('DONE', 'CANCELLED')
                          AND a.due_on >= t.d AND a.due_on <= t.d + 30)::int
  FROM public.plan p
  JOIN public.assignment a ON a.plan_id = p.id
  JOIN public.admin_unit u ON u.id = p.admin_unit_id
  CROSS JOIN today t
  WHERE p.admin_unit_id IN (SELECT id FROM scope)
    AND p.visibility = 'PUBLIC' AND p.status IN ('ISSUED', 'SUPERSEDED', 'REFERENCED')
  GROUP BY u.id, u.code, u.name
  ORDER BY count(*) DESC, u.id
$$;

-- ---- Q3: published values of the 2024 communes, 2021–2024 --------------------------------
CREATE TABLE values_bench.indicator AS
  SELECT i.id, i.code::text AS code, i.name FROM public.indicator i;
CREATE TABLE values_bench.indicator_value AS
  SELECT v.id, v.indicator_id, v.admin_unit_id AS commune_id, up.province_code,
         left(v.period, 4)::int AS year, v.period::text AS period,
         v.disaggregation::text AS disaggregation, v.value::numeric AS value
  FROM public.indicator_value v
  JOIN units_2024.commune c ON c.id = v.admin_unit_id
  JOIN pg_unit_province up ON up.unit_id = v.admin_unit_id
  WHERE v.status = 'PUBLISHED' AND NOT v.deleted;
ALTER TABLE values_bench.indicator ADD PRIMARY KEY (id), ADD UNIQUE (code),
  ALTER COLUMN code SET NOT NULL;
ALTER TABLE values_bench.indicator_value ADD PRIMARY KEY (id),
  ALTER COLUMN indicator_id SET NOT NULL, ALTER COLUMN commune_id SET NOT NULL,
  ALTER COLUMN province_code SET NOT NULL, ALTER COLUMN year SET NOT NULL,
  ALTER COLUMN period SET NOT NULL,
  ADD FOREIGN KEY (indicator_id) REFERENCES values_bench.indicator (id),
  ADD FOREIGN KEY (commune_id) REFERENCES units_2024.commune (id);
CREATE INDEX ON values_bench.indicator_value (province_code, year, id);
CREATE INDEX ON values_bench.indicator_value (indicator_id);
CREATE INDEX ON values_bench.indicator_value (commune_id);

ANALYZE plans_bench.agency;
ANALYZE plans_bench.plan;
ANALYZE plans_bench.assignment;
ANALYZE values_bench.indicator;
ANALYZE values_bench.indicator_value;
SELECT 'PostGraphile copies: ' || (SELECT count(*) FROM plans_bench.plan) || ' plans, '
  || (SELECT count(*) FROM plans_bench.assignment) || ' tasks ('
  || (SELECT count(*) FROM plans_bench.assignment WHERE overdue) || ' overdue), '
  || (SELECT count(*) FROM plans_bench.agency) || ' agencies, '
  || (SELECT count(*) FROM values_bench.indicator_value) || ' values' \g

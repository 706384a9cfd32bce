-- Indicator values for bench/compare.sh (Q3), loaded by SQL: bench/gen_values.py's CSV is read
-- from psql's standard input into a staging table, then INSERT … SELECT into indicator_value
-- with each unit code resolved to the unit version valid at the period's end (as the API's own
-- import resolves it), its province from unit_province (as the API's writes copy it), and each
-- indicator code to its id; every value PUBLISHED (an anonymous
-- caller reads it). The API's CSV import is being rewritten, so it is not what loads them here.
-- Usage: psql URL -v ON_ERROR_STOP=1 -f bench/compare/load_values.sql < values.csv
-- (after the catalogue SQL of gen_values.py --catalogue).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP TABLE IF EXISTS seed_value_csv;
CREATE UNLOGGED TABLE seed_value_csv (
  indicator text, unit text, period text, disaggregation text, value numeric);
\echo '  values: reading the CSV'
\copy seed_value_csv FROM pstdin WITH (FORMAT csv, HEADER true)
\echo '  values: resolving codes and inserting'
INSERT INTO indicator_value (indicator_id, admin_unit_id, period, disaggregation, value, comment,
                             status, stored_by_user_id, stored_by, version, deleted, created_at,
                             updated_at, status_reason, province_code)
SELECT i.id, u.id, s.period, s.disaggregation, s.value, NULL, 'PUBLISHED', NULL, 'bench', 1, false,
       TIMESTAMPTZ '2026-01-01 00:00:00+00', TIMESTAMPTZ '2026-01-01 00:00:00+00', NULL,
       up.province_code
FROM (
  SELECT v.*, CASE
      WHEN length(v.period) = 4 THEN make_date(left(v.period, 4)::int, 12, 31)
      WHEN v.period LIKE '____Q_' THEN
        (make_date(left(v.period, 4)::int, right(v.period, 1)::int * 3, 1) + interval '1 month - 1 day')::date
      ELSE (make_date(left(v.period, 4)::int, right(v.period, 2)::int, 1) + interval '1 month - 1 day')::date
    END AS period_end, row_number() OVER () AS line
  FROM seed_value_csv v
) s
JOIN indicator i ON i.code = s.indicator
JOIN admin_unit u ON u.code = s.unit
  AND (u.valid_from IS NULL OR u.valid_from <= s.period_end)
  AND (u.valid_to IS NULL OR u.valid_to >= s.period_end)
LEFT JOIN unit_province up ON up.unit_id = u.id
ORDER BY s.line;
SELECT '  values: ' || (SELECT count(*) FROM seed_value_csv) || ' rows read, '
  || (SELECT count(*) FROM indicator_value) || ' in indicator_value' \g
DROP TABLE seed_value_csv;
ANALYZE indicator_value;

-- Q1 { province(code: "79", asOf: "2024-06-01") { code name } } as the bare SQL this API sends for
-- it with no cache: one statement, captured with log_statement=all (bench/compare.sh prints it).
-- The API binds the values as parameters; here they are literals (pgbench -M prepared).
SELECT "admin_unit"."id", "admin_unit"."code", "admin_unit"."name", "admin_unit"."kind", "admin_unit"."level", "admin_unit"."parent_id", "admin_unit"."valid_from", "admin_unit"."valid_to", "admin_unit"."search_key", "admin_unit"."sort_key", "admin_unit"."created_at"
  FROM "admin_unit" WHERE "admin_unit"."code" = '79' AND ("admin_unit"."valid_from" IS NULL OR "admin_unit"."valid_from" <= '2024-06-01') AND ("admin_unit"."valid_to" IS NULL OR "admin_unit"."valid_to" >= '2024-06-01')
  AND "admin_unit"."level" = 'PROVINCE' LIMIT 1;

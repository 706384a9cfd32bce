-- Q2 { province(code: "79", asOf: "2024-06-01") { code name districts { code name communes { code
-- name } } } } as the bare SQL this API sends for it with no cache: three statements, captured with
-- log_statement=all (bench/compare.sh prints them). The API binds the values as parameters; here
-- the province's id goes from the first statement to the second through \gset, as the API reads
-- it, and compare.sh writes this database's 22 district ids for 79 in place of @DISTRICT_IDS@
-- (the API has them from the second statement). pgbench -M prepared.
SELECT "admin_unit"."id", "admin_unit"."code", "admin_unit"."name", "admin_unit"."kind", "admin_unit"."level", "admin_unit"."parent_id", "admin_unit"."valid_from", "admin_unit"."valid_to", "admin_unit"."search_key", "admin_unit"."sort_key", "admin_unit"."created_at"
  FROM "admin_unit" WHERE "admin_unit"."code" = '79' AND ("admin_unit"."valid_from" IS NULL OR "admin_unit"."valid_from" <= '2024-06-01') AND ("admin_unit"."valid_to" IS NULL OR "admin_unit"."valid_to" >= '2024-06-01')
  AND "admin_unit"."level" = 'PROVINCE' LIMIT 1 \gset p_
SELECT "admin_unit"."id", "admin_unit"."code", "admin_unit"."name", "admin_unit"."kind", "admin_unit"."level", "admin_unit"."parent_id", "admin_unit"."valid_from", "admin_unit"."valid_to", "admin_unit"."search_key", "admin_unit"."sort_key", "admin_unit"."created_at"
  FROM "admin_unit" WHERE "admin_unit"."parent_id" IN (:p_id) AND ("admin_unit"."valid_from" IS NULL OR "admin_unit"."valid_from" <= '2024-06-01') AND ("admin_unit"."valid_to" IS NULL OR "admin_unit"."valid_to" >= '2024-06-01')
  ORDER BY "admin_unit"."sort_key" ASC, "admin_unit"."id" ASC;
SELECT "admin_unit"."id", "admin_unit"."code", "admin_unit"."name", "admin_unit"."kind", "admin_unit"."level", "admin_unit"."parent_id", "admin_unit"."valid_from", "admin_unit"."valid_to", "admin_unit"."search_key", "admin_unit"."sort_key", "admin_unit"."created_at"
  FROM "admin_unit" WHERE "admin_unit"."parent_id" IN (@DISTRICT_IDS@) AND ("admin_unit"."valid_from" IS NULL OR "admin_unit"."valid_from" <= '2024-06-01') AND ("admin_unit"."valid_to" IS NULL OR "admin_unit"."valid_to" >= '2024-06-01')
  ORDER BY "admin_unit"."sort_key" ASC, "admin_unit"."id" ASC;

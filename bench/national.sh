#!/usr/bin/env bash
# Reproduces the national figures from ../shared/data/admin-units and measures:
#  - the five imports into PostgreSQL (each timed; total printed): three lists, the merger wave
#    of 2024-2025 after the March 2025 list, and the official July 2025 mapping,
#  - the counts by level as of 2024-06-01 and 2025-08-01,
#  - the old communes left without a successor (the mapping's gaps, see SOURCE.md),
#  - searchAdminUnits latency through the HTTP API (bench/search_latency.py).
# Usage: bash bench/national.sh [POSTGRES_ADMIN_URL]   (default postgres://postgres@127.0.0.1:5432/postgres)
# Uses target/release/platform (built if missing). Loopback only; stops its server itself.
set -euo pipefail
cd "$(dirname "$0")/.."
ADMIN_URL="${1:-postgres://postgres@127.0.0.1:5432/postgres}"
DATA=../shared/data/admin-units
DB=bench_national
URL="${ADMIN_URL%/*}/$DB"
BIN=${CARGO_TARGET_DIR:-target}/release/platform
[ -x "$BIN" ] || cargo build --release --bin platform
psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="$URL" LOG_LEVEL=warn
"$BIN" migrate >/dev/null

ms() { date +%s%3N; }
total=0
run() {
  local start end
  start=$(ms)
  "$BIN" "$@" | tail -n 1
  end=$(ms)
  echo "  wall: $((end - start)) ms"
  total=$((total + end - start))
}
echo "== imports into PostgreSQL =="
run import admin-units "$DATA/vn-admin-units-2024.csv"
run import admin-units "$DATA/vn-admin-units-2025-pre-july.csv" --valid-from 2025-03-01
run import admin-unit-lineage "$DATA/vn-admin-units-2024-2025-mergers.csv"
run import admin-units "$DATA/vn-admin-units-2025.csv" --valid-from 2025-07-01
run import admin-unit-lineage "$DATA/vn-admin-units-2025-mapping.csv" --effective 2025-07-01
echo "five imports: $total ms in total (wall, including process start)"

echo "== counts =="
"$BIN" units count --as-of 2024-06-01
"$BIN" units count --as-of 2025-08-01
echo "== communes of the 2024 list with no successor valid on 2025-08-01 =="
psql "$URL" -Atc "WITH RECURSIVE walk(start, unit) AS (
    SELECT id, id FROM admin_unit WHERE level = 'COMMUNE'
      AND (valid_from IS NULL OR valid_from <= '2024-06-01') AND (valid_to IS NULL OR valid_to >= '2024-06-01')
    UNION SELECT w.start, l.successor_id FROM walk w JOIN admin_unit_lineage l ON l.predecessor_id = w.unit)
  SELECT count(*) || ': ' || coalesce(string_agg(code || ' ' || name, ', ' ORDER BY code), '') FROM admin_unit s
  WHERE s.id IN (SELECT start FROM walk GROUP BY start HAVING NOT bool_or(unit IN (
    SELECT id FROM admin_unit WHERE (valid_from IS NULL OR valid_from <= '2025-08-01')
      AND (valid_to IS NULL OR valid_to >= '2025-08-01'))))"
echo "== lineage links by evidence =="
psql "$URL" -Atc "SELECT coalesce(evidence, '(none)') || ': ' || count(*) FROM admin_unit_lineage GROUP BY evidence ORDER BY evidence"
echo "== old communes of 30 June 2025 without a successor (not in the mapping) =="
psql "$URL" -Atc "SELECT count(*) || ': ' || string_agg(code, ' ' ORDER BY code) FROM admin_unit u
  WHERE level = 'COMMUNE' AND valid_to = '2025-06-30'
  AND NOT EXISTS (SELECT 1 FROM admin_unit_lineage l WHERE l.predecessor_id = u.id)"

echo "== Scope(U) closure (unit_scope) =="
psql "$URL" -Atc "SELECT sum(n) || ' rows for ' || count(*) || ' units; largest scope: ' || max(n)
  FROM (SELECT scope_unit_id, count(*) AS n FROM unit_scope GROUP BY scope_unit_id) s"

echo "== searchAdminUnits through HTTP =="
PORT=18471
# The prod profile needs a signing key; a throwaway one for this loopback-only run.
JWT_SECRET="bench-only-$(head -c 24 /dev/urandom | base64)" \
BIND_ADDR=127.0.0.1:$PORT APP_PROFILE=prod "$BIN" serve >/tmp/bench-national-serve.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
python3 bench/search_latency.py "http://127.0.0.1:$PORT" "${ROUNDS:-100}"

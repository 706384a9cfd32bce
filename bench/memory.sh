#!/usr/bin/env bash
# The server's peak RSS over the five queries of bench/compare.sh, one after the other, with
# optional environment settings (the allocator's, say), against a database that already holds
# the national lists and the seeded plans and values (as bench/compare.sh builds it; KEEP_DB=1
# keeps its bench_compare, or: createdb, `platform migrate`, bench/national_lists.sh,
# bench/seed_bench.sh). For each query: one checked request, `wrk -t2 -c16 -d${SECS}s`, then the
# throughput and the process's VmHWM (peak) and VmRSS (now) from /proc.
# Usage: bash bench/memory.sh DATABASE_URL LABEL [NAME=VALUE ...]
#   env: CARGO_TARGET_DIR (release binary there), SECS (8), QS ("q1 q2 q3 q4 q5"), PORT (18499)
# Loopback only; the measured binary is the release build, prod profile, anonymous requests.
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${1:?usage: bench/memory.sh DATABASE_URL LABEL [NAME=VALUE ...]}
LABEL=${2:?usage: bench/memory.sh DATABASE_URL LABEL [NAME=VALUE ...]}
shift 2
BIN=${CARGO_TARGET_DIR:-target}/release/platform
PORT=${PORT:-18499}
TMP=$(mktemp -d /tmp/bench-memory.XXXXXX)
python3 - "$TMP" <<'PY'
import json, sys
Q = {
 "q1": '{ province(code: "79", asOf: "2024-06-01") { code name } }',
 "q2": '{ province(code: "79", asOf: "2024-06-01") { code name districts { code name communes { code name } } } }',
 "q3": '{ indicatorValues(filter: {unitCode: "79", includeDescendants: true, periodFrom: "2024", periodTo: "2024Q4"}, first: 100) { nodes { period value indicator { code } unit { code name } } } }',
 "q4": '{ plans(filter: {unitCode: "79", includeDescendants: true, year: 2024}, first: 50) { nodes { number assignments(filter: {overdue: true}, first: 100) { nodes { ordinal title dueOn status leadAgency { name } } } } } }',
 "q5": '{ assignmentSummary(unitCode: "79") { unit { code name } total byStatus { status count } overdue dueIn30Days perUnit { unit { code name } total byStatus { status count } overdue dueIn30Days } } }',
}
for k, q in Q.items():
    body = json.dumps({"query": q})
    open(f"{sys.argv[1]}/{k}.json", "w").write(body)
    open(f"{sys.argv[1]}/{k}.lua", "w").write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                                               'wrk.body = [==[%s]==]\n' % body)
PY
env "$@" DATABASE_URL="$URL" BIND_ADDR=127.0.0.1:$PORT APP_PROFILE=prod LOG_LEVEL=warn \
  JWT_SECRET="bench-only-$(head -c 24 /dev/urandom | base64)" "$BIN" serve >"$TMP/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 120); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.25; done
kib() { awk -v k="$1:" '$1 == k {printf "%.1f MiB", $2 / 1024}' "/proc/$PID/status"; }
for q in ${QS:-q1 q2 q3 q4 q5}; do
  answer=$(curl -fsS -H 'Content-Type: application/json' -d @"$TMP/$q.json" "http://127.0.0.1:$PORT/graphql")
  if [[ $answer == *'"errors"'* ]] || [[ $answer != *'"data"'* ]]; then echo "$q: $answer"; exit 1; fi
  rps=$(wrk -t2 -c16 -d"${SECS:-8}"s -s "$TMP/$q.lua" "http://127.0.0.1:$PORT/graphql" | awk '/Requests\/sec/ {print $2}')
  echo "$LABEL $q: $rps req/s, peak RSS $(kib VmHWM), RSS $(kib VmRSS)"
done

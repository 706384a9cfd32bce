#!/usr/bin/env bash
# The server's instructions per request for one of bench/compare.py's queries, counted by
# valgrind's callgrind: repeatable for the same binary, data and query whatever else the
# machine is doing, so two builds can be compared on a shared machine without noise (it counts
# the server only; PostgreSQL's share is not in it, and neither is the cost of concurrency).
# Starts the binary under callgrind (APP_PROFILE=prod) on a database that bench/compare.sh with
# KEEP_DB=1 left, sends 5 warm-up requests, zeroes the counters, sends N requests one after the
# other on one keep-alive connection, and prints the instructions per request.
# Usage: bash bench/instructions.sh BINARY DATABASE_URL Q1|Q2|Q3|Q4|Q5 [N=50]
#   e.g. bash bench/instructions.sh /var/tmp/main-target/release/platform \
#          postgres://postgres@127.0.0.1:5432/bench_compare Q4
# Needs valgrind (apt-get install valgrind). About 20 s for Q4 with N=50. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:?usage: bench/instructions.sh BINARY DATABASE_URL QUERY [N]}")
URL=${2:?usage: bench/instructions.sh BINARY DATABASE_URL QUERY [N]}
Q=${3:?usage: bench/instructions.sh BINARY DATABASE_URL QUERY [N]}
N=${4:-50}
PORT=18495
TMP=$(mktemp -d /tmp/bench-instructions.XXXXXX)
JWT_SECRET="bench-only-$(head -c 24 /dev/urandom | base64)" DATABASE_URL="$URL" \
  BIND_ADDR=127.0.0.1:$PORT APP_PROFILE=prod LOG_LEVEL=warn \
  valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.%p" "$BIN" serve >"$TMP/api.log" 2>&1 &
VG=$!
trap 'kill $VG 2>/dev/null || true; wait $VG 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 240); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.5; done
send() {
  python3 - "$Q" "$PORT" "$1" <<'EOF'
import http.client, json, sys
sys.path.insert(0, "bench")
import compare
q, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
body = json.dumps({"query": compare.QUERIES[q]["api"]})
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("POST", "/graphql", body, compare.HEADERS)
    r = c.getresponse()
    data = r.read()
    if r.status != 200 or b'"errors"' in data:
        sys.exit(f"{q}: HTTP {r.status}: {data[:300]!r}")
EOF
}
send 5
callgrind_control -z "$VG" >/dev/null 2>&1
send "$N"
callgrind_control -d "$VG" >/dev/null 2>&1   # writes cg.PID.1: the N requests only
total=$(awk '/^totals:/ {print $2}' "$TMP"/cg.*.1)
echo "$Q: $N requests, $(python3 -c "print(f'{$total / $N / 1e6:.3f}')") M instructions a request ($(basename "$BIN"))"

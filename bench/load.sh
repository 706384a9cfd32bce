#!/usr/bin/env bash
# The load test: a fresh PostgreSQL database with the demo area and users, the release server
# in the prod profile on loopback, then bench/load.py at a fixed rate of mixed reads and writes.
# Prints throughput, latency and errors, and the server's peak RSS (VmHWM).
# Usage: bash bench/load.sh [RATE] [SECONDS] [POSTGRES_ADMIN_URL]
#   (defaults 500/s, 60 s, postgres://postgres@127.0.0.1:5432/postgres)
# Uses target/release/platform (built if missing). Loopback only; stops its server itself.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE="${1:-500}"
SECONDS_="${2:-60}"
ADMIN_URL="${3:-postgres://postgres@127.0.0.1:5432/postgres}"
DB=bench_load
URL="${ADMIN_URL%/*}/$DB"
BIN=${CARGO_TARGET_DIR:-target}/release/platform
[ -x "$BIN" ] || cargo build --release --locked --bin platform
psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="$URL" LOG_LEVEL=warn
"$BIN" migrate >/dev/null
"$BIN" seed-demo --with-users >/dev/null

PORT=18472
# The prod profile needs a signing key; a throwaway one for this loopback-only run.
JWT_SECRET="bench-only-$(head -c 24 /dev/urandom | base64)" \
BIND_ADDR=127.0.0.1:$PORT APP_PROFILE=prod "$BIN" serve >/tmp/bench-load-serve.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
status=0
python3 bench/load.py "http://127.0.0.1:$PORT" "$RATE" "$SECONDS_" || status=$?
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
exit $status

#!/usr/bin/env bash
# Loads the national-scale benchmark data of bench/compare.sh (Q3, Q4, Q5) into a database that
# already holds this API's schema (`platform migrate`) and the national unit imports, by SQL:
#  - plans, targets, tasks, coordinators and about 5,000 agencies (bench/compare/seed_plans.sql:
#    a plan per province and per district and year 2021–2025, 20 targets and 20 tasks each,
#    issued and public);
#  - indicator values: bench/gen_values.py (seeded; the CSV is cached in $VALUES_CACHE) and its
#    indicator catalogue, read with psql \copy and inserted by bench/compare/load_values.sql
#    (every value PUBLISHED, unit codes resolved at the period's end).
# The API's own imports are not used: its value import is being rewritten, and it has no plan
# import at this scale. Progress lines go to stdout (gen_values.py's to stderr).
# Usage: bash bench/seed_bench.sh DATABASE_URL
#   env: VALUES (1000000), VALUE_SEED (1), INDICATORS (200), ADMIN_UNITS_DIR,
#        VALUES_CACHE (/var/tmp/bench-values), SKIP_VALUES=1 / SKIP_PLANS=1
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${1:?usage: bench/seed_bench.sh DATABASE_URL}
DATA=${ADMIN_UNITS_DIR:-$PWD/../shared/data/admin-units}
VALUES=${VALUES:-1000000} VALUE_SEED=${VALUE_SEED:-1} INDICATORS=${INDICATORS:-200}
CACHE=${VALUES_CACHE:-/var/tmp/bench-values}
ms() { date +%s%3N; }

if [ "${SKIP_PLANS:-0}" != 1 ]; then
  start=$(ms)
  echo "seed: plans, targets, tasks, agencies (bench/compare/seed_plans.sql)"
  psql "$URL" -XAtq -v ON_ERROR_STOP=1 -f bench/compare/seed_plans.sql
  echo "  $(( $(ms) - start )) ms"
fi

if [ "${SKIP_VALUES:-0}" != 1 ]; then
  start=$(ms)
  mkdir -p "$CACHE"
  stem="$CACHE/values-$VALUES-i$INDICATORS-s$VALUE_SEED"
  if ! [ -s "$stem.csv" ] || ! [ -s "$stem.catalogue.sql" ]; then
    echo "seed: generating ~$VALUES values (bench/gen_values.py, seed $VALUE_SEED) into $stem.csv"
    python3 bench/gen_values.py --units-2024 "$DATA/vn-admin-units-2024.csv" \
      --units-2025 "$DATA/vn-admin-units-2025.csv" --indicators "$INDICATORS" \
      --values "$VALUES" --seed "$VALUE_SEED" --out "$stem.csv.part" \
      --catalogue "$stem.catalogue.sql"
    mv "$stem.csv.part" "$stem.csv"
  else
    echo "seed: values from the cache $stem.csv ($(($(wc -l <"$stem.csv") - 1)) rows)"
  fi
  echo "seed: the indicator catalogue and the values (bench/compare/load_values.sql)"
  psql "$URL" -Xq -v ON_ERROR_STOP=1 -f "$stem.catalogue.sql"
  psql "$URL" -XAtq -v ON_ERROR_STOP=1 -f bench/compare/load_values.sql <"$stem.csv"
  echo "  $(( $(ms) - start )) ms"
fi

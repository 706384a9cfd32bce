#!/usr/bin/env bash
# The five national imports (the 2024 list, the March 2025 list, the 2024–2025 mergers, the July
# 2025 list and the official mapping), in order, into $DATABASE_URL, printing each report's
# last line. Shared by bench/compare.sh and bench/values.sh (bench/national.sh times them).
# Usage: bash bench/national_lists.sh PLATFORM_BINARY ADMIN_UNITS_DIR
set -euo pipefail
BIN=$1 DATA=$2
"$BIN" import admin-units "$DATA/vn-admin-units-2024.csv" | tail -n 1
"$BIN" import admin-units "$DATA/vn-admin-units-2025-pre-july.csv" --valid-from 2025-03-01 | tail -n 1
"$BIN" import admin-unit-lineage "$DATA/vn-admin-units-2024-2025-mergers.csv" | tail -n 1
"$BIN" import admin-units "$DATA/vn-admin-units-2025.csv" --valid-from 2025-07-01 | tail -n 1
"$BIN" import admin-unit-lineage "$DATA/vn-admin-units-2025-mapping.csv" --effective 2025-07-01 | tail -n 1

#!/usr/bin/env python3
"""Generates indicator values for benchmarks: seeded and reproducible (the same arguments give
the same bytes), streamed to a CSV that `platform import indicator-values` and
`POST /import/indicator-values` take, with a progress line on stderr.

Usage:
  python3 bench/gen_values.py --units-2024 ../shared/data/admin-units/vn-admin-units-2024.csv \
      --units-2025 ../shared/data/admin-units/vn-admin-units-2025.csv \
      [--indicators 200] [--values 10000000] [--seed 1] [--out values.csv] \
      [--catalogue indicators.sql]

What it writes:
- `--catalogue`: SQL that adds the generated indicators (`GEN_001` …) to the catalogue, for
  psql or sqlite3 (`ON CONFLICT DO NOTHING`: running it twice changes nothing).
- `--out`: `indicator,unit,period,disaggregation,value` rows over 2021–2026. Each indicator has a
  periodicity (yearly, quarterly or monthly, by its number). A value belongs to the unit valid at
  its period's end: periods ending before 1 July 2025 use the communes of the 2024 list, later
  ones the communes of the July 2025 list, so the import resolves every code. Periods of the
  first half of 2025 are left out (the merger wave of early 2025 changed communes then). Values
  are decimals with up to two places. Rows are drawn from every (indicator, period, commune)
  combination with one probability, so that about `--values` rows come out.
"""

import argparse
import csv
import random
import sys
import time


def communes(path):
    with open(path, encoding="utf-8", newline="") as f:
        return sorted({r["commune_code"] for r in csv.DictReader(f) if r["commune_code"]})


def periods(kind):
    """(period id, uses the 2025 list) for 2021–2026, by periodicity."""
    out = []
    for year in range(2021, 2027):
        if kind == "year":
            ids = [(str(year), 12)]
        elif kind == "quarter":
            ids = [(f"{year}Q{q}", q * 3) for q in range(1, 5)]
        else:
            ids = [(f"{year}{m:02d}", m) for m in range(1, 13)]
        for pid, last_month in ids:
            if year < 2025:
                out.append((pid, False))
            elif year == 2025 and last_month < 7:
                continue  # the early-2025 merger wave: left out
            else:
                out.append((pid, True))
    return out


KINDS = ["year", "quarter", "month"]
CATEGORIES = ["ECONOMY", "CULTURE_SOCIETY", "ENVIRONMENT", "NEW_RURAL", "DEFENCE_SECURITY", "GOVERNANCE"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units-2024", required=True)
    ap.add_argument("--units-2025", required=True)
    ap.add_argument("--indicators", type=int, default=200)
    ap.add_argument("--values", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="values.csv")
    ap.add_argument("--catalogue", default=None)
    a = ap.parse_args()

    old, new = communes(a.units_2024), communes(a.units_2025)
    rng = random.Random(a.seed)
    indicators = [f"GEN_{i:03d}" for i in range(1, a.indicators + 1)]
    if a.catalogue:
        with open(a.catalogue, "w", encoding="utf-8") as f:
            for i, code in enumerate(indicators):
                agg = ["SUM", "AVERAGE", "NONE"][i % 3]
                direction = "HIGHER_IS_BETTER" if i % 4 else "LOWER_IS_BETTER"
                name = f"Chỉ tiêu sinh ra {i + 1:03d}"
                f.write(
                    "INSERT INTO indicator (code, name, unit_of_measure, category, direction, "
                    "aggregation, search_key, created_at) VALUES "
                    f"('{code}', '{name}', '%', '{CATEGORIES[i % len(CATEGORIES)]}', '{direction}', "
                    f"'{agg}', '{code.lower()} chi tieu sinh ra {i + 1:03d}', '2026-01-01 00:00:00+00:00') "
                    "ON CONFLICT (code) DO NOTHING;\n"
                )

    plan = []  # (indicator, [(period, units)])
    total = 0
    for i, code in enumerate(indicators):
        ps = [(p, new if later else old) for p, later in periods(KINDS[i % len(KINDS)])]
        total += sum(len(u) for _, u in ps)
        plan.append((code, ps))
    p = min(1.0, a.values / total)
    started, written, last = time.time(), 0, 0.0
    with open(a.out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["indicator", "unit", "period", "disaggregation", "value"])
        for code, ps in plan:
            for period, units in ps:
                for unit in units:
                    if rng.random() >= p:
                        continue
                    value = rng.randrange(0, 1_000_000) / 100
                    w.writerow([code, unit, period, "total", f"{value:.2f}".rstrip("0").rstrip(".")])
                    written += 1
                    now = time.time()
                    if now - last > 0.5:
                        last = now
                        rate = written / max(now - started, 1e-9)
                        print(
                            f"\r{written:,} / ~{a.values:,} rows ({100 * written / max(a.values, 1):5.1f} %), {rate:,.0f} rows/s",
                            end="",
                            file=sys.stderr,
                        )
    print(
        f"\r{written:,} rows to {a.out} in {time.time() - started:.1f} s "
        f"({len(indicators)} indicators, {len(old):,} communes in 2024, {len(new):,} in 2025)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Latency of the two pages integrators read most, against a running server (loopback only).
Part of bench/values.sh.

Usage: python3 bench/values_latency.py GRAPHQL_URL TOKEN [PAGES] [FEED_PAGE]

- change feed: `indicatorValueChanges(first: FEED_PAGE)` (1000) followed page by page from the start (each
  request uses the previous endCursor, as an integrator catching up does), PAGES pages (200);
- values: `indicatorValues(filter: {unitCode: "79", includeDescendants: true, periodFrom:
  "2024", periodTo: "2024"}, first: 100)` with unit names, followed page by page, PAGES pages.
Sequential requests after 20 warm-up ones; prints p50, p95 and max in milliseconds and the rows
read. Every response is checked: a page with errors or fewer rows than asked (before the end)
stops the run.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse

URL = urllib.parse.urlparse(sys.argv[1])
TOKEN = sys.argv[2]
PAGES = int(sys.argv[3]) if len(sys.argv) > 3 else 200
FEED_PAGE = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
CONN = http.client.HTTPConnection(URL.hostname, URL.port, timeout=60)

FEED = ("query($a: String) { indicatorValueChanges(after: $a, first: %d) { entries { " % FEED_PAGE +
        "indicatorCode unitCode period disaggregation value status deleted } endCursor hasNextPage } }")
VALUES = ('query($a: String) { indicatorValues(filter: {unitCode: "79", includeDescendants: true, '
          'periodFrom: "2024", periodTo: "2024"}, first: 100, after: $a) { edges { node { '
          'period value status indicator { code } unit { code name } } } '
          'pageInfo { endCursor hasNextPage } } }')


def post(query, variables):
    body = json.dumps({"query": query, "variables": variables})
    start = time.perf_counter()
    CONN.request("POST", URL.path, body, {"Content-Type": "application/json",
                                          "Authorization": f"Bearer {TOKEN}"})
    resp = CONN.getresponse()
    raw = resp.read()
    took = (time.perf_counter() - start) * 1000
    doc = json.loads(raw)
    if resp.status != 200 or doc.get("errors"):
        raise SystemExit(f"error: {resp.status} {raw[:500]!r}")
    return took, doc["data"]


def walk(name, query, field, rows_of, next_of, size):
    times, rows, after = [], 0, None
    for i in range(PAGES + 20):
        took, data = post(query, {"a": after})
        page = data[field]
        n = rows_of(page)
        after, more = next_of(page)
        if i >= 20:
            times.append(took)
            rows += n
        if not more:
            after = None  # start again from the beginning
        elif n < size:
            raise SystemExit(f"{name}: a short page ({n} rows) before the end")
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"{name}: {len(times)} pages, {rows:,} rows; p50 {statistics.median(times):.1f} ms, "
          f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms (target: p95 under 50 ms)")


walk(f"change feed, pages of {FEED_PAGE:,}", FEED, "indicatorValueChanges",
     lambda p: len(p["entries"]), lambda p: (p["endCursor"], p["hasNextPage"]), FEED_PAGE)
walk("indicatorValues of 79 and descendants in 2024, pages of 100", VALUES, "indicatorValues",
     lambda p: len(p["edges"]),
     lambda p: (p["pageInfo"]["endCursor"], p["pageInfo"]["hasNextPage"]), 100)

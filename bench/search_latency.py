#!/usr/bin/env python3
"""Latency of searchAdminUnits through the HTTP API (loopback only).

Usage: python3 bench/search_latency.py [BASE_URL] [ROUNDS]
Runs each query ROUNDS times (default 100) after a warm-up round, sequentially over one
keep-alive connection, and prints the median and p95 of all requests, then per query.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 100
QUERIES = [
    ("hoc mon", None), ("HÓC MÔN", None), ("ba dinh", None), ("phuong 1", None),
    ("xa", None), ("thanh pho", None), ("dak lak", None), ("quang", None),
    ("2755", None), ("tan phu", "2024-06-01"), ("long", "2025-08-01"), ("ho chi minh", None),
]
url = urllib.parse.urlparse(BASE)
if url.hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("loopback addresses only")
conn = http.client.HTTPConnection(url.hostname, url.port or 80)
headers = {"content-type": "application/json", "accept": "application/graphql-response+json"}
Q = "query($q: String!, $d: Date) { searchAdminUnits(query: $q, asOf: $d, first: 20) { totalCount edges { node { code name validFrom validTo } } } }"


def run(q, d):
    body = json.dumps({"query": Q, "variables": {"q": q, "d": d}})
    start = time.perf_counter()
    conn.request("POST", "/graphql", body, headers)
    res = conn.getresponse()
    payload = res.read()
    elapsed = (time.perf_counter() - start) * 1000
    data = json.loads(payload)
    if res.status != 200 or "errors" in data:
        sys.exit(f"unexpected answer {res.status}: {payload[:300]!r}")
    return elapsed, data["data"]["searchAdminUnits"]["totalCount"]


for q, d in QUERIES:
    run(q, d)
samples = {}
totals = {}
for _ in range(ROUNDS):
    for q, d in QUERIES:
        ms, total = run(q, d)
        samples.setdefault((q, d), []).append(ms)
        totals[(q, d)] = total


def p95(xs):
    return sorted(xs)[int(len(xs) * 0.95) - 1]


all_ms = [ms for v in samples.values() for ms in v]
print(f"searchAdminUnits: {len(all_ms)} requests, median {statistics.median(all_ms):.2f} ms, "
      f"p95 {p95(all_ms):.2f} ms, max {max(all_ms):.2f} ms")
for (q, d), v in samples.items():
    print(f"  {q!r:16} asOf={d or '-':10} hits={totals[(q, d)]:5}  "
          f"median {statistics.median(v):6.2f} ms  p95 {p95(v):6.2f} ms")

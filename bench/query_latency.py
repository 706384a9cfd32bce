#!/usr/bin/env python3
"""Latency of GraphQL queries against a running server (loopback only).

Usage: python3 bench/query_latency.py [BASE_URL] [REQUESTS]
Default: http://127.0.0.1:8000, 1000 requests per query, sequential, after 50 warm-up requests.
Prints median, p95 and max in milliseconds for each query.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
QUERIES = {
    "province 79 (2024) with districts and communes":
        '{ province(code: "79", asOf: "2024-06-01") { districts { code communes { code } } } }',
    "province 79 (today) communes(first: 50)":
        '{ province(code: "79") { communes(first: 50) { edges { node { code name } } } } }',
    "district 784 successors(transitive: true)":
        '{ district(code: "784", asOf: "2024-06-01") { successors(transitive: true) { unit { code } change } } }',
}

url = urllib.parse.urlparse(BASE)
if url.hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("loopback addresses only")
conn = http.client.HTTPConnection(url.hostname, url.port or 80)
headers = {"content-type": "application/json", "accept": "application/graphql-response+json"}


def run(query: str) -> float:
    body = json.dumps({"query": query})
    start = time.perf_counter()
    conn.request("POST", "/graphql", body, headers)
    res = conn.getresponse()
    payload = res.read()
    elapsed = (time.perf_counter() - start) * 1000
    if res.status != 200 or b'"errors"' in payload:
        sys.exit(f"unexpected answer {res.status}: {payload[:200]!r}")
    return elapsed


for name, query in QUERIES.items():
    for _ in range(50):
        run(query)
    samples = sorted(run(query) for _ in range(N))
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{name}: n={N} median={statistics.median(samples):.2f} ms "
          f"p95={p95:.2f} ms max={samples[-1]:.2f} ms")

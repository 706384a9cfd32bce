#!/usr/bin/env python3
"""Latency of GraphQL queries against a running server (loopback only).

Usage: python3 bench/query_latency.py [BASE_URL] [REQUESTS]
Default: http://127.0.0.1:8000, 1000 requests per query, sequential, after 50 warm-up requests.
Prints median, p95 and max in milliseconds for each query. On a server with the demo users (the
embedded default), the plans query also runs as `tanphu.viewer` (scoped reads: the policy's
condition in the SQL and in the loaders) and `users` as `admin`.
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
PLANS = ('{ plans(first: 50) { edges { node { title targets { wording } assignments(first: 50) '
         '{ edges { node { title leadAgency { name } progressReports { percentComplete } } } } } } } }')
SIGNED_IN = {
    "plans with targets and tasks, anonymous": (None, PLANS),
    "plans with targets and tasks, as tanphu.viewer": ("tanphu.viewer", PLANS),
    "users(first: 50), as admin": ("admin", '{ users(first: 50) { edges { node { username homeUnit { code } } } } }'),
}

url = urllib.parse.urlparse(BASE)
if url.hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("loopback addresses only")
conn = http.client.HTTPConnection(url.hostname, url.port or 80)
headers = {"content-type": "application/json", "accept": "application/graphql-response+json"}


def run(query: str, token: str | None = None) -> float:
    body = json.dumps({"query": query})
    h = dict(headers)
    if token:
        h["authorization"] = f"Bearer {token}"
    start = time.perf_counter()
    conn.request("POST", "/graphql", body, h)
    res = conn.getresponse()
    payload = res.read()
    elapsed = (time.perf_counter() - start) * 1000
    if res.status != 200 or b'"errors"' in payload:
        sys.exit(f"unexpected answer {res.status}: {payload[:200]!r}")
    return elapsed


def login(username: str) -> str | None:
    q = ('mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) '
         '{ accessToken } }')
    conn.request("POST", "/graphql",
                 json.dumps({"query": q, "variables": {"u": username, "p": "demo-password"}}),
                 headers)
    answer = json.loads(conn.getresponse().read())
    return ((answer.get("data") or {}).get("login") or {}).get("accessToken")


def measure(name: str, query: str, token: str | None = None) -> None:
    for _ in range(50):
        run(query, token)
    samples = sorted(run(query, token) for _ in range(N))
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{name}: n={N} median={statistics.median(samples):.2f} ms "
          f"p95={p95:.2f} ms max={samples[-1]:.2f} ms")


for name, query in QUERIES.items():
    measure(name, query)
tokens = {}
for name, (user, query) in SIGNED_IN.items():
    if user and user not in tokens:
        tokens[user] = login(user)
        if tokens[user] is None:
            print(f"{name}: skipped (no demo user {user} on this server)")
            continue
    if user and tokens[user] is None:
        continue
    measure(name, query, tokens.get(user))

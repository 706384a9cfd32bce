#!/usr/bin/env python3
"""Sends the hostile requests of the hardening review to a running server (loopback only),
then measures /healthz latency and the server's RSS.

Usage: python3 bench/hostile.py http://127.0.0.1:PORT SERVER_PID [ROUNDS]

Each round: a 16,000-word search on plans and agencies (48 KB), fragments doubling 22 and 30
levels deep, and 500 aliases of an introspection query. Every one must be refused quickly;
afterwards /healthz is asked 20 times and the worst latency, VmRSS and VmHWM are printed.
"""

import json
import sys
import time
import urllib.error
import urllib.request


def post(base, query, variables=None):
    req = urllib.request.Request(
        base + "/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            res.read()
    except urllib.error.HTTPError as e:
        e.read()
    return (time.perf_counter() - started) * 1000


def fragments(levels):
    body = "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(levels)
    )
    return f"query {{ ...F0 }}\n{body}fragment F{levels} on Query {{ __typename }}\n"


def main():
    base, pid = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    words = " ".join(["ke"] * 16000)
    slowest = 0.0
    for _ in range(rounds):
        for q in (
            "query($s: String) { plans(filter: {search: $s}) { totalCount } }",
            "query($s: String) { agencies(search: $s) { totalCount } }",
        ):
            slowest = max(slowest, post(base, q, {"s": words}))
        for levels in (22, 30):
            slowest = max(slowest, post(base, fragments(levels)))
        aliases = " ".join(f"a{i}: __schema {{ types {{ name }} }}" for i in range(500))
        slowest = max(slowest, post(base, "{ " + aliases + " }"))
    worst = 0.0
    for _ in range(20):
        started = time.perf_counter()
        urllib.request.urlopen(base + "/healthz", timeout=5).read()
        worst = max(worst, (time.perf_counter() - started) * 1000)
    status = {
        k: v.strip()
        for k, v in (line.split(":", 1) for line in open(f"/proc/{pid}/status"))
        if k in ("VmRSS", "VmHWM")
    }
    print(
        f"hostile: {rounds * 5} requests, slowest refusal {slowest:.1f} ms; "
        f"/healthz worst of 20: {worst:.1f} ms; VmRSS {status['VmRSS']}, VmHWM {status['VmHWM']}"
    )


if __name__ == "__main__":
    main()

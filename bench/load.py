#!/usr/bin/env python3
"""Fixed-rate load of mixed reads and writes against a running server (loopback only).

Usage: python3 bench/load.py http://127.0.0.1:PORT [RATE] [SECONDS] [CONNECTIONS]

Open loop: requests are started on a fixed schedule (RATE a second for SECONDS), whatever the
server's pace, and each latency is measured from its scheduled start, so a stall is counted
against every request it delays (no coordinated omission). The mix, per 20 requests: 12
province/district/commune reads, 3 plan pages, 2 unit searches, 1 indicator page, and 2 writes
(`refresh`: each rotates a demo user's session in the database). Standard library only;
persistent HTTP/1.1 connections. Prints throughput, p50/p99/max latency and errors.
"""

import asyncio
import json
import random
import sys
import time
import urllib.parse

READS = [
    '{ province(code: "79", asOf: "2024-06-01") { code name districts { code name communes { code name } } } }',
    '{ commune(code: "27559") { code name parent { code } ancestors { code } } }',
    '{ district(code: "784", asOf: "2024-06-01") { successors(transitive: true) { unit { code } change } } }',
    '{ provinces { code name } }',
]
PLANS = '{ plans(first: 20) { totalCount edges { node { number title status unit { code } } } } }'
SEARCH = '{ searchAdminUnits(query: "hoc mon") { edges { node { code name } } } }'
INDICATORS = '{ indicators(first: 20) { edges { node { code name } } } }'
LOGIN = 'mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { refreshToken } }'
REFRESH = 'mutation($r: String!) { refresh(input: {refreshToken: $r}) { refreshToken } }'
USERS = ["hcm.manager", "tanphu.viewer", "hocmon.reporter", "dongthap.manager"]


class Conn:
    """One persistent HTTP/1.1 connection."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def post(self, body):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode()
        head = (f"POST /graphql HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Content-Type: application/json\r\nAccept: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode()
        self.writer.write(head + data)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
        payload = await self.reader.readexactly(length)
        return status, json.loads(payload)


class Session:
    """A demo user's refresh token, rotated by each write."""

    def __init__(self, token):
        self.token = token
        self.lock = asyncio.Lock()


async def main():
    base = sys.argv[1]
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 500
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 60
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    url = urllib.parse.urlparse(base)
    pool = asyncio.Queue()
    for _ in range(size):
        pool.put_nowait(Conn(url.hostname, url.port))
    sessions = []
    setup = Conn(url.hostname, url.port)
    for user in USERS:
        status, body = await setup.post({"query": LOGIN, "variables": {"u": user, "p": "demo-password"}})
        token = (body.get("data") or {}).get("login", {}) or {}
        if status != 200 or not token.get("refreshToken"):
            raise SystemExit(f"cannot log in as {user}: {body}")
        sessions.append(Session(token["refreshToken"]))
    setup.writer.close()

    latencies, errors, kinds = [], [], {}
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    rng = random.Random(7)

    async def one(i, due):
        slot = i % 20
        if slot < 12:
            kind, body = "read", {"query": READS[slot % len(READS)]}
        elif slot < 15:
            kind, body = "plans", {"query": PLANS}
        elif slot < 17:
            kind, body = "search", {"query": SEARCH}
        elif slot < 18:
            kind, body = "indicators", {"query": INDICATORS}
        else:
            kind, body = "write", None
        conn = await pool.get()
        try:
            if body is None:
                session = sessions[rng.randrange(len(sessions))]
                async with session.lock:
                    status, answer = await conn.post({"query": REFRESH, "variables": {"r": session.token}})
                    new = ((answer.get("data") or {}).get("refresh") or {}).get("refreshToken")
                    if new:
                        session.token = new
            else:
                status, answer = await conn.post(body)
            if status != 200 or answer.get("errors"):
                errors.append((kind, status, json.dumps(answer)[:200]))
        except Exception as e:  # a broken connection is an error, and a new one is made
            errors.append((kind, "exception", repr(e)))
            conn = Conn(url.hostname, url.port)
        finally:
            pool.put_nowait(conn)
        elapsed = time.perf_counter() - due
        latencies.append(elapsed)
        kinds.setdefault(kind, []).append(elapsed)

    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - start

    def pct(values, p):
        s = sorted(values)
        return s[min(len(s) - 1, int(len(s) * p))] * 1000

    print(f"load: {total} requests at {rate:.0f}/s for {seconds:.0f} s over {size} connections: "
          f"{total / wall:.0f} req/s achieved, {len(errors)} errors")
    print(f"latency from schedule: p50 {pct(latencies, 0.50):.2f} ms, p99 {pct(latencies, 0.99):.2f} ms, "
          f"max {max(latencies) * 1000:.2f} ms")
    for kind, values in sorted(kinds.items()):
        print(f"  {kind:<10} n={len(values):>6}  p50 {pct(values, 0.5):7.2f} ms  p99 {pct(values, 0.99):7.2f} ms")
    for e in errors[:5]:
        print("  error:", e)
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

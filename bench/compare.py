#!/usr/bin/env python3
"""Helper of bench/compare.sh: checks that every contender answers the same units, counts the
SQL statements of one request, and measures (wrk for the GraphQL servers, pgbench for the bare
SQL), then prints the table and the ratios. compare.sh sets up the database and the servers.

  compare.py count NAME URL LOGFILE DB      statements per request of NAME (log_statement=all)
  compare.py run CONFIG.json                check, warm up, measure, print the table

Loopback only; every load run is bounded (wrk -d, pgbench -T, and a subprocess timeout).
"""

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

ASOF = "2024-06-01"
QUERIES = {
    "Q1": {
        "api": '{ province(code: "79", asOf: "%s") { code name } }' % ASOF,
        "pg4": '{ provinceByCode(code: "79") { code name } }',
        "pg5": '{ provinceByCode(code: "79") { code name } }',
    },
    "Q2": {
        "api": '{ province(code: "79", asOf: "%s") { code name districts { code name '
        "communes { code name } } } }" % ASOF,
        "pg4": '{ provinceByCode(code: "79") { code name '
        "districtsByProvinceId(orderBy: SORT_KEY_ASC) { nodes { code name "
        "communesByDistrictId(orderBy: SORT_KEY_ASC) { nodes { code name } } } } } }",
        "pg5": '{ provinceByCode(code: "79") { code name '
        "districts(orderBy: SORT_KEY_ASC) { nodes { code name "
        "communes(orderBy: SORT_KEY_ASC) { nodes { code name } } } } } }",
    },
}
# What Q2 must return for 79 on 2024-06-01 (the figures).
EXPECTED = {"Q1": (0, 0), "Q2": (22, 312)}
LABELS = {"api": "this API", "pg4": "PostGraphile 4", "pg5": "PostGraphile 5", "pgbench": "pgbench (SQL)"}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def post(url, query, timeout=10):
    body = json.dumps({"query": query}).encode()
    req = urllib.request.Request(url, data=body, headers=HEADERS, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
        return resp.status, raw


def normalise(name, doc):
    """(province, [districts], [communes]) as tuples of (parent code, code, name), in order."""
    if doc.get("errors"):
        raise SystemExit(f"{name}: errors in the response: {doc['errors']}")
    data = doc["data"]
    if name == "api":
        p = data["province"]
        dists = p.get("districts")
        sub = lambda d: d.get("communes")  # noqa: E731
    else:
        p = data["provinceByCode"]
        key = "districtsByProvinceId" if name == "pg4" else "districts"
        ckey = "communesByDistrictId" if name == "pg4" else "communes"
        dists = p[key]["nodes"] if key in p else None
        sub = lambda d: d[ckey]["nodes"] if ckey in d else None  # noqa: E731
    prov = (p["code"], p["name"])
    districts, communes = [], []
    for d in dists or []:
        districts.append((p["code"], d["code"], d["name"]))
        for c in sub(d) or []:
            communes.append((d["code"], c["code"], c["name"]))
    return prov, districts, communes


def sql_rows(db_url, sql_file, extra=None):
    """Runs a pgbench script through psql (same file: its \\gset and :variables work there)."""
    cmd = ["psql", db_url, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-f", "-"]
    with open(sql_file) as f:
        script = f.read() + ("\n" + extra + ";\n" if extra else "")
    res = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise SystemExit(f"psql -f {sql_file} failed: {res.stderr.strip()}")
    out = res.stdout
    return [line.split("\t") for line in out.splitlines() if line]


def normalise_sql(query, rows):
    """The scripts select admin_unit's columns in the API's order: id, code, name, kind, level,
    parent_id, ...; Q2's script echoes the province it \\gset as `PROVINCE<TAB>code<TAB>name`."""
    prov, districts, communes = None, [], []
    for r in rows:
        if r[0] == "PROVINCE":
            prov = (r[1], r[2])
        elif r[4] == "PROVINCE":
            prov = (r[1], r[2])
    by_id = {r[0]: r[1] for r in rows if r[0] != "PROVINCE"}
    for r in rows:
        if r[0] == "PROVINCE":
            continue
        code, name, level, parent = r[1], r[2], r[4], r[5]
        if level == "DISTRICT":
            districts.append((prov[0], code, name))
        elif level == "COMMUNE":
            communes.append((by_id.get(parent, "?"), code, name))
    # The API groups the communes under their districts after the one statement; so does this.
    pos = {d[1]: i for i, d in enumerate(districts)}
    communes.sort(key=lambda c: pos.get(c[0], -1))
    return prov, districts, communes


def check_equal(results):
    """results: {contender: (prov, districts, communes)}; fails unless the sets are equal."""
    names = list(results)
    ref = results[names[0]]
    order = {}
    for n in names:
        got = results[n]
        for i, part in enumerate(("province", "districts", "communes")):
            a, b = (ref[i], got[i]) if i else ([ref[0]], [got[0]])
            if set(a) != set(b) or len(a) != len(b):
                raise SystemExit(
                    f"MISMATCH {n} vs {names[0]} on {part}: only in {n}: "
                    f"{sorted(set(b) - set(a))[:5]}, only in {names[0]}: {sorted(set(a) - set(b))[:5]}"
                )
        order[n] = got[1] == ref[1] and got[2] == ref[2]
    return order


def cmd_count(name, url, logfile, db, n=5):
    """Statements per request from PostgreSQL's log (log_statement=all on this database only)."""
    pat = re.compile(r"@%s (LOG|ERROR):  (statement|execute [^:]*): (.*)" % re.escape(db))
    out = {}
    for q, by in QUERIES.items():
        post(url, by[name])  # the connection and the prepared statements exist after this
        time.sleep(0.3)
        start = os.path.getsize(logfile)
        for _ in range(n):
            status, _ = post(url, by[name])
            assert status == 200, status
        time.sleep(1.0)
        with open(logfile, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
        stmts, cur = [], None
        for line in text.splitlines():
            m = pat.search(line)
            if m:
                cur = [m.group(3)]
                stmts.append(cur)
            elif cur is not None and line.startswith("\t"):
                cur.append(line.strip())  # a statement's next lines
            else:
                cur = None
        stmts = [" ".join(" ".join(s).split()) for s in stmts]
        per = len(stmts) / n
        first = stmts[: int(per)] if per == int(per) else stmts
        out[q] = {"per_request": per, "sql": first}
        print(f"{LABELS[name]} {q}: {per:g} statements per request")
        for s in first:
            print(f"    {s[:200]}")
    return out


# ---- measuring -------------------------------------------------------------------------------


def unit_ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)$", v)
    x = float(m.group(1))
    return {"us": x / 1000, "ms": x, "s": x * 1000}[m.group(2)]


def proc_hwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def proc_cpu_ms(pid):
    """utime + stime of a process (and its threads) in ms."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) * 1000.0 / tick
    except FileNotFoundError:
        return None


def backend_cpu(admin_url, db):
    """CPU ms of every PostgreSQL backend connected to the database now, by backend pid."""
    out = subprocess.run(
        ["psql", admin_url, "-X", "-At", "-c",
         f"SELECT pid FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()"],
        capture_output=True, text=True, timeout=20).stdout
    cpu = {}
    for line in out.split():
        c = proc_cpu_ms(int(line))
        if c is not None:
            cpu[int(line)] = c
    return cpu


def sample_backends(cfg, secs, out):
    if secs < 3:
        return
    time.sleep(1.0)
    out.append((time.monotonic(), backend_cpu(cfg["admin_url"], cfg["db"])))
    time.sleep(secs - 2.0)
    out.append((time.monotonic(), backend_cpu(cfg["admin_url"], cfg["db"])))


def wrk(url, lua, seconds, threads, conns):
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "5s",
           "-s", lua, url]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = unit_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = unit_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"rps": rps, "p50": p50, "p99": p99, "requests": total, "errors": errors}


def pgbench(db_url, script, seconds, clients, threads, logdir):
    for f in os.listdir(logdir):
        os.remove(os.path.join(logdir, f))
    prefix = os.path.join(logdir, "tx")
    # Latencies from a 10 % sample of the transactions (the log costs the client a little).
    cmd = ["pgbench", "-n", "-M", "prepared", f"-c{clients}", f"-j{threads}", f"-T{seconds}",
           "-l", "--sampling-rate=0.1", f"--log-prefix={prefix}", "-f", script, db_url]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if res.returncode != 0:
        raise SystemExit(f"pgbench failed: {res.stderr}")
    out = res.stdout
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out)
    lat = []
    for f in os.listdir(logdir):
        with open(os.path.join(logdir, f)) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 3:
                    lat.append(int(parts[2]) / 1000.0)
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")  # noqa: E731
    done = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
    return {"rps": tps, "p50": pick(0.50), "p99": pick(0.99), "requests": done,
            "errors": int(failed.group(1)) if failed else 0}


def cmd_run(config_path):
    cfg = json.load(open(config_path))
    servers = cfg["servers"]  # {name: {"url":…, "pid":…}}
    tmp = cfg["tmp"]
    secs, runs, warm = cfg["seconds"], cfg["runs"], cfg["warmup_seconds"]
    names = [n for n in ("api", "pg4", "pg5") if n in servers]
    contenders = names + ["pgbench"]
    results = {}  # (query, contender) -> [run dicts]
    hwm = {}  # (query, contender) -> kB after that query's runs
    sizes = {}
    order_report = {}
    pglog = os.path.join(tmp, "pgbench-log")
    os.makedirs(pglog, exist_ok=True)
    for q in QUERIES:
        # ---- the checked warm-up: same units everywhere, then a short load of each
        got = {}
        for n in names:
            status, raw = post(servers[n]["url"], QUERIES[q][n])
            if status != 200:
                raise SystemExit(f"{n} {q}: HTTP {status}")
            sizes[(q, n)] = len(raw)
            got[n] = normalise(n, json.loads(raw))
        extra = "SELECT 'PROVINCE', :'p_code', :'p_name'" if q == "Q2" else None
        got["pgbench"] = normalise_sql(q, sql_rows(cfg["db_url"], cfg["sql"][q], extra))
        want_d, want_c = EXPECTED[q]
        for n, g in got.items():
            if g[0] != got["api"][0] or len(g[1]) != want_d or len(g[2]) != want_c:
                raise SystemExit(f"{n} {q}: {g[0]}, {len(g[1])} districts, {len(g[2])} communes; "
                                 f"expected 79, {want_d}, {want_c}")
        order_report[q] = check_equal(got)
        print(f"{q}: the same province, {want_d} districts and {want_c} communes from "
              f"{', '.join(LABELS[n] for n in got)} "
              f"(same order: {', '.join(LABELS[n] for n, same in order_report[q].items() if same)})",
              flush=True)
        lua = {}
        for n in names:
            lua[n] = os.path.join(tmp, f"{q}-{n}.lua")
            with open(lua[n], "w") as f:
                f.write('wrk.method = "POST"\n')
                for k, v in HEADERS.items():
                    f.write(f'wrk.headers["{k}"] = "{v}"\n')
                f.write("wrk.body = [==[%s]==]\n" % json.dumps({"query": QUERIES[q][n]}))
            wrk(servers[n]["url"], lua[n], warm, cfg["threads"], cfg["conns"])
        pgbench(cfg["db_url"], cfg["sql"][q], warm, cfg["conns"], cfg["threads"], pglog)
        # ---- the runs, contenders interleaved (rotated each run) so drifts of the shared
        # machine's load hit them all alike
        for r in range(runs):
            rot = contenders[r % len(contenders):] + contenders[: r % len(contenders)]
            for n in rot:
                before = proc_cpu_ms(servers[n]["pid"]) if n in servers else None
                client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
                # PostgreSQL's CPU: its backends on this database, sampled 1 s after the start
                # and 1 s before the end (pgbench's own backends exit with it).
                samples = []
                sampler = threading.Thread(target=sample_backends, args=(cfg, secs, samples))
                sampler.start()
                if n == "pgbench":
                    m = pgbench(cfg["db_url"], cfg["sql"][q], secs, cfg["conns"], cfg["threads"], pglog)
                else:
                    m = wrk(servers[n]["url"], lua[n], secs, cfg["threads"], cfg["conns"])
                sampler.join()
                client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
                reqs = max(m["requests"], 1)
                m["client_cpu_ms_per_req"] = 1000.0 * (
                    (client_after.ru_utime + client_after.ru_stime)
                    - (client_before.ru_utime + client_before.ru_stime)) / reqs
                if n in servers:
                    m["server_cpu_ms_per_req"] = (proc_cpu_ms(servers[n]["pid"]) - before) / reqs
                if len(samples) == 2:
                    (ta, a), (tb, b) = samples
                    db_ms = sum(v - a.get(pid, 0.0) for pid, v in b.items())
                    m["db_cpu_ms_per_req"] = db_ms / (reqs * (tb - ta) / secs)
                else:
                    m["db_cpu_ms_per_req"] = float("nan")
                if m["errors"]:
                    raise SystemExit(f"{n} {q} run {r + 1}: {m['errors']} errors")
                results.setdefault((q, n), []).append(m)
                print(f"  {q} run {r + 1} {LABELS[n]:15} {m['rps']:9.1f} req/s  p50 {m['p50']:7.2f} ms"
                      f"  p99 {m['p99']:7.2f} ms", flush=True)
        for n in names:
            hwm[(q, n)] = proc_hwm(servers[n]["pid"])
        # after the runs: still the same answer
        for n in names:
            _, raw = post(servers[n]["url"], QUERIES[q][n])
            if normalise(n, json.loads(raw)) != got[n]:
                raise SystemExit(f"{n} {q}: the answer changed during the runs")

    # ---- the table
    med = lambda q, n, k: statistics.median(x[k] for x in results[(q, n)])  # noqa: E731
    lines = []
    lines.append("| query | contender | req/s (median of %d; min–max) | p50 ms | p99 ms | peak RSS | "
                 "server CPU ms/req | PostgreSQL CPU ms/req | load generator CPU ms/req | response bytes |" % runs)
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for q in QUERIES:
        for n in contenders:
            rs = [x["rps"] for x in results[(q, n)]]
            rss = f"{hwm[(q, n)] / 1024:.1f} MiB" if (q, n) in hwm else "—"
            cpu = f"{med(q, n, 'server_cpu_ms_per_req'):.3f}" if n in servers else "—"
            lines.append(
                f"| {q} | {LABELS[n]} | {statistics.median(rs):,.0f} ({min(rs):,.0f}–{max(rs):,.0f}) | "
                f"{med(q, n, 'p50'):.2f} | {med(q, n, 'p99'):.2f} | {rss} | {cpu} | "
                f"{med(q, n, 'db_cpu_ms_per_req'):.3f} | {med(q, n, 'client_cpu_ms_per_req'):.3f} | "
                f"{sizes.get((q, n), '—')} |")
    lines.append("")
    lines.append("| query | this API ÷ PostGraphile 5 | this API ÷ PostGraphile 4 | this API ÷ pgbench |")
    lines.append("|---|---|---|---|")
    for q in QUERIES:
        a = statistics.median(x["rps"] for x in results[(q, "api")])
        cells = []
        for n in ("pg5", "pg4", "pgbench"):
            if (q, n) in results:
                b = statistics.median(x["rps"] for x in results[(q, n)])
                cells.append(f"{a / b:.2f}× req/s")
            else:
                cells.append("—")
        lines.append(f"| {q} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("| query | p50: this API ÷ PostGraphile 5 | ÷ PostGraphile 4 | p99: this API ÷ PostGraphile 5 | ÷ PostGraphile 4 |")
    lines.append("|---|---|---|---|---|")
    for q in QUERIES:
        cells = []
        for k in ("p50", "p99"):
            for n in ("pg5", "pg4"):
                cells.append(f"{med(q, 'api', k) / med(q, n, k):.2f}×")
        lines.append(f"| {q} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print()
    print(table)
    with open(os.path.join(cfg["out_dir"], "results.json"), "w") as f:
        json.dump({"runs": {f"{q}/{n}": v for (q, n), v in results.items()},
                   "peak_rss_kb": {f"{q}/{n}": v for (q, n), v in hwm.items()},
                   "response_bytes": {f"{q}/{n}": v for (q, n), v in sizes.items()},
                   "same_order": order_report}, f, indent=1)
    with open(os.path.join(cfg["out_dir"], "table.md"), "w") as f:
        f.write(table + "\n")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "count":
        _, _, name, url, logfile, db = sys.argv[:6]
        res = cmd_count(name, url, logfile, db)
        out = sys.argv[6] if len(sys.argv) > 6 else None
        if out:
            with open(out, "w") as f:
                json.dump(res, f, indent=1)
    elif len(sys.argv) == 3 and sys.argv[1] == "run":
        cmd_run(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

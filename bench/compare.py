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
from decimal import Decimal

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
    # A page of 100 published values of one province (and the units below it) for one year, by
    # id, with their indicator's code and their unit's code and name. "2024" <= period <=
    # "2024Q4" holds the year's periods: 2024, 202401…202412, 2024Q1…2024Q4.
    "Q3": {
        "api": '{ indicatorValues(filter: {unitCode: "79", includeDescendants: true, '
        'periodFrom: "2024", periodTo: "2024Q4"}, first: 100) { nodes { period value '
        "indicator { code } unit { code name } } } }",
        "pg4": '{ allIndicatorValues(condition: {provinceCode: "79", year: 2024}, orderBy: '
        "PRIMARY_KEY_ASC, first: 100) { nodes { period value indicatorByIndicatorId { code } "
        "communeByCommuneId { code name } } } }",
        "pg5": '{ valuesBenchIndicatorValues(condition: {provinceCode: "79", year: 2024}, '
        "orderBy: PRIMARY_KEY_ASC, first: 100) { nodes { period value indicator { code } "
        "commune { code name } } } }",
    },
    # PostGraphile 5 prefixes the names from every schema but the first (units_2024) with the
    # schema's name (plansBench…, valuesBench…) and calls the primary key column `rowId`.
    # The overdue tasks of the 2024 plans of a province and its districts, with their lead
    # agency's name: the plans newest issue first (then by id), each plan's overdue
    # tasks in document order (position, id), at most 100 a plan. The API has no list of tasks
    # across plans; this is its shape for "the overdue tasks of a province".
    "Q4": {
        "api": '{ plans(filter: {unitCode: "79", includeDescendants: true, year: 2024}, first: 50) '
        "{ nodes { number assignments(filter: {overdue: true}, first: 100) { nodes { ordinal "
        "title dueOn status leadAgency { name } } } } } }",
        "pg4": '{ allPlans(condition: {provinceCode: "79", year: 2024}, orderBy: [ISSUED_ON_DESC, '
        "PRIMARY_KEY_ASC], first: 50) { nodes { number assignmentsByPlanId(condition: {overdue: "
        "true}, orderBy: [POSITION_ASC, PRIMARY_KEY_ASC], first: 100) { nodes { ordinal title dueOn status "
        "agencyByLeadAgencyId { name } } } } } }",
        "pg5": '{ plansBenchPlans(condition: {provinceCode: "79", year: 2024}, orderBy: '
        "[ISSUED_ON_DESC, PRIMARY_KEY_ASC], first: 50) { nodes { number "
        "plansBenchAssignmentsByPlanId(condition: {overdue: true}, orderBy: [POSITION_ASC, "
        "PRIMARY_KEY_ASC], first: 100) { nodes { ordinal title dueOn status leadAgency { name } "
        "} } } } }",
    },
    # The tasks of the plans issued by a province and every unit below it, counted by status,
    # overdue and due within 30 days of today (in Vietnam), in all and per issuing unit.
    "Q5": {
        "api": '{ assignmentSummary(unitCode: "79") { unit { code name } total byStatus { status '
        "count } overdue dueIn30Days perUnit { unit { code name } total byStatus { status count } "
        "overdue dueIn30Days } } }",
        "pg4": '{ provinceByCode(code: "79") { code name } assignmentSummary(unitCode: "79") { nodes { '
        "unitCode unitName total notStarted inProgress done cancelled overdue dueIn30Days } } }",
        "pg5": '{ provinceByCode(code: "79") { code name } plansBenchAssignmentSummary(unitCode: '
        '"79") { nodes { unitCode unitName total notStarted inProgress done cancelled overdue '
        "dueIn30Days } } }",
    },
}
# What Q2 must return for 79 on 2024-06-01 (the figures).
EXPECTED = {"Q1": (0, 0), "Q2": (22, 312)}
STATUSES = ("NOT_STARTED", "IN_PROGRESS", "DONE", "CANCELLED")
LABELS = {"api": "this API", "pg4": "PostGraphile 4", "pg5": "PostGraphile 5", "pgbench": "pgbench (SQL)"}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def post(url, query, timeout=10):
    body = json.dumps({"query": query}).encode()
    req = urllib.request.Request(url, data=body, headers=HEADERS, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, raw
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{url}: HTTP {e.code}: {e.read()[:1000]!r} for {query}")


def dec(v):
    """A decimal as its shortest text ("12.50" and 12.5 both give "12.5"); None stays None."""
    if v is None:
        return None
    d = Decimal(str(v))
    return format(d.normalize(), "f") if d != 0 else "0"


def normalise(q, name, doc):
    """The answer as {part: [tuples]}, in the order given. Q1/Q2: the province, the districts
    and communes as (parent code, code, name); Q3: (indicator, unit code, unit name, period,
    value); Q4: (plan number, ordinal, title, due, status, lead agency); Q5: the root unit, the
    totals (total, by status…, overdue, due in 30 days) and the same per issuing unit."""
    if doc.get("errors"):
        raise SystemExit(f"{name} {q}: errors in the response: {doc['errors']}")
    data = doc["data"]
    if q in ("Q1", "Q2"):
        prov, districts, communes = normalise_units(name, data)
        return {"province": [prov], "districts": districts, "communes": communes}
    if q == "Q3":
        if name == "api":
            nodes = data["indicatorValues"]["nodes"]
            ind, unit = "indicator", "unit"
        else:
            nodes = data["allIndicatorValues" if name == "pg4" else "valuesBenchIndicatorValues"]["nodes"]
            ind = "indicatorByIndicatorId" if name == "pg4" else "indicator"
            unit = "communeByCommuneId" if name == "pg4" else "commune"
        return {"values": [(v[ind]["code"], v[unit]["code"], v[unit]["name"], v["period"],
                            dec(v["value"])) for v in nodes]}
    if q == "Q4":
        plans = data[{"api": "plans", "pg4": "allPlans", "pg5": "plansBenchPlans"}[name]]["nodes"]
        akey = {"api": "assignments", "pg4": "assignmentsByPlanId",
                "pg5": "plansBenchAssignmentsByPlanId"}[name]
        lkey = "agencyByLeadAgencyId" if name == "pg4" else "leadAgency"
        return {"tasks": [(p["number"], a["ordinal"], a["title"], a["dueOn"], a["status"],
                           a[lkey]["name"]) for p in plans for a in p[akey]["nodes"]]}
    if q == "Q5":
        if name == "api":
            s = data["assignmentSummary"]

            def counts(x):
                by = {b["status"]: b["count"] for b in x["byStatus"]}
                return (x["total"],) + tuple(by.get(st, 0) for st in STATUSES) + (
                    x["overdue"], x["dueIn30Days"])

            root = [(s["unit"]["code"], s["unit"]["name"])] if s["unit"] else []
            per = [(u["unit"]["code"], u["unit"]["name"]) + counts(u) for u in s["perUnit"]]
            return {"unit": root, "all": [counts(s)], "perUnit": per}
        p = data["provinceByCode"]
        per = [(n["unitCode"], n["unitName"], n["total"], n["notStarted"], n["inProgress"],
                n["done"], n["cancelled"], n["overdue"], n["dueIn30Days"])
               for n in data["assignmentSummary" if name == "pg4"
                             else "plansBenchAssignmentSummary"]["nodes"]]
        return {"unit": [(p["code"], p["name"])],
                "all": [tuple(sum(r[i] for r in per) for i in range(2, 9))], "perUnit": per}
    raise SystemExit(f"unknown query {q}")


def normalise_units(name, data):
    """(province, [districts], [communes]) as tuples of (parent code, code, name), in order."""
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


def sql_statement_count(sql_file):
    """Statements of a pgbench script: those that end with `;` or `\\gset` (comments aside)."""
    n = 0
    for line in open(sql_file):
        t = line.strip()
        if t and not t.startswith("--") and (t.endswith(";") or re.search(r"\\gset\s*\w*$", t)):
            n += 1
    return n


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


def sql_sections(db_url, sql_file):
    """Runs a pgbench script through psql and returns, for each statement, its rows as dicts
    by column name (an empty list for a `\\gset` statement)."""
    lines = []
    for line in open(sql_file):
        lines.append(line.rstrip("\n"))
        t = line.strip()
        if t and not t.startswith("--") and (t.endswith(";") or re.search(r"\\gset\s*\w*$", t)):
            lines.append("\\echo @@@")
    cmd = ["psql", db_url, "-X", "-A", "-F", "\t", "-P", "footer=off", "-v", "ON_ERROR_STOP=1",
           "-f", "-"]
    res = subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True, text=True,
                         timeout=120)
    if res.returncode != 0:
        raise SystemExit(f"psql -f {sql_file} failed: {res.stderr.strip()}")
    sections, cur = [], []
    for line in res.stdout.split("\n"):
        if line == "@@@":
            sections.append(cur)
            cur = []
        elif line:
            cur.append(line.split("\t"))
    return [[dict(zip(sec[0], r)) for r in sec[1:]] if sec else [] for sec in sections]


def units_by_id(db_url, ids):
    """(code, name) of admin_unit rows: what this API takes from its in-memory unit snapshot."""
    if not ids:
        return {}
    rows = sql_query(db_url, "SELECT id, code, name FROM admin_unit WHERE id IN (%s)"
                     % ", ".join(str(int(i)) for i in ids))
    return {r[0]: (r[1], r[2]) for r in rows}


def sql_query(db_url, sql):
    res = subprocess.run(["psql", db_url, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                          "-c", sql], capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise SystemExit(f"psql failed: {res.stderr.strip()}")
    return [line.split("\t") for line in res.stdout.splitlines() if line]


def normalise_sql(q, db_url, sql_file):
    """What the API's statements return (run as the pgbench script, through psql), put together
    as the API puts it together, as {part: [tuples]} like normalise()."""
    if q in ("Q1", "Q2"):
        extra = "SELECT 'PROVINCE', :'p_code', :'p_name'" if q == "Q2" else None
        prov, districts, communes = normalise_sql_units(q, sql_rows(db_url, sql_file, extra))
        return {"province": [prov], "districts": districts, "communes": communes}
    secs = sql_sections(db_url, sql_file)
    find = lambda *cols: [s for s in secs if s and all(c in s[0] for c in cols)]  # noqa: E731
    if q == "Q3":
        # The page statement reads one row more than asked (whether a next page exists).
        values = find("indicator_id", "admin_unit_id", "period")[-1][:100]
        inds = {r["id"]: r["code"] for s in find("aggregation", "code") for r in s}
        units = units_by_id(db_url, {v["admin_unit_id"] for v in values})
        return {"values": [(inds[v["indicator_id"]],) + units[v["admin_unit_id"]]
                           + (v["period"], dec(v["value"] or None)) for v in values]}
    if q == "Q4":
        plans = find("issuer_agency_id", "number")[-1][:50]  # 51 read, as for Q3
        tasks = find("lead_agency_id", "plan_id", "position")[-1]
        agencies = {r["id"]: r["name"] for s in find("parent_agency_id", "name") for r in s}
        out = []
        for p in plans:
            mine = [t for t in tasks if t["plan_id"] == p["id"]]
            mine.sort(key=lambda t: (int(t["position"]), int(t["id"])))
            out += [(p["number"], t["ordinal"] or None, t["title"], t["due_on"] or None, t["status"],
                     agencies[t["lead_agency_id"]]) for t in mine[:100]]
        return {"tasks": out}
    if q == "Q5":
        groups = find("unit_id", "status", "overdue")[-1]
        roots = [s for s in find("code", "level", "valid_from") if len(s) == 1]
        units = units_by_id(db_url, {g["unit_id"] for g in groups})
        per = {}
        for g in groups:
            c = per.setdefault(g["unit_id"], [0] * 7)
            n = int(g["n"])
            c[0] += n
            c[1 + STATUSES.index(g["status"])] += n
            c[5] += int(g["overdue"] or 0)
            c[6] += int(g["soon"] or 0)
        # The API's order: by total, descending, ties by unit id (a stable sort of its map).
        rows = [units[u] + tuple(c) for u, c in sorted(per.items(), key=lambda kv: int(kv[0]))]
        rows.sort(key=lambda r: -r[2])
        root = [(roots[-1][0]["code"], roots[-1][0]["name"])] if roots else []
        return {"unit": root, "all": [tuple(sum(r[i] for r in rows) for i in range(2, 9))],
                "perUnit": rows}
    raise SystemExit(f"unknown query {q}")


def normalise_sql_units(query, rows):
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


def check_equal(q, results):
    """results: {contender: {part: [tuples]}}; fails unless every part holds the same tuples
    (as multisets) for every contender. Returns whether each also has the same order."""
    names = list(results)
    ref = results[names[0]]
    order = {}
    for n in names:
        got = results[n]
        same_order = True
        for part in ref:
            a, b = ref[part], got.get(part)
            if b is None:
                raise SystemExit(f"MISMATCH {q} {n}: no {part}")
            if sorted(map(repr, a)) != sorted(map(repr, b)):
                sa, sb = set(a), set(b)
                raise SystemExit(
                    f"MISMATCH {q} {n} vs {names[0]} on {part} ({len(b)} against {len(a)}): "
                    f"only in {n}: {sorted(sb - sa, key=repr)[:5]}, "
                    f"only in {names[0]}: {sorted(sa - sb, key=repr)[:5]}")
            same_order = same_order and a == b
        order[n] = same_order
    return order


def check_expected(q, got):
    """What each query must return on the seeded database (fails the run otherwise)."""
    if q in EXPECTED:
        want_d, want_c = EXPECTED[q]
        if len(got["districts"]) != want_d or len(got["communes"]) != want_c:
            raise SystemExit(f"{q}: {len(got['districts'])} districts, {len(got['communes'])} "
                             f"communes; expected {want_d}, {want_c}")
        return f"the same province, {want_d} districts and {want_c} communes"
    if q == "Q3":
        rows = got["values"]
        if len(rows) != 100 or not all(r[1] and r[2] for r in rows):
            raise SystemExit(f"Q3: {len(rows)} values (100 with unit names expected)")
        return (f"the same 100 values ({len({r[0] for r in rows})} indicators, "
                f"{len({r[1] for r in rows})} communes)")
    if q == "Q4":
        rows = got["tasks"]
        if not rows:
            raise SystemExit("Q4: no overdue task")
        return f"the same {len(rows)} overdue tasks of {len({r[0] for r in rows})} plans"
    if q == "Q5":
        total = got["all"][0]
        if total[0] == 0 or total[5] == 0:
            raise SystemExit(f"Q5: {total} (tasks and overdue ones expected)")
        return (f"the same counts: {total[0]} tasks, {total[5]} overdue, {total[6]} due within "
                f"30 days, over {len(got['perUnit'])} issuing units")
    raise SystemExit(f"unknown query {q}")


def cmd_count(name, url, logfile, db, n=5):
    """Statements per request from PostgreSQL's log (log_statement=all on this database only)."""
    pat = re.compile(r"@%s (LOG|ERROR):  (statement|execute [^:]*): (.*)" % re.escape(db))
    out = {}
    qs = os.environ.get("QUERIES", "").split() or list(QUERIES)
    for q in qs:
        by = QUERIES[q]
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
    """CPU ms of every PostgreSQL backend connected to the database now, by backend pid: the
    processes whose title is `postgres: … USER DB …` (read from /proc, not through psql: a psql
    started on a loaded machine took long enough that pgbench's backends were gone when it
    looked, and pgbench's PostgreSQL CPU came out as 0)."""
    cpu = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {db} " in title:
            c = proc_cpu_ms(int(entry))
            if c is not None:
                cpu[int(entry)] = c
    return cpu


def sample_backends(cfg, secs, out):
    if secs < 3:
        return
    start = time.monotonic()
    time.sleep(1.0)
    out.append((time.monotonic(), backend_cpu(cfg["admin_url"], cfg["db"])))
    time.sleep(max(0.0, start + secs - 1.0 - time.monotonic()))
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
    qs = cfg.get("queries") or list(QUERIES)
    for q in qs:
        # ---- the checked warm-up: the same data everywhere, then a short load of each
        got = {}
        for n in names:
            status, raw = post(servers[n]["url"], QUERIES[q][n])
            if status != 200:
                raise SystemExit(f"{n} {q}: HTTP {status}")
            sizes[(q, n)] = len(raw)
            got[n] = normalise(q, n, json.loads(raw))
        got["pgbench"] = normalise_sql(q, cfg["db_url"], cfg["sql"][q])
        what = check_expected(q, got["api"])
        order_report[q] = check_equal(q, got)
        print(f"{q}: {what} from {', '.join(LABELS[n] for n in got)} "
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
            if normalise(q, n, json.loads(raw)) != got[n]:
                raise SystemExit(f"{n} {q}: the answer changed during the runs")

    # ---- the table
    med = lambda q, n, k: statistics.median(x[k] for x in results[(q, n)])  # noqa: E731
    lines = []
    stmts = {}  # (query, contender) -> SQL statements per request
    for n in names:
        path = os.path.join(cfg["out_dir"], f"statements-{n}.json")
        if os.path.exists(path):
            for q, v in json.load(open(path)).items():
                stmts[(q, n)] = f"{v['per_request']:g}"
    for q in qs:
        stmts[(q, "pgbench")] = str(sql_statement_count(cfg["sql"][q]))
    lines.append("| query | contender | req/s (median of %d; min–max) | p50 ms | p99 ms | peak RSS | "
                 "SQL statements/req | server CPU ms/req | PostgreSQL CPU ms/req | "
                 "load generator CPU ms/req | response bytes |" % runs)
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for q in qs:
        for n in contenders:
            rs = [x["rps"] for x in results[(q, n)]]
            rss = f"{hwm[(q, n)] / 1024:.1f} MiB" if (q, n) in hwm else "—"
            cpu = f"{med(q, n, 'server_cpu_ms_per_req'):.3f}" if n in servers else "—"
            lines.append(
                f"| {q} | {LABELS[n]} | {statistics.median(rs):,.0f} ({min(rs):,.0f}–{max(rs):,.0f}) | "
                f"{med(q, n, 'p50'):.2f} | {med(q, n, 'p99'):.2f} | {rss} | "
                f"{stmts.get((q, n), '?')} | {cpu} | "
                f"{med(q, n, 'db_cpu_ms_per_req'):.3f} | {med(q, n, 'client_cpu_ms_per_req'):.3f} | "
                f"{sizes.get((q, n), '—')} |")
    lines.append("")
    lines.append("| query | this API ÷ PostGraphile 5 | this API ÷ PostGraphile 4 | this API ÷ pgbench |")
    lines.append("|---|---|---|---|")
    for q in qs:
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
    for q in qs:
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


def cmd_fill(db_url, template, out):
    """Writes a pgbench script with this database's ids: each `-- @NAME@: SELECT …` line of the
    template is a query whose one value replaces @NAME@ in the statements."""
    text = open(template).read()
    for name, sql in re.findall(r"^-- (@[A-Z_0-9]+@): (.+)$", text, re.M):
        res = subprocess.run(["psql", db_url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             capture_output=True, text=True, timeout=60)
        if res.returncode != 0 or not res.stdout.strip():
            raise SystemExit(f"{template}: {name}: {res.stderr.strip() or 'no value'}")
        text = "\n".join(
            line if line.startswith("--") else line.replace(name, res.stdout.strip())
            for line in text.split("\n"))
    if re.search(r"^[^-].*@[A-Z_0-9]+@", text, re.M):
        raise SystemExit(f"{template}: a placeholder is left")
    with open(out, "w") as f:
        f.write(text)


def cmd_sql_from_log(logfile, db):
    """Prints the statements of a PostgreSQL log excerpt (log_statement=all) with their bound
    parameters written as literals, one a line, for a pgbench script (how q3.sql … q5.sql were
    made from one request of this API)."""
    pat = re.compile(r"@%s (LOG|DETAIL):  (?:(?:statement|execute [^:]*): (.*)|parameters: (.*))"
                     % re.escape(db))
    stmts, cur = [], None
    for line in open(logfile, encoding="utf-8", errors="replace"):
        m = pat.search(line)
        if m and m.group(1) == "LOG":
            cur = [m.group(2).rstrip("\n"), {}]
            stmts.append(cur)
        elif m and m.group(1) == "DETAIL" and cur is not None:
            for k, v in re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", m.group(3)):
                cur[1][int(k)] = v
        elif cur is not None and line.startswith("\t"):
            cur[0] += " " + line.strip()
        else:
            cur = None
    for sql, params in stmts:
        for k in sorted(params, reverse=True):
            sql = re.sub(r"\$%d(?!\d)" % k, lambda _m, v=params[k]: v, sql)
        print(" ".join(sql.split()) + ";")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "sql-from-log":
        cmd_sql_from_log(*sys.argv[2:4])
    elif len(sys.argv) == 5 and sys.argv[1] == "fill":
        cmd_fill(*sys.argv[2:5])
    elif len(sys.argv) >= 2 and sys.argv[1] == "count":
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

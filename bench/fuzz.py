#!/usr/bin/env python3
"""Schema-driven fuzzing of a running server (loopback only) with hypothesis-graphql.

Usage: python3 bench/fuzz.py http://127.0.0.1:PORT SCHEMA.graphql [EXAMPLES]

Generates valid queries and mutations from the committed SDL (`pip install
hypothesis-graphql==0.13.5`, with Hypothesis 6) with values for the custom scalars, sends each as the national demo
admin, and fails on any 5xx status or any error whose code is INTERNAL_SERVER_ERROR: every
refusal must be a classified one (BAD_USER_INPUT, FORBIDDEN, NOT_FOUND, …). Bounded: EXAMPLES
queries and as many mutations (default 300 each). The last line is
`fuzz: N passed, N failed`.
"""

import json
import sys
import urllib.error
import urllib.request

import hypothesis_graphql as hg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

BASE = sys.argv[1]
SCHEMA = open(sys.argv[2], encoding="utf-8").read()
EXAMPLES = int(sys.argv[3]) if len(sys.argv) > 3 else 300
SCALARS = {
    "Date": st.dates().map(lambda d: nodes.String(d.isoformat())),
    "DateTime": st.datetimes(timezones=st.just(__import__("datetime").timezone.utc)).map(
        lambda d: nodes.String(d.isoformat().replace("+00:00", "Z"))
    ),
    "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=3).map(
        lambda d: nodes.String(str(d))
    ),
    "Period": st.sampled_from(["2024", "2024S1", "2024Q3", "202406", "2024W1", "x"]).map(
        nodes.String
    ),
}
seen = {"sent": 0, "failed": []}


def post(query, token=None):
    req = urllib.request.Request(
        BASE + "/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, {"raw": body[:200].decode(errors="replace")}


TOKEN = post(
    'mutation { login(input: {username: "admin", password: "demo-password"}) { accessToken } }'
)[1]["data"]["login"]["accessToken"]


def check(query):
    status, body = post(query, TOKEN)
    seen["sent"] += 1
    codes = [
        (e.get("extensions") or {}).get("code") for e in (body.get("errors") or [])
    ]
    if status >= 500 or "INTERNAL_SERVER_ERROR" in codes:
        seen["failed"].append((status, codes, query[:300]))


common = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@common
@given(hg.queries(SCHEMA, custom_scalars=SCALARS))
def queries(query):
    check(query)


@common
@given(hg.mutations(SCHEMA, custom_scalars=SCALARS))
def mutations(query):
    # Never log the admin out of the run or change his password.
    if "logout" in query or "changePassword" in query:
        return
    check(query)


if __name__ == "__main__":
    queries()
    mutations()
    for failure in seen["failed"][:10]:
        print("FAILED:", failure)
    failed = len(seen["failed"])
    print(f"fuzz: {seen['sent'] - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

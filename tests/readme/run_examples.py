#!/usr/bin/env python3
"""Runs every GraphQL example of README.md against a fresh demo server, as the README promises.

Usage: python3 tests/readme/run_examples.py PATH/TO/platform [README.md]

The server is started on a free loopback port in a fresh directory with no settings, so that it
loads the demo data into its default database, exactly as `cargo run --release` does. Each
```graphql block is split into its operations (one per line that starts a document); every
operation is sent as the README's national demo admin, and fails the run when it answers an
error, or answers nothing (a null field, an empty list, a zero count). Templates whose ids are
left as "…" are listed as skipped, not run. The last line is `readme examples: N passed, N failed`.
Standard library only; bounded in time.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

DEADLINE = time.monotonic() + 120


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(base, query, token=None, timeout=20):
    body = json.dumps({"query": query}).encode()
    req = urllib.request.Request(f"{base}/graphql", data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as res:
        return json.loads(res.read())


def operations(readme):
    """The operations of every ```graphql block, with their line numbers."""
    out, block, start = [], None, 0
    for number, line in enumerate(readme.splitlines(), 1):
        if line.startswith("```graphql"):
            block = []
            continue
        if block is not None and line.startswith("```"):
            out.extend(split(block))
            block = None
            continue
        if block is not None:
            block.append((number, line))
    return out


def split(block):
    """A block's lines grouped into documents: a line starting with `{`, `query`, `mutation`
    at column 0 starts one. Trailing `# …` comments are dropped."""
    docs = []
    for number, line in block:
        text = re.sub(r"\s+#.*$", "", line)
        if re.match(r"^(\{|query\b|mutation\b)", line):
            docs.append([number, text])
        elif docs:
            docs[-1][1] += "\n" + text
    return [(n, d) for n, d in docs]


def empty(value):
    """Whether an answer says nothing: null, an empty list, a zero count, or an object all of
    whose fields are empty."""
    if value is None:
        return True
    if isinstance(value, list):
        return len(value) == 0
    if isinstance(value, dict):
        if "totalCount" in value and value["totalCount"] == 0:
            return True
        if "edges" in value and not value["edges"]:
            return True
        return all(empty(v) for v in value.values())
    return False


def main():
    if len(sys.argv) < 2:
        print("usage: run_examples.py PATH/TO/platform [README.md]", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    readme = open(sys.argv[2] if len(sys.argv) > 2 else "README.md", encoding="utf-8").read()
    docs = operations(readme)
    work = tempfile.mkdtemp(prefix="readme-examples-")
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CONFIG_FILE", "APP_PROFILE", "JWT_SECRET",
                        "JWT_PRIVATE_KEY", "AUTO_MIGRATE")}
    env.update({"BIND_ADDR": f"127.0.0.1:{port}", "LOG_LEVEL": "warn", "NO_COLOR": "1"})
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([binary, "serve"], cwd=work, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    passed, failed, skipped = 0, 0, 0
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with {server.returncode}")
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > DEADLINE:
                    raise SystemExit("the server did not answer /healthz")
                time.sleep(0.2)
        login = post(base, 'mutation { login(input: {username: "admin", '
                           'password: "demo-password"}) { accessToken } }')
        token = login["data"]["login"]["accessToken"]
        for line, doc in docs:
            if time.monotonic() > DEADLINE:
                raise SystemExit("out of time")
            if "…" in doc:
                skipped += 1
                print(f"README.md:{line}: skipped (a template: fill in the ids)")
                continue
            answer = post(base, doc, token)
            errors = answer.get("errors")
            data = answer.get("data")
            if errors or not data or any(empty(v) for v in data.values()):
                failed += 1
                print(f"README.md:{line}: FAILED: {json.dumps(answer, ensure_ascii=False)[:600]}")
            else:
                passed += 1
                print(f"README.md:{line}: ok")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if failed:
            print(open(os.path.join(work, "server.log")).read()[-2000:], file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    print(f"readme examples: {passed} passed, {failed} failed"
          + (f", {skipped} skipped" if skipped else ""))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

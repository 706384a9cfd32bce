#!/usr/bin/env python3
"""Headless Chromium, with no network but loopback, renders GraphiQL from GET /graphql and runs
a query.

Usage: python3 tests/browser/graphiql_offline.py PATH/TO/platform

Starts `platform serve` on a free 127.0.0.1 port in a fresh temporary working directory (no
DATABASE_URL, so the default SQLite database gets the demo data), waits for GET /healthz, then
drives the system Chromium (CHROMIUM, default /usr/bin/chromium) through Playwright:

- host resolution is blocked for every name except 127.0.0.1 (--host-resolver-rules), and every
  request of the page (HTTP and WebSocket) to any origin other than the server's is aborted and
  fails the check;
- opens http://127.0.0.1:PORT/graphql, waits for the GraphiQL editor with its default query,
  clicks the execute button, and waits for the response pane to show province 79,
  "Thành phố Hồ Chí Minh", with its districts.

On failure it says why, saves a screenshot to a temporary path that it prints, and shows the end
of the server's log. The server is always stopped; the whole run is bounded (under 60 s). The
last line is `graphiql offline: 1 passed, 0 failed` (exit 0) or `0 passed, 1 failed` (exit 1).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

EXPECTED_NAME = "Thành phố Hồ Chí Minh"
TOTAL_BUDGET = 55.0  # seconds for the whole run; a watchdog kills it at HARD_LIMIT
HARD_LIMIT = 58.0
STEP_LIMIT = 20.0  # seconds for one step in the browser (load, render, answer)
SERVER_START_LIMIT = 20.0
# Settings the server reads from the environment: dropped so that it runs on its defaults
# (dev profile, the default SQLite database that gets the demo data).
SERVER_SETTINGS = (
    "CONFIG_FILE DATABASE_URL BIND_ADDR APP_PROFILE LOG_FORMAT LOG_LEVEL MAX_PAGE_SIZE "
    "AUTO_MIGRATE JWT_SECRET JWT_PRIVATE_KEY JWT_PUBLIC_KEYS JWT_KID JWT_ISSUER JWT_AUDIENCE "
    "JWT_TTL MAX_DEPTH MAX_COMPLEXITY MAX_ALIASES MAX_SELECTIONS MAX_BODY_BYTES "
    "MAX_RESPONSE_BYTES EXECUTION_TIMEOUT INTROSPECTION"
).split()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

START = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - START:5.1f}s] {msg}", flush=True)


def remaining_ms(floor=1000):
    """Milliseconds left in the run's budget (at least `floor`)."""
    return max(floor, int((TOTAL_BUDGET - (time.monotonic() - START)) * 1000))


def summary(passed):
    print(f"graphiql offline: {1 if passed else 0} passed, {0 if passed else 1} failed", flush=True)


class CheckFailed(Exception):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, workdir, port, log_file):
    env = {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}
    env["BIND_ADDR"] = f"127.0.0.1:{port}"
    env["NO_COLOR"] = "1"  # a plain log to show on failure
    return subprocess.Popen(
        [binary, "serve"],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_healthy(server, base):
    # No proxy from the environment: the request must go to loopback directly.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + SERVER_START_LIMIT
    last = "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CheckFailed(f"the server exited with status {server.returncode} before answering")
        try:
            with opener.open(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
                last = f"HTTP {r.status}"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
        except (urllib.error.URLError, OSError) as e:
            last = str(getattr(e, "reason", e))
        time.sleep(0.2)
    raise CheckFailed(f"GET /healthz did not answer 200 within {SERVER_START_LIMIT:.0f} s ({last})")


def stop_server(server):
    if server is None or server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=5)


def tail(path, lines=20):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# Reads the response pane: CodeMirror's value when the instance is reachable, else its text.
RESPONSE_JS = """
() => {
  const pane = document.querySelector('.graphiql-response');
  if (!pane) return null;
  const cm = pane.querySelector('.CodeMirror');
  const value = cm && cm.CodeMirror ? cm.CodeMirror.getValue() : '';
  return { value: value, text: pane.innerText || '' };
}
"""
QUERY_EDITOR_JS = """
() => {
  const cm = document.querySelector('.graphiql-query-editor .CodeMirror');
  return cm && cm.CodeMirror ? cm.CodeMirror.getValue() : null;
}
"""


def drive_browser(sync_playwright, chromium, origin, shot_dir):
    """Runs the browser part; returns a one-line success note or raises CheckFailed."""
    outside = []  # requests to any origin but the server's
    http_errors = []  # answers of the server with status >= 400
    problems = []  # diagnostics: page errors, failed requests, HTTP errors

    def allowed(url):
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        return f"{parts.scheme.replace('ws', 'http')}://{parts.netloc}" == origin

    def on_route(route):
        url = route.request.url
        if allowed(url):
            route.continue_()
        else:
            outside.append(url)
            route.abort("blockedbyclient")

    def on_websocket(ws):
        outside.append(ws.url)  # never connected to any server
        ws.close()

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=remaining_ms(),
        )
        try:
            context = browser.new_context(
                service_workers="block",
                viewport={"width": 1280, "height": 900},
                locale="en-US",
            )
            context.route("**/*", on_route)
            context.route_web_socket("**/*", on_websocket)
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on(
                "console",
                lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
            )
            page.on(
                "requestfailed",
                lambda r: problems.append(f"request failed: {r.method} {r.url} ({r.failure})"),
            )

            def on_response(r):
                if r.status >= 400:
                    http_errors.append(f"HTTP {r.status}: {r.request.method} {r.url}")
                    problems.append(http_errors[-1])

            page.on("response", on_response)

            def fail(msg):
                shot = os.path.join(shot_dir, "graphiql-offline-failure.png")
                try:
                    page.screenshot(path=shot, full_page=True, timeout=5000)
                    msg += f"\n  screenshot: {shot}"
                except Exception as e:  # the screenshot is a help, not the verdict
                    msg += f"\n  (no screenshot: {e})"
                if outside:
                    msg += "\n  requests outside the server:\n    " + "\n    ".join(outside)
                if problems:
                    msg += "\n  seen in the page:\n    " + "\n    ".join(problems[:20])
                raise CheckFailed(msg)

            from playwright.sync_api import Error as PlaywrightError
            from playwright.sync_api import TimeoutError as PlaywrightTimeout

            def step_ms():
                return min(int(STEP_LIMIT * 1000), remaining_ms())

            def wait_for(js, arg=None):
                """page.wait_for_function, but stops at once on a request outside the server
                or an HTTP error from it (the page cannot be whole then)."""
                end = time.monotonic() + step_ms() / 1000
                while True:
                    if outside:
                        fail("the page tried to reach something other than the server")
                    if http_errors:
                        fail("the server answered a request of the page with an error")
                    try:
                        return page.wait_for_function(js, arg=arg, timeout=500)
                    except PlaywrightTimeout:
                        if time.monotonic() >= end:
                            raise PlaywrightTimeout(f"not within {step_ms() / 1000:.0f} s") from None

            log(f"browser up; opening {origin}/graphql")
            try:
                resp = page.goto(f"{origin}/graphql", wait_until="load", timeout=step_ms())
            except PlaywrightError as e:
                fail(f"could not open {origin}/graphql: {e.message.splitlines()[0]}")
            ctype = (resp.headers.get("content-type") or "") if resp else ""
            if resp is None or resp.status != 200 or "text/html" not in ctype:
                fail(
                    f"GET /graphql from the browser answered "
                    f"{resp.status if resp else 'nothing'} {ctype!r}, not a 200 HTML page"
                )

            try:
                wait_for(
                    f"() => {{ const v = ({QUERY_EDITOR_JS})(); return v && v.includes('query Province'); }}"
                )
                page.wait_for_selector(
                    ".graphiql-query-editor .CodeMirror", state="visible", timeout=step_ms()
                )
                button = page.locator("button.graphiql-execute-button")
                button.wait_for(state="visible", timeout=step_ms())
            except PlaywrightError as e:
                fail(f"GraphiQL did not render its editor with the default query: {e.message.splitlines()[0]}")
            log("GraphiQL rendered with its default query; clicking the execute button")

            try:
                # GraphiQL also POSTs its introspection query: wait for the answer to ours.
                with page.expect_response(
                    lambda r: r.request.method == "POST"
                    and urlsplit(r.url).path == "/graphql"
                    and "province(" in (r.request.post_data or ""),
                    timeout=step_ms(),
                ) as answer:
                    button.click(timeout=step_ms())
                post = answer.value
            except PlaywrightError as e:
                fail(f"clicking execute sent no POST /graphql with the query: {e.message.splitlines()[0]}")
            if post.status != 200:
                fail(f"POST /graphql answered HTTP {post.status}")

            try:
                handle = wait_for(
                    f"""(expected) => {{
                          const r = ({RESPONSE_JS})();
                          return r && r.value.includes(expected) && r.text.includes(expected) ? r : null;
                        }}""",
                    arg=EXPECTED_NAME,
                )
            except PlaywrightError as e:
                shown = page.evaluate(RESPONSE_JS) or {}
                fail(
                    f"the response pane never showed {EXPECTED_NAME!r}: {e.message.splitlines()[0]}"
                    f"\n  response pane: {(shown.get('value') or shown.get('text') or '(empty)')[:500]!r}"
                )
            shown = handle.json_value()
            try:
                body = json.loads(shown["value"])
                province = body["data"]["province"]
                districts = province["districts"]
            except (ValueError, KeyError, TypeError) as e:
                fail(f"the response pane does not hold a province with districts ({e!r}): {shown['value'][:500]!r}")
            if body.get("errors") or province.get("name") != EXPECTED_NAME or not districts:
                fail(f"unexpected answer in the response pane: {shown['value'][:500]!r}")
            if outside:
                fail("the page tried to reach something other than the server")
            return (
                f"response pane shows province {province['code']} {province['name']!r} "
                f"with {len(districts)} districts (e.g. {districts[0]['name']!r})"
            )
        finally:
            browser.close()


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} PATH/TO/platform", file=sys.stderr)
        return False
    binary = os.path.abspath(argv[1])
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        log(f"FAIL: no executable server binary at {binary}")
        return False
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        log(f"FAIL: no Chromium at {chromium} (apt-get install -y chromium, or set CHROMIUM)")
        return False
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        log("FAIL: the Python package playwright is missing (pip install playwright==1.65.2)")
        return False

    workdir = tempfile.mkdtemp(prefix="graphiql-offline-")
    server_log = os.path.join(workdir, "server.log")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    server = None

    def watchdog():
        print(f"FAIL: the run took longer than {HARD_LIMIT:.0f} s; stopping", flush=True)
        try:
            stop_server(server)
        finally:
            summary(False)
            os._exit(1)

    timer = threading.Timer(HARD_LIMIT, watchdog)
    timer.daemon = True
    timer.start()
    ok = False
    try:
        with open(server_log, "wb") as lf:
            log(f"starting {binary} serve on {origin} in {workdir}")
            server = start_server(binary, workdir, port, lf)
            wait_healthy(server, origin)
            log("server healthy")
            note = drive_browser(sync_playwright, chromium, origin, workdir)
            log(f"PASS: {note}")
            ok = True
    except CheckFailed as e:
        log(f"FAIL: {e}")
    except Exception as e:  # a broken driver or browser is a failed check, said plainly
        log(f"FAIL: {type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}")
    finally:
        stop_server(server)
        timer.cancel()
        if not ok:
            end = tail(server_log)
            if end:
                print(f"--- end of the server's log ({server_log}) ---\n{end.rstrip()}\n---", flush=True)
    if ok:
        # Keep the work dir (and its log) only on failure.
        subprocess.run(["rm", "-rf", workdir], check=False)
    return ok


if __name__ == "__main__":
    passed = main(sys.argv)
    summary(passed)
    sys.exit(0 if passed else 1)

"""cors_wsgi.fetch agrees with headless Chromium, scenario by scenario.

Each scenario runs twice: in Chromium (a page on one loopback origin calls
``fetch()`` on another) and through :mod:`cors_wsgi.fetch` via
:func:`cors_wsgi.testing.browser_exchange` against the same WSGI app
in-process.  Allowed/blocked must agree, as must whether a preflight was sent,
its ``Access-Control-Request-Headers``, and which response headers the
script can read.

Two kinds of server: *scripted* ones answer fixed headers (misconfigured the
ways real servers are), and the browser suite's cors_wsgi policies.

Known divergences of shipping Chromium from the standard are listed by name
(:data:`cors_wsgi.fetch.DIVERGENCES`) and checked both ways: default Chromium
decides them the lenient way; with ``--enable-features=CorsNonWildcardRequestHeadersSupport``
Chromium follows the standard.

Self-contained: its own servers, and Chromium driven by Playwright in a
child process (so it never shares a Playwright instance with other tests).  Outside CI a
missing Chromium or Playwright skips with a reason; under ``CI=true`` it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cors_wsgi import CORSMiddleware
from cors_wsgi.fetch import DIVERGENCES, access_control_request_headers, needs_preflight, readable_headers
from cors_wsgi.testing import browser_exchange
from tests.browser.conftest import api_policies
from tests.servers import serve_wsgiref

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
STANDARD_FLAG = "--enable-features=CorsNonWildcardRequestHeadersSupport"
#: Divergences default Chromium is known to decide the lenient way.
KNOWN_CHROMIUM_DIVERGENCES = frozenset({"authorization-covered-by-wildcard"})
#: Page origin placeholder in scripted headers; replaced by the real one.
PAGE = "{page}"
PAGE_UPPER = "{PAGE}"

Headers = list[tuple[str, str]]


def chromium_path() -> str:
    missing = []
    path = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and os.access(p, os.X_OK)), None)
    if path is None:
        missing.append("Debian's chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -e '.[testing]')")
    if missing:
        reason = "the Chromium agreement test needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must install them", pytrace=False)
        pytest.skip(reason)
    assert path is not None
    return path


# -- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A script's fetch() and, for scripted servers, the two answers."""

    name: str
    method: str = "GET"
    headers: Headers = field(default_factory=list)
    credentials: bool = False
    preflight: tuple[int, Headers] = (204, [])
    actual: tuple[int, Headers] = (200, [("Access-Control-Allow-Origin", PAGE)])
    path: str | None = None  # set for cors_wsgi-served scenarios


ACAO = ("Access-Control-Allow-Origin", PAGE)
ACAC = ("Access-Control-Allow-Credentials", "true")
OK = (200, [ACAO])
OK_CREDS = (200, [ACAO, ACAC])


def pre(*headers: tuple[str, str], status: int = 204) -> tuple[int, Headers]:
    return status, list(headers)


SCRIPTED = [
    # CORS check on simple requests.
    Scenario("simple-get-origin-echoed"),
    Scenario("simple-get-no-acao", actual=(200, [])),
    Scenario("simple-get-star", actual=(200, [("Access-Control-Allow-Origin", "*")])),
    Scenario("simple-get-acao-twice", actual=(200, [ACAO, ACAO])),
    Scenario("simple-get-acao-star-twice", actual=(200, [("Access-Control-Allow-Origin", "*")] * 2)),
    Scenario("simple-get-acao-list", actual=(200, [("Access-Control-Allow-Origin", PAGE + ", https://other.example")])),
    Scenario("simple-get-acao-trailing-slash", actual=(200, [("Access-Control-Allow-Origin", PAGE + "/")])),
    Scenario("simple-get-acao-upper-case", actual=(200, [("Access-Control-Allow-Origin", PAGE_UPPER)])),
    Scenario("simple-get-acao-null", actual=(200, [("Access-Control-Allow-Origin", "null")])),
    Scenario("simple-get-acao-other", actual=(200, [("Access-Control-Allow-Origin", "https://app.example.com")])),
    Scenario("simple-get-acao-empty", actual=(200, [("Access-Control-Allow-Origin", "")])),
    Scenario("error-status-with-acao-is-readable", actual=(500, [ACAO])),
    # Credentials.
    Scenario("creds-star", credentials=True, actual=(200, [("Access-Control-Allow-Origin", "*"), ACAC])),
    Scenario("creds-no-acac", credentials=True, actual=OK),
    Scenario("creds-acac-capitalised", credentials=True, actual=(200, [ACAO, ("Access-Control-Allow-Credentials", "True")])),
    Scenario("creds-acac-twice", credentials=True, actual=(200, [ACAO, ACAC, ACAC])),
    Scenario("creds-ok", credentials=True, actual=OK_CREDS),
    # Safelisted request headers: no preflight.
    Scenario("text-plain-post", "POST", [("Content-Type", "text/plain;charset=UTF-8")]),
    Scenario("form-post", "POST", [("Content-Type", "application/x-www-form-urlencoded")]),
    Scenario("accept-and-language", headers=[("Accept", "application/json"), ("Accept-Language", "en-GB,fr;q=0.5")]),
    Scenario("range-bytes-0-10", headers=[("Range", "bytes=0-10")]),
    Scenario("forbidden-header-dropped", headers=[("Cookie", "a=b"), ("Sec-Fetch-Foo", "1")]),
    # Preflighted by the request-header rules; the server refuses (no ACAH).
    Scenario("json-post-refused", "POST", [("Content-Type", "application/json")], preflight=pre(ACAO)),
    Scenario("text-plain-quoted-charset", "POST", [("Content-Type", 'text/plain; charset="utf-8"')], preflight=pre(ACAO)),
    Scenario("content-type-no-subtype", "POST", [("Content-Type", "text/")], preflight=pre(ACAO)),
    Scenario("accept-language-underscore", headers=[("Accept-Language", "en_US")], preflight=pre(ACAO)),
    Scenario("accept-129-bytes", headers=[("Accept", "a" * 129)], preflight=pre(ACAO)),
    Scenario("accept-128-bytes", headers=[("Accept", "a" * 128)], preflight=pre(ACAO)),
    Scenario("range-suffix", headers=[("Range", "bytes=-500")], preflight=pre(ACAO)),
    Scenario("range-reversed", headers=[("Range", "bytes=10-0")], preflight=pre(ACAO)),
    Scenario("x-token-refused", headers=[("X-Token", "t")], preflight=pre(ACAO)),
    # Preflight status and CORS check.
    Scenario("preflight-404-with-acao", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), status=404)),
    Scenario("preflight-401-no-acao", "PUT", preflight=pre(status=401)),
    Scenario("preflight-200", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), status=200)),
    Scenario("preflight-299", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), status=299)),
    Scenario("preflight-301", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), ("Location", "/x"), status=301)),
    Scenario("preflight-no-acao", "PUT", preflight=pre(("Access-Control-Allow-Methods", "PUT"))),
    Scenario("preflight-acao-twice", "PUT", preflight=pre(ACAO, ACAO, ("Access-Control-Allow-Methods", "PUT"))),
    Scenario("preflight-creds-no-acac", "PUT", credentials=True, actual=OK_CREDS,
             preflight=pre(ACAO, ("Access-Control-Allow-Methods", "PUT"))),
    Scenario("preflight-ok-actual-no-acao", "PUT", actual=(200, []),
             preflight=pre(ACAO, ("Access-Control-Allow-Methods", "PUT"))),
    # Methods.
    Scenario("put-listed", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "GET, PUT"))),
    Scenario("put-not-listed", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "GET, DELETE"))),
    Scenario("put-no-acam", "PUT", preflight=pre(ACAO)),
    Scenario("put-acam-two-lines", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "DELETE"),
                                                         ("Access-Control-Allow-Methods", "PUT"))),
    Scenario("put-acam-empty-items", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", " , PUT,,"))),
    Scenario("put-acam-star", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "*"))),
    Scenario("put-acam-star-creds", "PUT", credentials=True, actual=OK_CREDS,
             preflight=pre(ACAO, ACAC, ("Access-Control-Allow-Methods", "*"))),
    Scenario("put-acam-not-a-list", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "PUT DELETE"))),
    Scenario("put-acah-not-a-list", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "PUT"),
                                                          ("Access-Control-Allow-Headers", "a b"))),
    Scenario("put-acam-lower-case", "PUT", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "put"))),
    Scenario("patch-lower-listed-lower", "patch", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "patch"))),
    Scenario("patch-lower-listed-upper", "patch", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "PATCH"))),
    Scenario("patch-upper-listed-lower", "PATCH", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "patch"))),
    Scenario("delete-lower-normalised", "delete", preflight=pre(ACAO, ("Access-Control-Allow-Methods", "DELETE"))),
    # Request headers.
    Scenario("x-token-listed", headers=[("X-Token", "t")], preflight=pre(ACAO, ("Access-Control-Allow-Headers", "x-token"))),
    Scenario("x-token-listed-upper", headers=[("X-Token", "t")], preflight=pre(ACAO, ("Access-Control-Allow-Headers", "X-TOKEN"))),
    Scenario("x-token-one-of-two-listed", headers=[("X-Token", "t"), ("X-Other", "o")],
             preflight=pre(ACAO, ("Access-Control-Allow-Headers", "X-Token"))),
    Scenario("x-token-star", headers=[("X-Token", "t")], preflight=pre(ACAO, ("Access-Control-Allow-Headers", "*"))),
    Scenario("x-token-star-creds", headers=[("X-Token", "t")], credentials=True, actual=OK_CREDS,
             preflight=pre(ACAO, ACAC, ("Access-Control-Allow-Headers", "*"))),
    Scenario("x-token-star-creds-listed", headers=[("X-Token", "t")], credentials=True, actual=OK_CREDS,
             preflight=pre(ACAO, ACAC, ("Access-Control-Allow-Headers", "*, X-Token"))),
    Scenario("json-content-type-listed", "POST", [("Content-Type", "application/json")],
             preflight=pre(ACAO, ("Access-Control-Allow-Headers", "Content-Type"))),
    Scenario("authorization-star", headers=[("Authorization", "Bearer t")],
             preflight=pre(ACAO, ("Access-Control-Allow-Headers", "*"))),
    Scenario("authorization-star-actual-blocked", headers=[("Authorization", "Bearer t")], actual=(200, []),
             preflight=pre(ACAO, ("Access-Control-Allow-Headers", "*"))),
    Scenario("authorization-star-and-listed", headers=[("Authorization", "Bearer t")],
             preflight=pre(ACAO, ("Access-Control-Allow-Headers", "*, Authorization"))),
    Scenario("authorization-star-creds", headers=[("Authorization", "Bearer t")], credentials=True, actual=OK_CREDS,
             preflight=pre(ACAO, ACAC, ("Access-Control-Allow-Headers", "*"))),
    Scenario("authorization-not-listed", headers=[("Authorization", "Bearer t")],
             preflight=pre(ACAO, ("Access-Control-Allow-Headers", "X-Token"))),
    # Exposed response headers.
    Scenario("expose-one", actual=(200, [ACAO, ("X-Exposed", "1"), ("X-Hidden", "2"),
                                         ("Access-Control-Expose-Headers", "X-Exposed")])),
    Scenario("expose-star", actual=(200, [ACAO, ("X-Exposed", "1"), ("Set-Cookie", "a=b"),
                                          ("Access-Control-Expose-Headers", "*")])),
    Scenario("expose-star-creds", credentials=True,
             actual=(200, [ACAO, ACAC, ("X-Exposed", "1"), ("Access-Control-Expose-Headers", "*")])),
    Scenario("expose-not-a-list", actual=(200, [ACAO, ("X-Exposed", "1"), ("Access-Control-Expose-Headers", "X-Exposed X-Hidden")])),
]

#: The browser suite's cors_wsgi policies (tests/browser/conftest.py), with the requests its tests make.
SUITE = [
    Scenario("cors-wsgi-simple-get", path="/simple/ok"),
    Scenario("cors-wsgi-other-origin", path="/elsewhere/ok"),
    Scenario("cors-wsgi-json-post-listed", "POST", [("Content-Type", "application/json")], path="/json/ok"),
    Scenario("cors-wsgi-json-post-not-listed", "POST", [("Content-Type", "application/json")], path="/simple/ok"),
    Scenario("cors-wsgi-put-listed", "PUT", path="/methods/ok"),
    Scenario("cors-wsgi-delete-listed", "DELETE", path="/methods/ok"),
    Scenario("cors-wsgi-put-not-listed", "PUT", path="/simple/ok"),
    Scenario("cors-wsgi-patch-lower-listed-lower", "patch", path="/methods/ok"),
    Scenario("cors-wsgi-patch-lower-listed-upper", "patch", path="/upper-patch/ok"),
    Scenario("cors-wsgi-header-listed", headers=[("X-Token", "t")], path="/headers/ok"),
    Scenario("cors-wsgi-header-not-listed", headers=[("X-Token", "t"), ("X-Other", "o")], path="/headers/ok"),
    Scenario("cors-wsgi-authorization-star", headers=[("Authorization", "Bearer t")], path="/any-headers/ok"),
    Scenario("cors-wsgi-star-other-header", headers=[("X-Anything", "1")], path="/any-headers/ok"),
    Scenario("cors-wsgi-authorization-listed", headers=[("Authorization", "Bearer t")], path="/any-headers-auth/ok"),
    Scenario("cors-wsgi-unrouted-url", "PUT", path="/methods/nowhere"),
    Scenario("cors-wsgi-creds-allowed", credentials=True, path="/creds/ok"),
    Scenario("cors-wsgi-creds-not-allowed", credentials=True, path="/simple/ok"),
    Scenario("cors-wsgi-expose", path="/expose/ok"),
    Scenario("cors-wsgi-app-404", path="/simple/missing"),
    Scenario("cors-wsgi-app-500", path="/simple/boom"),
    Scenario("cors-wsgi-allow-all-put", "PUT", path="/public/ok"),
    Scenario("cors-wsgi-uncovered-path", path="/not-covered/ok"),
]


def suite_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    leaf = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
    status = {"ok": "200 OK", "boom": "500 Internal Server Error"}.get(leaf, "404 Not Found")
    start_response(status, [("Content-Type", "text/plain"), ("X-Exposed", "1"), ("X-Hidden", "2")])
    return [b"body"]


# -- servers -----------------------------------------------------------------------------------


def page_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<!doctype html><title>page</title>"]


STATUS_TEXT = {200: "OK", 204: "No Content", 299: "Whatever", 301: "Moved Permanently", 401: "Unauthorized",
               404: "Not Found", 500: "Internal Server Error"}


class ApiApp:
    """``/scripted/<name>`` answers the scenario's fixed headers; any other
    path goes to the browser suite's policies (cors_wsgi)."""

    def __init__(self, page: str) -> None:
        self.page = page
        self.scripted = {s.name: s for s in SCRIPTED}
        # The browser suite's own policies, so the scenarios follow them.
        self.cors = CORSMiddleware(suite_app, api_policies(page, int(page.rsplit(":", 1)[1])))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes] | Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/scripted/"):
            return self.cors(environ, start_response)
        scenario = self.scripted[path.rsplit("/", 1)[-1]]
        is_preflight = environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        status, headers = scenario.preflight if is_preflight else scenario.actual
        start_response(f"{status} {STATUS_TEXT[status]}",
                       [(n, v.replace(PAGE_UPPER, self.page.upper()).replace(PAGE, self.page)) for n, v in headers] + [("Content-Length", "0")])
        return []


@dataclass
class Seen:
    method: str
    headers: dict[str, str]


class Recorder:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: dict[str, list[Seen]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        self.seen.setdefault(environ.get("QUERY_STRING", ""), []).append(Seen(environ["REQUEST_METHOD"], headers))
        return self.app(environ, start_response)


@dataclass
class Origins:
    page: str
    api: str
    app: ApiApp
    recorder: Recorder


@pytest.fixture(scope="module")
def origins() -> Iterator[Origins]:
    chromium_path()
    with serve_wsgiref(page_app) as (_, page_port):
        page = f"http://localhost:{page_port}"
        app = ApiApp(page)
        recorder = Recorder(app)
        with serve_wsgiref(recorder) as (_, api_port):
            yield Origins(page, f"http://localhost:{api_port}", app, recorder)


FETCH_JS = """async ([url, init]) => {
  try {
    const response = await fetch(url, init);
    await response.text();
    return {allowed: true, headers: [...response.headers.keys()]};
  } catch (error) {
    return {allowed: false, error: String(error)};
  }
}"""

#: Runs in a child process, so this file never shares a Playwright instance
#: (or its event loop) with other browser tests: reads the jobs as JSON on
#: stdin, prints {name: outcome} as JSON on stdout.
RUNNER = """
import json, sys
from playwright.sync_api import sync_playwright
job = json.load(sys.stdin)
results = {}
with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=job["chromium"], args=job["flags"])
    try:
        page = browser.new_context().new_page()
        page.goto(job["page"] + "/")
        for name, url, init in job["fetches"]:
            results[name] = page.evaluate(job["js"], [url, init])
    finally:
        browser.close()
print(json.dumps(results))
"""
SCENARIOS = SCRIPTED + SUITE


def scenario_url(origins: Origins, mode: str, scenario: Scenario) -> tuple[str, str]:
    query = f"{mode}-{scenario.name}"
    return query, f"{origins.api}{scenario.path or '/scripted/' + scenario.name}?{query}"


@pytest.fixture(scope="module", params=["default", "standard"])
def chromium(request: pytest.FixtureRequest, origins: Origins) -> tuple[str, dict[str, Any]]:
    """``(mode, {scenario name: outcome})``: every scenario fetched once in
    default Chromium, or in Chromium following the standard."""
    mode = request.param
    fetches = [
        (s.name, scenario_url(origins, mode, s)[1],
         {"method": s.method, "headers": s.headers, "credentials": "include" if s.credentials else "same-origin"})
        for s in SCENARIOS
    ]
    job = {"chromium": chromium_path(), "flags": FLAGS + ([STANDARD_FLAG] if mode == "standard" else []),
           "page": origins.page, "js": FETCH_JS, "fetches": fetches}
    done = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(job), capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return mode, json.loads(done.stdout)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_fetch_module_agrees_with_chromium(scenario: Scenario, chromium: tuple[str, dict[str, Any]],
                                           origins: Origins) -> None:
    mode, outcomes = chromium
    seen_by_chromium = outcomes[scenario.name]
    query, url = scenario_url(origins, mode, scenario)
    exchange = browser_exchange(origins.app, url, origin=origins.page, method=scenario.method,
                                headers=scenario.headers, credentials=scenario.credentials)
    verdict = exchange.verdict

    # The request Chromium sent is the one cors_wsgi.fetch predicts.
    sent = origins.recorder.seen.get(query, [])
    preflights = [s for s in sent if s.method == "OPTIONS" and "access-control-request-method" in s.headers]
    assert bool(preflights) == needs_preflight(exchange.request), (sent, verdict)
    if preflights:
        assert preflights[0].headers.get("access-control-request-headers") == access_control_request_headers(
            exchange.request)

    # Allowed or blocked: the standard's verdict, unless a known divergence.
    if verdict.divergence is not None:
        assert verdict.divergence in KNOWN_CHROMIUM_DIVERGENCES
    expected = verdict.allowed if mode == "standard" or verdict.divergence is None else not verdict.allowed
    assert seen_by_chromium["allowed"] == expected, f"{mode} Chromium: {seen_by_chromium}; cors_wsgi.fetch: {verdict}"

    # The script reads exactly the headers cors_wsgi.fetch says it may.
    if seen_by_chromium["allowed"] and exchange.response is not None:
        readable = {name.lower() for name, _ in readable_headers(exchange.request, exchange.response.headers)}
        # wsgiref adds Date, Server and Content-Length on the wire, not in-process.
        added_on_the_wire = {"date", "server", "content-length"}
        assert set(seen_by_chromium["headers"]) - added_on_the_wire == readable - added_on_the_wire


def test_authorization_under_star_is_the_listed_divergence() -> None:
    scenario = next(s for s in SCRIPTED if s.name == "authorization-star")
    app = ApiApp("http://localhost:1")
    exchange = browser_exchange(app, f"http://localhost:2/scripted/{scenario.name}", origin="http://localhost:1",
                                headers=scenario.headers)
    assert (exchange.verdict.allowed, exchange.verdict.step, exchange.verdict.divergence) == (
        False, "preflight-authorization", "authorization-covered-by-wildcard")


def test_every_divergence_cors_wsgi_fetch_names_is_known_for_chromium() -> None:
    assert set(DIVERGENCES) == KNOWN_CHROMIUM_DIVERGENCES

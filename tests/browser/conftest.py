"""Three browser engines against two loopback origins.

* The **page** origin, ``http://localhost:<P1>``, serves a blank page (and a
  page with a sandboxed iframe) from which scripts run ``fetch()``.
* The **API** origin, ``http://localhost:<P2>``, served by the stdlib's
  wsgiref server (it passes lower-case methods through), is a small WSGI app wrapped
  by cors_wsgi with one policy per path prefix, behind a recorder that sees
  every request the browser sends, preflights included.

Every browser test runs once per engine (``[chromium]``, ``[firefox]``,
``[webkit]``; drivers in :mod:`tests.browser.engines`).  Outside CI a missing
engine or client skips its tests with a one-line reason; under ``CI=true`` it
fails them.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from paste.deploy import loadapp

from cors_wsgi import CORSMiddleware, CORSPolicy
from examples.views_flask import create_app as create_views_app
from tests.browser.engines import ENGINES, Engine, Tab, require
from tests.servers import serve, serve_wsgiref

PASTE_INI = Path(__file__).with_name("paste_api.ini")
#: An origin no test page is on.
STRANGER = "https://stranger.example"


# -- the page origin -----------------------------------------------------------

PROBE_JS = """
window.probe = async (url, init) => {
  try {
    const response = await fetch(url, init || {});
    const body = await response.text();
    return {ok: true, status: response.status, body, headers: Object.fromEntries(response.headers)};
  } catch (error) {
    return {ok: false, error: String(error)};
  }
};
"""


def page_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """``/``: a blank page with ``window.probe``; ``/sandbox?target=URL``: a
    sandboxed iframe (``Origin: null``) that fetches URL and posts the outcome."""
    path = environ.get("PATH_INFO", "/")
    if path == "/sandbox":
        from urllib.parse import parse_qs

        target = parse_qs(environ.get("QUERY_STRING", "")).get("target", [""])[0]
        inner = (
            "<script>fetch(" + json.dumps(target) + ").then(r => r.text())"
            ".then(t => parent.postMessage('allowed', '*'), e => parent.postMessage('blocked', '*'));</script>"
        )
        body = (
            "<!doctype html><title>sandbox</title><script>window.result = null;"
            "addEventListener('message', e => { window.result = e.data; });</script>"
            f'<iframe sandbox="allow-scripts" srcdoc="{html.escape(inner)}"></iframe>'
        )
    else:
        body = f"<!doctype html><title>page</title><script>{PROBE_JS}</script>"
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body.encode()]


# -- the API origin --------------------------------------------------------------

def api_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Routes ``/<prefix>/ok``, ``/<prefix>/missing`` (404), ``/<prefix>/boom`` (500)."""
    leaf = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
    if leaf == "ok":
        body = json.dumps({"ok": True, "cookie": environ.get("HTTP_COOKIE", "")}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("X-Exposed", "1"), ("X-Hidden", "2")])
    elif leaf == "boom":
        body = b"server error"
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
    else:
        body = b"not found"
        start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [body]


@dataclass
class Seen:
    method: str
    path: str
    query: str
    status: str
    headers: dict[str, str]


@dataclass
class Recorder:
    """Outermost layer: records every request and the status it got."""

    app: Any
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}

        def recording_start_response(status: str, response_headers: Any, exc_info: Any = None) -> Any:
            with self.lock:
                self.seen.append(Seen(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                                      environ.get("QUERY_STRING", ""), status, headers))
            return start_response(status, response_headers, exc_info)

        return self.app(environ, recording_start_response)

    def requests(self, method: str, query: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.method == method and s.query == query]


def api_policies(page: str, page_port: int) -> dict[str, CORSPolicy]:
    return {
        "/simple/*": CORSPolicy(allow_origins=page),
        "/elsewhere/*": CORSPolicy(allow_origins="https://app.example.com"),
        "/json/*": CORSPolicy(allow_origins=page, allow_headers="Content-Type"),
        "/methods/*": CORSPolicy(allow_origins=page, allow_methods=["PUT", "DELETE", "patch"]),
        "/upper-patch/*": CORSPolicy(allow_origins=page, allow_methods="PATCH"),
        "/headers/*": CORSPolicy(allow_origins=page, allow_headers=["X-Token"]),
        "/any-headers/*": CORSPolicy(allow_origins=page, allow_headers="*"),
        "/any-headers-auth/*": CORSPolicy(allow_origins=page, allow_headers=["*", "Authorization"]),
        "/creds/*": CORSPolicy(allow_origins=page, allow_credentials=True),
        "/expose/*": CORSPolicy(allow_origins=page, expose_headers="X-Exposed"),
        "/cached/*": CORSPolicy(allow_origins=page, allow_methods="PUT", max_age=600),
        "/cached-a-day/*": CORSPolicy(allow_origins=page, allow_methods="PUT", max_age=86400),
        "/uncached/*": CORSPolicy(allow_origins=page, allow_methods="PUT", max_age=0),
        "/default-cache/*": CORSPolicy(allow_origins=page, allow_methods="PUT"),
        "/public/*": CORSPolicy(allow_origins="*", allow_methods="PUT"),
        "/subdomains/*": CORSPolicy(allow_origins=f"http://*.localhost:{page_port}"),
    }


@dataclass
class Origins:
    page: str
    page_port: int
    api: str
    recorder: Recorder

    def url(self, path: str, query: str) -> str:
        return f"{self.api}{path}?{query}"


@pytest.fixture(scope="session")
def origins() -> Iterator[Origins]:
    with serve(page_app) as (_, page_port):
        page = f"http://localhost:{page_port}"
        main = CORSMiddleware(api_app, api_policies(page, page_port))
        debug = CORSMiddleware(api_app, {
            "/debug/any-headers/*": CORSPolicy(allow_origins=page, allow_headers="*"),
            "/debug/*": CORSPolicy(allow_origins=page, allow_methods="PUT"),
        }, debug=True)
        pasted = loadapp(f"config:{PASTE_INI}", global_conf={"page_origin": page})
        # Per-view policies (examples.views_flask): under /views-admin/ only the
        # admin view lets the page in; under /views-site/ every view but it does.
        mounted = {
            "/views-admin": create_views_app(STRANGER, page),
            "/views-site": create_views_app(page, STRANGER),
        }

        def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
            path = environ.get("PATH_INFO", "")
            prefix = "/" + path.split("/", 2)[1] if path.count("/") >= 2 else ""
            if prefix in mounted:
                inner = dict(environ, SCRIPT_NAME=prefix, PATH_INFO=path[len(prefix):])
                return mounted[prefix](inner, start_response)
            target = debug if path.startswith("/debug/") else pasted if path.startswith("/paste/") else main
            return target(environ, start_response)

        recorder = Recorder(dispatch)
        with serve_wsgiref(recorder) as (_, api_port):
            yield Origins(page, page_port, f"http://localhost:{api_port}", recorder)


@pytest.fixture(scope="session", params=ENGINES)
def browser(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """One running engine per parameter; pytest runs each engine's tests together
    and stops one engine before starting the next."""
    start, binary = require(request.param)
    with start(binary) as engine:
        yield engine


@dataclass
class Page:
    """A clean tab (no cookies; Chromium: a fresh context) on the page origin."""

    tab: Tab
    origins: Origins

    @property
    def engine(self) -> Engine:
        return self.tab.engine

    @property
    def blocked(self) -> dict[str, Any]:
        """What ``window.probe`` returns for a fetch this engine blocked."""
        return {"ok": False, "error": self.engine.blocked}

    def fetch(self, path: str, query: str, init: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.tab.run(
            "(url, init) => window.probe(url, init)", self.origins.url(path, query), init or {}
        )
        return result


@pytest.fixture
def page(browser: Engine, origins: Origins) -> Iterator[Page]:
    tab = browser.tab()
    try:
        tab.goto(origins.page + "/")
        yield Page(tab, origins)
    finally:
        tab.close()


@pytest.fixture
def query(request: pytest.FixtureRequest) -> str:
    """A query string unique to the test, so requests and preflight caches never mix."""
    name: str = request.node.name
    return "t=" + name.replace("[", "-").replace("]", "")


def api_app_factory(global_conf: dict[str, str], **local_conf: str) -> Any:
    return api_app

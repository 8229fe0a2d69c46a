"""CrossOriginProtection in real browsers: a form POST and a fetch POST from a
page on another site are refused, the same from the same origin pass, a
same-site page passes only with allow_same_site=True, and report mode lets
everything through while its hook sees the refusals.

Two waitress servers run the same app, ports A and B; the target is always
``http://localhost:B``.  The page is on ``http://127.0.0.1:A`` (another
site: ``127.0.0.1`` and ``localhost`` are different hosts with no
registrable domain in common), ``http://localhost:A`` (same site: the
scheme and host match, only the port differs) or ``http://localhost:B``
(same origin).  Loopback hosts are potentially trustworthy, so every
engine sends ``Sec-Fetch-Site`` to them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cors_wsgi import CrossOriginProtection
from cors_wsgi.refusals import Refusal
from tests.browser.engines import Engine, Tab
from tests.servers import serve

PAGE = b"""<!doctype html><title>page</title><body><iframe name="sink"></iframe></body>"""


def target_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"changed state\n"]


def page_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [PAGE]


@dataclass
class Seen:
    path: str
    query: str
    status: str
    site: str | None
    origin: str | None


@dataclass
class Servers:
    a: int
    b: int
    seen: list[Seen]
    reported: list[Refusal]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def target(self, gate: str, query: str) -> str:
        return f"http://localhost:{self.b}/{gate}/submit?{query}"

    def wait(self, query: str, timeout: float = 10.0) -> Seen:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [s for s in self.seen if s.query == query and s.path.endswith("/submit")]
            if found:
                (only,) = found
                return only
            time.sleep(0.05)
        raise AssertionError(f"the browser sent no request for {query!r}")


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    seen: list[Seen] = []
    reported: list[Refusal] = []
    gates = {
        "/enforce": CrossOriginProtection(target_app),
        "/same-site": CrossOriginProtection(target_app, allow_same_site=True),
        "/report": CrossOriginProtection(target_app, mode="report", on_refusal=reported.append),
    }
    lock = threading.Lock()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        prefix = "/" + path.split("/", 2)[1] if path.count("/") >= 2 else ""
        gate = gates.get(prefix)
        if gate is None:
            return page_app(environ, start_response)

        def recording(status: str, headers: Any, exc_info: Any = None) -> Any:
            with lock:
                seen.append(Seen(path, environ.get("QUERY_STRING", ""), status,
                                 environ.get("HTTP_SEC_FETCH_SITE"), environ.get("HTTP_ORIGIN")))
            return start_response(status, headers, exc_info)

        return gate(environ, recording)

    with serve(app) as (_, a), serve(app) as (_, b):
        yield Servers(a, b, seen, reported, lock)


PAGES = {
    "cross-site": lambda s: f"http://127.0.0.1:{s.a}/page",
    "same-site": lambda s: f"http://localhost:{s.a}/page",
    "same-origin": lambda s: f"http://localhost:{s.b}/page",
}

FORM_POST = """(url) => {
  const form = document.createElement("form");
  form.method = "POST"; form.action = url; form.target = "sink";
  const input = document.createElement("input");
  input.name = "amount"; input.value = "1000";
  form.appendChild(input); document.body.appendChild(form); form.submit();
  return true;
}"""
FETCH_POST = """async (url) => {
  await fetch(url, {method: "POST", body: "amount=1000", mode: "no-cors", credentials: "include"})
    .catch(() => null);
  return true;
}"""
SENDERS = {"form": FORM_POST, "fetch": FETCH_POST}


@pytest.fixture
def tab(browser: Engine) -> Iterator[Tab]:
    tab = browser.tab()
    try:
        yield tab
    finally:
        tab.close()


def send(tab: Tab, servers: Servers, page: str, kind: str, gate: str, query: str) -> Seen:
    tab.goto(PAGES[page](servers))
    tab.run(SENDERS[kind], servers.target(gate, query))
    return servers.wait(query)


@pytest.fixture
def query(request: pytest.FixtureRequest) -> str:
    return "t=" + "".join(ch if ch.isalnum() else "-" for ch in request.node.name) + f"-{time.monotonic_ns()}"


@pytest.mark.parametrize("kind", ["form", "fetch"])
def test_cross_site_post_is_refused(tab: Tab, servers: Servers, kind: str, query: str) -> None:
    seen = send(tab, servers, "cross-site", kind, "enforce", query)
    assert (seen.status, seen.site) == ("403 Forbidden", "cross-site")


@pytest.mark.parametrize("kind", ["form", "fetch"])
def test_same_origin_post_passes(tab: Tab, servers: Servers, kind: str, query: str) -> None:
    seen = send(tab, servers, "same-origin", kind, "enforce", query)
    assert (seen.status, seen.site) == ("200 OK", "same-origin")


@pytest.mark.parametrize("kind", ["form", "fetch"])
def test_same_site_post_is_refused_by_default(tab: Tab, servers: Servers, kind: str, query: str) -> None:
    seen = send(tab, servers, "same-site", kind, "enforce", query)
    assert (seen.status, seen.site) == ("403 Forbidden", "same-site")


@pytest.mark.parametrize("kind", ["form", "fetch"])
def test_same_site_post_passes_with_allow_same_site(tab: Tab, servers: Servers, kind: str, query: str) -> None:
    seen = send(tab, servers, "same-site", kind, "same-site", query)
    assert (seen.status, seen.site) == ("200 OK", "same-site")


@pytest.mark.parametrize("kind", ["form", "fetch"])
def test_cross_site_post_is_refused_even_with_allow_same_site(
    tab: Tab, servers: Servers, kind: str, query: str
) -> None:
    seen = send(tab, servers, "cross-site", kind, "same-site", query)
    assert seen.status == "403 Forbidden"


@pytest.mark.parametrize("kind", ["form", "fetch"])
def test_report_mode_passes_the_cross_site_post_and_the_hook_sees_it(
    tab: Tab, servers: Servers, kind: str, query: str
) -> None:
    before = len(servers.reported)
    seen = send(tab, servers, "cross-site", kind, "report", query)
    assert seen.status == "200 OK"
    assert [(r.reason, r.method, r.origin) for r in servers.reported[before:]] == [
        ("csrf-cross-site", "'POST'", f"'http://127.0.0.1:{servers.a}'")]

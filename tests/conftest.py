"""Shared test helpers: a recording downstream app and WebTest apps (lint on)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import webtest

from cors_wsgi import CORSMiddleware, CORSPolicy

API = "https://app.example.com"
OTHER = "https://evil.example.net"


class RecordingApp:
    """A downstream WSGI app that answers a fixed response and counts calls."""

    def __init__(
        self,
        status: str = "200 OK",
        headers: Iterable[tuple[str, str]] = (("Content-Type", "application/json"),),
        body: bytes = b'{"ok": true}',
    ) -> None:
        self.status = status
        self.headers = list(headers)
        self.body = body
        self.calls = 0
        self.environ: dict[str, Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls += 1
        self.environ = environ
        start_response(self.status, list(self.headers))
        return [self.body]


class StartResponse:
    """A PEP 3333 ``start_response`` that records each call (status, headers)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]]]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
        self.calls.append((status, headers))
        return self.write

    def write(self, data: bytes) -> None:
        """The write callable: these tests' apps never use it."""

    @property
    def statuses(self) -> list[str]:
        return [status for status, _ in self.calls]

    @property
    def headers(self) -> list[list[tuple[str, str]]]:
        return [headers for _, headers in self.calls]


def discard_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
    """A PEP 3333 ``start_response`` that keeps nothing."""
    return _write_nothing


def _write_nothing(data: bytes) -> None:
    """The write callable of ``discard_response``."""


def ok_app(headers: list[tuple[str, str]] | None = None) -> Callable[[dict[str, Any], Any], list[bytes]]:
    """A WSGI app that answers ``200 OK`` with ``headers`` (the same list each time) and no body."""
    sent = [] if headers is None else headers

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", sent)
        return []

    return app


def make_client(
    policy: CORSPolicy | dict[str, CORSPolicy] | None = None,
    *,
    app: Any = None,
    debug: bool = False,
    **policy_kwargs: Any,
) -> tuple[webtest.TestApp, RecordingApp]:
    """A WebTest client (WSGI lint on) for ``CORSMiddleware(app, policy)``."""
    downstream = app if app is not None else RecordingApp()
    if policy is None:
        policy_kwargs.setdefault("allow_origins", [API])
        policy = CORSPolicy(**policy_kwargs)
    wrapped = CORSMiddleware(downstream, policy, debug=debug)
    return webtest.TestApp(wrapped, lint=True), downstream


def preflight_headers(
    origin: str = API, method: str = "PUT", request_headers: str | None = None
) -> dict[str, str]:
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers is not None:
        headers["Access-Control-Request-Headers"] = request_headers
    return headers


def cors_headers(response: webtest.TestResponse) -> dict[str, str]:
    """Every Access-Control-* response header, lower-cased name -> value."""
    return {
        name.lower(): value
        for name, value in response.headerlist
        if name.lower().startswith("access-control-")
    }


def header_values(response: webtest.TestResponse, name: str) -> list[str]:
    return [v for n, v in response.headerlist if n.lower() == name.lower()]


@pytest.fixture
def recording_app() -> RecordingApp:
    return RecordingApp()


_ENGINE_ID = re.compile(r"\[(?:[^\]]*-)?(chromium|firefox|webkit)(?:-[^\]]*)?\]$")


@pytest.fixture
def quick_health_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Notifier health checks every 1 s, answers due within 1 s (30 s and 10 s in production)."""
    from cors_wsgi import notify

    monkeypatch.setattr(notify, "HEALTH_CHECK_SECONDS", 1)
    monkeypatch.setattr(notify, "SOCKET_TIMEOUT_SECONDS", 1)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per browser engine with its counts, so CI output shows each engine's result."""
    counts: dict[str, Counter[str]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            match = _ENGINE_ID.search(getattr(report, "nodeid", ""))
            if match:
                counts.setdefault(match[1], Counter())[outcome] += 1
    if counts:
        terminalreporter.section("browser engines")
        for engine, seen in sorted(counts.items()):
            terminalreporter.line(f"[{engine}] " + " ".join(f"{seen[o]} {o}" for o in ("passed", "failed",
                                                                                   "skipped", "error")))

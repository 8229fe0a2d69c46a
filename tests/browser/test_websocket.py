"""WebSocketOriginGuard in real browsers: a handshake from a foreign page is
refused (the browser fires ``error`` then ``close``) and never reaches the
app; one from an allowed page reaches it.

There is no WebSocket server here: the app behind the guard answers ``200``,
so the browser fails the allowed handshake too (no ``101``); the recorder
proves it got through the guard, and that the foreign one did not.  The page
is on ``http://127.0.0.1:A`` (foreign) or ``http://localhost:A`` (allowed);
the socket on ``ws://localhost:B``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cors_wsgi import CORSPolicy, WebSocketOriginGuard
from tests.browser.engines import Engine
from tests.servers import serve

PAGE = b"<!doctype html><title>page</title>"
OPEN = """(url) => new Promise((resolve) => {
    const events = [];
    const socket = new WebSocket(url);
    socket.onopen = () => events.push("open");
    socket.onerror = () => events.push("error");
    socket.onclose = (event) => { events.push("close " + event.code); resolve(events); };
    setTimeout(() => resolve(events.concat(["timeout"])), 8000);
})"""


def page_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [PAGE]


class Handshakes:
    def __init__(self) -> None:
        self.seen: list[tuple[str | None, str]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            self.seen.append((environ.get("HTTP_ORIGIN"), environ.get("QUERY_STRING", "")))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"no websocket here\n"]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[int, int, Handshakes]]:
    with serve(page_app) as (_, page_port):
        handshakes = Handshakes()
        policy = CORSPolicy(allow_origins=[f"http://localhost:{page_port}"], allow_credentials=True)
        with serve(WebSocketOriginGuard(handshakes, policy=policy)) as (_, socket_port):
            yield page_port, socket_port, handshakes


@pytest.mark.parametrize(("host", "reaches"), [("127.0.0.1", False), ("localhost", True)],
                         ids=["foreign-page-refused", "allowed-page-reaches-the-app"])
def test_browser_websocket_handshake(browser: Engine, servers: tuple[int, int, Handshakes], host: str,
                                     reaches: bool) -> None:
    page_port, socket_port, handshakes = servers
    tab = browser.tab()
    try:
        tab.goto(f"http://{host}:{page_port}/")
        query = f"{host}-{uuid.uuid4().hex}"  # the servers are shared by every engine
        events = tab.run(OPEN, f"ws://localhost:{socket_port}/socket?{query}")
    finally:
        tab.close()
    assert "open" not in events, events
    assert "timeout" not in events, events
    assert events[0] == "error", events
    assert events[-1] == "close 1006", events
    seen = [origin for origin, seen_query in handshakes.seen if seen_query == query]
    assert seen == ([f"http://localhost:{page_port}"] if reaches else []), handshakes.seen

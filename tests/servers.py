"""Real servers on 127.0.0.1 for tests: started in a thread, always stopped."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

from webtest.http import StopableWSGIServer


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Return once ``host:port`` accepts a connection; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def serve(app: Any) -> Iterator[tuple[str, int]]:
    """Serve ``app`` with waitress on a free loopback port; yield ``(host, port)``."""
    server = StopableWSGIServer.create(app, host="127.0.0.1", expose_tracebacks=False)
    try:
        host, port = "127.0.0.1", int(server.adj.port)
        wait_for_port(host, port)
        yield host, port
    finally:
        server.shutdown()

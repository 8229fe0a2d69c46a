"""The WSGI apps ``end_to_end.py`` serves (``e2e_apps:<name>``).

``static`` is the control: the bare app sending, as constants, the very CORS
headers cors_wsgi sends to the allowed origin, so its cost minus the bare
app's is the cost of the header bytes themselves.  ``counted_*`` wrap an app
to count the connections requests arrive on (distinct ``REMOTE_ADDR``,
``REMOTE_PORT``); ``GET /__connections`` answers ``<requests> <connections>``
and starts counting afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from candidates import ALLOWED_ORIGIN, EXPOSE, bare_app, policy

from cors_wsgi import CORSMiddleware

_STATIC = (
    ("Vary", "Origin"),
    ("Access-Control-Allow-Origin", ALLOWED_ORIGIN),
    ("Access-Control-Allow-Credentials", "true"),
    ("Access-Control-Expose-Headers", EXPOSE[0].lower()),
)


def static(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [
        ("Content-Type", "application/json"), ("Content-Length", "2"), ("X-Request-Id", "1"), *_STATIC,
    ])
    return [b"{}"]


bare = bare_app
cors_wsgi = CORSMiddleware(bare_app, policy())


def _wsgicors() -> Any:
    from candidates import _wsgicors as build

    return build()


try:
    wsgicors = _wsgicors()
except ImportError:  # pragma: no cover: a peer, installed for benchmarking only
    wsgicors = None


class Counted:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0
        self.connections: set[tuple[str, str]] = set()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/__connections":
            body = f"{self.requests} {len(self.connections)}".encode()
            self.requests, self.connections = 0, set()
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
            return [body]
        self.requests += 1  # approximate under threads; the count of requests comes from wrk
        self.connections.add((environ.get("REMOTE_ADDR", ""), environ.get("REMOTE_PORT", "")))
        return self.app(environ, start_response)


counted_cors_wsgi = Counted(cors_wsgi)
#: The same, answering allowed preflights ``200`` with ``Content-Length: 0``.
counted_cors_wsgi_200 = Counted(CORSMiddleware(bare_app, policy(preflight_status=200)))

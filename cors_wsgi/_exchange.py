"""Running the requests a browser sends for one ``fetch()`` against a WSGI
app in-process (or any sender), and turning responses into
:class:`cors_wsgi.fetch.Response`: the exchange runner that
:mod:`cors_wsgi.testing`, ``explain()`` and the ``cors-wsgi`` command share.
The public names are re-exported by :mod:`cors_wsgi.testing`.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from cors_wsgi.fetch import (
    Credentials,
    Request,
    Response,
    Verdict,
    actual_request_headers,
    evaluate,
    needs_preflight,
    preflight_check,
    preflight_request_headers,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["Exchange", "Sender", "browser_exchange", "call_wsgi", "exchange", "to_response"]

Header = tuple[str, str]
#: ``send(method, url, headers) -> (response, body)``: how an exchange reaches a server.
Sender = Callable[[str, str, list[Header]], tuple[Response, bytes]]


@dataclass(frozen=True)
class Exchange:
    """What a browser sent and got for one ``fetch()``.

    :ivar request: the :class:`~cors_wsgi.fetch.Request` described.
    :ivar preflight: the preflight response, or ``None`` when none was sent.
    :ivar response: the actual response, or ``None`` when the preflight
        failed (a browser then never sends the request).
    :ivar body: the actual response's body (``b""`` when none).
    :ivar verdict: the browser's :class:`~cors_wsgi.fetch.Verdict`.
    :ivar preflight_body: the preflight response's body (a refusal often says why).
    """

    request: Request
    preflight: Response | None
    response: Response | None
    body: bytes
    verdict: Verdict
    preflight_body: bytes = b""

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed


def _environ(
    method: str, url: str, headers: Iterable[Header], extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    host = parts.netloc or "localhost"
    port = parts.port or (443 if scheme == "https" else 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        # PEP 3333: the decoded path's bytes as latin-1.
        "PATH_INFO": unquote(parts.path or "/", encoding="latin-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        # Repeated request headers reach WSGI joined by "," (PEP 3333, RFC 9110).
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ.update(extra or {})
    return environ


def call_wsgi(
    app: WSGIApplication, method: str, url: str, headers: Iterable[Header] = (),
    environ: Mapping[str, Any] | None = None,
) -> tuple[Response, bytes]:
    """Call ``app`` once as a server would; return its response (header
    lines as sent, repeats kept) and body.  Closes the body iterable."""
    captured: list[tuple[str, list[Header]]] = []

    def start_response(status: str, response_headers: list[Header], exc_info: Any = None) -> Any:
        # Nothing is sent before the body is joined, so a second call (with
        # exc_info, PEP 3333) just replaces the first.
        captured[:] = [(status, list(response_headers))]
        return lambda data: None

    iterable = app(_environ(method, url, headers, environ), start_response)
    try:
        body = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    if not captured:
        raise AssertionError(f"the app did not call start_response for {method} {url}")
    status, response_headers = captured[0]
    return Response.from_wsgi(status, response_headers), body


def _url(url: str) -> str:
    return url if "://" in url else "http://localhost" + (url if url.startswith("/") else "/" + url)


def browser_exchange(
    app: WSGIApplication | Any,
    url: str,
    *,
    origin: str,
    method: str = "GET",
    headers: Sequence[Header] | Mapping[str, str] = (),
    credentials: Credentials | bool = False,
    environ: Mapping[str, Any] | None = None,
) -> Exchange:
    """Do what a browser does for ``fetch(url, {method, headers, credentials})``
    from a page on ``origin``, against the WSGI ``app`` in-process: the
    preflight first when the browser would send one (and stop there if it
    fails, as browsers do), then the actual request; judge both.

    :param app: a WSGI callable, or a ``webtest.TestApp`` (its ``.app`` is used).
    :param url: a path (``"/api/items?id=1"``, served as ``http://localhost``)
        or a full URL (``"https://api.example.com/items"``).
    :param origin: the page's origin, ``"https://app.example.com"``.
    :param headers: the headers the script sets (forbidden ones are dropped,
        as browsers do).
    :param credentials: ``True`` or ``"include"`` for ``credentials: "include"``.
    :param environ: extra WSGI environ keys for the actual request only, e.g.
        ``{"HTTP_COOKIE": "session=abc"}`` (a preflight never carries cookies).
    """
    wsgi_app = getattr(app, "app", app) if type(app).__name__ == "TestApp" else app
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    request = Request(origin=origin, method=method, headers=pairs, credentials=credentials, url=_url(url))

    def send(method: str, url: str, headers: list[Header]) -> tuple[Response, bytes]:
        return call_wsgi(wsgi_app, method, url, headers, environ if method != "OPTIONS" else None)

    return exchange(request, send)


def exchange(request: Request, send: Sender) -> Exchange:
    """Run ``request`` as a browser does, sending with ``send(method, url,
    headers) -> (response, body)``: the preflight first when needed (and no
    further if it fails, unless shipping browsers still let it through, see
    :data:`cors_wsgi.fetch.DIVERGENCES`), then the actual request.
    ``request.url`` must be set.  Used by :func:`browser_exchange` (WSGI
    in-process) and ``cors-wsgi probe`` (HTTP)."""
    if request.url is None:
        raise ValueError("the request needs a url")
    preflight: Response | None = None
    preflight_body = b""
    if needs_preflight(request):
        preflight, preflight_body = send("OPTIONS", request.url, preflight_request_headers(request))
        checked = preflight_check(request, preflight)
        if not checked.allowed and checked.divergence is None:
            # Browsers stop here: the actual request is never sent.
            return Exchange(request, preflight, None, b"", checked, preflight_body)
    response, body = send(request.method, request.url, actual_request_headers(request))
    verdict = evaluate(request, response, preflight=preflight)
    return Exchange(request, preflight, response, body, verdict, preflight_body)


def to_response(response: object) -> Response:
    """A :class:`~cors_wsgi.fetch.Response` from a WebTest/WebOb response,
    a Flask/Werkzeug test response, a ``(status, headers)`` pair (status
    ``"200 OK"`` or ``200``), or a :class:`~cors_wsgi.fetch.Response`."""
    if isinstance(response, Response):
        return response
    if isinstance(response, tuple) and len(response) == 2:
        status, headers = response
        code = int(str(status).split(None, 1)[0])
        return Response(code, list(headers))
    status = getattr(response, "status_int", None)
    if status is None:
        status = getattr(response, "status_code", None)
    header_list = getattr(response, "headerlist", None)
    if header_list is None:
        raw = getattr(response, "headers", None)
        to_list = getattr(raw, "to_wsgi_list", None)  # Werkzeug keeps repeated lines here
        header_list = to_list() if to_list is not None else (list(raw.items()) if raw is not None else None)
    if not isinstance(status, int) or header_list is None:
        raise TypeError(
            "expected a WebTest/WebOb or Werkzeug response, a (status, headers) pair or a "
            f"cors_wsgi.fetch.Response, not {type(response).__name__}"
        )
    return Response(status, list(header_list))

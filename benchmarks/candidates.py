"""The policy, the bare apps and every candidate of ``compare.py``, built once.

Every candidate is a WSGI callable plus the bare app it is compared with:

* the plain WSGI group shares one bare app (``bare_app``): the floor (a
  layer that does not wrap ``start_response``), a layer that does,
  cors_wsgi, wsgicors and wsgi-cors-middleware;
* each framework peer is compared with its own framework without CORS:
  flask-cors over Flask, django-cors-headers over Django, Falcon's
  ``CORSMiddleware`` over Falcon, Starlette's ``CORSMiddleware`` over
  Starlette.  Starlette is ASGI: both the bare and the CORS app are driven
  in-process by ``AsgiDriver`` (one coroutine ``send(None)``, no event loop,
  no thread), so the driver's cost is in the bare floor too.

Peers are imported only when asked for (``build(names)``); a missing package
makes ``missing()`` name it instead of failing, so the harness runs with just
cors_wsgi and the pass-through layers (the smoke test does).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cors_wsgi import CORSMiddleware, CORSPolicy

# -- the one policy every candidate is configured with ------------------------

ORIGINS = ("https://app.example.com", "https://admin.example.com")
#: The allowed origin requests come from: the second, which a one-origin peer cannot express.
ALLOWED_ORIGIN = ORIGINS[1]
METHODS = ("PUT", "DELETE")
HEADERS = ("Content-Type", "Authorization")
EXPOSE = ("X-Request-Id",)
MAX_AGE = 600

#: The scale policy: 1,000 exact origins and 50 subdomain wildcards.
SCALE_EXACT = tuple(f"https://app{i}.example.com" for i in range(1000))
SCALE_WILDCARDS = tuple(f"https://*.tenant{i}.example.net" for i in range(50))

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_BODY = b"{}"


def bare_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The app every plain WSGI candidate wraps: ``/api/items`` answers 200
    JSON to any method, any other path 404.  A fresh header list per call
    (wsgicors appends to the list it is given)."""
    if environ.get("PATH_INFO") == "/api/items":
        start_response("200 OK", [
            ("Content-Type", "application/json"), ("Content-Length", "2"), ("X-Request-Id", "1"),
        ])
        return [_BODY]
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]


class Floor:
    """A pass-through layer that does not wrap ``start_response``: the floor."""

    def __init__(self, app: Wsgi) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.app(environ, start_response)


class WrappingPassThrough:
    """A pass-through layer that wraps ``start_response`` as PEP 3333 asks
    (forwards ``exc_info``, returns ``write``) and copies the header list."""

    def __init__(self, app: Wsgi) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def shim(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is None:
                return start_response(status, list(headers))
            return start_response(status, list(headers), exc_info)

        return self.app(environ, shim)


def policy(origins: Iterable[str] = ORIGINS, **options: Any) -> CORSPolicy:
    """The common policy; ``options`` adds arguments (``preflight_status=200``)."""
    return CORSPolicy(
        allow_origins=list(origins), allow_methods=list(METHODS), allow_headers=list(HEADERS),
        expose_headers=list(EXPOSE), allow_credentials=True, max_age=MAX_AGE, **options,
    )


# -- peers --------------------------------------------------------------------


def _wsgicors(origins: Iterable[str] = ORIGINS) -> Wsgi:
    from wsgicors import CORS

    return CORS(  # type: ignore[no-any-return]
        bare_app, headers=", ".join(HEADERS), methods=", ".join(METHODS),
        origin=" ".join(origins), expose_headers=", ".join(EXPOSE),
        credentials="true", maxage=str(MAX_AGE),
    )


def _wsgi_cors_middleware() -> Wsgi:
    from wsgi_cors_middleware import CorsMiddleware

    # One fixed Access-Control-Allow-Origin value: the second allowed origin
    # cannot be expressed, nor can refusing an origin.
    return CorsMiddleware(  # type: ignore[no-any-return]
        bare_app, origin=ORIGINS[0], credentials=True, headers=list(HEADERS),
        methods=list(METHODS), expose_headers=list(EXPOSE), max_age=MAX_AGE,
    )


def _flask(cors: bool) -> Wsgi:
    from flask import Flask

    app = Flask(f"bench_{cors}")

    @app.route("/api/items", methods=["GET", "PUT", "DELETE"])
    def items() -> Any:
        return app.response_class(_BODY, mimetype="application/json", headers={"X-Request-Id": "1"})

    if cors:
        from flask_cors import CORS

        CORS(app, origins=list(ORIGINS), methods=list(METHODS), allow_headers=list(HEADERS),
             expose_headers=list(EXPOSE), supports_credentials=True, max_age=MAX_AGE)
    return app.wsgi_app


_django_handlers: dict[bool, Wsgi] = {}


def _django(cors: bool) -> Wsgi:
    """Django's settings are global: both handlers are built at once, each
    loads its middleware list when constructed."""
    if cors in _django_handlers:
        return _django_handlers[cors]
    import sys
    import types

    import django
    from django.conf import settings

    urls = types.ModuleType("bench_django_urls")
    sys.modules["bench_django_urls"] = urls
    settings.configure(
        DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF="bench_django_urls", SECRET_KEY="bench",
        MIDDLEWARE=["corsheaders.middleware.CorsMiddleware"], INSTALLED_APPS=[], DATABASES={},
        USE_TZ=True, CORS_ALLOWED_ORIGINS=list(ORIGINS), CORS_ALLOW_METHODS=list(METHODS),
        CORS_ALLOW_HEADERS=[h.lower() for h in HEADERS], CORS_EXPOSE_HEADERS=list(EXPOSE),
        CORS_ALLOW_CREDENTIALS=True, CORS_PREFLIGHT_MAX_AGE=MAX_AGE,
    )
    django.setup()
    from django.http import HttpResponse
    from django.urls import path

    def items(request: Any) -> Any:
        response = HttpResponse(_BODY, content_type="application/json")
        response["X-Request-Id"] = "1"
        return response

    urls.urlpatterns = [path("api/items", items)]  # type: ignore[attr-defined]
    from django.core.handlers.wsgi import WSGIHandler

    _django_handlers[True] = WSGIHandler()
    settings.MIDDLEWARE = []
    _django_handlers[False] = WSGIHandler()
    return _django_handlers[cors]


def _falcon(cors: bool) -> Wsgi:
    import falcon

    class Items:
        def on_get(self, req: Any, resp: Any) -> None:
            resp.data = _BODY
            resp.content_type = "application/json"
            resp.set_header("X-Request-Id", "1")

        on_put = on_delete = on_get

    middleware = []
    if cors:
        # Falcon's CORS cannot list methods, request headers or a max age: it
        # answers a preflight with the route's methods, echoes the requested
        # headers and sends max age 86400.
        middleware.append(falcon.CORSMiddleware(
            allow_origins=list(ORIGINS), expose_headers=list(EXPOSE), allow_credentials=list(ORIGINS),
        ))
    app = falcon.App(middleware=middleware)
    app.add_route("/api/items", Items())
    return app  # type: ignore[no-any-return]


class AsgiDriver:
    """Runs an ASGI app in-process for one WSGI-shaped call: the scope
    (precomputed per scenario, copied per call) and one ``send(None)`` of
    the app's coroutine; an app that awaits real I/O is an error here."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        scope = dict(environ["bench.asgi_scope"])
        scope["headers"] = list(scope["headers"])
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        coroutine = self.app(scope, receive, send)
        try:
            coroutine.send(None)
        except StopIteration:
            pass
        else:
            coroutine.close()
            raise RuntimeError("the ASGI app awaited real I/O; AsgiDriver cannot drive it")
        start = sent[0]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
        start_response(f"{start['status']} -", headers)
        return [m.get("body", b"") for m in sent[1:]]


def asgi_scope(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "server": ("api.example.com", 443), "client": ("127.0.0.1", 50000),
        "headers": tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
    }


def _starlette(cors: bool) -> Wsgi:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware as StarletteCORS
    from starlette.responses import Response
    from starlette.routing import Route

    async def items(request: Any) -> Any:
        return Response(_BODY, media_type="application/json", headers={"X-Request-Id": "1"})

    middleware = []
    if cors:
        middleware.append(Middleware(
            StarletteCORS, allow_origins=list(ORIGINS), allow_methods=list(METHODS),
            allow_headers=list(HEADERS), expose_headers=list(EXPOSE), allow_credentials=True,
            max_age=MAX_AGE,
        ))
    app = Starlette(routes=[Route("/api/items", items, methods=["GET", "PUT", "DELETE"])],
                    middleware=middleware)
    return AsgiDriver(app)


def _compiled() -> Wsgi:
    """cors_wsgi built with mypyc by ``compiled.py`` (package ``cors_wsgi_compiled``)."""
    import cors_wsgi_compiled as compiled

    return compiled.CORSMiddleware(  # type: ignore[no-any-return]
        bare_app, compiled.CORSPolicy(
            allow_origins=list(ORIGINS), allow_methods=list(METHODS), allow_headers=list(HEADERS),
            expose_headers=list(EXPOSE), allow_credentials=True, max_age=MAX_AGE,
        ),
    )


def _baseline(origins: Iterable[str] = ORIGINS) -> Wsgi:
    """An earlier cors_wsgi, copied by ``baseline.py`` (package ``cors_wsgi_baseline``)."""
    import cors_wsgi_baseline as baseline

    return baseline.CORSMiddleware(  # type: ignore[no-any-return]
        bare_app, baseline.CORSPolicy(
            allow_origins=list(origins), allow_methods=list(METHODS), allow_headers=list(HEADERS),
            expose_headers=list(EXPOSE), allow_credentials=True, max_age=MAX_AGE,
        ),
    )


# -- the candidate table ----------------------------------------------------


@dataclass(frozen=True)
class Spec:
    name: str
    #: The name of the candidate this one's overhead is measured over.
    bare: str
    #: Distribution names needed (import names checked with find_spec).
    needs: tuple[str, ...]
    build: Callable[[], Wsgi]
    #: Frameworks write into environ: they get a fresh copy per call.
    copies_environ: bool = False
    group: str = "wsgi"


SPECS: tuple[Spec, ...] = (
    Spec("bare app", "bare app", (), lambda: bare_app),
    Spec("floor (no shim)", "bare app", (), lambda: Floor(bare_app)),
    Spec("pass-through (shim)", "bare app", (), lambda: WrappingPassThrough(bare_app)),
    Spec("cors_wsgi", "bare app", (), lambda: CORSMiddleware(bare_app, policy())),
    # Only with compare.py --compiled DIR (compiled.py builds it).
    Spec("cors_wsgi (mypyc)", "bare app", ("cors_wsgi_compiled",), _compiled),
    # Only with compare.py --baseline DIR (baseline.py copies it).
    Spec("cors_wsgi (baseline)", "bare app", ("cors_wsgi_baseline",), _baseline),
    Spec("wsgicors", "bare app", ("wsgicors",), _wsgicors),
    Spec("wsgi-cors-middleware", "bare app", ("wsgi_cors_middleware",), _wsgi_cors_middleware),
    Spec("Flask", "Flask", ("flask",), lambda: _flask(False), True, "framework"),
    Spec("flask-cors", "Flask", ("flask", "flask_cors"), lambda: _flask(True), True, "framework"),
    Spec("Django", "Django", ("django",), lambda: _django(False), True, "framework"),
    Spec("django-cors-headers", "Django", ("django", "corsheaders"), lambda: _django(True), True,
         "framework"),
    Spec("Falcon", "Falcon", ("falcon",), lambda: _falcon(False), True, "framework"),
    Spec("Falcon CORS", "Falcon", ("falcon",), lambda: _falcon(True), True, "framework"),
    Spec("Starlette", "Starlette", ("starlette",), lambda: _starlette(False), False, "framework"),
    Spec("Starlette CORS", "Starlette", ("starlette",), lambda: _starlette(True), False, "framework"),
    # The scale policy (scale scenarios only).
    Spec("cors_wsgi 1,050", "bare app", (),
         lambda: CORSMiddleware(bare_app, policy(SCALE_EXACT + SCALE_WILDCARDS)), False, "scale"),
    # Only with compare.py --baseline DIR: the earlier cors_wsgi under the scale policy.
    Spec("cors_wsgi 1,050 (baseline)", "bare app", ("cors_wsgi_baseline",),
         lambda: _baseline(SCALE_EXACT + SCALE_WILDCARDS), False, "scale"),
    Spec("wsgicors 1,050", "bare app", ("wsgicors",),
         lambda: _wsgicors(SCALE_EXACT + SCALE_WILDCARDS), False, "scale"),
)


def missing(spec: Spec) -> list[str]:
    """The import names ``spec`` needs that are not installed."""
    return [name for name in spec.needs if importlib.util.find_spec(name) is None]

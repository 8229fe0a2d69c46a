"""``CORSMiddleware``: the WSGI layer that speaks the CORS protocol.

Wrap any WSGI application (Flask, Django, Pyramid, Falcon, Bottle, plain
WSGI)::

    from cors_wsgi import CORSMiddleware, CORSPolicy

    app.wsgi_app = CORSMiddleware(          # Flask; for others wrap the
        app.wsgi_app,                       # WSGI callable the same way
        CORSPolicy(allow_origins=["https://app.example.com"],
                   allow_headers=["Content-Type"]),
    )

Per request (https://fetch.spec.whatwg.org/#http-cors-protocol):

* A **preflight request** (``OPTIONS`` with ``Origin`` and
  ``Access-Control-Request-Method``) is answered here, on every covered
  path, including URLs the application does not route: the application is
  not called and ``wsgi.input`` is not read.  Allowed: ``204 No Content``
  with the allow-headers.  Refused: ``403 Forbidden``, a short plain-text
  body, and no ``Access-Control-Allow-*`` header at all.
* Every other request reaches the application once.  Through a
  ``start_response`` shim, the application's own ``Access-Control-*``
  headers are removed, the policy's answer is added (one
  ``Access-Control-Allow-Origin`` for an allowed origin, nothing for any
  other), and ``Origin`` is merged into ``Vary`` (unless the policy allows
  every origin), for every status, error responses included.

The shim follows PEP 3333 to the letter: it forwards ``exc_info``, returns
the server's ``write`` callable, hands the server a fresh header list each
time, and returns the application's iterable untouched, so ``close()``
still reaches it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from cors_wsgi._engine import Engine, Header
from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.policy import CORSPolicy

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["CORSMiddleware"]

logger = logging.getLogger("cors_wsgi")

#: What ``catch_exceptions=True`` answers when the wrapped app raises.
ERROR_STATUS = "500 Internal Server Error"
_ERROR_BODY = b"Internal Server Error\n"
_ERROR_HEADERS: tuple[Header, ...] = (
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(_ERROR_BODY))),
)

def _rewrite(headers: list[Header], add: tuple[Header, ...], vary_origin: bool) -> list[Header]:
    """A fresh header list: the app's, less its ``Access-Control-*`` headers,
    with ``Origin`` merged into ``Vary`` and ``add`` appended."""
    out: list[Header] = []
    vary_at = -1
    for header in headers:
        name = header[0]
        first = name[:1]
        if first in "aA" and name[:15].lower() == "access-control-":
            continue
        if vary_origin and first in "vV" and name.lower() == "vary":
            for token in header[1].split(","):
                token = token.strip().lower()
                if token == "origin" or token == "*":
                    vary_origin = False  # already varies by Origin, or by everything
                    break
            vary_at = len(out)
        out.append(header)
    if vary_origin:
        if vary_at < 0:
            out.append(("Vary", "Origin"))
        else:
            name, value = out[vary_at]
            out[vary_at] = (name, f"{value}, Origin" if value.strip() else "Origin")
    if add:
        out.extend(add)
    return out


def _compile_paths(
    policy: CORSPolicy | Mapping[str, CORSPolicy],
) -> tuple[Engine | None, tuple[tuple[str, bool, Engine], ...]]:
    """``(engine, ())`` for a single policy; ``(None, routes)`` for a mapping
    of path patterns, each route ``(path, is_prefix, engine)`` in order."""
    if isinstance(policy, CORSPolicy):
        return policy._engine, ()
    if not isinstance(policy, Mapping):
        raise CORSConfigError([Problem(
            "invalid-type", "policy", policy,
            "expected a CORSPolicy, or a mapping of path pattern to CORSPolicy "
            "such as {'/api/*': CORSPolicy(...)}.",
        )])
    problems: list[Problem] = []
    routes: list[tuple[str, bool, Engine]] = []
    if not policy:
        problems.append(Problem(
            "no-paths", "policy", policy,
            "the mapping is empty, so no path would get CORS headers; add "
            "{'/*': CORSPolicy(...)} to cover every path.",
        ))
    for pattern, item in policy.items():
        if not isinstance(item, CORSPolicy):
            problems.append(Problem(
                "invalid-type", "policy", item,
                f"the value for {pattern!r} must be a CORSPolicy.",
            ))
            continue
        if not isinstance(pattern, str) or not pattern.startswith("/"):
            problems.append(Problem(
                "invalid-path-pattern", "paths", pattern,
                "a path pattern starts with '/', e.g. '/api/*' or '/health'.",
            ))
            continue
        is_prefix = pattern.endswith("/*")
        path = pattern[:-2] if is_prefix else pattern
        if "*" in path:
            problems.append(Problem(
                "invalid-path-pattern", "paths", pattern,
                "'*' may only end a pattern, after '/': '/api/*' covers /api, "
                "/api/ and everything below it.",
            ))
            continue
        # PATH_INFO is bytes decoded as latin-1 (PEP 3333): compare like for like.
        routes.append((pattern_to_wsgi(path), is_prefix, item._engine))
    if problems:
        raise CORSConfigError(problems)
    return None, tuple(routes)


def pattern_to_wsgi(path: str) -> str:
    """A path as text -> the form WSGI servers give ``PATH_INFO`` in (UTF-8
    bytes decoded as latin-1), e.g. ``"/café"`` -> ``"/cafÃ©"``."""
    return path.encode("utf-8").decode("latin-1")


class CORSMiddleware:
    """Wrap ``app`` so it speaks the CORS protocol as ``policy`` says.

    :param app: any WSGI application.
    :param policy: a :class:`~cors_wsgi.CORSPolicy` for every path, or a
        mapping of path pattern to policy, checked in insertion order, first
        match wins.  ``"/api/*"`` covers ``/api``, ``/api/`` and everything
        below it (never ``/apix``); a pattern without ``*`` is one exact path.
        Patterns match ``PATH_INFO`` as the server decoded it, case-sensitively,
        never decoded again.  A request on a path no pattern covers passes
        through untouched.
    :param debug: when an allowed origin's preflight asks for a method or
        header that is not allowed, answer ``204`` with the full configured
        lists instead of ``403``, so the browser console names the real cause,
        and log every refused preflight on the ``cors_wsgi`` logger.  A
        disallowed origin is still refused.  Default: ``False``.
    :param catch_exceptions: when the wrapped app raises before starting its
        response, log the exception with its traceback on the ``cors_wsgi``
        logger and answer ``500 Internal Server Error`` with the CORS headers,
        so the browser shows the 500 instead of a misleading CORS error.  An
        exception raised after the response started is re-raised unchanged.
        Off by default, so error-reporting middleware outside keeps seeing
        the exception.  Default: ``False``.
    :raises CORSConfigError: for a malformed ``policy`` mapping or a
        non-bool flag, with every problem found.
    """

    __slots__ = ("_engine", "_routes", "app", "catch_exceptions", "debug", "policy")

    def __init__(
        self,
        app: WSGIApplication,
        policy: CORSPolicy | Mapping[str, CORSPolicy],
        *,
        debug: bool = False,
        catch_exceptions: bool = False,
    ) -> None:
        flags = {"debug": debug, "catch_exceptions": catch_exceptions}
        problems = [
            Problem("invalid-type", name, value, "expected True or False.")
            for name, value in flags.items()
            if not isinstance(value, bool)
        ]
        if problems:
            raise CORSConfigError(problems)
        self._engine, self._routes = _compile_paths(policy)
        self.app = app
        self.policy = policy if isinstance(policy, CORSPolicy) else dict(policy)
        self.debug = debug
        self.catch_exceptions = catch_exceptions

    @classmethod
    def from_settings(cls, app: WSGIApplication, settings: object, prefix: str = "CORS_") -> CORSMiddleware:
        """Wrap ``app`` as ``prefix``-ed settings say: the policy keys of
        :meth:`CORSPolicy.from_settings` plus ``CORS_DEBUG``, ``CORS_PATHS``
        (path patterns that get the policy; default every path) and
        ``CORS_CATCH_EXCEPTIONS``.

        :raises CORSConfigError: with every problem, each naming its key.
        """
        from cors_wsgi._settings import prefixed
        from cors_wsgi.paste import middleware_from_settings

        wrap = middleware_from_settings(
            prefixed(settings, prefix), key_name=lambda argument: prefix + argument.upper()
        )
        return wrap(app)

    def _route(self, path: str) -> Engine | None:
        for prefix, is_prefix, engine in self._routes:
            if path == prefix or (
                is_prefix and path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] == "/"
            ):
                return engine
        return None

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        engine = self._engine
        if engine is None:
            engine = self._route(environ.get("PATH_INFO", ""))
            if engine is None:
                return self.app(environ, start_response)

        origin: str | None = environ.get("HTTP_ORIGIN")
        if (
            origin is not None
            and environ.get("REQUEST_METHOD") == "OPTIONS"
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        ):
            status, headers, body = engine.preflight(environ, origin, self.debug)
            start_response(status, headers)
            return [body] if body else []

        add = engine.response_headers(origin)
        vary_origin = engine.vary_origin
        started = False

        def cors_start_response(
            status: str, headers: list[Header], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            nonlocal started
            started = True
            rewritten = _rewrite(headers, add, vary_origin)
            if exc_info is None:
                return start_response(status, rewritten)
            return start_response(status, rewritten, exc_info)

        if not self.catch_exceptions:
            return self.app(environ, cors_start_response)
        try:
            return self.app(environ, cors_start_response)
        except Exception:
            if started:
                raise
            logger.exception(
                "Unhandled exception in the wrapped application: %s %r",
                environ.get("REQUEST_METHOD", "?"), environ.get("PATH_INFO", "")[:200],
            )
            cors_start_response(ERROR_STATUS, list(_ERROR_HEADERS), sys.exc_info())
            return [_ERROR_BODY]

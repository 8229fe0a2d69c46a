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
  (``200 OK`` with ``Content-Length: 0`` under ``preflight_status=200``)
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from cors_wsgi._engine import MAX_REQUEST_HEADERS_LENGTH, OVER_CAP, Actual, Engine, Header, is_token
from cors_wsgi._log import escape, logger
from cors_wsgi._origins import is_origin_shaped
from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.policy import CORSPolicy
from cors_wsgi.refusals import Refusal

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from cors_wsgi.explain import Explanation

__all__ = ["CORSMiddleware"]

#: What ``catch_exceptions=True`` answers when the wrapped app raises.
ERROR_STATUS = "500 Internal Server Error"
_ERROR_BODY = b"Internal Server Error\n"
_ERROR_HEADERS: tuple[Header, ...] = (
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(_ERROR_BODY))),
)

#: A preflight on an ambiguous path (see ``CORSMiddleware``) is refused so.
_AMBIGUOUS_BODY = b"CORS preflight refused: ambiguous path\n"
_AMBIGUOUS_HEADERS: tuple[Header, ...] = (
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(_AMBIGUOUS_BODY))),
)


def _not_pep3333(header: object) -> TypeError:
    return TypeError(
        f"the application passed the response header {escape(header)} to start_response; "
        "PEP 3333 requires a list of (name, value) tuples of native str "
        "(https://peps.python.org/pep-3333/#the-start-response-callable)"
    )


#: Exact header names known to be ``str`` and neither ``Vary`` nor
#: ``Access-Control-*``: a response holding only these takes the fast path.
#: Seeded with common names, learned from what ``_rewrite`` sees, bounded.
_SEED_NAMES = frozenset({
    "Content-Type", "Content-Length", "Content-Encoding", "Content-Language",
    "Content-Disposition", "Content-Security-Policy", "Cache-Control", "ETag", "Expires",
    "Last-Modified", "Date", "Server", "Location", "Set-Cookie", "Link", "Allow",
    "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy",
    "Strict-Transport-Security", "X-Request-Id", "Accept-Ranges", "Retry-After", "Pragma",
    "WWW-Authenticate", "Permissions-Policy", "Transfer-Encoding", "Connection",
    "content-type", "content-length", "cache-control", "etag", "set-cookie", "location",
})
_PLAIN_NAMES: set[str] = set(_SEED_NAMES)
#: At most this many names of at most ``_PLAIN_NAME_LENGTH`` token characters
#: (about 40 KiB); when full, the learned ones are forgotten.
_PLAIN_NAMES_SIZE = 512
_PLAIN_NAME_LENGTH = 64

#: Logging's per-level cache of ``logger.isEnabledFor`` (CPython's ``Logger._cache``):
#: a refusal consults ``isEnabledFor`` only when this does not already say no.
_LOG_CACHE: dict[int, bool] = getattr(logger, "_cache", {})
_DEBUG = logging.DEBUG


def _headers_for(headers: list[Header], entry: Actual) -> list[Header]:
    """The fresh header list the server gets for the app's ``headers``:
    ``headers`` plus ``entry``'s tail when they hold only plain names, else
    ``_rewrite``'s answer.  (``__call__`` inlines this.)"""
    if headers.__class__ is list:
        try:
            for name, value in headers:
                if name.__class__ is not str or value.__class__ is not str or name not in _PLAIN_NAMES:
                    break
            else:
                return [*headers, *entry[0]]
        except (TypeError, ValueError):
            pass
    return _rewrite(headers, entry[1], entry[2])


def _rewrite(headers: list[Header], add: tuple[Header, ...], vary_origin: bool) -> list[Header]:
    """A fresh header list: the app's, less its ``Access-Control-*`` headers,
    with ``Origin`` merged into ``Vary`` and ``add`` appended.

    :raises TypeError: for a header that is not a ``(str, str)`` pair.
    """
    out: list[Header] = []
    vary_at = -1
    for header in headers:
        try:
            name, value = header
        except (TypeError, ValueError):
            raise _not_pep3333(header) from None
        if name.__class__ is not str or value.__class__ is not str:
            raise _not_pep3333(header)
        first = name[:1]
        if first in "aA" and name[:15].lower() == "access-control-":
            continue
        if first in "vV" and name.lower() == "vary":
            if vary_origin:
                for token in value.split(","):
                    token = token.strip().lower()
                    if token == "origin" or token == "*":
                        vary_origin = False  # already varies by Origin, or by everything
                        break
                vary_at = len(out)
        elif name not in _PLAIN_NAMES and len(name) <= _PLAIN_NAME_LENGTH and is_token(name):
            if len(_PLAIN_NAMES) >= _PLAIN_NAMES_SIZE:
                _PLAIN_NAMES.clear()
                _PLAIN_NAMES.update(_SEED_NAMES)
            _PLAIN_NAMES.add(name)
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


#: One path pattern, compiled: (path in WSGI form, is a prefix pattern,
#: engine, the pattern as written).
_Route = tuple[str, bool, Engine, str]


def _compile_paths(
    policy: CORSPolicy | Mapping[str, CORSPolicy],
) -> tuple[Engine | None, tuple[_Route, ...]]:
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
    routes: list[_Route] = []
    patterns: list[str] = []
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
        route = (pattern_to_wsgi(path), is_prefix, item._engine, pattern)
        for earlier, (earlier_path, earlier_prefix, _, _) in zip(patterns, routes, strict=True):
            if _covers(earlier_path, earlier_prefix, route[0], is_prefix):
                problems.append(Problem(
                    "shadowed-path-pattern", "paths", pattern,
                    f"{earlier!r} comes first and covers every path {pattern!r} covers, so "
                    f"{pattern!r} would never apply (first match wins; flask-cors "
                    f"CVE-2024-6839). Put {pattern!r} before {earlier!r}, or remove it.",
                ))
                break
        patterns.append(pattern)
        routes.append(route)
    if problems:
        raise CORSConfigError(problems)
    return None, tuple(routes)


def _covers(path: str, is_prefix: bool, other: str, other_is_prefix: bool) -> bool:
    """True when the pattern ``(path, is_prefix)`` matches every path that
    ``(other, other_is_prefix)`` matches."""
    if not is_prefix:
        return not other_is_prefix and path == other
    return other == path or other.startswith(path + "/")


def normalize_path(path: str) -> str:
    """``PATH_INFO`` as routers that clean paths see it: repeated slashes
    merged, ``.`` and ``..`` segments resolved (RFC 3986 section 5.2.4), a
    trailing slash kept, e.g. ``"//admin/./x/../secret"`` -> ``"/admin/secret"``."""
    segments: list[str] = []
    parts = path.split("/")
    for part in parts:
        if part == "..":
            if segments:
                segments.pop()
        elif part not in ("", "."):
            segments.append(part)
    normal = "/" + "/".join(segments)
    if segments and parts[-1] in ("", ".", ".."):
        normal += "/"
    return normal


def pattern_to_wsgi(path: str) -> str:
    """A path as text -> the form WSGI servers give ``PATH_INFO`` in (UTF-8
    bytes decoded as latin-1), e.g. ``"/café"`` -> ``"/cafÃ©"``."""
    return path.encode("utf-8").decode("latin-1")


def _kind(environ: WSGIEnvironment) -> str:
    """``"preflight"`` for a preflight request, else ``"actual"``."""
    if (
        environ.get("REQUEST_METHOD") == "OPTIONS"
        and "HTTP_ORIGIN" in environ
        and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
    ):
        return "preflight"
    return "actual"


def _origin_reason(origin: str) -> str:
    if origin == "null" or is_origin_shaped(origin):
        return "origin-not-allowed"
    return "origin-malformed"


#: What the engine refused, as ``_refused`` receives it before naming the code.
_ENGINE_REFUSALS = frozenset({"origin", "method", "headers"})


def _preflight_reason(refused: str, origin: str) -> str:
    if refused == "origin":
        return _origin_reason(origin)
    return "method-not-allowed" if refused == "method" else "header-not-allowed"


class CORSMiddleware:
    """Wrap ``app`` so it speaks the CORS protocol as ``policy`` says.

    :param app: any WSGI application.
    :param policy: a :class:`~cors_wsgi.CORSPolicy` for every path, or a
        mapping of path pattern to policy, checked in insertion order, first
        match wins.  ``"/api/*"`` covers ``/api``, ``/api/`` and everything
        below it (never ``/apix``); a pattern without ``*`` is one exact path.
        Patterns match ``PATH_INFO`` as the server decoded it, case-sensitively,
        never decoded again.  A request on a path no pattern covers passes
        through untouched.  A path with repeated slashes or ``.``/``..``
        segments (``//admin``, ``/./admin``, ``/x/../admin``, a decoded
        ``%2F``) is matched twice, as sent and cleaned: routers disagree on
        such paths (Werkzeug merges slashes, Pyramid resolves dot segments,
        Django and Bottle route them as sent), so when the two readings pick
        different patterns the request is refused: a preflight gets ``403``,
        any other request reaches the app and gets no CORS header.  A pattern
        that an earlier one always wins over is a configuration error
        (``shadowed-path-pattern``).
    :param debug: when an allowed origin's preflight asks for a method or
        header that is not allowed, answer ``204`` with the full configured
        lists instead of ``403``, so the browser console names the real cause,
        and log every refused preflight on the ``cors_wsgi`` logger.  A
        disallowed origin is still refused, and a debug answer never lets a
        browser do more than the policy allows: under ``allow_headers="*"``
        it lists the requested names the policy allows instead of ``*``
        (which Chromium, Firefox and WebKit still let cover
        ``Authorization``).  Default: ``False``.
    :param catch_exceptions: when the wrapped app raises before starting its
        response (while it is called, or on the first ``next()`` of the
        iterable it returns, as a generator app does), log the exception with
        its traceback on the ``cors_wsgi`` logger and answer ``500 Internal
        Server Error`` with the CORS headers, so the browser shows the 500
        instead of a misleading CORS error.  ``close()`` still reaches the
        app's iterable.  The status and headers reach the server only when
        the app returns its iterable (a lazy app: its first item) or calls
        ``write()``, so an app that calls ``start_response`` and then raises
        still gets the 500, and a restart with ``exc_info`` reaches the
        server as one call (gunicorn appends a second header list to the
        first instead of replacing it, so without this a restarted response
        carries two ``Access-Control-Allow-Origin`` lines and fails the CORS
        check; waitress replaces it).  An exception raised after that is
        re-raised unchanged.
        Off by default, so error-reporting middleware outside keeps seeing
        the exception.  Default: ``False``.
    :param on_refusal: called with a :class:`~cors_wsgi.refusals.Refusal` for
        every refused request, in the request's thread.  Whatever it raises
        (``BaseException`` subclasses such as ``gevent.Timeout`` included) is
        logged and never changes the response; only ``KeyboardInterrupt`` and
        ``SystemExit`` propagate.  A slow hook delays refused requests by its
        run time: wrap it in :class:`~cors_wsgi.refusals.BackgroundHook` to
        hand refusals to a thread of its own.  Default: ``None``.
    :raises CORSConfigError: for a malformed ``policy`` mapping or a
        non-bool flag, with every problem found.

    An application that breaks PEP 3333 (a header name or value that is not
    a ``str``) gets a ``TypeError`` naming the header from ``start_response``.
    """

    __slots__ = ("_quiet", "_state", "app", "catch_exceptions", "debug", "on_refusal")

    def __init__(
        self,
        app: WSGIApplication,
        policy: CORSPolicy | Mapping[str, CORSPolicy],
        *,
        debug: bool = False,
        catch_exceptions: bool = False,
        on_refusal: Callable[[Refusal], object] | None = None,
    ) -> None:
        flags = {"debug": debug, "catch_exceptions": catch_exceptions}
        problems = [
            Problem("invalid-type", name, value, "expected True or False.")
            for name, value in flags.items()
            if not isinstance(value, bool)
        ]
        if on_refusal is not None and not callable(on_refusal):
            problems.append(Problem(
                "invalid-type", "on_refusal", on_refusal,
                "expected a callable that takes a cors_wsgi.refusals.Refusal, or None.",
            ))
        if problems:
            raise CORSConfigError(problems)
        engine, routes = _compile_paths(policy)
        # Everything a request reads of the configuration, in one tuple that
        # reconfigure() replaces in one assignment (atomic for readers).
        self._state: tuple[Engine | None, tuple[_Route, ...], CORSPolicy | dict[str, CORSPolicy]] = (
            engine, routes, policy if isinstance(policy, CORSPolicy) else dict(policy),
        )
        self.app = app
        self.debug = debug
        self.catch_exceptions = catch_exceptions
        self.on_refusal = on_refusal
        self._quiet = False  # explain()'s stand-in: refusals go to its hook only

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

    @property
    def policy(self) -> CORSPolicy | dict[str, CORSPolicy]:
        """The policy, or the mapping of path pattern to policy, in use now."""
        return self._state[2]

    def reconfigure(self, policy: CORSPolicy | Mapping[str, CORSPolicy]) -> None:
        """Use ``policy`` (a :class:`~cors_wsgi.CORSPolicy`, or a mapping of
        path pattern to policy) from the next request on.

        The new configuration is validated first: a bad one raises
        :class:`~cors_wsgi.CORSConfigError` and changes nothing.  Then it
        replaces the old one in a single assignment, so every request sees
        one configuration or the other, never a mix; requests in flight
        finish with the one they started with.  Browsers keep preflight
        answers they cached for up to ``max_age`` seconds (5 s without it),
        so a narrowed policy reaches them only after that.

        :raises CORSConfigError: with every problem found.
        """
        engine, routes = _compile_paths(policy)
        self._state = (engine, routes, policy if isinstance(policy, CORSPolicy) else dict(policy))

    def explain(
        self,
        origin: str,
        method: str = "GET",
        headers: Mapping[str, str] | Iterable[tuple[str, str] | str] = (),
        credentials: bool = False,
        path: str | None = None,
    ) -> Explanation:
        """Would a browser on ``origin`` get the response to
        ``fetch(path, {method, headers, credentials})``, and which rule decided?

        Runs the preflight (when a browser would send one) and the actual
        request through this middleware's policies and path mapping
        in-process, against a stand-in for the app (the app is never called,
        the ``on_refusal`` hook never fires), and judges the answers as the
        Fetch standard does (:mod:`cors_wsgi.fetch`).

        :param origin: the page's serialized origin, ``"https://app.example.com"``.
        :param method: as the script passes it (``"patch"`` is not ``"PATCH"``).
        :param headers: the headers the script sets: a mapping, ``(name,
            value)`` pairs, or bare names (sent with the value ``"1"``).
        :param credentials: ``credentials: "include"``.
        :param path: the request path, ``"/api/items"``; default ``"/"``.
        :returns: an :class:`~cors_wsgi.explain.Explanation`; ``str()`` of it
            reads ``allowed`` or ``blocked at step ...: reason``, the fix and the rule.
        """
        from cors_wsgi.explain import explain

        return explain(self, origin, method, headers, credentials, path)

    def _stand_in(self, app: WSGIApplication, on_refusal: Callable[[Refusal], object]) -> CORSMiddleware:
        """This middleware's compiled configuration around another app and hook."""
        clone = CORSMiddleware(
            app, self._state[2], debug=bool(self.debug), catch_exceptions=bool(self.catch_exceptions),
            on_refusal=on_refusal,
        )
        clone.debug, clone.catch_exceptions = self.debug, self.catch_exceptions  # as set, even if not bools
        clone._state = self._state  # the very engines, caches included
        clone._quiet = True
        return clone

    def _route(self, path: str, routes: tuple[_Route, ...] | None = None) -> _Route | None:
        for route in self._state[1] if routes is None else routes:
            prefix = route[0]
            if path == prefix or (
                route[1] and path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] == "/"
            ):
                return route
        return None

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        # The request path: lookups in caches the engine fills (bounded), one
        # closure, one fresh header list; the cheapest test comes first.
        engine, routes, _ = self._state
        pattern: str | None = None
        if engine is None:
            path: str = environ.get("PATH_INFO", "")
            route = self._route(path, routes)
            if ("//" in path or "/." in path) and self._route(normalize_path(path), routes) is not route:
                return self._refuse_ambiguous_path(environ, start_response)
            if route is None:
                if "HTTP_ORIGIN" in environ:
                    self._refused(None, "path-not-covered", environ, None)
                return self.app(environ, start_response)
            engine, pattern = route[2], route[3]

        origin: str | None = environ.get("HTTP_ORIGIN")
        if origin is None:
            entry = engine.no_origin
        elif (
            "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
            and environ.get("REQUEST_METHOD") == "OPTIONS"
        ):
            debug = self.debug
            requested: object = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
            if requested.__class__ is str and len(requested) > MAX_REQUEST_HEADERS_LENGTH:
                requested = OVER_CAP  # refused on its length: never hashed, one key
            key = (origin, environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"], requested)
            try:
                answer = (engine.debug_preflights if debug else engine.preflights).get(key)
            except TypeError:  # an unhashable value in a hand-made environ
                answer = None
            if answer is None:
                answer = engine.answer_preflight(environ, origin, debug, key)
            status, headers, body, refused = answer
            if refused is not None and (
                self.on_refusal is not None or debug or _LOG_CACHE.get(_DEBUG, True)
            ):
                self._refused("preflight", refused, environ, pattern)
            start_response(status, list(headers))
            return [body] if body else []
        else:
            entry = engine.actuals.get(origin) or engine.actual(origin)
            if entry[3] and (self.on_refusal is not None or self.debug or _LOG_CACHE.get(_DEBUG, True)):
                self._refused("actual", "origin", environ, pattern)

        if self.catch_exceptions:
            return self._call_catching(environ, start_response, entry)

        def cors_start_response(
            status: str, headers: list[Header], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            # Fast path: a list of known, harmless (str, str) headers, so
            # nothing to strip or merge; anything else takes _rewrite.
            if headers.__class__ is list:
                try:
                    for name, value in headers:
                        if (
                            name.__class__ is not str or value.__class__ is not str
                            or name not in _PLAIN_NAMES
                        ):
                            break
                    else:
                        if exc_info is None:
                            return start_response(status, [*headers, *entry[0]])
                        return start_response(status, [*headers, *entry[0]], exc_info)
                except (TypeError, ValueError):
                    pass  # not (name, value) pairs: _rewrite names the culprit
            rewritten = _rewrite(headers, entry[1], entry[2])
            if exc_info is None:
                return start_response(status, rewritten)
            return start_response(status, rewritten, exc_info)

        return self.app(environ, cors_start_response)

    def _call_catching(
        self, environ: WSGIEnvironment, start_response: StartResponse, entry: Actual
    ) -> Iterable[bytes]:
        """``__call__`` for ``catch_exceptions=True``: an exception before the
        response reaches the server becomes a 500 with the CORS headers.

        The status and headers are held back until the app returns its
        iterable (for a lazy app, until its first item), writes, or the 500
        replaces them, so the server's ``start_response`` is called once:
        a restart with ``exc_info`` never reaches a server that appends the
        second header list to the first (gunicorn) instead of replacing it."""
        pending: list[tuple[str, list[Header]]] = []  # the response the server has not seen yet
        server_write: list[Callable[[bytes], object]] = []  # set once the server has it

        def send() -> None:
            if not server_write and pending:
                server_write.append(start_response(*pending.pop()))

        def write(data: bytes) -> object:
            send()
            return server_write[0](data)

        def cors_start_response(
            status: str, headers: list[Header], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            rewritten = _headers_for(headers, entry)
            if server_write:  # already sent: the server re-raises exc_info (PEP 3333)
                if exc_info is None:
                    return start_response(status, rewritten)
                return start_response(status, rewritten, exc_info)
            if pending and exc_info is None:
                raise AssertionError("start_response called a second time without exc_info (PEP 3333)")
            pending[:] = [(status, rewritten)]
            return write

        result: Iterable[bytes] | None = None
        try:
            result = self.app(environ, cors_start_response)
            if pending or server_write:
                send()
                return result
            # A lazy app (a generator) starts its response on the first next().
            iterator = iter(result)
            try:
                first = [next(iterator)]
            except StopIteration:
                first = []
            send()
            return _Prefetched(first, iterator, result)
        except Exception:
            if result is not None:
                # The server never sees this iterable: close it here (PEP 3333),
                # and never let a failing close() hide the first exception.
                close = getattr(result, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception:
                        logger.exception("close() of the failed application's iterable raised")
            if server_write:
                raise
            logger.exception(
                "Unhandled exception in the wrapped application: %s %s",
                escape(environ.get("REQUEST_METHOD", "?")), escape(environ.get("PATH_INFO", "")),
            )
            pending.clear()
            start_response(ERROR_STATUS, _headers_for(list(_ERROR_HEADERS), entry), sys.exc_info())
            return [_ERROR_BODY]

    def _refused(
        self, kind: str | None, reason: str, environ: WSGIEnvironment, pattern: str | None
    ) -> None:
        """Log a refusal and tell the ``on_refusal`` hook; costs nothing more
        than this check when neither DEBUG logging nor a hook is on (``kind``
        ``None``: worked out here, only then).

        ``reason`` is a code, or what the engine refused (``"origin"``,
        ``"method"``, ``"headers"``), turned into a code only when needed."""
        hook = self.on_refusal
        level = logging.WARNING if self.debug else logging.DEBUG
        logs = not self._quiet and logger.isEnabledFor(level)
        if hook is None and not logs:
            return
        if kind is None:
            kind = _kind(environ)
        origin = environ.get("HTTP_ORIGIN")
        if reason in _ENGINE_REFUSALS:
            reason = _preflight_reason(reason, origin or "")
        method = environ.get(
            "HTTP_ACCESS_CONTROL_REQUEST_METHOD" if kind == "preflight" else "REQUEST_METHOD", ""
        )
        record = Refusal(
            kind, reason, None if origin is None else escape(origin), escape(method), pattern,
        )
        if logs:
            logger.log(
                level,
                "CORS refused %s request (%s): origin=%s method=%s path=%s pattern=%s%s",
                kind, reason, record.origin, record.method, escape(environ.get("PATH_INFO", "")),
                escape(pattern),
                " requested-headers=" + escape(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""))
                if reason == "header-not-allowed" else "",
            )
        if hook is not None:
            try:
                hook(record)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # a timeout (gevent.Timeout) included: the response stands
                logger.error("the on_refusal hook raised; the response is unchanged", exc_info=True)

    def _refuse_ambiguous_path(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """No policy's answer for a path that routers read differently."""
        kind = _kind(environ)
        self._refused(kind, "path-ambiguous", environ, None)
        if kind == "preflight":
            start_response("403 Forbidden", [*_AMBIGUOUS_HEADERS, ("Vary", "Origin")])
            return [_AMBIGUOUS_BODY]

        def strip_start_response(
            status: str, headers: list[Header], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            rewritten = _rewrite(headers, (), True)
            if exc_info is None:
                return start_response(status, rewritten)
            return start_response(status, rewritten, exc_info)

        return self.app(environ, strip_start_response)


class _Prefetched:
    """The iterable of a lazy app whose first item was taken to see whether
    it raises: yields that item, then the rest; ``close()`` reaches the app's
    iterable (PEP 3333)."""

    __slots__ = ("_first", "_iterator", "_result")

    def __init__(self, first: list[bytes], iterator: Iterator[bytes], result: Iterable[bytes]) -> None:
        self._first = first
        self._iterator = iterator
        self._result = result

    def __iter__(self) -> Iterator[bytes]:
        yield from self._first
        yield from self._iterator

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()

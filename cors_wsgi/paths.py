"""Path patterns: which policy answers a request, chosen by its path.

``CORSMiddleware(app, {"/api/*": api_policy, "/health": open_policy})``
compiles its mapping into a :class:`PathMap`; per request it calls
:meth:`PathMap.match` with ``PATH_INFO``::

    >>> from cors_wsgi import CORSPolicy
    >>> from cors_wsgi.paths import AMBIGUOUS, PathMap
    >>> paths = PathMap({"/api/*": CORSPolicy(allow_origins="https://app.example.com")})
    >>> paths.match("/api/items").pattern
    '/api/*'
    >>> paths.match("/apix") is None
    True
    >>> paths.match("//api/items") is AMBIGUOUS
    True

Rules: patterns are checked in insertion order, first match wins.
``"/api/*"`` covers ``/api``, ``/api/`` and everything below it (never
``/apix``); a pattern without ``*`` is one exact path.  Patterns match
``PATH_INFO`` as the server decoded it (PEP 3333: bytes as latin-1),
case-sensitively, never decoded again.  A path with repeated slashes or
``.``/``..`` segments is matched twice, as sent and cleaned: routers
disagree on such paths (Werkzeug merges slashes, Pyramid resolves dot
segments, Django and Bottle route them as sent), so when the two readings
pick different patterns the path is :data:`AMBIGUOUS`.  A pattern that an
earlier one always wins over is a configuration error
(``shadowed-path-pattern``, flask-cors CVE-2024-6839).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from cors_wsgi._engine import AMBIGUOUS, Ambiguous, Engine, Unanswered
from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.policy import CORSPolicy

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["AMBIGUOUS", "Ambiguous", "PathMap", "Route", "Unanswered", "normalize_path", "pattern_to_wsgi"]


class Route(NamedTuple):
    """One compiled path pattern."""

    #: The pattern as written, ``"/api/*"``.
    pattern: str
    #: The path in WSGI form (``PATH_INFO``'s latin-1 reading), without ``/*``.
    path: str
    #: True for a ``/*`` pattern: the path and everything below it.
    prefix: bool
    policy: CORSPolicy
    engine: Engine


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


def _covers(path: str, is_prefix: bool, other: str, other_is_prefix: bool) -> bool:
    """True when the pattern ``(path, is_prefix)`` matches every path that
    ``(other, other_is_prefix)`` matches."""
    if not is_prefix:
        return not other_is_prefix and path == other
    return other == path or other.startswith(path + "/")


class PathMap:
    """A mapping of path pattern to :class:`~cors_wsgi.CORSPolicy`, validated
    and compiled once.

    :param mapping: e.g. ``{"/api/*": CORSPolicy(...), "/health": CORSPolicy(...)}``.
    :raises CORSConfigError: for an empty mapping, a value that is not a
        ``CORSPolicy``, a pattern not starting with ``/`` or with ``*``
        anywhere but a final ``/*``, and a shadowed pattern; every problem at once.
    """

    __slots__ = ("routes",)

    routes: tuple[Route, ...]

    def __init__(self, mapping: Mapping[str, CORSPolicy]) -> None:
        if not isinstance(mapping, Mapping):
            raise CORSConfigError([Problem(
                "invalid-type", "policy", mapping,
                "expected a CORSPolicy, or a mapping of path pattern to CORSPolicy "
                "such as {'/api/*': CORSPolicy(...)}.",
            )])
        problems: list[Problem] = []
        routes: list[Route] = []
        if not mapping:
            problems.append(Problem(
                "no-paths", "policy", mapping,
                "the mapping is empty, so no path would get CORS headers; add "
                "{'/*': CORSPolicy(...)} to cover every path.",
            ))
        # Typed as the caller may really pass them: anything (it is checked).
        entries: list[tuple[object, object]] = list(mapping.items())
        for pattern, policy in entries:
            if not isinstance(policy, CORSPolicy):
                problems.append(Problem(
                    "invalid-type", "policy", policy, f"the value for {pattern!r} must be a CORSPolicy.",
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
            route = Route(pattern, pattern_to_wsgi(path), is_prefix, policy, policy.engine)
            earlier = next((r for r in routes if _covers(r.path, r.prefix, route.path, is_prefix)), None)
            if earlier is not None:
                problems.append(Problem(
                    "shadowed-path-pattern", "paths", pattern,
                    f"{earlier.pattern!r} comes first and covers every path {pattern!r} covers, so "
                    f"{pattern!r} would never apply (first match wins; flask-cors "
                    f"CVE-2024-6839). Put {pattern!r} before {earlier.pattern!r}, or remove it.",
                ))
            routes.append(route)
        if problems:
            raise CORSConfigError(problems)
        self.routes = tuple(routes)

    def _first(self, path: str) -> Route | None:
        for route in self.routes:
            prefix = route.path
            if path == prefix or (
                route.prefix and path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] == "/"
            ):
                return route
        return None

    def match(self, path: str) -> Route | Unanswered | None:
        """The route whose policy answers a request for ``path``
        (``PATH_INFO``), ``None`` when no pattern covers it, or
        :data:`AMBIGUOUS` when its two readings pick different patterns."""
        route = self._first(path)
        if ("//" in path or "/." in path) and self._first(normalize_path(path)) is not route:
            return AMBIGUOUS
        return route

    def choose(self, environ: WSGIEnvironment) -> Route | Unanswered | None:
        """:meth:`match` for a request: its ``PATH_INFO`` (``CORSMiddleware``
        calls this to choose the policy of each request)."""
        return self.match(environ.get("PATH_INFO", ""))

    def policies(self) -> dict[str, CORSPolicy]:
        """The mapping, as given (patterns in order)."""
        return {route.pattern: route.policy for route in self.routes}

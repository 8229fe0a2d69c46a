"""Policies per view: ``@cross_origin``, ``@no_cross_origin`` and resolvers.

A decorator only attaches a policy to the view (as Django's
``@csrf_exempt`` only sets an attribute); it never wraps the view or
changes what it returns.  The middleware finds it through a **resolver**
that knows the framework's routing::

    from cors_wsgi import CORSPolicy, cross_origin, no_cross_origin

    @app.put("/admin/items/<int:item>")
    @cross_origin(allow_origins=["https://admin.example.com"], allow_methods=["PUT"])
    def update_item(item): ...

    @app.post("/webhooks/stripe")
    @no_cross_origin
    def stripe_webhook(): ...

The Flask, Django and Pyramid adapters (:mod:`cors_wsgi.flask`,
:mod:`cors_wsgi.django`, :mod:`cors_wsgi.pyramid`) ship resolvers; any
other framework passes its own to ``CORSMiddleware(app, policy,
resolver=...)``.

**How a request's policy is chosen.**  The resolver is asked which view
the request would reach, with the method the request is for: for a
preflight request that is the method it asks about
(``Access-Control-Request-Method``), never ``OPTIONS``, so the view that
will serve the ``PUT`` answers the preflight of that ``PUT`` (as ASP.NET
Core and Spring do).  A view's policy (or ``@no_cross_origin``) replaces
the path-mapped policy for that request; when no view is found (a 404, a
405, a redirect, or a view without a decorator) the path mapping decides,
so preflights on covered paths are answered here, unrouted or redirected
URLs included, never with a redirect (Fetch fails a redirected
preflight).  A preflight on a path nothing covers reaches the app.

**The resolver rule.**  A resolver is ``resolver(environ, method) ->
CORSPolicy | NOT_CROSS_ORIGIN | None``.  It may read only what a cache
keys the response on: the path, the host and the method it is given, plus
the request headers it names in its ``vary`` attribute (a tuple of header
names, merged into every response's ``Vary``; default none).  It must
never read credentials (``Cookie``, ``Authorization``) or anything else a
client controls: a policy chosen from an unverified token is an attacker's
choice (Keycloak CVE-2026-37977), and a choice that reads a header missing
from ``Vary`` poisons shared caches (rs/cors#157).  An exception in a
resolver is logged (escaped) and the path mapping decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, Union

from cors_wsgi._engine import AMBIGUOUS, NOT_CROSS_ORIGIN, Unanswered
from cors_wsgi._log import escape, logger
from cors_wsgi._protocol import is_token
from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.paths import PathMap, Route
from cors_wsgi.policy import CORSPolicy

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "NOT_CROSS_ORIGIN",
    "POLICY_ATTRIBUTE",
    "Resolver",
    "ViewChooser",
    "cross_origin",
    "framework_app",
    "no_cross_origin",
    "policy_of",
    "through_engine",
]

#: The attribute ``@cross_origin`` and ``@no_cross_origin`` set on a view (a
#: function, a class or a handler method): a ``CORSPolicy`` or ``NOT_CROSS_ORIGIN``.
POLICY_ATTRIBUTE = "cors_wsgi_policy"

#: What a view policy may be: a policy, or "no CORS at all".
ViewPolicy = Union[CORSPolicy, Unanswered]  # noqa: UP007 (a runtime alias, Python 3.10)
#: ``resolver(environ, method) -> CORSPolicy | NOT_CROSS_ORIGIN | None``.
Resolver = Callable[["WSGIEnvironment", str], Union[CORSPolicy, Unanswered, None]]  # noqa: UP007

View = TypeVar("View")

#: Most distinct view policies whose routes are kept (a resolver that builds
#: a new ``CORSPolicy`` per request would otherwise grow this without bound).
_ROUTES_KEPT = 1024


def _view_name(view: object) -> str:
    module = getattr(view, "__module__", None) or "?"
    name = getattr(view, "__qualname__", None) or getattr(view, "__name__", None) or repr(view)
    return f"{module}.{name}"


def cross_origin(policy: object = None, /, **options: Any) -> Callable[[View], View]:
    """Give a view its own CORS policy: ``@cross_origin(policy)`` with a
    :class:`~cors_wsgi.CORSPolicy`, or ``@cross_origin(**options)`` with
    ``CORSPolicy``'s keyword arguments, e.g.
    ``@cross_origin(allow_origins=["https://admin.example.com"], allow_methods=["PUT"])``.

    The policy answers the view's preflight requests and its responses
    (see the module docstring for how the view is found).  On a class-based
    view, decorate the class (every handler) or one handler method (that
    method wins over the class).  The view is returned unchanged but for
    the :data:`POLICY_ATTRIBUTE` attribute.

    :raises CORSConfigError: at decoration time, with every problem of the
        options, each naming the view (``"... (in @cross_origin on
        app.views.update_item)"``); for a ``policy`` that is not a
        ``CORSPolicy``; for both a policy and options.
    """
    if policy is not None and not isinstance(policy, CORSPolicy):
        hint = (
            "write @cross_origin(...) with a CORSPolicy or CORSPolicy's keyword arguments, "
            "e.g. @cross_origin(allow_origins=['https://app.example.com'])"
        )
        if callable(policy):  # @cross_origin without parentheses
            hint = f"@cross_origin needs a policy or options: {hint}"
        raise CORSConfigError([Problem("invalid-type", "policy", policy, hint + ".")])
    if policy is not None and options:
        raise CORSConfigError([Problem(
            "invalid-type", "policy", policy,
            "pass either a CORSPolicy or CORSPolicy's keyword arguments, not both.",
        )])

    def decorate(view: View) -> View:
        chosen: CORSPolicy | None = policy
        if chosen is None:
            try:
                chosen = CORSPolicy(**options)
            except CORSConfigError as error:
                where = f" (in @cross_origin on {_view_name(view)})"
                raise CORSConfigError([
                    Problem(p.code, p.argument, p.value, p.message + where) for p in error.problems
                ]) from None
        setattr(view, POLICY_ATTRIBUTE, chosen)
        return view

    return decorate


def no_cross_origin(view: View) -> View:
    """Mark a view that must get no CORS at all: its preflight requests are
    refused with ``403`` (reason ``view-not-cross-origin``) and its
    responses get no CORS header, whatever the path mapping says.  Use it on
    webhooks and other endpoints no page may read or call with
    non-safelisted requests.  The view is returned unchanged but for the
    :data:`POLICY_ATTRIBUTE` attribute."""
    setattr(view, POLICY_ATTRIBUTE, NOT_CROSS_ORIGIN)
    return view


def policy_of(view: object, method: str | None = None) -> ViewPolicy | None:
    """The policy ``@cross_origin``/``@no_cross_origin`` gave ``view`` for
    ``method`` (``"PUT"``), or ``None``.

    For a class-based view (Django's and Flask's ``as_view()`` functions
    carry the class as ``view_class``), the handler method for ``method``
    (``put``) wins over the class, which wins over the function itself."""
    cls = getattr(view, "view_class", None)
    if cls is not None:
        if method is not None and method.isascii() and method.isalpha():
            handler = getattr(cls, method.lower(), None)
            found = getattr(handler, POLICY_ATTRIBUTE, None)
            if found is not None:
                return _checked(found)
        found = getattr(cls, POLICY_ATTRIBUTE, None)
        if found is not None:
            return _checked(found)
    return _checked(getattr(view, POLICY_ATTRIBUTE, None))


def _checked(found: object) -> ViewPolicy | None:
    if isinstance(found, (CORSPolicy, Unanswered)):
        return found
    return None  # absent, or not set by our decorators


def _vary_names(resolver: object) -> tuple[str, ...]:
    names = getattr(resolver, "vary", ())
    if isinstance(names, str) or not all(isinstance(n, str) and is_token(n) for n in names):
        raise CORSConfigError([Problem(
            "invalid-type", "resolver", names,
            "a resolver's vary is a tuple of request header names it reads, e.g. ('Accept-Language',).",
        )])
    return tuple(names)


class ViewChooser:
    """``choose(environ)``: the policy of the view a request reaches, else
    the path mapping's (``CORSMiddleware(app, policy, resolver=...)``
    builds one; see the module docstring for the rules).

    :param resolver: ``resolver(environ, method) -> CORSPolicy | NOT_CROSS_ORIGIN | None``.
    :param paths: the path mapping for requests no view policy decides, or
        ``None`` (then they pass through untouched).
    """

    __slots__ = ("_routes", "paths", "resolver", "vary")

    def __init__(self, resolver: Resolver, paths: PathMap | None) -> None:
        if not callable(resolver):
            raise CORSConfigError([Problem(
                "invalid-type", "resolver", resolver,
                "expected a callable resolver(environ, method) -> CORSPolicy | NOT_CROSS_ORIGIN | None.",
            )])
        self.resolver = resolver
        self.paths = paths
        #: Request headers the resolver reads, merged into ``Vary``.
        self.vary = _vary_names(resolver)
        self._routes: dict[int, Route] = {}

    def __call__(self, environ: WSGIEnvironment) -> Route | Unanswered | None:
        route = self.paths.choose(environ) if self.paths is not None else None
        if route is AMBIGUOUS:
            return route
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "OPTIONS" and "HTTP_ORIGIN" in environ:
            method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", method)
        try:
            found = self.resolver(environ, method)
        except Exception:
            logger.exception(
                "CORS resolver %s raised for path=%s method=%s; the path mapping decides",
                escape(_view_name(self.resolver)), escape(environ.get("PATH_INFO", "")), escape(method),
            )
            return route
        if found is None:
            return route
        if found is NOT_CROSS_ORIGIN:
            return NOT_CROSS_ORIGIN
        if not isinstance(found, CORSPolicy):
            logger.error("CORS resolver %s returned %s, not a CORSPolicy; the path mapping decides",
                         escape(_view_name(self.resolver)), escape(type(found).__name__))
            return route
        return self._route(found)

    def _route(self, policy: CORSPolicy) -> Route:
        kept = self._routes.get(id(policy))
        if kept is not None and kept.policy is policy:
            return kept
        if len(self._routes) >= _ROUTES_KEPT:
            self._routes.clear()
        route = Route("@cross_origin", "", False, policy, policy.engine)
        self._routes[id(policy)] = route
        return route



# -- framework middleware (Django, Pyramid) over the WSGI engine -------------------

#: ``environ`` keys that hand the framework's answer through the engine.
_RESPOND = "cors_wsgi.views.respond"
_RESPONSE = "cors_wsgi.views.response"


def framework_app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """The WSGI "application" a framework adapter wraps its engine around:
    the rest of the framework, called through ``environ``'s respond callable
    (``through_engine`` puts it there)."""
    response, status, headers = environ[_RESPOND]()
    environ[_RESPONSE] = response
    start_response(status, headers)
    return []


def through_engine(
    middleware: WSGIApplication,
    environ: WSGIEnvironment,
    respond: Callable[[], tuple[object, str, list[tuple[str, str]]]],
) -> tuple[str, list[tuple[str, str]], bytes, object | None]:
    """One request of a framework middleware, through the same engine as the
    WSGI middleware: ``middleware`` is a ``CORSMiddleware`` around
    :func:`framework_app`; ``respond()`` calls the rest of the framework and
    returns ``(its response, status line, header list)``.

    :returns: ``(status line, header list, body, framework response)``: the
        response is ``None`` when the engine answered itself (a preflight
        request), else the headers are the framework response's, rewritten
        (its own ``Access-Control-*`` removed, the CORS headers added, ``Vary``
        merged) and the body is empty.
    """
    answered: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answered[:] = [status, headers]
        return _no_write

    environ[_RESPOND] = respond
    try:
        body = b"".join(middleware(environ, start_response))
        response = environ.pop(_RESPONSE, None)
    finally:
        environ.pop(_RESPOND, None)
    return answered[0], answered[1], body, response


def _no_write(data: bytes) -> None:
    raise RuntimeError("a framework response never reaches the engine through write()")

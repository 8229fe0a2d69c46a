"""Pyramid: ``config.include("cors_wsgi.pyramid")``, ``cors.*`` settings, ``cors_policy=`` views.

In the ini file::

    [app:main]
    use = egg:myapp
    pyramid.includes = cors_wsgi.pyramid
    cors.allow_origins = https://app.example.com
    cors.paths = /api/*

and on a view::

    from cors_wsgi import CORSPolicy, cross_origin, no_cross_origin

    ADMIN = CORSPolicy(allow_origins=["https://admin.example.com"], allow_methods=["PUT"])

    @view_config(route_name="item", request_method="PUT", renderer="json", cors_policy=ADMIN)
    def update_item(request): ...

    @view_config(route_name="hook", request_method="POST", renderer="json")
    @no_cross_origin
    def webhook(request): ...

Including the package adds a tween (over Pyramid's ``EXCVIEW`` tween, so it
sees every request before routing) that runs each request through the
same engine as the WSGI middleware, and a view deriver that records each
view's ``cors_policy=`` (a :class:`~cors_wsgi.CORSPolicy` or
:data:`~cors_wsgi.views.NOT_CROSS_ORIGIN`) or ``@cross_origin`` policy
at configuration time for its route and ``request_method``; it never wraps
the view.  A request's policy is the one of the view its route and method
select (for a preflight request, the method it asks about: route
predicates see that method, not ``OPTIONS``), else the ``cors.*``
settings' (an unrouted URL under ``cors.paths`` is answered too).  Views
reached by traversal, without a route, take the settings' policy.  The
``cors.*`` keys are :meth:`CORSMiddleware.from_settings
<cors_wsgi.CORSMiddleware.from_settings>`'s in ini form
(``cors.allow_origins``, ``cors.max_age``, ``cors.paths``, ``cors.debug``);
every problem is raised at ``config.include`` time, each naming its key.
Install with ``pip install 'cors_wsgi[pyramid]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cors_wsgi import _settings
from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.middleware import CORSMiddleware
from cors_wsgi.policy import CORSPolicy
from cors_wsgi.views import NOT_CROSS_ORIGIN, ViewPolicy, framework_app, policy_of, through_engine

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

try:
    import pyramid  # noqa: F401
except ImportError:  # pragma: no cover - only without Pyramid
    raise ImportError("cors_wsgi.pyramid needs Pyramid: pip install 'cors_wsgi[pyramid]'") from None

__all__ = ["PyramidResolver", "cors_tween_factory", "includeme"]

#: Registry keys: the engine and the resolver of one Pyramid app.
_MIDDLEWARE = "cors_wsgi.middleware"
_RESOLVER = "cors_wsgi.resolver"


class PyramidResolver:
    """``resolver(environ, method)``: the policy of the view the request's
    route and ``method`` select, as recorded by the view deriver, or
    ``None``.  Reads the path, the host and the method (route predicates
    see ``method``); ``vary`` is empty."""

    vary: tuple[str, ...] = ()

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        #: route name -> [(request methods or None for any, policy)], in registration order.
        self.views: dict[str, list[tuple[frozenset[str] | None, ViewPolicy]]] = {}

    def record(self, route_name: str, methods: object, policy: ViewPolicy) -> None:
        """Remember ``policy`` for views of ``route_name`` and ``methods``
        (``request_method``: a method, several, or ``None`` for every one)."""
        if methods is None:
            chosen = None
        elif isinstance(methods, str):
            chosen = frozenset({methods.upper()})
        else:
            chosen = frozenset(str(m).upper() for m in methods)  # type: ignore[attr-defined]
        self.views.setdefault(route_name, []).append((chosen, policy))

    def __call__(self, environ: WSGIEnvironment, method: str) -> ViewPolicy | None:
        from pyramid.interfaces import IRoutesMapper
        from pyramid.request import Request

        mapper = self.registry.queryUtility(IRoutesMapper)
        if mapper is None or not self.views:
            return None
        request = Request(dict(environ, REQUEST_METHOD=method))
        request.registry = self.registry
        route = mapper(request)["route"]
        if route is None:
            return None
        for methods, policy in self.views.get(route.name, ()):
            if methods is None or method.upper() in methods:
                return policy
        return None


def _cors_policy_deriver(view: Any, info: Any) -> Any:
    """Record the view's policy for its route; return the view unchanged."""
    policy = info.options.get("cors_policy")
    if policy is None:
        original = info.original_view
        attr = info.options.get("attr")
        policy = policy_of(getattr(original, attr, None) if attr else None) or policy_of(original)
    elif not isinstance(policy, CORSPolicy) and policy is not NOT_CROSS_ORIGIN:
        raise CORSConfigError([Problem(
            "invalid-type", "cors_policy", policy,
            f"the cors_policy of view {getattr(info.original_view, '__qualname__', info.original_view)!r} "
            "must be a CORSPolicy or cors_wsgi.views.NOT_CROSS_ORIGIN.",
        )])
    route_name = info.options.get("route_name")
    if policy is not None and route_name:
        resolver = info.registry.get(_RESOLVER)
        if resolver is not None:
            resolver.record(route_name, info.options.get("request_method"), policy)
    return view


_cors_policy_deriver.options = ("cors_policy",)  # type: ignore[attr-defined]


def includeme(config: Any) -> None:
    """``config.include("cors_wsgi.pyramid")``: read the ``cors.*`` settings,
    add the tween and the ``cors_policy`` view option.

    :raises CORSConfigError: with every problem of the ``cors.*`` settings.
    """
    from pyramid.tweens import EXCVIEW

    registry = config.registry
    resolver = PyramidResolver(registry)
    settings = _settings.prefixed(config.get_settings(), "cors.")
    registry[_RESOLVER] = resolver
    registry[_MIDDLEWARE] = CORSMiddleware.wrapper_from_settings(
        settings, prefix="cors.", resolver=resolver
    )(framework_app)
    config.add_view_deriver(_cors_policy_deriver, name="cors_wsgi_policy")
    config.add_tween("cors_wsgi.pyramid.cors_tween_factory", over=EXCVIEW)


def cors_tween_factory(handler: Any, registry: Any) -> Any:
    """The tween: each request through the engine; ``handler`` is the rest of Pyramid."""
    from pyramid.response import Response

    middleware = registry[_MIDDLEWARE]

    def cors_tween(request: Any) -> Any:
        def respond() -> tuple[Any, str, list[tuple[str, str]]]:
            response = handler(request)
            return response, response.status, list(response.headerlist)

        status, headers, body, answered = through_engine(middleware, request.environ, respond)
        response: Any = answered
        if response is None:  # answered here: a preflight request
            response = Response(body=body, status=status)
            response.headerlist = headers
        else:
            response.headerlist = headers
        return response

    return cors_tween

"""Flask: ``CORS(app)``, ``init_app(app)`` and ``@cross_origin`` views.

::

    from flask import Flask
    from cors_wsgi import cross_origin
    from cors_wsgi.flask import CORS

    app = Flask(__name__)
    app.config["CORS_ALLOW_ORIGINS"] = ["https://app.example.com"]
    CORS(app)                       # or: cors = CORS(); cors.init_app(app)

    @app.put("/admin/items/<int:item>")
    @cross_origin(allow_origins=["https://admin.example.com"], allow_methods=["PUT"])
    def update_item(item): ...

``CORS(app)`` wraps ``app.wsgi_app`` in a :class:`~cors_wsgi.CORSMiddleware`
(so ``flask run``, the Flask test client and every WSGI server see it) with
a resolver that routes each request through the app's own URL adapter
(``app.create_url_adapter``: ``SERVER_NAME``, ``TRUSTED_HOSTS``, subdomain
and host matching behave as Flask routes), with the method the request is
for: a preflight request is routed as the method it asks about
(``Access-Control-Request-Method``), so the view that will serve the
``PUT`` answers its preflight, whether or not the view lists ``OPTIONS``.
A 404, 405 or redirect leaves the choice to the app-wide policy, which
answers the preflight on the paths it covers (never with a redirect); on
other paths the request reaches Flask.  Blueprints need nothing
more: their views are the app's views.

The app-wide policy is, in order: ``policy``, else ``CORSPolicy(**options)``,
else the ``CORS_*`` keys of ``app.config`` (those
:meth:`CORSMiddleware.from_settings <cors_wsgi.CORSMiddleware.from_settings>`
reads: ``CORS_ALLOW_ORIGINS``, ``CORS_PATHS``, ``CORS_DEBUG``, ...); with
none of them only views with ``@cross_origin`` get CORS.  Install with
``pip install 'cors_wsgi[flask]'``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.middleware import CORSMiddleware
from cors_wsgi.policy import CORSPolicy
from cors_wsgi.refusals import Decision, Refusal
from cors_wsgi.views import ViewPolicy, policy_of

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

__all__ = ["CORS", "FlaskResolver"]


def _require_flask() -> None:
    try:
        import flask  # noqa: F401
    except ImportError:
        raise ImportError(
            "cors_wsgi.flask needs Flask: pip install 'cors_wsgi[flask]'"
        ) from None


class FlaskResolver:
    """``resolver(environ, method)``: the ``@cross_origin`` policy of the
    Flask view ``environ`` reaches with ``method``, or ``None`` (no view, a
    404, 405 or redirect, or a view without a decorator).  Reads the path,
    the host and the method only (``vary`` is empty)."""

    vary: tuple[str, ...] = ()

    def __init__(self, app: Flask) -> None:
        _require_flask()
        self.app = app

    def __call__(self, environ: WSGIEnvironment, method: str) -> ViewPolicy | None:
        from werkzeug.exceptions import HTTPException

        app = self.app
        try:
            adapter = app.create_url_adapter(app.request_class(environ))
            if adapter is None:
                return None
            endpoint, _ = adapter.match(method=method)
        except HTTPException:  # NotFound, MethodNotAllowed, RequestRedirect, an untrusted host
            return None
        view = app.view_functions.get(endpoint) if isinstance(endpoint, str) else None
        return None if view is None else policy_of(view, method)


class CORS:
    """The Flask extension: ``CORS(app)`` or ``CORS()`` then ``init_app(app)``.

    :param app: the Flask app, or ``None`` to call :meth:`init_app` later.
    :param policy: the app-wide :class:`~cors_wsgi.CORSPolicy`, or a mapping
        of path pattern to policy; default: ``CORSPolicy(**options)``, else
        ``app.config``'s ``CORS_*`` keys, else none (only views with
        ``@cross_origin`` get CORS).
    :param debug: :class:`~cors_wsgi.CORSMiddleware`'s ``debug``.
    :param catch_exceptions: its ``catch_exceptions``.
    :param on_refusal: its ``on_refusal``.
    :param on_decision: its ``on_decision`` (e.g. ``cors_wsgi.metrics.prometheus()``).
    :param options: ``CORSPolicy``'s keyword arguments, e.g.
        ``allow_origins=["https://app.example.com"]``.
    :raises CORSConfigError: for both ``policy`` and ``options``, and (from
        :meth:`init_app`) every problem of the configuration, each naming
        its key or argument.
    :ivar middleware: the :class:`~cors_wsgi.CORSMiddleware` of the last
        app initialised (also ``app.extensions["cors_wsgi"]``).
    """

    def __init__(
        self,
        app: Flask | None = None,
        policy: CORSPolicy | Mapping[str, CORSPolicy] | None = None,
        *,
        debug: bool = False,
        catch_exceptions: bool = False,
        on_refusal: Callable[[Refusal], object] | None = None,
        on_decision: Callable[[Decision], object] | None = None,
        **options: Any,
    ) -> None:
        if policy is not None and options:
            raise CORSConfigError([Problem(
                "invalid-type", "policy", policy,
                "pass either a CORSPolicy or CORSPolicy's keyword arguments, not both.",
            )])
        self.policy: CORSPolicy | Mapping[str, CORSPolicy] | None = (
            CORSPolicy(**options) if options else policy
        )
        flags: dict[str, object] = {"debug": debug, "catch_exceptions": catch_exceptions}
        problems = [
            Problem("invalid-type", name, value, "expected True or False.")
            for name, value in flags.items() if not isinstance(value, bool)
        ]
        hooks: dict[str, object] = {"on_refusal": on_refusal, "on_decision": on_decision}
        problems += [
            Problem("invalid-type", name, hook, f"expected a callable that takes a {record}, or None.")
            for (name, hook), record in zip(hooks.items(), ("Refusal", "Decision"), strict=True)
            if hook is not None and not callable(hook)
        ]
        if problems:
            raise CORSConfigError(problems)
        self.flags: dict[str, Any] = {
            "debug": debug, "catch_exceptions": catch_exceptions, "on_refusal": on_refusal,
            "on_decision": on_decision,
        }
        self.middleware: CORSMiddleware | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> CORSMiddleware:
        """Wrap ``app.wsgi_app`` (once per app) and return the middleware.

        :raises CORSConfigError: with every problem of ``app.config``'s
            ``CORS_*`` keys when no policy was given.
        """
        resolver = FlaskResolver(app)
        if self.policy is not None:
            middleware = CORSMiddleware(app.wsgi_app, self.policy, resolver=resolver, **self.flags)
        else:
            middleware = CORSMiddleware.from_settings(app.wsgi_app, app.config, resolver=resolver)
            # Arguments given to CORS(...) win over CORS_DEBUG, CORS_ON_DECISION, ...
            for name, value in self.flags.items():
                if value:
                    setattr(middleware, name, value)
        app.wsgi_app = middleware  # type: ignore[method-assign]
        app.extensions["cors_wsgi"] = middleware
        self.middleware = middleware
        return middleware

"""Django: a ``MIDDLEWARE`` class, ``@cross_origin`` views, system checks.

In ``settings.py``::

    INSTALLED_APPS = [..., "cors_wsgi.django.CORSAppConfig"]   # manage.py check
    MIDDLEWARE = [
        "cors_wsgi.django.CORSMiddleware",   # near the top: above CommonMiddleware
        "django.middleware.common.CommonMiddleware",
        ...
    ]
    CORS_ALLOW_ORIGINS = ["https://app.example.com"]
    CORS_PATHS = ["/api/*"]

and in ``views.py``::

    from cors_wsgi import cross_origin, no_cross_origin

    @cross_origin(allow_origins=["https://admin.example.com"], allow_methods=["PUT"])
    def update_item(request, item): ...

:class:`CORSMiddleware` reads the ``CORS_*`` settings (the keys
:meth:`cors_wsgi.CORSMiddleware.from_settings` reads) and runs every request
through the same engine as the WSGI middleware, so Django's test ``Client``
sees exactly the headers a real server sends.  It answers preflight
requests itself on covered paths, URLs Django would 404 included, before
any view or ``CommonMiddleware`` redirect; the policy of a request is the
one of the view ``django.urls.resolve`` finds for its path (a class-based
view's handler for the request's method, for a preflight the method it
asks about), else the ``CORS_*`` settings' (a 404 falls back).  With no
``CORS_*`` policy setting, only views with ``@cross_origin`` get CORS.
Projects that set ``request.urlconf`` must do so in a middleware above
this one.

Configuration problems are system-check errors with stable ids
(``cors_wsgi.<problem code>``, e.g. ``cors_wsgi.wildcard-origin-with-credentials``),
so ``manage.py check`` (and ``runserver``) lists every problem when
``cors_wsgi.django.CORSAppConfig`` is in ``INSTALLED_APPS``; without it the
middleware raises :class:`~cors_wsgi.CORSConfigError` with every problem
when Django loads it.  Install with ``pip install 'cors_wsgi[django]'``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cors_wsgi import _settings
from cors_wsgi.errors import CORSConfigError
from cors_wsgi.middleware import CORSMiddleware as WSGIMiddleware
from cors_wsgi.views import ViewPolicy, framework_app, policy_of, through_engine

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

try:
    from django.apps import AppConfig
except ImportError:  # pragma: no cover - only without Django
    raise ImportError("cors_wsgi.django needs Django: pip install 'cors_wsgi[django]'") from None

__all__ = ["CORSAppConfig", "CORSMiddleware", "DjangoResolver", "check_settings"]

#: The ``environ`` key that hands the request to ``DjangoResolver`` (for
#: ``request.urlconf``; removed again before the response leaves).
_REQUEST = "cors_wsgi.django.request"

#: The WSGI class's dotted path, which does not belong in ``MIDDLEWARE``.
_WSGI_CLASS = "cors_wsgi.middleware.CORSMiddleware"
_WSGI_NAMES = {_WSGI_CLASS, "cors_wsgi.CORSMiddleware"}


class DjangoResolver:
    """``resolver(environ, method)``: the ``@cross_origin`` policy of the
    Django view ``django.urls.resolve`` finds for the request's path
    (``request.urlconf`` honoured), or ``None`` (a 404, or no decorator).
    Reads the path only (``vary`` is empty)."""

    vary: tuple[str, ...] = ()

    def __call__(self, environ: WSGIEnvironment, method: str) -> ViewPolicy | None:
        from django.core.handlers.wsgi import get_path_info
        from django.urls import Resolver404, resolve

        request = environ.get(_REQUEST)
        try:
            match = resolve(get_path_info(environ), getattr(request, "urlconf", None))
        except Resolver404:
            return None
        return policy_of(match.func, method)


def _build(settings: object) -> WSGIMiddleware:
    """The engine for ``settings``: a WSGI ``CORSMiddleware`` around
    :func:`~cors_wsgi.views.framework_app`.

    :raises CORSConfigError: with every problem of the ``CORS_*`` settings.
    """
    wrap = WSGIMiddleware.wrapper_from_settings(
        _settings.prefixed(settings, "CORS_"), prefix="CORS_", resolver=DjangoResolver()
    )
    return wrap(framework_app)


class CORSMiddleware:
    """The Django middleware: ``"cors_wsgi.django.CORSMiddleware"`` in ``MIDDLEWARE``.

    :param get_response: the next layer (Django passes it).
    :raises CORSConfigError: with every problem of the ``CORS_*`` settings.
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.wsgi = _build(settings)

    def __call__(self, request: Any) -> Any:
        from django.http import HttpResponse

        def respond() -> tuple[Any, str, list[tuple[str, str]]]:
            response = self.get_response(request)
            return response, f"{response.status_code} {response.reason_phrase}", list(response.items())

        environ = request.META
        environ[_REQUEST] = request
        try:
            status, headers, body, answered = through_engine(self.wsgi, environ, respond)
        finally:
            environ.pop(_REQUEST, None)
        response: Any = answered
        if response is None:  # answered here: a preflight request
            response = HttpResponse(body, status=int(status[:3]))
            del response["Content-Type"]
        names = {name.lower() for name, _ in headers}
        for name in [name for name, _ in response.items() if name.lower() not in names]:
            del response[name]
        for name, value in headers:
            response[name] = value
        return response


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """The system check: every problem of the ``CORS_*`` settings, and a
    WSGI ``CORSMiddleware`` put in ``MIDDLEWARE``, as ``checks.Error``
    with the id ``cors_wsgi.<problem code>``."""
    from django.conf import settings
    from django.core import checks

    errors: list[Any] = []
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    for entry in middleware:
        if entry in _WSGI_NAMES:
            errors.append(checks.Error(
                f"{entry!r} in MIDDLEWARE is the WSGI middleware, which wraps a WSGI app.",
                hint="use 'cors_wsgi.django.CORSMiddleware' in MIDDLEWARE.",
                id="cors_wsgi.wsgi-class-in-middleware",
            ))
    ours = "cors_wsgi.django.CORSMiddleware"
    common = "django.middleware.common.CommonMiddleware"
    if ours in middleware and common in middleware and middleware.index(ours) > middleware.index(common):
        errors.append(checks.Warning(
            f"{ours!r} comes after {common!r} in MIDDLEWARE.",
            hint="move it above: CommonMiddleware's APPEND_SLASH redirect would answer preflight "
                 "requests first, and browsers fail a redirected preflight.",
            id="cors_wsgi.middleware-order",
        ))
    try:
        _build(settings)
    except CORSConfigError as error:
        errors.extend(
            checks.Error(f"{problem.argument}: {problem.message}", obj=problem.argument,
                         id=f"cors_wsgi.{problem.code}")
            for problem in error.problems
        )
    return errors


class CORSAppConfig(AppConfig):  # type: ignore[misc]
    """``"cors_wsgi.django.CORSAppConfig"`` in ``INSTALLED_APPS``: registers
    :func:`check_settings`, so ``manage.py check`` reports every problem."""

    name = "cors_wsgi"
    label = "cors_wsgi"
    verbose_name = "cors_wsgi"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from django.core import checks

        checks.register(check_settings, "cors_wsgi")

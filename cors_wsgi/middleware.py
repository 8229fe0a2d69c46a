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

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from cors_wsgi import _settings
from cors_wsgi._engine import Chooser, Engine, Unanswered, handle
from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.paths import PathMap
from cors_wsgi.policy import CORSPolicy
from cors_wsgi.refusals import Decision, Refusal
from cors_wsgi.views import Resolver, ViewChooser

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from cors_wsgi.explain import Explanation

__all__ = ["CORSMiddleware"]


#: ``CORSMiddleware(app)`` without a policy: Django's MIDDLEWARE calls
#: ``CORSMiddleware(get_response)``; say which class to use there.
_MISSING: object = object()


def _stand_in(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """What ``explain()`` runs instead of the application."""
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"ok"]


class CORSMiddleware:
    """Wrap ``app`` so it speaks the CORS protocol as ``policy`` says.

    :param app: any WSGI application.
    :param policy: a :class:`~cors_wsgi.CORSPolicy` for every path, or a
        mapping of path pattern to policy (:class:`cors_wsgi.paths.PathMap`:
        insertion order, first match wins; ``"/api/*"`` covers ``/api``,
        ``/api/`` and everything below it, never ``/apix``; a pattern without
        ``*`` is one exact path).  Patterns match ``PATH_INFO`` as the server
        decoded it, case-sensitively, never decoded again.  A request on a
        path no pattern covers passes through untouched.  A path with
        repeated slashes or ``.``/``..`` segments (``//admin``, ``/./admin``,
        ``/x/../admin``, a decoded ``%2F``) is matched twice, as sent and
        cleaned: routers disagree on such paths, so when the two readings
        pick different patterns the request is refused: a preflight gets
        ``403``, any other request reaches the app and gets no CORS header.
        A pattern that an earlier one always wins over is a configuration
        error (``shadowed-path-pattern``).
    :param resolver: ``resolver(environ, method) -> CORSPolicy |
        NOT_CROSS_ORIGIN | None``: the policy of the view the request
        reaches (``@cross_origin``), asked with the method the request is
        for (a preflight's ``Access-Control-Request-Method``); it replaces
        the path-mapped policy for that request, and ``None`` leaves the
        choice to ``policy`` (see :mod:`cors_wsgi.views` for the rules a
        resolver must keep).  With a resolver, ``policy`` may be ``None``:
        only views with a policy get CORS.  The framework adapters pass
        theirs.  Default: ``None``.
    :param debug: when an allowed origin's preflight asks for a method or
        header that is not allowed, answer ``204`` with the configured
        lists instead of ``403``, so the browser console names the real cause,
        and log every refused preflight on the ``cors_wsgi`` logger.  A
        disallowed origin is still refused, and a debug answer never lets a
        browser do more than the policy allows: under ``allow_headers="*"``
        it lists the requested names the policy allows instead of ``*``
        (which Chromium, Firefox and WebKit still let cover
        ``Authorization``).  Debug answers are never cached.  Default: ``False``.
    :param catch_exceptions: when the wrapped app raises before its response
        reaches the server, log the exception with its traceback (escaped)
        on the ``cors_wsgi`` logger and answer ``500 Internal Server Error``
        with the CORS headers, so the browser shows the 500 instead of a
        misleading CORS error.  ``close()`` still reaches the app's iterable.
        The status and headers reach the server only when the app returns its
        iterable (a lazy app: its first item) or calls ``write()``, so an app
        that calls ``start_response`` and then raises still gets the 500, and
        a restart with ``exc_info`` reaches the server as one call (gunicorn
        appends a second header list to the first instead of replacing it,
        so without this a restarted response carries two
        ``Access-Control-Allow-Origin`` lines and fails the CORS check;
        waitress replaces it).  An exception raised after that is re-raised
        unchanged.  Off by default, so error-reporting middleware outside
        keeps seeing the exception.  Default: ``False``.
    :param on_refusal: called with a :class:`~cors_wsgi.refusals.Refusal` for
        every refused request, in the request's thread.  Whatever it raises
        (``BaseException`` subclasses such as ``gevent.Timeout`` included) is
        logged and never changes the response; only ``KeyboardInterrupt`` and
        ``SystemExit`` propagate.  A slow hook delays refused requests by its
        run time: wrap it in :class:`~cors_wsgi.refusals.BackgroundHook` to
        hand refusals to a thread of its own.  Default: ``None``.
    :param on_decision: called with a :class:`~cors_wsgi.refusals.Decision`
        for every request carrying an ``Origin``, allowed or refused (a
        request without ``Origin`` produces none), in the request's thread,
        its errors contained as ``on_refusal``'s.  :mod:`cors_wsgi.metrics`
        builds Prometheus and OpenTelemetry hooks.  It runs on every CORS
        request: keep it fast.  Without it, an allowed request pays one
        attribute check.  Default: ``None``.
    :raises CORSConfigError: for a malformed ``policy`` mapping or a
        non-bool flag, with every problem found.

    An application that breaks PEP 3333 (a header name or value that is not
    a ``str``) gets a ``TypeError`` naming the header from ``start_response``.

    :ivar engine: the compiled policy (``cors_wsgi._engine.Engine``, internal),
        or ``None`` when the policy is chosen per request; set by :meth:`reconfigure`.
    :ivar paths: the :class:`~cors_wsgi.paths.PathMap` of a path mapping (or
        ``None`` for one policy); set by :meth:`reconfigure`.
    :ivar choose: ``choose(environ)``, which picks each request's policy
        when ``engine`` is ``None``: ``paths.choose``, or a
        :class:`~cors_wsgi.views.ViewChooser` with a resolver.
    :ivar log_refusals: log refusals on the ``cors_wsgi`` logger (at
        ``DEBUG``, ``WARNING`` with ``debug``); ``explain()`` turns it off
        for its in-process run.  Default: ``True``.
    """

    __slots__ = (
        "_policy", "app", "catch_exceptions", "choose", "debug", "engine", "log_refusals", "on_decision",
        "on_refusal", "paths", "resolver", "vary",
    )

    def __init__(
        self,
        app: WSGIApplication,
        policy: CORSPolicy | Mapping[str, CORSPolicy] | None = _MISSING,  # type: ignore[assignment]
        *,
        resolver: Resolver | None = None,
        debug: bool = False,
        catch_exceptions: bool = False,
        on_refusal: Callable[[Refusal], object] | None = None,
        on_decision: Callable[[Decision], object] | None = None,
    ) -> None:
        if policy is _MISSING:
            raise CORSConfigError([Problem(
                "missing-policy", "policy", None,
                "CORSMiddleware(app, policy) wraps a WSGI app and needs a CORSPolicy, e.g. "
                "CORSMiddleware(app, CORSPolicy(allow_origins=['https://app.example.com'])); "
                "in Django's MIDDLEWARE setting use 'cors_wsgi.django.CORSMiddleware', which reads "
                "the CORS_* settings.",
            )])
        # Typed as a caller may really pass them: anything (they are checked).
        flags: dict[str, object] = {"debug": debug, "catch_exceptions": catch_exceptions}
        problems = [
            Problem("invalid-type", name, value, "expected True or False.")
            for name, value in flags.items()
            if not isinstance(value, bool)
        ]
        hooks: dict[str, object] = {"on_refusal": on_refusal, "on_decision": on_decision}
        problems.extend(
            Problem("invalid-type", name, hook,
                    f"expected a callable that takes a cors_wsgi.refusals.{record}, or None.")
            for (name, hook), record in zip(hooks.items(), ("Refusal", "Decision"), strict=True)
            if hook is not None and not callable(hook)
        )
        if policy is None and resolver is None:
            problems.append(Problem(
                "invalid-type", "policy", None,
                "expected a CORSPolicy or a mapping of path pattern to CORSPolicy; None is only "
                "allowed with a resolver (then only views with @cross_origin get CORS).",
            ))
        if problems:
            raise CORSConfigError(problems)
        self.engine: Engine | None = None
        self.paths: PathMap | None = None
        self.resolver = resolver
        self.vary: tuple[str, ...] = ()
        self.reconfigure(policy)
        self.app = app
        self.debug = debug
        self.catch_exceptions = catch_exceptions
        self.on_refusal = on_refusal
        self.on_decision = on_decision
        self.log_refusals = True

    @classmethod
    def from_settings(
        cls,
        app: WSGIApplication,
        settings: object,
        prefix: str = "CORS_",
        *,
        resolver: Resolver | None = None,
    ) -> CORSMiddleware:
        """Wrap ``app`` as ``prefix``-ed settings say: the policy keys of
        :meth:`CORSPolicy.from_settings` plus ``CORS_DEBUG``, ``CORS_PATHS``
        (path patterns that get the policy; default every path),
        ``CORS_CATCH_EXCEPTIONS``, ``CORS_ON_REFUSAL`` and ``CORS_ON_DECISION``
        (a callable, or ``"package.module:hook"``; ``"cors_wsgi.metrics:prometheus()"``
        calls a factory; several separated by spaces).  With a ``resolver`` and no policy key at
        all, only views with ``@cross_origin`` get CORS.

        :raises CORSConfigError: with every problem, each naming its key.
        """
        found = _settings.prefixed(settings, prefix)
        return cls.wrapper_from_settings(found, prefix=prefix, resolver=resolver)(app)

    @classmethod
    def wrapper_from_settings(
        cls,
        settings: Mapping[str, object],
        *,
        prefix: str = "",
        problems: Iterable[Problem] = (),
        resolver: Resolver | None = None,
    ) -> Callable[[WSGIApplication], CORSMiddleware]:
        """Validate argument-named ``settings`` (``{"allow_origins": ...,
        "paths": ..., "debug": ...}``, string or Python values) now; return
        ``wrap(app)``, which builds the middleware.  Problems name the keys
        as ``prefix`` spells them (``"CORS_ALLOW_ORIGINS"``, or
        ``"allow_origins"`` for no prefix); ``problems`` found earlier are
        reported with them.  With a ``resolver`` and no policy key, the
        middleware has no policy of its own (only views' policies apply).

        :raises CORSConfigError: with every problem.
        """
        def key_name(argument: str) -> str:
            if not prefix:
                return argument
            # "CORS_ALLOW_ORIGINS" (Flask, Django); "cors.allow_origins" (Pyramid's ini).
            return prefix + (argument if prefix.endswith(".") else argument.upper())

        found = list(problems)
        policy_kwargs, paths, flags = _settings.middleware_arguments(settings, found, key_name=key_name)
        policy: CORSPolicy | None = None
        views_only = resolver is not None and not policy_kwargs and not paths
        try:
            if not views_only:
                policy = CORSPolicy(**policy_kwargs)  # type: ignore[arg-type]
        except CORSConfigError as error:
            found.extend(_settings.rename(error.problems, key_name))
        target: CORSPolicy | dict[str, CORSPolicy] | None = policy
        if policy is not None and paths:
            target = dict.fromkeys(paths, policy)
            try:
                PathMap(target)
            except CORSConfigError as error:
                found.extend(_settings.rename(error.problems, key_name))
        if found or (target is None and not views_only):
            raise CORSConfigError(found)
        settled = target

        def wrap(app: WSGIApplication) -> CORSMiddleware:
            return cls(app, settled, resolver=resolver, **flags)  # type: ignore[arg-type]

        return wrap

    @property
    def policy(self) -> CORSPolicy | dict[str, CORSPolicy] | None:
        """The policy, or the mapping of path pattern to policy, in use now
        (``None`` with a resolver and no policy)."""
        return self._policy

    def reconfigure(self, policy: CORSPolicy | Mapping[str, CORSPolicy] | None) -> None:
        """Use ``policy`` (a :class:`~cors_wsgi.CORSPolicy`, or a mapping of
        path pattern to policy; with a resolver, also ``None``) from the next
        request on.

        The new configuration is validated first: a bad one raises
        :class:`~cors_wsgi.CORSConfigError` and changes nothing.  Then it
        replaces the old one in a single assignment, so every request sees
        one configuration or the other, never a mix; requests in flight
        finish with the one they started with.  Browsers keep preflight
        answers they cached for up to ``max_age`` seconds (5 s without it),
        so a narrowed policy reaches them only after that.

        :raises CORSConfigError: with every problem found.
        """
        # What a request reads: ``engine`` first (one policy for every
        # request), then, when it is None, ``choose``.  Assigned in an order
        # that keeps every reader consistent: the chooser before the engine
        # is cleared.
        if policy is None and self.resolver is None:
            raise CORSConfigError([Problem(
                "invalid-type", "policy", None,
                "expected a CORSPolicy or a mapping of path pattern to CORSPolicy.",
            )])
        if isinstance(policy, CORSPolicy) and self.resolver is None:
            self._policy: CORSPolicy | dict[str, CORSPolicy] | None = policy
            self.engine = policy.engine
            return
        mapping = {"/*": policy} if isinstance(policy, CORSPolicy) else policy
        paths = None if mapping is None else PathMap(mapping)
        choose: Chooser
        if self.resolver is not None:
            chooser = ViewChooser(self.resolver, paths)
            choose, self.vary = chooser, chooser.vary
        else:
            assert paths is not None
            choose = paths.choose
        self.paths, self.choose = paths, choose
        self.engine = None
        self._policy = paths.policies() if paths is not None and not isinstance(policy, CORSPolicy) else (
            policy if isinstance(policy, CORSPolicy) else None
        )

    def explain(
        self,
        origin: str,
        method: str = "GET",
        headers: Mapping[str, str] | Iterable[tuple[str, str] | str] = (),
        credentials: bool = False,
        path: str | None = None,
        read_headers: Iterable[str] = (),
    ) -> Explanation:
        """Would a browser on ``origin`` get the response to
        ``fetch(path, {method, headers, credentials})``, and which rule decided?

        Runs the preflight (when a browser would send one) and the actual
        request through this middleware's policies and path mapping
        in-process, against a stand-in for the app (the app is never called,
        the ``on_refusal`` and ``on_decision`` hooks never fire, nothing is logged), and judges
        the answers as the Fetch standard does (:mod:`cors_wsgi.fetch`).

        :param origin: the page's serialized origin, ``"https://app.example.com"``.
        :param method: as the script passes it (``"patch"`` is not ``"PATCH"``).
        :param headers: the headers the script sets: a mapping, ``(name,
            value)`` pairs, or bare names (sent with the value ``"1"``).
        :param credentials: ``credentials: "include"``.
        :param path: the request path, ``"/api/items"``; default ``"/"``.  A
            whole URL (``"http://192.168.1.20:8080/api/items"``) also says
            where the server is: a loopback or private address from a
            public page adds a Local Network Access note to the verdict.
        :param read_headers: response header names the script reads
            (``response.headers.get("X-Request-Id")``): when the request is
            allowed but one is neither CORS-safelisted nor exposed, the fix
            says to add it to ``expose_headers``.
        :returns: an :class:`~cors_wsgi.explain.Explanation`; ``str()`` of it
            reads ``allowed`` or ``blocked at step ...: reason``, the fix and the rule.
        """
        from cors_wsgi.explain import Choice, explain_request

        engine, paths, policy = self.engine, self.paths, self._policy
        chooser = None if engine is not None else self.choose

        def serve(hook: Callable[[Refusal], object]) -> WSGIApplication:
            # No on_decision: a clone's requests are not served, so never counted.
            clone = CORSMiddleware(_stand_in, policy, resolver=self.resolver, on_refusal=hook)
            # The very engines and chooser, caches included:
            clone.engine, clone.paths = engine, paths
            if chooser is not None:
                clone.choose = chooser
            # As set, even if not bools:
            clone.debug, clone.catch_exceptions = self.debug, self.catch_exceptions
            clone.log_refusals = False
            return clone

        def choose(request_path: str) -> Choice:
            if engine is not None:
                return Choice(engine, None, None, policy if isinstance(policy, CORSPolicy) else None)
            assert chooser is not None
            route = chooser({"REQUEST_METHOD": method.upper(), "PATH_INFO": request_path})
            if route is None:
                patterns = ", ".join(repr(r.pattern) for r in paths.routes) if paths else "none"
                return Choice(None, None, f"no path pattern covers {request_path!r} (patterns: {patterns}): "
                                          "the request passes through untouched")
            if isinstance(route, Unanswered):
                if route.reason == "view-not-cross-origin":
                    return Choice(None, None, f"{request_path!r} reaches a view marked @no_cross_origin")
                return Choice(None, None, f"{request_path!r} reads differently once cleaned and the "
                                          "readings pick different patterns")
            return Choice(route.engine, route.pattern, None, route.policy)

        return explain_request(serve, choose, origin, method, headers, credentials, path, read_headers)

    #: A request: ``_engine.handle(self, environ, start_response)``, the whole
    #: request path (choosing the policy, the preflight answer, the shim).
    __call__ = handle

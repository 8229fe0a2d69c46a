"""A token-free cross-origin request forgery (CSRF) gate: :class:`CrossOriginProtection`.

Browsers label every request with where it comes from: ``Sec-Fetch-Site``
(Fetch Metadata, https://www.w3.org/TR/fetch-metadata/) since Chrome 76,
Firefox 90 and Safari 16.4, and ``Origin`` on every ``POST`` since about
2020.  A forged request (a form or a ``fetch`` on an attacker's page that
rides the user's cookies) says ``cross-site``, so refusing unsafe
cross-site requests stops it without tokens.  The rules are those of Go
1.25's ``net/http.CrossOriginProtection`` (golang/go#73626,
https://words.filippo.io/csrf/), with its known weaknesses closed:

* ``GET``, ``HEAD`` and ``OPTIONS`` always pass (they must not change state).
* ``Sec-Fetch-Site: same-origin`` or ``none`` (the user typed the URL,
  used a bookmark) passes; ``same-site`` only with ``allow_same_site=True``;
  ``cross-site`` (and any other value) only for a trusted origin or on a
  bypass path.
* Without ``Sec-Fetch-Site`` (an old browser, plain ``http:`` to a
  non-loopback host, or no browser at all), a request without ``Origin``
  passes (``strict=True`` refuses it over HTTPS, where every current browser
  sends ``Sec-Fetch-Site``); with ``Origin`` it passes only when the
  ``Origin`` is, byte for byte, a trusted origin or the request's own
  origin.  Go compares a leniently parsed ``Origin`` with ``Host``, so
  ``Origin: http://evil@victim.com`` passes there (golang/go#78563); here
  user info, paths, upper case, default ports, unserialized IPv4 and IPv6
  forms and anything malformed never equal a serialized origin.

The own origin is ``wsgi.url_scheme`` and ``HTTP_HOST`` (else
``SERVER_NAME`` and ``SERVER_PORT``), serialized with the default port
dropped.  Behind a proxy that rewrites ``Host`` or terminates TLS, the
application sees another origin than the browser: pass the public origins
as ``public_origins=``, which then replace the environ's.

The gate is a WSGI middleware of its own, composable with
:class:`~cors_wsgi.CORSMiddleware` in either order: it passes ``OPTIONS``,
so CORS preflights reach the CORS layer whichever is outside.  Put
``CORSMiddleware`` outermost (``CORSMiddleware(CrossOriginProtection(app),
policy)``) so that the gate's ``403`` still gets the CORS headers and a
trusted cross-origin page's script can read why it was refused.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from cors_wsgi import _settings
from cors_wsgi._engine import merge_vary
from cors_wsgi._host import HostError, serialize_origin
from cors_wsgi._log import escape, logger
from cors_wsgi._origins import parse_exact_origin
from cors_wsgi._protocol import MAX_ORIGIN_LENGTH
from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.paths import normalize_path, pattern_to_wsgi
from cors_wsgi.policy import CORSPolicy
from cors_wsgi.refusals import Refusal, deliver

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "MODES",
    "PROTECTION_REASONS",
    "SAFE_METHODS",
    "CrossOriginProtection",
    "GateDecision",
    "protection_filter_factory",
]

#: Methods that always pass: they must not change state (RFC 9110 section 9.2.1).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: ``"enforce"`` refuses with ``403``; ``"report"`` logs and calls the hook, and passes.
MODES = ("enforce", "report")

#: The ``Refusal.reason`` codes the gate produces (all in ``REFUSAL_REASONS``),
#: with the plain-text body of its ``403``.
PROTECTION_REASONS: dict[str, str] = {
    "csrf-cross-site": "cross-site request refused (Sec-Fetch-Site: cross-site)",
    "csrf-same-site": "same-site request refused (Sec-Fetch-Site: same-site)",
    "csrf-fetch-site-malformed": "request refused: Sec-Fetch-Site is not a value browsers send",
    "csrf-origin-mismatch": "cross-origin request refused (the Origin is not this site's)",
    "csrf-origin-malformed": "request refused: the Origin is not a serialized origin",
    "csrf-no-origin-strict": "request refused: neither Sec-Fetch-Site nor Origin was sent",
}

_FETCH_SITE = "Sec-Fetch-Site"
_ORIGIN = "Origin"
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class GateDecision(NamedTuple):
    """What the gate decided for one request (:meth:`cors_wsgi.CrossOriginProtection.decide`)."""

    #: ``None`` when the request passes, else a code of :data:`PROTECTION_REASONS`.
    reason: str | None
    #: The request headers the decision read, for ``Vary`` (``()`` for safe methods).
    vary: tuple[str, ...]


def _strict_bool(value: object, argument: str, problems: list[Problem]) -> bool:
    if isinstance(value, bool):
        return value
    problems.append(Problem("invalid-type", argument, value, "expected True or False."))
    return False


def _origin_items(value: object, argument: str, problems: list[Problem]) -> tuple[str, ...]:
    """A ``str`` (one origin) or an iterable of exact serialized origins."""
    if isinstance(value, str):
        candidates: list[object] = [value]
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray, Mapping)):
        candidates = list(value)
    else:
        problems.append(Problem("invalid-type", argument, value,
                                "expected a list of origins, e.g. ['https://app.example.com']."))
        return ()
    found: list[str] = []
    for item in candidates:
        if not isinstance(item, str):
            problems.append(Problem("invalid-type", argument, item,
                                    "expected an origin as a str, e.g. 'https://app.example.com'."))
        elif parse_exact_origin(item, argument, problems) and item not in found:
            found.append(item)
    return tuple(found)


class _Bypass(NamedTuple):
    pattern: str
    path: str  # WSGI form, without "/*"
    prefix: bool

    def covers(self, path: str) -> bool:
        return path == self.path or (
            self.prefix and path.startswith(self.path) and path[len(self.path) : len(self.path) + 1] == "/"
        )


def _bypass_items(value: object, problems: list[Problem]) -> tuple[_Bypass, ...]:
    if isinstance(value, str):
        candidates: list[object] = [value]
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray, Mapping)):
        candidates = list(value)
    else:
        problems.append(Problem("invalid-type", "bypass_paths", value,
                                "expected a list of path patterns, e.g. ['/webhooks/*']."))
        return ()
    found: list[_Bypass] = []
    for pattern in candidates:
        if not isinstance(pattern, str) or not pattern.startswith("/"):
            problems.append(Problem("invalid-path-pattern", "bypass_paths", pattern,
                                    "a path pattern starts with '/', e.g. '/webhooks/*' or '/hooks/stripe'."))
            continue
        prefix = pattern.endswith("/*")
        path = pattern[:-2] if prefix else pattern
        if "*" in path:
            problems.append(Problem("invalid-path-pattern", "bypass_paths", pattern,
                                    "'*' may only end a pattern, after '/': '/webhooks/*' covers "
                                    "/webhooks, /webhooks/ and everything below it."))
            continue
        if normalize_path(path or "/") == "/":
            problems.append(Problem(
                "bypass-covers-everything", "bypass_paths", pattern,
                "this bypass covers every path (as Go's ServeMux reads '/'), which turns the "
                "protection off (gosec G121). Bypass only the endpoints that need it, such as "
                "'/webhooks/*', and authenticate them another way (a signature).",
            ))
            continue
        found.append(_Bypass(pattern, pattern_to_wsgi(path), prefix))
    return tuple(found)


def _policy_origins(policy: object, problems: list[Problem]) -> tuple[str, ...]:
    """The exact ``allow_origins`` entries of a credentialed ``CORSPolicy``."""
    if policy is None:
        return ()
    if not isinstance(policy, CORSPolicy):
        problems.append(Problem("invalid-type", "trust_cors_policy", policy,
                                "expected a CORSPolicy or None."))
        return ()
    if not policy.allow_credentials:
        problems.append(Problem(
            "cors-policy-without-credentials", "trust_cors_policy", policy,
            "this policy does not allow credentials, so its origins are trusted to read "
            "responses, not to act as the user; list the origins in trusted_origins instead.",
        ))
        return ()
    return tuple(origin for origin in policy.allow_origins if "*" not in origin)


class CrossOriginProtection:
    """WSGI middleware that refuses forged cross-origin requests, without tokens.

    ::

        from cors_wsgi import CrossOriginProtection

        app = CrossOriginProtection(app, trusted_origins=["https://sso.example.com"],
                                    bypass_paths=["/webhooks/*"])

    :param app: the WSGI application to protect.
    :param trusted_origins: exact serialized origins (``"https://sso.example.com"``)
        whose unsafe requests pass from another site, validated as exact
        ``allow_origins`` entries are (no wildcard, no ``null``).  Default: none.
    :param bypass_paths: path patterns (``"/webhooks/*"``, ``"/hooks/stripe"``,
        as in :mod:`cors_wsgi.paths`) whose requests pass whatever their
        origin; a path is bypassed only when it is covered both as sent and
        cleaned of ``//`` and dot segments.  ``"/"`` and ``"/*"`` are refused.
        Default: none.
    :param allow_same_site: let ``Sec-Fetch-Site: same-site`` pass (a sibling
        subdomain: note that a taken-over subdomain is same-site).  Default ``False``.
    :param mode: ``"enforce"`` (refuse with ``403``, the default) or
        ``"report"`` (log at ``WARNING`` and call ``on_refusal``, then pass):
        roll out with ``"report"`` first.
    :param on_refusal: called with a :class:`~cors_wsgi.refusals.Refusal`
        (``kind="actual"``, ``reason`` a ``csrf-*`` code, ``path_pattern=None``)
        for each refused request, in the request's thread; what it raises is
        logged and never changes the response (``KeyboardInterrupt`` and
        ``SystemExit`` propagate).
    :param strict: refuse requests with neither ``Sec-Fetch-Site`` nor
        ``Origin`` when the request is HTTPS (``wsgi.url_scheme``, or every
        ``public_origins`` entry, is ``https``): every current browser sends
        ``Sec-Fetch-Site`` there, so only old browsers and non-browser clients
        are refused.  Default ``False``.
    :param public_origins: the origins browsers reach this application at, when
        a proxy rewrites ``Host`` or terminates TLS; they replace the origin
        read from the environ.  Default: read from the environ.
    :param trust_cors_policy: a credentialed :class:`~cors_wsgi.CORSPolicy`
        whose exact ``allow_origins`` entries are trusted as well (never its
        wildcards, regexes, predicate or store), stated explicitly: the gate
        never reads a CORS policy on its own.  Default ``None``.
    :raises CORSConfigError: with every problem at once: an origin not
        serialized, a wildcard, ``null`` (the ``allow_origins`` codes), an
        ``invalid-path-pattern``, ``bypass-covers-everything``,
        ``invalid-protection-mode``, ``cors-policy-without-credentials``,
        ``invalid-type`` for a non-bool flag or a non-callable hook.

    Sources: Fetch Metadata Request Headers (https://www.w3.org/TR/fetch-metadata/),
    Go's ``CrossOriginProtection`` (https://pkg.go.dev/net/http#CrossOriginProtection).
    """

    app: WSGIApplication
    trusted_origins: tuple[str, ...]
    bypass_paths: tuple[str, ...]
    allow_same_site: bool
    mode: str
    on_refusal: Callable[[Refusal], object] | None
    strict: bool
    public_origins: tuple[str, ...]

    def __init__(
        self,
        app: WSGIApplication,
        *,
        trusted_origins: str | Iterable[str] = (),
        bypass_paths: str | Iterable[str] = (),
        allow_same_site: bool = False,
        mode: str = "enforce",
        on_refusal: Callable[[Refusal], object] | None = None,
        strict: bool = False,
        public_origins: str | Iterable[str] = (),
        trust_cors_policy: CORSPolicy | None = None,
    ) -> None:
        problems: list[Problem] = []
        given_app: object = app  # checked: callers may pass anything
        if not callable(given_app):
            problems.append(Problem("invalid-type", "app", app, "expected a WSGI application."))
        trusted = _origin_items(trusted_origins, "trusted_origins", problems)
        from_policy = _policy_origins(trust_cors_policy, problems)
        bypass = _bypass_items(bypass_paths, problems)
        public = _origin_items(public_origins, "public_origins", problems)
        same_site = _strict_bool(allow_same_site, "allow_same_site", problems)
        strict_flag = _strict_bool(strict, "strict", problems)
        if mode not in MODES:
            problems.append(Problem("invalid-protection-mode", "mode", mode,
                                    "expected 'enforce' (refuse) or 'report' (log, then pass)."))
        given_hook: object = on_refusal
        if given_hook is not None and not callable(given_hook):
            problems.append(Problem("invalid-type", "on_refusal", on_refusal, "expected a callable or None."))
        if problems:
            raise CORSConfigError(problems)
        self.app = app
        self.trusted_origins = trusted + tuple(o for o in from_policy if o not in trusted)
        self.bypass_paths = tuple(b.pattern for b in bypass)
        self.allow_same_site = same_site
        self.mode = mode
        self.on_refusal = on_refusal
        self.strict = strict_flag
        self.public_origins = public
        self._trusted = frozenset(self.trusted_origins)
        self._bypass = bypass
        self._public = frozenset(public)
        self._public_https = bool(public) and all(o.startswith("https://") for o in public)

    def __repr__(self) -> str:
        return (f"CrossOriginProtection({self.app!r}, trusted_origins={self.trusted_origins!r}, "
                f"bypass_paths={self.bypass_paths!r}, allow_same_site={self.allow_same_site!r}, "
                f"mode={self.mode!r}, strict={self.strict!r}, public_origins={self.public_origins!r})")

    # -- settings --------------------------------------------------------------

    @classmethod
    def from_settings(
        cls,
        app: WSGIApplication,
        settings: object,
        *,
        prefix: str = "CORS_PROTECTION_",
        on_refusal: Callable[[Refusal], object] | None = None,
        trust_cors_policy: CORSPolicy | None = None,
    ) -> CrossOriginProtection:
        """The gate configured from ``prefix``-ed settings: a mapping (Flask
        ``app.config``, a dict) or an object (Django ``settings``), e.g.
        ``{"CORS_PROTECTION_TRUSTED_ORIGINS": ["https://sso.example.com"],
        "CORS_PROTECTION_MODE": "report"}``.  Keys are the argument names in
        upper case after the prefix (``TRUSTED_ORIGINS``, ``BYPASS_PATHS``,
        ``ALLOW_SAME_SITE``, ``MODE``, ``STRICT``, ``PUBLIC_ORIGINS``,
        ``ON_REFUSAL`` as ``"package.module:callable"``); string values are
        converted strictly, as the CORS settings are.

        :raises CORSConfigError: naming every unknown key and bad value by its setting name.
        """
        values = _settings.prefixed(settings, prefix)
        return cls._build(app, values, key_name=lambda key: prefix + key.upper(),
                          on_refusal=on_refusal, trust_cors_policy=trust_cors_policy)

    @classmethod
    def _build(
        cls,
        app: WSGIApplication,
        values: Mapping[str, object],
        *,
        key_name: Callable[[str], str] = str,
        problems: list[Problem] | None = None,
        on_refusal: Callable[[Refusal], object] | None = None,
        trust_cors_policy: CORSPolicy | None = None,
    ) -> CrossOriginProtection:
        found = list(problems or [])
        kwargs = convert_settings(values, found, key_name=key_name)
        if on_refusal is not None:
            kwargs.setdefault("on_refusal", on_refusal)
        try:
            gate = cls(app, trust_cors_policy=trust_cors_policy, **kwargs)  # type: ignore[arg-type]
        except CORSConfigError as error:
            found += [dataclasses.replace(p, argument=key_name(p.argument)) if p.argument in
                      _settings.PROTECTION_CONVERTERS else p for p in error.problems]
        if found:
            raise CORSConfigError(found)
        return gate

    # -- the decision ------------------------------------------------------------

    def own_origins(self, environ: WSGIEnvironment) -> frozenset[str]:
        """The origins a same-origin request comes from: ``public_origins``
        when given, else ``wsgi.url_scheme://HTTP_HOST`` (or ``SERVER_NAME``
        and ``SERVER_PORT``) serialized, default port dropped; empty when
        the ``Host`` is no host a browser sends."""
        if self._public:
            return self._public
        scheme = str(environ.get("wsgi.url_scheme", "http"))
        host = environ.get("HTTP_HOST")
        if not host:
            name, port = environ.get("SERVER_NAME"), str(environ.get("SERVER_PORT", ""))
            if not name:
                return frozenset()
            host = f"{name}:{port}" if port and port != _DEFAULT_PORTS.get(scheme) else str(name)
        if not isinstance(host, str) or len(host) > MAX_ORIGIN_LENGTH:
            return frozenset()
        try:
            return frozenset({serialize_origin(f"{scheme}://{host}")})
        except HostError:
            return frozenset()

    def _bypassed(self, environ: WSGIEnvironment) -> bool:
        path = str(environ.get("PATH_INFO", ""))
        cleaned = normalize_path(path) if ("//" in path or "/." in path) else path
        return any(b.covers(path) and b.covers(cleaned) for b in self._bypass)

    def _origin_reason(self, origin: str) -> str:
        if len(origin) <= MAX_ORIGIN_LENGTH:
            try:
                if serialize_origin(origin) == origin:
                    return "csrf-origin-mismatch"
            except HostError:
                pass
        return "csrf-origin-malformed"

    def decide(self, environ: WSGIEnvironment) -> GateDecision:
        """Whether the request of ``environ`` passes, and the headers that decided it."""
        if environ.get("REQUEST_METHOD", "GET") in SAFE_METHODS:
            return GateDecision(None, ())
        site = environ.get("HTTP_SEC_FETCH_SITE")
        if site is not None:
            if site in ("same-origin", "none"):
                return GateDecision(None, (_FETCH_SITE,))
            if site == "same-site" and self.allow_same_site:
                return GateDecision(None, (_FETCH_SITE,))
            if self._bypassed(environ):
                return GateDecision(None, (_FETCH_SITE,))
            vary = (_FETCH_SITE, _ORIGIN)
            if environ.get("HTTP_ORIGIN") in self._trusted:
                return GateDecision(None, vary)
            reasons = {"cross-site": "csrf-cross-site", "same-site": "csrf-same-site"}
            return GateDecision(reasons.get(site, "csrf-fetch-site-malformed"), vary)
        vary = (_FETCH_SITE, _ORIGIN)
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            secure = self._public_https if self._public else environ.get("wsgi.url_scheme") == "https"
            if self.strict and secure and not self._bypassed(environ):
                return GateDecision("csrf-no-origin-strict", vary)
            return GateDecision(None, vary)
        if origin in self._trusted or origin in self.own_origins(environ) or self._bypassed(environ):
            return GateDecision(None, vary)
        return GateDecision(self._origin_reason(str(origin)), vary)

    # -- WSGI --------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        reason, vary = self.decide(environ)
        if reason is not None:
            self._report(environ, reason)
            if self.mode == "enforce":
                body = f"{PROTECTION_REASONS[reason]}\n".encode("ascii")
                start_response("403 Forbidden", merge_vary([
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                ], vary))
                return [body]
        if not vary:
            return self.app(environ, start_response)

        def varying_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: object = None
        ) -> object:
            return start_response(status, merge_vary(headers, vary), exc_info)  # type: ignore[arg-type]

        return self.app(environ, varying_start_response)  # type: ignore[arg-type]

    def _report(self, environ: WSGIEnvironment, reason: str) -> None:
        level = logging.WARNING if self.mode == "report" else logging.DEBUG
        hook = self.on_refusal
        if hook is None and not logger.isEnabledFor(level):
            return
        origin = environ.get("HTTP_ORIGIN")
        refusal = Refusal(
            "actual", reason, None if origin is None else escape(str(origin)),
            escape(str(environ.get("REQUEST_METHOD", ""))), None,
        )
        if logger.isEnabledFor(level):
            logger.log(
                level, "cross-origin protection %s (%s): method=%s path=%s sec-fetch-site=%s origin=%s",
                "would refuse (report mode)" if self.mode == "report" else "refused", reason,
                refusal.method, escape(str(environ.get("PATH_INFO", ""))),
                escape(str(environ.get("HTTP_SEC_FETCH_SITE", "<absent>"))),
                refusal.origin or "<absent>",
            )
        if hook is not None:
            deliver(hook, refusal)


def convert_settings(
    values: Mapping[str, object], problems: list[Problem], *, key_name: Callable[[str], str] = str
) -> dict[str, object]:
    """Argument-named ``values`` (strings or Python values) as keyword
    arguments of :class:`CrossOriginProtection`; unknown keys and
    unconvertible strings are appended to ``problems``."""
    table = _settings.PROTECTION_CONVERTERS
    kwargs: dict[str, object] = {}
    for key, value in values.items():
        if key not in table:
            close = difflib.get_close_matches(key, list(table), n=1)
            hint = f"did you mean {key_name(close[0])!r}? " if close else ""
            problems.append(Problem(
                "unknown-key", key_name(key), value,
                f"not a CrossOriginProtection setting; {hint}Known: "
                f"{', '.join(key_name(k) for k in table)}.",
            ))
            continue
        if isinstance(value, str):
            try:
                kwargs[key] = table[key](value)
            except ValueError as error:
                problems.append(Problem("invalid-value", key_name(key), value, f"{error}."))
        else:
            kwargs[key] = value
    return kwargs


def protection_filter_factory(
    global_conf: Mapping[str, str], **local_conf: str
) -> Callable[[WSGIApplication], CrossOriginProtection]:
    """PasteDeploy ``paste.filter_factory`` (entry point ``protection``)::

        [filter:csrf]
        use = egg:cors_wsgi#protection
        trusted_origins = https://sso.example.com
        bypass_paths = /webhooks/*
        mode = report

    Keys are the argument names (``trust_cors_policy`` has no ini form);
    ``on_refusal`` is a ``package.module:callable``.  A gate key in
    ``[DEFAULT]`` is an error (PasteDeploy would silently drop it).

    :raises CORSConfigError: at ``loadapp`` time, naming every bad key.
    """
    problems = [
        Problem("key-in-default-section", key, value,
                "PasteDeploy drops a filter key that [DEFAULT] also sets, so this setting "
                "would be silently lost: move it out of [DEFAULT] into the filter section.")
        for key, value in global_conf.items() if key in _settings.PROTECTION_CONVERTERS
    ]
    # Validate now, so a bad ini fails at loadapp time, before any app is wrapped.
    CrossOriginProtection._build(_placeholder_app, local_conf, problems=problems)

    def wrap(app: WSGIApplication) -> CrossOriginProtection:
        return CrossOriginProtection._build(app, local_conf)

    return wrap


def _placeholder_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    raise AssertionError("never called: only validates the configuration")  # pragma: no cover

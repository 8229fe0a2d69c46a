"""Host and WebSocket guards: refuse requests a browser was tricked into
sending to the wrong server, before the application sees them.

:class:`HostGuard` refuses a request whose ``Host`` is not one of the
server's own names (DNS rebinding: a page on ``attacker.example`` whose name
the attacker re-points at ``127.0.0.1`` reaches a loopback development
server with ``Host: attacker.example``), and optionally an ``Origin`` that is
not listed.  :class:`WebSocketOriginGuard` refuses a WebSocket handshake
from an origin the CORS policy does not allow: browsers send WebSocket
handshakes cross-origin with the user's cookies and never run a CORS check
on them (Cross-Site WebSocket Hijacking).

Both validate their configuration like :class:`~cors_wsgi.CORSPolicy`
(every problem at once, in one :class:`~cors_wsgi.CORSConfigError`), report
refusals with a stable reason code (:data:`~cors_wsgi.refusals.REFUSAL_REASONS`)
to ``on_refusal`` and to the ``cors_wsgi`` logger (values escaped), and have
a report mode (``mode="report"``) that logs at ``WARNING`` and lets the
request through.  See docs/hosts.rst for what they cover and what not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from cors_wsgi._host import HostError, parse_host, serialize_origin, split_authority
from cors_wsgi._log import escape, logger
from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.refusals import Refusal, deliver

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "HOST_REFUSED_STATUS", "LOOPBACK_HOSTS", "MAX_HOST_LENGTH", "HostGuard", "OriginPolicy",
    "WebSocketOriginGuard",
]

#: The status of a request whose ``Host`` is not allowed.  ``421 Misdirected
#: Request`` (RFC 9110 section 15.5.20) says exactly this: the request was
#: directed at a server unwilling to answer for that authority, and a
#: client may retry on another connection; ``400`` would say the request
#: itself is malformed, which it is not.
HOST_REFUSED_STATUS = "421 Misdirected Request"
#: The status of a refused ``Origin`` or WebSocket handshake (the MCP
#: Streamable HTTP transport requires ``403`` for an invalid ``Origin``).
FORBIDDEN_STATUS = "403 Forbidden"
#: The hosts of ``allowed_hosts="loopback"`` (:meth:`HostGuard.loopback`), any port.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
#: Longest ``Host`` looked at (a DNS name is at most 253 characters, then a port).
MAX_HOST_LENGTH = 260
MODES = ("enforce", "report")

_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?)*")
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_IPV6 = re.compile(r"\[[0-9a-f:.]+\]")
_PORT = re.compile(r"[1-9][0-9]{0,4}")
_LOOPBACK_ORIGIN = re.compile(r"https?://(?:localhost|127\.0\.0\.1|\[::1\])(?::[1-9][0-9]{0,4})?")
_ANY_PORT = None

_HOST_BODY = b"Misdirected request: this server does not answer for that Host\n"
_ORIGIN_BODY = b"Forbidden: Origin not allowed\n"
_WEBSOCKET_BODY = b"Forbidden: WebSocket handshake from an origin not allowed\n"


class OriginPolicy(Protocol):
    """What :class:`WebSocketOriginGuard` reads of a policy (a ``CORSPolicy``)."""

    @property
    def allows_all_origins(self) -> bool: ...

    def allows_origin(self, origin: str) -> bool: ...


def _as_object(value: object) -> object:
    """``value`` as seen by a check on what a caller passed, whatever its annotation says."""
    return value


def _is_callable(value: object) -> bool:
    return callable(value)


def _hook(value: object, problems: list[Problem]) -> Callable[[Refusal], object] | None:
    if value is not None and not callable(value):
        problems.append(Problem("invalid-type", "on_refusal", value,
                                "expected a callable taking a Refusal, or None"))
        return None
    return value


def _mode(value: object, problems: list[Problem]) -> str:
    if value not in MODES:
        problems.append(Problem("invalid-mode", "mode", value,
                                "expected 'enforce' (refuse) or 'report' (log and let the request through)"))
        return "enforce"
    return str(value)


def _strings(value: object, argument: str, problems: list[Problem]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    items: tuple[object, ...] = tuple(value) if isinstance(value, Iterable) else (value,)
    if not isinstance(value, Iterable) or not all(isinstance(item, str) for item in items):
        problems.append(Problem("invalid-type", argument, value, "expected a str or an iterable of str"))
        return ()
    return tuple(str(item) for item in items)


def _origins(value: object, argument: str, problems: list[Problem]) -> tuple[frozenset[str], bool]:
    """``allowed_origins`` -> (exact serialized origins, loopback origins allowed)."""
    if value == "loopback":
        return frozenset(), True
    found: set[str] = set()
    for origin in _strings(value, argument, problems):
        if origin == "*":
            problems.append(Problem("wildcard-origin-mixed", argument, origin,
                                    "a guard lists the origins it trusts: '*' would trust every page"))
        elif origin == "null":
            problems.append(Problem("null-origin", argument, origin,
                                    "'null' is sent by sandboxed iframes and file: pages anyone can make"))
        else:
            try:
                canonical = serialize_origin(origin)
            except HostError as error:
                problems.append(Problem(error.code, argument, origin, str(error)))
                continue
            if canonical != origin:
                problems.append(Problem("origin-not-serialized", argument, origin,
                                        f"browsers send this origin as {canonical!r}: write that"))
            else:
                found.add(origin)
    return frozenset(found), False


def _origin_allowed(origin: str, exact: frozenset[str], loopback: bool) -> bool:
    if origin in exact:
        return True
    if not loopback or len(origin) > 40 or not _LOOPBACK_ORIGIN.fullmatch(origin):
        return False
    port = origin.rpartition("]")[2].rpartition(":")[2] if origin.count(":") > 1 else ""
    return not port.isdigit() or int(port) <= 65535


def _port(text: str, pattern: str, problems: list[Problem]) -> int | bool | None:
    """A pattern's port: an int, ``None`` for any port, ``False`` when invalid."""
    if text == "*":
        return _ANY_PORT
    if not text.isascii() or not _PORT.fullmatch(text) or int(text) > 65535:
        problems.append(Problem("bad-port", "allowed_hosts", pattern,
                                f"the port {text!r} is not a number from 1 to 65535 "
                                "(no leading zeros) or '*'"))
        return False
    return int(text)


def _host_patterns(
    value: object, problems: list[Problem]
) -> tuple[dict[str, set[int | None]], list[tuple[str, set[int | None]]]]:
    """``allowed_hosts`` -> (exact host -> ports, [(".suffix", ports)]); a
    port of ``None`` means any port."""
    exact: dict[str, set[int | None]] = {}
    suffixes: dict[str, set[int | None]] = {}
    items = LOOPBACK_HOSTS if value == "loopback" else _strings(value, "allowed_hosts", problems)
    if not items and not any(p.argument == "allowed_hosts" for p in problems):
        problems.append(Problem("no-hosts", "allowed_hosts", value,
                                "list the names this server answers for, e.g. ['api.example.com'], "
                                "or 'loopback' for a development server"))
    for pattern in items:
        if pattern == "loopback":
            for host in LOOPBACK_HOSTS:
                exact.setdefault(host, set()).add(_ANY_PORT)
            continue
        bad = not pattern or not pattern.isprintable() or any(ch in pattern for ch in " \t/\\@?#,")
        host, port_text = split_authority(pattern)
        if bad or host in ("", "*") or host.endswith("."):
            problems.append(Problem("invalid-host-pattern", "allowed_hosts", pattern,
                                    "expected a host ('api.example.com', '127.0.0.1', '[::1]') or "
                                    "'*.example.com', optionally with ':port' or ':*' (no scheme, path, "
                                    "user info, trailing dot, or bare '*')"))
            continue
        port = _ANY_PORT if port_text is None else _port(port_text, pattern, problems)
        if port is False:
            continue
        wildcard = host.startswith("*.")
        if "*" in host[2 if wildcard else 0:]:
            problems.append(Problem("invalid-host-pattern", "allowed_hosts", pattern,
                                    "'*' may only be the whole leading label ('*.example.com')"))
            continue
        try:
            canonical, is_address = parse_host(host[2:] if wildcard else host)
        except HostError as error:
            problems.append(Problem(error.code, "allowed_hosts", pattern, str(error)))
            continue
        if wildcard and is_address:
            problems.append(Problem("invalid-host-pattern", "allowed_hosts", pattern,
                                    "'*.' goes before a domain name only, as the whole leading label(s)"))
            continue
        table = suffixes if wildcard else exact
        table.setdefault("." + canonical if wildcard else canonical, set()).add(port)
    return exact, sorted(suffixes.items())


def request_host(environ: WSGIEnvironment) -> str | None:
    """The request's authority: ``HTTP_HOST``, else ``SERVER_NAME[:SERVER_PORT]``
    (PEP 3333's URL reconstruction), or ``None`` when neither is a ``str``."""
    host = environ.get("HTTP_HOST")
    if host is None:
        name, port = environ.get("SERVER_NAME"), environ.get("SERVER_PORT")
        if not isinstance(name, str):
            return None
        host = name if not isinstance(port, str) or not port else f"{name}:{port}"
    return host if host.__class__ is str else None


def _report(
    hook: Callable[[Refusal], object] | None, mode: str, guard: str, reason: str,
    environ: WSGIEnvironment, host: object,
) -> None:
    """Log a guard's refusal (escaped) and tell the hook; nothing when neither listens."""
    level = logging.WARNING if mode == "report" else logging.DEBUG
    logs = logger.isEnabledFor(level)
    if hook is None and not logs:
        return
    origin = environ.get("HTTP_ORIGIN")
    kind = "preflight" if (environ.get("REQUEST_METHOD") == "OPTIONS"
                           and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ) else "actual"
    record = Refusal(kind, reason, None if origin is None else escape(origin),
                     escape(environ.get("REQUEST_METHOD", "")), None)
    if logs:
        logger.log(level, "%s %s request (%s): host=%s origin=%s method=%s path=%s", guard,
                   "would refuse" if mode == "report" else "refused", reason, escape(host),
                   record.origin, record.method, escape(environ.get("PATH_INFO", "")))
    if hook is not None:
        deliver(hook, record)


def _refuse(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store")])
    return [body]


class HostGuard:
    """WSGI middleware that refuses a request whose ``Host`` this server
    does not answer for, and optionally one whose ``Origin`` is not listed.

    :param app: the WSGI application to protect.
    :param allowed_hosts: the names this server answers for: ``"loopback"``
        (``localhost``, ``127.0.0.1`` and ``[::1]``, any port), or an
        iterable of patterns: a host as browsers write it
        (``"api.example.com"``, ``"127.0.0.1"``, ``"[::1]"``; an IDN as
        ``"bücher.example"`` is kept in punycode), or ``"*.example.com"``
        (one or more labels before ``example.com``, never ``example.com``
        itself), each optionally with ``":8000"`` (that port only) or
        ``":*"``; without a port, any port.  ``"loopback"`` may be one item.
    :param allowed_origins: ``None`` (the default: ``Origin`` not checked),
        ``"loopback"`` (``http``/``https`` origins on the loopback hosts,
        any port), or serialized origins (``"https://app.example.com"``);
        a request with an ``Origin`` not allowed gets ``403``.  A request
        without ``Origin`` passes (browsers send one on every cross-origin
        request but a plain ``GET`` or ``HEAD`` navigation or subresource).
    :param mode: ``"enforce"`` (refuse) or ``"report"`` (log the refusal at
        ``WARNING`` and to ``on_refusal``, then call the app).
    :param on_refusal: called with a :class:`~cors_wsgi.refusals.Refusal`
        for each refused request (reasons ``host-not-allowed``,
        ``host-malformed``, ``host-origin-not-allowed``).
    :raises CORSConfigError: with every problem at once.

    A request ``Host`` is compared as sent, only lower-cased: ``127.1``,
    ``localhost.`` (trailing dot), ``LOCALHOST:08000`` (leading zero),
    user info, spaces or anything not a host pass no pattern.  Refused
    requests get ``421 Misdirected Request`` (see :data:`~cors_wsgi.hostguard.HOST_REFUSED_STATUS`).
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        allowed_hosts: str | Iterable[str],
        allowed_origins: str | Iterable[str] | None = None,
        mode: str = "enforce",
        on_refusal: Callable[[Refusal], object] | None = None,
    ) -> None:
        problems: list[Problem] = []
        if not _is_callable(app):
            problems.append(Problem("invalid-type", "app", app, "expected a WSGI application"))
        exact, suffixes = _host_patterns(allowed_hosts, problems)
        if allowed_origins is None:
            origins, loopback_origins, check_origin = frozenset[str](), False, False
        else:
            origins, loopback_origins = _origins(allowed_origins, "allowed_origins", problems)
            check_origin = True
            if not origins and not loopback_origins and not any(
                p.argument == "allowed_origins" for p in problems
            ):
                problems.append(Problem("no-origins", "allowed_origins", allowed_origins,
                                        "an empty list refuses every request with an Origin; "
                                        "use None to leave Origin unchecked"))
        self.mode = _mode(mode, problems)
        self.on_refusal = _hook(on_refusal, problems)
        if problems:
            raise CORSConfigError(problems)
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.allowed_origins = allowed_origins
        self._exact = {host: frozenset(ports) for host, ports in exact.items()}
        self._suffixes = tuple((suffix, frozenset(ports)) for suffix, ports in suffixes)
        self._origins = origins
        self._loopback_origins = loopback_origins
        self._check_origin = check_origin

    @classmethod
    def loopback(cls, app: WSGIApplication, **options: Any) -> HostGuard:
        """A guard for a development server on this machine:
        ``HostGuard(app, allowed_hosts="loopback", **options)``."""
        return cls(app, allowed_hosts="loopback", **options)

    def allows_host(self, host: str) -> bool:
        """True when a request with ``Host: <host>`` passes, e.g.
        ``guard.allows_host("localhost:8000")``."""
        if host.__class__ is not str or not 0 < len(host) <= MAX_HOST_LENGTH:
            return False
        name, port_text = split_authority(host.lower())
        if port_text is None:
            port = None
        elif port_text.isascii() and _PORT.fullmatch(port_text) and int(port_text) <= 65535:
            port = int(port_text)
        else:
            return False
        if name.startswith("["):
            if not _IPV6.fullmatch(name):
                return False
            try:
                canonical, _ = parse_host(name)
            except HostError:
                return False
            if canonical != name:
                return False
        elif not name.isascii() or not _NAME.fullmatch(name):
            return False
        elif _IPV4.fullmatch(name):
            try:
                canonical, _ = parse_host(name)
            except HostError:
                return False
            if canonical != name:
                return False
        elif name[-1].isdigit() and name.rpartition(".")[2].isdigit():
            return False  # ends in a number but is no dotted quad: 127.1, 0x7f.1
        ports = self._exact.get(name)
        if ports is not None and (None in ports or port in ports):
            return True
        for suffix, ports in self._suffixes:
            if name.endswith(suffix) and len(name) > len(suffix) and (None in ports or port in ports):
                return True
        return False

    def allows_origin(self, origin: str) -> bool:
        """True when a request with ``Origin: <origin>`` passes (always, with
        ``allowed_origins=None``)."""
        if not self._check_origin:
            return True
        return origin.__class__ is str and _origin_allowed(origin, self._origins, self._loopback_origins)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = request_host(environ)
        if host is None or not self.allows_host(host):
            well_formed = host is not None and bool(host.strip()) and len(host) <= MAX_HOST_LENGTH
            reason = "host-not-allowed" if well_formed else "host-malformed"
            _report(self.on_refusal, self.mode, "HostGuard", reason, environ, host)
            if self.mode == "enforce":
                return _refuse(start_response, HOST_REFUSED_STATUS, _HOST_BODY)
        elif self._check_origin:
            origin = environ.get("HTTP_ORIGIN")
            if origin is not None and not self.allows_origin(origin):
                _report(self.on_refusal, self.mode, "HostGuard", "host-origin-not-allowed", environ, host)
                if self.mode == "enforce":
                    return _refuse(start_response, FORBIDDEN_STATUS, _ORIGIN_BODY)
        return self.app(environ, start_response)

    def __repr__(self) -> str:
        return (f"HostGuard({self.app!r}, allowed_hosts={self.allowed_hosts!r}, "
                f"allowed_origins={self.allowed_origins!r}, mode={self.mode!r})")


def is_websocket_handshake(environ: WSGIEnvironment) -> bool:
    """True when the request asks to upgrade to WebSocket (``Upgrade:
    websocket``, any case, anywhere in the list)."""
    upgrade = environ.get("HTTP_UPGRADE")
    if upgrade.__class__ is not str:
        return False
    return any(token.strip().lower() == "websocket" for token in upgrade.split(",")[:16])


class WebSocketOriginGuard:
    """WSGI middleware that refuses a WebSocket handshake from an origin not
    allowed, with ``403``, before the app sees it; other requests pass
    untouched.

    Browsers open a WebSocket to any origin, with the user's cookies, and
    run no CORS check: the server must look at ``Origin`` itself (RFC 6455
    section 10.2).

    :param app: the WSGI application (or the WebSocket-capable server's app).
    :param allowed_origins: serialized origins (``"https://app.example.com"``)
        or ``"loopback"``; or, instead,
    :param policy: a :class:`~cors_wsgi.CORSPolicy` whose origins the
        handshake is checked with (``policy.allows_origin``: its wildcards,
        regexes and predicate too).  A policy with ``allow_origins="*"`` is
        refused: a WebSocket carries cookies, so ``*`` would let every page
        act as the user.
    :param require_origin: refuse a handshake without ``Origin`` (a
        non-browser client).  Default ``False``: browsers always send it.
    :param mode: ``"enforce"`` or ``"report"``, as :class:`HostGuard`.
    :param on_refusal: as :class:`HostGuard` (reasons
        ``websocket-origin-not-allowed``, ``websocket-origin-missing``).
    :raises CORSConfigError: with every problem at once.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        allowed_origins: str | Iterable[str] | None = None,
        policy: OriginPolicy | None = None,
        require_origin: bool = False,
        mode: str = "enforce",
        on_refusal: Callable[[Refusal], object] | None = None,
    ) -> None:
        problems: list[Problem] = []
        if not _is_callable(app):
            problems.append(Problem("invalid-type", "app", app, "expected a WSGI application"))
        origins: frozenset[str] = frozenset()
        loopback = False
        if (allowed_origins is None) == (policy is None):
            problems.append(Problem("websocket-origins-missing", "allowed_origins", allowed_origins,
                                    "give exactly one of allowed_origins=[...] and policy=CORSPolicy(...)"))
        elif allowed_origins is not None:
            origins, loopback = _origins(allowed_origins, "allowed_origins", problems)
        elif not callable(getattr(policy, "allows_origin", None)):
            problems.append(Problem("invalid-type", "policy", policy, "expected a CORSPolicy"))
        elif getattr(policy, "allows_all_origins", False):
            problems.append(Problem("wildcard-origin-websocket", "policy", policy,
                                    "a policy with allow_origins='*' would let every page open a "
                                    "WebSocket with the user's cookies: list the origins"))
        if not isinstance(_as_object(require_origin), bool):
            problems.append(Problem("invalid-type", "require_origin", require_origin,
                                    "expected True or False"))
        self.mode = _mode(mode, problems)
        self.on_refusal = _hook(on_refusal, problems)
        if problems:
            raise CORSConfigError(problems)
        self.app = app
        self.allowed_origins = allowed_origins
        self.policy = policy
        self.require_origin = require_origin
        if policy is not None:
            self._allows: Callable[[str], bool] = policy.allows_origin
        else:
            self._allows = lambda origin: _origin_allowed(origin, origins, loopback)

    def allows_origin(self, origin: str) -> bool:
        """True when a handshake with ``Origin: <origin>`` passes."""
        return origin.__class__ is str and origin != "null" and self._allows(origin)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if is_websocket_handshake(environ):
            origin = environ.get("HTTP_ORIGIN")
            if origin is None:
                reason = "websocket-origin-missing" if self.require_origin else None
            else:
                reason = None if self.allows_origin(origin) else "websocket-origin-not-allowed"
            if reason is not None:
                _report(self.on_refusal, self.mode, "WebSocketOriginGuard", reason, environ,
                        request_host(environ))
                if self.mode == "enforce":
                    return _refuse(start_response, FORBIDDEN_STATUS, _WEBSOCKET_BODY)
        return self.app(environ, start_response)

    def __repr__(self) -> str:
        source = (f"policy={self.policy!r}" if self.policy is not None
                  else f"allowed_origins={self.allowed_origins!r}")
        return f"WebSocketOriginGuard({self.app!r}, {source}, require_origin={self.require_origin!r})"

"""``explain()``: why cors_wsgi would allow or refuse a request, and what
the browser would make of the answer, without a server.

:meth:`CORSPolicy.explain <cors_wsgi.CORSPolicy.explain>` and
:meth:`CORSMiddleware.explain <cors_wsgi.CORSMiddleware.explain>` run the
request a browser would send (the preflight first when it would send one)
through the compiled policy in-process, against a stand-in application that
answers ``200 OK``, and judge the responses with :mod:`cors_wsgi.fetch`::

    >>> from cors_wsgi import CORSPolicy
    >>> policy = CORSPolicy(allow_origins=["https://app.example.com"])
    >>> result = policy.explain("https://app.example.com", "PUT")
    >>> result.allowed, result.verdict.step, result.refusal
    (False, 'preflight-cors-check', 'method-not-allowed')
    >>> print(result.rule)  # doctest: +NORMALIZE_WHITESPACE
    origin allowed by allow_origins entry 'https://app.example.com';
    refused: method-not-allowed (allow_methods: GET, HEAD, POST only)

The browser only sees a refused preflight (``403``, no
``Access-Control-Allow-Origin``); ``rule`` and ``refusal`` say what the
policy refused and why.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from cors_wsgi._engine import Engine, handle
from cors_wsgi._exchange import Exchange, browser_exchange
from cors_wsgi._log import escape, printable
from cors_wsgi._protocol import SAFELISTED_RESPONSE_HEADERS
from cors_wsgi.fetch import (
    Request,
    Verdict,
    exposed_header_names,
    is_safelisted_method,
    local_network_note,
    request_problem,
    unsafe_request_header_names,
)
from cors_wsgi.refusals import Decision, Refusal

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from cors_wsgi.policy import CORSPolicy

__all__ = ["Choice", "Explanation", "explain_policy", "explain_request"]


@dataclass(frozen=True)
class Explanation:
    """The verdict on one request, the rule of the policy that decided, and
    the fix in configuration terms.

    :ivar verdict: the browser's :class:`~cors_wsgi.fetch.Verdict` (allowed,
        failed step, reason, fix in HTTP terms).
    :ivar rule: which rule decided, in words, e.g. ``"origin allowed by
        allow_origins entry 'https://*.example.com'"``.
    :ivar path_pattern: the path pattern whose policy answered (``"/api/*"``),
        or ``None`` for a single policy or an uncovered path.
    :ivar refusal: cors_wsgi's refusal reason code
        (:data:`~cors_wsgi.refusals.REFUSAL_REASONS`), or ``None``.
    :ivar exchange: the requests and responses, as
        :func:`cors_wsgi.testing.browser_exchange` gives them.
    :ivar fix: what to change, ``None`` when allowed: in configuration terms
        when the policy tells (``"add 'PUT' to allow_methods"``), else the
        verdict's fix in HTTP terms.
    :ivar option: the option ``fix`` names (``"allow_origins"``,
        ``"allow_methods"``, ...), or ``None`` when it names none.
    :ivar nearest_origin: for a refused origin, the configured
        ``allow_origins`` entry (or ``allow_origin_regex``) it nearly is
        (another scheme or port, ``localhost`` for ``127.0.0.1``, a ``www.``
        prefix, a trailing dot), else ``None``.
    """

    verdict: Verdict
    rule: str
    path_pattern: str | None
    refusal: str | None
    exchange: Exchange
    fix: str | None = None
    option: str | None = None
    nearest_origin: str | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed

    def __str__(self) -> str:
        """The verdict, then the rule that decided, then the fixes and notes."""
        verdict = self.verdict
        lines = ["allowed" if verdict.allowed else f"blocked at step {verdict.step}: {verdict.reason}",
                 f"rule: {self.rule}"]
        if self.fix is not None:
            lines.append(f"fix: {self.fix}")
        if verdict.fix is not None and verdict.fix != self.fix:
            lines.append(f"in HTTP terms: {verdict.fix}")
        lines.extend(f"note: {note}" for note in verdict.notes)
        return "\n".join(lines)


class Choice(NamedTuple):
    """Which policy answers a path: its engine and path pattern, or why none does."""

    engine: Engine | None
    pattern: str | None
    #: Why no policy answers (an uncovered or ambiguous path), in words.
    no_policy: str | None
    #: The policy the engine was built from, for fixes in configuration terms.
    policy: CORSPolicy | None = None


def _pairs(headers: Mapping[str, str] | Iterable[tuple[str, str] | str]) -> list[tuple[str, str]]:
    if isinstance(headers, Mapping):
        return list(headers.items())
    return [(item, "1") if isinstance(item, str) else (item[0], item[1]) for item in headers]


def explain_request(
    serve: Callable[[Callable[[Refusal], object]], WSGIApplication],
    choose: Callable[[str], Choice],
    origin: str,
    method: str = "GET",
    headers: Mapping[str, str] | Iterable[tuple[str, str] | str] = (),
    credentials: bool = False,
    path: str | None = None,
    read_headers: Iterable[str] = (),
) -> Explanation:
    """The verdict on one ``fetch()``, run in-process.

    :param serve: ``serve(hook)``: the WSGI app to run the requests through,
        reporting its refusals to ``hook`` (a middleware around a stand-in).
    :param choose: which policy answers a path (:class:`Choice`).  Without
        ``Choice.policy``, the policy is looked up by its engine in the served
        app's ``policy`` (a ``CORSMiddleware``'s policy or mapping).
    Other parameters: see :meth:`CORSMiddleware.explain <cors_wsgi.CORSMiddleware.explain>`.
    """
    explanation = _explain(serve, choose, origin, method, headers, credentials, path)
    names = [read_headers] if isinstance(read_headers, str) else list(read_headers)
    return _with_read_headers(explanation, names) if names else explanation


def _explain(
    serve: Callable[[Callable[[Refusal], object]], WSGIApplication],
    choose: Callable[[str], Choice],
    origin: str,
    method: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str] | str],
    credentials: bool,
    path: str | None,
) -> Explanation:
    path = path or "/"
    target, whole_url = path, "://" in path
    if whole_url:  # a whole URL: its path picks the policy, its host the address space
        path = "/" + path.partition("://")[2].partition("/")[2].split("?", 1)[0].split("#", 1)[0]
    refusals: list[Refusal] = []
    served = serve(refusals.append)
    result = browser_exchange(
        served, target, origin=origin, method=method, headers=_pairs(headers), credentials=credentials,
    )
    note = local_network_note(origin, target) if whole_url else None
    if note is not None:
        result = dataclasses.replace(result, verdict=result.verdict.with_notes(note))
    refusal = refusals[0] if refusals else None
    reason = None if refusal is None else refusal.reason
    choice = choose(path)
    verdict = result.verdict
    if choice.engine is None:
        fix = None if verdict.allowed else verdict.fix
        option = None
        if reason == "path-not-covered" and not verdict.allowed:
            option = "paths"
            fix = (f"map a path pattern that covers {escape(path)} to a policy: requests on paths no "
                   "pattern covers pass through with no CORS headers")
        return Explanation(verdict, choice.no_policy or "", None, reason, result, fix, option)
    engine = choice.engine
    allowed_by = _allowed_by(engine, origin)
    if refusal is None:
        rule = allowed_by
    elif refusal.reason == "method-not-allowed":
        rule = f"{allowed_by}; refused: method-not-allowed (allow_methods: {engine.debug_methods()} only)"
    elif refusal.reason == "header-not-allowed":
        listed = engine.debug_headers() or "none"
        rule = f"{allowed_by}; refused: header-not-allowed (allow_headers: {listed})"
    else:
        rule = f"{allowed_by} ({refusal.reason})"
    policy = choice.policy if choice.policy is not None else _policy_of(served, engine)
    found = None
    if policy is not None and not verdict.allowed and request_problem(result.request) is None:
        where = "" if choice.pattern is None else f" in the policy for {escape(choice.pattern)}"
        found = _configuration_fix(policy, engine, result.request, verdict, reason, where)
    if found is None:
        return Explanation(verdict, rule, choice.pattern, reason, result,
                           None if verdict.allowed else verdict.fix)
    return Explanation(verdict, rule, choice.pattern, reason, result, found.text, found.option, found.nearest)


def _with_read_headers(explanation: Explanation, names: list[str]) -> Explanation:
    """An allowed request whose script reads response headers it cannot
    see: the fix adds them to ``expose_headers`` (a script sees only the
    CORS-safelisted response headers and the exposed ones,
    https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name)."""
    exchange = explanation.exchange
    if not explanation.allowed or exchange.response is None:
        return explanation
    exposed = exposed_header_names(exchange.request, exchange.response.headers)
    hidden = [name for name in names if name.lower() not in SAFELISTED_RESPONSE_HEADERS | exposed]
    if not hidden:
        return explanation
    listed = ", ".join(repr(printable(name, 100)) for name in hidden)
    why = "a script sees only the CORS-safelisted response headers and the exposed ones"
    pattern = explanation.path_pattern
    where = "" if pattern is None else f" in the policy for {escape(pattern)}"
    fix = f"add {listed} to expose_headers{where} ({why})"
    note = (f"the response is readable, but response.headers hides {listed}: "
            "https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name")
    return dataclasses.replace(explanation, fix=fix, option="expose_headers",
                               verdict=explanation.verdict.with_notes(note))


def _allowed_by(engine: Engine, origin: str) -> str:
    """Which rule allows ``origin``, or why none does, in words."""
    if engine.allow_all:
        return "origin allowed by allow_origins='*'"
    matched = engine.matcher.rule_for(origin)
    if matched:
        return f"origin allowed by {matched}"
    untrusted = engine.dynamic_refusal(origin)
    if untrusted:
        return (f"the origin {escape(origin)} is never trusted with credentials, whatever "
                f"allow_origin_predicate says: {untrusted}")
    if engine.predicate is not None and engine.allows_origin(origin):
        return "origin allowed by allow_origin_predicate"
    return f"no rule allows the origin {escape(origin)}"


def _policy_of(served: object, engine: Engine) -> CORSPolicy | None:
    """The policy whose engine is ``engine``, from the served app's ``policy``
    (one policy, or a mapping of path pattern to policy), or ``None``."""
    configured = getattr(served, "policy", None)
    candidates = configured.values() if isinstance(configured, Mapping) else [configured]
    return next((c for c in candidates if getattr(c, "engine", None) is engine), None)


# -- fixes in configuration terms ------------------------------------------------------------

#: The CORS check compares the serialized origin byte for byte.
CORS_CHECK = "https://fetch.spec.whatwg.org/#cors-check"
#: ``*`` in Access-Control-Allow-Headers never covers Authorization.
NON_WILDCARD = "https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name"
#: Hosts that all name this machine, yet are different origins.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class _Fix(NamedTuple):
    option: str | None
    text: str
    nearest: str | None = None


def _split_origin(origin: str) -> tuple[str, str, str] | None:
    """``(scheme, host, port)`` of a serialized origin or an ``allow_origins``
    pattern (``port`` is ``""`` for the default, ``"*"`` for any), or ``None``."""
    scheme, sep, rest = origin.partition("://")
    if not sep or not rest:
        return None
    if rest.startswith("["):
        host, bracket, tail = rest.partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            return None
        return scheme, host + "]", tail[1:]
    host, _, port = rest.partition(":")
    return scheme, host, port


def near_miss(configured: str, origin: str) -> list[str] | None:
    """How ``origin`` differs from the ``allow_origins`` entry ``configured``
    when it nearly is that entry, in words: another scheme or port,
    ``localhost`` / ``127.0.0.1`` / ``[::1]`` for one another, a ``www.``
    prefix added or removed, a trailing dot, the apex of a ``*.`` pattern.
    ``None`` when it is no near miss (or no miss at all)."""
    entry, seen = _split_origin(configured), _split_origin(origin)
    if entry is None or seen is None:
        return None
    (scheme, host, port), (seen_scheme, seen_host, seen_port) = entry, seen
    found = []
    if seen_scheme != scheme:
        found.append(f"the scheme is {printable(seen_scheme, 20)}, not {scheme}")
    bare = seen_host[:-1] if seen_host.endswith(".") else seen_host
    if bare != seen_host:
        found.append(f"the host {printable(seen_host, 100)} ends with a dot, which makes it another host")
    if host.startswith("*."):
        base = host[2:]
        if bare == base:
            found.append(f"*.{base} covers the subdomains of {base}, not {base} itself")
        elif not bare.endswith("." + base):
            return None
    elif bare != host:
        if bare in LOOPBACK_HOSTS and host in LOOPBACK_HOSTS:
            found.append(f"{bare} and {host} are different hosts, though both name this machine")
        elif bare in ("www." + host, host.removeprefix("www.")) and host != bare:
            found.append("a www. prefix is added or removed, which makes it another host")
        else:
            return None
    if port not in ("*", seen_port):
        found.append(f"the port is {printable(seen_port, 10) or 'the default'}, not {port or 'the default'}")
    return found or None


def _nearest(configured: Iterable[str], origin: str) -> tuple[str, list[str]] | None:
    """The configured entry ``origin`` misses by the fewest differences (the
    first of those), with the differences, or ``None``."""
    best: tuple[str, list[str]] | None = None
    for entry in configured:
        found = near_miss(entry, origin)
        if found and (best is None or len(found) < len(best[1])):
            best = (entry, found)
    return best


def _regexes(policy: CORSPolicy) -> tuple[re.Pattern[str], ...]:
    configured = policy.allow_origin_regex
    if configured is None:
        return ()
    return configured if isinstance(configured, tuple) else (configured,)


def _variants(origin: str) -> list[str]:
    """The origins ``origin`` is a near miss of (except for another port)."""
    split = _split_origin(origin)
    if split is None:
        return []
    scheme, host, port = split
    bare = host[:-1] if host.endswith(".") else host
    hosts = {bare, bare + ".", "www." + bare, bare.removeprefix("www.")}
    if bare in LOOPBACK_HOSTS:
        hosts.update(LOOPBACK_HOSTS)
    schemes = {scheme, {"http": "https", "https": "http"}.get(scheme, scheme)}
    suffix = f":{port}" if port else ""
    return sorted(f"{s}://{h}{suffix}" for s in schemes for h in hosts if f"{s}://{h}{suffix}" != origin)


def _origin_fix(policy: CORSPolicy, engine: Engine, origin: str, where: str) -> _Fix:
    shown = escape(origin)
    if origin == "null":
        return _Fix(None, "no option allows the origin 'null': sandboxed iframes, file: pages and redirected "
                          "requests send it, so allowing it would trust everyone; serve the page from a real "
                          f"origin and add that to allow_origins{where}")
    untrusted = engine.dynamic_refusal(origin)
    if untrusted:
        return _Fix("allow_origin_predicate",
                    f"allow_origin_predicate is never asked about {shown}: {untrusted}")
    why = (f"browsers compare the serialized origin byte for byte ({CORS_CHECK}), so these are "
           "different origins")
    near = _nearest(policy.allow_origins, origin)
    if near is not None:
        entry, found = near
        return _Fix("allow_origins", f"add {shown} to allow_origins{where} (you allowed {escape(entry)}; "
                                     f"{'; '.join(found)}: {why})", entry)
    for regex in _regexes(policy):
        for variant in _variants(origin):
            differences = near_miss(variant, origin)
            if regex.fullmatch(variant) is not None and differences:
                return _Fix("allow_origin_regex",
                            f"widen allow_origin_regex {escape(regex.pattern)}{where} to match {shown}, "
                            f"or add it to allow_origins (the regex matches {escape(variant)}; "
                            f"{'; '.join(differences)}: {why})", regex.pattern)
    if policy.allow_origin_predicate is not None:
        return _Fix("allow_origin_predicate",
                    f"make allow_origin_predicate{where} return True for {shown} (it returned False), or add "
                    f"{shown} to allow_origins")
    regex_too = ", or a regex that matches it to allow_origin_regex" if _regexes(policy) else ""
    return _Fix("allow_origins", f"add {shown} to allow_origins{where}{regex_too}")


def _method_fix(policy: CORSPolicy, method: str, where: str) -> _Fix:
    text = f"add {escape(method)} to allow_methods{where}"
    if method != method.upper() and method.upper() in policy.allow_methods:
        text += (" (methods are case-sensitive and browsers upper-case only DELETE, GET, HEAD, "
                 f"OPTIONS, POST and PUT: you allowed {escape(method.upper())}; or send it upper-case "
                 "from the script)")
    return _Fix("allow_methods", text)


def _header_fix(policy: CORSPolicy, request: Request, where: str) -> _Fix | None:
    allowed = {name.lower() for name in policy.allow_headers}
    star = "*" in allowed and not request.include_credentials
    spelled: dict[str, str] = {}
    for name, _ in request.sent_headers:
        spelled.setdefault(name.lower(), name)
    missing = [name for name in unsafe_request_header_names(request.sent_headers)
               if name not in allowed and (not star or name == "authorization")]
    if not missing:
        return None
    names = ", ".join(escape(spelled.get(name, name)) for name in missing)
    text = f"add {names} to allow_headers{where}"
    if star and missing == ["authorization"]:
        text += f" by name: '*' never covers Authorization ({NON_WILDCARD})"
    return _Fix("allow_headers", text)


def _credentials_fix(policy: CORSPolicy, origin: str, where: str) -> _Fix:
    if policy.allows_all_origins:
        return _Fix("allow_origins",
                    "'*' cannot be used with credentials: list the origins you trust instead of "
                    f"allow_origins='*' (allow_origins=[{escape(origin)}]) and set allow_credentials=True"
                    f"{where}, or do not send credentials (credentials mode \"include\")")
    return _Fix("allow_credentials", f"set allow_credentials=True{where}, or do not send credentials "
                                     "(the request's credentials mode is \"include\")")


def _configuration_fix(policy: CORSPolicy, engine: Engine, request: Request, verdict: Verdict,
                       reason: str | None, where: str) -> _Fix | None:
    """The blocked request's fix in terms of ``policy``'s options, or ``None``."""
    if reason in ("origin-not-allowed", "origin-malformed"):
        return _origin_fix(policy, engine, request.origin, where)
    if reason == "method-not-allowed" and not is_safelisted_method(request.method):
        return _method_fix(policy, request.method, where)
    if reason == "header-not-allowed" or verdict.step in ("preflight-headers", "preflight-authorization"):
        return _header_fix(policy, request, where)
    if verdict.step == "preflight-method":
        return _method_fix(policy, request.method, where)
    if (verdict.step in ("cors-check", "preflight-cors-check") and request.include_credentials
            and not policy.allow_credentials):
        return _credentials_fix(policy, request.origin, where)
    return None


@dataclass
class _StandInSettings:
    """What :meth:`Engine.respond` reads, for ``CORSPolicy.explain``."""

    app: WSGIApplication
    on_refusal: Callable[[Refusal], object] | None
    engine: Engine | None = None
    vary: tuple[str, ...] = ()
    debug: bool = False
    catch_exceptions: bool = False
    log_refusals: bool = False
    #: Never set: an explanation is not a request to count.
    on_decision: Callable[[Decision], object] | None = None

    def choose(self, environ: WSGIEnvironment) -> None:
        """Never called: ``engine`` is set."""
        raise AssertionError("a stand-in for one policy chooses nothing")


def _stand_in(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"ok"]


def explain_policy(
    policy: CORSPolicy,
    origin: str,
    method: str = "GET",
    headers: Mapping[str, str] | Iterable[tuple[str, str] | str] = (),
    credentials: bool = False,
    path: str | None = None,
    read_headers: Iterable[str] = (),
) -> Explanation:
    """See :meth:`CORSPolicy.explain <cors_wsgi.CORSPolicy.explain>`."""
    engine = policy.engine

    def serve(hook: Callable[[Refusal], object]) -> WSGIApplication:
        settings = _StandInSettings(_stand_in, hook, engine)

        def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
            return handle(settings, environ, start_response)

        return app

    return explain_request(serve, lambda _path: Choice(engine, None, None, policy), origin, method, headers,
                           credentials, path, read_headers)

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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from cors_wsgi._engine import Engine, handle
from cors_wsgi._exchange import Exchange, browser_exchange
from cors_wsgi.fetch import Verdict
from cors_wsgi.refusals import Refusal

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from cors_wsgi.policy import CORSPolicy

__all__ = ["Choice", "Explanation", "explain_policy", "explain_request"]


@dataclass(frozen=True)
class Explanation:
    """The verdict on one request, and the rule of the policy that decided.

    :ivar verdict: the browser's :class:`~cors_wsgi.fetch.Verdict` (allowed,
        failed step, reason, fix).
    :ivar rule: which rule decided, in words, e.g. ``"origin allowed by
        allow_origins entry 'https://*.example.com'"``.
    :ivar path_pattern: the path pattern whose policy answered (``"/api/*"``),
        or ``None`` for a single policy or an uncovered path.
    :ivar refusal: cors_wsgi's refusal reason code
        (:data:`~cors_wsgi.refusals.REFUSAL_REASONS`), or ``None``.
    :ivar exchange: the requests and responses, as
        :func:`cors_wsgi.testing.browser_exchange` gives them.
    """

    verdict: Verdict
    rule: str
    path_pattern: str | None
    refusal: str | None
    exchange: Exchange

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed

    def __str__(self) -> str:
        return f"{self.verdict}\nrule: {self.rule}"


class Choice(NamedTuple):
    """Which policy answers a path: its engine and path pattern, or why none does."""

    engine: Engine | None
    pattern: str | None
    #: Why no policy answers (an uncovered or ambiguous path), in words.
    no_policy: str | None


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
) -> Explanation:
    """The verdict on one ``fetch()``, run in-process.

    :param serve: ``serve(hook)``: the WSGI app to run the requests through,
        reporting its refusals to ``hook`` (a middleware around a stand-in).
    :param choose: which policy answers a path (:class:`Choice`).
    Other parameters: see :meth:`CORSMiddleware.explain <cors_wsgi.CORSMiddleware.explain>`.
    """
    path = path or "/"
    refusals: list[Refusal] = []
    result = browser_exchange(
        serve(refusals.append), path, origin=origin, method=method, headers=_pairs(headers),
        credentials=credentials,
    )
    refusal = refusals[0] if refusals else None
    choice = choose(path)
    if choice.engine is None:
        return Explanation(result.verdict, choice.no_policy or "", None,
                           None if refusal is None else refusal.reason, result)
    engine = choice.engine
    if engine.allow_all:
        allowed_by = "origin allowed by allow_origins='*'"
    else:
        matched = engine.matcher.rule_for(origin)
        untrusted = None if matched else engine.dynamic_refusal(origin)
        if matched:
            allowed_by = f"origin allowed by {matched}"
        elif untrusted:
            allowed_by = (
                f"the origin {origin!r} is never trusted with credentials, whatever "
                f"allow_origin_predicate says: {untrusted}"
            )
        elif engine.predicate is not None and engine.allows_origin(origin):
            allowed_by = "origin allowed by allow_origin_predicate"
        else:
            allowed_by = f"no rule allows the origin {origin!r}"
    if refusal is None:
        rule = allowed_by
    elif refusal.reason == "method-not-allowed":
        rule = f"{allowed_by}; refused: method-not-allowed (allow_methods: {engine.debug_methods()} only)"
    elif refusal.reason == "header-not-allowed":
        listed = engine.debug_headers() or "none"
        rule = f"{allowed_by}; refused: header-not-allowed (allow_headers: {listed})"
    else:
        rule = f"{allowed_by} ({refusal.reason})"
    reason = None if refusal is None else refusal.reason
    return Explanation(result.verdict, rule, choice.pattern, reason, result)


@dataclass
class _StandInSettings:
    """What :meth:`Engine.respond` reads, for ``CORSPolicy.explain``."""

    app: WSGIApplication
    on_refusal: Callable[[Refusal], object] | None
    engine: Engine | None = None
    paths: None = None
    debug: bool = False
    catch_exceptions: bool = False
    log_refusals: bool = False


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
) -> Explanation:
    """See :meth:`CORSPolicy.explain <cors_wsgi.CORSPolicy.explain>`."""
    engine = policy.engine

    def serve(hook: Callable[[Refusal], object]) -> WSGIApplication:
        settings = _StandInSettings(_stand_in, hook, engine)

        def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
            return handle(settings, environ, start_response)

        return app

    return explain_request(serve, lambda _path: Choice(engine, None, None), origin, method, headers,
                           credentials, path)

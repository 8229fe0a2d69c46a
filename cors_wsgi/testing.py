"""Pin your CORS behaviour in your own tests: would a browser let this through?

Built on :mod:`cors_wsgi.fetch` (the browser's side of the Fetch standard);
works with any WSGI app, with or without cors_wsgi, and with or without
pytest (failures raise :class:`CORSAssertionError`, an ``AssertionError``
whose message carries the reason and the fix).

Run the whole exchange a browser would, preflight first when it would send
one, against a WSGI app in-process::

    from cors_wsgi.testing import assert_cors_allowed, assert_cors_blocked, browser_exchange

    def test_the_app_accepts_a_token_from_the_web_app():
        exchange = browser_exchange(app, "/api/items", origin="https://app.example.com",
                                    method="PUT", headers=[("X-Token", "t")])
        assert_cors_allowed(exchange)

    def test_other_sites_cannot_read_the_api():
        exchange = browser_exchange(app, "/api/items", origin="https://evil.example")
        assert_cors_blocked(exchange, step="cors-check")

Or judge a response you already have: a WebTest ``TestResponse`` (or any
object with ``status_int``/``status_code`` and ``headerlist``/``headers``),
a ``(status, headers)`` pair such as ``("200 OK", [...])``, or a
:class:`cors_wsgi.fetch.Response`::

    response = testapp.get("/api/items", headers={"Origin": "https://app.example.com"})
    assert_cors_allowed(response, origin="https://app.example.com")

Each assertion returns the :class:`~cors_wsgi.fetch.Verdict`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cors_wsgi._exchange import Exchange, browser_exchange, call_wsgi, exchange, to_response
from cors_wsgi.fetch import Credentials, Request, Response, Verdict, evaluate, preflight_check

Header = tuple[str, str]

__all__ = [
    "CORSAssertionError",
    "Exchange",
    "assert_cors_allowed",
    "assert_cors_blocked",
    "assert_preflight_allowed",
    "assert_preflight_blocked",
    "browser_exchange",
    "call_wsgi",
    "exchange",
    "to_response",
]


class CORSAssertionError(AssertionError):
    """A browser would decide the other way.  ``.verdict`` holds the details."""

    def __init__(self, message: str, verdict: Verdict) -> None:
        super().__init__(message)
        self.verdict = verdict


def _describe(request: Request, response: Response | None, preflight: Response | None) -> str:
    target = f" {request.url}" if request.url else ""
    lines = [f"request: {request.method}{target} from {request.origin} (credentials: {request.credentials})"]
    for label, item in (("preflight response", preflight), ("response", response)):
        if item is not None and (item.status or item.headers):
            lines.append(f"{label}: {item.status}")
            lines.extend(f"    {name}: {value!r}" for name, value in item.headers)
    return "\n".join(lines)


def _judge(
    response: object, origin: str | None, method: str, headers: Sequence[Header] | Mapping[str, str],
    credentials: Credentials | bool, preflight: object | None, url: str | None,
) -> tuple[Verdict, str]:
    if isinstance(response, Exchange):
        return response.verdict, _describe(response.request, response.response, response.preflight)
    if origin is None:
        raise TypeError("origin= is required unless an Exchange from browser_exchange() is given")
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    request = Request(origin=origin, method=method, headers=pairs, credentials=credentials, url=url)
    actual = to_response(response)
    before = to_response(preflight) if preflight is not None else None
    return evaluate(request, actual, preflight=before), _describe(request, actual, before)


def _fail(expected: str, verdict: Verdict, described: str) -> CORSAssertionError:
    return CORSAssertionError(f"expected a browser to {expected}, but {verdict}\n{described}", verdict)


def assert_cors_allowed(
    response: object,
    *,
    origin: str | None = None,
    method: str = "GET",
    headers: Sequence[Header] | Mapping[str, str] = (),
    credentials: Credentials | bool = False,
    preflight: object | None = None,
    url: str | None = None,
) -> Verdict:
    """Assert a browser lets a script on ``origin`` read ``response``.

    ``response`` is an :class:`Exchange` (then the other arguments are not
    needed) or a response to the actual request; pass the ``preflight``
    response too to check it (without it, a needed preflight is taken as
    passed and cached).

    :raises CORSAssertionError: with the failed step, the reason and the fix.
    """
    __tracebackhide__ = True
    verdict, described = _judge(response, origin, method, headers, credentials, preflight, url)
    if not verdict.allowed:
        raise _fail("allow this request", verdict, described)
    return verdict


def assert_cors_blocked(
    response: object,
    *,
    origin: str | None = None,
    method: str = "GET",
    headers: Sequence[Header] | Mapping[str, str] = (),
    credentials: Credentials | bool = False,
    preflight: object | None = None,
    url: str | None = None,
    step: str | None = None,
) -> Verdict:
    """Assert a browser blocks the request (at ``step``, a code of
    :data:`cors_wsgi.fetch.STEPS`, when given).  Same arguments as
    :func:`assert_cors_allowed`.

    :raises CORSAssertionError: when it is allowed, or blocked at another step.
    """
    __tracebackhide__ = True
    verdict, described = _judge(response, origin, method, headers, credentials, preflight, url)
    if verdict.allowed:
        raise _fail("block this request" + (f" at step {step}" if step else ""), verdict, described)
    if step is not None and verdict.step != step:
        raise _fail(f"block this request at step {step}", verdict, described)
    return verdict


def _judge_preflight(
    response: object, origin: str, method: str, headers: Sequence[Header] | Mapping[str, str],
    credentials: Credentials | bool, url: str | None,
) -> tuple[Verdict, str]:
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    request = Request(origin=origin, method=method, headers=pairs, credentials=credentials, url=url)
    answer = to_response(response)
    return preflight_check(request, answer), _describe(request, None, answer)


def assert_preflight_allowed(
    response: object,
    *,
    origin: str,
    method: str = "GET",
    headers: Sequence[Header] | Mapping[str, str] = (),
    credentials: Credentials | bool = False,
    url: str | None = None,
) -> Verdict:
    """Assert the preflight ``response`` lets the described request go ahead
    (https://fetch.spec.whatwg.org/#cors-preflight-fetch-0).

    :raises CORSAssertionError: with the failed step, the reason and the fix.
    """
    __tracebackhide__ = True
    verdict, described = _judge_preflight(response, origin, method, headers, credentials, url)
    if not verdict.allowed:
        raise _fail("accept this preflight", verdict, described)
    return verdict


def assert_preflight_blocked(
    response: object,
    *,
    origin: str,
    method: str = "GET",
    headers: Sequence[Header] | Mapping[str, str] = (),
    credentials: Credentials | bool = False,
    url: str | None = None,
    step: str | None = None,
) -> Verdict:
    """Assert the preflight ``response`` stops the described request (at
    ``step`` when given).

    :raises CORSAssertionError: when it passes, or fails at another step.
    """
    __tracebackhide__ = True
    verdict, described = _judge_preflight(response, origin, method, headers, credentials, url)
    if verdict.allowed or (step is not None and verdict.step != step):
        raise _fail("refuse this preflight" + (f" at step {step}" if step else ""), verdict, described)
    return verdict

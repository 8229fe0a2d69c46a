"""Every refusal has a stable reason: logged at DEBUG, handed to the on_refusal hook."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy
from cors_wsgi.refusals import REFUSAL_REASONS, Refusal
from cors_wsgi.views import NOT_CROSS_ORIGIN
from tests.conftest import API, RecordingApp, StartResponse, discard_response

POLICY = CORSPolicy(allow_origins=API, allow_methods=["PUT"], allow_headers=["Content-Type"])
MAPPING = {"/admin/*": CORSPolicy(allow_origins=API), "/api/*": POLICY}


def environ(method: str = "GET", path: str = "/api/x", origin: str | None = API, **extra: str) -> dict[str, Any]:
    env: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, **extra}
    if origin is not None:
        env["HTTP_ORIGIN"] = origin
    return env


def preflight(method: str = "PUT", headers: str | None = None, **kwargs: Any) -> dict[str, Any]:
    extra = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
    if headers is not None:
        extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = headers
    return environ("OPTIONS", **kwargs, **extra)


def run(env: dict[str, Any], *, debug: bool = False, resolver: Any = None) -> list[Refusal]:
    seen: list[Refusal] = []
    middleware = CORSMiddleware(RecordingApp(), MAPPING, debug=debug, on_refusal=seen.append, resolver=resolver)
    middleware(env, discard_response)
    return seen


def hook_view_resolver(environ: dict[str, Any], method: str) -> object:
    """``/api/hook`` is a view marked ``@no_cross_origin``."""
    return NOT_CROSS_ORIGIN if environ["PATH_INFO"] == "/api/hook" else None


CASES = [
    ("actual-origin", environ(origin="https://evil.example"), Refusal("actual", "origin-not-allowed", "'https://evil.example'", "'GET'", "/api/*")),
    ("actual-null", environ(origin="null"), Refusal("actual", "origin-not-allowed", "'null'", "'GET'", "/api/*")),
    ("actual-malformed", environ(origin="https://EVIL/"), Refusal("actual", "origin-malformed", "'https://EVIL/'", "'GET'", "/api/*")),
    ("preflight-origin", preflight(origin="https://evil.example"), Refusal("preflight", "origin-not-allowed", "'https://evil.example'", "'PUT'", "/api/*")),
    ("preflight-method", preflight("DELETE"), Refusal("preflight", "method-not-allowed", f"'{API}'", "'DELETE'", "/api/*")),
    ("preflight-header", preflight(headers="x-token"), Refusal("preflight", "header-not-allowed", f"'{API}'", "'PUT'", "/api/*")),
    ("path-not-covered", environ(path="/other"), Refusal("actual", "path-not-covered", f"'{API}'", "'GET'", None)),
    ("preflight-path-not-covered", preflight(path="/other"), Refusal("preflight", "path-not-covered", f"'{API}'", "'PUT'", None)),
    ("path-ambiguous", environ(path="//admin/x"), Refusal("actual", "path-ambiguous", f"'{API}'", "'GET'", None)),
]


VIEW_CASES = [
    ("view-not-cross-origin", preflight(path="/api/hook"),
     Refusal("preflight", "view-not-cross-origin", f"'{API}'", "'PUT'", None)),
    ("actual-view-not-cross-origin", environ("POST", path="/api/hook"),
     Refusal("actual", "view-not-cross-origin", f"'{API}'", "'POST'", None)),
]


@pytest.mark.parametrize(("env", "expected"), [pytest.param(e, r, id=i) for i, e, r in CASES])
def test_refusal_reaches_the_hook_with_its_reason(env: dict[str, Any], expected: Refusal) -> None:
    assert run(env) == [expected]


@pytest.mark.parametrize(("env", "expected"), [pytest.param(e, r, id=i) for i, e, r in VIEW_CASES])
def test_view_refusal_reaches_the_hook_with_its_reason(env: dict[str, Any], expected: Refusal) -> None:
    assert run(env, resolver=hook_view_resolver) == [expected]


PROTECTION_CASES = [
    ("csrf-cross-site", environ("POST", HTTP_SEC_FETCH_SITE="cross-site"),
     Refusal("actual", "csrf-cross-site", f"'{API}'", "'POST'", None)),
    ("csrf-same-site", environ("POST", HTTP_SEC_FETCH_SITE="same-site"),
     Refusal("actual", "csrf-same-site", f"'{API}'", "'POST'", None)),
    ("csrf-fetch-site-malformed", environ("POST", HTTP_SEC_FETCH_SITE="cross-site, none"),
     Refusal("actual", "csrf-fetch-site-malformed", f"'{API}'", "'POST'", None)),
    ("csrf-origin-mismatch", environ("DELETE", HTTP_HOST="api.example.com"),
     Refusal("actual", "csrf-origin-mismatch", f"'{API}'", "'DELETE'", None)),
    ("csrf-origin-malformed", environ("POST", origin="http://evil@good.example", HTTP_HOST="good.example"),
     Refusal("actual", "csrf-origin-malformed", "'http://evil@good.example'", "'POST'", None)),
    ("csrf-no-origin-strict", environ("POST", origin=None, **{"wsgi.url_scheme": "https"}),
     Refusal("actual", "csrf-no-origin-strict", None, "'POST'", None)),
]


@pytest.mark.parametrize(("env", "expected"), [pytest.param(e, r, id=i) for i, e, r in PROTECTION_CASES])
def test_protection_refusal_reaches_the_hook_with_its_reason(env: dict[str, Any], expected: Refusal) -> None:
    from cors_wsgi import CrossOriginProtection

    seen: list[Refusal] = []
    gate = CrossOriginProtection(RecordingApp(), on_refusal=seen.append, strict=True)
    gate(env, discard_response)
    assert seen == [expected]


GUARD_CASES = [
    ("host-not-allowed", environ(HTTP_HOST="attacker.example"),
     Refusal("actual", "host-not-allowed", f"'{API}'", "'GET'", None)),
    ("host-malformed", environ(HTTP_HOST=" "),
     Refusal("actual", "host-malformed", f"'{API}'", "'GET'", None)),
    ("host-origin-not-allowed", environ(origin="https://evil.example", HTTP_HOST="localhost:8000"),
     Refusal("actual", "host-origin-not-allowed", "'https://evil.example'", "'GET'", None)),
    ("websocket-origin-not-allowed", environ(origin="https://evil.example", HTTP_HOST="localhost", HTTP_UPGRADE="websocket"),
     Refusal("actual", "websocket-origin-not-allowed", "'https://evil.example'", "'GET'", None)),
    ("websocket-origin-missing", environ(origin=None, HTTP_HOST="localhost", HTTP_UPGRADE="websocket"),
     Refusal("actual", "websocket-origin-missing", None, "'GET'", None)),
]


@pytest.mark.parametrize(("env", "expected"), [pytest.param(e, r, id=i) for i, e, r in GUARD_CASES])
def test_guard_refusal_reaches_the_hook_with_its_reason(env: dict[str, Any], expected: Refusal) -> None:
    from cors_wsgi import HostGuard, WebSocketOriginGuard

    seen: list[Refusal] = []
    inner = WebSocketOriginGuard(RecordingApp(), allowed_origins=[API], require_origin=True, on_refusal=seen.append)
    HostGuard.loopback(inner, allowed_origins=None if "HTTP_UPGRADE" in env else [API],
                       on_refusal=seen.append)(env, discard_response)
    assert seen == [expected]


def test_every_reason_code_is_produced() -> None:
    produced = {refusal.reason for _, _, refusal in CASES + VIEW_CASES + PROTECTION_CASES + GUARD_CASES}
    assert produced == set(REFUSAL_REASONS)


@pytest.mark.parametrize(
    "env",
    [environ(), environ(origin=None), preflight(), preflight(headers="content-type"), environ(path="/other", origin=None)],
    ids=["allowed-get", "no-origin", "allowed-preflight", "allowed-header", "uncovered-without-origin"],
)
def test_allowed_request_never_calls_the_hook(env: dict[str, Any]) -> None:
    assert run(env) == []


def test_hook_exception_is_logged_and_the_response_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    def broken(refusal: Refusal) -> None:
        raise RuntimeError("metrics backend down")

    start_response = StartResponse()
    middleware = CORSMiddleware(RecordingApp(), POLICY, on_refusal=broken)
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        body = middleware(preflight(origin="https://evil.example"), start_response)
    assert start_response.statuses == ["403 Forbidden"]
    assert list(body) == [b"CORS preflight refused: origin not allowed\n"]
    assert "on_refusal hook raised" in caplog.records[0].getMessage()


def test_refusal_is_logged_at_debug_with_code_pattern_and_values(caplog: pytest.LogCaptureFixture) -> None:
    middleware = CORSMiddleware(RecordingApp(), MAPPING)
    with caplog.at_level(logging.DEBUG, logger="cors_wsgi"):
        middleware(preflight(headers="x-token"), discard_response)
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG
    message = record.getMessage()
    assert "(header-not-allowed)" in message
    assert "pattern='/api/*'" in message
    assert "requested-headers='x-token'" in message


def test_debug_mode_logs_refusals_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    middleware = CORSMiddleware(RecordingApp(), POLICY, debug=True)
    with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
        middleware(environ(origin="https://evil.example"), discard_response)
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


@pytest.mark.parametrize("env", [environ(), environ(origin="https://evil.example"), preflight("DELETE")],
                         ids=["allowed", "refused-actual", "refused-preflight"])
def test_no_log_record_is_created_when_debug_logging_is_off(env: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    created: list[logging.LogRecord] = []
    factory = logging.getLogRecordFactory()

    def counting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        created.append(record)
        return record

    logging.setLogRecordFactory(counting)
    try:
        with caplog.at_level(logging.INFO, logger="cors_wsgi"):
            CORSMiddleware(RecordingApp(), POLICY)(env, discard_response)
    finally:
        logging.setLogRecordFactory(factory)
    assert [r for r in created if r.name == "cors_wsgi"] == []


def test_allowed_request_is_not_logged_even_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="cors_wsgi"):
        CORSMiddleware(RecordingApp(), POLICY)(preflight(), discard_response)
    assert caplog.records == []


HOSTILE = st.text(st.characters(codec="utf-8"), min_size=1, max_size=400)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(origin=HOSTILE, method=HOSTILE)
def test_hook_records_and_log_lines_are_escaped(caplog: pytest.LogCaptureFixture, origin: str, method: str) -> None:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="cors_wsgi"):
        (refusal,) = run(environ(method=method, origin=origin + "\x1b"))
    for text in (refusal.origin or "", refusal.method, *(r.getMessage() for r in caplog.records)):
        assert all(" " <= ch <= "~" for ch in text)
    assert len(refusal.origin or "") <= 203


def test_non_callable_hook_is_a_configuration_error() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware(RecordingApp(), POLICY, on_refusal="metrics")  # type: ignore[arg-type]
    assert caught.value.problems[0].argument == "on_refusal"


def test_refusal_record_is_frozen() -> None:
    refusal = Refusal("actual", "origin-not-allowed", "'x'", "'GET'", None)
    with pytest.raises(AttributeError):
        refusal.reason = "other"  # type: ignore[misc]


class HookTimeout(BaseException):
    """Like gevent.Timeout: a BaseException raised into whatever code runs."""


@pytest.mark.parametrize("raised", [HookTimeout, GeneratorExit, RuntimeError])
def test_hook_raising_any_base_exception_leaves_the_response_unchanged(raised: type[BaseException]) -> None:
    def hook(refusal: Refusal) -> None:
        raise raised("hook stalled")

    start_response = StartResponse()
    middleware = CORSMiddleware(RecordingApp(), POLICY, on_refusal=hook)
    body = middleware(preflight(origin="https://evil.example"), start_response)
    assert (start_response.statuses, list(body)) == (["403 Forbidden"], [b"CORS preflight refused: origin not allowed\n"])


@pytest.mark.parametrize("raised", [KeyboardInterrupt, SystemExit])
def test_hook_interrupt_and_exit_propagate(raised: type[BaseException]) -> None:
    def hook(refusal: Refusal) -> None:
        raise raised()

    middleware = CORSMiddleware(RecordingApp(), POLICY, on_refusal=hook)
    with pytest.raises(raised):
        middleware(preflight(origin="https://evil.example"), discard_response)


def test_predicate_raising_a_base_exception_is_a_refusal() -> None:
    def predicate(origin: str) -> bool:
        raise HookTimeout("database stalled")

    assert not CORSPolicy(allow_origin_predicate=predicate).allows_origin("https://tenant.example")


def test_background_hook_answers_refused_requests_while_the_hook_is_blocked() -> None:
    from cors_wsgi.refusals import BackgroundHook

    release = threading.Event()
    delivered: list[Refusal] = []

    def slow(refusal: Refusal) -> None:
        release.wait(10)
        delivered.append(refusal)

    hook = BackgroundHook(slow)
    middleware = CORSMiddleware(RecordingApp(), POLICY, on_refusal=hook)
    start_response = StartResponse()
    for _ in range(20):
        middleware(preflight(origin="https://evil.example"), start_response)
    assert start_response.statuses == ["403 Forbidden"] * 20  # all answered, the hook still blocked
    assert delivered == []
    release.set()
    assert hook.wait(10)
    assert len(delivered) == 20
    assert delivered[0].reason == "origin-not-allowed"


def test_background_hook_drops_refusals_beyond_max_pending() -> None:
    from cors_wsgi.refusals import BackgroundHook

    release = threading.Event()
    hook = BackgroundHook(lambda refusal: release.wait(10), max_pending=5)
    middleware = CORSMiddleware(RecordingApp(), POLICY, on_refusal=hook)
    for _ in range(50):
        middleware(preflight(origin="https://evil.example"), discard_response)
    release.set()
    assert hook.wait(10)
    assert 44 <= hook.dropped <= 45  # one may already be in the hook when the queue fills


def test_background_hook_logs_what_the_hook_raises(caplog: pytest.LogCaptureFixture) -> None:
    from cors_wsgi.refusals import BackgroundHook

    def broken(refusal: Refusal) -> None:
        raise RuntimeError("metrics backend down")

    hook = BackgroundHook(broken)
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        hook(Refusal("actual", "origin-not-allowed", "'x'", "'GET'", None))
        assert hook.wait(10)
    assert "BackgroundHook thread" in caplog.records[0].getMessage()


@pytest.mark.parametrize("max_pending", [0, -1, True, 1.5, 2_000_000])
def test_background_hook_refuses_a_bad_bound(max_pending: Any) -> None:
    from cors_wsgi.refusals import BackgroundHook

    with pytest.raises(ValueError, match="max_pending"):
        BackgroundHook(print, max_pending=max_pending)

"""cors_wsgi.testing: assertions users pin their CORS behaviour with."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import webtest

from cors_wsgi import CORSMiddleware, CORSPolicy
from cors_wsgi.fetch import Response
from cors_wsgi.testing import (
    CORSAssertionError,
    assert_cors_allowed,
    assert_cors_blocked,
    assert_preflight_allowed,
    assert_preflight_blocked,
    browser_exchange,
    call_wsgi,
    to_response,
)
from tests.conftest import API, OTHER, RecordingApp


def api(**kwargs: Any) -> tuple[CORSMiddleware, RecordingApp]:
    downstream = RecordingApp()
    kwargs.setdefault("allow_origins", [API])
    return CORSMiddleware(downstream, CORSPolicy(**kwargs)), downstream


def test_browser_exchange_allows_a_simple_get_from_an_allowed_origin() -> None:
    app, _ = api()
    exchange = browser_exchange(app, "/items", origin=API)
    assert exchange.allowed
    assert exchange.preflight is None
    assert exchange.body == b'{"ok": true}'


def test_browser_exchange_blocks_another_origin_at_the_cors_check() -> None:
    app, _ = api()
    assert browser_exchange(app, "/items", origin=OTHER).verdict.step == "cors-check"


def test_browser_exchange_sends_the_preflight_first() -> None:
    app, downstream = api(allow_methods=["PUT"], allow_headers=["X-Token"])
    exchange = browser_exchange(app, "/items", origin=API, method="PUT", headers={"X-Token": "t"})
    assert exchange.allowed
    assert exchange.preflight is not None
    assert exchange.preflight.status == 204
    assert downstream.environ is not None
    assert downstream.environ["REQUEST_METHOD"] == "PUT"
    assert downstream.environ["HTTP_X_TOKEN"] == "t"


def test_browser_exchange_stops_after_a_refused_preflight() -> None:
    app, downstream = api(allow_methods=["PUT"])
    exchange = browser_exchange(app, "/items", origin=API, method="PUT", headers=[("X-Token", "t")])
    assert exchange.response is None
    assert exchange.verdict.step == "preflight-cors-check"
    assert exchange.preflight_body.startswith(b"CORS preflight refused")
    assert downstream.calls == 0


def test_browser_exchange_extra_environ_reaches_only_the_actual_request() -> None:
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ)
        start_response("204 No Content", [("Access-Control-Allow-Origin", API),
                                          ("Access-Control-Allow-Methods", "PUT")])
        return []

    browser_exchange(app, "https://api.example.com/a?x=1", origin=API, method="PUT",
                     environ={"HTTP_COOKIE": "session=abc"})
    preflight, actual = seen
    assert "HTTP_COOKIE" not in preflight
    assert actual["HTTP_COOKIE"] == "session=abc"
    assert (actual["wsgi.url_scheme"], actual["HTTP_HOST"], actual["PATH_INFO"], actual["QUERY_STRING"]) == (
        "https", "api.example.com", "/a", "x=1")


def test_browser_exchange_accepts_a_webtest_app() -> None:
    app, _ = api()
    assert browser_exchange(webtest.TestApp(app), "/items", origin=API).allowed


def test_assert_cors_allowed_passes_an_exchange_through() -> None:
    app, _ = api()
    assert assert_cors_allowed(browser_exchange(app, "/items", origin=API)).allowed


def test_assert_cors_allowed_message_carries_reason_fix_and_headers() -> None:
    app, _ = api(allow_methods=["PUT"], allow_headers=["Content-Type"])
    exchange = browser_exchange(app, "/items", origin=API, method="PUT", headers=[("X-Token", "t")])
    with pytest.raises(CORSAssertionError) as caught:
        assert_cors_allowed(exchange)
    message = str(caught.value)
    assert "blocked at step preflight-cors-check" in message
    assert "fix: allow origin https://app.example.com with method PUT and headers x-token" in message
    assert "preflight response: 403" in message
    assert caught.value.verdict.step == "preflight-cors-check"
    assert isinstance(caught.value, AssertionError)


def test_assert_cors_allowed_on_a_webtest_response() -> None:
    app, _ = api(expose_headers=["X-Request-Id"])
    response = webtest.TestApp(app, lint=True).get("/items", headers={"Origin": API})
    assert_cors_allowed(response, origin=API)


def test_assert_cors_blocked_on_a_webtest_response_of_another_origin() -> None:
    app, _ = api()
    response = webtest.TestApp(app, lint=True).get("/items", headers={"Origin": OTHER})
    verdict = assert_cors_blocked(response, origin=OTHER, step="cors-check")
    assert verdict.reason == "the response has no Access-Control-Allow-Origin header"


def test_assert_cors_blocked_fails_when_the_browser_allows() -> None:
    with pytest.raises(CORSAssertionError, match="expected a browser to block this request, but allowed"):
        assert_cors_blocked(("200 OK", [("Access-Control-Allow-Origin", "*")]), origin=API)


def test_assert_cors_blocked_fails_at_another_step() -> None:
    with pytest.raises(CORSAssertionError, match="at step preflight-method, but blocked at step cors-check"):
        assert_cors_blocked(("200 OK", []), origin=API, step="preflight-method")


def test_raw_status_and_headers_with_credentials() -> None:
    headers = [("Access-Control-Allow-Origin", "*")]
    with pytest.raises(CORSAssertionError, match="`\\*` cannot be used with credentials"):
        assert_cors_allowed(("200 OK", headers), origin=API, credentials=True)
    assert_cors_allowed((200, headers), origin=API)


def test_preflight_assertions_on_webtest_options_responses() -> None:
    app, _ = api(allow_methods=["PUT"], allow_headers=["X-Token"])
    client = webtest.TestApp(app, lint=True)
    ok = client.options("/items", headers={"Origin": API, "Access-Control-Request-Method": "PUT",
                                           "Access-Control-Request-Headers": "x-token"})
    assert_preflight_allowed(ok, origin=API, method="PUT", headers=[("X-Token", "t")])
    refused = client.options("/items", headers={"Origin": API, "Access-Control-Request-Method": "DELETE"},
                             status=403)
    assert_preflight_blocked(refused, origin=API, method="DELETE", step="preflight-cors-check")
    with pytest.raises(CORSAssertionError, match="expected a browser to accept this preflight"):
        assert_preflight_allowed(refused, origin=API, method="DELETE")
    with pytest.raises(CORSAssertionError, match="refuse this preflight"):
        assert_preflight_blocked(ok, origin=API, method="PUT", headers=[("X-Token", "t")])


def test_origin_is_required_without_an_exchange() -> None:
    with pytest.raises(TypeError, match="origin"):
        assert_cors_allowed(("200 OK", []))


def test_to_response_rejects_unknown_objects() -> None:
    with pytest.raises(TypeError, match="expected a WebTest"):
        to_response(object())


def test_to_response_keeps_repeated_lines() -> None:
    response = to_response(("200 OK", [("Access-Control-Allow-Origin", API)] * 2))
    assert response == Response(200, [("Access-Control-Allow-Origin", API)] * 2)


def test_call_wsgi_closes_the_body_iterable() -> None:
    closed = []

    class Body(list[bytes]):
        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [])
        return Body([b"x"])

    assert call_wsgi(app, "GET", "http://localhost/")[1] == b"x"
    assert closed == [True]


def test_testing_module_does_not_need_pytest() -> None:
    code = ("import sys; sys.modules['pytest'] = None; import cors_wsgi.testing as t; "
            "from cors_wsgi import CORSMiddleware, CORSPolicy\n"
            "app = CORSMiddleware(lambda e, s: (s('200 OK', []), [b''])[1], CORSPolicy(allow_origins='*'))\n"
            "t.assert_cors_allowed(t.browser_exchange(app, '/', origin='https://a.example'))\n"
            "try:\n    t.assert_cors_blocked(t.browser_exchange(app, '/', origin='https://a.example'))\n"
            "except AssertionError as e:\n    print('raised', type(e).__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "raised CORSAssertionError"

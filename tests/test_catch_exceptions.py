"""catch_exceptions: an app that raises still answers the browser with CORS headers."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import webtest

from cors_wsgi import CORSMiddleware, CORSPolicy
from tests.conftest import API, cors_headers

POLICY = CORSPolicy(allow_origins=API, allow_credentials=True)


def raising_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("database is down")


def late_raising_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    raise RuntimeError("after start")


def client(app: Any, catch: bool) -> webtest.TestApp:
    return webtest.TestApp(CORSMiddleware(app, POLICY, catch_exceptions=catch), lint=True)


def test_exception_becomes_500_with_cors_headers() -> None:
    response = client(raising_app, True).get("/api", headers={"Origin": API}, status=500)
    assert cors_headers(response) == {
        "access-control-allow-origin": API, "access-control-allow-credentials": "true",
    }
    assert response.headers["Vary"] == "Origin"
    assert response.text == "Internal Server Error\n"


def test_exception_is_logged_with_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        client(raising_app, True).get("/api", headers={"Origin": API}, status=500)
    (record,) = caplog.records
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


def test_exception_from_a_disallowed_origin_gets_500_without_cors_headers() -> None:
    response = client(raising_app, True).get("/api", headers={"Origin": "https://evil.example.net"}, status=500)
    assert cors_headers(response) == {}


def test_exception_propagates_by_default() -> None:
    with pytest.raises(RuntimeError, match="database is down"):
        client(raising_app, False).get("/api", headers={"Origin": API})


def test_exception_after_the_response_started_is_reraised_unchanged() -> None:
    with pytest.raises(RuntimeError, match="after start"):
        client(late_raising_app, True).get("/api", headers={"Origin": API})


def test_keyboard_interrupt_is_never_caught() -> None:
    def interrupted(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client(interrupted, True).get("/api", headers={"Origin": API})

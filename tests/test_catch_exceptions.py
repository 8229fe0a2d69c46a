"""catch_exceptions: an app that raises still answers the browser with CORS headers."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
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


def test_exception_after_start_response_but_before_the_body_becomes_500() -> None:
    response = client(late_raising_app, True).get("/api", headers={"Origin": API}, status=500)
    assert response.text == "Internal Server Error\n"
    assert cors_headers(response)["access-control-allow-origin"] == API


def test_exception_after_the_app_wrote_is_reraised_unchanged() -> None:
    def writing_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"partial")
        raise RuntimeError("after write")

    with pytest.raises(RuntimeError, match="after write"):
        client(writing_app, True).get("/api", headers={"Origin": API})


def test_exception_after_the_first_item_is_reraised_unchanged() -> None:
    def streaming_app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first"
        raise RuntimeError("while streaming")

    with pytest.raises(RuntimeError, match="while streaming"):
        client(streaming_app, True).get("/api", headers={"Origin": API})


def restarting_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Starts a 200, fails, and restarts with a 500 and ``exc_info`` (PEP 3333)."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise RuntimeError("template failed")
    except RuntimeError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"restarted"]


def test_restarted_response_reaches_the_server_once() -> None:
    calls: list[str] = []

    def server_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        calls.append(status)
        return lambda data: None

    middleware = CORSMiddleware(restarting_app, POLICY, catch_exceptions=True)
    assert list(middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": API},
                           server_start_response)) == [b"restarted"]
    assert calls == ["500 Internal Server Error"]


@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_restarted_response_carries_one_allow_origin_behind_a_real_server(server: str, tmp_path: Any) -> None:
    import http.client

    from tests.servers import free_port, run_server
    from tests.test_examples import BIN, env

    port = free_port()
    target = "tests.test_catch_exceptions:RESTARTING"
    argv = ([str(BIN / "gunicorn"), target, "-b", f"127.0.0.1:{port}"] if server == "gunicorn"
            else [str(BIN / "waitress-serve"), "--listen", f"127.0.0.1:{port}", target])
    with run_server(argv, port, cwd=str(Path(__file__).resolve().parent.parent), env=env()):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api", headers={"Origin": API})
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert (response.status, body) == (500, b"restarted")
    assert [v for k, v in response.getheaders() if k.lower() == "access-control-allow-origin"] == [API]


RESTARTING = CORSMiddleware(restarting_app, POLICY, catch_exceptions=True)


def test_keyboard_interrupt_is_never_caught() -> None:
    def interrupted(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client(interrupted, True).get("/api", headers={"Origin": API})

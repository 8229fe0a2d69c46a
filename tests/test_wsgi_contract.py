"""PEP 3333: the start_response shim and the iterable protocol, to the letter."""

from __future__ import annotations

import io
import sys
import wsgiref.util
import wsgiref.validate
from typing import Any

import pytest

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy
from tests.conftest import API, RecordingApp

POLICY = CORSPolicy(allow_origins=API, allow_methods="PUT", allow_headers="X-A")


def environ(**extra: str) -> dict[str, Any]:
    env: dict[str, Any] = {}
    wsgiref.util.setup_testing_defaults(env)
    env["wsgi.input"] = io.BytesIO(b"")
    env["QUERY_STRING"] = ""
    env.update(extra)
    return env


class ServerStartResponse:
    """Records what the server's start_response received."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]], Any]] = []

    def write(self, data: bytes) -> None:
        pass

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.calls.append((status, headers, exc_info))
        return self.write


def test_shim_forwards_exc_info() -> None:
    captured: list[Any] = []

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            raise ValueError("x")
        except ValueError:
            info = sys.exc_info()
            captured.append(info)
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], info)
        return [b""]

    server = ServerStartResponse()
    CORSMiddleware(app, POLICY)(environ(HTTP_ORIGIN=API), server)
    assert server.calls[0][2] is captured[0]


def test_shim_returns_the_servers_write() -> None:
    returned: list[Any] = []

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        returned.append(start_response("200 OK", [("Content-Type", "text/plain")]))
        return [b""]

    server = ServerStartResponse()
    CORSMiddleware(app, POLICY)(environ(HTTP_ORIGIN=API), server)
    assert returned[0] == server.write


def test_shim_hands_the_server_a_fresh_list_each_time() -> None:
    app_headers = [("Content-Type", "text/plain")]

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", app_headers)
        return [b""]

    middleware = CORSMiddleware(app, POLICY)
    first, second = ServerStartResponse(), ServerStartResponse()
    middleware(environ(HTTP_ORIGIN=API), first)
    middleware(environ(HTTP_ORIGIN=API), second)
    assert first.calls[0][1] is not second.calls[0][1]
    assert first.calls[0][1] is not app_headers
    assert app_headers == [("Content-Type", "text/plain")]


def test_server_mutating_its_list_does_not_leak_into_the_next_response() -> None:
    middleware = CORSMiddleware(RecordingApp(), CORSPolicy(allow_origins="*"))
    first = ServerStartResponse()
    middleware(environ(HTTP_ORIGIN=API), first)
    first.calls[0][1].append(("X-Injected", "1"))
    second = ServerStartResponse()
    middleware(environ(HTTP_ORIGIN=API), second)
    assert ("X-Injected", "1") not in second.calls[0][1]


def test_preflight_header_list_is_fresh_each_time() -> None:
    middleware = CORSMiddleware(RecordingApp(), POLICY)
    env = {"REQUEST_METHOD": "OPTIONS", "HTTP_ORIGIN": API, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"}
    first, second = ServerStartResponse(), ServerStartResponse()
    middleware(environ(**env), first)
    first.calls[0][1].clear()
    middleware(environ(**env), second)
    assert second.calls[0][1]


def test_apps_iterable_is_returned_untouched_and_close_reaches_it() -> None:
    class Body:
        closed = False

        def __iter__(self) -> Any:
            return iter([b"ok"])

        def close(self) -> None:
            Body.closed = True

    body = Body()

    def app(env: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    result = CORSMiddleware(app, POLICY)(environ(HTTP_ORIGIN=API), ServerStartResponse())
    assert result is body
    result.close()
    assert Body.closed


def test_uncovered_path_passes_through_untouched() -> None:
    app_headers = [("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*")]
    server = ServerStartResponse()

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", app_headers)
        return [b""]

    CORSMiddleware(app, {"/api/*": POLICY})(environ(HTTP_ORIGIN=API, PATH_INFO="/other"), server)
    assert server.calls[0][1] is app_headers


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"REQUEST_METHOD": "OPTIONS", "HTTP_ORIGIN": API,
                      "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"}, id="preflight-allowed"),
        pytest.param({"REQUEST_METHOD": "OPTIONS", "HTTP_ORIGIN": "https://evil.net",
                      "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"}, id="preflight-refused"),
        pytest.param({"HTTP_ORIGIN": API}, id="actual-allowed"),
        pytest.param({"HTTP_ORIGIN": "https://evil.net"}, id="actual-refused"),
    ],
)
def test_wsgiref_validator_passes(extra: dict[str, str]) -> None:
    validated = wsgiref.validate.validator(CORSMiddleware(wsgiref.validate.validator(RecordingApp()), POLICY))
    result = validated(environ(**extra), ServerStartResponse())
    try:
        b"".join(result)
    finally:
        result.close()  # type: ignore[attr-defined]


def test_debug_must_be_a_bool() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware(RecordingApp(), POLICY, debug="yes")  # type: ignore[arg-type]
    assert caught.value.codes == ["invalid-type"]


def test_policy_must_be_a_policy_or_mapping() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware(RecordingApp(), ["https://app.example.com"])  # type: ignore[arg-type]
    assert caught.value.codes == ["invalid-type"]

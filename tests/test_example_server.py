"""The Flask example behind a real WSGI server (waitress) on 127.0.0.1, over real HTTP."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from examples.flask_app import create_app
from tests.servers import serve

PAGE = "http://localhost:8080"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    with serve(create_app()) as address:
        yield address


def request(
    server: tuple[str, int], method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection(*server, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def test_preflight_over_http_is_204_with_allow_headers(server: tuple[str, int]) -> None:
    status, headers, body = request(server, "OPTIONS", "/api/items/1", {
        "Origin": PAGE, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type"})
    assert (status, body) == (204, b"")
    assert headers.get_all("Access-Control-Allow-Origin") == [PAGE]
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert headers["Access-Control-Allow-Methods"] == "GET, POST, PUT, DELETE"
    assert headers["Access-Control-Allow-Headers"] == "content-type, authorization"
    assert headers["Access-Control-Max-Age"] == "600"
    assert headers["Vary"] == "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


def test_preflight_to_a_url_flask_does_not_route_is_204(server: tuple[str, int]) -> None:
    status, headers, _ = request(server, "OPTIONS", "/api/no/such/thing", {
        "Origin": PAGE, "Access-Control-Request-Method": "DELETE"})
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == PAGE


def test_refused_preflight_over_http_is_403_without_cors_headers(server: tuple[str, int]) -> None:
    status, headers, body = request(server, "OPTIONS", "/api/items", {
        "Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"})
    assert status == 403
    assert not [name for name in headers if name.lower().startswith("access-control-")]
    assert body.startswith(b"CORS preflight refused")


def test_actual_json_post_over_http_gets_cors_headers(server: tuple[str, int]) -> None:
    status, headers, body = request(server, "POST", "/api/items", {
        "Origin": PAGE, "Content-Type": "application/json"}, json.dumps({"name": "x"}).encode())
    assert status == 201
    assert json.loads(body)["name"] == "x"
    assert headers.get_all("Access-Control-Allow-Origin") == [PAGE]
    assert headers["Access-Control-Expose-Headers"] == "x-request-id"
    assert headers["Vary"] == "Origin"


def test_disallowed_origin_over_http_gets_no_cors_headers(server: tuple[str, int]) -> None:
    status, headers, _ = request(server, "GET", "/api/items", {"Origin": "https://evil.example.net"})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] is None
    assert headers["Vary"] == "Origin"


def test_flask_404_and_500_carry_cors_headers(server: tuple[str, int]) -> None:
    for path, expected in (("/api/items/999", 404), ("/api/fail", 500)):
        method = "PUT" if expected == 404 else "GET"
        status, headers, _ = request(server, method, path, {"Origin": PAGE, "Content-Type": "application/json"},
                                     b"{}" if method == "PUT" else None)
        assert status == expected
        assert headers["Access-Control-Allow-Origin"] == PAGE


def test_path_outside_api_gets_no_cors_headers(server: tuple[str, int]) -> None:
    status, headers, _ = request(server, "GET", "/", {"Origin": PAGE})
    assert status == 404
    assert headers["Access-Control-Allow-Origin"] is None
    assert headers["Vary"] is None

"""Actual (non-preflight) requests: the app answers, the middleware adds CORS headers."""

from __future__ import annotations

import pytest

from cors_wsgi import CORSPolicy
from tests.conftest import API, OTHER, RecordingApp, cors_headers, header_values, make_client

JSON = ("Content-Type", "application/json")


def test_allowed_origin_gets_exactly_one_allow_origin() -> None:
    client, _ = make_client(allow_origins=API)
    response = client.get("/api", headers={"Origin": API})
    assert header_values(response, "Access-Control-Allow-Origin") == [API]


def test_allowed_request_reaches_the_app_once() -> None:
    client, app = make_client(allow_origins=API)
    client.get("/api", headers={"Origin": API})
    assert app.calls == 1


def test_app_status_and_body_pass_through() -> None:
    client, _ = make_client(allow_origins=API, app=RecordingApp("201 Created", [JSON], b'{"id": 7}'))
    response = client.post("/api", headers={"Origin": API}, status=201)
    assert response.body == b'{"id": 7}'


def test_credentials_header_sent_when_on() -> None:
    client, _ = make_client(allow_origins=API, allow_credentials=True)
    response = client.get("/api", headers={"Origin": API})
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def test_credentials_header_absent_when_off() -> None:
    client, _ = make_client(allow_origins=API)
    response = client.get("/api", headers={"Origin": API})
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_expose_headers_sent_when_set() -> None:
    client, _ = make_client(allow_origins=API, expose_headers=["X-Request-Id", "X-Total"])
    response = client.get("/api", headers={"Origin": API})
    assert response.headers["Access-Control-Expose-Headers"] == "x-request-id, x-total"


def test_actual_response_never_carries_preflight_only_headers() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_headers="X-A", max_age=60)
    response = client.get("/api", headers={"Origin": API})
    assert set(cors_headers(response)) == {"access-control-allow-origin"}


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param(OTHER, id="disallowed"),
        pytest.param("null", id="null"),
        pytest.param(f"{API}, {OTHER}", id="two-origins-comma"),
        pytest.param(f"{API} ", id="trailing-whitespace"),
        pytest.param(f"{API}/path", id="path"),
        pytest.param(API.upper(), id="upper-case"),
    ],
)
def test_disallowed_or_malformed_origin_gets_no_cors_header(origin: str) -> None:
    client, app = make_client(allow_origins=[API, "https://*.example.com"], allow_credentials=True)
    response = client.get("/api", headers={"Origin": origin})
    assert cors_headers(response) == {}
    assert app.calls == 1


def test_absent_origin_gets_no_cors_header() -> None:
    client, _ = make_client(allow_origins=API)
    response = client.get("/api")
    assert cors_headers(response) == {}


# -- Vary ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "headers",
    [pytest.param({"Origin": API}, id="allowed"), pytest.param({"Origin": OTHER}, id="disallowed"),
     pytest.param({}, id="no-origin")],
)
def test_vary_origin_on_every_response(headers: dict[str, str]) -> None:
    client, _ = make_client(allow_origins=API)
    response = client.get("/api", headers=headers)
    assert header_values(response, "Vary") == ["Origin"]


@pytest.mark.parametrize(
    ("app_vary", "expected"),
    [
        pytest.param(["Accept-Encoding"], ["Accept-Encoding, Origin"], id="merged"),
        pytest.param(["Accept-Encoding, Cookie"], ["Accept-Encoding, Cookie, Origin"], id="merged-list"),
        pytest.param(["origin"], ["origin"], id="already-there-lower"),
        pytest.param(["Accept, Origin"], ["Accept, Origin"], id="already-in-list"),
        pytest.param(["*"], ["*"], id="star-left-alone"),
        pytest.param(["Accept", "Cookie"], ["Accept", "Cookie, Origin"], id="two-lines"),
        pytest.param(["Origin", "Cookie"], ["Origin", "Cookie"], id="two-lines-origin-first"),
    ],
)
def test_vary_merged_into_the_apps_vary(app_vary: list[str], expected: list[str]) -> None:
    app = RecordingApp(headers=[JSON, *(("Vary", v) for v in app_vary)])
    client, _ = make_client(allow_origins=API, app=app)
    response = client.get("/api", headers={"Origin": API})
    assert header_values(response, "Vary") == expected


def test_allow_all_sends_star_on_every_response_without_vary() -> None:
    client, _ = make_client(allow_origins="*")
    for headers in ({"Origin": API}, {}, {"Origin": "null"}):
        response = client.get("/api", headers=headers)
        assert cors_headers(response) == {"access-control-allow-origin": "*"}
        assert "Vary" not in response.headers


def test_allow_all_keeps_the_apps_vary_untouched() -> None:
    app = RecordingApp(headers=[JSON, ("Vary", "Accept-Encoding")])
    client, _ = make_client(allow_origins="*", app=app)
    response = client.get("/api", headers={"Origin": API})
    assert header_values(response, "Vary") == ["Accept-Encoding"]


# -- the app's own CORS headers are replaced --------------------------------

APP_CORS = [
    JSON,
    ("Access-Control-Allow-Origin", "*"),
    ("access-control-allow-origin", "https://stale.example"),
    ("Access-Control-Allow-Credentials", "true"),
    ("ACCESS-CONTROL-EXPOSE-HEADERS", "X-Secret"),
    ("Access-Control-Allow-Methods", "*"),
    ("Access-Control-Max-Age", "99999"),
]


def test_apps_cors_headers_replaced_for_allowed_origin() -> None:
    client, _ = make_client(allow_origins=API, app=RecordingApp(headers=APP_CORS))
    response = client.get("/api", headers={"Origin": API})
    assert cors_headers(response) == {"access-control-allow-origin": API}


def test_apps_cors_headers_removed_for_disallowed_origin() -> None:
    client, _ = make_client(allow_origins=API, app=RecordingApp(headers=APP_CORS))
    response = client.get("/api", headers={"Origin": OTHER})
    assert cors_headers(response) == {}


def test_other_app_headers_are_kept_in_order() -> None:
    headers = [JSON, ("X-A", "1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-B", "2")]
    client, _ = make_client(allow_origins=API, app=RecordingApp(headers=headers))
    response = client.get("/api", headers={"Origin": API})
    assert response.headerlist[:5] == headers


# -- every status, error responses included ---------------------------------

@pytest.mark.parametrize("status", ["404 Not Found", "500 Internal Server Error", "301 Moved Permanently",
                                    "401 Unauthorized"])
def test_cors_headers_on_every_status(status: str) -> None:
    headers = [JSON, ("Location", "/elsewhere")] if status.startswith("3") else [JSON]
    client, _ = make_client(allow_origins=API, allow_credentials=True, app=RecordingApp(status, headers))
    response = client.get("/api", headers={"Origin": API}, status=int(status[:3]))
    assert cors_headers(response) == {
        "access-control-allow-origin": API,
        "access-control-allow-credentials": "true",
    }


def test_error_response_started_with_exc_info_gets_cors_headers() -> None:
    def failing_app(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [JSON])  # type: ignore[operator]
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            import sys

            start_response("500 Internal Server Error", [("Content-Type", "text/plain")],  # type: ignore[operator]
                           sys.exc_info())
        return [b"failed"]

    client, _ = make_client(allow_origins=API, app=failing_app)
    response = client.get("/api", headers={"Origin": API}, status=500)
    assert response.headers["Access-Control-Allow-Origin"] == API
    assert header_values(response, "Vary") == ["Origin"]


def test_non_preflight_options_gets_actual_response_headers() -> None:
    client, app = make_client(allow_origins=API, allow_methods="PUT")
    response = client.options("/api", headers={"Origin": API})
    assert app.calls == 1
    assert cors_headers(response) == {"access-control-allow-origin": API}


def test_policy_with_regex_echoes_the_matched_origin() -> None:
    client, _ = make_client(CORSPolicy(allow_origin_regex=r"https://pr-[0-9]+\.example\.com"))
    response = client.get("/api", headers={"Origin": "https://pr-9.example.com"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://pr-9.example.com"

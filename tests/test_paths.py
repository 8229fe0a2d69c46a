"""Per-path policies: PATH_INFO as the server decoded it, first match wins."""

from __future__ import annotations

import pytest

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy
from tests.conftest import API, RecordingApp, cors_headers, make_client

PUBLIC = CORSPolicy(allow_origins="*")
PRIVATE = CORSPolicy(allow_origins=API, allow_credentials=True)


@pytest.mark.parametrize(
    ("path", "covered"),
    [
        pytest.param("/api", True, id="bare-prefix"),
        pytest.param("/api/", True, id="prefix-slash"),
        pytest.param("/api/items/7", True, id="below"),
        pytest.param("/apix", False, id="not-a-sibling"),
        pytest.param("/API/items", False, id="case-sensitive"),
        pytest.param("/v1/api/items", False, id="not-infix"),
        pytest.param("/", False, id="root"),
    ],
)
def test_star_pattern_covers_the_path_and_below(path: str, covered: bool) -> None:
    client, _ = make_client({"/api/*": PRIVATE})
    response = client.get(path, headers={"Origin": API})
    assert ("access-control-allow-origin" in cors_headers(response)) is covered


@pytest.mark.parametrize(("path", "covered"), [("/health", True), ("/health/", False), ("/healthz", False)])
def test_pattern_without_star_is_one_exact_path(path: str, covered: bool) -> None:
    client, _ = make_client({"/health": PUBLIC})
    response = client.get(path)
    assert ("access-control-allow-origin" in cors_headers(response)) is covered


def test_first_matching_pattern_wins() -> None:
    client, _ = make_client({"/api/public/*": PUBLIC, "/api/*": PRIVATE})
    assert client.get("/api/public/x", headers={"Origin": API}).headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/api/private", headers={"Origin": API}).headers["Access-Control-Allow-Origin"] == API


def test_first_matching_pattern_decides() -> None:
    client, _ = make_client({"/api/public/*": PUBLIC, "/api/*": PRIVATE})
    assert client.get("/api/public/x", headers={"Origin": API}).headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/api/x", headers={"Origin": API}).headers["Access-Control-Allow-Origin"] == API


def test_uncovered_path_keeps_the_apps_own_cors_headers() -> None:
    app = RecordingApp(headers=[("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*")])
    client, _ = make_client({"/api/*": PRIVATE}, app=app)
    response = client.get("/static/app.js", headers={"Origin": API})
    assert cors_headers(response) == {"access-control-allow-origin": "*"}
    assert "Vary" not in response.headers


def test_uncovered_preflight_reaches_the_app() -> None:
    client, app = make_client({"/api/*": PRIVATE})
    client.options("/other", headers={"Origin": API, "Access-Control-Request-Method": "PUT"})
    assert app.calls == 1


def test_percent_encoded_path_is_not_decoded_again() -> None:
    # A server that keeps "%2F" escaped hands over "/api%2Fitems"; the app
    # routes on that, so the middleware must not see "/api/items" in it.
    client, _ = make_client({"/api/*": PRIVATE})
    response = client.get("/x", headers={"Origin": API}, extra_environ={"PATH_INFO": "/api%2Fitems"})
    assert cors_headers(response) == {}


def test_plus_in_path_is_not_a_space() -> None:
    client, _ = make_client({"/a b/*": PRIVATE})
    response = client.get("/x", headers={"Origin": API}, extra_environ={"PATH_INFO": "/a+b/c"})
    assert cors_headers(response) == {}


def test_non_ascii_pattern_matches_the_servers_latin1_path_info() -> None:
    client, _ = make_client({"/café/*": PRIVATE})
    wsgi_path = "/café/menu".encode().decode("latin-1")
    response = client.get("/x", headers={"Origin": API}, extra_environ={"PATH_INFO": wsgi_path})
    assert response.headers["Access-Control-Allow-Origin"] == API


def test_root_star_covers_everything() -> None:
    client, _ = make_client({"/*": PRIVATE})
    assert client.get("/anything/at/all", headers={"Origin": API}).headers["Access-Control-Allow-Origin"] == API


@pytest.mark.parametrize(
    ("paths", "code"),
    [
        pytest.param({"api/*": PRIVATE}, "invalid-path-pattern", id="no-leading-slash"),
        pytest.param({"/api*": PRIVATE}, "invalid-path-pattern", id="star-not-after-slash"),
        pytest.param({"/*/items": PRIVATE}, "invalid-path-pattern", id="star-in-middle"),
        pytest.param({"/api/*": "not a policy"}, "invalid-type", id="value-not-policy"),
        pytest.param({}, "no-paths", id="empty"),
    ],
)
def test_bad_path_mapping_is_refused(paths: dict[str, object], code: str) -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware(RecordingApp(), paths)  # type: ignore[arg-type]
    assert caught.value.codes == [code]


def test_every_bad_path_is_reported_at_once() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware(RecordingApp(), {"a": PRIVATE, "/b*": PRIVATE})
    assert caught.value.codes == ["invalid-path-pattern", "invalid-path-pattern"]

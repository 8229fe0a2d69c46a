"""Pyramid: config.include("cors_wsgi.pyramid"), cors.* settings, cors_policy= views, under pserve."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any

import pytest
import webtest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationExecutionError

from cors_wsgi import CORSConfigError, CORSPolicy
from examples.views_pyramid import main
from tests.servers import free_port, run_server
from tests.test_examples import BIN, env

ROOT = Path(__file__).resolve().parent.parent
PAGE = "http://localhost:8080"
ADMIN = "http://127.0.0.1:8080"
SETTINGS = {"cors.allow_origins": PAGE, "cors.allow_methods": "GET, POST, PUT",
            "cors.allow_headers": "Content-Type", "cors.paths": "/api/*"}


@pytest.fixture
def app() -> webtest.TestApp:
    return webtest.TestApp(main({}, **SETTINGS), lint=True)


def preflight(app: webtest.TestApp, path: str, origin: str, method: str = "PUT") -> Any:
    return app.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method}, expect_errors=True)


def test_preflight_to_the_view_with_cors_policy_is_answered_by_it(app: webtest.TestApp) -> None:
    response = preflight(app, "/api/admin/items/1", ADMIN)
    assert (response.status_int, response.headers.get("Access-Control-Allow-Origin")) == (204, ADMIN)


def test_preflight_to_that_view_is_refused_to_the_settings_origin(app: webtest.TestApp) -> None:
    assert preflight(app, "/api/admin/items/1", PAGE).status_int == 403


def test_preflight_to_another_view_is_answered_by_the_settings(app: webtest.TestApp) -> None:
    assert (preflight(app, "/api/items/1", PAGE).status_int, preflight(app, "/api/items/1", ADMIN).status_int) \
        == (204, 403)


def test_another_method_on_the_same_route_takes_the_settings_policy(app: webtest.TestApp) -> None:
    response = app.get("/api/admin/items/1", headers={"Origin": PAGE})
    assert response.headers.get("Access-Control-Allow-Origin") == PAGE


def test_actual_request_to_the_view_gets_its_policys_origin(app: webtest.TestApp) -> None:
    response = app.put("/api/admin/items/1", headers={"Origin": ADMIN})
    assert (response.headers.get("Access-Control-Allow-Origin"), response.headers["Vary"]) == (ADMIN, "Origin")


def test_unrouted_url_under_the_covered_path_is_answered(app: webtest.TestApp) -> None:
    assert preflight(app, "/api/unrouted", PAGE).status_int == 204


def test_no_cross_origin_view_gets_no_cors(app: webtest.TestApp) -> None:
    assert preflight(app, "/api/webhook", PAGE, "POST").status_int == 403
    response = app.post("/api/webhook", headers={"Origin": PAGE})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_settings_problems_are_all_raised_at_include_naming_their_keys() -> None:
    with pytest.raises(CORSConfigError) as caught:
        main({}, **{"cors.allow_origins": "*", "cors.allow_credentials": "true", "cors.max_age": "soon"})
    assert sorted(p.argument for p in caught.value.problems) == ["cors.allow_origins", "cors.max_age"]


def test_a_cors_policy_that_is_not_a_policy_is_refused_at_commit() -> None:
    # Pyramid reports errors of configuration actions as ConfigurationExecutionError.
    config = Configurator(settings=SETTINGS)
    config.include("cors_wsgi.pyramid")
    config.add_route("x", "/api/x")
    config.add_view(lambda request: {}, route_name="x", renderer="json", cors_policy="https://x.example")
    with pytest.raises(ConfigurationExecutionError, match=r"(?s)CORSConfigError.*must be a CORSPolicy"):
        config.commit()


def test_only_views_with_a_policy_get_cors_without_settings() -> None:
    with Configurator(settings={}) as config:
        config.include("cors_wsgi.pyramid")
        config.add_route("open", "/open")
        config.add_route("closed", "/closed")
        config.add_view(lambda request: {}, route_name="open", renderer="json",
                        cors_policy=CORSPolicy(allow_origins=[PAGE]))
        config.add_view(lambda request: {}, route_name="closed", renderer="json")
        app = webtest.TestApp(config.make_wsgi_app())
    assert app.get("/open", headers={"Origin": PAGE}).headers.get("Access-Control-Allow-Origin") == PAGE
    assert "Access-Control-Allow-Origin" not in app.get("/closed", headers={"Origin": PAGE}).headers


def test_per_view_policies_under_pserve(tmp_path: Path) -> None:
    port = free_port()
    ini = (ROOT / "examples" / "views_pyramid.ini").read_text()
    patched = tmp_path / "views_pyramid.ini"  # the example's ini on a free port
    patched.write_text(ini.replace("listen = 127.0.0.1:6544", f"listen = 127.0.0.1:{port}"))
    argv = [str(BIN / "pserve"), str(patched)]
    answers = []
    with run_server(argv, port, cwd=str(ROOT), env=env()):
        for path, origin in [("/api/admin/items/1", ADMIN), ("/api/admin/items/1", PAGE),
                             ("/api/items/1", PAGE), ("/api/unrouted", PAGE)]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("OPTIONS", path, headers={"Origin": origin, "Access-Control-Request-Method": "PUT"})
            response = connection.getresponse()
            response.read()
            connection.close()
            answers.append((response.status, response.getheader("Access-Control-Allow-Origin")))
    assert answers == [(204, ADMIN), (403, None), (204, PAGE), (204, PAGE)]


def test_route_predicates_see_the_requested_method_not_options() -> None:
    with Configurator(settings=SETTINGS) as config:
        config.include("cors_wsgi.pyramid")
        config.add_route("doc_write", "/api/doc", request_method="PUT")
        config.add_route("doc_read", "/api/doc")
        config.add_view(lambda request: {}, route_name="doc_write", renderer="json",
                        cors_policy=CORSPolicy(allow_origins=[ADMIN], allow_methods=["PUT"]))
        config.add_view(lambda request: {}, route_name="doc_read", renderer="json")
        app = webtest.TestApp(config.make_wsgi_app())
    assert (preflight(app, "/api/doc", ADMIN).status_int, preflight(app, "/api/doc", PAGE).status_int) == (204, 403)

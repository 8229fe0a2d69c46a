"""Flask: CORS(app), init_app, @cross_origin views answered for their preflights, behind real servers."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any

import flask
import pytest
from flask.views import MethodView

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy, cross_origin
from cors_wsgi.flask import CORS
from examples.views_flask import create_app
from tests.servers import free_port, run_server
from tests.test_examples import BIN, env

PAGE = "http://localhost:8080"
ADMIN = "http://127.0.0.1:8080"


def preflight(client: Any, path: str, origin: str, method: str = "PUT") -> Any:
    return client.options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "content-type",
    })


def allow_origin(response: Any) -> str | None:
    value: str | None = response.headers.get("Access-Control-Allow-Origin")
    return value


@pytest.fixture
def client() -> Any:
    return create_app(PAGE, ADMIN).test_client()


def test_preflight_to_the_decorated_view_is_answered_by_its_policy(client: Any) -> None:
    response = preflight(client, "/api/admin/items/1", ADMIN)
    assert (response.status_code, allow_origin(response)) == (204, ADMIN)


def test_preflight_to_the_decorated_view_is_refused_to_the_app_wide_origin(client: Any) -> None:
    response = preflight(client, "/api/admin/items/1", PAGE)
    assert (response.status_code, allow_origin(response)) == (403, None)


def test_preflight_to_another_view_is_answered_by_the_app_wide_policy(client: Any) -> None:
    assert (preflight(client, "/api/items/1", PAGE).status_code, preflight(client, "/api/items/1", ADMIN).status_code) \
        == (204, 403)


def test_actual_request_to_the_decorated_view_gets_its_policys_origin(client: Any) -> None:
    response = client.put("/api/admin/items/1", headers={"Origin": ADMIN})
    assert (response.status_code, allow_origin(response), response.headers["Vary"]) == (200, ADMIN, "Origin")


def test_get_on_the_decorated_view_is_decided_by_the_view_too(client: Any) -> None:
    assert allow_origin(client.get("/api/admin/items/1", headers={"Origin": PAGE})) is None


def test_unrouted_url_under_a_covered_path_is_still_answered(client: Any) -> None:
    response = preflight(client, "/api/nothing/here", PAGE)
    assert (response.status_code, allow_origin(response)) == (204, PAGE)


def test_no_cross_origin_view_gets_no_cors_at_all(client: Any) -> None:
    assert preflight(client, "/api/webhook", PAGE, "POST").status_code == 403
    response = client.post("/api/webhook", headers={"Origin": PAGE})
    assert (response.status_code, allow_origin(response)) == (200, None)


def test_preflight_for_a_method_the_view_does_not_serve_falls_back_to_the_app_policy(client: Any) -> None:
    # DELETE /api/admin/items/1 is a 405 in Flask: the admin policy does not decide it.
    response = preflight(client, "/api/admin/items/1", PAGE, "DELETE")
    assert response.status_code == 403  # the app-wide policy does not allow DELETE
    assert allow_origin(preflight(client, "/api/admin/items/1", PAGE, "POST")) == PAGE


def test_preflight_that_flask_would_redirect_is_never_answered_with_a_redirect() -> None:
    app = flask.Flask(__name__)
    app.config["CORS_ALLOW_ORIGINS"] = [PAGE]
    CORS(app)

    @app.put("/items/")
    @cross_origin(allow_origins=[ADMIN], allow_methods=["PUT"], allow_headers=["Content-Type"])
    def items() -> str:
        return "ok"

    response = preflight(app.test_client(), "/items", ADMIN)  # Flask redirects /items to /items/
    assert response.status_code == 403  # the app-wide policy decided: no redirect, not the view's
    assert preflight(app.test_client(), "/items/", ADMIN).status_code == 204


def test_subdomain_views_are_resolved_as_flask_routes_them() -> None:
    app = flask.Flask(__name__, subdomain_matching=True)
    app.config.update(SERVER_NAME="example.test", CORS_ALLOW_ORIGINS=[PAGE])
    CORS(app)

    @app.put("/items", subdomain="admin")
    @cross_origin(allow_origins=[ADMIN], allow_methods=["PUT"], allow_headers=["Content-Type"])
    def admin_items() -> str:
        return "admin"

    @app.put("/items")
    def items() -> str:
        return "items"

    client = app.test_client()
    on_admin = client.options("/items", base_url="http://admin.example.test", headers={
        "Origin": ADMIN, "Access-Control-Request-Method": "PUT"})
    on_apex = client.options("/items", base_url="http://example.test", headers={
        "Origin": ADMIN, "Access-Control-Request-Method": "PUT"})
    assert (on_admin.status_code, on_apex.status_code) == (204, 403)


def test_method_view_handler_carries_its_own_policy() -> None:
    class ItemAPI(MethodView):
        def get(self) -> str:
            return "get"

        @cross_origin(allow_origins=[ADMIN], allow_methods=["PUT"])
        def put(self) -> str:
            return "put"

    app = flask.Flask(__name__)
    CORS(app, allow_origins=[PAGE], allow_methods=["GET", "PUT"])
    app.add_url_rule("/items", view_func=ItemAPI.as_view("items"))
    client = app.test_client()
    assert allow_origin(client.put("/items", headers={"Origin": ADMIN})) == ADMIN
    assert allow_origin(client.get("/items", headers={"Origin": PAGE})) == PAGE
    assert allow_origin(client.get("/items", headers={"Origin": ADMIN})) is None


def test_init_app_wraps_the_wsgi_app_and_records_the_middleware() -> None:
    cors = CORS(allow_origins=[PAGE])
    app = flask.Flask(__name__)
    middleware = cors.init_app(app)
    assert isinstance(app.wsgi_app, CORSMiddleware)
    assert app.extensions["cors_wsgi"] is middleware is cors.middleware
    assert middleware.policy == CORSPolicy(allow_origins=[PAGE])


def test_without_any_configuration_only_decorated_views_get_cors() -> None:
    app = flask.Flask(__name__)
    CORS(app)

    @app.get("/open")
    @cross_origin(allow_origins=[PAGE])
    def open_view() -> str:
        return "open"

    @app.get("/closed")
    def closed() -> str:
        return "closed"

    client = app.test_client()
    assert allow_origin(client.get("/open", headers={"Origin": PAGE})) == PAGE
    assert allow_origin(client.get("/closed", headers={"Origin": PAGE})) is None


def test_app_config_problems_are_all_reported_naming_their_keys() -> None:
    app = flask.Flask(__name__)
    app.config.update(CORS_ALLOW_ORIGINS="*", CORS_ALLOW_CREDENTIALS=True, CORS_MAX_AGE="soon")
    with pytest.raises(CORSConfigError) as caught:
        CORS(app)
    assert sorted((p.code, p.argument) for p in caught.value.problems) == [
        ("invalid-value", "CORS_MAX_AGE"), ("wildcard-origin-with-credentials", "CORS_ALLOW_ORIGINS"),
    ]


def test_policy_and_options_together_are_refused() -> None:
    with pytest.raises(CORSConfigError, match="not both"):
        CORS(None, CORSPolicy(allow_origins=[PAGE]), max_age=5)


def test_decorated_view_with_bad_options_names_the_view_at_import() -> None:
    with pytest.raises(CORSConfigError, match=r"in @cross_origin on tests\.test_flask_adapter\."):
        @cross_origin(allow_origins=["http://app.example.com:99999"])
        def broken() -> None: ...


@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_per_view_policies_behind_a_real_server(server: str) -> None:
    port = free_port()
    target = f"examples.views_flask:create_app({PAGE!r}, {ADMIN!r})"
    argv = ([str(BIN / "gunicorn"), target, "-b", f"127.0.0.1:{port}"] if server == "gunicorn"
            else [str(BIN / "waitress-serve"), "--listen", f"127.0.0.1:{port}", "--call",
                  "examples.views_flask:create_app"])
    answers = []
    with run_server(argv, port, cwd=str(Path(__file__).resolve().parent.parent), env=env()):
        for path, origin in [("/api/admin/items/1", ADMIN), ("/api/admin/items/1", PAGE),
                             ("/api/items/1", PAGE), ("/api/items/1", ADMIN), ("/api/unrouted", PAGE)]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("OPTIONS", path, headers={"Origin": origin, "Access-Control-Request-Method": "PUT"})
            response = connection.getresponse()
            response.read()
            connection.close()
            answers.append((response.status, response.getheader("Access-Control-Allow-Origin")))
    assert answers == [(204, ADMIN), (403, None), (204, PAGE), (403, None), (204, PAGE)]


def test_preflight_reaches_the_view_of_the_requested_method_on_a_shared_url() -> None:
    app = flask.Flask(__name__)
    CORS(app, allow_origins=[PAGE], allow_methods=["GET", "PUT"])

    @app.get("/doc")
    def read_doc() -> str:
        return "read"

    @app.put("/doc")
    @cross_origin(allow_origins=[ADMIN], allow_methods=["PUT"], allow_headers=["Content-Type"])
    def write_doc() -> str:
        return "written"

    client = app.test_client()
    assert (preflight(client, "/doc", ADMIN).status_code, preflight(client, "/doc", PAGE).status_code) == (204, 403)


def test_flags_given_to_cors_win_over_the_config() -> None:
    app = flask.Flask(__name__)
    app.config.update(CORS_ALLOW_ORIGINS=[PAGE], CORS_DEBUG=False)
    seen: list[Any] = []
    middleware = CORS(app, debug=True, on_refusal=seen.append).middleware
    assert middleware is not None
    assert (middleware.debug, middleware.on_refusal) == (True, seen.append)


@pytest.mark.parametrize("flags", [{"debug": "yes"}, {"catch_exceptions": 1}, {"on_refusal": "log"}])
def test_flags_of_the_wrong_type_are_refused(flags: dict[str, Any]) -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORS(None, allow_origins=[PAGE], **flags)
    assert caught.value.codes == ["invalid-type"]

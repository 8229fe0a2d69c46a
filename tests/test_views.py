"""Policies per view: @cross_origin, @no_cross_origin and the resolver a middleware asks."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy, cross_origin, no_cross_origin
from cors_wsgi.views import NOT_CROSS_ORIGIN, POLICY_ATTRIBUTE, policy_of
from tests.conftest import RecordingApp, StartResponse

APP = "https://app.example.com"
ADMIN = "https://admin.example.com"
DEFAULT = CORSPolicy(allow_origins=[APP], allow_methods=["GET", "POST", "PUT"])
STRICT = CORSPolicy(allow_origins=[ADMIN], allow_methods=["PUT"])


def request(method: str, path: str, origin: str | None = APP, requested: str | None = None) -> dict[str, Any]:
    env: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path}
    if origin is not None:
        env["HTTP_ORIGIN"] = origin
    if requested is not None:
        env["HTTP_ACCESS_CONTROL_REQUEST_METHOD"] = requested
    return env


class Routes:
    """A resolver over ``{(path, method): view}``, recording what it is asked."""

    def __init__(self, views: dict[tuple[str, str], Any]) -> None:
        self.views = views
        self.asked: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], method: str) -> Any:
        self.asked.append((environ["PATH_INFO"], method))
        view = self.views.get((environ["PATH_INFO"], method))
        return None if view is None else policy_of(view, method)


def answer(middleware: CORSMiddleware, env: dict[str, Any]) -> tuple[str, dict[str, str], list[bytes]]:
    start_response = StartResponse()
    body = list(middleware(env, start_response))
    (status, headers), = start_response.calls
    return status, dict(headers), body


@cross_origin(STRICT)
def admin_put() -> str:
    return "ok"


def plain_view() -> str:
    return "plain"


@no_cross_origin
def webhook() -> str:
    return "hook"


ROUTES = {("/admin/items", "PUT"): admin_put, ("/admin/items", "GET"): plain_view, ("/hook", "POST"): webhook}


def middleware(policy: Any = DEFAULT, routes: Routes | None = None, app: Any = None) -> CORSMiddleware:
    return CORSMiddleware(app or RecordingApp(), policy, resolver=routes or Routes(ROUTES))


# -- the decorators ---------------------------------------------------------------------


def test_cross_origin_returns_the_view_itself_with_its_policy() -> None:
    def view() -> str:
        return "same"

    decorated = cross_origin(STRICT)(view)
    assert decorated is view
    assert decorated() == "same"
    assert getattr(view, POLICY_ATTRIBUTE) is STRICT


def test_cross_origin_options_build_the_policy_at_decoration_time() -> None:
    @cross_origin(allow_origins=[ADMIN], allow_methods=["PUT"])
    def view() -> None: ...

    assert policy_of(view) == STRICT


def test_cross_origin_reports_every_problem_naming_the_view() -> None:
    def update_item() -> None: ...

    with pytest.raises(CORSConfigError) as caught:
        cross_origin(allow_origins="*", allow_credentials=True, max_age=-1)(update_item)
    assert sorted(caught.value.codes) == ["max-age-out-of-range", "wildcard-origin-with-credentials"]
    assert all("in @cross_origin on tests.test_views." in p.message and "update_item" in p.message
               for p in caught.value.problems)


def test_cross_origin_without_parentheses_says_how_to_write_it() -> None:
    def view() -> None: ...

    with pytest.raises(CORSConfigError, match=r"@cross_origin needs a policy or options"):
        cross_origin(view)


@pytest.mark.parametrize("value", ["https://app.example.com", ["https://app.example.com"], 3])
def test_cross_origin_refuses_a_policy_that_is_not_a_cors_policy(value: object) -> None:
    with pytest.raises(CORSConfigError) as caught:
        cross_origin(value)
    assert caught.value.codes == ["invalid-type"]


def test_cross_origin_refuses_a_policy_and_options_together() -> None:
    with pytest.raises(CORSConfigError, match="not both"):
        cross_origin(STRICT, max_age=5)


def test_no_cross_origin_marks_the_view_unchanged() -> None:
    assert webhook() == "hook"
    assert policy_of(webhook) is NOT_CROSS_ORIGIN


class ItemView:
    """A class-based view as Django's and Flask's ``as_view()`` expose it."""

    def get(self) -> None: ...

    @cross_origin(allow_origins=[ADMIN], allow_methods=["PUT"])
    def put(self) -> None: ...


cross_origin(DEFAULT)(ItemView)


def as_view(cls: type) -> Any:
    def view() -> None: ...

    view.view_class = cls  # type: ignore[attr-defined]
    return view


def test_handler_method_policy_wins_over_the_class_policy() -> None:
    assert policy_of(as_view(ItemView), "PUT") == STRICT
    assert policy_of(as_view(ItemView), "GET") is DEFAULT


@pytest.mark.parametrize("method", ["PATCH", "X-Y", "", "__init__"])
def test_other_methods_of_a_class_based_view_get_the_class_policy(method: str) -> None:
    assert policy_of(as_view(ItemView), method) is DEFAULT


def test_an_attribute_not_set_by_the_decorators_is_ignored() -> None:
    def view() -> None: ...

    setattr(view, POLICY_ATTRIBUTE, "https://app.example.com")
    assert policy_of(view) is None


# -- the resolver on the request path ------------------------------------------------


def test_preflight_asks_the_resolver_for_the_requested_method_never_options() -> None:
    routes = Routes(ROUTES)
    answer(middleware(routes=routes), request("OPTIONS", "/admin/items", ADMIN, requested="PUT"))
    assert routes.asked == [("/admin/items", "PUT")]


def test_preflight_for_the_decorated_view_is_answered_by_its_policy() -> None:
    status, headers, _ = answer(middleware(), request("OPTIONS", "/admin/items", ADMIN, requested="PUT"))
    assert status == "204 No Content"
    assert headers["Access-Control-Allow-Origin"] == ADMIN


def test_preflight_for_the_decorated_view_is_refused_to_the_default_policys_origin() -> None:
    status, headers, _ = answer(middleware(), request("OPTIONS", "/admin/items", APP, requested="PUT"))
    assert status == "403 Forbidden"
    assert "Access-Control-Allow-Origin" not in headers


def test_preflight_for_another_method_of_the_same_url_is_answered_by_the_path_policy() -> None:
    status, headers, _ = answer(middleware(), request("OPTIONS", "/admin/items", APP, requested="POST"))
    assert (status, headers["Access-Control-Allow-Origin"]) == ("204 No Content", APP)


def test_actual_request_to_the_decorated_view_gets_its_policys_headers() -> None:
    _, headers, _ = answer(middleware(), request("PUT", "/admin/items", ADMIN))
    assert headers["Access-Control-Allow-Origin"] == ADMIN
    assert headers["Vary"] == "Origin"


def test_unrouted_preflight_is_answered_by_the_path_policy() -> None:
    app = RecordingApp()
    status, headers, _ = answer(middleware(app=app), request("OPTIONS", "/nowhere", APP, requested="PUT"))
    assert (status, headers["Access-Control-Allow-Origin"], app.calls) == ("204 No Content", APP, 0)


def test_no_cross_origin_view_refuses_its_preflight_with_403() -> None:
    app = RecordingApp()
    status, headers, body = answer(middleware(app=app), request("OPTIONS", "/hook", APP, requested="POST"))
    assert (status, app.calls) == ("403 Forbidden", 0)
    assert not [name for name in headers if name.lower().startswith("access-control-")]
    assert body == [b"CORS preflight refused: this view allows no cross-origin requests\n"]


def test_no_cross_origin_view_response_gets_no_cors_header_even_from_the_app() -> None:
    app = RecordingApp(headers=[("Access-Control-Allow-Origin", "*"), ("Content-Type", "text/plain")])
    status, headers, _ = answer(middleware(app=app), request("POST", "/hook", APP))
    assert (status, app.calls) == ("200 OK", 1)
    assert "Access-Control-Allow-Origin" not in headers


def test_without_a_default_policy_only_decorated_views_get_cors() -> None:
    m = middleware(policy=None)
    assert "Access-Control-Allow-Origin" not in answer(m, request("GET", "/admin/items"))[1]
    assert answer(m, request("PUT", "/admin/items", ADMIN))[1]["Access-Control-Allow-Origin"] == ADMIN
    app = RecordingApp()
    status, _, _ = answer(middleware(policy=None, app=app), request("OPTIONS", "/nowhere", APP, requested="PUT"))
    assert (status, app.calls) == ("200 OK", 1)  # passed through: nothing covers it


def test_path_mapping_and_views_combine() -> None:
    m = middleware(policy={"/admin/*": DEFAULT})
    assert answer(m, request("OPTIONS", "/admin/x", APP, requested="PUT"))[0] == "204 No Content"
    assert answer(m, request("OPTIONS", "/admin/items", APP, requested="PUT"))[0] == "403 Forbidden"
    assert answer(m, request("OPTIONS", "/hook", APP, requested="POST"))[0] == "403 Forbidden"


def test_ambiguous_path_is_refused_before_the_resolver_is_asked() -> None:
    routes = Routes(ROUTES)
    m = middleware(policy={"/admin/*": STRICT, "/*": DEFAULT}, routes=routes)
    status, _, _ = answer(m, request("OPTIONS", "//admin/items", ADMIN, requested="PUT"))
    assert (status, routes.asked) == ("403 Forbidden", [])


def test_resolver_exception_is_logged_escaped_and_the_path_policy_decides(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(environ: dict[str, Any], method: str) -> Any:
        raise RuntimeError("no route\nINFO forged")

    m = CORSMiddleware(RecordingApp(), DEFAULT, resolver=broken)
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        _, headers, _ = answer(m, request("GET", "/x\x1b[2J"))
    assert headers["Access-Control-Allow-Origin"] == APP
    text = logging.Formatter("%(message)s").format(caplog.records[0])
    assert "\x1b" not in text
    assert "\nINFO" not in text


def test_resolver_answer_that_is_not_a_policy_is_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    m = CORSMiddleware(RecordingApp(), DEFAULT, resolver=lambda environ, method: "https://evil.example")  # type: ignore[arg-type,return-value]
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        _, headers, _ = answer(m, request("GET", "/x", "https://evil.example"))
    assert "Access-Control-Allow-Origin" not in headers
    assert "not a CORSPolicy" in caplog.records[0].getMessage()


class LanguageResolver:
    """A resolver that reads a request header, and says so."""

    vary = ("Accept-Language",)

    def __call__(self, environ: dict[str, Any], method: str) -> Any:
        return STRICT if environ.get("HTTP_ACCEPT_LANGUAGE") == "de" else None


@pytest.mark.parametrize("env", [
    request("GET", "/x"),
    request("OPTIONS", "/x", requested="PUT"),
    request("OPTIONS", "/x", ADMIN, requested="PUT"),
])
def test_headers_a_resolver_reads_are_merged_into_every_vary(env: dict[str, Any]) -> None:
    m = CORSMiddleware(RecordingApp(headers=[("Vary", "Cookie")]), DEFAULT, resolver=LanguageResolver())
    env = dict(env, HTTP_ACCEPT_LANGUAGE="de")
    vary = [v.strip().lower() for v in answer(m, env)[1]["Vary"].split(",")]
    assert "accept-language" in vary
    assert len(vary) == len(set(vary))


@pytest.mark.parametrize("vary", ["Accept-Language", ("Bad Name",), (3,)])
def test_resolver_vary_must_be_header_names(vary: object) -> None:
    class Resolver:
        def __call__(self, environ: dict[str, Any], method: str) -> None:
            return None

    resolver = Resolver()
    resolver.vary = vary  # type: ignore[attr-defined]
    with pytest.raises(CORSConfigError, match="tuple of request header names"):
        CORSMiddleware(RecordingApp(), DEFAULT, resolver=resolver)


def test_a_resolver_that_is_not_callable_is_refused() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware(RecordingApp(), DEFAULT, resolver="app.urls")  # type: ignore[arg-type]
    assert caught.value.codes == ["invalid-type"]


def test_no_policy_and_no_resolver_is_refused() -> None:
    with pytest.raises(CORSConfigError, match="only allowed with a resolver"):
        CORSMiddleware(RecordingApp(), None)


def test_wsgi_middleware_in_djangos_middleware_setting_names_the_django_class() -> None:
    def get_response(request: object) -> None: ...

    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware(get_response)  # type: ignore[arg-type]
    assert caught.value.codes == ["missing-policy"]
    assert "'cors_wsgi.django.CORSMiddleware'" in str(caught.value)


def test_reconfigure_keeps_the_resolver() -> None:
    m = middleware()
    m.reconfigure(CORSPolicy(allow_origins=["https://other.example"], allow_methods=["POST"]))
    assert answer(m, request("OPTIONS", "/admin/items", ADMIN, requested="PUT"))[0] == "204 No Content"
    assert answer(m, request("OPTIONS", "/x", APP, requested="POST"))[0] == "403 Forbidden"


METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "put", "X-CUSTOM"])
POLICIES = st.sampled_from([DEFAULT, STRICT, CORSPolicy(allow_origins="*"), None, NOT_CROSS_ORIGIN])


@given(view_policy=POLICIES, method=METHODS, origin=st.sampled_from([APP, ADMIN, "https://evil.example"]),
       preflight=st.booleans())
def test_a_view_policy_answers_exactly_as_that_policy_alone(
    view_policy: Any, method: str, origin: str, preflight: bool
) -> None:
    m = CORSMiddleware(RecordingApp(), DEFAULT, resolver=lambda environ, asked: view_policy)
    env = request("OPTIONS", "/v", origin, requested=method) if preflight else request(method, "/v", origin)
    got = answer(m, dict(env))
    if view_policy is None:
        expected = answer(CORSMiddleware(RecordingApp(), DEFAULT), dict(env))
    elif view_policy is NOT_CROSS_ORIGIN:
        assert not [n for n in got[1] if n.lower().startswith("access-control-")]
        assert got[0] == ("403 Forbidden" if preflight else "200 OK")
        return
    else:
        expected = answer(CORSMiddleware(RecordingApp(), view_policy), dict(env))
    assert got == expected


def test_routes_kept_for_a_resolver_that_builds_policies_stay_bounded() -> None:
    from cors_wsgi import views

    m = CORSMiddleware(RecordingApp(), DEFAULT,
                       resolver=lambda environ, method: CORSPolicy(allow_origins=[ADMIN]))
    for _ in range(views._ROUTES_KEPT + 5):
        assert answer(m, request("GET", "/x", ADMIN))[1]["Access-Control-Allow-Origin"] == ADMIN
    assert 0 < len(m.choose._routes) <= views._ROUTES_KEPT  # type: ignore[attr-defined]


def test_explain_follows_the_view_a_path_reaches() -> None:
    m = middleware()
    assert m.explain(ADMIN, "PUT", path="/admin/items").allowed
    assert not m.explain(APP, "PUT", path="/admin/items").allowed
    assert "@no_cross_origin" in str(m.explain(APP, "POST", headers={"Content-Type": "application/json"},
                                               path="/hook"))

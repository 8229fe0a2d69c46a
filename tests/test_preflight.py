"""Preflight requests: answered by the middleware itself, exactly per Fetch."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cors_wsgi import CORSPolicy
from tests.conftest import API, OTHER, cors_headers, header_values, make_client, preflight_headers

PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


def test_allowed_preflight_is_204_with_empty_body() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT")
    response = client.options("/api", headers=preflight_headers(), status=204)
    assert response.body == b""


def test_preflight_does_not_call_the_app() -> None:
    client, app = make_client(allow_origins=API, allow_methods="PUT")
    client.options("/api", headers=preflight_headers(), status=204)
    assert app.calls == 0


def test_refused_preflight_does_not_call_the_app() -> None:
    client, app = make_client(allow_origins=API)
    client.options("/api", headers=preflight_headers(origin=OTHER), status=403)
    assert app.calls == 0


def test_preflight_does_not_read_the_request_body() -> None:
    class Exploding:
        def read(self, *args: object) -> bytes:
            raise AssertionError("wsgi.input was read")

        readline = readlines = read

        def __iter__(self) -> Exploding:
            raise AssertionError("wsgi.input was iterated")

    client, _ = make_client(allow_origins=API, allow_methods="PUT")
    client.options(
        "/api", headers=preflight_headers(), status=204,
        extra_environ={"wsgi.input": Exploding()},
    )


def test_preflight_to_unrouted_url_is_answered_not_404() -> None:
    client, _ = make_client(
        allow_origins=API, allow_methods="PUT",
        app=lambda environ, start_response: (_ for _ in ()).throw(AssertionError("called")),
    )
    client.options("/no/such/route", headers=preflight_headers(), status=204)


def test_options_without_request_method_reaches_the_app() -> None:
    client, app = make_client(allow_origins=API)
    response = client.options("/api", headers={"Origin": API}, status=200)
    assert app.calls == 1
    assert response.headers["Access-Control-Allow-Origin"] == API


def test_options_without_origin_reaches_the_app() -> None:
    client, app = make_client(allow_origins=API)
    client.options("/api", headers={"Access-Control-Request-Method": "PUT"}, status=200)
    assert app.calls == 1


def test_allowed_preflight_headers_exactly() -> None:
    client, _ = make_client(
        allow_origins=API, allow_methods=["PUT", "DELETE"], allow_headers=["Content-Type", "X-Token"],
        allow_credentials=True, max_age=600,
    )
    response = client.options(
        "/api", headers=preflight_headers(method="PUT", request_headers="content-type,x-token"),
        status=204,
    )
    assert cors_headers(response) == {
        "access-control-allow-origin": API,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "PUT, DELETE",
        "access-control-allow-headers": "content-type, x-token",
        "access-control-max-age": "600",
    }
    assert header_values(response, "Vary") == [PREFLIGHT_VARY]


def test_preflight_success_has_no_content_type() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT")
    response = client.options("/api", headers=preflight_headers(), status=204)
    assert "Content-Type" not in response.headers
    assert "Content-Length" not in response.headers


def test_max_age_omitted_when_none() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT")
    response = client.options("/api", headers=preflight_headers(), status=204)
    assert "Access-Control-Max-Age" not in response.headers


def test_max_age_zero_is_sent() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", max_age=0)
    response = client.options("/api", headers=preflight_headers(), status=204)
    assert response.headers["Access-Control-Max-Age"] == "0"


def test_allow_all_preflight_sends_star_origin() -> None:
    client, _ = make_client(allow_origins="*", allow_methods="PUT")
    response = client.options("/api", headers=preflight_headers(origin=OTHER), status=204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_allow_all_preflight_accepts_null_origin() -> None:
    client, _ = make_client(allow_origins="*", allow_methods="PUT")
    response = client.options("/api", headers=preflight_headers(origin="null"), status=204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# -- refused preflights carry no allow-headers at all -----------------------

REFUSED = [
    ("origin-not-allowed", {"allow_origins": API}, preflight_headers(origin=OTHER, method="GET")),
    ("null-origin", {"allow_origins": API}, preflight_headers(origin="null", method="GET")),
    ("method-not-allowed", {"allow_origins": API}, preflight_headers(method="PUT")),
    ("method-case-sensitive", {"allow_origins": API, "allow_methods": "PATCH"}, preflight_headers(method="patch")),
    ("method-empty", {"allow_origins": API}, preflight_headers(method="")),
    ("header-not-allowed", {"allow_origins": API, "allow_methods": "PUT", "allow_headers": "X-A"},
     preflight_headers(request_headers="x-b")),
    ("one-of-two-headers-not-allowed", {"allow_origins": API, "allow_methods": "PUT", "allow_headers": "X-A"},
     preflight_headers(request_headers="x-a,x-b")),
    ("safelisted-name-not-listed", {"allow_origins": API, "allow_methods": "PUT"},
     preflight_headers(request_headers="content-type")),
    ("star-does-not-cover-authorization", {"allow_origins": API, "allow_methods": "PUT", "allow_headers": "*"},
     preflight_headers(request_headers="authorization")),
    ("too-many-header-names", {"allow_origins": API, "allow_methods": "PUT", "allow_headers": "*"},
     preflight_headers(request_headers=",".join(f"x-{i}" for i in range(65)))),
    ("header-list-too-long", {"allow_origins": API, "allow_methods": "PUT", "allow_headers": "*"},
     preflight_headers(request_headers="x" * (16 * 1024 + 1))),
    ("echoed-name-not-a-token", {"allow_origins": API, "allow_methods": "PUT", "allow_headers": "*",
                                 "allow_credentials": True},
     preflight_headers(request_headers="x-a,x(b)")),
    ("star-method-with-credentials-not-token", {"allow_origins": API, "allow_methods": "*", "allow_credentials": True},
     preflight_headers(method="PU T")),
    ("star-method-with-credentials-forbidden", {"allow_origins": API, "allow_methods": "*", "allow_credentials": True},
     preflight_headers(method="TRACE")),
]


@pytest.mark.parametrize(("kwargs", "headers"), [pytest.param(k, h, id=i) for i, k, h in REFUSED])
def test_refused_preflight_is_403_without_allow_headers(kwargs: dict[str, object], headers: dict[str, str]) -> None:
    client, _ = make_client(CORSPolicy(**kwargs))  # type: ignore[arg-type]
    response = client.options("/api", headers=headers, status=403)
    assert cors_headers(response) == {}
    assert response.content_type == "text/plain"
    assert response.text.startswith("CORS preflight refused")
    assert header_values(response, "Vary") == [PREFLIGHT_VARY]


# -- methods ------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_safelisted_method_needs_no_listing(method: str) -> None:
    client, _ = make_client(allow_origins=API)
    response = client.options("/api", headers=preflight_headers(method=method), status=204)
    assert response.headers["Access-Control-Allow-Methods"] == method


def test_safelisted_method_is_added_to_the_listed_methods() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT")
    response = client.options("/api", headers=preflight_headers(method="POST"), status=204)
    assert response.headers["Access-Control-Allow-Methods"] == "PUT, POST"


def test_lower_case_patch_allowed_when_listed_lower_case() -> None:
    client, _ = make_client(allow_origins=API, allow_methods=["PATCH", "patch"])
    response = client.options("/api", headers=preflight_headers(method="patch"), status=204)
    assert "patch" in response.headers["Access-Control-Allow-Methods"].split(", ")


def test_star_methods_without_credentials_sends_star() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="*")
    response = client.options("/api", headers=preflight_headers(method="PURGE"), status=204)
    assert response.headers["Access-Control-Allow-Methods"] == "*"


def test_star_methods_with_credentials_echoes_the_method() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="*", allow_credentials=True)
    response = client.options("/api", headers=preflight_headers(method="PURGE"), status=204)
    assert response.headers["Access-Control-Allow-Methods"] == "PURGE"


# -- request headers ----------------------------------------------------------

@pytest.mark.parametrize(
    "requested",
    [
        pytest.param("content-type,x-token", id="browser-form"),
        pytest.param("Content-Type, X-Token", id="any-case-and-spaces"),
        pytest.param(" x-token ,, content-type ,", id="empty-items"),
        pytest.param("x-token,content-type,x-token", id="duplicates"),
        pytest.param("content-type\t,\tx-token", id="tabs"),
    ],
)
def test_request_headers_are_parsed_leniently(requested: str) -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_headers=["Content-Type", "X-Token"])
    client.options("/api", headers=preflight_headers(request_headers=requested), status=204)


def test_request_headers_from_several_lines_are_parsed() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_headers=["X-A", "X-B"])
    # A server joins repeated header lines with ","; WSGI shows the result.
    client.options("/api", headers=preflight_headers(), status=204,
                   extra_environ={"HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "x-a,x-b"})


def test_header_list_of_only_commas_is_an_empty_list() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_headers="X-A")
    client.options("/api", headers=preflight_headers(request_headers="," * 4096), status=204)


def test_star_headers_without_credentials_sends_star() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_headers="*")
    response = client.options("/api", headers=preflight_headers(request_headers="x-anything"), status=204)
    assert response.headers["Access-Control-Allow-Headers"] == "*"


def test_star_plus_authorization_allows_authorization() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_headers=["*", "Authorization"])
    response = client.options("/api", headers=preflight_headers(request_headers="authorization,x-a"), status=204)
    assert response.headers["Access-Control-Allow-Headers"] == "*, authorization"


def test_star_headers_with_credentials_echoes_requested_names() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_headers="*", allow_credentials=True)
    response = client.options(
        "/api", headers=preflight_headers(request_headers="Authorization, X-A"), status=204
    )
    assert response.headers["Access-Control-Allow-Headers"] == "authorization,x-a"


def test_listed_authorization_is_allowed() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_headers="Authorization")
    client.options("/api", headers=preflight_headers(request_headers="authorization"), status=204)


# -- private network access (legacy, opt-in) ------------------------------------

def test_private_network_answered_when_enabled() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_private_network=True)
    headers = {**preflight_headers(), "Access-Control-Request-Private-Network": "true"}
    response = client.options("/api", headers=headers, status=204)
    assert response.headers["Access-Control-Allow-Private-Network"] == "true"
    assert response.headers["Vary"].endswith("Access-Control-Request-Private-Network")


def test_private_network_not_answered_by_default() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT")
    headers = {**preflight_headers(), "Access-Control-Request-Private-Network": "true"}
    response = client.options("/api", headers=headers, status=204)
    assert "Access-Control-Allow-Private-Network" not in response.headers


def test_private_network_not_answered_without_request_header() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_private_network=True)
    response = client.options("/api", headers=preflight_headers(), status=204)
    assert "Access-Control-Allow-Private-Network" not in response.headers


def test_private_network_not_answered_on_refused_preflight() -> None:
    client, _ = make_client(allow_origins=API, allow_private_network=True)
    headers = {**preflight_headers(origin=OTHER), "Access-Control-Request-Private-Network": "true"}
    response = client.options("/api", headers=headers, status=403)
    assert cors_headers(response) == {}


# -- debug mode -------------------------------------------------------------------

def test_debug_names_the_configured_lists_for_a_disallowed_method() -> None:
    client, _ = make_client(
        CORSPolicy(allow_origins=API, allow_methods="PUT", allow_headers="X-A", max_age=60), debug=True,
    )
    response = client.options("/api", headers=preflight_headers(method="DELETE"), status=204)
    assert cors_headers(response) == {
        "access-control-allow-origin": API,
        "access-control-allow-methods": "PUT",
        "access-control-allow-headers": "x-a",
    }


def test_debug_names_the_configured_lists_for_a_disallowed_header() -> None:
    client, _ = make_client(CORSPolicy(allow_origins=API, allow_methods="PUT", allow_headers="X-A"), debug=True)
    response = client.options("/api", headers=preflight_headers(request_headers="x-b"), status=204)
    assert response.headers["Access-Control-Allow-Headers"] == "x-a"


def test_debug_answer_never_sends_star_for_a_requested_authorization() -> None:
    client, _ = make_client(CORSPolicy(allow_origins=API, allow_headers="*", allow_methods="PUT"), debug=True)
    response = client.options("/", headers=preflight_headers(API, "PUT", "authorization,x-a"))
    assert response.headers["Access-Control-Allow-Headers"] == "x-a"


def test_debug_answer_lists_authorization_when_it_is_allowed_beside_star() -> None:
    client, _ = make_client(CORSPolicy(allow_origins=API, allow_headers=["*", "Authorization"],
                                       allow_methods="PUT"), debug=True)
    response = client.options("/", headers=preflight_headers(API, "DELETE", "authorization,x-a"))
    assert response.headers["Access-Control-Allow-Headers"] == "authorization,x-a"


def test_debug_still_refuses_a_disallowed_origin() -> None:
    client, _ = make_client(CORSPolicy(allow_origins=API), debug=True)
    response = client.options("/api", headers=preflight_headers(origin=OTHER), status=403)
    assert cors_headers(response) == {}


def test_debug_logs_refusals_with_request_values_escaped(caplog: pytest.LogCaptureFixture) -> None:
    client, _ = make_client(CORSPolicy(allow_origins=API), debug=True)
    hostile = "https://evil.net\x1b[31m\u2028forged"
    with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
        client.options("/api", headers=preflight_headers(origin=hostile.encode("utf-8").decode("latin-1")),
                       status=403)
    (record,) = caplog.records
    message = record.getMessage()
    assert "(origin-malformed)" in message
    assert "\x1b" not in message
    assert "\\x1b" in message


def test_refusals_are_not_logged_when_debug_logging_is_off(caplog: pytest.LogCaptureFixture) -> None:
    client, _ = make_client(CORSPolicy(allow_origins=API))
    with caplog.at_level(logging.INFO, logger="cors_wsgi"):
        client.options("/api", headers=preflight_headers(origin=OTHER), status=403)
    assert caplog.records == []


# == preflight_status and the request-header list cap ==============================

def test_allowed_preflight_is_204_without_content_length_by_default() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT")
    response = client.options("/api", headers=preflight_headers(), status=204)
    assert "Content-Length" not in response.headers


def test_preflight_status_200_answers_allowed_preflights_200_with_content_length_zero() -> None:
    client, downstream = make_client(allow_origins=API, allow_methods="PUT", preflight_status=200)
    response = client.options("/api", headers=preflight_headers(), status=200)
    assert response.headers["Content-Length"] == "0"
    assert response.headers["Access-Control-Allow-Origin"] == API
    assert downstream.calls == 0


def test_preflight_status_200_keeps_refusals_403() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", preflight_status=200)
    client.options("/api", headers=preflight_headers(origin=OTHER), status=403)


def test_preflight_status_200_applies_to_debug_mode_answers() -> None:
    client, _ = make_client(allow_origins=API, allow_methods="PUT", preflight_status=200, debug=True)
    response = client.options("/api", headers=preflight_headers(method="PATCH"), status=200)
    assert response.headers["Content-Length"] == "0"


@given(status=st.one_of(
    st.integers().filter(lambda n: n not in (200, 204)), st.sampled_from(["200", "204", 204.0, 200.0]),
    st.booleans(), st.none(), st.text(max_size=5), st.floats(),
))
def test_preflight_status_other_than_204_or_200_is_a_configuration_error(status: object) -> None:
    from cors_wsgi import CORSConfigError

    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origins=API, preflight_status=status)  # type: ignore[arg-type]
    assert caught.value.codes == ["invalid-preflight-status"]


def test_request_header_list_at_the_length_cap_is_parsed() -> None:
    from cors_wsgi._engine import MAX_REQUEST_HEADERS_LENGTH

    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_headers="X-A")
    value = "x-a" + "," * (MAX_REQUEST_HEADERS_LENGTH - 3)
    client.options("/api", headers=preflight_headers(request_headers=value), status=204)


def test_request_header_list_one_past_the_length_cap_is_refused() -> None:
    from cors_wsgi._engine import MAX_REQUEST_HEADERS_LENGTH

    client, _ = make_client(allow_origins=API, allow_methods="PUT", allow_headers="X-A")
    value = "x-a" + "," * (MAX_REQUEST_HEADERS_LENGTH - 2)
    client.options("/api", headers=preflight_headers(request_headers=value), status=403)


def test_preflight_status_200_answer_passes_the_fetch_cors_check() -> None:
    from cors_wsgi.testing import assert_preflight_allowed

    client, _ = make_client(allow_origins=API, allow_methods="PUT", preflight_status=200)
    response = client.options("/api", headers=preflight_headers(), status=200)
    assert_preflight_allowed(response, origin=API, method="PUT")

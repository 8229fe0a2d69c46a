"""cors_wsgi.fetch: the browser's side of the CORS protocol, rule by rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cors_wsgi.fetch import (
    BROWSER_MAX_AGE_CAPS,
    STEPS,
    CacheEntry,
    Request,
    Response,
    access_control_request_headers,
    cors_check,
    evaluate,
    exposed_header_names,
    get_header,
    is_forbidden_request_header,
    is_safelisted_method,
    is_safelisted_request_header,
    max_age,
    needs_preflight,
    normalize_method,
    parse_list,
    preflight_cache_covers,
    preflight_cache_entries,
    preflight_check,
    preflight_request_headers,
    readable_headers,
    request_problem,
    unsafe_request_header_names,
)

ORIGIN = "https://app.example.com"
ACAO = ("Access-Control-Allow-Origin", ORIGIN)
ACAC = ("Access-Control-Allow-Credentials", "true")


def req(method: str = "GET", headers: list[tuple[str, str]] | None = None, credentials: bool = False,
        **kwargs: object) -> Request:
    return Request(origin=ORIGIN, method=method, headers=headers or [], credentials=credentials, **kwargs)  # type: ignore[arg-type]


# -- methods ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("given_method", "sent"), [
    ("get", "GET"), ("Put", "PUT"), ("delete", "DELETE"), ("options", "OPTIONS"),
    ("patch", "patch"), ("PATCH", "PATCH"), ("purge", "purge"),
], ids=lambda v: v)
def test_only_six_methods_are_upper_cased(given_method: str, sent: str) -> None:
    assert normalize_method(given_method) == sent
    assert req(given_method).method == sent


@pytest.mark.parametrize(("method", "safelisted"), [
    ("GET", True), ("HEAD", True), ("POST", True), ("PUT", False), ("get", False), ("OPTIONS", False),
], ids=lambda v: str(v))
def test_safelisted_methods_are_get_head_post_byte_for_byte(method: str, safelisted: bool) -> None:
    assert is_safelisted_method(method) is safelisted


# -- request headers ------------------------------------------------------------------------------

SAFELISTED = [
    ("accept", "Accept", "application/json, text/*;q=0.5", True),
    ("accept-unsafe-byte", "Accept", 'text/html; a="b"', False),
    ("accept-128-bytes", "Accept", "a" * 128, True),
    ("accept-129-bytes", "Accept", "a" * 129, False),
    ("accept-language", "Accept-Language", "en-GB,fr;q=0.5", True),
    ("accept-language-underscore", "Accept-Language", "en_US", False),
    ("content-language", "content-language", "de-DE", True),
    ("content-type-text-plain", "Content-Type", "text/plain", True),
    ("content-type-charset", "Content-Type", "text/plain;charset=UTF-8", True),
    ("content-type-upper-case", "Content-Type", "TEXT/PLAIN", True),
    ("content-type-form", "Content-Type", "application/x-www-form-urlencoded", True),
    ("content-type-multipart", "Content-Type", "multipart/form-data; boundary=x", True),
    ("content-type-json", "Content-Type", "application/json", False),
    ("content-type-quoted-param", "Content-Type", 'text/plain; charset="utf-8"', False),
    ("content-type-no-subtype", "Content-Type", "text/", False),
    ("content-type-no-slash", "Content-Type", "text", False),
    ("content-type-space-in-type", "Content-Type", "text /plain", False),
    ("content-type-trailing-space-subtype", "Content-Type", "text/plain ;x=y", True),
    ("range-start-end", "Range", "bytes=0-10", True),
    ("range-open-end", "Range", "bytes=5-", True),
    ("range-suffix", "Range", "bytes=-500", False),
    ("range-reversed", "Range", "bytes=10-0", False),
    ("range-whitespace", "Range", "bytes = 0-10", False),
    ("range-two-ranges", "Range", "bytes=0-1,3-4", False),
    ("range-other-unit", "Range", "items=0-10", False),
    ("x-token", "X-Token", "t", False),
    ("authorization", "Authorization", "Bearer t", False),
]


@pytest.mark.parametrize(("name", "value", "safelisted"), [row[1:] for row in SAFELISTED],
                         ids=[row[0] for row in SAFELISTED])
def test_safelisted_request_header(name: str, value: str, safelisted: bool) -> None:
    assert is_safelisted_request_header(name, value) is safelisted


@pytest.mark.parametrize(("name", "value", "forbidden"), [
    ("Cookie", "", True), ("origin", "", True), ("Host", "", True), ("Sec-Fetch-Mode", "", True),
    ("Proxy-Authorization", "", True), ("Content-Length", "", True), ("DNT", "", True),
    ("X-HTTP-Method-Override", "TRACE", True), ("X-Method-Override", "GET, connect", True),
    ("X-HTTP-Method-Override", "PUT", False), ("Authorization", "", False), ("Range", "", False),
], ids=lambda v: str(v) or "empty")
def test_forbidden_request_headers(name: str, value: str, forbidden: bool) -> None:
    assert is_forbidden_request_header(name, value) is forbidden


def test_unsafe_names_are_lower_case_sorted_and_unique() -> None:
    headers = [("X-Zed", "1"), ("x-alpha", "2"), ("X-ZED", "3"), ("Accept", "*/*")]
    assert unsafe_request_header_names(headers) == ("x-alpha", "x-zed")


def test_safelisted_values_over_1024_bytes_all_become_unsafe() -> None:
    headers = [("Accept", "a" * 128)] * 8 + [("Content-Language", "b")]  # 1025 bytes
    assert unsafe_request_header_names(headers) == ("accept", "content-language")


def test_safelisted_values_of_exactly_1024_bytes_stay_safe() -> None:
    assert unsafe_request_header_names([("Accept", "a" * 128)] * 8) == ()


def test_preflight_asks_for_names_joined_without_spaces() -> None:
    request = req("PUT", [("X-Token", "t"), ("Content-Type", "application/json")])
    assert access_control_request_headers(request) == "content-type,x-token"
    assert preflight_request_headers(request) == [
        ("Accept", "*/*"), ("Origin", ORIGIN), ("Access-Control-Request-Method", "PUT"),
        ("Access-Control-Request-Headers", "content-type,x-token"),
    ]


@pytest.mark.parametrize(("method", "headers", "preflight"), [
    ("GET", [], False),
    ("POST", [("Content-Type", "text/plain")], False),
    ("POST", [("Content-Type", "application/json")], True),
    ("PUT", [], True),
    ("GET", [("X-Token", "t")], True),
    ("GET", [("Cookie", "a=b")], False),
    ("GET", [("Range", "bytes=0-1")], False),
], ids=["get", "text-post", "json-post", "put", "custom-header", "forbidden-header-dropped", "range"])
def test_needs_preflight(method: str, headers: list[tuple[str, str]], preflight: bool) -> None:
    assert needs_preflight(req(method, headers)) is preflight


def test_same_origin_request_needs_no_preflight_and_is_allowed() -> None:
    request = req("PUT", url="https://app.example.com/api")
    assert not needs_preflight(request)
    assert evaluate(request, Response(200)).allowed


def test_forbidden_request_header_is_dropped_with_a_note() -> None:
    verdict = evaluate(req(headers=[("Cookie", "a=b")]), Response(200, [ACAO]))
    assert verdict.allowed
    assert any("`Cookie`" in note and "drops" in note for note in verdict.notes)


@pytest.mark.parametrize(("request_", "fragment"), [
    (Request(ORIGIN, "CONNECT"), "forbidden method"),
    (Request(ORIGIN, "trace"), "forbidden method"),
    (Request(ORIGIN, "GE T"), "not an HTTP token"),
    (Request(ORIGIN, headers=[("X Token", "t")]), "header name"),
    (Request(ORIGIN, headers=[("X-Token", "a\nb")]), "NUL, CR, LF"),
    (Request(ORIGIN, headers=[("X-Token", "é€")]), "above U+00FF"),
    (Request("https://App.example.com"), "browsers send `https://app.example.com`"),
    (Request("https://app.example.com/"), "not a serialized origin"),
    (Request("https://app.example.com:443"), "browsers send `https://app.example.com`"),
], ids=["connect", "trace-lower", "not-token", "bad-name", "newline", "non-latin1", "upper-origin",
        "slash-origin", "default-port"])
def test_requests_browsers_refuse_to_send(request_: Request, fragment: str) -> None:
    assert fragment in (request_problem(request_) or "")
    verdict = evaluate(request_, Response(200, [("Access-Control-Allow-Origin", "*")]))
    assert (verdict.allowed, verdict.step) == (False, "request")


@pytest.mark.parametrize("origin", ["null", "http://localhost:8080", "http://[::1]:8000", "https://xn--bcher-kva.example"])
def test_serialized_origins_are_accepted(origin: str) -> None:
    assert request_problem(Request(origin)) is None


def test_credentials_true_means_include() -> None:
    assert req(credentials=True).credentials == "include"
    assert req(credentials=False).credentials == "same-origin"
    with pytest.raises(ValueError, match="credentials"):
        Request(ORIGIN, credentials="always")  # type: ignore[arg-type]


# -- the CORS check ------------------------------------------------------------------------------

CORS_CHECK = [
    ("origin-echoed", False, [ACAO], None, None),
    ("star", False, [("Access-Control-Allow-Origin", "*")], None, None),
    ("name-any-case", False, [("access-control-allow-origin", ORIGIN)], None, None),
    ("missing", False, [], "cors-check", "no Access-Control-Allow-Origin"),
    ("twice", False, [ACAO, ACAO], "cors-check", "has 2 Access-Control-Allow-Origin values"),
    ("star-twice", False, [("Access-Control-Allow-Origin", "*")] * 2, "cors-check", "2 Access-Control-Allow-Origin values"),
    ("list", False, [("Access-Control-Allow-Origin", ORIGIN + ", https://b.example")], "cors-check", "is a list"),
    ("space-list", False, [("Access-Control-Allow-Origin", ORIGIN + " https://b.example")], "cors-check", "several origins"),
    ("trailing-slash", False, [("Access-Control-Allow-Origin", ORIGIN + "/")], "cors-check", "trailing slash"),
    ("upper-case", False, [("Access-Control-Allow-Origin", ORIGIN.upper())], "cors-check", "differs in case"),
    ("scheme", False, [("Access-Control-Allow-Origin", "http://app.example.com")], "cors-check", "scheme differs"),
    ("default-port", False, [("Access-Control-Allow-Origin", ORIGIN + ":443")], "cors-check", "port"),
    ("null", False, [("Access-Control-Allow-Origin", "null")], "cors-check", "`null`"),
    ("empty", False, [("Access-Control-Allow-Origin", "")], "cors-check", "is ``"),
    ("creds-ok", True, [ACAO, ACAC], None, None),
    ("creds-star", True, [("Access-Control-Allow-Origin", "*"), ACAC], "cors-check", "`*` cannot be used with credentials"),
    ("creds-no-acac", True, [ACAO], "cors-check", "no Access-Control-Allow-Credentials"),
    ("creds-acac-capitalised", True, [ACAO, ("Access-Control-Allow-Credentials", "True")], "cors-check", "exactly `true`"),
    ("creds-acac-twice", True, [ACAO, ACAC, ACAC], "cors-check", "exactly `true`"),
    ("creds-acac-false", True, [ACAO, ("Access-Control-Allow-Credentials", "false")], "cors-check", "not `true`"),
    ("no-creds-acac-ignored", False, [ACAO, ("Access-Control-Allow-Credentials", "nonsense")], None, None),
]


@pytest.mark.parametrize(("credentials", "headers", "step", "fragment"), [row[1:] for row in CORS_CHECK],
                         ids=[row[0] for row in CORS_CHECK])
def test_cors_check(credentials: bool, headers: list[tuple[str, str]], step: str | None, fragment: str | None) -> None:
    verdict = cors_check(req(credentials=credentials), headers)
    assert verdict.step == step
    assert verdict.allowed is (step is None)
    if fragment is not None:
        assert fragment in (verdict.reason or "")
        assert verdict.fix


def test_cors_check_ignores_the_status() -> None:
    assert evaluate(req(), Response(500, [ACAO])).allowed


def test_star_with_credentials_fix_says_echo_the_origin() -> None:
    verdict = cors_check(req(credentials=True), [("Access-Control-Allow-Origin", "*"), ACAC])
    assert "echo the origin" in (verdict.fix or "")


def test_reasons_escape_hostile_server_values() -> None:
    verdict = cors_check(req(), [("Access-Control-Allow-Origin", "https://x\x1b[31m`evil`\n")])
    assert "\x1b" not in (verdict.reason or "")
    assert "\\x1b" in (verdict.reason or "")


# -- the preflight -------------------------------------------------------------------------------

def pre(*headers: tuple[str, str], status: int = 204) -> Response:
    return Response(status, list(headers))


PREFLIGHT = [
    ("put-listed", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "GET, PUT")), None, None),
    ("status-200", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), status=200), None, None),
    ("status-299", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), status=299), None, None),
    ("status-404", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), status=404), "preflight-status", "404"),
    ("status-300", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), status=300), "preflight-status", "300"),
    ("status-199", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), status=199), "preflight-status", "199"),
    ("401-no-acao", "PUT", [], False, pre(status=401), "preflight-cors-check", "its status is 401"),
    ("no-acao", "PUT", [], False, pre(("Access-Control-Allow-Methods", "PUT")), "preflight-cors-check", "no Access-Control-Allow-Origin"),
    ("creds-no-acac", "PUT", [], True, pre(ACAO, ("Access-Control-Allow-Methods", "PUT")), "preflight-cors-check", "Access-Control-Allow-Credentials"),
    ("acam-not-a-list", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "PUT DELETE")), "preflight-parse", "Methods"),
    ("acah-not-a-list", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "a b")), "preflight-parse", "Headers"),
    ("acah-not-a-list-even-unused", "GET", [("X-A", "1")], False, pre(ACAO, ("Access-Control-Allow-Headers", "x-a, b(")), "preflight-parse", "Headers"),
    ("acam-empty-items", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", " , PUT,,")), None, None),
    ("acam-two-lines", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "GET"), ("Access-Control-Allow-Methods", "PUT")), None, None),
    ("put-not-listed", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "GET, DELETE")), "preflight-method", "`PUT` is not in"),
    ("no-acam", "PUT", [], False, pre(ACAO), "preflight-method", "no Access-Control-Allow-Methods"),
    ("acam-lower-case", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "put")), "preflight-method", "`PUT` is not in"),
    ("patch-listed-upper", "patch", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "PATCH")), "preflight-method", "`patch`"),
    ("patch-listed-lower", "patch", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "patch")), None, None),
    ("acam-star", "PUT", [], False, pre(ACAO, ("Access-Control-Allow-Methods", "*")), None, None),
    ("acam-star-creds", "PUT", [], True, pre(ACAO, ACAC, ("Access-Control-Allow-Methods", "*")), "preflight-method", "literal"),
    ("acam-star-creds-listed", "PUT", [], True, pre(ACAO, ACAC, ("Access-Control-Allow-Methods", "*, PUT")), None, None),
    ("safelisted-method-needs-no-acam", "POST", [("X-A", "1")], False, pre(ACAO, ("Access-Control-Allow-Headers", "x-a")), None, None),
    ("header-listed-any-case", "GET", [("X-Token", "t")], False, pre(ACAO, ("Access-Control-Allow-Headers", "X-TOKEN")), None, None),
    ("header-not-listed", "GET", [("X-Token", "t")], False, pre(ACAO, ("Access-Control-Allow-Headers", "content-type")), "preflight-headers", "`x-token` is not in Access-Control-Allow-Headers"),
    ("two-headers-not-listed", "GET", [("X-B", "1"), ("X-A", "1")], False, pre(ACAO), "preflight-headers", "`x-a`, `x-b` are not in"),
    ("header-star", "GET", [("X-Token", "t")], False, pre(ACAO, ("Access-Control-Allow-Headers", "*")), None, None),
    ("header-star-creds", "GET", [("X-Token", "t")], True, pre(ACAO, ACAC, ("Access-Control-Allow-Headers", "*")), "preflight-headers", "literal"),
    ("header-star-creds-listed", "GET", [("X-Token", "t")], True, pre(ACAO, ACAC, ("Access-Control-Allow-Headers", "*, x-token")), None, None),
    ("authorization-star", "GET", [("Authorization", "t")], False, pre(ACAO, ("Access-Control-Allow-Headers", "*")), "preflight-authorization", "`*` never covers Authorization"),
    ("authorization-listed", "GET", [("Authorization", "t")], False, pre(ACAO, ("Access-Control-Allow-Headers", "*, AUTHORIZATION")), None, None),
    ("authorization-not-listed", "GET", [("Authorization", "t")], False, pre(ACAO, ("Access-Control-Allow-Headers", "x-token")), "preflight-authorization", "`authorization` is not in"),
    ("authorization-checked-before-headers", "GET", [("Authorization", "t"), ("X-A", "1")], False, pre(ACAO), "preflight-authorization", "authorization"),
    ("method-checked-before-headers", "PUT", [("X-A", "1")], False, pre(ACAO), "preflight-method", "PUT"),
]


@pytest.mark.parametrize(("method", "headers", "credentials", "response", "step", "fragment"),
                         [row[1:] for row in PREFLIGHT], ids=[row[0] for row in PREFLIGHT])
def test_preflight_check(method: str, headers: list[tuple[str, str]], credentials: bool, response: Response,
                         step: str | None, fragment: str | None) -> None:
    verdict = preflight_check(req(method, headers, credentials), response)
    assert verdict.step == step, verdict
    assert verdict.allowed is (step is None)
    if fragment is not None:
        assert fragment in (verdict.reason or ""), verdict
        assert verdict.fix


def test_authorization_under_star_is_a_divergence_only_without_credentials() -> None:
    lenient = preflight_check(req(headers=[("Authorization", "t")]), pre(ACAO, ("Access-Control-Allow-Headers", "*")))
    strict = preflight_check(req(headers=[("Authorization", "t")], credentials=True),
                             pre(ACAO, ACAC, ("Access-Control-Allow-Headers", "*")))
    assert lenient.divergence == "authorization-covered-by-wildcard"
    assert any("AuthorizationCoveredByWildcard" in note for note in lenient.notes)
    assert strict.divergence is None


def test_authorization_divergence_is_dropped_when_the_actual_response_fails_too() -> None:
    request = req(headers=[("Authorization", "t")])
    preflight = pre(ACAO, ("Access-Control-Allow-Headers", "*"))
    assert evaluate(request, Response(200, [ACAO]), preflight=preflight).divergence == "authorization-covered-by-wildcard"
    assert evaluate(request, Response(200, []), preflight=preflight).divergence is None


def test_lower_case_method_note_explains_normalization() -> None:
    verdict = preflight_check(req("patch"), pre(ACAO, ("Access-Control-Allow-Methods", "PATCH")))
    assert any("case-sensitive" in note for note in verdict.notes)


def test_preflight_failure_stops_before_the_actual_response() -> None:
    verdict = evaluate(req("PUT"), Response(200, [ACAO]), preflight=pre(ACAO))
    assert verdict.step == "preflight-method"


def test_actual_response_is_checked_after_a_passing_preflight() -> None:
    verdict = evaluate(req("PUT"), Response(200, []), preflight=pre(ACAO, ("Access-Control-Allow-Methods", "PUT")))
    assert verdict.step == "cors-check"


def test_missing_preflight_is_taken_as_cached_with_a_note() -> None:
    verdict = evaluate(req("PUT"), Response(200, [ACAO]))
    assert verdict.allowed
    assert any("cached" in note for note in verdict.notes)


def test_403_refusal_fix_names_what_was_asked() -> None:
    verdict = preflight_check(req("PUT", [("X-Token", "t")]), pre(status=403))
    assert "method PUT and headers x-token" in (verdict.fix or "")


def test_echoed_origin_without_vary_gets_a_note() -> None:
    assert any("Vary: Origin" in n for n in evaluate(req(), Response(200, [ACAO])).notes)
    assert not evaluate(req(), Response(200, [ACAO, ("Vary", "Accept, origin")])).notes
    assert not evaluate(req(), Response(200, [("Access-Control-Allow-Origin", "*")])).notes


def test_every_step_code_is_documented() -> None:
    steps = {row[3] for row in CORS_CHECK} | {row[5] for row in PREFLIGHT} | {"request"}
    assert steps - {None} == set(STEPS)


# -- lists, max-age and the cache ----------------------------------------------------------------------

@pytest.mark.parametrize(("value", "parsed"), [
    (None, ()), ("", ()), ("GET", ("GET",)), ("GET, PUT", ("GET", "PUT")), (" a ,, b ,", ("a", "b")),
    ("\tx-a\t,x-b", ("x-a", "x-b")), ("GET PUT", None), ("a, b(", None), ("*", ("*",)), ("é", None),
], ids=lambda v: repr(v))
def test_parse_list(value: str | None, parsed: tuple[str, ...] | None) -> None:
    assert parse_list(value) == parsed


def test_get_header_combines_repeated_lines_with_comma_space() -> None:
    assert get_header([("A", "1"), ("b", "x"), ("a", "2")], "a") == "1, 2"
    assert get_header([], "a") is None


@pytest.mark.parametrize(("headers", "seconds"), [
    ([], 5), ([("Access-Control-Max-Age", "600")], 600), ([("Access-Control-Max-Age", "0")], 0),
    ([("Access-Control-Max-Age", "-1")], 5), ([("Access-Control-Max-Age", "600s")], 5),
    ([("Access-Control-Max-Age", "60"), ("Access-Control-Max-Age", "60")], 5),
    ([("Access-Control-Max-Age", "86400")], 86400),
], ids=["missing", "600", "zero", "negative", "suffix", "twice", "a-day"])
def test_max_age(headers: list[tuple[str, str]], seconds: int) -> None:
    assert max_age(headers) == seconds


def test_max_age_is_capped_by_the_browser() -> None:
    assert max_age([("Access-Control-Max-Age", "86400")], BROWSER_MAX_AGE_CAPS["chromium"]) == 7200


def test_passing_preflight_notes_its_cache_lifetime() -> None:
    verdict = preflight_check(req("PUT"), pre(ACAO, ("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Max-Age", "86400")))
    assert verdict.notes == ("this preflight answer is cached for 86400 s (Chromium caps it at 7200 s)",)


def test_cache_entries_are_keyed_by_origin_url_and_credentials() -> None:
    request = req("PUT", [("X-Token", "t")], url="https://api.example.com/a")
    response = pre(ACAO, ("Access-Control-Allow-Methods", "PUT, DELETE"), ("Access-Control-Allow-Headers", "X-Token"),
                   ("Access-Control-Max-Age", "600"))
    entries = preflight_cache_entries(request, response)
    assert entries == (
        CacheEntry(ORIGIN, "https://api.example.com/a", False, 600, method="PUT"),
        CacheEntry(ORIGIN, "https://api.example.com/a", False, 600, method="DELETE"),
        CacheEntry(ORIGIN, "https://api.example.com/a", False, 600, header_name="X-Token"),
    )
    assert preflight_cache_covers(entries, req("DELETE", [("x-token", "u")], url="https://api.example.com/a"))
    assert not preflight_cache_covers(entries, req("PATCH", url="https://api.example.com/a"))
    assert not preflight_cache_covers(entries, req("PUT", url="https://api.example.com/b"))
    assert not preflight_cache_covers(entries, req("PUT", [("X-Other", "1")], url="https://api.example.com/a"))


def test_credentialed_request_is_not_covered_by_an_uncredentialed_entry() -> None:
    url = "https://api.example.com/a"
    entries = preflight_cache_entries(req("PUT", url=url), pre(ACAO, ("Access-Control-Allow-Methods", "PUT")))
    assert preflight_cache_covers(entries, req("PUT", url=url))
    assert not preflight_cache_covers(entries, req("PUT", credentials=True, url=url))


def test_star_cache_entry_never_covers_authorization() -> None:
    url = "https://api.example.com/a"
    entries = preflight_cache_entries(req(headers=[("X-A", "1")], url=url), pre(ACAO, ("Access-Control-Allow-Headers", "*")))
    assert preflight_cache_covers(entries, req(headers=[("X-B", "1")], url=url))
    assert not preflight_cache_covers(entries, req(headers=[("Authorization", "t")], url=url))


def test_max_age_zero_caches_nothing() -> None:
    url = "https://api.example.com/a"
    entries = preflight_cache_entries(req("PUT", url=url), pre(ACAO, ("Access-Control-Allow-Methods", "PUT"),
                                                               ("Access-Control-Max-Age", "0")))
    assert not preflight_cache_covers(entries, req("PUT", url=url))


def test_failed_preflight_creates_no_cache_entries() -> None:
    assert preflight_cache_entries(req("PUT"), pre(ACAO)) == ()


# -- exposed headers --------------------------------------------------------------------------------------

RESPONSE = [("Content-Type", "text/plain"), ("X-Exposed", "1"), ("X-Hidden", "2"), ("Set-Cookie", "a=b"), ("Date", "d")]


@pytest.mark.parametrize(("aceh", "credentials", "readable"), [
    (None, False, {"content-type"}),
    ("X-Exposed", False, {"content-type", "x-exposed"}),
    ("x-exposed, set-cookie", False, {"content-type", "x-exposed"}),
    ("*", False, {"content-type", "x-exposed", "x-hidden", "date", "access-control-expose-headers"}),
    ("*", True, {"content-type"}),
    ("X-Exposed X-Hidden", False, {"content-type"}),
], ids=["none", "one", "never-set-cookie", "star", "star-with-credentials-is-literal", "not-a-list"])
def test_readable_headers(aceh: str | None, credentials: bool, readable: set[str]) -> None:
    headers = RESPONSE + ([("Access-Control-Expose-Headers", aceh)] if aceh else [])
    names = {name.lower() for name, _ in readable_headers(req(credentials=credentials), headers)}
    assert names == readable
    assert exposed_header_names(req(credentials=credentials), headers) >= readable - {"content-type"}


# -- properties ----------------------------------------------------------------------------------------------

@given(st.text())
def test_parse_list_never_raises_and_yields_tokens(value: str) -> None:
    parsed = parse_list(value)
    if parsed is not None:
        assert all(item and "," not in item and " " not in item for item in parsed)


@given(st.text(max_size=300), st.sampled_from(["Accept", "Accept-Language", "Content-Language", "Content-Type", "Range", "X-A"]))
def test_values_over_128_bytes_are_never_safelisted(value: str, name: str) -> None:
    if len(value.encode("latin-1", "replace")) > 128:
        assert not is_safelisted_request_header(name, value)


@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z-]{0,10}", fullmatch=True), st.text(max_size=200)), max_size=12))
def test_unsafe_names_are_always_sorted_lower_case_and_unique(headers: list[tuple[str, str]]) -> None:
    names = unsafe_request_header_names(headers)
    assert list(names) == sorted(set(names))
    assert all(name == name.lower() for name in names)


@given(st.lists(st.tuples(st.text(max_size=40), st.text(max_size=80)), max_size=8), st.booleans(), st.integers(0, 999))
def test_evaluate_never_raises_on_arbitrary_responses(headers: list[tuple[str, str]], credentials: bool, status: int) -> None:
    request = req("PUT", [("X-Token", "t")], credentials)
    verdict = evaluate(request, Response(status, headers), preflight=Response(status, headers))
    assert verdict.allowed or verdict.step in STEPS

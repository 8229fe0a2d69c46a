"""explain(): the browser's verdict on a request, and the rule of the policy that decided."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSMiddleware, CORSPolicy
from cors_wsgi.testing import browser_exchange
from tests.conftest import API, RecordingApp

POLICY = CORSPolicy(
    allow_origins=[API, "https://*.example.org", "http://localhost:*"],
    allow_origin_regex=r"https://pr-[0-9]+\.preview\.example\.net",
    allow_methods=["PUT"],
    allow_headers=["Content-Type"],
    allow_credentials=True,
)


@pytest.mark.parametrize(
    ("origin", "rule"),
    [(API, f"allow_origins entry '{API}'"),
     ("https://a.b.example.org", "allow_origins entry 'https://*.example.org'"),
     ("http://localhost:5173", "allow_origins entry 'http://localhost:*'"),
     ("https://pr-7.preview.example.net", r"allow_origin_regex 'https://pr-[0-9]+\\.preview\\.example\\.net'")],
    ids=["exact", "subdomain-wildcard", "port-wildcard", "regex"],
)
def test_allowed_origin_names_the_rule_that_allowed_it(origin: str, rule: str) -> None:
    result = POLICY.explain(origin)
    assert result.allowed
    assert result.rule == f"origin allowed by {rule}"
    assert result.refusal is None


def test_refused_origin_is_blocked_at_the_cors_check() -> None:
    result = POLICY.explain("https://evil.example")
    assert (result.allowed, result.verdict.step, result.refusal) == (False, "cors-check", "origin-not-allowed")
    assert result.rule.startswith("no rule allows the origin 'https://evil.example'")


def test_refused_method_names_the_allowed_methods() -> None:
    result = POLICY.explain(API, "DELETE")
    assert (result.allowed, result.refusal) == (False, "method-not-allowed")
    assert "allow_methods: PUT only" in result.rule


def test_refused_header_names_the_allowed_headers() -> None:
    result = POLICY.explain(API, "POST", headers={"X-Token": "t"})
    assert (result.allowed, result.refusal) == (False, "header-not-allowed")
    assert "allow_headers: content-type" in result.rule


def test_bare_header_names_are_accepted() -> None:
    assert POLICY.explain(API, "PUT", headers=["Content-Type"], credentials=True).allowed


def test_star_policy_blocks_credentialed_requests() -> None:
    result = CORSPolicy(allow_origins="*").explain(API, credentials=True)
    assert (result.allowed, result.verdict.step) == (False, "cors-check")
    assert result.rule == "origin allowed by allow_origins='*'"


def test_middleware_explain_applies_the_path_mapping() -> None:
    middleware = CORSMiddleware(RecordingApp(), {"/api/*": POLICY})
    assert middleware.explain(API, path="/api/items").path_pattern == "/api/*"
    uncovered = middleware.explain(API, path="/static/app.js")
    assert (uncovered.allowed, uncovered.refusal) == (False, "path-not-covered")
    assert "no path pattern covers '/static/app.js'" in uncovered.rule


def test_explain_never_calls_the_app_or_the_hook() -> None:
    app = RecordingApp()
    hooked: list[object] = []
    middleware = CORSMiddleware(app, POLICY, on_refusal=hooked.append)
    middleware.explain("https://evil.example", "DELETE")
    assert (app.calls, hooked) == (0, [])


CASES: list[tuple[str, dict[str, Any]]] = [
    (API, {}),
    (API, {"method": "PUT", "headers": [("Content-Type", "application/json")], "credentials": True}),
    (API, {"method": "PATCH"}),
    ("https://evil.example", {}),
    ("https://x.example.org", {"method": "PUT", "headers": [("X-Token", "t")]}),
    ("null", {}),
]


@pytest.mark.parametrize(("origin", "request_"), CASES)
def test_explain_agrees_with_a_real_exchange_against_the_wrapped_app(origin: str, request_: dict[str, Any]) -> None:
    wrapped = CORSMiddleware(RecordingApp(), POLICY)
    real = browser_exchange(wrapped, "/", origin=origin, **request_)
    explained = wrapped.explain(origin, **request_)
    assert (explained.allowed, explained.verdict.step) == (real.verdict.allowed, real.verdict.step)


def test_str_reads_the_verdict_and_the_rule() -> None:
    text = str(POLICY.explain(API, "DELETE"))
    assert text.startswith("blocked at step preflight-cors-check")
    assert "\nrule: origin allowed by" in text


def test_explain_writes_no_log_line_even_in_debug_mode(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    middleware = CORSMiddleware(RecordingApp(), POLICY, debug=True)
    with caplog.at_level(logging.DEBUG, logger="cors_wsgi"):
        middleware.explain("https://evil.example", "DELETE")
    assert caplog.records == []


def test_explain_without_a_path_explains_the_root() -> None:
    middleware = CORSMiddleware(RecordingApp(), {"/api/*": POLICY})
    assert "no path pattern covers '/'" in middleware.explain(API).rule


def test_explain_works_when_debug_was_set_to_a_truthy_non_bool_at_run_time() -> None:
    from cors_wsgi import CORSMiddleware, CORSPolicy

    middleware = CORSMiddleware(lambda e, s: [], CORSPolicy(allow_origins=["https://a.example.com"]))
    middleware.debug = 1  # type: ignore[assignment]
    assert middleware.explain("https://a.example.com").allowed


# -- fixes in configuration terms -------------------------------------------------------------

CORS_CHECK = "https://fetch.spec.whatwg.org/#cors-check"

NEAR_MISSES = [
    ("http://localhost:9110", "http://127.0.0.1:9110", "127.0.0.1 and localhost are different hosts"),
    ("http://127.0.0.1:9110", "http://localhost:9110", "localhost and 127.0.0.1 are different hosts"),
    ("http://localhost:9110", "http://[::1]:9110", "[::1] and localhost are different hosts"),
    ("http://[::1]:9110", "http://127.0.0.1:9110", "127.0.0.1 and [::1] are different hosts"),
    ("https://app.example.com", "http://app.example.com", "the scheme is http, not https"),
    ("http://app.example.com", "https://app.example.com", "the scheme is https, not http"),
    ("https://example.com", "https://www.example.com", "a www. prefix is added or removed"),
    ("https://www.example.com", "https://example.com", "a www. prefix is added or removed"),
    ("https://app.example.com:8443", "https://app.example.com:9443", "the port is 9443, not 8443"),
    ("https://app.example.com:8443", "https://app.example.com", "the port is the default, not 8443"),
    ("https://app.example.com", "https://app.example.com:8443", "the port is 8443, not the default"),
    ("https://app.example.com", "https://app.example.com.", "ends with a dot"),
    ("https://*.example.com", "https://example.com", "*.example.com covers the subdomains of example.com, not example.com itself"),
    ("https://*.example.com", "http://app.example.com", "the scheme is http, not https"),
    ("http://localhost:*", "http://127.0.0.1:5173", "127.0.0.1 and localhost are different hosts"),
]
NEAR_MISS_IDS = ["localhost-for-127", "127-for-localhost", "localhost-for-ipv6", "ipv6-for-127", "http-for-https",
                 "https-for-http", "www-added", "www-removed", "other-port", "default-port-for-explicit",
                 "explicit-port-for-default", "trailing-dot", "apex-of-wildcard", "scheme-of-wildcard",
                 "loopback-of-any-port"]


@pytest.mark.parametrize(("configured", "origin", "difference"), NEAR_MISSES, ids=NEAR_MISS_IDS)
def test_near_miss_fix_names_the_nearest_configured_origin(configured: str, origin: str, difference: str) -> None:
    result = CORSPolicy(allow_origins=[configured, "https://unrelated.example.net"]).explain(origin)
    assert (result.allowed, result.option, result.nearest_origin) == (False, "allow_origins", configured)
    fix = result.fix or ""
    assert fix.startswith(f"add '{origin}' to allow_origins (you allowed '{configured}'; ")
    assert difference in fix


def test_near_miss_fix_says_browsers_compare_the_serialized_origin_byte_for_byte() -> None:
    fix = CORSPolicy(allow_origins=["http://localhost:9110"]).explain("http://127.0.0.1:9110").fix or ""
    assert fix.startswith("add 'http://127.0.0.1:9110' to allow_origins (you allowed 'http://localhost:9110';")
    assert f"browsers compare the serialized origin byte for byte ({CORS_CHECK}), so these are different origins" in fix


@pytest.mark.parametrize("configured", [["http://localhost:8080", "http://127.0.0.1:8080"],
                                        ["http://127.0.0.1:8080", "http://localhost:8080"]], ids=["last", "first"])
def test_near_miss_prefers_the_entry_with_the_fewest_differences(configured: list[str]) -> None:
    policy = CORSPolicy(allow_origins=configured)
    assert policy.explain("http://127.0.0.1:9110").nearest_origin == "http://127.0.0.1:8080"


@pytest.mark.parametrize("origin", ["https://evil.example", "https://app.example.com.evil.example",
                                    "https://example.com.au"], ids=["unrelated", "suffix-trick", "other-tld"])
def test_an_origin_that_is_no_near_miss_names_no_configured_origin(origin: str) -> None:
    result = CORSPolicy(allow_origins=["https://app.example.com", "https://*.example.com"]).explain(origin)
    assert (result.option, result.nearest_origin) == ("allow_origins", None)
    assert result.fix == f"add '{origin}' to allow_origins"


labels = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True)
hosts = st.lists(labels, min_size=2, max_size=3).map(".".join).filter(lambda h: not h.startswith("www."))
ports = st.one_of(st.just(""), st.integers(1024, 65535).map(str))


@given(scheme=st.sampled_from(["http", "https"]), host=st.one_of(hosts, st.sampled_from(["localhost", "127.0.0.1", "[::1]"])),
       port=ports, data=st.data())
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_every_near_miss_variant_names_the_configured_origin(scheme: str, host: str, port: str, data: st.DataObject) -> None:
    configured = f"{scheme}://{host}{':' + port if port else ''}"
    other_scheme = "https" if scheme == "http" else "http"
    other_port = str(int(port or "80") % 60000 + 1024)
    loopback = ["localhost", "127.0.0.1", "[::1]"]
    variants = [f"{other_scheme}://{host}{':' + port if port else ''}", f"{scheme}://{host}:{other_port}"]
    if host in loopback:
        variants += [f"{scheme}://{h}{':' + port if port else ''}" for h in loopback if h != host]
    else:
        variants += [f"{scheme}://www.{host}{':' + port if port else ''}",
                     f"{scheme}://{host}.{':' + port if port else ''}"]
    origin = data.draw(st.sampled_from(variants))
    assume(origin != "http://localhost")  # explain() requests http://localhost/: same-origin, no CORS check
    result = CORSPolicy(allow_origins=[configured, "https://unrelated.example.net"]).explain(origin)
    assert result.nearest_origin == configured
    assert f"you allowed '{configured}'" in (result.fix or "")


def test_near_miss_of_a_regex_names_the_regex() -> None:
    result = CORSPolicy(allow_origin_regex=r"https://pr-[0-9]+\.example\.com").explain("http://pr-1.example.com")
    assert (result.option, result.nearest_origin) == ("allow_origin_regex", r"https://pr-[0-9]+\.example\.com")
    assert "the regex matches 'https://pr-1.example.com'; the scheme is http, not https" in (result.fix or "")


def test_refused_origin_under_a_predicate_names_the_predicate() -> None:
    policy = CORSPolicy(allow_origins=["https://app.example.com"], allow_origin_predicate=lambda origin: False)
    result = policy.explain("https://b.example.net")
    assert result.option == "allow_origin_predicate"
    assert result.fix == ("make allow_origin_predicate return True for 'https://b.example.net' (it returned "
                          "False), or add 'https://b.example.net' to allow_origins")


def test_null_origin_fix_names_no_option() -> None:
    result = CORSPolicy(allow_origins=[API]).explain("null")
    assert (result.allowed, result.option) == (False, None)
    assert (result.fix or "").startswith("no option allows the origin 'null'")


def test_refused_method_fix_adds_it_to_allow_methods() -> None:
    result = POLICY.explain(API, "DELETE")
    assert (result.option, result.fix) == ("allow_methods", "add 'DELETE' to allow_methods")


def test_refused_lower_case_method_fix_says_methods_are_case_sensitive() -> None:
    result = CORSPolicy(allow_origins=[API], allow_methods=["PATCH"]).explain(API, "patch")
    assert (result.fix or "").startswith("add 'patch' to allow_methods (methods are case-sensitive")


def test_refused_header_fix_adds_it_to_allow_headers_as_the_script_spells_it() -> None:
    result = POLICY.explain(API, "PUT", headers={"X-Token": "t", "Content-Type": "application/json"})
    assert (result.option, result.fix) == ("allow_headers", "add 'X-Token' to allow_headers")


def test_refused_headers_fix_lists_every_missing_one() -> None:
    result = POLICY.explain(API, "PUT", headers={"X-B": "1", "X-A": "2"})
    assert result.fix == "add 'X-A', 'X-B' to allow_headers"


def test_authorization_under_star_fix_lists_it_by_name() -> None:
    result = CORSPolicy(allow_origins=[API], allow_headers="*").explain(API, headers={"Authorization": "Bearer t"})
    assert result.option == "allow_headers"
    assert (result.fix or "").startswith("add 'Authorization' to allow_headers by name: '*' never covers Authorization")


def test_credentialed_request_fix_sets_allow_credentials() -> None:
    result = CORSPolicy(allow_origins=[API]).explain(API, credentials=True)
    assert (result.allowed, result.option) == (False, "allow_credentials")
    assert (result.fix or "").startswith("set allow_credentials=True")


def test_credentialed_request_under_star_fix_says_star_cannot_be_used_with_credentials() -> None:
    result = CORSPolicy(allow_origins="*").explain(API, credentials=True)
    assert result.option == "allow_origins"
    assert (result.fix or "").startswith("'*' cannot be used with credentials: list the origins you trust")


def test_fix_under_a_path_mapping_names_the_policy_of_the_pattern() -> None:
    middleware = CORSMiddleware(RecordingApp(), {"/api/*": POLICY, "/static/*": CORSPolicy(allow_origins="*")})
    result = middleware.explain(API, "DELETE", path="/api/items")
    assert result.fix == "add 'DELETE' to allow_methods in the policy for '/api/*'"


def test_near_miss_under_a_path_mapping_names_the_policy_of_the_pattern() -> None:
    middleware = CORSMiddleware(RecordingApp(), {"/api/*": CORSPolicy(allow_origins=["http://localhost:9110"])})
    result = middleware.explain("http://127.0.0.1:9110", path="/api/items")
    assert (result.fix or "").startswith("add 'http://127.0.0.1:9110' to allow_origins in the policy for '/api/*' "
                                         "(you allowed 'http://localhost:9110';")


def test_uncovered_path_fix_asks_for_a_pattern_that_covers_it() -> None:
    result = CORSMiddleware(RecordingApp(), {"/api/*": POLICY}).explain(API, path="/static/app.js")
    assert result.option == "paths"
    assert (result.fix or "").startswith("map a path pattern that covers '/static/app.js' to a policy")


def test_uncovered_path_is_escaped_in_the_fix() -> None:
    result = CORSMiddleware(RecordingApp(), {"/api/*": POLICY}).explain(API, path="/x\x1b[2J\u202e")
    assert "'/x\\x1b[2J\\u202e'" in (result.fix or "")
    assert "\x1b" not in (result.fix or "")


def test_allowed_request_has_no_fix() -> None:
    result = POLICY.explain(API)
    assert (result.allowed, result.fix, result.option) == (True, None, None)


def test_a_request_the_browser_would_not_send_gets_the_verdicts_fix() -> None:
    result = POLICY.explain("https://App.example.com")
    assert (result.verdict.step, result.option, result.fix) == ("request", None, result.verdict.fix)


def test_a_forbidden_method_is_never_to_be_added_to_allow_methods() -> None:
    result = POLICY.explain(API, "TRACE")
    assert (result.allowed, result.option) == (False, None)


def test_str_prints_the_rule_before_any_fix() -> None:
    lines = str(CORSPolicy(allow_origins=["http://localhost:9110"]).explain("http://127.0.0.1:9110")).splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["blocked at step cors-check", "rule", "fix", "in HTTP terms"]
    assert lines[2].startswith("fix: add 'http://127.0.0.1:9110' to allow_origins")


READER = CORSPolicy(allow_origins=["https://app.example.com"], expose_headers=["X-Total"])


def test_a_read_header_that_is_not_exposed_is_fixed_in_expose_headers() -> None:
    explanation = READER.explain("https://app.example.com", read_headers=["X-Request-Id"])
    assert explanation.allowed
    assert (explanation.option, explanation.fix) == (
        "expose_headers",
        "add 'X-Request-Id' to expose_headers (a script sees only the CORS-safelisted response headers "
        "and the exposed ones)",
    )
    assert any("response.headers hides 'X-Request-Id'" in note for note in explanation.verdict.notes)


@pytest.mark.parametrize("names", [["X-Total"], ["x-total"], ["Content-Type", "Cache-Control"], []])
def test_exposed_or_safelisted_read_headers_need_no_fix(names: list[str]) -> None:
    explanation = READER.explain("https://app.example.com", read_headers=names)
    assert (explanation.fix, explanation.option) == (None, None)


def test_read_headers_fix_names_the_path_pattern_of_a_mapping() -> None:
    middleware = CORSMiddleware(RecordingApp(), {"/api/*": READER})
    explanation = middleware.explain("https://app.example.com", path="/api/items", read_headers=["X-Request-Id"])
    assert explanation.fix is not None
    assert "to expose_headers in the policy for '/api/*'" in explanation.fix


def test_read_headers_of_a_blocked_request_leave_the_blocking_fix() -> None:
    explanation = READER.explain("https://evil.example", read_headers=["X-Request-Id"])
    assert explanation.option == "allow_origins"

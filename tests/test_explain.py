"""explain(): the browser's verdict on a request, and the rule of the policy that decided."""

from __future__ import annotations

from typing import Any

import pytest

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

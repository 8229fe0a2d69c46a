"""One named regression test per published advisory in a peer CORS library."""

from __future__ import annotations

from typing import Any

import pytest

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy, HostGuard, WebSocketOriginGuard
from tests.conftest import RecordingApp, StartResponse


def response_headers(app: Any, origin: str | None, **extra: str) -> list[tuple[str, str]]:
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", **extra}
    if origin is not None:
        environ["HTTP_ORIGIN"] = origin
    start_response = StartResponse()
    app(environ, start_response)
    (headers,) = start_response.headers
    return headers


def acao(headers: list[tuple[str, str]]) -> list[str]:
    return [v for n, v in headers if n.lower() == "access-control-allow-origin"]


def test_hono_cve_2026_54290_wildcard_with_credentials_never_reflects() -> None:
    """Hono CVE-2026-54290: ``origin: "*"`` with credentials reflected any origin."""
    with pytest.raises(CORSConfigError) as raised:
        CORSPolicy(allow_origins="*", allow_credentials=True)
    assert raised.value.codes == ["wildcard-origin-with-credentials"]
    # A predicate or regex that trusts everyone is no way around it.
    with pytest.raises(CORSConfigError) as raised:
        CORSPolicy(allow_origin_predicate=lambda origin: True, allow_credentials=True)
    assert "predicate-trusts-strangers" in raised.value.codes
    with pytest.raises(CORSConfigError) as raised:
        CORSPolicy(allow_origin_regex=r"https?://.*", allow_credentials=True)
    assert "regex-too-broad" in raised.value.codes
    # What is allowed with credentials answers the one origin, never '*'.
    policy = CORSPolicy(allow_origin_regex=r"https://[a-z]+\.example\.com", allow_credentials=True)
    app = CORSMiddleware(RecordingApp(), policy)
    for origin in ("https://app.example.com", "https://evil.example", "null", None):
        headers = response_headers(app, origin)
        assert "*" not in acao(headers)
        if origin == "https://app.example.com":
            assert acao(headers) == [origin]
            assert ("Access-Control-Allow-Credentials", "true") in headers
        else:
            assert acao(headers) == []


@pytest.mark.parametrize("origin", [
    "HTTPS://APP.example.com", "https://APP.example.com", "https://app.EXAMPLE.com", "https://app.example.com.",
    "https://app.example.com:443", "https://.example.com", "https://..example.com", "https://example.com",
])
def test_gofiber_pr_4438_4455_unnormalised_origins_and_empty_wildcard_labels_never_match(origin: str) -> None:
    """gofiber PR#4438/#4455: case-folded origins matched, and ``*.`` matched an empty label."""
    policy = CORSPolicy(allow_origins="https://*.example.com", allow_credentials=True)
    assert not policy.allows_origin(origin)
    assert acao(response_headers(CORSMiddleware(RecordingApp(), policy), origin)) == []
    assert policy.allows_origin("https://app.example.com")


def test_orpc_pr_1993_timing_allow_origin_echoed_per_origin_always_varies_by_origin() -> None:
    """orpc PR#1993: an echoed Timing-Allow-Origin without ``Vary: Origin`` let a cache
    hand one origin's answer to another."""
    policy = CORSPolicy(allow_origins=["https://a.example", "https://b.example"], timing_allow_origin=True)
    plain = CORSMiddleware(RecordingApp(), policy)
    with_vary = CORSMiddleware(RecordingApp(headers=[("Vary", "Accept-Encoding"), ("X-Custom", "1")]), policy)
    for app in (plain, with_vary):
        for origin in ("https://a.example", "https://b.example"):
            headers = response_headers(app, origin)
            assert [v for n, v in headers if n == "Timing-Allow-Origin"] == [origin]
            vary = ", ".join(v for n, v in headers if n.lower() == "vary")
            assert "origin" in [token.strip().lower() for token in vary.split(",")]
        assert [n for n, _ in response_headers(app, "https://c.example") if n == "Timing-Allow-Origin"] == []


def test_userinfo_origin_http_evil_at_good_example_is_never_allowed() -> None:
    """``Origin: http://evil@good.example`` (a prefix/``@`` confusion in hand-written matchers)."""
    evil = "http://evil@good.example"
    policy = CORSPolicy(allow_origins=["http://good.example", "http://*.good.example"])
    assert not policy.allows_origin(evil)
    assert acao(response_headers(CORSMiddleware(RecordingApp(), policy), evil)) == []
    guard = HostGuard(RecordingApp(), allowed_hosts=["good.example"], allowed_origins=["http://good.example"])
    assert not guard.allows_origin(evil)
    sockets = WebSocketOriginGuard(RecordingApp(), policy=policy)
    assert not sockets.allows_origin(evil)

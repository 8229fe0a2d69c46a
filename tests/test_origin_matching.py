"""Which request origins each kind of pattern allows, byte for byte."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSPolicy

POLICY = CORSPolicy(
    allow_origins=[
        "https://app.example.com",
        "https://*.example.org",
        "http://localhost:*",
        "https://*.example.net:*",
        "http://[::1]:*",
        "chrome-extension://abcdefghijklmnop",
    ],
    allow_origin_regex=r"https://pr-[0-9]+\.preview\.example\.dev",
)

MATCHES = [
    ("https://app.example.com", True, "exact"),
    ("https://App.example.com", False, "exact-is-case-sensitive"),
    ("https://app.example.com/", False, "trailing-slash"),
    ("https://app.example.com:443", False, "explicit-default-port"),
    ("http://app.example.com", False, "other-scheme"),
    ("https://app.example.com.evil.net", False, "suffix-attack"),
    ("https://evilapp.example.com", False, "prefix-attack"),
    ("https://a.example.org", True, "wildcard-one-label"),
    ("https://a.b.example.org", True, "wildcard-two-labels"),
    ("https://example.org", False, "wildcard-not-the-base"),
    ("https://.example.org", False, "wildcard-empty-label"),
    ("https://a..example.org", False, "wildcard-inner-empty-label"),
    ("https://evilexample.org", False, "wildcard-glued"),
    ("http://a.example.org", False, "wildcard-other-scheme"),
    ("https://a.example.org:8443", False, "wildcard-other-port"),
    ("https://A.example.org", False, "wildcard-upper-case"),
    ("https://a b.example.org", False, "wildcard-whitespace"),
    ("https://a,https://b.example.org", False, "wildcard-comma"),
    ("https://a.example.org/x", False, "wildcard-path"),
    ("http://localhost", True, "any-port-none"),
    ("http://localhost:3000", True, "any-port-3000"),
    ("http://localhost:65535", True, "any-port-max"),
    ("http://localhost:65536", False, "any-port-out-of-range"),
    ("http://localhost:03000", False, "any-port-leading-zero"),
    ("http://localhost:", False, "any-port-empty"),
    ("http://sub.localhost:3000", False, "any-port-not-subdomains"),
    ("https://localhost:3000", False, "any-port-other-scheme"),
    ("https://a.example.net", True, "both-wildcards-no-port"),
    ("https://a.b.example.net:9000", True, "both-wildcards-port"),
    ("https://example.net:9000", False, "both-wildcards-not-base"),
    ("http://[::1]:8080", True, "ipv6-any-port"),
    ("chrome-extension://abcdefghijklmnop", True, "custom-scheme"),
    ("https://pr-42.preview.example.dev", True, "regex"),
    ("https://pr-42.preview.example.dev.evil.net", False, "regex-is-full-match"),
    ("https://pr-x.preview.example.dev", False, "regex-no-match"),
    ("null", False, "null"),
    ("", False, "empty"),
    ("*", False, "star"),
    ("https://app.example.com, https://evil.net", False, "two-origins-joined"),
    ("https://app.example.com\r\nX-Evil: 1", False, "header-injection"),
]


@pytest.mark.parametrize(("origin", "allowed"), [pytest.param(o, a, id=i) for o, a, i in MATCHES])
def test_origin_pattern_matching(origin: str, allowed: bool) -> None:
    assert POLICY.allows_origin(origin) is allowed


def test_null_is_never_matched_by_a_permissive_regex() -> None:
    policy = CORSPolicy(allow_origin_regex=".*")
    assert not policy.allows_origin("null")


def test_malformed_origin_is_never_matched_by_a_permissive_regex() -> None:
    policy = CORSPolicy(allow_origin_regex=".*")
    assert not policy.allows_origin("https://a.example.com/path")


def test_overlong_origin_is_not_parsed_or_allowed() -> None:
    policy = CORSPolicy(allow_origins="https://*.example.com")
    assert not policy.allows_origin("https://" + "a." * 300 + "example.com")


def test_allow_all_allows_null() -> None:
    assert CORSPolicy(allow_origins="*").allows_origin("null")


def test_repeated_origins_get_the_same_verdict() -> None:
    policy = CORSPolicy(allow_origins="https://*.example.com")
    for _ in range(3):
        assert policy.allows_origin("https://a.example.com")
        assert not policy.allows_origin("https://a.example.net")


def test_matcher_keeps_no_state_between_requests() -> None:
    # The matcher is a pure function of the policy: the engine's two answer
    # caches are the only per-request memory.
    policy = CORSPolicy(allow_origins="https://*.example.com")
    matcher = policy.engine.matcher
    before = [getattr(matcher, slot) for slot in matcher.__slots__]
    for i in range(3000):
        policy.allows_origin(f"https://x{i}.attacker.invalid")
    assert [getattr(matcher, slot) for slot in matcher.__slots__] == before
    assert all(isinstance(value, frozenset | tuple | bool) for value in before)
    assert policy.allows_origin("https://b.example.com")


# == The wildcard search without a regex, against the regex it replaced ============

_SHAPE_POLICIES = [
    POLICY,
    CORSPolicy(allow_origins=["https://*.a.example.com", "https://*.example.com:8443",
                              "http://*.example.com:*", "https://host.example.io:*"]),
    CORSPolicy(allow_origins=["https://*.example.org"], allow_origin_regex=r"https?://[a-z.:0-9]+"),
    CORSPolicy(allow_origins=["http://localhost.:*", "https://*.example.com"]),
]


def _regex_reference(matcher: Any, origin: str) -> tuple[str, str, str, str] | None:
    """The search as it was: the whole origin through ``_ORIGIN_SHAPE`` first."""
    from cors_wsgi._protocol import ORIGIN_SHAPE

    shape = ORIGIN_SHAPE.fullmatch(origin)
    if shape is None:
        return None
    scheme, host, port = shape.group(1, 2, 3)
    if port is not None and int(port) > 65535:
        return None
    if (scheme, host) in matcher._any_port:
        return ("any-port", scheme, host, "")
    port_key = port or ""
    dot = host.find(".")
    while dot != -1:
        base = host[dot + 1 :]
        if (scheme, base, port_key) in matcher._sub:
            return ("subdomains", scheme, base, port_key)
        if (scheme, base) in matcher._sub_any_port:
            return ("subdomains-any-port", scheme, base, "")
        dot = host.find(".", dot + 1)
    for fullmatch, source in matcher._regexes:
        if fullmatch(origin) is not None:
            return ("regex", "", source, "")
    return None


_PIECES = st.sampled_from([
    "a", "b.", ".", "..", "A", "-", "_", "x-y", "é", "@", "/", "#", "?", "%2e", " ", "\t", "[", "]", "::1",
    "a.example.com", "example.com", "example.org", "example.net", "a.example.com.", "host.example.io",
    "localhost", "localhost.", "preview", "pr-1.preview.example.dev",
])
_ORIGIN_LIKE = st.builds(
    lambda scheme, labels, base, port: f"{scheme}{''.join(labels)}{base}{port}",
    st.sampled_from(["https://", "http://", "HTTPS://", "https:/", "", "chrome-extension://", "https://["]),
    st.lists(_PIECES, max_size=4),
    st.sampled_from(["", ".example.com", ".a.example.com", ".example.org", ".example.net", "example.com",
                     ".host.example.io", "host.example.io", "::1]", ".example.com."]),
    st.sampled_from(["", ":", ":0", ":01", ":1", ":443", ":8443", ":65535", ":65536", ":99999", ":123456",
                     ":\uff18", ":1a", ":-1", "/", ":443/x"]),
)


@settings(max_examples=3000, deadline=None)
@given(origin=st.one_of(_ORIGIN_LIKE, st.text(max_size=40)), which=st.integers(0, len(_SHAPE_POLICIES) - 1))
def test_wildcard_search_agrees_with_the_whole_origin_regex(origin: str, which: int) -> None:
    matcher = _SHAPE_POLICIES[which].engine.matcher
    assert matcher._match_patterns(origin) == _regex_reference(matcher, origin)


def test_any_port_rule_with_a_trailing_dot_host_never_matches_as_before() -> None:
    # _ORIGIN_SHAPE has no trailing-dot hosts: only an exact entry matches one.
    matcher = CORSPolicy(allow_origins=["http://localhost.:*"]).engine.matcher
    assert not matcher.matches("http://localhost.:8080")

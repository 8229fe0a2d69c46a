"""Property-based: the policy allows exactly the configured origins and patterns.

Origins are generated from their parts (scheme, labels, port), so what the
policy should say is computed from the parts, never by parsing the string
the way the middleware does.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from cors_wsgi import CORSPolicy

EXACT = frozenset({"https://app.example.com", "http://localhost:3000", "https://example.org"})
POLICY = CORSPolicy(
    allow_origins=[*sorted(EXACT), "https://*.example.org", "http://localhost:*"],
)

schemes = st.sampled_from(["https", "http", "wss", "ftp", "chrome-extension"])
labels = st.one_of(
    st.sampled_from(["app", "example", "org", "com", "localhost", "evil", "a", "xn--bcher-kva", "www"]),
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}", fullmatch=True),
)
# Hosts under the configured bases are generated as often as random ones, so
# wildcard patterns meet every scheme and port.
hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=5),
    st.lists(labels, max_size=3).map(lambda h: [*h, "example", "org"]),
    st.lists(labels, max_size=2).map(lambda h: [*h, "localhost"]),
)
ports = st.one_of(st.none(), st.integers(min_value=1, max_value=65535))


def serialize(scheme: str, host: list[str], port: int | None) -> str:
    return f"{scheme}://{'.'.join(host)}{'' if port is None else f':{port}'}"


def expected(scheme: str, host: list[str], port: int | None) -> bool:
    origin = serialize(scheme, host, port)
    if origin in EXACT:
        return True
    if scheme == "https" and port is None and len(host) >= 3 and host[-2:] == ["example", "org"]:
        return True
    return scheme == "http" and host == ["localhost"]


@given(schemes, hosts, ports)
@example("https", ["evilexample", "org"], None)
@example("https", ["example", "org", "evil", "com"], None)
@example("http", ["localhost"], 0 + 8080)
def test_structured_origin_allowed_exactly_when_configured(scheme: str, host: list[str], port: int | None) -> None:
    assert POLICY.allows_origin(serialize(scheme, host, port)) is expected(scheme, host, port)


@given(st.lists(labels, min_size=1, max_size=4))
def test_every_subdomain_of_a_wildcard_is_allowed(sub: list[str]) -> None:
    assert POLICY.allows_origin(f"https://{'.'.join(sub)}.example.org")


@given(st.lists(labels, min_size=1, max_size=4), st.integers(min_value=1, max_value=65535))
def test_subdomain_wildcard_without_port_allows_no_port(sub: list[str], port: int) -> None:
    assert not POLICY.allows_origin(f"https://{'.'.join(sub)}.example.org:{port}")


@given(st.integers(min_value=1, max_value=65535))
def test_every_port_of_an_any_port_pattern_is_allowed(port: int) -> None:
    assert POLICY.allows_origin(f"http://localhost:{port}")


EXACT_ONLY = CORSPolicy(allow_origins=sorted(EXACT))


@given(st.sampled_from(sorted(EXACT)), st.text(min_size=1, max_size=8))
@example("https://example.org", ".evil.net")
@example("https://app.example.com", "/")
def test_nothing_appended_to_an_exact_origin_is_allowed(origin: str, suffix: str) -> None:
    assert not EXACT_ONLY.allows_origin(origin + suffix)


@given(st.sampled_from(sorted(EXACT)), st.text(min_size=1, max_size=8))
def test_nothing_prepended_to_an_exact_origin_is_allowed(origin: str, prefix: str) -> None:
    assert not EXACT_ONLY.allows_origin(prefix + origin)


origin_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"(https?|wss)://([a-z0-9-]{1,8}\.){0,3}(example\.(org|com)|localhost)(:[0-9]{1,5})?", fullmatch=True),
)


@given(origin_like)
@example("https://a.example.org")
@example("http://localhost:3000")
@example("http://localhost:65535")
def test_arbitrary_text_is_allowed_only_if_it_is_a_configured_origin(text: str) -> None:
    if POLICY.allows_origin(text):
        scheme, _, rest = text.partition("://")
        host, _, port = rest.partition(":")
        parts = host.split(".")
        assert serialize(scheme, parts, int(port) if port else None) == text
        assert expected(scheme, parts, int(port) if port else None)
    else:
        assert text not in EXACT

"""One origin serializer for the policy, the engine and cors_wsgi.fetch: what it
accepts is what a browser sends (URL Standard host parsing, Fetch's serialized origin)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cors_wsgi import CORSConfigError, CORSPolicy
from cors_wsgi._host import HostError, serialize_origin


@pytest.mark.parametrize(
    ("written", "serialized"),
    [
        ("https://[1:2:3:4:5:6:7:8]", "https://[1:2:3:4:5:6:7:8]"),  # no run of zeros to compress
        ("https://[0:0:0:0:0:0:0:1]:443", "https://[::1]"),
        ("HTTPS://Bücher.Example:443", "https://xn--bcher-kva.example"),
        ("foo://Ex-Ample", "foo://ex-ample"),  # a non-special scheme's host is only lower-cased
        ("http://127.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_origin_is_serialized_as_a_browser_serializes_it(written: str, serialized: str) -> None:
    assert serialize_origin(written) == serialized


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("https://[::1", "origin-not-serialized"),
        ("https://[::1]x", "origin-not-serialized"),
        ("https://[fe80::1%eth0]", "invalid-host"),
        ("https://.", "origin-not-serialized"),
        ("https://", "origin-not-serialized"),
        ("foo://ex ample", "origin-not-serialized"),
        ("https://xn--7ba", "invalid-host"),  # decodes to 'Ä', which UTS 46 maps to 'ä'
        ("https://a.example:0", "bad-port"),
        ("https://user@a.example", "origin-not-serialized"),
    ],
)
def test_origin_no_browser_sends_is_refused_with_its_code(written: str, code: str) -> None:
    with pytest.raises(HostError) as caught:
        serialize_origin(written)
    assert caught.value.code == code


ORIGIN_LIKE = st.builds(
    "{}://{}{}".format,
    st.sampled_from(["http", "https", "HTTP", "ws", "foo"]),
    st.text(st.sampled_from("aAü0123456789.-:[]%xn"), min_size=0, max_size=24),
    st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999"]),
)


@given(written=ORIGIN_LIKE)
def test_serializing_a_serialized_origin_changes_nothing(written: str) -> None:
    try:
        serialized = serialize_origin(written)
    except HostError:
        return
    assert serialize_origin(serialized) == serialized


@given(written=ORIGIN_LIKE.filter(lambda o: o.startswith(("http://", "https://"))))
def test_policy_accepts_exactly_the_serialized_origins(written: str) -> None:
    try:
        serialized = serialize_origin(written)
    except HostError:
        serialized = None
    try:
        CORSPolicy(allow_origins=[written])
    except CORSConfigError:
        accepted = False
    else:
        accepted = True
    # A serialized origin is accepted as written; anything else is refused.
    assert accepted == (serialized == written)

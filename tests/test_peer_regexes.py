"""Regexes written for flask-cors and django-cors-headers: accepted when
they are safe, refused with a pointer when they are in the wrong place."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy
from cors_wsgi._host import is_public_suffix
from cors_wsgi._protocol import MAX_ORIGIN_LENGTH, ORIGIN_SHAPE
from tests.test_attacks import DOMAIN, LABEL, codes

#: A registrable domain (``x0.com`` is a public suffix: subdomains of one are refused).
OWN_DOMAIN = DOMAIN.filter(lambda d: not is_public_suffix(d))

#: flask-cors' own tests (tests/decorator/test_origins.py) and
#: django-cors-headers' README.
FLASK_CORS_REGEX = r"http?://\w*\.?example\.com:?\d*/?.*"
DJANGO_REGEX = r"^https://\w+\.example\.com$"


def test_anchors_at_each_end_of_each_alternative_are_accepted() -> None:
    source = r"^https://\w+\.example\.org$|^https://\w+\.example\.com$"
    assert codes(allow_origin_regex=source, allow_credentials=True) == []


@pytest.mark.parametrize("source", [DJANGO_REGEX, r"^https://\w+\.example\.(com|org)$"])
def test_django_cors_headers_documented_regex_is_accepted_with_credentials(source: str) -> None:
    assert codes(allow_origin_regex=source, allow_credentials=True) == []


@pytest.mark.parametrize("source", [FLASK_CORS_REGEX, r".*.example.com", r".*"])
def test_flask_cors_documented_regex_is_accepted_without_credentials(source: str) -> None:
    assert codes(allow_origin_regex=source) == []


def test_flask_cors_regex_with_credentials_is_refused_as_too_broad_not_as_slow() -> None:
    assert codes(allow_origin_regex=FLASK_CORS_REGEX, allow_credentials=True) == ["regex-too-broad"]


@pytest.mark.parametrize(
    "source",
    [r"https://a\.com$|x^y", r"https://(a\.com$)+", r"https://a$\.com", r"(^https://a\.com)+",
     r"https://a\.com(^|x)"],
)
def test_anchors_anywhere_else_are_refused(source: str) -> None:
    assert codes(allow_origin_regex=source) == ["regex-unsupported"]


@pytest.mark.parametrize(
    "source",
    [r"https://a.*?\d*", r"https://a[0-9]*.*x", r"https://(a.*)+\d*x", r"https://[a-z.]*\d*[a-z.]*"],
    ids=["lazy-tail", "tail-not-final", "tail-repeated", "no-full-class"],
)
def test_only_a_greedy_final_loop_over_every_origin_character_ends_the_search(source: str) -> None:
    assert "regex-backtracking" in codes(allow_origin_regex=source)


@st.composite
def anchored_alternatives(draw: st.DrawFn) -> list[str]:
    """Tight regexes for hosts under generated domains, one per alternative."""
    shapes = [r"[a-z0-9]+\.{d}", r"{l}\.{d}", r"([a-z0-9-]+\.)*{d}", r"\w+\.{d}", r"{l}\.{d}(:[0-9]+)?"]
    return [
        "https://" + draw(st.sampled_from(shapes)).format(l=draw(LABEL), d=re.escape(draw(OWN_DOMAIN)))
        for _ in range(draw(st.integers(1, 4)))
    ]


@settings(max_examples=60, deadline=None)
@given(parts=anchored_alternatives(), data=st.data())
def test_generated_anchored_alternatives_are_accepted_and_match_as_the_unanchored_form(
    parts: list[str], data: st.DataObject
) -> None:
    anchored = "|".join(f"^{part}$" for part in parts)
    plain = "|".join(parts)
    assert codes(allow_origin_regex=anchored, allow_credentials=True) == []
    policy = CORSPolicy(allow_origin_regex=anchored, allow_credentials=True)
    origins = data.draw(st.lists(st.one_of(
        st.from_regex(re.compile(plain), fullmatch=True).filter(lambda o: ORIGIN_SHAPE.fullmatch(o) is not None),
        st.from_regex(ORIGIN_SHAPE, fullmatch=True),
    ), min_size=1, max_size=5))
    for origin in origins:
        shape = ORIGIN_SHAPE.fullmatch(origin)
        serialized = shape is not None and (shape.group(3) is None or int(shape.group(3)) <= 65535)
        # A regex never allows what is no serialized origin (a port above 65535).
        assert policy.allows_origin(origin) == (serialized and re.fullmatch(plain, origin) is not None)


def adversarial_origins(source: str) -> list[str]:
    """Origin-shaped inputs of at most MAX_ORIGIN_LENGTH characters that
    repeat the regex's own pieces (each literal run and class sample) and
    end where the match fails last."""
    pieces = {p for p in re.split(r"[\\()?*+|^$]+", source.replace(r"\w", "a").replace(r"\d", "1")) if p}
    pieces |= {"a", "1", "a.", "example", "example.", "a1", "-"}
    found = []
    for scheme in ("http", "https", "htt"):
        for piece in pieces:
            for end in ("", ".", "-", ":", ":1", "x"):
                body = (piece * (MAX_ORIGIN_LENGTH // max(len(piece), 1)))[: MAX_ORIGIN_LENGTH - 20] + end
                origin = f"{scheme}://{body.strip('.:')}"[:MAX_ORIGIN_LENGTH]
                if ORIGIN_SHAPE.fullmatch(origin):
                    found.append(origin)
    return found


@pytest.mark.parametrize("source", [FLASK_CORS_REGEX, DJANGO_REGEX, r".*.example.com",
                                    r"^https://\w+\.example\.org$|^https://\w+\.example\.com$"])
def test_peer_regexes_match_every_adversarial_origin_in_under_a_millisecond(source: str) -> None:
    compiled = re.compile(source)
    origins = adversarial_origins(source)
    assert len(origins) > 50
    worst = 0.0
    for origin in origins:
        took = []
        for _ in range(3):  # the least of three runs: this machine is noisy
            start = time.perf_counter()
            compiled.fullmatch(origin)
            took.append(time.perf_counter() - start)
        worst = max(worst, min(took))
    assert worst < 0.001, worst


def test_a_regex_in_allow_origins_is_pointed_to_allow_origin_regex() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origins=["https://app.example.com", FLASK_CORS_REGEX, r".*.example.com"])
    assert caught.value.codes == ["regex-in-allow-origins", "regex-in-allow-origins"]
    assert "Pass it as allow_origin_regex" in caught.value.problems[0].message


@pytest.mark.parametrize("item", ["https://*.example.com", "http://localhost:*", "http://[::1]:8000",
                                  "https://foo.*.example.com", "https://app.example.com/?x=1"])
def test_origins_wildcards_and_mistyped_origins_are_not_taken_for_regexes(item: str) -> None:
    assert "regex-in-allow-origins" not in codes(allow_origins=item)


def test_two_regexes_on_one_ini_line_are_pointed_to_one_regex_per_line() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware.wrapper_from_settings(
            {"allow_origins": "https://app.example.com",
             "allow_origin_regex": r"https://a\.example\.com https://b\.example\.com"}
        )
    (problem,) = caught.value.problems
    assert (problem.code, problem.argument) == ("invalid-value", "allow_origin_regex")
    assert "one regex per line" in problem.message
    assert "lower case" not in problem.message


def test_whitespace_in_a_python_regex_is_pointed_to_a_list() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origin_regex=r"https://a\.example\.com https://b\.example\.com")
    assert "pass a list" in caught.value.problems[0].message

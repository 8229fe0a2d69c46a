"""Attacks on cors_wsgi, one named test each: what an attacker or a CORS
misconfiguration scanner (CORScanner, Corsy) tries, and what stops it.

Read top to bottom, this module is the list of attack classes cors_wsgi is
tested against: the edges found by outside testing (regexes that trust
strangers, ReDoS, path tricks, lazy apps, log injection, host syntax, PEP 3333
breakers) and the advisories in ``shared/CORS-NOTES.md``.  Where a class has
many members, Hypothesis generates them instead of a hand-picked few.
"""

from __future__ import annotations

import ast
import http.client
import ipaddress
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy, _log
from tests.conftest import API, RecordingApp, cors_headers, discard_response, make_client, preflight_headers
from tests.servers import serve, serve_wsgiref

TRUSTED = "https://app.example.com"


def problems(**kwargs: Any) -> list[tuple[str, str]]:
    """``(code, message)`` of every problem, ``[]`` when the policy is accepted."""
    try:
        CORSPolicy(**kwargs)
    except CORSConfigError as error:
        return [(p.code, p.message) for p in error.problems]
    return []


def codes(**kwargs: Any) -> list[str]:
    return [code for code, _ in problems(**kwargs)]


LABEL = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
#: Registrable domains of a few shapes (``example.com``, ``shop.co.uk``).
DOMAIN = st.tuples(LABEL, st.sampled_from(["com", "org", "net", "co.uk", "dev", "io"])).map(".".join)


# == 1. Credentialed regexes that trust strangers ==================================

def test_readme_unescaped_regex_is_refused_with_the_stranger_it_matches() -> None:
    ((code, message),) = problems(allow_origin_regex="https://.*example.com", allow_credentials=True)
    assert code == "regex-too-broad"
    assert "'https://attackerexample.com'" in message
    assert re.fullmatch("https://.*example.com", "https://attackerexample.com")


def test_unescaped_dots_are_refused_with_the_escaped_regex_as_fix() -> None:
    ((code, message),) = problems(allow_origin_regex="https://app.example.com", allow_credentials=True)
    assert code == "regex-too-broad"
    assert "'https://appxexample.com'" in message
    assert r"r'https://app\.example\.com'" in message


@given(domain=DOMAIN, sub=LABEL)
def test_any_unescaped_dot_regex_is_refused(domain: str, sub: str) -> None:
    source = f"https://{sub}.{domain}"  # the dots are regex wildcards
    found = problems(allow_origin_regex=source, allow_credentials=True)
    assert [code for code, _ in found] == ["regex-too-broad"]
    stranger = re.search(r"matches '([^']+)'", found[0][1])
    assert stranger is not None
    assert re.fullmatch(source, stranger.group(1))
    assert stranger.group(1) != source


TRAILING = [".*", ".+", r"(\..*)?", "[a-z.]*", r"(\.[a-z]+)*", "-?[a-z]*", "[^/]*", r"\.?.*"]


@given(domain=DOMAIN, tail=st.sampled_from(TRAILING))
def test_anything_after_the_domain_is_refused(domain: str, tail: str) -> None:
    source = "https://app\\." + re.escape(domain) + tail
    found = problems(allow_origin_regex=source, allow_credentials=True)
    assert "regex-too-broad" in [code for code, _ in found]


def test_trailing_wildcard_regex_shows_the_attackers_domain() -> None:
    ((code, message),) = problems(allow_origin_regex=r"https://app\.example\.com.*", allow_credentials=True)
    assert code == "regex-too-broad"
    assert "'https://app.example.com.attacker.com'" in message


@pytest.mark.parametrize(
    "source",
    [r"https?://app\.example\.com", r"(http|https)://app\.example\.com", r"http://app\.example\.com",
     r"https?://([a-z]+\.)*example\.com", r"http://[a-z]+\.example\.com(:[0-9]+)?"],
)
def test_http_origins_are_refused_with_credentials(source: str) -> None:
    assert "insecure-origin-with-credentials" in codes(allow_origin_regex=source, allow_credentials=True)


def test_http_regex_is_accepted_with_the_insecure_escape_hatch() -> None:
    assert codes(
        allow_origin_regex=r"https?://app\.example\.com", allow_credentials=True,
        dangerously_tolerate_insecure_origins=True,
    ) == []


@pytest.mark.parametrize(
    "source",
    [r"https://(app\.example\.com|.*)", r"https://app\.example\.com|https://.*",
     r"https://(www|[a-z]+example)\.com", r"https://(app\.example\.com|app\.example\.com\..*)"],
)
def test_one_loose_alternative_is_refused(source: str) -> None:
    assert "regex-too-broad" in codes(allow_origin_regex=source, allow_credentials=True)


@given(domain=DOMAIN, prefix=st.sampled_from(["[a-z0-9-]*", "[a-z]+", ".*", "(www)?[a-z]*", "[a-z0-9.-]*[a-z]"]))
def test_a_variable_part_glued_to_the_domain_is_refused(domain: str, prefix: str) -> None:
    source = "https://" + prefix + re.escape(domain)
    assert "regex-too-broad" in codes(allow_origin_regex=source, allow_credentials=True)


@pytest.mark.parametrize("source", [r"https://[a-z]+\.github\.io", r"https://.*\.co\.uk", r"https://[a-z0-9-]+\.com"])
def test_regex_over_a_public_suffix_is_refused(source: str) -> None:
    assert codes(allow_origin_regex=source, allow_credentials=True) == ["public-suffix-wildcard"]


def test_regex_with_a_variable_scheme_is_refused() -> None:
    ((code, message),) = problems(allow_origin_regex=r"[a-z]+://app\.example\.com", allow_credentials=True)
    assert code == "regex-too-broad"
    assert "scheme must be spelled out" in message


def test_regex_with_a_variable_extension_id_is_refused() -> None:
    assert codes(allow_origin_regex="chrome-extension://[a-p]{32}", allow_credentials=True) == ["regex-too-broad"]


def test_each_regex_of_a_list_is_checked_and_reported_on_its_own() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(
            allow_origin_regex=[r"https://(app|www)\.example\.com", "https://.*", r"https?://b\.example\.com"],
            allow_credentials=True,
        )
    assert [(p.code, p.value) for p in caught.value.problems] == [
        ("regex-too-broad", "https://.*"),
        ("insecure-origin-with-credentials", r"https?://b\.example\.com"),
    ]


def test_ini_takes_one_regex_per_line_each_checked() -> None:
    from cors_wsgi.paste import filter_factory

    wrap = filter_factory({}, allow_origin_regex="\n  https://pr-[0-9]{1,4}\\.example\\.com\n  https://(a|b)\\.example\\.org\n")
    policy = wrap(RecordingApp()).policy
    assert isinstance(policy, CORSPolicy)
    assert policy.allows_origin("https://pr-12.example.com")
    assert policy.allows_origin("https://b.example.org")
    with pytest.raises(CORSConfigError) as caught:
        filter_factory({}, allow_credentials="true", allow_origin_regex="https://a\\.example\\.com\nhttps://.*")
    assert [p.value for p in caught.value.problems] == ["https://.*"]


SLOPPY = [
    r"https://[a-z]+\.example\.com.*", r"https://app-[a-z]+\.example\.com.*", r"https://[a-z]+\.example.com",
    r"https://api-[0-9]+.example\.com", "https://app.example.com", r"https://.*example\.com",
    r"https://(www|app)\.example\.com.*", r"https?://app\.example\.com",
]


@pytest.mark.parametrize("source", SLOPPY)
def test_every_suggested_fix_keeps_the_variable_parts_and_is_itself_accepted(source: str) -> None:
    found = problems(allow_origin_regex=source, allow_credentials=True)
    fixes = [m.group(1) for _, message in found if (m := re.search(r"Write r'([^']+)'", message))]
    assert fixes, found
    for fix in fixes:
        assert codes(allow_origin_regex=fix, allow_credentials=True) == []
        assert fix.count("[") >= source.count("[")  # variable parts kept, not replaced by a sample


def test_trailing_wildcard_fix_keeps_the_pattern() -> None:
    ((_, message),) = problems(allow_origin_regex=r"https://[a-z]+\.example\.com.*", allow_credentials=True)
    assert message.endswith(r"Write r'https://[a-z]+\.example\.com'.")


@pytest.mark.parametrize("source", [r"https://app\.example\.com/", r"https://app\.example\.com:443",
                                    r"http://app\.example\.com:80", r"https://[a-z]+\.example\.com/.*"])
def test_regex_that_can_never_match_an_origin_is_refused(source: str) -> None:
    assert "origin-not-serialized" in codes(allow_origin_regex=source)


#: Tight credentialed regexes: accepted, and every origin they match is trusted.
TIGHT = {
    r"https://(app|www)\.example\.com": "example.com",
    r"https://pr-[0-9]+\.preview\.example\.com": "example.com",
    r"https://([a-z0-9-]+\.)*example\.com": "example.com",
    r"https://.*\.example\.com": "example.com",
    r"https://[a-z0-9-]{1,63}\.example\.co\.uk(:[0-9]{1,5})?": "example.co.uk",
    r"^https://app\.example\.com$": "example.com",
    r"(?i)HTTPS://APP\.EXAMPLE\.COM": "example.com",
    r"http://localhost:[0-9]+": "localhost",
    r"http://([a-z0-9-]+\.)?localhost(:[0-9]+)?": "localhost",
    r"http://127\.0\.0\.1(:[0-9]+)?": "127.0.0.1",
}


@pytest.mark.parametrize("source", list(TIGHT))
def test_tight_regex_is_accepted_with_credentials(source: str) -> None:
    assert codes(allow_origin_regex=source, allow_credentials=True) == []


ORIGIN_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.:/_[]")
ORIGIN_SHAPE = re.compile(r"([a-z][a-z0-9+.\-]*)://([a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*|\[[0-9a-f:.]+\])(?::([1-9][0-9]{0,4}))?")


@pytest.mark.parametrize("source", [s for s in TIGHT if not s.startswith("(?i)")])
@settings(max_examples=150, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_every_origin_a_tight_regex_matches_is_under_its_domain(source: str, data: st.DataObject) -> None:
    matched = data.draw(st.from_regex(re.compile(source), fullmatch=True, alphabet=ORIGIN_CHARS))
    shape = ORIGIN_SHAPE.fullmatch(matched)
    # Only serialized origins (ports up to 65535) ever reach the regex.
    assume(shape is not None and int(shape.group(3) or 0) <= 65535)
    assert shape is not None
    scheme, host = shape.group(1), shape.group(2)
    domain = TIGHT[source]
    assert host == domain or host.endswith("." + domain)
    assert scheme == "https" or domain in ("localhost", "127.0.0.1")
    assert CORSPolicy(allow_origin_regex=source, allow_credentials=True).allows_origin(matched)


OPTIONAL_STRANGERS = {
    r"https://app\.?example\.com": "https://appexample.com",
    r"https://(www)?\.?example\.com": "https://wwwexample.com",
    r"https://app\.example\.com?": "https://app.example.co",
    r"https://([a-z]+\.)?example\.com?": "https://example.co",
    r"https://app(\.example)?\.com": "https://app.com",
}


@pytest.mark.parametrize("source", list(OPTIONAL_STRANGERS))
def test_optional_part_that_changes_the_registrable_domain_is_refused(source: str) -> None:
    ((code, message),) = problems(allow_origin_regex=source, allow_credentials=True)
    assert code == "regex-too-broad"
    assert "changes the registrable domain" in message
    assert re.fullmatch(source, OPTIONAL_STRANGERS[source])


@pytest.mark.parametrize("source", list(OPTIONAL_STRANGERS))
def test_refused_optional_part_names_a_stranger_the_regex_matches(source: str) -> None:
    ((_, message),) = problems(allow_origin_regex=source, allow_credentials=True)
    stranger = re.search(r"For example it matches '([^']+)'", message)
    assert stranger is not None
    assert re.fullmatch(source, stranger.group(1))
    assert _registrable(stranger.group(1).split("://")[1]) != "example.com"


def test_optional_dot_is_fixed_by_requiring_it() -> None:
    ((_, message),) = problems(allow_origin_regex=r"https://app\.?example\.com", allow_credentials=True)
    assert message.endswith(r"Write r'https://app\.example\.com'.")


@pytest.mark.parametrize("source", [
    r"https://(app\.example\.com|app\.example\.org)",
    r"https://app\.example\.(com|org)",
    r"https://(shop\.example|store\.example)\.com",
    r"https://(www\.)?example\.com",
    r"https://app\.example\.com(:8443)?",
])
def test_alternatives_that_spell_whole_domains_are_accepted(source: str) -> None:
    assert codes(allow_origin_regex=source, allow_credentials=True) == []


def _registrable(host: str) -> str | None:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList().privatesuffix(host)


#: Pieces of a credentialed regex over ``sub.domain.tld``, each optionally
#: made optional: a letter, the escaped dot, a whole label with its dot.
@st.composite
def optional_regexes(draw: st.DrawFn) -> tuple[str, str]:
    labels = [draw(LABEL), draw(LABEL), draw(st.sampled_from(["com", "org", "net", "co.uk", "dev", "io"]))]
    pieces: list[str] = []
    for index, label in enumerate(labels):
        for part_index, part in enumerate(label.split(".")):
            text = ""
            for char in part:
                text += char + ("?" if draw(st.integers(0, 9)) == 0 else "")
            if part_index or index:
                dot = r"\." + ("?" if draw(st.integers(0, 5)) == 0 else "")
                text = dot + text
            if draw(st.integers(0, 6)) == 0:
                text = f"({text})?"
            pieces.append(text)
    return "https://" + "".join(pieces), ".".join(labels)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(case=optional_regexes(), data=st.data())
def test_accepted_regex_with_optional_parts_matches_only_the_domain_it_spells(
    case: tuple[str, str], data: st.DataObject
) -> None:
    source, spelled = case
    assume(not codes(allow_origin_regex=source, allow_credentials=True))
    matched = data.draw(st.from_regex(re.compile(source), fullmatch=True, alphabet=ORIGIN_CHARS))
    shape = ORIGIN_SHAPE.fullmatch(matched)
    assume(shape is not None)
    assert shape is not None
    assert _registrable(shape.group(2)) == _registrable(spelled)


# == 2. ReDoS: one crafted Origin must not cost seconds ===========================

BACKTRACKING = [
    r"https://([a-z0-9]+-?)+\.example\.com",
    r"https://(a|aa)+\.example\.com",
    r"https://[a-z]*[a-z]*\.example\.com",
    r"https://(a*)*\.example\.com",
    r"https://(.*)*",
    r"https://(\w+\.?)+example\.com",
    r"https://([a-z]+)+\.example\.com",
    r"https://.*.*\.example\.com",
    r"https://(x+x+)+y",
    r"https://([a-z](-?|_?))+\.example\.com",  # two empty routes between letters
    r"https://(a(xb|[xy]b)c)+\.example\.com",  # routes part and meet in each round
    r"https://.*-.*-.*\.example\.com",  # loops side by side: cubic
]


@pytest.mark.parametrize("credentials", [False, True], ids=["without-credentials", "with-credentials"])
@pytest.mark.parametrize("source", BACKTRACKING)
def test_regex_with_nested_or_overlapping_repeats_is_refused(source: str, credentials: bool) -> None:
    assert "regex-backtracking" in codes(allow_origin_regex=source, allow_credentials=credentials)


@pytest.mark.parametrize(
    ("source", "origin"),
    [(BACKTRACKING[0], "https://" + "a" * 22),
     (r"https://([a-z](-?|_?))+\.example\.com", "https://" + "a" * 22),
     (r"https://(a(xb|[xy]b)c)+\.example\.com", "https://" + "axbc" * 20)],
)
def test_the_refused_redos_is_real(source: str, origin: str) -> None:
    # The refused regex really is slow in Python's engine: what the check prevents.
    start = time.perf_counter()
    re.fullmatch(source, origin)
    assert time.perf_counter() - start > 0.05


@pytest.mark.parametrize(
    "source",
    [r"https://([a-z]+\.example\.com|[a-z]+\.example\.org)", r"https://(a*b|a*c)\.example\.com",
     r"https://[a-z0-9]+(-[a-z0-9]+)*\.example\.com", r"https://.*\.example\.com"],
)
def test_loops_tried_one_after_the_other_are_accepted(source: str) -> None:
    assert "regex-backtracking" not in codes(allow_origin_regex=source)


@pytest.mark.parametrize(
    "source",
    ["(?i)https://[a-z0-9-]*\u017fecure\\.com", "(?i)https://(\u017f+)+\\.example\\.com",
     "https://[a-z]+[\u017f]example\\.com"],
    ids=["long-s-glued", "long-s-redos", "long-s-class"],
)
def test_non_ascii_that_case_folds_to_ascii_is_refused(source: str) -> None:
    # Python's re.I matches U+017F to 's' and U+0131 to 'i': such a regex
    # would trust https://attackersecure.com (found by outside review).
    assert codes(allow_origin_regex=source, allow_credentials=True) == ["regex-unsupported"]


@pytest.mark.parametrize(
    "source",
    [r"https://(?:(?:(){255}){255}[a-z])+\.example\.com",
     r"https://(?:a|a(?:" + "(" * 60 + "[a-z]" + ")" * 60 + r"){240}-)+\.example\.com"],
    ids=["empty-groups-repeated", "nested-groups-repeated"],
)
def test_regex_whose_engine_work_per_character_is_unbounded_is_refused(source: str) -> None:
    assert codes(allow_origin_regex=source, allow_credentials=True)[0] in ("regex-unsupported", "regex-too-complex")


@pytest.mark.parametrize(
    ("source", "code"),
    [(r"https://(?=a)[a-z]+\.example\.com", "regex-unsupported"),
     (r"https://([a-z]+)\.\1\.example\.com", "regex-unsupported"),
     (r"https://a\bb\.example\.com", "regex-unsupported"),
     (r"https://[a-z]+\.example\.com(?<!x\.com)", "regex-unsupported"),
     (r"https://[a-z]{1,900}\.example\.com", "regex-too-complex")],
)
def test_regex_that_cannot_be_proven_safe_is_refused(source: str, code: str) -> None:
    assert codes(allow_origin_regex=source) == [code]


ATOMS = st.sampled_from(["a", "b", "-", r"\.", ".", "[a-z]", "[a-b]", "[a-z0-9-]", r"\d", "[ab.]"])


@st.composite
def small_regexes(draw: st.DrawFn, depth: int = 0) -> str:
    """Random regexes of atoms, groups, alternations and repeats."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.booleans()):
            inner = "|".join(draw(st.lists(small_regexes(depth + 1), min_size=1, max_size=2)))
            part = f"({inner})"
        else:
            part = draw(ATOMS)
        parts.append(part + draw(st.sampled_from(["", "", "*", "+", "?", "{1,3}"])))
    return "".join(parts)


def worst_inputs(source: str) -> Iterator[str]:
    """Long origins built from the characters the regex repeats, each ending
    in a character that makes the match fail last: the shape of a ReDoS input."""
    for unit in ("a", "ab", "a-", "a.", "-", ".", "1", "aa."):
        for end in ("!", ".", "-", "/", ""):
            yield "https://" + unit * (480 // len(unit)) + end


@settings(max_examples=150, deadline=None)
@given(body=small_regexes())
def test_any_accepted_regex_matches_every_hostile_origin_in_bounded_time(body: str) -> None:
    source = "https://" + body
    try:
        compiled = re.compile(source)
    except re.error:
        assume(False)
        raise
    assume(codes(allow_origin_regex=source) == [])  # accepted
    for origin in worst_inputs(source):
        start = time.perf_counter()
        compiled.fullmatch(origin)
        # A few milliseconds at most on this noisy machine; refused
        # patterns take seconds on inputs a tenth as long.
        assert time.perf_counter() - start < 0.05, (source, origin[:20])


def test_hostile_origins_never_reach_the_regex_beyond_the_length_cap() -> None:
    policy = CORSPolicy(allow_origin_regex=r"https://[a-z0-9-]+\.example\.com")
    assert not policy.allows_origin("https://" + "a" * 600 + ".example.com")


# == 3. Path policies: matched as routers route, never bypassed =====================

STRICT = CORSPolicy(allow_origins=TRUSTED, allow_credentials=True)
BROAD = CORSPolicy(allow_origins="*")
PATHS = {"/admin/*": STRICT, "/*": BROAD}
STRANGER = "https://stranger.example.net"


@pytest.mark.parametrize(
    "path",
    ["//admin/secret", "/./admin/secret", "/x/../admin/secret", "///admin/secret",
     "/admin/../admin/secret", "/.//admin/secret", "/public/../admin/secret"],
)
def test_path_trick_gets_no_broad_answer(path: str) -> None:
    client, _ = make_client(PATHS)
    response = client.get(path, headers={"Origin": STRANGER})
    assert "access-control-allow-origin" not in cors_headers(response)


@pytest.mark.parametrize("path", ["//admin/secret", "/./admin/secret", "/x/../admin/secret"])
def test_path_trick_preflight_is_refused(path: str) -> None:
    client, app = make_client(PATHS)
    response = client.options(path, headers=preflight_headers(STRANGER), status=403)
    assert cors_headers(response) == {}
    assert app.calls == 0


def test_path_trick_strips_the_apps_own_cors_headers() -> None:
    app = RecordingApp(headers=[("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*")])
    client, _ = make_client(PATHS, app=app)
    assert cors_headers(client.get("//admin/secret", headers={"Origin": STRANGER})) == {}


@st.composite
def obfuscated_admin_paths(draw: st.DrawFn) -> str:
    """``/admin/secret`` with extra slashes, ``.`` and ``x/..`` segments."""
    out = ""
    for segment in ("admin", "secret"):
        out += "/" * draw(st.integers(1, 3))
        for _ in range(draw(st.integers(0, 2))):
            out += draw(st.sampled_from(["./", "x/../", ".//", "public/../"]))
        out += segment
    return out


@given(path=obfuscated_admin_paths())
def test_no_obfuscation_of_a_strict_path_gets_the_broad_policy(path: str) -> None:
    client, _ = make_client(PATHS)
    response = client.get(path, headers={"Origin": STRANGER})
    assert "access-control-allow-origin" not in cors_headers(response)


def test_clean_paths_keep_their_policy() -> None:
    client, _ = make_client(PATHS)
    assert cors_headers(client.get("/admin/secret", headers={"Origin": TRUSTED}))["access-control-allow-origin"] == TRUSTED
    assert cors_headers(client.get("/public", headers={"Origin": STRANGER}))["access-control-allow-origin"] == "*"


def test_unclean_path_that_both_readings_agree_on_keeps_its_policy() -> None:
    client, _ = make_client(PATHS)
    response = client.get("/public//a/./b", headers={"Origin": STRANGER})
    assert cors_headers(response)["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("mapping", "earlier", "later"),
    [({"/api/*": BROAD, "/api/admin/*": STRICT}, "/api/*", "/api/admin/*"),
     ({"/*": BROAD, "/admin": STRICT}, "/*", "/admin"),
     ({"/api/*": BROAD, "/api": STRICT}, "/api/*", "/api")],
)
def test_shadowed_path_pattern_is_refused_naming_both(mapping: dict[str, CORSPolicy], earlier: str, later: str) -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware(RecordingApp(), mapping)
    (problem,) = caught.value.problems
    assert problem.code == "shadowed-path-pattern"
    assert problem.value == later
    assert repr(earlier) in problem.message


def test_specific_pattern_before_general_is_accepted() -> None:
    CORSMiddleware(RecordingApp(), {"/api/admin/*": STRICT, "/api/*": BROAD, "/*": BROAD})


def flask_admin_app() -> Any:
    import flask

    app = flask.Flask("admin")

    @app.route("/admin/secret")
    def secret() -> str:
        return "ADMIN DATA"

    @app.route("/public")
    def public() -> str:
        return "public"

    app.wsgi_app = CORSMiddleware(app.wsgi_app, PATHS)  # type: ignore[method-assign]
    return app


def raw_get(host: str, port: int, path: str, origin: str) -> tuple[int, bytes, dict[str, str]]:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", path, headers={"Origin": origin})  # sent as is, never normalised
        response = connection.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


@pytest.mark.parametrize("server", [serve, serve_wsgiref], ids=["waitress", "wsgiref"])
def test_flask_behind_a_real_server_gives_path_tricks_no_broad_answer(server: Any) -> None:
    tricks = ["//admin/secret", "/%2Fadmin/secret", "/./admin/secret", "/x/../admin/secret", "/admin/./secret"]
    served_admin = False
    with server(flask_admin_app().wsgi_app) as (host, port):
        for path in tricks:
            status, body, headers = raw_get(host, port, path, STRANGER)
            served_admin = served_admin or body == b"ADMIN DATA"
            assert "access-control-allow-origin" not in headers, path
        status, body, headers = raw_get(host, port, "/admin/secret", TRUSTED)
        assert (status, body, headers["access-control-allow-origin"]) == (200, b"ADMIN DATA", TRUSTED)
    assert served_admin  # the server really routed a trick to the admin view


# == 4. catch_exceptions covers lazy apps ===========================================

CAUGHT = CORSPolicy(allow_origins=TRUSTED)


class LazyApp:
    """A generator app: nothing runs until the server's first ``next()``."""

    def __init__(self, fail_before_start: bool = True, fail_after_start: bool = False) -> None:
        self.fail_before_start = fail_before_start
        self.fail_after_start = fail_after_start
        self.closed = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        try:
            if self.fail_before_start:
                raise RuntimeError("lazy failure")
            start_response("200 OK", [("Content-Type", "text/plain")])
            if self.fail_after_start:
                raise RuntimeError("after start")
            yield b"one"
            yield b"two"
        finally:
            self.closed = True


def test_lazy_app_failure_becomes_500_with_cors_headers() -> None:
    app = LazyApp()
    client = webtest.TestApp(CORSMiddleware(app, CAUGHT, catch_exceptions=True), lint=True)
    response = client.get("/", headers={"Origin": TRUSTED}, status=500)
    assert cors_headers(response) == {"access-control-allow-origin": TRUSTED}
    assert app.closed


def test_lazy_app_failure_propagates_when_catch_exceptions_is_off() -> None:
    client = webtest.TestApp(CORSMiddleware(LazyApp(), CAUGHT), lint=True)
    with pytest.raises(RuntimeError, match="lazy failure"):
        client.get("/", headers={"Origin": TRUSTED})


def test_lazy_app_body_and_close_are_kept() -> None:
    app = LazyApp(fail_before_start=False)
    client = webtest.TestApp(CORSMiddleware(app, CAUGHT, catch_exceptions=True), lint=True)
    response = client.get("/", headers={"Origin": TRUSTED})
    assert response.body == b"onetwo"
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert app.closed


class LazyIterable:
    """An app iterable that starts the response when iterated and records close()."""

    def __init__(self, start_response: Any) -> None:
        self.start_response = start_response
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        self.start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"body"

    def close(self) -> None:
        self.closed = True


def test_lazy_app_close_reaches_the_apps_iterable() -> None:
    made: list[LazyIterable] = []

    def app(environ: dict[str, Any], start_response: Any) -> LazyIterable:
        made.append(LazyIterable(start_response))
        return made[-1]

    client = webtest.TestApp(CORSMiddleware(app, CAUGHT, catch_exceptions=True), lint=True)
    assert client.get("/", headers={"Origin": TRUSTED}).body == b"body"
    assert made[0].closed


class FailingIterable:
    """Raises on the first next(), optionally after starting the response; close() may raise too."""

    def __init__(self, start_response: Any, start: bool, close_raises: bool) -> None:
        self.start_response, self.start, self.close_raises = start_response, start, close_raises
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from ()  # a generator, which fails at its first next()
        if self.start:
            self.start_response("200 OK", [("Content-Type", "text/plain")])
        raise RuntimeError("first next")

    def close(self) -> None:
        self.closed = True
        if self.close_raises:
            raise OSError("close failed")


def failing_app(start: bool, close_raises: bool, made: list[FailingIterable]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> FailingIterable:
        made.append(FailingIterable(start_response, start, close_raises))
        return made[-1]
    return app


def test_lazy_app_whose_close_also_raises_still_gets_the_500() -> None:
    made: list[FailingIterable] = []
    client = webtest.TestApp(CORSMiddleware(failing_app(False, True, made), CAUGHT, catch_exceptions=True))
    response = client.get("/", headers={"Origin": TRUSTED}, status=500)
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert made[0].closed


def test_lazy_app_failing_after_start_response_is_closed_and_gets_the_500() -> None:
    made: list[FailingIterable] = []
    client = webtest.TestApp(CORSMiddleware(failing_app(True, False, made), CAUGHT, catch_exceptions=True))
    response = client.get("/", headers={"Origin": TRUSTED}, status=500)
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert made[0].closed


def test_lazy_app_failure_before_its_first_item_gets_the_500() -> None:
    client = webtest.TestApp(
        CORSMiddleware(LazyApp(fail_before_start=False, fail_after_start=True), CAUGHT, catch_exceptions=True)
    )
    assert client.get("/", headers={"Origin": TRUSTED}, status=500).headers["Access-Control-Allow-Origin"] == TRUSTED


def test_lazy_app_failure_after_its_first_item_is_reraised() -> None:
    def streaming(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"one"
        raise RuntimeError("after the first item")

    client = webtest.TestApp(CORSMiddleware(streaming, CAUGHT, catch_exceptions=True))
    with pytest.raises(RuntimeError, match="after the first item"):
        client.get("/", headers={"Origin": TRUSTED})


def test_lazy_app_failure_behind_a_real_server_gets_cors_headers() -> None:
    with serve_wsgiref(CORSMiddleware(LazyApp(), CAUGHT, catch_exceptions=True)) as (host, port):
        status, _body, headers = raw_get(host, port, "/", TRUSTED)
    assert (status, headers.get("access-control-allow-origin")) == (500, TRUSTED)


# == 5. Log injection: every request value in every log line is escaped =============

HOSTILE = st.text(st.characters(codec="utf-8"), min_size=1, max_size=300)


def printable(text: str) -> bool:
    return all(" " <= ch <= "~" for ch in text)


@given(text=HOSTILE)
def test_escaped_text_reads_back_as_exactly_what_was_sent(text: str) -> None:
    # The one escaper (log lines, tracebacks, cors_wsgi.fetch, the CLI): no two
    # inputs print alike, so a client cannot make its value pass for another.
    shown = _log.printable(text, quote="'")
    assert printable(shown)
    assert ast.literal_eval("'" + shown + "'") == text


@given(text=HOSTILE, limit=st.integers(1, 100))
def test_escaped_text_is_cut_to_its_limit_whatever_it_holds(text: str, limit: int) -> None:
    shown = _log.printable(text * 50, limit)
    assert len(shown) <= limit + 3
    assert shown.endswith("...") or len(text * 50) <= limit


@given(text=HOSTILE)
def test_log_escape_is_the_escaper_between_quotes(text: str) -> None:
    shown = _log.escape(text)
    assert printable(shown)
    if not shown.endswith("...'"):
        assert ast.literal_eval(shown) == text


def raising(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("boom")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=HOSTILE, path=HOSTILE)
def test_catch_exceptions_log_line_escapes_method_and_path(
    caplog: pytest.LogCaptureFixture, method: str, path: str
) -> None:
    middleware = CORSMiddleware(raising, CAUGHT, catch_exceptions=True)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        middleware({"REQUEST_METHOD": method, "PATH_INFO": path, "HTTP_ORIGIN": TRUSTED}, discard_response)
    (record,) = caplog.records
    assert printable(record.getMessage())


def test_terminal_escape_in_the_method_reaches_the_log_escaped(caplog: pytest.LogCaptureFixture) -> None:
    middleware = CORSMiddleware(raising, CAUGHT, catch_exceptions=True)
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        middleware({"REQUEST_METHOD": "GET\x1b[2J", "PATH_INFO": "/"}, discard_response)
    assert "\x1b" not in caplog.records[0].getMessage()
    assert "\\x1b[2J" in caplog.records[0].getMessage()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(origin=HOSTILE, requested=HOSTILE)
def test_debug_refusal_log_line_escapes_origin_and_headers(
    caplog: pytest.LogCaptureFixture, origin: str, requested: str
) -> None:
    middleware = CORSMiddleware(RecordingApp(), CORSPolicy(allow_origins=TRUSTED), debug=True)
    caplog.clear()
    environ = {"REQUEST_METHOD": "OPTIONS", "PATH_INFO": "/", "HTTP_ORIGIN": origin,
               "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT", "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": requested}
    with caplog.at_level(logging.DEBUG, logger="cors_wsgi"):
        middleware(environ, discard_response)
    assert all(printable(r.getMessage()) and len(r.getMessage()) < 1000 for r in caplog.records)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=HOSTILE)
def test_ambiguous_path_log_line_escapes_the_path(caplog: pytest.LogCaptureFixture, path: str) -> None:
    middleware = CORSMiddleware(RecordingApp(), PATHS, debug=True)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="cors_wsgi"):
        middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "//admin/" + path, "HTTP_ORIGIN": STRANGER},
                   discard_response)
    assert all(printable(r.getMessage()) for r in caplog.records)


def raising_with_the_request(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise ValueError("bad item " + environ["HTTP_X_ITEM"])


def formatted(record: logging.LogRecord) -> str:
    """The record as a plain ``logging.Formatter`` writes it to a file."""
    return logging.Formatter("%(levelname)s %(name)s %(message)s").format(record)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(item=HOSTILE)
def test_catch_exceptions_traceback_never_writes_request_bytes_raw(
    caplog: pytest.LogCaptureFixture, item: str
) -> None:
    middleware = CORSMiddleware(raising_with_the_request, CAUGHT, catch_exceptions=True)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_X_ITEM": item}, discard_response)
    (record,) = caplog.records
    lines = formatted(record).split("\n")
    assert all(printable(line) for line in lines)
    assert lines[-1].startswith("ValueError: bad item ")  # the message, whole, on one line


def test_forged_log_line_in_an_exception_message_stays_on_its_line(caplog: pytest.LogCaptureFixture) -> None:
    middleware = CORSMiddleware(raising_with_the_request, CAUGHT, catch_exceptions=True)
    forged = "1\r\nCRITICAL cors_wsgi admin logged in\x1b[2J"
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_X_ITEM": forged}, discard_response)
    text = formatted(caplog.records[0])
    assert not any(line.startswith("CRITICAL") for line in text.splitlines())
    assert text.splitlines()[-1] == "ValueError: bad item 1\\r\\nCRITICAL cors_wsgi admin logged in\\x1b[2J"


def test_escaped_traceback_keeps_frames_and_the_record_keeps_the_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    middleware = CORSMiddleware(raising_with_the_request, CAUGHT, catch_exceptions=True)
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_X_ITEM": "x"}, discard_response)
    record = caplog.records[0]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)
    assert "in raising_with_the_request" in formatted(record)


def test_chained_exception_causes_are_logged_escaped_in_order(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            raise LookupError("tenant\nINFO forged cause")
        except LookupError as error:
            raise RuntimeError("lookup failed") from error

    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        CORSMiddleware(app, CAUGHT, catch_exceptions=True)({"REQUEST_METHOD": "GET", "PATH_INFO": "/"},
                                                           discard_response)
    lines = formatted(caplog.records[0]).split("\n")
    cause = lines.index("LookupError: tenant\\nINFO forged cause")
    assert "The above exception was the direct cause of the following exception:" in lines[cause:]
    assert lines[-1] == "RuntimeError: lookup failed"
    assert all(printable(line) for line in lines)


def test_exception_notes_and_unprintable_messages_are_logged_escaped(caplog: pytest.LogCaptureFixture) -> None:
    class UnprintableError(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        error = UnprintableError()
        error.__notes__ = ["note\r\nERROR forged " + "x" * 5000]  # type: ignore[attr-defined]
        raise error

    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        CORSMiddleware(app, CAUGHT, catch_exceptions=True)({"REQUEST_METHOD": "GET", "PATH_INFO": "/"},
                                                           discard_response)
    lines = formatted(caplog.records[0]).split("\n")
    assert lines[-2].endswith("UnprintableError: <str() of the exception raised>")
    assert lines[-1].startswith("note\\r\\nERROR forged xxx")
    assert lines[-1].endswith("...")
    assert len(lines[-1]) < 2100  # the message bound, not the 5000 characters


def test_predicate_exception_traceback_is_escaped(caplog: pytest.LogCaptureFixture) -> None:
    def predicate(origin: str) -> bool:
        raise LookupError("no tenant " + origin + "\nINFO forged")

    policy = CORSPolicy(allow_origin_predicate=predicate)
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        policy.allows_origin("https://tenant.example")
    lines = formatted(caplog.records[0]).split("\n")
    assert lines[-1] == "LookupError: no tenant https://tenant.example\\nINFO forged"


# == 6. Origins as browsers serialize them (URL Standard host parser) ===============

@pytest.mark.parametrize(
    ("configured", "canonical"),
    [("http://127.1", "http://127.0.0.1"),
     ("http://0x7f.0.0.1", "http://127.0.0.1"),
     ("http://0177.0.0.1:8080", "http://127.0.0.1:8080"),
     ("http://1:6060", "http://0.0.0.1:6060"),
     ("http://2130706433", "http://127.0.0.1"),
     ("http://127.0.0.1.", "http://127.0.0.1"),
     ("https://[::FFFF:127.0.0.1]", "https://[::ffff:7f00:1]"),
     ("https://[1:0:0:2:0:0:3:4]", "https://[1::2:0:0:3:4]"),
     ("https://[1:0:0:2:0:0:0:3]", "https://[1:0:0:2::3]"),
     ("https://BÜCHER.example", "https://xn--bcher-kva.example")],
)
def test_origin_browsers_serialize_differently_is_refused_with_the_canonical_form(configured: str, canonical: str) -> None:
    ((code, message),) = problems(allow_origins=configured)
    assert code == "origin-not-serialized"
    assert repr(canonical) in message


@pytest.mark.parametrize("configured", ["https://xn--ls8h.la", "https://xn--n3h.net", "https://xn--bcher-kva.example"])
def test_punycode_origin_browsers_send_is_accepted(configured: str) -> None:
    # UTS 46 (the URL Standard), not IDNA2008: symbol domains are valid.
    assert codes(allow_origins=configured) == []


@pytest.mark.parametrize(
    "configured",
    ["http://foo.bar.255", "http://foo.0x10", "http://1.2.3.4.5", "http://256.256.256.256", "http://08.0.0.1",
     "http://[fe80::1%25eth0]", "http://xn--f", "https://xn--.example.com", "http://xn--a.example"],
)
def test_origin_no_browser_can_send_is_refused(configured: str) -> None:
    assert codes(allow_origins=configured) == ["invalid-host"]


@given(
    host=st.one_of(
        st.tuples(LABEL.filter(lambda label: not label.startswith("0x")), st.integers(0, 999)).map(
            lambda t: f"{t[0]}.{t[1]}"),  # a name before a number: never an IPv4 address
        st.lists(st.integers(0, 255), min_size=5, max_size=7).map(lambda ns: ".".join(map(str, ns))),
        st.tuples(st.integers(256, 9999), st.integers(0, 255)).map(lambda t: f"{t[0]}.1.1.{t[1]}"),
    )
)
def test_every_host_that_ends_in_a_number_but_is_no_ipv4_is_refused(host: str) -> None:
    assert codes(allow_origins=f"http://{host}") == ["invalid-host"]


@given(address=st.integers(0, 2**32 - 1), form=st.sampled_from(["hex", "octal", "decimal", "short"]))
def test_every_ipv4_spelling_is_refused_with_the_dotted_form(address: int, form: str) -> None:
    dotted = str(ipaddress.IPv4Address(address))
    parts = [int(p) for p in dotted.split(".")]
    written = {
        "hex": ".".join(hex(p) for p in parts),
        "octal": ".".join("0" + oct(p)[2:] for p in parts),
        "decimal": str(address),
        "short": f"{parts[0]}.{parts[1]}.{parts[2] * 256 + parts[3]}",
    }[form]
    found = problems(allow_origins=f"http://{written}:8080")
    if written == dotted:
        assert found == []
    else:
        assert found[0][0] == "origin-not-serialized"
        assert repr(f"http://{dotted}:8080") in found[0][1]


def test_fully_qualified_host_with_trailing_dot_is_accepted_and_matched() -> None:
    client, _ = make_client(allow_origins="http://example.com.:3999")
    response = client.get("/", headers={"Origin": "http://example.com.:3999"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://example.com.:3999"
    assert "Access-Control-Allow-Origin" not in client.get("/", headers={"Origin": "http://example.com:3999"}).headers


# == 7. Apps that break PEP 3333 get a clear error ==================================

@pytest.mark.parametrize("value", [b"bytes", 42, None], ids=["bytes", "int", "None"])
def test_header_value_that_is_not_str_raises_a_clear_type_error(value: object) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("X-Broken", value)])
        return [b""]

    middleware = CORSMiddleware(app, CAUGHT)
    with pytest.raises(TypeError, match=r"X-Broken.*PEP 3333"):
        middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": TRUSTED}, discard_response)


def test_header_name_of_a_str_subclass_raises_a_clear_type_error() -> None:
    class Name(str):
        pass

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [(Name("Content-Type"), "text/plain")])
        return [b""]

    with pytest.raises(TypeError, match=r"Content-Type.*PEP 3333"):
        CORSMiddleware(app, CAUGHT)({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": TRUSTED},
                                    discard_response)


def test_header_that_is_not_a_pair_raises_a_clear_type_error() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type",)])
        return [b""]

    with pytest.raises(TypeError, match="PEP 3333"):
        CORSMiddleware(app, CAUGHT)({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, discard_response)


# == 8. The field's advisories (shared/CORS-NOTES.md) ===============================

def test_reflecting_every_origin_with_credentials_is_refused() -> None:
    # express origin:true, Starlette/wsgicors '*' + credentials, Fiber CVE-2024-25124
    assert codes(allow_origins="*", allow_credentials=True) == ["wildcard-origin-with-credentials"]


def test_null_origin_is_refused() -> None:
    assert codes(allow_origins="null") == ["null-origin"]


@pytest.mark.parametrize(
    "stranger",
    ["https://app.example.com.attacker.com", "https://attackerapp.example.com", "https://app.example.comx",
     "https://evilexample.com", "https://barfoo.com", "https://app.example.com:443", "https://APP.example.com",
     "null", "https://app.example.com/", " https://app.example.com", "https://example.com.attacker.com"],
)
def test_suffix_prefix_and_near_miss_origins_are_not_allowed(stranger: str) -> None:
    # expressjs/cors#408, Kludex/starlette#800, GHSA-vhxv-fg4m-p2w8
    policy = CORSPolicy(allow_origins=[API, "https://*.example.org", "https://foo.com", "https://bar.com"])
    assert not policy.allows_origin(stranger)


def test_huge_request_header_list_is_refused_with_no_allow_headers() -> None:
    # rs/cors GHSA-mh55-gqvf-xfwm: 127 ms per request on a huge ACRH (the
    # cost itself is measured by benchmarks/compare.py, not in a timed test)
    client, _ = make_client(allow_origins=API, allow_headers=["x-a"])
    response = client.options("/", headers=preflight_headers(request_headers="a," * 40_000), status=403)
    assert cors_headers(response) == {}


def test_request_vary_is_never_echoed() -> None:
    # Hono GHSA-q7jf-gf43-6x6p copied the request's Vary into the response
    client, _ = make_client(allow_origins=API)
    response = client.get("/", headers={"Origin": API, "Vary": "Cookie, X-Evil"})
    assert response.headers["Vary"] == "Origin"


def test_private_network_access_is_off_by_default() -> None:
    # flask-cors CVE-2024-6221
    client, _ = make_client(allow_origins=API, allow_methods=["PUT"])
    headers = {**preflight_headers(), "Access-Control-Request-Private-Network": "true"}
    response = client.options("/", headers=headers)
    assert response.status_int == 204
    assert "Access-Control-Allow-Private-Network" not in response.headers


def test_preflight_never_runs_the_app() -> None:
    # Spring CVE-2020-5397: preflights running application code or auth
    client, app = make_client(allow_origins=API, allow_methods=["PUT"])
    client.options("/", headers=preflight_headers())
    assert app.calls == 0


def test_apps_own_stale_cors_headers_are_replaced_not_doubled() -> None:
    app = RecordingApp(headers=[("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Credentials", "true")])
    client, _ = make_client(allow_origins=API, app=app)
    assert cors_headers(client.get("/", headers={"Origin": OTHER_ORIGIN})) == {}


OTHER_ORIGIN = "https://evil.example.net"


# == 9. Dynamic origins with credentials: one trust rule for every source ==========

def credentialed_predicate_policy(trusted: set[str], **kwargs: Any) -> CORSPolicy:
    """A credentialed policy whose predicate trusts ``trusted`` from after
    construction on, as a store that gains rows later does."""
    table: set[str] = set()
    policy = CORSPolicy(
        allow_origins=[TRUSTED], allow_credentials=True, allow_origin_predicate=table.__contains__, **kwargs
    )
    table.update(trusted)
    return policy


def credentialed_acao(policy: CORSPolicy, origin: str) -> str | None:
    response = webtest.TestApp(CORSMiddleware(RecordingApp(), policy)).get("/", headers={"Origin": origin})
    value: str | None = response.headers.get("Access-Control-Allow-Origin")
    return value


@given(sub=LABEL, domain=DOMAIN, port=st.one_of(st.none(), st.integers(1, 65535)))
def test_credentialed_predicate_never_trusts_an_http_origin(sub: str, domain: str, port: int | None) -> None:
    origin = f"http://{sub}.{domain}" + ("" if port in (None, 80) else f":{port}")
    policy = credentialed_predicate_policy({origin})
    assert credentialed_acao(policy, origin) is None


@pytest.mark.parametrize("origin", ["https://co.uk", "https://github.io", "https://herokuapp.com", "https://com"])
def test_credentialed_predicate_never_trusts_a_public_suffix(origin: str) -> None:
    assert credentialed_acao(credentialed_predicate_policy({origin}), origin) is None


@pytest.mark.parametrize("origin", ["https://127.1", "https://0x7f.0.0.1", "https://shop.example.com:443",
                                    "https://xn--a.example", "http://localhost:080"])
def test_credentialed_predicate_never_trusts_an_origin_no_browser_sends(origin: str) -> None:
    assert credentialed_acao(credentialed_predicate_policy({origin}), origin) is None


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:8080", "https://shop.customer.example"])
def test_credentialed_predicate_still_trusts_secure_and_loopback_origins(origin: str) -> None:
    assert credentialed_acao(credentialed_predicate_policy({origin}), origin) == origin


def test_predicate_without_credentials_may_trust_an_http_origin() -> None:
    policy = CORSPolicy(allow_origin_predicate={"http://tenant.example.com"}.__contains__)
    assert credentialed_acao(policy, "http://tenant.example.com") == "http://tenant.example.com"


def test_tolerating_insecure_origins_lets_a_credentialed_predicate_trust_http() -> None:
    policy = credentialed_predicate_policy({"http://tenant.example.com"}, dangerously_tolerate_insecure_origins=True)
    assert credentialed_acao(policy, "http://tenant.example.com") == "http://tenant.example.com"


def test_explain_says_the_trust_rule_refused_what_the_predicate_would_allow() -> None:
    policy = credentialed_predicate_policy({"http://tenant.example.com"})
    rule = policy.explain("http://tenant.example.com", credentials=True).rule
    assert "never trusted with credentials, whatever allow_origin_predicate says" in rule


def _like_suffix(origin: str) -> bool:
    """A SQL LIKE suffix test, as a hand-written store might run it."""
    import sqlite3

    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE TABLE domains (domain TEXT)")
        connection.execute("INSERT INTO domains VALUES ('example.com')")
        row = connection.execute("SELECT 1 FROM domains WHERE ? LIKE '%' || domain", (origin,)).fetchone()
    finally:
        connection.close()
    return row is not None


BUGGY_PREDICATES = {
    "endswith": lambda o: o.endswith("example.com"),
    "re.match": lambda o: re.match(r"https://[a-z0-9-]+\.example\.com", o) is not None,
    "LIKE suffix": _like_suffix,
    "substring": lambda o: "example.com" in o,
    "startswith": lambda o: o.startswith("https://app.example"),
    "scheme ignored": lambda o: o.split("://")[-1] == "app.example.com",
}


@pytest.mark.parametrize("bug", list(BUGGY_PREDICATES))
def test_construction_probe_catches_the_classic_predicate_mistakes(bug: str) -> None:
    found = codes(allow_origins=[TRUSTED], allow_credentials=True, allow_origin_predicate=BUGGY_PREDICATES[bug])
    assert found == ["predicate-trusts-strangers"]


def test_probe_origins_give_the_probe_domains_to_derive_strangers_from() -> None:
    def predicate(origin: str) -> bool:
        return origin.endswith("customer.example")

    assert codes(allow_credentials=True, allow_origin_predicate=predicate) == []
    assert codes(allow_credentials=True, allow_origin_predicate=predicate,
                 probe_origins=["https://shop.customer.example"]) == ["predicate-trusts-strangers"]


def test_exact_predicate_passes_the_probe() -> None:
    trusted = {"https://shop.customer.example", "https://app.example.com"}
    assert codes(allow_origins=[TRUSTED], allow_credentials=True, allow_origin_predicate=trusted.__contains__,
                 probe_origins=sorted(trusted)) == []


def test_probe_origins_must_be_exact_serialized_origins() -> None:
    assert codes(allow_credentials=True, allow_origin_predicate=set().__contains__,
                 probe_origins=["https://Shop.example", "https://*.example.com"]) == [
        "origin-not-serialized", "invalid-type"]

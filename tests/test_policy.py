"""CORSPolicy: normalisation, immutability, and every refused configuration."""

from __future__ import annotations

import datetime
import inspect
import pickle
import re
from typing import Any

import pytest

from cors_wsgi import CORSConfigError, CORSPolicy, Problem
from cors_wsgi.errors import PROBLEM_CODES

ORIGIN = "https://app.example.com"


def problem_codes(**kwargs: Any) -> list[str]:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(**kwargs)
    return caught.value.codes


# -- construction and normalisation ----------------------------------------


def test_bare_string_is_one_origin() -> None:
    assert CORSPolicy(allow_origins=ORIGIN).allow_origins == (ORIGIN,)


def test_bare_star_allows_all_origins() -> None:
    assert CORSPolicy(allow_origins="*").allows_all_origins


def test_any_iterable_of_strings_is_accepted() -> None:
    policy = CORSPolicy(allow_origins=(o for o in [ORIGIN]), allow_methods={"PUT"})
    assert policy.allow_origins == (ORIGIN,)
    assert policy.allow_methods == ("PUT",)


def test_mutating_the_callers_list_changes_nothing() -> None:
    origins = [ORIGIN]
    policy = CORSPolicy(allow_origins=origins)
    origins.append("https://evil.example.net")
    assert policy.allow_origins == (ORIGIN,)
    assert not policy.allows_origin("https://evil.example.net")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        pytest.param(["put", "Delete", "get"], ("PUT", "DELETE", "GET"), id="six-standard-upper-cased"),
        pytest.param(["patch"], ("patch",), id="patch-keeps-case"),
        pytest.param(["PATCH", "PATCH"], ("PATCH",), id="duplicates-dropped"),
        pytest.param(["PUT", "*"], ("*",), id="star-wins"),
    ],
)
def test_methods_are_normalised(given: list[str], stored: tuple[str, ...]) -> None:
    assert CORSPolicy(allow_origins=ORIGIN, allow_methods=given).allow_methods == stored


def test_header_names_are_lower_cased_and_deduplicated() -> None:
    policy = CORSPolicy(allow_origins=ORIGIN, allow_headers=["Content-Type", "content-type", "X-Token"])
    assert policy.allow_headers == ("content-type", "x-token")


def test_max_age_accepts_a_whole_second_timedelta() -> None:
    policy = CORSPolicy(allow_origins=ORIGIN, max_age=datetime.timedelta(minutes=10))
    assert policy.max_age == 600


def test_max_age_zero_is_kept() -> None:
    assert CORSPolicy(allow_origins=ORIGIN, max_age=0).max_age == 0


def test_regex_alone_is_enough_origin_configuration() -> None:
    policy = CORSPolicy(allow_origin_regex=r"https://pr-[0-9]+\.example\.com")
    assert policy.allows_origin("https://pr-12.example.com")


def test_policy_is_immutable() -> None:
    policy = CORSPolicy(allow_origins=ORIGIN)
    with pytest.raises(AttributeError, match="immutable"):
        policy.allow_credentials = True


def test_policy_attribute_cannot_be_deleted() -> None:
    policy = CORSPolicy(allow_origins=ORIGIN)
    with pytest.raises(AttributeError):
        del policy.allow_origins


def test_equal_arguments_make_equal_and_hash_equal_policies() -> None:
    a = CORSPolicy(allow_origins=[ORIGIN], allow_methods=["put"], max_age=60)
    b = CORSPolicy(allow_origins=ORIGIN, allow_methods=("PUT",), max_age=datetime.timedelta(seconds=60))
    assert a == b
    assert hash(a) == hash(b)


def test_different_policies_are_not_equal() -> None:
    assert CORSPolicy(allow_origins=ORIGIN) != CORSPolicy(allow_origins=ORIGIN, max_age=5)


def test_replace_builds_a_validated_copy() -> None:
    policy = CORSPolicy(allow_origins=ORIGIN)
    changed = policy.replace(max_age=30)
    assert changed.max_age == 30
    assert policy.max_age is None
    with pytest.raises(CORSConfigError):
        policy.replace(allow_origins="*", allow_credentials=True)


def test_replace_keeps_regex_flags() -> None:
    policy = CORSPolicy(allow_origin_regex=re.compile("https://app\\.example\\.com", re.I))
    assert policy.replace(max_age=1).allow_origin_regex == policy.allow_origin_regex


def test_policy_survives_pickling() -> None:
    policy = CORSPolicy(allow_origins=[ORIGIN, "https://*.example.com"], max_age=5)
    clone = pickle.loads(pickle.dumps(policy))
    assert clone == policy
    assert clone.allows_origin("https://a.example.com")


def test_repr_shows_non_default_arguments() -> None:
    assert repr(CORSPolicy(allow_origins=ORIGIN, max_age=5)) == (
        "CORSPolicy(allow_origins=('https://app.example.com',), max_age=5)"
    )


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example.com",
        "http://localhost:3000",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "chrome-extension://abcdefghijklmnop",
        "capacitor://localhost",
        "https://xn--bcher-kva.example",
        "https://*.example.com",
        "http://localhost:*",
        "https://*.example.com:*",
    ],
)
def test_valid_origin_patterns_are_accepted(origin: str) -> None:
    assert CORSPolicy(allow_origins=origin).allow_origins == (origin,)


# -- refusals: each row is one problem, with its stable code -----------------

REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    # (id, kwargs, code)
    ("no-origin-at-all", {}, "no-origins"),
    ("star-with-credentials", {"allow_origins": "*", "allow_credentials": True}, "wildcard-origin-with-credentials"),
    ("star-mixed-with-origins", {"allow_origins": ["*", ORIGIN]}, "wildcard-origin-mixed"),
    ("star-with-regex", {"allow_origins": "*", "allow_origin_regex": "x"}, "wildcard-origin-mixed"),
    ("null", {"allow_origins": "null"}, "null-origin"),
    ("null-upper", {"allow_origins": "NULL"}, "null-origin"),
    ("file-origin", {"allow_origins": "file://"}, "file-origin"),
    ("upper-case", {"allow_origins": "https://App.example.com"}, "origin-not-serialized"),
    ("upper-case-scheme", {"allow_origins": "HTTPS://app.example.com"}, "origin-not-serialized"),
    ("trailing-slash", {"allow_origins": "https://app.example.com/"}, "origin-not-serialized"),
    ("path", {"allow_origins": "https://app.example.com/api"}, "origin-not-serialized"),
    ("query", {"allow_origins": "https://app.example.com?x=1"}, "origin-not-serialized"),
    ("userinfo", {"allow_origins": "https://user@app.example.com"}, "origin-not-serialized"),
    ("default-port-https", {"allow_origins": "https://app.example.com:443"}, "origin-not-serialized"),
    ("default-port-http", {"allow_origins": "http://localhost:80"}, "origin-not-serialized"),
    ("surrounding-whitespace", {"allow_origins": " https://app.example.com"}, "origin-not-serialized"),
    ("two-in-one-string", {"allow_origins": "https://a.example.com https://b.example.com"}, "origin-not-serialized"),
    ("comma-in-string", {"allow_origins": "https://a.example.com,https://b.example.com"}, "origin-not-serialized"),
    ("no-scheme", {"allow_origins": "app.example.com"}, "origin-not-serialized"),
    ("unicode-host", {"allow_origins": "https://bücher.example"}, "origin-not-serialized"),
    ("empty-label", {"allow_origins": "https://app..example.com"}, "origin-not-serialized"),
    ("long-ipv6", {"allow_origins": "http://[0:0:0:0:0:0:0:1]:8080"}, "origin-not-serialized"),
    ("port-zero", {"allow_origins": "https://app.example.com:0"}, "bad-port"),
    ("port-too-big", {"allow_origins": "https://app.example.com:65536"}, "bad-port"),
    ("port-leading-zero", {"allow_origins": "https://app.example.com:0443"}, "bad-port"),
    ("port-not-number", {"allow_origins": "https://app.example.com:x"}, "bad-port"),
    ("wildcard-mid-host", {"allow_origins": "https://foo.*.example.com"}, "misplaced-wildcard"),
    ("wildcard-glued", {"allow_origins": "https://*example.com"}, "misplaced-wildcard"),
    ("wildcard-whole-host", {"allow_origins": "https://*"}, "misplaced-wildcard"),
    ("wildcard-scheme", {"allow_origins": "*://example.com"}, "origin-not-serialized"),
    ("wildcard-on-ip", {"allow_origins": "http://*.0.0.1"}, "misplaced-wildcard"),
    ("insecure-with-credentials", {"allow_origins": "http://app.example.com", "allow_credentials": True}, "insecure-origin-with-credentials"),
    ("insecure-wildcard-with-credentials", {"allow_origins": "http://*.example.com", "allow_credentials": True}, "insecure-origin-with-credentials"),
    ("public-suffix-github-io", {"allow_origins": "https://*.github.io", "allow_credentials": True}, "public-suffix-wildcard"),
    ("public-suffix-co-uk", {"allow_origins": "https://*.co.uk", "allow_credentials": True}, "public-suffix-wildcard"),
    ("public-suffix-tld", {"allow_origins": "https://*.com", "allow_credentials": True}, "public-suffix-wildcard"),
    ("regex-too-broad", {"allow_origin_regex": "https://.*", "allow_credentials": True}, "regex-too-broad"),
    ("regex-unescaped-suffix", {"allow_origin_regex": r"https://.*example\.com", "allow_credentials": True}, "regex-too-broad"),
    ("regex-invalid", {"allow_origin_regex": "https://(", "allow_origins": ORIGIN}, "invalid-regex"),
    ("method-not-token", {"allow_origins": ORIGIN, "allow_methods": "GET POST"}, "invalid-method"),
    ("method-connect", {"allow_origins": ORIGIN, "allow_methods": "CONNECT"}, "forbidden-method"),
    ("method-trace-lower", {"allow_origins": ORIGIN, "allow_methods": "trace"}, "forbidden-method"),
    ("method-track", {"allow_origins": ORIGIN, "allow_methods": "Track"}, "forbidden-method"),
    ("header-not-token", {"allow_origins": ORIGIN, "allow_headers": "X-A, X-B"}, "invalid-header-name"),
    ("header-cookie", {"allow_origins": ORIGIN, "allow_headers": "Cookie"}, "forbidden-header"),
    ("header-origin", {"allow_origins": ORIGIN, "allow_headers": "origin"}, "forbidden-header"),
    ("header-sec-prefix", {"allow_origins": ORIGIN, "allow_headers": "Sec-Fetch-Mode"}, "forbidden-header"),
    ("header-proxy-prefix", {"allow_origins": ORIGIN, "allow_headers": "Proxy-Authorization"}, "forbidden-header"),
    ("expose-not-token", {"allow_origins": ORIGIN, "expose_headers": "X A"}, "invalid-header-name"),
    ("expose-set-cookie", {"allow_origins": ORIGIN, "expose_headers": "Set-Cookie"}, "expose-set-cookie"),
    ("expose-star-with-credentials", {"allow_origins": ORIGIN, "expose_headers": "*", "allow_credentials": True}, "expose-wildcard-with-credentials"),
    ("max-age-negative", {"allow_origins": ORIGIN, "max_age": -1}, "max-age-out-of-range"),
    ("max-age-too-big", {"allow_origins": ORIGIN, "max_age": 86401}, "max-age-out-of-range"),
    ("max-age-float", {"allow_origins": ORIGIN, "max_age": 600.0}, "invalid-type"),
    ("max-age-bool", {"allow_origins": ORIGIN, "max_age": True}, "invalid-type"),
    ("max-age-string", {"allow_origins": ORIGIN, "max_age": "600"}, "invalid-type"),
    ("max-age-fractional-timedelta", {"allow_origins": ORIGIN, "max_age": datetime.timedelta(seconds=1.5)}, "max-age-not-whole-seconds"),
    ("private-network-with-star", {"allow_origins": "*", "allow_private_network": True}, "private-network-with-wildcard-origin"),
    ("credentials-not-bool", {"allow_origins": ORIGIN, "allow_credentials": "true"}, "invalid-type"),
    ("origins-not-iterable", {"allow_origins": 42}, "invalid-type"),
    ("origins-bytes", {"allow_origins": b"https://app.example.com"}, "invalid-type"),
    ("origin-item-not-str", {"allow_origins": [ORIGIN, 3]}, "invalid-type"),
]


@pytest.mark.parametrize(("kwargs", "code"), [pytest.param(k, c, id=i) for i, k, c in REFUSALS])
def test_insecure_or_malformed_configuration_is_refused(kwargs: dict[str, Any], code: str) -> None:
    assert code in problem_codes(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"allow_origins": "http://app.example.com", "allow_credentials": True,
                      "dangerously_tolerate_insecure_origins": True}, id="insecure-tolerated"),
        pytest.param({"allow_origins": "https://*.github.io", "allow_credentials": True,
                      "dangerously_tolerate_subdomains_of_public_suffixes": True}, id="public-suffix-tolerated"),
        pytest.param({"allow_origins": "http://app.example.com"}, id="insecure-without-credentials"),
        pytest.param({"allow_origins": "https://*.github.io"}, id="public-suffix-without-credentials"),
        pytest.param({"allow_origins": ["http://localhost:*", "http://127.0.0.1:8000", "http://[::1]:*",
                                        "http://*.localhost:*"], "allow_credentials": True}, id="loopback-http-with-credentials"),
        pytest.param({"allow_origins": "https://*.example.com", "allow_credentials": True}, id="own-domain-wildcard"),
        pytest.param({"allow_origin_regex": r"https://[a-z0-9-]+\.example\.com", "allow_credentials": True}, id="tight-regex"),
    ],
)
def test_escape_hatches_and_safe_configurations_are_accepted(kwargs: dict[str, Any]) -> None:
    CORSPolicy(**kwargs)


def test_every_problem_is_reported_at_once() -> None:
    codes = problem_codes(
        allow_origins=["*", "null"],
        allow_credentials=True,
        allow_methods="TRACE",
        allow_headers="Cookie",
        expose_headers="Set-Cookie",
        max_age=-5,
    )
    assert set(codes) >= {
        "wildcard-origin-with-credentials", "wildcard-origin-mixed", "null-origin",
        "forbidden-method", "forbidden-header", "expose-set-cookie", "max-age-out-of-range",
    }


def test_problem_carries_argument_value_and_fix() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origins="https://App.example.com/")
    (problem,) = caught.value.problems
    assert problem == Problem(
        "origin-not-serialized", "allow_origins", "https://App.example.com/", problem.message
    )
    assert "'https://app.example.com'" in problem.message


def test_idn_origin_message_gives_punycode() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origins="https://bücher.example")
    assert "'https://xn--bcher-kva.example'" in caught.value.problems[0].message


def test_leading_zero_port_message_gives_fixed_origin() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origins="https://app.example.com:08443")
    assert "'https://app.example.com:8443'" in caught.value.problems[0].message


def test_error_message_lists_every_problem() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origins=["null", "file://"])
    text = str(caught.value)
    assert text.startswith("2 CORS configuration problems:")
    assert "[null-origin]" in text
    assert "[file-origin]" in text


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the subclass relation is the point
        CORSPolicy()


def test_every_code_raised_is_in_the_documented_registry() -> None:
    raised = set()
    for _, kwargs, _code in REFUSALS:
        with pytest.raises(CORSConfigError) as caught:
            CORSPolicy(**kwargs)
        raised.update(caught.value.codes)
    assert raised <= set(PROBLEM_CODES)


def test_problem_codes_are_kebab_case() -> None:
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", code) for code in PROBLEM_CODES)


def test_policy_fields_are_the_constructor_arguments() -> None:
    from cors_wsgi.policy import _FIELDS

    arguments = [name for name in inspect.signature(CORSPolicy.__init__).parameters if name != "self"]
    assert list(_FIELDS) == arguments
    assert list(CORSPolicy(allow_origins=ORIGIN).as_dict()) == arguments


def test_every_policy_argument_can_be_set_from_ini_and_settings() -> None:
    from cors_wsgi._settings import POLICY_CONVERTERS

    arguments = {name for name in inspect.signature(CORSPolicy.__init__).parameters if name != "self"}
    assert set(POLICY_CONVERTERS) == arguments

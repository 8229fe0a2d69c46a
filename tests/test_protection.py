"""CrossOriginProtection, read as a list of attacks: every row of the decision
table (method x Sec-Fetch-Site x Origin x trusted/bypass x mode) is a named
test, and Hypothesis throws hostile Origin spellings at the Origin fallback."""

from __future__ import annotations

import logging
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import webtest
from hypothesis import given, settings
from hypothesis import strategies as st
from paste.deploy import loadapp

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy, CrossOriginProtection
from cors_wsgi.protection import PROTECTION_REASONS, protection_filter_factory
from cors_wsgi.refusals import REFUSAL_REASONS, Refusal
from tests.conftest import RecordingApp, StartResponse

OWN = "https://good.example"
TRUSTED = "https://sso.example.net"
EVIL = "https://evil.example"


def env(method: str = "POST", site: str | None = None, origin: str | None = None, path: str = "/account",
        **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.url_scheme": "https",
        "HTTP_HOST": "good.example", "SERVER_NAME": "good.example", "SERVER_PORT": "443", **extra,
    }
    if site is not None:
        environ["HTTP_SEC_FETCH_SITE"] = site
    if origin is not None:
        environ["HTTP_ORIGIN"] = origin
    return environ


@dataclass
class Outcome:
    status: str
    headers: dict[str, str]
    body: bytes
    app_called: bool
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.app_called and self.status == "200 OK"


def run(environ: dict[str, Any], **config: Any) -> Outcome:
    seen: list[Refusal] = []
    app = RecordingApp()
    gate = CrossOriginProtection(app, on_refusal=seen.append, **config)
    start_response = StartResponse()
    body = b"".join(gate(environ, start_response))
    ((status, headers),) = start_response.calls
    return Outcome(status, dict(headers), body, app.calls == 1, seen)


BASE = {"trusted_origins": [TRUSTED], "bypass_paths": ["/webhooks/*"]}

#: (id, environ, config, refusal reason or None for "passes")
TABLE: list[tuple[str, dict[str, Any], dict[str, Any], str | None]] = [
    # Safe methods always pass, whatever they say.
    ("get-cross-site-passes", env("GET", "cross-site", EVIL), {}, None),
    ("head-cross-site-passes", env("HEAD", "cross-site", EVIL), {}, None),
    ("options-cross-site-passes", env("OPTIONS", "cross-site", EVIL), {}, None),
    ("get-malformed-origin-passes", env("GET", None, "http://evil@good.example"), {}, None),
    ("lowercase-get-is-not-safe", env("get", "cross-site", EVIL), {}, "csrf-cross-site"),
    # Sec-Fetch-Site decides.
    ("post-same-origin-passes", env("POST", "same-origin", OWN), {}, None),
    ("put-same-origin-passes", env("PUT", "same-origin", OWN), {}, None),
    ("delete-same-origin-passes", env("DELETE", "same-origin", None), {}, None),
    ("post-none-passes", env("POST", "none", None), {}, None),
    ("patch-none-passes", env("PATCH", "none", None), {}, None),
    ("same-origin-wins-over-a-foreign-origin", env("POST", "same-origin", EVIL), {}, None),
    ("post-same-site-refused", env("POST", "same-site", "https://blog.good.example"), {}, "csrf-same-site"),
    ("post-same-site-allowed", env("POST", "same-site", "https://blog.good.example"),
     {"allow_same_site": True}, None),
    ("post-cross-site-refused", env("POST", "cross-site", EVIL), BASE, "csrf-cross-site"),
    ("delete-cross-site-refused", env("DELETE", "cross-site", EVIL), BASE, "csrf-cross-site"),
    ("cross-site-without-origin-refused", env("POST", "cross-site", None), BASE, "csrf-cross-site"),
    ("cross-site-claiming-own-origin-refused", env("POST", "cross-site", OWN), BASE, "csrf-cross-site"),
    ("cross-site-same-site-allowed-still-refused", env("POST", "cross-site", EVIL),
     {"allow_same_site": True}, "csrf-cross-site"),
    ("cross-site-trusted-origin-passes", env("POST", "cross-site", TRUSTED), BASE, None),
    ("cross-site-trusted-origin-with-default-port-refused", env("POST", "cross-site", TRUSTED + ":443"),
     BASE, "csrf-cross-site"),
    ("cross-site-trusted-origin-with-userinfo-refused",
     env("POST", "cross-site", "https://evil@sso.example.net"), BASE, "csrf-cross-site"),
    ("same-site-trusted-origin-passes", env("POST", "same-site", TRUSTED), BASE, None),
    ("cross-site-bypass-path-passes", env("POST", "cross-site", EVIL, "/webhooks/stripe"), BASE, None),
    ("cross-site-bypass-root-passes", env("POST", "cross-site", EVIL, "/webhooks"), BASE, None),
    ("cross-site-bypass-sibling-refused", env("POST", "cross-site", EVIL, "/webhooksx"), BASE, "csrf-cross-site"),
    ("cross-site-bypass-dot-segments-refused", env("POST", "cross-site", EVIL, "/webhooks/../account"),
     BASE, "csrf-cross-site"),
    ("cross-site-bypass-double-slash-refused", env("POST", "cross-site", EVIL, "//webhooks/x"),
     BASE, "csrf-cross-site"),
    ("fetch-site-upper-case-refused", env("POST", "Same-Origin", OWN), BASE, "csrf-fetch-site-malformed"),
    ("fetch-site-empty-refused", env("POST", "", OWN), BASE, "csrf-fetch-site-malformed"),
    ("fetch-site-list-refused", env("POST", "cross-site, same-origin", OWN), BASE, "csrf-fetch-site-malformed"),
    ("fetch-site-unknown-trusted-passes", env("POST", "cross-origin", TRUSTED), BASE, None),
    # No Sec-Fetch-Site: the Origin fallback.
    ("no-metadata-no-origin-passes", env("POST"), {}, None),
    ("no-metadata-no-origin-strict-https-refused", env("POST"), {"strict": True}, "csrf-no-origin-strict"),
    ("no-metadata-no-origin-strict-http-passes", env("POST", **{"wsgi.url_scheme": "http"}),
     {"strict": True}, None),
    ("no-metadata-no-origin-strict-bypass-passes", env("POST", path="/webhooks/x"),
     {"strict": True, **BASE}, None),
    ("no-metadata-no-origin-strict-public-https-refused",
     env("POST", **{"wsgi.url_scheme": "http", "HTTP_HOST": "app:8000"}),
     {"strict": True, "public_origins": [OWN]}, "csrf-no-origin-strict"),
    ("no-metadata-own-origin-passes", env("POST", None, OWN), {}, None),
    ("no-metadata-own-origin-strict-passes", env("POST", None, OWN), {"strict": True}, None),
    ("no-metadata-trusted-origin-passes", env("POST", None, TRUSTED), BASE, None),
    ("no-metadata-foreign-origin-refused", env("POST", None, EVIL), BASE, "csrf-origin-mismatch"),
    ("no-metadata-foreign-origin-bypass-passes", env("POST", None, EVIL, "/webhooks/x"), BASE, None),
    ("no-metadata-http-twin-refused", env("POST", None, "http://good.example"), {}, "csrf-origin-mismatch"),
    ("no-metadata-other-port-refused", env("POST", None, "https://good.example:8443"), {}, "csrf-origin-mismatch"),
    ("no-metadata-null-refused", env("POST", None, "null"), {}, "csrf-origin-malformed"),
    ("no-metadata-userinfo-refused", env("POST", None, "https://evil@good.example"), {}, "csrf-origin-malformed"),
    ("no-metadata-default-port-refused", env("POST", None, "https://good.example:443"), {}, "csrf-origin-malformed"),
    ("no-metadata-upper-case-refused", env("POST", None, "https://GOOD.example"), {}, "csrf-origin-malformed"),
    ("no-metadata-trailing-slash-refused", env("POST", None, OWN + "/"), {}, "csrf-origin-malformed"),
    ("no-metadata-host-with-default-port-is-own", env("POST", None, OWN, HTTP_HOST="good.example:443"), {}, None),
    ("no-metadata-server-name-is-own", env("POST", None, "http://good.example:8080", HTTP_HOST="",
                                            SERVER_PORT="8080", **{"wsgi.url_scheme": "http"}), {}, None),
    ("no-metadata-malformed-host-has-no-own-origin",
     env("POST", None, OWN, HTTP_HOST="evil@good.example"), {}, "csrf-origin-mismatch"),
    ("public-origin-passes-behind-a-proxy",
     env("POST", None, OWN, HTTP_HOST="app:8000", **{"wsgi.url_scheme": "http"}), {"public_origins": [OWN]}, None),
    ("public-origins-replace-the-environ-origin",
     env("POST", None, "http://app:8000", HTTP_HOST="app:8000", **{"wsgi.url_scheme": "http"}),
     {"public_origins": [OWN]}, "csrf-origin-mismatch"),
    ("proxy-rewriting-host-without-public-origins-refuses",
     env("POST", None, OWN, HTTP_HOST="app:8000", **{"wsgi.url_scheme": "http"}), {}, "csrf-origin-mismatch"),
    ("trust-cors-policy-exact-origin-passes", env("POST", "cross-site", "https://app.example.com"),
     {"trust_cors_policy": CORSPolicy(allow_origins=["https://app.example.com", "https://*.example.com"],
                                      allow_credentials=True)}, None),
    ("trust-cors-policy-wildcard-is-not-trusted", env("POST", "cross-site", "https://x.example.com"),
     {"trust_cors_policy": CORSPolicy(allow_origins=["https://app.example.com", "https://*.example.com"],
                                      allow_credentials=True)}, "csrf-cross-site"),
]


@pytest.mark.parametrize(("environ", "config", "reason"), [pytest.param(e, c, r, id=i) for i, e, c, r in TABLE])
def test_decision_table(environ: dict[str, Any], config: dict[str, Any], reason: str | None) -> None:
    outcome = run(environ, **config)
    if reason is None:
        assert outcome.passed
        assert outcome.refusals == []
    else:
        assert (outcome.status, outcome.app_called) == ("403 Forbidden", False)
        assert [r.reason for r in outcome.refusals] == [reason]
        assert outcome.body == PROTECTION_REASONS[reason].encode() + b"\n"
        assert outcome.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(("environ", "config", "reason"),
                         [pytest.param(e, c, r, id=i) for i, e, c, r in TABLE if r is not None])
def test_report_mode_passes_every_refusal_and_tells_the_hook(
    environ: dict[str, Any], config: dict[str, Any], reason: str
) -> None:
    outcome = run(environ, mode="report", **config)
    assert outcome.passed
    assert [r.reason for r in outcome.refusals] == [reason]


def test_every_protection_reason_is_in_the_decision_table_and_registered() -> None:
    assert {r for *_, r in TABLE if r} == set(PROTECTION_REASONS)
    assert set(PROTECTION_REASONS) <= set(REFUSAL_REASONS)


# -- Origin: http://evil@good.example (golang/go#78563) --------------------------


@pytest.mark.parametrize("site", [None, "cross-site", "same-site"], ids=["no-fetch-metadata", "cross-site", "same-site"])
def test_origin_http_evil_at_good_example_is_refused(site: str | None) -> None:
    environ = env("POST", site, "http://evil@good.example", HTTP_HOST="good.example",
                  **{"wsgi.url_scheme": "http"})
    outcome = run(environ, trusted_origins=["http://good.example"], public_origins=())
    assert outcome.status == "403 Forbidden"


def test_origin_http_evil_at_good_example_is_refused_in_the_origin_fallback_as_malformed() -> None:
    outcome = run(env("POST", None, "http://evil@good.example", **{"wsgi.url_scheme": "http"}))
    assert [r.reason for r in outcome.refusals] == ["csrf-origin-malformed"]
    assert outcome.refusals[0].origin == "'http://evil@good.example'"


def test_origin_http_evil_at_good_example_cannot_be_trusted() -> None:
    with pytest.raises(CORSConfigError) as raised:
        CrossOriginProtection(RecordingApp(), trusted_origins=["http://evil@good.example"])
    assert raised.value.codes == ["origin-not-serialized"]


# -- Hypothesis: hostile Origin spellings ------------------------------------------

HOSTS = {
    "dns": ("good.example", "https://good.example"),
    "ipv6": ("[::1]:8443", "https://[::1]:8443"),
    "idna": ("xn--bcher-kva.example", "https://xn--bcher-kva.example"),
    "ipv4": ("127.0.0.1:8000", "https://127.0.0.1:8000"),
}
SPELLINGS = {
    "dns": ["good.example", "GOOD.example", "good.example.", "good.example:443", "good.example:0443",
            "evil@good.example", "good.example@evil.example", "good.example:443@evil", "good%2eexample",
            "good.example:", "good.exampl\u0435", "xn--good-example"],
    "ipv6": ["[::1]:8443", "[0:0::1]:8443", "[::0001]:8443", "[::1%25eth0]:8443", "[::1]", "::1:8443",
             "[0000:0000:0000:0000:0000:0000:0000:0001]:8443", "[::ffff:127.0.0.1]:8443"],
    "idna": ["xn--bcher-kva.example", "bücher.example", "BÜCHER.example", "XN--BCHER-KVA.example",
             "xn--bcher-kva.example.", "b\u00fccher.example"],
    "ipv4": ["127.0.0.1:8000", "127.1:8000", "0x7f.0.0.1:8000", "2130706433:8000", "127.0.0.01:8000",
             "127.000.000.001:8000"],
}


@st.composite
def hostile_origins(draw: st.DrawFn) -> tuple[str, str, str]:
    """``(HTTP_HOST, own origin, Origin to send)``."""
    kind = draw(st.sampled_from(sorted(HOSTS)))
    host, own = HOSTS[kind]
    scheme = draw(st.sampled_from(["https", "HTTPS", "Https", "http", "wss", "https:", ""]))
    authority = draw(st.sampled_from(SPELLINGS[kind]))
    userinfo = draw(st.sampled_from(["", "", "evil@", "user:pass@", "@", "good.example@"]))
    tail = draw(st.sampled_from(["", "", "/", "/path", "?q", "#f", ":443", ".", "\x00", "\r\n", "%00"]))
    pad = draw(st.sampled_from(["", "", " ", "\t", "\x0b", "\u00a0", "\ufeff"]))
    noise = draw(st.text(st.characters(codec="utf-8"), max_size=3))
    overlong = draw(st.sampled_from(["", "", "a" * 600]))
    origin = f"{pad}{scheme}://{userinfo}{overlong}{authority}{tail}{noise}{pad}"
    return host, own, origin


@settings(max_examples=600, deadline=None)
@given(hostile_origins())
def test_hostile_origin_spelling_passes_only_as_the_exact_own_origin(case: tuple[str, str, str]) -> None:
    host, own, origin = case
    outcome = run(env("POST", None, origin, HTTP_HOST=host))
    assert outcome.passed == (origin == own)


@settings(max_examples=600, deadline=None)
@given(hostile_origins(), st.sampled_from(["cross-site", "same-site", None]))
def test_hostile_origin_spelling_passes_only_as_the_exact_trusted_origin(
    case: tuple[str, str, str], site: str | None
) -> None:
    _, trusted, origin = case
    outcome = run(env("POST", site, origin, HTTP_HOST="unrelated.example"), trusted_origins=[trusted])
    assert outcome.passed == (origin == trusted)


NEAR_MISSES = [
    lambda o: o.replace("://", "://evil@"), lambda o: o.replace("://", "://user:pass@"),
    lambda o: o.replace("://", "://@"), lambda o: o.upper(), lambda o: o.capitalize(),
    lambda o: o + ":443", lambda o: o + ":", lambda o: o + ".", lambda o: o + "/", lambda o: " " + o,
    lambda o: o + " ", lambda o: o + "\x00", lambda o: o + "\r\n", lambda o: o.replace("https", "http"),
    lambda o: o + "@evil.example", lambda o: o.replace("://", ":///"), lambda o: o + "#", lambda o: o * 2,
    lambda o: o + "a" * 600, lambda o: o.replace("[::1]", "[0::1]"), lambda o: o.replace("xn--bcher-kva", "bücher"),
]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(HOSTS)), st.lists(st.sampled_from(NEAR_MISSES), min_size=1, max_size=3))
def test_near_misses_of_the_own_origin_never_pass(kind: str, mutations: list[Any]) -> None:
    host, own = HOSTS[kind]
    origin = own
    for mutate in mutations:
        origin = mutate(origin)
    outcome = run(env("POST", None, origin, HTTP_HOST=host))
    assert outcome.passed == (origin == own)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=700))
def test_arbitrary_origin_text_passes_only_when_exact(origin: str) -> None:
    outcome = run(env("POST", None, origin), trusted_origins=[TRUSTED])
    assert outcome.passed == (origin in (OWN, TRUSTED))
    assert all(r.origin is not None and r.origin.isascii() and r.origin.isprintable() and len(r.origin) <= 203
               for r in outcome.refusals)


# -- Vary ------------------------------------------------------------------------------


@pytest.mark.parametrize(("environ", "vary"), [
    pytest.param(env("GET", "cross-site", EVIL), None, id="safe-method-no-vary"),
    pytest.param(env("OPTIONS", "cross-site", EVIL), None, id="options-no-vary"),
    pytest.param(env("POST", "same-origin", OWN), "Sec-Fetch-Site", id="decided-by-fetch-site"),
    pytest.param(env("POST", "none"), "Sec-Fetch-Site", id="none-decided-by-fetch-site"),
    pytest.param(env("POST", "cross-site", TRUSTED), "Sec-Fetch-Site, Origin", id="trusted-origin-read"),
    pytest.param(env("POST", None, OWN), "Sec-Fetch-Site, Origin", id="origin-fallback"),
    pytest.param(env("POST"), "Sec-Fetch-Site, Origin", id="no-origin-fallback"),
    pytest.param(env("POST", "cross-site", EVIL, "/webhooks/x"), "Sec-Fetch-Site", id="bypass-by-path"),
    pytest.param(env("POST", "cross-site", EVIL), "Sec-Fetch-Site, Origin", id="refusal-varies-too"),
])
def test_vary_names_exactly_the_headers_that_decided(environ: dict[str, Any], vary: str | None) -> None:
    assert run(environ, **BASE).headers.get("Vary") == vary


def test_vary_is_merged_into_the_application_vary() -> None:
    app = RecordingApp(headers=[("Vary", "Accept-Encoding, origin")])
    start_response = StartResponse()
    CrossOriginProtection(app)(env("POST", None, OWN), start_response)
    assert dict(start_response.headers[0])["Vary"] == "Accept-Encoding, origin, Sec-Fetch-Site"


# -- logging and the hook -----------------------------------------------------------


def test_refusal_is_logged_escaped_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="cors_wsgi"):
        run(env("POST", "cross-site\x1b[2J", "https://evil.example\r\nforged: yes"))
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG
    message = record.getMessage()
    assert "\x1b" not in message
    assert "\n" not in message
    assert "\r" not in message
    assert "(csrf-fetch-site-malformed)" in message
    assert "\\x1b[2J" in message
    assert "\\r\\n" in message


def test_report_mode_logs_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
        outcome = run(env("POST", "cross-site", EVIL), mode="report")
    assert outcome.passed
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "would refuse (report mode) (csrf-cross-site)" in caplog.records[0].getMessage()


def test_hook_exception_is_logged_and_the_response_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    def broken(refusal: Refusal) -> None:
        raise RuntimeError("metrics down")

    gate = CrossOriginProtection(RecordingApp(), on_refusal=broken)
    start_response = StartResponse()
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        body = b"".join(gate(env("POST", "cross-site", EVIL), start_response))
    assert start_response.statuses == ["403 Forbidden"]
    assert body == b"cross-site request refused (Sec-Fetch-Site: cross-site)\n"
    assert "on_refusal hook raised" in caplog.records[0].getMessage()


def test_no_log_record_without_debug_or_hook(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="cors_wsgi"):
        gate = CrossOriginProtection(RecordingApp())
        gate(env("POST", "cross-site", EVIL), StartResponse())
    assert caplog.records == []


# -- configuration -------------------------------------------------------------------


def test_every_configuration_problem_at_once() -> None:
    with pytest.raises(CORSConfigError) as raised:
        CrossOriginProtection(
            RecordingApp(),
            trusted_origins=["https://ok.example", "https://*.example.com", "null", "HTTPS://A.example",
                             "https://a.example/", "https://a.example:443"],
            bypass_paths=["/", "/*", "webhooks", "/a/*/b", "/webhooks/*"],
            allow_same_site="yes",  # type: ignore[arg-type]
            mode="log",
            strict=1,  # type: ignore[arg-type]
            public_origins=["https://evil@good.example"],
            trust_cors_policy=CORSPolicy(allow_origins="https://app.example.com"),
            on_refusal="print",  # type: ignore[arg-type]
        )
    assert raised.value.codes == [
        "invalid-type", "null-origin", "origin-not-serialized", "origin-not-serialized",
        "origin-not-serialized", "cors-policy-without-credentials", "bypass-covers-everything",
        "bypass-covers-everything", "invalid-path-pattern", "invalid-path-pattern",
        "origin-not-serialized", "invalid-type", "invalid-type", "invalid-protection-mode", "invalid-type",
    ]


@pytest.mark.parametrize("pattern", ["/", "/*", "//", "/./*", "/../*"])
def test_a_bypass_of_everything_is_refused(pattern: str) -> None:
    with pytest.raises(CORSConfigError) as raised:
        CrossOriginProtection(RecordingApp(), bypass_paths=[pattern])
    assert raised.value.codes == ["bypass-covers-everything"]


def test_configuration_is_kept_normalized() -> None:
    gate = CrossOriginProtection(RecordingApp(), trusted_origins=TRUSTED, bypass_paths="/webhooks/*",
                                 trust_cors_policy=CORSPolicy(allow_origins=["https://app.example.com"],
                                                              allow_credentials=True))
    assert gate.trusted_origins == (TRUSTED, "https://app.example.com")
    assert gate.bypass_paths == ("/webhooks/*",)
    assert (gate.mode, gate.strict, gate.allow_same_site) == ("enforce", False, False)


def test_from_settings_reads_prefixed_keys() -> None:
    settings = {
        "CORS_PROTECTION_TRUSTED_ORIGINS": "https://sso.example.net https://b.example",
        "CORS_PROTECTION_BYPASS_PATHS": ["/webhooks/*"],
        "CORS_PROTECTION_ALLOW_SAME_SITE": "true",
        "CORS_PROTECTION_MODE": "report",
        "CORS_PROTECTION_STRICT": True,
        "CORS_ALLOW_ORIGINS": "ignored: another prefix",
    }
    gate = CrossOriginProtection.from_settings(RecordingApp(), settings)
    assert gate.trusted_origins == (TRUSTED, "https://b.example")
    assert (gate.bypass_paths, gate.allow_same_site, gate.mode, gate.strict) == (
        ("/webhooks/*",), True, "report", True)


def test_from_settings_builds_on_refusal_from_a_factory() -> None:
    gate = CrossOriginProtection.from_settings(RecordingApp(), {
        "CORS_PROTECTION_ON_REFUSAL": "tests.test_settings_hooks:recorder()",
    })
    from tests.test_settings_hooks import record

    assert gate.on_refusal is record  # type: ignore[comparison-overlap]  # a Decision hook, as it happens


def test_from_settings_names_every_bad_key() -> None:
    with pytest.raises(CORSConfigError) as raised:
        CrossOriginProtection.from_settings(RecordingApp(), {
            "CORS_PROTECTION_TRUSTED_ORIGIN": "https://a.example",
            "CORS_PROTECTION_STRICT": "maybe",
            "CORS_PROTECTION_MODE": "off",
            "CORS_PROTECTION_BYPASS_PATHS": "/",
        })
    assert [(p.code, p.argument) for p in raised.value.problems] == [
        ("unknown-key", "CORS_PROTECTION_TRUSTED_ORIGIN"),
        ("invalid-value", "CORS_PROTECTION_STRICT"),
        ("bypass-covers-everything", "CORS_PROTECTION_BYPASS_PATHS"),
        ("invalid-protection-mode", "CORS_PROTECTION_MODE"),
    ]
    assert "did you mean 'CORS_PROTECTION_TRUSTED_ORIGINS'?" in raised.value.problems[0].message


def test_from_settings_reads_an_object_like_django_settings() -> None:
    class Settings:
        CORS_PROTECTION_MODE = "report"

    assert CrossOriginProtection.from_settings(RecordingApp(), Settings()).mode == "report"


# -- composition with CORSMiddleware ------------------------------------------------------

POLICY = CORSPolicy(allow_origins=TRUSTED, allow_methods=["PUT"], allow_headers=["Content-Type"],
                    allow_credentials=True)


def both_orders() -> list[Any]:
    return [
        pytest.param(lambda app: CORSMiddleware(CrossOriginProtection(app, trust_cors_policy=POLICY), POLICY),
                     id="cors-outermost"),
        pytest.param(lambda app: CrossOriginProtection(CORSMiddleware(app, POLICY), trust_cors_policy=POLICY),
                     id="gate-outermost"),
    ]


@pytest.mark.parametrize("wrap", both_orders())
def test_preflight_from_trusted_origin_is_answered_in_either_order(wrap: Any) -> None:
    client = webtest.TestApp(wrap(RecordingApp()))
    response = client.options("/items", headers={
        "Origin": TRUSTED, "Sec-Fetch-Site": "cross-site", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type"}, status=204)
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED


@pytest.mark.parametrize("wrap", both_orders())
def test_trusted_cross_site_put_passes_in_either_order(wrap: Any) -> None:
    client = webtest.TestApp(wrap(RecordingApp()))
    response = client.put("/items", "{}", headers={"Origin": TRUSTED, "Sec-Fetch-Site": "cross-site"}, status=200)
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED


@pytest.mark.parametrize("wrap", both_orders())
def test_forged_cross_site_post_is_refused_in_either_order(wrap: Any) -> None:
    client = webtest.TestApp(wrap(RecordingApp()))
    response = client.post("/items", "x", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}, status=403)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_with_cors_outermost_a_trusted_page_can_read_the_refusal() -> None:
    app = CORSMiddleware(CrossOriginProtection(RecordingApp()), POLICY)
    response = webtest.TestApp(app).post(
        "/items", "x", headers={"Origin": TRUSTED, "Sec-Fetch-Site": "cross-site"}, status=403)
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert response.text == "cross-site request refused (Sec-Fetch-Site: cross-site)\n"


def test_gate_passes_the_wsgi_lint() -> None:
    client = webtest.TestApp(CrossOriginProtection(RecordingApp(headers=[("Content-Type", "text/plain")])),
                             lint=True)
    client.post("/x", "x", headers={"Sec-Fetch-Site": "cross-site"}, status=403)
    client.post("/x", "x", headers={"Sec-Fetch-Site": "same-origin"}, status=200)


# -- PasteDeploy -----------------------------------------------------------------------------

INI = """
[app:plain]
use = call:tests.test_paste:plain_app_factory

[pipeline:main]
pipeline = csrf plain

[filter:csrf]
"""


def load(tmp_path: Path, section: str, defaults: str = "") -> Any:
    ini = tmp_path / "app.ini"
    ini.write_text(("[DEFAULT]\n" + textwrap.dedent(defaults) if defaults else "") + INI + textwrap.dedent(section))
    return loadapp(f"config:{ini}")


@pytest.mark.parametrize("use", ["egg:cors_wsgi#protection", "call:cors_wsgi.protection:protection_filter_factory"])
def test_paste_filter_builds_the_gate(tmp_path: Path, use: str) -> None:
    gate = load(tmp_path, f"""
        use = {use}
        trusted_origins = https://sso.example.net
            https://b.example
        bypass_paths = /webhooks/*
        mode = report
        strict = yes
        """)
    assert isinstance(gate, CrossOriginProtection)
    assert gate.trusted_origins == (TRUSTED, "https://b.example")
    assert (gate.bypass_paths, gate.mode, gate.strict) == (("/webhooks/*",), "report", True)


def test_paste_filter_refuses_at_loadapp(tmp_path: Path) -> None:
    with pytest.raises(CORSConfigError) as raised:
        load(tmp_path, """
            use = call:cors_wsgi.protection:protection_filter_factory
            bypass_paths = /
            mdoe = report
            """, defaults="strict = true\n")
    assert sorted(raised.value.codes) == ["bypass-covers-everything", "key-in-default-section", "unknown-key"]


def test_paste_filter_factory_in_python() -> None:
    wrap = protection_filter_factory({}, trusted_origins=TRUSTED)
    assert wrap(RecordingApp()).trusted_origins == (TRUSTED,)

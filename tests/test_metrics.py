"""``on_decision`` and its adapters (cors_wsgi.metrics): one Decision per
request with an Origin, counters whose label values stay bounded, span attributes."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy, metrics
from cors_wsgi._engine import Unanswered
from cors_wsgi.refusals import DECISION_OUTCOMES, REFUSAL_KINDS, REFUSAL_REASONS, Decision, Refusal
from cors_wsgi.views import NOT_CROSS_ORIGIN
from tests.conftest import API, RecordingApp, StartResponse, discard_response

API_POLICY = CORSPolicy(allow_origins=[API], allow_methods=["PUT"], allow_headers=["Content-Type"])
ADMIN_POLICY = CORSPolicy(allow_origins=["https://admin.example.com"])
VIEW_POLICY = CORSPolicy(allow_origins=[API], allow_methods=["DELETE"])
MAPPING = {"/admin/*": ADMIN_POLICY, "/api/*": API_POLICY}
EVIL = "https://evil.example"


def resolver(environ: dict[str, Any], method: str) -> CORSPolicy | Unanswered | None:
    """``/views/*`` reaches a view with its own policy; ``/api/closed`` one marked ``@no_cross_origin``."""
    path = environ.get("PATH_INFO", "")
    if path.startswith("/views/"):
        return VIEW_POLICY
    return NOT_CROSS_ORIGIN if path == "/api/closed" else None


def environ(method: str = "GET", path: str = "/api/x", origin: str | None = API, **extra: str) -> dict[str, Any]:
    env: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, **extra}
    if origin is not None:
        env["HTTP_ORIGIN"] = origin
    return env


def preflight(asks: str = "PUT", **kwargs: Any) -> dict[str, Any]:
    return environ("OPTIONS", HTTP_ACCESS_CONTROL_REQUEST_METHOD=asks, **kwargs)


def middleware(hook: Any, **kwargs: Any) -> CORSMiddleware:
    return CORSMiddleware(RecordingApp(), MAPPING, resolver=resolver, on_decision=hook, **kwargs)


def decisions(*environs: dict[str, Any], **kwargs: Any) -> list[Decision]:
    seen: list[Decision] = []
    app = middleware(seen.append, **kwargs)
    for env in environs:
        app(env, discard_response)
    return seen


CASES = [
    ("actual-allowed", environ(), Decision("actual", "allowed", None, f"'{API}'", "'GET'", "/api/*")),
    ("preflight-allowed", preflight(), Decision("preflight", "allowed", None, f"'{API}'", "'PUT'", "/api/*")),
    ("actual-refused", environ(origin=EVIL),
     Decision("actual", "refused", "origin-not-allowed", f"'{EVIL}'", "'GET'", "/api/*")),
    ("preflight-method", preflight("DELETE"),
     Decision("preflight", "refused", "method-not-allowed", f"'{API}'", "'DELETE'", "/api/*")),
    ("preflight-header", preflight(HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-token"),
     Decision("preflight", "refused", "header-not-allowed", f"'{API}'", "'PUT'", "/api/*")),
    ("other-pattern", environ(path="/admin/x", origin="https://admin.example.com"),
     Decision("actual", "allowed", None, "'https://admin.example.com'", "'GET'", "/admin/*")),
    ("view-policy", preflight("DELETE", path="/views/x"),
     Decision("preflight", "allowed", None, f"'{API}'", "'DELETE'", "@cross_origin")),
    ("view-closed", environ(path="/api/closed"),
     Decision("actual", "refused", "view-not-cross-origin", f"'{API}'", "'GET'", None)),
    ("path-not-covered", environ(path="/other"),
     Decision("actual", "refused", "path-not-covered", f"'{API}'", "'GET'", None)),
    ("path-ambiguous", preflight(path="//admin/x"),
     Decision("preflight", "refused", "path-ambiguous", f"'{API}'", "'PUT'", None)),
]


@pytest.mark.parametrize(("env", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_request_with_an_origin_makes_one_decision(env: dict[str, Any], expected: Decision) -> None:
    assert decisions(env) == [expected]


@pytest.mark.parametrize("path", ["/api/x", "/other", "/api/closed", "//admin/x", "/views/x"])
@pytest.mark.parametrize("method", ["GET", "OPTIONS", "POST"])
def test_a_request_without_origin_makes_none(path: str, method: str) -> None:
    assert decisions(environ(method, path, origin=None)) == []


def test_a_single_policy_has_no_pattern() -> None:
    seen: list[Decision] = []
    CORSMiddleware(RecordingApp(), API_POLICY, on_decision=seen.append)(environ(path="/x"), discard_response)
    assert seen == [Decision("actual", "allowed", None, f"'{API}'", "'GET'", None)]


def test_a_debug_answer_to_a_refused_preflight_is_refused() -> None:
    [decision] = decisions(preflight("DELETE"), debug=True)
    assert (decision.outcome, decision.reason) == ("refused", "method-not-allowed")


def test_cached_answers_still_make_decisions() -> None:
    assert [d.outcome for d in decisions(environ(), environ(), preflight(), preflight())] == ["allowed"] * 4


def test_the_raw_origin_and_method_are_escaped() -> None:
    [decision] = decisions(environ("G\nET", origin="https://x\u2028\x00.example"))
    assert decision.origin == ascii("https://x\u2028\x00.example")
    assert decision.method == "'G\\nET'"


def test_on_refusal_sees_exactly_what_it_saw_without_on_decision() -> None:
    envs = [env for _, env, _ in CASES]
    alone: list[Refusal] = []
    with_decisions: list[Refusal] = []
    for sink, hook in ((alone, None), (with_decisions, lambda _decision: None)):
        app = CORSMiddleware(RecordingApp(), MAPPING, resolver=resolver, on_refusal=sink.append, on_decision=hook)
        for env in envs:
            app(env, discard_response)
    assert with_decisions == alone
    assert len(alone) == sum(expected.outcome == "refused" for _, _, expected in CASES)


def test_a_raising_hook_changes_no_response(caplog: pytest.LogCaptureFixture) -> None:
    def hook(decision: Decision) -> None:
        raise RuntimeError("metrics backend down")

    for env in (environ(), preflight(), environ(origin=EVIL)):
        expected, got = StartResponse(), StartResponse()
        CORSMiddleware(RecordingApp(), MAPPING, resolver=resolver)(dict(env), expected)
        with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
            caplog.clear()
            middleware(hook)(dict(env), got)
        assert got.calls == expected.calls
        assert "on_decision hook raised" in caplog.records[-1].getMessage()


def test_on_decision_must_be_callable() -> None:
    with pytest.raises(CORSConfigError) as raised:
        CORSMiddleware(RecordingApp(), API_POLICY, on_decision="metrics")  # type: ignore[arg-type]
    assert [(p.code, p.argument) for p in raised.value.problems] == [("invalid-type", "on_decision")]


def test_explain_never_fires_on_decision() -> None:
    seen: list[Decision] = []
    app = middleware(seen.append)
    assert str(app.explain(API, "PUT", {"Content-Type": "application/json"}, path="/api/x")).startswith("allowed")
    assert str(app.explain(EVIL, path="/api/x")).startswith("blocked")
    assert app.policy is not None
    assert seen == []
    app(environ(), discard_response)
    assert len(seen) == 1


# -- Prometheus ----------------------------------------------------------------------


def scrape(registry: CollectorRegistry) -> dict[str, float]:
    """``cors_wsgi_decisions_total`` lines of the text exposition, by label string."""
    found: dict[str, float] = {}
    for line in generate_latest(registry).decode().splitlines():
        if line.startswith("cors_wsgi_decisions_total{"):
            labels, value = line.rsplit(" ", 1)
            found[labels.removeprefix("cors_wsgi_decisions_total")] = float(value)
    return found


def test_a_scrape_shows_the_exact_counts() -> None:
    registry = CollectorRegistry()
    app = middleware(metrics.prometheus(registry))
    script = (
        [environ()] * 3 + [preflight()] * 2 + [environ(origin=EVIL)] * 4 + [preflight("DELETE")]
        + [environ(path="/admin/y", origin="https://admin.example.com")] * 2
        + [preflight(path="/admin/y", origin=EVIL)]
        + [preflight("DELETE", path="/views/1"), preflight("DELETE", path="/views/2")]
        + [environ(path="/nowhere")] * 5 + [environ(origin=None)] * 7 + [preflight(path="/api/closed")]
    )
    for env in script:
        app(dict(env), discard_response)
    assert scrape(registry) == {
        '{kind="actual",outcome="allowed",path_pattern="/api/*",reason=""}': 3.0,
        '{kind="preflight",outcome="allowed",path_pattern="/api/*",reason=""}': 2.0,
        '{kind="actual",outcome="refused",path_pattern="/api/*",reason="origin-not-allowed"}': 4.0,
        '{kind="preflight",outcome="refused",path_pattern="/api/*",reason="method-not-allowed"}': 1.0,
        '{kind="actual",outcome="allowed",path_pattern="/admin/*",reason=""}': 2.0,
        '{kind="preflight",outcome="refused",path_pattern="/admin/*",reason="origin-not-allowed"}': 1.0,
        '{kind="preflight",outcome="allowed",path_pattern="@cross_origin",reason=""}': 2.0,
        '{kind="actual",outcome="refused",path_pattern="",reason="path-not-covered"}': 5.0,
        '{kind="preflight",outcome="refused",path_pattern="",reason="view-not-cross-origin"}': 1.0,
    }


def test_prometheus_defaults_to_the_global_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    import prometheus_client

    registry = CollectorRegistry()
    monkeypatch.setattr(prometheus_client, "REGISTRY", registry)
    middleware(metrics.prometheus())(environ(), discard_response)
    assert scrape(registry) == {'{kind="actual",outcome="allowed",path_pattern="/api/*",reason=""}': 1.0}


def test_prometheus_twice_for_one_registry_is_the_same_hook_counting_once() -> None:
    # Mutation "register a new counter at every call" fails here (duplicated timeseries).
    registry = CollectorRegistry()
    first, second = metrics.prometheus(registry), metrics.prometheus(registry)
    assert first is second
    middleware(second)(environ(), discard_response)
    assert scrape(registry) == {'{kind="actual",outcome="allowed",path_pattern="/api/*",reason=""}': 1.0}
    assert generate_latest(registry).decode().count("# TYPE cors_wsgi_store_snapshot_version gauge") == 1


def test_prometheus_for_another_registry_is_another_hook() -> None:
    assert metrics.prometheus(CollectorRegistry()) is not metrics.prometheus(CollectorRegistry())


KNOWN = {
    "kind": set(REFUSAL_KINDS),
    "outcome": set(DECISION_OUTCOMES),
    "reason": set(REFUSAL_REASONS) | {""},
    "path_pattern": set(MAPPING) | {"@cross_origin", ""},
}

ORIGINS = st.one_of(
    st.sampled_from([API, EVIL, "https://admin.example.com", "null", "https://API.example.com"]),
    st.text(max_size=40),
    st.builds(lambda host: f"https://{host}.example", st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True)),
)
PATHS = st.one_of(
    st.sampled_from(["/api/x", "/admin/", "/views/v", "/api/closed", "//admin/x", "/api/../admin"]),
    st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(["/api/", "/admin/", "/views/", "/", "//"]),
              st.text(max_size=30)),
)
REQUESTS = st.tuples(ORIGINS, PATHS, st.sampled_from(["GET", "POST", "OPTIONS", "PUT", "DELETE"]),
                     st.sampled_from([None, "PUT", "DELETE", "GET", "x y"]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(REQUESTS, min_size=100, max_size=100))
def test_label_values_stay_in_the_known_sets(batch: list[tuple[str, str, str, str | None]]) -> None:
    # 100 examples of 100 requests: 10,000 random origins and paths.
    registry = CollectorRegistry()
    app = middleware(metrics.prometheus(registry))
    for origin, path, method, asks in batch:
        env = environ(method, path, origin)
        if asks is not None:
            env["HTTP_ACCESS_CONTROL_REQUEST_METHOD"] = asks
        app(env, discard_response)
    total = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.name != "cors_wsgi_decisions_total":
                continue
            total += sample.value
            for label, value in sample.labels.items():
                assert value in KNOWN[label], f"{label}={value!r} is not a bounded label value"
    assert total == len(batch)  # every request carried an Origin: one decision each


def test_a_hand_made_decision_gets_bounded_labels() -> None:
    odd = Decision("sideways", "maybe", "because https://evil.example", "'x'", "'GET'", None)
    assert metrics.labels(odd) == ("other", "other", "other", "")


# -- OpenTelemetry -------------------------------------------------------------------


def test_the_current_span_gets_the_attributes() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    app = middleware(metrics.opentelemetry())
    for env in (environ(), preflight(origin=EVIL), environ(origin=None)):
        with tracer.start_as_current_span("request"):
            app(env, discard_response)
    allowed, refused, no_origin = (dict(span.attributes or {}) for span in exporter.get_finished_spans())
    assert allowed == {"cors.kind": "actual", "cors.outcome": "allowed", "cors.reason": "",
                       "cors.path_pattern": "/api/*"}
    assert refused == {"cors.kind": "preflight", "cors.outcome": "refused", "cors.reason": "origin-not-allowed",
                       "cors.path_pattern": "/api/*"}
    assert no_origin == {}


def test_without_a_span_the_hook_does_nothing(caplog: pytest.LogCaptureFixture) -> None:
    # The API alone: get_current_span() is the invalid, non-recording span.
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        middleware(metrics.opentelemetry())(environ(), discard_response)
    assert caplog.records == []


def test_combine_calls_every_hook_even_after_one_raises(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def broken(decision: Decision) -> None:
        raise ValueError("no")

    hook = metrics.combine(lambda d: seen.append("first"), broken, lambda d: seen.append(d.outcome))
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        middleware(hook)(environ(), discard_response)
    assert seen == ["first", "allowed"]
    assert len(caplog.records) == 1


@pytest.mark.parametrize(("build", "module", "extra"), [
    (metrics.prometheus, "prometheus_client", "cors_wsgi[metrics]"),
    (metrics.opentelemetry, "opentelemetry", "cors_wsgi[opentelemetry]"),
])
def test_a_missing_backend_names_its_extra(
    monkeypatch: pytest.MonkeyPatch, build: Any, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(ImportError, match=extra.replace("[", r"\[").replace("]", r"\]")):
        build()


# -- allow_origin_store series -------------------------------------------------------


class NamedStore:
    """An in-memory OriginStore with a ``repr`` of its own (the ``store`` label)."""

    def __init__(self, name: str, origins: set[str], version: int = 1) -> None:
        self.name, self.origins, self.number = name, frozenset(origins), version
        self.fail: Exception | None = None

    def version(self) -> int:
        if self.fail is not None:
            raise self.fail
        return self.number

    def snapshot(self) -> tuple[int, frozenset[str]]:
        return self.version(), self.origins

    def __repr__(self) -> str:
        return f"NamedStore({self.name!r})"


def store_series(registry: CollectorRegistry, store: NamedStore) -> dict[str, float]:
    """The ``cors_wsgi_store_*`` samples of ``store`` in a scrape, by sample name."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, float] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            if sample.name.startswith("cors_wsgi_store_") and sample.labels.get("store") == repr(store):
                assert sample.name not in found, f"{sample.name} twice for one store"
                found[sample.name] = sample.value
    return found


def wait_until(condition: Any, timeout: float = 3.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.01)


def test_a_scrape_shows_the_snapshot_version_origins_age_errors_and_alarm() -> None:
    registry = CollectorRegistry()
    hook = metrics.prometheus(registry)
    store = NamedStore("gauges", {API, "https://b.example"}, version=3)
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.05, max_staleness_seconds=0.2)
    CORSMiddleware(RecordingApp(), policy, on_decision=hook)(environ(), discard_response)  # starts the poller
    fresh = store_series(registry, store)
    assert {k: v for k, v in fresh.items() if k != "cors_wsgi_store_snapshot_age_seconds"} == {
        "cors_wsgi_store_snapshot_version": 3.0,
        "cors_wsgi_store_snapshot_origins": 2.0,
        "cors_wsgi_store_stale": 0.0,
        "cors_wsgi_store_refresh_errors_total": 0.0,
    }
    assert 0.0 <= fresh["cors_wsgi_store_snapshot_age_seconds"] < 0.2
    store.fail = OSError("database down")
    wait_until(lambda: store_series(registry, store)["cors_wsgi_store_stale"] == 1.0)
    failing = store_series(registry, store)
    assert failing["cors_wsgi_store_refresh_errors_total"] >= 1.0
    assert failing["cors_wsgi_store_snapshot_age_seconds"] > 0.2
    assert failing["cors_wsgi_store_snapshot_version"] == 3.0  # the last good snapshot
    store.fail = None
    wait_until(lambda: store_series(registry, store)["cors_wsgi_store_stale"] == 0.0)


def test_policies_sharing_a_store_make_one_series_per_name() -> None:
    registry = CollectorRegistry()
    metrics.prometheus(registry)
    store = NamedStore("shared", {API})
    first = CORSPolicy(allow_origin_store=store)
    second = first.replace(max_age=60)
    assert first.snapshot_age is not None  # two holders, one store
    assert second.snapshot_age is not None
    assert store_series(registry, store)["cors_wsgi_store_snapshot_origins"] == 1.0


def test_a_dropped_policy_leaves_the_scrape() -> None:
    import gc

    registry = CollectorRegistry()
    metrics.prometheus(registry)
    store = NamedStore("dropped", {API})
    policy = CORSPolicy(allow_origin_store=store)
    assert store_series(registry, store)
    del policy
    gc.collect()
    assert store_series(registry, store) == {}


def test_the_store_series_are_in_the_exposition_with_their_help_and_type() -> None:
    registry = CollectorRegistry()
    metrics.prometheus(registry)
    text = generate_latest(registry).decode()
    for name, (kind, _) in metrics.STORE_METRICS.items():
        assert f"# TYPE {name} {kind}" in text

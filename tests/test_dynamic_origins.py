"""Origins that change at run time: the origin predicate and its cache,
reconfigure(), Timing-Allow-Origin."""

from __future__ import annotations

import logging
import sys
import threading
import time
import tracemalloc
from typing import Any

import pytest
import webtest

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy
from cors_wsgi._engine import PredicateCache
from tests.conftest import API, RecordingApp, make_client, preflight_headers

TENANT = "https://tenant.example.net"


class Counting:
    """A predicate that allows ``allowed`` and counts its calls."""

    def __init__(self, *allowed: str, sleep: float = 0.0) -> None:
        self.allowed = set(allowed)
        self.calls: list[str] = []
        self.sleep = sleep
        self._lock = threading.Lock()

    def __call__(self, origin: str) -> bool:
        with self._lock:
            self.calls.append(origin)
        if self.sleep:
            time.sleep(self.sleep)
        return origin in self.allowed


def acao(client: Any, origin: str) -> str | None:
    value: str | None = client.get("/", headers={"Origin": origin}).headers.get("Access-Control-Allow-Origin")
    return value


# -- the predicate ------------------------------------------------------------------

def test_predicate_allows_an_origin_the_static_rules_do_not() -> None:
    client, _ = make_client(allow_origins=API, allow_origin_predicate=Counting(TENANT))
    assert acao(client, TENANT) == TENANT


def test_predicate_refusal_gets_no_cors_headers_but_vary() -> None:
    client, _ = make_client(allow_origins=API, allow_origin_predicate=Counting())
    response = client.get("/", headers={"Origin": TENANT})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Origin"


def test_predicate_alone_is_a_valid_policy() -> None:
    client, _ = make_client(allow_origin_predicate=Counting(TENANT))
    assert acao(client, TENANT) == TENANT


def test_predicate_is_not_asked_about_statically_allowed_origins() -> None:
    predicate = Counting()
    client, _ = make_client(allow_origins=API, allow_origin_predicate=predicate)
    acao(client, API)
    assert predicate.calls == []


@pytest.mark.parametrize("origin", ["null", "https://TENANT.example.net", "https://tenant.example.net/", "x" * 600,
                                    "https://" + "a" * 600 + ".com", "https://a b.com"])
def test_predicate_only_ever_sees_serialized_origins(origin: str) -> None:
    predicate = Counting(origin)
    client, _ = make_client(allow_origins=API, allow_origin_predicate=predicate)
    client.get("/", headers={"Origin": origin})
    assert predicate.calls == []


def test_predicate_is_called_once_for_a_thousand_requests_from_one_origin() -> None:
    predicate = Counting(TENANT)
    client, _ = make_client(allow_origins=API, allow_origin_predicate=predicate)
    for _ in range(1000):
        acao(client, TENANT)
    assert predicate.calls == [TENANT]


def test_preflights_use_the_predicate_and_its_cache() -> None:
    predicate = Counting(TENANT)
    client, _ = make_client(allow_origins=API, allow_methods=["PUT"], allow_origin_predicate=predicate)
    for _ in range(5):
        assert client.options("/", headers=preflight_headers(TENANT)).status_int == 204
    assert predicate.calls == [TENANT]


def test_cached_verdict_expires_after_origin_cache_seconds() -> None:
    now = [0.0]
    predicate = Counting(TENANT)
    cache = PredicateCache(predicate, seconds=60, size=10, clock=lambda: now[0])
    assert cache(TENANT)
    assert cache(TENANT)
    now[0] = 59.9
    cache(TENANT)
    now[0] = 60.0
    cache(TENANT)
    assert predicate.calls == [TENANT, TENANT]


def test_zero_cache_seconds_asks_every_time() -> None:
    predicate = Counting(TENANT)
    client, _ = make_client(allow_origins=API, allow_origin_predicate=predicate, origin_cache_seconds=0)
    for _ in range(3):
        acao(client, TENANT)
    assert predicate.calls == [TENANT] * 3


def test_cache_stays_bounded_under_100000_distinct_origins() -> None:
    cache = PredicateCache(lambda origin: False, seconds=60, size=10_000)
    tracemalloc.start()
    try:
        for i in range(20_000):
            cache(f"https://t{i}.example.net")
        at_20000, _ = tracemalloc.get_traced_memory()
        for i in range(20_000, 100_000):
            cache(f"https://t{i}.example.net")
        at_100000, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(cache) == 10_000
    assert at_100000 < at_20000 * 1.1  # full at 10,000: no growth after that
    assert at_100000 < 4 * 1024 * 1024


def test_full_cache_evicts_the_oldest_entry() -> None:
    predicate = Counting()
    cache = PredicateCache(predicate, seconds=60, size=2)
    for origin in ("https://a.example", "https://b.example", "https://c.example", "https://b.example"):
        cache(origin)
    assert predicate.calls == ["https://a.example", "https://b.example", "https://c.example"]


@pytest.mark.parametrize("answer", ["yes", 1, None], ids=["str", "int", "None"])
def test_non_bool_answer_is_a_refusal(answer: object) -> None:
    client, _ = make_client(allow_origins=API, allow_origin_predicate=lambda origin: answer)
    assert acao(client, TENANT) is None


def test_exception_is_a_refusal_logged_once_per_period_never_a_500(caplog: pytest.LogCaptureFixture) -> None:
    def broken(origin: str) -> bool:
        raise ConnectionError("database down\x1b[2J")

    client, _ = make_client(allow_origins=API, allow_origin_predicate=broken)
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        for _ in range(10):
            assert client.get("/", headers={"Origin": TENANT}).status_int == 200
    (record,) = caplog.records
    assert "'https://tenant.example.net'" in record.getMessage()


def test_concurrent_requests_for_one_uncached_origin_call_the_predicate_once() -> None:
    predicate = Counting(TENANT, sleep=0.05)
    middleware = CORSMiddleware(RecordingApp(), CORSPolicy(allow_origins=API, allow_origin_predicate=predicate))
    answers: list[list[tuple[str, str]]] = []

    def hammer() -> None:
        for _ in range(50):
            captured: list[tuple[str, str]] = []
            middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": TENANT},
                       lambda status, headers, *a, into=captured: into.extend(headers))
            answers.append(captured)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert predicate.calls == [TENANT]
    assert len(answers) == 400
    assert all(("Access-Control-Allow-Origin", TENANT) in headers for headers in answers)


@pytest.mark.parametrize(
    "predicate",
    [lambda origin: True, lambda origin: origin.startswith("https://"), lambda origin: origin.endswith(".invalid"),
     lambda origin: "." in origin],
    ids=["everyone", "any-https", "invalid-tld", "any-dot"],
)
def test_credentialed_predicate_that_trusts_strangers_is_refused(predicate: Any) -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origins=API, allow_origin_predicate=predicate, allow_credentials=True)
    assert caught.value.codes == ["predicate-trusts-strangers"]


def test_credentialed_predicate_that_cannot_answer_at_construction_is_refused() -> None:
    def offline(origin: str) -> bool:
        raise ConnectionError("no database yet")

    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origins=API, allow_origin_predicate=offline, allow_credentials=True)
    assert caught.value.codes == ["predicate-failed"]


def test_exact_credentialed_predicate_is_accepted() -> None:
    CORSPolicy(allow_origins=API, allow_origin_predicate=Counting(TENANT), allow_credentials=True)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"allow_origin_predicate": "module:func"}, "invalid-type"),
     ({"allow_origin_predicate": Counting(), "origin_cache_seconds": -1}, "origin-cache-out-of-range"),
     ({"allow_origin_predicate": Counting(), "origin_cache_size": 0}, "origin-cache-out-of-range"),
     ({"allow_origin_predicate": Counting(), "origin_cache_seconds": 1.5}, "invalid-type"),
     ({"allow_origins": "*", "allow_origin_predicate": Counting()}, "wildcard-origin-mixed"),
     ({"allow_origins": API, "timing_allow_origin": "yes"}, "invalid-type")],
)
def test_bad_dynamic_configuration_is_refused(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(**{"allow_origins": API, **kwargs})
    assert code in caught.value.codes


def is_tenant(origin: str) -> bool:
    return origin == TENANT


def test_ini_resolves_a_dotted_predicate_reference() -> None:
    from cors_wsgi.paste import filter_factory

    wrap = filter_factory({}, allow_origins=API, allow_origin_predicate="tests.test_dynamic_origins:is_tenant",
                          origin_cache_seconds="30", timing_allow_origin="true")
    policy = wrap(RecordingApp()).policy
    assert isinstance(policy, CORSPolicy)
    assert (policy.allow_origin_predicate, policy.origin_cache_seconds, policy.timing_allow_origin) == (is_tenant, 30, True)


@pytest.mark.parametrize("reference", ["tests.nowhere:is_tenant", "tests.test_dynamic_origins:nothing", "no-colon"])
def test_ini_predicate_that_does_not_import_is_a_clear_error(reference: str) -> None:
    from cors_wsgi.paste import filter_factory

    with pytest.raises(CORSConfigError) as caught:
        filter_factory({}, allow_origins=API, allow_origin_predicate=reference)
    assert caught.value.codes == ["invalid-value"]


# -- reconfigure --------------------------------------------------------------------

def test_reconfigure_applies_to_the_next_request() -> None:
    middleware = CORSMiddleware(RecordingApp(), CORSPolicy(allow_origins=API))
    client = webtest.TestApp(middleware)
    assert acao(client, TENANT) is None
    middleware.reconfigure(CORSPolicy(allow_origins=[API, TENANT]))
    assert acao(client, TENANT) == TENANT
    middleware.reconfigure({"/api/*": CORSPolicy(allow_origins=API)})
    assert client.get("/api/x", headers={"Origin": TENANT}).headers.get("Access-Control-Allow-Origin") is None


def test_bad_reconfiguration_raises_and_changes_nothing() -> None:
    policy = CORSPolicy(allow_origins=API)
    middleware = CORSMiddleware(RecordingApp(), policy)
    with pytest.raises(CORSConfigError):
        middleware.reconfigure({"/api/*": policy, "/api/admin/*": policy})
    assert middleware.policy is policy


def test_reconfigure_under_load_never_mixes_two_policies() -> None:
    # Policy A allows API with credentials and exposes X-A; policy B allows
    # TENANT without credentials and exposes X-B.  Every answer must be
    # exactly one policy's answer for its origin.
    a = CORSPolicy(allow_origins=API, allow_credentials=True, expose_headers=["X-A"])
    b = CORSPolicy(allow_origins=[API, TENANT], expose_headers=["X-B"])
    middleware = CORSMiddleware(RecordingApp(), a)
    expected = {
        frozenset({("Access-Control-Allow-Origin", API), ("Access-Control-Allow-Credentials", "true"),
                   ("Access-Control-Expose-Headers", "x-a")}),
        frozenset({("Access-Control-Allow-Origin", API), ("Access-Control-Expose-Headers", "x-b")}),
    }
    seen: list[frozenset[tuple[str, str]]] = []
    stop = threading.Event()

    def hammer() -> None:
        for _ in range(3000):
            captured: list[tuple[str, str]] = []
            middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": API},
                       lambda status, headers, *x, into=captured: into.extend(headers))
            seen.append(frozenset(h for h in captured if h[0].startswith("Access-Control-")))

    def swap() -> None:
        while not stop.is_set():
            middleware.reconfigure(b)
            middleware.reconfigure(a)

    swapper = threading.Thread(target=swap)
    workers = [threading.Thread(target=hammer) for _ in range(2)]
    sys.setswitchinterval(1e-5)  # switch threads often, so swaps land between every step
    swapper.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    stop.set()
    swapper.join(timeout=10)
    sys.setswitchinterval(0.005)
    assert set(seen) <= expected, set(seen) - expected  # never a mix of the two
    assert len(seen) == 6000


# -- Timing-Allow-Origin ------------------------------------------------------------

def test_timing_allow_origin_names_the_allowed_origin() -> None:
    client, _ = make_client(allow_origins=API, timing_allow_origin=True)
    assert client.get("/", headers={"Origin": API}).headers["Timing-Allow-Origin"] == API


def test_timing_allow_origin_is_star_for_a_public_policy() -> None:
    client, _ = make_client(allow_origins="*", timing_allow_origin=True)
    assert client.get("/", headers={"Origin": API}).headers["Timing-Allow-Origin"] == "*"


def test_timing_allow_origin_is_absent_for_a_refused_origin_and_by_default() -> None:
    client, _ = make_client(allow_origins=API, timing_allow_origin=True)
    assert "Timing-Allow-Origin" not in client.get("/", headers={"Origin": TENANT}).headers
    default, _ = make_client(allow_origins=API)
    assert "Timing-Allow-Origin" not in default.get("/", headers={"Origin": API}).headers


def test_timing_allow_origin_keeps_the_apps_own_value() -> None:
    app = RecordingApp(headers=[("Content-Type", "text/plain"), ("Timing-Allow-Origin", "https://cdn.example")])
    client, _ = make_client(allow_origins=API, timing_allow_origin=True, app=app)
    values = [v for n, v in client.get("/", headers={"Origin": API}).headerlist if n == "Timing-Allow-Origin"]
    assert values == ["https://cdn.example", API]

"""``allow_origin_predicate`` bounded in time and concurrency (issue 19, item 4).

A slow or hanging predicate must not stall requests: a request waits at most
``predicate_timeout_seconds``, at most ``predicate_concurrency`` calls run at
once per process, an origin first seen beyond that is refused at once, and
requests that the predicate does not decide never wait for it.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy
from cors_wsgi._engine import PredicateCache

KNOWN = "https://app.example.com"
T = TypeVar("T")


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


class Response:
    def __init__(self, status: str, headers: dict[str, str]) -> None:
        self.status = status
        self.headers = headers


class Client:
    """A thread-safe WSGI caller: one plain environ per request."""

    def __init__(self, application: Any) -> None:
        self.application = application

    def get(self, path: str, origin: str | None = None) -> Response:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "api.example", "SERVER_PORT": "443", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "api.example", "wsgi.url_scheme": "https", "wsgi.input": io.BytesIO(),
            "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        if origin is not None:
            environ["HTTP_ORIGIN"] = origin
        seen: list[Any] = []
        body = self.application(environ, lambda status, headers, exc_info=None: seen.append((status, headers)))
        b"".join(body)
        getattr(body, "close", lambda: None)()
        status, headers = seen[0]
        return Response(status, dict(headers))


class Gate:
    """A predicate that blocks until released, counting calls and the most
    calls in flight at once."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.calls: list[str] = []
        self.running = 0
        self.most = 0

    def __call__(self, origin: str) -> bool:
        with self.lock:
            self.calls.append(origin)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            self.release.wait(30)
            return self.answer
        finally:
            with self.lock:
                self.running -= 1

    def wait_for_calls(self, count: int, seconds: float = 5.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.calls) < count:
            assert time.monotonic() < deadline, f"only {len(self.calls)} of {count} calls started"
            time.sleep(0.002)


@pytest.fixture
def gate() -> Iterator[Gate]:
    gate = Gate()
    yield gate
    gate.release.set()  # never leave a thread hanging


def in_thread(function: Callable[[], T], seconds: float) -> tuple[T, float]:
    """``function()``'s result and duration, failing (not hanging) after ``seconds``."""
    box: list[T] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: box.append(function()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds} s"
    return box[0], time.monotonic() - started


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.002)


def test_a_hanging_predicate_refuses_within_the_timeout(gate: Gate) -> None:
    policy = CORSPolicy(allow_origins=[KNOWN], allow_origin_predicate=gate, predicate_timeout_seconds=0.2)
    client = Client(CORSMiddleware(app, policy=policy))
    response, seconds = in_thread(lambda: client.get("/", origin="https://tenant.example"), 3.0)
    assert 0.15 <= seconds < 0.2 + 0.5
    assert response.headers.get("Access-Control-Allow-Origin") is None
    assert gate.calls == ["https://tenant.example"]
    # A second request for the same origin does not wait for the hung call again.
    _, again = in_thread(lambda: client.get("/", origin="https://tenant.example"), 3.0)
    assert again < 0.1
    assert gate.calls == ["https://tenant.example"]


def test_beyond_the_concurrency_bound_a_new_origin_is_refused_at_once(gate: Gate) -> None:
    cache = PredicateCache(gate, seconds=60, size=100, timeout=10.0, concurrency=2)
    waiting = [threading.Thread(target=cache, args=(f"https://t{i}.example",), daemon=True) for i in range(2)]
    for thread in waiting:
        thread.start()
    gate.wait_for_calls(2)
    verdict, seconds = in_thread(lambda: cache("https://t2.example"), 2.0)
    assert verdict is False
    assert seconds < 0.1
    assert len(gate.calls) == 2
    assert cache.in_flight == 2
    gate.release.set()
    for thread in waiting:
        thread.join(5)
    wait_until(lambda: cache.in_flight == 0)
    assert cache("https://t0.example") is True
    assert len(gate.calls) == 2
    assert cache("https://t2.example") is True
    assert len(gate.calls) == 3


def test_concurrent_requests_for_one_origin_share_one_call(gate: Gate) -> None:
    cache = PredicateCache(gate, seconds=60, size=100, timeout=5.0, concurrency=1)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(cache("https://one.example")), daemon=True)
               for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.wait_for_calls(1)
    time.sleep(0.05)
    gate.release.set()
    for thread in threads:
        thread.join(5)
    assert results == [True] * 8
    assert gate.calls == ["https://one.example"]


def test_a_late_true_answer_is_used_by_the_next_request(gate: Gate) -> None:
    policy = CORSPolicy(allow_origins=[KNOWN], allow_origin_predicate=gate, predicate_timeout_seconds=0.05)
    client = Client(CORSMiddleware(app, policy=policy))
    first = client.get("/", origin="https://late.example")
    assert first.headers.get("Access-Control-Allow-Origin") is None
    gate.release.set()
    cache = policy.engine.predicate
    assert cache is not None
    wait_until(lambda: cache.in_flight == 0)
    second = client.get("/", origin="https://late.example")
    assert second.headers.get("Access-Control-Allow-Origin") == "https://late.example"
    assert gate.calls == ["https://late.example"]


def test_requests_without_origin_and_static_origins_never_wait(gate: Gate) -> None:
    policy = CORSPolicy(allow_origins=[KNOWN], allow_origin_predicate=gate, predicate_timeout_seconds=5.0)
    client = Client(CORSMiddleware(app, policy=policy))
    # Occupy every slot with hanging calls first: the worst case.
    for i in range(policy.predicate_concurrency):
        threading.Thread(target=client.get, args=("/",), kwargs={"origin": f"https://h{i}.example"},
                         daemon=True).start()
    gate.wait_for_calls(policy.predicate_concurrency)
    for _ in range(20):
        plain, seconds = in_thread(lambda: client.get("/"), 2.0)
        assert seconds < 0.1
        assert plain.status.startswith("200")
        known, seconds = in_thread(lambda: client.get("/", origin=KNOWN), 2.0)
        assert seconds < 0.1
        assert known.headers.get("Access-Control-Allow-Origin") == KNOWN
        _, seconds = in_thread(lambda: client.get("/", origin="null"), 2.0)
        assert seconds < 0.1
    assert len(gate.calls) == policy.predicate_concurrency  # only the hanging ones


def test_a_flood_of_one_refused_origin_costs_one_call() -> None:
    calls: list[str] = []

    def refuse(origin: str) -> bool:
        calls.append(origin)
        time.sleep(0.01)
        return False

    policy = CORSPolicy(allow_origins=[KNOWN], allow_origin_predicate=refuse)
    client = Client(CORSMiddleware(app, policy=policy))
    threads = [threading.Thread(target=lambda: [client.get("/", origin="https://evil.example")
                                                for _ in range(25)], daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert calls == ["https://evil.example"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    origins=st.lists(st.integers(0, 30).map(lambda n: f"https://o{n}.example"), min_size=1, max_size=40),
    concurrency=st.integers(1, 4),
    senders=st.integers(1, 8),
)
def test_a_flood_of_random_origins_never_exceeds_the_bound(
    origins: list[str], concurrency: int, senders: int
) -> None:
    state = {"running": 0, "most": 0}
    lock = threading.Lock()
    slots = threading.BoundedSemaphore(concurrency)

    def predicate(origin: str) -> bool:
        if not slots.acquire(blocking=False):  # an assert here would only be a refusal
            with lock:
                state["most"] = concurrency + 1
            return False
        with lock:
            state["running"] += 1
            state["most"] = max(state["most"], state["running"])
        time.sleep(0.002)
        with lock:
            state["running"] -= 1
        slots.release()
        return origin.endswith("0.example")

    cache = PredicateCache(predicate, seconds=60, size=8, timeout=0.001, concurrency=concurrency)
    verdicts: list[bool] = []
    threads = [threading.Thread(target=lambda part=origins[i::senders]: verdicts.extend(map(cache, part)))
               for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    wait_until(lambda: cache.in_flight == 0)
    assert state["most"] <= concurrency
    assert len(verdicts) == len(origins)
    assert len(cache) <= 8


def test_an_exception_is_still_a_refusal_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    def broken(origin: str) -> bool:
        raise RuntimeError("database down")

    cache = PredicateCache(broken, seconds=60, size=10)
    assert [cache("https://x.example") for _ in range(3)] == [False] * 3
    assert len([r for r in caplog.records if "raised" in r.getMessage()]) == 1


def test_a_forked_child_does_not_inherit_calls_in_flight(gate: Gate) -> None:
    cache = PredicateCache(gate, seconds=60, size=10, timeout=0.01, concurrency=1)
    assert cache("https://parent.example") is False  # hangs: the only slot is taken
    assert cache("https://other.example") is False
    assert len(gate.calls) == 1
    cache._worker.pid = -1  # as a forked child sees it: os.getpid() differs
    gate.release.set()
    assert cache("https://child.example") is True
    assert gate.calls[-1] == "https://child.example"


def test_the_bounds_are_validated_with_every_problem() -> None:
    with pytest.raises(CORSConfigError) as error:
        CORSPolicy(allow_origins=[KNOWN], predicate_timeout_seconds=0, predicate_concurrency=0)
    assert error.value.codes == ["predicate-timeout-out-of-range", "predicate-concurrency-out-of-range"]
    for timeout in (float("nan"), 61, -1.0, 0.0001):
        with pytest.raises(CORSConfigError, match="predicate-timeout-out-of-range"):
            CORSPolicy(allow_origins=[KNOWN], predicate_timeout_seconds=timeout)
    with pytest.raises(CORSConfigError) as error:
        CORSPolicy(allow_origins=[KNOWN], predicate_timeout_seconds="1", predicate_concurrency=2.0)  # type: ignore[arg-type]
    assert error.value.codes == ["invalid-type", "invalid-type"]
    with pytest.raises(CORSConfigError, match="predicate-concurrency-out-of-range"):
        CORSPolicy(allow_origins=[KNOWN], predicate_concurrency=65)
    policy = CORSPolicy(allow_origins=[KNOWN], predicate_timeout_seconds=2, predicate_concurrency=3)
    assert policy.predicate_timeout_seconds == 2.0
    assert isinstance(policy.predicate_timeout_seconds, float)
    assert policy.replace(predicate_concurrency=3) == policy
    assert "predicate_concurrency=3" in repr(policy)


def test_the_bounds_come_from_settings() -> None:
    policy = CORSPolicy.from_settings({
        "CORS_ALLOW_ORIGINS": KNOWN, "CORS_PREDICATE_TIMEOUT_SECONDS": "0.25", "CORS_PREDICATE_CONCURRENCY": "3",
    })
    assert (policy.predicate_timeout_seconds, policy.predicate_concurrency) == (0.25, 3)
    with pytest.raises(CORSConfigError) as error:
        CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": KNOWN, "CORS_PREDICATE_TIMEOUT_SECONDS": "nan"})
    assert error.value.codes == ["invalid-value"]

"""What outlives a policy, and what does not: a policy replaced by
``CORSMiddleware.reconfigure()`` (or ``CORSPolicy.replace()``) takes its
poller, its notifier's listener and that listener's connection with it; a
notifier shared by many policies listens once per process; the store
metrics stay truthful across replacements (a counter never goes down) and
whatever the store's ``repr`` does."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webtest
from hypothesis import given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSMiddleware, CORSPolicy, metrics
from tests.postgres import Postgres, postgres_server
from tests.redis_server import Redis, redis_server
from tests.servers import FreezingProxy
from tests.test_origin_snapshots import CUSTOMER, OTHER, MemoryStore, acao, simple_app, wait_for


@pytest.fixture(scope="module")
def redis() -> Iterator[Redis]:
    with redis_server() as server:
        yield server


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


def threads(name: str) -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == name}


def gone(condition: Callable[[], bool], timeout: float = 5.0) -> float:
    """Collect garbage until ``condition()`` holds; seconds it took."""

    def collected() -> bool:
        gc.collect()
        return condition()

    return wait_for(collected, timeout)


def subscribers(redis: Redis, channel: str) -> int:
    import redis as redis_py

    client = redis_py.Redis.from_url(redis.url)
    try:
        return int(client.pubsub_numsub(channel)[0][1])
    finally:
        client.close()


def listeners(postgres: Postgres, channel: str) -> int:
    """Connections of the server whose last statement was ``LISTEN channel``."""
    import psycopg

    with psycopg.connect(postgres.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
        row = c.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = %s", (f'LISTEN "{channel}"',)
        ).fetchone()
    assert row is not None
    return int(row[0])


def redis_store(redis: Redis, channel: str) -> MemoryStore:
    from cors_wsgi.notify import RedisNotifier

    store = MemoryStore({CUSTOMER})
    store.notifier = RedisNotifier(redis.url, channel)  # type: ignore[attr-defined]
    return store


# -- replaced policies ---------------------------------------------------------------------


def test_a_notifier_shared_by_replaced_policies_listens_once_per_process(redis: Redis) -> None:
    # Mutation "each policy's first request starts a listener of its own" fails here.
    store = redis_store(redis, "cors_shared")
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=3600)
    middleware = CORSMiddleware(simple_app, policy=policy)
    app = webtest.TestApp(middleware)
    before = threads("cors-wsgi-notify")  # other tests' listeners may come and go: only new ones count
    for _ in range(10):
        assert acao(app, CUSTOMER) == CUSTOMER  # the first request of each policy starts its notifier
        middleware.reconfigure(policy.replace(max_age=60))
    assert acao(app, CUSTOMER) == CUSTOMER
    wait_for(lambda: subscribers(redis, "cors_shared") == 1, 5.0)
    assert len(threads("cors-wsgi-notify") - before) == 1
    store.notifier.close()  # type: ignore[attr-defined]


def test_the_policy_in_force_still_gets_pushes_after_its_predecessors_are_gone(redis: Redis) -> None:
    from cors_wsgi.notify import RedisNotifier

    store = redis_store(redis, "cors_pushes")
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=3600)
    middleware = CORSMiddleware(simple_app, policy=policy)
    app = webtest.TestApp(middleware)
    assert acao(app, CUSTOMER) == CUSTOMER
    middleware.reconfigure(policy.replace(max_age=60))
    del policy
    assert acao(app, CUSTOMER) == CUSTOMER
    gc.collect()
    wait_for(lambda: subscribers(redis, "cors_pushes") == 1, 5.0)
    store.set({OTHER})
    assert RedisNotifier(redis.url, "cors_pushes").publish(store.number) == 1
    seen = wait_for(lambda: acao(app, OTHER) == OTHER, 2.0)  # refresh is an hour: only the push
    assert seen < 1.0
    store.notifier.close()  # type: ignore[attr-defined]


def test_a_redis_listener_ends_and_unsubscribes_once_its_policies_are_gone(redis: Redis) -> None:
    # Mutation "the notifier holds the policy's holder strongly" fails here.
    store = redis_store(redis, "cors_gone")
    middleware = CORSMiddleware(simple_app, policy=CORSPolicy(allow_origin_store=store))
    app = webtest.TestApp(middleware)
    before = threads("cors-wsgi-notify")
    assert acao(app, CUSTOMER) == CUSTOMER
    wait_for(lambda: subscribers(redis, "cors_gone") == 1, 5.0)
    (listener,) = threads("cors-wsgi-notify") - before
    middleware.reconfigure(CORSPolicy(allow_origins=[OTHER]))  # no store any more
    took = gone(lambda: subscribers(redis, "cors_gone") == 0)
    listener.join(2.0)
    assert not listener.is_alive()
    print(f"redis listener of a replaced policy gone in {took:.2f} s")


def test_a_postgres_listener_ends_and_closes_its_connection_once_its_policies_are_gone(
    postgres: Postgres,
) -> None:
    from cors_wsgi.notify import PostgresNotifier

    store = MemoryStore({CUSTOMER})
    store.notifier = PostgresNotifier(postgres.url, "cors_gone")  # type: ignore[attr-defined]
    middleware = CORSMiddleware(simple_app, policy=CORSPolicy(allow_origin_store=store))
    app = webtest.TestApp(middleware)
    assert acao(app, CUSTOMER) == CUSTOMER
    wait_for(lambda: listeners(postgres, "cors_gone") == 1, 10.0)
    middleware.reconfigure(CORSPolicy(allow_origins=[OTHER]))
    took = gone(lambda: listeners(postgres, "cors_gone") == 0)
    print(f"postgres listener of a replaced policy gone in {took:.2f} s")


def proxied_notifier(postgres: Postgres, proxy: FreezingProxy, channel: str) -> tuple[Any, list[int]]:
    """A started PostgresNotifier that reaches ``postgres`` through ``proxy``,
    and the list its callback appends to."""
    from cors_wsgi.notify import PostgresNotifier

    notifier = PostgresNotifier(postgres.url.replace(f":{postgres.port}/", f":{proxy.port}/"), channel)
    checks: list[int] = []
    notifier.start(lambda: checks.append(1))
    return notifier, checks


@pytest.mark.usefixtures("quick_health_checks")
def test_a_postgres_listener_finds_a_half_open_connection_and_listens_again(
    postgres: Postgres, caplog: pytest.LogCaptureFixture
) -> None:
    # Mutation "no bounded SELECT 1" fails here: a frozen connection never errs
    # by itself, so the listener would wait on it for ever, pushes lost.
    import psycopg

    proxy = FreezingProxy(postgres.port)
    notifier, checks = proxied_notifier(postgres, proxy, "cors_half_open")
    try:
        with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
            wait_for(lambda: listeners(postgres, "cors_half_open") == 1, 10.0)
            proxy.frozen.set()
            frozen = time.monotonic()
            wait_for(lambda: any("reconnecting" in r.getMessage() for r in caplog.records), 10.0)
            found = time.monotonic() - frozen
            proxy.frozen.clear()
            wait_for(lambda: checks != [], 15.0)  # listening again: a check for what was missed
        direct = postgres.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(direct, autocommit=True) as connection:
            connection.execute("SELECT pg_notify('cors_half_open', '7')")
        wait_for(lambda: len(checks) >= 2, 5.0)
    finally:
        notifier.close()
        proxy.close()
    print(f"postgres half-open connection found in {found:.1f} s (health check 1 s, reply timeout 1 s)")


def test_the_poller_of_a_replaced_policy_ends() -> None:
    store = MemoryStore({CUSTOMER})
    middleware = CORSMiddleware(simple_app, policy=CORSPolicy(allow_origin_store=store))
    app = webtest.TestApp(middleware)
    before = threads("cors-wsgi-store")
    assert acao(app, CUSTOMER) == CUSTOMER
    (poller,) = threads("cors-wsgi-store") - before
    middleware.reconfigure(CORSPolicy(allow_origins=[OTHER]))
    gone(lambda: not poller.is_alive())


def test_a_callback_that_raises_is_logged_and_the_others_still_run(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    from cors_wsgi.notify import RedisNotifier

    notifier = RedisNotifier(redis.url, "cors_raises")
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom\n")

    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        notifier.start(broken)
        notifier.start(lambda: calls.append("second"))
        wait_for(lambda: subscribers(redis, "cors_raises") == 1, 5.0)
        assert RedisNotifier(redis.url, "cors_raises").publish(1) == 1
        wait_for(lambda: calls == ["second"], 5.0)
    notifier.close()
    assert [r.getMessage() for r in caplog.records] == ["RedisNotifier on channel 'cors_raises': a callback raised"]


# -- metrics across replacements -----------------------------------------------------------


def errors_total(label: str) -> float:
    return metrics.store_samples()["cors_wsgi_store_refresh_errors_total"].get(label, 0.0)


def test_the_refresh_error_total_never_goes_down_when_a_failing_policy_is_replaced() -> None:
    # Mutation "sum the errors of live holders only" fails here.
    store = MemoryStore({CUSTOMER})
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.05)
    middleware = CORSMiddleware(simple_app, policy=policy)
    app = webtest.TestApp(middleware)
    label = policy._engine.snapshot.label  # type: ignore[union-attr]
    base = errors_total(label)
    assert acao(app, CUSTOMER) == CUSTOMER
    store.fail = RuntimeError("down")
    wait_for(lambda: errors_total(label) >= base + 3, 3.0)
    store.fail = None
    counted = errors_total(label)
    assert counted >= base + 3
    middleware.reconfigure(policy.replace(store_refresh_seconds=3600))
    del policy
    gc.collect()
    assert acao(app, CUSTOMER) == CUSTOMER
    assert errors_total(label) >= counted


def test_a_check_that_hangs_then_fails_counts_one_error(caplog: pytest.LogCaptureFixture) -> None:
    # Mutation "count the hang, then count the failure too" fails here.
    class HangsThenFails(MemoryStore):
        """The first check hangs until ``release``, then raises; later checks wait for ``done``."""

        def __init__(self) -> None:
            super().__init__({CUSTOMER})
            self.release, self.done = threading.Event(), threading.Event()

        def version(self) -> int:
            self.calls += 1
            if self.calls == 1:
                self.release.wait(10)
                raise RuntimeError("down")
            self.done.wait(10)
            return self.number

    store = HangsThenFails()
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.05)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    try:
        with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
            assert acao(app, CUSTOMER) == CUSTOMER  # the poller starts: its first check hangs
            wait_for(lambda: any("has not returned" in r.getMessage() for r in caplog.records), 5.0)
            store.release.set()
            wait_for(lambda: any("failed: 'RuntimeError'" in r.getMessage() for r in caplog.records), 5.0)
            assert policy.refresh_errors == 1
    finally:
        store.release.set()
        store.done.set()


def test_a_slow_check_under_a_tiny_refresh_period_is_not_reported_as_hanging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Mutation "hanging after refresh_seconds" (0.05 s here) fails here.
    class SlowStore(MemoryStore):
        def version(self) -> int:
            time.sleep(0.3)
            return super().version()

    store = SlowStore({CUSTOMER})
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.05)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        assert acao(app, CUSTOMER) == CUSTOMER
        wait_for(lambda: store.calls >= 4, 5.0)
    assert [r.getMessage() for r in caplog.records] == []
    assert policy.refresh_errors == 0


def test_store_labels_of_long_reprs_that_share_a_prefix_stay_distinct() -> None:
    # Mutation "truncate the repr to 200 characters" fails here.
    class Named(MemoryStore):
        def __init__(self, name: str) -> None:
            super().__init__({CUSTOMER})
            self.name = name

        def __repr__(self) -> str:
            return f"Named({'x' * 300}{self.name})"

    first = CORSPolicy(allow_origin_store=Named("a"))
    second = CORSPolicy(allow_origin_store=Named("b"))
    labels = {first._engine.snapshot.label, second._engine.snapshot.label}  # type: ignore[union-attr]
    assert len(labels) == 2
    assert all(len(label) == 200 and label.startswith("Named(xxx") for label in labels)
    assert labels <= set(metrics.store_samples()["cors_wsgi_store_snapshot_version"])


class Spelled(MemoryStore):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def __repr__(self) -> str:
        return self.text


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=150, max_size=400), st.text(min_size=1, max_size=40))
def test_store_labels_are_bounded_and_two_reprs_never_share_one(prefix: str, tail: str) -> None:
    from cors_wsgi._snapshot import LABEL_LENGTH, store_label

    first, second = store_label(Spelled(prefix + tail)), store_label(Spelled(prefix + tail + "x"))
    assert first != second
    assert max(len(first), len(second)) <= LABEL_LENGTH
    assert store_label(Spelled(prefix + tail)) == first  # one store, one label, every scrape


def test_a_store_whose_repr_raises_is_still_scraped() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    class Unprintable(MemoryStore):
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    policy = CORSPolicy(allow_origin_store=Unprintable({CUSTOMER}))
    registry = CollectorRegistry()
    metrics.prometheus(registry)
    text = generate_latest(registry).decode()
    assert 'cors_wsgi_store_snapshot_origins{store="<Unprintable object>"} 1.0' in text
    assert policy.allows_origin(CUSTOMER)


def test_live_holders_can_be_listed_while_policies_are_built_in_other_threads() -> None:
    # Mutation "list the weak set without the lock" fails here ("Set changed size").
    from cors_wsgi._snapshot import live_holders

    failures: list[BaseException] = []
    stop = threading.Event()

    def build() -> None:
        while not stop.is_set():
            CORSPolicy(allow_origin_store=MemoryStore({CUSTOMER}), store_refresh_seconds=3600)

    def scrape() -> None:
        try:
            for _ in range(3000):
                live_holders()
                metrics.store_samples()
        except BaseException as error:
            failures.append(error)

    builders = [threading.Thread(target=build) for _ in range(3)]
    scraper = threading.Thread(target=scrape)
    for thread in [*builders, scraper]:
        thread.start()
    scraper.join(60)
    stop.set()
    for thread in builders:
        thread.join(10)
    assert failures == []


# -- what cannot start, and forks ----------------------------------------------------------


@pytest.fixture
def refused_threads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """``{thread name: how many more starts of it fail}``, as when a process
    is out of threads (``RuntimeError: can't start new thread``)."""
    failing: dict[str, int] = {}
    start = threading.Thread.start

    def refusing(thread: threading.Thread) -> None:
        if failing.get(thread.name, 0) > 0:
            failing[thread.name] -= 1
            raise RuntimeError("can't start new thread")
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", refusing)
    return failing


def test_a_notifier_that_cannot_start_is_logged_and_requests_are_still_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        def start(self, callback: object) -> None:
            raise RuntimeError("no listener\n")

    store = MemoryStore({CUSTOMER})
    store.notifier = Broken()  # type: ignore[attr-defined]
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=CORSPolicy(allow_origin_store=store)))
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        assert [acao(app, CUSTOMER) for _ in range(3)] == [CUSTOMER] * 3
    (message,) = [r.getMessage() for r in caplog.records]
    assert "could not start its notifier; the poll goes on" in message


def test_a_poller_that_cannot_start_is_tried_again_and_then_refreshes(
    refused_threads: dict[str, int], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mutation "mark the process started before the poller runs" fails here:
    # one failed thread start would freeze the worker's snapshot for its life.
    from cors_wsgi import _snapshot

    monkeypatch.setattr(_snapshot, "RETRY_START_SECONDS", 0.2)
    store = MemoryStore({CUSTOMER})
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.5)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    refused_threads["cors-wsgi-store"] = 1
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        assert acao(app, CUSTOMER) == CUSTOMER  # its poller could not start
        store.set({OTHER})
        wait_for(lambda: acao(app, OTHER) == OTHER, 3.0)  # a later request started it: it checked
    (message,) = [r.getMessage() for r in caplog.records]
    assert "could not start its poller; trying again in 0.2 s" in message


def test_a_check_thread_that_cannot_start_is_logged_and_tried_again_at_the_next_deadline(
    refused_threads: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore({CUSTOMER})
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.05)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    refused_threads["cors-wsgi-store-check"] = 2
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        assert acao(app, CUSTOMER) == CUSTOMER
        store.set({OTHER})
        wait_for(lambda: acao(app, OTHER) == OTHER, 3.0)  # the third check ran
    assert sum("the check could not run" in r.getMessage() for r in caplog.records) == 2


def test_a_check_that_raises_a_base_exception_is_logged_and_the_poller_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Interrupted(BaseException):
        """What gevent.Timeout is: no Exception."""

    store = MemoryStore({CUSTOMER})
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.05)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        assert acao(app, CUSTOMER) == CUSTOMER
        store.fail = Interrupted()  # type: ignore[assignment]
        wait_for(lambda: any("the check failed" in r.getMessage() for r in caplog.records), 3.0)
        store.fail = None
        store.set({OTHER})
        wait_for(lambda: acao(app, OTHER) == OTHER, 3.0)


def test_a_listener_thread_that_cannot_start_raises_and_starts_at_the_next_call(
    redis: Redis, refused_threads: dict[str, int]
) -> None:
    from cors_wsgi.notify import RedisNotifier

    notifier = RedisNotifier(redis.url, "cors_no_thread")
    refused_threads["cors-wsgi-notify"] = 1
    with pytest.raises(RuntimeError, match="can't start new thread"):
        notifier.start(lambda: None)
    notifier.start(lambda: None)
    wait_for(lambda: subscribers(redis, "cors_no_thread") == 1, 5.0)
    notifier.close()


def test_a_closed_notifier_starts_no_listener_again(redis: Redis) -> None:
    from cors_wsgi.notify import RedisNotifier

    class Callback:
        def __call__(self) -> None: ...

    notifier = RedisNotifier(redis.url, "cors_closed")
    notifier.close()
    before = threads("cors-wsgi-notify")
    callbacks = [Callback() for _ in range(100)]
    for callback in callbacks:
        notifier.start(callback)
    assert threads("cors-wsgi-notify") - before == set()
    assert subscribers(redis, "cors_closed") == 0
    kept = weakref.ref(callbacks[0])
    del callbacks, callback
    gc.collect()
    assert kept() is None  # a closed notifier holds on to nothing


@pytest.mark.usefixtures("quick_health_checks")
def test_a_postgres_listen_that_is_never_answered_is_bounded_and_tried_again(
    postgres: Postgres, caplog: pytest.LogCaptureFixture
) -> None:
    # Mutation "LISTEN without the timer" fails here: a server that stalls
    # right after the connection would hold the listener for ever, silently.
    proxy = FreezingProxy(postgres.port, freeze_on=b"LISTEN")
    notifier, _ = proxied_notifier(postgres, proxy, "cors_stalled_listen")
    try:
        with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
            wait_for(lambda: proxy.frozen.is_set(), 10.0)  # the LISTEN is held back
            wait_for(lambda: any("reconnecting" in r.getMessage() for r in caplog.records), 10.0)
            proxy.freeze_on = None
            proxy.frozen.clear()
            wait_for(lambda: listeners(postgres, "cors_stalled_listen") == 1, 15.0)
    finally:
        notifier.close()
        proxy.close()


def test_a_registry_that_refused_the_store_series_can_take_the_hook_once_fixed() -> None:
    # Mutation "leave the counter registered when the collector fails" fails
    # here: the retry would meet a duplicated cors_wsgi_decisions.
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    taken = Gauge("cors_wsgi_store_stale", "someone else's", registry=registry)
    with pytest.raises(ValueError, match="cors_wsgi_store_stale"):
        metrics.prometheus(registry)
    registry.unregister(taken)
    assert callable(metrics.prometheus(registry))


def test_a_callback_that_says_its_policy_is_gone_is_not_called_again(redis: Redis) -> None:
    from cors_wsgi.notify import RedisNotifier

    notifier = RedisNotifier(redis.url, "cors_said_gone")
    calls = {"gone": 0, "kept": 0}

    def gone_one() -> bool:
        calls["gone"] += 1
        return False

    def kept() -> None:
        calls["kept"] += 1

    notifier.start(gone_one)
    notifier.start(kept)
    wait_for(lambda: subscribers(redis, "cors_said_gone") == 1, 5.0)
    publisher = RedisNotifier(redis.url, "cors_said_gone")
    for expected in (1, 2):
        assert publisher.publish(expected) == 1
        wait_for(lambda: calls["kept"] == expected, 5.0)  # noqa: B023 - read at once
    notifier.close()
    assert calls == {"gone": 1, "kept": 2}


def test_check_soon_is_false_once_its_holder_is_gone() -> None:
    from cors_wsgi._snapshot import CheckSoon, SnapshotHolder

    holder = SnapshotHolder(MemoryStore({CUSTOMER}), refresh_seconds=3600)
    check_soon = CheckSoon(holder)
    assert (check_soon.alive, check_soon()) == (True, True)
    del holder
    gc.collect()
    assert (check_soon.alive, check_soon()) == (False, False)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_worker_forked_while_another_thread_held_the_start_locks_still_starts(redis: Redis) -> None:
    # Mutation "no os.register_at_fork": the child inherits held locks and its
    # first request waits for ever (killed by the alarm here).
    import signal

    store = redis_store(redis, "cors_fork")
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=3600)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    holder = policy._engine.snapshot
    assert holder is not None
    with holder._start_lock, store.notifier._lock:  # type: ignore[attr-defined]  # as another thread may
        pid = os.fork()
        if pid == 0:  # the worker
            signal.alarm(10)
            code = 1
            try:
                if acao(app, CUSTOMER) == CUSTOMER:
                    wait_for(lambda: subscribers(redis, "cors_fork") == 1, 5.0)
                    code = 0
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.notifier.close()  # type: ignore[attr-defined]

"""``allow_origin_store``: per-worker snapshots, the SQLite and SQLAlchemy
stores, push invalidation (PostgresNotifier), against a real PostgreSQL and
real gunicorn workers."""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import webtest
from hypothesis import given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy
from cors_wsgi._engine import is_origin_shaped
from cors_wsgi._host import untrusted_reason
from cors_wsgi.store import SQLiteOriginStore
from tests.postgres import Postgres, postgres_server
from tests.servers import free_port, run_server
from tests.test_examples import BIN, env
from tests.test_store import cli

CUSTOMER = "https://shop.customer.example"
OTHER = "https://b.customer.example"


class MemoryStore:
    """An in-memory OriginStore for the snapshot logic (the database tests
    below use real databases); ``gate`` makes ``version()`` block."""

    def __init__(self, origins: set[str] | None = None) -> None:
        self.origins = frozenset(origins or ())
        self.number = 1
        self.fail: Exception | None = None
        self.gate: threading.Event | None = None
        self.calls = 0

    def set(self, origins: set[str]) -> None:
        self.origins = frozenset(origins)
        self.number += 1

    def version(self) -> int:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        return self.number

    def snapshot(self) -> tuple[int, frozenset[str]]:
        if self.fail is not None:
            raise self.fail
        return self.number, self.origins


def acao(app: webtest.TestApp, origin: str) -> str | None:
    response = app.get("/", headers={"Origin": origin})
    value: str | None = response.headers.get("Access-Control-Allow-Origin")
    return value


def simple_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def wait_for(condition: Any, timeout: float) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - started


# -- the snapshot ------------------------------------------------------------------


def test_a_change_is_served_within_the_refresh_period_and_never_kept_by_the_answer_caches() -> None:
    # Mutation "serve a stale snapshot forever" (no poller, or answers cached
    # past a refresh) fails here.
    store = MemoryStore({CUSTOMER})
    policy = CORSPolicy(allow_origins=["https://app.example.com"], allow_origin_store=store,
                        allow_credentials=True, store_refresh_seconds=0.1)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    assert acao(app, CUSTOMER) == CUSTOMER
    assert acao(app, OTHER) is None
    store.set({OTHER})
    seen = wait_for(lambda: acao(app, CUSTOMER) is None and acao(app, OTHER) == OTHER, 2.0)
    assert seen < 0.1 + 0.5
    assert acao(app, "https://app.example.com") == "https://app.example.com"  # static rules untouched


def test_no_request_waits_for_a_check_that_hangs() -> None:
    # Mutation "refresh on the request path, waiting for it" fails here.
    store = MemoryStore({CUSTOMER})
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.05)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    assert acao(app, CUSTOMER) == CUSTOMER
    store.gate = threading.Event()  # every version() now blocks
    calls = store.calls
    wait_for(lambda: store.calls > calls, 2.0)  # the poller is stuck in version()
    started = time.monotonic()
    for _ in range(200):
        assert acao(app, CUSTOMER) == CUSTOMER
    assert time.monotonic() - started < 1.0
    store.gate.set()


def test_a_check_that_hangs_is_logged_once_per_period_and_raises_the_staleness_alarm(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Mutation "the poller waits silently for a hung database" fails here.
    store = MemoryStore({CUSTOMER})
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.1, max_staleness_seconds=0.3)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    assert acao(app, CUSTOMER) == CUSTOMER
    store.gate = threading.Event()  # version() now blocks until released
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        wait_for(lambda: any(r.levelno == logging.CRITICAL for r in caplog.records), 3.0)
        hanging = [r.getMessage() for r in caplog.records if "has not returned" in r.getMessage()]
        calls = store.calls
        assert acao(app, CUSTOMER) == CUSTOMER  # served from the last good snapshot meanwhile
        assert policy.refresh_errors == 1  # one hanging check, counted once
        time.sleep(0.35)
        assert store.calls == calls  # no second check piles up behind the hung one
    assert hanging
    assert "serving the snapshot of version 1 (1 origins)" in hanging[0]
    critical = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "over max_staleness_seconds=0.3" in critical[0]
    periods = sum("has not returned" in r.getMessage() for r in caplog.records)
    assert periods <= (0.35 + 3.0) / 0.1 + 1  # once per refresh period, not per request
    store.gate.set()
    store.gate = None
    store.set({OTHER})
    wait_for(lambda: acao(app, OTHER) == OTHER, 2.0)


def test_a_failing_store_keeps_the_last_good_snapshot_logs_its_age_and_raises_the_alarm(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore({CUSTOMER})
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.05, max_staleness_seconds=0.2)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    assert acao(app, CUSTOMER) == CUSTOMER
    store.fail = OSError("database down\r\nFAKE LOG LINE")
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        wait_for(lambda: policy.refresh_errors >= 2, 2.0)
        wait_for(lambda: any(r.levelno == logging.CRITICAL for r in caplog.records), 2.0)
    assert acao(app, CUSTOMER) == CUSTOMER
    assert policy.snapshot_age is not None
    assert policy.snapshot_age > 0.2
    messages = [r.getMessage() for r in caplog.records]
    assert any("database down" in m and "confirmed" in m and "s ago" in m for m in messages)
    assert not any("\nFAKE" in m for m in messages)  # escaped
    assert any("over max_staleness_seconds=0.2" in m for m in messages)
    store.fail = None
    store.set({OTHER})
    wait_for(lambda: acao(app, OTHER) == OTHER, 2.0)
    assert policy.snapshot_age is not None
    assert policy.snapshot_age < 0.2


def test_a_broken_store_fails_at_construction() -> None:
    store = MemoryStore()
    store.fail = OSError("no such database")
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origin_store=store)
    assert caught.value.codes == ["store-failed"]
    assert "no such database" in str(caught.value)
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origin_store=object())  # type: ignore[arg-type]
    assert caught.value.codes == ["invalid-type"]
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origin_store=MemoryStore(), store_refresh_seconds=0)
    assert caught.value.codes == ["store-seconds-out-of-range"]


@pytest.mark.parametrize("staleness", [0.5, 5])
def test_a_staleness_alarm_not_above_the_refresh_period_is_refused(staleness: float) -> None:
    # A healthy snapshot is up to one refresh period old: the alarm would fire without a fault.
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(allow_origin_store=MemoryStore(), store_refresh_seconds=5, max_staleness_seconds=staleness)
    assert caught.value.codes == ["staleness-below-refresh"]
    assert "use more than store_refresh_seconds, e.g. 60" in str(caught.value)


def test_a_staleness_alarm_above_the_refresh_period_is_accepted() -> None:
    policy = CORSPolicy(allow_origin_store=MemoryStore(), store_refresh_seconds=5, max_staleness_seconds=5.5)
    assert policy.max_staleness_seconds == 5.5


def test_settings_convert_the_store_keys() -> None:
    policy = CORSPolicy.from_settings({
        "CORS_ALLOW_ORIGINS": "https://app.example.com", "CORS_STORE_REFRESH_SECONDS": "2.5",
        "CORS_MAX_STALENESS_SECONDS": "none",
    })
    assert (policy.store_refresh_seconds, policy.max_staleness_seconds, policy.snapshot_age) == (2.5, None, None)


ORIGINS = st.builds(
    lambda scheme, host, tld: f"{scheme}://{host}.{tld}",
    st.sampled_from(["https", "http"]), st.text("abcxyz", min_size=1, max_size=4), st.sampled_from(["com", "example"]),
) | st.sampled_from(["http://localhost:8000", "https://github.io", "null", "https://a.com/"])


@settings(max_examples=60, deadline=None)
@given(first=st.frozensets(ORIGINS, max_size=6), second=st.frozensets(ORIGINS, max_size=6),
       credentials=st.booleans(), asked=st.lists(ORIGINS, max_size=8))
def test_a_snapshot_allows_exactly_its_trusted_origins_before_and_after_a_change(
    first: frozenset[str], second: frozenset[str], credentials: bool, asked: list[str]
) -> None:
    store = MemoryStore(set(first))
    policy = CORSPolicy(allow_origin_store=store, allow_credentials=credentials, store_refresh_seconds=3600)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    holder = policy._engine.snapshot
    assert holder is not None

    def expected(origin: str, stored: frozenset[str]) -> bool:
        trusted = untrusted_reason(origin, tolerate_insecure=False, tolerate_public_suffixes=False) is None if credentials else is_origin_shaped(origin)
        return origin in stored and trusted

    for stored in (first, second):
        for origin in [*asked, *first, *second]:
            assert policy.allows_origin(origin) == expected(origin, stored)
            assert (acao(app, origin) == origin) == expected(origin, stored)
        store.set(set(second))
        assert holder.check()


# -- SQLite --------------------------------------------------------------------------


def test_sqlite_versions_bump_with_every_change_and_reads_never_create_the_file(tmp_path: Path) -> None:
    path = tmp_path / "origins.sqlite3"
    store = SQLiteOriginStore(path)
    first = store.version()
    assert store.snapshot() == (first, frozenset())
    store.add(CUSTOMER)
    store.add(CUSTOMER)  # no change, no bump
    assert store.snapshot() == (first + 1, frozenset({CUSTOMER}))
    store.remove(CUSTOMER)
    assert store.version() == first + 2
    store.add(OTHER)
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=0.05)
    for name in os.listdir(tmp_path):
        os.unlink(tmp_path / name)
    with pytest.raises(Exception, match="unable to open"):
        store.version()
    with pytest.raises(Exception, match="unable to open"):
        store.snapshot()
    holder = policy._engine.snapshot
    assert holder is not None
    assert not holder.check()
    assert policy.allows_origin(OTHER)  # the last good snapshot
    time.sleep(0.2)
    assert os.listdir(tmp_path) == []  # no read, no check created a file


# -- PostgreSQL ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def database(postgres: Postgres) -> str:
    """The server's URL, with no store tables left from another test."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(postgres.url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DROP TABLE IF EXISTS cors_origins, cors_origins_version"))
    engine.dispose()
    return postgres.url


def test_sqlalchemy_store_on_postgres_validates_versions_and_notifies(
    database: str, request: pytest.FixtureRequest
) -> None:
    import psycopg

    from cors_wsgi.store import SQLAlchemyOriginStore

    store = SQLAlchemyOriginStore(database, allow_credentials=True)
    request.addfinalizer(store.close)
    with pytest.raises(CORSConfigError) as caught:
        store.add("http://shop.customer.example")
    assert caught.value.codes == ["insecure-origin-with-credentials"]
    first = store.version()
    with psycopg.connect(database.replace("+psycopg", ""), autocommit=True) as listener:
        listener.execute("LISTEN cors_origins")
        assert store.add(CUSTOMER)
        assert not store.add(CUSTOMER)
        assert store.snapshot() == (first + 1, frozenset({CUSTOMER}))
        assert store.remove(CUSTOMER)
        assert not store.remove(CUSTOMER)
        assert [n.payload for n in listener.notifies(timeout=1.0, stop_after=2)] == [str(first + 1),
                                                                                      str(first + 2)]
    assert store.version() == first + 2
    assert "postgres@127.0.0.1" in repr(store)
    with SQLAlchemyOriginStore(database) as again:
        assert again.allow_credentials  # recorded for every later writer


def fetch(port: int, origin: str) -> tuple[int, int, str | None]:
    """``(status, worker pid, ACAO)`` over a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/api/data", headers={"Origin": origin})
        response = connection.getresponse()
        body = response.read()
        worker = json.loads(body)["worker"] if response.status == 200 else 0
        return response.status, worker, response.getheader("Access-Control-Allow-Origin")
    finally:
        connection.close()


def answers(ports: list[int], origin: str) -> dict[int, str | None]:
    """Each worker's ACAO for ``origin``, until all four answered."""
    seen: dict[int, str | None] = {}
    for _ in range(400):
        for port in ports:
            status, worker, value = fetch(port, origin)
            assert status == 200
            seen[worker] = value
        if len(seen) == 4:
            return seen
    pytest.fail(f"only {len(seen)} workers answered")


def all_see(ports: list[int], origin: str, value: str | None, timeout: float) -> float:
    """Seconds until every one of the four workers answers ``value``."""
    started = time.monotonic()
    pending: set[int] | None = None
    while True:
        seen = answers(ports, origin)
        if all(v == value for v in seen.values()):
            return time.monotonic() - started
        pending = {w for w, v in seen.items() if v != value}
        if time.monotonic() - started > timeout:
            pytest.fail(f"workers {pending} still answer otherwise after {timeout} s")


class Hosts:
    """Two gunicorn hosts of examples.store_app, two workers each, one database."""

    def __init__(self, tmp_path: Path, url: str, **environment: str) -> None:
        self.ports = [free_port(), free_port()]
        self.log = tmp_path / "cors.log"
        self.environment = {**env(), "CORS_STORE_URL": url, "CORS_LOG_FILE": str(self.log), **environment}
        self.tmp_path = tmp_path

    def __enter__(self) -> Hosts:
        from contextlib import ExitStack

        self.stack = ExitStack()
        for port in self.ports:
            argv = [str(BIN / "gunicorn"), "examples.store_app:create_app()", "-w", "2", "-b", f"127.0.0.1:{port}"]
            self.stack.enter_context(run_server(argv, port, cwd=str(self.tmp_path), env=self.environment))
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def logged(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


def test_two_hosts_see_a_cli_change_within_the_refresh_period_by_polling(database: str, tmp_path: Path) -> None:
    from cors_wsgi.store import SQLAlchemyOriginStore

    SQLAlchemyOriginStore(database, allow_credentials=True).close()
    with Hosts(tmp_path, database, CORS_STORE_REFRESH_SECONDS="1") as hosts:
        assert set(answers(hosts.ports, CUSTOMER).values()) == {None}
        assert cli("origins", "add", "--db", database, CUSTOMER).returncode == 0
        added = all_see(hosts.ports, CUSTOMER, CUSTOMER, timeout=1.0 + 1.0)
        assert cli("origins", "list", "--db", database).stdout == f"{CUSTOMER}\n"
        assert cli("origins", "remove", "--db", database, CUSTOMER).returncode == 0
        removed = all_see(hosts.ports, CUSTOMER, None, timeout=1.0 + 1.0)
    print(f"polling, refresh 1 s: added seen by 4 workers in {added:.2f} s, removed in {removed:.2f} s")


def test_two_hosts_see_a_change_within_one_second_with_postgres_notify(database: str, tmp_path: Path) -> None:
    from cors_wsgi.store import SQLAlchemyOriginStore

    SQLAlchemyOriginStore(database, allow_credentials=True).close()
    with Hosts(tmp_path, database, CORS_STORE_REFRESH_SECONDS="60", CORS_STORE_NOTIFY="1") as hosts:
        assert set(answers(hosts.ports, CUSTOMER).values()) == {None}  # every worker is listening now
        time.sleep(0.5)
        assert cli("origins", "add", "--db", database, CUSTOMER).returncode == 0
        added = all_see(hosts.ports, CUSTOMER, CUSTOMER, timeout=1.0)
        assert cli("origins", "remove", "--db", database, CUSTOMER).returncode == 0
        removed = all_see(hosts.ports, CUSTOMER, None, timeout=1.0)
    print(f"push, refresh 60 s: added seen by 4 workers in {added:.2f} s, removed in {removed:.2f} s")


class Load:
    """Requests from a thread while a fault runs: statuses and ACAO values."""

    def __init__(self, ports: list[int], origin: str) -> None:
        self.results: list[tuple[int, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ports, origin))

    def _run(self, ports: list[int], origin: str) -> None:
        while not self._stop.is_set():
            for port in ports:
                status, _, value = fetch(port, origin)
                self.results.append((status, value))

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


@contextmanager
def database_stopped(postgres: Postgres) -> Iterator[None]:
    """The server stopped: every check fails at once (connection refused)."""
    postgres.stop()
    try:
        yield
    finally:
        postgres.start()


@contextmanager
def table_locked(postgres: Postgres) -> Iterator[None]:
    """ACCESS EXCLUSIVE blocks every read of the table: each worker's check
    hangs (no error is ever raised), which only the poller's watch reports."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(postgres.url)
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("LOCK TABLE cors_origins IN ACCESS EXCLUSIVE MODE"))
            yield
            connection.rollback()  # releases the lock
    finally:
        engine.dispose()


@dataclass(frozen=True)
class PostgresFault:
    """A PostgreSQL fault held while load runs, and what differs per fault."""

    cause: Callable[[Postgres], AbstractContextManager[None]]
    logged: str  # what the workers log for it, besides the staleness alarm
    figures: str  # how the printed figures line names it


POSTGRES_FAULTS = [
    pytest.param(PostgresFault(database_stopped, "serving the snapshot of version ", "database stopped"),
                 id="stopped"),
    pytest.param(PostgresFault(table_locked, "a check has not returned for", "table locked"),
                 id="table-locked"),
]


@pytest.mark.parametrize("fault", POSTGRES_FAULTS)
def test_postgres_fault_under_load_serves_the_last_good_snapshot_then_recovers(
    fault: PostgresFault, postgres: Postgres, database: str, tmp_path: Path
) -> None:
    """For 2 s of fault: no 5xx, every answer from the last good snapshot, the
    fault and the staleness alarm logged; after it a change is seen by all 4 workers."""
    from cors_wsgi.store import SQLAlchemyOriginStore

    with SQLAlchemyOriginStore(database, allow_credentials=True) as store:
        store.add(CUSTOMER)
    with Hosts(tmp_path, database, CORS_STORE_REFRESH_SECONDS="0.2", CORS_MAX_STALENESS_SECONDS="1") as hosts:
        assert set(answers(hosts.ports, CUSTOMER).values()) == {CUSTOMER}
        with Load(hosts.ports, CUSTOMER) as load, fault.cause(postgres):
            time.sleep(2.0)
        assert load.results
        assert all(result == (200, CUSTOMER) for result in load.results)
        logged = hosts.logged()
        assert fault.logged in logged
        assert "over max_staleness_seconds=1.0" in logged
        with SQLAlchemyOriginStore(database) as store:
            store.add(OTHER)
        recovered = all_see(hosts.ports, OTHER, OTHER, timeout=5.0)
    print(f"{fault.figures} 2 s: {len(load.results)} requests, 0 errors; recovered in {recovered:.2f} s")


def test_tables_dropped_serves_the_last_good_snapshot_then_recovers(database: str, tmp_path: Path) -> None:
    import sqlalchemy

    from cors_wsgi.store import SQLAlchemyOriginStore

    with SQLAlchemyOriginStore(database, allow_credentials=True) as store:
        store.add(CUSTOMER)
    with Hosts(tmp_path, database, CORS_STORE_REFRESH_SECONDS="0.2", CORS_MAX_STALENESS_SECONDS="1") as hosts:
        assert set(answers(hosts.ports, CUSTOMER).values()) == {CUSTOMER}
        engine = sqlalchemy.create_engine(database)
        with Load(hosts.ports, CUSTOMER) as load:
            with engine.begin() as connection:
                connection.execute(sqlalchemy.text("DROP TABLE cors_origins"))
            time.sleep(1.5)
        engine.dispose()
        assert load.results
        assert all(result == (200, CUSTOMER) for result in load.results)
        assert "UndefinedTable" in hosts.logged() or "does not exist" in hosts.logged()
        with SQLAlchemyOriginStore(database) as store:  # recreates the table
            store.add(OTHER)
        all_see(hosts.ports, CUSTOMER, None, timeout=5.0)
        all_see(hosts.ports, OTHER, OTHER, timeout=5.0)


def test_notifier_that_cannot_connect_logs_and_keeps_retrying(caplog: pytest.LogCaptureFixture) -> None:
    from cors_wsgi.notify import PostgresNotifier

    port = free_port()  # nothing listens there
    notifier = PostgresNotifier(f"postgresql+psycopg://app@127.0.0.1:{port}/none", channel="cors_test")
    assert notifier.url == f"postgresql://app@127.0.0.1:{port}/none"  # the libpq form of a SQLAlchemy URL
    checks: list[int] = []
    with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
        notifier.start(lambda: checks.append(1))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("reconnecting" in r.getMessage() for r in caplog.records):
            time.sleep(0.05)
    assert any("PostgresNotifier on channel 'cors_test'" in r.getMessage() and "reconnecting" in r.getMessage()
               for r in caplog.records)
    notifier.close()
    assert checks == []  # never connected: no check was asked for
    assert repr(notifier) == "PostgresNotifier(channel='cors_test')"

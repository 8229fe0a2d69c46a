"""``SQLiteOriginStore`` faults under load behind real gunicorn workers: the
file locked, the file deleted.  During a fault every answer comes from the
last good snapshot (no 5xx, a stored origin allowed, a never-stored one
refused, no request waits for the store); a failed check is logged once per
check with the snapshot's age; after it, a change is seen by every worker
within about one refresh period.  The PostgreSQL faults (database stopped,
tables dropped) are in test_origin_snapshots.py, whose helpers these reuse.

An unreadable or read-only file is not tested here: the tests run as root,
whom ``chmod`` does not stop."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import webtest

from cors_wsgi import CORSMiddleware, CORSPolicy
from cors_wsgi.store import SQLiteOriginStore
from tests.test_origin_snapshots import (
    CUSTOMER,
    OTHER,
    Hosts,
    Load,
    acao,
    all_see,
    answers,
    fetch,
    simple_app,
    wait_for,
)
from tests.test_store import cli

NEVER = "https://never.customer.example"  # never stored: refused before, during and after a fault
REFRESH = 0.5  # the gunicorn workers' store_refresh_seconds
SLOWEST = 1.0  # seconds: no request may take longer, whatever the store does (its busy timeout is 5 s)
BUSY_TIMEOUT = 5.0  # SQLiteOriginStore's default timeout, which examples/store_app.py keeps


class TimedLoad(Load):
    """``Load`` that also records each request's seconds and worker; a
    request that could not connect counts as status 0 (the thread goes on)."""

    def __init__(self, ports: list[int], origin: str) -> None:
        super().__init__(ports, origin)
        self.seconds: list[float] = []
        self.workers: set[int] = set()

    def _run(self, ports: list[int], origin: str) -> None:
        while not self._stop.is_set():
            for port in ports:
                started = time.monotonic()
                try:
                    status, worker, value = fetch(port, origin)
                except OSError:
                    status, worker, value = 0, 0, None
                self.seconds.append(time.monotonic() - started)
                self.workers.add(worker)
                self.results.append((status, value))


@contextlib.contextmanager
def under_load(ports: list[int]) -> Iterator[tuple[TimedLoad, TimedLoad]]:
    """Requests for the stored origin and for the never-stored one, each
    from a thread of its own, while the body runs."""
    stored, never = TimedLoad(ports, CUSTOMER), TimedLoad(ports, NEVER)
    with stored, never:
        yield stored, never


def assert_served_by_the_last_good_snapshot(stored: TimedLoad, never: TimedLoad) -> None:
    for load, expected in ((stored, CUSTOMER), (never, None)):
        assert max(load.seconds) < SLOWEST, f"a request took {max(load.seconds):.2f} s"
        assert len(load.results) > 50
        wrong = [result for result in load.results if result != (200, expected)]
        assert wrong == [], f"{len(wrong)} of {len(load.results)} answers for {expected or NEVER}: {wrong[:5]}"
        assert len(load.workers) == 4  # every worker answered during the fault


def sqlite_file(tmp_path: Path) -> Path:
    """A store file holding CUSTOMER, alone in a directory of its own."""
    directory = tmp_path / "db"
    directory.mkdir()
    path = directory / "origins.sqlite3"
    SQLiteOriginStore(path, allow_credentials=True).add(CUSTOMER)
    return path


def read_at_once(path: Path) -> None:
    """Read the origins table with no busy timeout (raises when locked)."""
    with contextlib.closing(sqlite3.connect(path, timeout=0)) as reader:
        reader.execute("SELECT count(*) FROM cors_origins").fetchone()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` that stops its readers too.  In WAL
    mode ``BEGIN EXCLUSIVE`` alone stops only writers; with
    ``locking_mode=EXCLUSIVE`` the connection keeps the file's lock."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("SELECT count(*) FROM cors_origins").fetchone()
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):  # the fault is real
            read_at_once(path)
        yield
    finally:
        holder.close()  # rolls back and releases the lock


@contextlib.contextmanager
def deleted(path: Path) -> Iterator[None]:
    """Remove ``path`` with its -wal and -shm files; no read may bring the store file back."""
    for name in os.listdir(path.parent):
        os.unlink(path.parent / name)
    yield
    assert not path.exists()


def stays_deleted(path: Path, seconds: float) -> None:
    """Fail as soon as the store file reappears within ``seconds``.  (A check
    that had opened the file just before it was deleted may leave an empty
    ``-wal``/``-shm`` behind, SQLite's own doing; the store file, a new empty
    allow-list, never comes back.)"""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert not path.exists(), "a read created the deleted store file"
        time.sleep(0.02)


def logged_errors(hosts: Hosts, text: str) -> list[str]:
    return [line for line in hosts.logged().splitlines() if text in line and "serving the snapshot" in line]


# -- under load, behind gunicorn -----------------------------------------------------------


def test_sqlite_locked_under_load_serves_the_last_good_snapshot_and_never_waits(tmp_path: Path) -> None:
    path = sqlite_file(tmp_path)
    with Hosts(tmp_path, str(path), CORS_STORE_REFRESH_SECONDS=str(REFRESH)) as hosts:
        assert set(answers(hosts.ports, CUSTOMER).values()) == {CUSTOMER}  # every poller started
        assert set(answers(hosts.ports, NEVER).values()) == {None}
        with under_load(hosts.ports) as (stored, never), locked(path):
            # Until every poller's check has waited out the busy timeout and
            # failed (each worker logs one line), bounded on a slow machine.
            held = wait_for(lambda: len(logged_errors(hosts, "database is locked")) >= 4, timeout=3 * BUSY_TIMEOUT)
        assert_served_by_the_last_good_snapshot(stored, never)
        errors = logged_errors(hosts, "database is locked")
        # Once per failed check of each worker (a check fails after BUSY_TIMEOUT), never per request.
        assert 4 <= len(errors) <= 4 * (int(held / BUSY_TIMEOUT) + 1), (held, errors)
        SQLiteOriginStore(path).add(OTHER)
        recovered = all_see(hosts.ports, OTHER, OTHER, timeout=REFRESH + 0.75)
        assert set(answers(hosts.ports, CUSTOMER).values()) == {CUSTOMER}
        assert set(answers(hosts.ports, NEVER).values()) == {None}
    print(f"locked {held:.1f} s: {len(stored.results) + len(never.results)} requests, "
          f"{len(errors)} errors logged, slowest {max(stored.seconds + never.seconds) * 1000:.0f} ms; recovered in {recovered:.2f} s")


def test_sqlite_deleted_under_load_serves_the_last_good_snapshot_never_recreates_it_then_recovers(
    tmp_path: Path,
) -> None:
    path = sqlite_file(tmp_path)
    with Hosts(tmp_path, str(path), CORS_STORE_REFRESH_SECONDS=str(REFRESH), CORS_MAX_STALENESS_SECONDS="1") as hosts:
        assert set(answers(hosts.ports, CUSTOMER).values()) == {CUSTOMER}
        assert set(answers(hosts.ports, NEVER).values()) == {None}
        with under_load(hosts.ports) as (stored, never), deleted(path):
            stays_deleted(path, 4 * REFRESH)  # several failed checks in every worker
        assert_served_by_the_last_good_snapshot(stored, never)
        assert len(logged_errors(hosts, "unable to open database file")) >= 4
        assert re.search(r"serving the snapshot of version \d+ \(1 origins\)", hosts.logged())
        assert "over max_staleness_seconds=1.0" in hosts.logged()
        # Restored with the CLI as it was (CUSTOMER), then changed.
        assert cli("origins", "add", "--credentials", str(path), CUSTOMER).returncode == 0
        assert cli("origins", "add", str(path), OTHER).returncode == 0
        recovered = all_see(hosts.ports, OTHER, OTHER, timeout=REFRESH + 0.75)
        assert set(answers(hosts.ports, CUSTOMER).values()) == {CUSTOMER}
        assert set(answers(hosts.ports, NEVER).values()) == {None}
    print(f"deleted {4 * REFRESH:.1f} s: {len(stored.results) + len(never.results)} requests, "
          f"slowest {max(stored.seconds + never.seconds) * 1000:.0f} ms; recovered in {recovered:.2f} s")


# -- in process: what is logged ------------------------------------------------------------

AGE = re.compile(r"confirmed (\d+\.\d) s ago")


@pytest.mark.parametrize("fault", [locked, deleted], ids=["locked", "deleted"])
def test_a_sqlite_fault_is_logged_once_per_refresh_period_with_the_snapshot_age_not_per_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fault: Callable[[Path], contextlib.AbstractContextManager[None]]
) -> None:
    refresh, lasting = 0.1, 1.0
    path = sqlite_file(tmp_path)
    store = SQLiteOriginStore(path, timeout=0.02)  # the busy timeout stalls this poller 20 ms
    policy = CORSPolicy(allow_origin_store=store, allow_credentials=True, store_refresh_seconds=refresh,
                        max_staleness_seconds=0.5)
    app = webtest.TestApp(CORSMiddleware(simple_app, policy=policy))
    assert acao(app, CUSTOMER) == CUSTOMER  # the poller runs from now on
    requests = 0
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"), fault(path):
        deadline = time.monotonic() + lasting
        while time.monotonic() < deadline:
            assert acao(app, CUSTOMER) == CUSTOMER
            assert acao(app, NEVER) is None
            requests += 2
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "serving the snapshot" in r.getMessage()]
    alarms = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert requests > 20 * len(errors)
    # One per check: at most every refresh less 20 % (the jitter), and no check skipped.
    assert lasting / refresh - 2 <= len(errors) <= lasting / (0.8 * refresh) + 1
    gaps = [b.created - a.created for a, b in itertools.pairwise(errors)]
    assert min(gaps) > 0.8 * refresh - 0.02, gaps
    ages = [float(age) for r in errors for age in AGE.findall(r.getMessage())]
    assert len(ages) == len(errors)
    assert ages == sorted(ages)
    assert ages[0] <= refresh + 0.05
    assert ages[-1] >= lasting - 2 * refresh
    assert re.search(r"version \d+ \(1 origins\)", errors[-1].getMessage())
    assert 1 <= len(alarms) <= len(errors)  # past max_staleness_seconds, once per check too
    assert policy.refresh_errors == len(errors)
    if fault is deleted:
        SQLiteOriginStore(path, allow_credentials=True).add(CUSTOMER)  # restored as it was
    store.add(OTHER)
    wait_for(lambda: acao(app, OTHER) == OTHER, refresh + 0.5)
    assert policy.snapshot_age is not None
    assert policy.snapshot_age < refresh + 0.05
    print(f"{fault.__name__} {lasting} s in process: {requests} requests, {len(errors)} errors logged, ages {ages}")


def test_a_file_deleted_then_recreated_with_other_origins_serves_the_recreated_origins(tmp_path: Path) -> None:
    path = sqlite_file(tmp_path)
    policy = CORSPolicy(allow_origin_store=SQLiteOriginStore(path), allow_credentials=True,
                        store_refresh_seconds=3600)
    holder = policy._engine.snapshot
    assert holder is not None
    with deleted(path):
        assert not holder.check()
    SQLiteOriginStore(path, allow_credentials=True).add(OTHER)  # as `cors-wsgi origins add PATH OTHER`
    assert holder.check()
    assert (policy.allows_origin(CUSTOMER), policy.allows_origin(OTHER)) == (False, True)

"""``RedisNotifier``: push invalidation over Redis pub/sub, against a real
``redis-server`` on loopback and real gunicorn workers."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cors_wsgi.store import SQLiteOriginStore
from tests.redis_server import Redis, redis_server
from tests.servers import FreezingProxy, free_port
from tests.test_origin_snapshots import CUSTOMER, Hosts, all_see, answers
from tests.test_store import cli


@pytest.fixture(scope="module")
def redis() -> Iterator[Redis]:
    with redis_server() as server:
        yield server


def wait_until(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def listening(notifier: object, checks: list[int]) -> None:
    """Start ``notifier`` and wait until Redis counts its subscription."""
    import redis as redis_py

    from cors_wsgi.notify import RedisNotifier

    assert isinstance(notifier, RedisNotifier)
    notifier.start(lambda: checks.append(1))
    client = redis_py.Redis.from_url(notifier.url)
    try:
        assert wait_until(lambda: client.pubsub_numsub(notifier.channel)[0][1] >= 1, 10)
    finally:
        client.close()


def test_a_published_version_makes_every_subscribed_listener_ask_for_one_check(redis: Redis) -> None:
    from cors_wsgi.notify import RedisNotifier

    first, second = RedisNotifier(redis.url, "cors_a"), RedisNotifier(redis.url, "cors_a")
    other = RedisNotifier(redis.url, "cors_b")
    checks: dict[str, list[int]] = {"first": [], "second": [], "other": []}
    try:
        listening(first, checks["first"])
        listening(second, checks["second"])
        listening(other, checks["other"])
        assert RedisNotifier(redis.url, "cors_a").publish(7) == 2  # both workers subscribed
        assert wait_until(lambda: checks["first"] and checks["second"], 5)
        time.sleep(0.2)
        assert checks == {"first": [1], "second": [1], "other": []}
        assert (first.received, second.received, other.received) == (1, 1, 0)
    finally:
        for notifier in (first, second, other):
            notifier.close()


def test_two_hosts_see_a_cli_change_within_one_second_with_redis_push(redis: Redis, tmp_path: Path) -> None:
    db = tmp_path / "origins.sqlite3"
    SQLiteOriginStore(db, allow_credentials=True)
    with Hosts(tmp_path, str(db), CORS_STORE_REFRESH_SECONDS="60", CORS_STORE_REDIS_URL=redis.url) as hosts:
        assert set(answers(hosts.ports, CUSTOMER).values()) == {None}  # every worker has subscribed
        time.sleep(0.5)
        assert cli("origins", "add", str(db), CUSTOMER, "--redis", redis.url).returncode == 0
        added = all_see(hosts.ports, CUSTOMER, CUSTOMER, timeout=1.0)
        assert cli("origins", "remove", str(db), CUSTOMER, "--redis", redis.url).returncode == 0
        removed = all_see(hosts.ports, CUSTOMER, None, timeout=1.0)
    print(f"redis push, refresh 60 s: added seen by 4 workers in {added:.2f} s, removed in {removed:.2f} s")


def test_a_listener_reconnects_after_an_outage_and_asks_for_a_check(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    from cors_wsgi.notify import RedisNotifier

    notifier = RedisNotifier(redis.url, "cors_outage")
    checks: list[int] = []
    with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
        try:
            listening(notifier, checks)
            redis.stop()
            assert wait_until(lambda: any("reconnecting" in r.getMessage() for r in caplog.records), 10)
            redis.start()
            assert wait_until(lambda: checks == [1], 15)  # messages sent meanwhile are lost: check once
            assert RedisNotifier(redis.url, "cors_outage").publish(2) == 1
            assert wait_until(lambda: checks == [1, 1], 5)
        finally:
            notifier.close()
    warning = next(r.getMessage() for r in caplog.records if "reconnecting" in r.getMessage())
    assert warning.startswith("RedisNotifier on channel 'cors_outage': ")
    assert "the poll still runs" in warning


def test_a_failed_publish_is_logged_and_the_change_stays_committed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from cors_wsgi.notify import RedisNotifier

    notifier = RedisNotifier(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    store = SQLiteOriginStore(tmp_path / "origins.sqlite3", notifier=notifier)
    first = store.version()
    with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
        assert store.add(CUSTOMER) is True
    assert store.origins() == [CUSTOMER]
    assert store.version() == first + 1
    (message,) = [r.getMessage() for r in caplog.records]
    assert f"version {first + 1} is committed" in message
    assert "workers see it at their next poll" in message


def test_the_sqlalchemy_store_publishes_each_committed_change_once(redis: Redis, tmp_path: Path) -> None:
    import redis as redis_py

    from cors_wsgi.notify import RedisNotifier
    from cors_wsgi.store import SQLAlchemyOriginStore

    client = redis_py.Redis.from_url(redis.url)
    pubsub: Any = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    pubsub.subscribe("cors_sa")
    url = f"sqlite:///{tmp_path / 'origins.db'}"
    try:
        with SQLAlchemyOriginStore(url, notifier=RedisNotifier(redis.url, "cors_sa")) as store:
            first = store.version()
            assert store.add(CUSTOMER) is True
            assert store.add(CUSTOMER) is False  # no change, no message
            assert store.remove(CUSTOMER) is True
        received: list[bytes] = []
        deadline = time.monotonic() + 5
        while len(received) < 2 and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)
            if message is not None:
                received.append(message["data"])
        assert received == [str(first + 1).encode(), str(first + 2).encode()]
        assert pubsub.get_message(timeout=0.3) is None
    finally:
        pubsub.close()
        client.close()


def test_close_stops_the_listener_within_a_second(redis: Redis) -> None:
    from cors_wsgi.notify import RedisNotifier

    before = {t.ident for t in threading.enumerate()}
    notifier = RedisNotifier(redis.url, "cors_close")
    listening(notifier, [])
    (thread,) = [t for t in threading.enumerate() if t.ident not in before and t.name == "cors-wsgi-notify"]
    notifier.close()
    thread.join(2.0)
    assert not thread.is_alive()


def test_redis_notifier_without_redis_py_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from cors_wsgi.notify import RedisNotifier

    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"pip install 'cors_wsgi\[redis\]'"):
        RedisNotifier("redis://127.0.0.1:6379/0")


def test_postgres_notifier_without_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from cors_wsgi.notify import PostgresNotifier

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ImportError, match=r"pip install 'cors_wsgi\[postgres\]'"):
        PostgresNotifier("postgresql://app@127.0.0.1/app")


def test_the_backoff_starts_afresh_once_a_listener_has_subscribed_again(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    # Mutation "reset the backoff only when a session ends cleanly" fails here:
    # a listener that reconnected after a long outage would wait the long delay
    # again at the next short one.
    from cors_wsgi.notify import RedisNotifier

    notifier = RedisNotifier(redis.url, "cors_backoff")
    checks: list[int] = []

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if "reconnecting in" in r.getMessage()]

    with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
        try:
            listening(notifier, checks)
            redis.stop()
            assert wait_until(lambda: any("reconnecting in 0.8 s" in w for w in warnings()), 15)
            redis.start()
            assert wait_until(lambda: checks == [1], 15)  # subscribed again
            caplog.clear()
            redis.stop()
            assert wait_until(lambda: warnings() != [], 15)
            assert "reconnecting in 0.1 s" in warnings()[0]
        finally:
            redis.start()
            notifier.close()


def test_a_failed_publish_logs_the_notifier_escaped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Mutation "log %r of the notifier" fails here: a notifier's repr is not ours to trust.
    class Forging:
        def start(self, callback: object) -> None: ...

        def publish(self, version: int) -> int:
            raise RuntimeError("down")

        def __repr__(self) -> str:
            return "Forging\n[CRITICAL] cors_wsgi: forged line \x1b[2J"

    store = SQLiteOriginStore(tmp_path / "origins.sqlite3", notifier=Forging())
    with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
        store.add(CUSTOMER)
    (message,) = [r.getMessage() for r in caplog.records]
    assert "\n" not in message
    assert "\x1b" not in message
    assert "Forging\\n[CRITICAL]" in message


@pytest.mark.usefixtures("quick_health_checks")
def test_a_half_open_connection_is_found_by_the_health_check_and_replaced(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    # Mutation "no health check" fails here: a frozen connection never errs
    # by itself, so the listener would wait on it for ever, pushes lost.
    from cors_wsgi import notify

    proxy = FreezingProxy(redis.port)
    notifier = notify.RedisNotifier(f"redis://127.0.0.1:{proxy.port}/0", "cors_half_open")
    checks: list[int] = []
    try:
        with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
            listening(notifier, checks)
            proxy.frozen.set()
            frozen = time.monotonic()
            assert wait_until(lambda: any("reconnecting" in r.getMessage() for r in caplog.records), 10)
            found = time.monotonic() - frozen
            proxy.frozen.clear()
            assert wait_until(lambda: checks != [], 10)  # subscribed again: a check for what was missed
        assert notify.RedisNotifier(redis.url, "cors_half_open").publish(3) >= 1
        assert wait_until(lambda: len(checks) >= 2, 5)
    finally:
        notifier.close()
        proxy.close()
    print(f"redis half-open connection found in {found:.1f} s (health check 1 s, reply timeout 1 s)")

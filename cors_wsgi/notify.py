"""Push invalidation for ``allow_origin_store``: a change is seen at once,
not at the next poll.

A push only asks the worker's poller to check the store now (the message
carries the new version, nothing else is trusted from it); the poll every
``store_refresh_seconds`` stays the backstop, so a lost message, or a
listener reconnecting, delays a change by one refresh period at most.

PostgreSQL, ``LISTEN``/``NOTIFY`` (``pip install 'cors_wsgi[postgres]'``)::

    from cors_wsgi.notify import PostgresNotifier
    from cors_wsgi.store import SQLAlchemyOriginStore

    url = "postgresql+psycopg://app@db/app"
    store = SQLAlchemyOriginStore(url, notifier=PostgresNotifier(url))
    policy = CORSPolicy(allow_origins=[...], allow_origin_store=store)

``SQLAlchemyOriginStore`` sends ``pg_notify('cors_origins', version)`` in
the transaction of every change on PostgreSQL (so ``cors-wsgi origins add
--db URL`` does too).

Redis pub/sub, for any store (``pip install 'cors_wsgi[redis]'``)::

    from cors_wsgi.notify import RedisNotifier

    store = SQLAlchemyOriginStore(url, notifier=RedisNotifier("redis://cache:6379/0"))

the store publishes the new version on the channel after every committed
change (a failed publish is logged; the poll still sees the change), and
``cors-wsgi origins add --db URL --redis redis://cache:6379/0 ORIGIN`` does
the same from a shell.

Each notifier starts its listening thread lazily, at the first request in
each process (after a server's fork, so gunicorn ``--preload`` works), and
reconnects with exponential backoff (0.1 s doubling to 5 s) after an error;
after a reconnect it asks for a check, since messages sent meanwhile are
lost.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from cors_wsgi._log import escape, logger

__all__ = ["PostgresNotifier", "RedisNotifier"]

#: Reconnection backoff: first delay, and the longest (seconds).
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 5.0
#: How often a Redis listener wakes to see whether it was closed (seconds).
POLL_SECONDS = 1.0


def _libpq_url(url: str) -> str:
    """``postgresql+psycopg://...`` (SQLAlchemy) -> ``postgresql://...`` (libpq)."""
    scheme, sep, rest = url.partition("://")
    return scheme.split("+", 1)[0] + sep + rest if sep else url


class _Listener:
    """The thread, the reconnect loop and ``close()`` both notifiers share;
    :meth:`_session` is one connection's life (returns or raises when it ends)."""

    channel: str

    def __init__(self) -> None:
        #: Messages received in this process (for metrics and tests).
        self.received = 0
        self._closed = threading.Event()

    def start(self, callback: Callable[[], None]) -> None:
        """Listen in a daemon thread of this process; ``callback()`` on each
        message and after each reconnect."""
        threading.Thread(target=self._listen, args=(callback,), name="cors-wsgi-notify", daemon=True).start()

    def _session(self, callback: Callable[[], None], reconnected: bool) -> None:
        raise NotImplementedError

    def _listen(self, callback: Callable[[], None]) -> None:
        backoff = FIRST_BACKOFF
        reconnected = False
        while not self._closed.is_set():
            try:
                self._session(callback, reconnected)
                backoff = FIRST_BACKOFF  # a session that ended cleanly: reconnect soon
            except Exception as error:
                logger.warning(
                    "%s on channel %s: %s: %s; reconnecting in %.1f s (the poll still runs)",
                    type(self).__name__, escape(self.channel), escape(type(error).__name__),
                    escape(str(error)), backoff,
                )
            reconnected = True
            self._closed.wait(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)

    def _received(self, callback: Callable[[], None]) -> None:
        self.received += 1
        callback()

    def close(self) -> None:
        """Stop listening and reconnecting (a Redis listener within
        :data:`POLL_SECONDS`; a PostgreSQL connection that is listening ends
        with the process)."""
        self._closed.set()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channel={self.channel!r})"


class PostgresNotifier(_Listener):
    """``LISTEN channel`` with psycopg 3 (``pip install 'cors_wsgi[postgres]'``).

    :param url: the database, as a libpq or SQLAlchemy URL
        (``"postgresql+psycopg://app@db/app"``).
    :param channel: the channel ``SQLAlchemyOriginStore(notify_channel=...)`` notifies.
    :raises ImportError: without psycopg 3, naming the extra.
    """

    def __init__(self, url: str, channel: str = "cors_origins") -> None:
        try:
            import psycopg
        except ImportError as error:
            raise ImportError(
                "PostgresNotifier needs psycopg 3: pip install 'cors_wsgi[postgres]'"
            ) from error
        super().__init__()
        self._psycopg: Any = psycopg
        self.url = _libpq_url(url)
        self.channel = channel

    def _session(self, callback: Callable[[], None], reconnected: bool) -> None:
        psycopg = self._psycopg
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(self.channel)))
            if reconnected:
                callback()  # notifications sent while disconnected are lost: check now
            for _ in connection.notifies():
                self._received(callback)


class RedisNotifier(_Listener):
    """Redis pub/sub with redis-py (``pip install 'cors_wsgi[redis]'``):
    ``SUBSCRIBE channel`` in each worker; the stores ``PUBLISH channel
    version`` after every committed change (:meth:`publish`).

    :param url: ``"redis://127.0.0.1:6379/0"`` (``rediss://`` for TLS, as
        ``redis.Redis.from_url`` reads it).
    :param channel: the pub/sub channel, ``"cors_origins"`` by default.
    :raises ImportError: without redis-py, naming the extra.
    """

    def __init__(self, url: str, channel: str = "cors_origins") -> None:
        try:
            import redis
        except ImportError as error:
            raise ImportError("RedisNotifier needs redis-py: pip install 'cors_wsgi[redis]'") from error
        super().__init__()
        self._redis: Any = redis
        self.url = url
        self.channel = channel
        self._publisher: Any = None
        self._publisher_pid = 0
        self._lock = threading.Lock()

    def _client(self) -> Any:
        return self._redis.Redis.from_url(self.url, socket_connect_timeout=5, socket_timeout=10)

    def _session(self, callback: Callable[[], None], reconnected: bool) -> None:
        client = self._client()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            if reconnected:
                callback()  # messages published while disconnected are lost: check now
            while not self._closed.is_set():
                message = pubsub.get_message(timeout=POLL_SECONDS)
                if message is not None and message.get("type") == "message":
                    self._received(callback)
        finally:
            pubsub.close()
            client.close()

    def publish(self, version: int) -> int:
        """``PUBLISH channel version``: what the stores call after a
        committed change.  Returns the number of subscribed workers.

        :raises Exception: redis-py's ``redis.RedisError`` when Redis cannot
            be reached (the stores log it; the change is committed and the
            poll sees it).
        """
        with self._lock:
            if self._publisher is None or self._publisher_pid != os.getpid():  # never the parent's socket
                self._publisher = self._client()
                self._publisher_pid = os.getpid()
            try:
                return int(self._publisher.publish(self.channel, str(version)))
            except self._redis.RedisError:
                self._publisher.close()
                self._publisher = None
                raise

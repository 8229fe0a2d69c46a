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

Each notifier starts one listening thread per process, lazily, at the
first request (after a server's fork, so gunicorn ``--preload`` works),
however many policies share it; it reconnects with exponential backoff
(0.1 s doubling to 5 s, back to 0.1 s once subscribed again) after an
error; after a reconnect it asks for a check, since messages sent
meanwhile are lost.  It holds its policies weakly: once every policy that
started it is gone (replaced by ``CORSMiddleware.reconfigure()``), the
thread ends and its connection closes within :data:`POLL_SECONDS`.  A
connection that dies silently (a half-open TCP connection, or a server
that stopped answering) is found within :data:`HEALTH_CHECK_SECONDS` plus
:data:`SOCKET_TIMEOUT_SECONDS`: an idle listener sends ``SELECT 1``
(PostgreSQL, with TCP keepalives too) or ``PING`` (Redis) that often, and a
reply that does not come in time ends the connection, then it reconnects.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from cors_wsgi._log import escape, logger

__all__ = [
    "FIRST_BACKOFF", "HEALTH_CHECK_SECONDS", "MAX_BACKOFF", "POLL_SECONDS", "SOCKET_TIMEOUT_SECONDS",
    "PostgresNotifier", "RedisNotifier",
]

#: Reconnection backoff: the first delay (seconds), doubled after each failed attempt ...
FIRST_BACKOFF = 0.1
#: ... up to this one (seconds).
MAX_BACKOFF = 5.0
#: How often a listener wakes to see whether it was closed or its policies
#: are gone (seconds).
POLL_SECONDS = 1.0
#: How often an idle listener proves its connection alive (seconds).
HEALTH_CHECK_SECONDS = 30
#: How long the reply to a health check may take before the connection
#: counts as dead (seconds).
SOCKET_TIMEOUT_SECONDS = 10


def _libpq_url(url: str) -> str:
    """``postgresql+psycopg://...`` (SQLAlchemy) -> ``postgresql://...`` (libpq)."""
    scheme, sep, rest = url.partition("://")
    return scheme.split("+", 1)[0] + sep + rest if sep else url


class _Listener:
    """The thread, the reconnect loop, the callbacks and ``close()`` both
    notifiers share; :meth:`_session` is one connection's life (returns or
    raises when it ends), calling :meth:`_subscribed` once it listens and
    :meth:`_listening` at least every :data:`POLL_SECONDS`."""

    channel: str

    def __init__(self) -> None:
        #: Messages received in this process (for metrics and tests).
        self.received = 0
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], object]] = []
        self._pid = 0  # the process whose callbacks these are
        self._thread: threading.Thread | None = None  # this process's listening thread
        self._state = threading.local()  # each thread's backoff (an exiting one never resets another's)
        _LISTENERS.add(self)

    def start(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` on each message and after each reconnect,
        from this notifier's one listening thread in this process (started
        now unless it runs).  A callback that returns ``False``, or whose
        ``alive`` attribute is ``False``, is dropped; with none left, the
        thread ends."""
        with self._lock:
            if self._closed.is_set():
                return  # closed for good: nothing to listen for, nothing to keep
            if self._pid != os.getpid():  # a forked child: the parent's thread is not here
                self._pid, self._callbacks, self._thread = os.getpid(), [], None
            self._callbacks.append(callback)
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._listen, name="cors-wsgi-notify", daemon=True)
            self._thread = thread
            try:
                thread.start()
            except BaseException:
                self._thread = None
                raise

    def _session(self, reconnected: bool) -> None:  # pragma: no cover - each notifier has its own
        raise NotImplementedError

    def _listening(self) -> bool:
        """Should the calling thread go on?  Not once closed, nor once every
        callback's policy is gone (then a later :meth:`start` starts another)."""
        if self._closed.is_set():
            return False
        with self._lock:
            if threading.current_thread() is not self._thread:
                return False
            self._callbacks = [c for c in self._callbacks if getattr(c, "alive", True) is not False]
            if self._callbacks:
                return True
            self._thread = None
            return False

    def _subscribed(self) -> None:
        """The session listens: the next error starts the backoff afresh."""
        self._state.backoff = FIRST_BACKOFF

    def _listen(self) -> None:
        state = self._state
        state.backoff = FIRST_BACKOFF
        reconnected = False
        while self._listening():
            try:
                self._session(reconnected)
            except Exception as error:
                logger.warning(
                    "%s on channel %s: %s: %s; reconnecting in %.1f s (the poll still runs)",
                    type(self).__name__, escape(self.channel), escape(type(error).__name__),
                    escape(str(error)), state.backoff,
                )
            reconnected = True
            self._closed.wait(state.backoff)
            state.backoff = min(MAX_BACKOFF, state.backoff * 2)

    def _notify(self) -> None:
        """Call every callback (a push, or a reconnect): one that raises is
        logged, one whose policy is gone is dropped."""
        with self._lock:
            callbacks = list(self._callbacks)
        gone = []
        for callback in callbacks:
            try:
                if callback() is False:
                    gone.append(callback)
            except Exception:
                logger.exception("%s on channel %s: a callback raised",
                                 type(self).__name__, escape(self.channel))
        if gone:
            with self._lock:
                self._callbacks = [c for c in self._callbacks if c not in gone]

    def _received(self) -> None:
        self.received += 1
        self._notify()

    def close(self) -> None:
        """Stop listening and reconnecting, for good: the thread ends within
        :data:`POLL_SECONDS` (or its reconnection backoff)."""
        self._closed.set()
        with self._lock:
            self._callbacks = []

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

    def _session(self, reconnected: bool) -> None:
        psycopg = self._psycopg
        # Keepalives and a TCP user timeout (milliseconds) end a half-open
        # connection that SELECT 1 would otherwise wait on for minutes.
        with psycopg.connect(
            self.url, autocommit=True, connect_timeout=5, keepalives=1, keepalives_idle=HEALTH_CHECK_SECONDS,
            keepalives_interval=5, keepalives_count=3, tcp_user_timeout=HEALTH_CHECK_SECONDS * 1000,
        ) as connection:
            _bounded(connection, psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(self.channel)))
            self._subscribed()
            if reconnected:
                self._notify()  # notifications sent while disconnected are lost: check now
            proved = time.monotonic()
            while self._listening():
                for _ in connection.notifies(timeout=POLL_SECONDS):
                    self._received()
                if time.monotonic() - proved >= HEALTH_CHECK_SECONDS:
                    _bounded(connection, "SELECT 1")
                    proved = time.monotonic()


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
        self._publish_lock = threading.Lock()

    def _client(self) -> Any:
        return self._redis.Redis.from_url(
            self.url, socket_connect_timeout=5, socket_timeout=SOCKET_TIMEOUT_SECONDS
        )

    def _session(self, reconnected: bool) -> None:
        client = self._client()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            self._subscribed()
            if reconnected:
                self._notify()  # messages published while disconnected are lost: check now
            heard = time.monotonic()  # when the server last said anything
            pinged: float | None = None  # when an unanswered PING went out
            while self._listening():
                message = pubsub.get_message(timeout=POLL_SECONDS)
                now = time.monotonic()
                if message is not None:
                    heard, pinged = now, None
                    if message.get("type") == "message":
                        self._received()
                elif pinged is not None and now - pinged > SOCKET_TIMEOUT_SECONDS:
                    raise ConnectionError(f"no reply to PING within {SOCKET_TIMEOUT_SECONDS} s")
                elif pinged is None and now - heard >= HEALTH_CHECK_SECONDS:
                    pubsub.ping()  # in subscribed mode the reply is a "pong" message
                    pinged = now
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
        with self._publish_lock:
            if self._publisher is None or self._publisher_pid != os.getpid():  # never the parent's socket
                self._publisher = self._client()
                self._publisher_pid = os.getpid()
            try:
                return int(self._publisher.publish(self.channel, str(version)))
            except self._redis.RedisError:
                self._publisher.close()
                self._publisher = None
                raise


def _bounded(connection: Any, query: Any) -> None:
    """``connection.execute(query)`` (psycopg) given :data:`SOCKET_TIMEOUT_SECONDS`:
    past that, the connection's socket is shut down, so the query raises
    instead of waiting on a dead or stalled peer for ever (the kernel of a
    stalled peer still acknowledges, so neither keepalives nor a TCP user
    timeout end it).  Once the query returned, the timer can no longer act."""
    descriptor = connection.pgconn.socket
    guard = threading.Lock()
    finished = False

    def expire() -> None:
        with guard:
            if not finished:  # the socket is still this connection's
                _shut_down(descriptor)

    timer = threading.Timer(SOCKET_TIMEOUT_SECONDS, expire)
    timer.daemon = True
    timer.start()
    try:
        connection.execute(query)
    finally:
        with guard:
            finished = True
        timer.cancel()


def _shut_down(descriptor: int) -> None:
    """End both directions of the socket ``descriptor`` (it stays open for its owner to close)."""
    with contextlib.suppress(OSError):
        duplicate = socket.socket(fileno=os.dup(descriptor))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()


#: Every notifier of this process, held weakly, for :func:`_after_fork_in_child`.
_LISTENERS: weakref.WeakSet[_Listener] = weakref.WeakSet()


def _after_fork_in_child() -> None:  # pragma: no cover - runs in forked children only
    """A lock another thread held at fork stays held in the child: new ones."""
    # (tests/test_snapshot_lifecycle.py forks with the locks held and checks the child starts.)
    for listener in list(_LISTENERS):
        listener._lock = threading.Lock()
        if isinstance(listener, RedisNotifier):
            listener._publish_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)

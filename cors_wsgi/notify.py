"""Push invalidation for ``allow_origin_store``: a change is seen at once,
not at the next poll.

A push only asks the worker's poller to check the store now (the
notification carries the new version, nothing else is trusted from it);
the poll every ``store_refresh_seconds`` stays the backstop, so a lost
notification, or a listener reconnecting, delays a change by one refresh
period at most::

    from cors_wsgi.notify import PostgresNotifier
    from cors_wsgi.store import SQLAlchemyOriginStore

    url = "postgresql+psycopg://app@db/app"
    store = SQLAlchemyOriginStore(url, notifier=PostgresNotifier(url))
    policy = CORSPolicy(allow_origins=[...], allow_origin_store=store)

``SQLAlchemyOriginStore`` sends ``pg_notify('cors_origins', version)`` in
the transaction of every change on PostgreSQL (so ``cors-wsgi origins add
--db URL`` does too).  Each notifier starts its listening thread lazily, at
the first request in each process (after a server's fork), and reconnects
with exponential backoff (0.1 s doubling to 5 s) after an error; after a
reconnect it asks for a check, since notifications sent meanwhile are lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cors_wsgi._log import escape, logger

__all__ = ["PostgresNotifier"]

#: Reconnection backoff: first delay, and the longest.
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 5.0


def _libpq_url(url: str) -> str:
    """``postgresql+psycopg://...`` (SQLAlchemy) -> ``postgresql://...`` (libpq)."""
    scheme, sep, rest = url.partition("://")
    return scheme.split("+", 1)[0] + sep + rest if sep else url


class PostgresNotifier:
    """``LISTEN channel`` with psycopg 3 (``pip install 'cors_wsgi[postgres]'``).

    :param url: the database, as a libpq or SQLAlchemy URL.
    :param channel: the channel ``SQLAlchemyOriginStore(notify_channel=...)`` notifies.
    """

    def __init__(self, url: str, channel: str = "cors_origins") -> None:
        try:
            import psycopg
        except ImportError as error:
            raise ImportError(
                "PostgresNotifier needs psycopg 3: pip install 'cors_wsgi[postgres]'"
            ) from error
        self._psycopg: Any = psycopg
        self.url = _libpq_url(url)
        self.channel = channel
        #: Notifications received in this process (for metrics and tests).
        self.received = 0
        self._started = False
        self._closed = threading.Event()

    def start(self, callback: Callable[[], None]) -> None:
        """Listen in a daemon thread of this process; ``callback()`` on each
        notification and after each reconnect."""
        self._started = True
        threading.Thread(target=self._listen, args=(callback,), name="cors-wsgi-notify", daemon=True).start()

    def _listen(self, callback: Callable[[], None]) -> None:
        psycopg = self._psycopg
        backoff = FIRST_BACKOFF
        first = True
        while not self._closed.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as connection:
                    listen = psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(self.channel))
                    connection.execute(listen)
                    if not first:
                        callback()  # notifications sent while disconnected are lost: check now
                    first = False
                    backoff = FIRST_BACKOFF
                    for _ in connection.notifies():
                        self.received += 1
                        callback()
            except Exception as error:
                logger.warning(
                    "PostgresNotifier on channel %s: %s: %s; reconnecting in %.1f s (the poll still runs)",
                    escape(self.channel), escape(type(error).__name__), escape(str(error)), backoff,
                )
                first = False
            self._closed.wait(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)

    def close(self) -> None:
        """Stop reconnecting (a connection that is listening ends with the process)."""
        self._closed.set()

    def __repr__(self) -> str:
        return f"PostgresNotifier(channel={self.channel!r})"

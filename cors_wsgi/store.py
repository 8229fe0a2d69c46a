"""An allow-list of origins in an SQLite file, usable as ``allow_origin_predicate``.

Several server processes (gunicorn workers, several hosts on one shared
volume) read the same file; a change is seen by each within the policy's
``origin_cache_seconds``::

    from cors_wsgi import CORSMiddleware, CORSPolicy
    from cors_wsgi.store import SQLiteOriginStore

    tenants = SQLiteOriginStore("/var/lib/myapp/cors-origins.sqlite3", allow_credentials=True)
    policy = CORSPolicy(allow_origins=["https://app.example.com"], allow_credentials=True,
                        allow_origin_predicate=tenants, origin_cache_seconds=30)

    tenants.add("https://shop.customer.example")     # validated, then stored
    tenants.remove("https://shop.customer.example")

or from a shell: ``cors-wsgi origins add /var/lib/myapp/cors-origins.sqlite3
https://shop.customer.example --credentials``.

Origins are validated on insert with the very rules of ``allow_origins``
(serialized form, no ``null``, with credentials no ``http:`` origin but
loopback), so an invalid or insecure origin never enters the table.  Only
exact origins are stored: the predicate compares byte for byte.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator

from cors_wsgi.errors import CORSConfigError, Problem

__all__ = ["SQLiteOriginStore", "validate_origin"]

_SCHEMA = "CREATE TABLE IF NOT EXISTS cors_origins (origin TEXT PRIMARY KEY NOT NULL)"


def validate_origin(
    origin: object, *, allow_credentials: bool = False, dangerously_tolerate_insecure_origins: bool = False
) -> str:
    """``origin`` if ``allow_origins`` would accept it as an exact origin
    (for any store: a Django model's validator uses it too).

    :raises CORSConfigError: with the same problems (and fix-its) as
        ``CORSPolicy(allow_origins=[origin], allow_credentials=...)``.
    """
    from cors_wsgi.policy import CORSPolicy

    if not isinstance(origin, str) or "*" in origin:
        raise CORSConfigError([Problem(
            "invalid-type", "origin", origin,
            "a store holds exact serialized origins, e.g. 'https://shop.customer.example'.",
        )])
    CORSPolicy(
        allow_origins=[origin], allow_credentials=allow_credentials,
        dangerously_tolerate_insecure_origins=dangerously_tolerate_insecure_origins,
    )
    return origin


class SQLiteOriginStore:
    """``store(origin) -> bool``: is ``origin`` in the table?

    :param path: the SQLite file, created with its table when missing.
    :param allow_credentials: validate origins as a credentialed policy
        does (refuse ``http:`` origins other than loopback).  Use the same
        value as the policy.  Default: ``False``.
    :param dangerously_tolerate_insecure_origins: as in ``CORSPolicy``.
    :param timeout: seconds to wait for a lock held by another writer.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        allow_credentials: bool = False,
        dangerously_tolerate_insecure_origins: bool = False,
        timeout: float = 5.0,
    ) -> None:
        self.path = os.fspath(path)
        self.allow_credentials = allow_credentials
        self.tolerate_insecure = dangerously_tolerate_insecure_origins
        self.timeout = timeout
        with self._connection() as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            connection.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for one operation, committed and closed after it
        (sqlite3 connections belong to one thread; the predicate's cache
        keeps lookups rare, so opening one per lookup is cheap enough)."""
        connection = sqlite3.connect(self.path, timeout=self.timeout)
        try:
            with connection:
                yield connection
        finally:
            connection.close()

    def validate(self, origin: str) -> str:
        """:func:`validate_origin` with this store's credentials setting."""
        return validate_origin(
            origin, allow_credentials=self.allow_credentials,
            dangerously_tolerate_insecure_origins=self.tolerate_insecure,
        )

    def add(self, origin: str) -> bool:
        """Store ``origin`` after validating it; False when it was already there."""
        self.validate(origin)
        with self._connection() as connection:
            cursor = connection.execute("INSERT OR IGNORE INTO cors_origins (origin) VALUES (?)", (origin,))
        return cursor.rowcount == 1

    def remove(self, origin: str) -> bool:
        """Delete ``origin``; False when it was not there."""
        with self._connection() as connection:
            cursor = connection.execute("DELETE FROM cors_origins WHERE origin = ?", (origin,))
        return cursor.rowcount == 1

    def origins(self) -> list[str]:
        """Every stored origin, sorted."""
        with self._connection() as connection:
            rows = connection.execute("SELECT origin FROM cors_origins ORDER BY origin").fetchall()
        return [row[0] for row in rows]

    def __call__(self, origin: str) -> bool:
        with self._connection() as connection:
            row = connection.execute("SELECT 1 FROM cors_origins WHERE origin = ?", (origin,)).fetchone()
        return row is not None

    def __repr__(self) -> str:
        return f"SQLiteOriginStore({self.path!r})"

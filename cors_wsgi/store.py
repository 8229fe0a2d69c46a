"""An allow-list of origins in an SQLite file, usable as ``allow_origin_predicate``.

Several server processes on **one host** (gunicorn workers, several servers
sharing a local disk) read the same file; a change is seen by each within
the policy's ``origin_cache_seconds``::

    from cors_wsgi import CORSMiddleware, CORSPolicy
    from cors_wsgi.store import SQLiteOriginStore

    tenants = SQLiteOriginStore("/var/lib/myapp/cors-origins.sqlite3")
    policy = CORSPolicy(allow_origins=["https://app.example.com"], allow_credentials=True,
                        allow_origin_predicate=tenants, origin_cache_seconds=30)

    tenants.add("https://shop.customer.example")     # validated, then stored
    tenants.remove("https://shop.customer.example")

or from a shell: ``cors-wsgi origins add /var/lib/myapp/cors-origins.sqlite3
https://shop.customer.example``.

**Validation follows the policy it serves.**  Origins are validated on
insert with the very rules of ``allow_origins`` (serialized form, no
``null``, with credentials no ``http:`` origin but loopback), so an invalid
or insecure origin never enters the table.  A store given to a credentialed
``CORSPolicy`` validates as credentialed from then on and records that in
the file, so every later writer (another process, ``cors-wsgi origins
add``) applies the credentialed rules too; the file keeps the strictest
setting it was ever opened with.  Whatever the table holds, a credentialed
policy trusts a stored origin only when it passes those rules at request
time.  Only exact origins are stored: the predicate compares byte for byte.

**One host, or read-only.**  The file is switched to SQLite's WAL mode
(readers never wait for the writer), which needs shared memory between the
processes: every reader and writer must run on the same host, never over a
network file system (https://www.sqlite.org/wal.html).  A file that cannot be
written (a read-only volume or mount) is opened read-only (``mode=ro``, no
WAL switch, no table creation), so a server boots and serves from it;
``add`` and ``remove`` then raise ``sqlite3.OperationalError``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import urllib.parse
from collections.abc import Iterator

from cors_wsgi.errors import CORSConfigError, Problem

__all__ = ["SQLiteOriginStore", "validate_origin"]

_SCHEMA = "CREATE TABLE IF NOT EXISTS cors_origins (origin TEXT PRIMARY KEY NOT NULL)"
_SETTINGS = "CREATE TABLE IF NOT EXISTS cors_store_settings (name TEXT PRIMARY KEY NOT NULL, value TEXT)"


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


def _is_read_only_error(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text


class SQLiteOriginStore:
    """``store(origin) -> bool``: is ``origin`` in the table?

    :param path: the SQLite file, created with its tables when missing (on a
        writable volume).
    :param allow_credentials: validate inserts as a credentialed policy
        does (refuse ``http:`` origins other than loopback).  ``None`` (the
        default): as the file records (``False`` for a new file).  ``True``
        is recorded in the file; ``False`` never relaxes a file that records
        ``True``.  A credentialed ``CORSPolicy`` given this store sets it.
    :param dangerously_tolerate_insecure_origins: as in ``CORSPolicy``.
    :param timeout: seconds to wait for a lock held by another writer.

    :ivar allow_credentials: the rule inserts are validated with now.
    :ivar read_only: True when the file could not be opened for writing.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        allow_credentials: bool | None = None,
        dangerously_tolerate_insecure_origins: bool = False,
        timeout: float = 5.0,
    ) -> None:
        self.path = os.fspath(path)
        self.tolerate_insecure = dangerously_tolerate_insecure_origins
        self.timeout = timeout
        self.read_only = False
        try:
            with self._connection() as connection:
                connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
                connection.execute(_SCHEMA)
                connection.execute(_SETTINGS)
        except sqlite3.OperationalError as error:
            if not _is_read_only_error(error) or not os.path.exists(self.path):
                raise
            self.read_only = True
        self.allow_credentials = bool(allow_credentials) or self._recorded_credentials()
        if allow_credentials:
            self.require_credentials()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for one operation, committed and closed after it
        (sqlite3 connections belong to one thread; the predicate's cache
        keeps lookups rare, so opening one per lookup is cheap enough)."""
        if self.read_only:
            uri = "file:" + urllib.parse.quote(os.path.abspath(self.path)) + "?mode=ro"
            connection = sqlite3.connect(uri, uri=True, timeout=self.timeout)
            try:
                connection.execute("SELECT 1 FROM sqlite_master LIMIT 1")
            except sqlite3.OperationalError:
                # A WAL file whose -shm cannot be created on a read-only
                # volume: read it as it is on disk, anew on every connection.
                connection.close()
                connection = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=self.timeout)
        else:
            connection = sqlite3.connect(self.path, timeout=self.timeout)
        try:
            with connection:
                yield connection
        finally:
            connection.close()

    def _recorded_credentials(self) -> bool:
        try:
            with self._connection() as connection:
                row = connection.execute(
                    "SELECT value FROM cors_store_settings WHERE name = 'allow_credentials'"
                ).fetchone()
        except sqlite3.OperationalError:  # a read-only file from before the settings table
            return False
        return row is not None and row[0] == "true"

    def require_credentials(self) -> list[str]:
        """Validate inserts as a credentialed policy does from now on, and
        record that in the file (unless it is read-only) for every other
        writer.  Returns the stored origins that a credentialed policy
        refuses (they stay in the table and are never trusted).  Called by
        ``CORSPolicy(allow_credentials=True, allow_origin_predicate=store)``."""
        self.allow_credentials = True
        if not self.read_only:
            with self._connection() as connection:
                connection.execute(
                    "INSERT OR REPLACE INTO cors_store_settings (name, value) "
                    "VALUES ('allow_credentials', 'true')"
                )
        refused = []
        for origin in self.origins():
            try:
                self.validate(origin)
            except CORSConfigError:
                refused.append(origin)
        return refused

    @property
    def rules(self) -> str:
        """The rules inserts are validated with, in words (the CLI prints them)."""
        if not self.allow_credentials:
            return "allow_origins rules without credentials (http: origins accepted)"
        if self.tolerate_insecure:
            return "allow_origins rules with credentials, http: origins tolerated"
        return "allow_origins rules with credentials (https only, http: for loopback hosts)"

    def validate(self, origin: str) -> str:
        """:func:`validate_origin` with this store's credentials setting."""
        return validate_origin(
            origin, allow_credentials=self.allow_credentials,
            dangerously_tolerate_insecure_origins=self.tolerate_insecure,
        )

    def add(self, origin: str) -> bool:
        """Store ``origin`` after validating it; False when it was already there.

        :raises CORSConfigError: for an origin ``allow_origins`` would refuse.
        :raises sqlite3.OperationalError: when the file is read-only.
        """
        if self._recorded_credentials():
            self.allow_credentials = True  # another process serves a credentialed policy
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

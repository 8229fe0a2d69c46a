"""Allow-lists of origins: ``SQLiteOriginStore`` (a file) and
``SQLAlchemyOriginStore`` (any SQLAlchemy database), each an
:class:`OriginStore` for ``CORSPolicy(allow_origin_store=store)``: every
worker serves an immutable snapshot, reloaded when the store's version row
changes (bumped in the same transaction as every ``add``/``remove``).
``SQLiteOriginStore`` is also usable as ``allow_origin_predicate``.

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
from typing import TYPE_CHECKING, Any

from cors_wsgi._log import escape, logger
from cors_wsgi._snapshot import OriginStore, first_version
from cors_wsgi.errors import CORSConfigError, Problem

if TYPE_CHECKING:
    from cors_wsgi._snapshot import Notifier

__all__ = ["OriginStore", "SQLAlchemyOriginStore", "SQLiteOriginStore", "validate_origin"]

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


_BUMP = (
    "INSERT INTO cors_store_settings (name, value) VALUES ('version', '1') "
    "ON CONFLICT (name) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
)
_VERSION = (
    "SELECT (SELECT value FROM cors_store_settings WHERE name = 'version'), "
    "(SELECT count(*) FROM cors_origins WHERE 0)"
)


def _version(connection: sqlite3.Connection) -> int:
    row = connection.execute(_VERSION).fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def _is_read_only_error(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text


class _ValidatingStore:
    """What both stores share: inserts validated with ``allow_origins``' rules
    under the store's credentials setting."""

    allow_credentials: bool
    tolerate_insecure: bool
    notifier: Notifier | None

    def origins(self) -> list[str]:
        raise NotImplementedError

    def _announce(self, version: int) -> None:
        """After a committed change: ``notifier.publish(version)`` when the
        notifier publishes (:class:`~cors_wsgi.notify.RedisNotifier`).  A
        failure is logged, never raised: the change is committed, and every
        worker's poll sees it within ``store_refresh_seconds``."""
        publish = getattr(self.notifier, "publish", None)
        if publish is None:
            return
        try:
            publish(version)
        except Exception as error:
            logger.warning(
                "%s: version %s is committed, but %s could not publish it: %s: %s "
                "(workers see it at their next poll)",
                escape(repr(self)), version, escape(repr(self.notifier)), escape(type(error).__name__),
                escape(str(error)),
            )

    def _refused_origins(self) -> list[str]:
        """The stored origins :meth:`validate` refuses now (they stay stored,
        and a credentialed policy never trusts them)."""
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


class SQLiteOriginStore(_ValidatingStore):
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
    :param notifier: pushes changes to the policies serving this store
        (:class:`cors_wsgi.notify.RedisNotifier`: published after every
        committed change); the poll stays the backstop.

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
        notifier: Notifier | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.notifier = notifier
        self.tolerate_insecure = dangerously_tolerate_insecure_origins
        self.timeout = timeout
        self.read_only = False
        try:
            with self._connection(create=True) as connection:
                connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
                connection.execute(_SCHEMA)
                connection.execute(_SETTINGS)
                connection.execute(  # a new file: a version no earlier file of this path had
                    "INSERT OR IGNORE INTO cors_store_settings (name, value) VALUES ('version', ?)",
                    (str(first_version()),),
                )
        except sqlite3.OperationalError as error:
            if not _is_read_only_error(error) or not os.path.exists(self.path):
                raise
            self.read_only = True
        self.allow_credentials = bool(allow_credentials) or self._recorded_credentials()
        if allow_credentials:
            self.require_credentials()

    @contextlib.contextmanager
    def _connection(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection for one operation, committed and closed after it
        (sqlite3 connections belong to one thread; the predicate's cache
        keeps lookups rare, so opening one per lookup is cheap enough).
        Only the constructor creates the file: after it, a missing file is
        an error (``mode=rw``), never a new empty allow-list."""
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
        elif create:
            connection = sqlite3.connect(self.path, timeout=self.timeout)
        else:
            uri = "file:" + urllib.parse.quote(os.path.abspath(self.path)) + "?mode=rw"
            connection = sqlite3.connect(uri, uri=True, timeout=self.timeout)
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
        return self._refused_origins()

    def add(self, origin: str) -> bool:
        """Store ``origin`` after validating it; False when it was already there.

        :raises CORSConfigError: for an origin ``allow_origins`` would refuse.
        :raises sqlite3.OperationalError: when the file is read-only.
        """
        if self._recorded_credentials():
            self.allow_credentials = True  # another process serves a credentialed policy
        self.validate(origin)
        return self._change("INSERT OR IGNORE INTO cors_origins (origin) VALUES (?)", origin)

    def remove(self, origin: str) -> bool:
        """Delete ``origin``; False when it was not there."""
        return self._change("DELETE FROM cors_origins WHERE origin = ?", origin)

    def _change(self, statement: str, origin: str) -> bool:
        """Run ``statement`` and, when it changed the row, bump the version
        in the same transaction; announce the new version once committed."""
        version = None
        with self._connection() as connection:
            if connection.execute(statement, (origin,)).rowcount == 1:
                connection.execute(_BUMP)
                version = _version(connection)
        if version is None:
            return False
        self._announce(version)
        return True

    def origins(self) -> list[str]:
        """Every stored origin, sorted."""
        with self._connection() as connection:
            rows = connection.execute("SELECT origin FROM cors_origins ORDER BY origin").fetchall()
        return [row[0] for row in rows]

    def version(self) -> int:
        """The version row, bumped with every change (``0`` for none yet).
        Reads the origins table too, so a dropped table is an error."""
        with self._connection() as connection:
            return _version(connection)

    def snapshot(self) -> tuple[int, frozenset[str]]:
        """``(version, origins)``, read in one transaction
        (``CORSPolicy(allow_origin_store=store)``)."""
        with self._connection() as connection:
            connection.execute("BEGIN")
            version = _version(connection)
            rows = connection.execute("SELECT origin FROM cors_origins").fetchall()
        return version, frozenset(row[0] for row in rows)

    def __call__(self, origin: str) -> bool:
        with self._connection() as connection:
            row = connection.execute("SELECT 1 FROM cors_origins WHERE origin = ?", (origin,)).fetchone()
        return row is not None

    def __repr__(self) -> str:
        return f"SQLiteOriginStore({self.path!r})"


_EXTRA_HINT = "pip install 'cors_wsgi[sqlalchemy]' (PostgreSQL: 'cors_wsgi[postgres]')"


class SQLAlchemyOriginStore(_ValidatingStore):
    """An allow-list in any SQLAlchemy database: an :class:`OriginStore`.

    :param engine_or_url: an ``sqlalchemy.engine.Engine`` or a URL
        (``postgresql+psycopg://user@host/db``, ``sqlite:///path``).
    :param table_name: the origins table; its version row lives in
        ``<table_name>_version``.  Both are created when missing.
    :param allow_credentials: validate inserts as a credentialed policy
        does (also recorded in the version row, so every later writer
        applies them; a credentialed ``CORSPolicy`` sets it).
    :param notify_channel: on PostgreSQL, ``pg_notify(channel, version)``
        in the transaction of every change (``None``: never), for
        :class:`cors_wsgi.notify.PostgresNotifier`.
    :param notifier: pushes changes to the policies serving this store
        (:mod:`cors_wsgi.notify`; a :class:`~cors_wsgi.notify.RedisNotifier`
        is published to after every committed change); the poll stays the
        backstop.
    """

    def __init__(
        self,
        engine_or_url: Any,
        table_name: str = "cors_origins",
        *,
        allow_credentials: bool = False,
        dangerously_tolerate_insecure_origins: bool = False,
        notify_channel: str | None = "cors_origins",
        notifier: Notifier | None = None,
    ) -> None:
        try:
            import sqlalchemy
        except ImportError as error:
            raise ImportError(f"SQLAlchemyOriginStore needs SQLAlchemy: {_EXTRA_HINT}") from error
        self._sa = sqlalchemy
        self._owns_engine = not isinstance(engine_or_url, sqlalchemy.engine.Engine)
        if not self._owns_engine:
            self.engine = engine_or_url
        else:
            try:
                self.engine = sqlalchemy.create_engine(engine_or_url, pool_pre_ping=True)
            except ImportError as error:  # the driver
                raise ImportError(f"{error}: {_EXTRA_HINT}") from error
        self.table_name = table_name
        self.tolerate_insecure = dangerously_tolerate_insecure_origins
        self.notify_channel = notify_channel
        self.notifier = notifier
        self._pid = os.getpid()
        metadata = sqlalchemy.MetaData()
        self.table = sqlalchemy.Table(
            table_name, metadata,
            sqlalchemy.Column("origin", sqlalchemy.String(512), primary_key=True),
        )
        self.version_table = sqlalchemy.Table(
            f"{table_name}_version", metadata,
            sqlalchemy.Column("id", sqlalchemy.Integer, primary_key=True, autoincrement=False),
            sqlalchemy.Column("version", sqlalchemy.BigInteger, nullable=False),
            sqlalchemy.Column("allow_credentials", sqlalchemy.Boolean, nullable=False),
        )
        metadata.create_all(self.engine, checkfirst=True)
        try:
            with self.engine.begin() as connection:
                exists = connection.execute(sqlalchemy.select(self.version_table.c.id)).first()
                if exists is None:
                    connection.execute(self.version_table.insert().values(  # never an earlier table's
                        id=1, version=first_version(), allow_credentials=False))
        except sqlalchemy.exc.IntegrityError:
            pass  # another process inserted it first
        self.allow_credentials = bool(allow_credentials) or self._recorded_credentials()
        if allow_credentials:
            self.require_credentials()

    def close(self) -> None:
        """Close the pooled connections (of an engine this store created)."""
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> SQLAlchemyOriginStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _engine(self) -> Any:
        if self._pid != os.getpid():  # forked: never share the parent's pooled connections
            self._pid = os.getpid()
            self.engine.dispose(close=False)
        return self.engine

    def _recorded_credentials(self) -> bool:
        with self._engine().connect() as connection:
            row = connection.execute(self._sa.select(self.version_table.c.allow_credentials)).first()
        return bool(row is not None and row[0])

    def require_credentials(self) -> list[str]:
        """As :meth:`SQLiteOriginStore.require_credentials`."""
        self.allow_credentials = True
        with self._engine().begin() as connection:
            connection.execute(self.version_table.update().values(allow_credentials=True))
        return self._refused_origins()

    def _change(self, statement: Any, unless: str | None = None) -> bool:
        """Run ``statement`` (skipped when ``unless`` is already stored) and,
        when it changed a row, bump the version in the same transaction."""
        sa = self._sa
        version: int | None = None
        with self._engine().begin() as connection:
            if unless is not None and connection.execute(
                sa.select(self.table.c.origin).where(self.table.c.origin == unless)
            ).first() is not None:
                return False
            rowcount = connection.execute(statement).rowcount
            # An insert that did not raise added its one row (some drivers report -1).
            changed = unless is not None or rowcount == 1
            if changed:  # the version row, in the same transaction
                version = int(connection.execute(
                    self.version_table.update().values(version=self.version_table.c.version + 1)
                    .returning(self.version_table.c.version)
                ).scalar_one())
                if self.notify_channel and connection.dialect.name == "postgresql":
                    connection.execute(sa.select(sa.func.pg_notify(self.notify_channel, str(version))))
        if version is not None:
            self._announce(version)
        return changed

    def add(self, origin: str) -> bool:
        """Store ``origin`` after validating it; False when it was already there.

        :raises CORSConfigError: for an origin ``allow_origins`` would refuse.
        """
        if self._recorded_credentials():
            self.allow_credentials = True
        self.validate(origin)
        try:
            return self._change(self.table.insert().values(origin=origin), unless=origin)
        except self._sa.exc.IntegrityError:  # added by another writer meanwhile
            return False

    def remove(self, origin: str) -> bool:
        """Delete ``origin``; False when it was not there."""
        return self._change(self.table.delete().where(self.table.c.origin == origin))

    def origins(self) -> list[str]:
        """Every stored origin, sorted."""
        with self._engine().connect() as connection:
            rows = connection.execute(self._sa.select(self.table.c.origin).order_by(self.table.c.origin))
            return sorted(row[0] for row in rows)

    def _version(self, connection: Any) -> int:
        sa = self._sa
        # The origins table is named too, so a dropped table is an error.
        probe = sa.select(sa.func.count()).select_from(self.table).where(sa.false()).scalar_subquery()
        version = connection.execute(sa.select(self.version_table.c.version, probe)).scalar_one()
        return int(version)

    def version(self) -> int:
        with self._engine().connect() as connection:
            return self._version(connection)

    def snapshot(self) -> tuple[int, frozenset[str]]:
        """``(version, origins)``: the version first, so a change committed
        in between is seen again at the next check."""
        with self._engine().connect() as connection:
            version = self._version(connection)
            rows = connection.execute(self._sa.select(self.table.c.origin)).fetchall()
        return version, frozenset(row[0] for row in rows)

    def __repr__(self) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        return f"SQLAlchemyOriginStore({url!r}, {self.table_name!r})"

"""``allow_origin_store``: a worker's immutable snapshot of a store's origins.

A :class:`SnapshotHolder` keeps one :class:`Snapshot` (the store's version,
the trusted origins as a ``frozenset``, when it was last confirmed current)
and swaps it in one assignment.  A lookup is a set membership test and
never waits for the store: the checks run in one poller thread per process
(started at first use, so after a server's fork), at most every
``refresh_seconds`` less a random 0-20 % (workers spread their checks): a
check reads ``store.version()`` and reloads ``store.snapshot()`` only when
the version changed, while requests keep answering from the snapshot in
force.  A failed check keeps the last good snapshot (logged, escaped,
with its age); a check that has not returned after :func:`hang_seconds`
is logged once per ``refresh_seconds`` while it lasts (each check runs in
a thread of its own, watched by the poller); ``max_staleness_seconds``
logs an alarm at CRITICAL once the snapshot has not been confirmed for
that long.  A push (:mod:`cors_wsgi.notify`) only asks for a check
sooner; the poll stays the backstop.  A notifier holds a holder weakly (a
:class:`CheckSoon`), so a policy that was replaced goes away with its
poller and its listener.
"""

from __future__ import annotations

import hashlib
import os
import random
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from typing import NamedTuple, Protocol, runtime_checkable

from cors_wsgi._log import escape, logger

__all__ = [
    "HANG_SECONDS", "LABEL_LENGTH", "MAX_LABELS", "RETRY_START_SECONDS", "CheckSoon", "Notifier",
    "OriginStore", "Snapshot", "SnapshotHolder", "first_version", "hang_seconds", "live_holders",
    "refresh_error_totals", "store_label",
]

_getpid = os.getpid

#: A check is reported as hanging once it has not returned for this long
#: (seconds), or for ``refresh_seconds`` when that is longer: a tiny refresh
#: period never turns a slow but healthy database into "hanging" errors.
HANG_SECONDS = 1.0
#: After a poller thread could not start (a process out of threads), the
#: next request tries again after ``min(refresh_seconds, this)`` seconds.
RETRY_START_SECONDS = 5.0
#: The longest ``store`` label (:func:`store_label`), in characters.
LABEL_LENGTH = 200
#: The most labels :func:`refresh_error_totals` keeps; failed checks of
#: stores beyond them are counted under ``"other"``.
MAX_LABELS = 1000


def hang_seconds(refresh_seconds: float) -> float:
    """After how many seconds a check that has not returned is logged and
    counted as hanging: ``max(refresh_seconds, HANG_SECONDS)``."""
    return max(refresh_seconds, HANG_SECONDS)


def live_holders() -> list[SnapshotHolder]:
    """Every snapshot holder of this process whose policy is still alive
    (what :func:`cors_wsgi.metrics.prometheus` reports at each scrape)."""
    with _LIVE_LOCK:
        return list(_LIVE)


def refresh_error_totals() -> dict[str, int]:
    """Failed checks in this process since it started, by :func:`store_label`,
    whether their policy is still alive or was replaced since: a total that
    never goes down (a Prometheus counter)."""
    with _LIVE_LOCK:
        return dict(_ERRORS)


def store_label(store: object) -> str:
    """``repr(store)`` as a metrics label: at most :data:`LABEL_LENGTH`
    characters (a longer one ends in ``...#`` and 8 hex digits of its
    SHA-256, so two long ones merge only with a chance of 2**-32);
    ``<Type object>`` for a store
    without a ``__repr__`` of its own (its memory address would make every
    instance a new label) or whose ``repr`` raises."""
    anonymous = f"<{type(store).__name__} object>"
    if type(store).__repr__ is object.__repr__:
        return anonymous
    try:
        text = str(repr(store))  # repr() itself refuses a __repr__ that returns no str
    except Exception:
        return anonymous
    if len(text) <= LABEL_LENGTH:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return text[: LABEL_LENGTH - 12] + "...#" + digest


def first_version() -> int:
    """The version a new store table starts at: random in ``[1, 2**52]``, so
    a table created again never meets a worker's old version (the chance is
    2**-52), and every version stays exact as a float (a Prometheus gauge)."""
    return secrets.randbelow(2**52) + 1


@runtime_checkable
class OriginStore(Protocol):
    """What ``CORSPolicy(allow_origin_store=...)`` reads: ``snapshot()`` is
    ``(version, origins)`` read together; ``version()`` is cheap and changes
    with every change of the origins.  A version must never be reused for
    other origins, not even by a table dropped and created again (a worker
    holding that version would keep its snapshot): the built-in stores
    start a new table at a random version between 1 and 2**52.  Both
    may raise: the last good snapshot stays in force.  An optional
    ``notifier`` attribute (:class:`Notifier`) pushes changes."""

    def snapshot(self) -> tuple[int, frozenset[str]]: ...
    def version(self) -> int: ...


class Notifier(Protocol):
    """``start(callback)``: call ``callback()`` on every pushed change, from
    a thread of the notifier's own; called once per process per policy,
    after fork.  ``callback`` is a :class:`CheckSoon`: it returns ``False``
    (and its ``alive`` is ``False``) once its policy is gone; drop it then,
    and stop listening when no callback is left."""

    def start(self, callback: Callable[[], object]) -> None: ...


class CheckSoon:
    """What a holder gives its notifier: ``check_soon()`` asks the holder
    for a check now and returns ``True``, or returns ``False`` once the
    holder (its policy) is gone.  It holds the holder weakly, so a listener
    never keeps a replaced policy alive."""

    __slots__ = ("_holder",)

    def __init__(self, holder: SnapshotHolder) -> None:
        self._holder = weakref.ref(holder)

    @property
    def alive(self) -> bool:
        return self._holder() is not None

    def __call__(self) -> bool:
        holder = self._holder()
        if holder is None:
            return False
        holder.request_check()
        return True


class Snapshot(NamedTuple):
    version: int
    origins: frozenset[str]
    #: ``clock()`` when the store last confirmed this version.
    confirmed: float


class SnapshotHolder:
    """One store's snapshot in one process (see the module docstring).

    :param trust: ``origin -> bool``: which stored origins may be allowed
        (a credentialed policy's trust rule); the others are dropped at load.
    :raises Exception: whatever the first ``store.snapshot()`` raises.
    """

    def __init__(
        self,
        store: OriginStore,
        *,
        refresh_seconds: float,
        max_staleness_seconds: float | None = None,
        trust: Callable[[str], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        #: ``store``'s metrics label (:func:`store_label`).
        self.label = store_label(store)
        self.refresh_seconds = refresh_seconds
        self.max_staleness_seconds = max_staleness_seconds
        #: True while a check has not returned for :func:`hang_seconds`.
        self.hanging = False
        self._errors = 0
        self._trust = trust
        self._clock = clock
        self._jitter = jitter or random.Random().random  # never the global generator's state
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._notifier: Notifier | None = getattr(store, "notifier", None)
        self._pid = 0  # the poller starts at first use, in the process that serves
        self._retry_start = 0.0  # after a poller that could not start: not before then
        self._wake = threading.Event()
        self.current = self._load(*store.snapshot())
        self._next_check = self._deadline()
        with _LIVE_LOCK:
            _LIVE.add(self)

    @property
    def refresh_errors(self) -> int:
        """This holder's failed checks, one that hung then failed counted once."""
        return self._errors

    def _count_error(self) -> None:
        self._errors += 1
        with _LIVE_LOCK:
            label = self.label if self.label in _ERRORS or len(_ERRORS) < MAX_LABELS else "other"
            _ERRORS[label] = _ERRORS.get(label, 0) + 1

    # -- per request -------------------------------------------------------------

    def allows(self, origin: str) -> bool:
        """Is ``origin`` in the snapshot in force?  Never waits."""
        if self._pid != _getpid() and self._clock() >= self._retry_start:
            self._in_this_process()
        return origin in self.current.origins

    def request_check(self) -> None:
        """Check the store now, in the poller's thread; returns at once
        (what a notifier calls on a push)."""
        self._wake.set()

    # -- metrics -----------------------------------------------------------------

    @property
    def age(self) -> float:
        """Seconds since the store last confirmed the snapshot in force."""
        return self._clock() - self.current.confirmed

    @property
    def stale(self) -> bool:
        """Is the snapshot older than ``max_staleness_seconds`` (the alarm)?"""
        limit = self.max_staleness_seconds
        return limit is not None and self.age > limit

    # -- checks ------------------------------------------------------------------

    def check(self) -> bool:
        """One check now, in the calling thread: True when it succeeded.
        Only the poller (and tests) call it, never a request."""
        with self._lock:
            return self._check()

    @staticmethod
    def _poll(reference: weakref.ref[SnapshotHolder], wake: threading.Event) -> None:
        """The poller: a check at every deadline (``refresh_seconds`` less
        a random 0-20 %) or push, for as long as the holder (its policy) lives."""
        while True:
            holder = reference()
            if holder is None:
                return
            delay = max(0.0, holder._next_check - holder._clock())
            del holder
            wake.wait(min(delay, 1.0))
            holder = reference()
            if holder is None:
                return
            if wake.is_set() or holder._clock() >= holder._next_check:
                wake.clear()
                holder._next_check = holder._deadline()
                try:
                    holder._watched_check()
                except Exception:  # e.g. no thread could start: try again at the next deadline
                    logger.exception("allow_origin_store %s: the check could not run",
                                     escape(repr(holder.store)))
            del holder

    def _watched_check(self) -> None:
        """One check in a thread of its own, watched by the poller: while it
        has not returned (a database that accepts the connection and never
        answers), log once per ``refresh_seconds`` that it hangs, and raise
        the ``max_staleness_seconds`` alarm, so a hung store is never silent.
        The next check starts only after it returns: checks never pile up."""
        done = threading.Event()

        def run() -> None:
            try:
                self.check()
            except BaseException:  # never let a check kill the poller's bookkeeping
                logger.exception("allow_origin_store %s: the check failed", escape(repr(self.store)))
            finally:
                done.set()

        threading.Thread(target=run, name="cors-wsgi-store-check", daemon=True).start()
        started = self._clock()
        threshold = hang_seconds(self.refresh_seconds)
        while not done.wait(self.refresh_seconds):
            if self._clock() - started < threshold:
                continue
            if not self.hanging:
                self.hanging = True
                self._count_error()
            current = self.current
            logger.error(
                "allow_origin_store %s: a check has not returned for %.1f s; serving the snapshot "
                "of version %s (%s origins), confirmed %.1f s ago",
                escape(repr(self.store)), self._clock() - started, current.version, len(current.origins),
                self.age,
            )
            self._alarm()
        self.hanging = False

    def _check(self) -> bool:
        current = self.current
        try:
            version = self.store.version()
            if version == current.version:
                self.current = current._replace(confirmed=self._clock())
            else:
                self.current = self._load(*self.store.snapshot())
        except Exception as error:  # the last good snapshot stays in force
            if not self.hanging:  # a check that hung, then failed, counts once
                self._count_error()
            age = self._clock() - current.confirmed
            logger.error(
                "allow_origin_store %s failed: %s: %s; serving the snapshot of version %s "
                "(%s origins), confirmed %.1f s ago",
                escape(repr(self.store)), escape(type(error).__name__), escape(str(error)),
                current.version, len(current.origins), age,
            )
            self._alarm()
            return False
        return True

    def _alarm(self) -> None:
        """The ``max_staleness_seconds`` alarm, at CRITICAL, when the snapshot is older."""
        if self.stale:
            logger.critical(
                "allow_origin_store %s: the snapshot is %.1f s old, over max_staleness_seconds=%s",
                escape(repr(self.store)), self.age, self.max_staleness_seconds,
            )

    def _load(self, version: int, origins: frozenset[str]) -> Snapshot:
        kept = frozenset(o for o in origins if o.__class__ is str and (self._trust is None or self._trust(o)))
        if len(kept) != len(origins):
            example = sorted(map(str, origins - kept))[0]
            logger.warning(
                "allow_origin_store %s: %s stored origins are never trusted by this policy, e.g. %s",
                escape(repr(self.store)), len(origins) - len(kept), escape(example),
            )
        return Snapshot(version, kept, self._clock())

    def _deadline(self) -> float:
        return self._clock() + self.refresh_seconds * (1.0 - 0.2 * self._jitter())

    def _in_this_process(self) -> None:
        """First use in this process (a worker after fork, or the process
        that built the policy): locks of its own, the poller's thread, and
        the notifier's, started once per process."""
        with self._start_lock:
            if self._pid == _getpid() or self._clock() < self._retry_start:
                return  # started, or the poller could not start a moment ago: not at every request
            self._lock = threading.Lock()
            self._wake = wake = threading.Event()
            if self.current.confirmed + self.refresh_seconds <= self._clock():
                self._next_check = self._clock()  # built long before this fork: check at once
            try:
                threading.Thread(
                    target=self._poll, args=(weakref.ref(self), wake), name="cors-wsgi-store", daemon=True
                ).start()
            except Exception:  # e.g. out of threads: a request never raises; try again soon
                delay = min(self.refresh_seconds, RETRY_START_SECONDS)
                self._retry_start = self._clock() + delay
                logger.exception("allow_origin_store %s: could not start its poller; trying again in %.1f s",
                                 escape(repr(self.store)), delay)
                return
            self._pid = _getpid()
            if self._notifier is not None:
                try:
                    self._notifier.start(CheckSoon(self))
                except Exception:  # the poll stays the backstop
                    logger.exception("allow_origin_store %s: could not start its notifier; the poll goes on",
                                     escape(repr(self.store)))


#: The process's live holders, held weakly: the one process-wide registry,
#: read only by metrics collectors (never on the request path); and every
#: failed check of the process, by label (counted when it fails, so a
#: replaced policy's errors stay in the total).
_LIVE: weakref.WeakSet[SnapshotHolder] = weakref.WeakSet()
_ERRORS: dict[str, int] = {}
_LIVE_LOCK = threading.RLock()


def _after_fork_in_child() -> None:  # pragma: no cover - runs in forked children only
    """Locks held by another thread at fork stay held in the child: new ones."""
    # (tests/test_snapshot_lifecycle.py forks with the locks held and checks the child starts.)
    global _LIVE_LOCK
    _LIVE_LOCK = threading.RLock()
    for holder in list(_LIVE):
        holder._start_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)

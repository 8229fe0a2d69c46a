"""The run-time state of ``allow_origin_predicate``: a bounded, expiring
cache of the predicate's verdicts, one small object per policy.

Bounds: at most ``size`` origins are remembered (when full, the oldest
entry, which expires first, makes room in O(1)); each verdict lives
``seconds`` seconds (0: the predicate is asked every time).  Concurrent requests for one origin that is
not cached wait for a single call of the predicate instead of each calling
it, so a database is asked at most once per origin per period whatever the
load.  An exception (any ``BaseException`` but ``KeyboardInterrupt`` and
``SystemExit``) or a non-``bool`` answer is a refusal, logged once per
origin and period (escaped), and never reaches the request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cors_wsgi._log import escape, logger

__all__ = ["PredicateCache"]


class PredicateCache:
    """``cache(origin) -> bool``: the predicate's verdict, remembered."""

    __slots__ = ("_clock", "_entries", "_in_flight", "_lock", "predicate", "seconds", "size")

    def __init__(
        self,
        predicate: Callable[[str], object],
        *,
        seconds: int,
        size: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.predicate = predicate
        self.seconds = seconds
        self.size = size
        self._clock = clock
        self._entries: dict[str, tuple[bool, float]] = {}
        self._in_flight: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __call__(self, origin: str) -> bool:
        entry = self._entries.get(origin)
        if entry is not None and entry[1] > self._clock():
            return entry[0]
        while True:
            with self._lock:
                entry = self._entries.get(origin)
                if entry is not None and entry[1] > self._clock():
                    return entry[0]
                waiting = self._in_flight.get(origin)
                if waiting is None:
                    done = self._in_flight[origin] = threading.Event()
                    break
            waiting.wait(30.0)  # another request is asking the predicate for this origin
        try:
            verdict = self._ask(origin)
            if self.seconds:
                self._store(origin, verdict)
            return verdict
        finally:
            with self._lock:
                del self._in_flight[origin]
            done.set()

    def _ask(self, origin: str) -> bool:
        try:
            answer = self.predicate(origin)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # a timeout (gevent.Timeout) included: a refusal
            logger.error(
                "allow_origin_predicate raised for origin=%s; refused for %s s",
                escape(origin), self.seconds, exc_info=True,
            )
            return False
        if answer is True or answer is False:
            return answer
        logger.error(
            "allow_origin_predicate returned %s (not a bool) for origin=%s; refused for %s s",
            escape(type(answer).__name__), escape(origin), self.seconds,
        )
        return False

    def _store(self, origin: str, verdict: bool) -> None:
        with self._lock:
            entries = self._entries
            entries.pop(origin, None)  # re-inserted last: insertion order is expiry order
            while len(entries) >= self.size:
                del entries[next(iter(entries))]  # the oldest, which expires first
            entries[origin] = (verdict, self._clock() + self.seconds)

"""Why cors_wsgi refused a request: stable reason codes, and the record an
``on_refusal`` hook receives.

Every refusal (a preflight or an actual request; a disallowed or malformed
origin, method or request header; an ``Origin`` on a path no pattern covers;
an ambiguous path) is logged on the ``cors_wsgi`` logger at ``DEBUG`` (at
``WARNING`` with ``debug=True``), request values escaped, and passed to
``CORSMiddleware(..., on_refusal=hook)`` as a :class:`Refusal`::

    from prometheus_client import Counter

    REFUSED = Counter("cors_refused_total", "CORS refusals", ["kind", "reason", "path_pattern"])

    def count(refusal):
        REFUSED.labels(refusal.kind, refusal.reason, refusal.path_pattern or "").inc()

    app = CORSMiddleware(app, policy, on_refusal=count)

Allowed requests never call the hook, and with ``DEBUG`` off and no hook a
refusal creates no log record.  Whatever the hook raises (``BaseException``
subclasses such as ``gevent.Timeout`` included) is logged and never changes
the response; only ``KeyboardInterrupt`` and ``SystemExit`` propagate.

The hook runs in the request's thread, and anyone can send refused
requests: a hook that takes 200 ms adds 200 ms to each.  For a hook that
does I/O (a database, a remote metrics service), hand refusals to a thread
of its own with :class:`BackgroundHook`, which costs the request one
bounded queue insert::

    app = CORSMiddleware(app, policy, on_refusal=BackgroundHook(send_to_audit_log))

``CORSMiddleware(..., on_decision=hook)`` generalises ``on_refusal``: it is
called with a :class:`Decision` for every request with an ``Origin``,
allowed or refused (:mod:`cors_wsgi.metrics` counts and traces them).
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cors_wsgi._log import logger

__all__ = [
    "DECISION_OUTCOMES", "REFUSAL_KINDS", "REFUSAL_REASONS", "BackgroundHook", "Decision", "Refusal",
    "combine", "deliver",
]

#: Every refusal reason code, with what it means.  Codes are API: stable
#: across releases, safe to use as metric labels.
REFUSAL_REASONS: dict[str, str] = {
    "origin-not-allowed": "the Origin is a serialized origin that no rule of the policy allows",
    "origin-malformed": "the Origin is not a serialized origin (not as browsers send it, or too long)",
    "method-not-allowed": "the preflight asks for a method the policy does not allow",
    "header-not-allowed": "the preflight asks for a request header the policy does not allow "
                          "(or too many, or a malformed list)",
    "path-not-covered": "an Origin was sent on a path no path pattern covers (passed through untouched)",
    "path-ambiguous": "the path reads differently once cleaned (// or dot segments) and the two "
                      "readings pick different patterns",
    "view-not-cross-origin": "the request reaches a view marked @no_cross_origin (its preflights "
                             "are refused, its responses get no CORS header)",
    "host-not-allowed": "HostGuard: the Host is not one of allowed_hosts (DNS rebinding, a "
                        "misdirected request)",
    "host-malformed": "HostGuard: no Host, or one too long or blank",
    "host-origin-not-allowed": "HostGuard: the Origin is not one of allowed_origins",
    "websocket-origin-not-allowed": "WebSocketOriginGuard: a WebSocket handshake from an origin not allowed",
    "websocket-origin-missing": "WebSocketOriginGuard: a WebSocket handshake without Origin, "
                                "with require_origin=True",
    # CrossOriginProtection (cors_wsgi.protection): unsafe methods only, never GET, HEAD, OPTIONS.
    "csrf-cross-site": "CrossOriginProtection: Sec-Fetch-Site: cross-site from an untrusted origin "
                       "on a path not bypassed",
    "csrf-same-site": "CrossOriginProtection: Sec-Fetch-Site: same-site without "
                      "allow_same_site=True",
    "csrf-fetch-site-malformed": "CrossOriginProtection: a Sec-Fetch-Site value browsers "
                                 "never send",
    "csrf-origin-mismatch": "CrossOriginProtection: no Sec-Fetch-Site, and the Origin is neither "
                            "the request's own origin nor trusted",
    "csrf-origin-malformed": "CrossOriginProtection: no Sec-Fetch-Site, and the Origin is not a "
                             "serialized origin (user info, a path, upper case, a default port, ...)",
    "csrf-no-origin-strict": "CrossOriginProtection(strict=True): an HTTPS request with neither "
                             "Sec-Fetch-Site nor Origin",
}

#: ``"preflight"`` (an OPTIONS preflight request) or ``"actual"`` (any other request).
REFUSAL_KINDS = ("preflight", "actual")


@dataclass(frozen=True)
class Refusal:
    """One refused request, as an ``on_refusal`` hook receives it.

    :ivar kind: ``"preflight"`` or ``"actual"``.
    :ivar reason: a code of :data:`REFUSAL_REASONS`, e.g. ``"origin-not-allowed"``.
    :ivar origin: the ``Origin`` header, escaped (printable ASCII, at most
        203 characters, as ``ascii()`` shows it: ``"'https://evil.example'"``),
        or ``None`` when absent.
    :ivar method: the request method (for a preflight, the method it asks
        for), escaped the same way.
    :ivar path_pattern: the path pattern whose policy refused (``"/api/*"``),
        or ``None`` for a single policy or when no pattern covers the path.
    """

    kind: str
    reason: str
    origin: str | None
    method: str
    path_pattern: str | None


#: What :func:`deliver` hands a hook: a :class:`Refusal` or a :class:`Decision`.
_Record = TypeVar("_Record")

#: A :class:`Decision`'s ``outcome``.
DECISION_OUTCOMES = ("allowed", "refused")


@dataclass(frozen=True)
class Decision:
    """What CORS decided for one request carrying an ``Origin``, as an
    ``on_decision`` hook receives it (:mod:`cors_wsgi.metrics` turns it into
    counters and span attributes).

    A request without ``Origin`` is not a CORS request and produces no
    decision.  Every other request handled by ``CORSMiddleware`` produces
    exactly one: allowed or refused, preflight or actual, on a path a pattern
    covers or not (``"path-not-covered"``).  A debug answer to a refused
    preflight (``debug=True``) is ``"refused"``, as ``on_refusal`` sees it.

    :ivar kind: ``"preflight"`` or ``"actual"`` (:data:`REFUSAL_KINDS`).
    :ivar outcome: ``"allowed"`` or ``"refused"`` (:data:`DECISION_OUTCOMES`).
    :ivar reason: for a refusal, its code of :data:`REFUSAL_REASONS`; ``None``
        when allowed.
    :ivar origin: the ``Origin`` header, escaped as ``Refusal.origin``.
        Never a safe metric label: anyone chooses it.
    :ivar method: escaped as ``Refusal.method``.
    :ivar path_pattern: the path pattern whose policy decided (``"/api/*"``,
        as configured), ``"@cross_origin"`` for a view's own policy, or
        ``None`` for a single policy, a path no pattern covers, an ambiguous
        path or a view marked ``@no_cross_origin``; never the request path.
    """

    kind: str
    outcome: str
    reason: str | None
    origin: str | None
    method: str
    path_pattern: str | None


def deliver(hook: Callable[[_Record], object], record: _Record, name: str = "on_refusal") -> None:
    """Call ``hook(record)`` (a :class:`Refusal`, or a :class:`Decision` with
    ``name="on_decision"``) in the request's thread.  Whatever the hook
    raises (``BaseException`` subclasses such as ``gevent.Timeout``
    included) is logged on the ``cors_wsgi`` logger and never changes the
    response; only ``KeyboardInterrupt`` and ``SystemExit`` propagate."""
    try:
        hook(record)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # a timeout (gevent.Timeout) included: the response stands
        logger.error("the %s hook raised; the response is unchanged", name, exc_info=True)


def combine(*hooks: Callable[[_Record], object], name: str = "on_decision") -> Callable[[_Record], None]:
    """One hook calling each of ``hooks`` in order with the same record
    (:func:`deliver`): what one raises is logged as ``name``'s error and the
    next still runs.  Also ``cors_wsgi.metrics.combine``, and what a
    settings value of several hooks (``"a.b:first c.d:second"``) becomes."""

    def every(record: _Record) -> None:
        for hook in hooks:
            deliver(hook, record, name)

    return every


class BackgroundHook:
    """``on_refusal`` that hands each refusal to a daemon thread calling
    ``hook``, so a slow hook never delays a response.

    :param hook: called with each :class:`Refusal`, in order, in the
        background thread; what it raises is logged (escaped) and the thread
        goes on.
    :param max_pending: most refusals waiting for ``hook`` (``1`` to
        ``1_000_000``, default ``10_000``); when full, new refusals are
        dropped and counted in ``dropped``, so a flood of refused
        requests costs bounded memory.
    :raises ValueError: for a ``hook`` that is not callable or a
        ``max_pending`` out of range.

    The thread starts on the first refusal, in the process that sees it, so
    a server that forks workers after building the app (gunicorn
    ``--preload``) gets one thread per worker.

    :ivar dropped: refusals dropped because ``max_pending`` were waiting.
    """

    def __init__(self, hook: Callable[[Refusal], object], *, max_pending: int = 10_000) -> None:
        if not callable(hook):
            raise ValueError(f"BackgroundHook needs a callable hook, not {hook!r}")
        if max_pending.__class__ is not int or not 1 <= max_pending <= 1_000_000:
            raise ValueError(f"max_pending must be an int from 1 to 1000000, not {max_pending!r}")
        self.hook = hook
        self.max_pending = max_pending
        self.dropped = 0
        self._pending: collections.deque[Refusal] = collections.deque()
        self._ready = threading.Condition()
        self._busy = False
        self._pid: int | None = None

    def __call__(self, refusal: Refusal) -> None:
        with self._ready:
            if self._pid != os.getpid():  # first call, or a forked child: start this process's thread
                self._pid = os.getpid()
                self._pending.clear()
                self._busy = False
                threading.Thread(target=self._run, name="cors_wsgi-refusals", daemon=True).start()
            if len(self._pending) >= self.max_pending:
                self.dropped += 1
                return
            self._pending.append(refusal)
            self._ready.notify_all()  # the thread, and any wait()

    def wait(self, timeout: float = 5.0) -> bool:
        """Wait up to ``timeout`` seconds until every refusal handed over so
        far reached the hook; True when it did (for tests and shutdown)."""
        with self._ready:
            return self._ready.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _run(self) -> None:
        pid = os.getpid()
        while True:
            with self._ready:
                self._ready.wait_for(lambda: bool(self._pending) or self._pid != pid)
                if self._pid != pid:
                    return
                refusal = self._pending.popleft()
                self._busy = True
            try:
                self.hook(refusal)
            except BaseException:
                logger.error("the on_refusal hook raised in its BackgroundHook thread", exc_info=True)
            finally:
                with self._ready:
                    self._busy = False
                    self._ready.notify_all()

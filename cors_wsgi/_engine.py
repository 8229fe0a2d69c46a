"""The compiled form of a policy, and every line a request runs through it.

``CORSPolicy`` validates its arguments once and builds an :class:`Engine`:
precomputed header values, a matcher for its origins, and the answers it
has given.  ``CORSMiddleware.__call__`` chooses the engine for a request
(its one policy, or the one its path maps to) and answers it: that method
is :func:`handle`, in this module, with everything it runs:

* a **preflight request** (``OPTIONS`` with ``Origin`` and
  ``Access-Control-Request-Method``) gets a :class:`PreflightAnswer` and
  never reaches the application (:meth:`Engine.preflight`);
* every **other request** reaches the application once, through a
  ``start_response`` shim that adds the :class:`ActualAnswer` for its
  origin (:meth:`Engine.actual`) to the application's headers
  (:func:`add_cors_headers`).

Nothing here validates configuration and nothing here raises for a
request: a malformed or hostile request header is just not allowed.  Every
header value sent was computed at construction or is a request value that
was checked first (an origin that matched, a method or header names that
passed the token check).

**Caching, in one sentence.**  Each engine keeps two answer caches,
``actuals`` (keyed by the exact ``Origin``) and ``preflights`` (keyed by
``Origin``, ``Access-Control-Request-Method`` and
``Access-Control-Request-Headers``), each holding at most
:data:`ANSWER_CACHE_SIZE` answers and emptied when full, and only for an
origin of at most ``MAX_ORIGIN_LENGTH`` characters decided by the static
rules (never a predicate's verdict, a debug answer, a private-network
answer or a header list over :data:`MAX_CACHED_REQUEST_HEADERS_LENGTH`);
a predicate's verdicts live in its own :class:`PredicateCache`
(``origin_cache_size`` origins, ``origin_cache_seconds`` each).  There is
no other cache and no module-level mutable state; the matcher is a pure
function of the policy.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from cors_wsgi._host import untrusted_reason
from cors_wsgi._log import escape, logger
from cors_wsgi._protocol import (
    FORBIDDEN_METHODS,
    MAX_ORIGIN_LENGTH,
    ORIGIN_SHAPE,
    SAFELISTED_METHODS,
    TOKEN_CHARS,
)
from cors_wsgi._protocol import is_token as is_token
from cors_wsgi.refusals import Decision, Refusal, deliver

if TYPE_CHECKING:
    import re

    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from cors_wsgi._snapshot import SnapshotHolder

__all__ = [
    "AMBIGUOUS",
    "ANSWER_CACHE_SIZE",
    "ERROR_STATUS",
    "MAX_REQUEST_HEADERS_LENGTH",
    "NOT_CROSS_ORIGIN",
    "PREFLIGHT_FAILURE_STATUS",
    "PREFLIGHT_SUCCESS_STATUS",
    "ActualAnswer",
    "Ambiguous",
    "Chooser",
    "Engine",
    "Header",
    "Middleware",
    "OriginMatcher",
    "OriginPattern",
    "PredicateCache",
    "PreflightAnswer",
    "Settings",
    "Unanswered",
    "add_cors_headers",
    "is_origin_shaped",
    "is_token",
    "merge_vary",
    "refuse_unanswered",
    "report_allowed",
    "report_refusal",
]

Header = tuple[str, str]

#: Status of an accepted preflight: no body, so no content headers either.
PREFLIGHT_SUCCESS_STATUS = "204 No Content"
#: The status lines ``preflight_status`` may choose (Fetch: any ok status, 200-299).
PREFLIGHT_STATUS_LINES = {204: PREFLIGHT_SUCCESS_STATUS, 200: "200 OK"}
#: Status of a refused preflight (origin, method or a header not allowed).
PREFLIGHT_FAILURE_STATUS = "403 Forbidden"
#: What ``catch_exceptions=True`` answers when the wrapped app raises.
ERROR_STATUS = "500 Internal Server Error"
_ERROR_BODY = b"Internal Server Error\n"
_ERROR_HEADERS: tuple[Header, ...] = (
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(_ERROR_BODY))),
)

#: Most request header names one preflight may ask for; more is refused
#: (browsers send one name per non-safelisted header the script set).
MAX_REQUESTED_HEADERS = 64
#: Longest ``Access-Control-Request-Headers`` value that is parsed at all;
#: longer is refused on its length alone, in O(1).  64 names of 63
#: characters, joined by commas, fit in 4 KiB.
MAX_REQUEST_HEADERS_LENGTH = 4 * 1024
#: Most answers each of an engine's two caches holds; a full cache is
#: emptied, so hostile, ever-changing requests cost memory only up to this.
ANSWER_CACHE_SIZE = 1024
#: Longest ``Access-Control-Request-Headers`` whose preflight answer is
#: remembered; longer lists are parsed every time, so one cache holds at
#: most about 1.5 MiB of keys.
MAX_CACHED_REQUEST_HEADERS_LENGTH = 1024

#: Exact header names that are ``str`` and neither ``Vary`` nor
#: ``Access-Control-*``: when the app's list holds only these, the CORS
#: headers are appended to a copy with nothing to strip or merge.
PLAIN_HEADER_NAMES = frozenset({
    "Content-Type", "Content-Length", "Content-Encoding", "Content-Language",
    "Content-Disposition", "Content-Security-Policy", "Cache-Control", "ETag", "Expires",
    "Last-Modified", "Date", "Server", "Location", "Set-Cookie", "Link", "Allow",
    "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy",
    "Strict-Transport-Security", "X-Request-Id", "Accept-Ranges", "Retry-After", "Pragma",
    "WWW-Authenticate", "Permissions-Policy", "Transfer-Encoding", "Connection",
    "content-type", "content-length", "cache-control", "etag", "set-cookie", "location",
})

_TOKENS_AND_SPACES = TOKEN_CHARS | {" ", "\t"}
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
_HOST_CHARS = _LABEL_CHARS | {"."}
_DIGITS = frozenset("0123456789")
_PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
_PNA_VARY = _PREFLIGHT_VARY + ", Access-Control-Request-Private-Network"
_REFUSED_BODIES = {
    "origin": b"CORS preflight refused: origin not allowed\n",
    "method": b"CORS preflight refused: method not allowed\n",
    "headers": b"CORS preflight refused: request header not allowed\n",
}


#: The ``isEnabledFor`` check a refusal makes before reporting (logging caches its answer).
_logs_enabled_for = logger.isEnabledFor
_DEBUG = logging.DEBUG
#: The preflight cache key's stand-in for a header list over the cap, refused
#: on its length alone: one key, never hashed (not a ``str``, so no value equals it).
_OVER_CAP = object()


def _join(items: Iterable[str]) -> str:
    return ", ".join(items)


def is_origin_shaped(origin: str) -> bool:
    """True when ``origin`` has the shape of a serialized tuple origin as
    browsers send it (``null`` and malformed values do not)."""
    return len(origin) <= MAX_ORIGIN_LENGTH and ORIGIN_SHAPE.fullmatch(origin) is not None


def _is_port(text: str) -> bool:
    """True for a serialized port: 1 to 65535, no leading zero."""
    return 0 < len(text) <= 5 and text[0] != "0" and _DIGITS.issuperset(text) and int(text) <= 65535


# -- the answers -------------------------------------------------------------------


@dataclass(slots=True)
class ActualAnswer:
    """What an actual (non-preflight) response gets for one origin.

    A slotted class (its fields read about twice as fast as a NamedTuple's),
    not frozen (a frozen dataclass's ``__init__`` costs ~0.4 us more per
    first-seen origin): answers are shared between requests and never
    changed after construction."""

    #: Appended to the app's headers when they hold only plain names
    #: (``PLAIN_HEADER_NAMES``): ``Vary: Origin`` (unless ``*``) and ``cors_headers``.
    appended: tuple[Header, ...]
    #: The CORS headers: ``Access-Control-Allow-Origin`` and what follows it, or ``()``.
    cors_headers: tuple[Header, ...]
    #: Merge ``Origin`` into ``Vary`` (every origin but under ``allow_origins="*"``).
    vary_origin: bool
    #: The policy does not allow the origin.
    refused: bool


@dataclass(slots=True)
class PreflightAnswer:
    """The whole response to one preflight request (shared and never
    changed after construction, as :class:`ActualAnswer`)."""

    status: str
    headers: tuple[Header, ...]
    body: bytes
    #: ``None``, or what was not allowed: ``"origin"``, ``"method"`` or
    #: ``"headers"`` (also in debug mode, where the answer is ok).
    refused: str | None


class Settings(Protocol):
    """What :meth:`Engine.respond` reads of the middleware, per request."""

    @property
    def app(self) -> WSGIApplication: ...
    @property
    def debug(self) -> bool: ...
    @property
    def catch_exceptions(self) -> bool: ...
    @property
    def on_refusal(self) -> Callable[[Refusal], object] | None: ...
    @property
    def on_decision(self) -> Callable[[Decision], object] | None: ...
    @property
    def log_refusals(self) -> bool: ...


class Chooser(Protocol):
    """``choose(environ)``: the route whose policy answers the request,
    :class:`Unanswered` when no policy may answer it, or ``None`` when
    nothing covers it (it passes through untouched)."""

    def __call__(self, environ: WSGIEnvironment) -> Route | Unanswered | None: ...


class Route(Protocol):
    @property
    def engine(self) -> Engine: ...
    @property
    def pattern(self) -> str: ...


class Middleware(Settings, Protocol):
    """What :func:`handle` reads of the middleware: the settings, and the
    configuration, ``engine`` (one policy for every request) or else
    ``choose`` (the policy chosen per request), and ``vary``."""

    @property
    def engine(self) -> Engine | None: ...
    @property
    def choose(self) -> Chooser: ...
    @property
    def vary(self) -> tuple[str, ...]: ...


class Unanswered:
    """A request no policy may answer (:data:`AMBIGUOUS`,
    :data:`NOT_CROSS_ORIGIN`): a preflight gets ``403`` with ``body``, any
    other request reaches the app and its response gets no CORS header."""

    __slots__ = ("body", "headers", "name", "reason")

    def __init__(self, name: str, reason: str, body: bytes) -> None:
        self.name = name
        #: The :data:`~cors_wsgi.refusals.REFUSAL_REASONS` code reported.
        self.reason = reason
        self.body = body
        self.headers: tuple[Header, ...] = (
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Vary", "Origin"),
        )

    def __repr__(self) -> str:
        return self.name


#: The old name of :class:`Unanswered` (``cors_wsgi.paths.Ambiguous``).
Ambiguous = Unanswered

#: What a path chooser returns for a path whose two readings (as sent, and
#: cleaned of ``//`` and dot segments) pick different patterns.
AMBIGUOUS = Unanswered("AMBIGUOUS", "path-ambiguous", b"CORS preflight refused: ambiguous path\n")

#: What a view marked ``@no_cross_origin`` gets (:mod:`cors_wsgi.views`).
NOT_CROSS_ORIGIN = Unanswered(
    "NOT_CROSS_ORIGIN", "view-not-cross-origin",
    b"CORS preflight refused: this view allows no cross-origin requests\n",
)


# -- origins -----------------------------------------------------------------------


class OriginPattern(NamedTuple):
    """One validated ``allow_origins`` entry other than ``*``."""

    scheme: str
    #: For a subdomain wildcard, the base domain after ``*.``.
    host: str
    #: ``""`` for none, ``"*"`` for any, else canonical digits.
    port: str
    subdomains: bool


class OriginMatcher:
    """A policy's origin rules, compiled; ``matches`` is a pure function.

    An exact origin costs one ``frozenset`` lookup.  Only when the policy has
    wildcard patterns or a regex does another origin get parsed, once, then
    looked up label suffix by label suffix (set lookups: the cost depends on
    the length of the origin, never on the number of patterns).
    """

    __slots__ = (
        "_any_port", "_exact", "_parse", "_regexes", "_sub", "_sub_any_port", "_sub_bases",
    )

    def __init__(self, patterns: Iterable[OriginPattern], regexes: tuple[re.Pattern[str], ...]) -> None:
        exact: set[str] = set()
        any_port: set[tuple[str, str]] = set()
        sub: set[tuple[str, str, str]] = set()
        sub_any_port: set[tuple[str, str]] = set()
        for p in patterns:
            if p.subdomains and p.port == "*":
                sub_any_port.add((p.scheme, p.host))
            elif p.subdomains:
                sub.add((p.scheme, p.host, p.port))
            elif p.port == "*":
                any_port.add((p.scheme, p.host))
            else:
                exact.add(f"{p.scheme}://{p.host}{':' + p.port if p.port else ''}")
        self._exact = frozenset(exact)
        self._any_port = frozenset(any_port)
        self._sub = frozenset(sub)
        self._sub_any_port = frozenset(sub_any_port)
        # Every wildcard's base domain: one string lookup per label of a request host.
        self._sub_bases = frozenset(base for _, base, _ in sub) | frozenset(base for _, base in sub_any_port)
        # Each regex was proven to match in linear time (``_regex.py``).
        self._regexes = tuple((regex.fullmatch, regex.pattern) for regex in regexes)
        self._parse = bool(any_port or sub or sub_any_port or regexes)

    def matches(self, origin: str) -> bool:
        """True when ``origin`` (the ``Origin`` request header, exactly as
        received) is allowed.  Byte-exact, as the CORS check compares
        (https://fetch.spec.whatwg.org/#cors-check); ``null`` and anything not
        in serialized form never match a pattern or a regex."""
        if origin in self._exact:
            return True
        if not self._parse or len(origin) > MAX_ORIGIN_LENGTH:
            return False
        return self._match_patterns(origin) is not None

    def rule_for(self, origin: str) -> str | None:
        """Which configured rule allows ``origin``, in words (for ``explain``),
        or ``None``: the very search ``matches`` runs."""
        if origin in self._exact:
            return f"allow_origins entry {origin!r}"
        if len(origin) > MAX_ORIGIN_LENGTH:
            return None
        found = self._match_patterns(origin)
        if found is None:
            return None
        kind, scheme, host, port = found
        if kind == "regex":
            return f"allow_origin_regex {host!r}"
        port = ":*" if kind in ("any-port", "subdomains-any-port") else (":" + port if port else "")
        star = "*." if kind.startswith("subdomains") else ""
        return f"allow_origins entry '{scheme}://{star}{host}{port}'"

    def _match_patterns(self, origin: str) -> tuple[str, str, str, str] | None:
        """The rule a non-exact origin matches, as ``(kind, scheme, host,
        port)`` (a regex: ``("regex", "", source, "")``), or ``None``.

        Only origins of the serialized shape match.  The wildcard search
        needs no regex: a configured scheme, base domain or port is already
        valid, so equality with one proves that part, and only the labels
        before the base and a port that any-port rules accept are checked."""
        scheme, sep, rest = origin.partition("://")
        if sep and rest[:1] != "[" and (self._any_port or self._sub_bases):
            host, colon, port = rest.partition(":")
            if host[-1:] == "." or (colon and not _is_port(port)):  # a trailing dot is no serialized shape
                return self._match_regexes(origin)
            if self._any_port and (scheme, host) in self._any_port:
                return ("any-port", scheme, host, "")
            bases = self._sub_bases
            dot = host.find(".")
            while dot != -1:
                base = host[dot + 1 :]
                if base in bases:
                    labels = host[:dot]  # non-empty labels joined by single dots
                    if (
                        labels[:1] in ("", ".") or labels[-1] == "." or ".." in labels
                        or not _HOST_CHARS.issuperset(labels)
                    ):
                        return self._match_regexes(origin)
                    if (scheme, base, port) in self._sub:
                        return ("subdomains", scheme, base, port)
                    if (scheme, base) in self._sub_any_port:
                        return ("subdomains-any-port", scheme, base, "")
                dot = host.find(".", dot + 1)
        elif sep and rest[:1] == "[" and self._any_port:
            shape = ORIGIN_SHAPE.fullmatch(origin)
            if shape is not None and (scheme, shape.group(2)) in self._any_port and (
                shape.group(3) is None or _is_port(shape.group(3))
            ):
                return ("any-port", scheme, shape.group(2), "")
        return self._match_regexes(origin)

    def _match_regexes(self, origin: str) -> tuple[str, str, str, str] | None:
        if not self._regexes:
            return None
        shape = ORIGIN_SHAPE.fullmatch(origin)
        if shape is None or (shape.group(3) is not None and int(shape.group(3)) > 65535):
            return None
        for fullmatch, source in self._regexes:
            if fullmatch(origin) is not None:
                return ("regex", "", source, "")
        return None


class _Call:
    """One predicate call in flight: its deadline and, once done, its verdict."""

    __slots__ = ("deadline", "done", "verdict")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.done = threading.Event()
        self.verdict = False


class _Worker:
    """A worker process's share of a :class:`PredicateCache`: its lock, the
    calls in flight and the daemon threads that run them (started as
    needed, at most the concurrency bound), rebuilt in a forked child
    (checked with ``os.getpid()``), where the parent's threads do not exist."""

    __slots__ = ("in_flight", "lock", "pid", "quiet_until", "tasks", "threads")

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.in_flight: dict[str, _Call] = {}
        self.quiet_until = 0.0
        #: (cache, origin, call) to run; never longer than the free threads.
        self.tasks: queue.SimpleQueue[tuple[PredicateCache, str, _Call]] = queue.SimpleQueue()
        self.threads = 0

    def serve(self) -> None:
        """A thread's loop: run the calls handed to it, forever (a daemon);
        should a predicate raise ``SystemExit`` here, the thread ends and the
        next call starts another."""
        try:
            while True:
                cache, origin, call = self.tasks.get()
                cache.run(self, origin, call)
        finally:
            with self.lock:
                self.threads -= 1


class PredicateCache:
    """``cache(origin) -> bool``: ``allow_origin_predicate``'s verdicts, remembered.

    Bounds: at most ``size`` origins (when full, the oldest entry, which
    expires first, makes room in O(1)); each verdict lives ``seconds``
    seconds (0: the predicate is asked every time).  An exception (any
    ``BaseException`` but ``KeyboardInterrupt`` and ``SystemExit``) or a
    non-``bool`` answer is a refusal, logged once per origin and period
    (escaped), and never reaches the request.

    Time and concurrency: calls run on at most ``concurrency`` daemon
    threads per worker process, started as needed and then kept, so a call
    costs a queue hand-off, not a thread; at most ``concurrency`` calls are
    in flight (counted until the predicate returns, so a hanging call keeps
    its thread and its slot).  A request
    waits for its origin's call at most until ``timeout`` seconds after the
    call started, then is refused; a late answer still fills the cache for
    the next request.  Concurrent requests for one uncached origin share a
    single call.  An origin first seen while ``concurrency`` calls are in
    flight is refused at once, not queued (and not cached).  A refusal the
    predicate gave is cached like any verdict (the negative cache), so a
    flood of one refused origin costs one call per period.
    """

    __slots__ = (
        "_clock", "_entries", "_worker", "concurrency", "predicate", "seconds", "size", "timeout",
    )

    def __init__(
        self,
        predicate: Callable[[str], object],
        *,
        seconds: int,
        size: int,
        timeout: float = 1.0,
        concurrency: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.predicate = predicate
        self.seconds = seconds
        self.size = size
        self.timeout = timeout
        self.concurrency = concurrency
        self._clock = clock
        self._entries: dict[str, tuple[bool, float]] = {}
        self._worker = _Worker()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def in_flight(self) -> int:
        """Predicate calls running now in this process (timed-out ones included)."""
        return len(self._current().in_flight)

    def _current(self) -> _Worker:
        worker = self._worker
        if worker.pid != os.getpid():  # forked: the parent's calls are not running here
            worker = self._worker = _Worker()
        return worker

    def __call__(self, origin: str) -> bool:
        entry = self._entries.get(origin)
        if entry is not None and entry[1] > self._clock():
            return entry[0]
        worker = self._current()
        with worker.lock:
            entry = self._entries.get(origin)
            if entry is not None and entry[1] > self._clock():
                return entry[0]
            call = worker.in_flight.get(origin)
            if call is None:
                if len(worker.in_flight) >= self.concurrency:
                    self._warn(worker, "%s allow_origin_predicate calls in flight; origin=%s refused "
                               "at once", len(worker.in_flight), escape(origin))
                    return False
                call = worker.in_flight[origin] = _Call(time.monotonic() + self.timeout)
                # In flight <= concurrency == threads, so a thread is free (or freeing).
                if worker.threads < self.concurrency:
                    worker.threads += 1
                    threading.Thread(target=worker.serve, name="cors_wsgi-predicate", daemon=True).start()
                worker.tasks.put((self, origin, call))
        if call.done.wait(max(0.0, call.deadline - time.monotonic())):
            return call.verdict
        self._warn(worker, "allow_origin_predicate took over %s s for origin=%s; refused",
                   self.timeout, escape(origin))
        return False

    def run(self, worker: _Worker, origin: str, call: _Call) -> None:
        """Ask the predicate about ``origin`` for ``call`` (on a worker thread)."""
        try:
            call.verdict = verdict = self._ask(origin)
            if self.seconds:
                self._store(worker, origin, verdict)
        finally:
            with worker.lock:
                worker.in_flight.pop(origin, None)
            call.done.set()

    def _warn(self, worker: _Worker, message: str, *args: object) -> None:
        """A ``WARNING`` at most once per 10 seconds per process: a flood of
        refused origins must not become a flood of log lines."""
        now = time.monotonic()
        if now >= worker.quiet_until:
            worker.quiet_until = now + 10.0
            logger.warning(message, *args)

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

    def _store(self, worker: _Worker, origin: str, verdict: bool) -> None:
        with worker.lock:
            entries = self._entries
            entries.pop(origin, None)  # re-inserted last: insertion order is expiry order
            while len(entries) >= self.size:
                del entries[next(iter(entries))]  # the oldest, which expires first
            entries[origin] = (verdict, self._clock() + self.seconds)


# -- the engine --------------------------------------------------------------------


class Engine:
    """Precomputed answers for one policy.  Built by ``CORSPolicy`` only."""

    __slots__ = (
        "_acah",
        "_acam",
        "_actual_vary",
        "_any_header",
        "_any_method",
        "_authorization_listed",
        "_credentials",
        "_debug_headers",
        "_debug_methods",
        "_header_names",
        "_matched_tail",
        "_ok_headers",
        "_ok_status",
        "_origin_matches",
        "_preflight_tail",
        "_private_network",
        "_refusals",
        "_refused_answer",
        "_resource_policy",
        "_star",
        "_timing",
        "_tolerate",
        "_vary",
        "actuals",
        "allow_all",
        "matcher",
        "no_origin",
        "predicate",
        "preflights",
        "snapshot",
        "vary_origin",
    )

    def __init__(
        self,
        *,
        allow_all: bool,
        matcher: OriginMatcher,
        methods: tuple[str, ...],
        headers: tuple[str, ...],
        expose: tuple[str, ...],
        credentials: bool,
        max_age: int | None,
        private_network: bool,
        predicate: PredicateCache | None = None,
        timing_allow_origin: bool = False,
        resource_policy: str | None = None,
        preflight_status: int = 204,
        tolerate_insecure: bool = False,
        tolerate_public_suffixes: bool = False,
        snapshot: SnapshotHolder | None = None,
    ) -> None:
        self.allow_all = allow_all
        #: ``allow_origin_store``'s snapshot (its origins already passed the trust rule).
        self.snapshot = snapshot
        #: Responses vary by ``Origin`` unless every origin gets ``*``.
        self.vary_origin = not allow_all
        self.matcher = matcher
        self.predicate = predicate
        self._credentials = credentials
        self._private_network = private_network
        self._timing = timing_allow_origin
        self._tolerate = (tolerate_insecure, tolerate_public_suffixes)
        self._origin_matches = self._origin_rule(matcher, predicate)

        # Actual responses: what follows Access-Control-Allow-Origin.
        tail: list[Header] = []
        if credentials:
            tail.append(("Access-Control-Allow-Credentials", "true"))
        if expose:
            tail.append(("Access-Control-Expose-Headers", _join(expose)))
        # Cross-Origin-Resource-Policy: a property of the resource, sent on
        # every actual response (allowed, refused, or without Origin).
        self._resource_policy: tuple[Header, ...] = (
            (("Cross-Origin-Resource-Policy", resource_policy),) if resource_policy else ()
        )
        self._matched_tail = tuple(tail)
        star = (("Access-Control-Allow-Origin", "*"), *tail)
        if timing_allow_origin:
            # Resource Timing: a second Timing-Allow-Origin line is merged
            # with the app's own as one list (RFC 9110 section 5.3).
            star = (*star, ("Timing-Allow-Origin", "*"))
        self._star = (*star, *self._resource_policy)

        # Methods: one dict lookup gives both "allowed?" and the header value.
        # The configured list is sent whole, so one cached preflight covers
        # every allowed method; a safelisted method not listed is appended.
        self._any_method = "*" in methods
        listed = _join(methods)
        self._acam: dict[str, str] = dict.fromkeys(methods, listed)
        for m in sorted(SAFELISTED_METHODS, key=("GET", "HEAD", "POST").index):
            self._acam.setdefault(m, f"{listed}, {m}" if listed else m)
        self._debug_methods = listed or "GET, HEAD, POST"

        # Request headers: lower-case names, compared case-insensitively.
        self._any_header = "*" in headers
        self._header_names = frozenset(h for h in headers if h != "*")
        self._authorization_listed = "authorization" in self._header_names
        if self._any_header:
            self._acah: str | None = "*, authorization" if self._authorization_listed else "*"
        else:
            self._acah = _join(headers) or None
        self._debug_headers = _join(headers)

        preflight_tail: list[Header] = []
        if credentials:
            preflight_tail.append(("Access-Control-Allow-Credentials", "true"))
        if max_age is not None:
            preflight_tail.append(("Access-Control-Max-Age", str(max_age)))
        self._preflight_tail = tuple(preflight_tail)
        self._vary = ("Vary", _PNA_VARY if private_network else _PREFLIGHT_VARY)

        # An allowed preflight: 204 (no body, so no Content-Length, RFC 9110
        # section 8.6), or 200 with ``Content-Length: 0`` for servers that
        # close every connection whose response has no length (waitress).
        self._ok_status = PREFLIGHT_STATUS_LINES[preflight_status]
        self._ok_headers: tuple[Header, ...] = (("Content-Length", "0"),) if preflight_status == 200 else ()

        self._refusals = {
            reason: PreflightAnswer(PREFLIGHT_FAILURE_STATUS, (
                ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), self._vary,
            ), body, reason)
            for reason, body in _REFUSED_BODIES.items()
        }
        self._actual_vary: tuple[Header, ...] = (("Vary", "Origin"),) if self.vary_origin else ()
        self.no_origin = self._actual_answer(
            self._star if allow_all else self._resource_policy, refused=False
        )
        self._refused_answer = self._actual_answer(self._resource_policy, refused=True)
        # The two answer caches (see the module docstring).
        self.actuals: dict[str, ActualAnswer] = {}
        self.preflights: dict[tuple[str, object, object], PreflightAnswer] = {}

    def _origin_rule(
        self, matcher: OriginMatcher, predicate: PredicateCache | None
    ) -> Callable[[str], bool]:
        """``origin -> allowed``: the static rules, then the predicate for a
        serialized origin they refused.  With credentials, an origin reaches
        the predicate only when it passes the rules of ``allow_origins``
        (one trust rule for every source of origins, ``untrusted_reason``)."""
        static = matcher.matches
        snapshot = self.snapshot
        if snapshot is not None:
            # Between the static rules and the predicate: a set lookup in the
            # snapshot in force, whose origins passed the trust rule at load.
            in_snapshot = snapshot.allows
            matches = static

            def static(origin: str) -> bool:
                return matches(origin) or (origin.__class__ is str and in_snapshot(origin))

        if predicate is None:
            return static
        if not self._credentials:
            return lambda origin: static(origin) or (is_origin_shaped(origin) and predicate(origin))
        insecure, suffixes = self._tolerate

        def origin_matches(origin: str) -> bool:
            return static(origin) or (
                origin.__class__ is str
                and untrusted_reason(
                    origin, tolerate_insecure=insecure, tolerate_public_suffixes=suffixes
                ) is None
                and predicate(origin)
            )

        return origin_matches

    def _actual_answer(self, cors_headers: tuple[Header, ...], refused: bool) -> ActualAnswer:
        return ActualAnswer(self._actual_vary + cors_headers, cors_headers, self.vary_origin, refused)

    def _remember(self, cache: dict[Any, Any], key: object, answer: object, origin: object) -> None:
        """``cache[key] = answer`` when the answer may be kept as long as this
        engine lives (a short origin the static rules decided), emptying a
        full cache first."""
        if not isinstance(origin, str) or origin.__class__ is not str or len(origin) > MAX_ORIGIN_LENGTH:
            return
        if (
            (self.predicate is not None or self.snapshot is not None)
            and not self.allow_all and not self.matcher.matches(origin)
        ):
            return  # a predicate's or a snapshot's verdict: its cache, or the next snapshot, replaces it
        if len(cache) >= ANSWER_CACHE_SIZE:
            cache.clear()
        cache[key] = answer

    # -- per request -------------------------------------------------------------

    def actual(self, origin: str) -> ActualAnswer:
        """What an actual response to ``origin`` gets, computed and remembered
        in ``actuals`` (the caller looked there first)."""
        if self.allow_all:
            return self.no_origin
        if origin.__class__ is str and self._origin_matches(origin):
            headers = self._allowed_headers(origin)
            answer = ActualAnswer(self._actual_vary + headers, headers, True, False)
        else:
            answer = self._refused_answer
        self._remember(self.actuals, origin, answer, origin)
        return answer

    def answer_preflight(
        self, environ: WSGIEnvironment, origin: str, debug: bool, key: tuple[str, object, object]
    ) -> PreflightAnswer:
        """``preflight()``'s answer, remembered in ``preflights`` under ``key``
        (``(origin, method, header list or _OVER_CAP)``; the caller looked
        there first) when it depends on nothing else: not in debug mode, no
        private network access, a short method and header list."""
        answer = self.preflight(environ, origin, debug)
        method, requested = key[1], key[2]
        if (
            not debug
            and not self._private_network
            and method.__class__ is str
            and len(method) <= 64
            and (requested is None or requested is _OVER_CAP or (
                type(requested) is str and len(requested) <= MAX_CACHED_REQUEST_HEADERS_LENGTH
            ))
        ):
            self._remember(self.preflights, key, answer, origin)
        return answer

    # -- actual requests ---------------------------------------------------------

    def response_headers(self, origin: str | None) -> tuple[Header, ...]:
        """The CORS headers for an actual (non-preflight) response to ``origin``."""
        if self.allow_all:
            return self._star
        if origin is not None and self._origin_matches(origin):
            return self._allowed_headers(origin)
        return self._resource_policy

    def _allowed_headers(self, origin: str) -> tuple[Header, ...]:
        """What an allowed origin's actual response gets (not under ``*``)."""
        headers = (("Access-Control-Allow-Origin", origin), *self._matched_tail)
        if self._timing:  # echoes the origin: the answer's Vary: Origin covers it (orpc PR#1993)
            headers = (*headers, ("Timing-Allow-Origin", origin))
        return (*headers, *self._resource_policy)

    def allows_origin(self, origin: str) -> bool:
        return self.allow_all or self._origin_matches(origin)

    def dynamic_refusal(self, origin: str) -> str | None:
        """Why the predicate is never asked about ``origin`` (a credentialed
        policy's trust rule, see ``untrusted_reason``), or ``None``."""
        if (self.predicate is None and self.snapshot is None) or not self._credentials:
            return None
        return untrusted_reason(
            origin, tolerate_insecure=self._tolerate[0], tolerate_public_suffixes=self._tolerate[1]
        )

    def debug_methods(self) -> str:
        """The allowed methods as ``Access-Control-Allow-Methods`` lists them in debug mode."""
        return self._debug_methods

    def debug_headers(self) -> str:
        """The allowed request headers, comma-separated (``""`` for none)."""
        return self._debug_headers

    # -- preflight requests ------------------------------------------------------

    def preflight(self, environ: WSGIEnvironment, origin: str, debug: bool) -> PreflightAnswer:
        """Answer a preflight request (https://fetch.spec.whatwg.org/#cors-preflight-fetch).

        ``refused`` is also set in debug mode, where an allowed origin's
        refusal is answered ok with the lists the policy allows.
        """
        if self.allow_all:
            acao = "*"
        elif self._origin_matches(origin):
            acao = origin
        else:
            return self._refuse("origin", debug)

        method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        method = method if isinstance(method, str) else ""
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if self._any_method:
            if not self._credentials:
                acam = "*"
            elif is_token(method) and method.upper() not in FORBIDDEN_METHODS:
                acam = method
            else:
                return self._refuse("method", debug, acao, requested)
        else:
            found = self._acam.get(method)
            if found is None:
                return self._refuse("method", debug, acao, requested)
            acam = found

        acah = self._acah
        if isinstance(requested, str) and requested:
            names = self._requested_names(requested)
            if names is None:
                return self._refuse("headers", debug, acao, requested)
            if self._any_header and self._credentials:
                acah = ",".join(names) or None
            elif self._any_header:
                if "authorization" in names and not self._authorization_listed:
                    return self._refuse("headers", debug, acao, requested)
            elif not self._header_names.issuperset(names):
                return self._refuse("headers", debug, acao, requested)

        headers: list[Header] = [("Access-Control-Allow-Origin", acao), *self._preflight_tail]
        headers.append(("Access-Control-Allow-Methods", acam))
        if acah is not None:
            headers.append(("Access-Control-Allow-Headers", acah))
        if self._private_network and environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true":
            headers.append(("Access-Control-Allow-Private-Network", "true"))
        headers.append(self._vary)
        headers.extend(self._ok_headers)
        return PreflightAnswer(self._ok_status, tuple(headers), b"", None)

    def _requested_names(self, value: str) -> list[str] | None:
        """Parse ``Access-Control-Request-Headers`` leniently (any case,
        spaces, empty items, several lines joined by ``,``) with bounded work.

        Returns lower-case names, or ``None`` when the value is too long, names
        too many headers, or (when names will be echoed) holds a non-token.
        """
        if len(value) > MAX_REQUEST_HEADERS_LENGTH:
            return None
        # One pass of C string methods over the whole value: lower() maps
        # characters independently of the separators.
        joined = value.lower().replace(",", " ")
        names = joined.split(None, MAX_REQUESTED_HEADERS)
        if len(names) > MAX_REQUESTED_HEADERS:
            return None
        if self._any_header and not _TOKENS_AND_SPACES.issuperset(joined):
            token = TOKEN_CHARS.issuperset
            for name in names:
                if not token(name):
                    return None
        return names

    def _debug_header_names(self, requested: object) -> str:
        """``Access-Control-Allow-Headers`` of a debug answer under
        ``allow_headers="*"``: the requested names the policy allows, never
        ``*`` (browsers still let ``*`` cover ``Authorization``, which Fetch
        forbids, so a debug ``*`` would widen what a browser allows)."""
        if not isinstance(requested, str) or len(requested) > MAX_REQUEST_HEADERS_LENGTH:
            return ""
        names = requested.lower().replace(",", " ").split(None, MAX_REQUESTED_HEADERS)[:MAX_REQUESTED_HEADERS]
        allowed = [n for n in names if is_token(n) and (n != "authorization" or self._authorization_listed)]
        return ",".join(dict.fromkeys(allowed))

    def _refuse(
        self, reason: str, debug: bool, acao: str | None = None, requested: object = None
    ) -> PreflightAnswer:
        if debug and acao is not None:
            # Debug mode: let the browser console name the real cause, with
            # lists that never allow more than the policy does.
            headers: list[Header] = [("Access-Control-Allow-Origin", acao)]
            if self._credentials:
                headers.append(("Access-Control-Allow-Credentials", "true"))
            headers.append(("Access-Control-Allow-Methods", self._debug_methods))
            allow_headers = self._debug_header_names(requested) if self._any_header else self._debug_headers
            if allow_headers:
                headers.append(("Access-Control-Allow-Headers", allow_headers))
            headers.append(self._vary)
            headers.extend(self._ok_headers)
            return PreflightAnswer(self._ok_status, tuple(headers), b"", reason)
        return self._refusals[reason]


# -- the request path ------------------------------------------------------------


def handle(
    middleware: Middleware, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """One request, from choosing its policy to the shim: ``CORSMiddleware.__call__``.

    ``middleware`` gives the configuration (``engine`` for one policy, else
    ``choose``) and the settings (``app``, ``debug``, ``catch_exceptions``,
    ``on_refusal``, ``on_decision``, ``log_refusals``).

    An allowed request pays for ``on_decision`` with one attribute check
    when no hook is set; a request without ``Origin`` not even that."""
    engine = middleware.engine
    pattern: str | None = None
    if engine is None:
        # The one place the policy for a request is chosen: by its path
        # (``PathMap.choose``), or by the view it reaches (``ViewChooser``).
        route = middleware.choose(environ)
        if route is None:
            if "HTTP_ORIGIN" in environ:
                report_refusal(middleware, None, "path-not-covered", environ, None)
            return middleware.app(environ, start_response)
        if middleware.vary:  # a resolver reads these request headers
            start_response = _varying(start_response, middleware.vary)
        if route.__class__ is Unanswered:
            return refuse_unanswered(middleware, environ, start_response, route)
        engine, pattern = route.engine, route.pattern  # type: ignore[union-attr]

    origin: str | None = environ.get("HTTP_ORIGIN")
    if origin is None:
        answer = engine.no_origin
    elif "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ and environ.get("REQUEST_METHOD") == "OPTIONS":
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if requested.__class__ is str and len(requested) > MAX_REQUEST_HEADERS_LENGTH:
            requested = _OVER_CAP
        key = (origin, environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"], requested)
        debug = middleware.debug
        try:
            preflight = None if debug else engine.preflights.get(key)
        except TypeError:  # an unhashable value in a hand-made environ
            preflight = None
        if preflight is None:
            preflight = engine.answer_preflight(environ, origin, debug, key)
        if preflight.refused is None:
            if middleware.on_decision is not None:
                report_allowed(middleware, "preflight", environ, pattern)
        elif (
            middleware.on_refusal is not None or middleware.on_decision is not None
            or debug or _logs_enabled_for(_DEBUG)
        ):
            report_refusal(middleware, "preflight", preflight.refused, environ, pattern)
        start_response(preflight.status, list(preflight.headers))
        return [preflight.body] if preflight.body else []
    else:
        answer = engine.actuals.get(origin) or engine.actual(origin)
        if not answer.refused:
            if middleware.on_decision is not None:
                report_allowed(middleware, "actual", environ, pattern)
        elif (
            middleware.on_refusal is not None or middleware.on_decision is not None
            or middleware.debug or _logs_enabled_for(_DEBUG)
        ):
            report_refusal(middleware, "actual", "origin", environ, pattern)
    if middleware.catch_exceptions:
        return _call_catching(middleware.app, environ, start_response, answer)

    def cors_start_response(
        status: str, headers: list[Header], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is None:
            return start_response(status, add_cors_headers(headers, answer))
        return start_response(status, add_cors_headers(headers, answer), exc_info)

    return middleware.app(environ, cors_start_response)


# -- the start_response shim ---------------------------------------------------------


def _not_pep3333(header: object) -> TypeError:
    return TypeError(
        f"the application passed the response header {escape(header)} to start_response; "
        "PEP 3333 requires a list of (name, value) tuples of native str "
        "(https://peps.python.org/pep-3333/#the-start-response-callable)"
    )


def add_cors_headers(headers: list[Header], answer: ActualAnswer) -> list[Header]:
    """The fresh header list the server gets for the app's ``headers``.

    Fast path: a ``list`` of known, harmless ``(str, str)`` headers
    (``PLAIN_HEADER_NAMES``) gets ``answer.appended``.  Anything else is
    rewritten: the app's ``Access-Control-*`` headers removed, ``Origin``
    merged into ``Vary``, ``answer.cors_headers`` appended.

    :raises TypeError: for a header that is not a ``(str, str)`` pair.
    """
    if headers.__class__ is list:
        try:
            for name, value in headers:
                if name.__class__ is not str or value.__class__ is not str or name not in PLAIN_HEADER_NAMES:
                    break
            else:
                return [*headers, *answer.appended]
        except (TypeError, ValueError):
            pass  # not (name, value) pairs: _rewrite names the culprit
    return _rewrite(headers, answer.cors_headers, answer.vary_origin)


def _rewrite(headers: list[Header], add: tuple[Header, ...], vary_origin: bool) -> list[Header]:
    """A fresh header list: the app's, less its ``Access-Control-*`` headers,
    with ``Origin`` merged into ``Vary`` and ``add`` appended."""
    out: list[Header] = []
    vary_at = -1
    for header in headers:
        try:
            name, value = header
        except (TypeError, ValueError):
            raise _not_pep3333(header) from None
        if name.__class__ is not str or value.__class__ is not str:
            raise _not_pep3333(header)
        first = name[:1]
        if first in "aA" and name[:15].lower() == "access-control-":
            continue
        if first in "vV" and name.lower() == "vary" and vary_origin:
            for token in value.split(","):
                token = token.strip().lower()
                if token == "origin" or token == "*":
                    vary_origin = False  # already varies by Origin, or by everything
                    break
            vary_at = len(out)
        out.append(header)
    if vary_origin:
        if vary_at < 0:
            out.append(("Vary", "Origin"))
        else:
            name, value = out[vary_at]
            out[vary_at] = (name, f"{value}, Origin" if value.strip() else "Origin")
    out.extend(add)
    return out


def _call_catching(
    app: WSGIApplication, environ: WSGIEnvironment, start_response: StartResponse, answer: ActualAnswer
) -> Iterable[bytes]:
    """An actual request under ``catch_exceptions=True``: an exception before
    the response reaches the server becomes a 500 with the CORS headers.

    The status and headers are held back until the app returns its iterable
    (for a lazy app, until its first item), writes, or the 500 replaces them,
    so the server's ``start_response`` is called once: a restart with
    ``exc_info`` never reaches a server that appends the second header list
    to the first (gunicorn) instead of replacing it."""
    pending: list[tuple[str, list[Header]]] = []  # the response the server has not seen yet
    server_write: list[Callable[[bytes], object]] = []  # set once the server has it

    def send() -> None:
        if not server_write and pending:
            server_write.append(start_response(*pending.pop()))

    def write(data: bytes) -> object:
        send()
        return server_write[0](data)

    def cors_start_response(
        status: str, headers: list[Header], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        rewritten = add_cors_headers(headers, answer)
        if server_write:  # already sent: the server re-raises exc_info (PEP 3333)
            if exc_info is None:
                return start_response(status, rewritten)
            return start_response(status, rewritten, exc_info)
        if pending and exc_info is None:
            raise AssertionError("start_response called a second time without exc_info (PEP 3333)")
        pending[:] = [(status, rewritten)]
        return write

    result: Iterable[bytes] | None = None
    try:
        result = app(environ, cors_start_response)
        if pending or server_write:
            send()
            return result
        # A lazy app (a generator) starts its response on the first next().
        iterator = iter(result)
        try:
            first = [next(iterator)]
        except StopIteration:
            first = []
        send()
        return _Prefetched(first, iterator, result)
    except Exception:
        if result is not None:
            # The server never sees this iterable: close it here (PEP 3333),
            # and never let a failing close() hide the first exception.
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    logger.exception("close() of the failed application's iterable raised")
        if server_write:
            raise
        logger.exception(
            "Unhandled exception in the wrapped application: %s %s",
            escape(environ.get("REQUEST_METHOD", "?")), escape(environ.get("PATH_INFO", "")),
        )
        pending.clear()
        start_response(ERROR_STATUS, add_cors_headers(list(_ERROR_HEADERS), answer), sys.exc_info())
        return [_ERROR_BODY]


class _Prefetched:
    """The iterable of a lazy app whose first item was taken to see whether
    it raises: yields that item, then the rest; ``close()`` reaches the app's
    iterable (PEP 3333)."""

    __slots__ = ("_first", "_iterator", "_result")

    def __init__(self, first: list[bytes], iterator: Iterator[bytes], result: Iterable[bytes]) -> None:
        self._first = first
        self._iterator = iterator
        self._result = result

    def __iter__(self) -> Iterator[bytes]:
        yield from self._first
        yield from self._iterator

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


# -- requests no policy answers, and refusal reports ---------------------------------


def refuse_unanswered(
    settings: Settings, environ: WSGIEnvironment, start_response: StartResponse, unanswered: Unanswered
) -> Iterable[bytes]:
    """No policy's answer (a path that routers read differently, a view
    marked ``@no_cross_origin``): a preflight gets ``403``, any other request
    reaches the app and gets no CORS header."""
    kind = _kind(environ)
    report_refusal(settings, kind, unanswered.reason, environ, None)
    if kind == "preflight":
        start_response(PREFLIGHT_FAILURE_STATUS, list(unanswered.headers))
        return [unanswered.body]

    def strip_start_response(
        status: str, headers: list[Header], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is None:
            return start_response(status, _rewrite(headers, (), True))
        return start_response(status, _rewrite(headers, (), True), exc_info)

    return settings.app(environ, strip_start_response)


def _varying(start_response: StartResponse, names: tuple[str, ...]) -> StartResponse:
    """``start_response`` with ``names`` merged into ``Vary`` (the request
    headers a resolver reads to choose the policy)."""

    def varying_start_response(
        status: str, headers: list[Header], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        return start_response(status, merge_vary(headers, names), exc_info)

    return varying_start_response


def merge_vary(headers: list[Header], names: tuple[str, ...]) -> list[Header]:
    """A fresh header list with ``names`` merged into the last ``Vary``
    (or a new one), each name once, case-insensitively; ``Vary: *`` stays."""
    out = list(headers)
    for index in range(len(out) - 1, -1, -1):
        name, value = out[index]
        if name.lower() == "vary":
            have = {token.strip().lower() for token in value.split(",")}
            if "*" in have:
                return out
            missing = [n for n in names if n.lower() not in have]
            if missing:
                out[index] = (name, ", ".join([value.strip(), *missing] if value.strip() else missing))
            return out
    out.append(("Vary", ", ".join(names)))
    return out


def _kind(environ: WSGIEnvironment) -> str:
    """``"preflight"`` for a preflight request, else ``"actual"``."""
    if (
        environ.get("REQUEST_METHOD") == "OPTIONS"
        and "HTTP_ORIGIN" in environ
        and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
    ):
        return "preflight"
    return "actual"


def _reason_code(refused: str, origin: str) -> str:
    """A :data:`~cors_wsgi.refusals.REFUSAL_REASONS` code for what the engine refused."""
    if refused == "origin":
        return "origin-not-allowed" if origin == "null" or is_origin_shaped(origin) else "origin-malformed"
    if refused == "method":
        return "method-not-allowed"
    if refused == "headers":
        return "header-not-allowed"
    return refused


def report_refusal(
    settings: Settings, kind: str | None, refused: str, environ: WSGIEnvironment, pattern: str | None
) -> None:
    """Log a refusal and tell the ``on_refusal`` and ``on_decision`` hooks;
    costs nothing more than this check when neither DEBUG logging nor a hook is on.

    ``kind``: ``"preflight"``, ``"actual"``, or ``None`` (worked out here);
    ``refused``: a reason code, or what the engine refused (``"origin"``,
    ``"method"``, ``"headers"``)."""
    hook = settings.on_refusal
    decided = settings.on_decision
    level = logging.WARNING if settings.debug else logging.DEBUG
    logs = settings.log_refusals and logger.isEnabledFor(level)
    if hook is None and decided is None and not logs:
        return
    if kind is None:
        kind = _kind(environ)
    origin = environ.get("HTTP_ORIGIN")
    reason = _reason_code(refused, origin or "")
    asked = "HTTP_ACCESS_CONTROL_REQUEST_METHOD" if kind == "preflight" else "REQUEST_METHOD"
    method = environ.get(asked, "")
    record = Refusal(kind, reason, None if origin is None else escape(origin), escape(method), pattern)
    if logs:
        logger.log(
            level,
            "CORS refused %s request (%s): origin=%s method=%s path=%s pattern=%s%s",
            kind, reason, record.origin, record.method, escape(environ.get("PATH_INFO", "")),
            escape(pattern),
            " requested-headers=" + escape(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""))
            if reason == "header-not-allowed" else "",
        )
    if hook is not None:
        deliver(hook, record)
    if decided is not None and origin is not None:  # no Origin, no CORS decision
        decision = Decision(kind, "refused", reason, record.origin, record.method, pattern)
        deliver(decided, decision, "on_decision")


def report_allowed(settings: Settings, kind: str, environ: WSGIEnvironment, pattern: str | None) -> None:
    """Tell the ``on_decision`` hook (set: the caller checked) that a request
    with an ``Origin`` was allowed."""
    hook = settings.on_decision
    assert hook is not None
    asked = "HTTP_ACCESS_CONTROL_REQUEST_METHOD" if kind == "preflight" else "REQUEST_METHOD"
    decision = Decision(
        kind, "allowed", None, escape(environ["HTTP_ORIGIN"]), escape(environ.get(asked, "")), pattern,
    )
    deliver(hook, decision, "on_decision")

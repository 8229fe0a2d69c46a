"""``CORSPolicy``: one immutable, validated description of what to allow.

Build it once; everything is checked and every constant header value is
computed in the constructor, which raises :class:`~cors_wsgi.CORSConfigError`
listing **every** problem found::

    from cors_wsgi import CORSPolicy

    policy = CORSPolicy(
        allow_origins=["https://app.example.com", "https://*.example.com"],
        allow_methods=["GET", "POST", "PUT"],
        allow_headers=["Content-Type", "Authorization"],
        expose_headers=["X-Request-Id"],
        allow_credentials=True,
        max_age=600,  # seconds
    )

Rules come from the WHATWG Fetch standard, "CORS protocol"
(https://fetch.spec.whatwg.org/#http-cors-protocol).
"""

from __future__ import annotations

import datetime
import functools
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, NoReturn, ParamSpec

from cors_wsgi._engine import Engine, OriginMatcher, PredicateCache, is_origin_shaped
from cors_wsgi._host import is_loopback_host, registrable_domain, untrusted_reason
from cors_wsgi._log import escape, logger
from cors_wsgi._origins import compile_origins, parse_exact_origin, split_origin
from cors_wsgi._protocol import (
    FORBIDDEN_METHODS,
    FORBIDDEN_REQUEST_HEADER_PREFIXES,
    FORBIDDEN_REQUEST_HEADERS,
    FORBIDDEN_RESPONSE_HEADERS,
    NORMALIZED_METHODS,
    is_token,
)
from cors_wsgi._snapshot import OriginStore, SnapshotHolder
from cors_wsgi.errors import CORSConfigError, Problem

if TYPE_CHECKING:
    from cors_wsgi.explain import Explanation

__all__ = ["FORBIDDEN_METHODS", "FORBIDDEN_REQUEST_HEADERS", "FORBIDDEN_RESPONSE_HEADERS", "MAX_MAX_AGE",
           "CORSPolicy"]

#: The values of ``cross_origin_resource_policy`` (https://fetch.spec.whatwg.org/#cross-origin-resource-policy-header).
RESOURCE_POLICIES = (None, "same-origin", "same-site", "cross-origin")

#: Legacy options already warned about in this process (each warns once).
_LEGACY_WARNED: set[str] = set()

#: Browsers cap ``Access-Control-Max-Age`` (Chromium at 7200, Firefox at 86400).
MAX_MAX_AGE = 86400

_FIELDS = (
    "allow_origins",
    "allow_origin_regex",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "allow_credentials",
    "max_age",
    "allow_private_network",
    "dangerously_tolerate_insecure_origins",
    "dangerously_tolerate_subdomains_of_public_suffixes",
    "allow_origin_predicate",
    "origin_cache_seconds",
    "origin_cache_size",
    "predicate_timeout_seconds",
    "predicate_concurrency",
    "timing_allow_origin",
    "cross_origin_resource_policy",
    "preflight_status",
    "probe_origins",
    "allow_origin_store",
    "store_refresh_seconds",
    "max_staleness_seconds",
)

#: Origins no credentialed predicate may trust, whatever the policy: a
#: reserved-for-nobody host (RFC 2606), public suffixes, an ``http:`` origin.
PREDICATE_PROBES = (
    "https://attacker.invalid",
    "https://github.io",
    "https://co.uk",
    "http://app.example.com",
)
#: Most probe origins derived from the policy's own origins and ``probe_origins``.
MAX_DERIVED_PROBES = 64
#: Bounds of ``origin_cache_seconds`` and ``origin_cache_size``.
MAX_ORIGIN_CACHE_SECONDS = 86400
MAX_ORIGIN_CACHE_SIZE = 1_000_000
#: Bounds of ``predicate_timeout_seconds`` and ``predicate_concurrency``.
MIN_PREDICATE_TIMEOUT = 0.001
MAX_PREDICATE_TIMEOUT = 60.0
MAX_PREDICATE_CONCURRENCY = 64


def _items(value: object, argument: str, problems: list[Problem]) -> tuple[str, ...]:
    """A bare ``str`` is one item; any other iterable of ``str`` is copied."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        problems.append(Problem(
            "invalid-type", argument, value,
            "expected a str or an iterable of str, e.g. ['https://app.example.com'].",
        ))
        return ()
    items = tuple(value)
    bad = [item for item in items if not isinstance(item, str)]
    if bad:
        problems.append(Problem(
            "invalid-type", argument, bad[0], "every item must be a str.",
        ))
    return tuple(item for item in items if isinstance(item, str))


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


_P = ParamSpec("_P")


def _peer_keywords(
    init: Callable[Concatenate[CORSPolicy, _P], None],
) -> Callable[Concatenate[CORSPolicy, _P], None]:
    """``CORSPolicy(origins=..., supports_credentials=True)``, keyword arguments
    of flask-cors, raise :class:`CORSConfigError` with each one's cors_wsgi
    counterpart (``_migration.PEER_KEYS``) and every other problem, instead
    of Python's bare ``TypeError``.  Other unknown keywords stay a ``TypeError``."""

    @functools.wraps(init)
    def checked(self: CORSPolicy, /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        from cors_wsgi import _migration, _settings

        peers = [key for key in kwargs if key not in _FIELDS and _migration.find(key, setting=False)]
        if not peers:
            init(self, *args, **kwargs)
            return
        problems = [
            Problem("unknown-key", key, kwargs.pop(key), _settings.unknown_key_message(key))
            for key in peers
        ]
        try:
            init(self, *args, **kwargs)
        except CORSConfigError as error:
            problems.extend(error.problems)
        raise CORSConfigError(problems)

    return checked


def _flag(value: object, argument: str, problems: list[Problem]) -> bool:
    if not isinstance(value, bool):
        problems.append(Problem(
            "invalid-type", argument, value, "expected True or False.",
        ))
        return False
    return value


def _methods(items: tuple[str, ...], problems: list[Problem]) -> tuple[str, ...]:
    methods: list[str] = []
    for method in items:
        if method == "*":
            methods.append(method)
        elif not is_token(method):
            problems.append(Problem(
                "invalid-method", "allow_methods", method,
                "a method is an HTTP token (letters, digits and !#$%&'*+-.^_`|~), "
                "e.g. 'PUT'.",
            ))
        elif method.upper() in FORBIDDEN_METHODS:
            problems.append(Problem(
                "forbidden-method", "allow_methods", method,
                "browsers never let a script send CONNECT, TRACE or TRACK; remove it.",
            ))
        elif method.upper() in NORMALIZED_METHODS:
            methods.append(method.upper())
        else:
            methods.append(method)
    if "*" in methods:
        return ("*",)
    return _dedupe(methods)


def _request_headers(items: tuple[str, ...], problems: list[Problem]) -> tuple[str, ...]:
    names: list[str] = []
    for name in items:
        lower = name.lower()
        if name == "*":
            names.append(name)
        elif not is_token(name):
            problems.append(Problem(
                "invalid-header-name", "allow_headers", name,
                "a header name is an HTTP token, e.g. 'Content-Type'; pass "
                "several names as a list, not one string with commas.",
            ))
        elif lower in FORBIDDEN_REQUEST_HEADERS or lower.startswith(FORBIDDEN_REQUEST_HEADER_PREFIXES):
            problems.append(Problem(
                "forbidden-header", "allow_headers", name,
                "browsers never let a script set this header, so allowing it does "
                "nothing; remove it (cookies are sent with allow_credentials=True).",
            ))
        else:
            names.append(lower)
    return _dedupe(names)


def _expose_headers(
    items: tuple[str, ...], credentials: bool, problems: list[Problem]
) -> tuple[str, ...]:
    names: list[str] = []
    for name in items:
        lower = name.lower()
        if name == "*":
            if credentials:
                problems.append(Problem(
                    "expose-wildcard-with-credentials", "expose_headers", name,
                    "on credentialed requests browsers read '*' as a header named "
                    "'*', exposing nothing; list the header names.",
                ))
            else:
                names.append(name)
        elif not is_token(name):
            problems.append(Problem(
                "invalid-header-name", "expose_headers", name,
                "a header name is an HTTP token, e.g. 'X-Request-Id'.",
            ))
        elif lower in FORBIDDEN_RESPONSE_HEADERS:
            problems.append(Problem(
                "expose-set-cookie", "expose_headers", name,
                "browsers never let a script read Set-Cookie; remove it.",
            ))
        else:
            names.append(lower)
    return _dedupe(names)


def _max_age(value: object, problems: list[Problem]) -> int | None:
    if value is None:
        return None
    seconds: int
    if isinstance(value, datetime.timedelta):
        if value % datetime.timedelta(seconds=1):
            problems.append(Problem(
                "max-age-not-whole-seconds", "max_age", value,
                "Access-Control-Max-Age is whole seconds; round the timedelta.",
            ))
            return None
        seconds = value // datetime.timedelta(seconds=1)
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        problems.append(Problem(
            "invalid-type", "max_age", value,
            "expected whole seconds as an int (or a datetime.timedelta), or None "
            "to omit Access-Control-Max-Age.",
        ))
        return None
    if not 0 <= seconds <= MAX_MAX_AGE:
        problems.append(Problem(
            "max-age-out-of-range", "max_age", value,
            f"expected 0 to {MAX_MAX_AGE} seconds (browsers cap it: Chromium at "
            "7200, Firefox at 86400); 0 disables preflight caching.",
        ))
        return None
    return seconds


def _bounded_int(value: object, argument: str, low: int, high: int, problems: list[Problem]) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(Problem("invalid-type", argument, value, "expected a whole number (int)."))
        return low
    if not low <= value <= high:
        problems.append(Problem(
            "origin-cache-out-of-range", argument, value, f"expected {low} to {high}.",
        ))
        return low
    return value


def _predicate_timeout(value: object, problems: list[Problem]) -> float:
    """``predicate_timeout_seconds``: a finite number of seconds, as a ``float``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(Problem(
            "invalid-type", "predicate_timeout_seconds", value, "expected a number of seconds, e.g. 1.0.",
        ))
        return 1.0
    if not MIN_PREDICATE_TIMEOUT <= value <= MAX_PREDICATE_TIMEOUT:  # NaN fails too
        problems.append(Problem(
            "predicate-timeout-out-of-range", "predicate_timeout_seconds", value,
            f"expected {MIN_PREDICATE_TIMEOUT} to {MAX_PREDICATE_TIMEOUT:g} seconds: a request waits "
            f"this long at most for allow_origin_predicate, then is refused.",
        ))
        return 1.0
    return float(value)


def _predicate_concurrency(value: object, problems: list[Problem]) -> int:
    """``predicate_concurrency``: predicate calls in flight per worker process."""
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(Problem(
            "invalid-type", "predicate_concurrency", value, "expected a whole number (int).",
        ))
        return 1
    if not 1 <= value <= MAX_PREDICATE_CONCURRENCY:
        problems.append(Problem(
            "predicate-concurrency-out-of-range", "predicate_concurrency", value,
            f"expected 1 to {MAX_PREDICATE_CONCURRENCY} calls in flight per worker process; keep it "
            f"below the server's threads per worker so requests without a predicate call always "
            f"find a thread.",
        ))
        return 1
    return value


#: Bounds of ``store_refresh_seconds`` and ``max_staleness_seconds``.
MIN_STORE_SECONDS = 0.05
MAX_STORE_SECONDS = 86400.0


def _seconds(value: object, argument: str, problems: list[Problem]) -> float:
    """``store_refresh_seconds`` / ``max_staleness_seconds``: a number of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(Problem("invalid-type", argument, value, "expected a number of seconds, e.g. 5."))
        return 5.0
    if not MIN_STORE_SECONDS <= value <= MAX_STORE_SECONDS:  # NaN fails too
        problems.append(Problem(
            "store-seconds-out-of-range", argument, value,
            f"expected {MIN_STORE_SECONDS} to {MAX_STORE_SECONDS:g} seconds.",
        ))
        return 5.0
    return float(value)


def _snapshot(
    store: object, refresh_seconds: float, staleness: float | None, credentials: bool,
    tolerate_insecure: bool, tolerate_suffixes: bool, problems: list[Problem],
) -> SnapshotHolder | None:
    """``allow_origin_store``'s first snapshot, loaded now so that a broken
    store fails at start-up; with credentials, only stored origins that pass
    the rules of ``allow_origins`` are ever trusted (without, only origins
    in serialized form: never ``null``)."""
    if store is None:
        return None
    if not isinstance(store, OriginStore):
        problems.append(Problem(
            "invalid-type", "allow_origin_store", store,
            "expected an object with snapshot() -> (version, frozenset of origins) and version() -> int, "
            "e.g. cors_wsgi.store.SQLiteOriginStore or SQLAlchemyOriginStore.",
        ))
        return None
    if credentials:
        require = getattr(store, "require_credentials", None)
        if callable(require):
            try:
                require()  # the store validates later inserts as credentialed
            except Exception as error:
                problems.append(Problem(
                    "store-failed", "allow_origin_store", store,
                    f"require_credentials() raised {type(error).__name__}: {error}.",
                ))
                return None

    def trusted(origin: str) -> bool:
        return untrusted_reason(
            origin, tolerate_insecure=tolerate_insecure, tolerate_public_suffixes=tolerate_suffixes
        ) is None

    try:
        return SnapshotHolder(
            store, refresh_seconds=refresh_seconds, max_staleness_seconds=staleness,
            trust=trusted if credentials else is_origin_shaped,
        )
    except Exception as error:
        problems.append(Problem(
            "store-failed", "allow_origin_store", store,
            f"the first snapshot() is loaded at construction, and it raised {type(error).__name__}: "
            f"{error}. A policy never serves without a snapshot: fix the store (its database, URL, "
            f"table) before starting.",
        ))
        return None


def _strangers(known: Iterable[str], tolerate_insecure: bool) -> list[str]:
    """Origins no predicate may trust, derived from origins the user trusts
    (``https://app.example.com``, registrable domain ``example.com``), one
    per classic predicate mistake:

    * ``https://attackerexample.com``: a suffix test without a dot
      (``o.endswith("example.com")``, SQL ``LIKE '%' || domain``);
    * ``https://app.example.com.attacker.invalid`` and
      ``https://x.example.com.attacker.invalid``: a prefix or substring test
      (``re.match`` without an end, ``"example.com" in o``, ``startswith``);
    * ``https://app.example.attacker.invalid``: a prefix of the host's labels;
    * ``http://app.example.com``: the scheme not compared (unless
      ``tolerate_insecure``).
    """
    found: list[str] = []
    for origin in known:
        scheme, host, _port = split_origin(origin)
        host = host.removeprefix("*.")
        if is_loopback_host(host) or host.startswith("[") or host.replace(".", "").isdigit():
            continue
        domain = registrable_domain(host)
        if domain is None:
            continue
        found += [
            f"https://attacker{domain}",
            f"https://{host}.attacker.invalid",
            f"https://x.{domain}.attacker.invalid",
        ]
        if "." in host:
            found.append(f"https://{host.rsplit('.', 1)[0]}.attacker.invalid")
        if scheme == "https" and not tolerate_insecure:
            found.append(f"http://{host}")
    return list(dict.fromkeys(found))[:MAX_DERIVED_PROBES]


def _probe_origins(value: object, problems: list[Problem]) -> tuple[str, ...]:
    origins = _dedupe(_items(value, "probe_origins", problems))
    for origin in origins:
        parse_exact_origin(origin, "probe_origins", problems)
    return origins


def _predicate(
    predicate: object, credentials: bool, tolerate_insecure: bool, tolerate_suffixes: bool,
    known: tuple[str, ...], static: Callable[[str], bool] | None, problems: list[Problem],
) -> Callable[[str], bool] | None:
    """Validate ``allow_origin_predicate``; with credentials, probe it with
    origins no one should trust (it must already answer at construction):
    the fixed :data:`PREDICATE_PROBES` and strangers derived from ``known``
    (the policy's own origins and ``probe_origins``)."""
    if predicate is None:
        return None
    if not callable(predicate):
        problems.append(Problem(
            "invalid-type", "allow_origin_predicate", predicate,
            "expected a callable taking a serialized origin (str) and returning a bool.",
        ))
        return None
    if not credentials:
        return predicate
    require = getattr(predicate, "require_credentials", None)
    if callable(require):
        # An origin store validates its inserts with the credential setting
        # of the policy it serves (cors_wsgi.store).
        try:
            refused = require()
        except Exception as error:
            problems.append(Problem(
                "predicate-failed", "allow_origin_predicate", predicate,
                f"the origin store could not be switched to credentialed validation: "
                f"{type(error).__name__}: {error}.",
            ))
            return predicate
        if refused:
            logger.warning(
                "%s holds %s origin(s) a credentialed policy never trusts (refused at request "
                "time), e.g. %s; remove them", escape(repr(predicate)), len(refused), escape(refused[0]),
            )
    probes = [
        probe for probe in (*PREDICATE_PROBES, *_strangers(known, tolerate_insecure))
        if not (probe.startswith("http:") and tolerate_insecure)
        and not (probe in ("https://github.io", "https://co.uk") and tolerate_suffixes)
        and not (static is not None and static(probe))
    ]
    probes.sort(key=lambda probe: probe.startswith("http:"))  # name the https strangers first
    for probe in probes:
        try:
            answer = predicate(probe)
        except Exception as error:
            problems.append(Problem(
                "predicate-failed", "allow_origin_predicate", predicate,
                f"with credentials the predicate is probed at construction, and "
                f"predicate({probe!r}) raised {type(error).__name__}: {error}. It must already "
                "answer (its database reachable) when the policy is built.",
            ))
            break
        if answer is True:
            problems.append(Problem(
                "predicate-trusts-strangers", "allow_origin_predicate", predicate,
                f"with credentials it must not trust origins no one should, but it returned "
                f"True for {probe!r}: a suffix, prefix or substring test, or a predicate that "
                "says yes to everyone, trusts strangers with the user's credentials. Compare "
                "the whole origin with your stored origins exactly (o in allowed), or use an "
                "origin store (cors_wsgi.store).",
            ))
            break
    return predicate


class CORSPolicy:
    """What cross-origin requests to allow, validated and compiled once.

    All arguments are keyword-only.  List arguments take any iterable of
    ``str``; a bare ``str`` is one item (``allow_origins="*"``).  The policy
    copies what it is given: mutating the caller's list later changes nothing.

    :param allow_origins: origins whose scripts may read responses.  Each is
        an exact serialized origin as browsers send it in ``Origin``
        (``"https://app.example.com"``, ``"http://localhost:3000"``,
        ``"chrome-extension://abcdef"``), a subdomain wildcard
        (``"https://*.example.com"``: one or more labels, never
        ``example.com`` itself), an any-port wildcard
        (``"http://localhost:*"``, port optional), or ``"*"`` alone for every
        origin, ``null`` included (never with credentials).  Compared byte for
        byte, as the CORS check does (https://fetch.spec.whatwg.org/#cors-check).
        Default: ``()``.
    :param allow_origin_regex: a regular expression (``str`` or compiled),
        or a list of them, that must match the **whole** origin
        (``re.fullmatch``), e.g. ``r"https://pr-[0-9]+\\.preview\\.example\\.com"``.
        Never matches ``null`` or an origin not in serialized form (at most
        512 characters).  Every regex is proven at construction to match in
        linear time: nested or overlapping repeats such as
        ``([a-z0-9]+-?)+`` are refused (``regex-backtracking``), and so are
        lookarounds and backreferences (``regex-unsupported``).  With
        credentials, every alternative must spell out its scheme (``https``,
        or ``http`` for loopback hosts) and end its host with a literal
        domain that holds the registrable domain, after a literal ``\\.``;
        after the host only a port may vary, and no optional part may change
        the registrable domain (``https://app\\.?example\\.com`` also matches
        ``https://appexample.com``; alternatives that spell whole domains,
        ``https://(app\\.example\\.com|app\\.example\\.org)``, are fine)
        (``regex-too-broad``).  A single
        regex is kept as one compiled pattern, a list as a tuple of them.
        Default: ``None``.
    :param allow_methods: methods a preflight may ask for, e.g.
        ``["PUT", "DELETE"]``; ``"*"`` for any.  GET, HEAD and POST are
        CORS-safelisted and always allowed.  DELETE, GET, HEAD, OPTIONS, POST
        and PUT are upper-cased; other methods are compared case-sensitively,
        as browsers send them (``fetch(url, {method: "patch"})`` asks for
        ``patch``).  Default: ``()``.
    :param allow_headers: request header names a script may set, compared
        case-insensitively, e.g. ``["Content-Type", "Authorization"]``.
        ``"*"`` allows any name except ``Authorization``, which must be listed
        too; with credentials, ``"*"`` echoes the requested names.  A
        CORS-safelisted name such as ``Content-Type`` still needs listing when
        a browser asks for it (a JSON body).  Default: ``()``.
    :param expose_headers: response header names scripts may read beyond the
        safelisted ones, e.g. ``["X-Request-Id"]``; ``"*"`` for all (not with
        credentials).  Default: ``()``.
    :param allow_credentials: send ``Access-Control-Allow-Credentials: true``
        so ``credentials: "include"`` requests (cookies, HTTP auth) work.
        Default: ``False``.
    :param max_age: how long browsers may cache a preflight answer, in whole
        seconds, ``0`` to ``86400``, as an ``int`` or a whole-second
        ``datetime.timedelta``; ``None`` omits ``Access-Control-Max-Age``
        (browsers then use 5 s).  Default: ``None``.
    :param allow_private_network: answer ``Access-Control-Request-Private-Network:
        true`` with ``Access-Control-Allow-Private-Network: true`` (WICG
        Private Network Access; never with ``"*"``).  **Legacy**: only older
        Chromium sends that preflight; Chrome 142+ and Firefox 153+ replaced it
        with Local Network Access, a permission prompt no header answers (see
        :doc:`hosts`).  Kept for those older browsers; the first policy with it
        in a process logs a ``WARNING`` on the ``cors_wsgi`` logger.
        Default: ``False``.
    :param dangerously_tolerate_insecure_origins: accept ``http:`` origins
        other than localhost and loopback addresses with credentials.
        Default: ``False``.
    :param dangerously_tolerate_subdomains_of_public_suffixes: accept
        credentialed wildcards over a public suffix, such as
        ``"https://*.github.io"``.  Default: ``False``.
    :param preflight_status: the status of an allowed preflight, ``204`` or
        ``200``; Fetch's CORS check accepts any ok status (200-299,
        https://fetch.spec.whatwg.org/#cors-preflight-fetch).  ``204 No
        Content`` carries no ``Content-Length`` (RFC 9110 section 8.6);
        ``200`` is sent with ``Content-Length: 0``, so servers that close the
        connection after a response without a length (waitress) keep it
        open.  Refused preflights stay ``403``.  Default: ``204``.
    :param allow_origin_predicate: a callable ``predicate(origin) -> bool``
        asked about a serialized origin (``"https://shop.customer.example"``)
        that the static rules do not allow, its verdicts kept
        ``origin_cache_seconds`` seconds (``0`` to ``86400``, default ``60``)
        for up to ``origin_cache_size`` origins (``1`` to ``1000000``,
        default ``10000``).  An exception or a non-``bool`` answer refuses.
        A request waits for the predicate at most
        ``predicate_timeout_seconds`` (``0.001`` to ``60``, default ``1.0``),
        then is refused (a late answer still fills the cache), and at most
        ``predicate_concurrency`` calls (``1`` to ``64``, default ``2``; keep
        it below your server's threads per worker) run at once per worker
        process: an origin first seen beyond that is refused at once.
        With credentials, an origin reaches the predicate only when it
        passes the rules of ``allow_origins`` (serialized as browsers send
        it; ``https``, or ``http`` for loopback hosts; not a public suffix),
        whatever the predicate would say, and the predicate is probed at
        construction with origins no one should trust (see ``probe_origins``).
        With credentials prefer a list (:mod:`cors_wsgi.store`) to
        hand-written logic.  Default: ``None``.
    :param probe_origins: origins you trust through the predicate, e.g.
        ``["https://shop.customer.example"]``, used with credentials only to
        derive strangers the predicate must refuse: the probe tries, for
        each of these and of ``allow_origins``, a suffix glued to its
        registrable domain (``https://attackerexample.com``), the host followed
        by ``.attacker.invalid``, a prefix of its labels, and its ``http:``
        twin, plus ``https://attacker.invalid`` and two public suffixes.  It
        catches suffix, prefix, substring and ``LIKE`` mistakes and a
        predicate that says yes to everyone; it cannot catch a predicate that
        trusts one specific stranger.  Default: ``()``.
    :param allow_origin_store: an :class:`~cors_wsgi.store.OriginStore`
        (``snapshot()``, ``version()``; e.g. ``SQLiteOriginStore``,
        ``SQLAlchemyOriginStore``): each worker serves an immutable
        snapshot of its origins (a set lookup, no request waits for the
        database), checked in the background at most every
        ``store_refresh_seconds`` (``0.05`` to ``86400``, default ``5``)
        and reloaded when its version changed.  The first snapshot is
        loaded here (``store-failed`` when it cannot be); a failed check
        keeps the last good one, logged with its age, and
        ``max_staleness_seconds`` (default ``None``; more than
        ``store_refresh_seconds``, ``staleness-below-refresh`` otherwise)
        logs an alarm past that age.  With credentials, a stored origin is trusted only when
        it passes the rules of ``allow_origins``.  See :doc:`dynamic`.
    :param timing_allow_origin: also send ``Timing-Allow-Origin`` with the
        allowed origin (Resource Timing).  Default: ``False``.
    :param cross_origin_resource_policy: send ``Cross-Origin-Resource-Policy``
        with this value on every actual (non-preflight) response the policy
        answers, whatever its ``Origin``: ``"same-origin"``, ``"same-site"``
        or ``"cross-origin"`` (the last lets pages with
        ``Cross-Origin-Embedder-Policy: require-corp`` embed the resource in
        ``no-cors`` mode, an ``<img>`` or ``<script>`` without
        ``crossorigin``).  Do not also set it in the application: two values
        make browsers ignore both.  Default: ``None`` (not sent).
    :raises CORSConfigError: with every problem found, each with a stable code.

    A policy is immutable (assigning an attribute raises ``AttributeError``),
    hashable, and equal to another built from the same normalised values.  Use
    :meth:`replace` to derive a changed copy.
    """

    __slots__ = (*_FIELDS, "_engine")

    allow_origins: tuple[str, ...]
    allow_origin_regex: re.Pattern[str] | tuple[re.Pattern[str], ...] | None
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    allow_credentials: bool
    max_age: int | None
    allow_private_network: bool
    dangerously_tolerate_insecure_origins: bool
    dangerously_tolerate_subdomains_of_public_suffixes: bool
    allow_origin_predicate: Callable[[str], bool] | None
    origin_cache_seconds: int
    origin_cache_size: int
    predicate_timeout_seconds: float
    predicate_concurrency: int
    timing_allow_origin: bool
    cross_origin_resource_policy: str | None
    preflight_status: int
    probe_origins: tuple[str, ...]
    allow_origin_store: OriginStore | None
    store_refresh_seconds: float
    max_staleness_seconds: float | None
    _engine: Engine

    @_peer_keywords
    def __init__(
        self,
        *,
        allow_origins: str | Iterable[str] = (),
        allow_origin_regex: str | re.Pattern[str] | Iterable[str | re.Pattern[str]] | None = None,
        allow_methods: str | Iterable[str] = (),
        allow_headers: str | Iterable[str] = (),
        expose_headers: str | Iterable[str] = (),
        allow_credentials: bool = False,
        max_age: int | datetime.timedelta | None = None,
        allow_private_network: bool = False,
        dangerously_tolerate_insecure_origins: bool = False,
        dangerously_tolerate_subdomains_of_public_suffixes: bool = False,
        allow_origin_predicate: Callable[[str], bool] | None = None,
        origin_cache_seconds: int = 60,
        origin_cache_size: int = 10_000,
        predicate_timeout_seconds: float = 1.0,
        predicate_concurrency: int = 2,
        timing_allow_origin: bool = False,
        cross_origin_resource_policy: str | None = None,
        preflight_status: int = 204,
        probe_origins: str | Iterable[str] = (),
        allow_origin_store: OriginStore | None = None,
        store_refresh_seconds: float = 5,
        max_staleness_seconds: float | None = None,
    ) -> None:
        problems: list[Problem] = []
        refresh_seconds = _seconds(store_refresh_seconds, "store_refresh_seconds", problems)
        staleness = (
            None if max_staleness_seconds is None
            else _seconds(max_staleness_seconds, "max_staleness_seconds", problems)
        )
        if staleness is not None and not problems and staleness <= refresh_seconds:
            problems.append(Problem(
                "staleness-below-refresh", "max_staleness_seconds", max_staleness_seconds,
                f"a healthy snapshot is up to store_refresh_seconds={refresh_seconds:g} s old between "
                f"two checks, so this alarm would fire without a fault: use more than "
                f"store_refresh_seconds, e.g. {max(3 * refresh_seconds, 60):g}.",
            ))
        if preflight_status.__class__ is not int or preflight_status not in (200, 204):
            problems.append(Problem(
                "invalid-preflight-status", "preflight_status", preflight_status,
                "expected 204 (the default: no body, no Content-Length) or 200 (sent with "
                "'Content-Length: 0', so servers that close every response without a length, "
                "such as waitress, keep the connection); Fetch accepts any ok status (200-299).",
            ))
        timing = _flag(timing_allow_origin, "timing_allow_origin", problems)
        if cross_origin_resource_policy not in RESOURCE_POLICIES:
            problems.append(Problem(
                "invalid-resource-policy", "cross_origin_resource_policy", cross_origin_resource_policy,
                "expected 'same-origin', 'same-site', 'cross-origin' (lower case, as Fetch compares it) "
                "or None",
            ))
        cache_seconds = _bounded_int(
            origin_cache_seconds, "origin_cache_seconds", 0, MAX_ORIGIN_CACHE_SECONDS, problems
        )
        cache_size = _bounded_int(origin_cache_size, "origin_cache_size", 1, MAX_ORIGIN_CACHE_SIZE, problems)
        predicate_timeout = _predicate_timeout(predicate_timeout_seconds, problems)
        predicate_concurrency = _predicate_concurrency(predicate_concurrency, problems)
        credentials = _flag(allow_credentials, "allow_credentials", problems)
        private_network = _flag(allow_private_network, "allow_private_network", problems)
        tolerate_insecure = _flag(
            dangerously_tolerate_insecure_origins,
            "dangerously_tolerate_insecure_origins", problems,
        )
        tolerate_suffixes = _flag(
            dangerously_tolerate_subdomains_of_public_suffixes,
            "dangerously_tolerate_subdomains_of_public_suffixes", problems,
        )
        origins = _dedupe(_items(allow_origins, "allow_origins", problems))
        probes = _probe_origins(probe_origins, problems)
        compiled = compile_origins(
            origins,
            allow_origin_regex,
            credentials=credentials,
            private_network=private_network,
            tolerate_insecure=tolerate_insecure,
            tolerate_public_suffixes=tolerate_suffixes,
            dynamic=allow_origin_predicate is not None or allow_origin_store is not None,
            problems=problems,
        )
        matcher = OriginMatcher(compiled.patterns, compiled.regexes)
        predicate = _predicate(
            allow_origin_predicate, credentials, tolerate_insecure, tolerate_suffixes,
            (*(o for o in origins if o != "*"), *probes), matcher.matches, problems,
        )
        methods = _methods(_items(allow_methods, "allow_methods", problems), problems)
        headers = _request_headers(_items(allow_headers, "allow_headers", problems), problems)
        expose = _expose_headers(
            _items(expose_headers, "expose_headers", problems), credentials, problems
        )
        seconds = _max_age(max_age, problems)
        snapshot = _snapshot(
            allow_origin_store, refresh_seconds, staleness, credentials, tolerate_insecure, tolerate_suffixes,
            problems,
        )
        if problems:
            raise CORSConfigError(problems)
        if private_network and not _LEGACY_WARNED:
            _LEGACY_WARNED.add("allow_private_network")
            logger.warning(
                "allow_private_network=True answers Private Network Access preflights, which only "
                "older Chromium sends; Chrome 142+ and Firefox 153+ ask the user's permission for "
                "Local Network Access instead, whatever the CORS headers (see docs/hosts.rst)"
            )

        assign = object.__setattr__
        assign(self, "allow_origins", origins)
        assign(self, "allow_origin_regex", compiled.regex)
        assign(self, "allow_methods", methods)
        assign(self, "allow_headers", headers)
        assign(self, "expose_headers", expose)
        assign(self, "allow_credentials", credentials)
        assign(self, "max_age", seconds)
        assign(self, "allow_private_network", private_network)
        assign(self, "dangerously_tolerate_insecure_origins", tolerate_insecure)
        assign(self, "dangerously_tolerate_subdomains_of_public_suffixes", tolerate_suffixes)
        assign(self, "allow_origin_predicate", predicate)
        assign(self, "origin_cache_seconds", cache_seconds)
        assign(self, "origin_cache_size", cache_size)
        assign(self, "predicate_timeout_seconds", predicate_timeout)
        assign(self, "predicate_concurrency", predicate_concurrency)
        assign(self, "timing_allow_origin", timing)
        assign(self, "cross_origin_resource_policy", cross_origin_resource_policy)
        assign(self, "preflight_status", preflight_status)
        assign(self, "probe_origins", probes)
        assign(self, "allow_origin_store", allow_origin_store)
        assign(self, "store_refresh_seconds", refresh_seconds)
        assign(self, "max_staleness_seconds", staleness)
        assign(self, "_engine", Engine(
            allow_all=compiled.allow_all,
            matcher=matcher,
            methods=methods,
            headers=headers,
            expose=expose,
            credentials=credentials,
            max_age=seconds,
            private_network=private_network,
            predicate=None if predicate is None else PredicateCache(
                predicate, seconds=cache_seconds, size=cache_size,
                timeout=predicate_timeout, concurrency=predicate_concurrency,
            ),
            timing_allow_origin=timing,
            resource_policy=cross_origin_resource_policy,
            preflight_status=preflight_status,
            tolerate_insecure=tolerate_insecure,
            tolerate_public_suffixes=tolerate_suffixes,
            snapshot=snapshot,
        ))

    @classmethod
    def from_settings(cls, settings: object, prefix: str = "CORS_") -> CORSPolicy:
        """Build a policy from ``prefix``-ed settings, one key per argument.

        ``settings`` is any mapping (Flask ``app.config``, ``os.environ``, a
        dict) or an object with attributes (Django ``django.conf.settings``).
        ``CORS_ALLOW_ORIGINS`` becomes ``allow_origins``, and so on.  A value
        may be a Python value (``["https://app.example.com"]``, ``600``,
        ``True``) or a string, then converted exactly like the ini keys
        (lists split on commas, spaces and newlines; strict booleans and
        integers).  ``CORS_DEBUG``, ``CORS_PATHS`` and
        ``CORS_CATCH_EXCEPTIONS`` belong to :meth:`CORSMiddleware.from_settings`
        and are ignored here.  The result equals (``==``) the policy the
        constructor builds from the same values.

        :raises CORSConfigError: with every problem, unknown ``CORS_*`` keys
            (typos) included, each naming the settings key.
        """
        from cors_wsgi import _settings

        def key_name(argument: str) -> str:
            return prefix + argument.upper()

        problems: list[Problem] = []
        kwargs, _ = _settings.convert(_settings.prefixed(settings, prefix), problems, key_name=key_name)
        try:
            policy = cls(**kwargs)  # type: ignore[arg-type]
        except CORSConfigError as error:
            problems.extend(_settings.rename(error.problems, key_name))
        if problems:
            raise CORSConfigError(problems)
        return policy

    # -- queries ---------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The compiled form that answers requests (``cors_wsgi._engine.Engine``;
        internal: its interface may change in any release)."""
        return self._engine

    @property
    def allows_all_origins(self) -> bool:
        """True for ``allow_origins="*"``: every response gets ``Access-Control-Allow-Origin: *``."""
        return self._engine.allow_all

    def allows_origin(self, origin: str) -> bool:
        """True when a request with ``Origin: <origin>`` would be allowed,
        e.g. ``policy.allows_origin("https://app.example.com")``."""
        return self._engine.allows_origin(origin)

    def explain(
        self,
        origin: str,
        method: str = "GET",
        headers: Mapping[str, str] | Iterable[tuple[str, str] | str] = (),
        credentials: bool = False,
        path: str | None = None,
        read_headers: Iterable[str] = (),
    ) -> Explanation:
        """Would a browser on ``origin`` get the response under this policy,
        and which rule decided?  Same as :meth:`CORSMiddleware.explain
        <cors_wsgi.CORSMiddleware.explain>` for a middleware with this one
        policy; no server needed::

            >>> policy = CORSPolicy(allow_origins="https://*.example.com")
            >>> print(policy.explain("https://app.example.com").rule)
            origin allowed by allow_origins entry 'https://*.example.com'
        """
        from cors_wsgi.explain import explain_policy

        return explain_policy(self, origin, method, headers, credentials, path, read_headers)

    @property
    def snapshot_age(self) -> float | None:
        """Seconds since ``allow_origin_store`` last confirmed the snapshot
        in force in this process (``None`` without a store): for metrics."""
        snapshot = self._engine.snapshot
        return None if snapshot is None else snapshot.age

    @property
    def refresh_errors(self) -> int:
        """Failed checks of ``allow_origin_store`` in this process: for metrics."""
        snapshot = self._engine.snapshot
        return 0 if snapshot is None else snapshot.refresh_errors

    def as_dict(self) -> dict[str, Any]:
        """The normalised arguments, such that ``CORSPolicy(**p.as_dict()) == p``."""
        return {name: getattr(self, name) for name in _FIELDS}

    def replace(self, **changes: Any) -> CORSPolicy:
        """A new policy with ``changes`` applied, validated like the constructor."""
        return CORSPolicy(**{**self.as_dict(), **changes})

    # -- value semantics ---------------------------------------------------

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CORSPolicy):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        args = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in _FIELDS
            if getattr(self, name) != _DEFAULTS[name]
        )
        return f"CORSPolicy({args})"

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(
            f"CORSPolicy is immutable; use policy.replace({name}=...) for a changed copy"
        )

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("CORSPolicy is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.as_dict(),))


def _rebuild(arguments: dict[str, Any]) -> CORSPolicy:
    return CORSPolicy(**arguments)


#: The constructor's defaults, read from its signature (one source of truth).
_DEFAULTS: dict[str, object] = {
    name: parameter.default
    for name, parameter in inspect.signature(CORSPolicy.__init__).parameters.items()
    if name != "self"
}

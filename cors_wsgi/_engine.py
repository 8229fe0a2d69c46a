"""The compiled form of a policy: precomputed answers, looked up per request.

Nothing here validates configuration (``policy.py`` does that once) and
nothing here raises for a request: a malformed or hostile request header is
just not allowed.  Every header value that is sent was either computed at
construction or is a request value that was checked first (an origin that
matched the policy, a method or header names that passed the token check).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cors_wsgi._origins import MAX_ORIGIN_LENGTH, OriginMatcher, is_origin_shaped, untrusted_reason
from cors_wsgi._predicate import PredicateCache

__all__ = [
    "PREFLIGHT_FAILURE_STATUS",
    "PREFLIGHT_SUCCESS_STATUS",
    "Engine",
    "Header",
]

Header = tuple[str, str]

#: What an actual response gets for one origin, looked up per request:
#: ``(tail, add, vary_origin, refused)``.  ``tail`` is the list appended when
#: the application sets no ``Vary`` and no ``Access-Control-*`` header (the
#: common case); ``add`` and ``vary_origin`` are what ``_rewrite`` needs
#: otherwise; ``refused`` is true for an origin the policy does not allow.
Actual = tuple[list[Header], tuple[Header, ...], bool, bool]
#: A preflight cache key: ``(origin, method, requested headers, or None, or OVER_CAP)``.
PreflightKey = tuple[str, str, object]
#: A preflight answer: ``(status, headers, body, refused)`` (see ``Engine.preflight``).
Answer = tuple[str, tuple[Header, ...], bytes, "str | None"]

#: Status of an accepted preflight: no body, so no content headers either.
PREFLIGHT_SUCCESS_STATUS = "204 No Content"
#: The status lines ``preflight_status`` may choose (Fetch: any ok status, 200-299).
PREFLIGHT_STATUS_LINES = {204: PREFLIGHT_SUCCESS_STATUS, 200: "200 OK"}
#: Status of a refused preflight (origin, method or a header not allowed).
PREFLIGHT_FAILURE_STATUS = "403 Forbidden"

#: CORS-safelisted methods never need listing (https://fetch.spec.whatwg.org/#cors-safelisted-method).
SAFELISTED_METHODS = ("GET", "HEAD", "POST")

#: Most request header names one preflight may ask for; more is refused
#: (browsers send one name per non-safelisted header the script set).
MAX_REQUESTED_HEADERS = 64
#: Longest ``Access-Control-Request-Headers`` value that is parsed at all;
#: longer is refused on its length alone, in O(1).  A browser sends one
#: lower-case name per non-safelisted header the script set, joined by
#: commas: 64 names of 63 characters fit in 4 KiB.
MAX_REQUEST_HEADERS_LENGTH = 4 * 1024

#: The preflight cache key's stand-in for a header list over the cap: not a
#: ``str``, so no header value can equal it.
OVER_CAP = object()

#: Most answers each per-origin cache of an engine remembers; a full cache is
#: emptied, so hostile, ever-changing requests cost memory only up to this.
ANSWER_CACHE_SIZE = 1024
#: Longest ``Access-Control-Request-Headers`` whose preflight answer is
#: remembered; longer lists (up to ``MAX_REQUEST_HEADERS_LENGTH``) are parsed
#: every time, so one cache holds at most about 1.5 MiB of keys.
MAX_CACHED_REQUEST_HEADERS_LENGTH = 1024

#: RFC 9110 tchar, for the header names and methods that are echoed.
TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

#: A header list whose characters are all in here holds only token names.
_TOKENS_AND_SPACES = TOKEN_CHARS | {" ", "\t"}

_PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
_PNA_VARY = _PREFLIGHT_VARY + ", Access-Control-Request-Private-Network"

_REASONS = {
    "origin": b"CORS preflight refused: origin not allowed\n",
    "method": b"CORS preflight refused: method not allowed\n",
    "headers": b"CORS preflight refused: request header not allowed\n",
}
_FAILURE_HEADERS: dict[str, tuple[Header, ...]] = {
    reason: (("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))))
    for reason, body in _REASONS.items()
}


def _remember(cache: dict[Any, Any], key: object, value: object) -> None:
    """``cache[key] = value``, emptying ``cache`` first when it holds ``ANSWER_CACHE_SIZE``."""
    if len(cache) >= ANSWER_CACHE_SIZE:
        cache.clear()
    cache[key] = value


def is_token(value: str) -> bool:
    """True when ``value`` is a non-empty RFC 9110 token."""
    return bool(value) and TOKEN_CHARS.issuperset(value)


def _join(items: Iterable[str]) -> str:
    return ", ".join(items)


class Engine:
    """Precomputed answers for one policy.  Built by ``CORSPolicy`` only."""

    __slots__ = (
        "_acah",
        "_acam",
        "_any_header",
        "_any_method",
        "_authorization_listed",
        "_credentials",
        "_debug_lists",
        "_header_names",
        "_matched_tail",
        "_ok_headers",
        "_ok_status",
        "_origin_matches",
        "_preflight_tail",
        "_private_network",
        "_refused_entry",
        "_star",
        "_timing",
        "_tolerate",
        "_vary",
        "actuals",
        "allow_all",
        "debug_preflights",
        "matcher",
        "no_origin",
        "predicate",
        "preflights",
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
        preflight_status: int = 204,
        tolerate_insecure: bool = False,
        tolerate_public_suffixes: bool = False,
    ) -> None:
        self.allow_all = allow_all
        #: Responses vary by ``Origin`` unless every origin gets ``*``.
        self.vary_origin = not allow_all
        self.matcher = matcher
        self.predicate = predicate
        self._tolerate = (tolerate_insecure, tolerate_public_suffixes)
        if predicate is None:
            self._origin_matches = matcher.matches
        elif credentials:
            static = matcher.matches

            def origin_matches(origin: str) -> bool:
                # With credentials, an origin the static rules did not allow
                # reaches the predicate only when it passes the rules of
                # allow_origins (one trust rule for every source of origins).
                return static(origin) or (
                    origin.__class__ is str
                    and untrusted_reason(
                        origin, tolerate_insecure=tolerate_insecure,
                        tolerate_public_suffixes=tolerate_public_suffixes,
                    ) is None
                    and predicate(origin)
                )

            self._origin_matches = origin_matches
        else:
            static = matcher.matches

            def origin_matches(origin: str) -> bool:
                # The predicate only sees serialized origins the static rules did not allow.
                return static(origin) or (is_origin_shaped(origin) and predicate(origin))

            self._origin_matches = origin_matches
        self._timing = timing_allow_origin
        self._credentials = credentials
        self._private_network = private_network

        # Actual responses: what follows Access-Control-Allow-Origin.
        tail: list[Header] = []
        if credentials:
            tail.append(("Access-Control-Allow-Credentials", "true"))
        if expose:
            tail.append(("Access-Control-Expose-Headers", _join(expose)))
        self._matched_tail = tuple(tail)
        self._star = (("Access-Control-Allow-Origin", "*"), *tail)
        if timing_allow_origin:
            # Resource Timing: a second Timing-Allow-Origin line is merged
            # with the app's own as one list (RFC 9110 section 5.3).
            self._star = (*self._star, ("Timing-Allow-Origin", "*"))

        # Methods: one dict lookup gives both "allowed?" and the header value.
        # The configured list is sent whole, so one cached preflight covers
        # every allowed method; a safelisted method not listed is appended.
        self._any_method = "*" in methods
        listed = _join(methods)
        self._acam: dict[str, str] = dict.fromkeys(methods, listed)
        for m in SAFELISTED_METHODS:
            self._acam.setdefault(m, f"{listed}, {m}" if listed else m)

        # Request headers: lower-case names, compared case-insensitively.
        self._any_header = "*" in headers
        self._header_names = frozenset(h for h in headers if h != "*")
        self._authorization_listed = "authorization" in self._header_names
        if self._any_header:
            self._acah: str | None = "*, authorization" if self._authorization_listed else "*"
        else:
            self._acah = _join(headers) or None

        preflight_tail: list[Header] = []
        if credentials:
            preflight_tail.append(("Access-Control-Allow-Credentials", "true"))
        if max_age is not None:
            preflight_tail.append(("Access-Control-Max-Age", str(max_age)))
        self._preflight_tail = tuple(preflight_tail)
        self._vary = ("Vary", _PNA_VARY if private_network else _PREFLIGHT_VARY)

        debug: list[Header] = [("Access-Control-Allow-Methods", listed or _join(SAFELISTED_METHODS))]
        if headers:
            debug.append(("Access-Control-Allow-Headers", _join(headers)))
        self._debug_lists = tuple(debug)

        # An allowed preflight: 204 (no body, so no Content-Length, RFC 9110
        # section 8.6), or 200 with ``Content-Length: 0`` for servers that
        # close every connection whose response has no length (waitress).
        self._ok_status = PREFLIGHT_STATUS_LINES[preflight_status]
        self._ok_headers: tuple[Header, ...] = (("Content-Length", "0"),) if preflight_status == 200 else ()

        # Per-request answers, each cache bounded by ANSWER_CACHE_SIZE.  An
        # origin the predicate decides is never cached here: the predicate's
        # own cache expires its verdicts (origin_cache_seconds).
        self.no_origin: Actual = self._entry(self.response_headers(None), refused=False)
        self._refused_entry: Actual = self._entry((), refused=True)
        self.actuals: dict[str, Actual] = {}
        self.preflights: dict[PreflightKey, Answer] = {}
        self.debug_preflights: dict[PreflightKey, Answer] = {}

    def _entry(self, add: tuple[Header, ...], refused: bool) -> Actual:
        tail = [("Vary", "Origin"), *add] if self.vary_origin else list(add)
        return tail, add, self.vary_origin, refused

    def _cacheable(self, origin: str, static: bool | None = None) -> bool:
        """True when a verdict on ``origin`` may be kept as long as this engine
        lives: the origin is short, and the static rules decided it (a
        predicate's verdict is kept only by the predicate's own cache, which
        expires it).  ``static``: the static verdict, when already known."""
        if origin.__class__ is not str or len(origin) > MAX_ORIGIN_LENGTH:
            return False
        if self.predicate is None or self.allow_all:
            return True
        return self.matcher.matches(origin) if static is None else static

    def actual(self, origin: str) -> Actual:
        """What an actual response to ``origin`` gets, computed and remembered
        (the caller looked in ``actuals`` first).  A first-seen origin costs
        one static match (not memoized: this cache remembers it) and, only
        when the static rules say no, the predicate."""
        if self.allow_all:
            return self.no_origin
        static = origin.__class__ is str and self.matcher.matches_unmemoized(origin)
        if static or (self.predicate is not None and self._origin_matches(origin)):
            entry = self._entry(self._allowed(origin), refused=False)
        else:
            entry = self._refused_entry
        if self._cacheable(origin, static):
            _remember(self.actuals, origin, entry)
        return entry

    def answer_preflight(
        self, environ: dict[str, object], origin: str, debug: bool, key: PreflightKey
    ) -> Answer:
        """``preflight()``'s answer as a tuple, remembered under ``key``
        (``(origin, method, requested headers)``, the caller looked first) when
        it depends on nothing else and its key is short."""
        status, headers, body, refused = self.preflight(environ, origin, debug)
        answer: Answer = (status, tuple(headers), body, refused)
        method, requested = key[1], key[2]
        if (
            not self._private_network
            and method.__class__ is str
            and len(method) <= 64
            and (requested is None or requested is OVER_CAP or (
                requested.__class__ is str and len(requested) <= MAX_CACHED_REQUEST_HEADERS_LENGTH
            ))
            and self._cacheable(origin)
        ):
            _remember(self.debug_preflights if debug else self.preflights, key, answer)
        return answer

    def debug_methods(self) -> str:
        """The allowed methods as ``Access-Control-Allow-Methods`` lists them in debug mode."""
        return self._debug_lists[0][1]

    def debug_headers(self) -> str:
        """The allowed request headers, comma-separated (``""`` for none)."""
        return next((v for n, v in self._debug_lists if n == "Access-Control-Allow-Headers"), "")

    # -- actual requests ---------------------------------------------------

    def response_headers(self, origin: str | None) -> tuple[Header, ...]:
        """CORS headers for an actual (non-preflight) response."""
        if self.allow_all:
            return self._star
        if origin is not None and self._origin_matches(origin):
            return self._allowed(origin)
        return ()

    def _allowed(self, origin: str) -> tuple[Header, ...]:
        """What an allowed origin's actual response gets (not under ``*``)."""
        add = (("Access-Control-Allow-Origin", origin), *self._matched_tail)
        return (*add, ("Timing-Allow-Origin", origin)) if self._timing else add

    def allows_origin(self, origin: str) -> bool:
        return self.allow_all or self._origin_matches(origin)

    def dynamic_refusal(self, origin: str) -> str | None:
        """Why the predicate is never asked about ``origin`` (a credentialed
        policy's trust rule, see ``untrusted_reason``), or ``None``."""
        if self.predicate is None or not self._credentials:
            return None
        return untrusted_reason(
            origin, tolerate_insecure=self._tolerate[0], tolerate_public_suffixes=self._tolerate[1]
        )

    # -- preflight requests ------------------------------------------------

    def preflight(
        self, environ: dict[str, object], origin: str, debug: bool
    ) -> tuple[str, list[Header], bytes, str | None]:
        """Answer a preflight request (https://fetch.spec.whatwg.org/#cors-preflight-fetch).

        Returns ``(status, headers, body, refused)``; ``headers`` is a fresh
        list; ``refused`` is ``None``, or what was not allowed: ``"origin"``,
        ``"method"`` or ``"headers"`` (also in debug mode, where an allowed
        origin's refusal is answered 204 with the full lists).
        """
        if self.allow_all:
            acao = "*"
        elif self._origin_matches(origin):
            acao = origin
        else:
            return self._refuse("origin", origin, debug)

        method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        method = method if isinstance(method, str) else ""
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if self._any_method:
            if not self._credentials:
                acam = "*"
            elif is_token(method) and method.upper() not in ("CONNECT", "TRACE", "TRACK"):
                acam = method
            else:
                return self._refuse("method", origin, debug, acao, requested)
        else:
            found = self._acam.get(method)
            if found is None:
                return self._refuse("method", origin, debug, acao, requested)
            acam = found

        acah = self._acah
        if isinstance(requested, str) and requested:
            names = self._requested_names(requested)
            if names is None:
                return self._refuse("headers", origin, debug, acao, requested)
            if self._any_header and self._credentials:
                acah = ",".join(names) or None
            elif self._any_header:
                if "authorization" in names and not self._authorization_listed:
                    return self._refuse("headers", origin, debug, acao, requested)
            elif not self._header_names.issuperset(names):
                return self._refuse("headers", origin, debug, acao, requested)

        headers: list[Header] = [("Access-Control-Allow-Origin", acao)]
        headers.extend(self._preflight_tail)
        headers.append(("Access-Control-Allow-Methods", acam))
        if acah is not None:
            headers.append(("Access-Control-Allow-Headers", acah))
        if (
            self._private_network
            and environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true"
        ):
            headers.append(("Access-Control-Allow-Private-Network", "true"))
        headers.append(self._vary)
        headers.extend(self._ok_headers)
        return self._ok_status, headers, b"", None

    def _debug_header_names(self, requested: object) -> str:
        """``Access-Control-Allow-Headers`` of a debug answer under
        ``allow_headers="*"``: the requested names the policy allows, never
        ``*`` (Chromium still lets ``*`` cover ``Authorization``, which Fetch
        forbids, so a debug ``*`` would widen what a browser allows)."""
        if not isinstance(requested, str) or len(requested) > MAX_REQUEST_HEADERS_LENGTH:
            return ""
        allowed = [
            name for name in requested.lower().replace(",", " ").split(None, MAX_REQUESTED_HEADERS)
            [:MAX_REQUESTED_HEADERS]
            if is_token(name) and (name != "authorization" or self._authorization_listed)
        ]
        return ",".join(dict.fromkeys(allowed))

    def _requested_names(self, value: str) -> list[str] | None:
        """Parse ``Access-Control-Request-Headers`` leniently (any case,
        spaces, empty items, several lines joined by ``,``) with bounded work.

        Returns lower-case names, or ``None`` when the value is too long, names
        too many headers, or (when names will be echoed) holds a non-token.
        """
        if len(value) > MAX_REQUEST_HEADERS_LENGTH:
            return None
        # One pass of C string methods over the whole value, then per name
        # only what must be: lower() maps characters independently of the
        # separators, so lowering first gives the same names.
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

    def _refuse(
        self, reason: str, origin: str, debug: bool, acao: str | None = None,
        requested: object = None,
    ) -> tuple[str, list[Header], bytes, str | None]:
        if debug and acao is not None:
            # Debug mode: let the browser console name the real cause, with
            # lists that never allow more than the policy does.
            headers: list[Header] = [("Access-Control-Allow-Origin", acao)]
            if self._credentials:
                headers.append(("Access-Control-Allow-Credentials", "true"))
            headers.append(self._debug_lists[0])
            if self._any_header:
                names = self._debug_header_names(requested)
                if names:
                    headers.append(("Access-Control-Allow-Headers", names))
            else:
                headers.extend(self._debug_lists[1:])
            headers.append(self._vary)
            headers.extend(self._ok_headers)
            return self._ok_status, headers, b"", reason
        return (
            PREFLIGHT_FAILURE_STATUS, [*_FAILURE_HEADERS[reason], self._vary], _REASONS[reason], reason,
        )

"""The browser's side of the CORS protocol, as the Fetch standard writes it.

This module is the mirror of the middleware: plain functions over a
description of what a script asked for (:class:`Request`) and the response
headers a server sent (``(name, value)`` pairs, repeated lines kept), each
citing the section of https://fetch.spec.whatwg.org/ it implements.  It does
no I/O; :mod:`cors_wsgi.testing` and the ``cors-wsgi`` command are thin
users of it::

    from cors_wsgi.fetch import Request, Response, evaluate, needs_preflight

    request = Request(origin="https://app.example.com", method="PUT",
                      headers=[("X-Token", "t")], credentials="include")
    needs_preflight(request)          # True: PUT and X-Token are not safelisted
    verdict = evaluate(
        request,
        Response(200, [("Access-Control-Allow-Origin", "https://app.example.com")]),
        preflight=Response(204, [
            ("Access-Control-Allow-Origin", "https://app.example.com"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Methods", "PUT"),
        ]),
    )
    verdict.allowed                   # False
    verdict.step                      # "preflight-headers"
    verdict.reason                    # "`x-token` is not in Access-Control-Allow-Headers ..."

A :class:`Verdict` names the step that failed with a stable code (the table
below), a reason and a fix in plain words, and notes (for example where
shipping browsers still differ from the standard).

=============================  =============================================================
Step                           Fails when
=============================  =============================================================
``request``                    the browser would not send the request at all (``fetch()``
                               rejects a forbidden method or a malformed header)
``preflight-cors-check``       the preflight response has no, several or the wrong
                               ``Access-Control-Allow-Origin``, ``*`` with credentials, or
                               ``Access-Control-Allow-Credentials`` is not ``true``
``preflight-status``           the preflight response's status is not 200-299
``preflight-parse``            ``Access-Control-Allow-Methods`` or ``-Headers`` is not a
                               comma-separated list of tokens
``preflight-method``           the method is not in ``Access-Control-Allow-Methods``
``preflight-authorization``    ``Authorization`` is sent but not listed by name in
                               ``Access-Control-Allow-Headers`` (``*`` never covers it)
``preflight-headers``          a non-safelisted request header is not in
                               ``Access-Control-Allow-Headers``
``cors-check``                 the actual response fails the CORS check (same causes as
                               ``preflight-cors-check``)
=============================  =============================================================

Step codes are API: stable across releases, safe to match on in tests.

:func:`evaluate` is made of building blocks that are public too, for a test
or tool that models one step of a browser (each cites its Fetch section):

* the request: :func:`needs_preflight`, :func:`request_problem`,
  :func:`is_safelisted_method`, :func:`is_forbidden_method`,
  :func:`normalize_method`, :func:`is_safelisted_request_header`,
  :func:`is_forbidden_request_header`, :func:`unsafe_request_header_names`,
  and the headers a browser sends: :func:`preflight_request_headers`,
  :func:`access_control_request_headers`, :func:`actual_request_headers`;
* the response: :func:`cors_check`, :func:`preflight_check`,
  :func:`get_header` and :func:`parse_list` (header values as Fetch reads
  them), :func:`exposed_header_names` and :func:`readable_headers` (what a
  script sees in ``response.headers``);
* the CORS-preflight cache across requests: :func:`max_age` (with
  :data:`DEFAULT_MAX_AGE` and a cap from :data:`BROWSER_MAX_AGE_CAPS`),
  :func:`preflight_cache_entries` (what a preflight stores, as
  :class:`CacheEntry` records) and :func:`preflight_cache_covers` (whether
  they spare a later request its preflight);
* Local Network Access: :func:`address_space` (``AddressSpace``: loopback,
  local, public) and :func:`local_network_note` (what Chrome 142+ and
  Firefox 153+ ask the user before a public page reaches a private server);
* the vocabulary: :class:`Request`, :class:`Response`, :class:`Verdict`,
  ``Credentials`` (a credentials mode), :data:`STEPS` and
  :data:`DIVERGENCES` (where shipping browsers differ from the standard).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from cors_wsgi._host import HostError, is_loopback_host, serialize_origin, split_authority
from cors_wsgi._log import printable
from cors_wsgi._origins import parse_exact_origin
from cors_wsgi._protocol import (
    FORBIDDEN_RESPONSE_HEADERS,
    HTTP_WHITESPACE,
    SAFELISTED_METHODS,
    SAFELISTED_RESPONSE_HEADERS,
    SAFELISTED_TOTAL_LIMIT,
    is_forbidden_method,
    is_forbidden_request_header,
    is_safelisted_request_header,
    is_token,
    normalize_method,
)
from cors_wsgi.errors import Problem

__all__ = [
    "BROWSER_MAX_AGE_CAPS",
    "DEFAULT_MAX_AGE",
    "DIVERGENCES",
    "STEPS",
    "AddressSpace",
    "CacheEntry",
    "Credentials",
    "Request",
    "Response",
    "Verdict",
    "access_control_request_headers",
    "actual_request_headers",
    "address_space",
    "cors_check",
    "evaluate",
    "exposed_header_names",
    "get_header",
    "is_forbidden_method",
    "is_forbidden_request_header",
    "is_safelisted_method",
    "is_safelisted_request_header",
    "local_network_note",
    "max_age",
    "needs_preflight",
    "normalize_method",
    "parse_list",
    "preflight_cache_covers",
    "preflight_cache_entries",
    "preflight_check",
    "preflight_request_headers",
    "readable_headers",
    "request_problem",
    "unsafe_request_header_names",
]

Header = tuple[str, str]
Credentials = Literal["omit", "same-origin", "include"]
#: A Local Network Access address space (https://wicg.github.io/local-network-access/).
AddressSpace = Literal["public", "local", "loopback"]

#: Every step code a :class:`Verdict` can name, with what it means.  API.
STEPS: dict[str, str] = {
    "request": "the browser would not send this request (fetch() rejects it)",
    "preflight-cors-check": "the preflight response fails the CORS check",
    "preflight-status": "the preflight response's status is not 200-299",
    "preflight-parse": "Access-Control-Allow-Methods or -Headers does not parse as a list",
    "preflight-method": "the method is not allowed by Access-Control-Allow-Methods",
    "preflight-authorization": "Authorization is not listed by name in Access-Control-Allow-Headers",
    "preflight-headers": "a request header is not allowed by Access-Control-Allow-Headers",
    "cors-check": "the actual response fails the CORS check",
}

#: Known places where shipping browsers still decide differently from the
#: standard, by name.  A verdict's ``divergence`` is one of these keys.
DIVERGENCES: dict[str, str] = {
    "authorization-covered-by-wildcard": (
        "Chromium (156) and Firefox still let `Access-Control-Allow-Headers: *` cover "
        "`Authorization`, with a deprecation warning in DevTools "
        "(AuthorizationCoveredByWildcard); they will stop, as the standard says."
    ),
}

#: ``Access-Control-Max-Age`` when it is missing or invalid, in seconds
#: (https://fetch.spec.whatwg.org/#http-access-control-max-age).
DEFAULT_MAX_AGE = 5
#: The "imposed limit" on max-age, in seconds, by browser engine
#: (https://fetch.spec.whatwg.org/#cors-preflight-fetch-0 lets browsers cap it).
BROWSER_MAX_AGE_CAPS: Mapping[str, int] = {"chromium": 7200, "firefox": 86400}



def _show(value: str, limit: int = 120) -> str:
    """A server or request value between backticks, escaped (``_log.printable``)."""
    return "`" + printable(value, limit, quote="`") + "`"


# -- the request ------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What a script asked ``fetch()`` for, from a page on ``origin``.

    :param origin: the page's serialized origin, as the browser sends it in
        ``Origin``: ``"https://app.example.com"``, ``"http://localhost:8080"``
        or ``"null"``.
    :param method: the method given to ``fetch()``; DELETE, GET, HEAD,
        OPTIONS, POST and PUT are upper-cased as browsers do
        (https://fetch.spec.whatwg.org/#concept-method-normalize), any other
        is kept as is (``"patch"`` stays ``"patch"``).  Default ``"GET"``.
    :param headers: the headers the script set, ``(name, value)`` pairs in
        order (forbidden ones are dropped by the browser, as here).
    :param credentials: the credentials mode, ``"omit"``, ``"same-origin"``
        (the default, as in ``fetch()``) or ``"include"``; ``True`` means
        ``"include"``, ``False`` means ``"same-origin"``.
    :param url: the requested URL, ``"https://api.example.com/items"``;
        optional, used for the preflight cache key and to tell a same-origin
        request (to which CORS does not apply) apart.
    """

    origin: str
    method: str = "GET"
    headers: Sequence[Header] = ()
    credentials: Credentials | bool = "same-origin"
    url: str | None = None

    def __post_init__(self) -> None:
        mode = self.credentials
        if mode is True:
            mode = "include"
        elif mode is False:
            mode = "same-origin"
        if mode not in ("omit", "same-origin", "include"):
            raise ValueError(f"credentials must be 'omit', 'same-origin', 'include' or a bool, not {mode!r}")
        object.__setattr__(self, "credentials", mode)
        object.__setattr__(self, "method", normalize_method(self.method))
        object.__setattr__(self, "headers", tuple((str(n), str(v)) for n, v in self.headers))

    @property
    def include_credentials(self) -> bool:
        """True when the credentials mode is ``"include"``."""
        return self.credentials == "include"

    @property
    def sent_headers(self) -> tuple[Header, ...]:
        """The script's headers the browser keeps: values normalized, forbidden
        request-headers dropped (https://fetch.spec.whatwg.org/#concept-headers-append)."""
        kept = []
        for name, value in self.headers:
            value = value.strip(HTTP_WHITESPACE)
            if not is_forbidden_request_header(name, value):
                kept.append((name, value))
        return tuple(kept)

    def is_same_origin(self) -> bool:
        """True when ``url`` is on ``origin`` itself: no CORS check applies."""
        if self.url is None:
            return False
        return _origin_of(self.url) == self.origin


def _origin_of(url: str) -> str | None:
    """The serialized origin of ``url`` (``"https://API.example.com:443/x"`` ->
    ``"https://api.example.com"``), or ``None`` when it has none."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
    try:
        return serialize_origin(f"{scheme}://{authority}")
    except HostError:
        return None


def is_safelisted_method(method: str) -> bool:
    """GET, HEAD or POST, byte for byte (https://fetch.spec.whatwg.org/#cors-safelisted-method)."""
    return method in SAFELISTED_METHODS


def request_problem(request: Request) -> str | None:
    """Why ``fetch()`` would reject ``request`` before sending it, or ``None``.

    A forbidden or malformed method, a header name that is not a token, a
    value with NUL, CR, LF or a character above U+00FF
    (https://fetch.spec.whatwg.org/#dom-request, #concept-header-value).
    Also rejects an ``origin`` that is not serialized as browsers send it.
    """
    origin = request.origin
    problems: list[Problem] = []
    if origin != "null" and not parse_exact_origin(origin, "origin", problems):
        why = problems[0].message if problems else "it is not scheme://host[:port]"
        try:
            hint = f"; browsers send {_show(serialize_origin(origin))}"
        except HostError:
            hint = ""
        return f"the origin {_show(origin)} is not a serialized origin ({why.rstrip('.')}){hint}"
    if not is_token(request.method):
        return f"the method {_show(request.method)} is not an HTTP token: fetch() throws a TypeError"
    if is_forbidden_method(request.method):
        return f"{_show(request.method)} is a forbidden method: fetch() throws a TypeError"
    for name, value in request.headers:
        if not is_token(name):
            return f"the header name {_show(name)} is not an HTTP token: fetch() throws a TypeError"
        normalized = value.strip(HTTP_WHITESPACE)
        if any(c in "\0\r\n" or ord(c) > 0xFF for c in normalized):
            return (f"the value of {name} ({_show(value)}) has NUL, CR, LF or a character above "
                    "U+00FF: fetch() throws a TypeError")
    return None


def unsafe_request_header_names(headers: Iterable[Header]) -> tuple[str, ...]:
    """The names a preflight must ask for: lower-case, sorted, unique
    (https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names).

    Every non-safelisted header, and every safelisted one too when the
    safelisted values add up to more than 1024 bytes.
    """
    unsafe: list[str] = []
    potentially_unsafe: list[str] = []
    safelisted_size = 0
    for name, value in headers:
        if is_safelisted_request_header(name, value):
            potentially_unsafe.append(name)
            safelisted_size += len(value.encode("latin-1", "replace"))
        else:
            unsafe.append(name)
    if safelisted_size > SAFELISTED_TOTAL_LIMIT:
        unsafe.extend(potentially_unsafe)
    return tuple(sorted({name.lower() for name in unsafe}))


def needs_preflight(request: Request) -> bool:
    """Whether the browser sends a preflight first (when nothing is cached):
    the method is not safelisted, or a header the script set is not
    (https://fetch.spec.whatwg.org/#main-fetch, "CORS-unsafe request-header names").
    A same-origin request never needs one."""
    if request.is_same_origin():
        return False
    return not is_safelisted_method(request.method) or bool(unsafe_request_header_names(request.sent_headers))


def access_control_request_headers(request: Request) -> str | None:
    """The ``Access-Control-Request-Headers`` value the preflight carries:
    names joined by ``,`` without spaces, or ``None``
    (https://fetch.spec.whatwg.org/#cors-preflight-fetch-0)."""
    names = unsafe_request_header_names(request.sent_headers)
    return ",".join(names) if names else None


def preflight_request_headers(request: Request) -> list[Header]:
    """The headers of the preflight the browser sends for ``request``
    (https://fetch.spec.whatwg.org/#cors-preflight-fetch-0): ``Accept: */*``,
    ``Origin``, ``Access-Control-Request-Method`` and, when any,
    ``Access-Control-Request-Headers``.  Never cookies or HTTP auth."""
    headers: list[Header] = [
        ("Accept", "*/*"),
        ("Origin", request.origin),
        ("Access-Control-Request-Method", request.method),
    ]
    acrh = access_control_request_headers(request)
    if acrh is not None:
        headers.append(("Access-Control-Request-Headers", acrh))
    return headers


def actual_request_headers(request: Request) -> list[Header]:
    """The headers of the actual request: ``Origin`` and the script's headers
    that are not forbidden (https://fetch.spec.whatwg.org/#http-network-or-cache-fetch).
    Cookies, when ``credentials="include"``, are the caller's to add."""
    return [("Origin", request.origin), *request.sent_headers]


# -- responses --------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """A response as the browser received it.

    :param status: the status code, ``204``.
    :param headers: ``(name, value)`` pairs in order, repeated lines kept
        (two ``Access-Control-Allow-Origin`` lines are two pairs).
    """

    status: int
    headers: Sequence[Header] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", tuple((str(n), str(v)) for n, v in self.headers))

    @classmethod
    def from_wsgi(cls, status: str, headers: Iterable[Header]) -> Response:
        """From a WSGI status line (``"204 No Content"``) and header list."""
        return cls(int(status.split(None, 1)[0]), list(headers))


def _values(headers: Iterable[Header], name: str) -> list[str]:
    lower = name.lower()
    return [value.strip(HTTP_WHITESPACE) for n, value in headers if n.lower() == lower]


def get_header(headers: Iterable[Header], name: str) -> str | None:
    """Every value of ``name`` (any case) joined by ``", "``, or ``None``
    (https://fetch.spec.whatwg.org/#concept-header-list-get)."""
    values = _values(headers, name)
    return ", ".join(values) if values else None


def parse_list(value: str | None) -> tuple[str, ...] | None:
    """Parse ``#token`` (``Access-Control-Allow-Methods``, ``-Allow-Headers``,
    ``-Expose-Headers``): items split on ``,``, whitespace trimmed, empty items
    skipped; every item must be a token.

    Returns ``()`` for ``None`` (absent), the items, or ``None`` when the value
    does not parse, which makes a preflight a network error
    (https://fetch.spec.whatwg.org/#http-new-header-syntax,
    https://fetch.spec.whatwg.org/#extract-header-list-values).
    """
    if value is None:
        return ()
    items = []
    for raw in value.split(","):
        item = raw.strip(" \t")
        if not item:
            continue
        if not is_token(item):
            return None
        items.append(item)
    return tuple(items)


def max_age(headers: Iterable[Header], cap: int | None = None) -> int:
    """Seconds a preflight answer is cached
    (https://fetch.spec.whatwg.org/#cors-preflight-fetch-0, max-age steps).

    ``Access-Control-Max-Age`` is ``delta-seconds`` and must appear once;
    missing, repeated or invalid (``-1``, ``600s``) gives 5.  ``0`` disables
    caching.  ``cap`` is the browser's limit, e.g.
    ``BROWSER_MAX_AGE_CAPS["chromium"]`` (7200).
    """
    values = _values(headers, "Access-Control-Max-Age")
    valid = len(values) == 1 and re.fullmatch(r"[0-9]+", values[0], re.ASCII) is not None
    seconds = int(values[0]) if valid else DEFAULT_MAX_AGE
    return seconds if cap is None else min(seconds, cap)


# -- verdicts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The browser's decision on one request.

    :ivar allowed: True when the script gets the response.
    :ivar step: ``None`` when allowed, else the code of the failed step (see
        :data:`STEPS`).
    :ivar reason: what is wrong, in plain words; ``None`` when allowed.
    :ivar fix: what to change, in plain words; ``None`` when allowed.
    :ivar notes: things worth knowing either way (cache lifetime, dropped
        headers, where browsers differ from the standard).
    :ivar divergence: a key of :data:`DIVERGENCES` when shipping browsers
        decide this request the other way today; else ``None``.
    """

    allowed: bool
    step: str | None = None
    reason: str | None = None
    fix: str | None = None
    notes: tuple[str, ...] = ()
    divergence: str | None = None

    def __str__(self) -> str:
        if self.allowed:
            lines = ["allowed"]
        else:
            lines = [f"blocked at step {self.step}: {self.reason}", f"fix: {self.fix}"]
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def with_notes(self, *notes: str) -> Verdict:
        return Verdict(self.allowed, self.step, self.reason, self.fix, self.notes + notes, self.divergence)

    def to_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed, "step": self.step, "reason": self.reason, "fix": self.fix,
            "notes": list(self.notes), "divergence": self.divergence,
        }


_ALLOWED = Verdict(True)


def _blocked(step: str, reason: str, fix: str, *notes: str, divergence: str | None = None) -> Verdict:
    return Verdict(False, step, reason, fix, notes, divergence)


def _origin_hint(value: str, origin: str) -> str:
    if value.rstrip("/") == origin and value != origin:
        return " (it has a trailing slash; an origin never does)"
    if value.lower() == origin.lower():
        return " (it differs in case; origins are compared byte for byte)"
    if value.split("://", 1)[-1] == origin.split("://", 1)[-1]:
        return " (the scheme differs)"
    if _origin_of(value) == _origin_of(origin) and _origin_of(value) is not None:
        return " (the port is written differently; browsers omit a default port)"
    if " " in value.strip():
        return " (it lists several origins; the header holds exactly one)"
    return ""


def cors_check(request: Request, headers: Iterable[Header], *, preflight: bool = False) -> Verdict:
    """The CORS check on one response, of any status
    (https://fetch.spec.whatwg.org/#concept-cors-check).

    ``Access-Control-Allow-Origin`` must be present once and equal the
    request's origin byte for byte, or be ``*`` when the request is not
    credentialed; with credentials ``Access-Control-Allow-Credentials`` must
    be exactly ``true``.  ``preflight`` selects the step code
    (``"preflight-cors-check"`` instead of ``"cors-check"``).
    """
    headers = tuple(headers)
    step = "preflight-cors-check" if preflight else "cors-check"
    which = "the preflight response" if preflight else "the response"
    origin = request.origin
    acao_values = _values(headers, "Access-Control-Allow-Origin")
    combined = ", ".join(acao_values) if acao_values else None
    credentialed = request.include_credentials
    if combined is None:
        return _blocked(
            step, f"{which} has no Access-Control-Allow-Origin header",
            f"send `Access-Control-Allow-Origin: {origin}` on {which} (is the URL covered by "
            "your CORS configuration, and is this origin allowed?)",
        )
    if not credentialed and combined == "*":
        return _ALLOWED
    if combined != origin:
        if len(acao_values) > 1:
            shown = " and ".join(_show(v) for v in acao_values[:4])
            return _blocked(
                step,
                f"{which} has {len(acao_values)} Access-Control-Allow-Origin values ({shown}); "
                f"browsers combine them as {_show(combined)}, which never matches",
                "send the header exactly once: two layers (the app and a middleware, or a proxy) "
                "both add it; remove one",
            )
        if "," in combined:
            return _blocked(
                step, f"{which}'s Access-Control-Allow-Origin is a list ({_show(combined)}); it must "
                "hold exactly one origin",
                f"echo the request's origin alone: `Access-Control-Allow-Origin: {origin}`",
            )
        if combined == "*":
            return _blocked(
                step, "`*` cannot be used with credentials: the request is credentialed "
                "(credentials: \"include\") and Access-Control-Allow-Origin is `*`",
                f"echo the origin (`Access-Control-Allow-Origin: {origin}`) with "
                "`Access-Control-Allow-Credentials: true`, or do not send credentials",
            )
        return _blocked(
            step,
            f"{which}'s Access-Control-Allow-Origin is {_show(combined)}, but the request's origin is "
            f"{_show(origin)}{_origin_hint(combined, origin)}",
            f"send `Access-Control-Allow-Origin: {origin}` exactly (allow this origin in the server's "
            "CORS configuration)",
        )
    if not credentialed:
        return _ALLOWED
    acac = get_header(headers, "Access-Control-Allow-Credentials")
    if acac == "true":
        return _ALLOWED
    if acac is None:
        reason = f"the request is credentialed, but {which} has no Access-Control-Allow-Credentials"
    elif acac.lower() == "true" or acac.lower().startswith("true,"):
        reason = (f"Access-Control-Allow-Credentials is {_show(acac)}; it must be exactly `true` "
                  "(lower case, sent once)")
    else:
        reason = f"Access-Control-Allow-Credentials is {_show(acac)}, not `true`"
    return _blocked(step, reason, f"send `Access-Control-Allow-Credentials: true` (exactly) on {which}, "
                    "or do not send credentials")


def _asked(request: Request) -> str:
    acrh = access_control_request_headers(request)
    return f"method {request.method}" + (f" and headers {acrh}" if acrh else "")


def _status_fix(request: Request, status: int) -> str:
    if status == 401:
        return ("let OPTIONS preflights through authentication: browsers never send cookies or "
                "Authorization on a preflight")
    if status == 403:
        return (f"allow origin {request.origin} with {_asked(request)} in the server's CORS configuration "
                "(a CORS layer answers 403 to a preflight it refuses); if an auth layer answered, let "
                "OPTIONS preflights through it")
    if status in (404, 405, 501):
        return ("answer OPTIONS preflights on this URL with 204: put a CORS middleware in front of the "
                "router and make sure its configuration covers this path")
    if 300 <= status < 400:
        return "answer the preflight on this URL itself: a preflight is never redirected"
    return "answer the preflight with a status between 200 and 299 (204 is usual)"


def preflight_check(request: Request, response: Response) -> Verdict:
    """Whether the preflight ``response`` lets ``request`` go ahead
    (https://fetch.spec.whatwg.org/#cors-preflight-fetch-0).

    In order: the CORS check (with the request's credentials mode); an ok
    status (200-299); ``Access-Control-Allow-Methods`` and ``-Headers``
    parse as lists; the method is listed byte for byte, or safelisted, or
    ``*`` is listed and the request is not credentialed; ``Authorization``,
    if sent, is listed by name (``*`` never covers it,
    https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name);
    every CORS-unsafe header name is listed (any case), or ``*`` is listed
    and the request is not credentialed.
    """
    headers = response.headers
    checked = cors_check(request, headers, preflight=True)
    status = response.status
    if not checked.allowed:
        if not 200 <= status <= 299 and checked.reason is not None:
            return _blocked(
                checked.step or "preflight-cors-check",
                f"{checked.reason}, and its status is {status} (the preflight asked for {_asked(request)})",
                _status_fix(request, status),
            )
        return checked
    if not 200 <= status <= 299:
        return _blocked(
            "preflight-status", f"the preflight response's status is {status}; a preflight needs an ok "
            "status (200-299)", _status_fix(request, status),
        )
    raw_methods = get_header(headers, "Access-Control-Allow-Methods")
    raw_names = get_header(headers, "Access-Control-Allow-Headers")
    methods, names = parse_list(raw_methods), parse_list(raw_names)
    for label, raw, parsed in (("Methods", raw_methods, methods), ("Headers", raw_names, names)):
        if parsed is None:
            return _blocked(
                "preflight-parse",
                f"Access-Control-Allow-{label} ({_show(raw or '')}) is not a comma-separated list of tokens",
                f"separate items with commas, e.g. `Access-Control-Allow-{label}: "
                + ("GET, PUT`" if label == "Methods" else "Content-Type, X-Token`"),
            )
    assert methods is not None
    assert names is not None
    credentialed = request.include_credentials
    method = request.method
    if not (
        method in methods
        or is_safelisted_method(method)
        or (not credentialed and "*" in methods)
    ):
        if raw_methods is None:
            reason = f"the preflight response has no Access-Control-Allow-Methods, so {method} is not allowed"
        elif credentialed and "*" in methods:
            reason = (f"`*` in Access-Control-Allow-Methods is a literal name for credentialed requests, "
                      f"so {method} is not allowed")
        else:
            reason = f"{_show(method)} is not in Access-Control-Allow-Methods ({_show(raw_methods)})"
        notes = []
        if method.upper() in {m.upper() for m in methods} and method not in methods:
            notes.append(
                "methods are case-sensitive: browsers upper-case only DELETE, GET, HEAD, OPTIONS, POST "
                f"and PUT, so the script's {_show(method)} is sent as written"
            )
        return _blocked("preflight-method", reason,
                        f"list {method} in Access-Control-Allow-Methods (allow it in the server's CORS "
                        "configuration)", *notes)
    lower_names = {n.lower() for n in names}
    sent = request.sent_headers
    if any(n.lower() == "authorization" for n, _ in sent) and "authorization" not in lower_names:
        lenient = not credentialed and "*" in names
        return _blocked(
            "preflight-authorization",
            "`authorization` is not in Access-Control-Allow-Headers"
            + (" (`*` never covers Authorization)" if "*" in names else f" ({_show(raw_names or '')})"),
            "list Authorization by name in Access-Control-Allow-Headers (e.g. `*, Authorization`)",
            *([DIVERGENCES["authorization-covered-by-wildcard"]] if lenient else []),
            divergence="authorization-covered-by-wildcard" if lenient else None,
        )
    missing = [
        name for name in unsafe_request_header_names(sent)
        if name not in lower_names and (credentialed or "*" not in names)
    ]
    if missing:
        listed = ", ".join(_show(n) for n in missing)
        verb = "is" if len(missing) == 1 else "are"
        if raw_names is None:
            reason = f"{listed} {verb} not in Access-Control-Allow-Headers (the preflight response has none)"
        elif credentialed and "*" in names:
            reason = (f"{listed} {verb} not in Access-Control-Allow-Headers: `*` is a literal name for "
                      "credentialed requests")
        else:
            reason = f"{listed} {verb} not in Access-Control-Allow-Headers ({_show(raw_names)})"
        return _blocked("preflight-headers", reason,
                        f"list {', '.join(missing)} in Access-Control-Allow-Headers (allow "
                        f"{'it' if len(missing) == 1 else 'them'} in the server's CORS configuration)")
    seconds = max_age(headers)
    if seconds == 0:
        note = "this preflight answer is not cached (Access-Control-Max-Age: 0)"
    else:
        capped = min(seconds, BROWSER_MAX_AGE_CAPS["chromium"])
        note = (f"this preflight answer is cached for {seconds} s"
                + (f" (Chromium caps it at {capped} s)" if capped < seconds else ""))
    return _ALLOWED.with_notes(note)


def _vary_note(request: Request, headers: Sequence[Header]) -> tuple[str, ...]:
    acao = get_header(headers, "Access-Control-Allow-Origin")
    if acao is None or acao == "*":
        return ()
    vary = {item.strip().lower() for item in (get_header(headers, "Vary") or "").split(",")}
    if "origin" in vary or "*" in vary:
        return ()
    return ("the response echoes the origin but has no `Vary: Origin`: an HTTP cache may serve "
            "this answer to another origin",)


def _dropped_notes(request: Request) -> tuple[str, ...]:
    kept = {name for name, _ in request.sent_headers}
    dropped = sorted({name for name, _ in request.headers if name not in kept})
    if not dropped:
        return ()
    return (f"{', '.join(_show(n) for n in dropped)}: forbidden request header(s) that scripts cannot "
            "set; the browser drops them silently",)


def evaluate(request: Request, response: Response, *, preflight: Response | None = None) -> Verdict:
    """The browser's verdict on ``request``: does the script get ``response``?

    Checks the request itself (:func:`request_problem`), the ``preflight``
    response when the request needs one (:func:`needs_preflight`), then the
    CORS check on the actual ``response``
    (https://fetch.spec.whatwg.org/#main-fetch, #http-fetch).

    A same-origin request (``request.url`` on ``request.origin``) is always
    allowed.  When the request needs a preflight and ``preflight`` is
    ``None``, the answer is taken to be cached (a note says so).

    Where shipping browsers differ from the standard, the verdict is the
    standard's and ``divergence`` names the difference, but only when
    browsers would let the whole exchange through today.
    """
    problem = request_problem(request)
    if problem is not None:
        return _blocked("request", problem, "fix the script's fetch() call")
    notes = _dropped_notes(request)
    if request.is_same_origin():
        return _ALLOWED.with_notes(*notes, "same-origin request: CORS does not apply")
    pending: Verdict | None = None
    if needs_preflight(request):
        if preflight is None:
            notes += ("no preflight response given: its answer is taken to be cached",)
        else:
            checked = preflight_check(request, preflight)
            if not checked.allowed:
                if checked.divergence is None:
                    return checked.with_notes(*notes)
                pending = checked
            else:
                notes += checked.notes
    actual = cors_check(request, response.headers)
    if pending is not None:
        if actual.allowed:
            return pending.with_notes(*notes)
        # Browsers would block it anyway, at the actual response: no divergence.
        return Verdict(False, pending.step, pending.reason, pending.fix, notes)
    if not actual.allowed:
        return actual.with_notes(*notes)
    return _ALLOWED.with_notes(*notes, *_vary_note(request, response.headers))


# -- what a script may read --------------------------------------------------------------


def exposed_header_names(request: Request, headers: Sequence[Header]) -> frozenset[str]:
    """Lower-case names a script may read on a CORS response besides the
    safelisted ones (https://fetch.spec.whatwg.org/#main-fetch, "CORS-exposed
    header-name list"; https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name).

    The ``Access-Control-Expose-Headers`` items; ``*`` exposes every header of
    the response, but only when the request is not credentialed (it is a
    literal name otherwise).  A value that does not parse exposes nothing.
    ``Set-Cookie`` is never exposed.
    """
    names = parse_list(get_header(headers, "Access-Control-Expose-Headers"))
    if names is None:
        return frozenset()
    if not request.include_credentials and "*" in names:
        exposed = {name.lower() for name, _ in headers}
    else:
        exposed = {name.lower() for name in names}
    return frozenset(exposed - FORBIDDEN_RESPONSE_HEADERS)


def readable_headers(request: Request, headers: Sequence[Header]) -> list[Header]:
    """The response headers a script sees in ``response.headers``: the
    CORS-safelisted ones and the exposed ones
    (https://fetch.spec.whatwg.org/#concept-filtered-response-cors)."""
    allowed = SAFELISTED_RESPONSE_HEADERS | exposed_header_names(request, headers)
    return [(name, value) for name, value in headers if name.lower() in allowed]


# -- the preflight cache -----------------------------------------------------------------


@dataclass(frozen=True)
class CacheEntry:
    """One CORS-preflight cache entry (https://fetch.spec.whatwg.org/#cors-preflight-cache).

    Browsers also key entries by the network partition key (the top-level
    site), which is not modelled here.
    """

    origin: str
    url: str | None
    credentials: bool
    max_age: int
    method: str | None = None
    header_name: str | None = None


def preflight_cache_entries(
    request: Request, response: Response, *, cap: int | None = None
) -> tuple[CacheEntry, ...]:
    """The cache entries a successful preflight creates: one per method and
    one per header name it lists, each for ``max_age`` seconds, keyed by
    origin, URL and credentials (https://fetch.spec.whatwg.org/#concept-cache-create-entry).
    Empty when the preflight fails."""
    if not preflight_check(request, response).allowed:
        return ()
    methods = parse_list(get_header(response.headers, "Access-Control-Allow-Methods")) or ()
    names = parse_list(get_header(response.headers, "Access-Control-Allow-Headers")) or ()
    seconds = max_age(response.headers, cap)
    credentials = request.include_credentials
    by_method = [CacheEntry(request.origin, request.url, credentials, seconds, method=m) for m in methods]
    by_name = [CacheEntry(request.origin, request.url, credentials, seconds, header_name=n) for n in names]
    return (*by_method, *by_name)


def _entry_matches(entry: CacheEntry, request: Request) -> bool:
    """https://fetch.spec.whatwg.org/#concept-cache-match"""
    return (
        entry.max_age > 0
        and entry.origin == request.origin
        and entry.url == request.url
        and (entry.credentials or not request.include_credentials)
    )


def preflight_cache_covers(entries: Iterable[CacheEntry], request: Request) -> bool:
    """Whether cached ``entries`` spare ``request`` a new preflight
    (https://fetch.spec.whatwg.org/#http-fetch; #concept-cache-match-method,
    #concept-cache-match-header).  A credentialed request is never covered by
    an entry made without credentials; ``*`` never covers ``Authorization``."""
    live = [entry for entry in entries if _entry_matches(entry, request)]
    method = request.method
    if not is_safelisted_method(method) and not any(e.method in (method, "*") for e in live):
        return False
    for name in unsafe_request_header_names(request.sent_headers):
        if not any(
            e.header_name is not None
            and (e.header_name.lower() == name or (e.header_name == "*" and name != "authorization"))
            for e in live
        ):
            return False
    return True



# -- Local Network Access ------------------------------------------------------------------

#: Address ranges of the ``local`` space (RFC 1918, link-local, CGNAT, IPv6 ULA and link-local).
_LOCAL_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10",
    "fc00::/7", "fe80::/10",
))
_RANK = {"public": 0, "local": 1, "loopback": 2}


def address_space(host: str) -> AddressSpace | None:
    """The Local Network Access address space of a URL's host as written:
    ``"loopback"`` (``localhost``, ``*.localhost``, ``127.0.0.0/8``, ``::1``,
    ``0.0.0.0``), ``"local"`` (``10/8``, ``172.16/12``, ``192.168/16``,
    ``169.254/16``, ``100.64/10``, ``fc00::/7``, ``fe80::/10``), ``"public"``
    for any other address, and ``None`` for a DNS name, whose space is that
    of the address it resolves to (not looked up here).  An IPv4-mapped IPv6
    address (``[::ffff:127.0.0.1]``) is classified by its IPv4 address."""
    host = host.strip().lower()
    if not host:
        return None
    if is_loopback_host(host) or host.rstrip(".") == "localhost":
        return "loopback"
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified:
        return "loopback"
    if any(address in network for network in _LOCAL_NETWORKS):
        return "local"
    return "public"


def _url_host(url: str) -> str | None:
    _scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
    return split_authority(authority)[0] or None


def local_network_note(page_origin: str, target_url: str) -> str | None:
    """What Local Network Access means for a ``fetch(target_url)`` from a page
    on ``page_origin``, or ``None`` when it does not apply: the target's host
    is a loopback or local address (:func:`address_space`) in a more private
    space than the page's (a page on a DNS name counts as public).

    Chrome 142+ and Firefox 153+ then ask the user's permission
    (``loopback-network`` or ``local-network``) before the request is sent,
    whatever the server's CORS headers; a denial shows as a CORS error in
    Chrome.  ``Access-Control-Allow-Private-Network`` no longer decides.
    """
    target_host = _url_host(target_url)
    target = None if target_host is None else address_space(target_host)
    if target is None or target == "public":
        return None
    page_host = _url_host(page_origin)
    page = (None if page_host is None else address_space(page_host)) or "public"
    if _RANK[target] <= _RANK[page]:
        return None
    shown = printable(target_host or "", 80)
    return (
        f"Local Network Access: {shown} is a {target} address and the page is {page}: "
        "Chrome 142+ and Firefox 153+ ask the user's permission before sending the request, "
        "whatever the CORS headers say (a denial shows as a CORS error in Chrome); the script "
        f'should call fetch(url, {{targetAddressSpace: "{target}"}}), an iframe needs '
        f'allow="{target}-network", and Access-Control-Allow-Private-Network (the legacy '
        "allow_private_network) no longer decides (WICG local-network-access)"
    )

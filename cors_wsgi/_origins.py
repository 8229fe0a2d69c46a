"""Origin patterns: validated once at construction, matched per request.

A configured pattern is one of (see ``CORSPolicy`` for the user-facing rules):

* an exact serialized origin, ``"https://app.example.com"``
  (https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin);
* a subdomain wildcard, ``"https://*.example.com"``: one or more DNS labels
  before ``example.com``, never ``example.com`` itself;
* an any-port wildcard, ``"http://localhost:*"``: any port, or none;
* both at once, ``"https://*.example.com:*"``.

Per request, an exact origin costs one ``frozenset`` lookup.  Only when the
policy has wildcard patterns or a regex does a request origin that is not an
exact match get parsed, once, by a linear-time shape check, then looked up
label suffix by label suffix (set lookups; the cost depends on the length of
the origin, never on the number of patterns).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cors_wsgi.errors import Problem

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

__all__ = ["OriginMatcher", "compile_origins"]

#: Most non-exact origins whose verdict is remembered; the memo is emptied
#: when full, so hostile, ever-changing origins cost memory only up to this.
MEMO_SIZE = 1024

#: Longest request origin that is parsed for pattern or regex matching.  A DNS
#: name has at most 253 characters; the rest leaves room for scheme and port.
MAX_ORIGIN_LENGTH = 512

#: Shape of a serialized tuple origin as browsers send it: lower-case scheme,
#: lower-case ASCII host (DNS labels or a bracketed IPv6 address), an optional
#: port without leading zeros.  Linear time: the alternatives cannot overlap.
_ORIGIN_SHAPE = re.compile(
    r"([a-z][a-z0-9+.\-]*)://"
    r"([a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*|\[[0-9a-f:.]+\])"
    r"(?::([1-9][0-9]{0,4}))?"
)

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_DNS_HOST = re.compile(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*")
_IPV4 = re.compile(r"[0-9]+(?:\.[0-9]+){3}")

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21"}

#: Origins no credentialed regex may match: they belong to nobody the user
#: could mean to trust (``.invalid`` is reserved by RFC 2606).
_UNRELATED_ORIGINS = (
    "https://attacker.invalid",
    "http://attacker.invalid",
    "https://attacker.invalid:8443",
    "https://example.com.attacker.invalid",
)

_EXAMPLE = "'https://app.example.com'"

_LITERAL_TAIL = re.compile(r"(?:[A-Za-z0-9\-]|\\\.)+(?=(?:\$|\\Z)?\Z)")


def _probes(source: str) -> tuple[str, ...]:
    """Unrelated origins a credentialed regex must not match: fixed ones, plus
    the regex's literal domain tail glued to an attacker's label, which
    catches the classic missing ``\\.`` (``.*example\\.com`` matching
    ``https://attackerexample.com``; expressjs/cors#408)."""
    tail = _LITERAL_TAIL.search(source)
    if tail is None or tail.group().startswith("\\"):
        return _UNRELATED_ORIGINS
    domain = tail.group().replace("\\.", ".").lower()
    return (*_UNRELATED_ORIGINS, f"https://attacker{domain}", f"http://attacker{domain}")


@functools.cache
def _public_suffix_list() -> PublicSuffixList:
    # Imported and parsed on first use only: the list is needed just for
    # credentialed subdomain wildcards, and parsing it takes milliseconds.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def _is_loopback_host(host: str) -> bool:
    """True for hosts that can only be this machine: ``localhost``,
    ``*.localhost`` (RFC 6761), ``127.0.0.0/8`` and ``[::1]``."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if host == "[::1]":
        return True
    return bool(_IPV4.fullmatch(host)) and host.startswith("127.")


@dataclass(frozen=True)
class _Pattern:
    scheme: str
    host: str  # for a subdomain wildcard, the base domain after "*."
    port: str  # "" for none, "*" for any, else canonical digits
    subdomains: bool


def _split_authority(authority: str) -> tuple[str, str | None]:
    """``"host:port"`` -> ``("host", "port")``; ``"[::1]"`` -> ``("[::1]", None)``."""
    if authority.startswith("["):
        end = authority.find("]")
        if end != -1:
            rest = authority[end + 1 :]
            host = authority[: end + 1]
            if rest.startswith(":"):
                return host, rest[1:]
            if rest == "":
                return host, None
        return authority, None
    host, colon, port = authority.rpartition(":")
    if not colon:
        return authority, None
    return host, port


def _parse_pattern(item: str, argument: str, problems: list[Problem]) -> _Pattern | None:
    """Validate one configured origin pattern; append problems, return the
    parsed pattern only when ``item`` is already in serialized form."""

    def problem(code: str, message: str) -> None:
        problems.append(Problem(code, argument, item, message))

    if item.strip().lower() == "null":
        problem(
            "null-origin",
            "'null' is the origin of sandboxed iframes, file: pages and "
            "redirected requests, so anyone can send it; allowing it trusts "
            "everyone. Serve the page from a real origin and list that.",
        )
        return None
    if item.lower().startswith("file:"):
        problem(
            "file-origin",
            "pages opened from file: send 'Origin: null', never a file: "
            "origin. Serve the page over http://localhost:PORT and list that.",
        )
        return None
    if item != item.strip():
        problem("origin-not-serialized",
                f"remove the surrounding whitespace: write {item.strip()!r}.")
        return None
    if any(ch.isspace() for ch in item) or "," in item:
        problem(
            "origin-not-serialized",
            "one origin per item: pass a list, e.g. "
            "['https://a.example.com', 'https://b.example.com'].",
        )
        return None

    scheme, sep, rest = item.partition("://")
    if not sep:
        guess = f" (did you mean {'https://' + item.lower()!r}?)" if "." in item else ""
        problem(
            "origin-not-serialized",
            f"an origin is scheme://host[:port], e.g. {_EXAMPLE}{guess}.",
        )
        return None
    if not _SCHEME.fullmatch(scheme):
        problem("origin-not-serialized", f"{scheme!r} is not a URL scheme.")
        return None

    # Everything after the authority: a path, query or fragment.
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i != -1),
              default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    _userinfo, at, hostport = authority.rpartition("@")
    host, port = _split_authority(hostport if at else authority)

    # Port: "*" (any), or 1..65535 without leading zeros.
    canonical_port = ""
    if port is not None:
        if port == "*":
            canonical_port = "*"
        elif not port.isascii() or not port.isdigit():
            problem("bad-port", f"the port {port!r} is not a number from 1 to 65535 or '*'.")
            return None
        elif not 1 <= int(port) <= 65535:
            problem("bad-port", f"the port {port} is outside 1..65535.")
            return None
        elif port != str(int(port)):
            fixed = f"{scheme.lower()}://{host.lower()}:{int(port)}"
            problem("bad-port",
                    f"browsers never send leading zeros in a port: write {fixed!r}.")
            return None
        elif _DEFAULT_PORTS.get(scheme.lower()) == port:
            canonical_port = ""  # reported below as not serialized
        else:
            canonical_port = port

    # Host: lower-case ASCII (IDN in punycode), "*." only as the first label.
    subdomains = host.startswith("*.")
    bare = host[2:] if subdomains else host
    if "*" in bare:
        problem(
            "misplaced-wildcard",
            "'*' may only stand for whole leading labels, as in "
            "'https://*.example.com', or for the port, as in 'http://localhost:*'.",
        )
        return None
    canonical_host = bare.lower()
    if not canonical_host.isascii():
        try:
            canonical_host = canonical_host.encode("idna").decode("ascii")
        except UnicodeError:
            problem("origin-not-serialized", f"{bare!r} is not a valid host name.")
            return None
    if canonical_host.startswith("["):
        try:
            address = ipaddress.IPv6Address(canonical_host[1:-1])
        except ValueError:
            problem("origin-not-serialized", f"{bare!r} is not a valid IPv6 address.")
            return None
        if subdomains:
            problem("misplaced-wildcard", "a subdomain wildcard needs a DNS name, not an address.")
            return None
        canonical_host = f"[{address.compressed}]"
    elif not _DNS_HOST.fullmatch(canonical_host):
        problem(
            "origin-not-serialized",
            f"{bare!r} is not a host name: use letters, digits, '-' and "
            "non-empty dot-separated labels, no trailing dot.",
        )
        return None
    elif subdomains and canonical_host.rpartition(".")[2].isdigit():
        problem("misplaced-wildcard", "a subdomain wildcard needs a DNS name, not an address.")
        return None

    canonical = (
        f"{scheme.lower()}://{'*.' if subdomains else ''}{canonical_host}"
        f"{':' + canonical_port if canonical_port else ''}"
    )
    if canonical != item:
        why = []
        if at:
            why.append("no user name or password")
        if tail:
            why.append("no path, query or fragment (not even a trailing '/')")
        if port is not None and canonical_port == "":
            why.append("no default port")
        if scheme != scheme.lower() or bare.lower() != bare:
            why.append("lower case")
        if not bare.isascii():
            why.append("IDN hosts in punycode")
        if bare.startswith("[") and canonical_host != bare.lower():
            why.append("IPv6 addresses in their shortest form")
        reasons = ", ".join(why) or "the serialized form"
        problem(
            "origin-not-serialized",
            f"browsers send origins with {reasons}: write {canonical!r}.",
        )
        return None
    return _Pattern(scheme, canonical_host, canonical_port, subdomains)


class OriginMatcher:
    """The compiled form of a policy's origins; ``matches`` runs per request."""

    __slots__ = ("_any_port", "_exact", "_memo", "_parse", "_regex", "_sub", "_sub_any_port")

    def __init__(self, patterns: Iterable[_Pattern], regex: re.Pattern[str] | None) -> None:
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
        self._regex = regex
        self._parse = bool(any_port or sub or sub_any_port or regex is not None)
        self._memo: dict[str, bool] = {}

    def matches(self, origin: str) -> bool:
        """True when ``origin`` (the ``Origin`` request header, exactly as
        received) is allowed.  Byte-exact, as the CORS check compares
        (https://fetch.spec.whatwg.org/#cors-check); ``null`` and anything not
        in serialized form never match a pattern or the regex."""
        if origin in self._exact:
            return True
        if not self._parse or len(origin) > MAX_ORIGIN_LENGTH:
            return False
        memo = self._memo
        verdict = memo.get(origin)
        if verdict is None:
            verdict = self._match_patterns(origin)
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[origin] = verdict
        return verdict

    def _match_patterns(self, origin: str) -> bool:
        shape = _ORIGIN_SHAPE.fullmatch(origin)
        if shape is None:
            return False
        scheme, host, port = shape.group(1, 2, 3)
        if port is not None and int(port) > 65535:
            return False
        if (scheme, host) in self._any_port:
            return True
        if self._sub or self._sub_any_port:
            port_key = port or ""
            dot = host.find(".")
            while dot != -1:
                base = host[dot + 1 :]
                if (scheme, base, port_key) in self._sub or (scheme, base) in self._sub_any_port:
                    return True
                dot = host.find(".", dot + 1)
        return self._regex is not None and self._regex.fullmatch(origin) is not None


@dataclass(frozen=True)
class CompiledOrigins:
    allow_all: bool
    matcher: OriginMatcher
    regex: re.Pattern[str] | None


def compile_origins(
    items: tuple[str, ...],
    regex: str | re.Pattern[str] | None,
    *,
    credentials: bool,
    private_network: bool,
    tolerate_insecure: bool,
    tolerate_public_suffixes: bool,
    problems: list[Problem],
) -> CompiledOrigins:
    """Validate ``allow_origins`` and ``allow_origin_regex`` together; append
    every problem found to ``problems``."""
    allow_all = "*" in items
    if allow_all:
        if credentials:
            problems.append(Problem(
                "wildcard-origin-with-credentials", "allow_origins", "*",
                "browsers refuse 'Access-Control-Allow-Origin: *' on credentialed "
                "requests, and reflecting every origin instead would let any site "
                "act as the user. List the trusted origins, e.g. "
                f"allow_origins=[{_EXAMPLE}], or set allow_credentials=False.",
            ))
        if len(items) > 1 or regex is not None:
            problems.append(Problem(
                "wildcard-origin-mixed", "allow_origins", items,
                "'*' already allows every origin; remove it to allow only the "
                "listed origins, or remove the others (and allow_origin_regex).",
            ))
        if private_network:
            problems.append(Problem(
                "private-network-with-wildcard-origin", "allow_private_network", True,
                "private network access must name the origins it trusts; list "
                "them in allow_origins instead of '*'.",
            ))

    patterns: list[_Pattern] = []
    for item in items:
        if item == "*":
            continue
        pattern = _parse_pattern(item, "allow_origins", problems)
        if pattern is None:
            continue
        patterns.append(pattern)
        if not credentials:
            continue
        if pattern.scheme == "http" and not _is_loopback_host(pattern.host) and not tolerate_insecure:
            problems.append(Problem(
                "insecure-origin-with-credentials", "allow_origins", item,
                "with credentials, an http: origin lets anyone on the network path "
                "(public Wi-Fi, a proxy) act as the user. Use https, or pass "
                "dangerously_tolerate_insecure_origins=True if you accept that risk.",
            ))
        if (
            pattern.subdomains
            and pattern.host != "localhost"
            and not tolerate_public_suffixes
            and _public_suffix_list().is_public(pattern.host)
        ):
            problems.append(Problem(
                "public-suffix-wildcard", "allow_origins", item,
                f"{pattern.host!r} is a public suffix: anyone can register a "
                f"subdomain of it, so '*.{pattern.host}' trusts strangers with the "
                "user's credentials. List your own origins, or pass "
                "dangerously_tolerate_subdomains_of_public_suffixes=True.",
            ))

    compiled: re.Pattern[str] | None = None
    if regex is not None:
        source = regex.pattern if isinstance(regex, re.Pattern) else regex
        if not isinstance(source, str):
            problems.append(Problem(
                "invalid-type", "allow_origin_regex", regex,
                "expected a regular expression as a str (or a compiled str pattern).",
            ))
        else:
            try:
                compiled = regex if isinstance(regex, re.Pattern) else re.compile(regex)
            except re.error as error:
                problems.append(Problem(
                    "invalid-regex", "allow_origin_regex", regex,
                    f"does not compile: {error}.",
                ))
            if compiled is not None and credentials:
                broad = [o for o in _probes(source) if compiled.fullmatch(o)]
                if broad:
                    problems.append(Problem(
                        "regex-too-broad", "allow_origin_regex", source,
                        f"with credentials it must not match unrelated origins, but "
                        f"it matches {broad[0]!r}. Escape dots and spell out the "
                        r"domain, e.g. r'https://[a-z0-9-]+\.example\.com'.",
                    ))

    if not items and regex is None:
        problems.append(Problem(
            "no-origins", "allow_origins", (),
            f"no origin is allowed, so the middleware would refuse every "
            f"cross-origin request. List origins, e.g. allow_origins=[{_EXAMPLE}], "
            "or allow_origins='*' for a public API without credentials.",
        ))

    return CompiledOrigins(allow_all, OriginMatcher(patterns, compiled), compiled)

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

from cors_wsgi._regex import check_regex
from cors_wsgi.errors import Problem

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

__all__ = [
    "OriginMatcher",
    "compile_origins",
    "is_loopback_origin",
    "is_origin_shaped",
    "parse_exact_origin",
    "registrable_domain",
    "untrusted_reason",
]

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
_DNS_HOST = re.compile(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*\.?")
_IPV4 = re.compile(r"[0-9]+(?:\.[0-9]+){3}")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")

#: Schemes whose hosts the URL Standard parses as domains and addresses
#: (https://url.spec.whatwg.org/#special-scheme); other schemes' hosts are opaque.
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21"}

_EXAMPLE = "'https://app.example.com'"


@functools.cache
def _public_suffix_list() -> PublicSuffixList:
    # Imported and parsed on first use only: the list is needed just for
    # credentialed subdomain wildcards, and parsing it takes milliseconds.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def _is_loopback_host(host: str) -> bool:
    """True for hosts that can only be this machine: ``localhost``,
    ``*.localhost`` (RFC 6761), ``127.0.0.0/8`` and ``[::1]``."""
    host = host[:-1] if host.endswith(".") else host
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if host == "[::1]":
        return True
    return bool(_IPV4.fullmatch(host)) and host.startswith("127.")


class HostError(ValueError):
    """A host no browser can send; ``code`` is the problem code to report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _ipv4_number(part: str) -> int:
    """One part of an IPv4 address as the URL Standard reads it: ``0x`` hex,
    a leading ``0`` octal, else decimal (https://url.spec.whatwg.org/#ipv4-number-parser)."""
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if not part.isdigit() or not set(part) <= set("01234567"):
            raise ValueError(f"{part!r} is not an octal number")
        return int(part, 8)
    if not part.isascii() or not part.isdigit():
        raise ValueError(f"{part!r} is not a number")
    return int(part)


def _ipv4(host: str) -> str:
    """https://url.spec.whatwg.org/#concept-ipv4-parser, serialized."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        raise HostError("invalid-host", f"{host!r} ends in a number, so it must be an IPv4 "
                        "address, and it has more than four parts")
    try:
        numbers = [_ipv4_number(part) for part in parts]
    except ValueError as error:
        raise HostError("invalid-host", f"{host!r} ends in a number, so it must be an IPv4 "
                        f"address, but {error}") from None
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise HostError("invalid-host", f"{host!r} is an IPv4 address out of range")
    value = numbers[-1] + sum(n * 256 ** (3 - i) for i, n in enumerate(numbers[:-1]))
    return str(ipaddress.IPv4Address(value))


def _ends_in_a_number(host: str) -> bool:
    """https://url.spec.whatwg.org/#ends-in-a-number-checker"""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    last = parts[-1]
    return (last != "" and last.isascii() and last.isdigit()) or bool(_HEX.fullmatch(last))


def _ipv6_serialized(address: ipaddress.IPv6Address) -> str:
    """https://url.spec.whatwg.org/#concept-ipv6-serializer: eight lower-case
    hex pieces, the first longest run of two or more zero pieces as ``::``,
    never a dotted IPv4 tail (Python 3.13's ``compressed`` writes
    ``::ffff:127.0.0.1``; browsers send ``::ffff:7f00:1``)."""
    packed = address.packed
    pieces = [packed[i] << 8 | packed[i + 1] for i in range(0, 16, 2)]
    best_start, best_length, start = -1, 1, -1
    for i, piece in enumerate([*pieces, 1]):
        if piece == 0 and start < 0:
            start = i
        elif piece != 0 and start >= 0:
            if i - start > best_length:
                best_start, best_length = start, i - start
            start = -1
    hexes = [format(piece, "x") for piece in pieces]
    if best_start < 0:
        return ":".join(hexes)
    return ":".join(hexes[:best_start]) + "::" + ":".join(hexes[best_start + best_length :])


def _check_punycode(label: str) -> None:
    """An ``xn--`` label must decode to non-ASCII text that encodes back to
    the same label (https://url.spec.whatwg.org/#concept-domain-to-ascii)."""
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        raise UnicodeError(f"{label!r} is not valid punycode") from None
    if not decoded or decoded.isascii() or "xn--" + decoded.encode("punycode").decode("ascii") != label:
        raise UnicodeError(f"{label!r} is not valid punycode")
    import idna

    if idna.uts46_remap(decoded, std3_rules=False, transitional=False) != decoded:
        raise UnicodeError(f"{label!r} decodes to {decoded!r}, which is not in UTS 46 mapped form")


def parse_host(host: str, *, special: bool = True) -> tuple[str, bool]:
    """A configured host -> ``(host as browsers serialize it, is an address)``.

    Follows the URL Standard's host parser (https://url.spec.whatwg.org/#host-parsing)
    for special schemes: IPv6 in brackets, compressed and lower-case, no zone
    id; a host that ends in a number is an IPv4 address (``127.1`` and
    ``0x7f.0.0.1`` are ``127.0.0.1``; ``foo.bar.255`` is invalid); other
    hosts go through UTS 46 (``idna``), lower-cased, IDN labels in punycode,
    ``xn--`` labels checked, a trailing dot kept.  Other schemes' hosts are
    only lower-cased.

    :raises HostError: saying why no browser can send such a host.
    """
    if host.startswith("["):
        if "%" in host:
            raise HostError("invalid-host", f"{host!r} has an IPv6 zone id, which browsers never send")
        try:
            if not host.endswith("]"):
                raise ValueError
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise HostError("origin-not-serialized", f"{host!r} is not a valid IPv6 address") from None
        return f"[{_ipv6_serialized(address)}]", True
    if not special:
        lowered = host.lower()
        if not lowered.isascii() or not _DNS_HOST.fullmatch(lowered):
            raise HostError("origin-not-serialized", f"{host!r} is not a host name")
        return lowered, False
    if not host or host == ".":
        raise HostError("origin-not-serialized", "the host is empty")
    ascii_host = host.lower()
    if not host.isascii() or "xn--" in ascii_host:
        import idna

        try:
            # UTS 46 mapping, non-transitional and not STD3, as the URL
            # Standard's domain-to-ASCII (not IDNA2008's stricter validity,
            # which refuses symbols browsers send, such as xn--ls8h.la).
            mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
            labels = []
            for label in mapped.split("."):
                if label.startswith("xn--"):
                    _check_punycode(label)
                    labels.append(label)
                elif label.isascii():
                    labels.append(label)
                else:
                    labels.append("xn--" + label.encode("punycode").decode("ascii"))
            ascii_host = ".".join(labels)
        except (idna.IDNAError, UnicodeError) as error:
            raise HostError(
                "invalid-host", f"{host!r} is not a valid internationalized domain name ({error})"
            ) from None
    if _ends_in_a_number(ascii_host):
        return _ipv4(ascii_host), True
    if not _DNS_HOST.fullmatch(ascii_host):
        raise HostError(
            "origin-not-serialized",
            f"{host!r} is not a host name: use letters, digits, '-' and non-empty "
            "dot-separated labels",
        )
    return ascii_host, False


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
    special = scheme.lower() in _SPECIAL_SCHEMES
    try:
        canonical_host, is_address = parse_host(bare, special=special)
    except HostError as error:
        problem(error.code, f"browsers can never send this origin: {error}.")
        return None
    if subdomains and (is_address or canonical_host.endswith(".")):
        problem(
            "misplaced-wildcard",
            "a subdomain wildcard needs a DNS name without a trailing dot, not an address.",
        )
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
        elif is_address and not bare.startswith("[") and canonical_host != bare:
            why.append("IPv4 addresses as four decimal numbers")
        reasons = ", ".join(why) or "the serialized form"
        problem(
            "origin-not-serialized",
            f"browsers send origins with {reasons}: write {canonical!r}.",
        )
        return None
    return _Pattern(scheme, canonical_host, canonical_port, subdomains)


class OriginMatcher:
    """The compiled form of a policy's origins; ``matches`` runs per request."""

    __slots__ = (
        "_any_port", "_exact", "_memo", "_parse", "_regex", "_regex_sources", "_sub", "_sub_any_port",
        "_sub_bases",
    )

    def __init__(self, patterns: Iterable[_Pattern], regexes: tuple[re.Pattern[str], ...]) -> None:
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
        self._regex = tuple(regex.fullmatch for regex in regexes)
        self._regex_sources = tuple(regex.pattern for regex in regexes)
        self._parse = bool(any_port or sub or sub_any_port or regexes)
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
            verdict = self._match_patterns(origin) is not None
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[origin] = verdict
        return verdict

    def matches_unmemoized(self, origin: str) -> bool:
        """``matches`` without the memo, for a caller that remembers the verdict itself."""
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

        Only origins of the serialized shape (``_ORIGIN_SHAPE``) match.  The
        wildcard search needs no regex: a configured scheme, base domain or
        port is already valid, so equality with one proves that part, and
        only the labels before the base and a port that any-port rules
        accept are checked, with set and string tests."""
        scheme, sep, rest = origin.partition("://")
        if sep and rest[:1] != "[" and (self._any_port or self._sub_bases):
            host, colon, port = rest.partition(":")
            if host[-1:] == "." or (colon and not _is_port(port)):  # a trailing dot is no serialized shape
                return None if not self._regex else self._match_regexes(origin)
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
                        return self._match_regexes(origin) if self._regex else None
                    if (scheme, base, port) in self._sub:
                        return ("subdomains", scheme, base, port)
                    if (scheme, base) in self._sub_any_port:
                        return ("subdomains-any-port", scheme, base, "")
                dot = host.find(".", dot + 1)
        elif sep and rest[:1] == "[" and self._any_port:
            shape = _ORIGIN_SHAPE.fullmatch(origin)
            if shape is not None and (scheme, shape.group(2)) in self._any_port and (
                shape.group(3) is None or _is_port(shape.group(3))
            ):
                return ("any-port", scheme, shape.group(2), "")
        return self._match_regexes(origin) if self._regex else None

    def _match_regexes(self, origin: str) -> tuple[str, str, str, str] | None:
        shape = _ORIGIN_SHAPE.fullmatch(origin)
        if shape is None or (shape.group(3) is not None and int(shape.group(3)) > 65535):
            return None
        for fullmatch, source in zip(self._regex, self._regex_sources, strict=True):
            if fullmatch(origin) is not None:
                return ("regex", "", source, "")
        return None


#: What a DNS label in a serialized origin may hold (``_ORIGIN_SHAPE``).
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
_HOST_CHARS = _LABEL_CHARS | {"."}
_DIGITS = frozenset("0123456789")


def _is_port(text: str) -> bool:
    """True for a serialized port as ``_ORIGIN_SHAPE`` takes it: 1 to 65535, no leading zero."""
    return (
        0 < len(text) <= 5
        and text[0] != "0"
        and _DIGITS.issuperset(text)
        and int(text) <= 65535
    )


@dataclass(frozen=True)
class CompiledOrigins:
    allow_all: bool
    matcher: OriginMatcher
    regex: re.Pattern[str] | tuple[re.Pattern[str], ...] | None


def compile_origins(
    items: tuple[str, ...],
    regex: object,
    *,
    credentials: bool,
    private_network: bool,
    tolerate_insecure: bool,
    tolerate_public_suffixes: bool,
    problems: list[Problem],
    dynamic: bool = False,
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
        if len(items) > 1 or regex is not None or dynamic:
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

    regexes: list[re.Pattern[str]] = []
    for given in _regex_items(regex, problems):
        try:
            compiled: re.Pattern[str] = given if isinstance(given, re.Pattern) else re.compile(given)
        except re.error as error:
            problems.append(Problem(
                "invalid-regex", "allow_origin_regex", given, f"does not compile: {error}.",
            ))
            continue
        found = check_regex(
            compiled.pattern,
            compiled.flags,
            credentials=credentials,
            fullmatch=lambda origin, c=compiled: c.fullmatch(origin) is not None,  # type: ignore[misc]
            host_of=_shape_host,
            tolerate_insecure=tolerate_insecure,
            tolerate_public_suffixes=tolerate_public_suffixes,
            is_public=lambda domain: _public_suffix_list().is_public(domain),
            registrable=lambda host: _public_suffix_list().privatesuffix(host),
            is_loopback=_is_loopback_host,
        )
        problems.extend(
            Problem(found_problem.code, "allow_origin_regex", compiled.pattern, found_problem.message)
            for found_problem in found
        )
        regexes.append(compiled)
    if regex is None or isinstance(regex, (str, re.Pattern)):
        normalized: re.Pattern[str] | tuple[re.Pattern[str], ...] | None = regexes[0] if regexes else None
    else:
        normalized = tuple(regexes)

    if not items and regex is None and not dynamic:
        problems.append(Problem(
            "no-origins", "allow_origins", (),
            f"no origin is allowed, so the middleware would refuse every "
            f"cross-origin request. List origins, e.g. allow_origins=[{_EXAMPLE}], "
            "or allow_origins='*' for a public API without credentials.",
        ))

    return CompiledOrigins(allow_all, OriginMatcher(patterns, tuple(regexes)), normalized)


def _regex_items(regex: object, problems: list[Problem]) -> list[str | re.Pattern[str]]:
    """``allow_origin_regex`` as a list: one ``str`` or compiled pattern, or
    an iterable of them (each checked and reported on its own)."""
    if regex is None:
        return []
    if isinstance(regex, (str, re.Pattern)):
        candidates: list[object] = [regex]
    elif isinstance(regex, (bytes, bytearray)) or not isinstance(regex, Iterable):
        candidates = [regex]
    else:
        candidates = list(regex)
        if not candidates:
            problems.append(Problem(
                "invalid-type", "allow_origin_regex", regex,
                "an empty list of regexes allows nothing; pass None instead.",
            ))
    items: list[str | re.Pattern[str]] = []
    for candidate in candidates:
        if isinstance(candidate, str) or (
            isinstance(candidate, re.Pattern) and isinstance(candidate.pattern, str)
        ):
            items.append(candidate)
        else:
            problems.append(Problem(
                "invalid-type", "allow_origin_regex", candidate,
                "expected a regular expression as a str (or a compiled str pattern), or a "
                "list of them.",
            ))
    return items


def is_origin_shaped(origin: str) -> bool:
    """True when ``origin`` has the shape of a serialized tuple origin as
    browsers send it (``null`` and malformed values do not)."""
    return len(origin) <= MAX_ORIGIN_LENGTH and _ORIGIN_SHAPE.fullmatch(origin) is not None


def _shape_host(origin: str) -> str | None:
    """The host of ``origin`` when it has the shape matched against patterns."""
    shape = _ORIGIN_SHAPE.fullmatch(origin)
    return shape.group(2) if shape is not None else None


def untrusted_reason(origin: str, *, tolerate_insecure: bool, tolerate_public_suffixes: bool) -> str | None:
    """Why a credentialed policy must not trust ``origin`` from a dynamic
    source (``allow_origin_predicate``, an origin store), whatever that
    source says; ``None`` when it may.

    The rules of exact ``allow_origins`` entries with credentials, checked
    per request in bounded work: the origin is serialized as browsers send
    it (``https://127.1`` and ``https://a.example:443`` are not); an
    ``http:`` (or ``ws:``, ``ftp:``) origin only for a loopback host, unless
    ``tolerate_insecure``; its host is not a public suffix (``https://co.uk``,
    ``https://github.io``), unless ``tolerate_public_suffixes``.
    """
    shape = _ORIGIN_SHAPE.fullmatch(origin) if len(origin) <= MAX_ORIGIN_LENGTH else None
    if shape is None:
        return "it is not a serialized origin"
    scheme, host, port = shape.groups()
    is_address = host.startswith("[")
    if scheme in _SPECIAL_SCHEMES:
        if port is not None and _DEFAULT_PORTS[scheme] == port:
            return "browsers never send the default port"
        try:
            canonical, is_address = parse_host(host)
        except HostError as error:
            return f"browsers never send this host: {error}"
        if canonical != host:
            return f"browsers send this host as {canonical!r}"
    if scheme in ("http", "ws", "ftp") and not tolerate_insecure and not _is_loopback_host(host):
        return (
            f"with credentials an {scheme}: origin lets anyone on the network path act as the "
            "user (only loopback hosts may use http:)"
        )
    bare = host.rstrip(".")
    if (
        not tolerate_public_suffixes
        and not is_address
        and not _is_loopback_host(host)
        and _public_suffix_list().is_public(bare)
    ):
        return f"{bare!r} is a public suffix: anyone can register a site under it"
    return None


def registrable_domain(host: str) -> str | None:
    """The registrable domain of a DNS host per the public suffix list
    (``"app.example.co.uk"`` -> ``"example.co.uk"``), ``None`` for a public suffix."""
    result: str | None = _public_suffix_list().privatesuffix(host.rstrip("."))
    return result


def is_loopback_origin(origin: str) -> bool:
    """True for an origin whose host can only be this machine (``http://localhost:3000``)."""
    authority = origin.partition("://")[2]
    host = authority if authority.endswith("]") else authority.rsplit(":", 1)[0]
    return _is_loopback_host(host.removeprefix("*."))


def parse_exact_origin(origin: str, argument: str, problems: list[Problem]) -> bool:
    """Validate one exact serialized origin (no wildcard) as ``allow_origins``
    does, reporting under ``argument``; True when it is one."""
    if "*" in origin:
        problems.append(Problem(
            "invalid-type", argument, origin,
            "expected an exact serialized origin, e.g. 'https://shop.customer.example'.",
        ))
        return False
    return _parse_pattern(origin, argument, problems) is not None

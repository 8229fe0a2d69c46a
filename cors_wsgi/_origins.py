"""Origin patterns: validated once at construction, compiled by ``_engine``.

A configured pattern is one of (see ``CORSPolicy`` for the user-facing rules):

* an exact serialized origin, ``"https://app.example.com"``
  (https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin);
* a subdomain wildcard, ``"https://*.example.com"``: one or more DNS labels
  before ``example.com``, never ``example.com`` itself;
* an any-port wildcard, ``"http://localhost:*"``: any port, or none;
* both at once, ``"https://*.example.com:*"``.

This module turns ``allow_origins`` and ``allow_origin_regex`` into
:class:`~cors_wsgi._engine.OriginPattern` records and proven regexes, with
every problem found; the request-time matcher is ``_engine.OriginMatcher``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cors_wsgi._engine import OriginPattern
from cors_wsgi._host import (
    HostError,
    is_loopback_host,
    is_public_suffix,
    parse_host,
    registrable_domain,
    split_authority,
)
from cors_wsgi._protocol import DEFAULT_PORTS, ORIGIN_SHAPE, SPECIAL_SCHEMES
from cors_wsgi._regex import check_regex
from cors_wsgi.errors import Problem

__all__ = ["CompiledOrigins", "compile_origins", "parse_exact_origin", "split_origin"]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_EXAMPLE = "'https://app.example.com'"


def _parse_pattern(item: str, argument: str, problems: list[Problem]) -> OriginPattern | None:
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
    if _looks_like_regex(item):
        problem(
            "regex-in-allow-origins",
            "this is a regular expression, but allow_origins compares origins literally (only "
            "'https://*.example.com' and 'http://localhost:*' are wildcards), so it would never "
            "match. Pass it as allow_origin_regex, where it must match the whole origin (as "
            "flask-cors' origins regexes do; '^' and '$' may be left out).",
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
    host, port = split_authority(hostport if at else authority)

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
        elif DEFAULT_PORTS.get(scheme.lower()) == port:
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
    special = scheme.lower() in SPECIAL_SCHEMES
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
    return OriginPattern(scheme, canonical_host, canonical_port, subdomains)


#: What only a regex holds: an escape, an anchor, a group, an alternation, a
#: '+', '.*' at either end, ']*', '?' in 'https?:' or after a group or class
#: (elsewhere it starts a query), or a '[' that opens no bracketed host.
_REGEX_SIGNS = re.compile(
    r"[\\^$|(){}+]|^\.\*|\.\*$|\]\*|\?(?=:)|[)\]]\?|\[(?![^\]]+\](?::[0-9*]*)?$)"
)


def _looks_like_regex(item: str) -> bool:
    """True for ``r"https?://.*\\.example\\.com"`` and ``r".*.example.com"``,
    false for origins, wildcards and mistyped origins (``"https://*.a.com"``)."""
    return _REGEX_SIGNS.search(item) is not None


@dataclass(frozen=True)
class CompiledOrigins:
    """``allow_origins`` and ``allow_origin_regex``, validated."""

    allow_all: bool
    patterns: tuple[OriginPattern, ...]
    regexes: tuple[re.Pattern[str], ...]
    #: ``allow_origin_regex`` as the policy keeps it: one pattern, a tuple, or ``None``.
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

    patterns: list[OriginPattern] = []
    for item in items:
        if item == "*":
            continue
        pattern = _parse_pattern(item, "allow_origins", problems)
        if pattern is None:
            continue
        patterns.append(pattern)
        if not credentials:
            continue
        if pattern.scheme == "http" and not is_loopback_host(pattern.host) and not tolerate_insecure:
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
            and is_public_suffix(pattern.host)
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
            is_public=is_public_suffix,
            registrable=registrable_domain,
            is_loopback=is_loopback_host,
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

    return CompiledOrigins(allow_all, tuple(patterns), tuple(regexes), normalized)


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


def _shape_host(origin: str) -> str | None:
    """The host of ``origin`` when it has the shape matched against patterns."""
    shape = ORIGIN_SHAPE.fullmatch(origin)
    return shape.group(2) if shape is not None else None


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


def split_origin(origin: str) -> tuple[str, str, str | None]:
    """``"https://app.example.com:8443"`` -> ``("https", "app.example.com", "8443")``
    for an origin already validated (``[::1]`` keeps its brackets)."""
    scheme, _, authority = origin.partition("://")
    host, port = split_authority(authority)
    return scheme, host, port

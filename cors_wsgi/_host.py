"""Hosts and origins as browsers serialize them (the WHATWG URL Standard's
host parser), in one small module for the policy's validation, the
credentialed trust rule and the browser model (``fetch.py``).

Hand-written rather than a WHATWG URL library: ``ada-url`` parses URLs,
not bare hosts and origins, and would still need the checks below that a
browser never sends (zone ids, invalid punycode); the parser is about a
hundred lines over ``ipaddress`` and ``idna`` (UTS 46, a dependency).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import TYPE_CHECKING

from cors_wsgi._protocol import DEFAULT_PORTS, MAX_ORIGIN_LENGTH, ORIGIN_SHAPE, SPECIAL_SCHEMES

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

__all__ = [
    "HostError",
    "ends_in_a_number",
    "is_loopback_host",
    "is_public_suffix",
    "parse_host",
    "registrable_domain",
    "serialize_origin",
    "split_authority",
    "untrusted_reason",
]

_DNS_HOST = re.compile(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*\.?")
_IPV4 = re.compile(r"[0-9]+(?:\.[0-9]+){3}")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")


def is_loopback_host(host: str) -> bool:
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


def ends_in_a_number(host: str) -> bool:
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
    if ends_in_a_number(ascii_host):
        return _ipv4(ascii_host), True
    if not _DNS_HOST.fullmatch(ascii_host):
        raise HostError(
            "origin-not-serialized",
            f"{host!r} is not a host name: use letters, digits, '-' and non-empty "
            "dot-separated labels",
        )
    return ascii_host, False



def split_authority(authority: str) -> tuple[str, str | None]:
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


def serialize_origin(text: str) -> str:
    """``scheme://host[:port]`` as a browser serializes it: lower-case
    scheme, the host through :func:`parse_host`, no default port, e.g.
    ``"HTTPS://Bücher.Example:443"`` -> ``"https://xn--bcher-kva.example"``.

    :raises HostError: when it is no origin a browser can send (a path, user
    info, an invalid host or port).
    """
    scheme, sep, authority = text.partition("://")
    if not sep or not scheme or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme):
        raise HostError("origin-not-serialized", f"{text!r} is not scheme://host[:port]")
    if any(ch in authority for ch in "/?#@") or not authority:
        raise HostError("origin-not-serialized", f"{text!r} has a path, user info or no host")
    host, port = split_authority(authority)
    scheme = scheme.lower()
    canonical, _ = parse_host(host, special=scheme in SPECIAL_SCHEMES)
    if port is not None:
        if not port.isascii() or not port.isdigit() or not 0 < int(port) <= 65535:
            raise HostError("bad-port", f"the port {port!r} is not a number from 1 to 65535")
        port = str(int(port))
        if DEFAULT_PORTS.get(scheme) == port:
            port = None
    return f"{scheme}://{canonical}{':' + port if port else ''}"


@functools.cache
def _public_suffix_list() -> PublicSuffixList:
    # Imported and parsed on first use only: parsing takes milliseconds.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def is_public_suffix(domain: str) -> bool:
    """True for a public suffix (``"co.uk"``, ``"github.io"``), per the public suffix list."""
    return bool(_public_suffix_list().is_public(domain))


def registrable_domain(host: str) -> str | None:
    """The registrable domain of a DNS host per the public suffix list
    (``"app.example.co.uk"`` -> ``"example.co.uk"``), ``None`` for a public suffix."""
    result: str | None = _public_suffix_list().privatesuffix(host.rstrip("."))
    return result


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
    shape = ORIGIN_SHAPE.fullmatch(origin) if len(origin) <= MAX_ORIGIN_LENGTH else None
    if shape is None:
        return "it is not a serialized origin"
    scheme, host, port = shape.groups()
    is_address = host.startswith("[")
    if scheme in SPECIAL_SCHEMES:
        if port is not None and DEFAULT_PORTS[scheme] == port:
            return "browsers never send the default port"
        try:
            canonical, is_address = parse_host(host)
        except HostError as error:
            return f"browsers never send this host: {error}"
        if canonical != host:
            return f"browsers send this host as {canonical!r}"
    if scheme in ("http", "ws", "ftp") and not tolerate_insecure and not is_loopback_host(host):
        return (
            f"with credentials an {scheme}: origin lets anyone on the network path act as the "
            "user (only loopback hosts may use http:)"
        )
    bare = host.rstrip(".")
    if (
        not tolerate_public_suffixes
        and not is_address
        and not is_loopback_host(host)
        and is_public_suffix(bare)
    ):
        return f"{bare!r} is a public suffix: anyone can register a site under it"
    return None

"""The Fetch standard's tables and the shape of a serialized origin: one
copy, read by the server side (``policy.py``, ``_engine.py``) and the
browser side (``fetch.py``) alike, so the two cannot disagree.

Sections are cited by their anchors in https://fetch.spec.whatwg.org/.
"""

from __future__ import annotations

import re

__all__ = [
    "DEFAULT_PORTS",
    "FORBIDDEN_METHODS",
    "FORBIDDEN_REQUEST_HEADERS",
    "FORBIDDEN_REQUEST_HEADER_PREFIXES",
    "FORBIDDEN_RESPONSE_HEADERS",
    "HTTP_WHITESPACE",
    "MAX_ORIGIN_LENGTH",
    "METHOD_OVERRIDE_HEADERS",
    "NORMALIZED_METHODS",
    "ORIGIN_SHAPE",
    "SAFELISTED_METHODS",
    "SAFELISTED_RESPONSE_HEADERS",
    "SAFELISTED_TOTAL_LIMIT",
    "SAFELISTED_VALUE_LIMIT",
    "SPECIAL_SCHEMES",
    "TOKEN_CHARS",
    "is_forbidden_method",
    "is_forbidden_request_header",
    "is_safelisted_request_header",
    "is_token",
    "normalize_method",
]

#: https://fetch.spec.whatwg.org/#cors-safelisted-method
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})
#: https://fetch.spec.whatwg.org/#forbidden-method (compared case-insensitively)
FORBIDDEN_METHODS = frozenset({"CONNECT", "TRACE", "TRACK"})
#: https://fetch.spec.whatwg.org/#concept-method-normalize
NORMALIZED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
#: https://fetch.spec.whatwg.org/#forbidden-request-header, lower-case, with
#: ``Feature-Policy`` and ``Permissions-Policy``, which browsers also refuse
#: to let a script set; every name with a prefix below is forbidden too.
FORBIDDEN_REQUEST_HEADERS = frozenset({
    "accept-charset", "accept-encoding", "access-control-request-headers",
    "access-control-request-method", "connection", "content-length", "cookie",
    "cookie2", "date", "dnt", "expect", "feature-policy", "host", "keep-alive",
    "origin", "permissions-policy", "referer", "set-cookie", "te", "trailer",
    "transfer-encoding", "upgrade", "via",
})
FORBIDDEN_REQUEST_HEADER_PREFIXES = ("proxy-", "sec-")
#: Forbidden only when their value names a forbidden method.
METHOD_OVERRIDE_HEADERS = frozenset({"x-http-method", "x-http-method-override", "x-method-override"})
#: https://fetch.spec.whatwg.org/#forbidden-response-header-name
FORBIDDEN_RESPONSE_HEADERS = frozenset({"set-cookie", "set-cookie2"})
#: https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name (always readable)
SAFELISTED_RESPONSE_HEADERS = frozenset({
    "cache-control", "content-language", "content-length", "content-type",
    "expires", "last-modified", "pragma",
})
#: https://fetch.spec.whatwg.org/#cors-safelisted-request-header: longest value, in bytes.
SAFELISTED_VALUE_LIMIT = 128
#: https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names: most bytes of
#: safelisted values in one request before they all need a preflight.
SAFELISTED_TOTAL_LIMIT = 1024
_SAFELISTED_CONTENT_TYPES = frozenset({
    "application/x-www-form-urlencoded", "multipart/form-data", "text/plain",
})
#: https://fetch.spec.whatwg.org/#cors-unsafe-request-header-byte
_UNSAFE_BYTES = frozenset([chr(b) for b in range(0x20) if b != 0x09] + list('"():<>?@[\\]{}') + ["\x7f"])
_LANGUAGE_BYTES = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz *,-.;=")
#: https://fetch.spec.whatwg.org/#http-whitespace
HTTP_WHITESPACE = "\t\n\r "

#: RFC 9110 tchar: the characters of a method or a header name.
TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

#: Longest request origin that is parsed at all.  A DNS name has at most 253
#: characters; the rest leaves room for scheme and port.
MAX_ORIGIN_LENGTH = 512
#: The shape of a serialized tuple origin as browsers send it
#: (https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin):
#: lower-case scheme, lower-case ASCII host (DNS labels or a bracketed IPv6
#: address), an optional port without leading zeros.  Linear time: the
#: alternatives cannot overlap.  Groups: scheme, host, port.
ORIGIN_SHAPE = re.compile(
    r"([a-z][a-z0-9+.\-]*)://"
    r"([a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*|\[[0-9a-f:.]+\])"
    r"(?::([1-9][0-9]{0,4}))?"
)
#: Schemes whose hosts the URL Standard parses as domains and addresses
#: (https://url.spec.whatwg.org/#special-scheme); other schemes' hosts are opaque.
SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
#: https://url.spec.whatwg.org/#default-port
DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21"}


def is_token(value: str) -> bool:
    """True when ``value`` is a non-empty RFC 9110 token, e.g. ``"X-Token"``."""
    return bool(value) and TOKEN_CHARS.issuperset(value)


def normalize_method(method: str) -> str:
    """Upper-case DELETE, GET, HEAD, OPTIONS, POST, PUT in any case; keep any
    other method as is (https://fetch.spec.whatwg.org/#concept-method-normalize)."""
    upper = method.upper()
    return upper if upper in NORMALIZED_METHODS else method


def is_forbidden_method(method: str) -> bool:
    """CONNECT, TRACE, TRACK in any case (https://fetch.spec.whatwg.org/#forbidden-method)."""
    return method.upper() in FORBIDDEN_METHODS


def is_forbidden_request_header(name: str, value: str = "") -> bool:
    """A header a script can never set; ``fetch()`` drops it silently
    (https://fetch.spec.whatwg.org/#forbidden-request-header).

    ``X-HTTP-Method``, ``X-HTTP-Method-Override`` and ``X-Method-Override``
    are forbidden only when their value names a forbidden method.
    """
    lower = name.lower()
    if lower in FORBIDDEN_REQUEST_HEADERS or lower.startswith(FORBIDDEN_REQUEST_HEADER_PREFIXES):
        return True
    if lower in METHOD_OVERRIDE_HEADERS:
        return any(is_forbidden_method(item.strip(HTTP_WHITESPACE)) for item in value.split(","))
    return False


def _parse_mime_essence(value: str) -> str | None:
    """The essence (``type/subtype``, lower-case) of a MIME type, or ``None``
    on failure (https://mimesniff.spec.whatwg.org/#parse-a-mime-type)."""
    text = value.strip(HTTP_WHITESPACE)
    slash = text.find("/")
    if slash <= 0:
        return None
    kind = text[:slash]
    rest = text[slash + 1 :]
    subtype = rest.split(";", 1)[0].rstrip(HTTP_WHITESPACE)
    if not is_token(kind) or not is_token(subtype):
        return None
    return f"{kind}/{subtype}".lower()


def _is_simple_range(value: str) -> bool:
    """``bytes=N-`` or ``bytes=N-M`` with N <= M (https://fetch.spec.whatwg.org/#simple-range-header-value,
    without whitespace; ``bytes=-500`` is not safelisted)."""
    match = re.fullmatch(r"bytes=([0-9]*)-([0-9]*)", value, flags=re.ASCII)
    if match is None or not match.group(1):
        return False
    end = match.group(2)
    return not end or int(match.group(1)) <= int(end)


def is_safelisted_request_header(name: str, value: str) -> bool:
    """Whether ``(name, value)`` needs no preflight on its own
    (https://fetch.spec.whatwg.org/#cors-safelisted-request-header).

    Accept, Accept-Language, Content-Language, Content-Type (essence
    ``application/x-www-form-urlencoded``, ``multipart/form-data`` or
    ``text/plain``) and Range (``bytes=N-`` or ``bytes=N-M``), each with a
    value of at most 128 bytes and without the unsafe bytes.
    """
    if len(value.encode("latin-1", "replace")) > SAFELISTED_VALUE_LIMIT:
        return False
    lower = name.lower()
    if lower == "accept":
        return _UNSAFE_BYTES.isdisjoint(value)
    if lower in ("accept-language", "content-language"):
        return _LANGUAGE_BYTES.issuperset(value)
    if lower == "content-type":
        return _UNSAFE_BYTES.isdisjoint(value) and _parse_mime_essence(value) in _SAFELISTED_CONTENT_TYPES
    if lower == "range":
        return _is_simple_range(value)
    return False

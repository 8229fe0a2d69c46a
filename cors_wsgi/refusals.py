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
refusal creates no log record.  An exception raised by the hook is logged
and never changes the response.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REFUSAL_KINDS", "REFUSAL_REASONS", "Refusal"]

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

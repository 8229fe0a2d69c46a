"""Configuration errors: one exception carrying every problem found.

A :class:`CORSConfigError` is raised by :class:`~cors_wsgi.CORSPolicy`,
:class:`~cors_wsgi.CORSMiddleware` and the PasteDeploy filter factory when a
configuration is wrong or insecure.  It never stops at the first problem::

    >>> from cors_wsgi import CORSPolicy, CORSConfigError
    >>> try:
    ...     CORSPolicy(allow_origins=["*"], allow_credentials=True, max_age=-1)
    ... except CORSConfigError as error:
    ...     print(sorted(p.code for p in error.problems))
    ['max-age-out-of-range', 'wildcard-origin-with-credentials']

Each :class:`Problem` has a stable ``code`` (safe to match on in tests and
tooling), the ``argument`` it concerns (``"allow_origins"``), the offending
``value`` and a ``message`` that says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["PROBLEM_CODES", "CORSConfigError", "Problem"]

#: Every problem code, with what it means.  Codes are API: stable across
#: releases, safe to match on.  The table in docs/refused.rst is checked against this.
PROBLEM_CODES: dict[str, str] = {
    "no-origins": "no origin pattern and no regex: every request would be refused",
    "wildcard-origin-with-credentials": "'*' together with allow_credentials=True",
    "wildcard-origin-mixed": "'*' together with other origins or a regex",
    "null-origin": "'null' in allow_origins",
    "file-origin": "a file: origin in allow_origins",
    "origin-not-serialized": "an origin not as browsers send it (case, slash, path, default port, ...)",
    "regex-in-allow-origins": "a regular expression in allow_origins, which takes origins and wildcards",
    "bad-port": "a port of 0, above 65535, with leading zeros, or not a number",
    "misplaced-wildcard": "'*' anywhere but whole leading labels or the port",
    "insecure-origin-with-credentials": "an http: origin other than loopback, with credentials",
    "public-suffix-wildcard": "a credentialed wildcard over a public suffix ('https://*.github.io')",
    "invalid-regex": "allow_origin_regex does not compile",
    "regex-too-broad": "a credentialed regex that can match an origin you do not own",
    "regex-backtracking": "a regex with nested or overlapping repeats (ReDoS)",
    "regex-unsupported": "lookarounds, backreferences, possessive repeats or inner anchors in a regex",
    "regex-too-complex": "a regex too large to prove safe at start-up",
    "invalid-host": "a host browsers reject (bad IPv4 form, invalid punycode, IPv6 zone id)",
    "predicate-trusts-strangers": "a credentialed allow_origin_predicate that trusts origins no one should",
    "predicate-failed": "a credentialed allow_origin_predicate that raised when probed at construction",
    "origin-cache-out-of-range": "origin_cache_seconds not in 0..86400, or origin_cache_size not in 1..10**6",
    "predicate-timeout-out-of-range": "predicate_timeout_seconds not in 0.001..60",
    "predicate-concurrency-out-of-range": "predicate_concurrency not in 1..64",
    "store-failed": "an allow_origin_store whose first snapshot() raised at construction",
    "store-seconds-out-of-range": "store_refresh_seconds or max_staleness_seconds not in 0.05..86400",
    "staleness-below-refresh": "max_staleness_seconds not more than store_refresh_seconds (a false alarm)",
    "invalid-preflight-status": "a preflight_status other than 204 or 200",
    "shadowed-path-pattern": "a path pattern that an earlier pattern always wins over",
    "invalid-method": "a method that is not an HTTP token",
    "forbidden-method": "CONNECT, TRACE or TRACK",
    "invalid-header-name": "a header name that is not an HTTP token",
    "forbidden-header": "a forbidden request header (Cookie, Origin, Sec-*, Proxy-*, ...)",
    "expose-set-cookie": "Set-Cookie in expose_headers",
    "expose-wildcard-with-credentials": "expose_headers='*' with credentials",
    "max-age-out-of-range": "max_age outside 0..86400 seconds",
    "max-age-not-whole-seconds": "a timedelta max_age with a fraction of a second",
    "private-network-with-wildcard-origin": "allow_private_network=True with allow_origins='*'",
    "invalid-type": "a value of the wrong type",
    "missing-policy": "CORSMiddleware(app) without a policy (as Django's MIDDLEWARE calls it)",
    "invalid-path-pattern": "a path pattern not starting with '/' or with a misplaced '*'",
    "no-paths": "an empty mapping of path patterns",
    "unknown-key": "an ini or settings key that is not a cors_wsgi setting",
    "invalid-value": "an ini or settings string that does not convert",
    "key-in-default-section": "a policy key in PasteDeploy's [DEFAULT] section",
    "no-hosts": "HostGuard with an empty allowed_hosts: every request would be refused",
    "invalid-host-pattern": "an allowed_hosts entry that is not a host, '*.domain' or either with a port",
    "invalid-mode": "a guard mode other than 'enforce' or 'report'",
    "websocket-origins-missing": "WebSocketOriginGuard with neither or both of allowed_origins and policy",
    "wildcard-origin-websocket": "WebSocketOriginGuard given a policy with allow_origins='*'",
    "invalid-resource-policy": "cross_origin_resource_policy not 'same-site', 'same-origin', "
                               "'cross-origin' or None",
    "bypass-covers-everything": "a CrossOriginProtection bypass path of '/' or '/*'",
    "invalid-protection-mode": "a CrossOriginProtection mode other than 'enforce' or 'report'",
    "cors-policy-without-credentials": "CrossOriginProtection(trust_cors_policy=) a CORSPolicy "
                                       "without allow_credentials",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration.

    :param code: stable, kebab-case identifier, e.g. ``"null-origin"``.
    :param argument: the constructor argument or ini key concerned,
        e.g. ``"allow_origins"``.
    :param value: the offending value as given (``repr`` is used when shown).
    :param message: what is wrong and how to fix it.
    """

    code: str
    argument: str
    value: object
    message: str

    def __post_init__(self) -> None:
        if self.code not in PROBLEM_CODES:
            raise AssertionError(f"undocumented problem code {self.code!r}")

    def __str__(self) -> str:
        return f"[{self.code}] {self.argument}={self.value!r}: {self.message}"


class CORSConfigError(ValueError):
    """Raised at construction time with **every** configuration problem found.

    :ivar problems: the list of :class:`Problem`, in the order found.
    """

    problems: list[Problem]

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = [f"{count} CORS configuration problem{'s' if count != 1 else ''}:"]
        lines.extend(f"  - {problem}" for problem in self.problems)
        super().__init__("\n".join(lines))

    @property
    def codes(self) -> list[str]:
        """The problems' codes, in order (a convenience for tests and tools)."""
        return [problem.code for problem in self.problems]

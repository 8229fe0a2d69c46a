"""The one table of flask-cors and django-cors-headers names and their
cors_wsgi counterparts.

Every settings key of django-cors-headers (``src/corsheaders/conf.py`` and
the removed keys its ``checks.py`` still reports) and every option of
flask-cors (``CONFIG_OPTIONS`` and the keyword arguments of ``CORS(...)``
and ``@cross_origin(...)``, ``flask_cors/core.py``) has one row: the cors_wsgi
argument it becomes (``None``: none, remove it) and how its value changes.
An unknown key or keyword that is one of these gets the row as its hint, and
``docs/migrating.rst`` shows the same rows (``tests/test_migration.py``
checks both ways).  In a row's ``change``, ``{argument}`` stands for the
cors_wsgi key as the user spells it (``CORS_ALLOW_ORIGIN_REGEX`` in
settings, ``allow_origin_regex`` in an ini file or in Python).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DJANGO_CORS_HEADERS", "FLASK_CORS", "PEER_KEYS", "PeerKey", "find", "hint", "spell"]

DJANGO_CORS_HEADERS = "django-cors-headers"
FLASK_CORS = "flask-cors"


@dataclass(frozen=True)
class PeerKey:
    """One name of a peer library.

    :param peer: ``"flask-cors"`` or ``"django-cors-headers"``.
    :param setting: the peer's settings key, e.g. ``"CORS_PREFLIGHT_MAX_AGE"``,
        or ``None`` when it has none.
    :param keyword: the peer's keyword argument, e.g. ``"supports_credentials"``,
        or ``None`` when it has none.
    :param argument: the cors_wsgi argument it becomes, e.g. ``"max_age"``;
        ``None`` when there is none (the behaviour is fixed: remove the key).
    :param change: how the value changes, a sentence without final stop;
        ``{allow_origins}`` and the like name cors_wsgi keys.
    """

    peer: str
    setting: str | None
    keyword: str | None
    argument: str | None
    change: str


def _django(setting: str, argument: str | None, change: str) -> PeerKey:
    return PeerKey(DJANGO_CORS_HEADERS, setting, None, argument, change)


def _flask(keyword: str, argument: str | None, change: str) -> PeerKey:
    return PeerKey(FLASK_CORS, "CORS_" + keyword.upper(), keyword, argument, change)


_SAME_ORIGINS = (
    "the same list of origins as browsers send them; 'https://*.example.com' and "
    "'http://localhost:*' wildcards may also be listed"
)
_SAME_REGEXES = (
    "the same list of regexes (one, or a list); each must match the whole origin, so '^' and "
    "'$' may be left out, and each is refused unless it is proven to match in linear time"
)
_ALLOW_ALL = (
    "True becomes {allow_origins} = '*'; False: remove it and list the origins in {allow_origins}"
)

#: Every peer name, django-cors-headers first, in the order of its docs.
PEER_KEYS: tuple[PeerKey, ...] = (
    _django("CORS_ALLOWED_ORIGINS", "allow_origins", _SAME_ORIGINS),
    _django(
        "CORS_ORIGIN_WHITELIST", "allow_origins", "the old name of CORS_ALLOWED_ORIGINS: " + _SAME_ORIGINS
    ),
    _django("CORS_ALLOWED_ORIGIN_REGEXES", "allow_origin_regex", _SAME_REGEXES),
    _django(
        "CORS_ORIGIN_REGEX_WHITELIST", "allow_origin_regex",
        "the old name of CORS_ALLOWED_ORIGIN_REGEXES: " + _SAME_REGEXES,
    ),
    _django("CORS_ALLOW_ALL_ORIGINS", "allow_origins", _ALLOW_ALL),
    _django(
        "CORS_ORIGIN_ALLOW_ALL", "allow_origins", "the old name of CORS_ALLOW_ALL_ORIGINS: " + _ALLOW_ALL
    ),
    _django(
        "CORS_URLS_REGEX", "paths",
        "a regex over the path becomes a list of path patterns, each a literal path that may "
        "end in '/*' (r'^/api/.*$' becomes ['/api/*']); the default is every path",
    ),
    _django(
        "CORS_ALLOW_METHODS", "allow_methods",
        "the same names; the default is none beyond GET, HEAD and POST, which are always allowed "
        "(django-cors-headers allows DELETE, GET, OPTIONS, PATCH, POST and PUT)",
    ),
    _django(
        "CORS_ALLOW_HEADERS", "allow_headers",
        "the same names; the default is none (django-cors-headers allows accept, authorization, "
        "content-type, user-agent, x-csrftoken and x-requested-with)",
    ),
    _django("CORS_EXPOSE_HEADERS", "expose_headers", "the same names"),
    _django(
        "CORS_PREFLIGHT_MAX_AGE", "max_age",
        "the same whole seconds, 0 to 86400; the default is to send no Access-Control-Max-Age "
        "(browsers then keep a preflight 5 seconds; django-cors-headers sends 86400)",
    ),
    _django(
        "CORS_ALLOW_CREDENTIALS", "allow_credentials",
        "the same True or False; with True, '*', http: origins other than loopback and regexes "
        "that match strangers are refused",
    ),
    _django("CORS_ALLOW_PRIVATE_NETWORK", "allow_private_network", "the same True or False"),
    _django(
        "CORS_REPLACE_HTTPS_REFERER", None,
        "removed from django-cors-headers and never part of cors_wsgi, which does not touch "
        "Referer: remove it (Django's CSRF_TRUSTED_ORIGINS covers cross-origin HTTPS forms)",
    ),
    _django(
        "CORS_MODEL", None,
        "removed from django-cors-headers: origins kept in a model become "
        "{allow_origin_predicate} (see 'Origins kept in a database')",
    ),
    _flask(
        "origins", "allow_origins",
        "exact origins, 'https://*.example.com', 'http://localhost:*' or '*'; a regex, or a list "
        "of regexes, goes to {allow_origin_regex} instead, matched against the whole origin; "
        "flask-cors defaults to '*', cors_wsgi has no default",
    ),
    _flask(
        "methods", "allow_methods",
        "the same names; the default is none beyond GET, HEAD and POST, which are always allowed "
        "(flask-cors allows every common method)",
    ),
    _flask(
        "allow_headers", "allow_headers",
        "the same names, or '*' (which does not cover Authorization: list it too); no regexes; "
        "the default is none (flask-cors: '*')",
    ),
    _flask("expose_headers", "expose_headers", "the same names"),
    _flask(
        "supports_credentials", "allow_credentials",
        "the same True or False; refused together with '*' origins",
    ),
    _flask(
        "max_age", "max_age",
        "whole seconds as an int or a timedelta, 0 to 86400 (no strings in Python code)",
    ),
    _flask(
        "send_wildcard", None,
        "no switch: {allow_origins} = '*' always answers '*', and a listed origin is always "
        "echoed; remove it",
    ),
    _flask(
        "automatic_options", None,
        "always on: preflights (OPTIONS with Origin and Access-Control-Request-Method) are "
        "answered by cors_wsgi and never reach Flask; remove it",
    ),
    _flask(
        "vary_header", None,
        "always on: Origin is merged into Vary whenever the answer depends on it; remove it",
    ),
    _flask(
        "resources", "paths",
        "regex keys become path patterns, each a literal path that may end in '/*' "
        "for every path under it; different options per resource become a mapping of "
        "path pattern to CORSPolicy given to CORSMiddleware",
    ),
    _flask(
        "intercept_exceptions", "catch_exceptions",
        "the same True or False; off by default (flask-cors: on)",
    ),
    _flask(
        "always_send", None,
        "not needed: an allowed origin always gets its headers and a request without Origin gets "
        "none; remove it",
    ),
    _flask("allow_private_network", "allow_private_network", "the same True or False"),
)


def find(key: str, *, setting: bool) -> list[PeerKey]:
    """The rows for ``key`` as cors_wsgi received it, argument-named
    (``"preflight_max_age"`` for ``CORS_PREFLIGHT_MAX_AGE``): the peers'
    settings keys ``CORS_<KEY>`` when ``setting``, else their keyword arguments."""
    if setting:
        return [row for row in PEER_KEYS if row.setting == "CORS_" + key.upper()]
    return [row for row in PEER_KEYS if row.keyword == key]


def hint(row: PeerKey, name: Callable[[str], str], *, setting: bool) -> str:
    """``row`` as a fix-it sentence, cors_wsgi keys spelled by ``name``
    (``"max_age"`` -> ``"CORS_MAX_AGE"``), e.g. ``"CORS_PREFLIGHT_MAX_AGE
    (django-cors-headers) is CORS_MAX_AGE in cors_wsgi: the same whole seconds ..."``."""
    own = row.setting if setting and row.setting else row.keyword or row.setting
    change = spell(row.change, name)
    if row.argument is None:
        return f"{own} ({row.peer}) has no counterpart in cors_wsgi: {change}."
    return f"{own} ({row.peer}) is {name(row.argument)} in cors_wsgi: {change}."


def spell(change: str, name: Callable[[str], str]) -> str:
    """``change`` with each ``{argument}`` spelled by ``name``."""
    return change.format_map(_Spelled(name))


class _Spelled(dict[str, str]):
    def __init__(self, name: Callable[[str], str]) -> None:
        super().__init__()
        self._name = name

    def __missing__(self, key: str) -> str:
        return self._name(key)

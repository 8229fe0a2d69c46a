"""PasteDeploy filter: configure cors_wsgi from an ini file.

::

    [filter:cors]
    use = egg:cors_wsgi
    allow_origins = https://app.example.com https://*.example.com
    allow_methods = GET, POST, PUT
    allow_headers = Content-Type Authorization
    allow_credentials = true
    max_age = 600
    paths = /api/*

    [pipeline:main]
    pipeline = cors myapp

Keys are the :class:`~cors_wsgi.CORSPolicy` argument names, plus ``debug``,
``paths`` (path patterns that get the policy; default: every path) and
``catch_exceptions``.
Lists split on commas, spaces and newlines, except ``allow_origin_regex``:
one regex per line (a regex may hold commas and spaces); booleans accept only
true/false, yes/no, on/off, 1/0; integers are strict.

An unknown key or a bad value fails ``loadapp`` with
:class:`~cors_wsgi.CORSConfigError` naming the key.  ``[DEFAULT]`` values are
never merged into the policy: PasteDeploy silently drops a filter key that
``[DEFAULT]`` also sets, so a policy key found there is an error telling you
to move it into the filter section.  Only ``debug`` may come from
``[DEFAULT]`` (as Pyramid apps often set it there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from cors_wsgi._settings import MIDDLEWARE_CONVERTERS, POLICY_CONVERTERS
from cors_wsgi.errors import Problem
from cors_wsgi.middleware import CORSMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["filter_factory"]


def filter_factory(
    global_conf: Mapping[str, str], **local_conf: str
) -> Callable[[WSGIApplication], CORSMiddleware]:
    """PasteDeploy ``paste.filter_factory`` (entry points ``main`` and ``cors``).

    :raises CORSConfigError: at ``loadapp`` time, naming every bad key.
    """
    problems = [
        Problem(
            "key-in-default-section", key, value,
            "PasteDeploy drops a filter key that [DEFAULT] also sets, so this "
            "setting would be silently lost: move it out of [DEFAULT] into the "
            "filter section.",
        )
        for key, value in global_conf.items()
        if key in POLICY_CONVERTERS or (key in MIDDLEWARE_CONVERTERS and key != "debug")
    ]
    settings: dict[str, object] = dict(local_conf)
    if "debug" not in settings and "debug" in global_conf:
        settings["debug"] = global_conf["debug"]
    return CORSMiddleware.wrapper_from_settings(settings, problems=problems)

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

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from cors_wsgi._settings import MIDDLEWARE_CONVERTERS, POLICY_CONVERTERS, convert, rename
from cors_wsgi.errors import CORSConfigError, Problem
from cors_wsgi.middleware import CORSMiddleware, _compile_paths
from cors_wsgi.policy import CORSPolicy

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["filter_factory", "middleware_from_settings"]


def middleware_from_settings(
    settings: Mapping[str, object],
    problems: list[Problem] | None = None,
    *,
    key_name: Callable[[str], str] = str,
) -> Callable[[WSGIApplication], CORSMiddleware]:
    """Validate ``settings`` (argument-named keys, string or Python values)
    now; return ``wrap(app)``, which builds the middleware.

    :param key_name: how an argument is spelled to the user in problems,
        e.g. ``lambda a: "CORS_" + a.upper()``.
    :raises CORSConfigError: with every problem, including those passed in.
    """
    found = list(problems or ())
    policy_kwargs, middleware_kwargs = convert(settings, found, key_name=key_name)
    policy: CORSPolicy | None = None
    try:
        policy = CORSPolicy(**policy_kwargs)  # type: ignore[arg-type]
    except CORSConfigError as error:
        found.extend(rename(error.problems, key_name))

    paths = middleware_kwargs.pop("paths", ())
    if isinstance(paths, str) or not isinstance(paths, Iterable):
        found.append(Problem("invalid-type", key_name("paths"), paths, "expected a list of path patterns."))
        paths = ()
    target: CORSPolicy | dict[str, CORSPolicy] | None = policy
    if policy is not None and paths:
        target = dict.fromkeys(paths, policy)
        try:
            _compile_paths(target)
        except CORSConfigError as error:
            found.extend(rename(error.problems, key_name))

    flags: dict[str, bool] = {}
    for name in ("debug", "catch_exceptions"):
        value = middleware_kwargs.get(name, False)
        if isinstance(value, bool):
            flags[name] = value
        else:
            found.append(Problem("invalid-type", key_name(name), value, "expected True or False."))
    if found or target is None:
        raise CORSConfigError(found)
    settled = target

    def wrap(app: WSGIApplication) -> CORSMiddleware:
        return CORSMiddleware(
            app, settled, debug=flags["debug"], catch_exceptions=flags["catch_exceptions"]
        )

    return wrap


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
    return middleware_from_settings(settings, problems)

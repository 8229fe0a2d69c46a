"""One strict key -> converter table for configuration given as strings.

Shared by the PasteDeploy filter (``paste.py``) and every other adapter, so
an ini file and Python code build the very same ``CORSPolicy(...)`` call.
Strings are converted strictly; a value that is already a Python value
(``True``, ``600``, a list) is passed to the constructor as it is, to be
validated there.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Iterable, Mapping

from cors_wsgi import _migration
from cors_wsgi.errors import Problem
from cors_wsgi.refusals import combine

__all__ = [
    "MIDDLEWARE_CONVERTERS",
    "POLICY_CONVERTERS",
    "PROTECTION_CONVERTERS",
    "convert",
    "middleware_arguments",
    "prefixed",
    "rename",
    "unknown_key_message",
]

_SEPARATORS = re.compile(r"[\s,]+")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_BOOLEANS = {
    "true": True, "yes": True, "on": True, "1": True,
    "false": False, "no": False, "off": False, "0": False,
}


def to_list(value: str) -> tuple[str, ...]:
    """``"GET, POST\\n PUT"`` -> ``("GET", "POST", "PUT")``: commas, spaces, newlines."""
    return tuple(item for item in _SEPARATORS.split(value) if item)


def to_bool(value: str) -> bool:
    """Only true/false, yes/no, on/off, 1/0 (any case)."""
    try:
        return _BOOLEANS[value.strip().lower()]
    except KeyError:
        raise ValueError("expected true/false, yes/no, on/off or 1/0") from None


def to_optional_int(value: str) -> int | None:
    """Whole number of seconds, e.g. ``"600"``; empty or ``none`` for None."""
    text = value.strip()
    if text == "" or text.lower() == "none":
        return None
    if not _INTEGER.fullmatch(text):
        raise ValueError("expected a whole number of seconds, e.g. 600")
    return int(text)


def to_int(value: str) -> int:
    """A whole number, e.g. ``"60"``."""
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise ValueError("expected a whole number, e.g. 60")
    return int(text)


def to_seconds(value: str) -> float:
    """A number of seconds, e.g. ``"1.5"`` or ``"2"``."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError("expected a number of seconds, e.g. 1.5") from None
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise ValueError("expected a finite number of seconds, e.g. 1.5")
    return seconds


def _imported(value: str, what: str) -> object:
    """``"package.module:name"`` -> the object, imported now.

    :raises ValueError: saying what did not import or resolve.
    """
    text = value.strip()
    module_name, colon, attribute = text.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"expected a dotted reference 'package.module:{what}'")
    if not _dotted(module_name) or not _dotted(attribute):
        raise ValueError(
            f"expected a dotted reference 'package.module:{what}' of Python identifiers "
            f"(at most {MAX_DOTTED_PARTS} parts each, no relative import), got {text[:200]!r}"
        )
    import importlib

    try:
        target: object = importlib.import_module(module_name)
    except Exception as error:  # ImportError, or whatever the module raised at import
        raise ValueError(f"cannot import {module_name!r}: {type(error).__name__}: {error}") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"{module_name!r} has no attribute {attribute!r}") from None
    return target


#: The most dotted parts of a module or attribute path in a settings
#: reference (an import goes one level deeper per part).
MAX_DOTTED_PARTS = 32


def _dotted(name: str) -> bool:
    parts = name.split(".")
    return len(parts) <= MAX_DOTTED_PARTS and all(part.isidentifier() for part in parts)


def to_callable(value: str) -> object:
    """``"package.module:callable"`` -> the callable, imported now.

    :raises ValueError: saying what did not import or resolve, or that it is not callable.
    """
    target = _imported(value, "callable")
    if not callable(target):
        raise ValueError(f"{value.strip()!r} is not callable")
    return target


def to_hook(value: str, name: str = "on_decision") -> object:
    """An ``on_refusal`` / ``on_decision`` hook from a string: one or more
    ``"package.module:hook"`` (the callable itself) or
    ``"package.module:factory()"`` (called now with no arguments, its result
    is the hook: ``"cors_wsgi.metrics:prometheus()"``), separated by
    whitespace; several are called in order, what one raises logged and the
    next still run (logged as ``name``'s errors).  Empty: ``None``.

    :raises ValueError: saying what did not import or resolve, or is not callable.
    """
    hooks: list[Callable[[object], object]] = []
    spelled_hooks = value.split()
    if "()" in spelled_hooks:
        raise ValueError("'()' stands alone: write 'package.module:factory()' with no space before '()'")
    for spelled in spelled_hooks:
        factory = spelled.endswith("()")
        target = to_callable(spelled[:-2] if factory else spelled)
        if not factory and getattr(target, "hook_factory", False) is True:
            raise ValueError(f"{spelled!r} builds a hook: write {spelled + '()'!r} to call it")
        if factory:
            try:
                target = target()  # type: ignore[operator]
            except Exception as error:
                raise ValueError(f"{spelled!r} raised {type(error).__name__}: {error}") from error
            if not callable(target):
                raise ValueError(f"{spelled!r} returned {target!r}, which is not callable")
        hooks.append(target)  # type: ignore[arg-type]
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]
    return combine(*hooks, name=name)


def to_store(value: str) -> object:
    """``"package.module:store"`` -> that ``allow_origin_store`` object, imported now.

    :raises ValueError: saying what did not import or resolve.
    """
    return _imported(value, "store")


def to_optional_seconds(value: str) -> float | None:
    """A number of seconds, or empty / ``none`` for None."""
    text = value.strip()
    return None if text == "" or text.lower() == "none" else to_seconds(text)


def to_regexes(value: str) -> str | tuple[str, ...] | None:
    """One regex per line (a regex may hold commas, as in ``{1,3}``): one
    line -> ``str``, several -> a tuple, none -> ``None``.

    :raises ValueError: for whitespace inside a line, which no origin holds
        (two regexes written on one line).
    """
    lines = [line.strip() for line in value.splitlines() if line.strip()]
    if not lines:
        return None
    for line in lines:
        if any(char.isspace() for char in line):
            parts = " and ".join(repr(part) for part in line.split())
            raise ValueError(
                f"{line!r} holds whitespace, which no origin does: write one regex per line, "
                f"each indented under the key ({parts} on lines of their own)"
            )
    return lines[0] if len(lines) == 1 else tuple(lines)


POLICY_CONVERTERS: Mapping[str, Callable[[str], object]] = {
    "allow_origins": to_list,
    "allow_origin_regex": to_regexes,
    "allow_methods": to_list,
    "allow_headers": to_list,
    "expose_headers": to_list,
    "allow_credentials": to_bool,
    "max_age": to_optional_int,
    "allow_private_network": to_bool,
    "dangerously_tolerate_insecure_origins": to_bool,
    "dangerously_tolerate_subdomains_of_public_suffixes": to_bool,
    "allow_origin_predicate": to_callable,
    "origin_cache_seconds": to_int,
    "origin_cache_size": to_int,
    "predicate_timeout_seconds": to_seconds,
    "predicate_concurrency": to_int,
    "timing_allow_origin": to_bool,
    "cross_origin_resource_policy": lambda value: value.strip() or None,
    "preflight_status": to_int,
    "probe_origins": to_list,
    "allow_origin_store": to_store,
    "store_refresh_seconds": to_seconds,
    "max_staleness_seconds": to_optional_seconds,
}

MIDDLEWARE_CONVERTERS: Mapping[str, Callable[[str], object]] = {
    "debug": to_bool,
    "paths": to_list,
    "catch_exceptions": to_bool,
    "on_refusal": lambda value: to_hook(value, "on_refusal"),
    "on_decision": to_hook,
}

#: ``CrossOriginProtection`` (``cors_wsgi.protection``) keys: the PasteDeploy
#: filter ``egg:cors_wsgi#protection`` and ``CrossOriginProtection.from_settings``.
PROTECTION_CONVERTERS: Mapping[str, Callable[[str], object]] = {
    "trusted_origins": to_list,
    "bypass_paths": to_list,
    "allow_same_site": to_bool,
    "mode": str.strip,
    "strict": to_bool,
    "public_origins": to_list,
    "on_refusal": lambda value: to_hook(value, "on_refusal"),
}


def prefixed(settings: object, prefix: str) -> dict[str, object]:
    """The ``prefix``-ed entries of a mapping (Flask ``app.config``, a dict) or
    of an object's attributes (Django ``settings``), keyed by argument name:
    ``{"CORS_MAX_AGE": 600}`` -> ``{"max_age": 600}``."""
    if isinstance(settings, Mapping):
        items = list(settings.items())
    else:
        items = [(name, getattr(settings, name)) for name in dir(settings) if name.startswith(prefix)]
    return {
        key[len(prefix):].lower(): value
        for key, value in items
        if isinstance(key, str) and key.startswith(prefix) and len(key) > len(prefix)
    }


def rename(problems: list[Problem], key_name: Callable[[str], str]) -> list[Problem]:
    """Problems that name a constructor argument, renamed to the user's key."""
    known = {*POLICY_CONVERTERS, *MIDDLEWARE_CONVERTERS}
    return [
        dataclasses.replace(p, argument=key_name(p.argument)) if p.argument in known else p
        for p in problems
    ]


def convert(
    settings: Mapping[str, object],
    problems: list[Problem],
    *,
    key_name: Callable[[str], str] = str,
) -> tuple[dict[str, object], dict[str, object]]:
    """Split ``settings`` into ``(policy_kwargs, middleware_kwargs)``.

    :param key_name: how a key is spelled to the user (``"CORS_MAX_AGE"``),
        given the argument name (``"max_age"``).
    Unknown keys and unconvertible values are appended to ``problems``.
    """
    policy: dict[str, object] = {}
    middleware: dict[str, object] = {}
    listed_with: str | None = None  # the key whose problem lists every known key
    for key, value in settings.items():
        if key in POLICY_CONVERTERS:
            target, converter = policy, POLICY_CONVERTERS[key]
        elif key in MIDDLEWARE_CONVERTERS:
            target, converter = middleware, MIDDLEWARE_CONVERTERS[key]
        else:
            message = unknown_key_message(key, key_name, listed_with=listed_with)
            if listed_with is None and _KNOWN in message:
                listed_with = key_name(key)
            problems.append(Problem("unknown-key", key_name(key), value, message))
            continue
        if isinstance(value, str):
            try:
                target[key] = converter(value)
            except ValueError as error:
                problems.append(Problem("invalid-value", key_name(key), value, f"{error}."))
        else:
            target[key] = value
    return policy, middleware


_KNOWN = " Known: "


def unknown_key_message(
    key: str, key_name: Callable[[str], str] = str, *, listed_with: str | None = None
) -> str:
    """Why ``key`` (argument-named: ``"preflight_max_age"``) is refused and
    what to write instead: the exact counterpart of a flask-cors or
    django-cors-headers name (from ``_migration.PEER_KEYS``), else the
    closest cors_wsgi key and every known key, unless they were already
    listed with the key ``listed_with`` (once per error)."""
    setting = key_name(key) != key
    rows = _migration.find(key, setting=setting)
    if rows:
        return "not a cors_wsgi setting. " + " ".join(
            _migration.hint(row, key_name, setting=setting) for row in rows
        )
    known = [*POLICY_CONVERTERS, *MIDDLEWARE_CONVERTERS]
    close = difflib.get_close_matches(key, known, n=1)
    message = "not a cors_wsgi setting" + (f"; did you mean {key_name(close[0])!r}?" if close else ".")
    if listed_with is None:
        return f"{message}{_KNOWN}{', '.join(key_name(k) for k in known)}."
    return f"{message} The known keys are listed with {listed_with}."


def middleware_arguments(
    settings: Mapping[str, object],
    problems: list[Problem],
    *,
    key_name: Callable[[str], str] = str,
) -> tuple[dict[str, object], tuple[str, ...], dict[str, object]]:
    """``settings`` (argument-named keys, string or Python values) as the
    arguments of ``CORSMiddleware(app, policy, **flags)``:
    ``(policy_kwargs, paths, flags)``, where ``paths`` are the path patterns
    that get the policy (``()``: every path) and ``flags`` holds ``debug``,
    ``catch_exceptions``, ``on_refusal`` and ``on_decision``.  Problems are
    appended to ``problems``."""
    policy, middleware = convert(settings, problems, key_name=key_name)
    paths = middleware.pop("paths", ())
    if isinstance(paths, str) or not isinstance(paths, Iterable):
        problems.append(Problem(
            "invalid-type", key_name("paths"), paths, "expected a list of path patterns."
        ))
        paths = ()
    flags: dict[str, object] = {}
    for name in ("debug", "catch_exceptions"):
        value = middleware.get(name, False)
        if isinstance(value, bool):
            flags[name] = value
        else:
            problems.append(Problem("invalid-type", key_name(name), value, "expected True or False."))
    for name in ("on_refusal", "on_decision"):
        hook = middleware.get(name)
        if hook is None or callable(hook):
            flags[name] = hook
        else:
            problems.append(Problem(
                "invalid-type", key_name(name), hook,
                "expected a callable, or 'package.module:hook' ('package.module:factory()' to call "
                "a factory such as 'cors_wsgi.metrics:prometheus()').",
            ))
    return policy, tuple(paths), flags

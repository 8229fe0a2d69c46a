"""Moving from flask-cors and django-cors-headers: every one of their names
gets its exact cors_wsgi counterpart, from one table (``_migration.PEER_KEYS``)
that ``docs/migrating.rst`` shows row for row."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy
from cors_wsgi._migration import DJANGO_CORS_HEADERS, FLASK_CORS, PEER_KEYS, PeerKey, spell
from cors_wsgi._settings import MIDDLEWARE_CONVERTERS, POLICY_CONVERTERS
from tests.conftest import API

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "migrating.rst").read_text()
OWN = {*POLICY_CONVERTERS, *MIDDLEWARE_CONVERTERS}

#: The peers' names, copied from their sources: django-cors-headers
#: src/corsheaders/conf.py (and checks.py for removed keys), flask-cors
#: flask_cors/core.py CONFIG_OPTIONS and DEFAULT_OPTIONS.
DJANGO_SETTINGS = {
    "CORS_ALLOWED_ORIGINS", "CORS_ORIGIN_WHITELIST", "CORS_ALLOWED_ORIGIN_REGEXES",
    "CORS_ORIGIN_REGEX_WHITELIST", "CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL", "CORS_URLS_REGEX",
    "CORS_ALLOW_METHODS", "CORS_ALLOW_HEADERS", "CORS_EXPOSE_HEADERS", "CORS_PREFLIGHT_MAX_AGE",
    "CORS_ALLOW_CREDENTIALS", "CORS_ALLOW_PRIVATE_NETWORK", "CORS_REPLACE_HTTPS_REFERER", "CORS_MODEL",
}
FLASK_SETTINGS = {
    "CORS_ORIGINS", "CORS_METHODS", "CORS_ALLOW_HEADERS", "CORS_EXPOSE_HEADERS", "CORS_SUPPORTS_CREDENTIALS",
    "CORS_MAX_AGE", "CORS_SEND_WILDCARD", "CORS_AUTOMATIC_OPTIONS", "CORS_VARY_HEADER", "CORS_RESOURCES",
    "CORS_INTERCEPT_EXCEPTIONS", "CORS_ALWAYS_SEND", "CORS_ALLOW_PRIVATE_NETWORK",
}
FLASK_KEYWORDS = {
    "origins", "methods", "allow_headers", "expose_headers", "supports_credentials", "max_age",
    "send_wildcard", "vary_header", "automatic_options", "resources", "intercept_exceptions",
    "always_send", "allow_private_network",
}


def test_the_table_holds_every_peer_name_and_no_other() -> None:
    assert {r.setting for r in PEER_KEYS if r.peer == DJANGO_CORS_HEADERS} == DJANGO_SETTINGS
    assert {r.setting for r in PEER_KEYS if r.peer == FLASK_CORS} == FLASK_SETTINGS
    assert {r.keyword for r in PEER_KEYS if r.peer == FLASK_CORS} == FLASK_KEYWORDS


def test_every_counterpart_is_a_cors_wsgi_argument() -> None:
    assert {r.argument for r in PEER_KEYS} - {None} <= OWN
    for row in PEER_KEYS:
        spell(row.change, str)  # every {placeholder} is an argument: a KeyError would name it
        assert set(re.findall(r"\{(\w+)\}", row.change)) <= OWN


def value_for(name: str) -> object:
    """A value of the right type for a key or keyword named ``name``."""
    if name.lower().endswith("max_age"):
        return 600
    if name.lower().endswith(("headers", "methods")):
        return ["PUT"] if "methods" in name.lower() else ["X-A"]
    return True


def settings_problem(key: str, value: object = True) -> str | None:
    """The message of the problem about ``key``, ``None`` when it is accepted."""
    try:
        CORSMiddleware.from_settings(lambda environ, start_response: [], {"CORS_ALLOW_ORIGINS": API, key: value})
    except CORSConfigError as error:
        return next((p.message for p in error.problems if p.argument == key), None)
    return None


@pytest.mark.parametrize("row", [r for r in PEER_KEYS if r.setting], ids=lambda r: f"{r.peer}:{r.setting}")
def test_every_peer_setting_gets_its_exact_counterpart(row: PeerKey) -> None:
    assert row.setting is not None
    own = row.setting.removeprefix("CORS_").lower()
    message = settings_problem(row.setting, value_for(own))
    if own in OWN:
        assert message is None  # the same name: simply accepted
        return
    assert message is not None
    target = "has no counterpart in cors_wsgi" if row.argument is None else f"is CORS_{row.argument.upper()} in cors_wsgi"
    assert f"{row.setting} ({row.peer}) {target}: " in message
    assert spell(row.change, lambda a: "CORS_" + a.upper()) in message


@pytest.mark.parametrize("row", [r for r in PEER_KEYS if r.keyword], ids=lambda r: f"{r.keyword}")
def test_every_flask_cors_keyword_given_to_cors_policy_gets_its_exact_counterpart(row: PeerKey) -> None:
    assert row.keyword is not None
    kwargs: dict[str, Any] = {"allow_origins": API, row.keyword: value_for(row.keyword)}
    if row.keyword in OWN:
        if row.keyword in POLICY_CONVERTERS:
            CORSPolicy(**kwargs)  # the same name: simply accepted
        return
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(**kwargs)
    (problem,) = caught.value.problems
    assert (problem.code, problem.argument) == ("unknown-key", row.keyword)
    target = "has no counterpart in cors_wsgi" if row.argument is None else f"is {row.argument} in cors_wsgi"
    assert f"{row.keyword} ({row.peer}) {target}: {spell(row.change, str)}." in problem.message


@pytest.mark.parametrize(
    ("key", "wrong"),
    [("CORS_PREFLIGHT_MAX_AGE", "CORS_PREFLIGHT_STATUS"), ("CORS_ORIGIN_WHITELIST", "CORS_ORIGIN_CACHE_SIZE"),
     ("CORS_VARY_HEADER", "CORS_ALLOW_HEADERS")],
)
def test_a_peer_setting_is_not_answered_with_a_lookalike_name(key: str, wrong: str) -> None:
    message = settings_problem(key)
    assert message is not None
    assert wrong not in message


def test_the_known_keys_are_listed_once_per_error() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, "CORS_COLOUR": 1, "CORS_FLAVOUR": 2, "CORS_SHAPE": 3})
    assert str(caught.value).count("CORS_PROBE_ORIGINS") == 1
    assert caught.value.problems[-1].message.endswith("The known keys are listed with CORS_COLOUR.")


def test_flask_cors_keywords_and_other_problems_are_reported_together() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy(origins=API, supports_credentials=True, max_age=-1)  # type: ignore[call-arg]
    assert caught.value.codes == ["unknown-key", "unknown-key", "no-origins", "max-age-out-of-range"]


def test_an_unknown_keyword_that_no_peer_has_stays_a_type_error() -> None:
    with pytest.raises(TypeError):
        CORSPolicy(allow_origins=API, colour="red")  # type: ignore[call-arg]


# -- docs/migrating.rst shows the table ---------------------------------------------


def _literal(name: str) -> str:
    return f"``{name}``"


def _escaped(text: str) -> str:
    """``text`` as reStructuredText shows it: ``*`` escaped, never emphasis."""
    return text.replace("*", "\\*")


def documented_rows(heading: str) -> set[tuple[str, ...]]:
    """The rows (cells joined over their lines) of the list-table after ``heading``."""
    found = re.search(r"(?ms)^\.\. list-table::\n.*?\n\n(.*?)\n\n(?=\S)", DOCS.split(heading + "\n")[1])
    assert found is not None
    table = found.group(1)
    rows = [row for row in re.split(r"(?m)^   \* - ", table) if row.strip()]
    cells = [tuple(" ".join(c.split()) for c in re.split(r"(?m)^     - ", row)) for row in rows]
    return set(cells[1:])  # without the header row


def table_rows(peer: str) -> set[tuple[str, ...]]:
    rows: set[tuple[str, ...]] = set()
    for row in PEER_KEYS:
        if row.peer != peer:
            continue
        if peer == FLASK_CORS:
            assert row.keyword is not None
            assert row.setting is not None
            key = f"{_literal(row.keyword)}, {_literal(row.setting)}"
            target = (f"{_literal(row.argument)}, {_literal('CORS_' + row.argument.upper())}"
                      if row.argument else "none")
            rows.add((key, target, spell(_escaped(row.change), _literal)))
        else:
            assert row.setting is not None
            target = _literal("CORS_" + row.argument.upper()) if row.argument else "none"
            rows.add((_literal(row.setting), target, spell(_escaped(row.change), lambda a: _literal("CORS_" + a.upper()))))
    return rows


@pytest.mark.parametrize(("heading", "peer"), [("From flask-cors", FLASK_CORS),
                                               ("From django-cors-headers", DJANGO_CORS_HEADERS)])
def test_the_migration_page_shows_every_row_of_the_table_and_no_other(heading: str, peer: str) -> None:
    assert documented_rows(heading) == table_rows(peer)

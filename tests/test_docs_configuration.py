"""docs/configuration.rst: the options table has one row per ``CORSPolicy`` argument, with its default."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from cors_wsgi import CORSPolicy

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = (ROOT / "docs" / "configuration.rst").read_text()
PARAMETERS = inspect.signature(CORSPolicy).parameters


def options_table() -> str:
    """The rows of the options table (section "Python"), header row excluded."""
    table = CONFIGURATION.split("   * - Argument\n     - Type\n     - Default\n     - Meaning\n")[1]
    return table.split("\n\n", 1)[0]


def test_options_table_lists_every_policy_argument_once() -> None:
    rows = re.findall(r"(?m)^   \* - ``(\w+)``$", options_table())
    arguments = [name for name, parameter in PARAMETERS.items() if parameter.kind is inspect.Parameter.KEYWORD_ONLY]
    assert len(rows) == len(set(rows))
    assert sorted(rows) == sorted(arguments)


def test_options_table_defaults_are_the_constructors() -> None:
    rows = re.findall(r"(?m)^   \* - ``(\w+)``\n     - .*\n(?:       .*\n)*     - ``(.*)``$", options_table())
    assert len(rows) == len(PARAMETERS)
    for name, default in rows:
        assert default == repr(PARAMETERS[name].default), f"{name}: the table says {default}"

"""docs/frameworks.rst: each recipe is a copy of its example file, and its server commands are the tested ones."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.test_examples import SERVER_COMMANDS
from tests.test_readme import (
    ELISION,
    assert_complete_or_visibly_elided_copies,
    code_blocks,
    example_blocks,
    significant,
)

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = (ROOT / "docs" / "frameworks.rst").read_text()


#: The adapters' examples (shown first in each framework's section), then the WSGI-wrap alternatives.
IDIOMATIC = ["examples/views_flask.py", "examples/views_django/settings.py", "examples/views_django/views.py",
             "examples/views_django/urls.py", "examples/views_django/wsgi.py", "examples/views_pyramid.ini",
             "examples/views_pyramid.py"]
WRAPPED = ["examples/flask_app.py", "examples/django_site/settings.py", "examples/django_site/wsgi.py",
           "examples/pyramid_app/development.ini"]


def test_frameworks_page_has_an_example_block_per_framework() -> None:
    paths = [path for path, _ in example_blocks(FRAMEWORKS)]
    assert sorted(paths) == sorted(IDIOMATIC + WRAPPED)


def test_frameworks_page_shows_each_adapter_before_its_wsgi_wrap_alternative() -> None:
    for adapter, wrapped in [("examples/views_flask.py", "examples/flask_app.py"),
                             ("examples/views_django/settings.py", "examples/django_site/settings.py"),
                             ("examples/views_pyramid.py", "examples/pyramid_app/development.ini")]:
        assert FRAMEWORKS.index(f"# {adapter}\n") < FRAMEWORKS.index(f"# {wrapped}\n")


def test_frameworks_example_blocks_are_complete_or_visibly_elided_copies() -> None:
    """Each block is its file, line for line, except where ``# ...`` marks lines left out."""
    assert_complete_or_visibly_elided_copies(FRAMEWORKS)


def changed_one_line(block: str) -> list[str]:
    """``block`` with each of its copied lines changed in turn (an appended ``0``)."""
    lines = block.splitlines()
    return ["\n".join([*lines[:i], lines[i] + "0", *lines[i + 1:]]) for i in range(1, len(lines))
            if significant(lines[i]) and not ELISION.match(significant(lines[i]))]


@pytest.mark.parametrize("path", IDIOMATIC)
def test_a_changed_line_in_an_adapter_block_fails_the_copy_check(path: str) -> None:
    """The check is strict: any one copied line changed makes the block no copy of its file."""
    (block,) = [b for p, b in example_blocks(FRAMEWORKS) if p == path]
    mutants = changed_one_line(block)
    assert mutants
    for mutant in mutants:
        with pytest.raises(AssertionError, match=re.escape(path)):
            assert_complete_or_visibly_elided_copies(f".. code-block:: {language(path)}\n\n"
                                                     + textwrap.indent(mutant, "    ") + "\n")


def language(path: str) -> str:
    return "ini" if path.endswith(".ini") else "python"


def test_frameworks_server_commands_are_the_tested_ones() -> None:
    (block,) = code_blocks("console", FRAMEWORKS)
    commands = [line.strip() for line in block.splitlines() if line.strip()]
    assert sorted(commands) == sorted(SERVER_COMMANDS.values())

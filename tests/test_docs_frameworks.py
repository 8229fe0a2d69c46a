"""docs/frameworks.rst: each recipe is a copy of its example file, and its server commands are the tested ones."""

from __future__ import annotations

from pathlib import Path

from tests.test_examples import SERVER_COMMANDS
from tests.test_readme import assert_complete_or_visibly_elided_copies, code_blocks, example_blocks

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = (ROOT / "docs" / "frameworks.rst").read_text()


def test_frameworks_page_has_an_example_block_per_framework() -> None:
    paths = {path for path, _ in example_blocks(FRAMEWORKS)}
    assert paths == {"examples/flask_app.py", "examples/django_site/settings.py",
                     "examples/django_site/wsgi.py", "examples/pyramid_app/development.ini"}


def test_frameworks_example_blocks_are_complete_or_visibly_elided_copies() -> None:
    """Each block is its file, line for line, except where ``# ...`` marks lines left out."""
    assert_complete_or_visibly_elided_copies(FRAMEWORKS)


def test_frameworks_server_commands_are_the_tested_ones() -> None:
    (block,) = code_blocks("console", FRAMEWORKS)
    commands = [line.strip() for line in block.splitlines() if line.strip()]
    assert sorted(commands) == sorted(SERVER_COMMANDS.values())

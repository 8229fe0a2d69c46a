"""docs/refused.rst "What is refused, and why": its table lists every problem code."""

from __future__ import annotations

import re
from pathlib import Path

from cors_wsgi.errors import PROBLEM_CODES

ROOT = Path(__file__).resolve().parent.parent
REFUSED = (ROOT / "docs" / "refused.rst").read_text()


def listed_codes() -> set[str]:
    """The codes named in the first cell of a row of the page's table of codes."""
    table = REFUSED.split("   * - Code\n     - Refused\n     - Why\n")[1]
    first_cells = re.findall(r"(?m)^   \* - (.*)$", table)
    return {code for cell in first_cells for code in re.findall(r"``([a-z]+(?:-[a-z]+)+)``", cell)}


def test_refused_page_lists_every_problem_code() -> None:
    assert set(PROBLEM_CODES) <= listed_codes() | {"invalid-type"}
    assert "invalid-type" in listed_codes()


def test_refused_page_lists_no_unknown_code() -> None:
    assert listed_codes() <= set(PROBLEM_CODES) | {"invalid-type"}

"""The documentation site's facts stay true: tests it cites exist, versions agree."""

from __future__ import annotations

import re
from pathlib import Path

import cors_wsgi

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_every_test_the_security_page_cites_exists() -> None:
    cited = re.findall(r"``(tests/[\w/]+\.py)::(test_\w+)``", (DOCS / "security.rst").read_text())
    assert len(cited) >= 15
    for path, name in cited:
        assert f"def {name}(" in (ROOT / path).read_text(), f"{path}::{name} is cited but does not exist"


def test_every_page_is_in_the_toctree() -> None:
    index = (DOCS / "index.rst").read_text()
    pages = {page.stem for page in DOCS.glob("*.rst")} - {"index"}
    assert pages == set(re.findall(r"(?m)^   (\w+)$", index))


def test_install_instructions_name_the_current_wheel() -> None:
    wheel = f"cors_wsgi-{cors_wsgi.__version__}-py3-none-any.whl"
    assert wheel in (DOCS / "quickstart.rst").read_text()


def test_changes_list_the_current_version() -> None:
    assert re.search(rf"(?m)^{re.escape(cors_wsgi.__version__)} \(", (ROOT / "CHANGES.rst").read_text())

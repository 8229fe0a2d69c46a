"""The README's commands and examples are the ones that run.

The helpers here read any reStructuredText file; the tests of the docs pages
(``tests/test_docs_*.py``) use them too.
"""

from __future__ import annotations

import re
from pathlib import Path

import webtest
from paste.deploy import loadapp

import cors_wsgi

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text()


def code_blocks(language: str, text: str = README) -> list[str]:
    pattern = rf"\.\. code-block:: {language}\n\n((?:    .*\n|\n)+)"
    return [re.sub(r"(?m)^    ", "", block) for block in re.findall(pattern, text)]


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"(?m)^    (python3 -m venv .*)$", README)
    assert len(commands) == 2
    test_command = commands[1]
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_opens_with_the_two_commands() -> None:
    """The demo command and the test command are the first code in the README, in that order."""
    first_code = re.findall(r"(?m)^    (\S.*)$", README)[:2]
    assert first_code == re.findall(r"(?m)^    (python3 -m venv .*)$", README)
    assert first_code[0].endswith("-m examples.demo")


def quick_start(language: str) -> str:
    (block,) = [b for b in code_blocks(language) if not b.startswith("# examples/")]
    return block


def test_readme_python_quick_start_runs() -> None:
    block = quick_start("python")
    namespace: dict[str, object] = {"__name__": "readme_quick_start"}
    exec(compile(block, "README.rst", "exec"), namespace)
    client = webtest.TestApp(namespace["app"], lint=True)
    response = client.options("/api/x", headers={"Origin": "https://a.example.com",
                                                 "Access-Control-Request-Method": "PUT"}, status=204)
    assert response.headers["Access-Control-Allow-Origin"] == "https://a.example.com"


def test_readme_ini_quick_start_loads(tmp_path: Path) -> None:
    block = quick_start("ini")
    ini = tmp_path / "readme.ini"
    ini.write_text(block)
    client = webtest.TestApp(loadapp(f"config:{ini}"), lint=True)
    response = client.get("/api/items", headers={"Origin": "https://app.example.com"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def significant(line: str) -> str:
    """A line without indentation or a trailing ``# type: ignore`` / ``# noqa``."""
    return re.sub(r"\s+# (type: ignore|noqa)\b.*$", "", line).strip()


def example_blocks(text: str = README) -> list[tuple[str, str]]:
    blocks = [b for language in ("python", "ini") for b in code_blocks(language, text)]
    return [(b.splitlines()[0][2:].strip(), b) for b in blocks if b.startswith("# examples/")]


def test_readme_has_an_example_block_per_framework() -> None:
    """The README shows each framework adapter's idiomatic lines; docs/frameworks.rst has them in full."""
    paths = [path for path, _ in example_blocks()]
    assert paths == ["examples/views_flask.py", "examples/views_django/settings.py", "examples/views_pyramid.py"]


ELISION = re.compile(r"^# \.\.\.( .*)?$")


def segments(block: str) -> tuple[list[list[str]], bool, bool]:
    """The block's significant lines split at ``# ...`` markers, and whether it
    elides the file's start and end."""
    lines = [significant(line) for line in block.splitlines()[1:] if significant(line)]
    parts: list[list[str]] = [[]]
    for line in lines:
        if ELISION.match(line):
            parts.append([])
        else:
            parts[-1].append(line)
    return [part for part in parts if part], ELISION.match(lines[0]) is not None, ELISION.match(lines[-1]) is not None


def assert_complete_or_visibly_elided_copies(text: str) -> None:
    """Each block is its file, line for line, except where ``# ...`` marks lines left out."""
    for path, block in example_blocks(text):
        source = [significant(line) for line in (ROOT / path).read_text().splitlines() if significant(line)]
        parts, elides_start, elides_end = segments(block)
        position = 0
        for number, part in enumerate(parts):
            starts = [i for i in range(position, len(source) - len(part) + 1) if source[i:i + len(part)] == part]
            assert starts, f"{path}: lines from {part[0]!r} are not a contiguous copy of the file (in order)"
            if number == 0 and not elides_start:
                assert starts[0] == 0, f"{path}: the block leaves out the file's start without '# ...'"
            position = starts[0] + len(part)
        if not elides_end:
            assert position == len(source), f"{path}: the block leaves out the file's end without '# ...'"


def test_readme_example_blocks_are_complete_or_visibly_elided_copies() -> None:
    """Each block is its file, line for line, except where ``# ...`` marks lines left out."""
    assert_complete_or_visibly_elided_copies(README)


def test_readme_shows_the_package_version() -> None:
    assert f"cors_wsgi {cors_wsgi.__version__}" in README
    assert f"cors_wsgi-{cors_wsgi.__version__}-py3-none-any.whl" in README


def test_readme_links_into_the_docs_resolve() -> None:
    """Every ``docs/...rst`` link of the README names a page of the docs (or the benchmarks' README)."""
    links = re.findall(r"<((?:docs|benchmarks)/[\w/]+\.rst)>`_", README)
    assert len(links) >= 10
    for link in links:
        assert (ROOT / link).is_file(), f"README links to {link}, which does not exist"


def test_readme_is_a_front_page() -> None:
    """The manual lives in docs/: the README stays short and includes nothing."""
    assert len(README.splitlines()) <= 200
    assert ".. include::" not in README

"""The README's commands and examples are the ones that run."""

from __future__ import annotations

import re
from pathlib import Path

import webtest
from paste.deploy import loadapp

import cors_wsgi
from cors_wsgi.errors import PROBLEM_CODES
from tests.test_examples import SERVER_COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text()


def code_blocks(language: str) -> list[str]:
    pattern = rf"\.\. code-block:: {language}\n\n((?:    .*\n|\n)+)"
    return [re.sub(r"(?m)^    ", "", block) for block in re.findall(pattern, README)]


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"(?m)^    (python3 -m venv .*)$", README)
    assert len(commands) == 2
    test_command = commands[1]
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


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


def test_readme_lists_every_problem_code() -> None:
    listed = set(re.findall(r"``([a-z]+(?:-[a-z]+)+)``", README.split("What is refused, and why")[1]))
    assert set(PROBLEM_CODES) <= listed | {"invalid-type"}
    assert "``invalid-type``" in README


def significant(line: str) -> str:
    """A line without indentation or a trailing ``# type: ignore`` / ``# noqa``."""
    return re.sub(r"\s+# (type: ignore|noqa)\b.*$", "", line).strip()


def example_blocks() -> list[tuple[str, str]]:
    blocks = [b for language in ("python", "ini") for b in code_blocks(language)]
    return [(b.splitlines()[0][2:].strip(), b) for b in blocks if b.startswith("# examples/")]


def test_readme_has_an_example_block_per_framework() -> None:
    paths = {path for path, _ in example_blocks()}
    assert paths == {"examples/flask_app.py", "examples/django_site/settings.py",
                     "examples/django_site/wsgi.py", "examples/pyramid_app/development.ini"}


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


def test_readme_example_blocks_are_complete_or_visibly_elided_copies() -> None:
    """Each block is its file, line for line, except where ``# ...`` marks lines left out."""
    for path, block in example_blocks():
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


def test_readme_shows_the_package_version() -> None:
    assert f"cors_wsgi {cors_wsgi.__version__}" in README
    assert f"cors_wsgi-{cors_wsgi.__version__}-py3-none-any.whl" in README


def test_readme_server_commands_are_the_tested_ones() -> None:
    (block,) = code_blocks("console")
    commands = [line.strip() for line in block.splitlines() if line.strip()]
    assert sorted(commands) == sorted(SERVER_COMMANDS.values())

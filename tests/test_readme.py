"""The README's commands and examples are the ones that run."""

from __future__ import annotations

import re
from pathlib import Path

import webtest
from paste.deploy import loadapp

from cors_wsgi.errors import PROBLEM_CODES

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


def test_readme_python_quick_start_runs() -> None:
    (block,) = code_blocks("python")
    namespace: dict[str, object] = {"__name__": "readme_quick_start"}
    exec(compile(block, "README.rst", "exec"), namespace)
    client = webtest.TestApp(namespace["app"], lint=True)
    response = client.options("/api/x", headers={"Origin": "https://a.example.com",
                                                 "Access-Control-Request-Method": "PUT"}, status=204)
    assert response.headers["Access-Control-Allow-Origin"] == "https://a.example.com"


def test_readme_ini_quick_start_loads(tmp_path: Path) -> None:
    (block,) = code_blocks("ini")
    ini = tmp_path / "readme.ini"
    ini.write_text(block)
    client = webtest.TestApp(loadapp(f"config:{ini}"), lint=True)
    response = client.get("/api/items", headers={"Origin": "https://app.example.com"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_readme_lists_every_problem_code() -> None:
    listed = set(re.findall(r"``([a-z]+(?:-[a-z]+)+)``", README.split("What is refused, and why")[1]))
    assert set(PROBLEM_CODES) <= listed | {"invalid-type"}
    assert "``invalid-type``" in README

"""docs/debugging.rst: the commands print what it shows, its code runs, its tables are complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cors_wsgi.cli import main
from cors_wsgi.fetch import STEPS
from cors_wsgi.testing import CORSAssertionError

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "debugging.rst").read_text()
EXAMPLE_INI = ROOT / "examples" / "app.ini"
CHECK_ARGS = ["--origin", "http://localhost:8080", "--method", "PUT", "--header", "X-Token: t", "--path", "/api/items/1"]


def section(title: str) -> str:
    """The text under the heading ``title``, up to the next heading of the same or a higher level."""
    levels = "=-~"  # the page's underlines, outermost first
    match = re.search(rf"(?m)^{re.escape(title)}\n([=~-])\1+\n", PAGE)
    assert match, f"no section {title!r} in docs/debugging.rst"
    higher = "".join("\\" + level for level in levels[: levels.index(match.group(1)) + 1])
    rest = PAGE[match.end():]
    end = re.search(rf"(?m)^\S.*\n[{higher}]{{3,}}\n", rest)
    return rest[: end.start()] if end else rest


SECTION = section("Debugging a blocked request")


def blocks(language: str) -> list[str]:
    pattern = rf"\.\. code-block:: {language}\n\n((?:    .*\n|\n)+)"
    return [re.sub(r"(?m)^    ", "", block) for block in re.findall(pattern, SECTION)]


def verdict_lines(text: str) -> list[str]:
    prefixes = ("BLOCKED", "cors_wsgi:", "Fix:", "In HTTP terms:", "ALLOWED")
    return [line for line in text.splitlines() if line.startswith(prefixes)]


def line_after(prefix: str, text: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith(prefix)]
    return line.removeprefix(prefix)


def ini_with(tmp_path: Path, *, debug: bool = False, allow_headers: str | None = None) -> Path:
    text = EXAMPLE_INI.read_text()
    if debug:
        text = text.replace("paths = /api/*", "paths = /api/*\ndebug = true")
    if allow_headers is not None:
        text = re.sub(r"(?m)^allow_headers = .*$", f"allow_headers = {allow_headers}", text)
    path = tmp_path / "app.ini"
    path.write_text(text)
    return path


def test_step_table_lists_every_step_code() -> None:
    table = section("Step codes").split("are stable:")[1]
    assert set(re.findall(r"   \* - ``([a-z-]+)``", table)) == set(STEPS)


def test_probe_block_shows_the_verdict_check_reaches_on_the_same_mistake() -> None:
    probe_block = blocks("text")[0]
    result = CliRunner().invoke(main, ["check", str(EXAMPLE_INI), *CHECK_ARGS])
    assert result.exit_code == 1
    assert line_after("BLOCKED", probe_block) == line_after("BLOCKED", result.stdout)


def test_probe_fix_is_what_check_prints_in_http_terms() -> None:
    probe_block = blocks("text")[0]
    result = CliRunner().invoke(main, ["check", str(EXAMPLE_INI), *CHECK_ARGS])
    assert line_after("Fix: ", probe_block) == line_after("In HTTP terms: ", result.stdout)


def test_check_block_prints_the_rule_then_the_fix_in_configuration_terms() -> None:
    check_block = blocks("text")[1]
    result = CliRunner().invoke(main, ["check", str(EXAMPLE_INI), *CHECK_ARGS])
    assert verdict_lines(check_block) == verdict_lines(result.stdout)


def test_check_block_of_a_module_names_the_nearest_configured_origin() -> None:
    module_block = blocks("text")[2]
    command = module_block.splitlines()[0]
    assert command.startswith("$ cors-wsgi check 'examples.flask_app:create_app()'")
    result = CliRunner().invoke(main, ["check", "examples.flask_app:create_app()", "--origin",
                                       "http://127.0.0.1:9110", "--path", "/api/items"])
    assert result.exit_code == 1
    assert verdict_lines(module_block) == verdict_lines(result.stdout)


def test_check_block_with_debug_names_the_header(tmp_path: Path) -> None:
    check_block = blocks("text")[3]
    result = CliRunner().invoke(main, ["check", str(ini_with(tmp_path, debug=True)), *CHECK_ARGS])
    assert result.exit_code == 1
    assert verdict_lines(check_block) == verdict_lines(result.stdout)


def test_check_allows_after_the_fix(tmp_path: Path) -> None:
    fixed = ini_with(tmp_path, allow_headers="Content-Type Authorization X-Token")
    result = CliRunner().invoke(main, ["check", str(fixed), *CHECK_ARGS])
    assert result.exit_code == 0
    assert "ALLOWED" in result.stdout


def test_testing_block_runs_and_fails_as_its_comment_says() -> None:
    (block,) = blocks("py")
    namespace: dict[str, object] = {"__name__": "docs_debugging"}
    exec(compile(block, "docs/debugging.rst", "exec"), namespace)
    with pytest.raises(CORSAssertionError, match="blocked at step preflight-cors-check"):
        namespace["test_the_web_app_may_send_a_token"]()  # type: ignore[operator]
    namespace["test_other_sites_cannot_read_the_api"]()  # type: ignore[operator]


def test_explain_block_prints_what_it_shows() -> None:
    import doctest

    (block,) = blocks("pycon")
    test = doctest.DocTestParser().get_doctest(block, {}, "docs explain", "docs/debugging.rst", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_refusal_table_lists_every_reason_code() -> None:
    from cors_wsgi.refusals import REFUSAL_REASONS

    table = section("Reason codes").split("Reason code")[1]
    listed = set(re.findall(r"``([a-z]+(?:-[a-z]+)+)``", table))
    assert set(REFUSAL_REASONS) <= listed

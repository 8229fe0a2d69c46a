"""The house stays as built: layered imports with no cycle, and no private
name crossing a module boundary.  Read from the source with ``ast``, so
function-level imports count too (only ``if TYPE_CHECKING:`` blocks, which
never run, are left out)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cors_wsgi"

#: Top to bottom: a module may import only modules of a lower layer.
LAYERS: list[set[str]] = [
    {"__main__"},
    {"cli"},
    {"paste", "flask", "django", "pyramid"},
    {"metrics"},
    {"middleware", "protection"},
    {"views"},
    {"paths", "store", "hostguard", "notify"},
    {"policy"},
    {"explain", "testing"},
    {"_exchange"},
    {"fetch"},
    {"_origins", "_settings"},
    {"_regex", "_migration"},
    {"_engine"},
    {"_host", "refusals", "_snapshot"},
    {"_protocol", "_log", "errors"},
]
LAYER_OF = {name: index for index, layer in enumerate(LAYERS) for name in layer}


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:``."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def imports(module: str) -> list[tuple[str, str, int]]:
    """``(imported cors_wsgi module, imported name or "", line)`` for ``module``."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: list[tuple[str, str, int]] = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cors_wsgi":
            if node.module == "cors_wsgi":
                found += [(alias.name, "", node.lineno) for alias in node.names]  # from cors_wsgi import x
            else:
                target = node.module.split(".", 1)[1]
                found += [(target, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name.split(".", 1)[1], "", node.lineno) for alias in node.names
                      if alias.name.startswith("cors_wsgi.")]
    return found


MODULES = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__")


def test_every_module_has_a_layer() -> None:
    assert set(MODULES) == set(LAYER_OF)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_only_lower_layers(module: str) -> None:
    upward = [
        f"line {line}: {module} imports {target} (layer {LAYER_OF.get(target)} is not below {LAYER_OF[module]})"
        for target, _, line in imports(module)
        if LAYER_OF.get(target, -1) <= LAYER_OF[module]
    ]
    assert upward == []


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_no_private_name_from_a_sibling(module: str) -> None:
    private = [f"line {line}: from cors_wsgi.{target} import {name}"
               for target, name, line in imports(module) if name.startswith("_")]
    assert private == []


def test_the_import_graph_has_no_cycle() -> None:
    graph = {module: {target for target, _, _ in imports(module) if target in LAYER_OF} for module in MODULES}
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        if state.get(module) == 1:
            raise AssertionError("import cycle: " + " -> ".join([*path, module]))
        if state.get(module) == 2:
            return
        state[module] = 1
        for target in graph[module]:
            visit(target, [*path, module])
        state[module] = 2

    for module in MODULES:
        visit(module, [])


def test_no_block_of_six_lines_is_repeated_in_the_package(tmp_path: Path) -> None:
    # pylint's duplicate-code check (signatures, docstrings and comments ignored,
    # as pylint does by default): a repeated block belongs in one function.
    result = subprocess.run(
        [sys.executable, "-m", "pylint", "--disable=all", "--enable=duplicate-code",
         "--min-similarity-lines=6", "--score=no", "--persistent=no", str(PACKAGE)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_public_name_of_the_browser_model_has_a_caller_or_a_documented_use() -> None:
    import cors_wsgi.fetch as fetch

    used = {
        alias.name
        for path in PACKAGE.glob("*.py") if path.name != "fetch.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module == "cors_wsgi.fetch"
        for alias in node.names
    }
    documented = set(re.findall(r"(?::\w+:`|``)(\w+)(?:`|``)", fetch.__doc__ or ""))
    assert [name for name in fetch.__all__ if name not in used | documented] == []

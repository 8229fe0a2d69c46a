"""Would a mypyc build of cors_wsgi earn its keep?  Build one and time it.

Run (needs ``mypy``, which brings ``mypyc``, and a C compiler)::

    python benchmarks/compiled.py                     # build, then compare.py --builtin-only
    python benchmarks/compiled.py --output benchmarks/results-compiled.rst

The very source of ``cors_wsgi/`` is copied to a temporary directory as the
package ``cors_wsgi_compiled`` (imports renamed, and ``CORSMiddleware.__call__ = handle`` spelled
as a method, which mypyc needs), and
its request-path modules (``middleware``, ``_engine``, ``paths``) are
compiled with ``mypyc``.  Then ``compare.py --builtin-only --compiled DIR``
times the pure-Python package and the compiled one side by side, in one
interleaved run, and its target table ends with "mypyc cuts the overhead":
pure overhead over compiled overhead, per scenario.  The rule: ship
compiled wheels only if that is at least 2x in every scenario.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "cors_wsgi"
COMPILED = ("middleware.py", "_engine.py", "paths.py")


def build(directory: Path) -> None:
    """``cors_wsgi_compiled`` in ``directory``: the source, renamed, compiled."""
    package = directory / "cors_wsgi_compiled"
    shutil.copytree(SOURCE, package, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\bcors_wsgi(\.|\s+import\b)", r"cors_wsgi_compiled\1", text)
        # mypyc cannot bind a module function assigned in a class body as a
        # method: spell CORSMiddleware.__call__ as one (native calls are cheap).
        text = text.replace(
            "    __call__ = handle\n",
            "    def __call__(\n"
            "        self, environ: WSGIEnvironment, start_response: StartResponse\n"
            "    ) -> Iterable[bytes]:\n"
            "        return handle(self, environ, start_response)\n",
        )
        path.write_text(text, encoding="utf-8")
    mypyc = Path(sys.executable).parent / "mypyc"
    subprocess.run(
        [str(mypyc), *(f"cors_wsgi_compiled/{name}" for name in COMPILED)],
        cwd=directory, check=True, stdout=subprocess.DEVNULL, timeout=600,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="compare.py --quick (a smoke run)")
    parser.add_argument("--output", help="also write compare.py's report to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cors-wsgi-mypyc-") as temp:
        build(Path(temp))
        command = [sys.executable, str(HERE / "compare.py"), "--builtin-only", "--compiled", temp]
        if args.quick:
            command.append("--quick")
        if args.output:
            command += ["--output", args.output]
        return subprocess.run(command, check=False, timeout=900).returncode


if __name__ == "__main__":
    sys.exit(main())

"""Is a change to the request path as cheap as the code it replaces?  Time both in one run.

Run from a git checkout::

    python benchmarks/baseline.py 5d110dc                       # that commit's cors_wsgi
    python benchmarks/baseline.py 5d110dc --output /tmp/vs.rst

The ``cors_wsgi/`` of the given commit is copied (``git archive``) to a
temporary directory as the package ``cors_wsgi_baseline`` (imports renamed,
nothing else changed); then ``compare.py --builtin-only --baseline DIR``
times the working tree's cors_wsgi and the baseline side by side, in one
interleaved run, and its target table ends with "overhead over the
baseline's": this tree's overhead over the bare app divided by the
baseline's, per scenario, at most 1.15.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def copy(revision: str, directory: Path) -> None:
    """``cors_wsgi_baseline`` in ``directory``: ``revision``'s package, renamed."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "cors_wsgi"],
        cwd=HERE.parent, check=True, capture_output=True, timeout=60,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    package = directory / "cors_wsgi_baseline"
    (directory / "cors_wsgi").rename(package)
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\bcors_wsgi(\.|\s+import\b)", r"cors_wsgi_baseline\1", text)
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", help="the git commit whose cors_wsgi is the baseline")
    parser.add_argument("--quick", action="store_true", help="compare.py --quick (a smoke run)")
    parser.add_argument("--output", help="also write compare.py's report to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cors-wsgi-baseline-") as temp:
        copy(args.revision, Path(temp))
        command = [sys.executable, str(HERE / "compare.py"), "--builtin-only", "--baseline", temp]
        if args.quick:
            command.append("--quick")
        if args.output:
            command += ["--output", args.output]
        return subprocess.run(command, check=False, timeout=900).returncode


if __name__ == "__main__":
    sys.exit(main())

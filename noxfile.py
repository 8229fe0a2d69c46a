"""nox sessions: the test suite on every supported CPython, the docs, the package.

    nox                          # everything below
    nox -s tests                 # the suite (without browsers) on 3.10 ... 3.13; coverage on 3.12
    nox -s tests-3.12            # one version
    nox -s docs                  # Sphinx with warnings as errors, then its doctests
    nox -s package               # sdist + wheel, twine check, wheel smoke test in a fresh venv

``PYTHONS`` is the one list of supported versions: setup.cfg's classifiers and
``python_requires`` must say the same (``tests/test_packaging.py`` checks).
The browser suite runs once, on the interpreter that runs ``.ci/run``'s
README test command; pass ``-- tests/browser`` to run it here too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
DOCS_PYTHON = "3.11"
#: The one version whose run measures branch coverage (and fails under
#: pyproject.toml's fail_under): coverage adds half again to the suite's
#: time, and a line covered on one CPython is covered on the others.
COVERAGE_PYTHON = "3.12"
ROOT = Path(__file__).parent

nox.options.sessions = ["tests", "docs", "package"]
nox.options.reuse_existing_virtualenvs = False


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite; without arguments, everything except tests/browser."""
    session.install("-e", ".[testing]", "-e", "./examples")
    # Without arguments on COVERAGE_PYTHON, branch coverage too; fail_under fails the session.
    coverage = ["--cov", "--cov-report=term"] if session.python == COVERAGE_PYTHON else []
    args = session.posargs or ["-q", "--ignore=tests/browser", *coverage]
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *args)


@nox.session(python=DOCS_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the HTML docs with warnings as errors, then run every code example as a doctest."""
    session.install("-e", ".[docs]")
    build = ROOT / "docs" / "_build"
    shutil.rmtree(build, ignore_errors=True)
    session.run("sphinx-build", "-W", "--keep-going", "-n", "-b", "html", "docs", str(build / "html"))
    session.run("sphinx-build", "-W", "--keep-going", "-b", "doctest", "docs", str(build / "doctest"))


@nox.session(python=DOCS_PYTHON)
def package(session: nox.Session) -> None:
    """Build sdist and wheel, check them with twine, install the wheel alone into a
    fresh venv (no checkout on its path) and run the smoke test there."""
    session.install("build", "twine")
    tmp = Path(session.create_tmp()).resolve()
    dist = tmp / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist), ".")
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        session.error(f"expected one wheel and one sdist in {dist}, found {wheels + sdists}")
    session.run("twine", "check", "--strict", *map(str, wheels + sdists))

    venv = tmp / "wheel-venv"
    shutil.rmtree(venv, ignore_errors=True)
    session.run("python", "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    # The wheel alone, and PasteDeploy for the ini filter (a user's own choice).
    session.run(python, "-m", "pip", "install", "-q", str(wheels[0]), "pastedeploy", external=True)
    # Run from a directory outside the checkout so only the installed wheel can be imported.
    smoke = str(ROOT.resolve() / "tests" / "smoke_installed.py")
    session.chdir(str(venv))
    session.run(python, "-I", smoke, str(wheels[0].name), external=True)

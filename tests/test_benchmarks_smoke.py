"""The benchmark harness starts, times and judges (a smoke run, not a benchmark).

Only cors_wsgi and the pass-through layers take part (``--builtin-only``),
so no peer package is needed; the numbers are not looked at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

COMPARE = Path(__file__).resolve().parent.parent / "benchmarks" / "compare.py"


def test_compare_quick_run_judges_cors_wsgi_answers_and_reports_targets() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(COMPARE), "--quick", "--builtin-only", "--max-seconds", "8"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    out = result.stdout
    assert "Targets for cors_wsgi\n" in out
    answers = [line for line in out.splitlines() if line.startswith("- cors_wsgi / ")]
    assert len(answers) == 10
    assert all(line.endswith(("PASS", "PASS (allowed 204)")) for line in answers), answers


def test_cache_memory_smoke_run_reports_every_policy_and_kind() -> None:
    result = subprocess.run(
        [sys.executable, str(COMPARE.parent / "cache_memory.py"), "--origins", "300"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith(("static rules", "with a predicate"))]
    assert len(rows) == 8


def _require_a_c_toolchain() -> None:
    """mypyc needs a C compiler and Python's headers: skip with the reason
    when either is missing (fail under ``CI=true``, which installs gcc)."""
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    missing = [what for what, ok in (("a C compiler (gcc)", shutil.which("gcc") or shutil.which("cc")),
                                     (f"Python's headers ({include})", include.exists())) if not ok]
    if missing:
        reason = "compiled.py needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must install them", pytrace=False)
        pytest.skip(reason)


def test_compiled_build_starts_times_and_judges_the_mypyc_package() -> None:
    _require_a_c_toolchain()
    result = subprocess.run(
        [sys.executable, str(COMPARE.parent / "compiled.py"), "--quick"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    answers = [line for line in result.stdout.splitlines() if line.startswith("- cors_wsgi (mypyc) / ")]
    assert len(answers) == 10
    assert all(line.endswith(("PASS", "PASS (allowed 204)")) for line in answers), answers
    assert result.stdout.count("mypyc cuts the overhead: ") == 10


def test_slow_hook_smoke_run_times_each_way_of_calling_the_hook() -> None:
    result = subprocess.run(
        [sys.executable, str(COMPARE.parent / "slow_hook.py"), "--requests", "3", "--hook-ms", "50"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith(("no hook", "slow hook"))]
    assert len(rows) == 3


def test_predicate_stall_quick_run_reports_both_predicates_under_gunicorn() -> None:
    if not (Path(sys.executable).with_name("gunicorn")).exists():
        pytest.skip("predicate_stall.py needs gunicorn next to the interpreter")
    result = subprocess.run(
        [sys.executable, str(COMPARE.parent / "predicate_stall.py"), "--quick"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith(("200 ms", "hangs"))]
    assert len(rows) == 4
    assert sum(line.startswith("- predicate ") for line in result.stdout.splitlines()) == 2

"""The package metadata says exactly what CI proves."""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def nox_pythons() -> list[str]:
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PYTHONS":
            value: list[str] = ast.literal_eval(node.value)
            return value
    raise AssertionError("noxfile.py has no PYTHONS list")


def metadata() -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config["metadata"]


def test_classifiers_list_exactly_the_versions_nox_tests() -> None:
    classified = re.findall(r"Programming Language :: Python :: (3\.\d+)$", metadata()["classifiers"], re.M)
    assert classified == nox_pythons()


def test_python_requires_starts_at_the_oldest_tested_version() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert config["options"]["python_requires"] == f">={nox_pythons()[0]}"


def test_license_file_matches_the_metadata() -> None:
    assert metadata()["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")

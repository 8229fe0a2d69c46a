"""Sphinx configuration for cors_wsgi's documentation (built by ``nox -s docs``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cors_wsgi  # noqa: E402

project = "cors_wsgi"
author = "cors_wsgi contributors"
copyright = "2026, cors_wsgi contributors"
version = release = cors_wsgi.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
]

root_doc = "index"
exclude_patterns = ["_build"]
nitpicky = True
# Annotation-only names autodoc cannot resolve to a documented object.
nitpick_ignore = [
    ("py:class", "WSGIApplication"),
    ("py:class", "_typeshed.wsgi.WSGIApplication"),
    ("py:class", "StartResponse"),
    ("py:class", "_typeshed.wsgi.StartResponse"),
    ("py:class", "WSGIEnvironment"),
    ("py:class", "_typeshed.wsgi.WSGIEnvironment"),
    ("py:class", "OptExcInfo"),
    ("py:class", "_typeshed.OptExcInfo"),
    # Type aliases of cors_wsgi.fetch / testing: (name, value) pairs and a credentials mode.
    ("py:class", "Header"),
    ("py:class", "Credentials"),
    # Internal classes in public annotations (Route.engine, PathMap.match's return).
    ("py:class", "cors_wsgi._engine.Engine"),
    ("py:class", "cors_wsgi._engine.Ambiguous"),
    # cors_wsgi.views: the "no CORS" marker's class, type aliases and a type variable.
    ("py:class", "cors_wsgi._engine.Unanswered"),
    ("py:class", "Unanswered"),
    ("py:class", "Resolver"),
    ("py:class", "cors_wsgi.views.View"),
    # cors_wsgi.flask: Flask is imported for annotations only.
    ("py:class", "Flask"),
    # cors_wsgi.metrics and store: optional libraries' and protocols' names in annotations.
    ("py:class", "CollectorRegistry"),
    ("py:class", "Hook"),
    ("py:class", "Notifier"),
    ("py:class", "cors_wsgi.refusals._Record"),
]
# Flask is imported for annotations only (``if TYPE_CHECKING``): with it
# known, autodoc evaluates cors_wsgi.flask's annotations.
autodoc_type_aliases = {"Flask": "Flask"}


def _qualify_wsgi_middleware(app: object, obj: object, bound_method: bool) -> None:
    """An annotation autodoc cannot evaluate stays a string; ``CORSMiddleware``
    in it would match cors_wsgi.django.CORSMiddleware too, so name the WSGI
    class in full (this changes only the docs build's copy of the string)."""
    module = getattr(obj, "__module__", "") or ""
    if not module.startswith("cors_wsgi"):
        return
    # A class's signature comes from its __init__.
    for target in (obj, getattr(obj, "__init__", None)) if isinstance(obj, type) else (obj,):
        _qualify(getattr(target, "__annotations__", None), module)


def _qualify(annotations: object, module: str) -> None:
    if not isinstance(annotations, dict):
        return
    for key, value in annotations.items():
        if isinstance(value, str):
            value = re.sub(r"(?<![\w.])CORSMiddleware\b", "cors_wsgi.CORSMiddleware", value)
            annotations[key] = value


def setup(app: object) -> None:
    app.connect("autodoc-before-process-signature", _qualify_wsgi_middleware)  # type: ignore[attr-defined]
# Standard-library classes in annotations: intersphinx would need the network.
nitpick_ignore_regex = [
    ("py:class", r"(re|datetime|collections\.abc|typing|logging|os|sqlite3)\.\w+"),
    ("py:exc", r"sqlite3\.\w+"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True

intersphinx_mapping = {}  # no network at build time: links are written out in full

html_theme = "furo"
html_title = f"cors_wsgi {release}"
html_static_path: list[str] = []

# Every code example in the docs runs: ``>>>`` blocks and ``testcode`` blocks.
doctest_global_setup = """
import webtest
from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy

def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
"""
doctest_test_doctest_blocks = "default"

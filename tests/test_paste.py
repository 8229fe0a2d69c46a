"""The PasteDeploy filter: ini keys -> the same CORSPolicy Python users build."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import webtest
from paste.deploy import loadapp

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy

HERE = Path(__file__).resolve().parent
APP = "https://app.example.com"

BASE = """
[app:plain]
use = call:tests.test_paste:plain_app_factory

[pipeline:main]
pipeline = cors plain
"""


def plain_app(environ: dict[str, object], start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [b"plain"]


def plain_app_factory(global_conf: dict[str, str], **local_conf: str) -> object:
    return plain_app


def load(tmp_path: Path, filter_section: str, defaults: str = "") -> CORSMiddleware:
    text = ""
    if defaults:
        text += "[DEFAULT]\n" + textwrap.dedent(defaults)
    text += BASE + "\n[filter:cors]\n" + textwrap.dedent(filter_section)
    ini = tmp_path / "app.ini"
    ini.write_text(text)
    app = loadapp(f"config:{ini}")
    assert isinstance(app, CORSMiddleware)
    return app


def test_issue_example_builds_the_same_policy_as_python(tmp_path: Path) -> None:
    app = load(tmp_path, """
        use = egg:cors_wsgi
        allow_origins = https://app.example.com https://*.example.com
        allow_methods = GET, POST, PUT
        allow_headers = Content-Type Authorization
        allow_credentials = true
        max_age = 600
        paths = /api/*
        """)
    expected = CORSPolicy(
        allow_origins=["https://app.example.com", "https://*.example.com"],
        allow_methods=["GET", "POST", "PUT"],
        allow_headers=["Content-Type", "Authorization"],
        allow_credentials=True,
        max_age=600,
    )
    assert app.policy == {"/api/*": expected}


@pytest.mark.parametrize("use", ["egg:cors_wsgi", "egg:cors_wsgi#cors", "egg:cors_wsgi#main"])
def test_entry_point_names(tmp_path: Path, use: str) -> None:
    app = load(tmp_path, f"use = {use}\nallow_origins = {APP}\n")
    response = webtest.TestApp(app, lint=True).get("/", headers={"Origin": APP})
    assert response.headers["Access-Control-Allow-Origin"] == APP


def test_lists_split_on_commas_spaces_and_newlines(tmp_path: Path) -> None:
    app = load(tmp_path, """
        use = egg:cors_wsgi
        allow_origins =
            https://a.example.com,
            https://b.example.com https://c.example.com
        """)
    assert isinstance(app.policy, CORSPolicy)
    assert app.policy.allow_origins == ("https://a.example.com", "https://b.example.com", "https://c.example.com")


@pytest.mark.parametrize(("text", "value"), [("true", True), ("Yes", True), ("on", True), ("1", True),
                                             ("false", False), ("NO", False), ("off", False), ("0", False)])
def test_booleans_accept_the_documented_words(tmp_path: Path, text: str, value: bool) -> None:
    app = load(tmp_path, f"use = egg:cors_wsgi\nallow_origins = {APP}\nallow_credentials = {text}\n")
    assert isinstance(app.policy, CORSPolicy)
    assert app.policy.allow_credentials is value


def test_debug_key_reaches_the_middleware(tmp_path: Path) -> None:
    app = load(tmp_path, f"use = egg:cors_wsgi\nallow_origins = {APP}\ndebug = true\n")
    assert app.debug is True


@pytest.mark.parametrize(
    ("line", "key", "code"),
    [
        pytest.param("allow_origin = https://app.example.com", "allow_origin", "unknown-key", id="typo"),
        pytest.param("allow_credentials = maybe", "allow_credentials", "invalid-value", id="bad-bool"),
        pytest.param("allow_credentials = truee", "allow_credentials", "invalid-value", id="near-bool"),
        pytest.param("max_age = 10m", "max_age", "invalid-value", id="bad-int"),
        pytest.param("max_age = 1.5", "max_age", "invalid-value", id="float-int"),
        pytest.param("max_age = 100000", "max_age", "max-age-out-of-range", id="int-out-of-range"),
        pytest.param("debug = sometimes", "debug", "invalid-value", id="bad-debug"),
        pytest.param("paths = api/*", "paths", "invalid-path-pattern", id="bad-path"),
    ],
)
def test_bad_key_or_value_fails_loadapp_naming_the_key(tmp_path: Path, line: str, key: str, code: str) -> None:
    with pytest.raises(CORSConfigError) as caught:
        load(tmp_path, f"use = egg:cors_wsgi\nallow_origins = {APP}\n{line}\n")
    assert [(p.code, p.argument) for p in caught.value.problems] == [(code, key)]


def test_unknown_key_suggests_the_close_name(tmp_path: Path) -> None:
    with pytest.raises(CORSConfigError) as caught:
        load(tmp_path, f"use = egg:cors_wsgi\nallow_origins = {APP}\nallow_header = X-A\n")
    assert "did you mean 'allow_headers'?" in caught.value.problems[0].message


def test_every_bad_key_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(CORSConfigError) as caught:
        load(tmp_path, "use = egg:cors_wsgi\nallow_origins = null\nmax_age = x\ncolour = red\n")
    assert sorted(caught.value.codes) == ["invalid-value", "null-origin", "unknown-key"]


def test_policy_key_in_default_section_fails_loadapp(tmp_path: Path) -> None:
    with pytest.raises(CORSConfigError) as caught:
        load(tmp_path, f"use = egg:cors_wsgi\nallow_origins = {APP}\nallow_credentials = true\n",
             defaults="allow_credentials = false\n")
    (problem,) = caught.value.problems
    assert (problem.code, problem.argument) == ("key-in-default-section", "allow_credentials")
    assert "filter section" in problem.message


def test_debug_may_follow_a_global_debug(tmp_path: Path) -> None:
    app = load(tmp_path, f"use = egg:cors_wsgi\nallow_origins = {APP}\n", defaults="debug = true\n")
    assert app.debug is True


def test_default_section_values_never_merge_into_the_policy(tmp_path: Path) -> None:
    app = load(tmp_path, f"use = egg:cors_wsgi\nallow_origins = {APP}\n", defaults="unrelated = 1\n")
    assert app.policy == CORSPolicy(allow_origins=APP)


def test_example_ini_loads_and_answers_a_preflight() -> None:
    app = loadapp(f"config:{HERE.parent / 'examples' / 'app.ini'}")
    client = webtest.TestApp(app, lint=True)
    response = client.options(
        "/api/items",
        headers={"Origin": "http://localhost:8080", "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "content-type"},
        status=204,
    )
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:8080"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def test_example_ini_actual_request_reaches_flask() -> None:
    app = loadapp(f"config:{HERE.parent / 'examples' / 'app.ini'}")
    response = webtest.TestApp(app, lint=True).get("/api/items", headers={"Origin": "http://localhost:8080"})
    assert response.json == [{"id": 1, "name": "first"}]
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:8080"


def test_catch_exceptions_key_reaches_the_middleware(tmp_path: Path) -> None:
    app = load(tmp_path, f"use = egg:cors_wsgi\nallow_origins = {APP}\ncatch_exceptions = yes\n")
    assert app.catch_exceptions is True

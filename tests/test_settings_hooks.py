"""``on_refusal`` and ``on_decision`` from settings: ``CORS_ON_DECISION``
in Flask's config and Django's settings, ``on_decision =`` in a PasteDeploy
filter, ``cors.on_decision`` in Pyramid, ``CORS(app, on_decision=...)``.
A string names ``package.module:hook``, or ``package.module:factory()``
called once to build the hook (``cors_wsgi.metrics:prometheus()``)."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import flask
import pytest
import webtest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSConfigError, CORSMiddleware
from cors_wsgi.refusals import Decision, Refusal
from tests.conftest import API, RecordingApp

EVIL = "https://evil.example"
SEEN: list[tuple[str, str, str | None]] = []


def record(decision: Decision) -> None:
    SEEN.append((decision.kind, decision.outcome, decision.reason))


def record_refusal(refusal: Refusal) -> None:
    SEEN.append(("refusal", refusal.kind, refusal.reason))


def recorder() -> Any:
    """A hook factory (``tests.test_settings_hooks:recorder()``)."""
    return record


def broken(decision: Decision) -> None:
    raise RuntimeError("hook failed")


def to_file() -> Any:
    """A hook factory for another process: one JSON line per decision in ``$CORS_HOOK_FILE``."""
    path = os.environ["CORS_HOOK_FILE"]

    def write(decision: Decision) -> None:
        with open(path, "a", encoding="utf-8") as file:
            file.write(json.dumps([decision.kind, decision.outcome, decision.reason]) + "\n")

    return write


NOT_CALLABLE = 42


def NOT_A_HOOK() -> int:  # noqa: N802 - named for the message it produces
    return 42


def app_factory(global_conf: dict[str, str], **local_conf: str) -> Any:
    return RecordingApp()
HOOK = "tests.test_settings_hooks:record"
FACTORY = "tests.test_settings_hooks:recorder()"


@pytest.fixture(autouse=True)
def fresh() -> None:
    SEEN.clear()


def requests(app: Any) -> None:
    client = webtest.TestApp(app)
    client.get("/api/x", headers={"Origin": API})
    client.get("/api/x", headers={"Origin": EVIL})


@pytest.mark.parametrize("value", [HOOK, FACTORY, record], ids=["module:hook", "module:factory()", "callable"])
def test_cors_on_decision_setting_is_the_hook(value: object) -> None:
    app = CORSMiddleware.from_settings(RecordingApp(), {"CORS_ALLOW_ORIGINS": [API], "CORS_ON_DECISION": value})
    requests(app)
    assert SEEN == [("actual", "allowed", None), ("actual", "refused", "origin-not-allowed")]


def test_cors_on_refusal_setting_is_the_hook() -> None:
    settings = {"CORS_ALLOW_ORIGINS": [API], "CORS_ON_REFUSAL": "tests.test_settings_hooks:record_refusal"}
    requests(CORSMiddleware.from_settings(RecordingApp(), settings))
    assert SEEN == [("refusal", "actual", "origin-not-allowed")]


def test_several_hooks_run_in_order_and_one_that_raises_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    settings = {"CORS_ALLOW_ORIGINS": [API], "CORS_ON_DECISION": f"tests.test_settings_hooks:broken\n{HOOK}"}
    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        requests(CORSMiddleware.from_settings(RecordingApp(), settings))
    assert SEEN == [("actual", "allowed", None), ("actual", "refused", "origin-not-allowed")]
    assert len(caplog.records) == 2
    assert all("on_decision" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("value", "says"), [
    (NOT_CALLABLE, "expected a callable, or 'package.module:hook'"),
    ("tests.test_settings_hooks:NOT_CALLABLE", "is not callable"),
    ("tests.test_settings_hooks:NOT_CALLABLE()", "is not callable"),
    ("tests.test_settings_hooks:record()", "raised TypeError"),
    ("tests.test_settings_hooks:NOT_A_HOOK()", "returned 42, which is not callable"),
    ("tests.no_such_module:hook", "no_such_module"),
    # A hook factory named without its call would count nothing and log an error per request.
    ("cors_wsgi.metrics:prometheus", "builds a hook: write 'cors_wsgi.metrics:prometheus()' to call it"),
    ("cors_wsgi.metrics:opentelemetry", "write 'cors_wsgi.metrics:opentelemetry()'"),
    ("cors_wsgi.metrics:prometheus ()", "write 'package.module:factory()' with no space before '()'"),
    (".relative:hook", "no relative import"),
])
def test_a_hook_setting_that_is_no_hook_names_its_key(value: object, says: str) -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware.from_settings(RecordingApp(), {"CORS_ALLOW_ORIGINS": [API], "CORS_ON_DECISION": value})
    (problem,) = caught.value.problems
    assert problem.argument == "CORS_ON_DECISION"
    assert says in problem.message


# -- hostile hook strings (Hypothesis) ---------------------------------------------

#: Characters a hook string should never trip over: the reference syntax
#: (colon, dots, parentheses), whitespace of every kind (it separates hooks),
#: NUL and other control characters, line and bidi controls, non-ASCII letters.
AWKWARD = [":", ".", "(", ")", "()", "..", " ", "\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\x85", "\x1c",
           "\u2028", "\xa0", "\ufeff", "\u202e", "é", "\U0001d518", "-", "/", "\\", "'", '"', "*"]
FRAGMENTS = st.lists(st.one_of(st.sampled_from(AWKWARD), st.text(max_size=6)), max_size=12).map("".join)
MODULES = st.one_of(
    st.sampled_from(["tests.test_settings_hooks", "cors_wsgi", "cors_wsgi.metrics", "json", "",
                     ".", "..", ".tests", "tests..test_settings_hooks", "tests.no_such_module"]),
    FRAGMENTS,
)
REFERENCES = st.builds(
    lambda module, attribute, call: f"{module}:{attribute}{call}",
    MODULES, FRAGMENTS, st.sampled_from(["", "()", "(", ")", "())", "( )", "()()"]),
)
LONG = st.builds(
    lambda char, count, tail: char * count + tail,
    st.sampled_from(["a", ".", ":", "é", "\x00", "a."]), st.integers(500, 1900), FRAGMENTS,
)
HOSTILE_HOOKS = st.one_of(
    st.text(max_size=2000),
    FRAGMENTS,
    REFERENCES,
    LONG,
    st.lists(REFERENCES, min_size=2, max_size=4).flatmap(
        lambda parts: st.sampled_from([" ", "\n", "\t", "\u2028", "\x1c"]).map(lambda space: space.join(parts))
    ),
).map(lambda value: value[:2000])


def names_an_object(value: str) -> bool:
    """Whether some hook in ``value`` names a real object, or a module not
    imported yet (importing it could run its code), decided without importing."""
    for spelled in value.split():
        module_name, _, attribute = spelled.removesuffix("()").partition(":")
        prefix = ""
        for part in module_name.split("."):
            prefix = f"{prefix}.{part}" if prefix else part
            if prefix in sys.modules:
                continue
            try:
                spec = importlib.util.find_spec(prefix)
            except Exception:  # not a name any module can have
                spec = None
            if spec is not None:
                return True
            break
        else:
            target: object = sys.modules[module_name]
            parts = attribute.split(".")
            for part in parts:
                if not hasattr(target, part):
                    break
                target = getattr(target, part)
            else:
                return True
    return False


def refused(key: str, value: str) -> CORSConfigError:
    """The error ``from_settings`` raises for ``value`` as the ``key`` hook setting."""
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware.from_settings(RecordingApp(), {"CORS_ALLOW_ORIGINS": [API], key: value})
    return caught.value


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(["CORS_ON_DECISION", "CORS_ON_REFUSAL"]), value=HOSTILE_HOOKS)
@example(key="CORS_ON_DECISION", value=".:0")  # a relative module name
@example(key="CORS_ON_DECISION", value="a." * 500 + "a:b")  # a module name 501 levels deep
def test_a_hostile_hook_string_that_names_no_object_is_refused_as_a_config_error(key: str, value: str) -> None:
    """Proves no other exception (TypeError, ImportError, ...) escapes: one invalid-value problem naming the key."""
    assume(value.split() and not names_an_object(value))
    error = refused(key, value)
    assert [(p.code, p.argument, p.value) for p in error.problems] == [("invalid-value", key, value)]


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(["CORS_ON_DECISION", "CORS_ON_REFUSAL"]), value=HOSTILE_HOOKS)
def test_a_refused_hook_string_appears_in_the_error_only_escaped(key: str, value: str) -> None:
    """Proves the message shows the value as its repr: no raw newline or control character from it."""
    assume(value.split() and not names_an_object(value))
    error = refused(key, value)
    header, line = str(error).splitlines()  # only the error's own line break
    assert header == "1 CORS configuration problem:"
    assert line.isprintable(), line
    assert repr(value) in line


def test_an_empty_hook_setting_means_none() -> None:
    app = CORSMiddleware.from_settings(RecordingApp(), {"CORS_ALLOW_ORIGINS": [API], "CORS_ON_DECISION": " "})
    assert app.on_decision is None


def test_the_metrics_factory_setting_builds_again_after_a_refused_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The factory runs while the settings are converted, before the policy
    # is validated: a retry must not meet a duplicated timeseries.
    import prometheus_client

    monkeypatch.setattr(prometheus_client, "REGISTRY", prometheus_client.CollectorRegistry())
    settings = {"CORS_ALLOW_ORIGINS": ["*"], "CORS_ALLOW_CREDENTIALS": True,
                "CORS_ON_DECISION": "cors_wsgi.metrics:prometheus()"}
    with pytest.raises(CORSConfigError):
        CORSMiddleware.from_settings(RecordingApp(), settings)
    app = CORSMiddleware.from_settings(RecordingApp(), {**settings, "CORS_ALLOW_ORIGINS": [API]})
    assert callable(app.on_decision)


def test_the_metrics_factory_setting_counts_in_prometheus(monkeypatch: pytest.MonkeyPatch) -> None:
    import prometheus_client

    registry = prometheus_client.CollectorRegistry()
    monkeypatch.setattr(prometheus_client, "REGISTRY", registry)
    settings = {"CORS_ALLOW_ORIGINS": [API], "CORS_ON_DECISION": "cors_wsgi.metrics:prometheus()"}
    requests(CORSMiddleware.from_settings(RecordingApp(), settings))
    assert registry.get_sample_value(
        "cors_wsgi_decisions_total", {"kind": "actual", "outcome": "refused", "reason": "origin-not-allowed",
                                      "path_pattern": ""}) == 1.0


def test_paste_filter_reads_on_decision(tmp_path: Path) -> None:
    from paste.deploy import loadapp

    ini = tmp_path / "app.ini"
    ini.write_text(
        "[app:api]\nuse = call:tests.test_settings_hooks:app_factory\n\n"
        f"[filter:cors]\nuse = egg:cors_wsgi\nallow_origins = {API}\non_decision = {FACTORY}\n\n"
        "[pipeline:main]\npipeline = cors api\n"
    )
    requests(loadapp(f"config:{ini}"))
    assert SEEN == [("actual", "allowed", None), ("actual", "refused", "origin-not-allowed")]


def test_paste_on_decision_in_default_section_is_refused(tmp_path: Path) -> None:
    from paste.deploy import loadapp

    ini = tmp_path / "app.ini"
    ini.write_text(
        f"[DEFAULT]\non_decision = {HOOK}\n\n[app:api]\nuse = call:tests.test_settings_hooks:app_factory\n\n"
        f"[filter:cors]\nuse = egg:cors_wsgi\nallow_origins = {API}\n\n[pipeline:main]\npipeline = cors api\n"
    )
    with pytest.raises(CORSConfigError) as caught:
        loadapp(f"config:{ini}")
    assert caught.value.codes == ["key-in-default-section"]


def flask_app(**config: object) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(config)

    @app.get("/api/x")
    def data() -> str:
        return "ok"

    return app


def test_flask_extension_takes_on_decision() -> None:
    from cors_wsgi.flask import CORS

    app = flask_app()
    CORS(app, allow_origins=[API], on_decision=record)
    requests(app)
    assert SEEN == [("actual", "allowed", None), ("actual", "refused", "origin-not-allowed")]


def test_flask_config_cors_on_decision_is_read() -> None:
    from cors_wsgi.flask import CORS

    app = flask_app(CORS_ALLOW_ORIGINS=[API], CORS_ON_DECISION=HOOK)
    CORS(app)
    requests(app)
    assert SEEN == [("actual", "allowed", None), ("actual", "refused", "origin-not-allowed")]


def test_flask_extension_refuses_a_hook_that_is_not_callable() -> None:
    from cors_wsgi.flask import CORS

    with pytest.raises(CORSConfigError) as caught:
        CORS(flask_app(), allow_origins=[API], on_decision=NOT_CALLABLE)  # type: ignore[arg-type]
    assert [(p.code, p.argument) for p in caught.value.problems] == [("invalid-type", "on_decision")]


def test_pyramid_cors_on_decision_setting_is_read() -> None:
    from pyramid.config import Configurator
    from pyramid.response import Response

    with Configurator(settings={"cors.allow_origins": API, "cors.on_decision": FACTORY}) as config:
        config.include("cors_wsgi.pyramid")
        config.add_route("data", "/api/x")
        config.add_view(lambda request: Response("ok"), route_name="data")
        app = config.make_wsgi_app()
    requests(app)
    assert SEEN == [("actual", "allowed", None), ("actual", "refused", "origin-not-allowed")]


def test_django_cors_on_decision_setting_is_read_by_the_middleware(tmp_path: Path) -> None:
    from tests.test_django_adapter import PAGE, client_answers

    (tmp_path / "hook_settings.py").write_text(
        "from examples.views_django.settings import *  # noqa: F403\n"
        "CORS_ON_DECISION = 'tests.test_settings_hooks:to_file()'\n"
    )
    written = tmp_path / "decisions.jsonl"
    client_answers([("GET", "/api/items", {"Origin": PAGE}), ("GET", "/api/items", {"Origin": EVIL})],
                   settings="hook_settings", PYTHONPATH=str(tmp_path), CORS_HOOK_FILE=str(written))
    lines = [json.loads(line) for line in written.read_text().splitlines()]
    assert lines == [["actual", "allowed", None], ["actual", "refused", "origin-not-allowed"]]

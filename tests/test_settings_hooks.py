"""``on_refusal`` and ``on_decision`` from settings: ``CORS_ON_DECISION``
in Flask's config and Django's settings, ``on_decision =`` in a PasteDeploy
filter, ``cors.on_decision`` in Pyramid, ``CORS(app, on_decision=...)``.
A string names ``package.module:hook``, or ``package.module:factory()``
called once to build the hook (``cors_wsgi.metrics:prometheus()``)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import flask
import pytest
import webtest

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
])
def test_a_hook_setting_that_is_no_hook_names_its_key(value: object, says: str) -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware.from_settings(RecordingApp(), {"CORS_ALLOW_ORIGINS": [API], "CORS_ON_DECISION": value})
    (problem,) = caught.value.problems
    assert problem.argument == "CORS_ON_DECISION"
    assert says in problem.message


def test_an_empty_hook_setting_means_none() -> None:
    app = CORSMiddleware.from_settings(RecordingApp(), {"CORS_ALLOW_ORIGINS": [API], "CORS_ON_DECISION": " "})
    assert app.on_decision is None


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

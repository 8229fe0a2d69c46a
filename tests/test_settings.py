"""from_settings: Flask config, Django settings, env-like dicts -> the same policy."""

from __future__ import annotations

import types

import flask
import pytest
import webtest

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy
from tests.conftest import API, RecordingApp

EXPECTED = CORSPolicy(
    allow_origins=["https://app.example.com", "https://*.example.com"],
    allow_methods=["GET", "POST", "PUT"],
    allow_headers=["Content-Type", "Authorization"],
    allow_credentials=True,
    max_age=600,
)


def test_flask_config_with_python_values_equals_the_constructor() -> None:
    app = flask.Flask(__name__)
    app.config.update(
        CORS_ALLOW_ORIGINS=["https://app.example.com", "https://*.example.com"],
        CORS_ALLOW_METHODS=["GET", "POST", "PUT"],
        CORS_ALLOW_HEADERS=["Content-Type", "Authorization"],
        CORS_ALLOW_CREDENTIALS=True,
        CORS_MAX_AGE=600,
    )
    assert CORSPolicy.from_settings(app.config) == EXPECTED


def test_string_values_are_parsed_like_ini_values() -> None:
    env = {
        "CORS_ALLOW_ORIGINS": "https://app.example.com,https://*.example.com",
        "CORS_ALLOW_METHODS": "GET POST PUT",
        "CORS_ALLOW_HEADERS": "Content-Type\nAuthorization",
        "CORS_ALLOW_CREDENTIALS": "yes",
        "CORS_MAX_AGE": "600",
        "PATH": "/usr/bin",
    }
    assert CORSPolicy.from_settings(env) == EXPECTED


def test_django_style_settings_object_is_read_by_attribute() -> None:
    settings = types.SimpleNamespace(
        CORS_ALLOW_ORIGINS=("https://app.example.com", "https://*.example.com"),
        CORS_ALLOW_METHODS=("GET", "POST", "PUT"),
        CORS_ALLOW_HEADERS=("Content-Type", "Authorization"),
        CORS_ALLOW_CREDENTIALS=True,
        CORS_MAX_AGE=600,
        DEBUG=False,
    )
    assert CORSPolicy.from_settings(settings) == EXPECTED


def test_custom_prefix() -> None:
    assert CORSPolicy.from_settings({"API_CORS_ALLOW_ORIGINS": API}, prefix="API_CORS_") == CORSPolicy(
        allow_origins=API
    )


def test_unrelated_settings_are_ignored() -> None:
    policy = CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, "SECRET_KEY": "x", "CORSAIR": 1})
    assert policy == CORSPolicy(allow_origins=API)


def test_unknown_cors_key_is_a_problem_naming_the_key() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, "CORS_ALLOWED_ORIGINS": [API]})
    (problem,) = caught.value.problems
    assert (problem.code, problem.argument) == ("unknown-key", "CORS_ALLOWED_ORIGINS")
    assert "CORS_ALLOWED_ORIGINS (django-cors-headers) is CORS_ALLOW_ORIGINS in cors_wsgi" in problem.message


def test_constructor_problems_name_the_settings_key() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": "null", "CORS_MAX_AGE": "soon"})
    assert sorted((p.code, p.argument) for p in caught.value.problems) == [
        ("invalid-value", "CORS_MAX_AGE"),
        ("null-origin", "CORS_ALLOW_ORIGINS"),
    ]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy.from_settings({
            "CORS_ALLOW_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "true", "CORS_MAX_AGE": -1, "CORS_COLOUR": "red",
        })
    assert sorted(caught.value.codes) == ["max-age-out-of-range", "unknown-key", "wildcard-origin-with-credentials"]


def test_python_values_are_validated_strictly() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, "CORS_MAX_AGE": 1.5})
    assert caught.value.codes == ["invalid-type"]


def test_middleware_keys_are_ignored_by_the_policy() -> None:
    policy = CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, "CORS_DEBUG": True, "CORS_PATHS": ["/api/*"]})
    assert policy == CORSPolicy(allow_origins=API)


def test_middleware_from_settings_applies_paths_and_flags() -> None:
    middleware = CORSMiddleware.from_settings(RecordingApp(), {
        "CORS_ALLOW_ORIGINS": API, "CORS_PATHS": "/api/*", "CORS_DEBUG": "on", "CORS_CATCH_EXCEPTIONS": True,
    })
    assert (middleware.debug, middleware.catch_exceptions) == (True, True)
    assert middleware.policy == {"/api/*": CORSPolicy(allow_origins=API)}
    client = webtest.TestApp(middleware, lint=True)
    assert client.get("/api/x", headers={"Origin": API}).headers["Access-Control-Allow-Origin"] == API
    assert "Access-Control-Allow-Origin" not in client.get("/other", headers={"Origin": API}).headers


def test_middleware_from_settings_names_bad_flag_keys() -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSMiddleware.from_settings(RecordingApp(), {"CORS_ALLOW_ORIGINS": API, "CORS_DEBUG": "maybe",
                                                      "CORS_CATCH_EXCEPTIONS": 1})
    assert sorted((p.code, p.argument) for p in caught.value.problems) == [
        ("invalid-type", "CORS_CATCH_EXCEPTIONS"), ("invalid-value", "CORS_DEBUG"),
    ]


def test_django_settings_module_equals_the_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "examples.django_site.settings")
    from django.conf import settings

    assert CORSPolicy.from_settings(settings) == CORSPolicy(
        allow_origins=["http://localhost:8080", "http://127.0.0.1:8080"],
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Content-Type", "Authorization"],
        expose_headers=["X-Request-Id"],
        allow_credentials=True,
        max_age=600,
    )


def test_preflight_status_setting_is_converted_from_a_string() -> None:
    policy = CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, "CORS_PREFLIGHT_STATUS": "200"})
    assert policy.preflight_status == 200


@pytest.mark.parametrize("written", ["none", " None ", ""])
def test_max_age_setting_none_or_empty_means_no_max_age_header(written: str) -> None:
    policy = CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, "CORS_MAX_AGE": written})
    assert policy.max_age is None


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"CORS_ORIGIN_CACHE_SIZE": "ten"}, "expected a whole number, e.g. 60"),
        ({"CORS_ALLOW_ORIGIN_PREDICATE": "os.path"}, "expected a dotted reference 'package.module:callable'"),
        ({"CORS_ALLOW_ORIGIN_PREDICATE": "no_such_module_here:check"}, "cannot import 'no_such_module_here'"),
        ({"CORS_ALLOW_ORIGIN_PREDICATE": "os.path:no_such_name"}, "'os.path' has no attribute 'no_such_name'"),
        ({"CORS_ALLOW_ORIGIN_PREDICATE": "os.path:sep"}, "'os.path:sep' is not callable"),
    ],
)
def test_string_setting_that_does_not_convert_says_what_was_expected(settings: dict[str, str], says: str) -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, **settings})
    (problem,) = caught.value.problems
    assert (problem.code, problem.argument) == ("invalid-value", next(iter(settings)))
    assert says in problem.message


def test_blank_regex_setting_means_no_regex() -> None:
    policy = CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, "CORS_ALLOW_ORIGIN_REGEX": "\n  \n"})
    assert policy == CORSPolicy(allow_origins=[API])


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"CORS_PREDICATE_TIMEOUT_SECONDS": "soon"}, "expected a number of seconds, e.g. 1.5"),
        ({"CORS_PREDICATE_TIMEOUT_SECONDS": "nan"}, "expected a finite number of seconds"),
        ({"CORS_PREDICATE_TIMEOUT_SECONDS": "-inf"}, "expected a finite number of seconds"),
        ({"CORS_ALLOW_ORIGIN_STORE": "stores"}, "expected a dotted reference 'package.module:store'"),
        ({"CORS_ALLOW_ORIGIN_STORE": "no_such_module_here:store"}, "cannot import 'no_such_module_here'"),
        ({"CORS_ALLOW_ORIGIN_STORE": "os.path:no_such_store"}, "'os.path' has no attribute 'no_such_store'"),
    ],
)
def test_seconds_and_store_settings_that_do_not_convert_say_what_was_expected(
    settings: dict[str, str], says: str
) -> None:
    with pytest.raises(CORSConfigError) as caught:
        CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, **settings})
    (problem,) = caught.value.problems
    assert (problem.code, problem.argument) == ("invalid-value", next(iter(settings)))
    assert says in problem.message


def test_predicate_timeout_setting_is_converted_from_a_string() -> None:
    policy = CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, "CORS_PREDICATE_TIMEOUT_SECONDS": " 2.5 "})
    assert policy.predicate_timeout_seconds == 2.5

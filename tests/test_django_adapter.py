"""Django: cors_wsgi.django.CORSMiddleware in MIDDLEWARE, @cross_origin views, system checks,
the test Client against real servers.  Each Django run is its own process (settings are global)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.servers import free_port, run_server
from tests.test_examples import BIN, env

ROOT = Path(__file__).resolve().parent.parent
PAGE = "http://localhost:8080"
ADMIN = "http://127.0.0.1:8080"

#: (method, path, request headers): what each test asks the example project.
REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("OPTIONS", "/api/admin/items/1", {"Origin": ADMIN, "Access-Control-Request-Method": "PUT"}),
    ("OPTIONS", "/api/admin/items/1", {"Origin": PAGE, "Access-Control-Request-Method": "PUT"}),
    ("OPTIONS", "/api/items/1", {"Origin": PAGE, "Access-Control-Request-Method": "PUT"}),
    ("OPTIONS", "/api/items/1", {"Origin": ADMIN, "Access-Control-Request-Method": "PUT"}),
    ("OPTIONS", "/api/unrouted", {"Origin": PAGE, "Access-Control-Request-Method": "PUT"}),
    ("OPTIONS", "/api/webhook", {"Origin": PAGE, "Access-Control-Request-Method": "POST"}),
    ("PUT", "/api/admin/items/1", {"Origin": ADMIN}),
    ("GET", "/api/admin/items/1", {"Origin": ADMIN}),
    ("GET", "/api/items", {"Origin": PAGE}),
    ("POST", "/api/webhook", {"Origin": PAGE}),
]

CLIENT_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
client = Client()
out = []
for method, path, headers in json.loads(sys.argv[1]):
    response = client.generic(method, path, headers=headers)
    out.append([response.status_code, sorted((k.lower(), v) for k, v in response.items()
                                            if k.lower().startswith("access-control-") or k.lower() == "vary")])
print(json.dumps(out))
"""


def django_env(settings: str = "examples.views_django.settings", **extra: str) -> dict[str, str]:
    return {**env(), "DJANGO_SETTINGS_MODULE": settings, **extra}


def client_answers(requests: list[tuple[str, str, dict[str, str]]], **environment: str) -> list[Any]:
    result = subprocess.run([sys.executable, "-c", CLIENT_SCRIPT, json.dumps(requests)], capture_output=True,
                            text=True, timeout=120, cwd=ROOT, env=django_env(**environment), check=False)
    assert result.returncode == 0, result.stderr
    return [(status, [tuple(h) for h in headers]) for status, headers in json.loads(result.stdout)]


def server_answers(argv: list[str], port: int, requests: list[tuple[str, str, dict[str, str]]]) -> list[Any]:
    out = []
    with run_server(argv, port, cwd=str(ROOT), env=django_env()):
        for method, path, headers in requests:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            out.append((response.status, sorted((k.lower(), v) for k, v in response.getheaders()
                                                if k.lower().startswith("access-control-") or k.lower() == "vary")))
    return out


def allow_origin(answer: Any) -> str | None:
    return dict(answer[1]).get("access-control-allow-origin")


@pytest.fixture(scope="module")
def answers() -> list[Any]:
    return client_answers(REQUESTS)


def test_preflight_to_the_decorated_handler_is_answered_by_its_policy(answers: list[Any]) -> None:
    assert (answers[0][0], allow_origin(answers[0])) == (204, ADMIN)


def test_preflight_to_the_decorated_handler_is_refused_to_the_site_origin(answers: list[Any]) -> None:
    assert (answers[1][0], allow_origin(answers[1])) == (403, None)


def test_preflight_to_another_view_is_answered_by_the_settings_policy(answers: list[Any]) -> None:
    assert [(a[0], allow_origin(a)) for a in answers[2:4]] == [(204, PAGE), (403, None)]


def test_unrouted_url_under_a_covered_path_is_answered(answers: list[Any]) -> None:
    assert (answers[4][0], allow_origin(answers[4])) == (204, PAGE)


def test_no_cross_origin_view_gets_no_cors(answers: list[Any]) -> None:
    assert answers[5][0] == 403
    assert (answers[9][0], allow_origin(answers[9])) == (200, None)


def test_class_based_view_policy_applies_to_its_handler_only(answers: list[Any]) -> None:
    assert allow_origin(answers[6]) == ADMIN  # PUT: the handler's policy
    assert allow_origin(answers[7]) is None  # GET: the settings' policy, which does not allow ADMIN


def test_actual_responses_vary_by_origin(answers: list[Any]) -> None:
    assert ("vary", "Origin") in answers[8][1]


@pytest.mark.parametrize("server", ["gunicorn", "runserver"])
def test_test_client_sees_exactly_what_a_real_server_sends(answers: list[Any], server: str) -> None:
    port = free_port()
    argv = ([str(BIN / "gunicorn"), "examples.views_django.wsgi:application", "-b", f"127.0.0.1:{port}"]
            if server == "gunicorn" else
            [sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}"])
    assert server_answers(argv, port, REQUESTS) == answers


def write_settings(tmp_path: Path, body: str) -> str:
    (tmp_path / "bad_settings.py").write_text("from examples.views_django.settings import *\n" + body)
    return "bad_settings"


def check(tmp_path: Path, settings: str) -> subprocess.CompletedProcess[str]:
    environment = django_env(settings, PYTHONPATH=f"{tmp_path}:{ROOT}")
    return subprocess.run([sys.executable, "-m", "django", "check"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=environment, check=False)


def test_manage_py_check_passes_on_the_example() -> None:
    result = subprocess.run([sys.executable, "-m", "django", "check"], capture_output=True, text=True,
                            timeout=120, cwd=ROOT, env=django_env(), check=False)
    assert result.returncode == 0, result.stderr


def test_manage_py_check_lists_every_configuration_problem_with_its_id(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, 'CORS_ALLOW_ORIGINS = "*"\nCORS_ALLOW_CREDENTIALS = True\nCORS_MAX_AGE = -1\n')
    result = check(tmp_path, settings)
    assert result.returncode != 0
    assert "(cors_wsgi.wildcard-origin-with-credentials)" in result.stderr
    assert "(cors_wsgi.max-age-out-of-range)" in result.stderr


def test_manage_py_check_names_the_wsgi_class_put_in_middleware(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, 'MIDDLEWARE = ["cors_wsgi.middleware.CORSMiddleware"]\n')
    result = check(tmp_path, settings)
    assert result.returncode != 0
    assert "(cors_wsgi.wsgi-class-in-middleware)" in result.stderr
    assert "use 'cors_wsgi.django.CORSMiddleware'" in result.stderr


def test_manage_py_check_warns_when_common_middleware_comes_first(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, 'MIDDLEWARE = ["django.middleware.common.CommonMiddleware", '
                                        '"cors_wsgi.django.CORSMiddleware"]\n')
    result = check(tmp_path, settings)
    assert "(cors_wsgi.middleware-order)" in result.stderr


def test_wsgi_class_in_middleware_fails_with_the_class_to_use(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, 'MIDDLEWARE = ["cors_wsgi.middleware.CORSMiddleware"]\n'
                                        'INSTALLED_APPS = []\n')
    environment = django_env(settings, PYTHONPATH=f"{tmp_path}:{ROOT}")
    code = "import django; django.setup()\nfrom django.test import Client\nClient().get('/api/items')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env=environment, check=False)
    assert "CORSConfigError" in result.stderr
    assert "use 'cors_wsgi.django.CORSMiddleware'" in result.stderr

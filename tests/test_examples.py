"""Every example, driven through WebTest, and each framework behind real servers.

For each: a preflight to a routed URL, one to an unrouted URL (204, never the
framework's 404 or 405), an allowed actual request, a rejected one, and a 500
from the app that still carries the CORS headers.
"""

from __future__ import annotations

import http.client
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import webtest
from paste.deploy import loadapp

from tests.servers import free_port, run_server

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PAGE = "http://localhost:8080"
EVIL = "https://evil.example.net"
PYRAMID_INI = ROOT / "examples" / "pyramid_app" / "development.ini"


def flask_app() -> Any:
    from examples.flask_app import create_app

    return create_app()


def django_app() -> Any:
    from examples.django_site.wsgi import application

    return application


def pyramid_app() -> Any:
    return loadapp(f"config:{PYRAMID_INI}")


def flask_ini_app() -> Any:
    return loadapp(f"config:{ROOT / 'examples' / 'app.ini'}")


def demo_api_app() -> Any:
    from examples.demo import create_api_app

    return create_api_app(PAGE)


# -- one client interface for WebTest and for real HTTP --------------------------------

Answer = tuple[int, dict[str, str]]  # status, lower-cased headers (a repeated one joined by "\n")


class WebTestClient:
    def __init__(self, app: Any) -> None:
        self.app = webtest.TestApp(app, lint=True)

    def request(self, method: str, path: str, headers: dict[str, str]) -> Answer:
        response = self.app.request(path, method=method, headers=headers, expect_errors=True)
        merged: dict[str, str] = {}
        for name, value in response.headerlist:
            merged[name.lower()] = merged[name.lower()] + "\n" + value if name.lower() in merged else value
        return response.status_int, merged


class HTTPClient:
    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, headers: dict[str, str]) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, headers=headers)
            response = conn.getresponse()
            response.read()
            merged = {name.lower(): "\n".join(response.headers.get_all(name) or []) for name in response.headers}
            return response.status, merged
        finally:
            conn.close()


def env() -> dict[str, str]:
    """The servers' environment: no PYTHONPATH and no DJANGO_SETTINGS_MODULE, as a
    newcomer has it; ``examples`` must come from ``pip install -e ./examples``."""
    try:
        metadata.distribution("cors-wsgi-examples")
    except metadata.PackageNotFoundError:
        pytest.fail("the examples are not installed: pip install -e ./examples (the README's command does)")
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}


@pytest.fixture(scope="module", params=["flask", "flask-ini", "django", "pyramid", "demo-api"])
def webtest_client(request: pytest.FixtureRequest) -> WebTestClient:
    factories: dict[str, Callable[[], Any]] = {
        "flask": flask_app, "flask-ini": flask_ini_app, "django": django_app, "pyramid": pyramid_app,
        "demo-api": demo_api_app,
    }
    return WebTestClient(factories[request.param]())


def pyramid_ini_on_port(port: int, directory: Path) -> Path:
    """``development.ini`` with only its ``listen`` line moved to ``port``."""
    original = PYRAMID_INI.read_text()
    changed = original.replace("listen = 127.0.0.1:6543", f"listen = 127.0.0.1:{port}")
    assert [a for a, b in zip(original.splitlines(), changed.splitlines(), strict=True) if a != b] == [
        "listen = 127.0.0.1:6543"
    ]
    copy = directory / "development.ini"
    copy.write_text(changed)
    return copy


#: The server commands docs/frameworks.rst ("Servers") shows, verbatim; the
#: tests run each with its port (8000 or 6543) moved to a free one.
SERVER_COMMANDS = {
    "flask-gunicorn": "gunicorn 'examples.flask_app:create_app()' -b 127.0.0.1:8000",
    "flask-waitress-serve": "waitress-serve --listen=127.0.0.1:8000 --call examples.flask_app:create_app",
    "flask-wsgiref": "python -m examples.wsgiref_server --port 8000",
    "django-gunicorn": "gunicorn examples.django_site.wsgi:application -b 127.0.0.1:8000",
    "django-waitress-serve": "waitress-serve --listen=127.0.0.1:8000 examples.django_site.wsgi:application",
    "pyramid-pserve": "pserve examples/pyramid_app/development.ini",
    "pyramid-gunicorn-paste": "gunicorn --paste examples/pyramid_app/development.ini -b 127.0.0.1:6543",
}


def server_argv(command: str, port: int, ini_copy: Path) -> list[str]:
    argv = shlex.split(command)
    argv = [a.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace("127.0.0.1:6543", f"127.0.0.1:{port}")
            for a in argv]
    if "--port" in argv:
        argv[argv.index("--port") + 1] = str(port)
    if argv[0] == "pserve":
        argv[1] = str(ini_copy)
    return [sys.executable if argv[0] == "python" else str(BIN / argv[0]), *argv[1:]]


@pytest.fixture(scope="module", params=sorted(SERVER_COMMANDS))
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HTTPClient]:
    port = free_port()
    ini_copy = pyramid_ini_on_port(port, tmp_path_factory.mktemp("ini"))
    with run_server(server_argv(SERVER_COMMANDS[request.param], port, ini_copy), port, cwd=str(ROOT), env=env()):
        yield HTTPClient(port)


PREFLIGHT_PUT = {"Origin": PAGE, "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "content-type"}


def check_routed_preflight(client: WebTestClient | HTTPClient) -> None:
    status, headers = client.request("OPTIONS", "/api/items/1", PREFLIGHT_PUT)
    assert status == 204
    assert headers["access-control-allow-origin"] == PAGE
    assert "PUT" in headers["access-control-allow-methods"].split(", ")
    assert "content-type" in headers["access-control-allow-headers"].split(", ")


def check_unrouted_preflight(client: WebTestClient | HTTPClient) -> None:
    status, headers = client.request("OPTIONS", "/api/no/such/route", PREFLIGHT_PUT)
    assert status == 204
    assert headers["access-control-allow-origin"] == PAGE


def check_allowed_actual(client: WebTestClient | HTTPClient) -> None:
    status, headers = client.request("GET", "/api/items", {"Origin": PAGE})
    assert status == 200
    assert headers["access-control-allow-origin"] == PAGE
    assert headers["access-control-allow-credentials"] == "true"
    assert "origin" in headers["vary"].lower()


def check_rejected_actual(client: WebTestClient | HTTPClient) -> None:
    status, headers = client.request("GET", "/api/items", {"Origin": EVIL})
    assert status == 200
    assert not [name for name in headers if name.startswith("access-control-")]


def check_500_carries_cors(client: WebTestClient | HTTPClient) -> None:
    status, headers = client.request("GET", "/api/fail", {"Origin": PAGE})
    assert status == 500
    assert headers["access-control-allow-origin"] == PAGE


CHECKS = [check_routed_preflight, check_unrouted_preflight, check_allowed_actual, check_rejected_actual,
          check_500_carries_cors]


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__[6:] for c in CHECKS])
def test_example_through_webtest(webtest_client: WebTestClient, check: Callable[[Any], None]) -> None:
    check(webtest_client)


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__[6:] for c in CHECKS])
def test_example_behind_a_real_server(served: HTTPClient, check: Callable[[Any], None]) -> None:
    check(served)

"""Origins that change at run time, in a real browser: a gunicorn-served API
whose allowed origins live in a table (the SQLite store, or a Django model)
blocks the page's origin, lets it in once the origin is added while the
server runs (within the cache period), and blocks it again once removed."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import Page
from tests.servers import free_port, run_server
from tests.test_examples import BIN, env

CACHE_SECONDS = "1"


def store_cli(db: Path) -> tuple[Callable[[str], None], Callable[[str], None]]:
    def run(action: str, origin: str) -> None:
        args = [str(BIN / "cors-wsgi"), "origins", action, str(db), origin]
        subprocess.run([*args, "--credentials"] if action == "add" else args, check=True, timeout=60,
                       capture_output=True)

    return (lambda origin: run("add", origin)), (lambda origin: run("remove", origin))


def django_shell(tmp: Path) -> tuple[Callable[[str], None], Callable[[str], None]]:
    environment = {**env(), "DJANGO_SETTINGS_MODULE": "examples.django_tenants.settings",
                   "TENANTS_DB": str(tmp / "tenants.sqlite3")}

    def run(code: str) -> None:
        subprocess.run([sys.executable, "-m", "django", "shell", "-v", "0", "-c",
                        "from examples.django_tenants.models import AllowedOrigin\n" + code],
                       check=True, timeout=120, cwd=tmp, env=environment, capture_output=True)

    subprocess.run([sys.executable, "-m", "django", "migrate", "-v0"], check=True, timeout=120, cwd=tmp,
                   env=environment, capture_output=True)
    return (lambda origin: run(f"AllowedOrigin(origin={origin!r}).save()"),
            lambda origin: run(f"AllowedOrigin.objects.filter(origin={origin!r}).delete()"))


@pytest.fixture(params=["sqlite-store", "django-model"])
def tenants_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Callable[[str], None], Callable[[str], None]]]:
    port = free_port()
    environment = {**env(), "CORS_ORIGIN_CACHE_SECONDS": CACHE_SECONDS}
    if request.param == "sqlite-store":
        db = tmp_path / "origins.sqlite3"
        environment["CORS_ORIGINS_DB"] = str(db)
        add, remove = store_cli(db)
        target = "examples.tenants:create_app()"
    else:
        environment["TENANTS_DB"] = str(tmp_path / "tenants.sqlite3")
        add, remove = django_shell(tmp_path)
        target = "examples.django_tenants.wsgi:application"
    argv = [str(BIN / "gunicorn"), target, "-w", "2", "-b", f"127.0.0.1:{port}"]
    with run_server(argv, port, cwd=str(tmp_path), env=environment):
        yield f"http://127.0.0.1:{port}/api/data", add, remove


def test_origin_added_while_the_server_runs_is_let_in_and_removed_again(
    page: Page, tenants_api: tuple[str, Callable[[str], None], Callable[[str], None]]
) -> None:
    api, add, remove = tenants_api
    wait = float(CACHE_SECONDS) + 0.3

    def fetch(round_: int) -> dict[str, object]:
        result: dict[str, object] = page.tab.run("(url) => window.probe(url, {})", f"{api}?round={round_}")
        return result

    assert fetch(1) == page.blocked
    add(page.origins.page)
    time.sleep(wait)
    first = fetch(2)
    assert first["ok"], first
    remove(page.origins.page)
    time.sleep(wait)
    assert fetch(3) == page.blocked

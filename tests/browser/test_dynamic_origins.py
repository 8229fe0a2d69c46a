"""Origins that change at run time, in a real browser: a gunicorn-served API
(two workers) whose allowed origins live in a table blocks the page's origin,
lets it in once the origin is added while the server runs, and blocks it
again once removed.  Three backends:

* ``sqlite-store``, ``django-model``: a per-origin predicate
  (``allow_origin_predicate``) over the SQLite store or a Django model,
  seen within its cache period (``origin_cache_seconds``);
* ``postgres-snapshot``: ``examples.store_app``, a per-worker snapshot
  (``allow_origin_store``) of a SQLAlchemy store on a real PostgreSQL,
  changed with ``cors-wsgi origins add|remove --db URL``; the test polls the
  server until both workers answer the change (within the refresh period)
  before the browser fetches again.

Every round fetches a distinct URL (``?round=N``), so no preflight cached by
the browser (``store_app`` sends ``max_age=60``) could carry a round's answer
into the next; the fetches are simple GETs, whose responses the browser checks
itself whatever it cached.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import Page
from tests.postgres import Postgres, postgres_server
from tests.servers import free_port, run_server
from tests.test_examples import BIN, env

CACHE_SECONDS = "1"
#: ``CORS_STORE_REFRESH_SECONDS`` of the snapshot backend.
REFRESH_SECONDS = 1.0
WORKERS = 2


@dataclass
class TenantsAPI:
    url: str
    add: Callable[[str], None]
    remove: Callable[[str], None]
    #: ``settle(origin, allowed)`` returns once the server answers ``origin`` so.
    settle: Callable[[str, bool], None]


def store_cli(db: str) -> tuple[Callable[[str], None], Callable[[str], None]]:
    """``cors-wsgi origins add|remove``: on an SQLite path, or with ``--db URL``."""
    where = ["--db", db] if "://" in db else [db]

    def run(action: str, origin: str) -> None:
        args = [str(BIN / "cors-wsgi"), "origins", action, *where, origin]
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


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL for every engine: session-scoped, since pytest runs the
    browser suite engine by engine, leaving and re-entering this module (a
    module-scoped server would start once per engine).  Skips outside CI when
    PostgreSQL is missing, fails under ``CI=true`` (:mod:`tests.postgres`)."""
    with postgres_server() as server:
        yield server


def fresh_database(postgres: Postgres, name: str) -> str:
    """A new, empty database on ``postgres``; its URL, with the store's tables
    created (so the two workers do not race to create them)."""
    import sqlalchemy

    from cors_wsgi.store import SQLAlchemyOriginStore

    engine = sqlalchemy.create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = postgres.url.rsplit("/", 1)[0] + "/" + name
    SQLAlchemyOriginStore(url, allow_credentials=True).close()
    return url


def all_workers_answer(url: str, origin: str, allowed: bool, timeout: float) -> float:
    """Seconds until each of the ``WORKERS`` workers (told apart by the pid in
    ``store_app``'s body) last answered ``origin`` as ``allowed``; fails after
    ``timeout``."""
    started = time.monotonic()
    latest: dict[int, bool] = {}
    probe = 0
    while True:
        probe += 1
        request = urllib.request.Request(f"{url}?probe={probe}", headers={"Origin": origin})
        with urllib.request.urlopen(request, timeout=10) as response:
            worker = json.loads(response.read())["worker"]
            latest[worker] = response.headers.get("Access-Control-Allow-Origin") == origin
        elapsed = time.monotonic() - started
        if len(latest) == WORKERS and all(value == allowed for value in latest.values()):
            return elapsed
        if elapsed > timeout:
            pytest.fail(f"after {timeout} s and {probe} requests, workers answer {latest} (want {allowed})")
        time.sleep(0.02)


@pytest.fixture(params=["sqlite-store", "django-model", "postgres-snapshot"])
def tenants_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TenantsAPI]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/data"
    environment = {**env(), "CORS_ORIGIN_CACHE_SECONDS": CACHE_SECONDS}

    def sleep(origin: str, allowed: bool) -> None:
        time.sleep(float(CACHE_SECONDS) + 0.3)

    def poll(origin: str, allowed: bool) -> None:
        seconds = all_workers_answer(url, origin, allowed, timeout=REFRESH_SECONDS + 2.0)
        print(f"{'added' if allowed else 'removed'}: both workers agree after {seconds:.2f} s")

    settle = sleep
    if request.param == "sqlite-store":
        db = tmp_path / "origins.sqlite3"
        environment["CORS_ORIGINS_DB"] = str(db)
        add, remove = store_cli(str(db))
        target = "examples.tenants:create_app()"
    elif request.param == "django-model":
        environment["TENANTS_DB"] = str(tmp_path / "tenants.sqlite3")
        add, remove = django_shell(tmp_path)
        target = "examples.django_tenants.wsgi:application"
    else:
        postgres: Postgres = request.getfixturevalue("postgres")
        database = fresh_database(postgres, f"browser_{request.node.callspec.id.replace('-', '_')}")
        for pushed in ("CORS_STORE_NOTIFY", "CORS_STORE_REDIS_URL"):  # polling only
            environment.pop(pushed, None)
        environment["CORS_STORE_URL"] = database
        environment["CORS_STORE_REFRESH_SECONDS"] = str(REFRESH_SECONDS)
        add, remove = store_cli(database)
        target = "examples.store_app:create_app()"
        settle = poll
    argv = [str(BIN / "gunicorn"), target, "-w", str(WORKERS), "-b", f"127.0.0.1:{port}"]
    with run_server(argv, port, cwd=str(tmp_path), env=environment):
        yield TenantsAPI(url, add, remove, settle)


def test_origin_added_while_the_server_runs_is_let_in_and_removed_again(page: Page, tenants_api: TenantsAPI) -> None:
    api = tenants_api

    def fetch(round_: int) -> dict[str, object]:
        result: dict[str, object] = page.tab.run("(url) => window.probe(url, {})", f"{api.url}?round={round_}")
        return result

    assert fetch(1) == page.blocked
    api.add(page.origins.page)
    api.settle(page.origins.page, True)
    first = fetch(2)
    assert first["ok"], first
    api.remove(page.origins.page)
    api.settle(page.origins.page, False)
    assert fetch(3) == page.blocked

"""A real PostgreSQL server for the tests: ``initdb`` + ``pg_ctl start`` on a
temporary directory and a free loopback port, as a non-root user (``nobody``
when the tests run as root).  Missing binaries skip outside CI and fail under
``CI=true`` (``.ci/run`` installs Debian's ``postgresql``)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.servers import free_port


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def missing(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


class Postgres:
    """One server: ``url`` (SQLAlchemy, psycopg 3), ``stop()``, ``start()``."""

    def __init__(self, initdb: str, pg_ctl: str) -> None:
        self.pg_ctl = pg_ctl
        self.directory = tempfile.mkdtemp(prefix="cors-wsgi-pg-")
        os.chmod(self.directory, 0o755)
        self.data = os.path.join(self.directory, "data")
        self.port = free_port()
        self.user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.directory, "nobody")
            self.user = ["runuser", "-u", "nobody", "--"]
        self._run([initdb, "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, argv: list[str]) -> None:
        result = subprocess.run([*self.user, *argv], capture_output=True, text=True, timeout=120, check=False,
                                cwd=self.directory)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {result.stdout}\n{result.stderr}")

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.directory} "
                   "-c fsync=off -c max_connections=200")
        self._run([self.pg_ctl, "-D", self.data, "-l", os.path.join(self.directory, "log"), "-o", options,
                   "-w", "-t", "60", "start"])

    def stop(self) -> None:
        self._run([self.pg_ctl, "-D", self.data, "-m", "fast", "-w", "stop"])

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        missing("PostgreSQL's initdb/pg_ctl not found (apt-get install postgresql)")
    assert initdb is not None
    assert pg_ctl is not None
    try:
        import psycopg  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError as error:
        missing(f"{error}: pip install -e '.[testing]'")
    server = Postgres(initdb, pg_ctl)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(RuntimeError):  # already stopped
            server.stop()
        server.remove()

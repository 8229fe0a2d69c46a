"""The Django tenants example: origins in a model (validated on save, editable
in the admin), read through the predicate by every gunicorn worker."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.servers import free_port, run_server
from tests.test_examples import BIN, env
from tests.test_store import every_answer

CUSTOMER = "https://shop.customer.example"


def django(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**env(), "DJANGO_SETTINGS_MODULE": "examples.django_tenants.settings",
                   "TENANTS_DB": str(tmp_path / "tenants.sqlite3")}
    return subprocess.run([sys.executable, "-m", "django", *args], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=environment, check=False)


def shell(tmp_path: Path, code: str) -> str:
    result = django(tmp_path, "shell", "-v", "0", "-c", "from examples.django_tenants.models import AllowedOrigin\n" + code)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_model_refuses_an_origin_cors_wsgi_would_refuse(tmp_path: Path) -> None:
    assert django(tmp_path, "migrate", "-v0").returncode == 0
    out = shell(tmp_path, "try:\n    AllowedOrigin(origin='http://shop.customer.example').save()\n"
                          "except Exception as e:\n    print(type(e).__name__)\n"
                          "print(AllowedOrigin.objects.count())")
    assert out.split() == ["ValidationError", "0"]


def test_admin_lists_the_model(tmp_path: Path) -> None:
    out = shell(tmp_path, "from django.contrib import admin\nprint(admin.site.is_registered(AllowedOrigin))")
    assert out.strip() == "True"


def test_gunicorn_workers_see_a_model_change_within_the_cache_period(tmp_path: Path) -> None:
    assert django(tmp_path, "migrate", "-v0").returncode == 0
    port = free_port()
    environment = {**env(), "TENANTS_DB": str(tmp_path / "tenants.sqlite3"), "CORS_ORIGIN_CACHE_SECONDS": "1"}
    argv = [str(BIN / "gunicorn"), "examples.django_tenants.wsgi:application", "-w", "2", "-b", f"127.0.0.1:{port}"]
    with run_server(argv, port, cwd=str(tmp_path), env=environment):
        assert every_answer(port, CUSTOMER) == {None}
        shell(tmp_path, f"AllowedOrigin(origin={CUSTOMER!r}).save()")
        time.sleep(1.2)
        assert every_answer(port, CUSTOMER) == {CUSTOMER}
        shell(tmp_path, f"AllowedOrigin.objects.filter(origin={CUSTOMER!r}).delete()")
        time.sleep(1.2)
        assert every_answer(port, CUSTOMER) == {None}

"""The SQLite allow-list: validated on insert, a predicate for CORSPolicy, and
changes seen by every worker of a running gunicorn within the cache period."""

from __future__ import annotations

import http.client
import subprocess
import time
from pathlib import Path

import pytest

from cors_wsgi import CORSConfigError, CORSPolicy
from cors_wsgi.store import SQLiteOriginStore
from tests.servers import free_port, run_server
from tests.test_examples import BIN, env

CUSTOMER = "https://shop.customer.example"


def test_added_origin_is_allowed_and_removed_origin_is_not(tmp_path: Path) -> None:
    store = SQLiteOriginStore(tmp_path / "origins.sqlite3")
    assert store.add(CUSTOMER)
    assert store(CUSTOMER)
    assert store.remove(CUSTOMER)
    assert not store(CUSTOMER)


def test_adding_twice_keeps_one_row(tmp_path: Path) -> None:
    store = SQLiteOriginStore(tmp_path / "origins.sqlite3")
    assert (store.add(CUSTOMER), store.add(CUSTOMER), store.origins()) == (True, False, [CUSTOMER])


@pytest.mark.parametrize(
    ("origin", "code"),
    [("null", "null-origin"), ("https://Shop.customer.example/", "origin-not-serialized"),
     ("http://shop.customer.example", "insecure-origin-with-credentials"), ("http://127.1", "origin-not-serialized"),
     ("https://*.customer.example", "invalid-type")],
)
def test_invalid_or_insecure_origin_never_enters_the_table(tmp_path: Path, origin: str, code: str) -> None:
    store = SQLiteOriginStore(tmp_path / "origins.sqlite3", allow_credentials=True)
    with pytest.raises(CORSConfigError) as caught:
        store.add(origin)
    assert code in caught.value.codes
    assert store.origins() == []


def test_store_is_a_credentialed_predicate_that_passes_the_construction_probe(tmp_path: Path) -> None:
    store = SQLiteOriginStore(tmp_path / "origins.sqlite3", allow_credentials=True)
    store.add(CUSTOMER)
    policy = CORSPolicy(allow_origin_predicate=store, allow_credentials=True)
    assert policy.allows_origin(CUSTOMER)
    assert not policy.allows_origin("https://other.example")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "cors-wsgi"), *args], capture_output=True, text=True, timeout=60, check=False)


def test_cli_adds_lists_and_removes_origins(tmp_path: Path) -> None:
    db = str(tmp_path / "origins.sqlite3")
    assert cli("origins", "add", db, CUSTOMER, "--credentials").stdout == f"added {CUSTOMER}\n"
    assert cli("origins", "list", db).stdout == f"{CUSTOMER}\n"
    assert cli("origins", "remove", db, CUSTOMER).stdout == f"removed {CUSTOMER}\n"
    assert cli("origins", "list", db).stdout == ""


def test_cli_refuses_an_insecure_origin_without_a_traceback(tmp_path: Path) -> None:
    result = cli("origins", "add", str(tmp_path / "o.sqlite3"), "http://shop.customer.example", "--credentials")
    assert result.returncode == 2
    assert "insecure-origin-with-credentials" in result.stderr
    assert "Traceback" not in result.stderr


def acao(port: int, origin: str) -> str | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/api/data", headers={"Origin": origin})
        response = connection.getresponse()
        response.read()
        return response.getheader("Access-Control-Allow-Origin")
    finally:
        connection.close()


def every_answer(port: int, origin: str, rounds: int = 12) -> set[str | None]:
    """ACAO over several fresh connections, so both workers answer."""
    return {acao(port, origin) for _ in range(rounds)}


def test_gunicorn_workers_see_a_change_to_the_table_within_the_cache_period(tmp_path: Path) -> None:
    db = tmp_path / "origins.sqlite3"
    SQLiteOriginStore(db, allow_credentials=True)
    port = free_port()
    environment = {**env(), "CORS_ORIGINS_DB": str(db), "CORS_ORIGIN_CACHE_SECONDS": "1"}
    argv = [str(BIN / "gunicorn"), "examples.tenants:create_app()", "-w", "2", "-b", f"127.0.0.1:{port}"]
    with run_server(argv, port, cwd=str(tmp_path), env=environment):
        assert every_answer(port, CUSTOMER) == {None}
        assert cli("origins", "add", str(db), CUSTOMER, "--credentials").returncode == 0
        time.sleep(1.2)  # the cache period
        assert every_answer(port, CUSTOMER) == {CUSTOMER}
        assert cli("origins", "remove", str(db), CUSTOMER).returncode == 0
        time.sleep(1.2)
        assert every_answer(port, CUSTOMER) == {None}


def test_store_given_to_a_credentialed_policy_validates_inserts_as_credentialed(tmp_path: Path) -> None:
    store = SQLiteOriginStore(tmp_path / "origins.sqlite3")
    CORSPolicy(allow_origins=["https://app.example.com"], allow_origin_predicate=store, allow_credentials=True)
    with pytest.raises(CORSConfigError) as caught:
        store.add("http://tenant.example.com")
    assert caught.value.codes == ["insecure-origin-with-credentials"]


def test_cli_applies_the_credentialed_rules_the_served_policy_recorded(tmp_path: Path) -> None:
    db = tmp_path / "origins.sqlite3"
    CORSPolicy(allow_origins=["https://app.example.com"], allow_credentials=True,
               allow_origin_predicate=SQLiteOriginStore(db))
    result = cli("origins", "add", str(db), "http://tenant.example.com")  # no --credentials
    assert result.returncode == 2
    assert "insecure-origin-with-credentials" in result.stderr
    assert SQLiteOriginStore(db).origins() == []


def test_cli_says_which_rules_it_applied(tmp_path: Path) -> None:
    db = str(tmp_path / "origins.sqlite3")
    assert "checked with allow_origins rules without credentials" in cli("origins", "add", db, CUSTOMER).stderr
    SQLiteOriginStore(db, allow_credentials=True)
    assert "checked with allow_origins rules with credentials (https only" in cli(
        "origins", "add", db, "https://b.customer.example").stderr


def test_opening_without_credentials_never_relaxes_a_credentialed_file(tmp_path: Path) -> None:
    SQLiteOriginStore(tmp_path / "origins.sqlite3", allow_credentials=True)
    assert SQLiteOriginStore(tmp_path / "origins.sqlite3", allow_credentials=False).allow_credentials


def test_tenants_server_never_trusts_an_http_origin_written_past_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import webtest

    from examples import tenants

    db = tmp_path / "origins.sqlite3"
    monkeypatch.setenv("CORS_ORIGINS_DB", str(db))
    app = webtest.TestApp(tenants.create_app())
    connection = sqlite3.connect(db)  # a row no validation saw
    with connection:  # commits; closing is ours (Python 3.13 warns about an unclosed one)
        connection.execute("INSERT INTO cors_origins VALUES ('http://tenant.example.com'), (?)", (CUSTOMER,))
    connection.close()
    assert app.get("/api/data", headers={"Origin": CUSTOMER}).headers["Access-Control-Allow-Origin"] == CUSTOMER
    refused = app.get("/api/data", headers={"Origin": "http://tenant.example.com"})
    assert "Access-Control-Allow-Origin" not in refused.headers


def _read_only_mount_works(directory: Path) -> str | None:
    """None when this process may bind-mount ``directory`` read-only in a
    mount namespace of its own (unshare -m, as root), else why not."""
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount --bind {directory} {directory} && "
         f"mount -o remount,ro,bind {directory} && ! touch {directory}/probe"],
        capture_output=True, text=True, timeout=30, check=False,
    )
    return None if probe.returncode == 0 else f"no read-only bind mount here: {probe.stderr.strip()}"


def test_server_boots_and_serves_from_a_read_only_volume(tmp_path: Path) -> None:
    import os

    volume = tmp_path / "volume"
    volume.mkdir()
    store = SQLiteOriginStore(volume / "origins.sqlite3", allow_credentials=True)
    store.add(CUSTOMER)
    why = _read_only_mount_works(volume)
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    port = free_port()
    environment = {**env(), "CORS_ORIGINS_DB": str(volume / "origins.sqlite3")}
    gunicorn = f"{BIN / 'gunicorn'} 'examples.tenants:create_app()' -w 1 -b 127.0.0.1:{port}"
    argv = ["unshare", "-m", "sh", "-c",
            f"mount --bind {volume} {volume} && mount -o remount,ro,bind {volume} && exec {gunicorn}"]
    with run_server(argv, port, cwd=str(tmp_path), env=environment):
        assert every_answer(port, CUSTOMER, rounds=2) == {CUSTOMER}
        assert every_answer(port, "https://other.example", rounds=2) == {None}

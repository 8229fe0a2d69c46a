"""SQLAlchemyOriginStore on SQLite through SQLAlchemy (PostgreSQL is in
test_origin_snapshots.py): the same rules as SQLiteOriginStore, and the CLI's --db URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cors_wsgi import CORSConfigError, CORSPolicy
from cors_wsgi.store import SQLAlchemyOriginStore, SQLiteOriginStore
from tests.test_store import cli

CUSTOMER = "https://shop.customer.example"
OTHER = "https://b.customer.example"


def url(tmp_path: Path) -> str:
    return f"sqlite+pysqlite:///{tmp_path / 'origins.sqlite3'}"


def test_adding_twice_and_removing_twice_report_no_change(tmp_path: Path) -> None:
    with SQLAlchemyOriginStore(url(tmp_path)) as store:
        first = store.version()
        assert (store.add(CUSTOMER), store.add(CUSTOMER)) == (True, False)
        assert store.origins() == [CUSTOMER]
        assert (store.remove(CUSTOMER), store.remove(CUSTOMER)) == (True, False)
        assert store.snapshot() == (first + 2, frozenset())


def test_every_change_bumps_the_version_in_its_transaction(tmp_path: Path) -> None:
    with SQLAlchemyOriginStore(url(tmp_path)) as store:
        versions = [store.version()]
        store.add(CUSTOMER)
        versions.append(store.version())
        store.add(CUSTOMER)  # no change: no new version
        versions.append(store.version())
        store.remove(CUSTOMER)
        versions.append(store.version())
    first = versions[0]
    assert versions == [first, first + 1, first + 1, first + 2]


@pytest.mark.parametrize("kind", ["sqlite-file", "sqlalchemy"])
def test_a_store_created_again_never_reuses_the_version_a_worker_holds(tmp_path: Path, kind: str) -> None:
    # A worker holding (version, origins) of the old table would otherwise
    # confirm its snapshot against the new table and keep a removed origin.
    def created() -> Any:
        if kind == "sqlite-file":
            return SQLiteOriginStore(tmp_path / "origins.sqlite3")
        return SQLAlchemyOriginStore(url(tmp_path))

    store = created()
    store.add(CUSTOMER)
    held = store.snapshot()
    policy = CORSPolicy(allow_origin_store=store, store_refresh_seconds=60)
    if isinstance(store, SQLAlchemyOriginStore):
        store.close()
    for name in os.listdir(tmp_path):
        os.unlink(tmp_path / name)
    again = created()
    again.add(OTHER)  # the same number of changes as before
    assert again.snapshot()[0] != held[0]
    holder = policy._engine.snapshot
    assert holder is not None
    assert holder.check()
    assert (policy.allows_origin(CUSTOMER), policy.allows_origin(OTHER)) == (False, True)
    for used in (store, again):  # the check opened the first store's pool again
        if isinstance(used, SQLAlchemyOriginStore):
            used.close()


def test_requiring_credentials_lists_the_stored_origins_a_credentialed_policy_refuses(tmp_path: Path) -> None:
    with SQLAlchemyOriginStore(url(tmp_path)) as store:
        store.add("http://tenant.example.com")
        store.add(CUSTOMER)
        assert store.require_credentials() == ["http://tenant.example.com"]
        with pytest.raises(CORSConfigError):
            store.add("http://other.example.com")
    with SQLAlchemyOriginStore(url(tmp_path)) as again:  # recorded for every later writer
        assert again.allow_credentials


@pytest.mark.parametrize(("kwargs", "rules"), [
    ({}, "allow_origins rules without credentials (http: origins accepted)"),
    ({"allow_credentials": True}, "allow_origins rules with credentials (https only, http: for loopback hosts)"),
    ({"allow_credentials": True, "dangerously_tolerate_insecure_origins": True},
     "allow_origins rules with credentials, http: origins tolerated"),
])
def test_both_stores_state_the_rules_they_validate_with(tmp_path: Path, kwargs: dict[str, Any], rules: str) -> None:
    with SQLAlchemyOriginStore(url(tmp_path), **kwargs) as store:
        assert store.rules == rules
    assert SQLiteOriginStore(str(tmp_path / "plain.sqlite3"), **kwargs).rules == rules


def test_a_policy_serves_the_sqlalchemy_store_snapshot(tmp_path: Path) -> None:
    with SQLAlchemyOriginStore(url(tmp_path)) as store:
        store.add(CUSTOMER)
        policy = CORSPolicy(allow_origins=["https://app.example.com"], allow_origin_store=store)
        assert policy.allows_origin(CUSTOMER)
        assert not policy.allows_origin("https://stranger.example")


def test_cli_adds_and_lists_through_a_database_url(tmp_path: Path) -> None:
    assert cli("origins", "add", "--db", url(tmp_path), CUSTOMER).returncode == 0
    listed = cli("origins", "list", "--db", url(tmp_path))
    assert (listed.returncode, listed.stdout.split()) == (0, [CUSTOMER])


def test_cli_store_that_cannot_open_is_one_line_without_the_password(tmp_path: Path) -> None:
    result = cli("origins", "list", "--db", "postgresql+psycopg://app:s3cret@127.0.0.1:1/none")
    assert result.returncode == 2
    assert "cannot open the store" in result.stderr
    assert "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr

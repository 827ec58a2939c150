"""The state store against a real PostgreSQL server, started by the tests themselves.

The session fixture ``postgres_admin_url`` (tests/conftest.py, tests/pgserver.py)
starts a throw-away cluster on a free loopback port; each test gets a fresh database
(``postgres_url``). Without a server the tests are skipped outside CI and fail in CI.

The behaviour tests are the ones every backend shares (:class:`StoreContract`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

psycopg = pytest.importorskip(
    "psycopg",
    reason="psycopg is not installed (pip install 'csrules[postgres]'): PostgreSQL tests skipped",
)

from csrules.store import Access, LockInfo, StoreError, Timeouts, open_store  # noqa: E402
from csrules.store.postgres import APPLY_LOCK_KEY, PostgresStore, describe_url  # noqa: E402
from csrules.store.sql import SqlStore  # noqa: E402
from tests.pgserver import free_port  # noqa: E402
from tests.test_store_sqlite import (  # noqa: E402
    T0,
    StoreContract,
    make_action,
    make_case,
    make_run,
    opening,
)


class PostgresBackend:
    json_type = "JSONB"

    def __init__(self, url: str) -> None:
        self.url = url

    def open(
        self,
        *,
        migrate_to: int | None = None,
        access: Access = "migrate",
        timeouts: Timeouts | None = None,
    ) -> SqlStore:
        return PostgresStore(self.url, migrate_to=migrate_to, access=access, timeouts=timeouts)

    def lock_sessions(self) -> list[int]:
        """The sessions holding the apply lock's advisory lock, seen from outside."""
        key = APPLY_LOCK_KEY
        return [
            int(r[0])
            for r in self.query(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1 "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (key >> 32, key & 0xFFFFFFFF),
            )
        ]

    def wait_for_no_session(self) -> None:
        """The server ends a closed session asynchronously: wait (generously) until it has."""
        deadline = time.monotonic() + 30
        while self.lock_sessions():
            assert time.monotonic() < deadline, "the closed session never ended"
            time.sleep(0.05)

    def dead_holder(self, run_id: str) -> None:
        store = self.open()
        store.acquire_lock(LockInfo.for_this_process(run_id), timeout=0)
        store.close()  # its session ends: the advisory lock goes, the row stays
        self.wait_for_no_session()

    def live_holder(self, run_id: str) -> SqlStore:
        store = self.open()
        store.acquire_lock(LockInfo.for_this_process(run_id), timeout=0)
        return store

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s"), tuple(params) or None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return [
                tuple(r)
                for r in conn.execute(sql.replace("?", "%s"), tuple(params) or None).fetchall()
            ]

    def drop_audit_guards(self) -> None:
        for name, table in (
            ("audit_no_update", "audit"),
            ("audit_no_delete", "audit"),
            ("audit_no_truncate", "audit"),
            ("audit_head_no_delete", "audit_head"),
            ("audit_head_forward", "audit_head"),
            ("audit_head_no_truncate", "audit_head"),
        ):
            self.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def backend(self, postgres_url: str) -> PostgresBackend:
        return PostgresBackend(postgres_url)


# --- PostgreSQL only -------------------------------------------------------------------------


def test_open_store_with_a_postgresql_url(postgres_url: str, tmp_path: Path) -> None:
    store = open_store(postgres_url, base_dir=tmp_path)
    case = make_case()
    store.commit_plan(make_run(), opening(case, make_action(case)))
    store.close()
    alias = open_store(postgres_url.replace("postgresql://", "postgres://"), base_dir=tmp_path)
    try:
        assert alias.find_case(case.id) == case
        assert alias.load().last_run_at == T0
    finally:
        alias.close()
    assert not list(tmp_path.iterdir())  # nothing written beside the playbooks


def test_connection_errors_never_show_the_password(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://cs:s3cret-pw@127.0.0.1:{port}/state"
    with pytest.raises(StoreError) as caught:
        open_store(url, base_dir=tmp_path)
    assert "s3cret-pw" not in str(caught.value)
    assert "cannot connect" in str(caught.value)
    assert describe_url(url) == f"postgresql://cs@127.0.0.1:{port}/state"


def test_every_table_the_migrations_create_has_its_rights(postgres_url: str) -> None:
    """A new table must be classified in csrules.store.grants, or no role could use it."""
    from csrules.store.grants import ALL_TABLES

    PostgresStore(postgres_url).close()
    tables = {
        name
        for (name,) in PostgresBackend(postgres_url).query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    }
    assert tables == set(ALL_TABLES)


def test_a_reader_connection_is_read_only(postgres_url: str) -> None:
    PostgresStore(postgres_url).close()
    reader = PostgresStore(postgres_url, access="read")
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            reader._conn.execute("INSERT INTO rotation (tier, next_index) VALUES ('x', 1)")
        assert reader._conn.info.parameter_status("application_name") == "csrules"
    finally:
        reader.close()

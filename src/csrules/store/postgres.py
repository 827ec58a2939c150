"""The PostgreSQL state store: shared state for teams that run several schedulers.

Same schema and SQL as SQLite (see :mod:`csrules.store.sql`), with native
``timestamptz`` and ``jsonb`` columns. Every write transaction first takes one
transaction-scoped advisory lock, the equivalent of SQLite's ``BEGIN IMMEDIATE``:
writers queue up, so audit appends chain one after another and an outbox insert
always sees the rows committed before it. Reads run at ``REPEATABLE READ`` so that
:meth:`load` sees one consistent state. The apply lock itself is a row in ``locks``
(inserted with ``ON CONFLICT DO NOTHING``), so it survives a crash and names its
holder, exactly as with SQLite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from csrules.store.base import StoreError, canonical_json, utc
from csrules.store.migrations import Dialect
from csrules.store.sql import Params, Row, SqlStore

WRITE_LOCK_KEY = 0x637372756C657301
"""The advisory lock key that serialises csrules writers ("csrules\\x01")."""

CONNECT_TIMEOUT = 10
LOCK_TIMEOUT_S = 30


def _placeholders(sql: str) -> str:
    """The shared SQL uses ``?``; psycopg wants ``%s``."""
    return sql.replace("?", "%s")


def describe_url(url: str) -> str:
    """``postgresql://user@host:port/db`` without the password, for messages."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname') or ''}"


class PostgresStore(SqlStore):
    """State in a PostgreSQL database (``postgresql://...``)."""

    dialect: Dialect = "postgres"

    def __init__(self, url: str, *, migrate_to: int | None = None) -> None:
        super().__init__()
        self.url = url
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as exc:
            raise StoreError(f"{self._describe()}: cannot connect: {exc}".strip()) from exc
        try:
            self._conn.execute("SET TIME ZONE 'UTC'")
            # A writer waits for another writer's transaction, but not forever.
            self._conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_S}s'")
            self._migrate(migrate_to)
        except BaseException:
            self._conn.close()
            raise

    def _describe(self) -> str:
        return f"state {describe_url(self.url)}"

    def _exec(self, sql: str, params: Params = ()) -> int:
        with self._conn.cursor() as cur:
            if params:
                cur.execute(_placeholders(sql), tuple(params))
            else:
                cur.execute(sql)
            return cur.rowcount

    def _exec_many(self, sql: str, rows: Sequence[Params]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(_placeholders(sql), [tuple(r) for r in rows])

    def _query(self, sql: str, params: Params = ()) -> list[Row]:
        with self._conn.cursor() as cur:
            if params:
                cur.execute(_placeholders(sql), tuple(params))
            else:
                cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]

    def _begin(self, *, write: bool) -> None:
        if write:
            self._conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        else:
            self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn.info.transaction_status != pq.TransactionStatus.IDLE:
            self._conn.execute("ROLLBACK")

    def _ts(self, value: datetime) -> Any:
        return utc(value)

    def _from_ts(self, value: Any) -> datetime:
        if not isinstance(value, datetime):
            raise StoreError(f"{self._describe()}: expected a timestamp, got {value!r}")
        return utc(value)

    def _json(self, value: Any) -> Any:
        return Jsonb(value, dumps=canonical_json)

    def _from_json(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, (str, bytes)) else value

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (psycopg.Error,)

    def close(self) -> None:
        self._conn.close()

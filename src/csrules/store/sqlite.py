"""The SQLite state store: the default, one file beside the playbooks.

Durability settings follow the spec: WAL journal, ``synchronous=FULL`` (a commit
survives a power cut), ``BEGIN IMMEDIATE`` for every write (a writer takes the write
lock before it reads, so two runs cannot interleave read-then-write), a busy timeout
(a second writer waits instead of failing at once) and foreign keys on (an outbox row
cannot point at a case that was never recorded).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from csrules.store.base import StoreError, canonical_json, iso, parse_iso
from csrules.store.migrations import Dialect
from csrules.store.sql import Params, Row, SqlStore

BUSY_TIMEOUT_MS = 30_000
"""How long a write waits for another writer's transaction before giving up."""


class SqliteStore(SqlStore):
    """State in a SQLite file (or ``:memory:`` for tests and ``csrules test``)."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path | str, *, migrate_to: int | None = None) -> None:
        super().__init__()
        self.path = str(path)
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self._describe()}: cannot open the state database: {exc}") from exc
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if self.path != ":memory:":
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
                if mode is None or str(mode[0]).lower() != "wal":
                    raise StoreError(
                        f"{self._describe()}: cannot switch the state database to WAL mode "
                        f"(got {mode[0] if mode else 'nothing'}); is it on a network file system?"
                    )
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(migrate_to)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(
                f"{self._describe()}: not a usable csrules state database: {exc}"
            ) from exc
        except BaseException:
            self._conn.close()
            raise

    def _describe(self) -> str:
        return f"state {self.path}"

    def _exec(self, sql: str, params: Params = ()) -> int:
        return self._conn.execute(sql, tuple(params)).rowcount

    def _exec_many(self, sql: str, rows: Sequence[Params]) -> None:
        self._conn.executemany(sql, [tuple(r) for r in rows])

    def _query(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(r) for r in self._conn.execute(sql, tuple(params)).fetchall()]

    def _begin(self, *, write: bool) -> None:
        self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _ts(self, value: datetime) -> Any:
        return iso(value)

    def _from_ts(self, value: Any) -> datetime:
        return parse_iso(str(value))

    def _json(self, value: Any) -> Any:
        return canonical_json(value)

    def _from_json(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, (str, bytes)) else value

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def _advice(self, exc: BaseException) -> str:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return (
                f"; the file system holding {self.path} is full: free space on it (or move "
                "[state] url elsewhere), then run again"
            )
        return ""

    def close(self) -> None:
        self._conn.close()

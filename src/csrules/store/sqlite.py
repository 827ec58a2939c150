"""The SQLite state store: the default, one file beside the playbooks.

Durability settings follow the spec: WAL journal, ``synchronous=FULL`` (a commit
survives a power cut), ``BEGIN IMMEDIATE`` for every write (a writer takes the write
lock before it reads, so two runs cannot interleave read-then-write), a busy timeout
(``[state] lock_timeout``: a second writer waits instead of failing at once) and
foreign keys on (an outbox row cannot point at a case that was never recorded).

A reader opens the file read-only and changes nothing, not even the journal mode: in
WAL mode it reads a snapshot while a writer goes on, so it never waits for ``apply``.
``[state] statement_timeout`` is enforced with a progress handler, since SQLite has no
such setting of its own.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from csrules.store.base import (
    Access,
    StateMissing,
    StoreError,
    Timeouts,
    canonical_json,
    iso,
    parse_iso,
)
from csrules.store.migrations import Dialect
from csrules.store.sql import Params, Row, SqlStore

T = TypeVar("T")

NO_LIMIT_MS = 2**31 - 1
"""SQLite's busy timeout for ``lock_timeout = "0s"`` (wait without limit)."""
PROGRESS_OPCODES = 10_000
CACHE_KIB = (
    -65536
)  # 64 MiB of page cache (negative: KiB): a first run's plan is written without spilling
"""How often (in virtual machine steps) a running statement checks its deadline."""


def unwritable(path: Path) -> str | None:
    """Why the state file at ``path`` cannot be written here, or None when it can.

    SQLite says only "unable to open database file" or "attempt to write a readonly
    database", which reads like a damaged file. The usual causes are a read-only file
    system and a folder or file the user running csrules may not write (WAL mode
    creates ``-wal`` and ``-shm`` files beside the database, so the folder must be
    writable too)."""
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"its folder {folder} is on a read-only file system"
    except OSError:
        return None
    for target, what in ((folder, "folder"), (path, "file")):
        if target.exists() and not os.access(target, os.W_OK):
            user = _user()
            return f"the user running csrules ({user}) may not write its {what} {target}"
    return None


def _read_only_file_system(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return str(os.geteuid())


class SqliteStore(SqlStore):
    """State in a SQLite file (or ``:memory:`` for tests and ``csrules test``)."""

    dialect: Dialect = "sqlite"

    def __init__(
        self,
        path: Path | str,
        *,
        migrate_to: int | None = None,
        access: Access = "migrate",
        timeouts: Timeouts | None = None,
    ) -> None:
        super().__init__(timeouts=timeouts)
        self.path = str(path)
        self._deadline: float | None = None
        busy_ms = int(self.timeouts.lock * 1000) or NO_LIMIT_MS
        memory = self.path == ":memory:"
        if access != "migrate" and not memory and not Path(self.path).exists():
            raise StateMissing(
                f"{self._describe()}: there is no csrules state here yet (the file does not "
                "exist); `csrules apply` or `csrules state migrate` creates it"
            )
        try:
            if access == "read" and not memory:
                # read-only, and never created: a reader must not leave a file behind.
                # On a read-only file system nobody can write the file, and SQLite cannot
                # create the -shm file WAL readers need: the file is read as immutable.
                resolved = Path(self.path).resolve()
                frozen = "&immutable=1" if _read_only_file_system(resolved) else ""
                self._conn = sqlite3.connect(
                    f"{resolved.as_uri()}?mode=ro{frozen}",
                    uri=True,
                    timeout=busy_ms / 1000,
                    isolation_level=None,
                )
            else:
                self._conn = sqlite3.connect(
                    self.path, timeout=busy_ms / 1000, isolation_level=None
                )
        except sqlite3.Error as exc:
            raise StoreError(f"{self._describe()}: cannot open the state database: {exc}") from exc
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if self.timeouts.statement > 0:
                self._conn.set_progress_handler(self._past_deadline, PROGRESS_OPCODES)
            if access == "read":
                pass  # the journal mode is the writer's business
            elif not memory:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
                if mode is None or str(mode[0]).lower() != "wal":
                    raise StoreError(
                        f"{self._describe()}: cannot switch the state database to WAL mode "
                        f"(got {mode[0] if mode else 'nothing'}); is it on a network file system?"
                    )
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute(f"PRAGMA cache_size = {CACHE_KIB}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._prepare(access, migrate_to)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            why = None if memory else unwritable(Path(self.path))
            if why is not None and access != "read":
                raise StoreError(
                    f"{self._describe()}: cannot write the state: {why}. Nothing was "
                    "recorded or delivered. Make it writable for this user, or point "
                    "[state] url in csrules.toml at a writable place, and run again"
                ) from exc
            if why is not None:
                raise StoreError(
                    f"{self._describe()}: cannot read the state: {why}, and SQLite needs "
                    "to create its -shm file beside the database to read it. Give this "
                    "user write access to the folder, or copy the state elsewhere to read it"
                ) from exc
            raise StoreError(
                f"{self._describe()}: not a usable csrules state database: {exc}"
            ) from exc
        except BaseException:
            self._conn.close()
            raise

    def _describe(self) -> str:
        return f"state {self.path}"

    def _past_deadline(self) -> int:
        """The progress handler: non-zero interrupts the running statement."""
        return int(self._deadline is not None and time.monotonic() > self._deadline)

    def _timed(self, run: Callable[[], T]) -> T:
        """Run one statement under ``[state] statement_timeout`` (none between statements)."""
        if self.timeouts.statement > 0:
            self._deadline = time.monotonic() + self.timeouts.statement
        try:
            return run()
        except sqlite3.OperationalError as exc:
            if self._deadline is not None and time.monotonic() > self._deadline:
                raise sqlite3.OperationalError(
                    f"canceling statement due to statement timeout ({exc})"
                ) from exc
            raise
        finally:
            self._deadline = None

    def _exec(self, sql: str, params: Params = ()) -> int:
        return self._timed(lambda: self._conn.execute(sql, tuple(params)).rowcount)

    def _exec_many(self, sql: str, rows: Sequence[Params]) -> None:
        self._timed(lambda: self._conn.executemany(sql, [tuple(r) for r in rows]))

    def _query(self, sql: str, params: Params = ()) -> list[Row]:
        return self._timed(
            lambda: [tuple(r) for r in self._conn.execute(sql, tuple(params)).fetchall()]
        )

    def _has_table(self, name: str) -> bool:
        return bool(
            self._query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        )

    def _hint(self, exc: BaseException) -> str:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return (
                f"the file system holding {self.path} is full: free space on it (or move "
                "[state] url elsewhere), then run again"
            )
        text = str(exc)
        if "statement timeout" in text:
            return (
                f"a statement ran longer than [state] statement_timeout "
                f"({self.timeouts.statement:g} s); raise it in csrules.toml"
            )
        if "database is locked" in text:
            return (
                f"another csrules command kept the state locked longer than [state] "
                f"lock_timeout ({self.timeouts.lock:g} s); raise it in csrules.toml"
            )
        return ""

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

    def close(self) -> None:
        self._conn.close()

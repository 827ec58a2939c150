"""The PostgreSQL state store: shared state for teams that run several schedulers.

Same schema and SQL as SQLite (see :mod:`csrules.store.sql`), with native
``timestamptz`` and ``jsonb`` columns. Every write transaction first takes one
transaction-scoped advisory lock, the equivalent of SQLite's ``BEGIN IMMEDIATE``:
writers queue up, so audit appends chain one after another and an outbox insert
always sees the rows committed before it. Reads run at ``REPEATABLE READ READ ONLY``
without that lock, so that :meth:`load` sees one consistent state and a reader never
waits for a writer; a connection opened for reading is read-only as a whole
(``default_transaction_read_only``), so it needs nothing but ``SELECT`` rights.
``[state] lock_timeout`` and ``statement_timeout`` become the session's
``lock_timeout`` and ``statement_timeout``.

The apply lock's authority is a session-level advisory lock (:data:`APPLY_LOCK_KEY`)
held by the run's connection for the whole run: the server drops it when that session
ends, however it ends (a crash, kill -9, a lost host once TCP keepalives give up), so
a later run that gets it knows the previous holder is gone and takes its row over. The
row in ``locks`` only names the holder, for messages and the audit log.
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

from csrules.store import holders
from csrules.store.base import Access, LockInfo, StoreError, Timeouts, canonical_json, utc
from csrules.store.migrations import Dialect
from csrules.store.sql import Params, Row, SqlStore

WRITE_LOCK_KEY = 0x637372756C657301
"""The advisory lock key that serialises csrules writers ("csrules\\x01")."""

APPLY_LOCK_KEY = 0x637372756C657302
"""The session-level advisory lock that makes the apply lock exclusive ("csrules\\x02")."""

CONNECT_TIMEOUT = 10
APPLICATION_NAME = "csrules"
"""How csrules' connections show in ``pg_stat_activity`` (unless the url sets one)."""
KEEPALIVES = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}
"""While a run holds the apply lock the server probes its client: a scheduler host that
vanished (power cut, network partition) loses its session, and so the lock, after about
a minute instead of the system default of two hours. Ignored on Unix-socket connections."""
TERMINATE_WAIT_MS = 5000

_LOCK_SESSIONS = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND classid::bigint = ? AND objid::bigint = ? "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "ORDER BY pid"
)


def _placeholders(sql: str) -> str:
    """The shared SQL uses ``?``; psycopg wants ``%s``."""
    return sql.replace("?", "%s")


def conninfo_to_dict_safe(url: str) -> dict[str, Any]:
    """The connection parameters of ``url``, or none when it cannot be parsed (the
    connection attempt then reports why)."""
    try:
        return dict(conninfo_to_dict(url))
    except psycopg.Error:
        return {}


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
    _holds_apply_lock: bool = False

    def __init__(
        self,
        url: str,
        *,
        migrate_to: int | None = None,
        access: Access = "migrate",
        timeouts: Timeouts | None = None,
    ) -> None:
        super().__init__(timeouts=timeouts)
        self.url = url
        settings: dict[str, Any] = {}
        if "application_name" not in conninfo_to_dict_safe(url):
            settings["application_name"] = APPLICATION_NAME
        try:
            self._conn = psycopg.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **settings
            )
        except psycopg.Error as exc:
            raise StoreError(f"{self._describe()}: cannot connect: {exc}".strip()) from exc
        try:
            self._conn.execute("SET TIME ZONE 'UTC'")
            # A statement waits for another writer, or runs, but not forever.
            self._conn.execute(f"SET lock_timeout = '{int(self.timeouts.lock * 1000)}ms'")
            self._conn.execute(f"SET statement_timeout = '{int(self.timeouts.statement * 1000)}ms'")
            if access == "read":
                self._conn.execute("SET default_transaction_read_only = on")
            self._prepare(access, migrate_to)
        except psycopg.Error as exc:
            self._conn.close()
            raise self._error("prepare the state database", exc) from exc
        except BaseException:
            self._conn.close()
            raise

    def _describe(self) -> str:
        return f"state {describe_url(self.url)}"

    def current_schema(self) -> str:
        with self._transaction(write=False, action="read the current schema"):
            rows = self._query("SELECT current_schema()")
        return str(rows[0][0]) if rows and rows[0][0] else "public"

    def _has_table(self, name: str) -> bool:
        rows = self._query("SELECT to_regclass(%s) IS NOT NULL", (name,))
        return bool(rows and rows[0][0])

    def _hint(self, exc: BaseException) -> str:
        if isinstance(exc, psycopg.errors.DiskFull):
            return (
                "the PostgreSQL server's disk is full: have its administrator free space, "
                "then run again"
            )
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return (
                f"another csrules command kept the state locked longer than [state] "
                f"lock_timeout ({self.timeouts.lock:g} s); raise it in csrules.toml"
            )
        if isinstance(exc, psycopg.errors.QueryCanceled):
            return (
                f"a statement ran longer than [state] statement_timeout "
                f"({self.timeouts.statement:g} s); raise it in csrules.toml"
            )
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            role = conninfo_to_dict_safe(self.url).get("user") or "of this url"
            return (
                f"the role {role} lacks the rights for this; the schema's owner grants "
                "them with `csrules state migrate --apply-role ROLE --auditor-role ROLE`"
            )
        return ""

    def _migration_hint(self) -> str:
        return (
            "migrating needs a role that may create and alter the tables: run "
            "`csrules state migrate --url URL` with the schema owner's url"
        )

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

    # --- the apply lock: a session-level advisory lock --------------------------------

    def _claim_authority(self) -> tuple[bool, bool]:
        if self._holds_apply_lock:
            return True, False
        (got,) = self._query("SELECT pg_try_advisory_lock(?)", (APPLY_LOCK_KEY,))[0]
        if got:
            self._holds_apply_lock = True
            for name, value in KEEPALIVES.items():
                self._exec(f"SET {name} = {int(value)}")
        return bool(got), bool(got)

    def _drop_authority(self) -> None:
        if self._holds_apply_lock:
            self._holds_apply_lock = False  # first: never retried on a dead connection
            self._query("SELECT pg_advisory_unlock(?)", (APPLY_LOCK_KEY,))

    def _session_id(self) -> int | None:
        return int(self._conn.info.backend_pid)

    def _lock_sessions(self) -> list[int]:
        """The sessions holding the apply lock's advisory lock in this database (0 or 1)."""
        key = APPLY_LOCK_KEY
        return [int(r[0]) for r in self._query(_LOCK_SESSIONS, (key >> 32, key & 0xFFFFFFFF))]

    def _judge_holder(self, holder: LockInfo, *, claimed: bool) -> holders.Judgement:
        session = holder.backend_pid
        if claimed:
            if session is not None and session == self._session_id():
                return holders.Judgement("alive", "this very connection holds the lock")
            exists = session is not None and bool(
                self._query("SELECT 1 FROM pg_stat_activity WHERE pid = ?", (session,))
            )
            if exists:
                return holders.Judgement(
                    "dead", f"its PostgreSQL session (backend {session}) let go of the lock"
                )
            what = f"its PostgreSQL session (backend {session})" if session else "its session"
            return holders.Judgement("dead", f"{what} has ended")
        sessions = self._lock_sessions()
        if not sessions:
            return holders.Judgement("dead", "no PostgreSQL session holds the lock any more")
        return holders.Judgement(
            "alive", f"PostgreSQL session {sessions[0]} holds the lock's advisory lock"
        )

    def _holder_is_leaving(self, holder: LockInfo) -> bool:
        local = holders.judge(
            holder.host,
            holder.pid,
            boot=holder.boot_id,
            pid_ns=holder.pid_ns,
            proc_start=holder.proc_start,
        )
        return local.dead

    def _end_holder(self, holder: LockInfo) -> None:
        for session in self._lock_sessions():
            (ended,) = self._query(
                "SELECT pg_terminate_backend(?, ?)", (session, TERMINATE_WAIT_MS)
            )[0]
            if not ended:
                raise StoreError(
                    f"{self._describe()}: could not end PostgreSQL session {session}, which "
                    "holds the apply lock, within "
                    f"{TERMINATE_WAIT_MS // 1000} s; ask the database administrator to end it "
                    "(pg_terminate_backend)"
                )

    def close(self) -> None:
        self._conn.close()

"""The store's logic in SQL common to SQLite and PostgreSQL.

:class:`SqlStore` implements the whole :class:`~csrules.store.base.StateStore`
contract on a handful of primitives each backend provides: run a statement, run a
query, open a read or write transaction, and convert timestamps and JSON to and from
the driver. Queries are written once with ``?`` placeholders (PostgreSQL rewrites them
to ``%s``), so the two backends cannot drift apart in behaviour.

Write transactions are serialised (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an
advisory transaction lock): the audit chain needs each append to see the previous
one, and the outbox needs each insert to see whether the action already exists.
Reads take no such lock: they run in a snapshot (SQLite WAL, PostgreSQL ``REPEATABLE
READ``), so ``cases`` or ``audit verify`` never wait for an ``apply``.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from csrules.cases.model import Action, Case, CaseState, Plan
from csrules.store import holders, lock, migrations
from csrules.store import rewind as state_rewind
from csrules.store.base import (
    DETAIL_LIMIT,
    GENESIS_HASH,
    JCS,
    Access,
    ArchivedBlob,
    Attempt,
    AuditEvent,
    Clock,
    LockInfo,
    LockTakeover,
    RewindReport,
    RunRecord,
    RunSummary,
    SchemaVersionError,
    ScorePoint,
    StateMissing,
    StateOutdated,
    StateStore,
    StoreError,
    Timeouts,
    Unlocked,
    VerifyResult,
    canonical_json,
    event_hash,
    iso_seconds,
    plain_jcs,
    plain_json,
    utc,
)
from csrules.store.cases import StoredCases

Row = tuple[Any, ...]
Params = Sequence[Any]

CASE_COLUMNS = (
    "id",
    "playbook",
    "account",
    "status",
    "severity",
    "first_true_at",
    "opened_at",
    "acknowledged_at",
    "acknowledged_by",
    "false_since",
    "resolved_at",
    "owner",
    "tier",
    "escalation",
    "steps_fired",
    "rule_hash",
    "depends_hash",
)
ACTION_COLUMNS = (
    "id",
    "case_id",
    "account",
    "playbook",
    "step",
    "idx",
    "connector",
    "params",
    "created_at",
    "status",
    "held_by",
    "attempts",
    "next_attempt_at",
    "last_error",
    "rule_hash",
    "in_flight_at",
    "depends_hash",
)
RUN_COLUMNS = (
    "id",
    "as_of",
    "started_at",
    "host",
    "pid",
    "revision",
    "snapshot",
    "counts",
    "took_over",
)
RUN_SUMMARY_COLUMNS = (
    "id",
    "as_of",
    "started_at",
    "host",
    "pid",
    "status",
    "ended_at",
    "outcome",
    "took_over",
    "superseded_by",
)
RUN_ENDINGS = ("completed", "interrupted", "failed")

AUDIT_COLUMNS = (
    "seq",
    "at",
    "kind",
    "run_id",
    "case_id",
    "account",
    "rule",
    "rule_hash",
    "data",
    "prev_hash",
    "hash",
)
AUDIT_CLOCK_COLUMNS = ("as_of", "recorded_at")
"""Added by schema version 3 (:data:`CLOCKS_VERSION`)."""
CLOCKS_VERSION = 3
CANON_VERSION = 5
"""The schema version from which audit events have a ``canon`` (RFC 8785 hashing)."""
DELIVERY_OUTCOMES = ("sent", "pending", "dead", "failed")
_IDS_PER_QUERY = 500  # ids in one IN (...) list: well under every driver's limit
VERIFY_PAGE = 5000

_CASE_SELECT = f"SELECT {', '.join(CASE_COLUMNS)} FROM cases"
ACTION_READ_COLUMNS = (*ACTION_COLUMNS, "sent_at", "progress")
"""What a read of the outbox returns: the written columns, the time of delivery and the
progress of a partial delivery."""
_ACTION_SELECT = f"SELECT {', '.join(ACTION_READ_COLUMNS)} FROM actions"


def stored_data(text: str, canon: str | None) -> Any:
    """An event's ``data`` as it was hashed. JCS writes a double such as ``1e16`` as the
    integer ``10000000000000000``; read back, an integer beyond 2**53 in a JCS event can
    only have been such a double (JCS refuses larger integers), so it is one again."""
    if canon != JCS:
        return json.loads(text)
    return json.loads(text, parse_int=_jcs_int)


def _jcs_int(digits: str) -> int | float:
    value = int(digits)
    return value if abs(value) <= 2**53 else float(value)


@dataclass
class _Pending:
    """One audit event waiting to be chained and written."""

    kind: str
    at: datetime
    run_id: str | None
    case: str | None
    account: str | None
    rule: str | None
    rule_hash: str | None
    data: dict[str, Any]


class SqlStore(StateStore):
    """Everything but the driver: subclasses supply the primitives below."""

    dialect: migrations.Dialect
    poll_interval: float = 0.2

    def __init__(self, *, timeouts: Timeouts | None = None) -> None:
        self._in_transaction = False
        self.timeouts = timeouts or Timeouts()
        self.access: Access = "migrate"
        self.found_version = 0
        """The schema version the database had when it was opened."""
        self.migrated: list[migrations.Migration] = []
        """The migrations this store applied when it was opened."""
        self._clocks = True  # the audit table has as_of and recorded_at (version 3)
        self._canon = True  # the audit table has canon (version 5)

    # --- primitives -------------------------------------------------------------------

    @abstractmethod
    def _exec(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed."""

    @abstractmethod
    def _query(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one query; all its rows."""

    @abstractmethod
    def _begin(self, *, write: bool) -> None:
        """Start a transaction; a write one is exclusive among writers."""

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def _ts(self, value: datetime) -> Any:
        """A timestamp as the driver stores it."""

    @abstractmethod
    def _from_ts(self, value: Any) -> datetime: ...

    @abstractmethod
    def _json(self, value: Any) -> Any:
        """A JSON value as the driver stores it in a JSON column."""

    @abstractmethod
    def _from_json(self, value: Any) -> Any: ...

    @abstractmethod
    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        """The driver's exception classes, turned into :class:`StoreError`."""

    @abstractmethod
    def _describe(self) -> str:
        """Where the state lives, for messages (never with a password)."""

    @abstractmethod
    def _has_table(self, name: str) -> bool:
        """Whether the table exists, found without DDL (a reader may not create)."""

    def _hint(self, exc: BaseException) -> str:
        """What to do about a driver error, when the backend can tell (else "")."""
        return ""

    def _error(self, action: str, exc: BaseException) -> StoreError:
        hint = self._hint(exc)
        return StoreError(
            f"{self._describe()}: could not {action}: {str(exc).strip()}{'; ' + hint if hint else ''}"
        )

    # --- transactions -----------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool, action: str) -> Iterator[None]:
        """One transaction; nested use joins the outer one. A driver error becomes a
        :class:`StoreError` saying what could not be done and where."""
        if self._in_transaction:
            yield
            return
        errors = self._driver_errors()
        try:
            self._begin(write=write)
        except errors as exc:
            with suppress(*errors):
                self._rollback()  # PostgreSQL: BEGIN ran, the write lock timed out
            raise self._error(action, exc) from exc
        self._in_transaction = True
        try:
            yield
        except BaseException as exc:
            self._in_transaction = False
            with suppress(*errors):
                self._rollback()
            if isinstance(exc, errors):
                raise self._error(action, exc) from exc
            raise
        self._in_transaction = False
        try:
            self._commit()
        except errors as exc:
            with suppress(*errors):
                self._rollback()
            raise self._error(action, exc) from exc

    def _opt_ts(self, value: datetime | None) -> Any:
        return None if value is None else self._ts(value)

    def _opt_from_ts(self, value: Any) -> datetime | None:
        return None if value is None else self._from_ts(value)

    # --- opening: schema checks and migrations --------------------------------------

    def _applied_versions(self) -> set[int]:
        """The versions recorded in ``schema_version`` (empty when there is none)."""
        if not self._has_table("schema_version"):
            return set()
        return {int(v) for (v,) in self._query("SELECT version FROM schema_version")}

    def _prepare(self, access: Access, target: int | None = None) -> None:
        """Check the schema for ``access``; only ``migrate`` may create or change it.

        The check itself is a read (no DDL, no writers' lock), so a reader or an apply
        whose schema is current never waits for another writer and needs no right to
        create tables. ``target`` stops migrating at that version (tests of upgrades).
        """
        self.access = access
        with self._transaction(write=False, action="read the schema version"):
            applied = self._applied_versions()
        self.found_version = max(applied, default=0)
        self._check_not_newer(self.found_version)
        wanted = [m for m in migrations.missing(applied) if target is None or m.version <= target]
        if wanted and access != "migrate":
            if not applied:
                raise StateMissing(
                    f"{self._describe()}: there is no csrules state here yet (nothing has "
                    "been applied); `csrules apply` or `csrules state migrate` creates it"
                )
            raise StateOutdated(
                f"{self._describe()}: the state database is at schema version "
                f"{self.found_version} and this csrules needs version "
                f"{migrations.current_version()}; run `csrules state migrate` (or let the next "
                "`csrules apply` migrate it)"
            )
        if wanted:
            self._migrate(target)
            applied = applied | {m.version for m in self.migrated}
        self._clocks = CLOCKS_VERSION in applied
        self._canon = CANON_VERSION in applied

    def _check_not_newer(self, found: int) -> None:
        known = migrations.current_version()
        if found > known:
            raise SchemaVersionError(
                f"{self._describe()}: the state database is at schema version {found}, "
                f"newer than this csrules supports ({known}); upgrade csrules "
                "(pip install -U csrules) to use it"
            )

    def _migration_hint(self) -> str:
        """What to tell a user whose migration failed (the backend may know better)."""
        return ""

    def _migrate(self, target: int | None = None) -> None:
        """Apply the missing migrations up to ``target`` (default: all), in one write
        transaction; the versions are read again under the writers' lock, so two
        schedulers starting at once migrate once."""
        try:
            with self._transaction(write=True, action="migrate the state database"):
                self._exec(migrations.SCHEMA_VERSION_TABLE.format(**migrations.TYPES[self.dialect]))
                applied = {int(v) for (v,) in self._query("SELECT version FROM schema_version")}
                self._check_not_newer(max(applied, default=0))
                done: list[migrations.Migration] = []
                for step in migrations.missing(applied):
                    if target is not None and step.version > target:
                        continue
                    for statement in step.statements(self.dialect):
                        self._exec(statement)
                    self._exec(
                        "INSERT INTO schema_version (version, description, applied_at) "
                        "VALUES (?, ?, ?)",
                        (step.version, step.description, self._ts(datetime.now(UTC))),
                    )
                    done.append(step)
        except SchemaVersionError:
            raise
        except StoreError as exc:
            hint = self._migration_hint()
            raise StoreError(f"{exc.message}{'; ' + hint if hint else ''}") from exc
        self.migrated = done

    def current_schema(self) -> str:
        """The schema the tables live in (PostgreSQL's ``current_schema()``; SQLite: main)."""
        return "main"

    def run_admin(self, statements: Sequence[str], *, action: str) -> None:
        """Run administrative statements (grants) in one write transaction."""
        with self._transaction(write=True, action=action):
            for statement in statements:
                self._exec(statement)

    def schema_version(self) -> int:
        """The schema version of the open database (for diagnostics and tests)."""
        with self._transaction(write=False, action="read the schema version"):
            return max(self._applied_versions(), default=0)

    # --- row mapping ------------------------------------------------------------------

    def _case(self, row: Row) -> Case:
        r = dict(zip(CASE_COLUMNS, row, strict=True))
        return Case(
            id=r["id"],
            playbook=r["playbook"],
            account=r["account"],
            status=r["status"],
            first_true_at=self._from_ts(r["first_true_at"]),
            severity=r["severity"],
            opened_at=self._opt_from_ts(r["opened_at"]),
            acknowledged_at=self._opt_from_ts(r["acknowledged_at"]),
            false_since=self._opt_from_ts(r["false_since"]),
            resolved_at=self._opt_from_ts(r["resolved_at"]),
            owner=r["owner"],
            tier=r["tier"],
            escalation=r["escalation"],
            steps_fired=[int(s) for s in self._from_json(r["steps_fired"])],
            rule_hash=r["rule_hash"],
            acknowledged_by=r["acknowledged_by"],
            depends_hash=r["depends_hash"] or "",
        )

    def _action(self, row: Row) -> Action:
        r = dict(zip(ACTION_READ_COLUMNS, row, strict=True))
        return Action(
            id=r["id"],
            case=r["case_id"],
            account=r["account"],
            playbook=r["playbook"],
            step=int(r["step"]),
            index=int(r["idx"]),
            connector=r["connector"],
            params=dict(self._from_json(r["params"])),
            created_at=self._from_ts(r["created_at"]),
            status=r["status"],
            held_by=r["held_by"],
            attempts=int(r["attempts"]),
            next_attempt_at=self._opt_from_ts(r["next_attempt_at"]),
            last_error=r["last_error"],
            rule_hash=r["rule_hash"],
            in_flight_at=self._opt_from_ts(r["in_flight_at"]),
            depends_hash=r["depends_hash"] or "",
            sent_at=self._opt_from_ts(r["sent_at"]),
            progress=None if r["progress"] is None else dict(self._from_json(r["progress"])),
        )

    def _run(self, row: Row) -> RunRecord:
        r = dict(zip(RUN_COLUMNS, row, strict=True))
        return RunRecord(
            id=r["id"],
            as_of=self._from_ts(r["as_of"]),
            started_at=self._from_ts(r["started_at"]),
            host=r["host"],
            pid=int(r["pid"]),
            revision=dict(self._from_json(r["revision"])),
            snapshot=dict(self._from_json(r["snapshot"])),
            counts={str(k): int(v) for k, v in self._from_json(r["counts"]).items()},
            took_over=None if r["took_over"] is None else dict(self._from_json(r["took_over"])),
        )

    def _run_summary(self, row: Row) -> RunSummary:
        r = dict(zip(RUN_SUMMARY_COLUMNS, row, strict=True))
        return RunSummary(
            id=r["id"],
            as_of=self._from_ts(r["as_of"]),
            started_at=self._from_ts(r["started_at"]),
            host=r["host"],
            pid=int(r["pid"]),
            status=r["status"],
            ended_at=self._opt_from_ts(r["ended_at"]),
            outcome={} if r["outcome"] is None else dict(self._from_json(r["outcome"])),
            took_over=None if r["took_over"] is None else dict(self._from_json(r["took_over"])),
            superseded_by=r["superseded_by"],
        )

    @property
    def _audit_columns(self) -> tuple[str, ...]:
        return (
            AUDIT_COLUMNS
            + (AUDIT_CLOCK_COLUMNS if self._clocks else ())
            + (("canon",) if self._canon else ())
        )

    @property
    def _audit_select(self) -> str:
        return f"SELECT {', '.join(self._audit_columns)} FROM audit"

    def _audit(self, row: Row) -> AuditEvent:
        r = dict(zip(self._audit_columns, row, strict=True))
        return AuditEvent(
            seq=int(r["seq"]),
            at=self._from_ts(r["at"]),
            kind=r["kind"],
            run_id=r["run_id"],
            case=r["case_id"],
            account=r["account"],
            rule=r["rule"],
            rule_hash=r["rule_hash"],
            data=dict(json.loads(r["data"])),
            prev_hash=r["prev_hash"],
            hash=r["hash"],
            as_of=self._opt_from_ts(r.get("as_of")),
            recorded_at=self._opt_from_ts(r.get("recorded_at")),
            canon=r.get("canon"),
        )

    # --- reads ------------------------------------------------------------------------

    def _last_run(self) -> RunRecord | None:
        rows = self._query(
            f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE superseded_by IS NULL "
            "ORDER BY as_of DESC, started_at DESC LIMIT 1"
        )
        return self._run(rows[0]) if rows else None

    def load(self) -> CaseState:
        with self._transaction(write=False, action="load the case state"):
            inner = ", ".join(CASE_COLUMNS)
            rows = self._query(
                f"SELECT {inner} FROM (SELECT {inner}, ROW_NUMBER() OVER ("
                "PARTITION BY playbook, account ORDER BY first_true_at DESC, id DESC) AS rn "
                "FROM cases) AS latest WHERE rn = 1"
            )
            cases = StoredCases(CASE_COLUMNS, rows, self._case)
            held = [
                self._action(r)
                for r in self._query(
                    f"{_ACTION_SELECT} WHERE status = 'held' ORDER BY created_at, case_id, step, idx"
                )
            ]
            rotation = {
                str(t): int(n) for t, n in self._query("SELECT tier, next_index FROM rotation")
            }
            scores = {str(a): float(s) for a, s in self._query("SELECT account, score FROM scores")}
            last = self._last_run()
        count: int | None = None
        if last is not None:
            accounts = last.snapshot.get("accounts", last.counts.get("accounts"))
            count = int(accounts) if isinstance(accounts, int) else None
        return CaseState(
            cases=cases,
            held=held,
            rotation=rotation,
            scores=scores,
            last_run_at=last.as_of if last else None,
            account_count=count,
        )

    def last_run(self) -> RunRecord | None:
        with self._transaction(write=False, action="read the last run"):
            return self._last_run()

    def _get_case(self, case_id: str) -> Case | None:
        rows = self._query(f"{_CASE_SELECT} WHERE id = ?", (case_id,))
        return self._case(rows[0]) if rows else None

    def _get_action(self, action_id: str) -> Action | None:
        rows = self._query(f"{_ACTION_SELECT} WHERE id = ?", (action_id,))
        return self._action(rows[0]) if rows else None

    def find_case(self, ref: str) -> Case | None:
        with self._transaction(write=False, action="find a case"):
            found = self._get_case(ref)
            if found is not None or ":" not in ref:
                return found
            playbook, account = ref.split(":", 1)
            rows = self._query(
                f"{_CASE_SELECT} WHERE playbook = ? AND account = ? "
                "ORDER BY first_true_at DESC, id DESC LIMIT 1",
                (playbook, account),
            )
            return self._case(rows[0]) if rows else None

    def cases(self, *, open_only: bool = False, account: str | None = None) -> list[Case]:
        where: list[str] = []
        params: list[Any] = []
        if open_only:
            where.append("status IN ('open', 'acknowledged')")
        if account is not None:
            where.append("account = ?")
            params.append(account)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._transaction(write=False, action="list cases"):
            rows = self._query(f"{_CASE_SELECT}{clause} ORDER BY first_true_at, id", params)
        return [self._case(r) for r in rows]

    def actions(self, *, case: str | None = None) -> list[Action]:
        clause, params = (" WHERE case_id = ?", [case]) if case is not None else ("", [])
        with self._transaction(write=False, action="list actions"):
            rows = self._query(
                f"{_ACTION_SELECT}{clause} ORDER BY created_at, case_id, step, idx", params
            )
        return [self._action(r) for r in rows]

    def due_actions(self, now: datetime) -> list[Action]:
        with self._transaction(write=False, action="read the outbox"):
            rows = self._query(
                f"{_ACTION_SELECT} WHERE status = 'pending' "
                "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
                "ORDER BY created_at, case_id, step, idx",
                (self._ts(now),),
            )
        return [self._action(r) for r in rows]

    def audit_events(
        self,
        *,
        account: str | None = None,
        case: str | None = None,
        since: datetime | None = None,
        clock: Clock = "recorded",
        rule: str | None = None,
        until: datetime | None = None,
        run: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[AuditEvent]:
        where: list[str] = []
        params: list[Any] = []
        if rule is not None:
            where.append("rule = ?")
            params.append(rule)
        if run is not None:
            where.append("run_id = ?")
            params.append(run)
        if kinds is not None:
            where.append(f"kind IN ({', '.join('?' * len(kinds))})" if kinds else "1 = 0")
            params.extend(kinds)
        if account is not None:
            where.append("account = ?")
            params.append(account)
        if case is not None:
            where.append("case_id = ?")
            params.append(case)
        if since is not None:
            column = "recorded_at" if clock == "recorded" else "as_of"
            # events older than the two clocks have only `at`
            where.append(f"COALESCE({column}, at) >= ?" if self._clocks else "at >= ?")
            params.append(self._ts(since))
        if until is not None:
            column = "recorded_at" if clock == "recorded" else "as_of"
            where.append(f"COALESCE({column}, at) < ?" if self._clocks else "at < ?")
            params.append(self._ts(until))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._transaction(write=False, action="read the audit log"):
            rows = self._query(f"{self._audit_select}{clause} ORDER BY seq", params)
        return [self._audit(r) for r in rows]

    # --- audit ------------------------------------------------------------------------

    def _as_of_of(self, run_id: str | None, last: list[datetime | None]) -> datetime | None:
        """The as-of an event of ``run_id`` carries: that run's, or, for an event outside
        a recorded run (ack, unlock), the last applied run's (``last`` caches it)."""
        if run_id is not None:
            rows = self._query("SELECT as_of FROM runs WHERE id = ?", (run_id,))
            if rows:
                return self._from_ts(rows[0][0])
        if not last:
            previous = self._last_run()
            last.append(previous.as_of if previous else None)
        return last[0]

    def _append_audit(self, events: Sequence[_Pending]) -> None:
        """Chain and write ``events`` after the current head. Callers hold a write
        transaction, so no other writer can append between the read and the write.

        The two clocks are stamped here, for every kind of event, so no caller can
        forget them or mix them up: ``recorded_at`` is the wall clock now, ``as_of`` the
        run's (see :meth:`_as_of_of`).
        """
        if not events:
            return
        head = self._query("SELECT seq, hash FROM audit_head WHERE id = 1")
        seq, prev = (int(head[0][0]), str(head[0][1])) if head else (0, GENESIS_HASH)
        recorded_at = datetime.now(UTC) if self._clocks else None
        as_of_by_run: dict[str | None, datetime | None] = {}
        last: list[datetime | None] = []
        rows: list[Row] = []
        for event in events:
            seq += 1
            canon: str | None = None
            stored: str | None = None
            if self._canon:
                # an integer beyond 2**53 cannot be written by JCS: hashed the older way
                data, stored = plain_jcs(event.data)  # what is stored is what is hashed
                canon = None if stored is None else JCS
            else:
                data = plain_json(event.data)
            if stored is None:
                stored = canonical_json(data)
            as_of: datetime | None = None
            if recorded_at is not None:
                if event.run_id not in as_of_by_run:
                    as_of_by_run[event.run_id] = self._as_of_of(event.run_id, last)
                as_of = as_of_by_run[event.run_id]
            digest = event_hash(
                seq=seq,
                at=event.at,
                kind=event.kind,
                run_id=event.run_id,
                case=event.case,
                account=event.account,
                rule=event.rule,
                rule_hash=event.rule_hash,
                data=data,
                prev_hash=prev,
                as_of=as_of,
                recorded_at=recorded_at,
                canon=canon,
                data_jcs=stored if canon == JCS else None,
            )
            row: Row = (
                seq,
                self._ts(event.at),
                event.kind,
                event.run_id,
                event.case,
                event.account,
                event.rule,
                event.rule_hash,
                stored,
                prev,
                digest,
            )
            if recorded_at is not None:
                row += (self._opt_ts(as_of), self._ts(recorded_at))
            if self._canon:
                row += (canon,)
            rows.append(row)
            prev = digest
        columns = self._audit_columns
        self._exec_many(
            f"INSERT INTO audit ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            rows,
        )
        self._exec(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (seq, prev),
        )

    def _exec_many(self, sql: str, rows: Sequence[Params]) -> None:
        """Run one statement for many parameter rows (a backend may batch them)."""
        for row in rows:
            self._exec(sql, row)

    def verify_audit(self, *, expect_heads: Sequence[str] = ()) -> VerifyResult:
        checked = 0
        expected = 1
        prev = GENESIS_HASH
        wanted = {h.strip().lower() for h in expect_heads if h.strip()}
        found: dict[str, int] = {}
        with self._transaction(write=False, action="verify the audit log"):
            while True:
                page = self._query(
                    f"{self._audit_select} WHERE seq >= ? ORDER BY seq LIMIT {VERIFY_PAGE}",
                    (expected,),
                )
                for row in page:
                    r = dict(zip(self._audit_columns, row, strict=True))
                    seq = int(r["seq"])
                    if seq != expected:
                        return VerifyResult(
                            False,
                            checked,
                            expected,
                            f"audit event {expected} is missing (the log jumps from "
                            f"{expected - 1} to {seq}): a record was deleted",
                        )
                    if r["prev_hash"] != prev:
                        return VerifyResult(
                            False,
                            checked,
                            seq,
                            f"audit event {seq} does not follow event {seq - 1} (prev_hash "
                            "differs): a record was deleted, inserted or reordered",
                        )
                    try:
                        data = stored_data(r["data"], r.get("canon"))
                        digest = event_hash(
                            seq=seq,
                            at=self._from_ts(r["at"]),
                            kind=r["kind"],
                            run_id=r["run_id"],
                            case=r["case_id"],
                            account=r["account"],
                            rule=r["rule"],
                            rule_hash=r["rule_hash"],
                            data=data,
                            prev_hash=r["prev_hash"],
                            as_of=self._opt_from_ts(r.get("as_of")),
                            recorded_at=self._opt_from_ts(r.get("recorded_at")),
                            canon=r.get("canon"),
                        )
                    except (ValueError, TypeError, StoreError):
                        digest = ""
                    if digest != r["hash"]:
                        return VerifyResult(
                            False,
                            checked,
                            seq,
                            f"audit event {seq} was altered: its hash does not match its contents",
                        )
                    prev = r["hash"]
                    if prev in wanted:
                        found[prev] = seq
                    checked += 1
                    expected += 1
                if len(page) < VERIFY_PAGE:
                    break
            head = self._query("SELECT seq, hash FROM audit_head WHERE id = 1")
            unlogged = self._runs_without_events()
        last = expected - 1
        missing = sorted(wanted - set(found) - {GENESIS_HASH})
        if missing:
            shown = ", ".join(h[:16] for h in missing)
            return VerifyResult(
                False,
                checked,
                last + 1,
                f"the audit log does not contain the head recorded outside the state "
                f"({shown}): its chain of {checked} events is intact and ends at event "
                f"{last}, so the newest events were cut (or the log rewritten) after that "
                "head was printed, and its head record rewritten to match",
            )
        head_seq, head_hash = (int(head[0][0]), str(head[0][1])) if head else (0, GENESIS_HASH)
        if head_seq != last or head_hash != prev:
            if head_seq > last:
                message = (
                    f"the audit log ends at event {last} but its head records event {head_seq}: "
                    "the newest records were deleted"
                )
            else:
                message = (
                    f"the audit log's head records event {head_seq} but the log ends at {last}: "
                    "records were added outside csrules or the head was edited"
                )
            return VerifyResult(False, checked, min(head_seq, last) + 1, message)
        if unlogged:
            shown = ", ".join(f"{run_id} (as of {iso_seconds(at)})" for run_id, at in unlogged[:5])
            more = f" and {len(unlogged) - 5} more" if len(unlogged) > 5 else ""
            return VerifyResult(
                False,
                checked,
                None,
                f"the audit chain of {checked} events is intact, but {len(unlogged)} recorded "
                f"run(s) have no event in it: {shown}{more}; the log was emptied or rebuilt "
                "after them",
                tuple(run_id for run_id, _ in unlogged),
            )
        anchored = (
            f"; the {len(found)} recorded head(s) are in it (newest: event {max(found.values())})"
            if found
            else ""
        )
        return VerifyResult(
            True, checked, None, f"audit log intact: {checked} events verified{anchored}"
        )

    def _runs_without_events(self) -> list[tuple[str, datetime]]:
        """Runs in ``runs`` whose ``run`` event is not in the log, oldest first: a chain
        restarted from nothing verifies on its own, the runs table remembers more."""
        rows = self._query(
            "SELECT id, as_of FROM runs WHERE id NOT IN "
            "(SELECT run_id FROM audit WHERE kind = 'run' AND run_id IS NOT NULL) "
            "ORDER BY as_of, started_at"
        )
        return [(str(run_id), self._from_ts(at)) for run_id, at in rows]

    # --- writes -----------------------------------------------------------------------

    def commit_plan(
        self,
        run: RunRecord,
        plan: Plan,
        *,
        archive: Sequence[ArchivedBlob] = (),
        prune_before: datetime | None = None,
    ) -> None:
        with self._transaction(write=True, action=f"record run {run.id}"):
            self._archive(archive, run.as_of, prune_before)
            last = self._last_run()
            if last is not None and utc(run.as_of) < last.as_of:
                raise StoreError(
                    f"run {run.id} is as of {iso_seconds(run.as_of)}, earlier than the last "
                    f"applied run {last.id} ({iso_seconds(last.as_of)}); time only moves forward"
                )
            accounts = run.snapshot.get("accounts")
            self._exec(
                "INSERT INTO runs (id, as_of, started_at, host, pid, revision, snapshot, counts, "
                "accounts, status, took_over) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)",
                (
                    run.id,
                    self._ts(run.as_of),
                    self._ts(run.started_at),
                    run.host,
                    run.pid,
                    self._json(run.revision),
                    self._json(run.snapshot),
                    self._json(run.counts),
                    accounts if isinstance(accounts, int) else None,
                    None if run.took_over is None else self._json(run.took_over),
                ),
            )
            self._upsert_cases(plan.cases, run.id)

            events: list[_Pending] = [
                _Pending(
                    "run",
                    run.as_of,
                    run.id,
                    None,
                    None,
                    None,
                    None,
                    {
                        "as_of": run.as_of,
                        "started_at": run.started_at,
                        "host": run.host,
                        "pid": run.pid,
                        "revision": run.revision,
                        "snapshot": run.snapshot,
                        "counts": run.counts,
                    }
                    | ({"took_over": run.took_over} if run.took_over else {}),
                )
            ]
            for t in plan.transitions:
                events.append(
                    _Pending(
                        "transition",
                        plan.now,
                        run.id,
                        t.case,
                        t.account,
                        t.playbook,
                        t.rule_hash,
                        {"from": t.from_status, "to": t.to_status}
                        | ({"depends_hash": t.depends_hash} if t.depends_hash else {}),
                    )
                )
            for held in plan.capped:  # an auditor asks why this account heard nothing
                events.append(
                    _Pending(
                        "capped",
                        plan.now,
                        run.id,
                        held.case,
                        held.account,
                        held.playbook,
                        None,
                        {"open": held.open, "limit": "[cases] max_open_per_account"},
                    )
                )

            # action id -> (action, outbox status now, what this run did to it)
            recorded: dict[str, tuple[Action, str, str]] = {}
            # the outbox's dedup record: an id already there is never inserted again
            known = self._known_actions([a.id for a in (*plan.deliver, *plan.held)])
            inserts: list[tuple[Action, str]] = []
            for action in plan.deliver:
                if action.id not in known:
                    known.add(action.id)
                    inserts.append((action, "pending"))
                    recorded[action.id] = (action, "pending", "recorded")
                elif self._release(action.id):
                    recorded[action.id] = (action, "pending", "released")
            for action_id in plan.released:
                if action_id not in recorded and self._release(action_id):
                    released = self._get_action(action_id)
                    if released is not None:
                        recorded[action_id] = (released, "pending", "released")
            for action in plan.held:
                if action.id not in known:
                    known.add(action.id)
                    inserts.append((action, "held"))
                    recorded[action.id] = (action, "held", "recorded")
            self._insert_actions(inserts, run.id)
            for action_id in plan.cancelled:
                if self._exec(
                    "UPDATE actions SET status = 'cancelled', next_attempt_at = NULL "
                    "WHERE id = ? AND status = 'held'",
                    (action_id,),
                ):
                    cancelled = self._get_action(action_id)
                    if cancelled is not None:
                        recorded[action_id] = (cancelled, "cancelled", "cancelled")
            for action, status, change in recorded.values():
                events.append(
                    _Pending(
                        "action",
                        plan.now,
                        run.id,
                        action.case,
                        action.account,
                        action.playbook,
                        action.rule_hash,
                        {
                            "action": action.id,
                            "step": action.step,
                            "index": action.index,
                            "connector": action.connector,
                            "status": status,
                            "change": change,
                            "held_by": action.held_by if status == "held" else None,
                            "params": action.params,
                        }
                        | ({"depends_hash": action.depends_hash} if action.depends_hash else {}),
                    )
                )

            for tier, position in plan.rotation.items():
                self._exec(
                    "INSERT INTO rotation (tier, next_index) VALUES (?, ?) "
                    "ON CONFLICT (tier) DO UPDATE SET next_index = excluded.next_index",
                    (tier, int(position)),
                )
            if not plan.keep_scores:
                self._write_scores(run, plan.scores)
            self._append_audit(events)

    def _archive(
        self, blobs: Sequence[ArchivedBlob], used_at: datetime, prune_before: datetime | None
    ) -> None:
        """Store what a run read (content-addressed: a blob already there is only marked
        used again), then drop what no run used since ``prune_before``."""
        for blob in blobs:
            if not self._exec(
                "UPDATE archive SET last_used = ? WHERE digest = ?",
                (self._ts(used_at), blob.digest),
            ):
                self._exec(
                    "INSERT INTO archive (digest, kind, data, size, stored_at, last_used) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        blob.digest,
                        blob.kind,
                        self._blob(blob.data),
                        len(blob.data),
                        self._ts(datetime.now(UTC)),
                        self._ts(used_at),
                    ),
                )
        if prune_before is not None:
            self._exec("DELETE FROM archive WHERE last_used < ?", (self._ts(prune_before),))

    def _blob(self, data: bytes) -> Any:
        """Bytes as the driver stores them in a BLOB/BYTEA column."""
        return data

    def archived(self, digest: str) -> bytes | None:
        with self._transaction(write=False, action=f"read archived {digest[:12]}"):
            rows = self._query("SELECT data FROM archive WHERE digest = ?", (digest,))
        return bytes(rows[0][0]) if rows else None

    def audit_head(self) -> tuple[int, str]:
        with self._transaction(write=False, action="read the audit head"):
            head = self._query("SELECT seq, hash FROM audit_head WHERE id = 1")
        return (int(head[0][0]), str(head[0][1])) if head else (0, GENESIS_HASH)

    def run_record(self, run_id: str) -> RunSummary | None:
        with self._transaction(write=False, action=f"read run {run_id}"):
            rows = self._query(
                f"SELECT {', '.join(RUN_SUMMARY_COLUMNS)} FROM runs WHERE id = ?", (run_id,)
            )
        return self._run_summary(rows[0]) if rows else None

    def run_detail(self, run_id: str) -> RunRecord | None:
        with self._transaction(write=False, action=f"read run {run_id}"):
            rows = self._query(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE id = ?", (run_id,))
        return self._run(rows[0]) if rows else None

    def _write_scores(self, run: RunRecord, scores: Mapping[str, float]) -> None:
        """Every score of the run into ``scores`` (as of the run), the changed ones into
        the score log. Only the changed rows are written one by one: the others only get
        the run's as-of, in one statement (an hourly run rewrites few scores)."""
        rows = self._query("SELECT account, score, as_of FROM scores")
        previous = {str(a): float(v) for a, v, _ in rows}
        self._log_scores(run, scores, previous)
        at = self._ts(run.as_of)
        kept = [(as_of, str(a)) for a, _, as_of in rows if str(a) not in scores]
        self._exec("UPDATE scores SET as_of = ?", (at,))
        if kept:  # accounts without a score in this run keep their as-of
            self._exec_many("UPDATE scores SET as_of = ? WHERE account = ?", kept)
        changed = [(a, float(v), at) for a, v in scores.items() if previous.get(a) != float(v)]
        if changed:
            self._exec_many(
                "INSERT INTO scores (account, score, as_of) VALUES (?, ?, ?) "
                "ON CONFLICT (account) DO UPDATE SET score = excluded.score, as_of = excluded.as_of",
                changed,
            )

    def _log_scores(
        self, run: RunRecord, scores: Mapping[str, float], previous: Mapping[str, float]
    ) -> None:
        """Append the scores this run changed to the score log (``None``: the account
        had a score and has none now, logged once)."""
        changed: list[tuple[str, float | None]] = [
            (account, float(score))
            for account, score in scores.items()
            if previous.get(account) != float(score)
        ]
        gone = [account for account in previous if account not in scores]
        changed += [(account, None) for account in self._still_scored(gone)]
        if changed:
            self._exec_many(
                "INSERT INTO score_log (account, run_id, as_of, score) VALUES (?, ?, ?, ?)",
                [(account, run.id, self._ts(run.as_of), score) for account, score in changed],
            )

    def _still_scored(self, accounts: Sequence[str]) -> list[str]:
        """Those of ``accounts`` whose latest logged score is not already "none"."""
        if not accounts:
            return []
        latest: dict[str, float | None] = {}
        for start in range(0, len(accounts), 500):
            chunk = accounts[start : start + 500]
            rows = self._query(
                "SELECT l.account, l.score FROM score_log l JOIN runs r ON r.id = l.run_id "
                f"WHERE l.account IN ({', '.join('?' * len(chunk))}) ORDER BY r.started_at",
                chunk,
            )
            latest.update({str(a): None if v is None else float(v) for a, v in rows})
        return [a for a in accounts if a not in latest or latest[a] is not None]

    def scores_before(self, run_id: str) -> dict[str, float]:
        """The scores run ``run_id`` read as previous: what the ``scores`` table held when
        it ran, i.e. each account's latest logged score, in the order runs were recorded
        (their ``run`` audit event; superseded runs count: a rewind keeps their scores),
        an account whose score went missing keeping its last one."""
        with self._transaction(write=False, action=f"read the scores before run {run_id}"):
            found = self._query(
                "SELECT seq FROM audit WHERE kind = 'run' AND run_id = ?", (run_id,)
            )
            if not found:
                if not self._query("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
                    raise KeyError(run_id)
                raise StoreError(
                    f"{self._describe()}: run {run_id} has no run event in the audit log; "
                    "run `csrules audit verify`"
                )
            rows = self._query(
                "SELECT l.account, l.score FROM score_log l "
                "JOIN audit a ON a.run_id = l.run_id AND a.kind = 'run' "
                "WHERE a.seq < ? ORDER BY a.seq",
                (found[0][0],),
            )
        latest: dict[str, float] = {}
        for account, score in rows:
            if score is not None:
                latest[str(account)] = float(score)
        return latest

    def score_history(
        self, *, accounts: Sequence[str] | None = None, since: datetime | None = None
    ) -> list[ScorePoint]:
        """Every logged change of a score (``None``: the score went missing), oldest first."""
        where = ["r.superseded_by IS NULL"]
        params: list[Any] = []
        if since is not None:
            where.append("l.as_of >= ?")
            params.append(self._ts(since))
        if accounts is not None:
            if not accounts:
                return []
            where.append(f"l.account IN ({', '.join('?' * len(accounts))})")
            params.extend(accounts)
        with self._transaction(write=False, action="read the score history"):
            rows = self._query(
                "SELECT l.account, l.run_id, l.as_of, l.score FROM score_log l "
                f"JOIN runs r ON r.id = l.run_id WHERE {' AND '.join(where)} "
                "ORDER BY r.as_of, r.started_at, l.account",
                params,
            )
        return [
            ScorePoint(
                account=str(a),
                run_id=str(run),
                as_of=self._from_ts(at),
                score=None if score is None else float(score),
            )
            for a, run, at, score in rows
        ]

    def _upsert_cases(self, cases: Sequence[Case], run_id: str) -> None:
        """Insert or update ``cases`` in one batched statement."""
        if not cases:
            return
        columns = (*CASE_COLUMNS, "updated_run")
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
        self._exec_many(
            f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates}",
            [self._case_row(case, run_id) for case in cases],
        )

    def _case_row(self, case: Case, run_id: str) -> Params:
        return (
            case.id,
            case.playbook,
            case.account,
            case.status,
            case.severity,
            self._ts(case.first_true_at),
            self._opt_ts(case.opened_at),
            self._opt_ts(case.acknowledged_at),
            case.acknowledged_by,
            self._opt_ts(case.false_since),
            self._opt_ts(case.resolved_at),
            case.owner,
            case.tier,
            case.escalation,
            self._json(list(case.steps_fired)),
            case.rule_hash,
            case.depends_hash or None,
            run_id,
        )

    def _known_actions(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` already in the outbox."""
        found: set[str] = set()
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            rows = self._query(
                f"SELECT id FROM actions WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
            found.update(str(r[0]) for r in rows)
        return found

    def _insert_actions(self, actions: Sequence[tuple[Action, str]], run_id: str) -> None:
        """Add new actions (each with its outbox status) in one batched statement."""
        if not actions:
            return
        columns = (*ACTION_COLUMNS, "run_id")
        self._exec_many(
            f"INSERT INTO actions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [self._action_row(action, status, run_id) for action, status in actions],
        )

    def _action_row(self, action: Action, status: str, run_id: str) -> Params:
        return (
            action.id,
            action.case,
            action.account,
            action.playbook,
            action.step,
            action.index,
            action.connector,
            self._json(action.params),
            self._ts(action.created_at),
            status,
            action.held_by if status == "held" else None,
            0,
            None,
            None,
            action.rule_hash,
            None,
            action.depends_hash or None,
            run_id,
        )

    def _release(self, action_id: str) -> bool:
        """A held action whose silence ended becomes deliverable now."""
        return (
            self._exec(
                "UPDATE actions SET status = 'pending', held_by = NULL, next_attempt_at = NULL "
                "WHERE id = ? AND status = 'held'",
                (action_id,),
            )
            > 0
        )

    def record_attempt(
        self,
        action_id: str,
        *,
        status: str,
        detail: str,
        at: datetime,
        retry_at: datetime | None,
        run_id: str | None,
        progress: Mapping[str, Any] | None = None,
    ) -> None:
        self.record_attempts(
            [Attempt(action_id, status, detail, retry_at, progress)], at=at, run_id=run_id
        )

    def record_attempts(
        self,
        attempts: Sequence[Attempt],
        *,
        at: datetime,
        run_id: str | None,
        starting: Sequence[str] = (),
        abandoned: Sequence[str] = (),
    ) -> None:
        for attempt in attempts:
            if attempt.status not in DELIVERY_OUTCOMES:
                raise ValueError(
                    f"delivery status must be one of {', '.join(DELIVERY_OUTCOMES)}, "
                    f"not {attempt.status!r}"
                )
        if not (attempts or starting or abandoned):
            return
        what = (
            f"record a delivery of action {attempts[0].action_id}"
            if len(attempts) == 1
            else f"record {len(attempts)} deliveries"
            if attempts
            else "mark actions in flight"
        )
        with self._transaction(write=True, action=what):
            known = {a.action_id: a.action for a in attempts if a.action is not None}
            known |= self._actions_by_id([a.action_id for a in attempts if a.action is None])
            updates: list[Params] = []
            progressed: list[Params] = []
            events: list[_Pending] = []
            for attempt in attempts:
                action = known.get(attempt.action_id)
                if action is None:
                    raise KeyError(attempt.action_id)
                events.append(self._attempted(action, attempt, at, run_id, updates, progressed))
            if updates:
                self._exec_many(
                    "UPDATE actions SET attempts = ?, status = ?, next_attempt_at = ?, "
                    "last_error = ?, in_flight_at = NULL, sent_at = ? WHERE id = ?",
                    updates,
                )
            if progressed:
                self._exec_many("UPDATE actions SET progress = ? WHERE id = ?", progressed)
            self._append_audit(events)
            if starting:
                self._exec_many(
                    "UPDATE actions SET in_flight_at = ? WHERE id = ?",
                    [(self._ts(at), action_id) for action_id in starting],
                )
            if abandoned:
                self._exec_many(
                    "UPDATE actions SET in_flight_at = NULL WHERE id = ?",
                    [(action_id,) for action_id in abandoned],
                )

    def _actions_by_id(self, ids: Sequence[str]) -> dict[str, Action]:
        """The actions with these ids, read a few hundred per query."""
        found: dict[str, Action] = {}
        for first in range(0, len(ids), _IDS_PER_QUERY):
            chunk = list(dict.fromkeys(ids[first : first + _IDS_PER_QUERY]))
            marks = ", ".join("?" * len(chunk))
            for row in self._query(f"{_ACTION_SELECT} WHERE id IN ({marks})", chunk):
                action = self._action(row)
                found[action.id] = action
        return found

    def _attempted(
        self,
        action: Action,
        attempt: Attempt,
        at: datetime,
        run_id: str | None,
        updates: list[Params],
        progressed: list[Params],
    ) -> _Pending:
        """The row changes of one attempt (appended to ``updates`` and ``progressed``)
        and its ``delivery`` audit event."""
        detail = attempt.detail[:DETAIL_LIMIT]
        number = action.attempts + 1
        status = attempt.status
        next_at = attempt.retry_at if status == "pending" else None
        updates.append(
            (
                number,
                status,
                self._opt_ts(next_at),
                None if status == "sent" else detail,
                self._ts(at) if status == "sent" else None,
                action.id,
            )
        )
        if attempt.progress is not None:
            progressed.append((self._json(dict(attempt.progress)), action.id))
        return _Pending(
            "delivery",
            at,
            run_id,
            action.case,
            action.account,
            action.playbook,
            action.rule_hash,
            {
                "action": action.id,
                "connector": action.connector,
                "step": action.step,
                "attempt": number,
                "outcome": status,
                "detail": detail,
                "retry_at": next_at,
            }
            | ({"depends_hash": action.depends_hash} if action.depends_hash else {}),
        )

    def mark_in_flight(self, action_id: str, at: datetime) -> None:
        with self._transaction(write=True, action=f"mark action {action_id} in flight"):
            if not self._exec(
                "UPDATE actions SET in_flight_at = ? WHERE id = ?", (self._ts(at), action_id)
            ):
                raise KeyError(action_id)

    def acknowledge(
        self,
        case_id: str,
        *,
        at: datetime,
        by: str,
        via: str | None = None,
        run_id: str | None = None,
        detail: str | None = None,
    ) -> Case:
        with self._transaction(write=True, action=f"acknowledge case {case_id}"):
            case = self._get_case(case_id)
            if case is None:
                raise KeyError(case_id)
            name = f"case {case.id} ({case.playbook} for account {case.account})"
            if case.status == "acknowledged":
                when = (
                    iso_seconds(case.acknowledged_at) if case.acknowledged_at else "an unknown time"
                )
                who = f" by {case.acknowledged_by}" if case.acknowledged_by else ""
                raise ValueError(f"{name} was already acknowledged at {when}{who}")
            if case.status == "pending":
                raise ValueError(
                    f"{name} is still pending (its condition has not held for the playbook's "
                    "`for` yet): nothing was sent, so there is nothing to acknowledge"
                )
            if case.status in ("resolved", "cancelled"):
                when = f" at {iso_seconds(case.resolved_at)}" if case.resolved_at else ""
                raise ValueError(
                    f"{name} is {case.status}{when}: only an open case can be acknowledged"
                )
            self._exec(
                "UPDATE cases SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? "
                "WHERE id = ?",
                (self._ts(at), by, case.id),
            )
            self._append_audit(
                [
                    _Pending(
                        "ack",
                        at,
                        run_id,
                        case.id,
                        case.account,
                        case.playbook,
                        case.rule_hash,
                        {"by": by, "from": case.status, "to": "acknowledged"}
                        | ({"via": via} if via is not None else {})
                        | ({"detail": detail} if detail else {})
                        | ({"depends_hash": case.depends_hash} if case.depends_hash else {}),
                    )
                ]
            )
            case.status = "acknowledged"
            case.acknowledged_at = utc(at)
            case.acknowledged_by = by
            return case

    # --- the apply lock (csrules.store.lock) -----------------------------------------

    def _audit_one(self, kind: str, at: datetime, run_id: str | None, data: dict[str, Any]) -> None:
        """Append one audit event about a run (no case, account or rule)."""
        self._append_audit([_Pending(kind, at, run_id, None, None, None, None, data)])

    # What makes the lock exclusive differs by backend. SQLite: the row itself, written
    # under BEGIN IMMEDIATE; its holder is judged from its process. PostgreSQL overrides
    # these hooks with a session-level advisory lock and its sessions.

    def _claim_authority(self) -> tuple[bool, bool]:
        """Take the lock's authority beyond the row: (held now, newly taken by this call)."""
        return True, False

    def _drop_authority(self) -> None:
        """Let go of what :meth:`_claim_authority` took (nothing for SQLite)."""

    def _session_id(self) -> int | None:
        """This connection's server session (PostgreSQL backend pid), or None."""
        return None

    def _judge_holder(self, holder: LockInfo, *, claimed: bool) -> holders.Judgement:
        """Whether ``holder`` provably no longer runs, seen from here (``claimed``: this
        connection holds the authority)."""
        return holders.judge(
            holder.host,
            holder.pid,
            boot=holder.boot_id,
            pid_ns=holder.pid_ns,
            proc_start=holder.proc_start,
        )

    def _holder_is_leaving(self, holder: LockInfo) -> bool:
        """Whether a holder that is going away deserves a short wait past the timeout."""
        return False

    def _end_holder(self, holder: LockInfo) -> None:
        """A forced unlock of a live holder: PostgreSQL ends its session; SQLite cannot."""

    def acquire_lock(
        self,
        info: LockInfo,
        *,
        timeout: float,
        stale_after: float = 3600.0,
        while_waiting: Callable[[], None] | None = None,
    ) -> LockTakeover | None:
        return lock.acquire(
            self, info, timeout=timeout, stale_after=stale_after, while_waiting=while_waiting
        )

    def release_lock(self, run_id: str) -> None:
        lock.release(self, run_id)

    def lock_holder(self) -> LockInfo | None:
        with self._transaction(write=False, action="read the apply lock"):
            return lock.read_holder(self)

    def unlock(self, run_id: str, *, force: bool = False, by: str | None = None) -> Unlocked | None:
        return lock.unlock(self, run_id, force=force, by=by)

    # --- how runs end, and rewinding (csrules.store.rewind) -----------------------------

    def finish_run(
        self, run_id: str, *, status: str, at: datetime, outcome: dict[str, Any]
    ) -> None:
        if status not in RUN_ENDINGS:
            raise ValueError(f"a run ends as one of {', '.join(RUN_ENDINGS)}, not {status!r}")
        with self._transaction(write=True, action=f"record the end of run {run_id}"):
            self._exec(
                "UPDATE runs SET status = ?, ended_at = ?, outcome = ? WHERE id = ?",
                (status, self._ts(at), self._json(outcome), run_id),
            )
            if status != "completed":
                self._audit_one(status, at, run_id, dict(outcome))

    def runs(self, *, limit: int = 20) -> list[RunSummary]:
        with self._transaction(write=False, action="list the runs"):
            rows = self._query(
                f"SELECT {', '.join(RUN_SUMMARY_COLUMNS)} FROM runs "
                "ORDER BY as_of DESC, started_at DESC LIMIT ?",
                (int(limit),),
            )
        return [self._run_summary(r) for r in rows]

    def rewind(
        self,
        to: datetime,
        *,
        rewind_id: str,
        reason: str,
        by: str,
        at: datetime,
        dry_run: bool = False,
    ) -> RewindReport:
        return state_rewind.rewind(
            self, to, rewind_id=rewind_id, reason=reason, by=by, at=at, dry_run=dry_run
        )
